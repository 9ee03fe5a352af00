#include <stdio.h>
int main(void) { puts("crm"); return 0; }

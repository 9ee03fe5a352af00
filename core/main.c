/* crm — an open-source CRM core. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return crm_cli_main(argc, argv);
}

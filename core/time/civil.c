#include "civil.h"

#include <ctype.h>

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool crm_civil_parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || !digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, m) || s[7] != '-' ||
        !digits(s + 8, 2, d) || s[10] != '\0')
        return false;
    return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= crm_month_days(*y, *m);
}

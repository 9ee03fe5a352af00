/* Durations as people write them in crm.yaml and on the command line:
 * "90m", "2h", "1h30m", "7d", "15bd". */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"

#define MAX_DAYS 3660 /* ten years: a longer wait is a date, not a duration */

static const struct {
    const char *unit;
    crm_duration_unit kind;
    int64_t seconds; /* for CRM_DUR_OPEN; rank among s/m/h */
} units[] = {
    {"bd", CRM_DUR_BDAYS, 0}, {"d", CRM_DUR_DAYS, 0},   {"h", CRM_DUR_OPEN, 3600},
    {"m", CRM_DUR_OPEN, 60},  {"s", CRM_DUR_OPEN, 1},
};
#define N_UNITS (sizeof units / sizeof units[0])

static int bad(const char *text, const char *why, crm_err *err)
{
    return crm_err_set(err, CRM_EINVAL,
                       "'%.40s' is not a duration: %s (expected a number and a unit: 45s, 90m, "
                       "2h, 1h30m, 7d or 15bd)", text, why);
}

/* The unit word at *p ("h", "bd"), advanced past; -1 when it is no unit. */
static int unit_at(const char **p)
{
    size_t len = 0;
    while (isalpha((unsigned char)(*p)[len]))
        len++;
    for (size_t i = 0; i < N_UNITS; i++)
        if (strlen(units[i].unit) == len && strncmp(*p, units[i].unit, len) == 0) {
            *p += len;
            return (int)i;
        }
    return -1;
}

int crm_duration_parse(const char *text, crm_duration *out, crm_err *err)
{
    *out = (crm_duration){CRM_DUR_OPEN, 0};
    if (!text || !*text)
        return bad("", "it is empty", err);
    const char *p = text;
    int last = -1, parts = 0;
    while (*p) {
        if (*p == '-')
            return bad(text, "it is negative", err);
        if (!isdigit((unsigned char)*p))
            return bad(text, "a number must come first", err);
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > MAX_DAYS * INT64_C(86400))
                return bad(text, "it is longer than ten years", err);
            n = n * 10 + (*p++ - '0');
        }
        int u = unit_at(&p);
        if (u < 0)
            return bad(text, *p ? "unknown unit (units: s, m, h, d, bd)" : "the unit is missing",
                       err);
        if (parts && (units[u].kind != CRM_DUR_OPEN || out->unit != CRM_DUR_OPEN))
            return bad(text, "d and bd cannot be combined with other units", err);
        if (parts && u <= last)
            return bad(text, "write each unit once, largest first (1h30m)", err);
        out->unit = units[u].kind;
        out->amount += units[u].kind == CRM_DUR_OPEN ? n * units[u].seconds : n;
        last = u;
        parts++;
    }
    int64_t max = out->unit == CRM_DUR_OPEN ? MAX_DAYS * INT64_C(86400) : MAX_DAYS;
    if (out->amount > max)
        return bad(text, "it is longer than ten years", err);
    return CRM_OK;
}

void crm_duration_format(const crm_duration *d, char *buf, size_t size)
{
    if (d->unit != CRM_DUR_OPEN) {
        snprintf(buf, size, "%lld%s", (long long)d->amount, d->unit == CRM_DUR_DAYS ? "d" : "bd");
        return;
    }
    int64_t h = d->amount / 3600, m = d->amount / 60 % 60, s = d->amount % 60;
    size_t len = 0;
    buf[0] = '\0';
    if (h && len < size)
        len += (size_t)snprintf(buf + len, size - len, "%lldh", (long long)h);
    if (m && len < size)
        len += (size_t)snprintf(buf + len, size - len, "%lldm", (long long)m);
    if ((s || d->amount == 0) && len < size)
        snprintf(buf + len, size - len, "%llds", (long long)s);
}

/* The POSIX TZ string a TZif file ends with (RFC 8536 section 3.3, with its
 * version 3 extensions): the zone's own rule for times after its last
 * listed transition, e.g. "CET-1CEST,M3.5.0,M10.5.0/3". This file reads
 * that string and says when its rule changes the clock in a given year;
 * it holds no rule of any zone itself. */
#include "tz_rule.h"

#include <ctype.h>
#include <string.h>

#include "civil.h"

/* "<+0330>" or letters (at least three). */
static const char *skip_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q && q - p >= 4 ? q + 1 : NULL;
    }
    const char *q = p;
    while (isalpha((unsigned char)*q))
        q++;
    return q - p >= 3 ? q : NULL;
}

static const char *number(const char *p, int max, int *out)
{
    int v = 0, n = 0;
    while (isdigit((unsigned char)*p) && n < 3) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0 || v > max)
        return NULL;
    *out = v;
    return p;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours; seconds. */
static const char *hms(const char *p, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!(p = number(p, max_hours, &h)))
        return NULL;
    if (*p == ':' && !(p = number(p + 1, 59, &m)))
        return NULL;
    if (*p == ':' && !(p = number(p + 1, 59, &s)))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

/* Jn, n or Mm.w.d, then an optional /time (default 02:00). */
static const char *rule_date(const char *p, crm_tz_rule_date *d)
{
    d->time = 2 * 3600;
    if (*p == 'J') {
        d->kind = 'J';
        if (!(p = number(p + 1, 365, &d->a)) || d->a < 1)
            return NULL;
    } else if (*p == 'M') {
        d->kind = 'M';
        if (!(p = number(p + 1, 12, &d->a)) || d->a < 1 || *p != '.' ||
            !(p = number(p + 1, 5, &d->b)) || d->b < 1 || *p != '.' ||
            !(p = number(p + 1, 6, &d->c)))
            return NULL;
    } else {
        d->kind = 'n';
        if (!(p = number(p, 365, &d->a)))
            return NULL;
    }
    if (*p == '/')
        p = hms(p + 1, 167, &d->time);
    return p;
}

bool crm_tz_rule_parse(const char *s, crm_tz_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *p = skip_name(s);
    int32_t west;
    if (!p || !(p = hms(p, 24, &west)))
        return false;
    r->std_off = -west; /* POSIX counts hours west of Greenwich */
    if (*p == '\0')
        return true;
    if (!(p = skip_name(p)))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!(p = hms(p, 24, &west)))
            return false;
        r->dst_off = -west;
    }
    /* Without a rule POSIX leaves the dates to the implementation; zic
     * always writes one, so a file without it is not trusted. */
    if (*p != ',' || !(p = rule_date(p + 1, &r->start)) || *p != ',' ||
        !(p = rule_date(p + 1, &r->end)))
        return false;
    return *p == '\0';
}

/* Day of the year (0-based) the date names in year y. */
static int year_day(const crm_tz_rule_date *d, int y)
{
    if (d->kind == 'J') /* 1..365, February 29 never counted */
        return d->a - 1 + (crm_is_leap(y) && d->a >= 60);
    if (d->kind == 'n')
        return d->a;
    int64_t first = crm_civil_days(y, d->a, 1);
    /* POSIX weekdays start on Sunday (0), ours on Monday: ours = d - 1 (mod 7). */
    int day = 1 + (d->c - 1 - crm_civil_weekday(first) + 14) % 7 + (d->b - 1) * 7;
    while (day > crm_month_days(y, d->a))
        day -= 7; /* week 5 means the last one */
    return (int)(first + day - 1 - crm_civil_days(y, 1, 1));
}

int64_t crm_tz_rule_instant(const crm_tz_rule_date *d, int year, int32_t off_before)
{
    int64_t local = (crm_civil_days(year, 1, 1) + year_day(d, year)) * CRM_DAY + d->time;
    return local - off_before;
}

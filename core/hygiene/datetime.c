/* Dates and ISO 8601 date-times. All arithmetic is on the proleptic
 * Gregorian calendar in UTC (days-from-civil, H. Hinnant), so nothing here
 * depends on the process TZ, mktime or timegm. */
#include "hygiene.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int y, m, d;
} civil;

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static civil civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    civil c;
    c.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.y = (int)(yoe + era * 400 + (c.m <= 2));
    return c;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static const char *const month_names[] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};

/* Reads exactly n digits (n <= 4) at *s into *v and advances. */
static bool digits(const char **s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return false;
        *v = *v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    return true;
}

/* Reads 1 or 2 digits (day or month of DD/MM/YYYY). */
static bool digits12(const char **s, int *v)
{
    if (!digits(s, 1, v))
        return false;
    int w;
    if (isdigit((unsigned char)**s) && digits(s, 1, &w))
        *v = *v * 10 + w;
    return true;
}

/* Parses "YYYY-MM-DD" or, when slash_ok, "DD/MM/YYYY"; advances *s. */
static bool parse_ymd(const char **s, civil *c, bool slash_ok)
{
    const char *p = *s;
    if (digits(&p, 4, &c->y) && *p++ == '-' && digits(&p, 2, &c->m) && *p++ == '-' &&
        digits(&p, 2, &c->d)) {
        *s = p;
        return true;
    }
    p = *s;
    if (slash_ok && digits12(&p, &c->d) && *p++ == '/' && digits12(&p, &c->m) &&
        *p++ == '/' && digits(&p, 4, &c->y)) {
        *s = p;
        return true;
    }
    return false;
}

/* Checks a parsed date; on failure writes the rule into why. */
static bool valid_day(const civil *c, char *why, size_t size)
{
    if (c->y < 1) {
        snprintf(why, size, "has year 0000 (years start at 0001)");
        return false;
    }
    if (c->m < 1 || c->m > 12) {
        snprintf(why, size, "is not a real date (month %02d does not exist)", c->m);
        return false;
    }
    int max = days_in_month(c->y, c->m);
    if (c->d < 1 || c->d > max) {
        if (c->m == 2 && c->d == 29)
            snprintf(why, size, "is not a real date (%04d is not a leap year, February has 28 "
                                "days)", c->y);
        else
            snprintf(why, size, "is not a real date (%s has %d days)", month_names[c->m - 1],
                     max);
        return false;
    }
    return true;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool at_end(const char *s)
{
    return *skip_space(s) == '\0';
}

int crm_normalise_date(const char *field, const char *in, int64_t not_after, char **out,
                       crm_err *err)
{
    civil c;
    char why[128];
    *out = NULL;
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    const char *p = skip_space(in);
    if (!parse_ymd(&p, &c, true) || !at_end(p))
        return crm_hygiene_reject(err, field, in,
                                  "is not a date (expected YYYY-MM-DD or DD/MM/YYYY)");
    if (!valid_day(&c, why, sizeof why))
        return crm_hygiene_reject(err, field, in, "%s", why);
    if (not_after && days_from_civil(c.y, c.m, c.d) * 86400 > not_after) {
        char limit[32];
        crm_format_datetime(not_after, limit, sizeof limit);
        limit[10] = '\0';
        return crm_hygiene_reject(err, field, in,
                                  "is in the future (the latest date allowed is %s)", limit);
    }
    *out = malloc(11);
    if (!*out)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field ? field : "date");
    snprintf(*out, 11, "%04d-%02d-%02d", c.y, c.m, c.d);
    return CRM_OK;
}

/* ---- date-times ----------------------------------------------------- */

/* "HH:MM[:SS[.fff]]" after the date; advances *s. */
static const char *parse_time(const char **s, int *h, int *mi, int *sec)
{
    const char *p = *s;
    *sec = 0;
    if (!digits(&p, 2, h) || *p++ != ':' || !digits(&p, 2, mi))
        return "is not a date-time (expected YYYY-MM-DDTHH:MM[:SS] with optional Z or "
               "+HH:MM)";
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, sec))
            return "is not a date-time (seconds need 2 digits)";
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return "is not a date-time (a fraction of a second needs digits)";
            while (isdigit((unsigned char)*p))
                p++; /* stored to the second: the fraction is dropped */
        }
    }
    if (*h > 23 || *mi > 59 || *sec > 59)
        return "is not a real time (expected hours 00-23, minutes and seconds 00-59)";
    *s = p;
    return NULL;
}

/* "Z", "+HH:MM", "+HHMM", "+HH" or nothing; offset in seconds east of UTC. */
static const char *parse_offset(const char **s, int *offset)
{
    const char *p = *s;
    *offset = 0;
    if (*p == 'Z' || *p == 'z') {
        *s = p + 1;
        return NULL;
    }
    if (*p != '+' && *p != '-')
        return NULL;
    int sign = *p++ == '-' ? -1 : 1, h, m = 0;
    if (!digits(&p, 2, &h))
        return "has a bad time zone offset (expected Z, +HH:MM, +HHMM or +HH)";
    if (*p == ':')
        p++;
    if (isdigit((unsigned char)*p) && !digits(&p, 2, &m))
        return "has a bad time zone offset (expected Z, +HH:MM, +HHMM or +HH)";
    if (h > 23 || m > 59)
        return "has a time zone offset out of range (at most +23:59)";
    *offset = sign * (h * 3600 + m * 60);
    *s = p;
    return NULL;
}

int crm_parse_datetime(const char *field, const char *in, int64_t *out, crm_err *err)
{
    civil c;
    char why[128];
    int h = 0, mi = 0, sec = 0, offset = 0;
    *out = 0;
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    const char *p = skip_space(in);
    if (!parse_ymd(&p, &c, false))
        return crm_hygiene_reject(err, field, in,
                                  "is not a date-time (expected YYYY-MM-DD or "
                                  "YYYY-MM-DDTHH:MM[:SS] with optional Z or +HH:MM)");
    if (!valid_day(&c, why, sizeof why))
        return crm_hygiene_reject(err, field, in, "%s", why);
    const char *bad = NULL;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        bad = parse_time(&p, &h, &mi, &sec);
        if (!bad)
            bad = parse_offset(&p, &offset);
    }
    if (!bad && !at_end(p))
        bad = "is not a date-time (unexpected text after the date; expected "
              "YYYY-MM-DDTHH:MM[:SS] with optional Z or +HH:MM)";
    if (bad)
        return crm_hygiene_reject(err, field, in, "%s", bad);
    *out = days_from_civil(c.y, c.m, c.d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return CRM_OK;
}

void crm_format_datetime(int64_t t, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    /* floor division so times before 1970 land on the right day */
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil c = civil_from_days(days);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.y, c.m, c.d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}

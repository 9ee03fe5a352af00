/* Business-time operations over a calendar's per-day cache: each walks the
 * local days from the one holding t, reading the day's UTC intervals.
 * Walking days in date order walks instants in time order because a local
 * day's instants all precede the next day's; the one exception, a zone
 * whose clocks fall back across midnight (read 23:xx twice), only matters
 * to a calendar open on both sides of that midnight, and then the day
 * before is read first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_int.h"
#include "civil.h"
#include "hygiene.h"

/* A calendar with no open time this long is treated as never open. */
#define SCAN_DAYS 3660

/* ---- walking days -------------------------------------------------------- */

typedef struct cursor {
    const crm_calendar *cal;
    const cal_year *yr;
    int i; /* day index in yr */
} cursor;

static int64_t local_day(const crm_calendar *cal, int64_t t)
{
    return crm_floor_div(t + crm_tz_offset(cal->tz, t), CRM_DAY);
}

static int year_of(int64_t day)
{
    int y, m, d;
    crm_civil_from_days(day, &y, &m, &d);
    return y;
}

static int cursor_at(cursor *c, const crm_calendar *cal, int64_t day, crm_err *err)
{
    c->cal = cal;
    int rc = crm_cal_year(cal, year_of(day), &c->yr, err);
    c->i = rc == CRM_OK ? (int)(day - c->yr->first) : 0;
    return rc;
}

static int cursor_next(cursor *c, crm_err *err)
{
    if (++c->i < c->yr->n_days)
        return CRM_OK;
    c->i = 0;
    return crm_cal_year(c->cal, c->yr->year + 1, &c->yr, err);
}

static const crm_calendar_interval *day_iv(const cursor *c, size_t *n)
{
    *n = c->yr->idx[c->i + 1] - c->yr->idx[c->i];
    return c->yr->iv + c->yr->idx[c->i];
}

static int64_t day_total(const cursor *c)
{
    return c->yr->cum[c->i + 1] - c->yr->cum[c->i];
}

static int never_open(const crm_calendar *cal, crm_err *err)
{
    return crm_err_set(err, CRM_EINVAL,
                       "calendar '%s' is open at no time for ten years: check its hours "
                       "and closed days", cal->name);
}

/* ---- operations ---------------------------------------------------------- */

int crm_calendar_next_open(const crm_calendar *cal, int64_t t, int64_t *out, crm_err *err)
{
    *out = t;
    if (!cal)
        return CRM_OK;
    cursor c;
    int rc = cursor_at(&c, cal, local_day(cal, t), err);
    for (int scanned = 0; rc == CRM_OK && scanned < SCAN_DAYS; scanned++) {
        size_t n;
        const crm_calendar_interval *iv = day_iv(&c, &n);
        for (size_t j = 0; j < n; j++)
            if (iv[j].end > t) {
                *out = iv[j].start > t ? iv[j].start : t;
                return CRM_OK;
            }
        rc = cursor_next(&c, err);
    }
    return rc != CRM_OK ? rc : never_open(cal, err);
}

int crm_calendar_is_open(const crm_calendar *cal, int64_t t, bool *open, crm_err *err)
{
    *open = true;
    if (!cal)
        return CRM_OK;
    cursor c;
    int rc = cursor_at(&c, cal, local_day(cal, t), err);
    if (rc != CRM_OK)
        return rc;
    size_t n;
    const crm_calendar_interval *iv = day_iv(&c, &n);
    *open = false;
    for (size_t j = 0; j < n && !*open; j++)
        *open = iv[j].start <= t && t < iv[j].end;
    return CRM_OK;
}

/* Open time from t on: whole days are skipped by their total. */
static int add_open(const crm_calendar *cal, int64_t t, int64_t secs, int64_t *out,
                    crm_err *err)
{
    cursor c;
    int rc = cursor_at(&c, cal, local_day(cal, t), err);
    for (int idle = 0; rc == CRM_OK && idle < SCAN_DAYS;) {
        size_t n;
        const crm_calendar_interval *iv = day_iv(&c, &n);
        int64_t total = day_total(&c);
        idle = total ? 0 : idle + 1;
        if (n && iv[0].start >= t && total < secs) {
            secs -= total;
        } else {
            for (size_t j = 0; j < n; j++) {
                if (iv[j].end <= t)
                    continue;
                int64_t from = iv[j].start > t ? iv[j].start : t;
                if (secs <= iv[j].end - from) {
                    *out = from + secs;
                    return CRM_OK;
                }
                secs -= iv[j].end - from;
            }
        }
        rc = cursor_next(&c, err);
    }
    return rc != CRM_OK ? rc : never_open(cal, err);
}

/* The wall-clock time of day of t, kept by d and bd. */
static void split_local(const crm_calendar *cal, int64_t t, int64_t *day, int64_t *tod)
{
    int64_t local = t + crm_tz_offset(cal->tz, t);
    *day = crm_floor_div(local, CRM_DAY);
    *tod = local - *day * CRM_DAY;
}

static int add_bdays(const crm_calendar *cal, int64_t t, int64_t n, int64_t *out,
                     crm_err *err)
{
    int64_t day, tod;
    split_local(cal, t, &day, &tod);
    cursor c;
    int rc = cursor_at(&c, cal, day, err);
    for (int idle = 0; rc == CRM_OK && n > 0;) {
        if ((rc = cursor_next(&c, err)) != CRM_OK)
            break;
        size_t k;
        day_iv(&c, &k);
        if (k)
            n--, idle = 0;
        else if (++idle >= SCAN_DAYS)
            return never_open(cal, err);
    }
    if (rc != CRM_OK)
        return rc;
    int64_t target = crm_tz_from_local(cal->tz, (c.yr->first + c.i) * CRM_DAY + tod);
    return crm_calendar_next_open(cal, target, out, err);
}

static int add_days(const crm_calendar *cal, int64_t t, int64_t n, int64_t *out,
                    crm_err *err)
{
    int64_t day, tod;
    split_local(cal, t, &day, &tod);
    int y = year_of(day + n);
    if (y > CRM_CALENDAR_YEAR_MAX)
        return crm_err_set(err, CRM_EINVAL,
                           "calendar '%s': the result falls in %d, after the years calendars "
                           "cover (%d-%d)", cal->name, y, CRM_CALENDAR_YEAR_MIN,
                           CRM_CALENDAR_YEAR_MAX);
    *out = crm_tz_from_local(cal->tz, (day + n) * CRM_DAY + tod);
    return CRM_OK;
}

int crm_calendar_add(const crm_calendar *cal, int64_t t, const crm_duration *d, int64_t *out,
                     crm_err *err)
{
    *out = t;
    if (d->amount == 0)
        return CRM_OK;
    if (!cal) {
        *out = t + (d->unit == CRM_DUR_OPEN ? d->amount : d->amount * CRM_DAY);
        return CRM_OK;
    }
    switch (d->unit) {
    case CRM_DUR_OPEN:
        return add_open(cal, t, d->amount, out, err);
    case CRM_DUR_BDAYS:
        return add_bdays(cal, t, d->amount, out, err);
    default:
        return add_days(cal, t, d->amount, out, err);
    }
}

int crm_calendar_add_text(const crm_calendar *cal, int64_t t, const char *duration,
                          int64_t *out, crm_err *err)
{
    crm_duration d;
    *out = t;
    int rc = crm_duration_parse(duration, &d, err);
    return rc == CRM_OK ? crm_calendar_add(cal, t, &d, out, err) : rc;
}

/* Open seconds from 1 January of t's local year up to t. */
static int year_position(const crm_calendar *cal, int64_t t, const cal_year **yr,
                         int64_t *pos, crm_err *err)
{
    cursor c;
    int rc = cursor_at(&c, cal, local_day(cal, t), err);
    if (rc != CRM_OK)
        return rc;
    size_t n;
    const crm_calendar_interval *iv = day_iv(&c, &n);
    *pos = c.yr->cum[c.i];
    for (size_t j = 0; j < n && iv[j].start < t; j++)
        *pos += (iv[j].end < t ? iv[j].end : t) - iv[j].start;
    *yr = c.yr;
    return CRM_OK;
}

int crm_calendar_between(const crm_calendar *cal, int64_t from, int64_t to, int64_t *out,
                         crm_err *err)
{
    *out = 0;
    if (!cal || to < from) {
        int rc = cal ? crm_calendar_between(cal, to, from, out, err) : CRM_OK;
        *out = cal ? -*out : to - from;
        return rc;
    }
    const cal_year *ya, *yb;
    int64_t pa, pb;
    int rc = year_position(cal, from, &ya, &pa, err);
    if (rc == CRM_OK)
        rc = year_position(cal, to, &yb, &pb, err);
    int64_t sum = pb - pa;
    for (int y = ya->year; rc == CRM_OK && y < yb->year; y++) {
        const cal_year *yr;
        if ((rc = crm_cal_year(cal, y, &yr, err)) == CRM_OK)
            sum += yr->cum[yr->n_days];
    }
    if (rc == CRM_OK)
        *out = sum;
    return rc;
}

/* ---- wall-clock time ----------------------------------------------------- */

void crm_calendar_local(const crm_calendar *cal, int64_t t, crm_local_time *out)
{
    int32_t off = cal ? crm_tz_offset(cal->tz, t) : 0;
    int64_t local = t + off, day = crm_floor_div(local, CRM_DAY), tod = local - day * CRM_DAY;
    crm_civil_from_days(day, &out->year, &out->month, &out->day);
    out->hour = (int)(tod / 3600);
    out->minute = (int)(tod / 60 % 60);
    out->second = (int)(tod % 60);
    out->weekday = crm_civil_weekday(day);
    out->utc_offset = off;
}

int64_t crm_calendar_from_local(const crm_calendar *cal, int y, int m, int d, int h, int mi,
                                int s)
{
    int64_t local = crm_civil_days(y, m, d) * CRM_DAY + h * 3600 + mi * 60 + s;
    return cal ? crm_tz_from_local(cal->tz, local) : local;
}

void crm_calendar_format(const crm_calendar *cal, int64_t t, char *buf, size_t size)
{
    crm_local_time lt;
    crm_calendar_local(cal, t, &lt);
    int32_t a = lt.utc_offset < 0 ? -lt.utc_offset : lt.utc_offset;
    char secs[4] = "";
    if (a % 60) /* local mean times of the 19th century */
        snprintf(secs, sizeof secs, ":%02d", (int)(a % 60));
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d%s", lt.year, lt.month, lt.day,
             lt.hour, lt.minute, lt.second, lt.utc_offset < 0 ? '-' : '+', (int)(a / 3600),
             (int)(a / 60 % 60), secs);
}

int crm_calendar_parse_time(const crm_calendar *cal, const char *field, const char *text,
                            int64_t now, int64_t *out, crm_err *err)
{
    if (text && strcmp(text, "now") == 0) {
        *out = now;
        return CRM_OK;
    }
    int rc = crm_parse_datetime(field, text, out, err);
    if (rc != CRM_OK)
        return rc;
    /* An offset can only follow a time: after its first ':'. */
    const char *colon = strchr(text, ':');
    if (colon && strpbrk(colon, "Zz+-"))
        return CRM_OK;
    *out = cal ? crm_tz_from_local(cal->tz, *out) : *out; /* the naive reading is wall time */
    return CRM_OK;
}

/* ---- reading a calendar -------------------------------------------------- */

const char *crm_calendar_name(const crm_calendar *cal)
{
    return cal ? cal->name : "none";
}

const char *crm_calendar_timezone(const crm_calendar *cal)
{
    return cal ? cal->tz->name : "UTC";
}

const char *crm_calendar_country(const crm_calendar *cal)
{
    return cal ? cal->country : "";
}

size_t crm_calendar_weekly(const crm_calendar *cal, int weekday,
                           const crm_calendar_hours **out)
{
    *out = NULL;
    if (!cal || weekday < 0 || weekday > 6)
        return 0;
    *out = cal->hours[weekday];
    return cal->n_hours[weekday];
}

int crm_calendar_day_get(const crm_calendar *cal, int y, int m, int d, crm_calendar_day *out,
                         crm_err *err)
{
    memset(out, 0, sizeof *out);
    if (m < 1 || m > 12 || d < 1 || d > crm_month_days(y, m))
        return crm_err_set(err, CRM_EINVAL, "%04d-%02d-%02d is not a date", y, m, d);
    cursor c;
    int rc = cursor_at(&c, cal, crm_civil_days(y, m, d), err);
    if (rc != CRM_OK)
        return rc;
    *out = (crm_calendar_day){.year = y, .month = m, .day = d,
                              .weekday = crm_civil_weekday(crm_civil_days(y, m, d)),
                              .closed = c.yr->closed[c.i]};
    out->open = day_iv(&c, &out->n_open);
    return CRM_OK;
}

/* The per-year cache of a calendar: for each local day, the UTC instants
 * whose wall-clock reading falls in one of that weekday's opening
 * intervals (none on a closed day). Computing a day walks the zone's
 * constant-offset stretches across the day, so a spring-forward gap or a
 * fall-back overlap, whatever its size, shapes the intervals by itself. */
#include <stdlib.h>
#include <string.h>

#include "calendar_int.h"
#include "civil.h"
#include "holidays.h"
#include "util.h"

typedef struct ivbuf {
    crm_calendar_interval *iv;
    size_t n, cap;
} ivbuf;

static bool ivbuf_push(ivbuf *b, int64_t start, int64_t end)
{
    if (CRM_ARRAY_RESERVE(b->iv, b->cap, b->n + 1) != CRM_OK)
        return false;
    b->iv[b->n++] = (crm_calendar_interval){start, end};
    return true;
}

/* The instants of [a, b) in local wall-clock seconds, appended to buf. */
static bool local_preimage(const crm_tz *tz, int64_t a, int64_t b, ivbuf *buf)
{
    int64_t t = a - tz->max_off; /* nothing earlier reads a or later */
    for (;;) {
        int64_t s, e;
        int32_t o;
        crm_tz_segment(tz, t, &s, &e, &o);
        int64_t lo = s > a - o ? s : a - o, hi = e < b - o ? e : b - o;
        if (lo < hi && !ivbuf_push(buf, lo, hi))
            return false;
        if (e >= b - tz->min_off) /* nothing later reads before b */
            return true;
        t = e;
    }
}

/* Sorts the day's pieces (from `from` on) and merges those that touch: the
 * two readings of an overlap hour can interleave two intervals. */
static void merge_day(ivbuf *buf, size_t from)
{
    crm_calendar_interval *iv = buf->iv + from;
    size_t n = buf->n - from, out = 0;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && iv[j - 1].start > iv[j].start; j--) {
            crm_calendar_interval t = iv[j];
            iv[j] = iv[j - 1];
            iv[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        if (out && iv[i].start <= iv[out - 1].end) {
            if (iv[i].end > iv[out - 1].end)
                iv[out - 1].end = iv[i].end;
        } else {
            iv[out++] = iv[i];
        }
    }
    buf->n = from + out;
}

static bool open_day(const crm_calendar *cal, int64_t day, ivbuf *buf)
{
    int wd = crm_civil_weekday(day);
    size_t from = buf->n;
    for (size_t j = 0; j < cal->n_hours[wd]; j++) {
        const crm_calendar_hours *h = &cal->hours[wd][j];
        if (!local_preimage(cal->tz, day * CRM_DAY + h->start, day * CRM_DAY + h->end, buf))
            return false;
    }
    merge_day(buf, from);
    return true;
}

static void mark(cal_year *yr, int64_t day, const char *why)
{
    int64_t i = day - yr->first;
    if (i >= 0 && i < yr->n_days && !yr->closed[i])
        yr->closed[i] = why; /* the first reason given wins: a holiday's name */
}

static void mark_closed_days(const crm_calendar *cal, cal_year *yr)
{
    crm_holiday h[CRM_HOLIDAYS_MAX];
    size_t n = cal->country[0] ? crm_holidays_year(cal->country, yr->year, h) : 0;
    for (size_t i = 0; i < n; i++)
        mark(yr, h[i].day, h[i].name);
    for (size_t i = 0; i < cal->n_extra; i++) {
        const cal_date *e = &cal->extra[i];
        if ((e->year == 0 || e->year == yr->year) && e->day <= crm_month_days(yr->year, e->month))
            mark(yr, crm_civil_days(yr->year, e->month, e->day), "extra holiday");
    }
    for (size_t i = 0; i < cal->n_closed; i++)
        mark(yr, cal->closed[i], "closed");
}

static void year_free(cal_year *yr)
{
    if (!yr)
        return;
    free(yr->idx);
    free(yr->iv);
    free(yr->cum);
    free((void *)yr->closed);
    free(yr);
}

static cal_year *year_build(const crm_calendar *cal, int y)
{
    cal_year *yr = calloc(1, sizeof *yr);
    ivbuf buf = {0};
    if (!yr)
        return NULL;
    yr->year = y;
    yr->first = crm_civil_days(y, 1, 1);
    yr->n_days = crm_is_leap(y) ? 366 : 365;
    yr->idx = calloc((size_t)yr->n_days + 1, sizeof *yr->idx);
    yr->cum = calloc((size_t)yr->n_days + 1, sizeof *yr->cum);
    yr->closed = calloc((size_t)yr->n_days, sizeof *yr->closed);
    if (!yr->idx || !yr->cum || !yr->closed)
        goto fail;
    mark_closed_days(cal, yr);
    for (int i = 0; i < yr->n_days; i++) {
        yr->idx[i] = (uint32_t)buf.n;
        yr->cum[i + 1] = yr->cum[i];
        if (yr->closed[i])
            continue;
        if (!open_day(cal, yr->first + i, &buf))
            goto fail;
        for (size_t j = yr->idx[i]; j < buf.n; j++)
            yr->cum[i + 1] += buf.iv[j].end - buf.iv[j].start;
    }
    yr->idx[yr->n_days] = (uint32_t)buf.n;
    yr->iv = buf.iv;
    return yr;
fail:
    free(buf.iv);
    year_free(yr);
    return NULL;
}

int crm_cal_year(const crm_calendar *cal, int y, const cal_year **out, crm_err *err)
{
    if (y < CRM_CALENDAR_YEAR_MIN || y > CRM_CALENDAR_YEAR_MAX)
        return crm_err_set(err, CRM_EINVAL,
                           "calendar '%s': year %d is outside the years calendars cover "
                           "(%d-%d)", cal->name, y, CRM_CALENDAR_YEAR_MIN,
                           CRM_CALENDAR_YEAR_MAX);
    /* The cache is not part of the calendar's value: filling it is allowed
     * through a const calendar. */
    _Atomic(cal_year *) *slot = (_Atomic(cal_year *) *)&cal->years[y - CRM_CALENDAR_YEAR_MIN];
    cal_year *yr = atomic_load_explicit(slot, memory_order_acquire);
    if (!yr) {
        cal_year *built = year_build(cal, y), *expected = NULL;
        if (!built)
            return crm_err_set(err, CRM_ENOMEM, "out of memory computing calendar '%s'",
                               cal->name);
        if (atomic_compare_exchange_strong_explicit(slot, &expected, built,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire))
            yr = built;
        else { /* another thread was first */
            year_free(built);
            yr = expected;
        }
    }
    *out = yr;
    return CRM_OK;
}

void crm_cal_free(crm_calendar *cal)
{
    if (!cal)
        return;
    for (size_t i = 0; i < CAL_YEARS; i++)
        year_free(atomic_load_explicit(&cal->years[i], memory_order_relaxed));
    crm_tz_free(cal->tz);
    free(cal->name);
    free(cal->extra);
    free(cal->closed);
    free(cal);
}

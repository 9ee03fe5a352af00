/* What a calendar is made of, shared by the operations (calendar.c), the
 * per-year cache (calendar_year.c) and its construction from crm.yaml
 * (calendar_config.c). Private to core/time. */
#ifndef CRM_CORE_TIME_CALENDAR_INT_H
#define CRM_CORE_TIME_CALENDAR_INT_H

#include <stdatomic.h>

#include "calendar.h"
#include "tz.h"

#define CAL_YEARS (CRM_CALENDAR_YEAR_MAX - CRM_CALENDAR_YEAR_MIN + 1)

/* An `extra` holiday: one date, or every year when year is 0. */
typedef struct cal_date {
    int year, month, day;
} cal_date;

/* One year of a calendar, computed once: the open intervals of each local
 * day in UTC, their running total, and why a closed day is closed. */
typedef struct cal_year {
    int year;
    int64_t first;              /* day number of 1 January */
    int n_days;
    uint32_t *idx;              /* n_days + 1: day i owns iv[idx[i] .. idx[i + 1]) */
    crm_calendar_interval *iv;
    int64_t *cum;               /* n_days + 1: open seconds of the year before day i */
    const char **closed;        /* n_days: reason, or NULL */
} cal_year;

struct crm_calendar {
    char *name;
    crm_tz *tz;
    crm_calendar_hours hours[7][CRM_CALENDAR_MAX_INTERVALS];
    size_t n_hours[7];
    char country[3];            /* "" = no generated holidays */
    cal_date *extra;
    size_t n_extra;
    int64_t *closed;            /* day numbers */
    size_t n_closed;
    _Atomic(cal_year *) years[CAL_YEARS]; /* filled on first use, never replaced */
};

struct crm_calendars {
    crm_calendar **items;       /* items[0] is `default` */
    size_t n;
};

/* The year y of cal (CRM_CALENDAR_YEAR_MIN..MAX), computed on first use;
 * concurrent first uses may both compute it, one result wins. */
int crm_cal_year(const crm_calendar *cal, int y, const cal_year **out, crm_err *err);

/* Frees a calendar and its cache; NULL is fine. */
void crm_cal_free(crm_calendar *cal);

#endif

/* Proleptic Gregorian dates as day numbers (days since 1970-01-01), the
 * arithmetic every calendar computation stands on. Zone-free: a "local day"
 * is a day number of a wall-clock date, whatever its UTC offset.
 * Algorithms from Howard Hinnant's "chrono-compatible low-level date
 * algorithms" (public domain): exact for every year of int range. */
#ifndef CRM_CORE_TIME_CIVIL_H
#define CRM_CORE_TIME_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

#define CRM_DAY 86400

/* Floor division, so instants before 1970 land on the right day. */
static inline int64_t crm_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static inline bool crm_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline int crm_month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && crm_is_leap(y) ? 29 : days[m - 1];
}

/* The day number of y-m-d (m 1..12, d 1..31, not checked). */
static inline int64_t crm_civil_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = crm_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of day number `days`. */
static inline void crm_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = crm_floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Day of the week of day number `days`: 0 = Monday ... 6 = Sunday
 * (1970-01-01 was a Thursday). */
static inline int crm_civil_weekday(int64_t days)
{
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* Parses exactly "YYYY-MM-DD" (a real day, year 0001-9999) into y, m, d.
 * Returns false on anything else. */
bool crm_civil_parse_date(const char *s, int *y, int *m, int *d);

#endif

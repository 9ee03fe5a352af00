/* Public holidays generated per country and year: fixed dates, dates
 * relative to Easter (Gregorian computus), n-th weekdays of a month, the
 * weekend rules of the US (observed days) and of England and Wales
 * (substitute days), and a few one-off days decreed for a single year.
 * Countries: BE, CH, DE, ES, FR, GB, IT, US; holidays.c says which days
 * each has. Internal to the kernel; calendars use it. */
#ifndef CRM_CORE_TIME_HOLIDAYS_H
#define CRM_CORE_TIME_HOLIDAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No country has more holidays in a year than this (with moved days). */
#define CRM_HOLIDAYS_MAX 32

typedef struct crm_holiday {
    int64_t day;      /* day number (days since 1970-01-01) */
    const char *name; /* English name, static */
} crm_holiday;

/* True when holidays of `country` (ISO 3166-1 alpha-2, upper case) are known. */
bool crm_holidays_known(const char *country);

/* "BE, CH, DE, ES, FR, GB, IT, US", for messages. */
const char *crm_holidays_countries(void);

/* Fills out[] with the holidays of `country` falling in `year` (a weekend
 * holiday and its observed or substitute day both appear), sorted by day;
 * returns their number, 0 for an unknown country. */
size_t crm_holidays_year(const char *country, int year, crm_holiday out[CRM_HOLIDAYS_MAX]);

/* Easter Sunday of `year` (Gregorian, years 1583 on): *month 3 or 4, *day. */
void crm_easter(int year, int *month, int *day);

#endif

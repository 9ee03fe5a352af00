/* The footer rule of a TZif file (a POSIX TZ string), read but not
 * invented: see tz_rule.c. Internal to core/time. */
#ifndef CRM_CORE_TIME_TZ_RULE_H
#define CRM_CORE_TIME_TZ_RULE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct crm_tz_rule_date {
    char kind;    /* 'J' (Jn, 1..365 without Feb 29), 'n' (0..365), 'M' (Mm.w.d) */
    int a, b, c;  /* n, or month / week (5 = last) / weekday (0 = Sunday) */
    int32_t time; /* local time of the change, seconds (may be negative or > 24h) */
} crm_tz_rule_date;

typedef struct crm_tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    crm_tz_rule_date start, end; /* into and out of daylight time */
} crm_tz_rule;

/* Parses a POSIX TZ string; false when it is malformed, or has daylight
 * time without explicit dates. */
bool crm_tz_rule_parse(const char *s, crm_tz_rule *r);

/* The UTC instant at which date d of `year` happens, d->time being read on
 * a clock running at `off_before` (the offset in force before the change). */
int64_t crm_tz_rule_instant(const crm_tz_rule_date *d, int year, int32_t off_before);

#endif

/* A time zone from the system tz database: the TZif file of an IANA zone
 * (RFC 8536) read from $TZDIR or /usr/share/zoneinfo, the same file glibc's
 * localtime reads. Nothing here knows any zone's rules: the transitions are
 * the file's, and the file's own footer rule (its POSIX TZ string) extends
 * them to CRM_TZ_LAST_YEAR, so a lookup is one binary search and a loaded
 * zone is immutable, safe to share between threads.
 *
 * Internal to core/time; calendar.h is the public face. */
#ifndef CRM_CORE_TIME_TZ_H
#define CRM_CORE_TIME_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Transitions are generated from the footer rule up to the end of this year. */
#define CRM_TZ_LAST_YEAR 2200

typedef struct crm_tz {
    char *name;       /* "Europe/Paris" */
    size_t n;         /* transitions */
    int64_t *at;      /* UTC instants, strictly increasing */
    int32_t *off;     /* UTC offset (seconds east) from at[i] on */
    int32_t off0;     /* offset before at[0] (or everywhere when n == 0) */
    int32_t min_off, max_off;
} crm_tz;

/* Loads zone `name` ("Europe/Paris", "UTC"). Refuses names that are not a
 * plain relative path, unreadable or non-TZif files and leap-second ("right/")
 * zones. Returns CRM_OK, CRM_ENOTFOUND (no such zone: err names the file and
 * suggests a near name from the same region), CRM_EINVAL (a corrupt file) or
 * CRM_ENOMEM. *out is freed with crm_tz_free. */
int crm_tz_load(const char *name, crm_tz **out, crm_err *err);

/* Builds a zone from TZif bytes (tests, and crm_tz_load); `name` is copied. */
int crm_tz_parse(const char *name, const unsigned char *buf, size_t len, crm_tz **out,
                 crm_err *err);

void crm_tz_free(crm_tz *tz);

/* The offset (seconds east of UTC) in force at instant t. */
int32_t crm_tz_offset(const crm_tz *tz, int64_t t);

/* The constant-offset stretch containing t: [*start, *end) with offset *off
 * (INT64_MIN / INT64_MAX at the ends of the table). */
void crm_tz_segment(const crm_tz *tz, int64_t t, int64_t *start, int64_t *end, int32_t *off);

/* The first instant whose wall-clock reading (t + offset) is at least
 * `local` (local seconds since 1970-01-01 00:00 wall time). A time that
 * exists once maps to it; in a spring-forward gap, to the transition (the
 * first instant after the gap); in a fall-back overlap, to its first
 * occurrence. */
int64_t crm_tz_from_local(const crm_tz *tz, int64_t local);

#endif

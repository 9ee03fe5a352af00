/* Business calendars: when an organisation is open, and time counted in
 * open time.
 *
 * A calendar (crm.yaml `calendars:`) is an IANA time zone from the system
 * tz database, weekly opening intervals in that zone's wall-clock time
 * (several a day: a lunch break, split shifts; an interval ends at 24:00 at
 * the latest), and closed days: generated public holidays of a country,
 * `extra` holidays and `closed` dates. The calendar named `default` follows
 * `locale:` (Monday to Friday 09:00-18:00 in locale.timezone, the locale
 * country's holidays) unless crm.yaml defines one of that name.
 *
 * An instant is open when the calendar's wall clock reads a time inside an
 * opening interval of a day that is not closed. So a spring-forward gap
 * shortens an interval it cuts, and a fall-back overlap lengthens one (the
 * hour read twice is open twice).
 *
 * Every instant in or out is UTC epoch seconds. Calendars are immutable
 * once loaded and safe to share between threads: each keeps a cache of its
 * open intervals per local day, in UTC, filled a year at a time on first
 * use. Years 1900 to 2199 are covered; beyond, operations fail with
 * CRM_EINVAL. A NULL calendar means wall-clock time (every unit elapses
 * continuously), so callers holding an optional calendar need no branch. */
#ifndef CRM_CORE_TIME_CALENDAR_H
#define CRM_CORE_TIME_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define CRM_CALENDAR_YEAR_MIN 1900
#define CRM_CALENDAR_YEAR_MAX 2199
/* Opening intervals a weekday may have in crm.yaml. */
#define CRM_CALENDAR_MAX_INTERVALS 8

typedef struct crm_calendar crm_calendar;

/* ---- durations ---------------------------------------------------------- */

typedef enum crm_duration_unit {
    CRM_DUR_OPEN,  /* s, m, h (combinable: "1h30m"): open time with a calendar */
    CRM_DUR_DAYS,  /* d: calendar days, the same wall-clock time that many days later */
    CRM_DUR_BDAYS  /* bd: business days */
} crm_duration_unit;

typedef struct crm_duration {
    crm_duration_unit unit;
    int64_t amount; /* seconds for CRM_DUR_OPEN, else days; never negative */
} crm_duration;

/* Parses "45s", "90m", "2h", "1h30m", "7d", "15bd" (shared with crm.yaml).
 * Units: s, m, h (which combine, largest first, each at most once), d, bd
 * (alone). At most ten years' worth. On failure returns CRM_EINVAL with
 * "'TEXT' is not a duration: WHY (expected ...)" in err. */
int crm_duration_parse(const char *text, crm_duration *out, crm_err *err);

/* Writes the canonical text of d ("1h30m", "3bd", "0s") into buf. */
void crm_duration_format(const crm_duration *d, char *buf, size_t size);

/* ---- finding a calendar -------------------------------------------------- */

/* The calendar `name` of cfg, or the default calendar when name is NULL or
 * ""; NULL when there is none of that name. Owned by cfg. */
const crm_calendar *crm_calendar_find(const crm_config *cfg, const char *name);

/* The calendars of cfg in crm.yaml order, `default` first; n via *count. */
const crm_calendar *const *crm_calendar_all(const crm_config *cfg, size_t *count);

const char *crm_calendar_name(const crm_calendar *cal);
const char *crm_calendar_timezone(const crm_calendar *cal);
/* The holiday country ("FR"), or "" when it generates none. */
const char *crm_calendar_country(const crm_calendar *cal);

typedef struct crm_calendar_hours {
    int32_t start, end; /* seconds since local midnight; end <= 86400 */
} crm_calendar_hours;

/* The weekly opening intervals of `weekday` (0 = Monday), sorted: returns
 * how many and sets *out (owned by cal). */
size_t crm_calendar_weekly(const crm_calendar *cal, int weekday,
                           const crm_calendar_hours **out);

/* ---- business-time operations --------------------------------------------
 * Each returns CRM_OK, or CRM_EINVAL (outside the covered years, or a
 * calendar open at no time for ten years) or CRM_ENOMEM with err filled. */

/* *out = t + d. With a calendar: s/m/h count open time (from t, or from the
 * next opening when t is closed; ending exactly at a closing time gives that
 * time), bd moves to the same wall-clock time `amount` open days after t's
 * day, then to the next opening when that instant is closed, d moves to the
 * same wall-clock time `amount` days later. Without one (NULL): t plus the
 * seconds, days counted as 86400 s. A zero duration gives t. */
int crm_calendar_add(const crm_calendar *cal, int64_t t, const crm_duration *d, int64_t *out,
                     crm_err *err);

/* crm_calendar_add with the duration as text ("2h", "3bd"). */
int crm_calendar_add_text(const crm_calendar *cal, int64_t t, const char *duration,
                          int64_t *out, crm_err *err);

/* Open seconds in [from, to); negative when to < from. NULL: to - from. */
int crm_calendar_between(const crm_calendar *cal, int64_t from, int64_t to, int64_t *out,
                         crm_err *err);

/* The first open instant at or after t (t itself when open). NULL: t. */
int crm_calendar_next_open(const crm_calendar *cal, int64_t t, int64_t *out, crm_err *err);

/* Whether t is open. NULL: always open. */
int crm_calendar_is_open(const crm_calendar *cal, int64_t t, bool *open, crm_err *err);

/* ---- wall-clock time in the calendar's zone ------------------------------ */

typedef struct crm_local_time {
    int year, month, day, hour, minute, second;
    int weekday;        /* 0 = Monday */
    int32_t utc_offset; /* seconds east of UTC */
} crm_local_time;

/* The wall-clock reading of t in the calendar's zone (UTC when cal is NULL). */
void crm_calendar_local(const crm_calendar *cal, int64_t t, crm_local_time *out);

/* The first instant reading y-m-d h:mi:s in the calendar's zone (a time
 * skipped by a spring-forward gives the end of the gap; one read twice, its
 * first occurrence). Fields are not range-checked beyond what the day
 * number arithmetic accepts. */
int64_t crm_calendar_from_local(const crm_calendar *cal, int y, int m, int d, int h, int mi,
                                int s);

/* Formats t as ISO 8601 with the zone's offset: "2026-03-30T10:00:00+02:00"
 * (buf of at least 26 bytes). */
void crm_calendar_format(const crm_calendar *cal, int64_t t, char *buf, size_t size);

/* Parses an instant for the CLI and scripts: "now" (= now), ISO 8601 with
 * "Z" or an offset (that instant), or a date or date-time without offset,
 * read as wall-clock time in the calendar's zone ("2026-03-27" is its
 * midnight). CRM_EINVAL naming `field` when malformed. */
int crm_calendar_parse_time(const crm_calendar *cal, const char *field, const char *text,
                            int64_t now, int64_t *out, crm_err *err);

/* ---- days ---------------------------------------------------------------- */

typedef struct crm_calendar_interval {
    int64_t start, end; /* UTC, [start, end) */
} crm_calendar_interval;

typedef struct crm_calendar_day {
    int year, month, day, weekday;       /* the local date; weekday 0 = Monday */
    const char *closed;                  /* why the day is closed: a holiday's name,
                                            "extra holiday", "closed"; NULL otherwise */
    size_t n_open;
    const crm_calendar_interval *open;   /* owned by cal */
} crm_calendar_day;

/* The local day y-m-d of the calendar: its open intervals in UTC (none on a
 * closed day) and why it is closed. CRM_EINVAL for a date out of range. */
int crm_calendar_day_get(const crm_calendar *cal, int y, int m, int d, crm_calendar_day *out,
                         crm_err *err);

/* ---- standalone calendars (quiet hours: one per contact zone) ------------ */

/* Reads a weekly hours map (mon-fri: ["09:00-18:00"], the `hours:` syntax of
 * calendars) into hours/n_hours; a day the map does not name has none.
 * CRM_ECONFIG with "FILE:LINE:COL: PATH...: ..." when malformed, and
 * "WHAT is never open" when no day has an interval. */
int crm_calendar_hours_parse(const crm_node *n, const char *path,
                             crm_calendar_hours hours[7][CRM_CALENDAR_MAX_INTERVALS],
                             size_t n_hours[7], const char *what, crm_err *err);

/* A calendar not in crm.yaml: zone `zone` from the tz database, the weekly
 * hours given, the public holidays of `country` closed (NULL, "" or a
 * country without known holidays: none). Caller-owned: crm_calendar_free.
 * CRM_ENOTFOUND for an unknown zone, CRM_EINVAL, CRM_ENOMEM. */
int crm_calendar_make(const char *name, const char *zone,
                      const crm_calendar_hours hours[7][CRM_CALENDAR_MAX_INTERVALS],
                      const size_t n_hours[7], const char *country, crm_calendar **out,
                      crm_err *err);

/* Frees a calendar from crm_calendar_make; NULL is fine. */
void crm_calendar_free(crm_calendar *cal);

/* The IANA zone of an ISO 3166-1 country ("FR" -> "Europe/Paris") from the
 * tz database's zone1970.tab / zone.tab: `prefer` when it is one of the
 * country's zones (the locale's zone for a country with several), else the
 * first listed. Writes it into buf and returns true; false when the country
 * has no zone there. */
bool crm_tz_country_zone(const char *country, const char *prefer, char *buf, size_t size);

/* ---- loading (config.c calls these) -------------------------------------- */

typedef struct crm_calendars crm_calendars;

/* Builds cfg->calendars from the `calendars:` section (NULL when absent)
 * and cfg's locale (already read). Validates zones against the tz database,
 * day keys, intervals and overlaps, holiday countries and dates; errors are
 * CRM_ECONFIG with "FILE:LINE:COL: calendars.NAME.KEY: ...". */
int crm_calendars_load(crm_config *cfg, const crm_node *section, crm_err *err);

void crm_calendars_free(crm_calendars *set);

#endif

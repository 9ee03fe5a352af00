/* crm.yaml `calendars:` -> the configuration's calendars, and the
 * `default` calendar made from `locale:`. Every refusal points at the node
 * that caused it (FILE:LINE:COL: calendars.NAME.KEY: ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_int.h"
#include "civil.h"
#include "holidays.h"
#include "util.h"

#define DASH " \xe2\x80\x94 "
#define DEFAULT_NAME "default"
#define PATH_MAX_LEN 320

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};

static int nomem(crm_err *err)
{
    return crm_err_set(err, CRM_ENOMEM, "out of memory while reading calendars");
}

static void sub_path(char *buf, const char *parent, const char *key)
{
    snprintf(buf, PATH_MAX_LEN, "%s.%s", parent, key);
}

/* A key of a map and what reads it; tables end with a NULL key. */
typedef int (*key_reader)(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err);
typedef struct key_entry {
    const char *key;
    key_reader read;
} key_entry;

static int unknown_key(const crm_node *n, const char *path, const char *const *names,
                       crm_err *err)
{
    const char *hint = crm_suggest(n->key, names);
    if (hint)
        return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "did you mean '%s'?",
                              n->key, path, hint);
    char list[128] = "";
    for (size_t j = 0; names[j]; j++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                 names[j]);
    return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "valid keys: %s", n->key,
                          path, list);
}

/* Refuses keys of `map` the table does not list, then reads those present,
 * in table order. */
static int read_keys(crm_calendar *cal, const crm_node *map, const char *path,
                     const key_entry *keys, crm_err *err)
{
    const char *names[8];
    size_t n = 0;
    for (; keys[n].key && n < 7; n++)
        names[n] = keys[n].key;
    names[n] = NULL;
    for (size_t i = 0; i < map->n_items; i++) {
        bool known = false;
        for (size_t j = 0; j < n && !known; j++)
            known = strcmp(map->items[i]->key, names[j]) == 0;
        if (!known)
            return unknown_key(map->items[i], path, names, err);
    }
    for (size_t j = 0; j < n; j++) {
        const crm_node *v = crm_node_get(map, keys[j].key);
        char kpath[PATH_MAX_LEN];
        sub_path(kpath, path, keys[j].key);
        int rc = v ? keys[j].read(cal, v, kpath, err) : CRM_OK;
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- the zone ------------------------------------------------------------ */

/* Loads zone `name`; a refusal points at `at` (NULL for a built-in default). */
static int load_zone(const char *name, const crm_node *at, const char *path, crm_tz **out,
                     crm_err *err)
{
    crm_err zerr = {0};
    int rc = crm_tz_load(name, out, &zerr);
    if (rc == CRM_ENOMEM)
        return crm_err_set(err, rc, "%s", zerr.msg);
    if (rc != CRM_OK)
        return crm_node_error(at, path, err, "%s", zerr.msg);
    return CRM_OK;
}

static int read_timezone(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err)
{
    const char *name;
    if (crm_node_string(n, path, &name, err) != CRM_OK)
        return crm_node_expected(n, path, "an IANA time zone name (Europe/Paris)", err);
    return load_zone(name, n, path, &cal->tz, err);
}

/* ---- hours --------------------------------------------------------------- */

static int day_index(const char *s, size_t len)
{
    for (int d = 0; d < 7; d++)
        if (len == 3 && strncmp(s, day_names[d], 3) == 0)
            return d;
    return -1;
}

/* "mon" or a range "mon-fri" (one that wraps, "fri-mon", is fine) into
 * days[]; false when it is neither. */
static bool parse_days(const char *key, bool days[7])
{
    const char *dash = strchr(key, '-');
    int a = day_index(key, dash ? (size_t)(dash - key) : strlen(key));
    int b = dash ? day_index(dash + 1, strlen(dash + 1)) : a;
    if (a < 0 || b < 0)
        return false;
    memset(days, 0, 7 * sizeof *days);
    for (int d = a;; d = (d + 1) % 7) {
        days[d] = true;
        if (d == b)
            return true;
    }
}

static bool clock_time(const char *s, int32_t *out)
{
    if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
          s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
        return false;
    int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
    *out = h * 3600 + m * 60;
    return h < 24 || (h == 24 && m == 0);
}

static int parse_interval(const crm_node *n, const char *path, crm_calendar_hours *iv,
                          crm_err *err)
{
    const char *what = "an interval HH:MM-HH:MM (08:00-12:30)";
    const char *s = n->kind == CRM_NODE_SCALAR ? n->value : "";
    if (n->kind != CRM_NODE_SCALAR || strlen(s) != 11 || s[5] != '-' ||
        !clock_time(s, &iv->start) || !clock_time(s + 6, &iv->end))
        return crm_node_expected(n, path, what, err);
    if (iv->start == 86400)
        return crm_node_error(n, path, err, "'%s' starts at 24:00: start at 00:00 the next day",
                              s);
    if (iv->end <= iv->start)
        return crm_node_error(n, path, err,
                              "'%s' ends before it starts: an interval stays within one day "
                              "(write a night shift as 22:00-24:00 and 00:00-06:00 the next "
                              "day)", s);
    return CRM_OK;
}

/* One day key's list: sorted, refused when two intervals overlap, merged
 * when they touch. A plain scalar is a one-interval list; [] or nothing is
 * a closed day. */
static int parse_intervals(const crm_node *n, const char *path, crm_calendar_hours *out,
                           size_t *count, crm_err *err)
{
    const crm_node *one[1] = {n};
    const crm_node *const *items = n->kind == CRM_NODE_SEQ ? (const crm_node *const *)n->items
                                                           : one;
    size_t n_items = n->kind == CRM_NODE_SEQ ? n->n_items : !n->is_null;
    const crm_node *src[CRM_CALENDAR_MAX_INTERVALS];
    *count = 0;
    if (n->kind == CRM_NODE_MAP)
        return crm_node_expected(n, path, "a list of intervals [\"08:00-12:30\", ...]", err);
    if (n_items > CRM_CALENDAR_MAX_INTERVALS)
        return crm_node_error(n, path, err, "at most %d intervals a day",
                              CRM_CALENDAR_MAX_INTERVALS);
    for (size_t i = 0; i < n_items; i++) {
        char ipath[PATH_MAX_LEN];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        crm_calendar_hours iv;
        if (parse_interval(items[i], ipath, &iv, err) != CRM_OK)
            return CRM_ECONFIG;
        size_t j = *count;
        for (; j > 0 && out[j - 1].start > iv.start; j--) {
            out[j] = out[j - 1];
            src[j] = src[j - 1];
        }
        out[j] = iv;
        src[j] = items[i];
        (*count)++;
    }
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        if (kept && out[i].start < out[kept - 1].end) {
            const crm_node *later = src[i]->line > src[kept - 1]->line ||
                                    (src[i]->line == src[kept - 1]->line &&
                                     src[i]->column > src[kept - 1]->column) ? src[i]
                                                                             : src[kept - 1];
            return crm_node_error(later, path, err, "'%s' and '%s' overlap", src[kept - 1]->value,
                                  src[i]->value);
        }
        if (kept && out[i].start == out[kept - 1].end)
            out[kept - 1].end = out[i].end; /* 08:00-12:00 and 12:00-14:00 are one */
        else {
            out[kept] = out[i];
            src[kept++] = src[i];
        }
    }
    *count = kept;
    return CRM_OK;
}

int crm_calendar_hours_parse(const crm_node *n, const char *path,
                             crm_calendar_hours hours[7][CRM_CALENDAR_MAX_INTERVALS],
                             size_t n_hours[7], const char *what, crm_err *err)
{
    if (n->kind != CRM_NODE_MAP || n->n_items == 0)
        return crm_node_expected(n, path, "a map of days to intervals (mon-fri: [\"09:00-18:00\"])",
                                 err);
    const crm_node *set_by[7] = {0};
    size_t total = 0;
    memset(n_hours, 0, 7 * sizeof *n_hours);
    for (size_t i = 0; i < n->n_items; i++) {
        const crm_node *e = n->items[i];
        char kpath[PATH_MAX_LEN];
        bool days[7];
        sub_path(kpath, path, e->key);
        if (!parse_days(e->key, days))
            return crm_node_error(e, path, err,
                                  "'%s' is not a day" DASH "expected mon, tue, wed, thu, fri, "
                                  "sat, sun or a range such as mon-fri", e->key);
        crm_calendar_hours ivs[CRM_CALENDAR_MAX_INTERVALS];
        size_t count;
        if (parse_intervals(e, kpath, ivs, &count, err) != CRM_OK)
            return CRM_ECONFIG;
        for (int d = 0; d < 7; d++) {
            if (!days[d])
                continue;
            if (set_by[d])
                return crm_node_error(e, path, err, "%s is already given by '%s' (line %d)",
                                      day_names[d], set_by[d]->key, set_by[d]->line);
            set_by[d] = e;
            memcpy(hours[d], ivs, count * sizeof *ivs);
            n_hours[d] = count;
            total += count;
        }
    }
    if (total == 0)
        return crm_node_error(n, path, err, "%s is never open: give at least one interval",
                              what);
    return CRM_OK;
}

static int parse_hours(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err)
{
    /* replaces the default hours */
    return crm_calendar_hours_parse(n, path, cal->hours, cal->n_hours, "the calendar", err);
}

static void default_hours(crm_calendar *cal)
{
    memset(cal->n_hours, 0, sizeof cal->n_hours);
    for (int d = 0; d < 5; d++) {
        cal->hours[d][0] = (crm_calendar_hours){9 * 3600, 18 * 3600};
        cal->n_hours[d] = 1;
    }
}

/* ---- holidays ------------------------------------------------------------ */

static int read_country(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err)
{
    if (n->kind != CRM_NODE_SCALAR || n->is_null)
        return crm_node_expected(n, path, "a country code (FR) or none", err);
    const char *s = n->value;
    if (strcmp(s, "none") == 0) {
        cal->country[0] = '\0';
        return CRM_OK;
    }
    if (crm_holidays_known(s)) {
        memcpy(cal->country, s, 3);
        return CRM_OK;
    }
    char upper[4] = "";
    for (size_t i = 0; i < 3 && s[i]; i++)
        upper[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    const char *hint = strcmp(upper, "UK") == 0 ? "GB" : crm_holidays_known(upper) ? upper : NULL;
    if (hint)
        return crm_node_error(n, path, err, "unknown holiday country '%s'" DASH "did you mean '%s'?",
                              s, hint);
    return crm_node_error(n, path, err,
                          "no public holidays known for '%s' (known: %s)" DASH "write "
                          "country: none and list the days under extra", s,
                          crm_holidays_countries());
}

static bool in_years(int y)
{
    return y >= CRM_CALENDAR_YEAR_MIN && y <= CRM_CALENDAR_YEAR_MAX;
}

/* "YYYY-MM-DD", or "MM-DD" (every year) when `yearly`. */
static bool read_date(const char *s, bool yearly, cal_date *out)
{
    char full[16];
    if (yearly && strlen(s) == 5) { /* checked against a leap year: 02-29 is fine */
        snprintf(full, sizeof full, "2000-%s", s);
        if (!crm_civil_parse_date(full, &out->year, &out->month, &out->day))
            return false;
        out->year = 0;
        return true;
    }
    return crm_civil_parse_date(s, &out->year, &out->month, &out->day) && in_years(out->year);
}

static int date_list(const crm_node *n, const char *path, bool yearly, cal_date **out,
                     size_t *count, crm_err *err)
{
    char what[96];
    snprintf(what, sizeof what, "a date YYYY-MM-DD (years %d-%d)%s", CRM_CALENDAR_YEAR_MIN,
             CRM_CALENDAR_YEAR_MAX, yearly ? " or MM-DD for every year" : "");
    if (n->kind == CRM_NODE_SCALAR && n->is_null)
        return CRM_OK;
    if (n->kind != CRM_NODE_SEQ)
        return crm_node_expected(n, path, "a list of dates [2026-12-24]", err);
    if (!(*out = calloc(n->n_items ? n->n_items : 1, sizeof **out)))
        return nomem(err);
    for (size_t i = 0; i < n->n_items; i++) {
        const crm_node *item = n->items[i];
        char ipath[PATH_MAX_LEN];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        if (item->kind != CRM_NODE_SCALAR || !read_date(item->value, yearly, &(*out)[i]))
            return crm_node_expected(item, ipath, what, err);
        for (size_t j = 0; j < i; j++)
            if (memcmp(&(*out)[j], &(*out)[i], sizeof **out) == 0)
                return crm_node_error(item, ipath, err, "'%s' is listed twice (first at line %d)",
                                      item->value, n->items[j]->line);
        (*count)++;
    }
    return CRM_OK;
}

static int read_closed(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err)
{
    cal_date *dates = NULL;
    size_t count = 0;
    int rc = date_list(n, path, false, &dates, &count, err);
    if (rc == CRM_OK && count && !(cal->closed = calloc(count, sizeof *cal->closed)))
        rc = nomem(err);
    for (size_t i = 0; rc == CRM_OK && i < count; i++)
        cal->closed[cal->n_closed++] = crm_civil_days(dates[i].year, dates[i].month, dates[i].day);
    free(dates);
    return rc;
}

static int read_extra(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err)
{
    return date_list(n, path, true, &cal->extra, &cal->n_extra, err);
}

static const key_entry holiday_keys[] = {
    {"country", read_country}, {"extra", read_extra}, {"closed", read_closed}, {NULL, NULL}};

static int parse_holidays(crm_calendar *cal, const crm_node *n, const char *path, crm_err *err)
{
    if (n->kind == CRM_NODE_SCALAR && n->is_null)
        return CRM_OK;
    if (n->kind != CRM_NODE_MAP)
        return crm_node_expected(n, path, "a map {country: FR, extra: [...], closed: [...]}",
                                 err);
    return read_keys(cal, n, path, holiday_keys, err);
}

/* ---- calendars ----------------------------------------------------------- */

/* A calendar with the defaults every key falls back to: locale.timezone,
 * Monday to Friday 09:00-18:00, locale.country's holidays when known. */
static int base_calendar(const crm_config *cfg, const char *name, bool with_zone,
                         crm_calendar **out, crm_err *err)
{
    crm_calendar *cal = calloc(1, sizeof *cal);
    if (!cal || !(cal->name = strdup(name))) {
        free(cal);
        return nomem(err);
    }
    default_hours(cal);
    if (crm_holidays_known(cfg->country))
        memcpy(cal->country, cfg->country, 3);
    int rc = CRM_OK;
    if (with_zone)
        rc = load_zone(cfg->timezone, cfg->root ? crm_node_path(cfg->root, "locale.timezone")
                                                : NULL,
                       "locale.timezone", &cal->tz, err);
    if (rc != CRM_OK) {
        crm_cal_free(cal);
        return rc;
    }
    *out = cal;
    return CRM_OK;
}

static const key_entry calendar_keys[] = {
    {"timezone", read_timezone}, {"hours", parse_hours}, {"holidays", parse_holidays},
    {NULL, NULL}};

static int parse_calendar(const crm_config *cfg, const crm_node *n, crm_calendar **out,
                          crm_err *err)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "calendars.%s", n->key);
    if (!crm_name_valid(n->key, CRM_NAME_SLUG, 63))
        return crm_node_error(n, NULL, err,
                              "calendar name '%s': use a-z, 0-9, _ and -, starting with a letter",
                              n->key);
    if (n->kind != CRM_NODE_MAP)
        return crm_node_expected(n, path, "a map with timezone, hours and holidays", err);
    crm_calendar *cal = NULL;
    int rc = base_calendar(cfg, n->key, !crm_node_get(n, "timezone"), &cal, err);
    if (rc == CRM_OK)
        rc = read_keys(cal, n, path, calendar_keys, err);
    if (rc != CRM_OK) {
        crm_cal_free(cal);
        return rc;
    }
    *out = cal;
    return CRM_OK;
}

void crm_calendars_free(crm_calendars *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        crm_cal_free(set->items[i]);
    free(set->items);
    free(set);
}

int crm_calendars_load(crm_config *cfg, const crm_node *section, crm_err *err)
{
    bool present = section && !(section->kind == CRM_NODE_SCALAR && section->is_null);
    if (present && section->kind != CRM_NODE_MAP)
        return crm_node_expected(section, "calendars", "a map of calendar name: settings", err);
    size_t n = present ? section->n_items : 0;
    crm_calendars *set = calloc(1, sizeof *set);
    if (!set || !(set->items = calloc(n + 1, sizeof *set->items))) {
        free(set);
        return nomem(err);
    }
    cfg->calendars = set; /* owned from here on, freed with cfg on failure */
    const crm_node *own_default = present ? crm_node_get(section, DEFAULT_NAME) : NULL;
    int rc = own_default ? parse_calendar(cfg, own_default, &set->items[0], err)
                         : base_calendar(cfg, DEFAULT_NAME, true, &set->items[0], err);
    if (rc == CRM_OK && own_default && own_default->kind == CRM_NODE_MAP &&
        crm_node_get(own_default, "timezone")) {
        /* locale.timezone is still where times are shown: refuse a zone the
         * system does not have even when no calendar follows it */
        crm_tz *tz = NULL;
        rc = load_zone(cfg->timezone,
                       cfg->root ? crm_node_path(cfg->root, "locale.timezone") : NULL,
                       "locale.timezone", &tz, err);
        crm_tz_free(tz);
    }
    if (rc != CRM_OK)
        return rc;
    set->n = 1;
    for (size_t i = 0; i < n; i++) {
        if (section->items[i] == own_default)
            continue;
        if ((rc = parse_calendar(cfg, section->items[i], &set->items[set->n], err)) != CRM_OK)
            return rc;
        set->n++;
    }
    return CRM_OK;
}

int crm_calendar_make(const char *name, const char *zone,
                      const crm_calendar_hours hours[7][CRM_CALENDAR_MAX_INTERVALS],
                      const size_t n_hours[7], const char *country, crm_calendar **out,
                      crm_err *err)
{
    *out = NULL;
    crm_calendar *cal = calloc(1, sizeof *cal);
    if (!cal || !(cal->name = strdup(name))) {
        free(cal);
        return nomem(err);
    }
    memcpy(cal->hours, hours, sizeof cal->hours);
    memcpy(cal->n_hours, n_hours, sizeof cal->n_hours);
    if (country && crm_holidays_known(country))
        memcpy(cal->country, country, 3);
    int rc = crm_tz_load(zone, &cal->tz, err);
    if (rc != CRM_OK) {
        crm_cal_free(cal);
        return rc;
    }
    *out = cal;
    return CRM_OK;
}

void crm_calendar_free(crm_calendar *cal)
{
    crm_cal_free(cal);
}

const crm_calendar *crm_calendar_find(const crm_config *cfg, const char *name)
{
    if (!cfg || !cfg->calendars)
        return NULL;
    if (!name || !*name)
        name = DEFAULT_NAME;
    for (size_t i = 0; i < cfg->calendars->n; i++)
        if (strcmp(cfg->calendars->items[i]->name, name) == 0)
            return cfg->calendars->items[i];
    return NULL;
}

const crm_calendar *const *crm_calendar_all(const crm_config *cfg, size_t *count)
{
    *count = cfg && cfg->calendars ? cfg->calendars->n : 0;
    return *count ? (const crm_calendar *const *)cfg->calendars->items : NULL;
}

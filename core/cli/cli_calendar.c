/* crm calendar show|add: a calendar's hours, holidays and open intervals,
 * and business-time arithmetic from the command line. Times are read and
 * printed in the calendar's zone (ISO 8601 with offset); --json adds epoch
 * seconds. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "time/calendar.h"
#include "time/civil.h"

#define DEFAULT_SPAN 7    /* days shown without --to */
#define MAX_SPAN 1096     /* three years */

static const char *const wday[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int find_calendar(crm_cli *cli, const char *name, const crm_calendar **out,
                         crm_err *err)
{
    *out = crm_calendar_find(cli->k->cfg, name);
    if (*out)
        return CRM_OK;
    size_t n;
    const crm_calendar *const *all = crm_calendar_all(cli->k->cfg, &n);
    const char *names[64];
    char list[512] = "";
    for (size_t i = 0; i < n && i < 63; i++) {
        names[i] = crm_calendar_name(all[i]);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 names[i]);
    }
    names[n < 63 ? n : 63] = NULL;
    const char *hint = crm_suggest(name, names);
    return crm_err_set(err, CRM_ENOTFOUND, "no calendar '%s' in the configuration%s%s%s (have: %s)",
                       name, hint ? " \xe2\x80\x94 did you mean '" : "", hint ? hint : "",
                       hint ? "'?" : "", list);
}

/* ---- show ---------------------------------------------------------------- */

static void hhmm(int32_t secs, char *buf, size_t size)
{
    snprintf(buf, size, "%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60));
}

static void offset_text(int32_t off, char *buf, size_t size)
{
    int32_t a = off < 0 ? -off : off;
    snprintf(buf, size, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
}

static json_t *weekly_json(const crm_calendar *cal)
{
    json_t *hours = json_object();
    for (int d = 0; d < 7; d++) {
        const crm_calendar_hours *h;
        size_t n = crm_calendar_weekly(cal, d, &h);
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            char a[8], b[8], text[16];
            hhmm(h[i].start, a, sizeof a);
            hhmm(h[i].end, b, sizeof b);
            snprintf(text, sizeof text, "%s-%s", a, b);
            json_array_append_new(list, json_string(text));
        }
        json_object_set_new(hours, wday[d], list);
    }
    return hours;
}

static void print_weekly(crm_cli *cli, json_t *hours)
{
    fprintf(cli->out, "hours\n");
    for (int d = 0; d < 7; d++) {
        json_t *list = json_object_get(hours, wday[d]), *v;
        size_t i;
        fprintf(cli->out, "  %s ", wday[d]);
        json_array_foreach(list, i, v)
            fprintf(cli->out, " %s", json_string_value(v));
        fprintf(cli->out, "%s\n", json_array_size(list) ? "" : " closed");
    }
}

/* A wall-clock endpoint of an interval of local day `day`: "HH:MM", "24:00"
 * for the next midnight, with its offset when it is not the day's. */
static void endpoint(const crm_calendar *cal, int64_t t, const crm_calendar_day *day,
                     int32_t day_off, char *buf, size_t size)
{
    crm_local_time lt;
    crm_calendar_local(cal, t, &lt);
    bool next = lt.day != day->day;
    snprintf(buf, size, "%02d:%02d", next ? 24 : lt.hour, lt.minute);
    if (lt.utc_offset != day_off)
        offset_text(lt.utc_offset, buf + strlen(buf), size - strlen(buf));
}

static json_t *day_json(const crm_calendar *cal, const crm_calendar_day *d)
{
    char date[16], off[8], s_iso[40], e_iso[40];
    int64_t midnight = crm_calendar_from_local(cal, d->year, d->month, d->day, 0, 0, 0);
    crm_local_time lt;
    crm_calendar_local(cal, midnight, &lt);
    snprintf(date, sizeof date, "%04d-%02d-%02d", d->year, d->month, d->day);
    offset_text(lt.utc_offset, off, sizeof off);
    json_t *open = json_array();
    int64_t total = 0;
    for (size_t i = 0; i < d->n_open; i++) {
        total += d->open[i].end - d->open[i].start;
        crm_calendar_format(cal, d->open[i].start, s_iso, sizeof s_iso);
        crm_calendar_format(cal, d->open[i].end, e_iso, sizeof e_iso);
        char a[16], b[16], local[40];
        endpoint(cal, d->open[i].start, d, lt.utc_offset, a, sizeof a);
        endpoint(cal, d->open[i].end, d, lt.utc_offset, b, sizeof b);
        snprintf(local, sizeof local, "%s-%s", a, b);
        json_array_append_new(open, json_pack("{sIsIssssss}", "start",
                                              (json_int_t)d->open[i].start, "end",
                                              (json_int_t)d->open[i].end, "start_iso", s_iso,
                                              "end_iso", e_iso, "local", local));
    }
    return json_pack("{sssssssososI}", "date", date, "weekday", wday[d->weekday], "utc_offset",
                     off, "closed", d->closed ? json_string(d->closed) : json_null(), "open",
                     open, "open_seconds", (json_int_t)total);
}

static void print_day(crm_cli *cli, json_t *day)
{
    fprintf(cli->out, "  %s %s  %s ", crm_cli_str(day, "date"), crm_cli_str(day, "weekday"),
            crm_cli_str(day, "utc_offset"));
    json_t *open = json_object_get(day, "open"), *iv;
    size_t i;
    json_array_foreach(open, i, iv)
        fprintf(cli->out, " %s", json_string_value(json_object_get(iv, "local")));
    const char *closed = json_string_value(json_object_get(day, "closed"));
    json_int_t secs = json_integer_value(json_object_get(day, "open_seconds"));
    if (closed)
        fprintf(cli->out, " closed (%s)", closed);
    else if (!json_array_size(open))
        fprintf(cli->out, " closed");
    else {
        crm_duration d = {CRM_DUR_OPEN, secs};
        char text[32];
        crm_duration_format(&d, text, sizeof text);
        fprintf(cli->out, "  (%s)", text);
    }
    fputc('\n', cli->out);
}

static int date_opt(const crm_args *a, const char *opt, int64_t *day, crm_err *err)
{
    const char *v = crm_args_get(a, opt);
    int y, m, d;
    if (!v)
        return CRM_OK;
    if (!crm_civil_parse_date(v, &y, &m, &d))
        return crm_err_set(err, CRM_EUSAGE, "--%s: '%s' is not a date (expected YYYY-MM-DD)",
                           opt, v);
    *day = crm_civil_days(y, m, d);
    return CRM_OK;
}

/* --from/--to as local day numbers: today and the next six days by default. */
static int show_range(crm_cli *cli, const crm_calendar *cal, const crm_args *a, int64_t *from,
                      int64_t *to, crm_err *err)
{
    crm_local_time now;
    crm_calendar_local(cal, cli->k->now, &now);
    *from = crm_civil_days(now.year, now.month, now.day);
    *to = INT64_MIN;
    int rc = date_opt(a, "from", from, err);
    if (rc == CRM_OK)
        rc = date_opt(a, "to", to, err);
    if (rc != CRM_OK)
        return rc;
    if (*to == INT64_MIN)
        *to = *from + DEFAULT_SPAN - 1;
    if (*to < *from)
        return crm_err_set(err, CRM_EUSAGE, "--to is before --from");
    if (*to - *from >= MAX_SPAN)
        return crm_err_set(err, CRM_EUSAGE, "at most %d days at a time (narrow --from/--to)",
                           MAX_SPAN);
    return CRM_OK;
}

static int collect_days(const crm_calendar *cal, int64_t from, int64_t to, json_t *days,
                        json_t *holidays, crm_err *err)
{
    for (int64_t day = from; day <= to; day++) {
        int y, m, d;
        crm_calendar_day cd;
        crm_civil_from_days(day, &y, &m, &d);
        int rc = crm_calendar_day_get(cal, y, m, d, &cd, err);
        if (rc != CRM_OK)
            return rc;
        json_t *dj = day_json(cal, &cd);
        if (cd.closed)
            json_array_append_new(holidays, json_pack("{sOss}", "date",
                                                      json_object_get(dj, "date"), "name",
                                                      cd.closed));
        json_array_append_new(days, dj);
    }
    return CRM_OK;
}

static void print_show(crm_cli *cli, json_t *doc)
{
    const char *country = json_string_value(json_object_get(doc, "country"));
    fprintf(cli->out, "calendar %s (%s), holidays: %s\n", crm_cli_str(doc, "calendar"),
            crm_cli_str(doc, "timezone"), country && *country ? country : "none");
    print_weekly(cli, json_object_get(doc, "hours"));
    json_t *list = json_object_get(doc, "holidays"), *v;
    size_t i;
    fprintf(cli->out, "closed days from %s to %s%s\n", crm_cli_str(doc, "from"),
            crm_cli_str(doc, "to"), json_array_size(list) ? "" : ": none");
    json_array_foreach(list, i, v)
        fprintf(cli->out, "  %s  %s\n", crm_cli_str(v, "date"), crm_cli_str(v, "name"));
    fprintf(cli->out, "days (wall-clock time, UTC offset at midnight)\n");
    json_array_foreach(json_object_get(doc, "days"), i, v)
        print_day(cli, v);
}

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const crm_calendar *cal;
    int64_t from, to;
    int rc = find_calendar(cli, a->n_pos ? a->pos[0] : "default", &cal, err);
    if (rc == CRM_OK)
        rc = show_range(cli, cal, a, &from, &to, err);
    if (rc != CRM_OK)
        return rc;
    char f[16], t[16];
    int y, m, d;
    crm_civil_from_days(from, &y, &m, &d);
    snprintf(f, sizeof f, "%04d-%02d-%02d", y, m, d);
    crm_civil_from_days(to, &y, &m, &d);
    snprintf(t, sizeof t, "%04d-%02d-%02d", y, m, d);
    json_t *days = json_array(), *holidays = json_array();
    rc = collect_days(cal, from, to, days, holidays, err);
    json_t *doc = json_pack("{sssssssssssososo}", "calendar", crm_calendar_name(cal), "timezone",
                            crm_calendar_timezone(cal), "country", crm_calendar_country(cal),
                            "from", f, "to", t, "hours", weekly_json(cal), "holidays", holidays,
                            "days", days);
    if (!doc)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_incref(doc));
    else if (rc == CRM_OK)
        print_show(cli, doc);
    json_decref(doc);
    return rc;
}

/* ---- add ----------------------------------------------------------------- */

static int cmd_add(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const crm_calendar *cal;
    crm_duration dur;
    int64_t from, out;
    int rc = find_calendar(cli, crm_args_get(a, "calendar") ? crm_args_get(a, "calendar")
                                                            : "default", &cal, err);
    if (rc == CRM_OK)
        rc = crm_calendar_parse_time(cal, "DATETIME", a->pos[0], cli->k->now, &from, err);
    if (rc == CRM_OK && (rc = crm_duration_parse(a->pos[1], &dur, err)) != CRM_OK)
        crm_err_prefix(err, "DURATION");
    if (rc == CRM_OK)
        rc = crm_calendar_add(cal, from, &dur, &out, err);
    if (rc != CRM_OK)
        return rc;
    char from_iso[40], at_iso[40], text[32];
    crm_calendar_format(cal, from, from_iso, sizeof from_iso);
    crm_calendar_format(cal, out, at_iso, sizeof at_iso);
    crm_duration_format(&dur, text, sizeof text);
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sssssIsssssIss}", "calendar", crm_calendar_name(cal),
                                          "timezone", crm_calendar_timezone(cal), "from",
                                          (json_int_t)from, "from_iso", from_iso, "duration",
                                          text, "at", (json_int_t)out, "at_iso", at_iso));
    else
        fprintf(cli->out, "%s\n", at_iso);
    return CRM_OK;
}

static const crm_opt show_opts[] = {
    {"from", CRM_OPT_VALUE, "DATE", "first day shown, YYYY-MM-DD in the calendar's zone "
                                    "(default: today)"},
    {"to", CRM_OPT_VALUE, "DATE", "last day shown (default: a week from --from)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt add_opts[] = {
    {"calendar", CRM_OPT_VALUE, "NAME", "a calendar of crm.yaml (default: default)"},
    {NULL, 0, NULL, NULL},
};

#define K (CRM_CMD_NEEDS_KERNEL | CRM_CMD_NO_DATA)
const crm_command crm_cli_calendar_cmds[] = {
    {"calendar", "show", cmd_show, K, 0, 1, "[NAME]",
     "a calendar's hours, its closed days and open intervals per day (--from/--to)",
     show_opts},
    {"calendar", "add", cmd_add, K, 2, 2, "DATETIME DURATION",
     "DATETIME plus DURATION in business time (2h, 90m, 3bd, 7d); DATETIME without "
     "offset is wall-clock time in the calendar's zone, or `now`", add_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* crm timers list|failed|retry, crm tick, crm run: timers and the worker. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "messages/webhook.h"
#include "table.h"
#include "time/calendar.h"
#include "time/timer.h"
#include "time/worker.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: sleeps end */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Times in locale.timezone (the default calendar's zone), ISO 8601. */
static void local_time(crm_cli *cli, sqlite3_stmt *st, int col, char *buf, size_t size)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        snprintf(buf, size, "-");
        return;
    }
    crm_calendar_format(crm_calendar_find(cli->k->cfg, NULL), sqlite3_column_int64(st, col), buf,
                        size);
}

static const crm_table_col timer_cols[] = {
    {"ID", 0, true},     {"OWNER", 20, false},  {"KEY", 32, false}, {"DUE", 0, false},
    {"STATE", 0, false}, {"TRY", 0, true},      {"LATE", 0, true},  {"ERROR", 60, false}};

static void print_timer(crm_cli *cli, crm_table *t, sqlite3_stmt *st)
{
    char due[40], next[40], fired[40];
    local_time(cli, st, 3, due, sizeof due);
    local_time(cli, st, 4, next, sizeof next);
    local_time(cli, st, 9, fired, sizeof fired);
    const char *payload = (const char *)sqlite3_column_text(st, 5);
    const char *error = (const char *)sqlite3_column_text(st, 8);
    if (cli->json) {
        json_t *p = json_loads(payload ? payload : "{}", 0, NULL);
        json_t *o = json_pack(
            "{sIsssssIsssIsssosisssI}", "id", (json_int_t)sqlite3_column_int64(st, 0), "owner",
            (const char *)sqlite3_column_text(st, 1), "key",
            (const char *)sqlite3_column_text(st, 2), "due_at",
            (json_int_t)sqlite3_column_int64(st, 3), "due_at_iso", due, "next_at",
            (json_int_t)sqlite3_column_int64(st, 4), "next_at_iso", next, "payload",
            p ? p : json_object(), "attempts", sqlite3_column_int(st, 6), "state",
            (const char *)sqlite3_column_text(st, 7), "version",
            (json_int_t)sqlite3_column_int64(st, 11));
        json_object_set_new(o, "last_error", error ? json_string(error) : json_null());
        bool fired_null = sqlite3_column_type(st, 9) == SQLITE_NULL;
        json_object_set_new(o, "fired_at",
                            fired_null ? json_null() : json_integer(sqlite3_column_int64(st, 9)));
        json_object_set_new(o, "fired_at_iso", fired_null ? json_null() : json_string(fired));
        json_object_set_new(o, "lateness", sqlite3_column_type(st, 10) == SQLITE_NULL
                                               ? json_null()
                                               : json_integer(sqlite3_column_int64(st, 10)));
        crm_cli_print_json(cli, o);
        return;
    }
    char id[24], tries[16], late[24];
    snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
    snprintf(tries, sizeof tries, "%d", sqlite3_column_int(st, 6));
    if (sqlite3_column_type(st, 10) == SQLITE_NULL)
        snprintf(late, sizeof late, "-");
    else
        snprintf(late, sizeof late, "%llds", (long long)sqlite3_column_int64(st, 10));
    const char *cells[] = {id,
                           (const char *)sqlite3_column_text(st, 1),
                           (const char *)sqlite3_column_text(st, 2),
                           due,
                           (const char *)sqlite3_column_text(st, 7),
                           tries,
                           late,
                           error};
    crm_table_row(t, cells);
}

#define TIMER_COLS                                                                           \
    "SELECT id, owner, key, due_at, next_at, payload, attempts, state, last_error, fired_at," \
    " lateness, version FROM timers"

static int list_timers(crm_cli *cli, const char *sql, const char *owner, int64_t before,
                       int64_t *count, crm_err *err)
{
    crm_table *t = NULL;
    if (!cli->json && !(t = crm_table_new(cli->out, timer_cols, 8)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    sqlite3_stmt *st = crm_store_stmt(cli->k->store, sql, err);
    if (!st) {
        crm_table_end(t, false);
        return err->code;
    }
    crm_bind_text(st, 1, owner);
    sqlite3_bind_int64(st, 2, before);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        print_timer(cli, t, st);
        (*count)++;
    }
    sqlite3_reset(st);
    crm_table_end(t, true);
    return step == SQLITE_DONE ? CRM_OK
                               : crm_store_error(cli->k->store, "cannot read timers", err);
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t before = INT64_MAX, count = 0;
    const char *b = crm_args_get(a, "due-before");
    if (b) {
        int rc = crm_calendar_parse_time(crm_calendar_find(cli->k->cfg, NULL), "--due-before", b,
                                         cli->k->now, &before, err);
        if (rc != CRM_OK)
            return rc;
    }
    const char *state = crm_args_flag(a, "all") ? NULL : "pending";
    char sql[512];
    snprintf(sql, sizeof sql,
             TIMER_COLS " WHERE (?1 IS NULL OR owner = ?1) AND due_at < ?2 %s"
                        " ORDER BY next_at, id",
             state ? "AND state <> 'done'" : "");
    int rc = list_timers(cli, sql, crm_args_get(a, "owner"), before, &count, err);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld timer%s\n", (long long)count, count == 1 ? "" : "s");
    return rc;
}

static int cmd_failed(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t count = 0;
    int rc = list_timers(cli,
                         TIMER_COLS " WHERE state = 'parked' AND (?1 IS NULL OR owner = ?1)"
                                    " AND due_at < ?2 ORDER BY id",
                         crm_args_get(a, "owner"), INT64_MAX, &count, err);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld parked timer%s%s\n", (long long)count, count == 1 ? "" : "s",
                count ? ": fix the cause, then `crm timers retry [ID]`" : "");
    return rc;
}

static void print_stats(crm_cli *cli, const char *what, const crm_worker_stats *s)
{
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sIsIsIsIsI}", "fired", (json_int_t)s->timers.fired,
                                          "failed", (json_int_t)s->timers.failed, "parked",
                                          (json_int_t)s->timers.parked, "max_lateness",
                                          (json_int_t)s->timers.max_lateness, "purged",
                                          (json_int_t)s->purged));
    else if (!cli->quiet)
        fprintf(cli->out,
                "%s: %lld timer%s fired, %lld failed (%lld parked), most late %llds, %lld done "
                "purged\n",
                what, (long long)s->timers.fired, s->timers.fired == 1 ? "" : "s",
                (long long)s->timers.failed, (long long)s->timers.parked,
                (long long)s->timers.max_lateness, (long long)s->purged);
}

static int cmd_retry(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id = 0, n = 0;
    if (a->n_pos == 1) {
        char *end;
        id = strtoll(a->pos[0], &end, 10);
        if (*end || id <= 0)
            return crm_err_set(err, CRM_EUSAGE, "timer id '%s': expected a positive integer "
                               "(see `crm timers failed`)", a->pos[0]);
    }
    int rc = crm_timer_retry(cli->k, id, cli->k->now, &n, err);
    crm_worker_stats s = {0};
    if (rc == CRM_OK)
        rc = crm_worker_pass(cli->k, cli->k->now, NULL, &s, err);
    if (rc != CRM_OK)
        return rc;
    if (!cli->json && !cli->quiet)
        fprintf(cli->out, "%lld timer%s retried\n", (long long)n, n == 1 ? "" : "s");
    print_stats(cli, "retry", &s);
    if (s.timers.failed > 0)
        return crm_err_set(err, CRM_EINVAL, "%lld retried timer%s failed again: see `crm timers "
                           "list` and `crm timers failed`", (long long)s.timers.failed,
                           s.timers.failed == 1 ? "" : "s");
    return CRM_OK;
}

static int cmd_tick(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    catch_signals();
    crm_worker_stats s = {0};
    int rc = crm_webhooks_check_secrets(cli->k, err); /* before anything is sent */
    if (rc == CRM_OK)
        rc = crm_worker_pass(cli->k, cli->k->now, &stop_flag, &s, err);
    if (rc == CRM_OK)
        print_stats(cli, "tick", &s);
    return rc;
}

static int cmd_run(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    catch_signals();
    crm_worker_stats s = {0};
    int rc = crm_webhooks_check_secrets(cli->k, err);
    if (rc == CRM_OK)
        rc = crm_worker_run(cli->k, &stop_flag, &s, err);
    if (rc == CRM_OK && !cli->quiet && !cli->json)
        fprintf(stderr, "crm run: stopped after %lld pass%s, %lld timer%s fired\n",
                (long long)s.passes, s.passes == 1 ? "" : "es", (long long)s.timers.fired,
                s.timers.fired == 1 ? "" : "s");
    return rc;
}

static const crm_opt list_opts[] = {
    {"owner", CRM_OPT_VALUE, "P", "only timers of this owner (kernel, a plugin, lua:RULE)"},
    {"due-before", CRM_OPT_VALUE, "T", "only timers due before T (ISO 8601; no offset: "
                                       "locale.timezone)"},
    {"all", CRM_OPT_FLAG, NULL, "include fired timers (state done)"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt failed_opts[] = {
    {"owner", CRM_OPT_VALUE, "P", "only timers of this owner"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_timer_cmds[] = {
    {"timers", "list", cmd_list, K, 0, 0, NULL,
     "pending and parked timers in due order: owner, key, due, attempts, lateness", list_opts},
    {"timers", "failed", cmd_failed, K, 0, 0, NULL, "parked timers with their last error",
     failed_opts},
    {"timers", "retry", cmd_retry, K | CRM_CMD_WRITES, 0, 1, "[ID]",
     "make a parked timer (or all) due now and fire it", no_opts},
    {"tick", NULL, cmd_tick, K | CRM_CMD_WRITES, 0, 0, NULL,
     "one pass at --as-of (default now): deliver events, fire due timers, exit", no_opts},
    {"run", NULL, cmd_run, K | CRM_CMD_WRITES, 0, 0, NULL,
     "the worker: deliver events and fire timers as they come until SIGTERM/SIGINT",
     no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* crm events tail|failed|retry|replay: the operator's view of the bus. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "cli.h"
#include "cli_util.h"
#include "table.h"
#include "hygiene.h"

#define FOLLOW_POLL_NS 200000000L

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The bus, opened here when the kernel did not (it creates the bus tables);
 * *opened tells the caller to close it. */
static int ensure_bus(crm_cli *cli, bool *opened, crm_err *err)
{
    *opened = cli->k->bus == NULL;
    return *opened ? crm_bus_open(cli->k, err) : CRM_OK;
}

static json_t *event_json(sqlite3_stmt *st)
{
    char when[32];
    crm_format_datetime(sqlite3_column_int64(st, 5), when, sizeof when);
    const char *payload = (const char *)sqlite3_column_text(st, 2);
    json_t *p = json_loads(payload ? payload : "null", JSON_DECODE_ANY, NULL);
    return json_pack("{sIsssosssiss}", "id", (json_int_t)sqlite3_column_int64(st, 0), "type",
                     (const char *)sqlite3_column_text(st, 1), "payload",
                     p ? p : json_string(payload ? payload : ""), "source",
                     (const char *)sqlite3_column_text(st, 3), "depth",
                     sqlite3_column_int(st, 4), "created_at", when);
}

static void print_event(crm_cli *cli, sqlite3_stmt *st)
{
    if (cli->json) {
        crm_cli_print_json(cli, event_json(st));
        return;
    }
    char when[CRM_CLI_TIME_SIZE];
    crm_cli_time(cli, sqlite3_column_int64(st, 5), when, sizeof when);
    fprintf(cli->out, "%-7lld %-25s %-24s %-16s %d %s\n", (long long)sqlite3_column_int64(st, 0),
            when, (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 3), sqlite3_column_int(st, 4),
            (const char *)sqlite3_column_text(st, 2));
}

/* Events matching `pattern` (GLOB: the accepted patterns mean the same
 * there) with id > after; the last `limit` of them (0 = all), oldest first.
 * *last gets the highest id printed. */
static int print_events(crm_cli *cli, const char *pattern, int64_t after, int64_t limit,
                        int64_t *last, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        cli->k->store,
        "SELECT * FROM (SELECT id, type, payload, source, depth, created_at FROM events"
        " WHERE id > ?1 AND type GLOB ?2 ORDER BY id DESC LIMIT ?3) ORDER BY id",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_text(st, 2, pattern, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        print_event(cli, st);
        *last = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    fflush(cli->out);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(cli->k->store, "cannot read events", err);
}

/* Polls for new events until SIGINT/SIGTERM, then returns CRM_OK. */
static int follow(crm_cli *cli, const char *pattern, int64_t last, crm_err *err)
{
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Events may come from other processes: seed `last` past everything
     * already there even when nothing matched. */
    int64_t max_id = last;
    sqlite3_stmt *st =
        crm_store_stmt(cli->k->store, "SELECT coalesce(max(id), 0) FROM events", err);
    if (!st)
        return err->code;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > max_id)
        max_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    int rc = CRM_OK;
    while (rc == CRM_OK && !interrupted) {
        struct timespec ts = {0, FOLLOW_POLL_NS};
        nanosleep(&ts, NULL);
        if (!interrupted)
            rc = print_events(cli, pattern, max_id, 0, &max_id, err);
    }
    return rc;
}

static int cmd_tail(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *pattern = crm_args_get(a, "type");
    int64_t limit, last = 0;
    int rc = crm_args_int(a, "limit", 20, &limit, err);
    if (rc != CRM_OK)
        return rc;
    if (limit < 0)
        return crm_err_set(err, CRM_EUSAGE, "--limit must be >= 0");
    if (!pattern)
        pattern = "*";
    if (!crm_bus_pattern_valid(pattern))
        return crm_err_set(err, CRM_EUSAGE,
                           "--type '%s': expected an event name, entity.* or *", pattern);
    if (!cli->json && !cli->quiet)
        fprintf(cli->out, "%-7s %-20s %-24s %-16s %s %s\n", "ID", "CREATED", "TYPE", "SOURCE",
                "D", "PAYLOAD");
    rc = print_events(cli, pattern, 0, limit, &last, err);
    if (rc == CRM_OK && crm_args_flag(a, "follow"))
        rc = follow(cli, pattern, last, err);
    return rc;
}

static const crm_table_col parked_cols[] = {
    {"SUBSCRIBER", 24, false}, {"EVENT", 0, true},   {"TYPE", 0, false},
    {"TRY", 0, true},          {"PARKED", 0, false}, {"ERROR", 0, false}};

static void print_parked(crm_cli *cli, crm_table *t, sqlite3_stmt *st)
{
    char when[CRM_CLI_TIME_SIZE];
    crm_format_datetime(sqlite3_column_int64(st, 4), when, sizeof when); /* --json: UTC */
    const char *type = (const char *)sqlite3_column_text(st, 2);
    if (cli->json) {
        crm_cli_print_json(cli, json_pack("{sssIsssissss}", "subscriber",
                                          (const char *)sqlite3_column_text(st, 0), "event_id",
                                          (json_int_t)sqlite3_column_int64(st, 1), "type",
                                          type ? type : "(deleted)", "attempts",
                                          sqlite3_column_int(st, 3), "parked_at", when, "error",
                                          (const char *)sqlite3_column_text(st, 5)));
        return;
    }
    char event[24], tries[16];
    crm_cli_time(cli, sqlite3_column_int64(st, 4), when, sizeof when);
    snprintf(event, sizeof event, "%lld", (long long)sqlite3_column_int64(st, 1));
    snprintf(tries, sizeof tries, "%d", sqlite3_column_int(st, 3));
    const char *cells[] = {(const char *)sqlite3_column_text(st, 0), event,
                           type ? type : "(deleted)", tries, when,
                           (const char *)sqlite3_column_text(st, 5)};
    crm_table_row(t, cells);
}

static int list_parked(crm_cli *cli, crm_table *t, int64_t *count, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        cli->k->store,
        "SELECT p.subscriber, p.event_id, e.type, p.attempts, p.parked_at, p.error"
        " FROM bus_parked p LEFT JOIN events e ON e.id = p.event_id"
        " ORDER BY p.event_id, p.subscriber",
        err);
    if (!st)
        return err->code;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        print_parked(cli, t, st);
        (*count)++;
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK
                               : crm_store_error(cli->k->store, "cannot read bus_parked", err);
}

static int cmd_failed(crm_cli *cli, const crm_args *a, crm_err *err)
{
    bool opened;
    int64_t count = 0;
    crm_table *t = NULL;
    int rc = ensure_bus(cli, &opened, err);
    if (rc == CRM_OK && !cli->json && !(t = crm_table_new(cli->out, parked_cols, 6)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        rc = list_parked(cli, t, &count, err);
    crm_table_end(t, rc == CRM_OK);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld parked event%s\n", (long long)count, count == 1 ? "" : "s");
    if (opened)
        crm_bus_close(cli->k);
    return rc;
}

static int cmd_retry(crm_cli *cli, const crm_args *a, crm_err *err)
{
    bool opened;
    int retried = 0, still = 0;
    int rc = ensure_bus(cli, &opened, err);
    if (rc == CRM_OK)
        rc = crm_bus_retry(cli->k, crm_args_get(a, "subscriber"), &retried, &still, err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sisi}", "retried", retried, "still_failing", still));
    else if (rc == CRM_OK && !cli->quiet)
        fprintf(cli->out, "%d retried, %d still failing\n", retried, still);
    if (rc == CRM_OK && still > 0)  /* scripts see it in the exit status */
        rc = crm_err_set(err, CRM_EINVAL, "%d parked event%s still failing: see `crm events "
                         "failed` (subscribers of plugins not loaded are not retried)",
                         still, still == 1 ? "" : "s");
    if (opened)
        crm_bus_close(cli->k);
    return rc;
}

static int cmd_replay(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *name = crm_args_get(a, "subscriber");
    int64_t from;
    int rc = crm_args_int(a, "from", 0, &from, err);
    if (rc != CRM_OK)
        return rc;
    if (!name || !crm_args_get(a, "from"))
        return crm_err_set(err, CRM_EUSAGE, "replay needs --subscriber NAME and --from ID");
    bool opened;
    rc = ensure_bus(cli, &opened, err);
    if (rc == CRM_OK)
        rc = crm_bus_replay(cli->k, name, from, err);
    if (rc == CRM_OK)
        rc = crm_bus_dispatch(cli->k, err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sssI}", "subscriber", name, "from", (json_int_t)from));
    else if (rc == CRM_OK && !cli->quiet)
        fprintf(cli->out, "subscriber %s replays from event %lld\n", name, (long long)from);
    if (opened)
        crm_bus_close(cli->k);
    return rc;
}

static const crm_opt tail_opts[] = {
    {"type", CRM_OPT_VALUE, "PATTERN", "event name, entity.* or * (default *)"},
    {"limit", CRM_OPT_VALUE, "N", "how many recent events (default 20, 0 = all)"},
    {"follow", CRM_OPT_FLAG, NULL, "then print new events as they come (polls; Ctrl-C stops)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt retry_opts[] = {
    {"subscriber", CRM_OPT_VALUE, "NAME", "only this subscriber's parked events"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt replay_opts[] = {
    {"subscriber", CRM_OPT_VALUE, "NAME", "durable subscriber to rewind (required)"},
    {"from", CRM_OPT_VALUE, "ID", "first event id to deliver again (required)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_event_cmds[] = {
    {"events", "tail", cmd_tail, K, 0, 0, NULL, "print recent events, optionally following",
     tail_opts},
    {"events", "failed", cmd_failed, K, 0, 0, NULL,
     "list parked events: subscriber, attempts, error", no_opts},
    {"events", "retry", cmd_retry, K | CRM_CMD_WRITES, 0, 0, NULL,
     "re-run parked events of loaded subscribers", retry_opts},
    {"events", "replay", cmd_replay, K | CRM_CMD_WRITES, 0, 0, NULL,
     "re-deliver events from an id to a durable subscriber", replay_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* crm webhook list|deliveries|replay|enable: outbound webhooks. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "messages/webhook.h"
#include "table.h"
#include "time/calendar.h"
#include "util.h"

static int need_webhooks(crm_cli *cli, crm_err *err)
{
    if (cli->k->webhooks)
        return CRM_OK;
    return crm_err_set(err, CRM_ENOTFOUND, "no webhooks: declare endpoints in crm.yaml "
                       "`webhooks:` (see the README's Webhooks section)");
}

/* ---- list -------------------------------------------------------------- */

static const crm_table_col endpoint_cols[] = {
    {"ID", 0, true},        {"NAME", 24, false},   {"URL", 40, false},
    {"STATE", 0, false},    {"PENDING", 0, true},  {"DELIVERED", 0, true},
    {"FAILED", 0, true},    {"DISABLED", 0, true}, {"EVENTS", 30, false}};


static void print_endpoint(crm_cli *cli, crm_table *t, const crm_webhook_cfg *c,
                           sqlite3_stmt *st)
{
    int64_t id = sqlite3_column_int64(st, 0), n[4];
    for (int i = 0; i < 4; i++)
        n[i] = sqlite3_column_int64(st, 2 + i);
    const char *state = (const char *)sqlite3_column_text(st, 1);
    char events[200] = "";
    crm_strlist_join(c->events, ",", events, sizeof events);
    if (cli->json) {
        json_t *o = json_pack("{sIsssssssssIsIsIsI}", "id", (json_int_t)id, "name", c->name,
                              "url", c->url, "state", state, "events", events, "pending",
                              (json_int_t)n[0], "delivered", (json_int_t)n[1], "failed",
                              (json_int_t)n[2], "disabled", (json_int_t)n[3]);
        const char *why = (const char *)sqlite3_column_text(st, 6);
        json_object_set_new(o, "disabled_reason", why ? json_string(why) : json_null());
        crm_cli_print_json(cli, o);
        return;
    }
    char cells[5][24];
    snprintf(cells[0], sizeof cells[0], "%" PRId64, id);
    for (int i = 0; i < 4; i++)
        snprintf(cells[1 + i], sizeof cells[1 + i], "%" PRId64, n[i]);
    const char *row[] = {cells[0], c->name, c->url,   state,  cells[1],
                         cells[2], cells[3], cells[4], events};
    crm_table_row(t, row);
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    int rc = need_webhooks(cli, err);
    if (rc == CRM_OK)
        rc = crm_webhooks_sync(cli->k, err); /* ids for every endpoint, used or not */
    if (rc != CRM_OK)
        return rc;
    crm_table *t = NULL;
    if (!cli->json && !(t = crm_table_new(cli->out, endpoint_cols, 9)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    sqlite3_stmt *st = crm_store_stmt(
        cli->k->store,
        "SELECT e.id, e.state,"
        " (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = e.id AND status = 'pending'),"
        " (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = e.id"
        "  AND status = 'delivered'),"
        " (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = e.id AND status = 'failed'),"
        " (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = e.id"
        "  AND status = 'disabled'),"
        " e.disabled_reason FROM webhook_endpoints e WHERE e.name = ?",
        err);
    crm_webhooks *w = cli->k->webhooks;
    for (size_t i = 0; st && rc == CRM_OK && i < w->n; i++) {
        crm_bind_text(st, 1, w->cfg[i].name);
        if (sqlite3_step(st) == SQLITE_ROW)
            print_endpoint(cli, t, &w->cfg[i], st);
        else
            rc = crm_store_error(cli->k->store, "cannot read webhook endpoints", err);
        sqlite3_reset(st);
    }
    crm_table_end(t, true);
    return st ? rc : err->code;
}

/* ---- deliveries -------------------------------------------------------- */

static const crm_table_col delivery_cols[] = {
    {"ID", 0, true},      {"ENDPOINT", 0, true}, {"EVENT", 0, true},     {"TYPE", 24, false},
    {"STATUS", 0, false}, {"TRY", 0, true},      {"HTTP", 0, true},      {"NEXT", 0, false},
    {"WEBHOOK-ID", 0, false}, {"RESPONSE", 40, false}};

static void print_delivery(crm_cli *cli, crm_table *t, sqlite3_stmt *st)
{
    const char *text[10];
    for (int i = 0; i < 10; i++)
        text[i] = (const char *)sqlite3_column_text(st, i);
    if (cli->json) {
        json_t *o = json_pack("{sIsIsIsssssisssI}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                              "endpoint_id", (json_int_t)sqlite3_column_int64(st, 1), "event_id",
                              (json_int_t)sqlite3_column_int64(st, 2), "event_type", text[3],
                              "status", text[4], "attempts", sqlite3_column_int(st, 5),
                              "webhook_id", text[8], "queued_at",
                              (json_int_t)sqlite3_column_int64(st, 10));
        const char *nullable[] = {"last_status", "next_attempt_at", "delivered_at",
                                  "last_attempt_at"};
        const int cols[] = {6, 7, 11, 12};
        for (int i = 0; i < 4; i++)
            json_object_set_new(o, nullable[i],
                                sqlite3_column_type(st, cols[i]) == SQLITE_NULL
                                    ? json_null()
                                    : json_integer(sqlite3_column_int64(st, cols[i])));
        json_object_set_new(o, "last_response", text[9] ? json_string(text[9]) : json_null());
        crm_cli_print_json(cli, o);
        return;
    }
    char next[40] = "-";
    if (sqlite3_column_type(st, 7) != SQLITE_NULL && strcmp(text[4], "pending") == 0)
        crm_calendar_format(crm_calendar_find(cli->k->cfg, NULL), sqlite3_column_int64(st, 7),
                            next, sizeof next);
    const char *row[] = {text[0], text[1], text[2], text[3], text[4],
                         text[5], text[6] ? text[6] : "-", next, text[8],
                         text[9] ? text[9] : ""};
    crm_table_row(t, row);
}

static int cmd_deliveries(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t endpoint = 0, count = 0;
    int rc = need_webhooks(cli, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "endpoint", 0, &endpoint, err);
    if (rc != CRM_OK)
        return rc;
    crm_table *t = NULL;
    if (!cli->json && !(t = crm_table_new(cli->out, delivery_cols, 10)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    sqlite3_stmt *st = crm_store_stmt(
        cli->k->store,
        "SELECT id, endpoint_id, event_id, event_type, status, attempts, last_status,"
        " next_attempt_at, webhook_id, last_response, queued_at, delivered_at, last_attempt_at"
        " FROM webhook_deliveries WHERE (?1 = 0 OR status = 'failed')"
        " AND (?2 = 0 OR endpoint_id = ?2) ORDER BY id",
        err);
    if (!st) {
        crm_table_end(t, false);
        return err->code;
    }
    sqlite3_bind_int(st, 1, crm_args_flag(a, "failed"));
    sqlite3_bind_int64(st, 2, endpoint);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        print_delivery(cli, t, st);
        count++;
    }
    sqlite3_reset(st);
    crm_table_end(t, true);
    if (step != SQLITE_DONE)
        return crm_store_error(cli->k->store, "cannot read webhook deliveries", err);
    if (!cli->json && !cli->quiet)
        fprintf(stderr, "%" PRId64 " deliver%s%s\n", count, count == 1 ? "y" : "ies",
                crm_args_flag(a, "failed") && count
                    ? ": fix the receiver, then `crm webhook replay --from EVENT_ID`"
                    : "");
    return CRM_OK;
}

/* ---- replay, enable ---------------------------------------------------- */

static int parse_id(const char *what, const char *s, int64_t *out, crm_err *err)
{
    char *end;
    *out = strtoll(s, &end, 10);
    if (*end || *out <= 0)
        return crm_err_set(err, CRM_EUSAGE, "%s '%s': expected a positive integer", what, s);
    return CRM_OK;
}

static int cmd_replay(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t from = 0, endpoint = 0, n = 0;
    const char *f = crm_args_get(a, "from");
    int rc = need_webhooks(cli, err);
    if (rc == CRM_OK && !f)
        rc = crm_err_set(err, CRM_EUSAGE, "crm webhook replay: --from EVENT_ID is required "
                         "(see `crm events list`)");
    if (rc == CRM_OK)
        rc = parse_id("--from", f, &from, err);
    if (rc == CRM_OK && crm_args_get(a, "endpoint"))
        rc = parse_id("--endpoint", crm_args_get(a, "endpoint"), &endpoint, err);
    if (rc == CRM_OK)
        rc = crm_webhooks_replay(cli->k, from, endpoint, &n, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sI}", "queued", (json_int_t)n));
    else if (!cli->quiet)
        fprintf(cli->out, "%" PRId64 " deliver%s queued again (same webhook-id); `crm run` or "
                "`crm tick` sends them\n", n, n == 1 ? "y" : "ies");
    return CRM_OK;
}

static int cmd_enable(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id = 0, n = 0;
    int rc = need_webhooks(cli, err);
    if (rc == CRM_OK)
        rc = parse_id("endpoint", a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_webhooks_enable(cli->k, id, &n, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sIsI}", "endpoint", (json_int_t)id, "resumed",
                                          (json_int_t)n));
    else if (!cli->quiet)
        fprintf(cli->out, "endpoint %" PRId64 " enabled, %" PRId64 " deliver%s resumed\n", id, n,
                n == 1 ? "y" : "ies");
    return CRM_OK;
}

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};
static const crm_opt deliveries_opts[] = {
    {"failed", CRM_OPT_FLAG, NULL, "only dead-lettered deliveries (status failed)"},
    {"endpoint", CRM_OPT_VALUE, "N", "only deliveries to endpoint N"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt replay_opts[] = {
    {"from", CRM_OPT_VALUE, "EVENT_ID", "re-deliver events from this id on (required)"},
    {"endpoint", CRM_OPT_VALUE, "N", "only to endpoint N (default: every active one)"},
    {NULL, 0, NULL, NULL},
};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_webhook_cmds[] = {
    {"webhook", "list", cmd_list, K, 0, 0, NULL,
     "the endpoints of crm.yaml: id, state, deliveries by status", no_opts},
    {"webhook", "deliveries", cmd_deliveries, K, 0, 0, NULL,
     "deliveries in queue order: status, attempts, last HTTP status, webhook-id",
     deliveries_opts},
    {"webhook", "replay", cmd_replay, K | CRM_CMD_WRITES, 0, 0, NULL,
     "queue events again from --from EVENT_ID, with their webhook-ids", replay_opts},
    {"webhook", "enable", cmd_enable, K | CRM_CMD_WRITES, 1, 1, "N",
     "re-activate endpoint N after a 410 and resume its deliveries", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

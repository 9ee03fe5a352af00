/* Outbound webhooks: the endpoints' rows, the subscriber that queues
 * deliveries, replay and enable. Sending is webhook_deliver.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "messages/driver.h"
#include "messages/webhook.h"

#define SUBSCRIBER "kernel.webhooks"
#define TIMER_PREFIX "webhook:"

void crm_webhook_id(int64_t endpoint_id, int64_t event_id, char *buf, size_t size)
{
    snprintf(buf, size, "evt_%" PRId64 "_%" PRId64, event_id, endpoint_id);
}

int crm_webhook_schedule(crm_kernel *k, int64_t id, int64_t at, crm_err *err)
{
    char key[48];
    snprintf(key, sizeof key, TIMER_PREFIX "%" PRId64, id);
    return crm_timer_schedule(k, "kernel", key, at, NULL, NULL, err);
}

/* ---- endpoints ---------------------------------------------------------- */

/* The row of endpoint w (inserted when missing, its url kept current):
 * *id, and *disabled when a 410 disabled it. */
static int endpoint_row(crm_kernel *k, const crm_webhook_cfg *w, int64_t *id, bool *disabled,
                        crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT id, state = 'disabled', url = ?2 FROM webhook_endpoints WHERE name = ?1",
        err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, w->name);
    crm_bind_text(st, 2, w->url);
    int step = sqlite3_step(st);
    bool same_url = true;
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *disabled = sqlite3_column_int(st, 1) != 0;
        same_url = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot read webhook endpoints", err);
    if (step == SQLITE_ROW && same_url)
        return CRM_OK;
    st = crm_store_stmt(k->store,
                        step == SQLITE_ROW
                            ? "UPDATE webhook_endpoints SET url = ?2 WHERE name = ?1"
                            : "INSERT INTO webhook_endpoints(name, url, created_at)"
                              " VALUES(?1, ?2, ?3)",
                        err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, w->name);
    crm_bind_text(st, 2, w->url);
    if (step == SQLITE_DONE)
        sqlite3_bind_int64(st, 3, k->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return crm_store_error(k->store, "cannot write webhook endpoints", err);
    if (step == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(crm_store_db(k->store));
        *disabled = false;
    }
    return CRM_OK;
}

int crm_webhooks_sync(crm_kernel *k, crm_err *err)
{
    crm_webhooks *w = k->webhooks;
    if (!w)
        return CRM_OK;
    int rc = crm_kernel_begin(k, err);
    for (size_t i = 0; rc == CRM_OK && i < w->n; i++) {
        bool disabled;
        rc = endpoint_row(k, &w->cfg[i], &w->ids[i], &disabled, err);
    }
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

const crm_webhook_cfg *crm_webhooks_endpoint(crm_kernel *k, int64_t id)
{
    crm_webhooks *w = k->webhooks;
    for (size_t i = 0; w && i < w->n; i++)
        if (w->ids[i] == id)
            return &w->cfg[i];
    return NULL;
}

static bool wants(const crm_webhook_cfg *w, const char *type)
{
    for (size_t i = 0; i < w->n_events; i++)
        if (crm_bus_match(w->events[i], type))
            return true;
    return false;
}

/* ---- queueing ---------------------------------------------------------- */

/* Queues event (id, type) for endpoint_id: a new delivery is pending (due
 * now) or, on a disabled endpoint, 'disabled' until enabled. An existing
 * one is left alone unless `again`: then it is pending again, attempts
 * reset, its webhook_id kept. *queued += 1 when it is (re)scheduled. */
static int queue_one(crm_kernel *k, int64_t endpoint_id, bool disabled, int64_t event_id,
                     const char *type, bool again, int64_t *queued, crm_err *err)
{
    char wid[64];
    crm_webhook_id(endpoint_id, event_id, wid, sizeof wid);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        again ? "INSERT INTO webhook_deliveries(endpoint_id, event_id, event_type, webhook_id,"
                " status, queued_at, next_attempt_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)"
                " ON CONFLICT(endpoint_id, event_id) DO UPDATE SET status = excluded.status,"
                " attempts = 0, queued_at = excluded.queued_at,"
                " next_attempt_at = excluded.queued_at RETURNING id"
              : "INSERT INTO webhook_deliveries(endpoint_id, event_id, event_type, webhook_id,"
                " status, queued_at, next_attempt_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)"
                " ON CONFLICT(endpoint_id, event_id) DO NOTHING RETURNING id",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, endpoint_id);
    sqlite3_bind_int64(st, 2, event_id);
    crm_bind_text(st, 3, type);
    crm_bind_text(st, 4, wid);
    crm_bind_text(st, 5, disabled ? "disabled" : "pending");
    sqlite3_bind_int64(st, 6, k->now);
    int step = sqlite3_step(st);
    int64_t id = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    while (step == SQLITE_ROW)
        step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot queue a webhook delivery", err);
    if (!id || disabled)
        return CRM_OK;
    if (queued)
        (*queued)++;
    return crm_webhook_schedule(k, id, k->now, err);
}

/* The durable subscriber: runs in the transaction that moves its cursor. */
static int on_event(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    crm_webhooks *w = ud;
    for (size_t i = 0; i < w->n; i++) {
        if (!wants(&w->cfg[i], ev->type))
            continue;
        bool disabled;
        int rc = endpoint_row(k, &w->cfg[i], &w->ids[i], &disabled, err);
        if (rc == CRM_OK)
            rc = queue_one(k, w->ids[i], disabled, ev->id, ev->type, false, NULL, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- replay and enable ------------------------------------------------- */

static int find_endpoint(crm_kernel *k, int64_t id, crm_err *err)
{
    if (crm_webhooks_endpoint(k, id))
        return CRM_OK;
    return crm_err_set(err, CRM_ENOTFOUND, "webhook endpoint %" PRId64 " is not in crm.yaml's "
                       "`webhooks` (see `crm webhook list`)", id);
}

static int replay_endpoint(crm_kernel *k, size_t i, int64_t from, int64_t *n, crm_err *err)
{
    crm_webhooks *w = k->webhooks;
    bool disabled;
    int rc = endpoint_row(k, &w->cfg[i], &w->ids[i], &disabled, err);
    if (rc != CRM_OK || disabled)
        return rc;
    /* Not the cached statement: queue_one runs statements while this one steps. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(crm_store_db(k->store),
                           "SELECT id, type FROM events WHERE id >= ? ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return crm_store_error(k->store, "cannot read events", err);
    sqlite3_bind_int64(st, 1, from);
    int step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 1);
        if (wants(&w->cfg[i], type))
            rc = queue_one(k, w->ids[i], false, sqlite3_column_int64(st, 0), type, true, n, err);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot read events", err);
    sqlite3_finalize(st);
    return rc;
}

int crm_webhooks_replay(crm_kernel *k, int64_t from, int64_t endpoint, int64_t *n,
                        crm_err *err)
{
    int64_t count = 0;
    if (n)
        *n = 0;
    if (from < 1)
        return crm_err_set(err, CRM_EUSAGE, "--from: expected an event id (1 or more)");
    int rc = crm_webhooks_sync(k, err);
    if (rc == CRM_OK && endpoint)
        rc = find_endpoint(k, endpoint, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    crm_webhooks *w = k->webhooks;
    for (size_t i = 0; rc == CRM_OK && w && i < w->n; i++)
        if (!endpoint || w->ids[i] == endpoint)
            rc = replay_endpoint(k, i, from, &count, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    if (n)
        *n = count;
    return crm_kernel_commit(k, err);
}

static int resume_disabled(crm_kernel *k, int64_t id, int64_t *n, crm_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(crm_store_db(k->store),
                           "UPDATE webhook_deliveries SET status = 'pending', attempts = 0,"
                           " queued_at = ?2, next_attempt_at = ?2"
                           " WHERE endpoint_id = ?1 AND status = 'disabled' RETURNING id",
                           -1, &st, NULL) != SQLITE_OK)
        return crm_store_error(k->store, "cannot resume deliveries", err);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, k->now);
    /* RETURNING rows are computed by the first step: scheduling while
     * stepping touches only the timers table. */
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = crm_webhook_schedule(k, sqlite3_column_int64(st, 0), k->now, err);
        (*n)++;
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot resume deliveries", err);
    sqlite3_finalize(st);
    return rc;
}

int crm_webhooks_enable(crm_kernel *k, int64_t id, int64_t *n, crm_err *err)
{
    int64_t count = 0;
    if (n)
        *n = 0;
    int rc = crm_webhooks_sync(k, err);
    if (rc == CRM_OK)
        rc = find_endpoint(k, id, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "UPDATE webhook_endpoints SET state = 'active',"
                                      " disabled_at = NULL, disabled_reason = NULL WHERE id = ?",
                                      err);
    if (!st)
        rc = err->code;
    else {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot enable the endpoint", err);
        sqlite3_reset(st);
    }
    if (rc == CRM_OK)
        rc = resume_disabled(k, id, &count, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    if (n)
        *n = count;
    return crm_kernel_commit(k, err);
}

/* ---- open / close ------------------------------------------------------ */

void crm_webhooks_close(crm_kernel *k)
{
    crm_webhooks *w = k->webhooks;
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        crm_webhook_conn_free(w->conns[i]);
    free(w->conns);
    free(w->ids);
    crm_webhook_cfg_free(w->cfg, w->n);
    free(w);
    k->webhooks = NULL;
}

int crm_webhooks_open(crm_kernel *k, crm_err *err)
{
    crm_webhook_cfg *cfg = NULL;
    size_t n = 0;
    int rc = crm_webhook_config(crm_config_section(k->cfg, "webhooks"), &cfg, &n, err);
    if (rc != CRM_OK || n == 0) {
        crm_webhook_cfg_free(cfg, n);
        return rc;
    }
    crm_webhooks *w = calloc(1, sizeof *w);
    if (!w || !(w->ids = calloc(n, sizeof *w->ids)) ||
        !(w->conns = calloc(n, sizeof *w->conns))) {
        if (w)
            free(w->ids);
        free(w);
        crm_webhook_cfg_free(cfg, n);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    w->cfg = cfg;
    w->n = n;
    k->webhooks = w;
    rc = crm_bus_subscribe(k, SUBSCRIBER, "*", true, on_event, w, "kernel", err);
    if (rc == CRM_OK)
        rc = crm_timer_register_solo(k, "kernel", TIMER_PREFIX, crm_webhook_on_timer, w, err);
    if (rc != CRM_OK)
        crm_webhooks_close(k);
    return rc;
}

int crm_webhooks_check_secrets(crm_kernel *k, crm_err *err)
{
    crm_webhooks *w = k->webhooks;
    for (size_t i = 0; w && i < w->n; i++) {
        const crm_webhook_cfg *c = &w->cfg[i];
        char path[64];
        snprintf(path, sizeof path, "webhooks[%zu].secret_env", i);
        const crm_node *at = crm_node_get(c->node, "secret_env");
        const char *secret = getenv(c->secret_env);
        if (!secret || !*secret)
            return crm_node_error(at, path, err, "environment variable %s is not set (the "
                                  "endpoint's secret, whsec_ then base64)", c->secret_env);
        char sig[CRM_WEBHOOK_SIG_MAX];
        crm_err e2 = {0};
        if (crm_webhook_sign(secret, "probe", 0, "", 0, sig, &e2) != CRM_OK)
            return crm_node_error(at, path, err, "%s: %s", c->secret_env, e2.msg);
    }
    return CRM_OK;
}

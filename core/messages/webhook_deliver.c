/* Outbound webhooks: one delivery attempt, run by its "webhook:ID" timer.
 *
 * The checks run in the timer's transaction; the POST runs after it
 * committed (crm_timer_defer_io: no write lock held while the receiver
 * answers) and its outcome is written in a transaction of its own. A worker
 * killed after the POST but before that commit sends again on restart, with
 * the same webhook-id (the receiver drops the copy); each delivery's timer
 * fires alone (crm_timer_register_solo), so only the one POST in flight can
 * go twice. A failed POST is not a failed handler: the handler records it and
 * reschedules its own timer (a handler error would roll back and re-send
 * every delivery of the timer batch). */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "messages/driver.h"
#include "messages/webhook.h"

typedef struct delivery {
    int64_t id, endpoint_id, event_id, queued_at;
    int attempts;
    char status[16], name[256], webhook_id[64];
    bool endpoint_disabled, event_found;
    char *body; /* the JSON POSTed (malloc'd) */
} delivery;

/* What an outcome does to the delivery: a row of `outcomes`. */
typedef enum outcome { O_DELIVERED, O_RETRY, O_GONE, O_REJECTED } outcome;

static outcome classify(const crm_webhook_result *r, int post_rc)
{
    if (post_rc != CRM_OK || r->transient)
        return O_RETRY;
    if (r->status >= 200 && r->status < 300)
        return O_DELIVERED;
    if (r->status == 410)
        return O_GONE;
    return O_REJECTED; /* other 4xx, and 1xx/3xx we do not follow: dead letter */
}

/* {"type", "timestamp" (RFC 3339 UTC), "event_id", "data": the payload}:
 * the Standard Webhooks payload shape. */
static char *build_body(int64_t event_id, const char *type, const char *payload,
                        int64_t created_at)
{
    char ts[32];
    time_t t = (time_t)created_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *data = json_loads(payload ? payload : "{}", 0, NULL);
    json_t *o = json_pack("{sssssIso}", "type", type, "timestamp", ts, "event_id",
                          (json_int_t)event_id, "data", data ? data : json_object());
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

static int load(crm_kernel *k, int64_t id, delivery *d, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT d.endpoint_id, d.event_id, d.webhook_id, d.status, d.attempts, d.queued_at,"
        " e.name, e.state = 'disabled', ev.id IS NOT NULL, d.event_type, ev.payload,"
        " ev.created_at FROM webhook_deliveries d"
        " JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " LEFT JOIN events ev ON ev.id = d.event_id WHERE d.id = ?",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = CRM_OK;
    if (step == SQLITE_ROW) {
        d->id = id;
        d->endpoint_id = sqlite3_column_int64(st, 0);
        d->event_id = sqlite3_column_int64(st, 1);
        snprintf(d->webhook_id, sizeof d->webhook_id, "%s", sqlite3_column_text(st, 2));
        snprintf(d->status, sizeof d->status, "%s", sqlite3_column_text(st, 3));
        d->attempts = sqlite3_column_int(st, 4);
        d->queued_at = sqlite3_column_int64(st, 5);
        snprintf(d->name, sizeof d->name, "%s", sqlite3_column_text(st, 6));
        d->endpoint_disabled = sqlite3_column_int(st, 7) != 0;
        d->event_found = sqlite3_column_int(st, 8) != 0;
        if (d->event_found &&
            !(d->body = build_body(d->event_id, (const char *)sqlite3_column_text(st, 9),
                                   (const char *)sqlite3_column_text(st, 10),
                                   sqlite3_column_int64(st, 11))))
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    } else if (step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot read the webhook delivery", err);
    sqlite3_reset(st);
    return rc;
}

/* Seconds before attempt number `attempts` + 1 (attempts >= 1 made). */
static int64_t backoff(int attempts)
{
    int64_t s = CRM_WEBHOOK_BACKOFF;
    for (int i = 1; i < attempts && s < CRM_WEBHOOK_BACKOFF_MAX; i++)
        s *= 2;
    return s < CRM_WEBHOOK_BACKOFF_MAX ? s : CRM_WEBHOOK_BACKOFF_MAX;
}

/* Runs sql with ?1 = a, ?2 = b, ?3 = c (those it has). */
static int exec_bound(crm_kernel *k, const char *sql, int64_t a, int64_t b, const char *c,
                      crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    int n = sqlite3_bind_parameter_count(st);
    sqlite3_bind_int64(st, 1, a);
    if (n >= 2)
        sqlite3_bind_int64(st, 2, b);
    if (n >= 3)
        crm_bind_text(st, 3, c);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK
                               : crm_store_error(k->store, "cannot record a webhook delivery", err);
}

/* A 410: the receiver says the endpoint is gone. Stop it and everything
 * queued for it until `crm webhook enable`. */
static int disable_endpoint(crm_kernel *k, const delivery *d, int64_t now, const char *why,
                            crm_err *err)
{
    int rc = exec_bound(k, "UPDATE webhook_endpoints SET state = 'disabled', disabled_at = ?2,"
                           " disabled_reason = ?3 WHERE id = ?1",
                        d->endpoint_id, now, why, err);
    if (rc == CRM_OK)
        rc = exec_bound(k, "UPDATE webhook_deliveries SET status = 'disabled'"
                           " WHERE endpoint_id = ?1 AND status = 'pending'",
                        d->endpoint_id, 0, NULL, err);
    return rc;
}

/* Writes the attempt's outcome: status, counters, the peer's answer. */
static int record(crm_kernel *k, const delivery *d, const char *status, int64_t now,
                  int64_t next, const crm_webhook_result *r, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE webhook_deliveries SET status = ?2, attempts = attempts + 1,"
        " last_attempt_at = ?3, next_attempt_at = ?4,"
        " delivered_at = CASE WHEN ?2 = 'delivered' THEN ?3 END,"
        " last_status = ?5, last_response = ?6 WHERE id = ?1",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, d->id);
    crm_bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, now);
    next ? sqlite3_bind_int64(st, 4, next) : sqlite3_bind_null(st, 4);
    r->status ? sqlite3_bind_int64(st, 5, r->status) : sqlite3_bind_null(st, 5);
    crm_bind_text(st, 6, r->response);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK
                               : crm_store_error(k->store, "cannot record a webhook delivery", err);
}

static int apply(crm_kernel *k, const delivery *d, outcome o, int64_t now,
                 const crm_webhook_result *r, crm_err *err)
{
    switch (o) {
    case O_DELIVERED:
        return record(k, d, "delivered", now, 0, r, err);
    case O_REJECTED:
        return record(k, d, "failed", now, 0, r, err);
    case O_GONE: {
        int rc = record(k, d, "disabled", now, 0, r, err);
        return rc == CRM_OK ? disable_endpoint(k, d, now, r->response, err) : rc;
    }
    case O_RETRY:
        break;
    }
    int64_t next = now + backoff(d->attempts + 1);
    if (next > d->queued_at + CRM_WEBHOOK_GIVE_UP)
        return record(k, d, "failed", now, 0, r, err); /* 24 h of retries are over */
    int rc = record(k, d, "pending", now, next, r, err);
    return rc == CRM_OK ? crm_webhook_schedule(k, d->id, next, err) : rc;
}

/* The configured endpoint of d, or NULL when crm.yaml dropped it. */
static const crm_webhook_cfg *endpoint_of(const crm_webhooks *w, const delivery *d, size_t *i)
{
    for (*i = 0; *i < w->n; (*i)++)
        if (strcmp(w->cfg[*i].name, d->name) == 0)
            return &w->cfg[*i];
    return NULL;
}

/* One POST handed to crm_timer_defer_io: it runs after the timer's
 * transaction committed (no write lock held while the receiver answers),
 * and its outcome is written in a transaction of its own. */
typedef struct post_job {
    crm_webhooks *w;
    size_t endpoint;
    delivery d;
    char *secret;
    int64_t at;
    int prc;
    crm_webhook_result r;
} post_job;

static void job_post(crm_kernel *k, void *ud)
{
    (void)k;
    post_job *j = ud;
    const crm_webhook_cfg *c = &j->w->cfg[j->endpoint];
    crm_err perr = {0};
    /* The signed timestamp is the wall clock of the send, not --as-of: a
     * receiver refuses signatures more than a few minutes old. */
    j->prc = crm_webhook_post(&j->w->conns[j->endpoint], c->url, c->timeout_ms, j->secret,
                              j->d.webhook_id, (int64_t)time(NULL), j->d.body, &j->r, &perr);
    if (j->prc != CRM_OK && j->prc != CRM_EIO)
        snprintf(j->r.response, sizeof j->r.response, "%s", perr.msg);
}

static int job_record(crm_kernel *k, void *ud, crm_err *err)
{
    post_job *j = ud;
    delivery cur = {0};
    int rc = load(k, j->d.id, &cur, err);
    /* disabled, erased or retried while it was POSTed: nothing of ours to write */
    bool ours = rc == CRM_OK && cur.id && strcmp(cur.status, "pending") == 0 &&
                cur.attempts == j->d.attempts;
    free(cur.body);
    if (!ours)
        return rc;
    outcome o = j->prc == CRM_OK || j->prc == CRM_EIO ? classify(&j->r, j->prc) : O_RETRY;
    return apply(k, &j->d, o, j->at, &j->r, err);
}

static void job_free(void *ud)
{
    post_job *j = ud;
    free(j->d.body);
    free(j->secret);
    free(j);
}

/* Hands the POST on; d's body moves into the job. */
static int claim_post(crm_kernel *k, const crm_timer *t, crm_webhooks *w, size_t endpoint,
                      delivery *d, const char *secret, crm_err *err)
{
    post_job *j = calloc(1, sizeof *j);
    char *sec = strdup(secret);
    if (!j || !sec) {
        free(j);
        free(sec);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    *j = (post_job){.w = w, .endpoint = endpoint, .d = *d, .secret = sec, .at = t->fired_at};
    d->body = NULL;
    crm_timer_io io = {job_post, job_record, job_free, j};
    return crm_timer_defer_io(k, t, CRM_WEBHOOK_CLAIM_LEASE, &io, err);
}

static int attempt(crm_kernel *k, const crm_timer *t, crm_webhooks *w, delivery *d,
                   crm_err *err)
{
    crm_webhook_result r = {0};
    size_t i;
    const crm_webhook_cfg *c = endpoint_of(w, d, &i);
    if (!c) {
        snprintf(r.response, sizeof r.response, "endpoint '%s' is no longer in crm.yaml",
                 d->name);
        return record(k, d, "failed", t->fired_at, 0, &r, err);
    }
    if (!d->event_found) {
        snprintf(r.response, sizeof r.response, "event %" PRId64 " is gone (erased)",
                 d->event_id);
        return record(k, d, "failed", t->fired_at, 0, &r, err);
    }
    const char *secret = getenv(c->secret_env);
    if (!secret || !*secret)
        return crm_err_set(err, CRM_ECONFIG, "webhook %s: environment variable %s is not set",
                           c->name, c->secret_env);
    return claim_post(k, t, w, i, d, secret, err);
}

int crm_webhook_on_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    crm_webhooks *w = ud;
    char *end;
    int64_t id = strtoll(t->key + strlen("webhook:"), &end, 10);
    if (*end || id <= 0)
        return CRM_OK; /* not ours to read: nothing to deliver */
    delivery d = {0};
    int rc = load(k, id, &d, err);
    if (rc == CRM_OK && d.id && strcmp(d.status, "pending") == 0) {
        if (d.endpoint_disabled)
            rc = exec_bound(k, "UPDATE webhook_deliveries SET status = 'disabled'"
                               " WHERE id = ?1",
                            d.id, 0, NULL, err);
        else
            rc = attempt(k, t, w, &d, err);
    }
    free(d.body);
    return rc;
}

/* Outbound webhooks: committed events POSTed to other systems, signed.
 *
 * crm.yaml `webhooks:` lists endpoints ({url, events, secret_env, timeout,
 * name}). A durable bus subscriber ("kernel.webhooks") turns each matching
 * event into one row of webhook_deliveries per endpoint, in the transaction
 * that moves its cursor, and schedules a kernel timer "webhook:ID" for it.
 * The worker fires the timer: the event is POSTed as JSON with the Standard
 * Webhooks headers (webhook-id stable per endpoint and event, so a retry or
 * a crash's re-send carries the same id), and the outcome is recorded in
 * the timer's transaction:
 *   2xx            delivered
 *   408/429/5xx, timeouts, connection errors
 *                  retried with exponential backoff until 24 h after the
 *                  event, then failed
 *   410            the endpoint is disabled; its pending deliveries become
 *                  'disabled' (crm webhook enable resumes them)
 *   other 4xx      failed at once (dead letter; crm webhook replay)
 * Delivery is at least once: a worker killed before the timer's commit
 * re-sends, with the same webhook-id. */
#ifndef CRM_CORE_MESSAGES_WEBHOOK_H
#define CRM_CORE_MESSAGES_WEBHOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "kernel.h"
#include "time/timer.h"

/* The first retry comes this many seconds after a failure; each later one
 * waits twice as long, at most CRM_WEBHOOK_BACKOFF_MAX; no attempt starts
 * later than CRM_WEBHOOK_GIVE_UP seconds after the event. */
#define CRM_WEBHOOK_BACKOFF 30
#define CRM_WEBHOOK_BACKOFF_MAX (4 * 3600)
#define CRM_WEBHOOK_GIVE_UP (24 * 3600)
/* How long a claimed POST may take before another process may send it
 * again (a process that died gives its claims back at once). */
#define CRM_WEBHOOK_CLAIM_LEASE 600

/* One endpoint as crm.yaml declares it. Strings point into the config tree
 * (valid while the configuration lives). */
typedef struct crm_webhook_cfg {
    const char *name;       /* `name`, default the URL: the endpoint's identity */
    const char *url;
    const char **events;    /* patterns, NULL-terminated ("order.*", "deal.won") */
    size_t n_events;
    const char *secret_env; /* environment variable holding "whsec_..." */
    long timeout_ms;        /* default 10 s */
    const crm_node *node;   /* the list item, for positioned errors */
} crm_webhook_cfg;

/* Reads crm.yaml `webhooks` (node n, NULL or empty: none). With out NULL only
 * checks: a list of maps, known keys (the nearest suggested), url http(s)
 * with a host, events a non-empty list of valid patterns, secret_env a
 * variable name, distinct names; every error "FILE:LINE:COL: webhooks[I].KEY:
 * ..." (CRM_ECONFIG). With out set, also fills *out (malloc'd array, *n
 * items; free with crm_webhook_cfg_free). Reads no environment. */
int crm_webhook_config(const crm_node *n, crm_webhook_cfg **out, size_t *n_out, crm_err *err);

/* Frees what crm_webhook_config allocated (NULL-safe). */
void crm_webhook_cfg_free(crm_webhook_cfg *v, size_t n);

/* Attaches webhooks to k when crm.yaml declares some: parses the section,
 * subscribes "kernel.webhooks" (durable, from its cursor) and registers the
 * "webhook:" timers. Reads no environment (a command that only queues
 * deliveries needs no secret). CRM_OK and nothing done without `webhooks`. */
int crm_webhooks_open(crm_kernel *k, crm_err *err);

/* Frees k->webhooks (NULL-safe); crm_kernel_close calls it. */
void crm_webhooks_close(crm_kernel *k);

/* For processes that deliver (crm run, crm tick): every endpoint's
 * secret_env is set and holds a valid "whsec_" secret, else CRM_ECONFIG
 * positioned at that endpoint's secret_env. CRM_OK without webhooks. */
int crm_webhooks_check_secrets(crm_kernel *k, crm_err *err);

/* The endpoints of crm.yaml, as rows of webhook_endpoints (inserted when
 * missing, url updated), in the current transaction or its own. Ids are
 * stable: an endpoint keeps its number while its name stays. */
int crm_webhooks_sync(crm_kernel *k, crm_err *err);

/* The configured endpoint of that id, or NULL (not configured any more). */
const crm_webhook_cfg *crm_webhooks_endpoint(crm_kernel *k, int64_t id);

/* Puts events from `from` on (id order, up to the last committed) back in
 * the queue of endpoint `endpoint` (0: every active one): a delivery that
 * exists is made pending again, attempts reset, due now, with its webhook-id
 * kept; a matching event without one gets one. *n (may be NULL) = how many.
 * In the current transaction or its own. CRM_ENOTFOUND for an endpoint id
 * not configured; CRM_EUSAGE when from < 1. */
int crm_webhooks_replay(crm_kernel *k, int64_t from, int64_t endpoint, int64_t *n,
                        crm_err *err);

/* Makes endpoint `id` active again after a 410 and its 'disabled'
 * deliveries pending, due now. *n (may be NULL) = deliveries resumed.
 * CRM_ENOTFOUND for an id not configured. */
int crm_webhooks_enable(crm_kernel *k, int64_t id, int64_t *n, crm_err *err);

/* ---- inside the subsystem --------------------------------------------- */

/* The state k->webhooks points to. */
typedef struct crm_webhooks {
    crm_webhook_cfg *cfg;
    size_t n;
    int64_t *ids;        /* webhook_endpoints.id of cfg[i], 0 until synced */
    struct crm_webhook_conn **conns; /* one keep-alive connection per endpoint */
} crm_webhooks;

/* The webhook-id of the delivery of event `event_id` to endpoint
 * `endpoint_id`: "evt_<event>_<endpoint>" (ASCII, stable). */
void crm_webhook_id(int64_t endpoint_id, int64_t event_id, char *buf, size_t size);

/* Schedules the timer of delivery `id` at `at`. */
int crm_webhook_schedule(crm_kernel *k, int64_t id, int64_t at, crm_err *err);

/* The "webhook:" timer handler (webhook_deliver.c). */
int crm_webhook_on_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err);

/* ---- the POST (webhook_post.c) ----------------------------------------- */

typedef struct crm_webhook_conn crm_webhook_conn;

/* What one POST did. */
typedef struct crm_webhook_result {
    long status;          /* HTTP status, 0 when no response came */
    bool transient;       /* worth retrying: 408, 429, 5xx, no response */
    char response[256];   /* "STATUS start of body" or the connection error */
} crm_webhook_result;

/* POSTs body (JSON) to url with Content-Type and the three Standard Webhooks
 * headers signed with secret at `timestamp`, reusing *conn (created on
 * first use; free with crm_webhook_conn_free). Returns CRM_OK when a
 * response came (whatever its status, in res), CRM_EIO when none did
 * (res->response says why), CRM_EINVAL for a bad secret, CRM_ENOMEM. */
int crm_webhook_post(crm_webhook_conn **conn, const char *url, long timeout_ms,
                     const char *secret, const char *webhook_id, int64_t timestamp,
                     const char *body, crm_webhook_result *res, crm_err *err);

void crm_webhook_conn_free(crm_webhook_conn *c);

#endif

/* The event bus: dispatch of committed events to subscribers.
 *
 * Events are rows of `events`, written by crm_event_emit inside the change's
 * transaction (events.h). After the outermost commit, the bus reads the
 * events committed since it last looked and hands each to the matching
 * subscribers, in subscription order (plugins in dependency order, then
 * registration order).
 *
 * - In-memory subscribers see events committed while this process runs.
 * - Durable subscribers keep a cursor (bus_cursors table): their handler's
 *   writes and the cursor advance commit in one transaction, so after a
 *   crash they resume exactly after the last event whose effect committed.
 *   On open they catch up from their cursor.
 * - A failing handler is retried (bus.max_attempts, default 3); then the
 *   event is parked for that subscriber (bus_parked table) with the error,
 *   and dispatch goes on.
 * - Handlers may emit events (cascade); depth beyond CRM_BUS_MAX_DEPTH is
 *   refused with a message naming the chain. */
#ifndef CRM_CORE_BUS_H
#define CRM_CORE_BUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

#define CRM_BUS_MAX_DEPTH 8

typedef struct crm_event {
    int64_t id;
    const char *type;       /* "order.placed" */
    const char *payload;    /* JSON text */
    json_t *json;           /* parsed payload (borrowed) */
    const char *source;     /* "kernel" or the emitting plugin */
    int depth;              /* 0 for events of a command, +1 per cascade level */
    int64_t created_at;
} crm_event;

/* A handler returns CRM_OK, or an error code with a message in err. It runs
 * inside a transaction the bus opened: its writes commit or roll back with
 * the subscriber's cursor. */
typedef int (*crm_bus_handler)(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err);

/* Attaches the bus to k (sets k->bus and the store's commit hook) and creates
 * its tables if needed. */
int crm_bus_open(crm_kernel *k, crm_err *err);

/* Detaches and frees the bus (NULL-safe on k->bus). */
void crm_bus_close(crm_kernel *k);

/* Subscribes `name` (unique: "segmentation.orders", "lua:welcome") to events
 * matching `pattern` ("order.placed", "order.*", "*"). `actor` is what
 * k->actor is set to while the handler runs (a plugin's name, for the
 * authorizer and event sources). Durable subscribers start, on first
 * subscription, at the current end of the log. */
int crm_bus_subscribe(crm_kernel *k, const char *name, const char *pattern, bool durable,
                      crm_bus_handler fn, void *ud, const char *actor, crm_err *err);

/* True when `type` matches `pattern` (exact, "entity.*" or "*"). */
bool crm_bus_match(const char *pattern, const char *type);

/* Delivers every committed event not yet seen by each subscriber; durable
 * ones from their cursor. Called by the commit hook and on open. */
int crm_bus_dispatch(crm_kernel *k, crm_err *err);

/* Re-runs parked events (all, or of one subscriber when name != NULL);
 * *retried / *still_failing receive counts. */
int crm_bus_retry(crm_kernel *k, const char *name, int *retried, int *still_failing,
                  crm_err *err);

/* Moves durable subscriber `name`'s cursor so the next dispatch re-delivers
 * events from id `from` on (replay). */
int crm_bus_replay(crm_kernel *k, const char *name, int64_t from, crm_err *err);

/* Calls fn for each subscription: name, pattern, durable, actor. */
void crm_bus_each_subscription(crm_kernel *k,
                               void (*fn)(const char *name, const char *pattern, bool durable,
                                          const char *actor, void *ud),
                               void *ud);

#endif

/* The event bus: dispatch of committed events to subscribers.
 *
 * Events are rows of `events`, written by crm_event_emit inside the change's
 * transaction (events.h). After the outermost commit, the bus reads the
 * events committed since it last looked, in chunks of up to 512, and hands
 * each chunk to the subscribers in subscription order (plugins in
 * dependency order, then registration order). Each subscriber sees its
 * events in id order; one event reaches its subscribers in subscription
 * order; across subscribers, a chunk goes to the first subscriber, then the
 * next (a later subscriber may see state the earlier one wrote for later
 * events of the chunk).
 *
 * - Delivery batches: a subscriber gets consecutive matching events in one
 *   transaction (up to 512 events, or about 0.1 s of handlers): its handler
 *   runs for each, a durable cursor moves once, one commit. The transaction
 *   is in batch mode (crm_store_begin_batch): nested begin/commit in
 *   handlers cost no savepoints. When a batch cannot commit whole (a handler
 *   failed, a nested rollback undid writes, the commit failed), it is rolled
 *   back and its events up to the failure are delivered one by one, each in
 *   its own transaction with savepoints, as below; later events batch again.
 *   After a nested rollback undid writes, that subscriber's later batches
 *   use savepoints instead of batch mode. So a handler may run more than
 *   once for an event whose effect commits once: effects outside the
 *   database must tolerate that (as with retries).
 * - In-memory subscribers see events committed while this process runs.
 * - Durable subscribers keep a cursor (bus_cursors table): their handler's
 *   writes and the cursor advance commit in one transaction, so after a
 *   crash they resume exactly after the last event whose effect committed
 *   (a batch commits whole or not at all). On open they catch up from their
 *   cursor.
 * - A failing handler is retried (CRM_BUS_MAX_ATTEMPTS attempts in all, each
 *   rolled back; a failure inside a delivery batch is the first); then the
 *   event is parked for that subscriber (bus_parked table) with the error, a
 *   durable cursor moves past it, and dispatch goes on. The other events of
 *   its batch take effect once. In-memory subscribers' failures are parked
 *   too.
 * - Handlers may emit events (cascade): they get the handled event's depth
 *   + 1 and are dispatched by the same loop, after the events before them.
 *   A delivery that emits beyond CRM_BUS_MAX_DEPTH fails (and is parked)
 *   with a message naming the chain: "cascade too deep (9, limit 8):
 *   contact.created → a.x → … → b.y; emitted by subscriber S".
 * - While a handler runs, k->actor is the subscription's actor and
 *   k->event_depth the depth its emissions get; both are restored after. */
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
    json_t *json;           /* parsed payload (borrowed; NULL if not JSON) */
    const char *source;     /* "kernel" or the emitting plugin */
    int depth;              /* 0 for events of a command, +1 per cascade level */
    int64_t created_at;
} crm_event;

/* A handler returns CRM_OK, or an error code with a message in err. It runs
 * inside a transaction the bus opened, possibly with other events of the
 * same delivery batch: its writes commit or roll back with the subscriber's
 * cursor. It may nest transactions but must leave the bus's own as it found
 * it (never commit or roll it back). It must not subscribe. */
typedef int (*crm_bus_handler)(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err);

/* Attaches the bus to k (sets k->bus and the store's commit hook) and creates
 * its tables if needed (owner "bus": bus_cursors, bus_parked). In-memory
 * subscribers will see events committed after this call. Does nothing when
 * k->bus is already set. */
int crm_bus_open(crm_kernel *k, crm_err *err);

/* True when crm_bus_open would apply a migration to k->store (or the version
 * cannot be read): the kernel then opens under one transaction. */
bool crm_bus_pending(crm_kernel *k, crm_err *err);

/* Detaches and frees the bus and sets k->bus to NULL (NULL-safe on k->bus,
 * so calling it twice is fine). Call it before the store closes. */
void crm_bus_close(crm_kernel *k);

/* Subscribes `name` (unique: "segmentation.orders", "lua:welcome") to events
 * matching `pattern` ("order.placed", "order.*", "*"). `actor` is what
 * k->actor is set to while the handler runs (a plugin's name, for the
 * authorizer and event sources). Durable subscribers start, on first
 * subscription (no bus_cursors row yet), at the current end of the log:
 * history is not delivered (crm_bus_replay backfills). A durable subscriber
 * with a cursor behind the log catches up at the next crm_bus_dispatch.
 * In-memory subscribers start after the last event dispatched.
 * CRM_EUSAGE for a bad pattern, no bus or during dispatch; CRM_EEXISTS for a
 * name already registered. */
int crm_bus_subscribe(crm_kernel *k, const char *name, const char *pattern, bool durable,
                      crm_bus_handler fn, void *ud, const char *actor, crm_err *err);
/* A durable subscriber that, on first subscription (no bus_cursors row),
 * starts before the first event: the next dispatch delivers the whole log.
 * An existing cursor is kept. Errors as crm_bus_subscribe. */
int crm_bus_subscribe_from_start(crm_kernel *k, const char *name, const char *pattern,
                                 crm_bus_handler fn, void *ud, const char *actor, crm_err *err);

/* True when `type` matches `pattern` (exact, "entity.*" or "*"). */
bool crm_bus_match(const char *pattern, const char *type);

/* Delivers every committed event not yet seen by each subscriber; durable
 * ones from their cursor. Each delivery batch is one transaction (see
 * above); the loop runs until no new event is left (cascades included). Called by the commit hook
 * and by the plugin host after start (catch-up). Does nothing (CRM_OK) when
 * the bus is not open, inside a transaction (the outermost commit will
 * dispatch) or when already dispatching (the running loop will pick the new
 * events up). Returns an error only when the bus itself cannot proceed
 * (database); handler failures are parked, not returned. */
int crm_bus_dispatch(crm_kernel *k, crm_err *err);

/* While held, commits do not dispatch: a bulk writer (import) commits its
 * batches and then calls crm_bus_dispatch once, so subscribers catch up
 * after the load, in delivery batches as large as the bus allows, instead
 * of between batches. Durable subscribers lose nothing if the process dies
 * held: they catch up from their cursors at the next open. */
void crm_bus_hold(crm_kernel *k, bool held);

/* Re-runs parked events (all, or of one subscriber when name != NULL),
 * oldest first, each with up to CRM_BUS_MAX_ATTEMPTS attempts; a success
 * removes the parked row in the handler's transaction, a failure updates its
 * attempts and error. Events of subscribers not registered in this process
 * stay parked and count as still failing. *retried / *still_failing (may be
 * NULL) receive counts. Then dispatches (cascades). CRM_ENOTFOUND when
 * `name` is not registered; CRM_EUSAGE inside a transaction or handler. */
int crm_bus_retry(crm_kernel *k, const char *name, int *retried, int *still_failing,
                  crm_err *err);

/* Moves durable subscriber `name`'s cursor so the next dispatch re-delivers
 * events from id `from` on (replay). Works for a durable subscriber not
 * registered in this process when it has a cursor row (its next run
 * replays). For a registered in-memory subscriber, moves its position in
 * this process. CRM_ENOTFOUND when neither; CRM_EUSAGE when from < 1. */
int crm_bus_replay(crm_kernel *k, const char *name, int64_t from, crm_err *err);

/* Calls fn for each subscription: name, pattern, durable, actor. */
void crm_bus_each_subscription(crm_kernel *k,
                               void (*fn)(const char *name, const char *pattern, bool durable,
                                          const char *actor, void *ud),
                               void *ud);

/* Attempts per delivery before the event is parked. */
#define CRM_BUS_MAX_ATTEMPTS 3

/* True when `pattern` is something crm_bus_subscribe accepts: "*", a valid
 * event name, or "entity.*". */
bool crm_bus_pattern_valid(const char *pattern);

/* For a long-running process (the worker): moves every in-memory
 * subscriber past the events in the log now. Call it when every event this
 * process committed was dispatched (no delivery running) and, to be exact,
 * with the write lock held (inside a transaction): the events it skips are
 * other processes', which those processes delivered to their own in-memory
 * subscribers at their commit. Durable subscribers are left alone (their
 * cursors make the worker the one that catches them up). */
int crm_bus_skip_foreign(crm_kernel *k, crm_err *err);

/* Removes subscription `name` (e.g. a plugin being stopped or refused); a
 * durable subscriber's cursor stays, so it catches up when it comes back.
 * CRM_ENOTFOUND when not registered; CRM_EUSAGE during dispatch. */
int crm_bus_unsubscribe(crm_kernel *k, const char *name, crm_err *err);

#endif

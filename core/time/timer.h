/* Durable timers: actions that fire later, exactly once in effect.
 *
 * A timer is a row of `timers`: an owner ("kernel", a plugin's name, or
 * "lua:RULE" for a Lua handler rule), a key unique per owner, the time it is
 * due, a JSON payload. Scheduling the same owner and key again moves the
 * timer (new due time and payload, attempts reset): that is how a caller
 * makes scheduling idempotent. Each owner registers one handler.
 *
 * Firing (crm_timer_fire_due): due pending timers whose owner has a handler
 * run in due order (then id). The handler's writes and the timer's
 * completion (state 'done', fired_at, lateness = fired_at - due_at) commit
 * in one transaction, so a crash before that commit fires the timer again on
 * the next pass and never twice after it. Timers fire in batches of up to
 * CRM_TIMER_BATCH per transaction (batch mode, as the bus does); when a
 * batch cannot commit whole (a handler failed, a nested rollback undid
 * writes) it is rolled back and its timers run one by one, each in its own
 * transaction (solo handlers always fire alone: crm_timer_register_solo).
 * A failed attempt is rolled back and counted; the timer is
 * retried after the Nth delay of crm.yaml's timers.backoff (the last one
 * repeats), and parked with its error after timers.max_attempts attempts
 * (crm_timer_retry brings it back). Done rows are kept timers.keep_done,
 * then crm_timer_purge deletes them. A handler may schedule or cancel timers, its own key included
 * (rescheduling itself makes a recurring timer: the completion then leaves
 * the new schedule alone). Timers whose owner has no handler in this process
 * (a plugin not loaded) stay pending. */
#ifndef CRM_CORE_TIME_TIMER_H
#define CRM_CORE_TIME_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

#define CRM_TIMER_BATCH 512
#define CRM_TIMER_MAX_KEY 200

/* A timer as its handler sees it (strings borrowed for the call). */
typedef struct crm_timer {
    int64_t id;
    const char *owner;
    const char *key;
    int64_t due_at;      /* as scheduled (epoch seconds, UTC) */
    int64_t fired_at;    /* the pass's clock */
    const char *payload; /* JSON text */
    int attempts;        /* failed attempts before this one */
} crm_timer;

/* Runs inside the firing transaction: returns CRM_OK (its writes and the
 * completion commit together) or an error code with a message in err (its
 * writes roll back; the attempt counts). Must leave the transaction as it
 * found it. */
typedef int (*crm_timer_handler)(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err);

/* Registers fn as the handler of `owner`'s timers in this process. CRM_EEXISTS
 * when owner already has one, CRM_EUSAGE for an empty owner or no fn. */
int crm_timer_register(crm_kernel *k, const char *owner, crm_timer_handler fn, void *ud,
                       crm_err *err);

/* Registers fn for owner's timers whose key starts with `prefix`, so several
 * kernel subsystems share owner "kernel" ("task:" keys to tasks, ...): a
 * timer goes to the registration with the longest matching prefix (""
 * matches every key). CRM_EEXISTS for an owner and prefix already taken. */
int crm_timer_register_prefix(crm_kernel *k, const char *owner, const char *prefix,
                              crm_timer_handler fn, void *ud, crm_err *err);

/* As crm_timer_register_prefix, for a handler whose effect leaves the
 * database (a message handed to an SMTP server, a webhook POSTed): each of
 * its timers fires in a transaction of its own, after the batch it was read
 * with, so a crash can undo the record of at most the one send in flight —
 * in a batch it would undo every send of the batch, and each would go out
 * again. */
int crm_timer_register_solo(crm_kernel *k, const char *owner, const char *prefix,
                            crm_timer_handler fn, void *ud, crm_err *err);

/* Network work a solo handler hands on, so the write lock is not held
 * while a server answers: `send` runs after the firing transaction commits,
 * outside any transaction and without touching the database; `record` then
 * writes its outcome in a firing transaction of its own (rescheduling or
 * cancelling the timer as it decides); `free` releases ud either way. */
typedef struct crm_timer_io {
    void (*send)(crm_kernel *k, void *ud);
    int (*record)(crm_kernel *k, void *ud, crm_err *err);
    void (*free)(void *ud);
    void *ud;
} crm_timer_io;

/* Called by a solo handler (once per firing): hands io on as above, and
 * claims timer t for it: it stays pending `lease` seconds after its firing,
 * marked with this process. If the process dies before `record` committed,
 * the next process that fires timers on this host fires it again at once
 * (another host's claim waits out the lease): a send in flight at a crash
 * goes again, the others never do. If the firing transaction rolls back,
 * io is freed without running. On error (CRM_EUSAGE outside a solo
 * handler or for a second call) io->free has run. */
int crm_timer_defer_io(crm_kernel *k, const crm_timer *t, int64_t lease, const crm_timer_io *io,
                       crm_err *err);

/* Removes owner's handlers (NULL-safe; nothing when none). */
void crm_timer_unregister(crm_kernel *k, const char *owner);

/* Schedules (or moves) timer owner/key to fire at due_at with payload (a JSON
 * object text; NULL means "{}"), in the current transaction or its own.
 * *id (may be NULL) gets the timer's id. CRM_EINVAL for a key empty or
 * longer than CRM_TIMER_MAX_KEY or a payload that is not a JSON object. */
int crm_timer_schedule(crm_kernel *k, const char *owner, const char *key, int64_t due_at,
                       const char *payload, int64_t *id, crm_err *err);

/* Cancels timer owner/key whatever its state; *found (may be NULL) tells
 * whether there was one. CRM_OK either way. */
int crm_timer_cancel(crm_kernel *k, const char *owner, const char *key, bool *found,
                     crm_err *err);

typedef struct crm_timer_stats {
    int64_t fired;     /* handlers that succeeded (completion committed) */
    int64_t failed;    /* failed attempts (rescheduled with backoff) */
    int64_t parked;    /* of which parked */
    int64_t max_lateness;
} crm_timer_stats;

/* Fires every pending timer due at `now` or before whose owner has a
 * handler, including those that handlers schedule due by `now`; stops early
 * when *stop becomes true (stop may be NULL) between transactions. Adds to
 * *stats (may be NULL). Logs one line per timer at CRM_LOG=info. Returns
 * CRM_OK, or an error when the database itself fails (handler failures are
 * counted, not returned). CRM_EUSAGE inside a transaction. */
int crm_timer_fire_due(crm_kernel *k, int64_t now, volatile const int *stop,
                       crm_timer_stats *stats, crm_err *err);

/* The earliest next attempt time of a pending timer with a handler in this
 * process; *found false when none. */
int crm_timer_next_due(crm_kernel *k, int64_t *next, bool *found, crm_err *err);

/* Makes parked timer `id` (0: every parked timer) pending again, due at `now`,
 * its attempts reset. *n (may be NULL) gets how many. CRM_ENOTFOUND when id
 * names no parked timer. */
int crm_timer_retry(crm_kernel *k, int64_t id, int64_t now, int64_t *n, crm_err *err);

/* Reads crm.yaml's `timers:` section (NULL or empty: the defaults, backoff
 * [1m, 2m, 4m, 8m], max_attempts 5, keep_done 7d) into *tc. CRM_ECONFIG
 * with FILE:LINE:COL: timers.KEY for an unknown key, a bad duration, a
 * business-day unit (timers are wall-clock), an empty or too long list. */
int crm_timer_config_load(crm_timer_config *tc, const crm_node *section, crm_err *err);

/* The delay before the next attempt of a timer that has failed `attempts`
 * times (>= 1): the attempts-th entry of tc->backoff, the last one beyond. */
int64_t crm_timer_backoff(const crm_timer_config *tc, int attempts);

/* Deletes, in its own transaction, the done timers that fired before
 * now - timers.keep_done; *n (may be NULL) gets how many. CRM_EUSAGE
 * inside a transaction. */
int crm_timer_purge(crm_kernel *k, int64_t now, int64_t *n, crm_err *err);

/* Frees the handler registry (crm_kernel_close calls it). */
void crm_timer_close(crm_kernel *k);

#endif

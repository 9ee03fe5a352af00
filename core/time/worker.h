/* The worker: `crm run` and `crm tick`.
 *
 * A pass delivers committed events to subscribers (crm_bus_dispatch, from
 * their cursors: events other processes committed included) and fires the
 * timers due at the pass's clock (crm_timer_fire_due); events handlers emit
 * are dispatched after each commit; then done timers older than
 * timers.keep_done are purged. `crm run` repeats passes, sleeping until
 * the next due timer, a change of the database (PRAGMA data_version, read at
 * most every CRM_WORKER_POLL_MS) or a signal; SIGTERM/SIGINT end the current
 * transaction's work and return. One worker per database: it holds the row
 * of `worker_lease` (pid, host, expires_at), renewed every third of its
 * length; a live lease refuses a second worker, naming the holder; an expired
 * one (a crashed worker) is taken over. */
#ifndef CRM_CORE_TIME_WORKER_H
#define CRM_CORE_TIME_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"
#include "time/timer.h"

#define CRM_WORKER_POLL_MS 200
#define CRM_WORKER_LEASE_DEFAULT 30 /* seconds; $CRM_WORKER_LEASE overrides */

typedef struct crm_worker_stats {
    crm_timer_stats timers;
    int64_t events;  /* events committed since the previous pass, dispatched by this one */
    int64_t passes;
    int64_t purged;  /* done timers deleted, older than timers.keep_done */
} crm_worker_stats;

/* One pass at clock `now` (see above). Adds to *stats (may be NULL). */
int crm_worker_pass(crm_kernel *k, int64_t now, volatile const int *stop,
                    crm_worker_stats *stats, crm_err *err);

/* Takes the worker lease for this process for `seconds` from the wall clock.
 * CRM_EEXISTS naming the holder's pid and host while another live process
 * holds it; an expired lease is taken over (the previous holder named in
 * *took_over when not NULL, "" otherwise, size 128). */
int crm_worker_lease_take(crm_kernel *k, int seconds, char *took_over, crm_err *err);

/* Renews this process's lease; CRM_EDENIED when it lost it (expired and
 * taken by another worker). */
int crm_worker_lease_renew(crm_kernel *k, int seconds, crm_err *err);

/* Gives the lease up (only when this process holds it). */
void crm_worker_lease_release(crm_kernel *k);

/* The lease length: $CRM_WORKER_LEASE seconds (1..3600) or the default. */
int crm_worker_lease_seconds(void);

/* Runs passes until *stop becomes true (set by the caller's signal handler)
 * or a database error; holds the lease meanwhile. With k->as_of_set the
 * clock stays at --as-of (tests); otherwise passes use the wall clock and
 * k->now follows it. Returns CRM_OK when stopped. */
int crm_worker_run(crm_kernel *k, volatile const int *stop, crm_worker_stats *stats,
                   crm_err *err);

#endif

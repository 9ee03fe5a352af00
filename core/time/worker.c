/* The worker (worker.h). The lease and data_version reads are cheap
 * single-row statements, so the idle loop costs a few statements every
 * CRM_WORKER_POLL_MS and nothing else. */
#include "time/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "util.h"

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
    const char *env = getenv("CRM_LOG");
    if (!env || (strcmp(env, "info") != 0 && strcmp(env, "debug") != 0))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "crm: worker: info: %s\n", msg);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int one_int(crm_kernel *k, const char *sql, int64_t *out, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK : crm_store_error(k->store, "worker query failed", err);
}

int crm_worker_pass(crm_kernel *k, int64_t now, volatile const int *stop,
                    crm_worker_stats *stats, crm_err *err)
{
    int64_t before = 0, after = 0;
    int rc = one_int(k, "SELECT coalesce(max(id), 0) FROM events", &before, err);
    /* Other commands delivered their events to their own in-memory
     * subscribers; the worker catches up durable ones only. A command
     * committing between this and the dispatch's read can still reach the
     * worker's in-memory subscribers too; firing transactions are exact
     * (crm_bus_skip_foreign under the write lock). */
    if (rc == CRM_OK)
        rc = crm_bus_skip_foreign(k, err);
    if (rc == CRM_OK)
        rc = crm_bus_dispatch(k, err);
    if (rc == CRM_OK)
        rc = crm_timer_fire_due(k, now, stop, stats ? &stats->timers : NULL, err);
    int64_t purged = 0;
    if (rc == CRM_OK)
        rc = crm_timer_purge(k, now, &purged, err);
    if (rc == CRM_OK)
        rc = one_int(k, "SELECT coalesce(max(id), 0) FROM events", &after, err);
    if (rc == CRM_OK && stats) {
        stats->passes++;
        stats->purged += purged;
        stats->events = after; /* the caller keeps the previous pass's end */
    }
    (void)before;
    return rc;
}

/* ---- the lease ---------------------------------------------------------- */

int crm_worker_lease_seconds(void)
{
    const char *env = getenv("CRM_WORKER_LEASE");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 3600)
            return (int)v;
    }
    return CRM_WORKER_LEASE_DEFAULT;
}

int crm_worker_lease_take(crm_kernel *k, int seconds, char *took_over, crm_err *err)
{
    if (took_over)
        took_over[0] = '\0';
    char me[256];
    crm_host_name(me, sizeof me);
    int64_t now = (int64_t)time(NULL);
    int rc = crm_store_begin(k->store, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT pid, host, expires_at FROM worker_lease WHERE id = 1", err);
    if (!st) {
        crm_store_rollback(k->store);
        return err ? err->code : CRM_EDB;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 0);
        char host[256];
        snprintf(host, sizeof host, "%s", (const char *)sqlite3_column_text(st, 1));
        int64_t expires = sqlite3_column_int64(st, 2);
        sqlite3_reset(st);
        bool mine = pid == (int64_t)getpid() && strcmp(host, me) == 0;
        if (!mine && expires > now && !crm_pid_gone(pid, host)) {
            crm_store_rollback(k->store);
            return crm_err_set(err, CRM_EEXISTS,
                               "another worker holds this database: pid %lld on %s (lease "
                               "renewed until %lld s from now); stop it first, or wait for "
                               "its lease to expire if it crashed",
                               (long long)pid, host, (long long)(expires - now));
        }
        if (!mine && took_over)
            snprintf(took_over, 128, "pid %lld on %s", (long long)pid, host);
    } else {
        sqlite3_reset(st);
    }
    st = crm_store_stmt(k->store,
                        "INSERT OR REPLACE INTO worker_lease(id, pid, host, started_at, "
                        "expires_at) VALUES(1, ?1, ?2, ?3, ?4)",
                        err);
    if (!st) {
        crm_store_rollback(k->store);
        return err ? err->code : CRM_EDB;
    }
    sqlite3_bind_int64(st, 1, (int64_t)getpid());
    sqlite3_bind_text(st, 2, me, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now + seconds);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = crm_store_error(k->store, "cannot take the worker lease", err);
        crm_store_rollback(k->store);
        return rc;
    }
    return crm_store_commit(k->store, err);
}

int crm_worker_lease_renew(crm_kernel *k, int seconds, crm_err *err)
{
    char me[256];
    crm_host_name(me, sizeof me);
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "UPDATE worker_lease SET expires_at = ?1 WHERE id = 1 AND pid = ?2 AND host = ?3",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, (int64_t)time(NULL) + seconds);
    sqlite3_bind_int64(st, 2, (int64_t)getpid());
    sqlite3_bind_text(st, 3, me, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot renew the worker lease", err);
    if (sqlite3_changes(crm_store_db(k->store)) == 0)
        return crm_err_set(err, CRM_EDENIED,
                           "this worker lost its lease (it expired and another worker took "
                           "it): stopping");
    return CRM_OK;
}

void crm_worker_lease_release(crm_kernel *k)
{
    char me[256];
    crm_host_name(me, sizeof me);
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "DELETE FROM worker_lease WHERE id = 1 AND pid = ?1 AND host = ?2", NULL);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, (int64_t)getpid());
    sqlite3_bind_text(st, 2, me, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
}

/* ---- the loop ------------------------------------------------------------- */

static void sleep_until(int64_t wake_ms)
{
    int64_t d = wake_ms - now_ms();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal ends it early: the loop checks stop */
}

int crm_worker_run(crm_kernel *k, volatile const int *stop, crm_worker_stats *stats,
                   crm_err *err)
{
    int secs = crm_worker_lease_seconds();
    char prev[128];
    int rc = crm_worker_lease_take(k, secs, prev, err);
    if (rc != CRM_OK)
        return rc;
    if (prev[0])
        info("took over the lease of %s (expired or gone)", prev);
    info("started, pid %d, lease %d s", (int)getpid(), secs);
    crm_worker_stats local = {0};
    if (!stats)
        stats = &local;
    int64_t renew_at = now_ms() + secs * 1000 / 3, dv = 0, next = 0, seen = 0;
    bool pass = true, due = false;
    rc = one_int(k, "SELECT coalesce(max(id), 0) FROM events", &seen, err);
    while (rc == CRM_OK && !*stop) {
        int64_t ms = now_ms();
        if (ms >= renew_at) {
            rc = crm_worker_lease_renew(k, secs, err);
            renew_at = ms + secs * 1000 / 3;
            if (rc != CRM_OK)
                break;
        }
        if (pass) {
            int64_t now = k->as_of_set ? k->now : ms / 1000;
            if (!k->as_of_set)
                k->now = now;
            int64_t fired = stats->timers.fired;
            rc = crm_worker_pass(k, now, stop, stats, err);
            if (rc == CRM_OK && stats->events > seen)
                info("events up to %lld delivered", (long long)stats->events);
            if (rc == CRM_OK && stats->timers.fired > fired)
                info("pass: %lld timer(s) fired", (long long)(stats->timers.fired - fired));
            if (rc == CRM_OK) {
                seen = stats->events;
                rc = one_int(k, "PRAGMA data_version", &dv, err);
            }
            if (rc == CRM_OK)
                rc = crm_timer_next_due(k, &next, &due, err);
            if (rc != CRM_OK)
                break;
            pass = false;
        }
        int64_t wake = ms + CRM_WORKER_POLL_MS;
        if (due && !k->as_of_set && next * 1000 < wake)
            wake = next * 1000;
        if (renew_at < wake)
            wake = renew_at;
        sleep_until(wake);
        if (*stop)
            break;
        int64_t v = dv;
        rc = one_int(k, "PRAGMA data_version", &v, err);
        if (v != dv)
            pass = true;
        if (due && !k->as_of_set && now_ms() >= next * 1000)
            pass = true;
    }
    crm_worker_lease_release(k);
    info("stopped");
    return rc;
}

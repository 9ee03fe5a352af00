/* Durable timers (timer.h). The `timers` table is kernel migration 20
 * (schema.c). `version` grows with every schedule of a key: a completion or
 * a failure only touches the row it fired, so a handler that rescheduled its
 * own key keeps the new schedule. */
#include "timer.h"

#include "bus.h"
#include "util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct timer_reg {
    char *owner;
    char *prefix; /* keys it handles: "" for all of the owner's */
    crm_timer_handler fn;
    void *ud;
    bool solo; /* fires in a transaction of its own (crm_timer_register_solo) */
} timer_reg;

typedef struct crm_timers {
    timer_reg *regs;
    size_t n, cap;
    bool in_solo;       /* a solo handler runs: it may defer its I/O */
    bool has_io;        /* it did: io runs after the firing commits */
    crm_timer_io io;
    int64_t io_version; /* the claimed schedule (record may move it) */
} crm_timers;

/* One due timer read for a pass (owned copies: the handler may write). */
typedef struct due_timer due_timer;
struct due_timer {
    int64_t id, due_at, next_at, version;
    int attempts;
    char *owner, *key, *payload;
    const timer_reg *reg;
};

static int oom(crm_err *err) { return crm_err_set(err, CRM_ENOMEM, "out of memory"); }

static bool log_info(void)
{
    const char *env = getenv("CRM_LOG");
    return env && (strcmp(env, "info") == 0 || strcmp(env, "debug") == 0);
}

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
    if (!log_info())
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "crm: timers: info: %s\n", msg);
}

/* The handler of owner's timer `key` (NULL: any registration of owner):
 * the registration with the longest prefix of key. */
static const timer_reg *find_reg(const crm_kernel *k, const char *owner, const char *key)
{
    const crm_timers *t = k->timers;
    const timer_reg *best = NULL;
    for (size_t i = 0; t && i < t->n; i++) {
        const timer_reg *r = &t->regs[i];
        if (strcmp(r->owner, owner) != 0)
            continue;
        size_t len = strlen(r->prefix);
        if (key && strncmp(key, r->prefix, len) != 0)
            continue;
        if (!best || len > strlen(best->prefix))
            best = r;
    }
    return best;
}

int crm_timer_register(crm_kernel *k, const char *owner, crm_timer_handler fn, void *ud,
                       crm_err *err)
{
    return crm_timer_register_prefix(k, owner, "", fn, ud, err);
}

static int add_reg(crm_kernel *k, const char *owner, const char *prefix, crm_timer_handler fn,
                   void *ud, bool solo, crm_err *err)
{
    if (!owner || !*owner || !fn)
        return crm_err_set(err, CRM_EUSAGE, "a timer handler needs an owner and a function");
    if (!prefix)
        prefix = "";
    const crm_timers *have = k->timers;
    for (size_t i = 0; have && i < have->n; i++)
        if (strcmp(have->regs[i].owner, owner) == 0 && strcmp(have->regs[i].prefix, prefix) == 0)
            return crm_err_set(err, CRM_EEXISTS, "timer owner '%s' already has a handler%s%s%s",
                               owner, *prefix ? " for keys '" : "", prefix, *prefix ? "*'" : "");
    if (!k->timers && !(k->timers = calloc(1, sizeof *k->timers)))
        return oom(err);
    crm_timers *t = k->timers;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        timer_reg *r = realloc(t->regs, cap * sizeof *r);
        if (!r)
            return oom(err);
        t->regs = r;
        t->cap = cap;
    }
    char *name = strdup(owner), *pre = strdup(prefix);
    if (!name || !pre) {
        free(name);
        free(pre);
        return oom(err);
    }
    t->regs[t->n++] = (timer_reg){name, pre, fn, ud, solo};
    return CRM_OK;
}

int crm_timer_register_prefix(crm_kernel *k, const char *owner, const char *prefix,
                              crm_timer_handler fn, void *ud, crm_err *err)
{
    return add_reg(k, owner, prefix, fn, ud, false, err);
}

int crm_timer_register_solo(crm_kernel *k, const char *owner, const char *prefix,
                            crm_timer_handler fn, void *ud, crm_err *err)
{
    return add_reg(k, owner, prefix, fn, ud, true, err);
}

void crm_timer_unregister(crm_kernel *k, const char *owner)
{
    crm_timers *t = k->timers;
    for (size_t i = 0; t && owner && i < t->n;)
        if (strcmp(t->regs[i].owner, owner) == 0) {
            free(t->regs[i].owner);
            free(t->regs[i].prefix);
            memmove(&t->regs[i], &t->regs[i + 1], (t->n - i - 1) * sizeof *t->regs);
            t->n--;
        } else {
            i++;
        }
}

void crm_timer_close(crm_kernel *k)
{
    crm_timers *t = k->timers;
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->regs[i].owner);
        free(t->regs[i].prefix);
    }
    free(t->regs);
    free(t);
    k->timers = NULL;
}

/* ---- schedule and cancel ------------------------------------------------ */

static int step_done(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int step = sqlite3_step(st);
    int rc = step == SQLITE_DONE || step == SQLITE_ROW ? CRM_OK
                                                        : crm_store_error(k->store, what, err);
    sqlite3_reset(st);
    return rc;
}

int crm_timer_schedule(crm_kernel *k, const char *owner, const char *key, int64_t due_at,
                       const char *payload, int64_t *id, crm_err *err)
{
    if (!owner || !*owner)
        return crm_err_set(err, CRM_EUSAGE, "a timer needs an owner");
    if (!key || !*key || strlen(key) > CRM_TIMER_MAX_KEY)
        return crm_err_set(err, CRM_EINVAL,
                           "timer key '%s' of %s: expected 1 to %d characters", key ? key : "",
                           owner, CRM_TIMER_MAX_KEY);
    if (!payload || strcmp(payload, "{}") == 0) {
        payload = "{}";
    } else {
        json_error_t je;
        json_t *j = json_loads(payload, 0, &je);
        bool object = j && json_is_object(j);
        json_decref(j);
        if (!object)
            return crm_err_set(err, CRM_EINVAL,
                               "timer %s/%s: the payload must be a JSON object (%s)", owner, key,
                               j ? "got another JSON value" : je.text);
    }
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO timers(owner, key, due_at, next_at, payload, created_at)"
        " VALUES(?1, ?2, ?3, ?3, ?4, ?5)"
        " ON CONFLICT(owner, key) DO UPDATE SET due_at = excluded.due_at,"
        " next_at = excluded.due_at, payload = excluded.payload, attempts = 0,"
        " state = 'pending', last_error = NULL, fired_at = NULL, lateness = NULL,"
        " claim_pid = NULL, claim_host = NULL, version = version + 1"
        " RETURNING id",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, due_at);
    sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, k->now);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && id)
        *id = sqlite3_column_int64(st, 0);
    int rc = step == SQLITE_ROW ? CRM_OK
                                : crm_store_error(k->store, "cannot schedule the timer", err);
    sqlite3_reset(st);
    return rc;
}

int crm_timer_cancel(crm_kernel *k, const char *owner, const char *key, bool *found,
                     crm_err *err)
{
    if (found)
        *found = false;
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "DELETE FROM timers WHERE owner = ?1 AND key = ?2", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, owner ? owner : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key ? key : "", -1, SQLITE_STATIC);
    int rc = step_done(k, st, "cannot cancel the timer", err);
    if (rc == CRM_OK && found)
        *found = sqlite3_changes(crm_store_db(k->store)) > 0;
    return rc;
}

/* ---- firing ---------------------------------------------------------------- */

/* Begins a firing transaction. Under the write lock no other process
 * commits, so every event in the log now was dispatched by the process that
 * committed it: in-memory subscribers skip them, and the commit's dispatch
 * delivers only this transaction's events (a worker's Lua handlers do not
 * run again for another command's events). */
static int begin_fire(crm_kernel *k, bool batch, crm_err *err)
{
    int rc = batch ? crm_store_begin_batch(k->store, err) : crm_store_begin(k->store, err);
    if (rc == CRM_OK && (rc = crm_bus_skip_foreign(k, err)) != CRM_OK)
        crm_store_rollback(k->store);
    return rc;
}

static void due_free(due_timer *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].owner);
        free(d[i].key);
        free(d[i].payload);
    }
}

/* Reads up to CRM_TIMER_BATCH due timers after (*after_next, *after_id) in
 * (next_at, id) order, keeping those with a handler; moves the position past
 * every row read so owners without a handler are skipped, not re-read. */
static int read_due(crm_kernel *k, int64_t now, int64_t *after_next, int64_t *after_id,
                    due_timer *out, size_t *n, bool *more, crm_err *err)
{
    *n = 0;
    *more = false;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT id, owner, key, due_at, next_at, payload, attempts, version FROM timers"
        " WHERE state = 'pending' AND next_at <= ?1"
        " AND (next_at > ?2 OR (next_at = ?2 AND id > ?3))"
        " ORDER BY next_at, id LIMIT ?4",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, *after_next);
    sqlite3_bind_int64(st, 3, *after_id);
    sqlite3_bind_int(st, 4, CRM_TIMER_BATCH);
    int step, rows = 0, rc = CRM_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        *after_id = sqlite3_column_int64(st, 0);
        *after_next = sqlite3_column_int64(st, 4);
        const timer_reg *reg = find_reg(k, (const char *)sqlite3_column_text(st, 1),
                                        (const char *)sqlite3_column_text(st, 2));
        if (!reg)
            continue;
        due_timer *d = &out[(*n)++];
        *d = (due_timer){.id = *after_id,
                         .due_at = sqlite3_column_int64(st, 3),
                         .next_at = *after_next,
                         .version = sqlite3_column_int64(st, 7),
                         .attempts = sqlite3_column_int(st, 6),
                         .owner = crm_column_strdup(st, 1),
                         .key = crm_column_strdup(st, 2),
                         .payload = crm_column_strdup(st, 5),
                         .reg = reg};
        if (!d->owner || !d->key || !d->payload) {
            rc = oom(err);
            break;
        }
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot read due timers", err);
    sqlite3_reset(st);
    *more = rows == CRM_TIMER_BATCH;
    return rc;
}

/* Runs d's handler with k->actor as the kernel sets it (plugins set their own). */
static int run_handler(crm_kernel *k, const due_timer *d, int64_t now, crm_err *err)
{
    crm_timer t = {d->id, d->owner, d->key, d->due_at, now, d->payload, d->attempts};
    crm_err_clear(err);
    int rc = d->reg->fn(k, &t, d->reg->ud, err);
    if (rc != CRM_OK && err && !err->msg[0])
        crm_err_set(err, rc, "handler failed (%s)", crm_err_name(rc));
    return rc;
}

static int complete(crm_kernel *k, const due_timer *d, int64_t now, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE timers SET state = 'done', fired_at = ?2, lateness = ?3, last_error = NULL"
        " WHERE id = ?1 AND version = ?4 AND state = 'pending'",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now - d->due_at);
    sqlite3_bind_int64(st, 4, d->version);
    return step_done(k, st, "cannot complete the timer", err);
}

/* Records a failed attempt in its own transaction: backoff, or parked. */
static int record_failure(crm_kernel *k, const due_timer *d, int64_t now, const char *why,
                          crm_timer_stats *stats, crm_err *err)
{
    int attempts = d->attempts + 1;
    const crm_timer_config *tc = &k->cfg->timers;
    bool park = attempts >= tc->max_attempts;
    int64_t delay = crm_timer_backoff(tc, attempts);
    int rc = begin_fire(k, false, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE timers SET attempts = ?2, last_error = ?3, next_at = ?4,"
        " state = CASE WHEN ?5 THEN 'parked' ELSE 'pending' END"
        " WHERE id = ?1 AND version = ?6",
        err);
    rc = st ? CRM_OK : (err ? err->code : CRM_EDB);
    if (rc == CRM_OK) {
        sqlite3_bind_int64(st, 1, d->id);
        sqlite3_bind_int(st, 2, attempts);
        sqlite3_bind_text(st, 3, why, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, park ? now : now + delay);
        sqlite3_bind_int(st, 5, park);
        sqlite3_bind_int64(st, 6, d->version);
        rc = step_done(k, st, "cannot record the timer's failure", err);
    }
    if (rc == CRM_OK)
        rc = crm_store_commit(k->store, err);
    else
        crm_store_rollback(k->store);
    if (rc != CRM_OK)
        return rc;
    if (stats) {
        stats->failed++;
        stats->parked += park;
    }
    if (park)
        fprintf(stderr, "crm: timer %lld %s/%s parked after %d attempts: %s\n",
                (long long)d->id, d->owner, d->key, attempts, why);
    else
        info("timer %lld %s/%s failed (attempt %d, retry in %llds): %s", (long long)d->id,
             d->owner, d->key, attempts, (long long)delay, why);
    return CRM_OK;
}

static void count_fired(const due_timer *d, int64_t now, crm_timer_stats *stats)
{
    if (stats) {
        stats->fired++;
        if (now - d->due_at > stats->max_lateness)
            stats->max_lateness = now - d->due_at;
    }
    info("timer %lld %s/%s fired, %llds late", (long long)d->id, d->owner, d->key,
         (long long)(now - d->due_at));
}

static int still_due(crm_kernel *k, const struct due_timer *d, bool *yes, crm_err *err);

/* ---- deferred I/O (crm_timer_defer_io) ------------------------------------- */

int crm_timer_defer_io(crm_kernel *k, const crm_timer *t, int64_t lease, const crm_timer_io *io,
                       crm_err *err)
{
    crm_timers *tm = k->timers;
    int rc = CRM_OK;
    if (!tm || !tm->in_solo || tm->has_io) {
        rc = crm_err_set(err, CRM_EUSAGE,
                         "timer %s/%s: I/O is deferred once, by a solo handler", t->owner, t->key);
    } else {
        char host[256];
        crm_host_name(host, sizeof host);
        sqlite3_stmt *st = crm_store_stmt(
            k->store,
            "UPDATE timers SET next_at = ?2, claim_pid = ?3, claim_host = ?4,"
            " version = version + 1 WHERE id = ?1 RETURNING version", err);
        rc = st ? CRM_OK : (err ? err->code : CRM_EDB);
        if (rc == CRM_OK) {
            sqlite3_bind_int64(st, 1, t->id);
            sqlite3_bind_int64(st, 2, t->fired_at + lease);
            sqlite3_bind_int64(st, 3, (int64_t)getpid());
            sqlite3_bind_text(st, 4, host, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW)
                tm->io_version = sqlite3_column_int64(st, 0);
            else
                rc = crm_store_error(k->store, "cannot claim the timer", err);
            sqlite3_reset(st);
        }
    }
    if (rc != CRM_OK) {
        if (io->free)
            io->free(io->ud);
        return rc;
    }
    tm->io = *io;
    tm->has_io = true;
    return CRM_OK;
}

static void drop_io(crm_timers *tm)
{
    if (tm->has_io && tm->io.free)
        tm->io.free(tm->io.ud);
    tm->has_io = false;
}

/* Completes the claimed schedule unless record moved or cancelled it. */
static int complete_claim(crm_kernel *k, const due_timer *d, int64_t version, int64_t now,
                          crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE timers SET state = 'done', fired_at = ?2, lateness = ?3, last_error = NULL,"
        " claim_pid = NULL, claim_host = NULL WHERE id = ?1 AND version = ?4", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now - d->due_at);
    sqlite3_bind_int64(st, 4, version);
    return step_done(k, st, "cannot complete the claimed timer", err);
}

/* After d's firing committed: the send, then its record in a transaction of
 * its own. A record that cannot commit leaves the claim to its lease. */
static void run_io(crm_kernel *k, const due_timer *d, int64_t now)
{
    crm_timers *tm = k->timers;
    crm_timer_io io = tm->io;
    int64_t version = tm->io_version;
    tm->has_io = false;
    io.send(k, io.ud);
    crm_err e = {0};
    int rc = begin_fire(k, false, &e);
    if (rc == CRM_OK) {
        rc = io.record(k, io.ud, &e);
        if (rc == CRM_OK)
            rc = complete_claim(k, d, version, now, &e);
        rc = rc == CRM_OK ? crm_store_commit(k->store, &e)
                          : (crm_store_rollback(k->store), rc);
    }
    if (rc != CRM_OK)
        fprintf(stderr, "crm: timer %lld %s/%s: cannot record what its send did: %s (it fires"
                        " again when its claim's lease ends)\n",
                (long long)d->id, d->owner, d->key, e.msg);
    if (io.free)
        io.free(io.ud);
}

/* Claims of processes that are gone fire now: their send may not have
 * happened, or its outcome was not recorded. */
static int recover_claims(crm_kernel *k, int64_t now, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT id, claim_pid, claim_host FROM timers WHERE claim_pid IS NOT NULL", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    int64_t *ids = NULL;
    size_t n = 0;
    int step, rc = CRM_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && rc == CRM_OK) {
        if (!crm_pid_gone(sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2)))
            continue;
        int64_t *slot = CRM_ARRAY_APPEND(ids, n);
        if (slot)
            *slot = sqlite3_column_int64(st, 0);
        else
            rc = oom(err);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot read claimed timers", err);
    sqlite3_reset(st);
    if (rc == CRM_OK && n > 0 && (rc = crm_store_begin(k->store, err)) == CRM_OK) {
        st = crm_store_stmt(k->store,
                            "UPDATE timers SET next_at = min(next_at, ?2), claim_pid = NULL,"
                            " claim_host = NULL WHERE id = ?1 AND claim_pid IS NOT NULL", err);
        rc = st ? CRM_OK : (err ? err->code : CRM_EDB);
        for (size_t i = 0; rc == CRM_OK && i < n; i++) {
            sqlite3_bind_int64(st, 1, ids[i]);
            sqlite3_bind_int64(st, 2, now);
            rc = step_done(k, st, "cannot release a claimed timer", err);
            info("timer %lld: its claimant is gone, it fires again", (long long)ids[i]);
        }
        rc = rc == CRM_OK ? crm_store_commit(k->store, err) : (crm_store_rollback(k->store), rc);
    }
    free(ids);
    return rc;
}

/* The slow path: one transaction per timer, with savepoints for handlers. */
static int fire_one(crm_kernel *k, const due_timer *d, int64_t now, crm_timer_stats *stats,
                    crm_err *err)
{
    int rc = begin_fire(k, false, err);
    if (rc != CRM_OK)
        return rc;
    bool due;
    rc = still_due(k, d, &due, err);
    if (rc != CRM_OK || !due) {
        crm_store_rollback(k->store);
        return rc;
    }
    crm_err herr = {0};
    crm_timers *tm = k->timers;
    tm->in_solo = d->reg->solo;
    int hrc = run_handler(k, d, now, &herr);
    tm->in_solo = false;
    if (hrc == CRM_OK)
        hrc = complete(k, d, now, &herr);
    if (hrc == CRM_OK) {
        hrc = crm_store_commit(k->store, &herr);
        if (hrc == CRM_OK) {
            count_fired(d, now, stats);
            if (tm->has_io)
                run_io(k, d, now);
            return CRM_OK;
        }
    } else {
        crm_store_rollback(k->store);
    }
    drop_io(tm);
    return record_failure(k, d, now, herr.msg, stats, err);
}

/* Whether d is still the pending schedule it was read as (inside the write
 * transaction: another process may have fired, moved or cancelled it). */
static int still_due(crm_kernel *k, const due_timer *d, bool *yes, crm_err *err)
{
    *yes = false;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT 1 FROM timers WHERE id = ?1 AND version = ?2 AND state = 'pending'"
                  " AND next_at = ?3", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_int64(st, 2, d->version);
    sqlite3_bind_int64(st, 3, d->next_at);
    int step = sqlite3_step(st);
    *yes = step == SQLITE_ROW;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK : crm_store_error(k->store, "cannot read the timer", err);
}

/* The fast path: a chunk read and fired in one batch-mode transaction (the
 * read under the write lock, so no other process fires the same rows).
 * Returns CRM_OK when it committed, CRM_EBUSY when it had to be rolled back
 * (d[0..*n) then holds the chunk for the slow path). */
static int fire_batch(crm_kernel *k, int64_t now, int64_t *after_next, int64_t *after_id,
                      due_timer *d, size_t *n, bool *more, crm_timer_stats *stats,
                      crm_err *err)
{
    *n = 0;
    *more = false;
    int rc = begin_fire(k, true, err);
    if (rc != CRM_OK)
        return rc;
    rc = read_due(k, now, after_next, after_id, d, n, more, err);
    if (rc != CRM_OK) {
        crm_store_rollback(k->store);
        return rc;
    }
    crm_err herr = {0};
    size_t i = 0;
    for (; i < *n; i++)
        if (!d[i].reg->solo && (run_handler(k, &d[i], now, &herr) != CRM_OK ||
                                complete(k, &d[i], now, &herr) != CRM_OK ||
                                crm_store_batch_failed(k->store)))
            break;
    if (i < *n) {
        crm_store_rollback(k->store);
        return CRM_EBUSY;
    }
    if (crm_store_commit(k->store, &herr) != CRM_OK)
        return CRM_EBUSY; /* rolled back by the store */
    for (i = 0; i < *n; i++)
        if (!d[i].reg->solo)
            count_fired(&d[i], now, stats);
    return CRM_OK;
}

int crm_timer_fire_due(crm_kernel *k, int64_t now, volatile const int *stop,
                       crm_timer_stats *stats, crm_err *err)
{
    if (crm_store_depth(k->store) > 0)
        return crm_err_set(err, CRM_EUSAGE, "timers fire outside a transaction");
    if (!k->timers || !k->timers->n)
        return CRM_OK;
    int rc = recover_claims(k, now, err);
    if (rc != CRM_OK)
        return rc;
    due_timer *d = calloc(CRM_TIMER_BATCH, sizeof *d);
    if (!d)
        return oom(err);
    /* Passes repeat while a pass fired something: handlers may have scheduled
     * timers due by now, before the position of the pass (bounded: a handler
     * rescheduling itself at `now` must not spin). */
    for (int pass = 0, again = 1; again && rc == CRM_OK && pass < 16; pass++) {
        again = 0;
        int64_t after_next = INT64_MIN, after_id = 0;
        bool more = true;
        while (rc == CRM_OK && more && !(stop && *stop)) {
            size_t n;
            int brc = fire_batch(k, now, &after_next, &after_id, d, &n, &more, stats, err);
            if (n > 0)
                again = 1;
            /* After a committed batch only the solo timers it left remain;
             * after a rolled-back one, all of them. */
            for (size_t i = 0; (brc == CRM_OK || brc == CRM_EBUSY) && rc == CRM_OK && i < n; i++)
                if (!(stop && *stop) && (brc == CRM_EBUSY || d[i].reg->solo))
                    rc = fire_one(k, &d[i], now, stats, err);
            if (brc != CRM_OK && brc != CRM_EBUSY)
                rc = brc;
            due_free(d, n);
        }
        if (stop && *stop)
            break;
    }
    free(d);
    return rc;
}

int crm_timer_next_due(crm_kernel *k, int64_t *next, bool *found, crm_err *err)
{
    *found = false;
    const crm_timers *t = k->timers;
    for (size_t i = 0; t && i < t->n; i++) {
        sqlite3_stmt *st = crm_store_stmt(
            k->store,
            "SELECT min(next_at) FROM timers WHERE state = 'pending' AND owner = ?1"
            " AND substr(key, 1, length(?2)) = ?2", err);
        if (!st)
            return err ? err->code : CRM_EDB;
        sqlite3_bind_text(st, 1, t->regs[i].owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->regs[i].prefix, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            int64_t v = sqlite3_column_int64(st, 0);
            if (!*found || v < *next)
                *next = v;
            *found = true;
        }
        sqlite3_reset(st);
        if (step != SQLITE_ROW)
            return crm_store_error(k->store, "cannot read the next timer", err);
    }
    return CRM_OK;
}

int crm_timer_retry(crm_kernel *k, int64_t id, int64_t now, int64_t *n, crm_err *err)
{
    if (n)
        *n = 0;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE timers SET state = 'pending', attempts = 0, next_at = ?2"
        " WHERE state = 'parked' AND (?1 = 0 OR id = ?1)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    int rc = step_done(k, st, "cannot retry timers", err);
    if (rc != CRM_OK)
        return rc;
    int changed = sqlite3_changes(crm_store_db(k->store));
    if (n)
        *n = changed;
    if (id && !changed)
        return crm_err_set(err, CRM_ENOTFOUND,
                           "no parked timer %lld: see `crm timers failed`", (long long)id);
    return CRM_OK;
}

int crm_timer_purge(crm_kernel *k, int64_t now, int64_t *n, crm_err *err)
{
    if (n)
        *n = 0;
    if (crm_store_depth(k->store) > 0)
        return crm_err_set(err, CRM_EUSAGE, "timers are purged outside a transaction");
    int rc = crm_store_begin(k->store, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "DELETE FROM timers WHERE state = 'done' AND fired_at < ?1", err);
    rc = st ? CRM_OK : (err ? err->code : CRM_EDB);
    if (rc == CRM_OK) {
        sqlite3_bind_int64(st, 1, now - k->cfg->timers.keep_done);
        rc = step_done(k, st, "cannot purge done timers", err);
    }
    if (rc == CRM_OK && n)
        *n = sqlite3_changes(crm_store_db(k->store));
    if (rc == CRM_OK)
        rc = crm_store_commit(k->store, err);
    else
        crm_store_rollback(k->store);
    return rc;
}

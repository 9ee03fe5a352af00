/* The event bus (bus.h).
 *
 * Dispatch runs from the store's commit hook. It reads `events` past the
 * lowest subscriber position in chunks of BUS_BATCH and hands a chunk to each
 * subscriber in subscription order. A subscriber gets its matching events of
 * the chunk in delivery batches: one batch-mode transaction (nested
 * begin/commit inside handlers cost no savepoints), the handler run for up to
 * BUS_BATCH events or BUS_BATCH_SECONDS, the durable cursor written once, one
 * commit. A batch that cannot commit as a whole (a handler failed, or a
 * nested rollback undid writes, which batch mode cannot do alone) is rolled
 * back and re-delivered event by event, each delivery in its own transaction
 * with savepoints, retries and parking. Events a handler emits are committed
 * with its delivery and picked up by a later chunk of the same loop, so
 * cascades run breadth-first in id order. */
#include "bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "util.h"

#define BUS_BATCH 512          /* events per chunk read, and at most per delivery batch */
#define BUS_BATCH_SECONDS 0.1  /* a delivery batch takes no more handlers after this */

typedef struct bus_sub {
    char *name;
    char *pattern;
    char *actor;
    bool durable;
    crm_bus_handler fn;
    void *ud;
    int64_t pos;    /* last event id this subscriber is done with */
    int64_t saved;  /* durable: the cursor as last read or written in the database */
    /* A nested rollback undid writes in one of its delivery batches: later
     * ones use savepoints (crm_store_begin), not batch mode. */
    bool savepoints;
} bus_sub;

/* Ancestry of an event a handler emitted, kept until that event is
 * dispatched: the cascade-bound message names the whole chain. */
typedef struct bus_chain {
    int64_t id;
    char *text;  /* "contact.created → a.x → b.y" (ends with the event itself) */
} bus_chain;

typedef struct crm_bus {
    crm_kernel *k;
    bus_sub *subs;
    size_t n_subs, cap_subs;
    int64_t head;       /* highest event id dispatched, or present at open */
    bool dispatching;   /* set while delivering: the commit hook must not recurse */
    bool held;          /* crm_bus_hold: commits do not dispatch */
    bus_chain *chains;  /* ordered by id; live entries are [chain_first, n_chains) */
    size_t chain_first, n_chains, cap_chains;
    crm_event batch[BUS_BATCH];
    size_t n_batch;
} crm_bus;

enum { ATTEMPT_DONE, ATTEMPT_FAILED, ATTEMPT_ABORT };

static const crm_migration bus_migrations[] = {
    {1, "bus cursors and parked events",
     "CREATE TABLE bus_cursors("
     " subscriber TEXT PRIMARY KEY, last_event_id INTEGER NOT NULL,"
     " updated_at INTEGER NOT NULL);"
     "CREATE TABLE bus_parked("
     " subscriber TEXT NOT NULL, event_id INTEGER NOT NULL,"
     " attempts INTEGER NOT NULL, error TEXT NOT NULL, parked_at INTEGER NOT NULL,"
     " PRIMARY KEY(subscriber, event_id));"},
};

/* ---- small helpers ------------------------------------------------------ */

static int oom(crm_err *err) { return crm_err_set(err, CRM_ENOMEM, "out of memory"); }

static int code_of(const crm_err *err, int fallback)
{
    return err && err->code != CRM_OK ? err->code : fallback;
}

/* Runs a one-row, one-column integer query with an optional text parameter;
 * *out is left alone when there is no row. */
static int query_i64(crm_store *s, const char *sql, const char *param, int64_t *out,
                     crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(s, sql, err);
    if (!st)
        return code_of(err, CRM_EDB);
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return crm_store_error(s, "event bus query failed", err);
    return CRM_OK;
}

static int max_event_id(crm_bus *b, int64_t *out, crm_err *err)
{
    *out = 0;
    return query_i64(b->k->store, "SELECT coalesce(max(id), 0) FROM events", NULL, out, err);
}

static int write_cursor(crm_bus *b, const char *name, int64_t id, crm_err *err)
{
    crm_store *s = b->k->store;
    sqlite3_stmt *st = crm_store_stmt(
        s,
        "INSERT INTO bus_cursors(subscriber, last_event_id, updated_at) VALUES(?,?,?)"
        " ON CONFLICT(subscriber) DO UPDATE SET last_event_id = excluded.last_event_id,"
        " updated_at = excluded.updated_at",
        err);
    if (!st)
        return code_of(err, CRM_EDB);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(s, "cannot move the bus cursor", err);
}

static bus_sub *find_sub(crm_bus *b, const char *name)
{
    for (size_t i = 0; i < b->n_subs; i++)
        if (strcmp(b->subs[i].name, name) == 0)
            return &b->subs[i];
    return NULL;
}

/* ---- matching ----------------------------------------------------------- */

bool crm_bus_match(const char *pattern, const char *type)
{
    if (!pattern || !type)
        return false;
    if (strcmp(pattern, "*") == 0)
        return true;
    size_t len = strlen(pattern);
    if (len >= 2 && strcmp(pattern + len - 2, ".*") == 0)
        return strncmp(pattern, type, len - 1) == 0 && type[len - 1] != '\0';
    return strcmp(pattern, type) == 0;
}

bool crm_bus_pattern_valid(const char *pattern)
{
    if (!pattern)
        return false;
    if (strcmp(pattern, "*") == 0 || crm_event_name_valid(pattern))
        return true;
    /* "entity.*": the entity part must be what a valid name would have. */
    size_t len = strlen(pattern);
    if (len < 3 || strcmp(pattern + len - 2, ".*") != 0)
        return false;
    char probe[128];
    if (len - 1 >= sizeof probe)
        return false;
    snprintf(probe, sizeof probe, "%.*sx", (int)(len - 1), pattern);
    return crm_event_name_valid(probe);
}

/* ---- cascade chains ----------------------------------------------------- */

/* Chains are appended in event id order, so a binary search: a catch-up
 * whose handler emits an event per event delivered (loyalty replaying
 * orders) grows the list by one per delivery, and a linear search made the
 * replay quadratic. */
static const bus_chain *chain_find(const crm_bus *b, int64_t id)
{
    size_t lo = b->chain_first, hi = b->n_chains;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->chains[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->n_chains && b->chains[lo].id == id ? &b->chains[lo] : NULL;
}

/* The chain of ev as text into buf: known ancestry, else the event alone
 * (depth 0) or "… → type" (ancestry lost, e.g. emitted by another process). */
static void chain_text(const crm_bus *b, const crm_event *ev, char *buf, size_t size)
{
    const bus_chain *c = chain_find(b, ev->id);
    if (c)
        snprintf(buf, size, "%s", c->text);
    else
        snprintf(buf, size, "%s%s", ev->depth > 0 ? "… → " : "", ev->type);
}

static int chain_push(crm_bus *b, int64_t id, const char *parent, const char *type)
{
    if (CRM_ARRAY_RESERVE(b->chains, b->cap_chains, b->n_chains + 1) != CRM_OK)
        return CRM_ENOMEM;
    size_t len = strlen(parent) + strlen(type) + sizeof " → ";
    char *text = malloc(len);
    if (!text)
        return CRM_ENOMEM;
    snprintf(text, len, "%s → %s", parent, type);
    b->chains[b->n_chains++] = (bus_chain){id, text};
    return CRM_OK;
}

/* Drops chains from index `keep` on (a delivery that rolled back). */
static void chain_truncate(crm_bus *b, size_t keep)
{
    while (b->n_chains > keep)
        free(b->chains[--b->n_chains].text);
}

/* Forgets chains of events up to id (dispatched to everyone). */
static void chain_drop_through(crm_bus *b, int64_t id)
{
    while (b->chain_first < b->n_chains && b->chains[b->chain_first].id <= id)
        free(b->chains[b->chain_first++].text);
    if (b->chain_first == b->n_chains)
        b->chain_first = b->n_chains = 0;
}

/* After a handler ran: refuses events it emitted beyond CRM_BUS_MAX_DEPTH,
 * and records the ancestry of the others. */
static int record_cascade(crm_bus *b, const bus_sub *s, const crm_event *ev, int64_t before,
                          crm_err *err)
{
    crm_store *store = b->k->store;
    sqlite3_stmt *st = crm_store_stmt(
        store, "SELECT id, type, depth FROM events WHERE id > ? ORDER BY id", err);
    if (!st)
        return code_of(err, CRM_EDB);
    sqlite3_bind_int64(st, 1, before);
    char parent[2048];
    chain_text(b, ev, parent, sizeof parent);
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 1);
        int depth = sqlite3_column_int(st, 2);
        if (depth > CRM_BUS_MAX_DEPTH)
            rc = crm_err_set(err, CRM_EINVAL,
                             "cascade too deep (%d, limit %d): %s → %s; emitted by subscriber %s",
                             depth, CRM_BUS_MAX_DEPTH, parent, type, s->name);
        else if (chain_push(b, sqlite3_column_int64(st, 0), parent, type) != CRM_OK)
            rc = oom(err);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(store, "cannot read emitted events", err);
    sqlite3_reset(st);
    return rc;
}

/* ---- one delivery ------------------------------------------------------- */

/* Calls the handler as its subscription: actor and cascade depth set, then
 * restored. A failure without a message gets one. */
static int run_handler(crm_bus *b, bus_sub *s, const crm_event *ev, crm_err *err)
{
    crm_kernel *k = b->k;
    const char *actor = k->actor;
    int depth = k->event_depth;
    k->actor = s->actor;
    k->event_depth = ev->depth + 1;
    crm_err_clear(err);
    /* parsed on first delivery: the events of a batch that reach no
     * subscriber (an RFM refresh's segment.entered) are never parsed */
    if (!ev->json)
        ((crm_event *)ev)->json = json_loads(ev->payload, 0, NULL);
    int rc = s->fn(k, ev, s->ud, err);
    k->actor = actor;
    k->event_depth = depth;
    if (rc != CRM_OK && !err->msg[0])
        crm_err_set(err, rc, "handler failed (%s)", crm_err_name(rc));
    if (rc != CRM_OK)
        err->code = rc;
    return rc;
}

/* A handler must leave the bus's transaction as it found it. */
static int check_balanced(crm_bus *b, const bus_sub *s, int base, crm_err *err)
{
    crm_store *store = b->k->store;
    int depth = crm_store_depth(store);
    if (depth == base)
        return CRM_OK;
    while (crm_store_depth(store) > base)
        crm_store_rollback(store);
    return crm_err_set(err, CRM_EUSAGE, "subscriber %s %s the bus's transaction", s->name,
                       depth > base ? "left a nested transaction open in" : "closed");
}

/* Writes that commit with the handler's: the durable cursor on a normal
 * delivery, or the parked row's removal on a retry. */
static int commit_marks(crm_bus *b, const bus_sub *s, const crm_event *ev, bool unpark,
                        crm_err *err)
{
    if (unpark) {
        sqlite3_stmt *st = crm_store_stmt(
            b->k->store, "DELETE FROM bus_parked WHERE subscriber = ? AND event_id = ?", err);
        if (!st)
            return code_of(err, CRM_EDB);
        sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ev->id);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        return step == SQLITE_DONE ? CRM_OK
                                   : crm_store_error(b->k->store, "cannot unpark event", err);
    }
    return s->durable ? write_cursor(b, s->name, ev->id, err) : CRM_OK;
}

/* Durable only: true in *done when the database cursor is already at or past
 * ev (another process, or an earlier run, delivered it). */
static int already_done(crm_bus *b, bus_sub *s, const crm_event *ev, bool *done, crm_err *err)
{
    int64_t cur = -1;
    int rc = query_i64(b->k->store, "SELECT last_event_id FROM bus_cursors WHERE subscriber = ?",
                       s->name, &cur, err);
    *done = rc == CRM_OK && cur >= ev->id;
    if (*done)
        s->saved = cur;
    return rc;
}

/* Runs the handler, checks it left the transaction balanced and records
 * (or refuses, past the bound) what it emitted. *top is the highest event id
 * before the call and receives the one after it. */
static int handle(crm_bus *b, bus_sub *s, const crm_event *ev, int base, int64_t *top,
                  crm_err *err)
{
    int64_t before = *top;
    int rc = run_handler(b, s, ev, err);
    if (rc == CRM_OK)
        rc = check_balanced(b, s, base, err);
    if (rc == CRM_OK)
        rc = max_event_id(b, top, err);
    if (rc == CRM_OK && *top > before)
        rc = record_cascade(b, s, ev, before, err);
    return rc;
}

/* Runs the handler and its marks; on success leaves the transaction open. */
static int attempt_body(crm_bus *b, bus_sub *s, const crm_event *ev, bool unpark, int base,
                        crm_err *err)
{
    int64_t top;
    int rc = max_event_id(b, &top, err);
    if (rc == CRM_OK)
        rc = handle(b, s, ev, base, &top, err);
    if (rc == CRM_OK)
        rc = commit_marks(b, s, ev, unpark, err);
    return rc;
}

/* One delivery attempt in its own transaction: ATTEMPT_DONE (delivered, or
 * a durable cursor already past it), ATTEMPT_FAILED (rolled back; err says
 * why) or ATTEMPT_ABORT (the bus itself cannot work: err). */
static int attempt(crm_bus *b, bus_sub *s, const crm_event *ev, bool unpark, crm_err *err)
{
    crm_store *store = b->k->store;
    size_t chains = b->n_chains;
    if (crm_store_begin(store, err) != CRM_OK)
        return ATTEMPT_ABORT;
    int base = crm_store_depth(store);
    bool done = false;
    if (s->durable && !unpark && already_done(b, s, ev, &done, err) != CRM_OK) {
        crm_store_rollback(store);
        return ATTEMPT_ABORT;
    }
    int rc = done ? CRM_OK : attempt_body(b, s, ev, unpark, base, err);
    if (rc != CRM_OK) {
        while (crm_store_depth(store) >= base && crm_store_depth(store) > 0)
            crm_store_rollback(store);
        chain_truncate(b, chains);
        return ATTEMPT_FAILED;
    }
    if (crm_store_commit(store, err) != CRM_OK) {  /* commit rolled back */
        chain_truncate(b, chains);
        return ATTEMPT_FAILED;
    }
    return ATTEMPT_DONE;
}

/* Attempts `done` + 1 to CRM_BUS_MAX_ATTEMPTS (`done` already failed, err
 * holding the error); *failed tells whether they all failed (err then holds
 * the last error). Returns an error only on abort. */
static int attempts(crm_bus *b, bus_sub *s, const crm_event *ev, bool unpark, int done,
                    bool *failed, crm_err *err)
{
    *failed = false;
    for (int i = done; i < CRM_BUS_MAX_ATTEMPTS; i++) {
        int r = attempt(b, s, ev, unpark, err);
        if (r == ATTEMPT_DONE)
            return CRM_OK;
        if (r == ATTEMPT_ABORT)
            return code_of(err, CRM_EDB);
    }
    *failed = true;
    return CRM_OK;
}

/* Records (or re-records) ev as parked for s, and moves a durable cursor
 * past it in the same transaction so later events go on. */
static int park(crm_bus *b, bus_sub *s, const crm_event *ev, const char *why, bool move_cursor,
                crm_err *err)
{
    crm_store *store = b->k->store;
    int rc = crm_store_begin(store, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        store,
        "INSERT INTO bus_parked(subscriber, event_id, attempts, error, parked_at)"
        " VALUES(?,?,?,?,?) ON CONFLICT(subscriber, event_id) DO UPDATE SET"
        " attempts = attempts + excluded.attempts, error = excluded.error,"
        " parked_at = excluded.parked_at",
        err);
    if (!st) {
        rc = code_of(err, CRM_EDB);
        goto fail;
    }
    sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ev->id);
    sqlite3_bind_int(st, 3, CRM_BUS_MAX_ATTEMPTS);
    sqlite3_bind_text(st, 4, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    rc = step == SQLITE_DONE ? CRM_OK : crm_store_error(store, "cannot park event", err);
    if (rc == CRM_OK && s->durable && move_cursor)
        rc = write_cursor(b, s->name, ev->id, err);
    if (rc != CRM_OK)
        goto fail;
    return crm_store_commit(store, err);
fail:
    crm_store_rollback(store);
    return rc;
}

/* Delivers ev to s with retries, parking it when every attempt failed. When
 * `prior` is not NULL, a first attempt already failed with that error (in a
 * delivery batch) and counts. */
static int deliver(crm_bus *b, bus_sub *s, const crm_event *ev, const crm_err *prior,
                   crm_err *err)
{
    crm_err last = {0};
    if (prior)
        last = *prior;
    bool failed;
    int rc = attempts(b, s, ev, false, prior ? 1 : 0, &failed, &last);
    if (rc != CRM_OK)
        return crm_err_set(err, rc, "%s", last.msg);
    if (failed) {
        rc = park(b, s, ev, last.msg, true, err);
        if (rc != CRM_OK)
            return rc;
        fprintf(stderr, "crm: event %lld (%s) parked for %s after %d attempts: %s\n",
                (long long)ev->id, ev->type, s->name, CRM_BUS_MAX_ATTEMPTS, last.msg);
    }
    s->pos = ev->id;
    if (s->durable && s->saved < ev->id)
        s->saved = ev->id;
    return CRM_OK;
}

/* ---- the dispatch loop -------------------------------------------------- */

static void batch_clear(crm_bus *b)
{
    for (size_t i = 0; i < b->n_batch; i++) {
        crm_event *ev = &b->batch[i];
        free((char *)ev->type);
        free((char *)ev->payload);
        free((char *)ev->source);
        json_decref(ev->json);
    }
    b->n_batch = 0;
}

/* Fills ev from a row of (id, type, payload, source, depth, created_at). */
static int event_from_row(sqlite3_stmt *st, crm_event *ev)
{
    *ev = (crm_event){
        .id = sqlite3_column_int64(st, 0),
        .type = crm_column_strdup(st, 1),
        .payload = crm_column_strdup(st, 2),
        .source = crm_column_strdup(st, 3),
        .depth = sqlite3_column_int(st, 4),
        .created_at = sqlite3_column_int64(st, 5),
    };
    /* the payload is parsed by run_handler, for the events delivered */
    return !ev->type || !ev->payload || !ev->source ? CRM_ENOMEM : CRM_OK;
}

/* Loads the next events after `from` into b->batch. The statement is done
 * with before any handler runs. */
static int batch_load(crm_bus *b, int64_t from, crm_err *err)
{
    crm_store *store = b->k->store;
    batch_clear(b);
    sqlite3_stmt *st = crm_store_stmt(
        store,
        "SELECT id, type, payload, source, depth, created_at FROM events"
        " WHERE id > ? ORDER BY id LIMIT ?",
        err);
    if (!st)
        return code_of(err, CRM_EDB);
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int(st, 2, BUS_BATCH);
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (event_from_row(st, &b->batch[b->n_batch++]) != CRM_OK)
            rc = oom(err);
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(store, "cannot read events", err);
    sqlite3_reset(st);
    return rc;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Re-delivers b->batch[from, end) to s event by event, after its delivery
 * batch rolled back. `prior` (may be NULL) is the error of the event at
 * index fail_at, whose failure in the batch counts as its first attempt. */
static int redeliver(crm_bus *b, bus_sub *s, size_t from, size_t end, size_t fail_at,
                     const crm_err *prior, crm_err *err)
{
    for (size_t i = from; i < end; i++) {
        const crm_event *ev = &b->batch[i];
        if (!crm_bus_match(s->pattern, ev->type)) {
            s->pos = ev->id;  /* durable: written by a later delivery or flush_cursors */
            continue;
        }
        int rc = deliver(b, s, ev, i == fail_at ? prior : NULL, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* One delivery batch: delivers to s the events of b->batch from index `from`
 * on (past its position) in one batch-mode transaction, up to BUS_BATCH
 * matching events or BUS_BATCH_SECONDS, and writes a durable cursor once,
 * with the handlers' writes. *next receives the index of the first event not
 * covered. When the batch fails (a handler failed; a nested rollback undid
 * writes, which batch mode cannot do alone; the commit failed), everything is
 * rolled back and the events up to the failure are delivered one by one
 * (deliver: own transaction, savepoints, retries, parking). A handler's
 * failure counts as the first of its event's attempts; the other causes do
 * not count. After a nested rollback undid writes, the subscriber's later
 * batches use savepoints (still one transaction per batch), so a handler
 * that does that routinely does not fall back every time. Returns an error
 * only when the bus cannot proceed. */
static int deliver_batch(crm_bus *b, bus_sub *s, size_t from, size_t *next, crm_err *err)
{
    crm_store *store = b->k->store;
    size_t chains = b->n_chains;
    int rc = s->savepoints ? crm_store_begin(store, err) : crm_store_begin_batch(store, err);
    if (rc != CRM_OK)
        return rc;
    int base = crm_store_depth(store);
    int64_t cur = -1, top = 0;
    if (s->durable)
        rc = query_i64(store, "SELECT last_event_id FROM bus_cursors WHERE subscriber = ?",
                       s->name, &cur, err);
    if (rc == CRM_OK)
        rc = max_event_id(b, &top, err);
    if (rc != CRM_OK) {
        crm_store_rollback(store);
        return rc;
    }
    crm_err failure = {0};
    bool counts = false;
    size_t i = from, handled = 0, fail_at = b->n_batch;  /* n_batch: no event to blame */
    int64_t pos = s->pos;
    double start = mono_now();
    for (; i < b->n_batch; i++) {
        const crm_event *ev = &b->batch[i];
        if (!crm_bus_match(s->pattern, ev->type) || ev->id <= cur) {
            pos = ev->id;  /* not for s, or its cursor is already past it */
            continue;
        }
        if (handled == BUS_BATCH || (handled > 0 && mono_now() - start >= BUS_BATCH_SECONDS))
            break;
        rc = handle(b, s, ev, base, &top, &failure);
        counts = rc != CRM_OK;
        if (rc == CRM_OK && crm_store_batch_failed(store)) {
            rc = crm_err_set(&failure, CRM_EBUSY, "a nested rollback undid writes");
            s->savepoints = true;
        }
        if (rc != CRM_OK) {
            fail_at = i;
            break;
        }
        handled++;
        pos = ev->id;
    }
    if (rc == CRM_OK && handled > 0 && s->durable)
        rc = write_cursor(b, s->name, pos, &failure);
    if (rc == CRM_OK && crm_store_commit(store, &failure) == CRM_OK) {
        s->pos = pos;
        if (s->durable && cur > s->saved)
            s->saved = cur;
        if (s->durable && handled > 0)
            s->saved = pos;
        *next = i;
        return CRM_OK;
    }
    /* Failed: nothing of the batch stays (a failed commit rolled back). */
    while (crm_store_depth(store) > 0)
        crm_store_rollback(store);
    chain_truncate(b, chains);
    size_t end = fail_at < b->n_batch ? fail_at + 1 : i;
    *next = end;
    return redeliver(b, s, from, end, fail_at, counts ? &failure : NULL, err);
}

/* Hands the loaded chunk to s: the events past its position, in delivery
 * batches; a run of events it does not match needs no transaction. */
static int deliver_chunk(crm_bus *b, bus_sub *s, crm_err *err)
{
    size_t i = 0;
    while (i < b->n_batch) {
        const crm_event *ev = &b->batch[i];
        if (ev->id <= s->pos) {
            i++;
        } else if (!crm_bus_match(s->pattern, ev->type)) {
            s->pos = ev->id;  /* durable: written by a later delivery or flush_cursors */
            i++;
        } else {
            int rc = deliver_batch(b, s, i, &i, err);
            if (rc != CRM_OK)
                return rc;
        }
    }
    return CRM_OK;
}

/* Persists durable positions advanced over non-matching events, in one
 * transaction (never backwards: a concurrent replay wins). */
static int flush_cursors(crm_bus *b, crm_err *err)
{
    bool any = false;
    for (size_t i = 0; i < b->n_subs; i++)
        any |= b->subs[i].durable && b->subs[i].pos > b->subs[i].saved;
    if (!any)
        return CRM_OK;
    crm_store *store = b->k->store;
    int rc = crm_store_begin(store, err);
    for (size_t i = 0; rc == CRM_OK && i < b->n_subs; i++) {
        bus_sub *s = &b->subs[i];
        if (!s->durable || s->pos <= s->saved)
            continue;
        sqlite3_stmt *st = crm_store_stmt(
            store,
            "UPDATE bus_cursors SET last_event_id = ?, updated_at = ?"
            " WHERE subscriber = ? AND last_event_id < ?",
            err);
        if (!st) {
            rc = code_of(err, CRM_EDB);
            break;
        }
        sqlite3_bind_int64(st, 1, s->pos);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
        sqlite3_bind_text(st, 3, s->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, s->pos);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        rc = step == SQLITE_DONE ? CRM_OK : crm_store_error(store, "cannot move cursor", err);
        if (rc == CRM_OK)
            s->saved = s->pos;
    }
    if (rc == CRM_OK)
        return crm_store_commit(store, err);
    if (crm_store_depth(store) > 0)
        crm_store_rollback(store);
    return rc;
}

static int64_t lowest_pos(const crm_bus *b)
{
    int64_t low = b->head;
    for (size_t i = 0; i < b->n_subs; i++)
        if (b->subs[i].pos < low)
            low = b->subs[i].pos;
    return low;
}

/* Reads chunks of events past the lowest position and hands each chunk to
 * every subscriber in subscription order: per subscriber, events stay in id
 * order; one event reaches subscribers in subscription order. */
static int dispatch_loop(crm_bus *b, crm_err *err)
{
    if (b->n_subs == 0)
        return max_event_id(b, &b->head, err);
    int64_t from = lowest_pos(b);
    int rc;
    while ((rc = batch_load(b, from, err)) == CRM_OK && b->n_batch > 0) {
        for (size_t i = 0; rc == CRM_OK && i < b->n_subs; i++)
            rc = deliver_chunk(b, &b->subs[i], err);
        if (rc != CRM_OK)
            break;
        from = b->batch[b->n_batch - 1].id;
        if (b->head < from)
            b->head = from;
        chain_drop_through(b, from);
    }
    batch_clear(b);
    int frc = flush_cursors(b, rc == CRM_OK ? err : NULL);
    return rc != CRM_OK ? rc : frc;
}

int crm_bus_dispatch(crm_kernel *k, crm_err *err)
{
    crm_bus *b = k->bus;
    /* Inside a transaction (or a delivery) the commit hook of the outermost
     * commit, or the running loop, picks the new events up. */
    if (!b || b->dispatching || crm_store_depth(k->store) > 0)
        return CRM_OK;
    b->dispatching = true;
    int rc = dispatch_loop(b, err);
    b->dispatching = false;
    return rc;
}

void crm_bus_hold(crm_kernel *k, bool held)
{
    if (k->bus)
        k->bus->held = held;
}

static void on_commit(void *ud)
{
    crm_bus *b = ud;
    crm_err err = {0};
    if (b->held)
        return;
    if (crm_bus_dispatch(b->k, &err) != CRM_OK)
        fprintf(stderr, "crm: event dispatch stopped: %s\n", err.msg);
}

/* ---- open, close, subscribe --------------------------------------------- */

bool crm_bus_pending(crm_kernel *k, crm_err *err)
{
    size_t n = sizeof bus_migrations / sizeof bus_migrations[0];
    int v = crm_store_schema_version(k->store, "bus", err);
    return v < 0 || v < bus_migrations[n - 1].version;
}

int crm_bus_open(crm_kernel *k, crm_err *err)
{
    if (k->bus)
        return CRM_OK;
    int rc = crm_store_migrate(k->store, "bus", bus_migrations,
                               sizeof bus_migrations / sizeof bus_migrations[0], NULL, err);
    if (rc != CRM_OK)
        return rc;
    crm_bus *b = calloc(1, sizeof *b);
    if (!b)
        return oom(err);
    b->k = k;
    rc = max_event_id(b, &b->head, err);
    if (rc != CRM_OK) {
        free(b);
        return rc;
    }
    k->bus = b;
    crm_store_on_commit(k->store, on_commit, b);
    return CRM_OK;
}

static void sub_free(bus_sub *s)
{
    free(s->name);
    free(s->pattern);
    free(s->actor);
}

void crm_bus_close(crm_kernel *k)
{
    crm_bus *b = k ? k->bus : NULL;
    if (!b)
        return;
    if (k->store)
        crm_store_on_commit(k->store, NULL, NULL);
    batch_clear(b);
    chain_truncate(b, 0);
    free(b->chains);
    for (size_t i = 0; i < b->n_subs; i++)
        sub_free(&b->subs[i]);
    free(b->subs);
    free(b);
    k->bus = NULL;
}

/* A durable subscriber's cursor, created the first time at the current end
 * of the log (a new subscriber does not see history; replay backfills), or
 * before the first event when from_start asks for the history. Read first:
 * even an INSERT OR IGNORE that inserts nothing takes the write lock, and
 * every command opening the kernel would wait on a running import. */
static int load_cursor(crm_bus *b, const char *name, bool from_start, int64_t *cur,
                       crm_err *err)
{
    crm_store *store = b->k->store;
    *cur = -1;
    int rc = query_i64(store, "SELECT last_event_id FROM bus_cursors WHERE subscriber = ?", name,
                       cur, err);
    if (rc != CRM_OK || *cur >= 0)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        store,
        "INSERT OR IGNORE INTO bus_cursors(subscriber, last_event_id, updated_at)"
        " SELECT ?, CASE WHEN ? THEN 0 ELSE coalesce(max(id), 0) END, ? FROM events",
        err);
    if (!st)
        return code_of(err, CRM_EDB);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, from_start);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return crm_store_error(store, "cannot create the bus cursor", err);
    return query_i64(store, "SELECT last_event_id FROM bus_cursors WHERE subscriber = ?", name,
                     cur, err);
}

static int check_subscription(crm_bus *b, const char *name, const char *pattern,
                              crm_bus_handler fn, crm_err *err)
{
    if (!b)
        return crm_err_set(err, CRM_EUSAGE, "event bus not open (call crm_bus_open first)");
    if (!name || !*name || !fn)
        return crm_err_set(err, CRM_EUSAGE, "a subscription needs a name and a handler");
    if (!crm_bus_pattern_valid(pattern))
        return crm_err_set(err, CRM_EUSAGE,
                           "subscriber %s: invalid event pattern '%s' (expected entity.verb, "
                           "entity.* or *)", name, pattern ? pattern : "(null)");
    if (find_sub(b, name))
        return crm_err_set(err, CRM_EEXISTS, "subscriber %s is already registered", name);
    if (b->dispatching)
        return crm_err_set(err, CRM_EUSAGE, "subscriber %s: cannot subscribe during dispatch",
                           name);
    return CRM_OK;
}

static int subs_reserve(crm_bus *b)
{
    return CRM_ARRAY_RESERVE(b->subs, b->cap_subs, b->n_subs + 1);
}

static int subscribe(crm_kernel *k, const char *name, const char *pattern, bool durable,
                     bool from_start, crm_bus_handler fn, void *ud, const char *actor,
                     crm_err *err)
{
    crm_bus *b = k->bus;
    int rc = check_subscription(b, name, pattern, fn, err);
    if (rc != CRM_OK)
        return rc;
    bus_sub s = {.durable = durable, .fn = fn, .ud = ud, .pos = b->head};
    if (durable) {
        s.pos = -1;
        rc = load_cursor(b, name, from_start, &s.pos, err);
        if (rc != CRM_OK)
            return rc;
        s.saved = s.pos;
    }
    if (subs_reserve(b) != CRM_OK)
        return oom(err);
    s.name = strdup(name);
    s.pattern = strdup(pattern);
    s.actor = strdup(actor ? actor : "kernel");
    if (!s.name || !s.pattern || !s.actor) {
        sub_free(&s);
        return oom(err);
    }
    b->subs[b->n_subs++] = s;
    return CRM_OK;
}

int crm_bus_subscribe(crm_kernel *k, const char *name, const char *pattern, bool durable,
                      crm_bus_handler fn, void *ud, const char *actor, crm_err *err)
{
    return subscribe(k, name, pattern, durable, false, fn, ud, actor, err);
}

int crm_bus_subscribe_from_start(crm_kernel *k, const char *name, const char *pattern,
                                 crm_bus_handler fn, void *ud, const char *actor, crm_err *err)
{
    return subscribe(k, name, pattern, true, true, fn, ud, actor, err);
}

int crm_bus_skip_foreign(crm_kernel *k, crm_err *err)
{
    crm_bus *b = k->bus;
    if (!b || b->dispatching)
        return CRM_OK;
    int64_t max;
    int rc = max_event_id(b, &max, err);
    for (size_t i = 0; rc == CRM_OK && i < b->n_subs; i++)
        if (!b->subs[i].durable && b->subs[i].pos < max)
            b->subs[i].pos = max;
    return rc;
}

int crm_bus_unsubscribe(crm_kernel *k, const char *name, crm_err *err)
{
    crm_bus *b = k->bus;
    bus_sub *s = b && name ? find_sub(b, name) : NULL;
    if (!s)
        return crm_err_set(err, CRM_ENOTFOUND, "no subscriber %s is registered",
                           name ? name : "(null)");
    if (b->dispatching)
        return crm_err_set(err, CRM_EUSAGE, "subscriber %s: cannot unsubscribe during dispatch",
                           name);
    size_t i = (size_t)(s - b->subs);
    sub_free(s);
    memmove(s, s + 1, (b->n_subs - i - 1) * sizeof *s);
    b->n_subs--;
    return CRM_OK;
}

void crm_bus_each_subscription(crm_kernel *k,
                               void (*fn)(const char *name, const char *pattern, bool durable,
                                          const char *actor, void *ud),
                               void *ud)
{
    crm_bus *b = k->bus;
    for (size_t i = 0; b && i < b->n_subs; i++)
        fn(b->subs[i].name, b->subs[i].pattern, b->subs[i].durable, b->subs[i].actor, ud);
}

/* ---- operator actions: replay and retry --------------------------------- */

int crm_bus_replay(crm_kernel *k, const char *name, int64_t from, crm_err *err)
{
    crm_bus *b = k->bus;
    if (!b)
        return crm_err_set(err, CRM_EUSAGE, "event bus not open (call crm_bus_open first)");
    if (from < 1)
        return crm_err_set(err, CRM_EUSAGE, "replay: --from must be an event id >= 1");
    bus_sub *s = find_sub(b, name);
    if (s && !s->durable) {  /* in memory: only this process's position */
        s->pos = from - 1;
        return CRM_OK;
    }
    int64_t cur = -1;
    int rc = query_i64(k->store, "SELECT last_event_id FROM bus_cursors WHERE subscriber = ?",
                       name, &cur, err);
    if (rc == CRM_OK && cur < 0 && !s)
        return crm_err_set(err, CRM_ENOTFOUND,
                           "no subscriber %s: not registered and no cursor in bus_cursors "
                           "(is its plugin loaded?)", name);
    if (rc == CRM_OK)
        rc = write_cursor(b, name, from - 1, err);
    if (rc == CRM_OK && s)
        s->pos = s->saved = from - 1;
    return rc;
}

typedef struct parked_ref {
    char *subscriber;
    int64_t event_id;
} parked_ref;

static void parked_free(parked_ref *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].subscriber);
    free(p);
}

/* The parked rows (of `name` when not NULL), oldest event first. */
static int parked_load(crm_bus *b, const char *name, parked_ref **out, size_t *n, crm_err *err)
{
    crm_store *store = b->k->store;
    sqlite3_stmt *st = crm_store_stmt(
        store,
        "SELECT subscriber, event_id FROM bus_parked WHERE ?1 IS NULL OR subscriber = ?1"
        " ORDER BY event_id, subscriber",
        err);
    if (!st)
        return code_of(err, CRM_EDB);
    crm_bind_text(st, 1, name);
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (CRM_ARRAY_RESERVE(*out, cap, *n + 1) != CRM_OK) {
            rc = oom(err);
            break;
        }
        parked_ref *p = &(*out)[(*n)++];
        p->event_id = sqlite3_column_int64(st, 1);
        if (!(p->subscriber = crm_column_strdup(st, 0)))
            rc = oom(err);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(store, "cannot read bus_parked", err);
    sqlite3_reset(st);
    return rc;
}

/* Loads event id into b->batch[0] (the batch is unused outside dispatch). */
static int event_load(crm_bus *b, int64_t id, bool *found, crm_err *err)
{
    crm_store *store = b->k->store;
    batch_clear(b);
    sqlite3_stmt *st = crm_store_stmt(
        store,
        "SELECT id, type, payload, source, depth, created_at FROM events WHERE id = ?", err);
    if (!st)
        return code_of(err, CRM_EDB);
    sqlite3_bind_int64(st, 1, id);
    int rc = CRM_OK, step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (*found && event_from_row(st, &b->batch[b->n_batch++]) != CRM_OK)
        rc = oom(err);
    else if (!*found && step != SQLITE_DONE)
        rc = crm_store_error(store, "cannot read event", err);
    sqlite3_reset(st);
    return rc;
}

/* Re-runs one parked delivery: *ok when it went through (row removed with
 * the handler's writes); otherwise the row's attempts and error are updated. */
static int retry_one(crm_bus *b, const parked_ref *p, bool *ok, crm_err *err)
{
    *ok = false;
    bus_sub *s = find_sub(b, p->subscriber);
    if (!s)
        return CRM_OK;  /* not loaded in this process: stays parked */
    bool found = false;
    int rc = event_load(b, p->event_id, &found, err);
    if (rc != CRM_OK || !found)
        return rc;
    const crm_event *ev = &b->batch[0];
    crm_err last = {0};
    bool failed;
    rc = attempts(b, s, ev, true, 0, &failed, &last);
    if (rc != CRM_OK)
        rc = crm_err_set(err, rc, "%s", last.msg);
    else if (failed)
        rc = park(b, s, ev, last.msg, false, err);
    *ok = rc == CRM_OK && !failed;
    batch_clear(b);
    return rc;
}

static int retry_all(crm_bus *b, const parked_ref *p, size_t n, int *retried, int *still,
                     crm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        bool ok;
        int rc = retry_one(b, &p[i], &ok, err);
        if (rc != CRM_OK)
            return rc;
        *(ok ? retried : still) += 1;
    }
    return CRM_OK;
}

int crm_bus_retry(crm_kernel *k, const char *name, int *retried, int *still_failing,
                  crm_err *err)
{
    crm_bus *b = k->bus;
    int r = 0, f = 0;
    if (retried)
        *retried = 0;
    if (still_failing)
        *still_failing = 0;
    if (!b)
        return crm_err_set(err, CRM_EUSAGE, "event bus not open (call crm_bus_open first)");
    if (b->dispatching || crm_store_depth(k->store) > 0)
        return crm_err_set(err, CRM_EUSAGE, "retry: not possible inside a transaction or a "
                                            "handler");
    if (name && !find_sub(b, name))
        return crm_err_set(err, CRM_ENOTFOUND,
                           "no subscriber %s is registered (is its plugin loaded?)", name);
    parked_ref *p = NULL;
    size_t n = 0;
    int rc = parked_load(b, name, &p, &n, err);
    b->dispatching = true;  /* cascades wait for the dispatch below */
    if (rc == CRM_OK)
        rc = retry_all(b, p, n, &r, &f, err);
    b->dispatching = false;
    parked_free(p, n);
    if (rc == CRM_OK)
        rc = crm_bus_dispatch(k, err);
    if (retried)
        *retried = r;
    if (still_failing)
        *still_failing = f;
    return rc;
}

/* The event bus: dispatch after commit, ordering, patterns, durable cursors
 * across a crash, parking and retry, cascade bound, replay, catch-up, and
 * delivery batches (one transaction for many events, per-event fallback). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "events.h"
#include "model.h"

/* ---- fixture ------------------------------------------------------------ */

typedef struct fixture {
    char *dir;
    char db[4200];
    crm_kernel *k;
} fixture;

/* Opens a kernel on db with the bus attached (the plugin host may already
 * have attached it). NULL on failure, message in err. */
static crm_kernel *open_kernel_err(const char *db, crm_err *err)
{
    crm_open_opts o = {.db_path = db, .create = true, .no_plugins = true};
    crm_kernel *k = NULL;
    if (crm_kernel_open(&k, &o, err) != CRM_OK)
        return NULL;
    if (!k->bus && crm_bus_open(k, err) != CRM_OK) {
        crm_kernel_close(k);
        return NULL;
    }
    return k;
}

static crm_kernel *open_kernel(const char *db)
{
    crm_err err = {0};
    crm_kernel *k = open_kernel_err(db, &err);
    if (!k)
        fail_msg("cannot open kernel: %s", err.msg);
    return k;
}

static void close_kernel(crm_kernel *k)
{
    crm_bus_close(k);
    crm_kernel_close(k);
}

/* Resets the handlers' shared state (see below). */
static void reset_globals(void);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    snprintf(f->db, sizeof f->db, "%s/crm.db", f->dir);
    f->k = open_kernel(f->db);
    crm_err err = {0};
    if (crm_store_exec(f->k->store, "CREATE TABLE effects(event_id INTEGER, sub TEXT)", &err))
        fail_msg("%s", err.msg);
    reset_globals();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_kernel(f->k);
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int64_t emit_in(crm_kernel *k, const char *type)
{
    crm_err err = {0};
    int64_t id = 0;
    if (crm_event_emit(k, type, json_object(), &id, &err) != CRM_OK)
        fail_msg("emit %s: %s", type, err.msg);
    return id;
}

/* Emits one event in its own transaction (dispatched at commit). */
static int64_t emit(crm_kernel *k, const char *type)
{
    crm_err err = {0};
    assert_int_equal(crm_kernel_begin(k, &err), CRM_OK);
    int64_t id = emit_in(k, type);
    if (crm_kernel_commit(k, &err) != CRM_OK)
        fail_msg("commit: %s", err.msg);
    return id;
}

static int64_t query_int(crm_kernel *k, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(crm_store_db(k->store)));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static char *query_text(crm_kernel *k, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(crm_store_db(k->store)));
    char *v = sqlite3_step(st) == SQLITE_ROW ? crm_column_strdup(st, 0) : NULL;
    sqlite3_finalize(st);
    return v;
}

static void subscribe(crm_kernel *k, const char *name, const char *pattern, bool durable,
                      crm_bus_handler fn, void *ud)
{
    crm_err err = {0};
    if (crm_bus_subscribe(k, name, pattern, durable, fn, ud, name, &err) != CRM_OK)
        fail_msg("subscribe %s: %s", name, err.msg);
}

static void dispatch(crm_kernel *k)
{
    crm_err err = {0};
    if (crm_bus_dispatch(k, &err) != CRM_OK)
        fail_msg("dispatch: %s", err.msg);
}

/* ---- handlers ----------------------------------------------------------- */

typedef struct rec {
    char sub[32];
    char type[48];
    char actor[32];
    int64_t id;
    int emit_depth;  /* k->event_depth during the handler */
    int tx_depth;    /* open transactions during the handler */
    bool has_json;
} rec;

static rec g_log[512];
static int g_n;
static bool g_fail;     /* h_flaky fails while set */
static int g_calls;     /* h_flaky calls */
static int g_crash_in;  /* h_effect: _exit(0) at this many more calls (0 = never) */
static int64_t g_cursor_seen[64];
static int64_t g_fail_id;   /* h_fail_on fails for this event id (0 = none) */
static int g_calls_on[64];  /* h_fail_on / h_nested calls per event id */

static void reset_globals(void)
{
    g_n = 0;
    g_fail = false;
    g_calls = 0;
    g_crash_in = 0;
    memset(g_cursor_seen, 0, sizeof g_cursor_seen);
    g_fail_id = 0;
    memset(g_calls_on, 0, sizeof g_calls_on);
}

static int h_record(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    if (g_n >= (int)(sizeof g_log / sizeof g_log[0]))
        return crm_err_set(err, CRM_EINTERNAL, "log full");
    rec *r = &g_log[g_n++];
    snprintf(r->sub, sizeof r->sub, "%s", (const char *)ud);
    snprintf(r->type, sizeof r->type, "%s", ev->type);
    snprintf(r->actor, sizeof r->actor, "%s", k->actor);
    r->id = ev->id;
    r->emit_depth = k->event_depth;
    r->tx_depth = crm_store_depth(k->store);
    r->has_json = json_is_object(ev->json) && json_object_get(ev->json, "dataver");
    return CRM_OK;
}

static int insert_effect(crm_kernel *k, const crm_event *ev, const char *sub, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "INSERT INTO effects(event_id, sub) VALUES(?, ?)", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, ev->id);
    sqlite3_bind_text(st, 2, sub, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "insert effect", err);
}

/* Writes an effect row; remembers the cursor it sees; may simulate a crash
 * after its write, before the bus commits. */
static int h_effect(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    int rc = insert_effect(k, ev, ud, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT last_event_id FROM bus_cursors WHERE subscriber = ?", err);
    sqlite3_bind_text(st, 1, ud, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && ev->id < 64)
        g_cursor_seen[ev->id] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (g_crash_in > 0 && --g_crash_in == 0)
        _exit(0);  /* the process dies between the handler and the bus's commit */
    return CRM_OK;
}

/* Writes an effect row, then fails while g_fail is set. */
static int h_flaky(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    g_calls++;
    int rc = insert_effect(k, ev, ud, err);
    if (rc == CRM_OK && g_fail)
        rc = crm_err_set(err, CRM_EINVAL, "flaky: service down");
    return rc;
}

/* Writes an effect row, then fails for event g_fail_id. */
static int h_fail_on(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    if (ev->id < 64)
        g_calls_on[ev->id]++;
    int rc = insert_effect(k, ev, ud, err);
    if (rc == CRM_OK && ev->id == g_fail_id)
        rc = crm_err_set(err, CRM_EINVAL, "fail on %lld", (long long)ev->id);
    return rc;
}

/* Writes an effect, then a second one in a nested transaction it rolls back
 * (as a model call refused after writing would): only the first may stay. */
static int h_nested(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    if (ev->id < 64)
        g_calls_on[ev->id]++;
    int rc = insert_effect(k, ev, ud, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = insert_effect(k, ev, "junk", err);
    crm_kernel_rollback(k);
    return rc;
}

/* Emits child.made for each seed.* event. */
static int h_spawn(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    if (strncmp(ev->type, "seed.", 5) != 0)
        return CRM_OK;
    return crm_event_emit(k, "child.made", json_object(), NULL, err);
}

/* Emits another event for every event: an endless cascade. */
static int h_loop(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    return crm_event_emit(k, "loop.again", json_object(), NULL, err);
}

static int h_leaves_tx_open(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    return crm_kernel_begin(k, err);
}

/* ---- tests -------------------------------------------------------------- */

static void test_dispatch_after_commit_only(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "all", "*", false, h_record, "all");
    assert_int_equal(crm_kernel_begin(f->k, &err), CRM_OK);
    int64_t a = emit_in(f->k, "thing.happened");
    assert_int_equal(crm_kernel_begin(f->k, &err), CRM_OK);
    int64_t b = emit_in(f->k, "thing.changed");
    assert_int_equal(crm_kernel_commit(f->k, &err), CRM_OK);  /* inner: no dispatch */
    assert_int_equal(g_n, 0);
    assert_int_equal(crm_kernel_commit(f->k, &err), CRM_OK);
    assert_int_equal(g_n, 2);
    assert_int_equal(g_log[0].id, a);
    assert_int_equal(g_log[1].id, b);
    assert_string_equal(g_log[0].actor, "all");
    assert_int_equal(g_log[0].emit_depth, 1);
    assert_true(g_log[0].tx_depth >= 1);
    assert_true(g_log[0].has_json);
    assert_string_equal(f->k->actor, "kernel");  /* restored */
    assert_int_equal(f->k->event_depth, 0);
}

static void test_rollback_dispatches_nothing(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "all", "*", false, h_record, "all");
    assert_int_equal(crm_kernel_begin(f->k, &err), CRM_OK);
    emit_in(f->k, "thing.happened");
    crm_kernel_rollback(f->k);
    dispatch(f->k);
    assert_int_equal(g_n, 0);
    int64_t id = emit(f->k, "thing.kept");
    assert_int_equal(g_n, 1);
    assert_int_equal(g_log[0].id, id);
    assert_string_equal(g_log[0].type, "thing.kept");
}

static void test_patterns(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    assert_true(crm_bus_match("order.placed", "order.placed"));
    assert_false(crm_bus_match("order.placed", "order.paid"));
    assert_true(crm_bus_match("order.*", "order.paid"));
    assert_false(crm_bus_match("order.*", "orders.paid"));
    assert_false(crm_bus_match("order.*", "order."));
    assert_true(crm_bus_match("*", "contact.created"));
    assert_true(crm_bus_pattern_valid("order.*"));
    assert_false(crm_bus_pattern_valid("*.placed"));
    assert_false(crm_bus_pattern_valid("order"));
    assert_int_equal(crm_bus_subscribe(f->k, "bad", "Order.*", false, h_record, "bad", NULL, &err),
                     CRM_EUSAGE);
    assert_non_null(strstr(err.msg, "invalid event pattern"));

    subscribe(f->k, "exact", "order.placed", false, h_record, "exact");
    subscribe(f->k, "wild", "order.*", false, h_record, "wild");
    subscribe(f->k, "all", "*", false, h_record, "all");
    assert_int_equal(crm_bus_subscribe(f->k, "all", "*", false, h_record, "x", NULL, &err),
                     CRM_EEXISTS);
    emit(f->k, "order.placed");
    emit(f->k, "order.paid");
    emit(f->k, "contact.created");
    int exact = 0, wild = 0, all = 0;
    for (int i = 0; i < g_n; i++) {
        exact += strcmp(g_log[i].sub, "exact") == 0;
        wild += strcmp(g_log[i].sub, "wild") == 0;
        all += strcmp(g_log[i].sub, "all") == 0;
    }
    assert_int_equal(exact, 1);
    assert_int_equal(wild, 2);
    assert_int_equal(all, 3);
}

static void test_subscription_order(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "c", "*", false, h_record, "c");
    subscribe(f->k, "a", "*", false, h_record, "a");
    subscribe(f->k, "b", "*", false, h_record, "b");
    assert_int_equal(crm_kernel_begin(f->k, &err), CRM_OK);
    int64_t e1 = emit_in(f->k, "thing.one");
    int64_t e2 = emit_in(f->k, "thing.two");
    assert_int_equal(crm_kernel_commit(f->k, &err), CRM_OK);
    /* Events committed together reach each subscriber in one delivery
     * batch: per subscriber in id order, subscribers in subscription order. */
    const char *want[] = {"c", "c", "a", "a", "b", "b"};
    assert_int_equal(g_n, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(g_log[i].sub, want[i]);
        assert_int_equal(g_log[i].id, i % 2 ? e2 : e1);
    }
}

static void each_sub(const char *name, const char *pattern, bool durable, const char *actor,
                     void *ud)
{
    char *buf = ud;
    size_t len = strlen(buf);
    snprintf(buf + len, 256 - len, "%s:%s:%d:%s;", name, pattern, durable, actor);
}

static void test_each_subscription(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "one", "order.*", false, h_record, "one");
    assert_int_equal(crm_bus_subscribe(f->k, "two", "*", true, h_effect, "two", "plug", &err),
                     CRM_OK);
    char buf[256] = "";
    crm_bus_each_subscription(f->k, each_sub, buf);
    assert_string_equal(buf, "one:order.*:0:one;two:*:1:plug;");
    assert_int_equal(crm_bus_unsubscribe(f->k, "one", &err), CRM_OK);
    assert_int_equal(crm_bus_unsubscribe(f->k, "one", &err), CRM_ENOTFOUND);
    buf[0] = '\0';
    crm_bus_each_subscription(f->k, each_sub, buf);
    assert_string_equal(buf, "two:*:1:plug;");
    emit(f->k, "order.placed");
    assert_int_equal(g_n, 0);
}

static void test_durable_cursor_with_handler_writes(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "dur", "*", true, h_effect, "dur");
    subscribe(f->k, "orders", "order.*", true, h_effect, "orders");
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = emit(f->k, "thing.happened");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'dur'"), 3);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'dur'"), ids[2]);
    /* Inside the handler the cursor was still at the previous event: it
     * moves with the handler's writes, at the bus's commit. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_cursor_seen[ids[i]], ids[i] - 1);
    /* A subscriber that matched nothing still moves past those events. */
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'orders'"), 0);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'orders'"),
        ids[2]);
}

/* The child: a durable handler that writes its effect then dies before the
 * bus commits, during the second delivery. Exit codes other than 0 from
 * here mean the setup failed. */
static void crash_child(const char *db)
{
    crm_err err = {0};
    crm_kernel *k = open_kernel_err(db, &err);
    if (!k)
        _exit(2);
    if (crm_bus_subscribe(k, "crashy", "*", true, h_effect, "crashy", "crashy", &err) != CRM_OK)
        _exit(3);
    g_crash_in = 2;
    for (int i = 0; i < 3; i++) {
        if (crm_kernel_begin(k, &err) != CRM_OK ||
            crm_event_emit(k, "thing.happened", json_object(), NULL, &err) != CRM_OK ||
            crm_kernel_commit(k, &err) != CRM_OK)
            _exit(4);
    }
    _exit(5);  /* the handler should have died */
}

static void test_crash_between_handler_and_commit(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "crashy", "*", true, h_effect, "crashy");  /* creates its cursor */
    close_kernel(f->k);
    f->k = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        crash_child(f->db);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    f->k = open_kernel(f->db);
    /* Event 1 was delivered; event 2 committed but its effect died with the
     * process; event 3 was never emitted. */
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events"), 2);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 1);
    int64_t first = query_int(f->k, "SELECT min(id) FROM events");
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'crashy'"),
        first);
    subscribe(f->k, "crashy", "*", true, h_effect, "crashy");
    dispatch(f->k);  /* catch-up, as the plugin host does after start */
    emit(f->k, "thing.after");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events"), 3);
    /* At-least-once delivery, exactly-once effect: one row per event. */
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events e WHERE (SELECT count(*) FROM"
                                     " effects x WHERE x.event_id = e.id) <> 1"),
                     0);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 3);
}

static void test_park_and_retry(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "flaky", "*", true, h_flaky, "flaky");
    subscribe(f->k, "other", "*", false, h_record, "other");
    g_fail = true;
    int64_t e1 = emit(f->k, "thing.happened");
    assert_int_equal(g_calls, CRM_BUS_MAX_ATTEMPTS);
    assert_int_equal(g_n, 1);  /* the other subscriber went on */
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 0);  /* rolled back */
    assert_int_equal(query_int(f->k, "SELECT attempts FROM bus_parked WHERE subscriber = 'flaky'"),
                     3);
    assert_int_equal(query_int(f->k, "SELECT event_id FROM bus_parked"), e1);
    char *why = query_text(f->k, "SELECT error FROM bus_parked");
    assert_non_null(why);
    assert_non_null(strstr(why, "flaky: service down"));
    free(why);
    /* The durable cursor moved past it: later events go on. */
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'flaky'"), e1);
    emit(f->k, "thing.happened");  /* parked too */
    g_fail = false;
    int64_t e3 = emit(f->k, "thing.happened");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM bus_parked"), 2);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 1);
    assert_int_equal(query_int(f->k, "SELECT event_id FROM effects"), e3);

    int retried = -1, still = -1;
    assert_int_equal(crm_bus_retry(f->k, "nobody", &retried, &still, &err), CRM_ENOTFOUND);
    assert_int_equal(crm_bus_retry(f->k, NULL, &retried, &still, &err), CRM_OK);
    assert_int_equal(retried, 2);
    assert_int_equal(still, 0);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM bus_parked"), 0);
    assert_int_equal(query_int(f->k, "SELECT count(DISTINCT event_id) FROM effects"), 3);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 3);
}

static void test_retry_still_failing_and_memory_parking(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "mem.flaky", "*", false, h_flaky, "mem.flaky");
    g_fail = true;
    emit(f->k, "thing.happened");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM bus_parked"
                                     " WHERE subscriber = 'mem.flaky' AND attempts = 3"),
                     1);
    int retried = -1, still = -1;
    assert_int_equal(crm_bus_retry(f->k, "mem.flaky", &retried, &still, &err), CRM_OK);
    assert_int_equal(retried, 0);
    assert_int_equal(still, 1);
    assert_int_equal(query_int(f->k, "SELECT attempts FROM bus_parked"), 6);
}

static void test_unbalanced_handler_is_a_failure(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "leaky", "*", false, h_leaves_tx_open, "leaky");
    emit(f->k, "thing.happened");
    assert_int_equal(crm_store_depth(f->k->store), 0);
    char *why = query_text(f->k, "SELECT error FROM bus_parked WHERE subscriber = 'leaky'");
    assert_non_null(why);
    assert_non_null(strstr(why, "left a nested transaction open"));
    free(why);
}

static void test_cascade_bound(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "looper", "*", false, h_loop, "looper");
    emit(f->k, "seed.start");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events WHERE type = 'loop.again'"),
                     CRM_BUS_MAX_DEPTH);
    assert_int_equal(query_int(f->k, "SELECT max(depth) FROM events"), CRM_BUS_MAX_DEPTH);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events WHERE source = 'looper'"),
                     CRM_BUS_MAX_DEPTH);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM bus_parked"), 1);
    assert_int_equal(query_int(f->k, "SELECT event_id FROM bus_parked"),
                     query_int(f->k, "SELECT max(id) FROM events"));
    char want[1024] = "cascade too deep (9, limit 8): seed.start";
    for (int i = 0; i <= CRM_BUS_MAX_DEPTH; i++)
        strcat(want, " → loop.again");
    strcat(want, "; emitted by subscriber looper");
    char *why = query_text(f->k, "SELECT error FROM bus_parked");
    assert_non_null(why);
    assert_string_equal(why, want);
    free(why);
}

static void test_replay(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "rep", "*", true, h_effect, "rep");
    int64_t e1 = emit(f->k, "thing.happened");
    emit(f->k, "thing.happened");
    int64_t e3 = emit(f->k, "thing.happened");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 3);
    assert_int_equal(crm_bus_replay(f->k, "rep", e1 + 1, &err), CRM_OK);
    dispatch(f->k);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 5);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE event_id = 1"), 1);
    assert_int_equal(crm_bus_replay(f->k, "nobody", 1, &err), CRM_ENOTFOUND);
    assert_int_equal(crm_bus_replay(f->k, "rep", 0, &err), CRM_EUSAGE);

    /* Not registered (plugin not loaded) but with a cursor: its next run replays. */
    close_kernel(f->k);
    f->k = open_kernel(f->db);
    assert_int_equal(crm_bus_replay(f->k, "rep", e3, &err), CRM_OK);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'rep'"),
        e3 - 1);
    subscribe(f->k, "rep", "*", true, h_effect, "rep");
    dispatch(f->k);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 6);
}

static void test_new_durable_starts_at_end_then_catches_up(void **state)
{
    fixture *f = *state;
    emit(f->k, "thing.before");
    subscribe(f->k, "late", "*", true, h_effect, "late");
    dispatch(f->k);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 0);  /* no history */
    emit(f->k, "thing.during");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 1);

    close_kernel(f->k);  /* a run without the subscriber (plugin not loaded) */
    f->k = open_kernel(f->db);
    emit(f->k, "thing.missed");
    emit(f->k, "thing.missed");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 1);

    close_kernel(f->k);
    f->k = open_kernel(f->db);
    subscribe(f->k, "late", "*", true, h_effect, "late");
    dispatch(f->k);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 3);
    /* An in-memory subscriber sees only what is committed after it came. */
    subscribe(f->k, "mem", "*", false, h_record, "mem");
    dispatch(f->k);
    assert_int_equal(g_n, 0);
}

/* Emits n events in one command transaction; returns the first id. */
static int64_t emit_many(crm_kernel *k, const char *type, int n)
{
    crm_err err = {0};
    assert_int_equal(crm_kernel_begin(k, &err), CRM_OK);
    int64_t first = 0;
    for (int i = 0; i < n; i++) {
        int64_t id = emit_in(k, type);
        if (i == 0)
            first = id;
    }
    if (crm_kernel_commit(k, &err) != CRM_OK)
        fail_msg("commit: %s", err.msg);
    return first;
}

static void test_batch_one_transaction_per_subscriber(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "dur", "*", true, h_effect, "dur");
    int64_t before = emit(f->k, "thing.first");
    int64_t first = emit_many(f->k, "thing.happened", 5);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 6);
    /* All five ran in one transaction: each saw the cursor from before the
     * batch, which then moved once to the last event. */
    for (int64_t id = first; id < first + 5; id++)
        assert_int_equal(g_cursor_seen[id], before);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'dur'"),
        first + 4);
}

static void test_batch_larger_than_limit(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "dur", "thing.*", true, h_effect, "dur");
    subscribe(f->k, "mem", "thing.*", false, h_fail_on, "mem");
    crm_err err = {0};
    assert_int_equal(crm_kernel_begin(f->k, &err), CRM_OK);
    for (int i = 0; i < 1300; i++)
        emit_in(f->k, i % 3 ? "thing.happened" : "other.happened");
    assert_int_equal(crm_kernel_commit(f->k, &err), CRM_OK);
    int64_t last = query_int(f->k, "SELECT max(id) FROM events");
    int64_t things = query_int(f->k, "SELECT count(*) FROM events WHERE type = 'thing.happened'");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'dur'"), things);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'mem'"), things);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM (SELECT event_id, sub FROM effects"
                                     " GROUP BY event_id, sub HAVING count(*) > 1)"),
                     0);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'dur'"), last);
}

/* A failing event in a batch: the batch rolls back, its events go one by
 * one; only the failing one is parked (after the usual attempts), the
 * others take effect once. */
static void batch_with_failure(fixture *f, bool durable)
{
    crm_err err = {0};
    subscribe(f->k, "sub", "*", durable, h_fail_on, "sub");
    subscribe(f->k, "rec", "*", false, h_record, "rec");
    int64_t first = query_int(f->k, "SELECT coalesce(max(id), 0) + 1 FROM events");
    g_fail_id = first + 2;
    assert_int_equal(emit_many(f->k, "thing.happened", 5), first);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 4);
    assert_int_equal(query_int(f->k, "SELECT count(DISTINCT event_id) FROM effects"), 4);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM effects WHERE event_id = %lld",
             (long long)g_fail_id);
    assert_int_equal(query_int(f->k, sql), 0);
    assert_int_equal(g_calls_on[g_fail_id], CRM_BUS_MAX_ATTEMPTS);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM bus_parked"), 1);
    assert_int_equal(query_int(f->k, "SELECT event_id FROM bus_parked"), g_fail_id);
    assert_int_equal(query_int(f->k, "SELECT attempts FROM bus_parked"), CRM_BUS_MAX_ATTEMPTS);
    char *why = query_text(f->k, "SELECT error FROM bus_parked");
    assert_non_null(why);
    assert_non_null(strstr(why, "fail on"));
    free(why);
    if (durable)
        assert_int_equal(
            query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'sub'"),
            first + 4);
    /* The other subscriber saw each event once, in order. */
    assert_int_equal(g_n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(g_log[i].id, first + i);
    /* Later batches go on; a retry applies the parked event once. */
    emit_many(f->k, "thing.happened", 3);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 7);
    g_fail_id = 0;
    int retried = -1, still = -1;
    assert_int_equal(crm_bus_retry(f->k, "sub", &retried, &still, &err), CRM_OK);
    assert_int_equal(retried, 1);
    assert_int_equal(still, 0);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 8);
    assert_int_equal(query_int(f->k, "SELECT count(DISTINCT event_id) FROM effects"), 8);
}

static void test_batch_failure_parks_only_that_event(void **state)
{
    batch_with_failure(*state, true);
}

static void test_batch_failure_parks_only_that_event_in_memory(void **state)
{
    batch_with_failure(*state, false);
}

/* A nested rollback that undid writes cannot be done alone in batch mode:
 * the batch falls back, and the subscriber's next batches use savepoints. */
static void test_batch_nested_rollback_falls_back(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "nest", "*", true, h_nested, "outer");
    int64_t first = emit_many(f->k, "thing.happened", 3);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'junk'"), 0);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'outer'"), 3);
    assert_int_equal(query_int(f->k, "SELECT count(DISTINCT event_id) FROM effects"), 3);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM bus_parked"), 0);
    /* Event 1: the batch try, then alone; events 2-3: one savepoint batch. */
    assert_int_equal(g_calls_on[first], 2);
    assert_int_equal(g_calls_on[first + 1], 1);
    assert_int_equal(g_calls_on[first + 2], 1);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'nest'"),
        first + 2);
    emit_many(f->k, "thing.happened", 2);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'junk'"), 0);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects WHERE sub = 'outer'"), 5);
}

/* Events emitted by handlers in a batch: depth + 1, dispatched after the
 * batch's events, each once. */
static void test_batch_cascade(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "spawn", "seed.*", true, h_spawn, "spawn");
    subscribe(f->k, "rec", "*", false, h_record, "rec");
    int64_t first = emit_many(f->k, "seed.planted", 3);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events WHERE type = 'child.made'"
                                     " AND depth = 1 AND source = 'spawn'"),
                     3);
    assert_int_equal(g_n, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g_log[i].id, first + i);
        assert_string_equal(g_log[i].type, i < 3 ? "seed.planted" : "child.made");
        assert_int_equal(g_log[i].emit_depth, i < 3 ? 1 : 2);
    }
}

/* The child commits one event (delivered), then five in one transaction
 * whose delivery batch dies in the handler of the third. */
static void crash_batch_child(const char *db)
{
    crm_err err = {0};
    crm_kernel *k = open_kernel_err(db, &err);
    if (!k)
        _exit(2);
    if (crm_bus_subscribe(k, "crashy", "*", true, h_effect, "crashy", "crashy", &err) != CRM_OK)
        _exit(3);
    if (crm_kernel_begin(k, &err) != CRM_OK ||
        crm_event_emit(k, "thing.first", json_object(), NULL, &err) != CRM_OK ||
        crm_kernel_commit(k, &err) != CRM_OK)
        _exit(4);
    g_crash_in = 3;
    if (crm_kernel_begin(k, &err) != CRM_OK)
        _exit(4);
    for (int i = 0; i < 5; i++)
        if (crm_event_emit(k, "thing.happened", json_object(), NULL, &err) != CRM_OK)
            _exit(4);
    crm_kernel_commit(k, &err);
    _exit(5);  /* the handler should have died */
}

static void test_crash_mid_batch(void **state)
{
    fixture *f = *state;
    subscribe(f->k, "crashy", "*", true, h_effect, "crashy");
    close_kernel(f->k);
    f->k = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        crash_batch_child(f->db);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    f->k = open_kernel(f->db);
    /* Six events committed; only the first one's effect: the batch's two
     * applied effects died with it, and the cursor did not move. */
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events"), 6);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 1);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'crashy'"),
        query_int(f->k, "SELECT min(id) FROM events"));
    subscribe(f->k, "crashy", "*", true, h_effect, "crashy");
    dispatch(f->k);  /* catch-up */
    emit(f->k, "thing.after");
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM events e WHERE (SELECT count(*) FROM"
                                     " effects x WHERE x.event_id = e.id) <> 1"),
                     0);
    assert_int_equal(query_int(f->k, "SELECT count(*) FROM effects"), 7);
    assert_int_equal(
        query_int(f->k, "SELECT last_event_id FROM bus_cursors WHERE subscriber = 'crashy'"),
        query_int(f->k, "SELECT max(id) FROM events"));
}

static void test_contact_add_emits_contact_created(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    subscribe(f->k, "contacts", "contact.*", false, h_record, "contacts");
    crm_contact c = {0};
    c.email = strdup("ada@example.com");
    c.last_name = strdup("Lovelace");
    int64_t id = 0;
    int rc = crm_contact_add(f->k, &c, &id, &err);
    crm_contact_clear(&c);
    if (rc != CRM_OK)
        fail_msg("contact add: %s", err.msg);
    assert_int_equal(g_n, 1);
    assert_string_equal(g_log[0].type, "contact.created");
}

int main(void)
{
    unsetenv("CRM_CONFIG");
    unsetenv("CRM_DB");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dispatch_after_commit_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_dispatches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_subscription, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_cursor_with_handler_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_handler_and_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_and_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_still_failing_and_memory_parking, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unbalanced_handler_is_a_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_durable_starts_at_end_then_catches_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_contact_add_emits_contact_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_one_transaction_per_subscriber, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_larger_than_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_failure_parks_only_that_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_failure_parks_only_that_event_in_memory,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_nested_rollback_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_mid_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The store: migrations (fresh, upgrade, newer-than-binary refused),
 * statement cache, nested transactions, and kernel open/close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "schema.h"
#include "store.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    char *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    size_t len = strlen(f->dir) + 16;
    f->db = malloc(len);
    snprintf(f->db, len, "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f->db);
    free(f);
    return 0;
}

static const crm_migration v1[] = {
    {1, "widgets", "CREATE TABLE t_widgets(id INTEGER PRIMARY KEY, name TEXT)"},
};
static const crm_migration v2[] = {
    {1, "widgets", "CREATE TABLE t_widgets(id INTEGER PRIMARY KEY, name TEXT)"},
    {2, "colour", "ALTER TABLE t_widgets ADD COLUMN colour TEXT"},
};

static int count(crm_store *s, const char *sql)
{
    sqlite3_stmt *st = crm_store_stmt(s, sql, NULL);
    assert_non_null(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return n;
}

static void test_migrations_fresh_then_upgrade(void **state)
{
    fixture *f = *state;
    crm_store *s;
    crm_err err = {0};
    int applied;
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_migrate(s, "t", v1, 1, &applied, &err), CRM_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(crm_store_schema_version(s, "t", &err), 1);
    /* Idempotent: nothing to do the second time. */
    assert_int_equal(crm_store_migrate(s, "t", v1, 1, &applied, &err), CRM_OK);
    assert_int_equal(applied, 0);
    crm_store_close(s);

    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_migrate(s, "t", v2, 2, &applied, &err), CRM_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(crm_store_schema_version(s, "t", &err), 2);
    assert_int_equal(crm_store_exec(s, "INSERT INTO t_widgets(name, colour) VALUES('a','red')",
                                    &err),
                     CRM_OK);
    crm_store_close(s);
}

static void test_newer_database_refused(void **state)
{
    fixture *f = *state;
    crm_store *s;
    crm_err err = {0};
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_migrate(s, "t", v2, 2, NULL, &err), CRM_OK);
    crm_store_close(s);

    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_migrate(s, "t", v1, 1, NULL, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "newer crm"));
    assert_non_null(strstr(err.msg, "version 2"));
    crm_store_close(s);
}

static void test_failed_migration_leaves_nothing(void **state)
{
    fixture *f = *state;
    static const crm_migration bad[] = {
        {1, "ok then broken", "CREATE TABLE t_a(id INTEGER); CREATE TABLE t_a(id INTEGER)"},
    };
    crm_store *s;
    crm_err err = {0};
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_not_equal(crm_store_migrate(s, "t", bad, 1, NULL, &err), CRM_OK);
    assert_non_null(strstr(err.msg, "migration t 1"));
    assert_int_equal(crm_store_schema_version(s, "t", &err), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM sqlite_master WHERE name='t_a'"), 0);
    crm_store_close(s);
}

static void test_statement_cache_and_nesting(void **state)
{
    fixture *f = *state;
    crm_store *s;
    crm_err err = {0};
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_exec(s, "CREATE TABLE n(x INTEGER)", &err), CRM_OK);
    const char *sql = "INSERT INTO n(x) VALUES(?)";
    sqlite3_stmt *a = crm_store_stmt(s, sql, &err);
    char copy[64];
    strcpy(copy, sql); /* same text, another pointer: still the cached statement */
    assert_ptr_equal(crm_store_stmt(s, copy, &err), a);

    /* Outer commits, inner rolls back: only the outer row stays. */
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    sqlite3_bind_int(a, 1, 1);
    assert_int_equal(sqlite3_step(a), SQLITE_DONE);
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    a = crm_store_stmt(s, sql, &err);
    sqlite3_bind_int(a, 1, 2);
    assert_int_equal(sqlite3_step(a), SQLITE_DONE);
    sqlite3_reset(a);
    crm_store_rollback(s);
    assert_int_equal(crm_store_depth(s), 1);
    assert_int_equal(crm_store_commit(s, &err), CRM_OK);
    assert_int_equal(crm_store_depth(s), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 1);
    assert_int_equal(count(s, "SELECT x FROM n"), 1);

    /* Many distinct statements grow the cache without losing any. */
    for (int i = 0; i < 200; i++) {
        char q[64];
        snprintf(q, sizeof q, "SELECT %d", i);
        sqlite3_stmt *st = crm_store_stmt(s, q, &err);
        assert_non_null(st);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), i);
    }
    crm_store_close(s);
}

static void insert_n(crm_store *s, int x)
{
    sqlite3_stmt *st = crm_store_stmt(s, "INSERT INTO n(x) VALUES(?)", NULL);
    sqlite3_bind_int(st, 1, x);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
}

/* A snapshot is one view: another connection's commit stays out of it
 * until it ends; a write inside it takes the write lock the usual way; a
 * statement left mid-step does not keep the read open past the end. */
static void test_snapshot(void **state)
{
    fixture *f = *state;
    crm_store *s, *w;
    crm_err err = {0};
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_open(&w, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_exec(s, "CREATE TABLE n(x INTEGER)", &err), CRM_OK);
    insert_n(s, 1);

    assert_int_equal(crm_store_snapshot_begin(s), CRM_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 1);
    insert_n(w, 2);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 1); /* the snapshot's view */
    crm_store_snapshot_end(s);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 2);

    assert_int_equal(crm_store_snapshot_begin(s), CRM_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 2);
    insert_n(w, 3);
    assert_int_equal(crm_store_begin(s, &err), CRM_OK); /* ends the snapshot: no BUSY_SNAPSHOT */
    insert_n(s, 4);
    assert_int_equal(crm_store_commit(s, &err), CRM_OK);
    assert_int_equal(count(w, "SELECT count(*) FROM n"), 4);
    crm_store_snapshot_end(s);

    assert_int_equal(crm_store_snapshot_begin(s), CRM_OK);
    sqlite3_stmt *open = crm_store_stmt(s, "SELECT x FROM n ORDER BY x", &err);
    assert_int_equal(sqlite3_step(open), SQLITE_ROW); /* left mid-step */
    crm_store_snapshot_end(s);
    insert_n(w, 5);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 5); /* not the old snapshot */
    crm_store_close(w);
    crm_store_close(s);
}

static void test_batch_mode(void **state)
{
    fixture *f = *state;
    crm_store *s;
    crm_err err = {0};
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_int_equal(crm_store_exec(s, "CREATE TABLE n(x INTEGER)", &err), CRM_OK);

    /* A nested level refused before writing costs nothing and spoils nothing. */
    assert_int_equal(crm_store_begin_batch(s, &err), CRM_OK);
    insert_n(s, 1);
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    crm_store_rollback(s);
    assert_false(crm_store_batch_failed(s));
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    insert_n(s, 2);
    assert_int_equal(crm_store_commit(s, &err), CRM_OK);
    assert_int_equal(crm_store_commit(s, &err), CRM_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 2);

    /* A nested level that wrote and then failed spoils the whole batch. */
    assert_int_equal(crm_store_begin_batch(s, &err), CRM_OK);
    insert_n(s, 3);
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    insert_n(s, 4);
    crm_store_rollback(s);
    assert_true(crm_store_batch_failed(s));
    assert_int_equal(crm_store_commit(s, &err), CRM_EBUSY);
    assert_non_null(strstr(err.msg, "batch was rolled back"));
    assert_int_equal(crm_store_depth(s), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 2);

    /* Batch mode ends with its transaction: the next nesting uses savepoints. */
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    insert_n(s, 5);
    crm_store_rollback(s);
    assert_int_equal(crm_store_commit(s, &err), CRM_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM n"), 2);
    assert_int_equal(crm_store_begin(s, &err), CRM_OK);
    assert_int_not_equal(crm_store_begin_batch(s, &err), CRM_OK);
    crm_store_rollback(s);
    crm_store_close(s);
}

static void test_bad_sql_reports(void **state)
{
    fixture *f = *state;
    crm_store *s;
    crm_err err = {0};
    assert_int_equal(crm_store_open(&s, f->db, &err), CRM_OK);
    assert_null(crm_store_stmt(s, "SELEKT 1", &err));
    assert_int_equal(err.code, CRM_EDB);
    assert_non_null(strstr(err.msg, "syntax error"));
    crm_store_close(s);
}

static void test_kernel_refuses_missing_database(void **state)
{
    fixture *f = *state;
    crm_kernel *k = NULL;
    crm_err err = {0};
    crm_open_opts o = {.db_path = f->db, .config_path = NULL, .no_plugins = true};
    unsetenv("CRM_CONFIG");
    assert_int_equal(crm_kernel_open(&k, &o, &err), CRM_ENOTFOUND);
    assert_null(k);
    assert_non_null(strstr(err.msg, "crm init"));
    assert_int_not_equal(access(f->db, F_OK), 0);

    o.create = true;
    assert_int_equal(crm_kernel_open(&k, &o, &err), CRM_OK);
    size_t n;
    crm_schema_kernel(&n);
    assert_int_equal(crm_store_schema_version(k->store, "kernel", &err),
                     crm_schema_kernel(&n)[n - 1].version);
    crm_kernel_close(k);
}

static void test_kernel_refuses_newer_kernel_schema(void **state)
{
    fixture *f = *state;
    crm_kernel *k = NULL;
    crm_err err = {0};
    crm_open_opts o = {.db_path = f->db, .create = true, .no_plugins = true};
    assert_int_equal(crm_kernel_open(&k, &o, &err), CRM_OK);
    assert_int_equal(crm_store_exec(k->store,
                                    "INSERT INTO schema_migrations VALUES('kernel', 999, 'future', 0)",
                                    &err),
                     CRM_OK);
    crm_kernel_close(k);
    assert_int_equal(crm_kernel_open(&k, &o, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "999"));
    assert_non_null(strstr(err.msg, "upgrade crm"));
    assert_null(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_fresh_then_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_database_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_and_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sql_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_refuses_missing_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_refuses_newer_kernel_schema, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

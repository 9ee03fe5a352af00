/* Durable timers through the kernel API (core/time/timer.h): handler
 * routing by owner and key prefix, a failing handler's writes rolled back
 * with its attempt counted, a handler cancelling its own timer, firing
 * refused inside a transaction, solo handlers each committed alone (a
 * failure re-runs no other send). The CLI side is tests/cli/test_timers.sh. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "time/timer.h"

typedef struct seen {
    int calls;
    bool fail;
    bool cancel_self;
    const char *fail_key; /* fail only this key */
    char last[64];
} seen;

static int handler(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    seen *s = ud;
    s->calls++;
    snprintf(s->last, sizeof s->last, "%s", t->key);
    if (crm_store_exec(k->store, "INSERT INTO effects VALUES(1)", err) != CRM_OK)
        return err->code;
    if (s->cancel_self && crm_timer_cancel(k, t->owner, t->key, NULL, err) != CRM_OK)
        return err->code;
    bool fail = s->fail || (s->fail_key && strcmp(t->key, s->fail_key) == 0);
    return fail ? crm_err_set(err, CRM_EINVAL, "refused on purpose") : CRM_OK;
}

static crm_kernel *open_kernel(char **dir)
{
    *dir = crm_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/t.db", *dir);
    crm_kernel *k = NULL;
    crm_err err = {0};
    crm_open_opts o = {.db_path = path, .create = true, .no_plugins = true};
    assert_int_equal(crm_kernel_open(&k, &o, &err), CRM_OK);
    assert_int_equal(crm_store_exec(k->store, "CREATE TABLE effects(x)", &err), CRM_OK);
    return k;
}

static int64_t count(crm_kernel *k, const char *sql)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, NULL);
    assert_non_null(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

static void test_prefix_routing(void **state)
{
    (void)state;
    char *dir;
    crm_kernel *k = open_kernel(&dir);
    crm_err err = {0};
    seen tasks = {0}, rest = {0};
    assert_int_equal(crm_timer_register_prefix(k, "kernel", "demo:", handler, &tasks, &err),
                     CRM_OK);
    assert_int_equal(crm_timer_register(k, "kernel", handler, &rest, &err), CRM_OK);
    /* the kernel routes "task:" keys to tasks already */
    assert_int_equal(crm_timer_register_prefix(k, "kernel", "task:", handler, &tasks, &err),
                     CRM_EEXISTS);
    assert_int_equal(crm_timer_register_prefix(k, "kernel", "demo:", handler, &tasks, &err),
                     CRM_EEXISTS);
    assert_int_equal(crm_timer_schedule(k, "kernel", "demo:7", 100, NULL, NULL, &err), CRM_OK);
    assert_int_equal(crm_timer_schedule(k, "kernel", "sla:3", 100, NULL, NULL, &err), CRM_OK);
    assert_int_equal(crm_timer_schedule(k, "nobody", "x", 100, NULL, NULL, &err), CRM_OK);
    bool found;
    int64_t next = 0;
    assert_int_equal(crm_timer_next_due(k, &next, &found, &err), CRM_OK);
    assert_true(found);
    assert_int_equal(next, 100);
    crm_timer_stats st = {0};
    assert_int_equal(crm_timer_fire_due(k, 150, NULL, &st, &err), CRM_OK);
    assert_int_equal(st.fired, 2);
    assert_int_equal(st.max_lateness, 50);
    assert_int_equal(tasks.calls, 1);
    assert_string_equal(tasks.last, "demo:7");
    assert_int_equal(rest.calls, 1);
    assert_string_equal(rest.last, "sla:3");
    /* an owner without a handler here stays pending */
    assert_int_equal(count(k, "SELECT count(*) FROM timers WHERE owner='nobody' AND "
                              "state='pending'"), 1);
    crm_kernel_close(k);
    crm_test_rmdir(dir);
    free(dir);
}

static void test_failure_rolls_back(void **state)
{
    (void)state;
    char *dir;
    crm_kernel *k = open_kernel(&dir);
    crm_err err = {0};
    seen s = {.fail = true};
    assert_int_equal(crm_timer_register(k, "p", handler, &s, &err), CRM_OK);
    assert_int_equal(crm_timer_schedule(k, "p", "a", 1000, "{\"n\": 1}", NULL, &err), CRM_OK);
    assert_int_equal(crm_timer_schedule(k, "p", "b", 1000, "[1]", NULL, &err), CRM_EINVAL);
    crm_timer_stats st = {0};
    assert_int_equal(crm_timer_fire_due(k, 1000, NULL, &st, &err), CRM_OK);
    assert_int_equal(st.fired, 0);
    assert_int_equal(st.failed, 1);
    assert_int_equal(count(k, "SELECT count(*) FROM effects"), 0);
    assert_int_equal(count(k, "SELECT attempts FROM timers WHERE key='a'"), 1);
    assert_int_equal(count(k, "SELECT next_at FROM timers WHERE key='a'"),
                     1000 + k->cfg->timers.backoff[0]);
    s.fail = false;
    assert_int_equal(crm_timer_fire_due(k, 1000 + k->cfg->timers.backoff[0], NULL, &st, &err), CRM_OK);
    assert_int_equal(st.fired, 1);
    assert_int_equal(count(k, "SELECT count(*) FROM effects"), 1);
    assert_int_equal(count(k, "SELECT lateness FROM timers WHERE key='a'"), k->cfg->timers.backoff[0]);
    /* firing belongs outside a transaction */
    assert_int_equal(crm_kernel_begin(k, &err), CRM_OK);
    assert_int_equal(crm_timer_fire_due(k, 5000, NULL, NULL, &err), CRM_EUSAGE);
    crm_kernel_rollback(k);
    crm_kernel_close(k);
    crm_test_rmdir(dir);
    free(dir);
}

static void test_handler_cancels_itself(void **state)
{
    (void)state;
    char *dir;
    crm_kernel *k = open_kernel(&dir);
    crm_err err = {0};
    seen s = {.cancel_self = true};
    assert_int_equal(crm_timer_register(k, "p", handler, &s, &err), CRM_OK);
    assert_int_equal(crm_timer_schedule(k, "p", "once", 10, NULL, NULL, &err), CRM_OK);
    assert_int_equal(crm_timer_fire_due(k, 10, NULL, NULL, &err), CRM_OK);
    assert_int_equal(count(k, "SELECT count(*) FROM timers"), 0);
    assert_int_equal(count(k, "SELECT count(*) FROM effects"), 1);
    assert_int_equal(crm_timer_fire_due(k, 99, NULL, NULL, &err), CRM_OK);
    assert_int_equal(s.calls, 1);
    crm_kernel_close(k);
    crm_test_rmdir(dir);
    free(dir);
}

/* Three timers due together, the middle one failing: in a batch the
 * failure rolls the batch back and the slow path runs the first again (a
 * second send); solo, each commits alone and the others run exactly once.
 * A pass mixing both kinds fires them all. */
static void test_solo_fires_alone(void **state)
{
    (void)state;
    char *dir;
    crm_kernel *k = open_kernel(&dir);
    crm_err err = {0};
    seen batch = {.fail_key = "2"}, solo = {.fail_key = "2"};
    assert_int_equal(crm_timer_register(k, "batch", handler, &batch, &err), CRM_OK);
    assert_int_equal(crm_timer_register_solo(k, "solo", "", handler, &solo, &err), CRM_OK);
    assert_int_equal(crm_timer_register_solo(k, "solo", "", handler, &solo, &err), CRM_EEXISTS);
    const char *owners[] = {"batch", "solo"}, *keys[] = {"1", "2", "3"};
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 3; i++)
            assert_int_equal(crm_timer_schedule(k, owners[o], keys[i], 100 + i, NULL, NULL, &err),
                             CRM_OK);
    crm_timer_stats st = {0};
    assert_int_equal(crm_timer_fire_due(k, 200, NULL, &st, &err), CRM_OK);
    assert_int_equal(solo.calls, 3);   /* 1, 2 (failed), 3: once each */
    assert_true(batch.calls > 3);      /* the batch's rollback re-ran the first */
    assert_int_equal(st.fired, 4);
    assert_int_equal(st.failed, 2);
    assert_int_equal(count(k, "SELECT count(*) FROM effects"), 4);
    assert_int_equal(count(k, "SELECT count(*) FROM timers WHERE state='done'"), 4);
    assert_int_equal(count(k, "SELECT count(*) FROM timers WHERE state='pending' AND key='2'"), 2);
    crm_kernel_close(k);
    crm_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_routing),
        cmocka_unit_test(test_failure_rolls_back),
        cmocka_unit_test(test_handler_cancels_itself),
        cmocka_unit_test(test_solo_fires_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

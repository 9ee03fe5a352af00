/* Event emission: names, the outbox row, and payload text identical to
 * jansson's compact sorted output whichever path formats it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "testutil.h"

static crm_kernel *open_kernel(char **dir)
{
    *dir = crm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/e.db", *dir);
    crm_open_opts o = {.db_path = path, .create = true, .no_plugins = true};
    crm_kernel *k = NULL;
    crm_err err = {0};
    unsetenv("CRM_CONFIG");
    assert_int_equal(crm_kernel_open(&k, &o, &err), CRM_OK);
    return k;
}

static char *stored_payload(crm_kernel *k, int64_t id)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT payload FROM events WHERE id=?", NULL);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *text = crm_column_strdup(st, 0);
    sqlite3_reset(st);
    return text;
}

static void check_payload(crm_kernel *k, json_t *payload)
{
    json_t *expected = json_deep_copy(payload);
    json_object_set_new(expected, "dataver", json_integer(CRM_EVENT_DATAVER));
    char *want = json_dumps(expected, JSON_COMPACT | JSON_SORT_KEYS);
    crm_err err = {0};
    int64_t id = 0;
    assert_int_equal(crm_kernel_begin(k, &err), CRM_OK);
    assert_int_equal(crm_event_emit(k, "thing.happened", payload, &id, &err), CRM_OK);
    assert_int_equal(crm_kernel_commit(k, &err), CRM_OK);
    char *got = stored_payload(k, id);
    assert_string_equal(got, want);
    free(got);
    free(want);
    json_decref(expected);
}

static void test_payload_text_matches_jansson(void **state)
{
    (void)state;
    char *dir;
    crm_kernel *k = open_kernel(&dir);
    check_payload(k, json_pack("{sI}", "contact_id", (json_int_t)42));
    check_payload(k, json_pack("{sIsssbsn}", "zeta", (json_int_t)-7, "alpha", "placed", "mid", 1,
                               "nul"));
    /* Values the flat path must hand over to jansson: escapes, UTF-8, arrays. */
    check_payload(k, json_pack("{ss}", "quote", "say \"hi\"\\n"));
    check_payload(k, json_pack("{ss}", "name", "Élodie"));
    check_payload(k, json_pack("{s[ss]}", "changed", "email", "phone"));
    check_payload(k, json_pack("{sf}", "ratio", 0.5));
    crm_kernel_close(k);
    crm_test_rmdir(dir);
    free(dir);
}

static void test_names_and_transaction_required(void **state)
{
    (void)state;
    assert_true(crm_event_name_valid("order.placed"));
    assert_true(crm_event_name_valid("segment.entered_2"));
    assert_false(crm_event_name_valid("order"));
    assert_false(crm_event_name_valid("Order.placed"));
    assert_false(crm_event_name_valid("order.placed.now"));
    assert_false(crm_event_name_valid(".placed"));
    char *dir;
    crm_kernel *k = open_kernel(&dir);
    crm_err err = {0};
    assert_int_equal(crm_event_emit(k, "order.placed", json_object(), NULL, &err), CRM_EUSAGE);
    assert_non_null(strstr(err.msg, "outside a transaction"));
    crm_kernel_close(k);
    crm_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_text_matches_jansson),
        cmocka_unit_test(test_names_and_transaction_required),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

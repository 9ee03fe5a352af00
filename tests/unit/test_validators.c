/* The validator hook: the model runs whatever table is installed on the
 * kernel (k->validators) before a contact write, and nothing else; the Lua
 * engine installs its validator rules there at kernel open and removes them
 * when it detaches. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel.h"
#include "lua/engine.h"
#include "model.h"

static const char *const config_text =
    "database: crm.db\n"
    "rules:\n"
    "  no_gmail: {kind: validator, script: checks.lua, function: no_gmail}\n";

static const char *const checks_lua =
    "function no_gmail(c)\n"
    "  if c.email and c.email:find('@gmail%.com$') then return 'email: no gmail' end\n"
    "end\n";

typedef struct fixture {
    char *dir;
    crm_kernel *k;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    char path[4200], db[4200];
    snprintf(path, sizeof path, "%s/scripts", f->dir);
    mkdir(path, 0700);
    free(crm_test_write_file(path, "checks.lua", checks_lua));
    free(crm_test_write_file(f->dir, "crm.yaml", config_text));
    snprintf(path, sizeof path, "%s/crm.yaml", f->dir);
    snprintf(db, sizeof db, "%s/crm.db", f->dir);
    crm_open_opts o = {.config_path = path, .db_path = db, .create = true, .no_plugins = true};
    crm_err err = {0};
    if (crm_kernel_open(&f->k, &o, &err) != CRM_OK)
        fail_msg("kernel open: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    crm_kernel_close(f->k);
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int add(crm_kernel *k, const char *email, int64_t *id, crm_err *err)
{
    crm_contact c = {0};
    c.first_name = strdup("Ann");
    c.email = strdup(email);
    int rc = crm_contact_add(k, &c, id, err);
    crm_contact_clear(&c);
    return rc;
}

static int64_t count_contacts(crm_kernel *k)
{
    crm_err err = {0};
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT count(*) FROM contacts", &err);
    int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (st)
        sqlite3_reset(st);
    return n;
}

/* A stand-in validator: refuses one address and counts its calls. */
static int calls;
static int refuse_blocked(crm_kernel *k, const crm_contact *c, crm_err *err)
{
    (void)k;
    calls++;
    if (c->email && strcmp(c->email, "blocked@acme.com") == 0)
        return crm_err_set(err, CRM_EINVAL, "email: blocked by the test validator");
    return CRM_OK;
}
static const crm_validators test_validators = {.contact = refuse_blocked};

static void test_lua_installs_itself(void **state)
{
    fixture *f = *state;
    assert_non_null(f->k->lua);
    assert_non_null(f->k->validators);
    assert_ptr_equal(f->k->validators->contact, crm_lua_validate_contact);
    crm_err err = {0};
    int64_t id = 0;
    assert_int_equal(add(f->k, "eve@gmail.com", &id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "email: no gmail (rule no_gmail)"));
    assert_int_equal(count_contacts(f->k), 0);
    crm_lua_detach(f->k);
    assert_null(f->k->validators); /* detaching leaves no hook into a freed engine */
    crm_err_clear(&err);
    assert_int_equal(add(f->k, "eve@gmail.com", &id, &err), CRM_OK);
    assert_int_equal(count_contacts(f->k), 1);
}

static void test_model_runs_installed_table(void **state)
{
    fixture *f = *state;
    f->k->validators = &test_validators; /* instead of Lua's: the model calls only the hook */
    calls = 0;
    crm_err err = {0};
    int64_t id = 0;
    assert_int_equal(add(f->k, "eve@gmail.com", &id, &err), CRM_OK); /* the Lua rule is not run */
    assert_int_equal(calls, 1);
    assert_int_equal(add(f->k, "blocked@acme.com", &id, &err), CRM_EINVAL);
    assert_string_equal(err.msg, "email: blocked by the test validator");
    assert_int_equal(count_contacts(f->k), 1);
    assert_int_equal(calls, 2);

    /* Updates run it too, and a refused update changes nothing. */
    crm_err_clear(&err);
    assert_int_equal(add(f->k, "ann@acme.com", &id, &err), CRM_OK);
    crm_contact ch = {0};
    ch.email = strdup("blocked@acme.com");
    assert_int_equal(crm_contact_update(f->k, id, &ch, &err), CRM_EINVAL);
    crm_contact_clear(&ch);
    assert_int_equal(calls, 4);

    /* The configuration-only path never runs it; crm_contact_validate does. */
    crm_contact c = {0};
    c.email = strdup("blocked@acme.com");
    crm_err_clear(&err);
    assert_int_equal(crm_contact_normalise_fields(f->k, &c, false, &err), CRM_OK);
    assert_int_equal(calls, 4);
    assert_int_equal(crm_contact_validate(f->k, &c, &err), CRM_EINVAL);
    assert_int_equal(calls, 5);

    /* With no table installed nothing beyond the configuration is checked. */
    f->k->validators = NULL;
    crm_err_clear(&err);
    assert_int_equal(crm_contact_validate(f->k, &c, &err), CRM_OK);
    assert_int_equal(crm_contact_normalise(f->k, &c, false, &err), CRM_OK);
    assert_int_equal(calls, 5);
    crm_contact_clear(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lua_installs_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_runs_installed_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

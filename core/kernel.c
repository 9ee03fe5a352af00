#include "kernel.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "cart.h"
#include "hygiene.h"
#include "import/import.h"
#include "lua/engine.h"
#include "model.h"
#include "messages/outbox.h"
#include "plugin/host.h"
#include "schema.h"
#include "messages/webhook.h"
#include "time/timer.h"

const char *crm_kernel_config_path(const char *given)
{
    if (given && *given)
        return given;
    const char *env = getenv("CRM_CONFIG");
    if (env && *env)
        return env;
    return access("crm.yaml", F_OK) == 0 ? "crm.yaml" : NULL;
}

static int load_config(crm_kernel *k, const crm_open_opts *o, crm_err *err)
{
    const char *path = crm_kernel_config_path(o->config_path);
    if (!path) {
        k->cfg = crm_config_defaults();
        return k->cfg ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return crm_config_load(&k->cfg, path, err);
}

static const char *database_path(const crm_kernel *k, const crm_open_opts *o)
{
    if (o->db_path && *o->db_path)
        return o->db_path;
    const char *env = getenv("CRM_DB");
    if (env && *env)
        return env;
    return k->cfg->database;
}

static int set_clock(crm_kernel *k, const char *as_of, crm_err *err)
{
    k->now = (int64_t)time(NULL);
    if (!as_of)
        return CRM_OK;
    int rc = crm_parse_datetime("--as-of", as_of, &k->now, err);
    if (rc != CRM_OK) { /* a malformed option is bad usage, not bad data */
        crm_err_prefix(err, "cannot use --as-of (expected YYYY-MM-DD or ISO 8601)");
        return err ? (err->code = CRM_EUSAGE) : CRM_EUSAGE;
    }
    k->as_of_set = true;
    return CRM_OK;
}

/* Opens the store; *created tells whether this call made the file (so a
 * failed open can take it away again). */
/* crm_phone_type(phone) in SQL, for the migration that types stored phones. */
static void sql_phone_type(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *v = sqlite3_value_text(argv[0]);
    if (v)
        sqlite3_result_text(ctx, crm_phone_type((const char *)v), -1, SQLITE_STATIC);
    else
        sqlite3_result_null(ctx);
}

static int open_store(crm_kernel *k, const crm_open_opts *o, bool *created, crm_err *err)
{
    const char *path = database_path(k, o);
    bool memory = strcmp(path, ":memory:") == 0;
    bool exists = memory || access(path, F_OK) == 0;
    if (!o->create && !exists)
        return crm_err_set(err, CRM_ENOTFOUND,
                           "no database at %s: run `crm init` to create it "
                           "(or pass --db PATH)", path);
    int rc = crm_store_open(&k->store, path, err);
    if (rc == CRM_OK &&
        sqlite3_create_function(crm_store_db(k->store), "crm_phone_type", 1,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_phone_type, NULL,
                                NULL) != SQLITE_OK)
        rc = crm_store_error(k->store, "cannot register crm_phone_type", err);
    *created = rc == CRM_OK && !exists;
    return rc;
}

/* Whether opening will change the schema: then migrations, plugin starts and
 * the rule engine run in one transaction, and a refusal anywhere rolls all
 * of it back. Otherwise no write lock is taken (readers never wait). */
static bool schema_pending(crm_kernel *k, crm_err *err)
{
    size_t n;
    const crm_migration *m = crm_schema_kernel(&n);
    int v = crm_store_schema_version(k->store, "kernel", err);
    return v < 0 || (n && v < m[n - 1].version) || crm_bus_pending(k, err) ||
           crm_plugin_host_pending(k, err);
}

static int migrate_kernel(crm_kernel *k, crm_err *err)
{
    size_t n;
    const crm_migration *m = crm_schema_kernel(&n);
    return crm_store_migrate(k->store, "kernel", m, n, NULL, err);
}

/* Removes a database file this open created, with its WAL companions. */
static void remove_created(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char name[4096];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++)
        if ((size_t)snprintf(name, sizeof name, "%s%s", path, suffix[i]) < sizeof name)
            unlink(name);
}

/* Order matters for "a refused start writes nothing": everything that can
 * be checked without data (configuration, --as-of, every plugin's file, ABI,
 * init and settings) is checked before the database is opened or created;
 * what follows runs under one transaction when it changes the schema, and a
 * database file this call created is removed again on failure. */
int crm_kernel_open(crm_kernel **out, const crm_open_opts *opts, crm_err *err)
{
    static const crm_open_opts none = {0};
    const crm_open_opts *o = opts ? opts : &none;
    *out = NULL;
    crm_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    k->actor = "kernel";
    bool created = false, txn = false;
    int rc = load_config(k, o, err);
    if (rc == CRM_OK)
        rc = set_clock(k, o->as_of, err);
    if (rc == CRM_OK && !o->no_plugins)
        rc = crm_plugin_host_prepare(k, err);
    if (rc == CRM_OK)
        rc = open_store(k, o, &created, err);
    if (rc == CRM_OK && (created || schema_pending(k, err))) {
        rc = crm_kernel_begin(k, err);
        txn = rc == CRM_OK;
    }
    if (rc == CRM_OK)
        rc = migrate_kernel(k, err);
    if (rc == CRM_OK) /* a bulk load killed with its indexes dropped */
        rc = crm_import_recover(k, err);
    if (rc == CRM_OK)
        rc = crm_bus_open(k, err);
    if (rc == CRM_OK)
        rc = crm_task_timers_register(k, err);
    if (rc == CRM_OK)
        rc = crm_outbox_register(k, err);
    if (rc == CRM_OK)
        rc = crm_webhooks_open(k, err);
    if (rc == CRM_OK)
        rc = crm_cart_timers_register(k, err);
    if (rc == CRM_OK)
        rc = crm_plugin_host_start(k, err);
    if (rc == CRM_OK)
        rc = crm_lua_attach(k, err);
    if (rc == CRM_OK && txn) {
        txn = false;
        rc = crm_kernel_commit(k, err);
    }
    if (rc == CRM_OK) /* after Lua: a handler catching up may call rules */
        rc = crm_plugin_host_catch_up(k, err);
    if (rc != CRM_OK) {
        char *path = created ? strdup(crm_store_path(k->store)) : NULL;
        if (txn)
            crm_kernel_rollback(k);
        crm_kernel_close(k);
        if (path)
            remove_created(path);
        free(path);
        return rc;
    }
    *out = k;
    return CRM_OK;
}

void crm_kernel_close(crm_kernel *k)
{
    if (!k)
        return;
    crm_lua_detach(k);
    crm_plugin_host_unload(k);
    crm_bus_close(k);
    crm_timer_close(k);
    crm_outbox_close(k);
    crm_webhooks_close(k);
    crm_store_close(k->store);
    crm_config_free(k->cfg);
    free(k);
}

int crm_kernel_begin(crm_kernel *k, crm_err *err) { return crm_store_begin(k->store, err); }
int crm_kernel_begin_batch(crm_kernel *k, crm_err *err)
{
    return crm_store_begin_batch(k->store, err);
}
int crm_kernel_commit(crm_kernel *k, crm_err *err) { return crm_store_commit(k->store, err); }
void crm_kernel_rollback(crm_kernel *k) { crm_store_rollback(k->store); }

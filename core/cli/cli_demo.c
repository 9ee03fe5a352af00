/* crm demo: a fresh database (or CSV files) full of realistic, seeded data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "table.h"
#include "demo/demo.h"
#include "hygiene.h"
#include "plugin/host.h"

#define MAX_CONTACTS 10000000   /* the 7-digit phone bijection covers 10^7 */
#define MAX_ORDERS 1000000000
#define BATCH 1000

typedef struct demo_params {
    int64_t contacts, orders, seed;
    const char *csv;
    bool force;
} demo_params;

static int read_params(const crm_args *a, demo_params *p, crm_err *err)
{
    p->csv = crm_args_get(a, "csv");
    p->force = crm_args_flag(a, "force");
    int rc = crm_args_int(a, "contacts", 10000, &p->contacts, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "orders", 100000, &p->orders, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "seed", 42, &p->seed, err);
    if (rc != CRM_OK)
        return rc;
    if (p->contacts < 0 || p->contacts > MAX_CONTACTS)
        return crm_err_set(err, CRM_EUSAGE, "--contacts must be between 0 and %d", MAX_CONTACTS);
    if (p->orders < 0 || p->orders > MAX_ORDERS)
        return crm_err_set(err, CRM_EUSAGE, "--orders must be between 0 and %d", MAX_ORDERS);
    if (p->orders > 0 && p->contacts == 0)
        return crm_err_set(err, CRM_EUSAGE, "--orders needs contacts to buy: set --contacts");
    if (p->csv && !*p->csv)
        return crm_err_set(err, CRM_EUSAGE, "--csv needs a directory");
    return CRM_OK;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- the database path, resolved the way crm_kernel_open does ------------------- */

static int database_path(const crm_cli *cli, char *out, size_t size, crm_err *err)
{
    const char *given = cli->open.db_path;
    if (!given || !*given)
        given = getenv("CRM_DB");
    if (given && *given) {
        snprintf(out, size, "%s", given);
        return CRM_OK;
    }
    const char *cfg_path = crm_kernel_config_path(cli->open.config_path);
    crm_config *cfg = NULL;
    int rc = CRM_OK;
    if (cfg_path)
        rc = crm_config_load(&cfg, cfg_path, err);
    else if (!(cfg = crm_config_defaults()))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        snprintf(out, size, "%s", cfg->database);
    crm_config_free(cfg);
    return rc;
}

/* Refuses an existing database unless --force, which deletes it with its
 * WAL and shared-memory files (before SQLite ever opens it). */
static int clear_database(const char *path, bool force, crm_err *err)
{
    if (strcmp(path, ":memory:") == 0 || access(path, F_OK) != 0)
        return CRM_OK;
    if (!force)
        return crm_err_set(err, CRM_EEXISTS,
                           "database %s already exists: pass --force to replace it (its data "
                           "is deleted), or --db PATH to write another file", path);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char file[4200];
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        if (unlink(file) != 0 && errno != ENOENT)
            return crm_err_set(err, CRM_EIO, "cannot delete %s: %s", file, strerror(errno));
    }
    return CRM_OK;
}

/* ---- summary ------------------------------------------------------------------------ */

static json_t *summary_json(const crm_demo_stats *st, const demo_params *p, const char *where,
                            int64_t now)
{
    char as_of[32], revenue[32];
    crm_format_datetime(now, as_of, sizeof as_of);
    crm_format_money(st->revenue, 2, revenue, sizeof revenue);
    json_t *o = json_object();
    json_object_set_new(o, p->csv ? "csv" : "database", json_string(where));
    json_object_set_new(o, "seed", json_integer(p->seed));
    json_object_set_new(o, "as_of", json_string(as_of));
    const struct {
        const char *key;
        int64_t value;
        bool db_only;
    } counts[] = {
        {"contacts", st->contacts, false},       {"normalised", st->normalised, true},
        {"refused", st->refused, true},          {"companies", st->companies, false},
        {"users", st->users, true},              {"products", st->products, true},
        {"orders", st->orders, false},           {"orders_skipped", st->orders_skipped, true},
        {"order_lines", st->order_lines, false}, {"interactions", st->interactions, false},
        {"consents", st->consents, true},        {"carts", st->carts, true},
        {"carts_abandoned", st->carts_abandoned, true},
        {"carts_recovered", st->carts_recovered, true},
    };
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        if (!(counts[i].db_only && p->csv) && !(!p->csv && !strcmp(counts[i].key, "order_lines")))
            json_object_set_new(o, counts[i].key, json_integer(counts[i].value));
    if (!p->csv) {
        json_t *by = json_object();
        for (int i = 0; i < st->n_reasons; i++)
            json_object_set_new(by, st->reasons[i].reason, json_integer(st->reasons[i].count));
        json_object_set_new(o, "refused_by_reason", by);
    }
    json_object_set_new(o, "revenue", json_string(revenue));
    json_object_set_new(o, "currency", json_string("EUR"));
    /* Integer milliseconds: a double would print as 0.17699999999999999. */
    json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)(st->seconds * 1000 + 0.5)));
    return o;
}

/* `modules` (may be NULL): what each plugin's demo hook printed, by plugin. */
static void print_summary(crm_cli *cli, const crm_demo_stats *st, const demo_params *p,
                          const char *where, int64_t now, json_t *modules)
{
    if (cli->json) {
        json_t *o = summary_json(st, p, where, now);
        if (modules && json_object_size(modules)) {
            json_t *m = json_object();
            const char *name;
            json_t *text;
            json_object_foreach(modules, name, text) {
                json_t *v = json_loads(json_string_value(text), JSON_DECODE_ANY, NULL);
                json_object_set_new(m, name, v ? v : json_incref(text));
            }
            json_object_set_new(o, "modules", m);
        }
        crm_cli_print_json(cli, o);
        return;
    }
    if (cli->quiet)
        return;
    FILE *f = cli->out;
    char as_of[32], revenue[32];
    crm_format_datetime(now, as_of, sizeof as_of);
    crm_cli_money(st->revenue, "EUR", revenue, sizeof revenue);
    fprintf(f, "%s %s (seed %lld, as of %s)\n", p->csv ? "demo CSV files in" : "demo database",
            where, (long long)p->seed, as_of);
    if (p->csv) {
        fprintf(f, "  contacts       %lld rows (dirty and invalid rows included, as a source "
                   "would send them)\n", (long long)st->contacts);
    } else {
        fprintf(f, "  contacts       %lld stored, %lld normalised, %lld refused\n",
                (long long)st->contacts, (long long)st->normalised, (long long)st->refused);
        for (int i = 0; i < st->n_reasons; i++)
            fprintf(f, "    refused      %lld %s\n", (long long)st->reasons[i].count,
                    st->reasons[i].reason);
        fprintf(f, "  agents         %lld\n  products       %lld\n", (long long)st->users,
                (long long)st->products);
    }
    fprintf(f, "  companies      %lld\n", (long long)st->companies);
    fprintf(f, "  orders         %lld", (long long)st->orders);
    if (p->csv)
        fprintf(f, " (%lld lines)", (long long)st->order_lines);
    else if (st->orders_skipped)
        fprintf(f, " (%lld skipped: buyer refused)", (long long)st->orders_skipped);
    fprintf(f, ", revenue %s (paid orders)\n", revenue);
    fprintf(f, "  interactions   %lld\n", (long long)st->interactions);
    if (!p->csv) {
        fprintf(f, "  consents       %lld\n", (long long)st->consents);
        fprintf(f, "  carts          %lld (%lld abandoned, %lld recovered by an order)\n",
                (long long)st->carts, (long long)st->carts_abandoned,
                (long long)st->carts_recovered);
    }
    fprintf(f, "  elapsed        %.2f s\n", st->seconds);
    const char *name;
    json_t *text;
    json_object_foreach(modules, name, text) fprintf(f, "\n%s", json_string_value(text));
}

/* ---- the command ----------------------------------------------------------------------- */

static int clock_now(const crm_cli *cli, int64_t *now, crm_err *err)
{
    *now = (int64_t)time(NULL);
    return cli->open.as_of ? crm_parse_datetime("--as-of", cli->open.as_of, now, err) : CRM_OK;
}

static int run_csv(crm_cli *cli, const demo_params *p, crm_err *err)
{
    int64_t now;
    int rc = clock_now(cli, &now, err);
    if (rc != CRM_OK)
        return rc;
    crm_demo g;
    crm_demo_stats st = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    crm_demo_init(&g, (uint64_t)p->seed, p->contacts, p->orders, now);
    rc = crm_demo_write_csv(&g, p->csv, &st, err);
    st.seconds = seconds_since(&t0);
    if (rc == CRM_OK)
        print_summary(cli, &st, p, p->csv, now, NULL);
    return rc;
}

static int run_db(crm_cli *cli, const demo_params *p, crm_err *err)
{
    char path[4096];
    int rc = database_path(cli, path, sizeof path, err);
    crm_open_opts o = cli->open;
    if (rc == CRM_OK && p->force && access(path, F_OK) == 0) {
        /* --force must not delete the old data for a start that is refused
         * anyway (a missing plugin, bad settings): try it on a scratch store */
        crm_kernel *scratch = NULL;
        o.db_path = ":memory:";
        o.create = true;
        rc = crm_kernel_open(&scratch, &o, err);
        crm_kernel_close(scratch);
    }
    if (rc == CRM_OK)
        rc = clear_database(path, p->force, err);
    if (rc != CRM_OK)
        return rc;
    o.db_path = path;
    o.create = true;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = crm_kernel_open(&cli->k, &o, err);  /* the dispatcher closes cli->k */
    if (rc != CRM_OK)
        return rc;
    crm_demo g;
    crm_demo_stats st = {0};
    crm_demo_init(&g, (uint64_t)p->seed, p->contacts, p->orders, cli->k->now);
    /* A fresh file whose crash is cured by running the demo again: no syncs
     * while it is written (most of the wall time once subscribers commit). */
    rc = crm_store_exec(cli->k->store, "PRAGMA synchronous=OFF", err);
    if (rc == CRM_OK)
        rc = crm_demo_store(cli->k, &g, BATCH, &st, err);
    if (rc == CRM_OK)
        rc = crm_demo_store_carts(cli->k, &g, &st, err);
    /* each module's headline on the data just committed (SDK 1.3 demo hooks) */
    json_t *modules = NULL;
    int hooks = rc == CRM_OK ? crm_plugin_host_run_demos(cli->k, cli->json, &modules, err) : rc;
    if (rc == CRM_OK && hooks == CRM_OK)
        hooks = crm_store_exec(cli->k->store, "PRAGMA synchronous=NORMAL", err);
    st.seconds = seconds_since(&t0);
    if (rc == CRM_OK)
        print_summary(cli, &st, p, path, cli->k->now, modules);
    json_decref(modules);
    return rc == CRM_OK ? hooks : rc;
}

static int cmd_demo(crm_cli *cli, const crm_args *a, crm_err *err)
{
    demo_params p;
    int rc = read_params(a, &p, err);
    if (rc != CRM_OK)
        return rc;
    return p.csv ? run_csv(cli, &p, err) : run_db(cli, &p, err);
}

static const crm_opt demo_opts[] = {
    {"contacts", CRM_OPT_VALUE, "N", "number of contacts (default 10000)"},
    {"orders", CRM_OPT_VALUE, "M", "number of orders (default 100000)"},
    {"seed", CRM_OPT_VALUE, "S", "random seed: same seed and --as-of, same data (default 42)"},
    {"csv", CRM_OPT_VALUE, "DIR", "write CSV files in the import format to DIR instead"},
    {"force", CRM_OPT_FLAG, NULL, "replace an existing database (deletes its data)"},
    {NULL, 0, NULL, NULL},
};

/* Not CRM_CMD_NEEDS_KERNEL: the old file must be deleted before the kernel
 * opens it, and --csv needs no database at all; cmd_demo opens the kernel. */
const crm_command crm_cli_demo_cmds[] = {
    {"demo", NULL, cmd_demo, CRM_CMD_CREATES_DB | CRM_CMD_WRITES, 0, 0, NULL,
     "create a fresh database full of realistic demo data (or --csv files)", demo_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

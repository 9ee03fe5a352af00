/* The plugin host through a real kernel: test plugins from fixtures/ are
 * found through CRM_PLUGIN_PATH and enabled by a crm.yaml per test. */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "http/http.h"
#include "cli/cli.h"
#include "kernel.h"
#include "model.h"
#include "plugin/host.h"
#include "plugin/internal.h"

typedef struct fx {
    char *dir;
    char *trace;
    char db[4096];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    assert_non_null(f->dir);
    snprintf(f->db, sizeof f->db, "%s/crm.db", f->dir);
    f->trace = crm_test_write_file(f->dir, "trace", "");
    setenv("CRM_PLUGIN_PATH", CRM_TEST_PLUGIN_DIR, 1);
    setenv("CRM_TEST_TRACE", f->trace, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f->trace);
    free(f);
    return 0;
}

/* Writes crm.yaml (database line first, then `body`) and opens a kernel. */
static int open_kernel(fx *f, const char *body, bool no_plugins, crm_kernel **k, crm_err *err)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "database: %s\n%s", f->db, body);
    char *cfg = crm_test_write_file(f->dir, "crm.yaml", yaml);
    crm_open_opts o = {.config_path = cfg, .create = true, .no_plugins = no_plugins};
    crm_err_clear(err);
    int rc = crm_kernel_open(k, &o, err);
    free(cfg);
    return rc;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Runs `crm <plugin> <verb>` and returns its output (static buffer). */
static int run(crm_kernel *k, const char *plugin, const char *verb, char **out, crm_err *err)
{
    const crm_plugin_command *c = crm_plugin_host_find_command(k, plugin, verb);
    assert_non_null(c);
    static char buf[4096];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    char *argv[] = {(char *)verb, "Ada", NULL};
    crm_err_clear(err);
    int rc = crm_plugin_host_run_command(k, c, 2, argv, false, mem, err);
    fclose(mem);
    if (out)
        *out = buf;
    return rc;
}

static int64_t count_rows(crm_kernel *k, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void count_sub(const char *name, const char *pattern, bool durable, const char *actor,
                      void *ud)
{
    (void)name;
    (void)pattern;
    (void)durable;
    (void)actor;
    (*(int *)ud)++;
}

/* ---- loading, order, registrations ------------------------------------------------ */

static void test_dependency_order(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    /* dependent is listed first but requires good. */
    int rc = open_kernel(f, "plugins: [dependent, good]\n", false, &k, &err);
    assert_int_equal(rc, CRM_OK);
    assert_true(crm_plugin_host_loaded(k, "good"));
    assert_true(crm_plugin_host_loaded(k, "dependent"));
    json_t *list = crm_plugin_host_describe(k);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "good");
    json_decref(list);
    crm_kernel_close(k);
    assert_string_equal(slurp(f->trace), "init good\ninit dependent\n"
                                         "start good\nstart dependent\n"
                                         "stop dependent\nstop good\n"
                                         "fini dependent\nfini good\n");
}

static void test_registrations(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [good]\ngood:\n  greeting: Bonjour\n"
                                    "  nested:\n    depth: 3\n",
                                 false, &k, &err),
                     CRM_OK);
    char *out;
    assert_int_equal(run(k, "good", "hello", &out, &err), CRM_OK);
    assert_string_equal(out, "Bonjour Ada 10 1\n");
    assert_null(crm_plugin_host_find_command(k, "good", "nope"));

    const crm_lua_export *ex;
    assert_int_equal(crm_plugin_host_lua_exports(k, &ex), 1);
    assert_string_equal(ex[0].plugin, "good");
    assert_string_equal(ex[0].name, "double");
    char *result = NULL, *error = NULL;
    assert_int_equal(ex[0].fn(ex[0].ctx, ex[0].ud, "[21]", &result, &error), CRM_OK);
    assert_string_equal(result, "42");
    free(result);

    json_t *list = crm_plugin_host_describe(k);
    json_t *good = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(good, "abi")), "1.4");
    json_t *ev = json_array_get(json_object_get(good, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "pattern")), "contact.*");
    assert_true(json_is_true(json_object_get(ev, "durable")));
    json_t *cmds = json_object_get(good, "commands");
    assert_int_equal(json_array_size(cmds), 8);
    json_t *noun = json_array_get(cmds, 3);
    assert_string_equal(json_string_value(json_object_get(noun, "noun")), "greet");
    assert_string_equal(json_string_value(json_object_get(noun, "verb")), "hello");
    assert_true(json_is_null(json_object_get(json_array_get(cmds, 5), "verb")));
    assert_int_equal(json_array_size(json_object_get(good, "lua_functions")), 1);
    json_decref(list);

    int subs = 0;
    crm_bus_each_subscription(k, count_sub, &subs);
    assert_int_equal(subs, 1);
    /* migration applied under the plugin's name */
    assert_int_equal(crm_store_schema_version(k->store, "good", &err), 1);
    crm_kernel_close(k);
}

static void test_handler_runs(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [good, dependent]\n", false, &k, &err), CRM_OK);
    crm_contact c = {0};
    c.first_name = strdup("Ada");
    c.last_name = strdup("Lovelace");
    c.email = strdup("ada@example.org");
    int64_t id;
    int rc = crm_contact_add(k, &c, &id, &err);
    crm_contact_clear(&c);
    assert_int_equal(rc, CRM_OK);
    assert_int_equal(count_rows(k, "SELECT count(*) FROM good_items WHERE type = "
                                   "'contact.created'"),
                     1);
    char *out;
    assert_int_equal(run(k, "dependent", "peek", &out, &err), CRM_OK);
    assert_string_equal(out, "1\n");

    /* kernel writes through the host: validated, with events from 'good' */
    assert_int_equal(run(k, "good", "touch", &out, &err), CRM_OK);
    assert_non_null(strstr(out, "\"city\":\"Lyon\""));
    assert_non_null(strstr(out, "\"tags\":[\"vip\"]"));
    assert_int_equal(count_rows(k, "SELECT count(*) FROM interactions"), 1);
    assert_int_equal(count_rows(k, "SELECT count(*) FROM events WHERE source = 'good' AND type "
                                   "IN ('contact.updated', 'interaction.logged', 'good.touched')"),
                     3);
    /* good's handler saw its own contact.updated */
    assert_int_equal(count_rows(k, "SELECT count(*) FROM good_items"), 2);
    crm_kernel_close(k);
}

/* ---- refusals ------------------------------------------------------------------------ */

typedef struct refusal {
    const char *yaml;
    const char *expect[4];
} refusal;

static const refusal refusals[] = {
    {"plugins: [ghost]\n", {"plugin 'ghost'", "ghost.so not found in", CRM_TEST_PLUGIN_DIR}},
    {"plugins: [noquery]\n",
     {"plugin 'noquery'", "/noquery.so)", "no crm_plugin_query symbol"}},
    {"plugins: [badabi]\n",
     {"plugin 'badabi'", "/badabi.so)", "built for plugin ABI 2.3", "provides ABI 1.4"}},
    {"plugins: [smallstruct]\n",
     {"plugin 'smallstruct'", "/smallstruct.so)", "descriptor struct too small: 16 bytes"}},
    {"plugins: [needmissing]\n",
     {"plugin 'needmissing'", "/needmissing.so)",
      "requires plugin 'ghost' >= 1.0.0, which is missing"}},
    {"plugins: [good, needtoonew]\n",
     {"plugin 'needtoonew'", "/needtoonew.so)",
      "requires plugin 'good' >= 9.0.0, but good is 1.2.0"}},
    {"plugins: [cycle_a, cycle_b]\n",
     {"plugin 'cycle_a'", "/cycle_a.so)", "dependency cycle cycle_a -> cycle_b -> cycle_a"}},
    {"plugins: [good, failinit]\n",
     {"plugin 'failinit'", "/failinit.so)",
      "init failed: cannot reach the widget service at widgets.local"}},
    {"plugins: [badtable]\n",
     {"plugin 'badtable'", "/badtable.so)",
      "migration 1 creates table 'elsewhere': a plugin's tables must be named badtable_*"}},
    {"plugins: [late]\n",
     {"plugin 'late'", "/late.so)", "start failed", "the registry is frozen after init"}},
};

static void test_refusals(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        crm_kernel *k = (crm_kernel *)&k;
        crm_err err;
        int rc = open_kernel(f, refusals[i].yaml, false, &k, &err);
        if (rc != CRM_EPLUGIN)
            fail_msg("%s: rc %d: %s", refusals[i].yaml, rc, err.msg);
        assert_null(k);
        for (size_t j = 0; j < 4 && refusals[i].expect[j]; j++)
            if (!strstr(err.msg, refusals[i].expect[j]))
                fail_msg("expected '%s' in: %s", refusals[i].expect[j], err.msg);
    }
}

static void test_unloadable_file(void **state)
{
    fx *f = *state;
    char dir[4200], env[8400];
    snprintf(dir, sizeof dir, "%s/junk", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    free(crm_test_write_file(dir, "junk.so", "not an ELF file\n"));
    snprintf(env, sizeof env, "%s:%s", dir, CRM_TEST_PLUGIN_DIR);
    setenv("CRM_PLUGIN_PATH", env, 1);
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [junk]\n", false, &k, &err), CRM_EPLUGIN);
    assert_non_null(strstr(err.msg, "plugin 'junk'"));
    assert_non_null(strstr(err.msg, "/junk/junk.so)"));
    assert_non_null(strstr(err.msg, "cannot load"));
    if (geteuid() != 0) { /* root reads anything */
        char path[8400];
        snprintf(path, sizeof path, "%s/junk.so", dir);
        chmod(path, 0);
        assert_int_equal(open_kernel(f, "plugins: [junk]\n", false, &k, &err), CRM_EPLUGIN);
        assert_non_null(strstr(err.msg, "cannot read"));
        assert_non_null(strstr(err.msg, "junk.so"));
    }
    setenv("CRM_PLUGIN_PATH", CRM_TEST_PLUGIN_DIR, 1);
}

/* A refused plugin leaves nothing: no commands, Lua functions, subscriptions,
 * migrations (of any plugin: the failure comes before data is touched). */
static void test_nothing_half_loaded(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [good, failinit]\n", true, &k, &err), CRM_OK);
    assert_int_equal(crm_plugin_host_load(k, &err), CRM_EPLUGIN);
    assert_non_null(strstr(err.msg, "init failed"));
    assert_null(k->plugins);
    assert_int_equal(crm_plugin_host_lua_exports(k, NULL), 0);
    assert_null(crm_plugin_host_find_command(k, "good", "hello"));
    assert_null(crm_plugin_host_find_command(k, "failinit", "boom"));
    int subs = 0;
    crm_bus_each_subscription(k, count_sub, &subs);
    assert_int_equal(subs, 0);
    assert_int_equal(crm_store_schema_version(k->store, "good", &err), 0);
    assert_int_equal(crm_store_schema_version(k->store, "failinit", &err), 0);
    assert_int_equal(count_rows(k, "SELECT count(*) FROM sqlite_master WHERE name LIKE "
                                   "'good_%' OR name LIKE 'failinit_%'"),
                     0);
    crm_kernel_close(k);
    /* fini ran for what init had been called on (in reverse) */
    assert_string_equal(slurp(f->trace), "init good\nfini good\n");
}

/* ---- the authorizer ------------------------------------------------------------------- */

typedef struct attempt {
    const char *plugin, *verb;
    int rc;
    const char *expect;
} attempt;

static const attempt attempts[] = {
    {"intruder", "poke", CRM_EDENIED, "plugin 'intruder' may not write table 'good_items'"},
    {"intruder", "steal", CRM_EDENIED, "plugin 'intruder' may not write table 'contacts'"},
    {"intruder", "peek", CRM_EDENIED, "plugin 'intruder' may not read table 'good_items'"},
    {"intruder", "pragma", CRM_EDENIED, "plugin 'intruder' may not run PRAGMA"},
    {"intruder", "own", CRM_OK, NULL},
    {"intruder", "index", CRM_EDENIED, "plugin 'intruder' may not index table 'contacts'"},
    {"intruder", "reindex", CRM_EDENIED, "plugin 'intruder' may not reindex"},
    {"intruder", "ownindex", CRM_OK, NULL},
    {"intruder", "kernel", CRM_OK, NULL},
    {"dependent", "peek", CRM_OK, NULL},
};

static void test_authorizer(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [good, intruder, dependent]\n", false, &k, &err),
                     CRM_OK);
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        int rc = run(k, attempts[i].plugin, attempts[i].verb, NULL, &err);
        if (rc != attempts[i].rc)
            fail_msg("%s %s: rc %d (%s)", attempts[i].plugin, attempts[i].verb, rc, err.msg);
        if (attempts[i].expect && !strstr(err.msg, attempts[i].expect))
            fail_msg("expected '%s' in: %s", attempts[i].expect, err.msg);
    }
    assert_int_equal(count_rows(k, "SELECT count(*) FROM good_items"), 0);
    assert_int_equal(count_rows(k, "SELECT count(*) FROM intruder_notes"), 1);
    /* its migration's indexes, on its own table */
    assert_int_equal(count_rows(k, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                   "tbl_name = 'intruder_notes'"),
                     3);
    assert_int_equal(count_rows(k, "SELECT count(*) FROM sqlite_master WHERE name = 'sneaky'"), 0);
    /* the kernel itself is not confined once plugin code returned */
    assert_string_equal(k->actor, "kernel");
    crm_kernel_close(k);
}

/* ---- SDK 1.1: noun commands, call_rule, locale ----------------------------------------- */

/* Runs a command with argv (NULL-terminated) into a static buffer. */
static int run_argv(crm_kernel *k, const crm_plugin_command *c, char **argv, char **out,
                    crm_err *err)
{
    static char buf[4096];
    int argc = 0;
    while (argv[argc])
        argc++;
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    crm_err_clear(err);
    int rc = crm_plugin_host_run_command(k, c, argc, argv, false, mem, err);
    fclose(mem);
    *out = buf;
    return rc;
}

/* A plugin command failing on a constraint is bad data (exit 1), even when
 * the plugin reports it as CRM_EDB; a database that fails stays exit 3. */
static void test_constraint_is_bad_data(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [good]\n", false, &k, &err), CRM_OK);
    int rc = run(k, "good", "put", NULL, &err);
    assert_int_equal(rc, CRM_EINVAL);
    assert_int_equal(crm_err_exit_code(rc), 1);
    assert_non_null(strstr(err.msg, "NOT NULL"));
    const crm_plugin_command *c = crm_plugin_host_find_command(k, "good", "put");
    char *argv[] = {"put", "x", "typed", NULL}, *out;
    assert_int_equal(run_argv(k, c, argv, &out, &err), CRM_OK);
    /* the flag does not outlive the failing command */
    crm_kernel_close(k);
}

/* init runs before the database is opened: data calls there are refused
 * (CRM_EBUSY with a message), never a crash, and the plugin with them. */
static void test_no_data_in_init(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [sqlinit]\n", false, &k, &err), CRM_EPLUGIN);
    assert_non_null(strstr(err.msg, "plugin 'sqlinit'"));
    assert_non_null(strstr(err.msg, "no database during init"));
    assert_null(k);
    assert_int_not_equal(access(f->db, F_OK), 0); /* and no file was created */
}

/* SDK 1.3: demo hooks run in dependency order and their output is kept per
 * plugin; a plugin built for 1.2 loads beside them and has none. */
static void test_demo_hooks(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [old12, good]\n", false, &k, &err), CRM_OK);
    assert_true(crm_plugin_host_loaded(k, "old12"));
    json_t *out = NULL;
    assert_int_equal(crm_plugin_host_run_demos(k, false, &out, &err), CRM_OK);
    assert_int_equal(json_object_size(out), 1);
    assert_string_equal(json_string_value(json_object_get(out, "good")), "good: 0 contacts\n");
    json_decref(out);
    assert_int_equal(crm_plugin_host_run_demos(k, true, &out, &err), CRM_OK);
    assert_string_equal(json_string_value(json_object_get(out, "good")), "{\"contacts\": 0}\n");
    json_decref(out);
    json_t *list = crm_plugin_host_describe(k);
    json_t *old = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(old, "abi")), "1.2");
    json_decref(list);
    crm_kernel_close(k);
}

static void test_nouns(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "locale:\n  country: BE\n  currency: EUR\n"
                                    "  timezone: Europe/Brussels\nplugins: [good]\n",
                                 false, &k, &err),
                     CRM_OK);
    const crm_plugin_command *c = crm_plugin_host_find_noun(k, "greet", "hello");
    assert_non_null(c);
    assert_string_equal(c->plugin, "good");
    assert_null(crm_plugin_host_find_noun(k, "greet", "nope"));
    assert_null(crm_plugin_host_find_noun(k, "hello", NULL));
    /* noun commands are not `crm good <verb>` commands */
    assert_null(crm_plugin_host_find_command(k, "good", "where"));
    char *out;
    char *a1[] = {"hello", "Ada", NULL};
    assert_int_equal(run_argv(k, c, a1, &out, &err), CRM_OK);
    assert_string_equal(out, "hi Ada 10 1\n");
    /* single-word: matches whatever follows */
    c = crm_plugin_host_find_noun(k, "tally", "anything");
    assert_non_null(c);
    assert_null(c->verb);
    char *a2[] = {"tally", NULL};
    assert_int_equal(run_argv(k, c, a2, &out, &err), CRM_OK);
    assert_string_equal(out, "tally BE EUR Europe/Brussels -\n");
    const crm_plugin_command *list[8];
    assert_int_equal(crm_plugin_host_noun_commands(k, NULL, list, 8), 3);
    assert_int_equal(crm_plugin_host_noun_commands(k, "greet", list, 8), 2);
    crm_kernel_close(k);

    /* collisions refuse the plugin, naming both sides */
    static const struct {
        const char *noun, *expect;
    } clashes[] = {
        {"greet", "noun 'greet' of plugin 'clash' is already registered by plugin 'good'"},
        {"contact", "noun 'contact' of plugin 'clash' collides with the kernel command `crm "
                    "contact`"},
        {"good", "noun 'good' of plugin 'clash' collides with plugin 'good'"},
        {"Bad Noun", "expected a noun"},
    };
    for (size_t i = 0; i < sizeof clashes / sizeof clashes[0]; i++) {
        setenv("CRM_TEST_NOUN", clashes[i].noun, 1);
        int rc = open_kernel(f, "plugins: [good, clash]\n", false, &k, &err);
        if (rc != CRM_EPLUGIN || !strstr(err.msg, clashes[i].expect) ||
            !strstr(err.msg, "plugin 'clash'"))
            fail_msg("%s: rc %d: %s", clashes[i].noun, rc, err.msg);
        assert_null(k);
    }
    unsetenv("CRM_TEST_NOUN");
    assert_int_equal(open_kernel(f, "plugins: [good, clash]\n", false, &k, &err), CRM_OK);
    assert_non_null(crm_plugin_host_find_noun(k, "fight", "go"));
    crm_kernel_close(k);
}

static void test_call_rule(void **state)
{
    fx *f = *state;
    free(crm_test_write_file(f->dir, "rules.lua",
                             "function big(c) return c.order_count >= 0, {'no orders needed', "
                             "'email ' .. c.email} end\n"
                             "function spin(c) while true do end end\n"
                             "function sneaky(c) return os.execute('true') end\n"
                             "function oops(c) return c.nope end\n"));
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "plugins: [good]\nlua:\n  max_instructions: 200000\nrules:\n"
             "  is_big: {kind: predicate, script: %s/rules.lua, function: big}\n",
             f->dir);
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, yaml, false, &k, &err), CRM_OK);
    crm_contact ct = {0};
    ct.email = strdup("ada@example.org");
    int64_t id;
    assert_int_equal(crm_contact_add(k, &ct, &id, &err), CRM_OK);
    crm_contact_clear(&ct);
    const crm_plugin_command *c = crm_plugin_host_find_command(k, "good", "rule");
    assert_non_null(c);
    char spec[4200], *out;
    char *a1[] = {"rule", "is_big", NULL};
    assert_int_equal(run_argv(k, c, a1, &out, &err), CRM_OK);
    assert_string_equal(out, "{\"result\":true,\"reasons\":[\"no orders needed\","
                             "\"email ada@example.org\"]}\n");
    snprintf(spec, sizeof spec, "%s/rules.lua:big", f->dir);
    char *a2[] = {"rule", spec, NULL};
    assert_int_equal(run_argv(k, c, a2, &out, &err), CRM_OK);
    assert_non_null(strstr(out, "\"result\":true"));
    static const struct {
        const char *fn, *cause;
    } failing[] = {{"spin", "instructions"}, {"sneaky", "blocked"}, {"oops", "runtime"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(spec, sizeof spec, "%s/rules.lua:%s", f->dir, failing[i].fn);
        char *a3[] = {"rule", spec, NULL};
        assert_int_equal(run_argv(k, c, a3, &out, &err), CRM_ESCRIPT);
        char want[64];
        snprintf(want, sizeof want, "cause=%s last=", failing[i].cause);
        if (!strstr(out, want) || !strstr(out, "rules.lua"))
            fail_msg("%s: %s", failing[i].fn, out);
    }
    char *a4[] = {"rule", "no_such_rule", NULL};
    assert_int_equal(run_argv(k, c, a4, &out, &err), CRM_ENOTFOUND);
    assert_non_null(strstr(out, "cause=(null)"));
    char *a5[] = {"rule", "is_big", "999", NULL};
    assert_int_equal(run_argv(k, c, a5, &out, &err), CRM_ENOTFOUND);
    assert_non_null(strstr(out, "no contact with id 999"));
    crm_kernel_close(k);
}

/* SDK 1.2: rule_each evaluates a rule over the contacts in one scan. */
static void test_rule_each(void **state)
{
    fx *f = *state;
    free(crm_test_write_file(f->dir, "rules.lua",
                             "function yes(c) return c.order_count >= 0 end\n"
                             "function len(c) return #c.email end\n"
                             "function tbl(c) return {n = 1} end\n"
                             "function oops(c)\n"
                             "  if c.email == 'b@example.org' or c.email == 'd@example.org' then\n"
                             "    return c.nope\n"
                             "  end\n"
                             "  return c:has_tag('vip')\n"
                             "end\n"
                             "function spin(c) while true do end end\n"));
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "plugins: [good]\nlua:\n  max_instructions: 200000\n  max_failures: 3\nrules:\n"
             "  is_yes: {kind: predicate, script: %s/rules.lua, function: yes}\n",
             f->dir);
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, yaml, false, &k, &err), CRM_OK);
    const char *emails[] = {"a@example.org", "b@example.org", "c@example.org", "d@example.org",
                            "e@example.org"};
    for (size_t i = 0; i < 5; i++) {
        crm_contact ct = {0};
        ct.email = strdup(emails[i]);
        int64_t id;
        assert_int_equal(crm_contact_add(k, &ct, &id, &err), CRM_OK);
        assert_int_equal(id, (int64_t)i + 1);
        crm_contact_clear(&ct);
    }
    const crm_plugin_command *c = crm_plugin_host_find_command(k, "good", "each");
    assert_non_null(c);
    char spec[4200], want[1024], *out;

    /* a configured predicate over every contact, in id order */
    char *a1[] = {"each", "is_yes", NULL};
    assert_int_equal(run_argv(k, c, a1, &out, &err), CRM_OK);
    assert_string_equal(out, "1 true\n2 true\n3 true\n4 true\n5 true\n"
                             "rc=0 seen=5 failed=0 last=\n");
    /* FILE:FN: numbers and tables as JSON text; a where clause restricts */
    snprintf(spec, sizeof spec, "%s/rules.lua:len", f->dir);
    char *a2[] = {"each", spec, "c.email >= 'c' AND c.id <> 4", NULL};
    assert_int_equal(run_argv(k, c, a2, &out, &err), CRM_OK);
    assert_string_equal(out, "3 13\n5 13\nrc=0 seen=2 failed=0 last=\n");
    snprintf(spec, sizeof spec, "%s/rules.lua:tbl", f->dir);
    char *a3[] = {"each", spec, "c.id = 2", NULL};
    assert_int_equal(run_argv(k, c, a3, &out, &err), CRM_OK);
    assert_string_equal(out, "2 {\"n\":1}\nrc=0 seen=1 failed=0 last=\n");

    /* failures are per contact, with their cause; the scan goes on */
    snprintf(spec, sizeof spec, "%s/rules.lua:oops", f->dir);
    char *a4[] = {"each", spec, NULL};
    assert_int_equal(run_argv(k, c, a4, &out, &err), CRM_OK);
    assert_string_equal(out, "1 false\n2 failed cause=runtime error=rules.lua...\n3 false\n"
                             "4 failed cause=runtime error=rules.lua...\n5 false\n"
                             "rc=0 seen=5 failed=2 last=\n");
    /* ... until lua.max_failures (3) */
    snprintf(spec, sizeof spec, "%s/rules.lua:spin", f->dir);
    char *a5[] = {"each", spec, NULL};
    assert_int_equal(run_argv(k, c, a5, &out, &err), CRM_ESCRIPT);
    snprintf(want, sizeof want, "rc=%d seen=3 failed=3 last=rule ", CRM_ESCRIPT);
    if (!strstr(out, "1 failed cause=instructions") || !strstr(out, want) ||
        !strstr(out, "rules.lua:spin: stopped after 3 failures (lua.max_failures)") ||
        strstr(out, "\n4 "))
        fail_msg("%s", out);

    /* the callback stops the scan with its own code */
    char *a6[] = {"each", "is_yes", "", "2", NULL};
    assert_int_equal(run_argv(k, c, a6, &out, &err), CRM_EEXISTS);
    snprintf(want, sizeof want, "1 true\n2 true\nrc=%d seen=2", CRM_EEXISTS);
    assert_non_null(strstr(out, want));

    /* refusals: unknown rule, bad where_sql (never a second statement) */
    char *a7[] = {"each", "no_such_rule", NULL};
    assert_int_equal(run_argv(k, c, a7, &out, &err), CRM_ENOTFOUND);
    assert_non_null(strstr(out, "seen=0"));
    char *a8[] = {"each", "is_yes", "c.id = )", NULL};
    assert_int_equal(run_argv(k, c, a8, &out, &err), CRM_EUSAGE);
    assert_non_null(strstr(out, "rule_each: cannot select the contacts"));
    char *a9[] = {"each", "is_yes", "1; DELETE FROM contacts", NULL};
    assert_int_equal(run_argv(k, c, a9, &out, &err), CRM_EUSAGE);
    assert_int_equal(count_rows(k, "SELECT count(*) FROM contacts"), 5);
    /* the where clause runs with the plugin's rights: its own tables are fine */
    char *a10[] = {"each", "is_yes", "c.id IN (SELECT event_id FROM good_items)", NULL};
    assert_int_equal(run_argv(k, c, a10, &out, &err), CRM_OK);
    crm_kernel_close(k);
}

/* ---- config sections ------------------------------------------------------------------- */

static const refusal config_errors[] = {
    {"plugins: [good]\ngood:\n  greting: hello\n",
     {"crm.yaml:4:3: ", "unknown key 'greting' in 'good'", "did you mean 'greeting'?"}},
    {"plugins: [good]\ngood:\n  limit: ten\n",
     {"crm.yaml:4:", "good.limit", "expected an integer, got 'ten'"}},
    {"plugins: [good]\ngood:\n  enabled: maybe\n", {"crm.yaml:4:", "good.enabled", "true or false"}},
    {"plugins: [good]\ngood:\n  nested:\n    dept: 2\n",
     {"crm.yaml:5:5: ", "unknown key 'dept' in 'good.nested'", "did you mean 'depth'?"}},
    {"plugins: [good]\ngood:\n  zzzzzzzz: 1\n", {"crm.yaml:4:3: ", "valid keys: greeting"}},
    {"plugins: [good]\ngood: 3\n", {"crm.yaml:3:", "expected a map"}},
    {"plugins: [good]\ngoood:\n  greeting: x\n",
     {"crm.yaml:3:1: ", "unknown top-level key 'goood'", "did you mean 'good'?"}},
};

static void test_config_errors(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof config_errors / sizeof config_errors[0]; i++) {
        crm_kernel *k = NULL;
        crm_err err;
        int rc = open_kernel(f, config_errors[i].yaml, false, &k, &err);
        if (rc != CRM_ECONFIG)
            fail_msg("%s: rc %d: %s", config_errors[i].yaml, rc, err.msg);
        for (size_t j = 0; j < 4 && config_errors[i].expect[j]; j++)
            if (!strstr(err.msg, config_errors[i].expect[j]))
                fail_msg("expected '%s' in: %s", config_errors[i].expect[j], err.msg);
    }
}

/* A disabled but installed plugin's section is left alone. */
static void test_disabled_section_ignored(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: []\ngood:\n  whatever: 1\n", false, &k, &err),
                     CRM_OK);
    crm_kernel_close(k);
}


/* ---- SDK 1.3 ---------------------------------------------------------------------------- */

/* Runs `crm table <verb> ARGS...` (or a noun command when noun is set). */
static int run13(crm_kernel *k, const char *noun, char **argv, char **out, crm_err *err)
{
    const crm_plugin_command *c = noun ? crm_plugin_host_find_noun(k, noun, argv[0])
                                       : crm_plugin_host_find_command(k, "table", argv[0]);
    if (!c)
        fail_msg("no command %s %s", noun ? noun : "table", argv[0]);
    return run_argv(k, c, argv, out, err);
}

static const char table_yaml[] =
    "locale:\n  currency: EUR\nplugins: [table]\ntable:\n"
    "  greeting: salut\n"
    "  pipelines:\n"
    "    - name: sales\n"
    "      budget: 200.00 EUR\n"
    "      stages:\n"
    "        - {name: lead, probability: 10, sla: 2bd}\n"
    "        - name: won\n"
    "          probability: 100\n"
    "    - name: empty\n"
    "  levels:\n"
    "    gold: 1500 JPY\n"
    "    silver: 12.345 KWD\n"
    "    bronze: '7.5'\n"
    "  tags: [a, b]\n";

/* Structured config read back as a tree: typed values, defaults, a map of
 * names, a 1.0 key beside it. Amounts are checked against the exponents of
 * ISO 4217 (JPY 0, KWD 3, EUR 2) written out here. */
static void test_config_tree(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    if (open_kernel(f, table_yaml, false, &k, &err) != CRM_OK)
        fail_msg("%s", err.msg);
    char *out;
    char *a1[] = {"pipelines", NULL};
    assert_int_equal(run13(k, NULL, a1, &out, &err), CRM_OK);
    char want[1024];
    snprintf(want, sizeof want,
             "pipeline sales budget=%d EUR\n"
             "  stage lead p=10 sla=2bd at crm.yaml:11:11\n"
             "  stage won p=100 sla=1d at crm.yaml:12:11\n"
             "pipeline empty budget=0 EUR\n"
             "level gold=%d JPY\nlevel silver=%d KWD\nlevel bronze=%d EUR\n"
             "tag a\ntag b\n"
             "window=30d rc=0\nundeclared=%d\n",
             200 * 100, 1500, 12 * 1000 + 345, 7 * 100 + 50, CRM_EUSAGE);
    assert_string_equal(out, want);
    crm_kernel_close(k);
}

typedef struct tree_error {
    const char *body; /* after "plugins: [table]\ntable:\n" (lines 2, 3), from line 4 */
    int rc;
    const char *expect[3];
} tree_error;

static const tree_error tree_errors[] = {
    {"  pipelines:\n    - name: s\n      stages:\n        - {name: a, probabilty: 1}\n", CRM_ECONFIG,
     {"crm.yaml:7:21: ", "unknown key 'probabilty' in 'table.pipelines[0].stages[0]'",
      "did you mean 'probability'?"}},
    {"  pipelines:\n    - name: s\n      stages: lead\n", CRM_ECONFIG,
     {"crm.yaml:6:7: ", "table.pipelines[0].stages: expected a list, got 'lead'"}},
    {"  pipelines:\n    - name: s\n      stages:\n        - {name: a, probability: 10}\n"
     "        - {name: b, probability: 150}\n",
     CRM_ECONFIG,
     {"crm.yaml:8:21: ", "table.pipelines[0].stages[1].probability: 150 is out of range (0 to 100)"}},
    {"  pipelines:\n    - name: s\n      stages:\n        - {name: a, probability: 1, sla: 3 weeks}\n",
     CRM_ECONFIG,
     {"crm.yaml:7:37: ", "table.pipelines[0].stages[0].sla: '3 weeks' is not a duration"}},
    {"  pipelines:\n    - name: s\n      budget: 12.345 EUR\n", CRM_ECONFIG,
     {"crm.yaml:6:7: ", "table.pipelines[0].budget: ", "more than the 2 allowed"}},
    {"  pipelines:\n    - name: s\n      stages:\n        - {probability: 1}\n", CRM_ECONFIG,
     {"crm.yaml:7:11: ", "table.pipelines[0].stages[0]: missing required key 'name'"}},
    {"  pipeline: []\n", CRM_ECONFIG,
     {"crm.yaml:4:3: ", "unknown key 'pipeline' in 'table'", "did you mean 'pipelines'?"}},
    {"  levels:\n    gold: lots\n", CRM_ECONFIG, {"crm.yaml:5:5: ", "table.levels.gold: "}},
    {"  levels: [1, 2]\n", CRM_ECONFIG,
     {"crm.yaml:4:3: ", "table.levels: expected a map of names, got a list"}},
    {"  window: soon\n", CRM_ECONFIG, {"crm.yaml:4:3: ", "table.window: 'soon' is not a duration"}},
    /* the plugin's own rule, reported at the node through config_error */
    {"  pipelines:\n    - name: s\n      stages:\n        - {name: a, probability: 50}\n"
     "        - {name: b, probability: 20}\n",
     CRM_EPLUGIN,
     {"start failed: ",
      "crm.yaml:8:21: table.pipelines[0].stages[1].probability: probabilities must increase along a pipeline "
      "(20 after 50)"}},
};

static void test_config_tree_errors(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof tree_errors / sizeof tree_errors[0]; i++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml, "plugins: [table]\ntable:\n%s", tree_errors[i].body);
        crm_kernel *k = NULL;
        crm_err err;
        int rc = open_kernel(f, yaml, false, &k, &err);
        if (rc != tree_errors[i].rc)
            fail_msg("%zu: rc %d: %s", i, rc, err.msg);
        assert_null(k);
        for (size_t j = 0; j < 3 && tree_errors[i].expect[j]; j++)
            if (!strstr(err.msg, tree_errors[i].expect[j]))
                fail_msg("%zu: expected '%s' in: %s", i, tree_errors[i].expect[j], err.msg);
    }
}

/* The data slot: set in init, written by start, read and updated by every
 * command; fini frees it (ASan checks the leak). */
static void test_data_slot(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [table]\n", false, &k, &err), CRM_OK);
    char *out;
    char *a1[] = {"data", NULL};
    assert_int_equal(run13(k, NULL, a1, &out, &err), CRM_OK);
    assert_string_equal(out, "started=1 calls=1\n");
    char *a2[] = {"pipelines", NULL};
    assert_int_equal(run13(k, NULL, a2, &out, &err), CRM_OK);
    assert_int_equal(run13(k, NULL, a1, &out, &err), CRM_OK);
    assert_string_equal(out, "started=1 calls=3\n");
    crm_kernel_close(k);
}

/* format_time against Python's zoneinfo (the same tz database, another
 * implementation): a DST change, a half-hour zone, local mean time. */
static void test_format_time(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "locale:\n  timezone: Europe/Paris\nplugins: [table]\n", false,
                                 &k, &err),
                     CRM_OK);
    static const struct {
        const char *t, *zone, *want;
    } cases[] = {
        {"1774746000", NULL, "2026-03-29T03:00:00+02:00\n"},
        {"1774742399", NULL, "2026-03-29T00:59:59+01:00\n"},
        {"1774746000", "America/St_Johns", "2026-03-28T22:30:00-02:30\n"},
        {"1774746000", "UTC", "2026-03-29T01:00:00+00:00\n"},
        {"0", "Asia/Kolkata", "1970-01-01T05:30:00+05:30\n"},
        {"-2000000000", NULL, "1906-08-16T20:36:01+00:09:21\n"},
    };
    char *out;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"stamp", (char *)cases[i].t, (char *)cases[i].zone, NULL};
        assert_int_equal(run13(k, NULL, argv, &out, &err), CRM_OK);
        assert_string_equal(out, cases[i].want);
    }
    char *bad[] = {"stamp", "0", "Mars/Olympus_Mons", NULL};
    assert_int_equal(run13(k, NULL, bad, &out, &err), CRM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "Mars/Olympus_Mons"));
    crm_kernel_close(k);
}

static void test_json_reader(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [table]\n", false, &k, &err), CRM_OK);
    const char *payload = "{\"contact_id\": 42, \"type\": \"a != b\", \"note\": \"contact_id\\\": 9\","
                          " \"order\": {\"id\": 7, \"ref\": \"A-1\", \"none\": null},"
                          " \"long\": \"abcdefghij\", \"lines\": [{\"sku\": \"K1\"}, {\"qty\": 3}]}";
    static const struct {
        const char *path, *want;
    } cases[] = {
        {"contact_id", "int 42\nrc 0 -1 json: member 'contact_id' is an integer, not a string\n"},
        {"type", "string a != b\nrc -1 0 "},
        {"order.id", "int 7\n"},
        {"order.ref", "string A-1\nrc -1 0 "},
        {"order.none", "rc -2 -2 json: no member 'order.none'\n"},
        {"order.id.x", "rc -2 -2 "},
        {"missing", "rc -2 -2 json: no member 'missing'\n"},
        {"long", "rc -1 -4 json: member 'long' needs a buffer of 11 bytes\n"},
        {"order", "rc -1 -1 json: member 'order' is an object, not a string\n"},
        {"lines.0.sku", "string K1\n"},
        {"lines.1.qty", "int 3\n"},
        {"lines.2.qty", "rc -2 -2 "},
        {"lines.x", "rc -2 -2 "},
    };
    char *out;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"payload", (char *)payload, (char *)cases[i].path, NULL};
        assert_int_equal(run13(k, NULL, argv, &out, &err), CRM_OK);
        if (strncmp(out, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("%s: %s", cases[i].path, out);
    }
    char *argv[] = {"payload", "{not json", "a", NULL};
    assert_int_equal(run13(k, NULL, argv, &out, &err), CRM_OK);
    assert_non_null(strstr(out, "rc -1 -1 json: not a JSON object"));
    crm_kernel_close(k);
}

/* Option tables: parsed and typed by the host (independent expectations:
 * 2026-03-01 midnight in Paris is 1772319600; "1 234,50 EUR" is 123450
 * cents), refusals are CRM_EUSAGE naming the option. */
static void test_command_table(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "locale:\n  timezone: Europe/Paris\nplugins: [table]\n", false,
                                 &k, &err),
                     CRM_OK);
    char *out;
    char *ok[] = {"list", "--limit", "5", "--since=2026-03-01", "--min", "1 234,50 EUR",
                  "--window", "15bd", "--open", "--stage", "won", "--", "--name", NULL};
    assert_int_equal(run13(k, "deal", ok, &out, &err), CRM_OK);
    char want[1024];
    snprintf(want, sizeof want,
             "limit=5 text=5\nsince=%lld text=2026-03-01\nmin=123450 EUR text=1 234,50 EUR\n"
             "window=15bd text=15bd\nstage=0 text=won\nopen=1\nundeclared=%d\narg --name\n",
             1772319600LL, CRM_EUSAGE);
    assert_string_equal(out, want);
    char *few[] = {"list", "--limit", "1", "--min", "3", "--window", "90m", NULL};
    assert_int_equal(run13(k, "deal", few, &out, &err), CRM_OK);
    snprintf(want, sizeof want,
             "limit=1 text=1\nsince=-\nmin=300 EUR text=3\nwindow=5400s text=90m\nstage=-\n"
             "open=-\nundeclared=%d\n",
             CRM_EUSAGE);
    assert_string_equal(out, want);

    static const struct {
        const char *argv[6];
        const char *expect;
    } refused[] = {
        {{"list", "--limit", "1", "--bogus", NULL}, "unknown option --bogus (see --help)"},
        {{"list", "--limt", "1", NULL}, "unknown option --limt \xe2\x80\x94 did you mean --limit?"},
        {{"list", NULL}, "missing required option --limit N"},
        {{"list", "--limit", "ten", NULL}, "--limit: 'ten' is not an integer"},
        {{"list", "--limit", NULL}, "option --limit needs a value (N)"},
        {{"list", "--limit", "1", "--open=yes", NULL}, "option --open takes no value"},
        {{"list", "--limit", "1", "--since", "yesterday", NULL}, "--since"},
        {{"list", "--limit", "1", "--min", "1.234 EUR", NULL}, "--min: "},
        {{"list", "--limit", "1", "--window", "3w", NULL}, "--window: '3w' is not a duration"},
        {{"list", "--limit", "1", "a", "b", NULL}, "unexpected argument 'b'"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(run13(k, "deal", (char **)refused[i].argv, &out, &err), CRM_EUSAGE);
        if (!strstr(err.msg, refused[i].expect))
            fail_msg("%zu: expected '%s' in: %s", i, refused[i].expect, err.msg);
    }
    /* the handler never ran for a refused line: two calls so far, this is the third */
    char *data[] = {"data", NULL};
    assert_int_equal(run13(k, NULL, data, &out, &err), CRM_OK);
    assert_string_equal(out, "started=1 calls=3\n");
    char *stamp[] = {"stamp", NULL};
    assert_int_equal(run13(k, NULL, stamp, &out, &err), CRM_EUSAGE);
    assert_non_null(strstr(err.msg, "expected EPOCH [ZONE]"));
    char *fails[] = {"fail", NULL};
    assert_int_equal(run13(k, "deal", fails, &out, &err), CRM_EINVAL);
    assert_string_equal(err.msg, "refused on purpose");

    /* --help comes from the table */
    const crm_plugin_command *c = crm_plugin_host_find_noun(k, "deal", "list");
    char buf[2048];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    crm_plugin_command_help(mem, c);
    fclose(mem);
    assert_non_null(strstr(buf, "usage: crm deal list [NAME] [options]\n\nlist deals\n(plugin table)"));
    assert_non_null(strstr(buf, "  --limit N                    how many deals (required)\n"));
    assert_non_null(strstr(buf, "  --stage NAME                 only this stage\n"));
    assert_non_null(strstr(buf, "  --open                       only open deals\n"));
    crm_kernel_close(k);
}

/* A plugin built for 1.3 on a host whose table stops at 1.2: its
 * CRM_API_HAS guards take the 1.2 path (calling a 1.3 entry would crash on
 * the NULLed slots). */
static void test_truncated_table(void **state)
{
    fx *f = *state;
    static crm_host_api t12;
    t12 = crm_plug_api;
    t12.abi_minor = 2;
    t12.struct_size = offsetof(crm_host_api, rule_each) + sizeof t12.rule_each;
    memset((char *)&t12 + t12.struct_size, 0, sizeof t12 - t12.struct_size);
    crm_plugin_host_set_table(&t12);
    crm_kernel *k = NULL;
    crm_err err;
    int rc = open_kernel(f, "plugins: [table, legacy12]\n", false, &k, &err);
    crm_plugin_host_set_table(NULL);
    if (rc != CRM_OK)
        fail_msg("%s", err.msg);
    assert_null(crm_plugin_host_find_command(k, "table", "pipelines"));
    assert_null(crm_plugin_host_find_noun(k, "deal", "list"));
    char *out;
    char *a1[] = {"legacy", NULL};
    assert_int_equal(run13(k, NULL, a1, &out, &err), CRM_OK);
    assert_string_equal(out, "legacy argc=1 legacy\n");
    const crm_plugin_command *c = crm_plugin_host_find_command(k, "legacy12", "old");
    char *a2[] = {"old", "x", NULL};
    assert_int_equal(run_argv(k, c, a2, &out, &err), CRM_OK);
    assert_string_equal(out, "hello argc=2 last=x abi=1.2\n");
    crm_kernel_close(k);
    assert_string_equal(slurp(f->trace), "init-1.2 table\ninit-has-1.2 legacy12\n");
}

static int count_route(const crm_http_route *r, void *ud)
{
    (void)r;
    (*(int *)ud)++;
    return 0;
}

/* SDK 1.4 routes: stored per plugin, found by method and path with their
 * parameters (405 vs 404 told apart), freed with the plugin; on a host
 * table of SDK 1.3 a plugin that tests CRM_API_HAS loads without them. */
static void test_routes(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    int n = 0;
    assert_int_equal(open_kernel(f, "plugins: [greeter]\n", false, &k, &err), CRM_OK);
    crm_http_each_plugin_route(k, count_route, &n);
    assert_int_equal(n, 3);
    crm_http_req rq = {0};
    bool known = false;
    const crm_http_route *r = crm_http_find_plugin(k, "GET", "/v1/greetings/ann", &rq, &known);
    assert_non_null(r);
    assert_true(known);
    assert_string_equal(r->owner, "greeter");
    assert_string_equal(r->path, "/v1/greetings/{name}");
    assert_string_equal(crm_http_param(&rq, "name"), "ann");
    known = false;
    assert_null(crm_http_find_plugin(k, "DELETE", "/v1/greetings", &rq, &known));
    assert_true(known); /* the path exists: 405 */
    known = false;
    assert_null(crm_http_find_plugin(k, "GET", "/v1/greetings/ann/x", &rq, &known));
    assert_false(known); /* 404 */
    crm_kernel_close(k);

    static crm_host_api t13;
    t13 = crm_plug_api;
    t13.abi_minor = 3;
    t13.struct_size = offsetof(crm_host_api, message_queue_json) + sizeof t13.message_queue_json;
    memset((char *)&t13 + t13.struct_size, 0, sizeof t13 - t13.struct_size);
    crm_plugin_host_set_table(&t13);
    k = NULL;
    int rc = open_kernel(f, "plugins: [greeter]\n", false, &k, &err);
    crm_plugin_host_set_table(NULL);
    if (rc != CRM_OK)
        fail_msg("%s", err.msg);
    n = 0;
    crm_http_each_plugin_route(k, count_route, &n);
    assert_int_equal(n, 0);
    crm_kernel_close(k);
}

/* A plugin built against the frozen 1.2 header loads on this host and
 * parses its own argv as before (unknown options are its business). */
static void test_legacy_plugin(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [legacy12, table]\nlegacy12:\n  greeting: salut\n",
                                 false, &k, &err),
                     CRM_OK);
    json_t *list = crm_plugin_host_describe(k);
    json_t *legacy = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(legacy, "abi")), "1.2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "abi")), "1.4");
    json_decref(list);
    char *out;
    char *a1[] = {"old", "--bogus", NULL};
    assert_int_equal(run_argv(k, crm_plugin_host_find_command(k, "legacy12", "old"), a1, &out,
                              &err),
                     CRM_OK);
    assert_string_equal(out, "salut argc=2 last=--bogus abi=1.4\n");
    char *a2[] = {"run", NULL};
    assert_int_equal(run_argv(k, crm_plugin_host_find_noun(k, "oldnoun", "run"), a2, &out, &err),
                     CRM_OK);
    assert_string_equal(out, "salut argc=1 last=run abi=1.4\n");
    crm_kernel_close(k);
    assert_string_equal(slurp(f->trace), "init-has-1.2 legacy12\ninit-1.3 table\n");
}

/* Malformed tables and schemas refuse the plugin at init, naming the culprit
 * (the init callback ignores the results: the host still refuses). */
static void test_bad_registrations(void **state)
{
    fx *f = *state;
    static const char *const expect[] = {
        "command 'table x': option 'Bad': expected a-z first, then a-z, 0-9 and -",
        "option --json is a global option of crm",
        "option --a declared twice",
        "noun 'contact' of plugin 'table' collides with the kernel command `crm contact`",
        "positional arguments: expected 0 <= min_args <= max_args",
        "option --f: a flag cannot be required",
        "declare_config_schema: key 'm': a map needs its fields",
        "declare_config_schema: key 'greeting' is also declared with declare_config_key",
        "declare_config_schema: called twice",
        "config key 'window' is declared both with declare_config_key and in its schema",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        char which[8];
        snprintf(which, sizeof which, "%zu", i);
        setenv("CRM_TEST_TABLE_BAD", which, 1);
        crm_kernel *k = NULL;
        crm_err err;
        int rc = open_kernel(f, "plugins: [table]\n", false, &k, &err);
        if (rc != CRM_EPLUGIN || !strstr(err.msg, expect[i]) || !strstr(err.msg, "plugin 'table'"))
            fail_msg("%zu: rc %d: %s", i, rc, err.msg);
        assert_null(k);
    }
    unsetenv("CRM_TEST_TABLE_BAD");
}

/* A required top-level key: missing with its section, or with no section. */
static void test_required_section_key(void **state)
{
    fx *f = *state;
    setenv("CRM_TEST_TABLE_BAD", "10", 1);
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [table]\n", false, &k, &err), CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "crm.yaml: section 'table' with the required key 'owner' is "
                                    "missing"));
    assert_int_equal(open_kernel(f, "plugins: [table]\ntable:\n  note: x\n", false, &k, &err),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "crm.yaml:3:1: table: missing required key 'owner'"));
    assert_int_equal(open_kernel(f, "plugins: [table]\ntable:\n  owner: ada\n", false, &k, &err),
                     CRM_OK);
    crm_kernel_close(k);
    unsetenv("CRM_TEST_TABLE_BAD");
}

/* Plugin names and nouns may not be kernel commands, read from the CLI's
 * own table: `rules` and `calendar` are not in any hand-kept list. */
static void test_reserved_names(void **state)
{
    fx *f = *state;
    crm_kernel *k = NULL;
    crm_err err;
    assert_int_equal(open_kernel(f, "plugins: [rules]\n", false, &k, &err), CRM_EPLUGIN);
    assert_non_null(strstr(err.msg, "plugin 'rules'"));
    assert_non_null(strstr(err.msg, "'rules' is the kernel command `crm rules`"));
    assert_true(crm_cli_kernel_noun("calendar"));
    setenv("CRM_TEST_NOUN", "calendar", 1);
    assert_int_equal(open_kernel(f, "plugins: [good, clash]\n", false, &k, &err), CRM_EPLUGIN);
    unsetenv("CRM_TEST_NOUN");
    assert_non_null(strstr(err.msg, "collides with the kernel command `crm calendar`"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dependency_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unloadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_half_loaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorizer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nouns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraint_is_bad_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_data_in_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_section_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_tree_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_registrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_section_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

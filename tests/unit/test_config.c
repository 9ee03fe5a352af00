/* crm.yaml loading: the tree, the schema table, positioned errors. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static crm_config *load_ok(const char *yaml)
{
    crm_config *cfg = NULL;
    crm_err err = {0};
    int rc = crm_config_load_string(&cfg, yaml, "t.yaml", &err);
    if (rc != CRM_OK)
        fail_msg("unexpected error %d: %s", rc, err.msg);
    assert_non_null(cfg);
    return cfg;
}

/* Loading must fail with a message starting with `prefix` and containing
 * every fragment in `needle` (may be NULL). */
static void load_fails(const char *yaml, const char *prefix, const char *needle)
{
    crm_config *cfg = NULL;
    crm_err err = {0};
    int rc = crm_config_load_string(&cfg, yaml, "t.yaml", &err);
    if (rc == CRM_OK)
        fail_msg("expected an error for:\n%s", yaml);
    assert_int_equal(rc, CRM_ECONFIG);
    assert_null(cfg);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", err.msg, prefix);
    if (needle && !strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_defaults(void **state)
{
    (void)state;
    crm_config *cfg = crm_config_defaults();
    assert_non_null(cfg);
    assert_null(cfg->path);
    assert_string_equal(cfg->dir, ".");
    assert_string_equal(cfg->database, "./crm.db");
    assert_string_equal(cfg->scripts, "./scripts");
    assert_string_equal(cfg->country, "FR");
    assert_string_equal(cfg->currency, "EUR");
    assert_string_equal(cfg->timezone, "Europe/Paris");
    assert_int_equal(cfg->n_plugins, 0);
    assert_int_equal(cfg->n_plugin_path, 0);
    assert_true(cfg->hygiene.validate_email && cfg->hygiene.validate_phone);
    assert_true(cfg->hygiene.validate_postal_code && cfg->hygiene.normalise_names);
    assert_true(cfg->hygiene.normalise_email && cfg->hygiene.normalise_phone);
    assert_true(cfg->hygiene.refuse_duplicates);
    assert_int_equal(cfg->hygiene.n_required, 0);
    assert_int_equal(cfg->lua.max_memory, 64 * 1024 * 1024);
    assert_int_equal(cfg->lua.max_instructions, 10000000);
    assert_int_equal(cfg->lua.max_failures, 100);
    assert_int_equal(cfg->n_rules, 0);
    assert_null(cfg->root);
    crm_config_free(cfg);
}

static void test_empty_document_gives_defaults(void **state)
{
    (void)state;
    crm_config *cfg = load_ok("# nothing\n");
    assert_string_equal(cfg->path, "t.yaml");
    assert_string_equal(cfg->database, "./crm.db");
    assert_string_equal(cfg->country, "FR");
    assert_non_null(cfg->root);
    assert_int_equal(cfg->root->kind, CRM_NODE_MAP);
    crm_config_free(cfg);
    cfg = load_ok("---\n");
    assert_int_equal(cfg->root->n_items, 0);
    crm_config_free(cfg);
    cfg = load_ok("");
    assert_string_equal(cfg->timezone, "Europe/Paris");
    crm_config_free(cfg);
}

static const char *full_yaml =
    "database: /var/lib/crm/main.db\n"
    "locale:\n"
    "  country: BE\n"
    "  currency: CHF\n"
    "  timezone: Europe/Brussels\n"
    "plugins: [loyalty, pipeline_2]\n"
    "plugin_path: [/opt/crm/plugins, dev]\n"
    "scripts: /srv/rules\n"
    "custom_fields:\n"
    "  contact:\n"
    "    - {name: vat_number, type: text, required: yes, description: VAT}\n"
    "    - name: store\n"
    "      type: enum\n"
    "      values: [paris, lyon]\n"
    "  company: [{name: sector, type: text}]\n"
    "  order: [{name: gift, type: boolean}]\n"
    "  interaction: [{name: mood, type: integer}]\n"
    "hygiene:\n"
    "  validate: {email: false, phone: Off, postal_code: NO}\n"
    "  normalise: {names: false, email: no, phone: off}\n"
    "  duplicates:\n"
    "    refuse_on_add: false\n"
    "    min_score: 90\n"
    "    weights: {email: 50, phone: 30}\n"
    "  required: [email, last_name]\n"
    "lua:\n"
    "  max_memory: 1048576\n"
    "  max_instructions: 5000\n"
    "  max_failures: 0\n"
    "rules:\n"
    "  vip: {kind: predicate, script: seg.lua, function: is_vip}\n"
    "  churn: {kind: score, script: /abs/churn.lua, function: score}\n"
    "loyalty:\n"
    "  points_per_euro: 1\n";

static void test_every_kernel_key(void **state)
{
    (void)state;
    crm_config *cfg = load_ok(full_yaml);
    assert_string_equal(cfg->database, "/var/lib/crm/main.db");
    assert_string_equal(cfg->country, "BE");
    assert_string_equal(cfg->currency, "CHF");
    assert_string_equal(cfg->timezone, "Europe/Brussels");
    assert_int_equal(cfg->n_plugins, 2);
    assert_string_equal(cfg->plugins[0], "loyalty");
    assert_string_equal(cfg->plugins[1], "pipeline_2");
    assert_int_equal(cfg->n_plugin_path, 2);
    assert_string_equal(cfg->plugin_path[0], "/opt/crm/plugins");
    assert_string_equal(cfg->plugin_path[1], "./dev");
    assert_string_equal(cfg->scripts, "/srv/rules");

    assert_int_equal(cfg->n_custom[CRM_ENTITY_CONTACT], 2);
    const crm_custom_field *f = &cfg->custom[CRM_ENTITY_CONTACT][0];
    assert_string_equal(f->name, "vat_number");
    assert_int_equal(f->type, CRM_FIELD_TEXT);
    assert_true(f->required);
    assert_string_equal(f->description, "VAT");
    f = &cfg->custom[CRM_ENTITY_CONTACT][1];
    assert_int_equal(f->type, CRM_FIELD_ENUM);
    assert_int_equal(f->n_enum, 2);
    assert_string_equal(f->enum_values[1], "lyon");
    assert_false(f->required);
    assert_null(f->description);
    assert_int_equal(cfg->custom[CRM_ENTITY_COMPANY][0].type, CRM_FIELD_TEXT);
    assert_int_equal(cfg->custom[CRM_ENTITY_ORDER][0].type, CRM_FIELD_BOOLEAN);
    assert_int_equal(cfg->custom[CRM_ENTITY_INTERACTION][0].type, CRM_FIELD_INTEGER);

    crm_hygiene_config h = cfg->hygiene;
    assert_false(h.validate_email || h.validate_phone || h.validate_postal_code);
    assert_false(h.normalise_names || h.normalise_email || h.normalise_phone);
    assert_false(h.refuse_duplicates);
    assert_int_equal(h.n_required, 2);
    assert_string_equal(h.required[0], "email");
    assert_string_equal(h.required[1], "last_name");

    assert_int_equal(cfg->lua.max_memory, 1048576);
    assert_int_equal(cfg->lua.max_instructions, 5000);
    assert_int_equal(cfg->lua.max_failures, 0);

    assert_int_equal(cfg->n_rules, 2);
    assert_string_equal(cfg->rules[0].name, "vip");
    assert_string_equal(cfg->rules[0].kind, "predicate");
    assert_string_equal(cfg->rules[0].script, "/srv/rules/seg.lua");
    assert_string_equal(cfg->rules[0].function, "is_vip");
    assert_int_equal(cfg->rules[0].node->line, 31);
    assert_string_equal(cfg->rules[1].script, "/abs/churn.lua");

    /* Keys read from the tree by their consumers. */
    int64_t v = 0;
    crm_err err = {0};
    const crm_node *n = crm_node_path(cfg->root, "hygiene.duplicates.weights.email");
    assert_int_equal(crm_node_int(n, "w", &v, &err), CRM_OK);
    assert_int_equal(v, 50);
    assert_non_null(crm_config_section(cfg, "loyalty"));
    assert_null(crm_config_section(cfg, "ticketing"));
    crm_config_free(cfg);
}

static void test_relative_paths(void **state)
{
    (void)state;
    crm_config *cfg = NULL;
    crm_err err = {0};
    const char *yaml = "database: data/crm.db\n"
                       "scripts: lua\n"
                       "rules:\n"
                       "  r: {kind: handler, script: sub/r.lua, function: on_event}\n";
    assert_int_equal(crm_config_load_string(&cfg, yaml, "/etc/crm/crm.yaml", &err), CRM_OK);
    assert_string_equal(cfg->dir, "/etc/crm");
    assert_string_equal(cfg->database, "/etc/crm/data/crm.db");
    assert_string_equal(cfg->scripts, "/etc/crm/lua");
    assert_string_equal(cfg->rules[0].script, "/etc/crm/lua/sub/r.lua");
    crm_config_free(cfg);

    cfg = load_ok("plugins: []\n");
    assert_string_equal(cfg->dir, ".");
    assert_string_equal(cfg->database, "./crm.db");
    assert_string_equal(cfg->scripts, "./scripts");
    crm_config_free(cfg);
}

static void test_load_file(void **state)
{
    (void)state;
    char *dir = crm_test_tmpdir();
    assert_non_null(dir);
    char *path = crm_test_write_file(dir, "crm.yaml", "database: x.db\n");
    crm_config *cfg = NULL;
    crm_err err = {0};
    assert_int_equal(crm_config_load(&cfg, path, &err), CRM_OK);
    assert_string_equal(cfg->dir, dir);
    char want[4200];
    snprintf(want, sizeof want, "%s/x.db", dir);
    assert_string_equal(cfg->database, want);
    crm_config_free(cfg);

    snprintf(want, sizeof want, "%s/missing.yaml", dir);
    assert_int_equal(crm_config_load(&cfg, want, &err), CRM_EIO);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "missing.yaml"));
    free(path);
    crm_test_rmdir(dir);
    free(dir);
}

static void test_shipped_file_loads(void **state)
{
    (void)state;
    crm_config *cfg = NULL;
    crm_err err = {0};
    int rc = crm_config_load(&cfg, CRM_SOURCE_DIR "/crm.yaml", &err);
    if (rc != CRM_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(cfg->country, "FR");
    assert_string_equal(cfg->currency, "EUR");
    assert_string_equal(cfg->timezone, "Europe/Paris");
    assert_string_equal(cfg->database, CRM_SOURCE_DIR "/crm.db");
    /* every shipped plugin enabled, its settings left to their defaults */
    assert_int_equal(cfg->n_plugins, 5);
    assert_string_equal(cfg->plugins[0], "pipeline"); /* its demo orders feed segmentation's */
    assert_non_null(crm_config_section(cfg, "pipeline"));
    assert_string_equal(cfg->plugins[1], "segmentation");
    assert_null(crm_config_section(cfg, "segmentation"));
    assert_string_equal(cfg->plugins[2], "ticketing"); /* it needs teams and policies */
    assert_non_null(crm_config_section(cfg, "ticketing"));
    assert_string_equal(cfg->plugins[3], "loyalty"); /* the example program */
    assert_non_null(crm_config_section(cfg, "loyalty"));
    assert_string_equal(cfg->plugins[4], "journeys"); /* the abandoned-cart journey */
    assert_non_null(crm_config_section(cfg, "journeys"));
    /* The shipped rules point at scripts that ship with them. */
    assert_int_equal(cfg->n_rules, 3);
    for (size_t i = 0; i < cfg->n_rules; i++)
        assert_int_equal(access(cfg->rules[i].script, R_OK), 0);
    assert_true(cfg->n_custom[CRM_ENTITY_CONTACT] >= 4);
    const crm_custom_field *f =
        crm_config_custom_field(cfg, CRM_ENTITY_CONTACT, "preferred_store");
    assert_non_null(f);
    assert_int_equal(f->type, CRM_FIELD_ENUM);
    for (size_t i = 0; i < cfg->n_custom[CRM_ENTITY_CONTACT]; i++)
        assert_false(cfg->custom[CRM_ENTITY_CONTACT][i].required);
    assert_int_equal(cfg->lua.max_memory, 64 * 1024 * 1024);
    static const char *const claimed[] = {"segmentation", "pipeline", "ticketing", "loyalty",
                                           "journeys", NULL};
    assert_int_equal(crm_config_check_sections(cfg, claimed, NULL, NULL, &err), CRM_OK);
    crm_config_free(cfg);
}

static void test_custom_field_lookup(void **state)
{
    (void)state;
    crm_config *cfg = load_ok(full_yaml);
    const crm_custom_field *f = crm_config_custom_field(cfg, CRM_ENTITY_CONTACT, "store");
    assert_non_null(f);
    assert_string_equal(f->enum_values[0], "paris");
    assert_null(crm_config_custom_field(cfg, CRM_ENTITY_COMPANY, "store"));
    assert_non_null(crm_config_custom_field(cfg, CRM_ENTITY_COMPANY, "sector"));
    assert_null(crm_config_custom_field(cfg, CRM_ENTITY_CONTACT, "nope"));
    assert_null(crm_config_custom_field(cfg, CRM_ENTITY_COUNT, "store"));
    assert_string_equal(crm_entity_name(CRM_ENTITY_INTERACTION), "interaction");
    assert_string_equal(crm_field_type_name(CRM_FIELD_DECIMAL), "decimal");
    crm_config_free(cfg);
}

/* ---- positioned errors ----------------------------------------------------- */

static void test_wrong_type(void **state)
{
    (void)state;
    load_fails("hygiene:\n  validate:\n    email: maybe\n",
               "t.yaml:3:5: hygiene.validate.email: expected true or false, got 'maybe'", NULL);
    load_fails("lua:\n  max_failures: [1]\n",
               "t.yaml:2:3: lua.max_failures: expected an integer, got a list", NULL);
    load_fails("locale:\n  country: France\n",
               "t.yaml:2:3: locale.country: expected an ISO 3166-1", "got 'France'");
    load_fails("locale:\n  currency: eur\n", "t.yaml:2:3: locale.currency:", "got 'eur'");
    load_fails("locale: FR\n", "t.yaml:1:1: locale: expected a map of settings, got 'FR'",
               NULL);
    load_fails("lua:\n  max_instructions: 12abc\n",
               "t.yaml:2:3: lua.max_instructions: expected an integer, got '12abc'", NULL);
    load_fails("lua:\n  max_instructions: 99999999999999999999\n",
               "t.yaml:2:3: lua.max_instructions: expected an integer within 64 bits", NULL);
    load_fails("hygiene:\n  duplicates:\n    min_score: 101\n",
               "t.yaml:3:5: hygiene.duplicates.min_score: expected an integer from 0 to 100",
               NULL);
    load_fails("hygiene:\n  duplicates:\n    weights: {email: heavy}\n",
               "t.yaml:3:15: hygiene.duplicates.weights.email: expected an integer", NULL);
    load_fails("database:\n", "t.yaml:1:1: database: expected a string, got nothing", NULL);
}

static void test_unknown_key_suggests(void **state)
{
    (void)state;
    load_fails("locale:\n  contry: FR\n",
               "t.yaml:2:3: unknown key 'contry' in 'locale'", "did you mean 'country'?");
    load_fails("hygiene:\n  duplicates:\n    refuse_on_ad: true\n",
               "t.yaml:3:5: unknown key 'refuse_on_ad' in 'hygiene.duplicates'",
               "did you mean 'refuse_on_add'?");
    load_fails("lua:\n  zzzzzzzz: 1\n", "t.yaml:2:3: unknown key 'zzzzzzzz' in 'lua'",
               "valid keys: max_memory, max_instructions, max_failures");
    load_fails("custom_fields:\n  contact:\n    - {name: a, type: text, requird: true}\n",
               "t.yaml:3:29: unknown key 'requird' in 'custom_fields.contact[0]'",
               "did you mean 'required'?");
    load_fails("rules:\n  r: {kind: score, script: a.lua, functoin: f}\n",
               "t.yaml:2:35: unknown key 'functoin' in 'rules.r'", "did you mean 'function'?");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    load_fails("locale:\n  country: FR\n  country: BE\n",
               "t.yaml:3:3: duplicate key 'country'", "first defined at t.yaml:2:3");
    load_fails("plugins: [loyalty, pipeline, loyalty]\n",
               "t.yaml:1:30: plugins[2]: 'loyalty' is listed twice", "first at t.yaml:1:11");
    load_fails("custom_fields:\n  contact:\n    - {name: a, type: text}\n"
               "    - {name: a, type: date}\n",
               "t.yaml:4:8: custom_fields.contact[1]: field 'a' is declared twice",
               "first at t.yaml:3:8");
}

static void test_custom_field_errors(void **state)
{
    (void)state;
    load_fails("custom_fields:\n  contact:\n    - {name: a, type: string}\n",
               "t.yaml:3:17: custom_fields.contact[0].type: expected one of text,",
               "got 'string'");
    load_fails("custom_fields:\n  contact:\n    - {name: a, type: enum}\n",
               "t.yaml:3:7: custom_fields.contact[0]: type enum needs 'values'", NULL);
    load_fails("custom_fields:\n  contact:\n    - {name: a, type: enum, values: []}\n",
               "t.yaml:3:29: custom_fields.contact[0].values: expected a non-empty list", NULL);
    load_fails("custom_fields:\n  contact:\n    - {name: a, type: text, values: [x]}\n",
               "t.yaml:3:29: custom_fields.contact[0].values: only allowed with type: enum",
               NULL);
    load_fails("custom_fields:\n  contact:\n    - {name: email, type: text}\n",
               "t.yaml:3:8: custom_fields.contact[0].name: 'email' is a built-in contact",
               NULL);
    load_fails("custom_fields:\n  contact:\n    - {name: 9lives, type: text}\n",
               "t.yaml:3:8: custom_fields.contact[0].name: expected a name", "got '9lives'");
    load_fails("custom_fields:\n  contact:\n    - {type: text}\n",
               "t.yaml:3:7: custom_fields.contact[0]: missing 'name'", NULL);
    load_fails("custom_fields:\n  customer: []\n",
               "t.yaml:2:3: unknown key 'customer' in 'custom_fields'", NULL);
}

/* crm.yaml's plugins: and the plugin host check names with the same
 * crm_plugin_name_valid: the config accepted '2fa' and '_seg' that the host
 * then refused. */
static void test_plugin_names(void **state)
{
    (void)state;
    char longest[CRM_PLUGIN_NAME_MAX + 1], too_long[CRM_PLUGIN_NAME_MAX + 2];
    memset(longest, 'p', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(too_long, 'p', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"seg", true},   {"seg_2", true},   {"a", true},    {longest, true}, {"2fa", false},
        {"_seg", false}, {"9lives", false}, {"Seg", false}, {"a-b", false},  {too_long, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[160];
        snprintf(yaml, sizeof yaml, "plugins: [%s]\n", cases[i].name);
        assert_int_equal(crm_plugin_name_valid(cases[i].name), cases[i].ok);
        if (cases[i].ok) {
            crm_config_free(load_ok(yaml));
            continue;
        }
        char got[128];
        snprintf(got, sizeof got, "got '%s'", cases[i].name);
        load_fails(yaml, "t.yaml:1:11: plugins[0]: expected a plugin name (a-z first", got);
    }
}

/* A map of n keys "k<i>: <i>" under `sec:` (+ `extra` lines), malloc'd. */
static char *big_map(size_t n, const char *extra)
{
    size_t cap = 64 + n * 24 + strlen(extra);
    char *s = malloc(cap);
    assert_non_null(s);
    size_t at = (size_t)snprintf(s, cap, "sec:\n");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "  k%zu: %zu\n", i, i);
    snprintf(s + at, cap - at, "%s", extra);
    return s;
}

/* Duplicates are found in small maps (a scan) and large ones (a hash
 * table), wherever the first one is, with both positions; the same key in
 * two maps is no duplicate. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 16, 17, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        const size_t firsts[] = {0, n / 2, n - 1};
        for (size_t f = 0; f < 3; f++) {
            char extra[64], want[160];
            snprintf(extra, sizeof extra, "  k%zu: again\n", firsts[f]);
            char *yaml = big_map(n, extra);
            crm_node *root = NULL;
            crm_err err = {0};
            assert_int_equal(crm_node_parse(&root, yaml, strlen(yaml), "t.yaml", &err),
                             CRM_ECONFIG);
            assert_null(root);
            /* line 1 is `sec:`, key i is on line i + 2, the repeat after the last */
            snprintf(want, sizeof want,
                     "t.yaml:%zu:3: duplicate key 'k%zu' (first defined at t.yaml:%zu:3)", n + 2,
                     firsts[f], firsts[f] + 2);
            assert_string_equal(err.msg, want);
            free(yaml);
        }
        char *yaml = big_map(n, "other:\n  k0: 1\n  sec: 2\n");
        crm_node *root = NULL;
        crm_err err = {0};
        assert_int_equal(crm_node_parse(&root, yaml, strlen(yaml), "t.yaml", &err), CRM_OK);
        const crm_node *sec = crm_node_get(root, "sec");
        assert_non_null(sec);
        assert_int_equal(sec->n_items, n);
        for (size_t i = 0; i < n; i++) {
            char key[32];
            snprintf(key, sizeof key, "k%zu", i);
            const crm_node *v = crm_node_get(sec, key);
            assert_non_null(v);
            assert_int_equal(strtol(v->value, NULL, 10), (long)i);
            assert_int_equal(v->line, (int)i + 2);
        }
        crm_node_free(root);
        free(yaml);
    }
}

/* The duplicate check was a scan of every earlier key: 50k keys took
 * N^2/2 = 1.25e9 string compares (tens of seconds). Now it is linear; the
 * bound is CPU time, ten times what the loader takes under the sanitizers,
 * and far under the old cost. */
static void test_large_section_linear(void **state)
{
    (void)state;
    char *yaml = big_map(50000, "");
    crm_node *root = NULL;
    crm_err err = {0};
    clock_t t0 = clock();
    assert_int_equal(crm_node_parse(&root, yaml, strlen(yaml), "t.yaml", &err), CRM_OK);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(crm_node_get(root, "sec")->n_items, 50000);
    crm_node_free(root);
    free(yaml);
    if (cpu > 10.0)
        fail_msg("50000 keys took %.1f s of CPU: the duplicate check is not linear", cpu);
}

static void test_list_errors(void **state)
{
    (void)state;
    load_fails("plugins: [Loyalty]\n",
               "t.yaml:1:11: plugins[0]: expected a plugin name (a-z first, then a-z, 0-9 and _; "
               "at most 64 bytes), got 'Loyalty'",
               NULL);
    load_fails("plugins: [loyalty, 2fa]\n", "t.yaml:1:20: plugins[1]: expected a plugin name",
               "got '2fa'");
    load_fails("plugins: loyalty\n", "t.yaml:1:1: plugins: expected a list of", NULL);
    load_fails("hygiene:\n  required: [emial]\n",
               "t.yaml:2:14: hygiene.required[0]: expected a contact field",
               "did you mean 'email'?");
    load_fails("rules:\n  r: {kind: scorer, script: a.lua, function: f}\n",
               "t.yaml:2:7: rules.r.kind: expected one of predicate", "got 'scorer'");
    load_fails("rules:\n  r: {kind: score, script: a.lua}\n",
               "t.yaml:2:3: rules.r: missing 'function'", NULL);
    load_fails("rules:\n  r: {kind: score, script: a.lua, function: 'a b'}\n",
               "t.yaml:2:35: rules.r.function: expected a Lua function name", NULL);
}

static void test_depth_cap(void **state)
{
    (void)state;
    char ok[256] = "x: ", deep[256] = "x: ";
    /* The root map is level 1: 31 more brackets stay within the cap. */
    for (int i = 0; i < CRM_CONFIG_MAX_DEPTH - 1; i++)
        strcat(ok, "[");
    for (int i = 0; i < CRM_CONFIG_MAX_DEPTH - 1; i++)
        strcat(ok, "]");
    strcat(ok, "\n");
    crm_config *cfg = load_ok(ok);
    crm_config_free(cfg);
    for (int i = 0; i < CRM_CONFIG_MAX_DEPTH; i++)
        strcat(deep, "[");
    for (int i = 0; i < CRM_CONFIG_MAX_DEPTH; i++)
        strcat(deep, "]");
    strcat(deep, "\n");
    /* Level 33 is the bracket at column 4 + 31. */
    load_fails(deep, "t.yaml:1:35: nesting deeper than 32 levels", NULL);
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    load_fails("locale:\n  country: FR\n currency: EUR\n", "t.yaml:3:", NULL);
    load_fails("plugins: [a, b\n", "t.yaml:2:1: did not find expected ',' or ']'", NULL);
    load_fails("a: b: c\n", "t.yaml:1:5: mapping values are not allowed", NULL);
    load_fails("a: b\n\xff\n", "t.yaml:2:1: invalid leading UTF-8 octet", NULL);
}

static void test_aliases_refused(void **state)
{
    (void)state;
    load_fails("a: &x [1]\nb: *x\n", "t.yaml:2:1: aliases", NULL);
    load_fails("a: &x [*x]\n", "t.yaml:1:", "aliases");
    load_fails("a: *nope\n", "t.yaml:1:4: found undefined alias", NULL);
}

static void test_top_level_must_be_map(void **state)
{
    (void)state;
    load_fails("- a\n", "t.yaml:1:1: the top level must be a map", NULL);
    load_fails("a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document", NULL);
}

/* ---- sections ------------------------------------------------------------ */

static bool installed(const char *name, void *ud)
{
    (void)ud;
    return strcmp(name, "ticketing") == 0;
}

static void test_check_sections(void **state)
{
    (void)state;
    crm_config *cfg = load_ok("plugins: [loyalty]\n"
                              "loyalty: {points: 1}\n"
                              "ticketing: {sla: 4}\n");
    const char *claimed[] = {"loyalty", NULL};
    crm_err err = {0};
    assert_int_equal(crm_config_check_sections(cfg, claimed, installed, NULL, &err), CRM_OK);
    /* Without the installed check, ticketing is unknown. */
    assert_int_equal(crm_config_check_sections(cfg, claimed, NULL, NULL, &err), CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "t.yaml:3:1: unknown top-level key 'ticketing'"));
    crm_config_free(cfg);

    cfg = load_ok("pluggins: [loyalty]\nloyalti: {}\n");
    assert_int_equal(crm_config_check_sections(cfg, claimed, installed, NULL, &err),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "t.yaml:1:1: unknown top-level key 'pluggins'"));
    assert_non_null(strstr(err.msg, "did you mean 'plugins'"));
    crm_config_free(cfg);

    cfg = load_ok("loyalti: {}\n");
    assert_int_equal(crm_config_check_sections(cfg, claimed, installed, NULL, &err),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "did you mean 'loyalty'"));
    crm_config_free(cfg);

    cfg = load_ok("zzzzzz: 1\n");
    assert_int_equal(crm_config_check_sections(cfg, NULL, NULL, NULL, &err), CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "database, locale"));
    crm_config_free(cfg);
}

/* ---- node helpers -------------------------------------------------------- */

static void test_node_helpers(void **state)
{
    (void)state;
    crm_config *cfg = load_ok("segmentation:\n"
                              "  rfm:\n"
                              "    window_days: 365\n"
                              "    enabled: YES\n"
                              "    neg: -12\n"
                              "    big: 9223372036854775807\n"
                              "    trail: '12 '\n"
                              "    empty: ~\n"
                              "    text: \"\"\n");
    crm_err err = {0};
    const crm_node *n = crm_node_path(cfg->root, "segmentation.rfm.window_days");
    assert_non_null(n);
    assert_int_equal(n->line, 3);
    assert_int_equal(n->column, 5);
    assert_string_equal(n->key, "window_days");
    int64_t v;
    bool b = false;
    const char *s;
    assert_int_equal(crm_node_int(n, "x", &v, &err), CRM_OK);
    assert_int_equal(v, 365);
    assert_int_equal(crm_node_int(crm_node_path(cfg->root, "segmentation.rfm.neg"), "x", &v,
                                  &err), CRM_OK);
    assert_int_equal(v, -12);
    assert_int_equal(crm_node_int(crm_node_path(cfg->root, "segmentation.rfm.big"), "x", &v,
                                  &err), CRM_OK);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(crm_node_int(crm_node_path(cfg->root, "segmentation.rfm.trail"),
                                  "s.r.trail", &v, &err), CRM_ECONFIG);
    assert_string_equal(err.msg, "t.yaml:7:5: s.r.trail: expected an integer, got '12 '");
    assert_int_equal(crm_node_bool(crm_node_path(cfg->root, "segmentation.rfm.enabled"), "x",
                                   &b, &err), CRM_OK);
    assert_true(b);
    assert_int_equal(crm_node_bool(n, "x", &b, &err), CRM_ECONFIG);
    const crm_node *empty = crm_node_path(cfg->root, "segmentation.rfm.empty");
    assert_true(empty->is_null);
    assert_string_equal(empty->value, "");
    assert_int_equal(crm_node_string(empty, "e", &s, &err), CRM_ECONFIG);
    const crm_node *text = crm_node_path(cfg->root, "segmentation.rfm.text");
    assert_false(text->is_null);
    assert_int_equal(crm_node_string(text, "t", &s, &err), CRM_OK);
    assert_string_equal(s, "");
    assert_int_equal(crm_node_string(crm_node_path(cfg->root, "segmentation.rfm"), "r", &s,
                                     &err), CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "got a map"));

    assert_null(crm_node_path(cfg->root, "segmentation.rfm.nope"));
    assert_null(crm_node_path(cfg->root, "segmentation.rfm.window_days.deeper"));
    assert_null(crm_node_path(cfg->root, "segmentation..rfm"));
    assert_null(crm_node_get(n, "x"));
    assert_int_equal(crm_node_error(n, "a.b", &err, "too %s", "long"), CRM_ECONFIG);
    assert_string_equal(err.msg, "t.yaml:3:5: a.b: too long");
    crm_config_free(cfg);
}

static void test_bools(void **state)
{
    (void)state;
    const char *yes[] = {"true", "True", "YES", "on", "On"};
    const char *no[] = {"false", "FALSE", "no", "Off", "off"};
    for (size_t i = 0; i < 5; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "hygiene:\n  validate: {email: %s, phone: %s}\n", yes[i],
                 no[i]);
        crm_config *cfg = load_ok(yaml);
        assert_true(cfg->hygiene.validate_email);
        assert_false(cfg->hygiene.validate_phone);
        crm_config_free(cfg);
    }
    load_fails("hygiene:\n  validate: {email: 1}\n", "t.yaml:2:14: hygiene.validate.email:",
               "got '1'");
}

static void test_memory_suffixes(void **state)
{
    (void)state;
    static const struct { const char *text; int64_t bytes; } cases[] = {
        {"64MiB", 64 * 1024 * 1024}, {"512KiB", 512 * 1024}, {"1GiB", 1024 * 1024 * 1024},
        {"2 MiB", 2 * 1024 * 1024},  {"100000", 100000},     {"1MB", 1000000},
        {"65536B", 65536}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "lua:\n  max_memory: %s\n", cases[i].text);
        crm_config *cfg = load_ok(yaml);
        assert_int_equal(cfg->lua.max_memory, cases[i].bytes);
        crm_config_free(cfg);
    }
    load_fails("lua:\n  max_memory: 64 lots\n", "t.yaml:2:3: lua.max_memory: expected a size",
               "got '64 lots'");
    load_fails("lua:\n  max_memory: -5MiB\n", "t.yaml:2:3: lua.max_memory: expected a size",
               NULL);
    load_fails("lua:\n  max_memory: 99999999999GiB\n", "t.yaml:2:3: lua.max_memory:", NULL);
    load_fails("lua:\n  max_memory: 1KiB\n", "t.yaml:2:3: lua.max_memory:", "at least 64KiB");
}

static void test_suggest(void **state)
{
    (void)state;
    const char *names[] = {"plugins", "plugin_path", "locale", NULL};
    assert_string_equal(crm_suggest("pluggins", names), "plugins");
    assert_string_equal(crm_suggest("locle", names), "locale");
    assert_null(crm_suggest("xyz", names));
    assert_null(crm_suggest("ab", names));
    assert_null(crm_suggest("p", names));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_document_gives_defaults),
        cmocka_unit_test(test_every_kernel_key),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_shipped_file_loads),
        cmocka_unit_test(test_custom_field_lookup),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_unknown_key_suggests),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_custom_field_errors),
        cmocka_unit_test(test_list_errors),
        cmocka_unit_test(test_plugin_names),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_large_section_linear),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_aliases_refused),
        cmocka_unit_test(test_top_level_must_be_map),
        cmocka_unit_test(test_check_sections),
        cmocka_unit_test(test_node_helpers),
        cmocka_unit_test(test_bools),
        cmocka_unit_test(test_memory_suffixes),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

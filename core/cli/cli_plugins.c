/* crm plugins [--json], and `crm <plugin> <verb> ...` for plugin commands. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plugin/host.h"

/* ---- crm plugins ---------------------------------------------------------------- */

static void print_names(FILE *f, const char *label, json_t *arr, const char *field)
{
    size_t i;
    json_t *v;
    fprintf(f, "  %-14s", label);
    if (json_array_size(arr) == 0)
        fputs(" -", f);
    json_array_foreach(arr, i, v) {
        fprintf(f, "%s %s", i ? "," : "", json_string_value(json_object_get(v, field)));
        json_t *extra = json_object_get(v, "min_version");
        if (json_is_string(extra))
            fprintf(f, " >= %s", json_string_value(extra));
        if (json_is_true(json_object_get(v, "durable")))
            fputs(" (durable)", f);
    }
    fputc('\n', f);
}

/* "rfm refresh, rfm list, metrics, <plugin> hello" */
static void print_commands(FILE *f, const char *plugin, json_t *arr)
{
    size_t i;
    json_t *v;
    fprintf(f, "  %-14s", "commands");
    if (json_array_size(arr) == 0)
        fputs(" -", f);
    json_array_foreach(arr, i, v) {
        const char *noun = json_string_value(json_object_get(v, "noun"));
        const char *verb = json_string_value(json_object_get(v, "verb"));
        fprintf(f, "%s %s%s%s", i ? "," : "", noun ? noun : plugin, verb ? " " : "",
                verb ? verb : "");
    }
    fputc('\n', f);
}

static void print_plugin(FILE *f, json_t *p)
{
    fprintf(f, "%s %s (abi %s)\n  %-14s %s\n", json_string_value(json_object_get(p, "name")),
            json_string_value(json_object_get(p, "version")),
            json_string_value(json_object_get(p, "abi")), "file",
            json_string_value(json_object_get(p, "file")));
    print_names(f, "requires", json_object_get(p, "requires"), "name");
    print_names(f, "events", json_object_get(p, "events"), "pattern");
    print_commands(f, json_string_value(json_object_get(p, "name")), json_object_get(p, "commands"));
    print_names(f, "lua functions", json_object_get(p, "lua_functions"), "name");
    const char *sets = json_string_value(json_object_get(p, "contact_sets"));
    if (sets) /* 1.3: seg */
        fprintf(f, "  %-14s %s (--segment NAME)\n", "contact sets", sets);
}

static int cmd_plugins(crm_cli *cli, const crm_args *args, crm_err *err)
{
    (void)args;
    (void)err;
    json_t *list = crm_plugin_host_describe(cli->k);
    size_t i;
    json_t *p;
    if (cli->json) {
        json_array_foreach(list, i, p) crm_cli_print_json(cli, json_incref(p));
    } else if (json_array_size(list) == 0) {
        fprintf(cli->out, "no plugins loaded (enable them under plugins: in crm.yaml)\n");
    } else {
        json_array_foreach(list, i, p) print_plugin(cli->out, p);
    }
    json_decref(list);
    return CRM_OK;
}

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

const crm_command crm_cli_plugin_cmds[] = {
    {"plugins", NULL, cmd_plugins, CRM_CMD_NEEDS_KERNEL, 0, 0, NULL,
     "list loaded plugins: version, ABI, file, requires, events, commands", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- crm <plugin> <verb> and crm <noun> [<verb>] ----------------------------------- */

/* The configuration crm_kernel_open would read: CRM_OK with *cfg (NULL when
 * no file is used), or the load's error. */
static int load_config(const crm_cli *cli, crm_config **cfg, crm_err *err)
{
    const char *path = crm_kernel_config_path(cli->open.config_path);
    *cfg = NULL;
    return path ? crm_config_load(cfg, path, err) : CRM_OK;
}

/* How many plugins the configuration enables (0 when it cannot be read);
 * *is_plugin tells whether `name` is one of them. */
static size_t enabled_plugins(const crm_cli *cli, const char *name, bool *is_plugin)
{
    crm_config *cfg = NULL;
    crm_err err = {0};
    *is_plugin = false;
    if (load_config(cli, &cfg, &err) != CRM_OK || !cfg)
        return 0;
    for (size_t i = 0; name && i < cfg->n_plugins; i++)
        *is_plugin = *is_plugin || strcmp(cfg->plugins[i], name) == 0;
    size_t n = cfg->n_plugins;
    crm_config_free(cfg);
    return n;
}

/* Opens the kernel with its plugins; `scratch` opens an empty in-memory
 * database instead (help never touches data, and works before `crm init`). */
static int open_kernel(const crm_cli *cli, bool scratch, crm_kernel **k, crm_err *err)
{
    crm_open_opts o = cli->open;
    if (scratch) {
        o.db_path = ":memory:";
        o.create = true;
    }
    return crm_kernel_open(k, &o, err);
}

static void command_line(char *buf, size_t size, const crm_plugin_command *c)
{
    snprintf(buf, size, "%s%s%s", c->noun ? c->noun : c->plugin, c->verb ? " " : "",
             c->verb ? c->verb : "");
}

static void print_command_list(FILE *f, const crm_plugin_command *const *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[128];
        command_line(name, sizeof name, c[i]);
        fprintf(f, "  %-22s %s\n", name, c[i]->summary);
    }
}

#define MAX_LISTED 256

static void print_plugin_usage(FILE *f, crm_kernel *k, const char *plugin)
{
    const crm_plugin_command *c = NULL, *list[MAX_LISTED] = {0};
    size_t n = crm_plugin_host_commands(k, plugin, &c), m = 0, nouns = 0;
    for (size_t i = 0; i < n && m < MAX_LISTED; i++)
        if (!c[i].noun)
            list[m++] = &c[i];
    fprintf(f, "usage: crm %s <command> [options]\n\ncommands:\n", plugin);
    print_command_list(f, list, m);
    if (m == 0)
        fprintf(f, "  (plugin %s registers no `crm %s <verb>` commands)\n", plugin, plugin);
    for (size_t i = 0; i < n && nouns < MAX_LISTED; i++)
        if (c[i].noun)
            list[nouns++] = &c[i];
    if (nouns) {
        fprintf(f, "\ntop-level commands of plugin %s:\n", plugin);
        print_command_list(f, list, nouns);
    }
}

static void print_noun_usage(FILE *f, crm_kernel *k, const char *noun)
{
    const crm_plugin_command *list[MAX_LISTED];
    size_t n = crm_plugin_host_noun_commands(k, noun, list, MAX_LISTED);
    n = n < MAX_LISTED ? n : MAX_LISTED;
    fprintf(f, "usage: crm %s <command> [options]\n\ncommands (plugin %s):\n", noun,
            n ? list[0]->plugin : "?");
    print_command_list(f, list, n);
    fprintf(f, "\nRun `crm %s <command> --help` for a command's usage.\n", noun);
}

static void print_command_usage(FILE *f, const crm_plugin_command *c)
{
    char name[128];
    command_line(name, sizeof name, c);
    fprintf(f, "usage: crm %s%s%s [options]\n\n%s\n(plugin %s)\n", name, c->usage ? " " : "",
            c->usage ? c->usage : "", c->summary, c->plugin);
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

static bool has_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int fail(const char *what, int rc, const crm_err *err)
{
    fprintf(stderr, "crm %s: %s\n", what, err->msg[0] ? err->msg : crm_err_name(rc));
    return crm_err_exit_code(rc);
}

/* Runs c with argv[0] its verb (or its noun when single-word). */
static int run(crm_cli *cli, const crm_plugin_command *c, int argc, char **argv)
{
    if (has_help(argc - 1, argv + 1)) {
        if (c->spec)
            crm_plugin_command_help(cli->out, c);
        else
            print_command_usage(cli->out, c);
        return 0;
    }
    char what[128];
    command_line(what, sizeof what, c);
    crm_err err = {0};
    int rc = crm_plugin_host_run_command(cli->k, c, argc, argv, cli->json, cli->out, &err);
    if (rc != CRM_OK) {
        int status = fail(what, rc, &err);
        if (rc == CRM_EUSAGE)
            fprintf(stderr, "Run `crm %s --help` for usage.\n", what);
        return status;
    }
    return 0;
}

static int run_plugin_command(crm_cli *cli, int argc, char **argv)
{
    const char *plugin = argv[0];
    if (argc < 2 || is_help(argv[1])) {
        print_plugin_usage(argc < 2 ? stderr : cli->out, cli->k, plugin);
        return argc < 2 ? 2 : 0;
    }
    const crm_plugin_command *c = crm_plugin_host_find_command(cli->k, plugin, argv[1]);
    if (!c) {
        fprintf(stderr, "crm: unknown command '%s %s'\n", plugin, argv[1]);
        print_plugin_usage(stderr, cli->k, plugin);
        return 2;
    }
    return run(cli, c, argc - 1, argv + 1);
}

/* `crm <noun> ...`: the exit status, or -1 when no plugin registered noun. */
static int run_noun_command(crm_cli *cli, int argc, char **argv)
{
    const char *noun = argv[0];
    if (crm_plugin_host_noun_commands(cli->k, noun, NULL, 0) == 0)
        return -1;
    const crm_plugin_command *single = crm_plugin_host_find_noun(cli->k, noun, NULL);
    if (single)
        return run(cli, single, argc, argv);
    if (argc < 2 || is_help(argv[1])) {
        print_noun_usage(argc < 2 ? stderr : cli->out, cli->k, noun);
        return argc < 2 ? 2 : 0;
    }
    const crm_plugin_command *c = crm_plugin_host_find_noun(cli->k, noun, argv[1]);
    if (!c) {
        fprintf(stderr, "crm: unknown command '%s %s'\n", noun, argv[1]);
        const crm_plugin_command *list[MAX_LISTED];
        const char *verbs[MAX_LISTED + 1];
        size_t n = crm_plugin_host_noun_commands(cli->k, noun, list, MAX_LISTED), m = 0;
        for (size_t i = 0; i < n && i < MAX_LISTED; i++)
            if (list[i]->verb)
                verbs[m++] = list[i]->verb;
        verbs[m] = NULL;
        const char *hint = crm_suggest(argv[1], verbs);
        if (hint)
            fprintf(stderr, "Did you mean `crm %s %s`?\n", noun, hint);
        else
            print_noun_usage(stderr, cli->k, noun);
        return 2;
    }
    return run(cli, c, argc - 1, argv + 1);
}

/* Whether a kernel noun is one or two edits from `noun` (dispatch.c). */
const char *crm_cli_suggest_noun(const char *noun);

/* The kernel would not open for `crm <noun> ...`: say why when noun is a
 * plugin's (whether or not that plugin is the one that failed), or when a
 * plugin failed before registering anything, so its commands cannot be
 * told apart from a typo; -1 leaves it to "unknown command". */
static int explain_failure(const crm_config *cfg, const char *noun, bool is_plugin, int rc,
                           const crm_err *err)
{
    char owner[128] = "";
    int who = is_plugin ? 1 : crm_plugin_host_provider(cfg, NULL, 0, noun, owner, sizeof owner);
    if (who == 1)
        return fail(noun, rc, err);
    if (who != 2)
        return -1;
    fprintf(stderr, "crm %s: no loaded plugin provides this command, and plugin '%s' failed to "
                    "start, so it may be one of its commands: %s\n",
            noun, owner, err->msg[0] ? err->msg : crm_err_name(rc));
    return crm_cli_suggest_noun(noun) ? -1 : crm_err_exit_code(rc);
}

/* An unknown noun one edit or two from a loaded plugin's noun or name (and
 * nearer than any kernel noun): says so and returns 2; -1 leaves it to the
 * kernel's "unknown command". */
static int suggest_plugin_noun(crm_kernel *k, const char *noun)
{
    const crm_plugin_command *list[MAX_LISTED];
    const char *names[2 * MAX_LISTED + 2];
    const char *kernel = crm_cli_suggest_noun(noun);
    size_t n = crm_plugin_host_noun_commands(k, NULL, list, MAX_LISTED), m = 0;
    if (kernel)
        names[m++] = kernel; /* first: a kernel noun as near wins */
    for (size_t i = 0; i < n && i < MAX_LISTED; i++)
        if (m == 0 || strcmp(names[m - 1], list[i]->noun) != 0)
            names[m++] = list[i]->noun; /* a noun's verbs are adjacent */
    json_t *loaded = crm_plugin_host_describe(k);
    size_t i;
    json_t *p;
    json_array_foreach(loaded, i, p) if (m < 2 * MAX_LISTED)
        names[m++] = json_string_value(json_object_get(p, "name"));
    names[m] = NULL;
    const char *hint = crm_suggest(noun, names);
    int status = -1;
    if (hint && hint != kernel) {
        fprintf(stderr, "crm: unknown command '%s'\nDid you mean `crm %s`?\n", noun, hint);
        status = 2;
    }
    json_decref(loaded);
    return status;
}

/* Runs `crm <plugin> <verb> ARGS` (argv[0] an enabled plugin) or `crm <noun>
 * [<verb>] ARGS` (argv[0] a noun a loaded plugin registered) when crm.yaml
 * enables plugins: opens the kernel (which loads them; an in-memory one for
 * --help), runs the command and closes. A crm.yaml that cannot be read, or
 * plugins that fail to start, refuse the command (exit 1) with their error
 * when argv[0] may be theirs. Returns the exit status, or -1 when argv[0] is
 * neither (the caller then reports an unknown command). */
int crm_cli_plugin_main(crm_cli *cli, int argc, char **argv);
int crm_cli_plugin_main(crm_cli *cli, int argc, char **argv)
{
    crm_config *cfg = NULL;
    crm_err err = {0};
    if (argc < 1)
        return -1;
    if (load_config(cli, &cfg, &err) != CRM_OK) /* refuses every command alike */
        return fail(argv[0], err.code, &err);
    bool is_plugin = false;
    for (size_t i = 0; cfg && i < cfg->n_plugins; i++)
        is_plugin = is_plugin || strcmp(cfg->plugins[i], argv[0]) == 0;
    if (!cfg || cfg->n_plugins == 0) {
        crm_config_free(cfg);
        return -1;
    }
    bool help = has_help(argc, argv) || (argc > 1 && is_help(argv[1]));
    int rc = open_kernel(cli, help, &cli->k, &err);
    if (rc != CRM_OK) {
        int status = explain_failure(cfg, argv[0], is_plugin, rc, &err);
        crm_config_free(cfg);
        return status;
    }
    crm_config_free(cfg);
    int status = is_plugin && crm_plugin_host_loaded(cli->k, argv[0])
                     ? run_plugin_command(cli, argc, argv)
                     : run_noun_command(cli, argc, argv);
    if (status < 0)
        status = suggest_plugin_noun(cli->k, argv[0]);
    crm_kernel_close(cli->k);
    cli->k = NULL;
    return status;
}

/* For an unknown `crm <noun>`: when a shipped plugin that crm.yaml does not
 * enable provides noun (its file is found and its init registers it), says
 * so and how to enable it, and returns true. */
bool crm_cli_plugin_disabled_hint(crm_cli *cli, const char *noun);
bool crm_cli_plugin_disabled_hint(crm_cli *cli, const char *noun)
{
    static const char shipped[] = CRM_SHIPPED_PLUGINS;
    crm_config *cfg = NULL;
    crm_err err = {0};
    if (!*shipped || load_config(cli, &cfg, &err) != CRM_OK)
        return false;
    if (!cfg && !(cfg = crm_config_defaults()))
        return false;
    char list[sizeof shipped], *save = NULL;
    const char *names[32];
    size_t n = 0;
    memcpy(list, shipped, sizeof shipped);
    for (char *t = strtok_r(list, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save)) {
        bool enabled = false;
        for (size_t i = 0; i < cfg->n_plugins; i++)
            enabled = enabled || strcmp(cfg->plugins[i], t) == 0;
        if (!enabled)
            names[n++] = t;
    }
    char owner[128] = "";
    bool found = n && crm_plugin_host_provider(cfg, names, n, noun, owner, sizeof owner) == 1;
    if (found)
        fprintf(stderr,
                "crm: `crm %s` is a command of the %s plugin, which crm.yaml does not enable"
                " \xe2\x80\x94 add it to the plugins list in %s: plugins: [%s]\n",
                noun, owner, crm_kernel_config_path(cli->open.config_path)
                                 ? crm_kernel_config_path(cli->open.config_path)
                                 : "crm.yaml (create one)",
                owner);
    crm_config_free(cfg);
    return found;
}

/* Lists the plugin nouns for `crm --help` when crm.yaml enables plugins;
 * best effort: prints nothing when the plugins cannot be loaded. */
void crm_cli_plugin_usage(crm_cli *cli, FILE *f);
void crm_cli_plugin_usage(crm_cli *cli, FILE *f)
{
    bool unused;
    if (enabled_plugins(cli, NULL, &unused) == 0)
        return;
    crm_kernel *k = NULL;
    crm_err err = {0};
    if (open_kernel(cli, true, &k, &err) != CRM_OK)
        return;
    const crm_plugin_command *list[MAX_LISTED];
    size_t n = crm_plugin_host_noun_commands(k, NULL, list, MAX_LISTED);
    if (n) {
        fprintf(f, "\nplugin commands:\n");
        print_command_list(f, list, n < MAX_LISTED ? n : MAX_LISTED);
    }
    crm_kernel_close(k);
}

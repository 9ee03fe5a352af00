/* crm plugins [--json], and `crm <plugin> <verb> ...` for plugin commands. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plugin_host.h"

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

static void print_plugin(FILE *f, json_t *p)
{
    fprintf(f, "%s %s (abi %s)\n  %-14s %s\n", json_string_value(json_object_get(p, "name")),
            json_string_value(json_object_get(p, "version")),
            json_string_value(json_object_get(p, "abi")), "file",
            json_string_value(json_object_get(p, "file")));
    print_names(f, "requires", json_object_get(p, "requires"), "name");
    print_names(f, "events", json_object_get(p, "events"), "pattern");
    print_names(f, "commands", json_object_get(p, "commands"), "verb");
    print_names(f, "lua functions", json_object_get(p, "lua_functions"), "name");
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

/* ---- crm <plugin> <verb> ------------------------------------------------------------- */

/* True when `name` is enabled under plugins: in the configuration. */
static bool enabled_plugin(const crm_cli *cli, const char *name)
{
    const char *path = crm_kernel_config_path(cli->open.config_path);
    crm_config *cfg = NULL;
    crm_err err = {0};
    if (!path || crm_config_load(&cfg, path, &err) != CRM_OK)
        return false;
    bool found = false;
    for (size_t i = 0; i < cfg->n_plugins && !found; i++)
        found = strcmp(cfg->plugins[i], name) == 0;
    crm_config_free(cfg);
    return found;
}

static void print_plugin_usage(FILE *f, crm_kernel *k, const char *plugin)
{
    const crm_plugin_command *c;
    size_t n = crm_plugin_host_commands(k, plugin, &c);
    fprintf(f, "usage: crm %s <command> [options]\n\ncommands:\n", plugin);
    for (size_t i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s %s", plugin, c[i].verb);
        fprintf(f, "  %-22s %s\n", name, c[i].summary);
    }
    if (n == 0)
        fprintf(f, "  (plugin %s registers no commands)\n", plugin);
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

static int fail(const char *what, int rc, const crm_err *err)
{
    fprintf(stderr, "crm %s: %s\n", what, err->msg[0] ? err->msg : crm_err_name(rc));
    return crm_err_exit_code(rc);
}

static int run_plugin_command(crm_cli *cli, int argc, char **argv)
{
    crm_err err = {0};
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
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fprintf(cli->out, "usage: crm %s %s%s%s [options]\n\n%s\n", plugin, c->verb,
                    c->usage ? " " : "", c->usage ? c->usage : "", c->summary);
            return 0;
        }
    char what[128];
    snprintf(what, sizeof what, "%s %s", plugin, c->verb);
    int rc = crm_plugin_host_run_command(cli->k, c, argc - 1, argv + 1, cli->json, cli->out,
                                         &err);
    if (rc != CRM_OK) {
        int status = fail(what, rc, &err);
        if (rc == CRM_EUSAGE)
            fprintf(stderr, "Run `crm %s --help` for usage.\n", what);
        return status;
    }
    return 0;
}

/* Runs `crm <plugin> <verb> ARGS` (argv[0] is the plugin) when crm.yaml
 * enables that plugin: opens the kernel (which loads the plugins), runs the
 * command and closes. Returns the exit status, or -1 when argv[0] is not an
 * enabled plugin (the caller then reports an unknown command). */
int crm_cli_plugin_main(crm_cli *cli, int argc, char **argv);
int crm_cli_plugin_main(crm_cli *cli, int argc, char **argv)
{
    if (argc < 1 || !enabled_plugin(cli, argv[0]))
        return -1;
    crm_err err = {0};
    int rc = crm_kernel_open(&cli->k, &cli->open, &err);
    if (rc != CRM_OK)
        return fail(argv[0], rc, &err);
    int status = run_plugin_command(cli, argc, argv);
    crm_kernel_close(cli->k);
    cli->k = NULL;
    return status;
}

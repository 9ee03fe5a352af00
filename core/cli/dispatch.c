/* Global options, command lookup, --help and exit statuses. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

/* `crm <plugin> <verb>` and `crm <noun> [<verb>]` of plugin nouns
 * (cli_plugins.c): the exit status, or -1 when argv[0] is neither an enabled
 * plugin nor a noun a loaded plugin registered. */
int crm_cli_plugin_main(crm_cli *cli, int argc, char **argv);

/* Lists plugin nouns after the kernel's commands (cli_plugins.c); best
 * effort, nothing when no plugin is enabled or they cannot load. */
void crm_cli_plugin_usage(crm_cli *cli, FILE *f);

/* Says which shipped-but-disabled plugin provides `noun` and how to enable
 * it (cli_plugins.c); false when none does. */
bool crm_cli_plugin_disabled_hint(crm_cli *cli, const char *noun);

static const crm_opt global_opts[] = {
    {"config", CRM_OPT_VALUE, "FILE", "configuration file (default ./crm.yaml, else $CRM_CONFIG)"},
    {"db", CRM_OPT_VALUE, "PATH", "database file (default: crm.yaml's database, or $CRM_DB)"},
    {"as-of", CRM_OPT_VALUE, "DATE", "compute as if now were DATE (ISO 8601, UTC)"},
    {"json", CRM_OPT_FLAG, NULL, "machine-readable output: JSON, one object per line"},
    {"quiet", CRM_OPT_FLAG, NULL, "no progress output"},
    {NULL, 0, NULL, NULL},
};

/* Moves global options (anywhere on the line) into cli; the rest stays in
 * argv in order. Returns the new argc or -1 on a usage error. */
static int take_globals(crm_cli *cli, int argc, char **argv, crm_err *err)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        const crm_opt *g = NULL;
        for (const crm_opt *o = global_opts; o->name; o++) {
            size_t len = strlen(o->name);
            if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, o->name, len) == 0 &&
                (a[2 + len] == '\0' || a[2 + len] == '='))
                g = o;
        }
        if (!g) {
            argv[out++] = argv[i];
            continue;
        }
        const char *value = NULL;
        if (g->kind == CRM_OPT_VALUE) {
            const char *eq = strchr(a, '=');
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return crm_err_set(err, CRM_EUSAGE, "option --%s needs a value", g->name), -1;
        }
        if (strcmp(g->name, "config") == 0)
            cli->open.config_path = value;
        else if (strcmp(g->name, "db") == 0)
            cli->open.db_path = value;
        else if (strcmp(g->name, "as-of") == 0)
            cli->open.as_of = value;
        else if (strcmp(g->name, "json") == 0)
            cli->json = true;
        else
            cli->quiet = true;
    }
    return out;
}

static void print_opts(FILE *f, const crm_opt *opts)
{
    for (const crm_opt *o = opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "", o->kind == CRM_OPT_LIST ? " ..." : "");
        fprintf(f, "  %-28s %s\n", left, o->help);
    }
}

static void command_name(const crm_command *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "");
}

static void print_command_help(FILE *f, const crm_command *c)
{
    char name[64];
    command_name(c, name, sizeof name);
    fprintf(f, "usage: crm %s%s%s [options]\n\n%s\n", name, c->usage ? " " : "",
            c->usage ? c->usage : "", c->summary);
    if (c->opts && c->opts->name) {
        fprintf(f, "\noptions:\n");
        print_opts(f, c->opts);
    }
    fprintf(f, "\nglobal options:\n");
    print_opts(f, global_opts);
}

static void print_usage(FILE *f, const char *noun)
{
    fprintf(f, "usage: crm [--config FILE] [--db PATH] [--json] <command> [options]\n\n"
               "commands:\n");
    for (int g = 0; crm_cli_groups[g]; g++)
        for (const crm_command *c = crm_cli_groups[g]; c->noun; c++) {
            if (noun && strcmp(noun, c->noun) != 0)
                continue;
            char name[64];
            command_name(c, name, sizeof name);
            fprintf(f, "  %-22s %s\n", name, c->summary);
        }
    fprintf(f, "\nRun `crm <command> --help` for a command's options; `crm plugins` lists\n"
               "plugins, whose commands run as `crm <plugin> <verb>` or under the nouns\n"
               "they register.\n");
}

static void print_topic(FILE *f, const char *noun, const crm_command *c)
{
    for (const crm_cli_topic *t = crm_cli_topics; t->noun; t++)
        if (strcmp(t->noun, noun) == 0)
            t->print(f, c);
}

static bool noun_exists(const char *noun)
{
    for (int g = 0; crm_cli_groups[g]; g++)
        for (const crm_command *c = crm_cli_groups[g]; c->noun; c++)
            if (strcmp(c->noun, noun) == 0)
                return true;
    return false;
}

bool crm_cli_kernel_noun(const char *noun)
{
    return noun && noun_exists(noun);
}

#define MAX_NAMES 128

/* The kernel noun nearest to `noun` by edit distance (crm_suggest), or NULL. */
const char *crm_cli_suggest_noun(const char *noun);
const char *crm_cli_suggest_noun(const char *noun)
{
    const char *names[MAX_NAMES + 1];
    size_t n = 0;
    for (int g = 0; crm_cli_groups[g]; g++)
        for (const crm_command *c = crm_cli_groups[g]; c->noun && n < MAX_NAMES; c++)
            if (n == 0 || strcmp(names[n - 1], c->noun) != 0)
                names[n++] = c->noun;
    names[n] = NULL;
    return crm_suggest(noun, names);
}

/* The verb of kernel noun `noun` nearest to `verb`, or NULL. */
static const char *suggest_verb(const char *noun, const char *verb)
{
    const char *names[MAX_NAMES + 1];
    size_t n = 0;
    for (int g = 0; crm_cli_groups[g]; g++)
        for (const crm_command *c = crm_cli_groups[g]; c->noun && n < MAX_NAMES; c++)
            if (c->verb && strcmp(c->noun, noun) == 0)
                names[n++] = c->verb;
    names[n] = NULL;
    return crm_suggest(verb, names);
}

/* "unknown command" with what the user probably meant: a near kernel
 * command, or the disabled plugin that provides the noun. */
static void report_unknown(crm_cli *cli, int n, char **rest, bool group)
{
    fprintf(stderr, "crm: unknown command '%s%s%s'\n", rest[0], group && n > 1 ? " " : "",
            group && n > 1 ? rest[1] : "");
    const char *hint = group ? (n > 1 ? suggest_verb(rest[0], rest[1]) : NULL)
                             : crm_cli_suggest_noun(rest[0]);
    if (hint) {
        fprintf(stderr, "Did you mean `crm %s%s%s`?\n", group ? rest[0] : hint,
                group ? " " : "", group ? hint : "");
        return;
    }
    if (!group && crm_cli_plugin_disabled_hint(cli, rest[0]))
        return;
    print_usage(stderr, group ? rest[0] : NULL);
}

static const crm_command *find_command(int argc, char **argv, int *used)
{
    for (int g = 0; crm_cli_groups[g]; g++)
        for (const crm_command *c = crm_cli_groups[g]; c->noun; c++) {
            if (strcmp(c->noun, argv[0]) != 0)
                continue;
            if (!c->verb) {
                *used = 1;
                return c;
            }
            if (argc > 1 && strcmp(c->verb, argv[1]) == 0) {
                *used = 2;
                return c;
            }
        }
    return NULL;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int run_command(crm_cli *cli, const crm_command *c, int argc, char **argv, crm_err *err)
{
    crm_args args;
    int rc = crm_args_parse(&args, c->opts, argc, argv, err);
    if (rc == CRM_OK && (args.n_pos < c->min_pos || args.n_pos > c->max_pos))
        rc = crm_err_set(err, CRM_EUSAGE, "expected %s%s (see --help)",
                         c->usage ? c->usage : "no arguments",
                         args.n_pos > c->max_pos ? ", got too many arguments" : "");
    if (rc == CRM_OK && (c->flags & CRM_CMD_NEEDS_KERNEL)) {
        cli->open.create = (c->flags & CRM_CMD_CREATES_DB) != 0;
        if (c->flags & CRM_CMD_NO_DATA) {
            cli->open.db_path = ":memory:";
            cli->open.create = true;
        }
        rc = crm_kernel_open(&cli->k, &cli->open, err);
    }
    if (rc == CRM_OK)
        rc = c->fn(cli, &args, err);
    crm_args_free(&args);
    return rc;
}

static void report(const crm_cli *cli, const crm_command *c, int rc, const crm_err *err)
{
    char name[64] = "";
    if (c)
        command_name(c, name, sizeof name);
    fprintf(stderr, "crm%s%s: %s\n", *name ? " " : "", name,
            err->msg[0] ? err->msg : crm_err_name(rc));
    if (rc == CRM_EUSAGE && c)
        fprintf(stderr, "Run `crm %s --help` for usage.\n", name);
}

int crm_cli_main(int argc, char **argv)
{
    crm_cli cli = {.out = stdout};
    crm_err err = {0};
    int n = take_globals(&cli, argc - 1, argv + 1, &err);
    if (n < 0) {
        report(&cli, NULL, err.code, &err);
        return 2;
    }
    char **rest = argv + 1;
    if (n == 0 || strcmp(rest[0], "--help") == 0 || strcmp(rest[0], "help") == 0) {
        print_usage(n == 0 ? stderr : stdout, NULL);
        crm_cli_plugin_usage(&cli, n == 0 ? stderr : stdout);
        return n == 0 ? 2 : 0;
    }
    if (strcmp(rest[0], "--version") == 0) {
        printf("crm %s\n", CRM_VERSION);
        return 0;
    }
    int used = 0;
    const crm_command *c = find_command(n, rest, &used);
    if (!c) {
        bool group = noun_exists(rest[0]);
        int status = group ? -1 : crm_cli_plugin_main(&cli, n, rest);
        if (status >= 0)
            return status;
        if (group && wants_help(n, rest)) {
            print_usage(stdout, rest[0]);
            print_topic(stdout, rest[0], NULL);
            return 0;
        }
        report_unknown(&cli, n, rest, group);
        return 2;
    }
    cli.cmd = c;
    if (wants_help(n - used, rest + used)) {
        print_command_help(stdout, c);
        print_topic(stdout, c->noun, c);
        return 0;
    }
    int rc = run_command(&cli, c, n - used, rest + used, &err);
    if (rc != CRM_OK)
        report(&cli, c, rc, &err);
    crm_kernel_close(cli.k);
    return crm_err_exit_code(rc);
}

void crm_cli_print_json(crm_cli *cli, json_t *value)
{
    if (!value)
        return;
    json_dumpf(value, cli->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', cli->out);
    json_decref(value);
}

void crm_cli_print_id(crm_cli *cli, int64_t id)
{
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sI}", "id", (json_int_t)id));
    else
        fprintf(cli->out, "%lld\n", (long long)id);
}

static void print_scalar(FILE *f, json_t *v)
{
    if (json_is_string(v))
        fputs(json_string_value(v), f);
    else if (json_is_null(v))
        fputs("-", f);
    else
        json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

void crm_cli_print_object(crm_cli *cli, json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        fprintf(cli->out, "%-16s ", key);
        size_t len = strlen(key);
        char when[CRM_CLI_TIME_SIZE];
        /* the model names its instants *_at: people read them in locale.timezone */
        if (len > 3 && strcmp(key + len - 3, "_at") == 0 && !json_is_null(v))
            fputs(crm_cli_time_of(cli, obj, key, when, sizeof when), cli->out);
        else
            print_scalar(cli->out, v);
        fputc('\n', cli->out);
    }
    json_decref(obj);
}

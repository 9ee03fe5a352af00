/* Plugin commands declared with option tables (SDK 1.3), in the manner of the
 * kernel's own crm_command rows: the host parses argv against the table,
 * refuses what does not fit with exit status 2 (unknown option with the
 * nearest one, missing value, wrong type, missing required option, wrong
 * number of arguments), types the values (int, date, money, duration) and
 * prints --help from the same table, so a plugin's command behaves like
 * `crm contact list`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"
#include "sdk13.h"
#include "time/calendar.h"
#include "util.h"

#define DASH " \xe2\x80\x94 "
#define MAX_OPTIONS 64
#define MAX_ARGS 64

struct crm_command_args {
    const crm_host_api *api; /* struct crm_handle_head */
    const crm_command_spec *spec;
    int n_opts;
    crm_value value[MAX_OPTIONS];
    int n_pos;
    const char *pos[MAX_ARGS];
};

/* Options every command has already (the CLI's global ones, and --help). */
static const char *const global_names[] = {"config", "db", "as-of", "json", "quiet", "help", NULL};

static const char *const type_metavar[] = {"", NULL, "TEXT", "N", "DATE", "AMOUNT", "DURATION"};

static bool option_name_ok(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s) && s[strlen(s) - 1] != '-';
}

bool crm_plug13_spec_ok(const crm_command_spec *spec, char *why, size_t size)
{
    if (!spec->fn || !spec->summary)
        return snprintf(why, size, "a table command needs a summary and a function"), false;
    if (spec->min_args < 0 || spec->max_args < spec->min_args || spec->max_args > MAX_ARGS)
        return snprintf(why, size, "positional arguments: expected 0 <= min_args <= max_args <= %d",
                        MAX_ARGS),
               false;
    int n = 0;
    for (const crm_option *o = spec->options; o && o->name; o++, n++) {
        if (n >= MAX_OPTIONS)
            return snprintf(why, size, "more than %d options", MAX_OPTIONS), false;
        if (!option_name_ok(o->name))
            return snprintf(why, size, "option '%s': expected a-z first, then a-z, 0-9 and -",
                            o->name),
                   false;
        if (o->type < CRM_OPTION_FLAG || o->type > CRM_OPTION_DURATION)
            return snprintf(why, size, "option --%s: unknown type %d", o->name, (int)o->type),
                   false;
        if (o->type == CRM_OPTION_FLAG && o->required)
            return snprintf(why, size, "option --%s: a flag cannot be required", o->name), false;
        if (crm_str_in(o->name, global_names))
            return snprintf(why, size, "option --%s is a global option of crm", o->name), false;
        for (const crm_option *q = spec->options; q < o; q++)
            if (strcmp(q->name, o->name) == 0)
                return snprintf(why, size, "option --%s declared twice", o->name), false;
    }
    return true;
}

int crm_plug13_table_entry(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    (void)io;
    (void)argc;
    (void)argv;
    return crm_plug_fail(ctx, CRM_EINTERNAL, "a table command was run without its table");
}

/* ---- parsing ---------------------------------------------------------------------- */

static int find_option(const crm_command_spec *spec, const char *name, size_t len)
{
    int i = 0;
    for (const crm_option *o = spec->options; o && o->name; o++, i++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return i;
    return -1;
}

static int unknown_option(const crm_command_spec *spec, const char *name, size_t len,
                          crm_err *err)
{
    const char *names[MAX_OPTIONS + 1];
    char word[128];
    size_t n = 0;
    for (const crm_option *o = spec->options; o && o->name && n < MAX_OPTIONS; o++)
        names[n++] = o->name;
    names[n] = NULL;
    snprintf(word, sizeof word, "%.*s", (int)len, name);
    const char *hint = crm_suggest(word, names);
    if (hint)
        return crm_err_set(err, CRM_EUSAGE, "unknown option --%s" DASH "did you mean --%s?", word,
                           hint);
    return crm_err_set(err, CRM_EUSAGE, "unknown option --%s%s", word,
                       n ? " (see --help)" : ": this command takes no options");
}

static int typed(crm_kernel *k, const crm_option *o, const char *text, crm_value *v, crm_err *err)
{
    char why[512];
    crm_err e = {0};
    char *end;
    v->given = 1;
    v->text = text;
    switch (o->type) {
    case CRM_OPTION_INT:
        errno = 0;
        v->i = strtoll(text, &end, 10);
        if (end == text || *end || errno)
            return crm_err_set(err, CRM_EUSAGE, "--%s: '%s' is not an integer", o->name, text);
        return CRM_OK;
    case CRM_OPTION_DATE: {
        char field[80];
        snprintf(field, sizeof field, "--%s", o->name);
        if (crm_calendar_parse_time(crm_calendar_find(k->cfg, NULL), field, text, k->now, &v->i,
                                    &e) != CRM_OK)
            return crm_err_set(err, CRM_EUSAGE, "%s", e.msg);
        return CRM_OK;
    }
    case CRM_OPTION_MONEY:
        if (crm_plug13_parse_money(k->cfg, text, v, why, sizeof why) != CRM_OK)
            return crm_err_set(err, CRM_EUSAGE, "--%s: %s", o->name, why);
        return CRM_OK;
    case CRM_OPTION_DURATION: {
        crm_duration d;
        if (crm_duration_parse(text, &d, &e) != CRM_OK)
            return crm_err_set(err, CRM_EUSAGE, "--%s: %s", o->name, e.msg);
        v->i = d.amount;
        v->unit = (int)d.unit;
        return CRM_OK;
    }
    default:
        return CRM_OK;
    }
}

static int take_option(crm_kernel *k, crm_command_args *a, int argc, char **argv, int *i,
                       crm_err *err)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int o = find_option(a->spec, name, len);
    if (o < 0)
        return unknown_option(a->spec, name, len, err);
    const crm_option *opt = &a->spec->options[o];
    crm_value *v = &a->value[o];
    if (v->given && opt->type != CRM_OPTION_FLAG) /* the second would silently win */
        return crm_err_set(err, CRM_EUSAGE, "option --%s given twice: it takes one value%s",
                           opt->name, a->spec->max_args ? " (see --help for the arguments)" : "");
    memset(v, 0, sizeof *v);
    if (opt->type == CRM_OPTION_FLAG) {
        if (eq)
            return crm_err_set(err, CRM_EUSAGE, "option --%s takes no value", opt->name);
        v->given = 1;
        v->i = 1;
        return CRM_OK;
    }
    const char *text = eq ? eq + 1 : NULL;
    if (!text) {
        if (*i + 1 >= argc)
            return crm_err_set(err, CRM_EUSAGE, "option --%s needs a value (%s)", opt->name,
                               opt->metavar ? opt->metavar : type_metavar[opt->type]);
        text = argv[++*i];
    }
    return typed(k, opt, text, v, err);
}

static int parse(crm_kernel *k, const crm_plugin_command *c, int argc, char **argv,
                 crm_command_args *a, crm_err *err)
{
    const crm_command_spec *spec = c->spec;
    a->spec = spec;
    for (const crm_option *o = spec->options; o && o->name; o++)
        a->n_opts++;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = true;
        } else if (!only_pos && strncmp(argv[i], "--", 2) == 0) {
            int rc = take_option(k, a, argc, argv, &i, err);
            if (rc != CRM_OK)
                return rc;
        } else if (a->n_pos < spec->max_args) {
            a->pos[a->n_pos++] = argv[i];
        } else {
            return crm_err_set(err, CRM_EUSAGE, "unexpected argument '%s'" DASH "expected %s",
                               argv[i], spec->usage ? spec->usage : "no arguments");
        }
    }
    if (a->n_pos < spec->min_args)
        return crm_err_set(err, CRM_EUSAGE, "expected %s", spec->usage ? spec->usage : "arguments");
    for (int i = 0; i < a->n_opts; i++)
        if (spec->options[i].required && !a->value[i].given)
            return crm_err_set(err, CRM_EUSAGE, "missing required option --%s %s",
                               spec->options[i].name,
                               spec->options[i].metavar ? spec->options[i].metavar
                                                        : type_metavar[spec->options[i].type]);
    return CRM_OK;
}

int crm_plug13_run_table(crm_kernel *k, const crm_plugin_command *c, int argc, char **argv,
                         bool json, FILE *out, crm_err *err)
{
    crm_plugin_ctx *p = c->ctx;
    crm_command_args *a = calloc(1, sizeof *a);
    if (!a)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    a->api = p->api;
    int rc = parse(k, c, argc, argv, a, err);
    if (rc == CRM_OK) {
        struct crm_command_io io = {.api = p->api, .out = out, .json = json};
        plug_frame f;
        p->error[0] = '\0';
        crm_plug_enter(p, &f);
        rc = c->spec->fn(p, &io, a);
        crm_plug_leave(p, &f);
        if (rc != CRM_OK)
            rc = crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "%s",
                             p->error[0] ? p->error : crm_err_name(rc));
    }
    free(a);
    return rc;
}

/* ---- reading -------------------------------------------------------------------------- */

int crm_plug13_args_count(const crm_command_args *a) { return a ? a->n_pos : 0; }

const char *crm_plug13_args_get(const crm_command_args *a, int i)
{
    return a && i >= 0 && i < a->n_pos ? a->pos[i] : NULL;
}

int crm_plug13_args_option(const crm_command_args *a, const char *name, crm_value *out)
{
    memset(out, 0, sizeof *out);
    int o = name ? find_option(a->spec, name, strlen(name)) : -1;
    if (o < 0)
        return CRM_EUSAGE;
    *out = a->value[o];
    return out->given ? CRM_OK : CRM_ENOTFOUND;
}

/* ---- --help ------------------------------------------------------------------------------ */

void crm_plugin_command_help(FILE *f, const crm_plugin_command *c)
{
    const crm_command_spec *s = c->spec;
    char name[160];
    snprintf(name, sizeof name, "%s%s%s", c->noun ? c->noun : c->plugin, c->verb ? " " : "",
             c->verb ? c->verb : "");
    fprintf(f, "usage: crm %s%s%s [options]\n\n%s\n(plugin %s)\n", name, s->usage ? " " : "",
            s->usage ? s->usage : "", s->summary, c->plugin);
    if (s->options && s->options->name) {
        fprintf(f, "\noptions:\n");
        for (const crm_option *o = s->options; o->name; o++) {
            char left[96];
            const char *meta = o->metavar ? o->metavar : type_metavar[o->type];
            snprintf(left, sizeof left, "--%s%s%s", o->name, meta ? " " : "", meta ? meta : "");
            fprintf(f, "  %-28s %s%s\n", left, o->help ? o->help : "",
                    o->required ? " (required)" : "");
        }
    }
    fprintf(f, "\nglobal options: --config FILE, --db PATH, --as-of DATE, --json, --quiet\n");
}

/* ---- crm plugins --json ------------------------------------------------------------------ */

json_t *crm_plug13_describe_options(const crm_plugin_command *c)
{
    static const char *const type_names[] = {"", "flag", "string", "int", "date", "money",
                                             "duration"};
    if (!c->spec)
        return NULL;
    json_t *a = json_array();
    for (const crm_option *o = c->spec->options; o && o->name; o++)
        json_array_append_new(a, json_pack("{ss ss sb ss? ss?}", "name", o->name, "type",
                                           type_names[o->type], "required", o->required != 0,
                                           "metavar", o->metavar, "help", o->help));
    return a;
}

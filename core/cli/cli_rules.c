/* crm rules check|eval|run: the Lua rule engine from the command line. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lua/engine.h"
#include "model.h"

#define MAX_CHECK_FILES 256

/* ---- check ------------------------------------------------------------------ */

typedef struct check_out {
    crm_cli *cli;
    const char *file;
    json_t *errors;
} check_out;

static void add_error(check_out *co, const char *msg)
{
    json_array_append_new(co->errors, json_string(msg));
    if (!co->cli->json)
        fprintf(co->cli->out, "%s\n", msg);
}

static void on_blocked(int line, const char *what, void *ud)
{
    check_out *co = ud;
    char msg[512];
    snprintf(msg, sizeof msg, "%s:%d: %s is not available to rules (blocked)", co->file, line,
             what);
    add_error(co, msg);
}

/* Loads one file in the sandbox and scans it; returns the number of errors. */
static size_t check_one(crm_cli *cli, const char *path)
{
    check_out co = {cli, path, json_array()};
    crm_err err = {0};
    if (crm_lua_check_file(cli->k->lua, path, &err) != CRM_OK)
        add_error(&co, err.msg);
    crm_lua_scan_blocked(path, on_blocked, &co);
    size_t n = json_array_size(co.errors);
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sssbso}", "file", path, "ok", n == 0, "errors",
                                          co.errors));
    else {
        if (n == 0 && !cli->quiet)
            fprintf(cli->out, "%s: ok\n", path);
        json_decref(co.errors);
    }
    return n;
}

/* Each configured rule must name a function of its script. */
static size_t check_rules(crm_cli *cli)
{
    size_t bad = 0;
    const crm_config *cfg = cli->k->cfg;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        crm_err err = {0};
        if (crm_lua_check_rule(cli->k->lua, i, &err) == CRM_OK || err.code != CRM_ESCRIPT)
            continue;
        const crm_node *n = cfg->rules[i].node;
        if (strstr(err.msg, "has no function")) {
            bad++;
            if (cli->json)
                crm_cli_print_json(cli, json_pack("{sssbs[s]}", "rule", cfg->rules[i].name, "ok",
                                                  0, "errors", err.msg));
            else
                fprintf(cli->out, "%s:%d:%d: %s\n", n ? n->file : "crm.yaml", n ? n->line : 0,
                        n ? n->column : 0, err.msg);
        }
    }
    return bad;
}

static int cmd_check(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *files[MAX_CHECK_FILES];
    size_t n = (size_t)a->n_pos, bad = 0;
    for (size_t i = 0; i < n; i++)
        files[i] = a->pos[i];
    if (n == 0)
        n = crm_lua_configured_scripts(cli->k->lua, files, MAX_CHECK_FILES);
    if (n == 0 && !cli->quiet)
        fprintf(stderr, "no rules configured (crm.yaml rules:) and no FILE given\n");
    for (size_t i = 0; i < n; i++)
        bad += check_one(cli, files[i]);
    if (a->n_pos == 0)
        bad += check_rules(cli);
    if (bad)
        return crm_err_set(err, CRM_ESCRIPT, "%zu problem%s found", bad, bad == 1 ? "" : "s");
    return CRM_OK;
}

/* ---- eval ------------------------------------------------------------------- */

static void print_list(FILE *f, const char *label, json_t *a)
{
    fprintf(f, "%-12s ", label);
    if (json_array_size(a) == 0)
        fputs("-", f);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        fprintf(f, "%s%s", i ? ", " : "", json_string_value(v));
    fputc('\n', f);
}

static void print_eval(crm_cli *cli, const crm_lua_rule *r, int64_t id, crm_lua_outcome *o)
{
    if (cli->json) {
        json_t *j = o->cause == CRM_LUA_OK
                        ? json_pack("{sssIsOsOsO}", "rule", crm_lua_rule_name(r), "contact",
                                    (json_int_t)id, "result", o->result, "reasons", o->reasons,
                                    "fields_read", o->fields_read)
                        : json_pack("{sssIssss}", "rule", crm_lua_rule_name(r), "contact",
                                    (json_int_t)id, "error", o->error, "cause",
                                    crm_lua_cause_name(o->cause));
        crm_cli_print_json(cli, j);
        return;
    }
    if (o->cause != CRM_LUA_OK)
        return;  /* the dispatcher prints the error */
    fprintf(cli->out, "%-12s %s (%s)\n%-12s %lld\n%-12s ", "rule", crm_lua_rule_name(r),
            crm_lua_kind_name(crm_lua_rule_kind(r)), "contact", (long long)id, "result");
    json_dumpf(o->result, cli->out, JSON_ENCODE_ANY | JSON_COMPACT);
    fputc('\n', cli->out);
    print_list(cli->out, "reasons", o->reasons);
    print_list(cli->out, "fields_read", o->fields_read);
}

static int cmd_eval(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *ref = crm_args_get(a, "contact");
    if (!ref)
        return crm_err_set(err, CRM_EUSAGE, "--contact ID is required");
    crm_lua_rule *r;
    int64_t id;
    int rc = crm_lua_rule_find(cli->k->lua, a->pos[0], &r, err);
    if (rc == CRM_OK)
        rc = crm_contact_resolve(cli->k, ref, &id, err);
    if (rc != CRM_OK)
        return rc;
    crm_lua_outcome o;
    rc = crm_lua_eval(cli->k->lua, r, id, &o, err);
    if (rc == CRM_OK || rc == CRM_ESCRIPT)
        print_eval(cli, r, id, &o);
    crm_lua_outcome_clear(&o);
    return rc;
}

/* ---- run -------------------------------------------------------------------- */

/* --where FIELD=VALUE: the filters, as data (`crm rules --help` prints them). */
static const struct {
    const char *field;
    const char *clause;
    const char *help;
} where_fields[] = {
    {"email", "c.email = lower(?)", "the address, in any case"},
    {"city", "c.city = ? COLLATE NOCASE", "the city, in any case"},
    {"postal_code", "c.postal_code LIKE ? || '%'", "a prefix: 75 is every Paris code"},
    {"country", "c.country = upper(?)", "ISO 3166 code: FR, DE ..."},
    {"lifecycle_stage", "c.lifecycle_stage = lower(?)", "subscriber, lead, customer ..."},
    {"stage", "c.lifecycle_stage = lower(?)", "the same as lifecycle_stage"},
    {"source", "c.source = ?", "exactly as stored"},
    {"company", "co.name = ? COLLATE NOCASE", "the company's name, in any case"},
    {"tag", "c.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)", "carries the tag"},
};
#define N_WHERE (sizeof where_fields / sizeof where_fields[0])

typedef struct batch {
    crm_cli *cli;
    crm_lua_rule *rule;
    int64_t evaluated, matched, failed, total, show, max_failures, first_failed;
    int64_t by_cause[CRM_LUA_CAUSE_LAST + 1];
    json_t *first, *failures;
    bool stopped, progress;
} batch;

static const char *where_clause(const char *field)
{
    for (size_t i = 0; i < N_WHERE; i++)
        if (strcmp(where_fields[i].field, field) == 0)
            return where_fields[i].clause;
    return NULL;
}

/* Builds "... WHERE c1 AND c2 ..." + tail into sql; values into vals. */
static int build_where(const crm_args *a, char *sql, size_t size, const char **vals, int *n,
                       char names[][64], crm_err *err)
{
    const char **w;
    int nw = crm_args_list(a, "where", &w);
    *n = 0;
    size_t len = strlen(sql);
    for (int i = 0; i < nw && i < 8; i++) {
        const char *eq = strchr(w[i], '=');
        if (eq)
            snprintf(names[i], 64, "%.*s", (int)(eq - w[i]), w[i]);
        const char *clause = eq ? where_clause(names[i]) : NULL;
        if (!clause) {
            char known[256] = "";
            for (size_t j = 0, at = 0; j < N_WHERE && at < sizeof known; j++)
                at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", j ? ", " : "",
                                       where_fields[j].field);
            return crm_err_set(err, CRM_EUSAGE,
                               "--where '%s': expected FIELD=VALUE with FIELD one of %s "
                               "(see `crm rules --help`)",
                               w[i], known);
        }
        len += (size_t)snprintf(sql + len, size - len, "%s (%s)", *n ? " AND" : " WHERE",
                                clause);
        vals[(*n)++] = eq + 1;
    }
    return CRM_OK;
}

static sqlite3_stmt *prepare(crm_cli *cli, const char *sql, const char **vals, int n,
                             crm_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(crm_store_db(cli->k->store), sql, -1, &st, NULL) != SQLITE_OK) {
        crm_store_error(cli->k->store, "cannot list contacts", err);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
    return st;
}

static void progress(batch *b, bool done)
{
    if (!b->progress || (!done && b->evaluated % 1000 != 0))
        return;
    int width = 30, filled = b->total ? (int)(width * b->evaluated / b->total) : width;
    fprintf(stderr, "\r[%.*s%*s] %lld/%lld contacts, %lld matched, %lld failed", filled,
            "##############################", width - filled, "", (long long)b->evaluated,
            (long long)b->total, (long long)b->matched, (long long)b->failed);
    if (done)
        fputc('\n', stderr);
}

static void one_row(batch *b, sqlite3_stmt *st)
{
    crm_lua_outcome o;
    crm_err err = {0};
    int64_t id = sqlite3_column_int64(st, 0);
    int rc = crm_lua_eval_row(b->cli->k->lua, b->rule, st, &o, &err);
    b->evaluated++;
    if (rc == CRM_OK && json_is_true(o.result)) {
        if (b->matched++ < b->show)
            json_array_append_new(b->first, json_integer(id));
    } else if (rc != CRM_OK) {
        if (!b->failed++)
            b->first_failed = id;
        b->by_cause[o.cause]++;
        if (json_array_size(b->failures) < 5)
            json_array_append_new(b->failures,
                                  json_pack("{sIssss}", "contact", (json_int_t)id, "error",
                                            o.error[0] ? o.error : err.msg, "cause",
                                            crm_lua_cause_name(o.cause)));
        b->stopped = b->max_failures > 0 && b->failed >= b->max_failures;
    }
    crm_lua_outcome_clear(&o);
    progress(b, false);
}

static json_t *cause_counts(const batch *b)
{
    json_t *o = json_object();
    for (int c = CRM_LUA_MEMORY; c <= CRM_LUA_CAUSE_LAST; c++)
        if (b->by_cause[c])
            json_object_set_new(o, crm_lua_cause_name(c), json_integer(b->by_cause[c]));
    return o;
}

static void print_batch(batch *b)
{
    crm_cli *cli = b->cli;
    if (cli->json) {
        crm_cli_print_json(
            cli, json_pack("{sssIsIsIsOsosOsb}", "rule", crm_lua_rule_name(b->rule), "evaluated",
                           (json_int_t)b->evaluated, "matched", (json_int_t)b->matched, "failed",
                           (json_int_t)b->failed, "first_matches", b->first, "failed_by_cause",
                           cause_counts(b), "failures", b->failures, "stopped", b->stopped));
        return;
    }
    fprintf(cli->out, "rule %s: %lld evaluated, %lld matched, %lld failed%s\n",
            crm_lua_rule_name(b->rule), (long long)b->evaluated, (long long)b->matched,
            (long long)b->failed, b->stopped ? " (stopped: lua.max_failures reached)" : "");
    size_t i;
    json_t *v;
    fprintf(cli->out, "first matches:");
    json_array_foreach(b->first, i, v)
        fprintf(cli->out, " %lld", (long long)json_integer_value(v));
    fputc('\n', cli->out);
    json_array_foreach(b->failures, i, v)
        fprintf(cli->out, "failure: %s\n", json_string_value(json_object_get(v, "error")));
}

static int64_t count_rows(crm_cli *cli, const char *where, const char **vals, int n)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM contacts c LEFT JOIN companies co ON co.id = c.company_id%s",
             where);
    crm_err err = {0};
    sqlite3_stmt *st = prepare(cli, sql, vals, n, &err);
    int64_t total = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return total;
}

static int run_batch(batch *b, const crm_args *a, crm_err *err)
{
    char sql[4096], names[8][64];
    const char *vals[8];
    int n;
    int64_t limit;
    /* the joins only for a --where that may name the company */
    const char **w;
    snprintf(sql, sizeof sql, "%s", crm_lua_contact_select(crm_args_list(a, "where", &w) > 0));
    size_t base = strlen(sql);
    int rc = build_where(a, sql, sizeof sql, vals, &n, names, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "limit", 0, &limit, err);
    if (rc != CRM_OK)
        return rc;
    if (b->progress)
        b->total = count_rows(b->cli, sql + base, vals, n);
    if (limit > 0 && (b->total == 0 || limit < b->total))
        b->total = limit;
    size_t len = strlen(sql);
    snprintf(sql + len, sizeof sql - len, " ORDER BY c.id LIMIT %lld",
             (long long)(limit > 0 ? limit : -1));
    sqlite3_stmt *st = prepare(b->cli, sql, vals, n, err);
    if (!st)
        return err->code;
    crm_lua_scan_begin(b->cli->k->lua);
    while (!b->stopped && sqlite3_step(st) == SQLITE_ROW)
        one_row(b, st);
    crm_lua_scan_end(b->cli->k->lua);
    sqlite3_finalize(st);
    progress(b, true);
    return CRM_OK;
}

static int cmd_run(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_lua_rule *r;
    int rc = crm_lua_rule_find(cli->k->lua, a->pos[0], &r, err);
    if (rc != CRM_OK)
        return rc;
    crm_lua_kind kind = crm_lua_rule_kind(r);
    if (kind != CRM_LUA_PREDICATE && kind != CRM_LUA_ANY)
        return crm_err_set(err, CRM_EUSAGE, "rule %s is a %s: `crm rules run` evaluates "
                           "predicates (use `crm rules eval` for one contact)",
                           crm_lua_rule_name(r), crm_lua_kind_name(kind));
    batch b = {.cli = cli, .rule = r, .show = 10, .first = json_array(),
               .failures = json_array(), .max_failures = cli->k->cfg->lua.max_failures,
               .progress = !cli->quiet && !cli->json && isatty(2)};
    rc = crm_args_int(a, "show", 10, &b.show, err);
    if (rc == CRM_OK)
        rc = run_batch(&b, a, err);
    if (rc == CRM_OK)
        print_batch(&b);
    json_decref(b.first);
    json_decref(b.failures);
    /* Like every command processing many records: exit 1 when any record
     * failed, after processing the others, with the counts printed above. */
    if (rc == CRM_OK && b.stopped)
        rc = crm_err_set(err, CRM_ESCRIPT, "stopped after %lld failures (lua.max_failures); "
                         "fix the rule and run it again", (long long)b.failed);
    else if (rc == CRM_OK && b.failed)
        rc = crm_err_set(err, CRM_ESCRIPT, "the rule failed for %lld of %lld contacts (the "
                         "others were evaluated); try one with `crm rules eval %s --contact %lld`",
                         (long long)b.failed, (long long)b.evaluated, crm_lua_rule_name(r),
                         (long long)b.first_failed);
    return rc;
}

/* ---- help --------------------------------------------------------------------- */

/* "  LEFT  TEXT" with TEXT wrapped at 79 columns under itself. */
static void print_entry(FILE *f, int indent, const char *left, const char *text)
{
    int col = fprintf(f, "  %-*s", indent - 2, left);
    if (col > indent) {
        fputc('\n', f);
        col = fprintf(f, "%*s", indent, "");
    }
    const char *p = text;
    bool first = true;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (!first && col + 1 + (int)w > 79) {
            col = fprintf(f, "\n%*s", indent, "") - 1;
            first = true;
        }
        col += fprintf(f, "%s%.*s", first ? "" : " ", (int)w, p);
        first = false;
        p += w;
        p += strspn(p, " ");
    }
    fputc('\n', f);
}

void crm_cli_rules_topic(FILE *f, const crm_command *c)
{
    bool check = c && strcmp(c->verb, "check") == 0;
    if (!check) {
        fprintf(f, "\nthe contact a rule gets (c): read-only, each field read when first used\n");
        const crm_lua_field_doc *d;
        for (size_t i = 0; (d = crm_lua_contact_field(i)) != NULL; i++) {
            char left[64], text[512];
            snprintf(left, sizeof left, "c%s%s", d->method ? ":" : ".", d->name);
            snprintf(text, sizeof text, "%s%s%s", d->type, d->help[0] ? ": " : "", d->help);
            print_entry(f, 24, left, text);
        }
    }
    if (!c || strcmp(c->verb, "run") == 0) {
        fprintf(f, "\ncrm rules run --where FIELD=VALUE (repeatable; all must hold):\n");
        for (size_t i = 0; i < N_WHERE; i++)
            print_entry(f, 24, where_fields[i].field, where_fields[i].help);
    }
    fprintf(f, "\ncauses of a failure:\n");
    for (int cause = CRM_LUA_MEMORY; cause <= CRM_LUA_CAUSE_LAST; cause++)
        print_entry(f, 24, crm_lua_cause_name(cause), crm_lua_cause_help(cause));
}

/* ---- the table -------------------------------------------------------------- */

static const crm_opt check_opts[] = {{NULL, 0, NULL, NULL}};

static const crm_opt eval_opts[] = {
    {"contact", CRM_OPT_VALUE, "ID", "the contact: id, email or ext:ID (required)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt run_opts[] = {
    {"where", CRM_OPT_LIST, "FIELD=VALUE",
     "only contacts with FIELD=VALUE (repeatable, AND; the fields are listed below)"},
    {"limit", CRM_OPT_VALUE, "N", "evaluate at most N contacts (default: all)"},
    {"show", CRM_OPT_VALUE, "N", "how many first matches to list (default 10)"},
    {NULL, 0, NULL, NULL},
};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_rules_cmds[] = {
    {"rules", "check", cmd_check, K | CRM_CMD_NO_DATA, 0, CRM_ARGS_MAX_POS, "[FILE...]",
     "load scripts in the sandbox; report syntax errors and blocked calls with file:line",
     check_opts},
    {"rules", "eval", cmd_eval, K, 1, 1, "RULE|FILE:FUNCTION",
     "evaluate one rule for one contact (--contact ID; honours --as-of)", eval_opts},
    {"rules", "run", cmd_run, K, 1, 1, "RULE|FILE:FUNCTION",
     "evaluate a predicate over all contacts: counts, first matches, failures", run_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

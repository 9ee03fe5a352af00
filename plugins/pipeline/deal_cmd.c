/* pipeline plugin — crm deal add|move|win|lose|reopen|update|list|show|history.
 * Every write runs in one transaction with its history rows and events. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* ---- shared ------------------------------------------------------------------ */

/* Deal `text` read into d. */
static int deal_arg(crm_plugin_ctx *ctx, const char *text, pl_deal *d)
{
    int64_t id = pl_parse_id(ctx, text, "deal");
    return id ? pl_deal_get(ctx, id, d) : CRM_EUSAGE;
}

static int print_deal_line(crm_plugin_ctx *ctx, crm_command_io *io, const pl_deal *d,
                           const char *verb)
{
    if (crm_io_json(io))
        return pl_print_json(ctx, io, pl_deal_json(ctx, d));
    fprintf(crm_io_out(io), "deal %lld %s: %s (%s, %d %%)\n", (long long)d->id, verb, d->stage,
            d->status, pl_deal_probability(ctx, d));
    return CRM_OK;
}

/* An explicit currency code in a money text ("1200.00 USD"). */
static int has_code(const char *text)
{
    for (const char *p = text; p && *p; p++)
        if (isupper((unsigned char)*p))
            return 1;
    return 0;
}

/* ---- add ----------------------------------------------------------------------- */

typedef struct add_job {
    const crm_command_args *args;
    pl_deal d;
} add_job;

int pl_deal_check_contact(crm_plugin_ctx *ctx, int64_t contact_id)
{
    char *json = NULL;
    int rc = crm_contact_get_json(ctx, contact_id, &json);
    crm_free(ctx, json);
    if (rc == CRM_ENOTFOUND)
        crm_set_error(ctx, "--contact: no contact %lld", (long long)contact_id);
    return rc;
}

/* Fills d from the options; the pipeline's first open stage by default. */
static int add_fields(crm_plugin_ctx *ctx, const crm_command_args *a, pl_deal *d)
{
    crm_value v;
    memset(d, 0, sizeof *d);
    d->probability_override = d->category_override = -1;
    const pl_pipeline *p = pl_pipeline_find(ctx, pl_opt_text(a, "pipeline"));
    if (!p) {
        crm_set_error(ctx, "--pipeline: no pipeline \"%s\"", pl_opt_text(a, "pipeline"));
        return CRM_EINVAL;
    }
    snprintf(d->pipeline, sizeof d->pipeline, "%s", p->name);
    const char *stage = pl_opt_text(a, "stage");
    int si = stage ? pl_stage_index(p, stage) : 0;
    if (si < 0 || (size_t)si == p->won || (size_t)si == p->lost) {
        crm_set_error(ctx, "--stage: \"%s\" is not an open stage of pipeline %s", stage, p->name);
        return CRM_EINVAL;
    }
    snprintf(d->stage, sizeof d->stage, "%s", p->stages[si].name);
    snprintf(d->title, sizeof d->title, "%s", pl_opt_text(a, "title"));
    if (!(d->contact_id = pl_parse_id(ctx, pl_opt_text(a, "contact"), "--contact")))
        return CRM_EINVAL;
    const char *company = pl_opt_text(a, "company");
    if (company && !(d->company_id = pl_parse_id(ctx, company, "--company")))
        return CRM_EINVAL;
    crm_args_option(a, "amount", &v);
    d->amount = v.i;
    const char *cur = pl_opt_text(a, "currency");
    snprintf(d->currency, sizeof d->currency, "%s",
             cur ? cur : has_code(v.text) ? v.currency : p->currency);
    if (crm_args_option(a, "close-date", &v) == CRM_OK)
        pl_date_of(ctx, v.i, d->close_date, sizeof d->close_date);
    if (crm_args_option(a, "probability", &v) == CRM_OK) {
        if (v.i < 0 || v.i > 100) {
            crm_set_error(ctx, "--probability: %lld is not 0-100", (long long)v.i);
            return CRM_EINVAL;
        }
        d->probability_override = (int)v.i;
    }
    const char *owner = pl_opt_text(a, "owner");
    if (owner)
        snprintf(d->owner, sizeof d->owner, "%s", owner);
    else if (pl_assign_deal(ctx, d) != CRM_OK)
        return CRM_EDB;
    return pl_deal_check_contact(ctx, d->contact_id);
}

static int add_body(crm_plugin_ctx *ctx, void *ud)
{
    add_job *j = ud;
    int rc = add_fields(ctx, j->args, &j->d);
    return rc == CRM_OK ? pl_deal_insert(ctx, &j->d) : rc;
}

int pl_cmd_deal_add(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    add_job j = {.args = args};
    int rc = pl_in_tx(ctx, add_body, &j);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io))
        return pl_print_json(ctx, io, pl_deal_json(ctx, &j.d));
    fprintf(crm_io_out(io), "%lld\n", (long long)j.d.id);
    return CRM_OK;
}

/* ---- move, win, lose, reopen ---------------------------------------------------- */

typedef struct move_job {
    const crm_command_args *args;
    const char *verb; /* move | win | lose | reopen */
    pl_deal d;
} move_job;

/* The open stage a closed deal returns to: the one it left when it closed. */
static int reopen_stage(crm_plugin_ctx *ctx, const pl_deal *d, const pl_pipeline *p)
{
    crm_stmt *st = pl_prep(ctx, "SELECT from_value FROM pipeline_deal_history WHERE deal_id = ?1"
                                " AND field = 'stage' AND to_value = ?2 ORDER BY at DESC, id DESC"
                                " LIMIT 1");
    if (!st)
        return -1;
    crm_sql_bind_int64(st, 1, d->id);
    crm_sql_bind_text(st, 2, d->stage);
    int si = -1;
    if (crm_sql_step(st) == CRM_SQL_ROW)
        si = pl_stage_index(p, crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
    return si < 0 || (size_t)si == p->won || (size_t)si == p->lost ? 0 : si;
}

/* The target stage of the verb, or -1 after crm_set_error. */
static int target_stage(crm_plugin_ctx *ctx, move_job *j, const pl_pipeline *p)
{
    const pl_deal *d = &j->d;
    int open = !strcmp(d->status, "open");
    if (!strcmp(j->verb, "reopen")) {
        if (open) {
            crm_set_error(ctx, "deal %lld is already open", (long long)d->id);
            return -1;
        }
        return reopen_stage(ctx, d, p);
    }
    if (!open) {
        crm_set_error(ctx, "deal %lld is %s: crm deal reopen %lld first", (long long)d->id,
                      d->status, (long long)d->id);
        return -1;
    }
    if (!strcmp(j->verb, "win"))
        return (int)p->won;
    if (!strcmp(j->verb, "lose"))
        return (int)p->lost;
    const char *name = crm_args_get(j->args, 1);
    int si = pl_stage_index(p, name);
    if (si < 0)
        crm_set_error(ctx, "no stage \"%s\" in pipeline %s", name, p->name);
    else if (!strcmp(p->stages[si].name, d->stage))
        crm_set_error(ctx, "deal %lld is already in %s", (long long)d->id, name), si = -1;
    return si;
}

static int move_body(crm_plugin_ctx *ctx, void *ud)
{
    move_job *j = ud;
    int rc = deal_arg(ctx, crm_args_get(j->args, 0), &j->d);
    if (rc != CRM_OK)
        return rc;
    const pl_pipeline *p = pl_pipeline_find(ctx, j->d.pipeline);
    if (!p) {
        crm_set_error(ctx, "deal %lld: pipeline \"%s\" is not configured", (long long)j->d.id,
                      j->d.pipeline);
        return CRM_ECONFIG;
    }
    const char *reason = NULL, *note = NULL;
    if (!strcmp(j->verb, "lose")) {
        reason = pl_opt_text(j->args, "reason");
        note = pl_opt_text(j->args, "note");
        if (!pl_reason_known(ctx, reason)) {
            char list[1024];
            pl_reason_list(ctx, list, sizeof list);
            crm_set_error(ctx, "--reason: \"%s\" is not a lost reason (known: %s)", reason, list);
            return CRM_EINVAL;
        }
    }
    int si = target_stage(ctx, j, p);
    return si < 0 ? CRM_EINVAL : pl_deal_set_stage(ctx, &j->d, (size_t)si, reason, note);
}

static int run_move(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                    const char *verb)
{
    move_job j = {.args = args, .verb = verb};
    int rc = pl_in_tx(ctx, move_body, &j);
    return rc == CRM_OK ? print_deal_line(ctx, io, &j.d, "now") : rc;
}

int pl_cmd_deal_move(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *a)
{
    return run_move(ctx, io, a, "move");
}
int pl_cmd_deal_win(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *a)
{
    return run_move(ctx, io, a, "win");
}
int pl_cmd_deal_lose(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *a)
{
    return run_move(ctx, io, a, "lose");
}
int pl_cmd_deal_reopen(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *a)
{
    return run_move(ctx, io, a, "reopen");
}

/* ---- update ------------------------------------------------------------------------ */

int pl_deal_apply_change(crm_plugin_ctx *ctx, const pl_deal *d, const pl_change *c)
{
    if (!strcmp(c->from, c->to))
        return CRM_OK;
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE pipeline_deals SET %s = ?2, updated_at = ?3 WHERE id = ?1",
             c->column);
    crm_stmt *st = pl_prep(ctx, sql);
    if (!st)
        return pl_fail_db(ctx, "cannot update the deal");
    crm_sql_bind_int64(st, 1, d->id);
    if (!c->to[0])
        crm_sql_bind_null(st, 2);
    else if (c->is_int)
        crm_sql_bind_int64(st, 2, strtoll(c->to, NULL, 10));
    else
        crm_sql_bind_text(st, 2, c->to);
    crm_sql_bind_int64(st, 3, crm_now(ctx));
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return pl_fail_db(ctx, "cannot update the deal");
    return pl_history_add(ctx, d, c->column, c->from[0] ? c->from : NULL, c->to[0] ? c->to : NULL);
}

/* The changes the options ask for; *n of them. */
static int collect_changes(crm_plugin_ctx *ctx, const crm_command_args *a, const pl_deal *d,
                           pl_change *c, size_t *n)
{
    crm_value v;
    *n = 0;
    if (crm_args_option(a, "amount", &v) == CRM_OK) {
        c[*n] = (pl_change){"amount", "", "", 1};
        snprintf(c[*n].from, sizeof c->from, "%lld", (long long)d->amount);
        snprintf(c[(*n)++].to, sizeof c->to, "%lld", (long long)v.i);
    }
    if (crm_args_option(a, "close-date", &v) == CRM_OK) {
        c[*n] = (pl_change){"close_date", "", "", 0};
        snprintf(c[*n].from, sizeof c->from, "%s", d->close_date);
        pl_date_of(ctx, v.i, c[(*n)++].to, sizeof c->to);
    }
    if (crm_args_option(a, "owner", &v) == CRM_OK) {
        c[*n] = (pl_change){"owner", "", "", 0};
        snprintf(c[*n].from, sizeof c->from, "%s", d->owner);
        snprintf(c[(*n)++].to, sizeof c->to, "%s", v.text);
    }
    if (crm_args_option(a, "probability", &v) == CRM_OK) {
        if (v.i < 0 || v.i > 100) {
            crm_set_error(ctx, "--probability: %lld is not 0-100", (long long)v.i);
            return CRM_EINVAL;
        }
        c[*n] = (pl_change){"probability", "", "", 1};
        /* history keeps effective values; the column the override */
        snprintf(c[*n].from, sizeof c->from, "%d", pl_deal_probability(ctx, d));
        snprintf(c[(*n)++].to, sizeof c->to, "%lld", (long long)v.i);
    }
    if (crm_args_option(a, "category", &v) == CRM_OK) {
        if (pl_category_parse(v.text) < 0 || pl_category_parse(v.text) == PL_CAT_CLOSED) {
            crm_set_error(ctx, "--category: \"%s\" is not pipeline, best_case, commit or omitted",
                          v.text);
            return CRM_EINVAL;
        }
        c[*n] = (pl_change){"category", "", "", 0};
        snprintf(c[*n].from, sizeof c->from, "%s", pl_category_names[pl_deal_category(ctx, d)]);
        snprintf(c[(*n)++].to, sizeof c->to, "%s", v.text);
    }
    if (!*n) {
        crm_set_error(ctx, "nothing to update: give --amount, --close-date, --owner, "
                           "--probability or --category");
        return CRM_EUSAGE;
    }
    return CRM_OK;
}

typedef struct update_job {
    const crm_command_args *args;
    pl_deal d;
} update_job;

static int update_body(crm_plugin_ctx *ctx, void *ud)
{
    update_job *j = ud;
    pl_change c[5];
    size_t n;
    int rc = deal_arg(ctx, crm_args_get(j->args, 0), &j->d);
    if (rc == CRM_OK)
        rc = collect_changes(ctx, j->args, &j->d, c, &n);
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = pl_deal_apply_change(ctx, &j->d, &c[i]);
    if (rc == CRM_OK)
        rc = pl_deal_get(ctx, j->d.id, &j->d);
    if (rc == CRM_OK)
        rc = pl_deal_touch(ctx, &j->d, pl_now(ctx));
    if (rc == CRM_OK) {
        json_t *p = json_pack("{sI sI}", "deal_id", (json_int_t)j->d.id, "contact_id",
                              (json_int_t)j->d.contact_id);
        rc = pl_emit(ctx, "deal.updated", p);
    }
    return rc;
}

int pl_cmd_deal_update(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    update_job j = {.args = args};
    int rc = pl_in_tx(ctx, update_body, &j);
    return rc == CRM_OK ? print_deal_line(ctx, io, &j.d, "updated") : rc;
}

/* ---- show, list, history ----------------------------------------------------------- */

int pl_cmd_deal_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    pl_deal d;
    int rc = deal_arg(ctx, crm_args_get(args, 0), &d);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io))
        return pl_print_json(ctx, io, pl_deal_json(ctx, &d));
    FILE *out = crm_io_out(io);
    char money[64], exp[64];
    int prob = pl_deal_probability(ctx, &d);
    pl_money(ctx, d.amount, d.currency, money, sizeof money);
    pl_money(ctx, pl_expected(d.amount, prob), d.currency, exp, sizeof exp);
    fprintf(out, "deal %lld: %s\n  pipeline %s, stage %s (%s)%s\n  amount %s, probability %d %%%s,"
                 " expected %s\n  category %s, close date %s, owner %s, contact %lld\n",
            (long long)d.id, d.title, d.pipeline, d.stage, d.status, d.stalled ? ", STALLED" : "",
            money, prob, d.probability_override >= 0 ? " (overridden)" : "", exp,
            pl_category_names[pl_deal_category(ctx, &d)], d.close_date[0] ? d.close_date : "-",
            d.owner[0] ? d.owner : "-", (long long)d.contact_id);
    if (d.lost_reason[0])
        fprintf(out, "  lost: %s%s%s\n", d.lost_reason, d.lost_note[0] ? " - " : "", d.lost_note);
    json_t *t = pl_deal_time_in_stage(ctx, &d);
    const char *k;
    json_t *v;
    fprintf(out, "  time in stage (s):");
    json_object_foreach(t, k, v)
        fprintf(out, " %s=%lld", k, (long long)json_integer_value(v));
    fprintf(out, "\n");
    json_decref(t);
    return CRM_OK;
}

/* The WHERE of crm deal list from its options, with the texts to bind. */
static int list_filter(crm_plugin_ctx *ctx, const crm_command_args *a, char *where, size_t size,
                       const char **binds, int *nb)
{
    static const struct {
        const char *opt, *col;
    } eq[] = {{"pipeline", "pipeline"}, {"stage", "stage"}, {"owner", "owner"}, {"status", "status"}};
    crm_value v;
    size_t len = (size_t)snprintf(where, size, "1");
    *nb = 0;
    for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++) {
        const char *t = pl_opt_text(a, eq[i].opt);
        if (!t)
            continue;
        if (!strcmp(eq[i].opt, "status") && strcmp(t, "open") && strcmp(t, "won") &&
            strcmp(t, "lost")) {
            crm_set_error(ctx, "--status: \"%s\" is not open, won or lost", t);
            return CRM_EUSAGE;
        }
        binds[(*nb)++] = t;
        len += (size_t)snprintf(where + len, size - len, " AND %s = ?%d", eq[i].col, *nb);
    }
    if (crm_args_option(a, "stalled", &v) == CRM_OK && v.i)
        snprintf(where + len, size - len, " AND stalled = 1");
    return CRM_OK;
}

int pl_cmd_deal_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    char where[256], sql[512];
    const char *binds[4];
    int nb;
    int rc = list_filter(ctx, args, where, sizeof where, binds, &nb);
    if (rc != CRM_OK)
        return rc;
    snprintf(sql, sizeof sql, "SELECT id FROM pipeline_deals WHERE %s ORDER BY id", where);
    crm_stmt *st = pl_prep(ctx, sql);
    if (!st)
        return pl_fail_db(ctx, "cannot list deals");
    for (int i = 0; i < nb; i++)
        crm_sql_bind_text(st, i + 1, binds[i]);
    /* ids first: reading each deal prepares statements while this one steps */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        if (n == cap) {
            int64_t *nv = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
            if (!nv) {
                rc = CRM_ENOMEM;
                break;
            }
            ids = nv;
        }
        ids[n++] = crm_sql_column_int64(st, 0);
    }
    crm_sql_finalize(st);
    rc = rc < 0 ? pl_fail_db(ctx, "cannot list deals") : CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n; i++) {
        pl_deal d;
        if ((rc = pl_deal_get(ctx, ids[i], &d)) != CRM_OK)
            break;
        if (crm_io_json(io)) {
            rc = pl_print_json(ctx, io, pl_deal_json(ctx, &d));
            continue;
        }
        char money[64];
        pl_money(ctx, d.amount, d.currency, money, sizeof money);
        fprintf(crm_io_out(io), "%lld\t%s\t%s/%s\t%s\t%s\t%s%s\n", (long long)d.id, d.title,
                d.pipeline, d.stage, d.status, money, d.close_date[0] ? d.close_date : "-",
                d.stalled ? "\tSTALLED" : "");
    }
    free(ids);
    return rc;
}

int pl_cmd_deal_history(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    pl_deal d;
    int rc = deal_arg(ctx, crm_args_get(args, 0), &d);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = pl_prep(ctx, "SELECT field, from_value, to_value, at, by FROM"
                                " pipeline_deal_history WHERE deal_id = ?1 ORDER BY at, id");
    if (!st)
        return pl_fail_db(ctx, "cannot read the history");
    crm_sql_bind_int64(st, 1, d.id);
    while (rc == CRM_OK && crm_sql_step(st) == CRM_SQL_ROW) {
        const char *from = crm_sql_column_text(st, 1), *to = crm_sql_column_text(st, 2);
        char at[40];
        pl_time_of(ctx, crm_sql_column_int64(st, 3), at, sizeof at);
        if (crm_io_json(io)) {
            json_t *o = json_pack("{ss so so ss ss}", "field", crm_sql_column_text(st, 0), "from",
                                  from ? json_string(from) : json_null(), "to",
                                  to ? json_string(to) : json_null(), "at", at, "by",
                                  crm_sql_column_text(st, 4));
            rc = pl_print_json(ctx, io, o);
        } else {
            fprintf(crm_io_out(io), "%s\t%s\t%s -> %s\t%s\n", at, crm_sql_column_text(st, 0),
                    from ? from : "-", to ? to : "-", crm_sql_column_text(st, 4));
        }
    }
    crm_sql_finalize(st);
    return rc;
}

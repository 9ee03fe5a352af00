/* pipeline plugin — crm pipeline forecast and crm pipeline board.
 *
 * The forecast covers the open deals whose close date falls in [from, to]
 * (dates in locale.timezone) and the deals won in the period. Amounts are
 * summed per pipeline currency: a deal in another currency is reported
 * apart ("foreign"), never silently added. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* One bucket of the forecast (a group, or the foreign-currency deals). */
typedef struct bucket {
    char key[PL_NAME + 8];
    char currency[4];
    int64_t count, amount, weighted;
    int64_t cat[PL_CAT_COUNT];
} bucket;

typedef struct forecast {
    bucket *b;
    size_t n, cap;
    bucket total;
    int64_t won_count, won_amount;
} forecast;

static bucket *bucket_for(forecast *f, const char *key, const char *cur)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->b[i].key, key) && !strcmp(f->b[i].currency, cur))
            return &f->b[i];
    if (f->n == f->cap) {
        bucket *nb = realloc(f->b, (f->cap = f->cap ? f->cap * 2 : 16) * sizeof *nb);
        if (!nb)
            return NULL;
        f->b = nb;
    }
    bucket *b = &f->b[f->n++];
    memset(b, 0, sizeof *b);
    snprintf(b->key, sizeof b->key, "%s", key);
    snprintf(b->currency, sizeof b->currency, "%s", cur);
    return b;
}

static void add_to(bucket *b, int64_t amount, int64_t expected, pl_category c)
{
    b->count++;
    b->amount += amount;
    b->weighted += expected;
    b->cat[c] += amount;
}

/* The grouping key of a deal row for --by. */
static void group_key(const char *by, const pl_deal *d, pl_category c, char *buf, size_t size)
{
    if (!strcmp(by, "owner"))
        snprintf(buf, size, "%s", d->owner[0] ? d->owner : "(none)");
    else if (!strcmp(by, "stage"))
        snprintf(buf, size, "%s", d->stage);
    else if (!strcmp(by, "category"))
        snprintf(buf, size, "%s", pl_category_names[c]);
    else if (!strcmp(by, "month"))
        snprintf(buf, size, "%.7s", d->close_date);
    else
        snprintf(buf, size, "all");
}

/* One scan of the open deals closing in [from, to]: a statement per deal
 * made the quarter of 1M deals take 0.6 s (bench_pipeline.sh). */
static int collect(crm_plugin_ctx *ctx, const pl_pipeline *p, const char *from, const char *to,
                   const char *by, const pl_scope *scope, forecast *f)
{
    crm_stmt *st = pl_prep(ctx, "SELECT " PL_DEAL_COLS " FROM pipeline_deals WHERE"
                                " pipeline = ?1 AND status = 'open' AND close_date BETWEEN ?2"
                                " AND ?3 ORDER BY id");
    if (!st)
        return pl_fail_db(ctx, "cannot read the deals");
    crm_sql_bind_text(st, 1, p->name);
    crm_sql_bind_text(st, 2, from);
    crm_sql_bind_text(st, 3, to);
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = crm_sql_step(st)) == CRM_SQL_ROW) {
        pl_deal d;
        pl_deal_read(st, &d);
        if (scope && !pl_scope_has(scope, d.owner))
            continue;
        pl_category c = pl_deal_category(ctx, &d);
        int64_t exp = pl_expected(d.amount, pl_deal_probability(ctx, &d));
        char key[PL_NAME + 8];
        int foreign = strcmp(d.currency, p->currency) != 0;
        group_key(by, &d, c, key, sizeof key);
        bucket *b = bucket_for(f, foreign ? "(foreign)" : key, d.currency);
        if (!b) {
            rc = CRM_ENOMEM;
            crm_set_error(ctx, "out of memory");
            break;
        }
        add_to(b, d.amount, exp, c);
        if (!foreign)
            add_to(&f->total, d.amount, exp, c);
    }
    crm_sql_finalize(st);
    return rc == CRM_OK && step < 0 ? pl_fail_db(ctx, "cannot read the deals") : rc;
}

/* Won in the period: closed as won between from 00:00 and to 23:59:59. */
static void won_in(crm_plugin_ctx *ctx, const pl_pipeline *p, int64_t t0, int64_t t1,
                   const pl_scope *scope, forecast *f)
{
    char sql[4608], where[4096] = "";
    if (scope)
        pl_scope_sql(scope, 5, where, sizeof where);
    snprintf(sql, sizeof sql, "SELECT count(*), coalesce(sum(amount), 0) FROM pipeline_deals"
                              " WHERE pipeline = ?1 AND status = 'won' AND currency = ?2"
                              " AND closed_at BETWEEN ?3 AND ?4%s", where);
    crm_stmt *st = pl_prep(ctx, sql);
    if (!st)
        return;
    if (scope)
        pl_scope_bind(st, scope, 5);
    crm_sql_bind_text(st, 1, p->name);
    crm_sql_bind_text(st, 2, p->currency);
    crm_sql_bind_int64(st, 3, t0);
    crm_sql_bind_int64(st, 4, t1);
    if (crm_sql_step(st) == CRM_SQL_ROW) {
        f->won_count = crm_sql_column_int64(st, 0);
        f->won_amount = crm_sql_column_int64(st, 1);
    }
    crm_sql_finalize(st);
}

static json_t *bucket_json(const bucket *b)
{
    return json_pack("{ss ss sI sI sI sI sI sI sI}", "group", b->key, "currency", b->currency,
                     "count", (json_int_t)b->count, "amount", (json_int_t)b->amount, "weighted",
                     (json_int_t)b->weighted, "commit", (json_int_t)b->cat[PL_CAT_COMMIT],
                     "best_case", (json_int_t)b->cat[PL_CAT_BEST_CASE], "pipeline",
                     (json_int_t)b->cat[PL_CAT_PIPELINE], "omitted",
                     (json_int_t)b->cat[PL_CAT_OMITTED]);
}

static json_t *forecast_json(const pl_pipeline *p, const char *from, const char *to,
                             const char *by, const forecast *f)
{
    json_t *groups = json_array(), *foreign = json_array();
    for (size_t i = 0; i < f->n; i++)
        json_array_append_new(strcmp(f->b[i].key, "(foreign)") ? groups : foreign,
                              bucket_json(&f->b[i]));
    return json_pack("{ss ss ss ss ss so so so sI sI}", "pipeline", p->name, "currency",
                     p->currency, "from", from, "to", to, "by", by, "total",
                     bucket_json(&f->total), "groups", groups, "foreign", foreign, "won_count",
                     (json_int_t)f->won_count, "won_amount", (json_int_t)f->won_amount);
}

static int print_forecast(crm_plugin_ctx *ctx, crm_command_io *io, const pl_pipeline *p,
                          const char *from, const char *to, const char *by, const forecast *f)
{
    if (crm_io_json(io))
        return pl_print_json(ctx, io, forecast_json(p, from, to, by, f));
    FILE *out = crm_io_out(io);
    char a[64], w[64], c[64], bc[64], pp[64], won[64];
    fprintf(out, "forecast %s %s..%s by %s\n", p->name, from, to, by);
    for (size_t i = 0; i <= f->n; i++) {
        const bucket *b = i < f->n ? &f->b[i] : &f->total;
        pl_money(ctx, b->amount, b->currency[0] ? b->currency : p->currency, a, sizeof a);
        pl_money(ctx, b->weighted, b->currency[0] ? b->currency : p->currency, w, sizeof w);
        pl_money(ctx, b->cat[PL_CAT_COMMIT], p->currency, c, sizeof c);
        pl_money(ctx, b->cat[PL_CAT_BEST_CASE], p->currency, bc, sizeof bc);
        pl_money(ctx, b->cat[PL_CAT_PIPELINE], p->currency, pp, sizeof pp);
        fprintf(out, "  %-16s %4lld deals  amount %s  weighted %s  commit %s  best_case %s"
                     "  pipeline %s\n", i < f->n ? b->key : "TOTAL", (long long)b->count, a, w, c,
                bc, pp);
    }
    pl_money(ctx, f->won_amount, p->currency, won, sizeof won);
    fprintf(out, "  won in the period: %lld deals, %s\n", (long long)f->won_count, won);
    return CRM_OK;
}

/* The forecast of p's open deals closing in [t0, t1] (whole days in
 * locale.timezone, into from and to) and of those won then. */
static int run_forecast(crm_plugin_ctx *ctx, const pl_pipeline *p, int64_t t0, int64_t t1,
                        const char *by, const pl_scope *scope, char from[16], char to[16],
                        forecast *f)
{
    pl_date_of(ctx, t0, from, 16);
    pl_date_of(ctx, t1, to, 16);
    int rc = collect(ctx, p, from, to, by, scope, f);
    if (rc == CRM_OK)
        won_in(ctx, p, t0, t1 + 86399, scope, f);
    return rc;
}

int pl_cmd_forecast(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    static const char *const bys[] = {"all", "owner", "stage", "category", "month"};
    const pl_pipeline *p = pl_pipeline_find(ctx, pl_opt_text(args, "pipeline"));
    if (!p) {
        crm_set_error(ctx, "--pipeline: no pipeline \"%s\"", pl_opt_text(args, "pipeline"));
        return CRM_EINVAL;
    }
    const char *by = pl_opt_text(args, "by");
    size_t k = 0;
    while (by && k < 5 && strcmp(bys[k], by))
        k++;
    if (k == 5) {
        crm_set_error(ctx, "--by: \"%s\" is not owner, stage, category or month", by);
        return CRM_EUSAGE;
    }
    crm_value vf, vt;
    crm_args_option(args, "from", &vf);
    crm_args_option(args, "to", &vt);
    char from[16], to[16];
    forecast f = {0};
    int rc = run_forecast(ctx, p, vf.i, vt.i, bys[k], NULL, from, to, &f);
    if (rc == CRM_OK)
        rc = print_forecast(ctx, io, p, from, to, bys[k], &f);
    free(f.b);
    return rc;
}

int pl_forecast_json(crm_plugin_ctx *ctx, const pl_pipeline *p, int64_t t0, int64_t t1,
                     const char *by, const pl_scope *scope, json_t **out)
{
    char from[16], to[16];
    forecast f = {0};
    int rc = run_forecast(ctx, p, t0, t1, by, scope, from, to, &f);
    if (rc == CRM_OK && !(*out = forecast_json(p, from, to, by, &f)))
        rc = CRM_ENOMEM;
    free(f.b);
    return rc;
}

/* ---- board ----------------------------------------------------------------------- */

int pl_cmd_board(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const pl_pipeline *p = pl_pipeline_find(ctx, pl_opt_text(args, "pipeline"));
    if (!p) {
        crm_set_error(ctx, "--pipeline: no pipeline \"%s\"", pl_opt_text(args, "pipeline"));
        return CRM_EINVAL;
    }
    crm_stmt *st = pl_prep(ctx, "SELECT coalesce(sum(deals), 0), coalesce(sum(amount), 0),"
                                " coalesce(sum(stalled), 0) FROM pipeline_board_totals"
                                " WHERE pipeline = ?1 AND stage = ?2 AND currency = ?3 AND"
                                " status = (CASE WHEN ?4 THEN status ELSE 'open' END)");
    if (!st)
        return pl_fail_db(ctx, "cannot read the board");
    json_t *cols = json_array();
    FILE *out = crm_io_out(io);
    if (!crm_io_json(io))
        fprintf(out, "board %s (%s)\n", p->name, p->currency);
    for (size_t i = 0; i < p->nstages; i++) {
        crm_sql_reset(st);
        crm_sql_bind_text(st, 1, p->name);
        crm_sql_bind_text(st, 2, p->stages[i].name);
        crm_sql_bind_text(st, 3, p->currency);
        crm_sql_bind_int64(st, 4, i == p->won || i == p->lost);
        int64_t n = 0, sum = 0, stalled = 0;
        if (crm_sql_step(st) == CRM_SQL_ROW) {
            n = crm_sql_column_int64(st, 0);
            sum = crm_sql_column_int64(st, 1);
            stalled = crm_sql_column_int64(st, 2);
        }
        char money[64];
        pl_money(ctx, sum, p->currency, money, sizeof money);
        json_array_append_new(cols, json_pack("{ss sI sI sI}", "stage", p->stages[i].name,
                                              "count", (json_int_t)n, "amount", (json_int_t)sum,
                                              "stalled", (json_int_t)stalled));
        if (!crm_io_json(io))
            fprintf(out, "  %-16s %5lld deals  %s", p->stages[i].name, (long long)n, money);
        if (!crm_io_json(io))
            fprintf(out, stalled ? "  ! %lld stalled\n" : "\n", (long long)stalled);
    }
    crm_sql_finalize(st);
    if (crm_io_json(io))
        return pl_print_json(ctx, io, json_pack("{ss ss so}", "pipeline", p->name, "currency",
                                                p->currency, "columns", cols));
    json_decref(cols);
    return CRM_OK;
}

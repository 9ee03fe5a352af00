/* segmentation plugin — portfolio figures: crm metrics, and the headline
 * crm demo ends with (register_demo). */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* ---- crm metrics: portfolio figures from one unordered
 * scan of the orders (as seg_rfm_load: no ORDER BY, no index walk),
 * aggregated per contact in an array indexed by contact id. */

/* One contact's orders. */
typedef struct cacc {
    int64_t money;
    int64_t n;
    unsigned char cur, prior; /* ordered in the period / the one before */
} cacc;

typedef struct metrics {
    int64_t customers, active, repeat, orders, revenue, prior, churned, top_rev;
} metrics;

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* Adds every row of st to *acc (grown for contacts added since max(id) was
 * read), counting orders and revenue in `cur`. The last step's result. */
static int accumulate(crm_stmt *st, cacc **acc, size_t *cap, const char *cur, int64_t p0,
                      int64_t p1, metrics *m)
{
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t id = crm_sql_column_int64(st, 0);
        if (id < 0)
            continue;
        if ((size_t)id >= *cap) { /* a contact added since max(id) was read */
            size_t ncap = (size_t)id * 2;
            cacc *grown = realloc(*acc, ncap * sizeof *grown);
            if (!grown)
                return CRM_ENOMEM;
            memset(grown + *cap, 0, (ncap - *cap) * sizeof *grown);
            *acc = grown;
            *cap = ncap;
        }
        cacc *c = &(*acc)[id];
        int64_t at = crm_sql_column_int64(st, 1);
        const char *code = crm_sql_column_text(st, 3);
        c->n++;
        m->orders++;
        if (code && !strcmp(code, cur)) {
            int64_t total = crm_sql_column_int64(st, 2);
            c->money += total;
            m->revenue += total;
        }
        c->cur |= at >= p1;
        c->prior |= at >= p0 && at < p1;
    }
    return rc;
}

/* Counts the customers and collects each one's revenue into rev. */
static int tally(const cacc *acc, size_t cap, metrics *m, seg_idlist *rev)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < cap; i++) {
        const cacc *c = &acc[i];
        if (!c->n)
            continue;
        m->customers++;
        m->repeat += c->n >= 2;
        m->active += c->cur;
        m->prior += c->prior;
        m->churned += c->prior && !c->cur;
        if (seg_idlist_push(rev, c->money) != CRM_OK)
            rc = CRM_ENOMEM;
    }
    return rc;
}

/* The revenue of the top 20% of customers (rev sorted in place). */
static int64_t top_revenue(seg_idlist *rev)
{
    if (rev->n) /* qsort(NULL, 0) is undefined */
        qsort(rev->v, rev->n, sizeof *rev->v, cmp_desc);
    size_t top = (rev->n + 4) / 5;
    int64_t top_rev = 0;
    for (size_t i = 0; i < top; i++)
        top_rev += rev->v[i];
    return top_rev;
}

/* Scans the orders before as_of into m. */
static int compute(crm_plugin_ctx *ctx, int64_t as_of, int64_t period, const char *cur,
                   metrics *m)
{
    int64_t max_id = seg_scalar(ctx, 0, "SELECT max(id) FROM contacts", 0);
    size_t cap = (size_t)(max_id > 0 ? max_id : 0) + 1;
    cacc *acc = calloc(cap, sizeof *acc);
    crm_stmt *st = acc ? seg_prep(ctx,
                                  "SELECT contact_id, placed_at, total, currency FROM orders"
                                  " WHERE status IN ('placed','paid') AND +placed_at < ?1",
                                  1, as_of)
                       : NULL;
    if (!st) {
        free(acc);
        if (!acc)
            crm_set_error(ctx, "out of memory");
        return acc ? seg_fail_db(ctx, "reading orders") : CRM_ENOMEM;
    }
    int64_t p1 = as_of - period * SEG_DAY_SECONDS, p0 = as_of - 2 * period * SEG_DAY_SECONDS;
    seg_idlist rev = {0};
    int rc = accumulate(st, &acc, &cap, cur, p0, p1, m);
    crm_sql_finalize(st);
    if (rc == CRM_SQL_DONE)
        rc = tally(acc, cap, m, &rev);
    free(acc);
    if (rc == CRM_ENOMEM) {
        free(rev.v);
        crm_set_error(ctx, "out of memory computing metrics");
        return rc;
    }
    if (rc < 0) {
        free(rev.v);
        return seg_fail_db(ctx, "reading orders");
    }
    m->top_rev = top_revenue(&rev);
    free(rev.v);
    return CRM_OK;
}

/* Money stays in integer minor units (rounded half up); only ratios are
 * floating point. */
static void print_metrics(crm_plugin_ctx *ctx, crm_command_io *io, int64_t as_of, int64_t period,
                          const char *cur, const metrics *m)
{
    int64_t aov = m->orders ? (m->revenue + m->orders / 2) / m->orders : 0,
            ltv = m->customers ? (m->revenue + m->customers / 2) / m->customers : 0;
    double rr = m->customers ? (double)m->repeat / m->customers : 0,
           freq = m->customers ? (double)m->orders / m->customers : 0,
           churn = m->prior ? (double)m->churned / m->prior : 0,
           pareto = m->revenue ? (double)m->top_rev / m->revenue : 0;
    if (crm_io_json(io)) {
        seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIsIsssIsIsfsIsfsIsfsfsI}", "as_of", (json_int_t)as_of,
                                     "customers", (json_int_t)m->customers, "active_customers",
                                     (json_int_t)m->active, "currency", cur, "period_days",
                                     (json_int_t)period, "orders", (json_int_t)m->orders,
                                     "repurchase_rate", rr, "average_order_value",
                                     (json_int_t)aov, "purchase_frequency", freq,
                                     "historic_ltv", (json_int_t)ltv, "churn_rate", churn,
                                     "top20_revenue_share", pareto, "revenue",
                                     (json_int_t)m->revenue), seg_iso_as_of));
        return;
    }
    FILE *out = crm_io_out(io);
    char day[32], money[48];
    fprintf(out, "as of %s, period %lld days, %s\n", seg_fmt_day(ctx, as_of, day, sizeof day),
            (long long)period, cur);
    fprintf(out, "customers            %lld\n", (long long)m->customers);
    fprintf(out, "active customers     %lld (ordered in the period)\n", (long long)m->active);
    fprintf(out, "repurchase rate      %.1f%%\n", 100 * rr);
    fprintf(out, "average order value  %s\n", seg_fmt_money(ctx, aov, cur, money, sizeof money));
    fprintf(out, "purchase frequency   %.2f orders per customer\n", freq);
    fprintf(out, "historic LTV         %s\n", seg_fmt_money(ctx, ltv, cur, money, sizeof money));
    fprintf(out, "churn rate           %.1f%% (active in the previous period, not in this one)\n",
            100 * churn);
    fprintf(out, "top 20%% revenue      %.1f%%\n", 100 * pareto);
}

int seg_cmd_metrics(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t as_of = crm_now(ctx);
    int64_t period = seg_opt_int(args, "period-days", 90);
    if (period <= 0)
        return seg_usage(ctx, "metrics [--period-days N]");
    char cur[8];
    if (SEG(ctx)->currency[0])
        snprintf(cur, sizeof cur, "%s", SEG(ctx)->currency);
    else
        seg_pick_currency(ctx, as_of, INT64_MIN, cur);
    metrics m;
    memset(&m, 0, sizeof m);
    int rc = compute(ctx, as_of, period, cur, &m);
    if (rc != CRM_OK)
        return rc;
    print_metrics(ctx, io, as_of, period, cur, &m);
    return CRM_OK;
}

/* ---- the headline `crm demo` ends with (SDK 1.3
 * register_demo): a full RFM and churn refresh on the demo data, then the
 * customers per RFM grid segment and the churn alerts per level. The same
 * numbers are `crm rfm grid` and `crm churn list --min-score L`. */

/* Scored contacts per grid segment, in grid order; [grid.n] has no segment. */
static int count_segments(crm_plugin_ctx *ctx, int64_t *n, int64_t *total)
{
    crm_stmt *st = seg_prep(ctx, "SELECT r, f FROM segmentation_rfm", 0);
    if (!st)
        return seg_fail_db(ctx, "counting RFM segments");
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int k = seg_grid_match(&SEG(ctx)->grid, (int)crm_sql_column_int64(st, 0),
                               (int)crm_sql_column_int64(st, 1));
        n[k < 0 ? (int)SEG(ctx)->grid.n : k]++;
        (*total)++;
    }
    crm_sql_finalize(st);
    return rc < 0 ? seg_fail_db(ctx, "counting RFM segments") : CRM_OK;
}

static int64_t at_level(crm_plugin_ctx *ctx, int64_t min_score)
{
    return seg_scalar(ctx, 0, "SELECT count(*) FROM segmentation_churn WHERE score >= ?1", 1,
                      min_score);
}

static void print_text(crm_plugin_ctx *ctx, FILE *out, const int64_t *n, int64_t total, int64_t as_of,
                       const char *cur, size_t churn_scored)
{
    char day[32];
    fprintf(out, "segmentation (as of %.10s, %lld-day window, %s)\n",
            seg_fmt_day(ctx, as_of, day, sizeof day), (long long)SEG(ctx)->window_days, cur);
    fprintf(out, "  customers per RFM segment (%lld scored; crm rfm grid)\n", (long long)total);
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        fprintf(out, "    %-22s %7lld %6.1f%%\n", SEG(ctx)->cells[k].name, (long long)n[k],
                total ? 100.0 * (double)n[k] / (double)total : 0.0);
    fprintf(out, "  churn alerts (%zu customers scored):", churn_scored);
    for (size_t i = 0; i < SEG(ctx)->churn.nlevels; i++)
        fprintf(out, "%s %lld at %lld+ points", i ? "," : "",
                (long long)n[SEG(ctx)->grid.n + 1 + i], (long long)SEG(ctx)->churn.levels[i]);
    if (SEG(ctx)->churn.nlevels)
        fprintf(out, " (crm churn list --min-score %lld)",
                (long long)SEG(ctx)->churn.levels[0]);
    fputc('\n', out);
}

static json_t *as_json(crm_plugin_ctx *ctx, const int64_t *n, int64_t total, int64_t as_of, const char *cur,
                       size_t churn_scored)
{
    char day[32];
    json_t *segs = json_array(), *alerts = json_array();
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        json_array_append_new(segs, json_pack("{sssssI}", "segment", SEG(ctx)->cells[k].slug,
                                              "name", SEG(ctx)->cells[k].name, "customers",
                                              (json_int_t)n[k]));
    for (size_t i = 0; i < SEG(ctx)->churn.nlevels; i++)
        json_array_append_new(alerts, json_pack("{sIsI}", "min_score",
                                                (json_int_t)SEG(ctx)->churn.levels[i], "contacts",
                                                (json_int_t)n[SEG(ctx)->grid.n + 1 + i]));
    return json_pack("{s{sssIsssIso}s{sIso}}", "rfm", "as_of",
                     seg_fmt_day(ctx, as_of, day, sizeof day), "window_days",
                     (json_int_t)SEG(ctx)->window_days, "currency", cur, "customers",
                     (json_int_t)total, "segments", segs, "churn", "customers",
                     (json_int_t)churn_scored, "alerts", alerts);
}

int seg_demo(crm_plugin_ctx *ctx, crm_command_io *io)
{
    int64_t as_of = crm_now(ctx), total = 0;
    char cur[8] = "";
    size_t churn_scored = 0;
    int raised = 0;
    /* grid counts, then one count per churn level */
    int64_t *n = calloc(SEG(ctx)->grid.n + 1 + SEG(ctx)->churn.nlevels, sizeof *n);
    if (!n) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    int rc = seg_rfm_refresh(ctx, as_of, NULL, NULL, NULL, cur);
    if (rc == CRM_OK)
        rc = seg_churn_refresh(ctx, as_of, &churn_scored, &raised);
    if (rc == CRM_OK)
        rc = count_segments(ctx, n, &total);
    for (size_t i = 0; rc == CRM_OK && i < SEG(ctx)->churn.nlevels; i++)
        n[SEG(ctx)->grid.n + 1 + i] = at_level(ctx, SEG(ctx)->churn.levels[i]);
    if (rc == CRM_OK && crm_io_json(io))
        seg_print_json(io, as_json(ctx, n, total, as_of, cur, churn_scored));
    else if (rc == CRM_OK)
        print_text(ctx, crm_io_out(io), n, total, as_of, cur, churn_scored);
    free(n);
    return rc;
}

/* segmentation plugin — the headline `crm demo` ends with (SDK 1.3
 * register_demo): a full RFM and churn refresh on the demo data, then the
 * customers per RFM grid segment and the churn alerts per level. The same
 * numbers are `crm rfm grid` and `crm churn list --min-score L`. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

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

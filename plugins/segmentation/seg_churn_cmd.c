/* segmentation plugin — crm churn refresh|list|show. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* The as-of time of the latest churn refresh: 1, or 0 when there was none. */
static int last_churn_refresh(crm_plugin_ctx *ctx, int64_t *as_of)
{
    crm_stmt *st = seg_prep(ctx,
                            "SELECT as_of FROM segmentation_churn_refreshes ORDER BY id"
                            " DESC LIMIT 1",
                            0);
    int found = st && crm_sql_step(st) == CRM_SQL_ROW;
    if (found)
        *as_of = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return found;
}

/* How many stored scores reach each level (index 0: under the first). */
static json_t *level_counts(crm_plugin_ctx *ctx)
{
    json_t *a = json_array();
    for (size_t l = 0; l <= SEG(ctx)->churn.nlevels; l++)
        json_array_append_new(
            a, json_integer(seg_scalar(ctx, 0,
                                       "SELECT count(*) FROM segmentation_churn WHERE"
                                       " level = ?1",
                                       1, (int64_t)l)));
    return a;
}

int seg_churn_refresh(crm_plugin_ctx *ctx, int64_t as_of, size_t *scored, int *raised)
{
    seg_idlist ids = {0};
    int rc = seg_collect(ctx, "SELECT DISTINCT contact_id FROM orders WHERE placed_at < ?1"
                              " ORDER BY contact_id", NULL, as_of, &ids);
    *raised = 0;
    if (rc == CRM_OK)
        rc = crm_begin(ctx);
    for (size_t i = 0; rc == CRM_OK && i < ids.n; i++)
        rc = seg_churn_update_contact(ctx, ids.v[i], as_of, raised);
    /* recorded with the scores, so churn list can say as of when */
    if (rc == CRM_OK && seg_run(ctx,
                                "INSERT INTO segmentation_churn_refreshes(as_of, contacts,"
                                " raised) VALUES (?1, ?2, ?3)",
                                3, as_of, (int64_t)ids.n, (int64_t)*raised) != CRM_OK)
        rc = seg_fail_db(ctx, "recording the churn refresh");
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    *scored = ids.n;
    free(ids.v);
    return rc;
}

static int churn_refresh(crm_plugin_ctx *ctx, crm_command_io *io, int64_t as_of)
{
    size_t n = 0;
    int raised = 0;
    int rc = seg_churn_refresh(ctx, as_of, &n, &raised);
    if (rc == CRM_OK && crm_io_json(io)) {
        json_t *levels = json_array();
        for (size_t l = 0; l < SEG(ctx)->churn.nlevels; l++)
            json_array_append_new(levels, json_integer(SEG(ctx)->churn.levels[l]));
        seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIsisososs}", "as_of", (json_int_t)as_of, "contacts",
                                     (json_int_t)n, "raised", raised, "levels", levels,
                                     "contacts_by_level", level_counts(ctx), "scoring",
                                     SEG(ctx)->churn_rule[0] ? SEG(ctx)->churn_rule : "points"), seg_iso_as_of));
    } else if (rc == CRM_OK) {
        char day[32];
        fprintf(crm_io_out(io), "scored %zu contacts as of %s, %d raised\n", n,
                seg_fmt_day(ctx, as_of, day, sizeof day), raised);
    }
    return rc;
}

static int churn_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t min = seg_opt_int(args, "min-score", 1);
    FILE *out = crm_io_out(io);
    crm_stmt *st = seg_prep(ctx,
                            "SELECT contact_id, score, level, reasons FROM segmentation_churn"
                            " WHERE score >= ?1 ORDER BY score DESC, contact_id",
                            1, min);
    size_t shown = 0;
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        const char *rj = crm_sql_column_text(st, 3);
        shown++;
        if (crm_io_json(io)) {
            json_t *reasons = json_loads(rj ? rj : "[]", 0, NULL);
            seg_print_json(io, json_pack("{sIsIsIso}", "contact_id",
                                         (json_int_t)crm_sql_column_int64(st, 0), "score",
                                         (json_int_t)crm_sql_column_int64(st, 1), "level",
                                         (json_int_t)crm_sql_column_int64(st, 2), "reasons",
                                         reasons ? reasons : json_array()));
        } else {
            fprintf(out, "%-8lld %5lld  ", (long long)crm_sql_column_int64(st, 0),
                    (long long)crm_sql_column_int64(st, 1));
            seg_print_reason_texts(out, rj);
            fputc('\n', out);
        }
    }
    crm_sql_finalize(st);
    int64_t at = 0;
    char day[32];
    if (!last_churn_refresh(ctx, &at))
        seg_note(io, 0,
                 "no churn scores yet: run crm churn refresh (--as-of DATE) to compute "
                 "them");
    else
        seg_note(io, shown,
                 "churn scores as of %s: %zu contact%s scoring at least %lld (crm "
                 "churn refresh recomputes them; events do not)",
                 seg_fmt_day(ctx, at, day, sizeof day), shown, shown == 1 ? "" : "s",
                 (long long)min);
    return CRM_OK;
}

/* One contact's score computed now, not stored. */
static int churn_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                      int64_t as_of)
{
    const char *ref = seg_arg(args, 0);
    if (!ref)
        return seg_usage(ctx, "churn show CONTACT");
    int64_t cid = seg_resolve_contact(ctx, ref), ltv;
    if (!cid)
        return CRM_ENOTFOUND;
    seg_churn_result res;
    int rc = seg_churn_compute(ctx, cid, as_of, &res, &ltv);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io)) {
        seg_print_json(io, json_pack("{sIsIsisIso}", "contact_id", (json_int_t)cid, "score",
                                     (json_int_t)res.score, "level", res.level, "lifetime_value",
                                     (json_int_t)ltv, "reasons", seg_churn_reasons_json(&res)));
        return CRM_OK;
    }
    FILE *out = crm_io_out(io);
    char money[48];
    fprintf(out, "contact %lld: churn score %lld (level %d), lifetime value %s\n", (long long)cid,
            (long long)res.score, res.level,
            seg_fmt_money(ctx, ltv, seg_ltv_currency(ctx), money, sizeof money));
    for (size_t i = 0; i < res.nreasons; i++)
        fprintf(out, "  +%-4lld %s\n", (long long)res.reasons[i].points, res.reasons[i].text);
    return CRM_OK;
}

/* ---- the commands (option tables in segmentation.c) ---------------------- */

int seg_cmd_churn_refresh(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    seg_load_cuts(ctx);
    return churn_refresh(ctx, io, crm_now(ctx));
}

int seg_cmd_churn_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    seg_load_cuts(ctx);
    return churn_list(ctx, io, args);
}

int seg_cmd_churn_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    seg_load_cuts(ctx);
    return churn_show(ctx, io, args, crm_now(ctx));
}

/* segmentation plugin — churn risk through the host: one contact's inputs
 * scored by churn.c (pure) or the churn.rule Lua override, stored, and
 * churn.risk_raised; the commands crm churn refresh|list|show. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* ---- one contact's churn risk: the inputs read from its
 * orders and interactions, scored by churn.c (or the churn.rule Lua
 * override), stored in segmentation_churn; churn.risk_raised when the level
 * goes up. */

/* churn.rule: the Lua score function replaces the points score; its reasons
 * (strings) become the score's reasons (code "rule", no points of their own). */
static int churn_override(crm_plugin_ctx *ctx, int64_t cid, seg_churn_result *res)
{
    char *out = NULL, *err = NULL, *cause = NULL;
    int rc = crm_call_rule(ctx, SEG(ctx)->churn_rule, cid, &out, &err, &cause);
    if (rc != CRM_OK) {
        crm_set_error(ctx, "segmentation.churn.rule: %s", err ? err : crm_last_error(ctx));
        crm_free(ctx, out);
        crm_free(ctx, err);
        crm_free(ctx, cause);
        return rc < 0 ? rc : CRM_ESCRIPT;
    }
    json_t *o = json_loads(out, 0, NULL);
    crm_free(ctx, out);
    json_t *v = json_object_get(o, "result");
    if (!json_is_number(v)) {
        json_decref(o);
        crm_set_error(ctx, "churn rule %s: contact %lld: expected a number (and a list of "
                           "reasons)", SEG(ctx)->churn_rule, (long long)cid);
        return CRM_ESCRIPT;
    }
    double score = json_number_value(v);
    res->score = (int64_t)(score < 0 ? score - 0.5 : score + 0.5);
    res->level = seg_churn_level(&SEG(ctx)->churn, res->score);
    res->nreasons = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "reasons"), i, r) {
        if (res->nreasons >= SEG_CHURN_MAX_REASONS || !json_is_string(r))
            continue;
        seg_churn_reason *x = &res->reasons[res->nreasons++];
        snprintf(x->code, sizeof x->code, "rule");
        x->points = 0;
        snprintf(x->text, sizeof x->text, "%s", json_string_value(r));
    }
    json_decref(o);
    return CRM_OK;
}

const char *seg_ltv_currency(crm_plugin_ctx *ctx)
{
    return SEG(ctx)->cuts_currency[0] ? SEG(ctx)->cuts_currency
                                  : (SEG(ctx)->currency[0] ? SEG(ctx)->currency : NULL);
}

/* The contact's orders before as_of: their number, the days since the last,
 * the median gap between them (the purchase cycle), and *ltv. */
static int read_orders(crm_plugin_ctx *ctx, int64_t cid, int64_t as_of, seg_churn_input *in,
                       int64_t *ltv)
{
    crm_stmt *st = seg_prep(ctx,
                            "SELECT placed_at, total, currency FROM orders WHERE contact_id = ?1"
                            " AND status IN ('placed','paid') AND placed_at < ?2"
                            " ORDER BY placed_at",
                            2, cid, as_of);
    if (!st)
        return seg_fail_db(ctx, "reading orders");
    int64_t prev = 0, gaps[512];
    size_t ng = 0;
    const char *cur = seg_ltv_currency(ctx);
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        int64_t at = crm_sql_column_int64(st, 0);
        const char *c = crm_sql_column_text(st, 2);
        if (!cur || (c && !strcmp(c, cur)))
            *ltv += crm_sql_column_int64(st, 1);
        if (in->orders > 0 && ng < sizeof gaps / sizeof gaps[0])
            gaps[ng++] = (at - prev) / SEG_DAY_SECONDS;
        prev = at;
        in->orders++;
    }
    crm_sql_finalize(st);
    if (in->orders > 0)
        in->days_since_last = seg_rfm_recency_days(prev, as_of);
    in->cycle_days = seg_median(gaps, ng);
    return CRM_OK;
}

/* Emails sent and engaged with, and the behaviour signals, in [start, as_of). */
static void read_interactions(crm_plugin_ctx *ctx, int64_t cid, int64_t as_of, int64_t start,
                              seg_churn_input *in)
{
    in->emails_sent = seg_scalar(ctx, 0,
                                 "SELECT count(*) FROM interactions WHERE contact_id = ?1 AND"
                                 " channel = 'email' AND direction = 'out' AND occurred_at < ?2 AND"
                                 " occurred_at >= ?3",
                                 3, cid, as_of, start);
    in->emails_engaged = seg_scalar(ctx, 0,
                                    "SELECT count(*) FROM interactions WHERE contact_id = ?1 AND"
                                    " channel = 'email' AND occurred_at < ?2 AND"
                                    " occurred_at >= ?3 AND (direction = 'in' OR"
                                    " lower(subject) LIKE 'open%' OR lower(subject) LIKE 'click%')",
                                    3, cid, as_of, start);
    if (!SEG(ctx)->churn.nsignals)
        return;
    crm_stmt *st = seg_prep(ctx,
                            "SELECT channel, subject FROM interactions WHERE contact_id = ?1 AND"
                            " occurred_at < ?2 AND occurred_at >= ?3",
                            3, cid, as_of, start);
    while (st && crm_sql_step(st) == CRM_SQL_ROW)
        for (size_t i = 0; i < SEG(ctx)->churn.nsignals; i++)
            if (seg_churn_signal_matches(&SEG(ctx)->churn.signals[i], crm_sql_column_text(st, 0),
                                         crm_sql_column_text(st, 1)))
                in->signal_counts[i]++;
    crm_sql_finalize(st);
}

int seg_churn_compute(crm_plugin_ctx *ctx, int64_t cid, int64_t as_of, seg_churn_result *res,
                      int64_t *ltv)
{
    seg_churn_input in;
    memset(&in, 0, sizeof in);
    *ltv = 0;
    int rc = read_orders(ctx, cid, as_of, &in, ltv);
    if (rc != CRM_OK)
        return rc;
    int64_t start = as_of - SEG(ctx)->churn.window_days * SEG_DAY_SECONDS;
    read_interactions(ctx, cid, as_of, start, &in);
    seg_churn_score(&SEG(ctx)->churn, &in, res);
    return SEG(ctx)->churn_rule[0] ? churn_override(ctx, cid, res) : CRM_OK;
}

json_t *seg_churn_reasons_json(const seg_churn_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nreasons; i++)
        json_array_append_new(a, json_pack("{sssIss}", "code", r->reasons[i].code, "points",
                                           (json_int_t)r->reasons[i].points, "text",
                                           r->reasons[i].text));
    return a;
}

/* Upserts the contact's segmentation_churn row. */
static int store_score(crm_plugin_ctx *ctx, int64_t cid, const seg_churn_result *res,
                       const char *rj, int64_t at)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_churn(contact_id, score, level, reasons,"
                        " computed_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(contact_id) DO"
                        " UPDATE SET score = excluded.score, level = excluded.level,"
                        " reasons = excluded.reasons, computed_at = excluded.computed_at",
                        &st) != CRM_OK)
        return seg_fail_db(ctx, "storing a churn score");
    crm_sql_bind_int64(st, 1, cid);
    crm_sql_bind_int64(st, 2, res->score);
    crm_sql_bind_int64(st, 3, res->level);
    crm_sql_bind_text(st, 4, rj ? rj : "[]");
    crm_sql_bind_int64(st, 5, at);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? seg_fail_db(ctx, "storing a churn score") : CRM_OK;
}

static int emit_raised(crm_plugin_ctx *ctx, int64_t cid, const seg_churn_result *res,
                       int64_t ltv, json_t *reasons)
{
    json_t *p = json_pack("{sIsIsIsIsO}", "contact_id", (json_int_t)cid, "score",
                          (json_int_t)res->score, "level", (json_int_t)res->level,
                          "lifetime_value", (json_int_t)ltv, "reasons", reasons);
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    int rc = s ? crm_emit_event(ctx, "churn.risk_raised", s) : CRM_ENOMEM;
    free(s);
    return rc;
}

int seg_churn_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at, int *raised)
{
    seg_churn_result res;
    int64_t ltv;
    int rc = seg_churn_compute(ctx, cid, at, &res, &ltv);
    if (rc != CRM_OK)
        return rc;
    int64_t old_level = seg_scalar(ctx, 0,
                                   "SELECT level FROM segmentation_churn WHERE contact_id = ?1",
                                   1, cid);
    json_t *reasons = seg_churn_reasons_json(&res);
    char *rj = json_dumps(reasons, JSON_COMPACT | JSON_PRESERVE_ORDER);
    rc = store_score(ctx, cid, &res, rj, at);
    free(rj);
    if (rc == CRM_OK && res.level > old_level) {
        rc = emit_raised(ctx, cid, &res, ltv, reasons);
        if (raised)
            (*raised)++;
    }
    json_decref(reasons);
    return rc;
}

/* ---- crm churn refresh|list|show. */

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

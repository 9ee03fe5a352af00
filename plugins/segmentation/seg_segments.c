/* segmentation plugin — rule segments (conditions compiled by cond.c, or Lua
 * predicates through seg_lua.c): evaluated over every contact and
 * materialised as memberships, or re-evaluated for one contact. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

int seg_matching(crm_plugin_ctx *ctx, const seg_cond *cond, int64_t as_of, seg_idlist *out)
{
    char sql[9000];
    snprintf(sql, sizeof sql,
             "SELECT c.id FROM contacts c LEFT JOIN segmentation_rfm r ON r.contact_id = c.id"
             " WHERE %s ORDER BY c.id",
             cond->sql);
    return seg_collect(ctx, sql, NULL, as_of, out);
}

void seg_diff_lists(const seg_idlist *want, const seg_idlist *have, seg_idlist *enter,
                    seg_idlist *leave)
{
    size_t i = 0, j = 0;
    while (i < want->n || j < have->n) {
        int64_t a = i < want->n ? want->v[i] : INT64_MAX, b = j < have->n ? have->v[j] : INT64_MAX;
        if (a == b)
            i++, j++;
        else if (a < b)
            seg_idlist_push(enter, a), i++;
        else
            seg_idlist_push(leave, b), j++;
    }
}

static int record_refresh(crm_plugin_ctx *ctx, const char *slug, int64_t as_of, int64_t members)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_segment_refreshes(segment, as_of, members)"
                        " VALUES (?1, ?2, ?3) ON CONFLICT(segment) DO UPDATE SET"
                        " as_of = excluded.as_of, members = excluded.members",
                        &st) != CRM_OK)
        return seg_fail_db(ctx, "recording the refresh");
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_int64(st, 2, as_of);
    crm_sql_bind_int64(st, 3, members);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? seg_fail_db(ctx, "recording the refresh") : CRM_OK;
}

int seg_segment_refreshed(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t *as_of)
{
    if (!strcmp(kind, "rfm"))
        return seg_last_rfm_refresh(ctx, as_of);
    if (!strcmp(kind, "static"))
        return 0;
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, "SELECT as_of FROM segmentation_segment_refreshes WHERE segment = ?1",
                        &st) != CRM_OK)
        return 0;
    crm_sql_bind_text(st, 1, slug);
    int found = crm_sql_step(st) == CRM_SQL_ROW;
    if (found)
        *as_of = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return found;
}

int seg_rule_refresh(crm_plugin_ctx *ctx, seg_rule *rs, int64_t as_of, int64_t *nin, int64_t *nout)
{
    seg_idlist want = {0}, have = {0}, enter = {0}, leave = {0};
    int rc = rs->is_lua ? seg_lua_matching(ctx, rs->lua_spec, &want)
                        : seg_matching(ctx, &rs->cond, as_of, &want);
    if (rc == CRM_OK)
        rc = seg_current_members(ctx, rs->slug, &have);
    if (rc == CRM_OK) {
        seg_diff_lists(&want, &have, &enter, &leave);
        for (size_t i = 0; rc == CRM_OK && i < leave.n; i++)
            rc = seg_member_leave(ctx, rs->slug, "rule", leave.v[i], as_of);
        for (size_t i = 0; rc == CRM_OK && i < enter.n; i++)
            rc = seg_member_enter(ctx, rs->slug, "rule", enter.v[i], as_of);
    }
    if (rc == CRM_OK)
        rc = record_refresh(ctx, rs->slug, as_of, (int64_t)want.n);
    if (nin)
        *nin = (int64_t)enter.n;
    if (nout)
        *nout = (int64_t)leave.n;
    free(want.v), free(have.v), free(enter.v), free(leave.v);
    return rc;
}

int seg_eval_for(crm_plugin_ctx *ctx, const char *sql_expr, int64_t cid, int64_t as_of)
{
    char sql[9000];
    snprintf(sql, sizeof sql,
             "SELECT CASE WHEN %s THEN 1 ELSE 0 END FROM contacts c LEFT JOIN segmentation_rfm r"
             " ON r.contact_id = c.id WHERE c.id = ?2",
             sql_expr);
    crm_stmt *st = seg_prep(ctx, sql, 2, as_of, cid);
    if (!st)
        return seg_fail_db(ctx, "evaluating a segment");
    int rc = crm_sql_step(st);
    int v = rc == CRM_SQL_ROW ? (int)crm_sql_column_int64(st, 0) : 0;
    crm_sql_finalize(st);
    return rc < 0 ? seg_fail_db(ctx, "evaluating a segment") : v;
}

/* Whether rule segment rs holds for one contact: 1, 0 or a negative error. */
static int segment_holds(crm_plugin_ctx *ctx, const seg_rule *rs, int64_t cid, int64_t as_of)
{
    return rs->is_lua ? seg_lua_holds(ctx, rs->lua_spec, cid, NULL)
                      : seg_eval_for(ctx, rs->cond.sql, cid, as_of);
}

int seg_rules_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    for (size_t i = 0; i < SEG(ctx)->nrules; i++) {
        seg_rule *rs = &SEG(ctx)->rules[i];
        if (rs->is_static)
            continue;
        int want = segment_holds(ctx, rs, cid, at);
        if (want < 0)
            return want;
        int have = seg_is_member(ctx, rs->slug, cid);
        int rc = CRM_OK;
        if (want && !have)
            rc = seg_member_enter(ctx, rs->slug, "rule", cid, at);
        else if (!want && have)
            rc = seg_member_leave(ctx, rs->slug, "rule", cid, at);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

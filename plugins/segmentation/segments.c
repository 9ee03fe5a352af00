/* segmentation plugin — segments through the host: membership history
 * (segmentation_members, segment.entered/left), rule segments compiled by
 * condition.c, Lua predicates through the host's rule engine. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* ---- segment membership history (segmentation_members):
 * one open row per (segment, contact); entering and leaving emit
 * segment.entered and segment.left. */

static int emit_membership(crm_plugin_ctx *ctx, const char *type, const char *slug,
                           const char *kind, int64_t contact_id, int64_t at)
{
    json_t *p = json_pack("{sIsssssssI}", "contact_id", (json_int_t)contact_id, "segment", slug,
                          "name", seg_grid_name(ctx, slug), "kind", kind, "at", (json_int_t)at);
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    if (!s)
        return CRM_ENOMEM;
    int rc = crm_emit_event(ctx, type, s);
    free(s);
    return rc;
}

int seg_member_enter(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t cid,
                     int64_t at)
{
    crm_stmt *st = seg_cached(ctx, &SEG(ctx)->st_enter,
                              "INSERT INTO segmentation_members(segment, kind, contact_id,"
                              " entered_at) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return seg_fail_db(ctx, "recording a membership");
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_text(st, 2, kind);
    crm_sql_bind_int64(st, 3, cid);
    crm_sql_bind_int64(st, 4, at);
    int rc = crm_sql_step(st);
    crm_sql_reset(st);
    if (rc < 0)
        return seg_fail_db(ctx, "recording a membership");
    return emit_membership(ctx, "segment.entered", slug, kind, cid, at);
}

int seg_member_leave(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t cid,
                     int64_t at)
{
    crm_stmt *st = seg_cached(ctx, &SEG(ctx)->st_leave,
                              "UPDATE segmentation_members SET left_at = ?3 WHERE segment = ?1 AND"
                              " contact_id = ?2 AND left_at IS NULL");
    if (!st)
        return seg_fail_db(ctx, "closing a membership");
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_int64(st, 2, cid);
    crm_sql_bind_int64(st, 3, at);
    int rc = crm_sql_step(st);
    crm_sql_reset(st);
    if (rc < 0)
        return seg_fail_db(ctx, "closing a membership");
    return emit_membership(ctx, "segment.left", slug, kind, cid, at);
}

void seg_current_rfm_segment(crm_plugin_ctx *ctx, int64_t cid, char *buf, size_t size)
{
    buf[0] = 0;
    crm_stmt *st = seg_prep(ctx,
                            "SELECT segment FROM segmentation_members WHERE contact_id = ?1 AND"
                            " kind = 'rfm' AND left_at IS NULL",
                            1, cid);
    if (st && crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_text(st, 0))
        snprintf(buf, size, "%s", crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
}

int seg_rfm_move(crm_plugin_ctx *ctx, int64_t cid, const char *old, const char *slug,
                 int64_t at)
{
    int rc = CRM_OK;
    if (old && old[0] && (!slug || strcmp(old, slug)))
        rc = seg_member_leave(ctx, old, "rfm", cid, at);
    if (rc == CRM_OK && slug && (!old || !old[0] || strcmp(old, slug)))
        rc = seg_member_enter(ctx, slug, "rfm", cid, at);
    return rc;
}

int seg_is_member(crm_plugin_ctx *ctx, const char *slug, int64_t cid)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "SELECT 1 FROM segmentation_members WHERE segment = ?1 AND contact_id = ?2"
                        " AND left_at IS NULL",
                        &st) != CRM_OK)
        return 0;
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_int64(st, 2, cid);
    int v = crm_sql_step(st) == CRM_SQL_ROW;
    crm_sql_finalize(st);
    return v;
}

int seg_current_members(crm_plugin_ctx *ctx, const char *slug, seg_idlist *out)
{
    return seg_collect(ctx,
                       "SELECT contact_id FROM segmentation_members WHERE ?1 = ?1 AND segment = ?2"
                       " AND left_at IS NULL ORDER BY contact_id",
                       slug, 0, out);
}

/* ---- rule segments (conditions compiled by condition.c, or Lua
 * predicates, below): evaluated over every contact and
 * materialised as memberships, or re-evaluated for one contact. */

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

/* ---- Lua predicate segments, evaluated by the host's rule
 * engine (sandboxed, with crm.yaml's limits): rule_each over every contact on
 * SDK 1.2 hosts, call_rule per contact otherwise. */

int seg_lua_holds(crm_plugin_ctx *ctx, const char *spec, int64_t cid, json_t **reasons)
{
    char *res = NULL, *err = NULL, *cause = NULL;
    if (reasons)
        *reasons = NULL;
    int rc = crm_call_rule(ctx, spec, cid, &res, &err, &cause);
    if (rc != CRM_OK) {
        /* the engine's message names the rule, file:line, contact and cause */
        crm_set_error(ctx, "%s", err ? err : crm_last_error(ctx));
        crm_free(ctx, res);
        crm_free(ctx, err);
        crm_free(ctx, cause);
        return rc < 0 ? rc : CRM_ESCRIPT;
    }
    json_t *o = json_loads(res, 0, NULL);
    crm_free(ctx, res);
    json_t *v = json_object_get(o, "result");
    int yes = v && !json_is_false(v) && !json_is_null(v);
    if (reasons)
        *reasons = json_incref(json_object_get(o, "reasons"));
    json_decref(o);
    return yes;
}

static const char *const cause_names[5] = {"memory", "instructions", "blocked", "runtime",
                                           "syntax"};

/* What rule_each's callback collects for seg_lua_matching. */
typedef struct lua_scan {
    seg_idlist *out;
    int64_t evaluated, failed;
    int64_t by_cause[5]; /* memory, instructions, blocked, runtime, syntax */
    char first[768];     /* the first failure's message */
} lua_scan;

static int lua_scan_row(void *ud, int64_t cid, const char *result, const char *error,
                        const char *cause)
{
    lua_scan *ls = ud;
    ls->evaluated++;
    if (!result) {
        for (int k = 0; k < 5; k++)
            if (cause && !strcmp(cause, cause_names[k]))
                ls->by_cause[k]++;
        if (!ls->failed++)
            snprintf(ls->first, sizeof ls->first, "%s", error ? error : "");
        return CRM_OK;
    }
    /* holds: any result but false or null (as seg_lua_holds) */
    if (strcmp(result, "false") != 0 && strcmp(result, "null") != 0)
        return seg_idlist_push(ls->out, cid);
    return CRM_OK;
}

/* Hosts before SDK 1.2: call_rule once per contact, in id order. */
static int lua_matching_each(crm_plugin_ctx *ctx, const char *spec, seg_idlist *out)
{
    seg_idlist all = {0};
    int rc = seg_collect(ctx, "SELECT id FROM contacts WHERE ?1 = ?1 ORDER BY id", NULL, 0, &all);
    for (size_t i = 0; rc == CRM_OK && i < all.n; i++) {
        int v = seg_lua_holds(ctx, spec, all.v[i], NULL);
        if (v < 0)
            rc = v;
        else if (v && seg_idlist_push(out, all.v[i]) != CRM_OK)
            rc = CRM_ENOMEM;
    }
    free(all.v);
    return rc;
}

/* The scan's failures counted by cause, quoting the first; CRM_ESCRIPT. */
static int scan_failed(crm_plugin_ctx *ctx, const char *spec, const lua_scan *ls, int rc)
{
    char causes[160] = "";
    size_t len = 0;
    for (int k = 0; k < 5; k++)
        if (ls->by_cause[k])
            len += (size_t)snprintf(causes + len, sizeof causes - len, "%s%s: %lld",
                                    len ? ", " : "", cause_names[k], (long long)ls->by_cause[k]);
    crm_set_error(ctx, "Lua rule %s failed for %lld of %lld contacts evaluated (%s)%s; "
                       "first: %s",
                  spec, (long long)ls->failed, (long long)ls->evaluated, causes,
                  rc == CRM_ESCRIPT ? ", stopped at lua.max_failures" : "", ls->first);
    return CRM_ESCRIPT;
}

/* SDK 1.2 hosts evaluate the rule over every contact in one scan
 * (rule_each); older ones once per contact (call_rule). A rule failing for
 * any contact fails the whole evaluation (a membership is never decided from
 * a failed rule): the message counts the failures by cause and quotes the
 * first. */
int seg_lua_matching(crm_plugin_ctx *ctx, const char *spec, seg_idlist *out)
{
    if (!CRM_API_HAS(ctx, rule_each) || !CRM_API_AT_LEAST(ctx, 1, 2))
        return lua_matching_each(ctx, spec, out);
    lua_scan ls = {.out = out};
    int rc = crm_rule_each(ctx, spec, NULL, lua_scan_row, &ls);
    if (rc == CRM_ENOMEM) {
        crm_set_error(ctx, "out of memory evaluating %s", spec);
        return rc;
    }
    if (rc != CRM_OK && !ls.failed)
        return rc; /* unknown rule, bad spec...: the host's message stands */
    if (ls.failed)
        return scan_failed(ctx, spec, &ls, rc);
    return CRM_OK;
}

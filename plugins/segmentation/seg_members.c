/* segmentation plugin — segment membership history (segmentation_members):
 * one open row per (segment, contact); entering and leaving emit
 * segment.entered and segment.left. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

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

/* segmentation plugin — durable event handlers: a contact's RFM score and
 * rule segments follow its orders, data, interactions and consents. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

static int64_t payload_contact(const crm_plugin_event *ev)
{
    json_t *p = json_loads(crm_event_payload(ev), 0, NULL);
    json_t *c = p ? json_object_get(p, "contact_id") : NULL;
    int64_t id = json_is_integer(c) ? json_integer_value(c) : 0;
    json_decref(p);
    return id;
}

/* Only rule segments (not static lists) follow a contact's data. */
static bool has_rule_segments(void)
{
    for (size_t i = 0; i < seg_g.nrules; i++)
        if (!seg_g.rules[i].is_static)
            return true;
    return false;
}

int seg_on_order(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    /* before the first RFM refresh and without rule segments (a fresh import
     * or demo) an order moves nothing: skip the payload parse */
    if (!has_rule_segments() && !seg_load_cuts(ctx))
        return CRM_OK;
    int64_t cid = payload_contact(ev), at = crm_now(ctx);
    if (cid <= 0)
        return CRM_OK;
    int rc = seg_rfm_update_contact(ctx, cid, at);
    if (rc == CRM_OK)
        rc = seg_rules_update_contact(ctx, cid, at);
    return rc;
}

/* A deleted or merged contact leaves every segment; its scores go. */
static int contact_gone(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    crm_stmt *st = seg_prep(ctx, "SELECT segment, kind FROM segmentation_members WHERE"
                                 " contact_id = ?1 AND left_at IS NULL", 1, cid);
    char names[64][SEG_NAME_MAX], kinds[64][8];
    size_t n = 0;
    while (st && crm_sql_step(st) == CRM_SQL_ROW && n < 64) {
        snprintf(names[n], SEG_NAME_MAX, "%s", crm_sql_column_text(st, 0));
        snprintf(kinds[n++], 8, "%s", crm_sql_column_text(st, 1));
    }
    crm_sql_finalize(st);
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = seg_member_leave(ctx, names[i], kinds[i], cid, at);
    if (rc == CRM_OK)
        rc = seg_run(ctx, "DELETE FROM segmentation_rfm WHERE contact_id = ?1", 1, cid);
    if (rc == CRM_OK)
        rc = seg_run(ctx, "DELETE FROM segmentation_churn WHERE contact_id = ?1", 1, cid);
    return rc;
}

int seg_on_contact(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    const char *type = crm_event_type(ev);
    bool gone = !strcmp(type, "contact.deleted") || !strcmp(type, "contact.merged");
    if (!gone && !has_rule_segments())
        return CRM_OK;
    int64_t cid = payload_contact(ev), at = crm_now(ctx);
    if (cid <= 0)
        return CRM_OK;
    if (gone)
        return contact_gone(ctx, cid, at);
    return seg_rules_update_contact(ctx, cid, at);
}

/* segmentation plugin — durable event handlers: a contact's RFM score and
 * rule segments follow its orders, data, interactions and consents. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* The payload's contact_id through the host's JSON reader; 0 when absent. */
static int64_t payload_contact(crm_plugin_ctx *ctx, const crm_plugin_event *ev)
{
    int64_t id = 0;
    if (crm_json_get_int(ctx, crm_event_payload(ev), "contact_id", &id) != CRM_OK)
        return 0;
    return id;
}

/* Only rule segments (not static lists) follow a contact's data. */
static bool has_rule_segments(crm_plugin_ctx *ctx)
{
    for (size_t i = 0; i < SEG(ctx)->nrules; i++)
        if (!SEG(ctx)->rules[i].is_static)
            return true;
    return false;
}

int seg_on_order(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    /* before the first RFM refresh and without rule segments (a fresh import
     * or demo) an order moves nothing: skip the payload parse */
    if (!has_rule_segments(ctx) && !seg_load_cuts(ctx))
        return CRM_OK;
    int64_t cid = payload_contact(ctx, ev), at = crm_now(ctx);
    if (cid <= 0)
        return CRM_OK;
    int rc = seg_rfm_update_contact(ctx, cid, at);
    if (rc == CRM_OK)
        rc = seg_rules_update_contact(ctx, cid, at);
    return rc;
}

/* One open membership, copied out of the statement: leaving writes the
 * table being read. */
typedef struct open_membership {
    char slug[SEG_NAME_MAX];
    char kind[8];
} open_membership;

/* A deleted or merged contact leaves every segment, however many; its
 * scores go. */
static int contact_gone(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    crm_stmt *st = seg_prep(ctx,
                            "SELECT segment, kind FROM segmentation_members WHERE"
                            " contact_id = ?1 AND left_at IS NULL ORDER BY id",
                            1, cid);
    if (!st)
        return seg_fail_db(ctx, "reading the contact's memberships");
    open_membership *v = NULL;
    size_t n = 0, cap = 0;
    int rc = CRM_OK, step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            open_membership *nv = realloc(v, c * sizeof *nv);
            if (!nv) {
                rc = CRM_ENOMEM;
                crm_set_error(ctx, "out of memory reading contact %lld's memberships",
                              (long long)cid);
                break;
            }
            v = nv;
            cap = c;
        }
        const char *slug = crm_sql_column_text(st, 0), *kind = crm_sql_column_text(st, 1);
        snprintf(v[n].slug, sizeof v[n].slug, "%s", slug ? slug : "");
        snprintf(v[n].kind, sizeof v[n].kind, "%s", kind ? kind : "");
        n++;
    }
    crm_sql_finalize(st);
    if (rc == CRM_OK && step < 0)
        rc = seg_fail_db(ctx, "reading the contact's memberships");
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = seg_member_leave(ctx, v[i].slug, v[i].kind, cid, at);
    free(v);
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
    if (!gone && !has_rule_segments(ctx))
        return CRM_OK;
    int64_t cid = payload_contact(ctx, ev), at = crm_now(ctx);
    if (cid <= 0)
        return CRM_OK;
    if (gone)
        return contact_gone(ctx, cid, at);
    return seg_rules_update_contact(ctx, cid, at);
}

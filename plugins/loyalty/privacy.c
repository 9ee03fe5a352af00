/* loyalty plugin — a person's loyalty rows are theirs: every loyalty_*
 * table keyed by contact_id is declared, so `crm contact export-data`
 * includes them and `crm contact erase` deletes them; the referrals the
 * person made (referrer_id) go through the callbacks. The ledger of other
 * members is untouched: every operation and lot belongs to one contact. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

/* Children before parents: erase deletes in this order, and entries, lots,
 * redemptions and vouchers reference loyalty_ops / each other by foreign key. */
static const char *const tables[] = {
    "loyalty_vouchers", "loyalty_redemptions", "loyalty_entries",  "loyalty_warnings",
    "loyalty_lots",     "loyalty_ops",         "loyalty_referrals", "loyalty_order_refunds",
    "loyalty_members",
};

/* The referrals this person made, as a JSON array. */
static int export_made(crm_plugin_ctx *ctx, int64_t cid, char **json_out, void *ud)
{
    (void)ud;
    crm_stmt *st = loy_prep(ctx, "SELECT id, contact_id, code, status, reason, created_at FROM"
                                 " loyalty_referrals WHERE referrer_id = ?1 ORDER BY id", 1, cid);
    if (!st)
        return loy_fail_db(ctx, "reading the referrals made");
    json_t *arr = json_array();
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        const char *reason = crm_sql_column_text(st, 4);
        json_t *e = json_pack("{sI sI ss ss sI}", "id", (json_int_t)crm_sql_column_int64(st, 0),
                              "referee_id", (json_int_t)crm_sql_column_int64(st, 1), "code",
                              crm_sql_column_text(st, 2), "status", crm_sql_column_text(st, 3),
                              "created_at", (json_int_t)crm_sql_column_int64(st, 5));
        json_object_set_new(e, "reason", reason ? json_string(reason) : json_null());
        json_array_append_new(arr, e);
    }
    crm_sql_finalize(st);
    json_t *o = json_pack("{so}", "referrals_made", arr);
    *json_out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return *json_out ? CRM_OK : CRM_ENOMEM;
}

/* The referrals the person made hold their id: they go with them (the
 * referees' own points, already earned, stay in their ledgers). */
static int erase_made(crm_plugin_ctx *ctx, int64_t cid, void *ud)
{
    (void)ud;
    return loy_run(ctx, "DELETE FROM loyalty_referrals WHERE referrer_id = ?1", 1, cid);
}

int loy_privacy_register(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, declare_personal_data))
        return CRM_OK;
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof tables / sizeof tables[0]; i++)
        rc = crm_declare_personal_data(ctx, tables[i], "contact_id");
    if (rc == CRM_OK)
        rc = crm_declare_personal_callbacks(ctx, export_made, erase_made, NULL);
    return rc;
}

/* loyalty plugin — `crm demo`: the demo's orders already earned through the
 * order.paid subscriber (the same path as any order); the hook brings the
 * ledger to the demo's clock (approvals and expiries the timers would fire
 * at the next tick), recomputes tiers, redeems a few rewards for the best
 * balances, decides two referrals (one honest, one self-referral), and
 * prints the members per tier with the liability. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

static int each_member(crm_plugin_ctx *ctx, int64_t now)
{
    crm_stmt *st = loy_prep(ctx, "SELECT contact_id FROM loyalty_members ORDER BY contact_id", 0);
    if (!st)
        return loy_fail_db(ctx, "reading the members");
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = CRM_OK;
    while (rc == CRM_OK && crm_sql_step(st) == CRM_SQL_ROW) {
        if (n == cap) {
            int64_t *v = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *v);
            if (!v)
                rc = CRM_ENOMEM;
            else
                ids = v;
        }
        if (rc == CRM_OK)
            ids[n++] = crm_sql_column_int64(st, 0);
    }
    crm_sql_finalize(st);
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = loy_tier_update(ctx, ids[i], now);
    free(ids);
    return rc;
}

/* The first reward each of the three best approved balances can afford. */
static int redeem_some(crm_plugin_ctx *ctx, int64_t now, int64_t *made)
{
    crm_stmt *st = loy_prep(ctx,
                            "SELECT contact_id FROM loyalty_lots WHERE approved_at IS NOT NULL AND"
                            " expired_at IS NULL GROUP BY contact_id ORDER BY sum(remaining) DESC,"
                            " contact_id LIMIT 3", 0);
    int64_t ids[3];
    size_t n = 0;
    while (st && n < 3 && crm_sql_step(st) == CRM_SQL_ROW)
        ids[n++] = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        for (size_t r = 0; r < PROG(ctx)->nrewards; r++) {
            char key[64];
            int64_t rid;
            snprintf(key, sizeof key, "demo:%lld:%s", (long long)ids[i], PROG(ctx)->rewards[r].name);
            int e = loy_redeem(ctx, ids[i], PROG(ctx)->rewards[r].name, key, now, &rid);
            if (e == CRM_OK) {
                (*made)++;
                break;
            }
            if (e != CRM_EINVAL) /* refusals are expected; anything else is not */
                rc = e;
        }
    return rc;
}

/* Two referrals: the second member refers the third (decided on the
 * third's first paid order), the fourth refers itself. */
static int refer_some(crm_plugin_ctx *ctx, int64_t now)
{
    crm_stmt *st = loy_prep(ctx,
                            "SELECT m.contact_id, m.referral_code FROM loyalty_members m WHERE"
                            " NOT EXISTS (SELECT 1 FROM loyalty_referrals r WHERE"
                            " r.contact_id = m.contact_id) ORDER BY m.contact_id LIMIT 4", 0);
    int64_t ids[4];
    char codes[4][32];
    size_t n = 0;
    while (st && n < 4 && crm_sql_step(st) == CRM_SQL_ROW) {
        ids[n] = crm_sql_column_int64(st, 0);
        snprintf(codes[n++], sizeof codes[0], "%s", crm_sql_column_text(st, 1));
    }
    crm_sql_finalize(st);
    if (n < 4)
        return CRM_OK;
    int64_t rid;
    int rc = loy_referral_add(ctx, ids[2], codes[1], now, &rid);
    int64_t first = loy_scalar(ctx, 0, "SELECT id FROM orders WHERE contact_id = ?1 AND"
                                       " status = 'paid' ORDER BY placed_at, id LIMIT 1", 1, ids[2]);
    if (rc == CRM_OK && first)
        rc = loy_referral_on_approved(ctx, ids[2], first, now);
    if (rc == CRM_OK)
        rc = loy_referral_add(ctx, ids[3], codes[3], now, &rid);
    return rc;
}

static int demo_run(crm_plugin_ctx *ctx, int64_t now, int64_t *redeemed)
{
    int rc = loy_sweep(ctx, now);
    if (rc == CRM_OK)
        rc = each_member(ctx, now);
    if (rc == CRM_OK)
        rc = redeem_some(ctx, now, redeemed);
    if (rc == CRM_OK)
        rc = refer_some(ctx, now);
    return rc;
}

int loy_demo(crm_plugin_ctx *ctx, crm_command_io *io)
{
    if (!LOY(ctx)->configured)
        return CRM_OK;
    int64_t now = crm_now(ctx), redeemed = 0;
    int rc = crm_begin(ctx);
    if (rc == CRM_OK)
        rc = demo_run(ctx, now, &redeemed);
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    json_t *rep = NULL;
    if (rc == CRM_OK)
        rc = loy_report_json(ctx, now, &rep);
    if (rc != CRM_OK)
        return rc;
    json_t *tiers = json_object_get(rep, "members_per_tier");
    if (crm_io_json(io)) {
        json_t *j = json_pack("{sO sO sO sI}", "members_per_tier", tiers, "liability",
                              json_object_get(rep, "liability"), "breakage",
                              json_object_get(rep, "breakage_text"), "redemptions",
                              (json_int_t)redeemed);
        loy_print_json(io, j);
    } else {
        FILE *out = crm_io_out(io);
        const char *k;
        json_t *v;
        int first = 1;
        fprintf(out, "loyalty: members per tier:");
        json_object_foreach(tiers, k, v) {
            fprintf(out, "%s %s %lld", first ? "" : ",", k, (long long)json_integer_value(v));
            first = 0;
        }
        fprintf(out, "; liability %s, breakage %s, %lld redemptions (crm loyalty report)\n",
                json_string_value(json_object_get(rep, "liability_text")),
                json_string_value(json_object_get(rep, "breakage_text")), (long long)redeemed);
    }
    json_decref(rep);
    return CRM_OK;
}

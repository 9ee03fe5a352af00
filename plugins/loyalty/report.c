/* loyalty plugin — `crm loyalty report`: members per tier, points earned,
 * spent and expired per month (in locale.timezone), the outstanding
 * liability in money (approved + pending points x the point's value),
 * breakage (expired / earned), redemptions per reward, donations per cause,
 * and the repurchase rate of members against non-members. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

static json_t *members_per_tier(crm_plugin_ctx *ctx)
{
    json_t *o = json_object();
    for (size_t i = 0; i < PROG(ctx)->nlevels; i++)
        json_object_set_new(o, PROG(ctx)->levels[i].name,
                            json_integer(loy_scalar(ctx, 0, "SELECT count(*) FROM loyalty_members"
                                                            " WHERE tier = ?1", 1, (int64_t)i)));
    return o;
}

/* Earned, spent, expired per month: summed per quarter hour in SQL (every
 * zone offset is a multiple of 15 minutes), the month named in C in the
 * installation's zone. */
static int months(crm_plugin_ctx *ctx, json_t *arr)
{
    crm_stmt *st = loy_prep(ctx,
                            "SELECT at / 900, kind, sum(points) FROM loyalty_entries WHERE kind IN"
                            " ('earn', 'spend', 'expire') GROUP BY at / 900, kind ORDER BY 1", 0);
    if (!st)
        return loy_fail_db(ctx, "reading the entries");
    int step;
    json_t *cur = NULL;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        char when[40];
        loy_time(ctx, crm_sql_column_int64(st, 0) * 900, when, sizeof when);
        when[7] = 0; /* YYYY-MM */
        if (!cur || strcmp(json_string_value(json_object_get(cur, "month")), when) != 0) {
            cur = json_pack("{ss sI sI sI}", "month", when, "earned", (json_int_t)0, "spent",
                            (json_int_t)0, "expired", (json_int_t)0);
            json_array_append_new(arr, cur);
        }
        const char *kind = crm_sql_column_text(st, 1);
        const char *key = !strcmp(kind, "earn") ? "earned" : !strcmp(kind, "spend") ? "spent"
                                                                                     : "expired";
        int64_t v = crm_sql_column_int64(st, 2);
        json_object_set_new(cur, key, json_integer(json_integer_value(json_object_get(cur, key)) +
                                                   (v < 0 ? -v : v)));
    }
    crm_sql_finalize(st);
    return step < 0 ? loy_fail_db(ctx, "reading the entries") : CRM_OK;
}

/* rows of (text, count, sum) into [{name_key: text, "count", sum_key, "amount_text"?}] */
static int grouped(crm_plugin_ctx *ctx, const char *sql, const char *name_key,
                   const char *sum_key, int money, json_t *arr)
{
    crm_stmt *st = loy_prep(ctx, sql, 0);
    if (!st)
        return loy_fail_db(ctx, "reading the redemptions");
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        json_t *e = json_pack("{ss sI sI}", name_key, crm_sql_column_text(st, 0), "count",
                              (json_int_t)crm_sql_column_int64(st, 1), sum_key,
                              (json_int_t)crm_sql_column_int64(st, 2));
        if (money) {
            char m[64];
            json_object_set_new(e, "amount_text",
                                json_string(loy_money(ctx, crm_sql_column_int64(st, 2), m,
                                                      sizeof m)));
        }
        json_array_append_new(arr, e);
    }
    crm_sql_finalize(st);
    return step < 0 ? loy_fail_db(ctx, "reading the redemptions") : CRM_OK;
}

/* "12.5 %" of num / den (one decimal, rounded half away from zero). */
static void percent(int64_t num, int64_t den, char *buf, size_t size)
{
    int64_t per_mille = 0;
    if (den <= 0 || loy_div_round(num * 1000, den, &per_mille) != 0) {
        snprintf(buf, size, "-");
        return;
    }
    snprintf(buf, size, "%lld.%lld %%", (long long)(per_mille / 10), (long long)(per_mille % 10));
}

/* Share of customers (a paid order) with two or more paid orders, among
 * members (member = 1) or the others. */
static void repurchase(crm_plugin_ctx *ctx, int member, int64_t *buyers, int64_t *again)
{
    static const char *const sql =
        "SELECT count(*), coalesce(sum(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0) FROM"
        " (SELECT o.contact_id, count(*) AS n FROM orders o WHERE o.status = 'paid' GROUP BY"
        " o.contact_id) c WHERE (CASE WHEN EXISTS (SELECT 1 FROM loyalty_members m WHERE"
        " m.contact_id = c.contact_id) THEN 1 ELSE 0 END) = ?1";
    crm_stmt *st = loy_prep(ctx, sql, 1, (int64_t)member);
    *buyers = *again = 0;
    if (st && crm_sql_step(st) == CRM_SQL_ROW) {
        *buyers = crm_sql_column_int64(st, 0);
        *again = crm_sql_column_int64(st, 1);
    }
    crm_sql_finalize(st);
}

int loy_report_json(crm_plugin_ctx *ctx, int64_t at, json_t **out)
{
    (void)at;
    json_t *j = json_object(), *m = json_array(), *red = json_array(), *don = json_array();
    json_object_set_new(j, "members_per_tier", members_per_tier(ctx));
    int rc = months(ctx, m);
    json_object_set_new(j, "months", m);
    int64_t earned = loy_scalar(ctx, 0, "SELECT coalesce(sum(points), 0) FROM loyalty_entries"
                                        " WHERE kind = 'earn'", 0);
    int64_t expired = -loy_scalar(ctx, 0, "SELECT coalesce(sum(points), 0) FROM loyalty_entries"
                                          " WHERE kind = 'expire'", 0);
    /* approved and pending: what the lots still hold, less negative balances */
    int64_t outstanding = loy_scalar(ctx, 0, "SELECT coalesce(sum(remaining), 0) FROM"
                                             " loyalty_lots WHERE expired_at IS NULL", 0) +
                          loy_scalar(ctx, 0, "SELECT coalesce(sum(points), 0) FROM"
                                             " loyalty_entries WHERE kind = 'clawback'", 0);
    char buf[64];
    json_object_set_new(j, "earned", json_integer(earned));
    json_object_set_new(j, "expired", json_integer(expired));
    json_object_set_new(j, "outstanding_points", json_integer(outstanding));
    json_object_set_new(j, "liability", json_integer(loy_points_money(ctx, outstanding)));
    json_object_set_new(j, "currency", json_string(PROG(ctx)->currency));
    json_object_set_new(j, "liability_text",
                        json_string(loy_money(ctx, loy_points_money(ctx, outstanding), buf,
                                              sizeof buf)));
    percent(expired, earned, buf, sizeof buf);
    json_object_set_new(j, "breakage_text", json_string(buf));
    if (rc == CRM_OK)
        rc = grouped(ctx, "SELECT reward, count(*), coalesce(sum(cost), 0) FROM"
                          " loyalty_redemptions GROUP BY reward ORDER BY reward",
                     "reward", "points", 0, red);
    json_object_set_new(j, "redemptions", red);
    if (rc == CRM_OK)
        rc = grouped(ctx, "SELECT cause, count(*), coalesce(sum(value), 0) FROM"
                          " loyalty_redemptions WHERE kind = 'donation' GROUP BY cause ORDER BY"
                          " cause", "cause", "amount", 1, don);
    json_object_set_new(j, "donations", don);
    int64_t b1, a1, b0, a0;
    repurchase(ctx, 1, &b1, &a1);
    repurchase(ctx, 0, &b0, &a0);
    json_object_set_new(j, "repurchase_members",
                        json_pack("{sI sI}", "customers", (json_int_t)b1, "repeat", (json_int_t)a1));
    json_object_set_new(j, "repurchase_non_members",
                        json_pack("{sI sI}", "customers", (json_int_t)b0, "repeat", (json_int_t)a0));
    percent(a1, b1, buf, sizeof buf);
    json_object_set_new(j, "repurchase_members_text", json_string(buf));
    percent(a0, b0, buf, sizeof buf);
    json_object_set_new(j, "repurchase_non_members_text", json_string(buf));
    if (rc != CRM_OK) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return CRM_OK;
}

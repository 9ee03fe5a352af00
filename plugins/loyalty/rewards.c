/* loyalty plugin — the catalogue redeemed: balance, tier, VIP club, stock
 * and per-contact limits checked, the cost drawn FIFO, the redemption (and
 * a voucher's code) recorded, all in the caller's one transaction. An order
 * carrying a voucher's code in one of its lines (the line's sku) uses it. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

/* "LOY-XXXX-XXXX" from the system's random source: codes are not guessable
 * from one another; the id keeps a fallback unique. */
static void voucher_code(int64_t redemption, char *buf, size_t size)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char r[8] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(r, 1, sizeof r, f) : 0;
    if (f)
        fclose(f);
    uint64_t x = (uint64_t)redemption * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < sizeof r; i++)
        x ^= (uint64_t)(i < got ? r[i] : 0) << (8 * i);
    char c[9];
    for (int i = 0; i < 8; i++, x >>= 5)
        c[i] = alphabet[x & 31];
    c[8] = 0;
    snprintf(buf, size, "LOY-%.4s-%.4s-%lld", c, c + 4, (long long)redemption);
}

static int refuse(crm_plugin_ctx *ctx, const char *fmt, const char *a, const char *b)
{
    crm_set_error(ctx, fmt, a, b);
    return CRM_EINVAL;
}

/* The tiers a reward is for, "gold, platinum", into buf. */
static void tier_list(crm_plugin_ctx *ctx, unsigned mask, char *buf, size_t size)
{
    buf[0] = 0;
    for (size_t i = 0; i < PROG(ctx)->nlevels; i++)
        if (mask & (1u << i))
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? ", " : "",
                     PROG(ctx)->levels[i].name);
}

static int64_t count_redemptions(crm_plugin_ctx *ctx, const char *reward, int64_t cid)
{
    crm_stmt *st = NULL;
    int64_t n = 0;
    if (crm_sql_prepare(ctx, "SELECT count(*) FROM loyalty_redemptions WHERE reward = ?1 AND"
                             " (?2 = 0 OR contact_id = ?2)", &st) != CRM_OK)
        return -1;
    crm_sql_bind_text(st, 1, reward);
    crm_sql_bind_int64(st, 2, cid);
    if (crm_sql_step(st) == CRM_SQL_ROW)
        n = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return n;
}

/* Tier, VIP, stock and limit: CRM_OK or CRM_EINVAL naming the rule. */
static int eligible(crm_plugin_ctx *ctx, int64_t cid, const loy_reward *r, int64_t at)
{
    char buf[256];
    size_t tier = loy_tier_of(ctx, cid);
    if (r->tier_mask && !(r->tier_mask & (1u << tier))) {
        tier_list(ctx, r->tier_mask, buf, sizeof buf);
        return refuse(ctx, "this reward is for the tiers %s; the contact is %s", buf,
                      PROG(ctx)->levels[tier].name);
    }
    if (r->vip_only && !loy_is_vip(ctx, cid, at))
        return refuse(ctx, "%s is for VIP club members only (top spenders)%s", r->name, "");
    if (r->stock >= 0 && count_redemptions(ctx, r->name, 0) >= r->stock)
        return refuse(ctx, "%s is out of stock%s", r->name, "");
    if (r->per_contact > 0 && count_redemptions(ctx, r->name, cid) >= r->per_contact) {
        snprintf(buf, sizeof buf, "%lld", (long long)r->per_contact);
        return refuse(ctx, "the contact already redeemed %s the most times allowed (%s)",
                      r->name, buf);
    }
    return CRM_OK;
}

static int add_voucher(crm_plugin_ctx *ctx, int64_t rid, int64_t cid, const loy_reward *r,
                       int64_t at)
{
    char code[48];
    voucher_code(rid, code, sizeof code);
    crm_stmt *st = loy_prep(ctx,
                            "INSERT INTO loyalty_vouchers(redemption_id, contact_id, value,"
                            " expires_at, code, currency) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                            3, rid, cid, r->value);
    if (!st)
        return loy_fail_db(ctx, "issuing the voucher");
    if (r->valid_for)
        crm_sql_bind_int64(st, 4, at + r->valid_for);
    else
        crm_sql_bind_null(st, 4);
    crm_sql_bind_text(st, 5, code);
    crm_sql_bind_text(st, 6, PROG(ctx)->currency);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? loy_fail_db(ctx, "issuing the voucher") : CRM_OK;
}

static int add_redemption(crm_plugin_ctx *ctx, int64_t op, int64_t cid, const loy_reward *r,
                          int64_t at, int64_t *rid)
{
    crm_stmt *st = loy_prep(ctx,
                            "INSERT INTO loyalty_redemptions(op_id, contact_id, cost, value, at,"
                            " reward, kind, cause) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            5, op, cid, r->cost, r->value, at);
    if (!st)
        return loy_fail_db(ctx, "recording the redemption");
    crm_sql_bind_text(st, 6, r->name);
    crm_sql_bind_text(st, 7, loy_kind_name(r->kind));
    if (r->cause[0])
        crm_sql_bind_text(st, 8, r->cause);
    else
        crm_sql_bind_null(st, 8);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return loy_fail_db(ctx, "recording the redemption");
    *rid = crm_sql_last_insert_id(ctx);
    return CRM_OK;
}

int loy_redeem(crm_plugin_ctx *ctx, int64_t cid, const char *name, const char *key, int64_t at,
               int64_t *rid)
{
    const loy_reward *r = loy_find_reward(ctx, name);
    int64_t op = 0;
    if (!r) {
        crm_set_error(ctx, "no reward '%s' (see crm loyalty rewards)", name);
        return CRM_ENOTFOUND;
    }
    if (loy_op_exists(ctx, key, &op)) { /* the same request again: the first answer */
        *rid = loy_scalar(ctx, 0, "SELECT id FROM loyalty_redemptions WHERE op_id = ?1", 1, op);
        return CRM_OK;
    }
    if (!loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_members WHERE contact_id = ?1", 1, cid)) {
        crm_set_error(ctx, "contact %lld is not a member yet (no points earned)", (long long)cid);
        return CRM_EINVAL;
    }
    int rc = eligible(ctx, cid, r, at);
    if (rc == CRM_OK)
        rc = loy_draw(ctx, cid, r->cost, key, "spend", r->name, at, &op);
    if (rc == CRM_OK)
        rc = add_redemption(ctx, op, cid, r, at, rid);
    if (rc == CRM_OK && r->kind == LOY_VOUCHER)
        rc = add_voucher(ctx, *rid, cid, r, at);
    if (rc == CRM_OK) {
        json_t *j = json_pack("{sI ss ss sI sI}", "contact_id", (json_int_t)cid, "reward",
                              r->name, "kind", loy_kind_name(r->kind), "redemption_id",
                              (json_int_t)*rid, "points", (json_int_t)r->cost);
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        rc = s ? crm_emit_event(ctx, "loyalty.reward_redeemed", s) : CRM_ENOMEM;
        free(s);
    }
    return rc;
}

int loy_vouchers_use(crm_plugin_ctx *ctx, int64_t order_id, int64_t at)
{
    int64_t used = loy_scalar(ctx, 0,
                              "SELECT count(*) FROM loyalty_vouchers WHERE used_order_id IS NULL"
                              " AND (expires_at IS NULL OR expires_at >= ?2) AND code IN"
                              " (SELECT upper(sku) FROM order_lines WHERE order_id = ?1)",
                              2, order_id, at);
    if (used <= 0)
        return CRM_OK;
    int rc = loy_run(ctx,
                     "UPDATE loyalty_vouchers SET used_order_id = ?1, used_at = ?2 WHERE"
                     " used_order_id IS NULL AND (expires_at IS NULL OR expires_at >= ?2) AND"
                     " code IN (SELECT upper(sku) FROM order_lines WHERE order_id = ?1)",
                     2, order_id, at);
    if (rc == CRM_OK) {
        json_t *j = json_pack("{sI sI}", "order_id", (json_int_t)order_id, "vouchers",
                              (json_int_t)used);
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        rc = s ? crm_emit_event(ctx, "loyalty.voucher_used", s) : CRM_ENOMEM;
        free(s);
    }
    return rc;
}

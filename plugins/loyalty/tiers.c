/* loyalty plugin — tiers: the value a member qualifies on over the window
 * (amount spent on paid orders, or points earned net of reversals), the
 * decision with grace and downgrade policy (ledger.c), loyalty.tier_changed,
 * and a per-member timer at the next window boundary or grace end. The VIP
 * club is a rank, not a threshold: the top N % by spend. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

static int64_t joined_of(crm_plugin_ctx *ctx, int64_t cid)
{
    return loy_scalar(ctx, 0, "SELECT joined_at FROM loyalty_members WHERE contact_id = ?1", 1,
                      cid);
}

/* Spend of paid orders in the program's currency placed in [from, to], net
 * of the partial refunds recorded by `crm loyalty refund` (cancelled and
 * refunded orders are no longer paid, so they count nothing). Two queries:
 * the orders' sum reads orders_contact alone, where a join to the (rare)
 * refunds cost a lookup per order: a member with 5,000 orders paid that on
 * every order it replayed. */
static int64_t sum_of(crm_plugin_ctx *ctx, const char *sql, int64_t cid, int64_t from, int64_t to)
{
    crm_stmt *st = loy_kept(ctx, sql, 3, cid, from, to);
    int64_t v = 0;
    if (st) {
        crm_sql_bind_text(st, 4, PROG(ctx)->currency);
        if (crm_sql_step(st) == CRM_SQL_ROW)
            v = crm_sql_column_int64(st, 0);
        loy_cached_done(ctx, sql, st);
    }
    return v;
}

static int64_t spent_between(crm_plugin_ctx *ctx, int64_t cid, int64_t from, int64_t to)
{
    static const char orders[] =
        "SELECT coalesce(sum(total), 0) FROM orders WHERE contact_id = ?1 AND"
        " placed_at >= ?2 AND placed_at <= ?3 AND status = 'paid' AND currency = ?4";
    static const char refunds[] =
        "SELECT coalesce(sum(r.refunded), 0) FROM loyalty_order_refunds r"
        " JOIN orders o ON o.id = r.order_id WHERE r.contact_id = ?1 AND"
        " o.placed_at >= ?2 AND o.placed_at <= ?3 AND o.status = 'paid' AND o.currency = ?4";
    return sum_of(ctx, orders, cid, from, to) - sum_of(ctx, refunds, cid, from, to);
}

#define QUALIFYING_OPS "kind IN ('order', 'lua', 'earn', 'referral', 'reverse')"

int64_t loy_tier_value(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    int64_t from = loy_window_start(PROG(ctx)->window, at, joined_of(ctx, cid));
    if (!PROG(ctx)->qualify_on_points)
        return spent_between(ctx, cid, from, at);
    return loy_scalar(ctx, 0,
                      "SELECT coalesce(sum(points), 0) FROM loyalty_ops WHERE contact_id = ?1"
                      " AND at >= ?2 AND at <= ?3 AND " QUALIFYING_OPS,
                      3, cid, from, at);
}

size_t loy_tier_of(crm_plugin_ctx *ctx, int64_t cid)
{
    int64_t t = loy_scalar(ctx, 0, "SELECT tier FROM loyalty_members WHERE contact_id = ?1", 1,
                           cid);
    return t >= 0 && (size_t)t < PROG(ctx)->nlevels ? (size_t)t : 0;
}

/* When the value can next fall without any new order: the oldest counted
 * order (or operation) leaving a rolling window, or the window's end. */
static int64_t next_boundary(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    const loy_program *p = PROG(ctx);
    if (p->window != LOY_ROLLING_12_MONTHS)
        return loy_window_end(p->window, at, joined_of(ctx, cid));
    int64_t from = at - 365 * (int64_t)LOY_DAY;
    int64_t oldest =
        p->qualify_on_points
            ? loy_scalar(ctx, 0, "SELECT min(at) FROM loyalty_ops WHERE contact_id = ?1 AND"
                                 " at >= ?2 AND points > 0 AND " QUALIFYING_OPS, 2, cid, from)
            : loy_scalar(ctx, 0, "SELECT min(placed_at) FROM orders WHERE contact_id = ?1 AND"
                                 " status = 'paid' AND placed_at >= ?2", 2, cid, from);
    return oldest ? oldest + 365 * (int64_t)LOY_DAY + 1 : 0;
}

static int schedule_tier(crm_plugin_ctx *ctx, int64_t cid, int64_t at, int64_t grace_until)
{
    int64_t due = next_boundary(ctx, cid, at);
    if (grace_until && (!due || grace_until < due))
        due = grace_until;
    char key[40];
    snprintf(key, sizeof key, "tier:%lld", (long long)cid);
    if (!due || PROG(ctx)->nlevels < 2) /* one level: nothing ever changes */
        return crm_cancel(ctx, key, NULL);
    return crm_schedule(ctx, key, due, NULL);
}

static const char *level_name(crm_plugin_ctx *ctx, size_t i)
{
    return PROG(ctx)->levels[i].name;
}

int loy_tier_update(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    if (!loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_members WHERE contact_id = ?1", 1, cid))
        return CRM_OK;
    const loy_program *p = PROG(ctx);
    size_t current = loy_tier_of(ctx, cid), n = p->nlevels;
    int64_t mins[LOY_MAX_LEVELS];
    for (size_t i = 0; i < n; i++)
        mins[i] = p->levels[i].min;
    size_t qualified = loy_tier_qualified(mins, n, loy_tier_value(ctx, cid, at));
    int64_t grace = loy_scalar(ctx, 0, "SELECT grace_until FROM loyalty_members WHERE"
                                       " contact_id = ?1", 1, cid);
    size_t next = loy_tier_decide(current, qualified, at, p->grace, p->downgrade, &grace);
    int rc = loy_run(ctx,
                     "UPDATE loyalty_members SET tier = ?2, grace_until = nullif(?3, 0),"
                     " tier_since = CASE WHEN tier <> ?2 THEN ?4 ELSE tier_since END"
                     " WHERE contact_id = ?1",
                     4, cid, (int64_t)next, grace, at);
    if (rc == CRM_OK && next != current) {
        json_t *j = json_pack("{sI ss ss ss}", "contact_id", (json_int_t)cid, "from",
                              level_name(ctx, current), "to", level_name(ctx, next), "direction",
                              next > current ? "up" : "down");
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        rc = s ? crm_emit_event(ctx, "loyalty.tier_changed", s) : CRM_ENOMEM;
        free(s);
    }
    if (rc == CRM_OK)
        rc = schedule_tier(ctx, cid, at, grace);
    return rc;
}

/* ---- the VIP club -------------------------------------------------------------- */

#define VIP_SPEND                                                                          \
    "WITH s AS (SELECT contact_id, sum(total) AS spent FROM orders WHERE status = 'paid'"  \
    " AND currency = ?3 AND placed_at >= ?1 AND placed_at <= ?2 GROUP BY contact_id) "

int loy_is_vip(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    const loy_program *p = PROG(ctx);
    if (p->vip_percent <= 0)
        return 0;
    /* one window for everyone: ranks compare like with like (anniversary
     * windows differ per member, so the club ranks them on a rolling year) */
    loy_window w = p->vip_window == LOY_ANNIVERSARY ? LOY_ROLLING_12_MONTHS : p->vip_window;
    crm_stmt *st = loy_prep(ctx,
                            VIP_SPEND "SELECT (SELECT count(*) FROM s),"
                            " (SELECT count(*) FROM s WHERE spent > (SELECT spent FROM s WHERE"
                            " contact_id = ?4)), (SELECT spent FROM s WHERE contact_id = ?4)",
                            2, loy_window_start(w, at, 0), at);
    int vip = 0;
    if (st) {
        crm_sql_bind_text(st, 3, p->currency);
        crm_sql_bind_int64(st, 4, cid);
        if (crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_type(st, 2) != CRM_SQL_NULL) {
            int64_t n = crm_sql_column_int64(st, 0), above = crm_sql_column_int64(st, 1);
            /* ties at the cut all get in: the rank is "how many spent more" */
            vip = crm_sql_column_int64(st, 2) > 0 && above < loy_vip_size(n, p->vip_percent);
        }
        crm_sql_finalize(st);
    }
    return vip;
}

/* loyalty plugin — what it does when something happens: order events earn,
 * use vouchers and reverse (durable subscriber from the first event, so a
 * base that enables the plugin catches up on its history, and a replay
 * earns nothing twice: every operation has its key), and the timers fire
 * lot approvals, expiry warnings, expiries and tier boundaries. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

typedef struct order_row {
    int64_t id, contact_id, total, placed_at, created_at, updated_at;
    char currency[8];
} order_row;

static int load_order(crm_plugin_ctx *ctx, int64_t id, order_row *o)
{
    memset(o, 0, sizeof *o);
    crm_stmt *st = loy_prep(ctx,
                            "SELECT contact_id, total, placed_at, created_at, updated_at, currency"
                            " FROM orders WHERE id = ?1",
                            1, id);
    if (!st)
        return loy_fail_db(ctx, "reading the order");
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW) {
        o->id = id;
        o->contact_id = crm_sql_column_int64(st, 0);
        o->total = crm_sql_column_int64(st, 1);
        o->placed_at = crm_sql_column_int64(st, 2);
        o->created_at = crm_sql_column_int64(st, 3);
        o->updated_at = crm_sql_column_int64(st, 4);
        const char *c = crm_sql_column_text(st, 5);
        snprintf(o->currency, sizeof o->currency, "%s", c ? c : "");
    }
    crm_sql_finalize(st);
    return rc < 0 ? loy_fail_db(ctx, "reading the order") : CRM_OK;
}

/* Points from the configured Lua score rules, each its own lot. */
static int earn_lua(crm_plugin_ctx *ctx, const order_row *o, int64_t at, int64_t pend,
                    int64_t exp)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < PROG(ctx)->nlua; i++) {
        char *result = NULL, *error = NULL, key[64], reason[300];
        int64_t pts = 0;
        int done;
        rc = crm_call_rule(ctx, PROG(ctx)->lua[i], o->contact_id, &result, &error, NULL);
        if (rc == CRM_OK && crm_json_get_int(ctx, result, "result", &pts) != CRM_OK)
            pts = 0; /* not a whole number: the rule earns nothing */
        if (rc != CRM_OK)
            crm_set_error(ctx, "loyalty earn rule %s: %s", PROG(ctx)->lua[i],
                          error ? error : crm_last_error(ctx));
        snprintf(key, sizeof key, "order:%lld:lua:%zu", (long long)o->id, i);
        snprintf(reason, sizeof reason, "rule %s", PROG(ctx)->lua[i]);
        if (rc == CRM_OK && pts > 0)
            rc = loy_earn(ctx, o->contact_id, pts, key, "lua", reason, o->id, at, pend, exp,
                          &done);
        crm_free(ctx, result);
        crm_free(ctx, error);
    }
    return rc;
}

/* order.paid: the order's points at the multiplier of the tier held now. */
static int earn_order(crm_plugin_ctx *ctx, const order_row *o, int64_t now)
{
    const loy_program *p = PROG(ctx);
    if (!p->auto_enrol &&
        !loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_members WHERE contact_id = ?1", 1,
                    o->contact_id))
        return CRM_OK; /* not a member: the program does not enrol by itself */
    if (strcmp(o->currency, p->currency) != 0) {
        crm_log(ctx, CRM_LOG_INFO, "order %lld is in %s, the program counts %s: no points",
                (long long)o->id, o->currency, p->currency);
        return loy_member_ensure(ctx, o->contact_id, now);
    }
    /* an order paid after it was placed earns from the payment; an imported
     * paid order from when it was placed */
    int64_t at = o->updated_at > o->created_at ? o->updated_at : o->placed_at;
    int64_t pend = at + p->pending, exp = p->expire_after ? at + p->expire_after : 0;
    size_t tier = loy_tier_of(ctx, o->contact_id);
    int64_t pts = 0;
    if (p->earn_points &&
        loy_order_points(o->total, p->earn_per, p->earn_points, p->levels[tier].mult_milli,
                         &pts) != 0) {
        crm_set_error(ctx, "order %lld: the points overflow", (long long)o->id);
        return CRM_EINVAL;
    }
    pts += p->order_points;
    char key[48];
    int done;
    snprintf(key, sizeof key, "order:%lld", (long long)o->id);
    int rc = pts > 0 ? loy_earn(ctx, o->contact_id, pts, key, "order", "order paid", o->id, at,
                                pend, exp, &done)
                     : loy_member_ensure(ctx, o->contact_id, at);
    if (rc == CRM_OK)
        rc = earn_lua(ctx, o, at, pend, exp);
    return rc;
}

/* order.cancelled / order.refunded: everything the order earned goes back. */
static int reverse_order(crm_plugin_ctx *ctx, const order_row *o, int64_t now)
{
    char key[48];
    snprintf(key, sizeof key, "reverse:%lld:full", (long long)o->id);
    int rc = loy_run(ctx, "DELETE FROM loyalty_order_refunds WHERE order_id = ?1", 1, o->id);
    if (rc == CRM_OK)
        rc = loy_run(ctx, "INSERT INTO loyalty_order_refunds(order_id, contact_id, refunded,"
                          " total) VALUES(?1, ?2, ?3, ?3)", 3, o->id, o->contact_id, o->total);
    if (rc == CRM_OK)
        rc = loy_reverse_order(ctx, o->id, o->total, o->total, key, now);
    return rc;
}

/* What each order event does to the ledger; other order.* events (edits,
 * lines) are skipped before the order is read. */
static const struct order_effect {
    const char *type;
    int vouchers; /* marks the vouchers the order carries as used */
    int (*ledger)(crm_plugin_ctx *, const order_row *, int64_t);
    int tiers; /* recomputes the contact's tier */
} order_effects[] = {
    {"order.placed", 1, NULL, 0},
    {"order.paid", 1, earn_order, 1},
    {"order.cancelled", 0, reverse_order, 1},
    {"order.refunded", 0, reverse_order, 1},
};

static const struct order_effect *order_effect_of(const char *type)
{
    for (size_t i = 0; type && i < sizeof order_effects / sizeof order_effects[0]; i++)
        if (!strcmp(order_effects[i].type, type))
            return &order_effects[i];
    return NULL;
}

int loy_on_order(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    const struct order_effect *fx = order_effect_of(crm_event_type(ev));
    if (!fx || !LOY(ctx)->configured)
        return CRM_OK;
    int64_t id = 0, now = crm_now(ctx);
    if (crm_json_get_int(ctx, crm_event_payload(ev), "order_id", &id) != CRM_OK || id <= 0)
        return CRM_OK;
    order_row o;
    int rc = load_order(ctx, id, &o);
    if (rc != CRM_OK || !o.id)
        return rc; /* erased since: nothing to do */
    if (fx->vouchers)
        rc = loy_vouchers_use(ctx, o.id, o.placed_at);
    if (rc == CRM_OK && fx->ledger)
        rc = fx->ledger(ctx, &o, now);
    if (rc == CRM_OK && fx->tiers)
        rc = loy_tier_update(ctx, o.contact_id, now);
    return rc;
}

int loy_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *t, void *ud)
{
    (void)ud;
    static const struct {
        const char *prefix;
        int (*fn)(crm_plugin_ctx *, int64_t, int64_t);
    } kinds[] = {
        {"approve:", loy_approve_lot},
        {"warn:", loy_warn_lot},
        {"expire:", loy_expire_lot},
        {"tier:", loy_tier_update},
    };
    if (!LOY(ctx)->configured)
        return CRM_OK;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (!strncmp(t->key, kinds[i].prefix, n))
            return kinds[i].fn(ctx, strtoll(t->key + n, NULL, 10), t->due_at);
    }
    crm_log(ctx, CRM_LOG_WARN, "timer %s: not a loyalty timer, ignored", t->key);
    return CRM_OK;
}

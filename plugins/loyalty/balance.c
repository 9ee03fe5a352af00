/* loyalty plugin — balances as sums over the entries (never a counter that
 * could drift) and `crm loyalty check`, the ledger's invariants as queries. */
#include <string.h>

#include "loy_int.h"

int loy_balance_get(crm_plugin_ctx *ctx, int64_t cid, loy_balance *b)
{
    memset(b, 0, sizeof *b);
    crm_stmt *st = loy_prep(
        ctx,
        "SELECT coalesce(sum(CASE WHEN e.kind = 'earn' THEN e.points END), 0),"
        " -coalesce(sum(CASE WHEN e.kind = 'spend' THEN e.points END), 0),"
        " -coalesce(sum(CASE WHEN e.kind = 'expire' THEN e.points END), 0),"
        " -coalesce(sum(CASE WHEN e.kind IN ('reverse', 'clawback', 'settle') THEN e.points END),"
        "  0),"
        " coalesce(sum(CASE WHEN e.lot_id IS NOT NULL AND l.approved_at IS NULL THEN e.points"
        "  END), 0),"
        " coalesce(sum(CASE WHEN (e.lot_id IS NOT NULL AND l.approved_at IS NOT NULL) OR"
        "  e.kind = 'clawback' THEN e.points END), 0),"
        " -coalesce(sum(CASE WHEN e.kind = 'debt' THEN e.points END), 0)"
        " FROM loyalty_entries e LEFT JOIN loyalty_lots l ON l.id = e.lot_id"
        " WHERE e.contact_id = ?1",
        1, cid);
    if (!st)
        return loy_fail_db(ctx, "reading the balance");
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW) {
        b->lifetime = crm_sql_column_int64(st, 0);
        b->spent = crm_sql_column_int64(st, 1);
        b->expired = crm_sql_column_int64(st, 2);
        b->reversed = crm_sql_column_int64(st, 3);
        b->pending = crm_sql_column_int64(st, 4);
        b->approved = crm_sql_column_int64(st, 5);
        b->debt = crm_sql_column_int64(st, 6);
    }
    crm_sql_finalize(st);
    return rc < 0 ? loy_fail_db(ctx, "reading the balance") : CRM_OK;
}

/* One invariant: a query counting the rows that break it, and the first
 * offender's id. */
typedef struct invariant {
    const char *what;
    const char *count_sql;
    const char *example_sql;
} invariant;

static const invariant invariants[] = {
    {"a lot's remaining differs from the sum of its entries",
     "SELECT count(*) FROM loyalty_lots l WHERE l.remaining <>"
     " (SELECT coalesce(sum(points), 0) FROM loyalty_entries WHERE lot_id = l.id)",
     "SELECT min(l.id) FROM loyalty_lots l WHERE l.remaining <>"
     " (SELECT coalesce(sum(points), 0) FROM loyalty_entries WHERE lot_id = l.id)"},
    {"a lot is below zero or above its points",
     "SELECT count(*) FROM loyalty_lots WHERE remaining < 0 OR remaining > points",
     "SELECT min(id) FROM loyalty_lots WHERE remaining < 0 OR remaining > points"},
    {"a lot's earn entry differs from its points",
     "SELECT count(*) FROM loyalty_lots l WHERE l.points <> (SELECT coalesce(sum(points), 0)"
     " FROM loyalty_entries WHERE lot_id = l.id AND kind = 'earn')",
     "SELECT min(l.id) FROM loyalty_lots l WHERE l.points <> (SELECT coalesce(sum(points), 0)"
     " FROM loyalty_entries WHERE lot_id = l.id AND kind = 'earn')"},
    {"an operation's entries do not balance to its points",
     "SELECT count(*) FROM loyalty_ops o WHERE o.points <> (SELECT coalesce(sum(points), 0)"
     " FROM loyalty_entries WHERE op_id = o.id)",
     "SELECT min(o.id) FROM loyalty_ops o WHERE o.points <> (SELECT coalesce(sum(points), 0)"
     " FROM loyalty_entries WHERE op_id = o.id)"},
    {"an entry belongs to another contact than its operation or lot",
     "SELECT count(*) FROM loyalty_entries e JOIN loyalty_ops o ON o.id = e.op_id"
     " LEFT JOIN loyalty_lots l ON l.id = e.lot_id"
     " WHERE o.contact_id <> e.contact_id OR (l.id IS NOT NULL AND l.contact_id <> e.contact_id)",
     "SELECT min(e.id) FROM loyalty_entries e JOIN loyalty_ops o ON o.id = e.op_id"
     " LEFT JOIN loyalty_lots l ON l.id = e.lot_id"
     " WHERE o.contact_id <> e.contact_id OR (l.id IS NOT NULL AND l.contact_id <> e.contact_id)"},
    {"an expired lot still holds points",
     "SELECT count(*) FROM loyalty_lots WHERE expired_at IS NOT NULL AND remaining <> 0",
     "SELECT min(id) FROM loyalty_lots WHERE expired_at IS NOT NULL AND remaining <> 0"},
    {"a spend drew from a lot not approved yet, or expired",
     "SELECT count(*) FROM loyalty_entries e JOIN loyalty_lots l ON l.id = e.lot_id"
     " WHERE e.kind IN ('spend', 'adjust') AND e.points < 0 AND (l.approved_at IS NULL OR"
     " l.approved_at > e.at OR (l.expires_at IS NOT NULL AND l.expires_at <= e.at))",
     "SELECT min(e.id) FROM loyalty_entries e JOIN loyalty_lots l ON l.id = e.lot_id"
     " WHERE e.kind IN ('spend', 'adjust') AND e.points < 0 AND (l.approved_at IS NULL OR"
     " l.approved_at > e.at OR (l.expires_at IS NOT NULL AND l.expires_at <= e.at))"},
    {"a contact's future_earnings debt is negative (more settled than owed)",
     "SELECT count(*) FROM (SELECT contact_id FROM loyalty_entries WHERE kind = 'debt'"
     " GROUP BY contact_id HAVING sum(points) > 0) d",
     "SELECT min(contact_id) FROM (SELECT contact_id FROM loyalty_entries WHERE kind = 'debt'"
     " GROUP BY contact_id HAVING sum(points) > 0) d"},
    {"a voucher was used twice or by no redemption",
     "SELECT count(*) FROM loyalty_vouchers v WHERE NOT EXISTS (SELECT 1 FROM"
     " loyalty_redemptions r WHERE r.id = v.redemption_id)",
     "SELECT min(redemption_id) FROM loyalty_vouchers v WHERE NOT EXISTS (SELECT 1 FROM"
     " loyalty_redemptions r WHERE r.id = v.redemption_id)"},
    {"a redemption's operation is not a spend of its cost",
     "SELECT count(*) FROM loyalty_redemptions r JOIN loyalty_ops o ON o.id = r.op_id"
     " WHERE o.points <> -r.cost OR o.kind <> 'spend'",
     "SELECT min(r.id) FROM loyalty_redemptions r JOIN loyalty_ops o ON o.id = r.op_id"
     " WHERE o.points <> -r.cost OR o.kind <> 'spend'"},
};

int loy_check(crm_plugin_ctx *ctx, FILE *out, int64_t *problems)
{
    *problems = 0;
    for (size_t i = 0; i < sizeof invariants / sizeof invariants[0]; i++) {
        int64_t n = loy_scalar(ctx, -1, invariants[i].count_sql, 0);
        if (n < 0)
            return loy_fail_db(ctx, "checking the ledger");
        if (n > 0 && out)
            fprintf(out, "broken: %s (%lld rows; first id %lld)\n", invariants[i].what,
                    (long long)n, (long long)loy_scalar(ctx, 0, invariants[i].example_sql, 0));
        *problems += n;
    }
    return CRM_OK;
}

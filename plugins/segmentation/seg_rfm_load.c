/* segmentation plugin — RFM metrics from the orders table: one sequential
 * scan, aggregation in C. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

void seg_pick_currency(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, char *out)
{
    if (SEG(ctx)->currency[0]) {
        snprintf(out, 8, "%s", SEG(ctx)->currency);
        return;
    }
    snprintf(out, 8, "EUR");
    crm_stmt *st = seg_prep(ctx,
                            "SELECT currency FROM orders WHERE status IN ('placed','paid') AND "
                            "placed_at < ?1 AND placed_at >= ?2 GROUP BY currency "
                            "ORDER BY count(*) DESC, currency LIMIT 1",
                            2, as_of, start);
    if (st && crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_text(st, 0))
        snprintf(out, 8, "%s", crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
}

/* One contact's qualifying orders (the incremental path: the contact's
 * index orders_contact serves it). */
static int rfm_load_one(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, int64_t only,
                        seg_rfm_set *set)
{
    crm_stmt *st = seg_prep(ctx,
                            "SELECT placed_at, total, currency FROM orders"
                            " WHERE contact_id = ?3 AND status IN ('placed','paid') AND"
                            " placed_at < ?1 AND placed_at >= ?2",
                            3, as_of, start, only);
    if (!st)
        return seg_fail_db(ctx, "reading orders");
    seg_rfm_row row = {.contact_id = only};
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        const char *cur = crm_sql_column_text(st, 2);
        if (!cur || strcmp(cur, set->currency) != 0) {
            set->skipped_orders++;
            continue;
        }
        int64_t at = crm_sql_column_int64(st, 0);
        if (row.frequency == 0 || at > row.last_at)
            row.last_at = at;
        row.frequency++;
        row.monetary += crm_sql_column_int64(st, 1);
    }
    crm_sql_finalize(st);
    if (rc < 0)
        return seg_fail_db(ctx, "reading orders");
    if (row.frequency == 0)
        return CRM_OK;
    if (!(set->rows = malloc(sizeof *set->rows)))
        return CRM_ENOMEM;
    set->rows[0] = row;
    set->n = set->cap = 1;
    return CRM_OK;
}

/* Grows *acc (indexed by contact id, *cap entries, zeroed) to hold `cid`:
 * a contact added since max(id) was read. */
static int grow_acc(seg_rfm_row **acc, size_t *cap, int64_t cid)
{
    size_t ncap = (size_t)cid * 2;
    seg_rfm_row *grown = realloc(*acc, ncap * sizeof *grown);
    if (!grown)
        return CRM_ENOMEM;
    memset(grown + *cap, 0, (ncap - *cap) * sizeof *grown);
    *acc = grown;
    *cap = ncap;
    return CRM_OK;
}

/* Adds one order to its contact's row; counts the contacts first seen. */
static void add_order(seg_rfm_row *r, int64_t cid, int64_t at, int64_t total, size_t *scored)
{
    if (r->frequency == 0) {
        r->contact_id = cid;
        r->last_at = at;
        (*scored)++;
    } else if (at > r->last_at) {
        r->last_at = at;
    }
    r->frequency++;
    r->monetary += total;
}

/* Copies the scored rows of acc into set->rows, in id order. */
static int compact(const seg_rfm_row *acc, size_t cap, size_t scored, seg_rfm_set *set)
{
    set->rows = malloc((scored ? scored : 1) * sizeof *set->rows);
    if (!set->rows)
        return CRM_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        if (acc[i].frequency)
            set->rows[set->n++] = acc[i];
    set->cap = scored;
    return CRM_OK;
}

/* Every contact's qualifying orders: one sequential scan of the orders table
 * (no ORDER BY: walking the contact index costs a random row lookup per order,
 * ~10x slower), aggregated in C into an array indexed by contact id (ids are
 * dense integer keys), then compacted in id order. The unary + keeps the
 * planner off the placed_at index for the same reason (valid SQL in
 * PostgreSQL too). */
static int rfm_load_all(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, seg_rfm_set *set)
{
    int64_t max_id = seg_scalar(ctx, 0, "SELECT max(id) FROM contacts", 0);
    size_t cap = (size_t)(max_id > 0 ? max_id : 0) + 1;
    seg_rfm_row *acc = calloc(cap, sizeof *acc);
    crm_stmt *st = acc ? seg_prep(ctx,
                                  "SELECT contact_id, placed_at, total, currency FROM orders"
                                  " WHERE status IN ('placed','paid') AND +placed_at < ?1 AND"
                                  " +placed_at >= ?2",
                                  2, as_of, start)
                       : NULL;
    if (!st) {
        free(acc);
        return acc ? seg_fail_db(ctx, "reading orders") : CRM_ENOMEM;
    }
    int rc;
    const char *want = set->currency;
    size_t scored = 0;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t cid = crm_sql_column_int64(st, 0);
        const char *cur = crm_sql_column_text(st, 3);
        if (!cur || strcmp(cur, want) != 0) {
            set->skipped_orders++;
            continue;
        }
        if (cid <= 0)
            continue;
        if ((size_t)cid >= cap && (rc = grow_acc(&acc, &cap, cid)) != CRM_OK)
            break;
        add_order(&acc[cid], cid, crm_sql_column_int64(st, 1), crm_sql_column_int64(st, 2),
                  &scored);
    }
    crm_sql_finalize(st);
    if (rc < 0) {
        free(acc);
        if (rc == CRM_ENOMEM) {
            crm_set_error(ctx, "out of memory loading orders");
            return CRM_ENOMEM;
        }
        return seg_fail_db(ctx, "reading orders");
    }
    rc = compact(acc, cap, scored, set);
    free(acc);
    return rc;
}

int seg_rfm_load(crm_plugin_ctx *ctx, int64_t as_of, int64_t window_days, const char *currency,
                 int64_t only, seg_rfm_set *set)
{
    memset(set, 0, sizeof *set);
    int64_t start = seg_rfm_window_start(as_of, window_days);
    if (currency)
        snprintf(set->currency, sizeof set->currency, "%s", currency);
    else
        seg_pick_currency(ctx, as_of, start, set->currency);
    int rc = only > 0 ? rfm_load_one(ctx, as_of, start, only, set)
                      : rfm_load_all(ctx, as_of, start, set);
    if (rc != CRM_OK)
        return rc;
    for (size_t i = 0; i < set->n; i++)
        set->rows[i].recency_days = seg_rfm_recency_days(set->rows[i].last_at, as_of);
    return CRM_OK;
}

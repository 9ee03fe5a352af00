/* segmentation plugin — RFM through the host: the qualifying orders
 * aggregated (one scan), the refresh writing only what changed, one contact
 * re-scored between refreshes, and the commands crm rfm refresh|list|show|grid.
 * The scoring itself is rfm.c (pure). */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* ---- RFM metrics from the orders table: one sequential
 * scan, aggregation in C. */

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

/* ---- RFM refresh: score every contact, compare with the
 * stored scores in memory and write only what changed; the cut points of the
 * latest refresh; one contact re-scored between refreshes. */

static const char *const upsert_sql =
    "INSERT INTO segmentation_rfm(contact_id, recency_days, frequency, monetary, last_order_at,"
    " r, f, m, segment, as_of, refresh_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT(contact_id) DO UPDATE SET recency_days = excluded.recency_days,"
    " frequency = excluded.frequency, monetary = excluded.monetary,"
    " last_order_at = excluded.last_order_at, r = excluded.r, f = excluded.f, m = excluded.m,"
    " segment = excluded.segment, as_of = excluded.as_of, refresh_id = excluded.refresh_id";

static const char *const delete_sql = "DELETE FROM segmentation_rfm WHERE contact_id = ?1";

static int store_row(crm_stmt *ins, const seg_rfm_row *r, const char *slug, int64_t as_of,
                     int64_t refresh)
{
    crm_sql_reset(ins);
    crm_sql_bind_int64(ins, 1, r->contact_id);
    crm_sql_bind_int64(ins, 2, r->recency_days);
    crm_sql_bind_int64(ins, 3, r->frequency);
    crm_sql_bind_int64(ins, 4, r->monetary);
    crm_sql_bind_int64(ins, 5, r->last_at);
    crm_sql_bind_int64(ins, 6, r->r);
    crm_sql_bind_int64(ins, 7, r->f);
    crm_sql_bind_int64(ins, 8, r->m);
    if (slug)
        crm_sql_bind_text(ins, 9, slug);
    else
        crm_sql_bind_null(ins, 9);
    crm_sql_bind_int64(ins, 10, as_of);
    crm_sql_bind_int64(ins, 11, refresh);
    int rc = crm_sql_step(ins);
    crm_sql_reset(ins);
    return rc < 0 ? rc : CRM_OK;
}

static int delete_row(crm_stmt *del, int64_t cid)
{
    crm_sql_reset(del);
    crm_sql_bind_int64(del, 1, cid);
    int rc = crm_sql_step(del);
    crm_sql_reset(del);
    return rc < 0 ? rc : CRM_OK;
}

/* ---- the comparison ----------------------------------------------------- */

/* One stored row that differs from the computation: row `idx` of the set
 * (SIZE_MAX: the contact is no longer scored) and the index of its stored
 * segment in the refresh's slug table (0 = none). */
typedef struct rfm_change {
    size_t idx;
    int64_t cid;
    uint32_t old;
} rfm_change;

typedef struct rfm_diff {
    rfm_change *v;
    size_t n, cap;
    size_t aged; /* rows where only recency_days moved: one UPDATE (age_stored) */
    char (*slugs)[SEG_NAME_MAX]; /* [0] = "" (no segment), then each stored slug seen */
    size_t nslugs, capslugs;
} rfm_diff;

static int diff_push(rfm_diff *d, size_t idx, int64_t cid, uint32_t old)
{
    if (d->n == d->cap) {
        size_t c = d->cap ? d->cap * 2 : 1024;
        rfm_change *nv = realloc(d->v, c * sizeof *nv);
        if (!nv)
            return CRM_ENOMEM;
        d->v = nv;
        d->cap = c;
    }
    d->v[d->n++] = (rfm_change){idx, cid, old};
    return CRM_OK;
}

/* The index of slug `text` (NULL = none) in d's slug table, added when new;
 * UINT32_MAX when out of memory. */
static uint32_t diff_slug(rfm_diff *d, const char *text)
{
    if (!text || !*text)
        return 0;
    for (size_t i = 1; i < d->nslugs; i++)
        if (!strcmp(d->slugs[i], text))
            return (uint32_t)i;
    if (d->nslugs == d->capslugs) {
        size_t c = d->capslugs * 2;
        char(*ns)[SEG_NAME_MAX] = realloc(d->slugs, c * sizeof *ns);
        if (!ns)
            return UINT32_MAX;
        d->slugs = ns;
        d->capslugs = c;
    }
    snprintf(d->slugs[d->nslugs], SEG_NAME_MAX, "%s", text);
    return (uint32_t)d->nslugs++;
}

/* Whether the stored row under st (columns as rfm_diff_stored selects them)
 * holds r's values, scores and segment, recency_days apart (it moves every
 * day for every contact: age_stored writes it in one statement). */
static int same_as_stored(crm_plugin_ctx *ctx, crm_stmt *st, const seg_rfm_row *r, const char *stored)
{
    const char *slug = seg_slug_of(ctx, r);
    return crm_sql_column_int64(st, 2) == r->frequency &&
           crm_sql_column_int64(st, 3) == r->monetary &&
           crm_sql_column_int64(st, 4) == r->last_at &&
           crm_sql_column_int64(st, 5) == r->r && crm_sql_column_int64(st, 6) == r->f &&
           crm_sql_column_int64(st, 7) == r->m &&
           (slug && stored ? !strcmp(slug, stored) : !slug && !stored);
}

/* Records a change of a stored row (segment `stored`); 1 when out of memory. */
static int push_stored(rfm_diff *d, size_t idx, int64_t cid, const char *stored)
{
    uint32_t old = diff_slug(d, stored);
    return old == UINT32_MAX || diff_push(d, idx, cid, old) != CRM_OK;
}

/* Compares the computed rows (sorted by contact id) with segmentation_rfm in
 * one walk of both, in memory: only rows that differ (values, scores or
 * segment), new ones and vanished ones become changes. The stored segment is
 * the contact's open RFM membership (both are written together, here and in
 * seg_rfm_update_contact), so the membership diff needs no read of
 * segmentation_members. */
static int rfm_diff_stored(crm_plugin_ctx *ctx, const seg_rfm_set *set, rfm_diff *d)
{
    memset(d, 0, sizeof *d);
    d->capslugs = 16;
    if (!(d->slugs = calloc(d->capslugs, sizeof *d->slugs)))
        return CRM_ENOMEM;
    d->nslugs = 1;
    crm_stmt *st = seg_prep(ctx,
                            "SELECT contact_id, recency_days, frequency, monetary, last_order_at,"
                            " r, f, m, segment FROM segmentation_rfm ORDER BY contact_id",
                            0);
    if (!st)
        return seg_fail_db(ctx, "reading stored RFM scores");
    size_t i = 0;
    int rc, oom = 0;
    while (!oom && (rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t cid = crm_sql_column_int64(st, 0);
        for (; !oom && i < set->n && set->rows[i].contact_id < cid; i++)
            oom = diff_push(d, i, set->rows[i].contact_id, 0) != CRM_OK; /* new */
        if (oom)
            break;
        const char *stored = crm_sql_column_text(st, 8);
        if (i < set->n && set->rows[i].contact_id == cid) {
            if (!same_as_stored(ctx, st, &set->rows[i], stored))
                oom = push_stored(d, i, cid, stored);
            else if (crm_sql_column_int64(st, 1) != set->rows[i].recency_days)
                d->aged++;
            i++;
        } else { /* stored, no longer scored */
            oom = push_stored(d, SIZE_MAX, cid, stored);
        }
    }
    for (; !oom && i < set->n; i++)
        oom = diff_push(d, i, set->rows[i].contact_id, 0) != CRM_OK;
    crm_sql_finalize(st);
    if (oom) {
        crm_set_error(ctx, "out of memory comparing RFM scores");
        return CRM_ENOMEM;
    }
    return rc < 0 ? seg_fail_db(ctx, "reading stored RFM scores") : CRM_OK;
}

static void rfm_diff_free(rfm_diff *d)
{
    free(d->v);
    free(d->slugs);
}

/* ---- the writes --------------------------------------------------------- */

/* The segmentation_refreshes row; *refresh gets its id. */
static int store_refresh(crm_plugin_ctx *ctx, const seg_rfm_set *set, int64_t as_of,
                         int64_t *refresh)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_refreshes(as_of, window_days, currency,"
                        " contacts, skipped_orders) VALUES (?1, ?2, ?3, ?4, ?5)",
                        &st) != CRM_OK) {
        int rc = seg_fail_db(ctx, "refreshing RFM scores");
        crm_sql_finalize(st);
        return rc;
    }
    crm_sql_bind_int64(st, 1, as_of);
    crm_sql_bind_int64(st, 2, SEG(ctx)->window_days);
    crm_sql_bind_text(st, 3, set->currency);
    crm_sql_bind_int64(st, 4, (int64_t)set->n);
    crm_sql_bind_int64(st, 5, set->skipped_orders);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return seg_fail_db(ctx, "refreshing RFM scores");
    *refresh = crm_sql_last_insert_id(ctx);
    return CRM_OK;
}

/* The refresh's cut points, one segmentation_cuts row per metric and score. */
static int store_cuts(crm_plugin_ctx *ctx, const seg_rfm_cuts *cuts, int64_t refresh)
{
    static const char *const names[3] = {"recency_days", "frequency", "monetary"};
    const int64_t *vals[3] = {cuts->recency, cuts->frequency, cuts->monetary};
    const unsigned char *has[3] = {cuts->has_recency, cuts->has_frequency, cuts->has_monetary};
    crm_stmt *st = NULL;
    int rc = CRM_OK;
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_cuts(refresh_id, metric, score, value)"
                        " VALUES (?1, ?2, ?3, ?4)",
                        &st) != CRM_OK)
        rc = seg_fail_db(ctx, "refreshing RFM scores");
    for (int s = 2; rc == CRM_OK && s <= SEG_SCORES; s++) {
        for (int k = 0; rc == CRM_OK && k < 3; k++) {
            if (!has[k][s])
                continue;
            crm_sql_reset(st);
            crm_sql_bind_int64(st, 1, refresh);
            crm_sql_bind_text(st, 2, names[k]);
            crm_sql_bind_int64(st, 3, s);
            crm_sql_bind_int64(st, 4, vals[k][s]);
            if (crm_sql_step(st) < 0)
                rc = seg_fail_db(ctx, "refreshing RFM scores");
        }
    }
    crm_sql_finalize(st);
    return rc;
}

/* recency_days of every stored row whose last order is unchanged, seen from
 * as_of, in one statement instead of one upsert per contact: a day later
 * each row's recency moves and often nothing else. Rows with other changes
 * are rewritten after it by apply_changes. */
static int age_stored(crm_plugin_ctx *ctx, const rfm_diff *d, int64_t as_of, int64_t refresh)
{
    if (d->aged == 0)
        return CRM_OK;
    /* last_order_at <= as_of: the plain division is floor division there */
    int rc = seg_run(ctx,
                     "UPDATE segmentation_rfm SET recency_days = (?1 - last_order_at) / 86400,"
                     " as_of = ?1, refresh_id = ?2 WHERE last_order_at <= ?1"
                     " AND recency_days != (?1 - last_order_at) / 86400",
                     2, as_of, refresh);
    return rc == CRM_OK ? CRM_OK : seg_fail_db(ctx, "refreshing RFM scores");
}

/* Only what changed: scores (upsert or delete) and memberships. */
static int apply_changes(crm_plugin_ctx *ctx, const seg_rfm_set *set, const rfm_diff *d,
                         int64_t as_of, int64_t refresh)
{
    crm_stmt *ins = seg_cached(ctx, &SEG(ctx)->st_upsert, upsert_sql);
    crm_stmt *del = seg_cached(ctx, &SEG(ctx)->st_delete, delete_sql);
    if (!ins || !del)
        return seg_fail_db(ctx, "refreshing RFM scores");
    for (size_t c = 0; c < d->n; c++) {
        const rfm_change *ch = &d->v[c];
        const char *slug = ch->idx == SIZE_MAX ? NULL : seg_slug_of(ctx, &set->rows[ch->idx]);
        int wrc = ch->idx != SIZE_MAX ? store_row(ins, &set->rows[ch->idx], slug, as_of, refresh)
                                      : delete_row(del, ch->cid);
        if (wrc != CRM_OK)
            return seg_fail_db(ctx, "refreshing RFM scores");
        int rc = seg_rfm_move(ctx, ch->cid, d->slugs[ch->old], slug, as_of);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* Caches a committed refresh's cut points for seg_rfm_update_contact. */
static void remember_cuts(crm_plugin_ctx *ctx, const seg_rfm_cuts *cuts, int64_t refresh, const char *currency)
{
    SEG(ctx)->cuts = *cuts;
    SEG(ctx)->cuts_refresh = refresh;
    SEG(ctx)->cuts_window = SEG(ctx)->window_days;
    snprintf(SEG(ctx)->cuts_currency, sizeof SEG(ctx)->cuts_currency, "%s", currency);
}

int seg_rfm_refresh(crm_plugin_ctx *ctx, int64_t as_of, int64_t *scored, int64_t *skipped,
                    int64_t *changed, char *currency_out)
{
    seg_rfm_set set;
    seg_rfm_cuts cuts;
    rfm_diff d;
    memset(&d, 0, sizeof d);
    int rc = seg_rfm_load(ctx, as_of, SEG(ctx)->window_days, NULL, 0, &set);
    if (rc != CRM_OK)
        return rc;
    if (seg_rfm_score(set.rows, set.n, &cuts)) {
        free(set.rows);
        crm_set_error(ctx, "out of memory scoring %zu contacts", set.n);
        return CRM_ENOMEM;
    }
    if (crm_begin(ctx) != CRM_OK) {
        free(set.rows);
        return seg_fail_db(ctx, "starting the refresh");
    }
    int64_t refresh = 0;
    /* read inside the transaction: no event handler changes rows between the
     * comparison and the writes */
    rc = rfm_diff_stored(ctx, &set, &d);
    if (rc == CRM_OK)
        rc = store_refresh(ctx, &set, as_of, &refresh);
    if (rc == CRM_OK)
        rc = store_cuts(ctx, &cuts, refresh);
    if (rc == CRM_OK)
        rc = age_stored(ctx, &d, as_of, refresh);
    if (rc == CRM_OK)
        rc = apply_changes(ctx, &set, &d, as_of, refresh);
    if (rc == CRM_OK && crm_commit(ctx) != CRM_OK)
        rc = seg_fail_db(ctx, "refreshing RFM scores");
    if (rc == CRM_OK) {
        remember_cuts(ctx, &cuts, refresh, set.currency);
        if (scored)
            *scored = (int64_t)set.n;
        if (skipped)
            *skipped = set.skipped_orders;
        if (changed)
            *changed = (int64_t)(d.n + d.aged);
        if (currency_out)
            snprintf(currency_out, 8, "%s", set.currency);
    } else {
        crm_rollback(ctx);
    }
    free(set.rows);
    rfm_diff_free(&d);
    return rc;
}

/* ---- between refreshes -------------------------------------------------- */

int seg_last_rfm_refresh(crm_plugin_ctx *ctx, int64_t *as_of)
{
    crm_stmt *st = seg_prep(ctx,
                            "SELECT as_of FROM segmentation_refreshes ORDER BY id DESC"
                            " LIMIT 1",
                            0);
    int found = st && crm_sql_step(st) == CRM_SQL_ROW;
    if (found)
        *as_of = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return found;
}

int seg_load_cuts(crm_plugin_ctx *ctx)
{
    /* asked on every order event: prepared once (parsing it was a sixth of
     * `crm demo`'s time with the plugin loaded) */
    crm_stmt *last = seg_cached(ctx, &SEG(ctx)->st_last_refresh,
                                "SELECT coalesce(max(id), 0) FROM segmentation_refreshes");
    int64_t id = last && crm_sql_step(last) == CRM_SQL_ROW ? crm_sql_column_int64(last, 0) : 0;
    if (last)
        crm_sql_reset(last);
    if (id == 0)
        return 0;
    if (id == SEG(ctx)->cuts_refresh)
        return 1;
    memset(&SEG(ctx)->cuts, 0, sizeof SEG(ctx)->cuts);
    crm_stmt *st = seg_prep(ctx, "SELECT window_days, currency, contacts FROM"
                                 " segmentation_refreshes WHERE id = ?1", 1, id);
    if (st && crm_sql_step(st) == CRM_SQL_ROW) {
        SEG(ctx)->cuts_window = crm_sql_column_int64(st, 0);
        snprintf(SEG(ctx)->cuts_currency, sizeof SEG(ctx)->cuts_currency, "%s", crm_sql_column_text(st, 1));
        SEG(ctx)->cuts.n = crm_sql_column_int64(st, 2);
    }
    crm_sql_finalize(st);
    st = seg_prep(ctx, "SELECT metric, score, value FROM segmentation_cuts WHERE refresh_id = ?1",
                  1, id);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        const char *m = crm_sql_column_text(st, 0);
        int s = (int)crm_sql_column_int64(st, 1);
        int64_t v = crm_sql_column_int64(st, 2);
        if (s < 2 || s > SEG_SCORES || !m)
            continue;
        if (!strcmp(m, "recency_days"))
            SEG(ctx)->cuts.recency[s] = v, SEG(ctx)->cuts.has_recency[s] = 1;
        else if (!strcmp(m, "frequency"))
            SEG(ctx)->cuts.frequency[s] = v, SEG(ctx)->cuts.has_frequency[s] = 1;
        else if (!strcmp(m, "monetary"))
            SEG(ctx)->cuts.monetary[s] = v, SEG(ctx)->cuts.has_monetary[s] = 1;
    }
    crm_sql_finalize(st);
    SEG(ctx)->cuts_refresh = id;
    return 1;
}

/* The contact has no qualifying order any more: its score and RFM
 * membership go. */
static int rfm_unscore(crm_plugin_ctx *ctx, int64_t cid, const char *old, int64_t at)
{
    crm_stmt *del = seg_cached(ctx, &SEG(ctx)->st_delete, delete_sql);
    if (!del || delete_row(del, cid) != CRM_OK)
        return seg_fail_db(ctx, "updating RFM scores");
    return seg_rfm_move(ctx, cid, old, NULL, at);
}

int seg_rfm_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    if (!seg_load_cuts(ctx))
        return CRM_OK;
    seg_rfm_set set;
    int rc = seg_rfm_load(ctx, at, SEG(ctx)->cuts_window, SEG(ctx)->cuts_currency, cid, &set);
    if (rc != CRM_OK)
        return rc;
    char old[SEG_NAME_MAX];
    seg_current_rfm_segment(ctx, cid, old, sizeof old);
    if (set.n == 0) {
        free(set.rows);
        return rfm_unscore(ctx, cid, old, at);
    }
    seg_rfm_row *r = &set.rows[0];
    seg_rfm_score_with_cuts(&SEG(ctx)->cuts, r);
    const char *slug = seg_slug_of(ctx, r);
    crm_stmt *ins = seg_cached(ctx, &SEG(ctx)->st_upsert, upsert_sql);
    if (!ins || store_row(ins, r, slug, at, SEG(ctx)->cuts_refresh) != CRM_OK)
        rc = seg_fail_db(ctx, "updating RFM scores");
    if (rc == CRM_OK)
        rc = seg_rfm_move(ctx, cid, old, slug, at);
    free(set.rows);
    return rc;
}

/* ---- crm rfm refresh|list|show|grid. */

static int rfm_refresh_cmd(crm_plugin_ctx *ctx, crm_command_io *io, int64_t as_of)
{
    int64_t n = 0, skipped = 0, changed = 0;
    char cur[8] = "";
    int rc = seg_rfm_refresh(ctx, as_of, &n, &skipped, &changed, cur);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io))
        seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIsIsssIsI}", "as_of", (json_int_t)as_of, "contacts",
                                     (json_int_t)n, "window_days", (json_int_t)SEG(ctx)->window_days,
                                     "currency", cur, "skipped_orders", (json_int_t)skipped,
                                     "changed", (json_int_t)changed), seg_iso_as_of));
    else {
        char day[32];
        fprintf(crm_io_out(io),
                "scored %lld contacts as of %s (window %lld days, %s), %lld changed\n",
                (long long)n, seg_fmt_day(ctx, as_of, day, sizeof day), (long long)SEG(ctx)->window_days,
                cur, (long long)changed);
    }
    if (skipped)
        crm_log(ctx, CRM_LOG_WARN,
                "%lld qualifying orders in another currency than %s were left out",
                (long long)skipped, cur);
    return CRM_OK;
}

/* The stored scores, in contact id order. */
static int load_stored(crm_plugin_ctx *ctx, seg_rfm_set *set)
{
    crm_stmt *st = seg_prep(ctx, "SELECT contact_id, recency_days, frequency, monetary, r, f,"
                                 " m, last_order_at FROM segmentation_rfm ORDER BY contact_id", 0);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        if (set->n == set->cap) {
            set->cap = set->cap ? set->cap * 2 : 1024;
            seg_rfm_row *nr = realloc(set->rows, set->cap * sizeof *nr);
            if (!nr) {
                crm_sql_finalize(st);
                free(set->rows);
                return CRM_ENOMEM;
            }
            set->rows = nr;
        }
        seg_rfm_row *r = &set->rows[set->n++];
        r->contact_id = crm_sql_column_int64(st, 0);
        r->recency_days = crm_sql_column_int64(st, 1);
        r->frequency = crm_sql_column_int64(st, 2);
        r->monetary = crm_sql_column_int64(st, 3);
        r->r = (int)crm_sql_column_int64(st, 4);
        r->f = (int)crm_sql_column_int64(st, 5);
        r->m = (int)crm_sql_column_int64(st, 6);
        r->last_at = crm_sql_column_int64(st, 7);
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

/* Computed from the orders as of now, nothing stored. */
static int load_fresh(crm_plugin_ctx *ctx, int64_t as_of, seg_rfm_set *set)
{
    int rc = seg_rfm_load(ctx, as_of, SEG(ctx)->window_days, NULL, 0, set);
    if (rc != CRM_OK)
        return rc;
    if (seg_rfm_score(set->rows, set->n, NULL)) {
        free(set->rows);
        return CRM_ENOMEM;
    }
    return CRM_OK;
}

/* The contact's external id through ext (NULL when none or ext is NULL). */
static const char *external_id(crm_stmt *ext, int64_t cid)
{
    if (!ext)
        return NULL;
    crm_sql_reset(ext);
    crm_sql_bind_int64(ext, 1, cid);
    return crm_sql_step(ext) == CRM_SQL_ROW ? crm_sql_column_text(ext, 0) : NULL;
}

static void print_list_row(crm_plugin_ctx *ctx, crm_command_io *io, const seg_rfm_row *r,
                           const char *x, const char *slug, const char *cur)
{
    char money[48];
    if (crm_io_json(io))
        seg_print_json(io, json_pack("{sIss?sIsIsIsisisiss?ss?}", "contact_id",
                                     (json_int_t)r->contact_id, "external_id", x,
                                     "recency_days", (json_int_t)r->recency_days, "frequency",
                                     (json_int_t)r->frequency, "monetary",
                                     (json_int_t)r->monetary, "r", r->r, "f", r->f, "m", r->m,
                                     "segment", slug, "segment_name",
                                     slug ? seg_grid_name(ctx, slug) : NULL));
    else
        fprintf(crm_io_out(io), "%-10lld %-16s %8lld %6lld %16s  %d %d %d  %s\n",
                (long long)r->contact_id, x ? x : "", (long long)r->recency_days,
                (long long)r->frequency, seg_fmt_money(ctx, r->monetary, cur, money, sizeof money),
                r->r, r->f, r->m, slug ? seg_grid_name(ctx, slug) : "-");
}

/* rfm list --segment takes a grid segment by slug or name; anything else
 * is refused with the known ones. */
static int rfm_segment_arg(crm_plugin_ctx *ctx, const char *arg, char *slug, size_t size)
{
    seg_slugify(arg, slug, size);
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        if (!strcmp(SEG(ctx)->cells[k].slug, slug))
            return CRM_OK;
    char known[2048];
    seg_known_segments(ctx, known, sizeof known, 1);
    crm_set_error(ctx, "no RFM segment \"%s\"; the RFM grid has: %s (see crm rfm grid%s)", arg,
                  known, seg_find_rule(ctx, arg) ? "; for a rule segment use crm segment members" : "");
    return CRM_ENOTFOUND;
}

/* Stored scores say what they hold: as of which refresh, or that there is
 * none yet and how to make one. */
static void rfm_list_note(crm_plugin_ctx *ctx, crm_command_io *io, int fresh, size_t shown,
                          int64_t as_of)
{
    char day[32];
    int64_t at = 0;
    if (fresh)
        seg_note(io, shown, "computed as of %s (not stored)", seg_fmt_day(ctx, as_of, day, sizeof day));
    else if (!seg_last_rfm_refresh(ctx, &at))
        seg_note(io, 0, "no RFM scores yet: run crm rfm refresh (--as-of DATE) to compute them");
    else
        seg_note(io, shown,
                 "RFM scores as of %s (crm rfm refresh recomputes them; order events "
                 "keep each contact current)",
                 seg_fmt_day(ctx, at, day, sizeof day));
}

static int rfm_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args, int64_t as_of)
{
    const char *seg_arg = seg_opt(args, "segment");
    char seg[SEG_NAME_MAX];
    int fresh = seg_has_flag(args, "fresh");
    if (seg_arg && rfm_segment_arg(ctx, seg_arg, seg, sizeof seg) != CRM_OK)
        return CRM_ENOTFOUND;
    seg_rfm_set set = {0};
    int rc = fresh ? load_fresh(ctx, as_of, &set) : load_stored(ctx, &set);
    if (rc != CRM_OK)
        return rc;
    const char *cur = fresh ? set.currency : seg_load_cuts(ctx) ? SEG(ctx)->cuts_currency : "";
    crm_stmt *ext = NULL;
    crm_sql_prepare(ctx, "SELECT external_id FROM contacts WHERE id = ?1", &ext);
    if (!crm_io_json(io))
        fprintf(crm_io_out(io), "%-10s %-16s %8s %6s %16s  R F M  %s\n", "contact", "external_id",
                "recency", "freq", "monetary", "segment");
    size_t shown = 0;
    for (size_t i = 0; i < set.n; i++) {
        seg_rfm_row *r = &set.rows[i];
        const char *slug = seg_slug_of(ctx, r);
        if (seg_arg && (!slug || strcmp(slug, seg)))
            continue;
        print_list_row(ctx, io, r, external_id(ext, r->contact_id), slug, cur);
        shown++;
    }
    crm_sql_finalize(ext);
    free(set.rows);
    rfm_list_note(ctx, io, fresh, shown, as_of);
    return CRM_OK;
}

/* One contact's stored scores, as rfm show prints them. */
typedef struct rfm_shown {
    int64_t recency_days, frequency, monetary, as_of;
    int r, f, m;
    char slug[SEG_NAME_MAX];
} rfm_shown;

/* A refresh leaves rows it found unchanged alone: such a row (an older
 * refresh_id) holds as of the latest refresh. */
static int read_shown(crm_plugin_ctx *ctx, int64_t cid, rfm_shown *x)
{
    crm_stmt *st = seg_prep(ctx, "SELECT x.recency_days, x.frequency, x.monetary, x.r, x.f, x.m,"
                                 " x.segment, CASE WHEN x.refresh_id < l.id THEN l.as_of ELSE"
                                 " x.as_of END FROM segmentation_rfm x LEFT JOIN"
                                 " segmentation_refreshes l ON l.id = (SELECT max(id) FROM"
                                 " segmentation_refreshes) WHERE x.contact_id = ?1", 1, cid);
    if (!st || crm_sql_step(st) != CRM_SQL_ROW) {
        crm_sql_finalize(st);
        crm_set_error(ctx, "contact %lld is not scored: no qualifying order (placed or paid, "
                           "in the window) as of the last refresh; run crm rfm refresh",
                      (long long)cid);
        return CRM_ENOTFOUND;
    }
    x->recency_days = crm_sql_column_int64(st, 0);
    x->frequency = crm_sql_column_int64(st, 1);
    x->monetary = crm_sql_column_int64(st, 2);
    x->as_of = crm_sql_column_int64(st, 7);
    x->r = (int)crm_sql_column_int64(st, 3);
    x->f = (int)crm_sql_column_int64(st, 4);
    x->m = (int)crm_sql_column_int64(st, 5);
    x->slug[0] = 0;
    if (crm_sql_column_text(st, 6))
        snprintf(x->slug, sizeof x->slug, "%s", crm_sql_column_text(st, 6));
    crm_sql_finalize(st);
    return CRM_OK;
}

/* The cached cut points for scores 2..5 as JSON arrays (empty without a refresh). */
static json_t *cuts_json(crm_plugin_ctx *ctx, int have_cuts)
{
    json_t *cuts = json_object();
    if (!have_cuts)
        return cuts;
    const seg_rfm_cuts *k = &SEG(ctx)->cuts;
    json_t *a = json_array(), *b = json_array(), *c = json_array();
    for (int s = 2; s <= 5; s++) {
        json_array_append_new(a, k->has_recency[s] ? json_integer(k->recency[s]) : json_null());
        json_array_append_new(b, k->has_frequency[s] ? json_integer(k->frequency[s]) : json_null());
        json_array_append_new(c, k->has_monetary[s] ? json_integer(k->monetary[s]) : json_null());
    }
    json_object_set_new(cuts, "recency_days_max", a);
    json_object_set_new(cuts, "frequency_min", b);
    json_object_set_new(cuts, "monetary_min", c);
    return cuts;
}

static void print_shown(crm_plugin_ctx *ctx, FILE *out, int64_t cid, const rfm_shown *x,
                        int have_cuts)
{
    char day[32], money[48];
    const char *cur = have_cuts ? SEG(ctx)->cuts_currency : "";
    fprintf(out, "contact %lld as of %s\n", (long long)cid, seg_fmt_day(ctx, x->as_of, day, sizeof day));
    fprintf(out, "  recency   %lld days -> R%d\n", (long long)x->recency_days, x->r);
    fprintf(out, "  frequency %lld orders -> F%d\n", (long long)x->frequency, x->f);
    fprintf(out, "  monetary  %s -> M%d\n",
            seg_fmt_money(ctx, x->monetary, cur, money, sizeof money), x->m);
    if (have_cuts) {
        fprintf(out, "  cut points (score: R needs at most days / F, M need at least):\n");
        for (int s = 2; s <= 5; s++)
            fprintf(out, "    %d: R<=%lld F>=%lld M>=%s\n", s, (long long)SEG(ctx)->cuts.recency[s],
                    (long long)SEG(ctx)->cuts.frequency[s],
                    seg_fmt_money(ctx, SEG(ctx)->cuts.monetary[s], cur, money, sizeof money));
    }
    fprintf(out, "  segment   %s (R%d F%d, first matching grid cell)\n",
            x->slug[0] ? seg_grid_name(ctx, x->slug) : "-", x->r, x->f);
}

static int rfm_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const char *ref = seg_arg(args, 0);
    if (!ref)
        return seg_usage(ctx, "rfm show CONTACT");
    int64_t cid = seg_resolve_contact(ctx, ref);
    if (!cid)
        return CRM_ENOTFOUND;
    int have_cuts = seg_load_cuts(ctx);
    rfm_shown x;
    int rc = read_shown(ctx, cid, &x);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io)) {
        json_t *cuts = cuts_json(ctx, have_cuts);
        seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIsIsIsisisisssssIso}", "contact_id", (json_int_t)cid,
                                     "recency_days", (json_int_t)x.recency_days, "frequency",
                                     (json_int_t)x.frequency, "monetary", (json_int_t)x.monetary,
                                     "r", x.r, "f", x.f, "m", x.m, "segment", x.slug,
                                     "segment_name", seg_grid_name(ctx, x.slug), "as_of",
                                     (json_int_t)x.as_of, "cuts_for_scores_2_to_5", cuts), seg_iso_as_of));
        return CRM_OK;
    }
    print_shown(ctx, crm_io_out(io), cid, &x, have_cuts);
    return CRM_OK;
}

/* The stored scores counted by (R, F) cell and by grid segment (index
 * grid.n: no segment). */
typedef struct rfm_counts {
    int64_t cells[6][6], total, revenue;
    int64_t *seg_n, *seg_rev;
} rfm_counts;

static int count_grid(crm_plugin_ctx *ctx, rfm_counts *g)
{
    memset(g, 0, sizeof *g);
    g->seg_n = calloc(SEG(ctx)->grid.n + 1, sizeof *g->seg_n);
    g->seg_rev = calloc(SEG(ctx)->grid.n + 1, sizeof *g->seg_rev);
    if (!g->seg_n || !g->seg_rev) {
        free(g->seg_n), free(g->seg_rev);
        return CRM_ENOMEM;
    }
    crm_stmt *st = seg_prep(ctx, "SELECT r, f, monetary FROM segmentation_rfm", 0);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        int r = (int)crm_sql_column_int64(st, 0), f = (int)crm_sql_column_int64(st, 1);
        int64_t mo = crm_sql_column_int64(st, 2);
        if (r < 1 || r > 5 || f < 1 || f > 5)
            continue;
        g->cells[r][f]++;
        g->total++;
        g->revenue += mo;
        int k = seg_grid_match(&SEG(ctx)->grid, r, f);
        k = k < 0 ? (int)SEG(ctx)->grid.n : k;
        g->seg_n[k]++;
        g->seg_rev[k] += mo;
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

static void print_grid_json(crm_plugin_ctx *ctx, crm_command_io *io, const rfm_counts *g)
{
    json_t *m = json_array(), *segs = json_array();
    for (int r = 5; r >= 1; r--) {
        json_t *row = json_array();
        for (int f = 1; f <= 5; f++)
            json_array_append_new(row, json_integer(g->cells[r][f]));
        json_array_append_new(m, row);
    }
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        json_array_append_new(
            segs, json_pack("{sssssIsfsIsf}", "segment", SEG(ctx)->cells[k].slug, "name",
                            SEG(ctx)->cells[k].name, "customers", (json_int_t)g->seg_n[k],
                            "customer_share", g->total ? (double)g->seg_n[k] / g->total : 0.0,
                            "revenue", (json_int_t)g->seg_rev[k], "revenue_share",
                            g->revenue ? (double)g->seg_rev[k] / g->revenue : 0.0));
    seg_print_json(io, json_pack("{sososIsI}", "matrix_r5_to_r1_by_f1_to_f5", m, "segments",
                                 segs, "customers", (json_int_t)g->total, "revenue",
                                 (json_int_t)g->revenue));
}

static void print_grid_text(crm_plugin_ctx *ctx, FILE *out, const rfm_counts *g)
{
    fprintf(out, "      F1      F2      F3      F4      F5\n");
    for (int r = 5; r >= 1; r--) {
        fprintf(out, "R%d", r);
        for (int f = 1; f <= 5; f++)
            fprintf(out, " %7lld", (long long)g->cells[r][f]);
        fprintf(out, "\n");
    }
    fprintf(out, "\n%-22s %10s %9s %9s\n", "segment", "customers", "share", "revenue");
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        fprintf(out, "%-22s %10lld %8.1f%% %8.1f%%\n", SEG(ctx)->cells[k].name,
                (long long)g->seg_n[k], g->total ? 100.0 * g->seg_n[k] / g->total : 0.0,
                g->revenue ? 100.0 * g->seg_rev[k] / g->revenue : 0.0);
}

static int rfm_grid(crm_plugin_ctx *ctx, crm_command_io *io)
{
    rfm_counts g;
    if (count_grid(ctx, &g) != CRM_OK)
        return CRM_ENOMEM;
    if (crm_io_json(io))
        print_grid_json(ctx, io, &g);
    else
        print_grid_text(ctx, crm_io_out(io), &g);
    free(g.seg_n), free(g.seg_rev);
    rfm_list_note(ctx, io, 0, 1, 0);
    return CRM_OK;
}

/* The grid as data for GET /v1/rfm: the stored scores counted by (R, F)
 * cell, with the cell's grid segment, as of the latest refresh. */
int seg_rfm_grid_json(crm_plugin_ctx *ctx, json_t **out)
{
    rfm_counts g;
    if (count_grid(ctx, &g) != CRM_OK)
        return CRM_ENOMEM;
    json_t *cells = json_array(), *segs = json_array();
    for (int r = 5; r >= 1; r--)
        for (int f = 1; f <= 5; f++) {
            int k = seg_grid_match(&SEG(ctx)->grid, r, f);
            json_array_append_new(cells, json_pack("{si si sI ss?}", "r", r, "f", f, "count",
                                                   (json_int_t)g.cells[r][f], "segment",
                                                   k < 0 ? NULL : SEG(ctx)->cells[k].slug));
        }
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        json_array_append_new(segs, json_pack("{sssssIsI}", "segment", SEG(ctx)->cells[k].slug,
                                              "name", SEG(ctx)->cells[k].name, "customers",
                                              (json_int_t)g.seg_n[k], "revenue",
                                              (json_int_t)g.seg_rev[k]));
    int64_t as_of = 0;
    int refreshed = seg_last_rfm_refresh(ctx, &as_of);
    char cur[8] = "";
    crm_stmt *st = seg_prep(ctx, "SELECT currency FROM segmentation_refreshes ORDER BY id DESC"
                                 " LIMIT 1", 0);
    if (st && crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_text(st, 0))
        snprintf(cur, sizeof cur, "%s", crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
    *out = json_pack("{so so so sI sI so}", "as_of",
                     refreshed ? json_integer(as_of) : json_null(), "cells", cells, "segments",
                     segs, "customers", (json_int_t)g.total, "revenue", (json_int_t)g.revenue,
                     "currency", cur[0] ? json_string(cur) : json_null());
    free(g.seg_n), free(g.seg_rev);
    return *out ? CRM_OK : CRM_ENOMEM;
}

/* ---- the commands (option tables in segmentation.c) ---------------------- */

int seg_cmd_rfm_refresh(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    return rfm_refresh_cmd(ctx, io, crm_now(ctx));
}

int seg_cmd_rfm_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return rfm_list(ctx, io, args, crm_now(ctx));
}

int seg_cmd_rfm_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return rfm_show(ctx, io, args);
}

int seg_cmd_rfm_grid(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    return rfm_grid(ctx, io);
}

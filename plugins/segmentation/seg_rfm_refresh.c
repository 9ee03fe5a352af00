/* segmentation plugin — RFM refresh: score every contact, compare with the
 * stored scores in memory and write only what changed; the cut points of the
 * latest refresh; one contact re-scored between refreshes. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

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
 * holds r's values, scores and segment. */
static int same_as_stored(crm_plugin_ctx *ctx, crm_stmt *st, const seg_rfm_row *r, const char *stored)
{
    const char *slug = seg_slug_of(ctx, r);
    return crm_sql_column_int64(st, 1) == r->recency_days &&
           crm_sql_column_int64(st, 2) == r->frequency &&
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
            *changed = (int64_t)d.n;
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

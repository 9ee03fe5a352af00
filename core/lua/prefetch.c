/* A scan's per-contact reads, done once for every contact.
 *
 * A rule evaluated over every contact (rule_each, `crm rules run`) asked
 * SQLite for each contact's order aggregates and tags: indexed lookups per
 * contact, most of a Lua segment's time. During a scan, after SCAN_WARMUP
 * contacts have asked, the aggregates (per window) come from one pass over
 * the orders and the tags from one over contact_tags, then from memory. A
 * scan that only looks at a few contacts (a narrow where_sql) never pays for
 * a pass. Each window costs 32 bytes per contact id: MAX_WINDOWS bounds it
 * (more windows are read one contact at a time). */
#include <stdlib.h>
#include <string.h>

#include "lua/lua_int.h"

#define SCAN_WARMUP 256
#define MAX_WINDOWS 4

/* Qualifying orders placed after `since`, per contact: v[id] (ids are
 * dense integer keys), count 0 for a contact without any. */
typedef struct agg_table {
    int64_t since;
    size_t cap;
    int64_t (*v)[CRM_LUA_AGG_N];
} agg_table;

/* Every contact's tags: ids ascending, tags of ids[i] are tags[off[i] ..
 * off[i + 1]), sorted. */
typedef struct tag_table {
    size_t n, ntags;
    int64_t *ids;
    size_t *off;
    char **tags;
} tag_table;

typedef struct crm_lua_prefetch {
    size_t agg_asks, tag_asks;
    agg_table windows[MAX_WINDOWS];
    size_t n_windows;
    bool tags_loaded;
    tag_table tags;
} crm_lua_prefetch;

void crm_lua_scan_begin(crm_lua_engine *e)
{
    crm_lua_scan_end(e);
    e->prefetch = calloc(1, sizeof *e->prefetch); /* NULL: lookups one by one */
}

static void tags_free(tag_table *t)
{
    for (size_t i = 0; i < t->ntags; i++)
        free(t->tags[i]);
    free(t->tags);
    free(t->ids);
    free(t->off);
}

void crm_lua_scan_end(crm_lua_engine *e)
{
    crm_lua_prefetch *p = e->prefetch;
    if (!p)
        return;
    for (size_t i = 0; i < p->n_windows; i++)
        free(p->windows[i].v);
    tags_free(&p->tags);
    free(p);
    e->prefetch = NULL;
}

/* The index of cid in ids[0..n), or -1. */
static ptrdiff_t find_id(const int64_t *ids, size_t n, int64_t cid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < cid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == cid ? (ptrdiff_t)lo : -1;
}

static int grow(void **a, size_t size, size_t *cap, size_t need)
{
    if (need <= *cap)
        return CRM_OK;
    size_t c = *cap ? *cap * 2 : 4096;
    while (c < need)
        c *= 2;
    void *n = realloc(*a, c * size);
    if (!n)
        return CRM_ENOMEM;
    *a = n;
    *cap = c;
    return CRM_OK;
}

static int grow_dense(agg_table *t, int64_t cid)
{
    size_t cap = t->cap ? t->cap : 1024;
    while (cap <= (size_t)cid)
        cap *= 2;
    int64_t(*v)[CRM_LUA_AGG_N] = realloc(t->v, cap * sizeof *v);
    if (!v)
        return CRM_ENOMEM;
    memset(v + t->cap, 0, (cap - t->cap) * sizeof *v);
    t->v = v;
    t->cap = cap;
    return CRM_OK;
}

/* One sequential scan of the orders, aggregated here: SQLite's aggregate
 * functions and GROUP BY cost three times as much per row, and walking an
 * index in contact order more than the table. */
static int load_window(crm_lua_engine *e, agg_table *t, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        e->k->store,
        "SELECT contact_id, placed_at, total FROM orders"
        " WHERE status IN ('placed','paid') AND +placed_at <= ?1 AND +placed_at > ?2",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, e->k->now);
    sqlite3_bind_int64(st, 2, t->since);
    int rc = CRM_OK, step;
    sqlite3_stmt *max = crm_store_stmt(e->k->store, "SELECT max(id) FROM contacts", err);
    int64_t top = max && sqlite3_step(max) == SQLITE_ROW ? sqlite3_column_int64(max, 0) : 0;
    if (max)
        sqlite3_reset(max);
    if (top > 0 && grow_dense(t, top) != CRM_OK)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory reading order aggregates");
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t cid = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 1);
        if (cid <= 0)
            continue;
        if ((size_t)cid >= t->cap && grow_dense(t, cid) != CRM_OK) {
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory reading order aggregates");
            break;
        }
        int64_t *v = t->v[cid];
        if (v[0] == 0 || at < v[2])
            v[2] = at;
        if (v[0] == 0 || at > v[3])
            v[3] = at;
        v[0]++;
        v[1] += sqlite3_column_int64(st, 2);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(e->k->store, "cannot read order aggregates", err);
    sqlite3_reset(st);
    return rc;
}

static agg_table *window_of(crm_lua_prefetch *p, int64_t since)
{
    for (size_t i = 0; i < p->n_windows; i++)
        if (p->windows[i].since == since)
            return &p->windows[i];
    return NULL;
}

int crm_lua_prefetch_orders(crm_lua_engine *e, int64_t since, int64_t cid,
                            int64_t out[CRM_LUA_AGG_N], bool *found, crm_err *err)
{
    crm_lua_prefetch *p = e->prefetch;
    if (!p || ++p->agg_asks < SCAN_WARMUP)
        return CRM_ENOTFOUND;
    agg_table *t = window_of(p, since);
    if (!t) {
        if (p->n_windows == MAX_WINDOWS)
            return CRM_ENOTFOUND; /* a rule with many windows: those read one by one */
        t = &p->windows[p->n_windows];
        *t = (agg_table){.since = since};
        int rc = load_window(e, t, err);
        if (rc != CRM_OK) { /* nothing half-read is served: the next ask reads again */
            free(t->v);
            return rc;
        }
        p->n_windows++;
    }
    *found = cid > 0 && (size_t)cid < t->cap && t->v[cid][0] > 0;
    if (*found)
        memcpy(out, t->v[cid], sizeof t->v[cid]);
    return CRM_OK;
}

static int load_tags(crm_lua_engine *e, tag_table *t, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        e->k->store, "SELECT contact_id, tag FROM contact_tags ORDER BY contact_id, tag", err);
    if (!st)
        return err->code;
    size_t cap_ids = 0, cap_off = 0, cap_tags = 0;
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t cid = sqlite3_column_int64(st, 0);
        bool fresh = t->n == 0 || t->ids[t->n - 1] != cid;
        char *tag = strdup((const char *)sqlite3_column_text(st, 1));
        if (!tag || grow((void **)&t->tags, sizeof *t->tags, &cap_tags, t->ntags + 1) ||
            grow((void **)&t->ids, sizeof *t->ids, &cap_ids, t->n + 1) ||
            grow((void **)&t->off, sizeof *t->off, &cap_off, t->n + 2)) {
            free(tag);
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory reading tags");
            break;
        }
        if (fresh) {
            t->ids[t->n] = cid;
            t->off[t->n++] = t->ntags;
        }
        t->tags[t->ntags++] = tag;
        t->off[t->n] = t->ntags;
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(e->k->store, "cannot read tags", err);
    sqlite3_reset(st);
    return rc;
}

int crm_lua_prefetch_tags(crm_lua_engine *e, int64_t cid, char *const **tags, size_t *n,
                          crm_err *err)
{
    crm_lua_prefetch *p = e->prefetch;
    if (!p || ++p->tag_asks < SCAN_WARMUP)
        return CRM_ENOTFOUND;
    if (!p->tags_loaded) {
        int rc = load_tags(e, &p->tags, err);
        if (rc != CRM_OK) {
            tags_free(&p->tags);
            memset(&p->tags, 0, sizeof p->tags);
            return rc;
        }
        p->tags_loaded = true;
    }
    const tag_table *t = &p->tags;
    ptrdiff_t i = find_id(t->ids, t->n, cid);
    *tags = i >= 0 ? t->tags + t->off[i] : NULL;
    *n = i >= 0 ? t->off[i + 1] - t->off[i] : 0;
    return CRM_OK;
}

/* Order lines from a separate file (`crm import orders --lines FILE`), joined
 * to the orders by order_external_id. Two ways to join:
 *
 *  - merge: a pre-scan reads both files' keys once (libcsv, no database).
 *    When the lines file's order_external_id is non-decreasing and the
 *    orders file's external_id strictly increasing (strcmp), the lines are
 *    then read alongside the orders: no staging, memory stays flat.
 *  - staging: otherwise, the lines file is loaded into a scratch database
 *    and each order's lines are looked up by an index (the original way).
 *
 * Either way, a line whose order_external_id matches no order row of the
 * orders file (an orphan) is counted and written to the lines reject file,
 * FILE's stem + ".rejects.csv": its cells plus `line` and `reason`, as the
 * orders reject file. The merge's pre-scan finds them as it walks both key
 * streams; staging finds them with an anti-join against the orders' keys. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "export/export.h"
#include "hygiene.h"
#include "import_int.h"
#include "mapping.h"
#include "model.h"
#include "model/model_util.h"
#include "util.h"

#define LINE_COLS 512 /* as many cells as the CSV reader passes: imp_get reads row->n */
#define NONE ((size_t)-1)
#define UNSORTED 1    /* a scan or pull found keys out of order */

static const char *const line_names[] = {"order_external_id", "sku", "quantity", "unit_price"};

/* ---- the lines file: header mapping, cursor, reject file ----------------------- */

/* A lines file header mapped to the four names, computed once per header. */
typedef struct line_map {
    char *const *of;   /* the header fields[] was computed for */
    const char *fields[LINE_COLS];
} line_map;

/* Points row->fields at the map of its header ("Order External ID" matches). */
static void map_line(line_map *m, imp_row *row)
{
    if (m->of != row->names) {
        memset(m->fields, 0, sizeof m->fields);
        for (size_t i = 0; i < row->n && i < LINE_COLS; i++) {
            char *f = crm_fold_key(row->names[i]);
            for (char *p = f; p && *p; p++)
                if (*p == ' ')
                    *p = '_';
            for (int j = 0; f && j < 4; j++)
                if (strcmp(f, line_names[j]) == 0)
                    m->fields[i] = line_names[j];
            free(f);
        }
        m->of = row->names_stable ? row->names : NULL;
    }
    if (row->n > LINE_COLS)
        row->n = LINE_COLS;
    row->fields = m->fields;
}

/* A line's order key as the join compares it: "" when empty. */
static const char *line_key(const imp_row *row)
{
    const char *k = imp_get(row, line_names[0]);
    return k ? k : "";
}

/* Copies s into *buf (grown as needed): a key kept past its row. */
static int keep_copy(char **buf, size_t *cap, const char *s, crm_err *err)
{
    size_t len = strlen(s) + 1;
    if (CRM_ARRAY_RESERVE(*buf, *cap, len) != CRM_OK)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    memcpy(*buf, s, len);
    return CRM_OK;
}

/* The lines file read one row at a time, with the previous key kept to
 * prove the order the merge relies on. */
typedef struct cursor {
    imp_source src;
    imp_csv *rd;
    line_map map;
    imp_row row;        /* the lookahead line: valid until the next pull */
    const char *key;    /* its key; NULL at the end of the file */
    char *prev;         /* the previous line's key (a copy) */
    size_t cap;
    bool check;         /* report a key below the previous one (UNSORTED) */
} cursor;

/* Moves to the next line: CRM_OK (key NULL at the end), UNSORTED, or an error. */
static int cursor_pull(cursor *c, crm_err *err)
{
    /* keep the key the next one must not go below */
    int rc = c->key ? keep_copy(&c->prev, &c->cap, c->key, err) : CRM_OK;
    if (rc == CRM_OK)
        rc = imp_csv_next(c->rd, &c->row, err);
    c->key = NULL;
    if (rc <= 0)
        return rc;
    map_line(&c->map, &c->row);
    c->key = line_key(&c->row);
    return c->check && c->prev && strcmp(c->key, c->prev) < 0 ? UNSORTED : CRM_OK;
}

/* Opens the lines file on its first line. */
static int cursor_open(cursor *c, const char *path, const imp_codec *codec, bool check,
                       crm_err *err)
{
    memset(c, 0, sizeof *c);
    c->check = check;
    c->src.codec = codec;
    c->src.keep_raw = true; /* orphans go to their reject file as they were */
    if (!(c->src.f = fopen(path, "rb")))
        return crm_err_set(err, CRM_EIO, "cannot read %s: %s", path, strerror(errno));
    int rc = imp_csv_open(&c->rd, &c->src, err);
    return rc == CRM_OK ? cursor_pull(c, err) : rc;
}

static void cursor_close(cursor *c)
{
    imp_csv_close(c->rd);
    if (c->src.f)
        fclose(c->src.f);
    free(c->src.header_raw);
    free(c->prev);
    memset(c, 0, sizeof *c);
}

/* The lines reject file, opened on the first orphan. */
typedef struct orphans {
    char path[4096];
    FILE *f;
    size_t n_header;
    int64_t count;
} orphans;

/* Writes one orphan line: its cells, then line and reason. */
static int orphan_put(orphans *w, const imp_source *src, const imp_row *row, crm_err *err)
{
    bool raw = src->header_raw && row->raw;
    if (!w->f) {
        if (!(w->f = fopen(w->path, "w")))
            return crm_err_set(err, CRM_EIO, "cannot write the reject file %s: %s", w->path,
                               strerror(errno));
        w->n_header = row->n;
        if (raw)
            imp_reject_raw_header(w->f, src);
        else
            imp_reject_csv_header(w->f, row->names, row->n);
    }
    char reason[512];
    const char *key = imp_get(row, line_names[0]);
    if (key)
        snprintf(reason, sizeof reason,
                 "order_external_id: '%s' matches no order in the orders file", key);
    else
        snprintf(reason, sizeof reason, "order_external_id: is required (the line has no order)");
    if (raw)
        imp_reject_raw_row(w->f, src, row, w->n_header, reason);
    else
        imp_reject_csv_row(w->f, row, w->n_header, reason);
    w->count++;
    return ferror(w->f) ? crm_err_set(err, CRM_EIO, "cannot write the reject file %s: %s",
                                      w->path, strerror(errno))
                        : CRM_OK;
}

/* Takes back every orphan written (the merge's pre-scan gave up). */
static void orphans_discard(orphans *w)
{
    if (w->f) {
        fclose(w->f);
        unlink(w->path);
    }
    w->f = NULL;
    w->count = 0;
}

/* ---- the orders file's external_id ------------------------------------------- */

/* Whether the driver maps column `name` to external_id. The merge checks at
 * run time that it sees the keys in this order too. */
static bool is_key_column(const imp_ctx *c, const char *name)
{
    const char *field = imp_map_name(c, name);
    return field && strcmp(field, "external_id") == 0;
}

/* An orders row's external_id as imp_get would return it (NULL when empty). */
typedef struct order_key {
    const imp_ctx *c;
    char *const *of;   /* the header col was found for (stable names only) */
    size_t n_of;
    size_t col;        /* NONE: no external_id column */
} order_key;

static const char *order_key_of(order_key *k, const imp_row *row)
{
    if (!row->names_stable || k->of != row->names || k->n_of != row->n) {
        k->col = NONE;
        for (size_t i = 0; i < row->n && k->col == NONE; i++)
            if (is_key_column(k->c, row->names[i]))
                k->col = i;
        k->of = row->names_stable ? row->names : NULL;
        k->n_of = row->n;
    }
    return k->col != NONE && row->cells[k->col][0] ? row->cells[k->col] : NULL;
}

/* Reads the orders file, calling fn per row. */
static int read_orders(const imp_ctx *c, imp_row_fn fn, void *ud, crm_err *err)
{
    const crm_import_opts *o = c->o;
    imp_source src = {.f = fopen(o->path, "rb"), .codec = c->codec};
    if (!src.f)
        return crm_err_set(err, CRM_EIO, "cannot read %s: %s", o->path, strerror(errno));
    int rc = imp_reader_for(imp_pick_format(o))(&src, fn, ud, err);
    fclose(src.f);
    return rc;
}

/* ---- the state of a run ---------------------------------------------------------- */

/* One line of the merge window: arena offsets of its cells, NONE when empty. */
typedef struct wline {
    int64_t line;
    size_t sku, qty, price;
} wline;

/* One order's lines in the window: its key and a run of wlines. */
typedef struct wgroup {
    size_t key, first, n;
} wgroup;

/* A generation of the window: up to `window` orders and their lines. */
typedef struct wgen {
    wgroup *g;
    size_t n, cap;
    wline *l;
    size_t nl, capl;
    char *arena;
    size_t used, cap_arena;
} wgen;

struct imp_lines {
    bool merge;
    cursor cur;           /* merge: the lines file, read alongside the orders */
    /* merge: the lines of the last orders read, so that a batch run again
     * in safe mode (import.c flush_batch) gets them again. A batch holds at
     * most `window` orders, and the two generations together always hold
     * the last `window`: memory is bounded by the batch size. */
    wgen gen[2];          /* gen[1] is being filled; gen[0] is the one before */
    size_t window;
    const wgen *claimed;  /* the group of the order being applied, or NULL */
    size_t claimed_at;
    orphans rej;
};

/* ---- pre-scan: are both files sorted? (and the orphans of the merge) ---------- */

typedef struct scan {
    imp_lines *L;
    order_key ok;
    char *prev;          /* the previous order's key (a copy) */
    size_t cap;
    crm_err *err;
} scan;

/* Moves the cursor past the lines of keys below `key` (orphans, written when
 * `report`) and, when `take`, past those of `key` too. */
static int skip_lines(imp_lines *L, const char *key, bool report, bool take, crm_err *err)
{
    cursor *c = &L->cur;
    int rc = CRM_OK;
    while (rc == CRM_OK && c->key && (!key || strcmp(c->key, key) < 0)) {
        rc = report ? orphan_put(&L->rej, &c->src, &c->row, err) : CRM_OK;
        if (rc == CRM_OK)
            rc = cursor_pull(c, err);
    }
    while (rc == CRM_OK && take && c->key && strcmp(c->key, key) == 0)
        rc = cursor_pull(c, err);
    return rc;
}

/* imp_row_fn over the orders file: checks each key is above the previous
 * one, then walks the lines up to and past it. */
static int scan_order(void *ud, imp_row *row)
{
    scan *s = ud;
    const char *key = order_key_of(&s->ok, row);
    if (!key || (s->prev && strcmp(key, s->prev) <= 0))
        return UNSORTED;
    int rc = keep_copy(&s->prev, &s->cap, key, s->err);
    return rc == CRM_OK ? skip_lines(s->L, key, true, true, s->err) : rc;
}

/* Both files once, keys only: *sorted when the merge can be used; its
 * orphans are then in the reject file. Any doubt (keys out of order, a file
 * unreadable or malformed) answers false with nothing written: staging then
 * does what it always did, errors included. Only running out of memory is
 * an error here. */
static int prescan(imp_ctx *c, imp_lines *L, const char *path, bool *sorted, crm_err *err)
{
    crm_err e = {0};
    scan s = {.L = L, .ok = {.c = c, .col = NONE}, .err = &e};
    int rc = cursor_open(&L->cur, path, c->codec, true, &e);
    if (rc == CRM_OK)
        rc = read_orders(c, scan_order, &s, &e);
    if (rc == CRM_OK) /* the lines past the last order */
        rc = skip_lines(L, NULL, true, false, &e);
    *sorted = rc == CRM_OK;
    cursor_close(&L->cur);
    free(s.prev);
    if (!*sorted)
        orphans_discard(&L->rej);
    if (rc != CRM_ENOMEM)
        return CRM_OK;
    *err = e;
    return rc;
}

/* ---- merge --------------------------------------------------------------------- */

/* Copies s (NULL: NONE) into the generation's arena; false when out of memory. */
static bool wput(wgen *g, const char *s, size_t *off)
{
    *off = NONE;
    if (!s)
        return true;
    size_t len = strlen(s) + 1;
    if (CRM_ARRAY_RESERVE(g->arena, g->cap_arena, g->used + len) != CRM_OK)
        return false;
    memcpy(g->arena + g->used, s, len);
    *off = g->used;
    g->used += len;
    return true;
}

static const char *wget(const wgen *g, size_t off)
{
    return off == NONE ? NULL : g->arena + off;
}

/* Appends the lookahead line to the group being filled. */
static int window_line(wgen *g, const imp_row *row, crm_err *err)
{
    if (CRM_ARRAY_RESERVE(g->l, g->capl, g->nl + 1) != CRM_OK)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    wline *l = &g->l[g->nl];
    l->line = row->line;
    if (!wput(g, imp_get(row, line_names[1]), &l->sku) ||
        !wput(g, imp_get(row, line_names[2]), &l->qty) ||
        !wput(g, imp_get(row, line_names[3]), &l->price))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    g->nl++;
    g->g[g->n - 1].n++;
    return CRM_OK;
}

/* Starts the group of order `key` in gen[1], first making room: when gen[1]
 * is full it becomes gen[0] and the older generation is dropped. */
static int window_group(imp_lines *L, const char *key, crm_err *err)
{
    if (L->gen[1].n >= L->window) {
        wgen old = L->gen[0];
        L->gen[0] = L->gen[1];
        old.n = old.nl = old.used = 0;
        L->gen[1] = old;
    }
    wgen *g = &L->gen[1];
    if (CRM_ARRAY_RESERVE(g->g, g->cap, g->n + 1) != CRM_OK)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    size_t at;
    if (!wput(g, key, &at))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    g->g[g->n++] = (wgroup){.key = at, .first = g->nl, .n = 0};
    return CRM_OK;
}

/* The window's group for `key` (binary search: keys increase), or false. */
static bool window_find(imp_lines *L, const char *key)
{
    for (int gi = 0; gi < 2; gi++) {
        const wgen *g = &L->gen[gi];
        size_t lo = 0, hi = g->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int cmp = strcmp(g->arena + g->g[mid].key, key);
            if (cmp == 0) {
                L->claimed = g;
                L->claimed_at = mid;
                return true;
            }
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return false;
}

/* The last key read into the window, NULL before the first order. */
static const char *window_last(const imp_lines *L)
{
    const wgen *g = L->gen[1].n ? &L->gen[1] : &L->gen[0];
    return g->n ? g->arena + g->g[g->n - 1].key : NULL;
}

/* Reads order `key`'s lines from the file into the window. Lines of lower
 * keys were written as orphans by the pre-scan, or belong to an order row
 * the driver rejected before applying it: they are passed over. */
static int window_take(imp_lines *L, const char *key, crm_err *err)
{
    int rc = skip_lines(L, key, false, false, err);
    if (rc == CRM_OK)
        rc = window_group(L, key, err);
    while (rc == CRM_OK && L->cur.key && strcmp(L->cur.key, key) == 0) {
        rc = window_line(&L->gen[1], &L->cur.row, err);
        if (rc == CRM_OK)
            rc = cursor_pull(&L->cur, err);
    }
    /* the pre-scan read this file whole and in order: it changed since */
    if (rc != CRM_OK && rc != CRM_ENOMEM && rc != CRM_EIO)
        return crm_err_set(err, CRM_EIO, "the lines file changed during the import: run it "
                           "again");
    if (rc == CRM_OK) {
        L->claimed = &L->gen[1];
        L->claimed_at = L->gen[1].n - 1;
    }
    return rc;
}

int imp_lines_claim(imp_ctx *c, const char *order_ext, crm_err *err)
{
    imp_lines *L = c->lines;
    if (!L || !L->merge)
        return CRM_OK;
    L->claimed = NULL;
    if (!order_ext)
        return CRM_OK;
    const char *last = window_last(L);
    if (!last || strcmp(order_ext, last) > 0)
        return window_take(L, order_ext, err);
    if (window_find(L, order_ext))
        return CRM_OK; /* a batch run again (safe mode): the same lines again */
    return crm_err_set(err, CRM_EINTERNAL,
                       "lines: order '%s' comes out of the order the pre-scan saw (after '%s')",
                       order_ext, last);
}

/* ---- an order's lines ------------------------------------------------------------ */

/* Appends one line to o->lines; its errors name the lines file line. */
static int add_line(crm_order *o, const char *sku, const char *qty, const char *price,
                    int64_t line, crm_err *err)
{
    crm_order_line *l = CRM_ARRAY_APPEND(o->lines, o->n_lines);
    if (!l)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    char *end = NULL;
    errno = 0;
    long long q = qty ? strtoll(qty, &end, 10) : 0;
    int rc = CRM_OK;
    if (!sku || !*sku)
        rc = crm_err_set(err, CRM_EINVAL, "sku: is required");
    else if (!qty || end == qty || *end || errno || q <= 0)
        rc = crm_hygiene_reject(err, "quantity", qty, "is not a whole number above 0");
    else if (!price)
        rc = crm_err_set(err, CRM_EINVAL, "unit_price: is required");
    else if (!(l->sku = strdup(sku)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK) {
        l->quantity = q;
        rc = crm_parse_money("unit_price", price, crm_currency_decimals(o->currency),
                             &l->unit_price, err);
    }
    if (rc != CRM_OK)
        crm_err_prefix(err, "lines file line %lld", (long long)line);
    return rc;
}

/* Merge: the claimed group. */
static int merged_lines(imp_lines *L, crm_order *o, crm_err *err)
{
    const wgen *g = L->claimed;
    if (!g || strcmp(g->arena + g->g[L->claimed_at].key, o->external_id) != 0)
        return crm_err_set(err, CRM_EINTERNAL, "lines: order '%s' was not claimed",
                           o->external_id);
    const wgroup *grp = &g->g[L->claimed_at];
    int rc = CRM_OK;
    for (size_t i = grp->first; rc == CRM_OK && i < grp->first + grp->n; i++) {
        const wline *l = &g->l[i];
        rc = add_line(o, wget(g, l->sku), wget(g, l->qty), wget(g, l->price), l->line, err);
    }
    return rc;
}

/* Staging: the order's lines by the index, in file order. */
static int staged_lines(imp_ctx *ctx, crm_order *o, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(ctx->k->store,
        "SELECT sku, quantity, unit_price, line FROM crm_import.imp_lines WHERE order_ext=? "
        "ORDER BY line", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, o->external_id, -1, SQLITE_STATIC);
    int rc = CRM_OK;
    while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW)
        rc = add_line(o, (const char *)sqlite3_column_text(st, 0),
                      (const char *)sqlite3_column_text(st, 1),
                      (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
                      err);
    sqlite3_reset(st);
    return rc;
}

int imp_lines_fill(imp_ctx *ctx, crm_order *o, crm_err *err)
{
    if (!ctx->have_lines || !o->external_id)
        return CRM_OK;
    int rc = ctx->lines->merge ? merged_lines(ctx->lines, o, err) : staged_lines(ctx, o, err);
    if (rc == CRM_OK && !o->n_lines && !o->total)
        rc = crm_err_set(err, CRM_EINVAL, "total: is required (no lines for this order)");
    return rc;
}

/* ---- staging ---------------------------------------------------------------------- */

typedef struct lines_load {
    imp_ctx *ctx;
    crm_err *err;
    line_map map;
} lines_load;

static int line_row(void *ud, imp_row *row)
{
    lines_load *L = ud;
    sqlite3_stmt *st = crm_store_stmt(L->ctx->k->store,
        "INSERT INTO crm_import.imp_lines(order_ext, sku, quantity, unit_price, line) "
        "VALUES(?,?,?,?,?)", L->err);
    if (!st)
        return L->err->code;
    map_line(&L->map, row);
    for (int j = 0; j < 4; j++)
        crm_bind_text(st, j + 1, imp_get(row, line_names[j]));
    sqlite3_bind_int64(st, 5, row->line);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(L->ctx->k->store, "lines file", L->err);
}

/* The lines are staged in a scratch database file, not in TEMP: temp_store
 * is MEMORY (which also holds ATTACH ''), and 16M staged lines took 1.2 GiB
 * there. A file keeps its own bounded page cache. It is unlinked as soon as
 * it is attached, so nothing is left behind, even after a crash. */
static int attach_staging(imp_ctx *c, crm_err *err)
{
    int64_t attached = 0;
    sqlite3_stmt *st = crm_store_stmt(
        c->k->store, "SELECT count(*) FROM pragma_database_list WHERE name='crm_import'", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    if (sqlite3_step(st) == SQLITE_ROW)
        attached = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (attached)
        return CRM_OK;
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/crm-import-lines-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return crm_err_set(err, CRM_EIO, "cannot create a scratch file in %s: %s",
                           tmp && *tmp ? tmp : "/tmp", strerror(errno));
    close(fd);
    char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS crm_import;"
                                "PRAGMA crm_import.journal_mode=OFF;"
                                "PRAGMA crm_import.synchronous=OFF;"
                                "PRAGMA crm_import.cache_size=-8192;",
                                path);
    int rc = sql ? crm_store_exec(c->k->store, sql, err)
                 : crm_err_set(err, CRM_ENOMEM, "out of memory");
    sqlite3_free(sql);
    unlink(path);
    return rc;
}

/* Calls fn inside one transaction (not one per row) that writes only the
 * scratch database. It is committed even when fn fails: its journal is
 * OFF, where SQLite leaves ROLLBACK undefined, and the next load empties
 * the tables it fills anyway. */
static int scratch_transaction(imp_ctx *c, int (*fn)(imp_ctx *, void *, crm_err *), void *ud,
                               crm_err *err)
{
    int rc = crm_kernel_begin(c->k, err);
    if (rc != CRM_OK)
        return rc;
    rc = fn(c, ud, err);
    int done = crm_kernel_commit(c->k, rc == CRM_OK ? err : NULL);
    return rc != CRM_OK ? rc : done;
}

static int load_lines(imp_ctx *c, void *path, crm_err *err)
{
    imp_source src = {.f = fopen(path, "rb"), .codec = c->codec};
    if (!src.f)
        return crm_err_set(err, CRM_EIO, "cannot read %s: %s", (const char *)path,
                           strerror(errno));
    lines_load L = {.ctx = c, .err = err};
    int rc = imp_read_csv(&src, line_row, &L, err);
    fclose(src.f);
    return rc;
}

/* Loads the lines file into crm_import.imp_lines (the original way). */
static int stage(imp_ctx *c, const char *path, crm_err *err)
{
    int rc = attach_staging(c, err);
    if (rc == CRM_OK)
        rc = crm_store_exec(c->k->store,
                            "CREATE TABLE IF NOT EXISTS crm_import.imp_lines(order_ext TEXT,"
                            " sku TEXT, quantity TEXT, unit_price TEXT, line INTEGER);"
                            "CREATE INDEX IF NOT EXISTS crm_import.imp_lines_order ON "
                            "imp_lines(order_ext);"
                            "DELETE FROM crm_import.imp_lines;",
                            err);
    return rc == CRM_OK ? scratch_transaction(c, load_lines, (void *)path, err) : rc;
}

typedef struct keys_load {
    imp_ctx *c;
    order_key ok;
    crm_err *err;
} keys_load;

/* imp_row_fn: stages one orders row's key (NULL keys never match a line). */
static int key_row(void *ud, imp_row *row)
{
    keys_load *K = ud;
    const char *key = order_key_of(&K->ok, row);
    sqlite3_stmt *st = crm_store_stmt(K->c->k->store,
                                      "INSERT INTO crm_import.imp_orders(ext) VALUES(?)", K->err);
    if (!st)
        return K->err->code;
    if (!key)
        return CRM_OK;
    crm_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(K->c->k->store, "orders keys", K->err);
}

static int load_keys(imp_ctx *c, void *ud, crm_err *err)
{
    keys_load K = {.c = c, .ok = {.c = c, .col = NONE}, .err = err};
    (void)ud;
    return read_orders(c, key_row, &K, err);
}

/* Writes the orphans at the sorted line numbers st returns, reading the
 * lines file once more for their cells. */
static int put_orphans(imp_ctx *ctx, sqlite3_stmt *st, const char *path, crm_err *err)
{
    imp_lines *L = ctx->lines;
    cursor c;
    int rc = cursor_open(&c, path, ctx->codec, false, err);
    int step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t line = sqlite3_column_int64(st, 0);
        while (rc == CRM_OK && c.key && c.row.line < line)
            rc = cursor_pull(&c, err);
        if (rc == CRM_OK && c.key && c.row.line == line)
            rc = orphan_put(&L->rej, &c.src, &c.row, err);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(ctx->k->store, "orphan lines", err);
    cursor_close(&c);
    return rc;
}

/* Staging's orphans: the staged lines whose key is not among the orders
 * file's keys (staged too). A malformed orders file fails the import by
 * itself, with the driver's message: its orphans are not reported then. */
static int stage_orphans(imp_ctx *c, const char *path, crm_err *err)
{
    crm_err e = {0};
    int rc = crm_store_exec(c->k->store,
                            "CREATE TABLE IF NOT EXISTS crm_import.imp_orders(ext TEXT);"
                            "DELETE FROM crm_import.imp_orders;",
                            err);
    if (rc != CRM_OK)
        return rc;
    rc = scratch_transaction(c, load_keys, NULL, &e);
    if (rc != CRM_OK) {
        if (rc != CRM_EINVAL)
            *err = e;
        return rc == CRM_EINVAL ? CRM_OK : rc;
    }
    sqlite3_stmt *st = crm_store_stmt(c->k->store,
        "SELECT line FROM crm_import.imp_lines WHERE order_ext IS NULL OR order_ext NOT IN "
        "(SELECT ext FROM crm_import.imp_orders) ORDER BY line", err);
    if (!st)
        return err->code;
    rc = put_orphans(c, st, path, err);
    sqlite3_reset(st);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------ */

int imp_load_lines(imp_ctx *c, const char *path, size_t batch_size, crm_err *err)
{
    imp_lines *L = calloc(1, sizeof *L);
    if (!L)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    c->lines = L;
    imp_rejects_path(path, "csv", L->rej.path, sizeof L->rej.path);
    unlink(L->rej.path); /* a stale reject file from an earlier run would mislead */
    L->window = batch_size ? batch_size : 1;
    bool sorted = false;
    int rc = prescan(c, L, path, &sorted, err);
    if (rc == CRM_OK && sorted) {
        L->merge = true;
        rc = cursor_open(&L->cur, path, c->codec, true, err);
    } else if (rc == CRM_OK) {
        rc = stage(c, path, err);
        if (rc == CRM_OK)
            rc = stage_orphans(c, path, err);
    }
    if (L->rej.f && fflush(L->rej.f) != 0 && rc == CRM_OK)
        rc = crm_err_set(err, CRM_EIO, "cannot write the reject file %s: %s", L->rej.path,
                         strerror(errno));
    if (rc == CRM_OK)
        c->have_lines = true;
    return rc;
}

int64_t imp_lines_orphans(const imp_ctx *c, const char **rejects_path)
{
    const imp_lines *L = c->lines;
    if (rejects_path)
        *rejects_path = L && L->rej.count ? L->rej.path : NULL;
    return L ? L->rej.count : 0;
}

void imp_lines_free(imp_ctx *c)
{
    imp_lines *L = c->lines;
    if (!L)
        return;
    cursor_close(&L->cur);
    for (int i = 0; i < 2; i++) {
        free(L->gen[i].g);
        free(L->gen[i].l);
        free(L->gen[i].arena);
    }
    if (L->rej.f)
        fclose(L->rej.f);
    free(L);
    c->lines = NULL;
}

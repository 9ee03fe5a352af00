/* Duplicate scan: blocking keys, pairwise scoring inside blocks (rules in
 * dedupe.h). Loads a compact copy of the contacts (ids, folded names,
 * email, phone, postal code, birth date): memory is linear in the base. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dedupe.h"
#include "hygiene.h"
#include "model.h"
#include "util.h"

enum {
    C_EMAIL, C_PHONE, C_NAME, C_SIMILAR, C_POSTAL, C_LOCAL, C_BIRTH, C_BIRTH_CONFLICT, N_CRIT
};
static const char *const crit_names[] = {"email",       "phone",      "name",
                                         "similar_name", "postal_code", "email_local",
                                         "birth_date",  "birth_date_conflict", NULL};
static const int crit_default[N_CRIT] = {100, 60, 45, 40, 40, 40, 20, 40};
#define SIMILAR_MIN 0.92

typedef struct rules {
    int w[N_CRIT];
    int min_score;
} rules;

typedef struct rec {
    int64_t id;
    char *first, *last, *full;  /* folded; full = "first last" */
    char *email, *phone, *postal, *birth;
} rec;

/* ---- configuration --------------------------------------------------------------- */

static int load_rules(const crm_config *cfg, int min_score, rules *r, crm_err *err)
{
    memcpy(r->w, crit_default, sizeof r->w);
    r->min_score = 80;
    const crm_node *m = cfg->root ? crm_node_path(cfg->root, "hygiene.duplicates.min_score")
                                  : NULL;
    int64_t v;
    if (m && crm_node_int(m, "hygiene.duplicates.min_score", &v, err) != CRM_OK)
        return CRM_ECONFIG;
    if (m)
        r->min_score = (int)v;
    if (min_score >= 0)
        r->min_score = min_score;
    const crm_node *w = cfg->root ? crm_node_path(cfg->root, "hygiene.duplicates.weights")
                                  : NULL;
    for (size_t i = 0; w && w->kind == CRM_NODE_MAP && i < w->n_items; i++) {
        const crm_node *item = w->items[i];
        int c = (int)crm_strlist_find(crit_names, item->key);
        if (c < 0) {
            const char *near = crm_suggest(item->key, crit_names);
            return crm_node_error(item, "hygiene.duplicates.weights", err,
                                  "unknown criterion '%s'%s%s%s", item->key,
                                  near ? " (did you mean '" : "", near ? near : "",
                                  near ? "'?)" : "");
        }
        if (crm_node_int(item, "hygiene.duplicates.weights", &v, err) != CRM_OK)
            return CRM_ECONFIG;
        r->w[c] = (int)v;
    }
    return CRM_OK;
}

/* ---- similarity ---------------------------------------------------------------- */

/* Jaro-Winkler similarity of two byte strings (folded names are ASCII). */
static double jaro_winkler(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 128)
        la = 128;
    if (lb > 128)
        lb = 128;
    if (!la || !lb)
        return 0.0;
    size_t range = (la > lb ? la : lb) / 2;
    range = range ? range - 1 : 0;
    bool ma[128] = {false}, mb[128] = {false};
    size_t matches = 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > range ? i - range : 0, hi = i + range + 1 < lb ? i + range + 1 : lb;
        for (size_t j = lo; j < hi; j++)
            if (!mb[j] && a[i] == b[j]) {
                ma[i] = mb[j] = true;
                matches++;
                break;
            }
    }
    if (!matches)
        return 0.0;
    size_t t = 0, j = 0;
    for (size_t i = 0; i < la; i++) {
        if (!ma[i])
            continue;
        while (!mb[j])
            j++;
        t += a[i] != b[j++];
    }
    double m = (double)matches;
    double jaro = (m / la + m / lb + (m - t / 2.0) / m) / 3.0;
    size_t prefix = 0;
    while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix])
        prefix++;
    return jaro + prefix * 0.1 * (1.0 - jaro);
}

static bool eq(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

static void add_reason(crm_dup_pair *p, const char *fmt, const char *v)
{
    size_t len = strlen(p->reasons);
    snprintf(p->reasons + len, sizeof p->reasons - len, "%s", len ? "; " : "");
    len = strlen(p->reasons);
    snprintf(p->reasons + len, sizeof p->reasons - len, fmt, v ? v : "");
}

static const char *email_domain(const char *e)
{
    const char *at = e ? strchr(e, '@') : NULL;
    return at ? at + 1 : NULL;
}

static bool same_local(const char *a, const char *b)
{
    const char *da = email_domain(a), *db = email_domain(b);
    size_t la = da ? (size_t)(da - a - 1) : 0;
    return da && db && la >= 4 && la == (size_t)(db - b - 1) && strncmp(a, b, la) == 0 &&
           strcmp(da, db) != 0;
}

/* Name criterion: 2 same, 1 similar, 0 none. */
static int name_match(const rec *a, const rec *b, crm_dup_pair *p)
{
    bool whole = strchr(a->full, ' ') && strchr(b->full, ' ');
    if (eq(a->full, b->full)) {
        add_reason(p, "same name", NULL);
        return 2;
    }
    if (!whole)
        return 0; /* a lone name is too weak for swaps and similarity */
    if (eq(a->first, b->last) && eq(a->last, b->first)) {
        add_reason(p, "same name with first and last swapped", NULL);
        return 2;
    }
    char swapped[512];
    snprintf(swapped, sizeof swapped, "%s %s", b->last, b->first);
    double s1 = jaro_winkler(a->full, b->full), s2 = jaro_winkler(a->full, swapped);
    double s = s1 > s2 ? s1 : s2;
    if (s < SIMILAR_MIN)
        return 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%.2f", s);
    add_reason(p, "similar names (Jaro-Winkler %s)", buf);
    return 1;
}

static int score_pair(const rules *r, const rec *a, const rec *b, crm_dup_pair *p)
{
    int s = 0;
    p->reasons[0] = '\0';
    if (eq(a->email, b->email)) {
        s += r->w[C_EMAIL];
        add_reason(p, "same email %s", a->email);
    }
    if (eq(a->phone, b->phone)) {
        s += r->w[C_PHONE];
        add_reason(p, "same phone %s", a->phone);
    }
    int nm = name_match(a, b, p);
    s += nm == 2 ? r->w[C_NAME] : nm == 1 ? r->w[C_SIMILAR] : 0;
    if (nm && eq(a->postal, b->postal)) {
        s += r->w[C_POSTAL];
        add_reason(p, "same postal code %s", a->postal);
    }
    if (same_local(a->email, b->email)) {
        s += r->w[C_LOCAL];
        add_reason(p, "same email local part at another domain (%s)", b->email);
    }
    if (a->birth && b->birth && strcmp(a->birth, b->birth) != 0) {
        s -= r->w[C_BIRTH_CONFLICT];
        add_reason(p, "different birth dates", NULL);
    } else if (nm && eq(a->birth, b->birth)) {
        s += r->w[C_BIRTH];
        add_reason(p, "same birth date %s", a->birth);
    }
    p->a = a->id < b->id ? a->id : b->id;
    p->b = a->id < b->id ? b->id : a->id;
    p->score = s < 0 ? 0 : s > 100 ? 100 : s;
    return p->score;
}

/* ---- loading -------------------------------------------------------------------- */

static char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t && *t ? strdup((const char *)t) : NULL;
}

static char *fold(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *f = t ? crm_fold_key((const char *)t) : NULL;
    return f ? f : strdup("");
}

static void rec_free(rec *r)
{
    free(r->first);
    free(r->last);
    free(r->full);
    free(r->email);
    free(r->phone);
    free(r->postal);
    free(r->birth);
}

static int read_rec(sqlite3_stmt *st, rec *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->first = fold(st, 1);
    r->last = fold(st, 2);
    r->email = col(st, 3);
    r->phone = col(st, 4);
    r->postal = col(st, 5);
    r->birth = col(st, 6);
    size_t n = strlen(r->first) + strlen(r->last) + 2;
    r->full = malloc(n);
    if (!r->first || !r->last || !r->full)
        return CRM_ENOMEM;
    snprintf(r->full, n, "%s%s%s", r->first, *r->first && *r->last ? " " : "", r->last);
    return CRM_OK;
}

#define SELECT_REC \
    "SELECT id, first_name, last_name, email, phone, postal_code, birth_date FROM contacts "

static int load_all(crm_kernel *k, rec **out, size_t *n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, SELECT_REC "ORDER BY id", err);
    if (!st)
        return err->code;
    size_t cap = 0;
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (CRM_ARRAY_RESERVE(*out, cap, *n + 1) != CRM_OK) {
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory loading contacts");
            break;
        }
        rc = read_rec(st, &(*out)[(*n)++]);
    }
    sqlite3_reset(st);
    if (rc == CRM_ENOMEM)
        crm_err_set(err, rc, "out of memory loading contacts");
    return rc;
}

/* ---- blocking -------------------------------------------------------------------- */

typedef struct entry {
    uint64_t h;
    uint32_t idx;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

static uint64_t hash_key(char type, const char *a, const char *b)
{
    uint64_t h = 14695981039346656037ULL ^ (unsigned char)type;
    h *= 1099511628211ULL;
    for (const char *p = a; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (const char *p = b; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static int push(entries *e, uint64_t h, uint32_t idx)
{
    if (CRM_ARRAY_RESERVE(e->v, e->cap, e->n + 1) != CRM_OK)
        return CRM_ENOMEM;
    e->v[e->n++] = (entry){h, idx};
    return CRM_OK;
}

static int add_keys(entries *e, const rec *r, uint32_t idx)
{
    char a[256], b[256];
    int rc = CRM_OK;
    if (r->email)
        rc |= push(e, hash_key('E', r->email, NULL), idx);
    if (r->phone)
        rc |= push(e, hash_key('P', r->phone, NULL), idx);
    if (*r->last && r->postal)
        rc |= push(e, hash_key('N', r->last, r->postal), idx);
    if (*r->first && *r->last) {
        bool lt = strcmp(r->first, r->last) < 0;
        rc |= push(e, hash_key('S', lt ? r->first : r->last, lt ? r->last : r->first), idx);
    }
    const char *at = r->email ? strchr(r->email, '@') : NULL;
    if (at && at - r->email >= 4) {
        snprintf(a, sizeof a, "%.*s", (int)(at - r->email), r->email);
        rc |= push(e, hash_key('L', a, NULL), idx);
    }
    size_t ll = strlen(r->last);
    if (*r->first && ll >= 3 && r->postal) {
        /* typo keys: first initial + last name's first or last three letters */
        snprintf(a, sizeof a, "%c%.3s", r->first[0], r->last);
        snprintf(b, sizeof b, "%c%s", r->first[0], r->last + ll - 3);
        rc |= push(e, hash_key('K', a, r->postal), idx);
        rc |= push(e, hash_key('J', b, r->postal), idx);
    }
    return rc ? CRM_ENOMEM : CRM_OK;
}

static int cmp_entry(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    return a->h < b->h ? -1 : a->h > b->h ? 1 : (a->idx > b->idx) - (a->idx < b->idx);
}

/* Set of compared pairs (open addressing; 0 = empty). */
typedef struct pairset {
    uint64_t *v;
    size_t cap, n;
} pairset;

static int pairset_add(pairset *s, uint64_t key)
{
    if ((s->n + 1) * 2 > s->cap) {
        pairset g = {calloc(s->cap ? s->cap * 2 : 1 << 16, sizeof *g.v), s->cap ? s->cap * 2 : 1 << 16, 0};
        if (!g.v)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                pairset_add(&g, s->v[i]);
        free(s->v);
        *s = g;
    }
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 16) & (s->cap - 1);
    for (; s->v[i]; i = (i + 1) & (s->cap - 1))
        if (s->v[i] == key)
            return 0;
    s->v[i] = key;
    s->n++;
    return 1;
}

typedef struct results {
    crm_dup_pair *v;
    size_t n, cap;
} results;

static int keep_pair(results *res, const crm_dup_pair *p)
{
    if (CRM_ARRAY_RESERVE(res->v, res->cap, res->n + 1) != CRM_OK)
        return CRM_ENOMEM;
    res->v[res->n++] = *p;
    return CRM_OK;
}

static int compare_block(const rules *r, const rec *recs, const entry *blk, size_t n,
                         pairset *seen, results *res, crm_dedupe_stats *st)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            uint64_t key = ((uint64_t)(blk[i].idx + 1) << 32) | (blk[j].idx + 1);
            int fresh = pairset_add(seen, key);
            if (fresh < 0)
                return CRM_ENOMEM;
            if (!fresh)
                continue;
            st->comparisons++;
            crm_dup_pair p;
            if (score_pair(r, &recs[blk[i].idx], &recs[blk[j].idx], &p) >= r->min_score &&
                keep_pair(res, &p) != CRM_OK)
                return CRM_ENOMEM;
        }
    return CRM_OK;
}

static int cmp_pair(const void *x, const void *y)
{
    const crm_dup_pair *a = x, *b = y;
    if (a->score != b->score)
        return b->score - a->score;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

static int find_pairs(const rules *r, rec *recs, size_t n, results *res,
                      crm_dedupe_stats *st)
{
    entries e = {0};
    pairset seen = {0};
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = add_keys(&e, &recs[i], (uint32_t)i);
    if (rc == CRM_OK && e.n)
        qsort(e.v, e.n, sizeof *e.v, cmp_entry);
    for (size_t i = 0, j; rc == CRM_OK && i < e.n; i = j) {
        for (j = i + 1; j < e.n && e.v[j].h == e.v[i].h; j++)
            ;
        if (j - i > CRM_DEDUPE_MAX_BLOCK)
            st->skipped_blocks++;
        else if (j - i > 1)
            rc = compare_block(r, recs, e.v + i, j - i, &seen, res, st);
    }
    free(e.v);
    free(seen.v);
    if (rc == CRM_OK && res->n)
        qsort(res->v, res->n, sizeof *res->v, cmp_pair);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int crm_dedupe_scan(crm_kernel *k, int min_score,
                    int (*fn)(const crm_dup_pair *p, void *ud), void *ud,
                    crm_dedupe_stats *stats, crm_err *err)
{
    crm_dedupe_stats local;
    crm_dedupe_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    double t0 = now_s();
    rules r;
    rec *recs = NULL;
    size_t n = 0;
    results res = {0};
    int rc = load_rules(k->cfg, min_score, &r, err);
    if (rc == CRM_OK)
        rc = load_all(k, &recs, &n, err);
    if (rc == CRM_OK && (rc = find_pairs(&r, recs, n, &res, st)) != CRM_OK)
        crm_err_set(err, rc, "out of memory comparing contacts");
    st->contacts = (int64_t)n;
    st->pairs = (int64_t)res.n;
    st->seconds = now_s() - t0;
    for (size_t i = 0; rc == CRM_OK && i < res.n; i++)
        if (fn(&res.v[i], ud))
            break;
    for (size_t i = 0; i < n; i++)
        rec_free(&recs[i]);
    free(recs);
    free(res.v);
    return rc;
}

static int load_one(crm_kernel *k, int64_t id, rec *r, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, SELECT_REC "WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_ROW
                 ? read_rec(st, r)
                 : crm_err_set(err, CRM_ENOTFOUND, "no contact with id %lld", (long long)id);
    sqlite3_reset(st);
    return rc;
}

int crm_dedupe_score(crm_kernel *k, int64_t a, int64_t b, crm_dup_pair *out, crm_err *err)
{
    rules r;
    rec ra = {0}, rb = {0};
    int rc = load_rules(k->cfg, -1, &r, err);
    if (rc == CRM_OK)
        rc = load_one(k, a, &ra, err);
    if (rc == CRM_OK)
        rc = load_one(k, b, &rb, err);
    if (rc == CRM_OK)
        score_pair(&r, &ra, &rb, out);
    rec_free(&ra);
    rec_free(&rb);
    return rc;
}

/* ---- one candidate against the base ------------------------------------------------ */

#define MATCH_MAX 512 /* candidates scored per contact; a block the scan would skip is capped */

typedef struct cands {
    int64_t v[MATCH_MAX];
    size_t n;
} cands;

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static int rec_from_contact(const crm_contact *c, rec *r)
{
    memset(r, 0, sizeof *r);
    r->id = c->id;
    r->first = c->first_name ? crm_fold_key(c->first_name) : strdup("");
    r->last = c->last_name ? crm_fold_key(c->last_name) : strdup("");
    r->email = dup_or_null(c->email);
    r->phone = dup_or_null(c->phone);
    r->postal = dup_or_null(c->postal_code);
    r->birth = dup_or_null(c->birth_date);
    if (!r->first || !r->last)
        return CRM_ENOMEM;
    size_t n = strlen(r->first) + strlen(r->last) + 2;
    if (!(r->full = malloc(n)))
        return CRM_ENOMEM;
    snprintf(r->full, n, "%s%s%s", r->first, *r->first && *r->last ? " " : "", r->last);
    return CRM_OK;
}

/* Whether a stored folded name could meet the name criterion against r's
 * (equal, swapped or similar): the postal-code lookups return whole blocks,
 * and a contact there scores nothing without a name match. Looser than
 * name_match (which compares with the other side swapped), never stricter. */
#define NAME_PREFILTER 0.85
static bool name_may_match(const rec *r, const char *swapped, const char *name_key)
{
    if (!name_key || !*name_key)
        return false;
    if (strcmp(r->full, name_key) == 0 || strcmp(swapped, name_key) == 0)
        return true;
    /* The scan's blocks within a postal code: the same last name, or the same
     * first initial (typo keys). Checked first: it is cheap and rejects most. */
    size_t ln = strlen(r->last), lk = strlen(name_key);
    bool same_last = ln && lk > ln && name_key[lk - ln - 1] == ' ' &&
                     strcmp(name_key + lk - ln, r->last) == 0;
    if (same_last || name_key[0] == r->full[0])
        if (jaro_winkler(r->full, name_key) >= NAME_PREFILTER)
            return true;
    return *swapped && name_key[0] == swapped[0] &&
           jaro_winkler(swapped, name_key) >= NAME_PREFILTER;
}

/* Adds the ids `sql` returns for ?1 = a, ?2 = b (b may be NULL: unbound);
 * with `me`, only those whose name_key (column 1) may match me's name. */
static int collect(crm_kernel *k, const char *sql, const char *a, const char *b, int64_t self,
                   const rec *me, const char *swapped, cands *cs, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int step;
    while (cs->n < MATCH_MAX && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool seen = id == self ||
                    (me && !name_may_match(me, swapped, (const char *)sqlite3_column_text(st, 1)));
        for (size_t i = 0; !seen && i < cs->n; i++)
            seen = cs->v[i] == id;
        if (!seen)
            cs->v[cs->n++] = id;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return CRM_OK;
}

/* The lookups, one per blocking key; each is served by an index (schema.c).
 * Email, phone and email local part are scored whatever the names; the
 * postal-code blocks only for a name that may match. A statement costs
 * more than its seek: the caller that checked email and phone skips them. */
static int candidates(crm_kernel *k, const rules *ru, const crm_contact *c, const rec *r,
                      int64_t self, unsigned flags, cands *cs, crm_err *err)
{
    int rc = CRM_OK;
    char swapped[512] = "";
    if (*r->first && *r->last)
        snprintf(swapped, sizeof swapped, "%s %s", r->last, r->first);
    bool keys = !(flags & CRM_DEDUPE_KEYS_CHECKED);
    if (keys && r->email)
        rc = collect(k, "SELECT id FROM contacts WHERE email=?1", r->email, NULL, self, NULL,
                     NULL, cs, err);
    if (rc == CRM_OK && keys && r->phone)
        rc = collect(k, "SELECT id FROM contacts WHERE phone=?1 LIMIT 100", r->phone, NULL, self,
                     NULL, NULL, cs, err);
    const char *at = r->email ? strchr(r->email, '@') : NULL;
    if (rc == CRM_OK && at && at - r->email >= 4) {
        /* same local part at any domain: a range of the email index ('A' follows '@') */
        char lo[256], hi[256];
        snprintf(lo, sizeof lo, "%.*s@", (int)(at - r->email), r->email);
        snprintf(hi, sizeof hi, "%.*sA", (int)(at - r->email), r->email);
        rc = collect(k, "SELECT id FROM contacts WHERE email>=?1 AND email<?2 LIMIT 100", lo, hi,
                     self, NULL, NULL, cs, err);
    }
    /* A namesake sharing nothing the other look-ups find (same last name and
     * postal code is a postal block) scores at most name + birth date: below
     * the threshold, looking namesakes up would load many for nothing in a
     * large base. A swapped name in the same postal code has no other way. */
    bool by_name = ru->w[C_NAME] + (ru->w[C_BIRTH] > 0 ? ru->w[C_BIRTH] : 0) >= ru->min_score ||
                   !c->last_name || !*c->last_name; /* a lone first name has no postal block */
    if (rc == CRM_OK && by_name && *r->full)
        rc = collect(k, "SELECT id FROM contacts WHERE name_key=?1 LIMIT 100", r->full, NULL,
                     self, NULL, NULL, cs, err);
    if (rc == CRM_OK && *swapped)
        rc = collect(k, "SELECT id FROM contacts WHERE name_key=?1 LIMIT 100", swapped, NULL,
                     self, NULL, NULL, cs, err);
    /* Same postal code and the head or tail of the last name (typos, similar
     * names), as the scan's typo keys; the expressions are the indexes' own.
     * (One statement with IN or UNION ALL costs more than two.) */
    if (rc == CRM_OK && r->postal && c->last_name && *c->last_name)
        rc = collect(k,
                     "SELECT id, name_key FROM contacts WHERE postal_code=?1 AND "
                     "lower(substr(last_name, 1, 3))=lower(substr(?2, 1, 3)) LIMIT 500",
                     r->postal, c->last_name, self, r, swapped, cs, err);
    if (rc == CRM_OK && r->postal && c->last_name && *c->last_name)
        rc = collect(k,
                     "SELECT id, name_key FROM contacts WHERE postal_code=?1 AND "
                     "lower(substr(last_name, -3))=lower(substr(?2, -3)) LIMIT 500",
                     r->postal, c->last_name, self, r, swapped, cs, err);
    return rc;
}

int crm_dedupe_match(crm_kernel *k, const crm_contact *c, int64_t self, int min_score,
                     unsigned flags, crm_dup_pair *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    out->b = self;
    rules r;
    rec me;
    cands store, *cs = &store; /* not zeroed: a calloc of it cost more than the look-ups */
    cs->n = 0;
    int rc = load_rules(k->cfg, min_score, &r, err);
    if (rc != CRM_OK)
        return rc;
    if ((rc = rec_from_contact(c, &me)) != CRM_OK)
        crm_err_set(err, rc, "out of memory");
    if (rc == CRM_OK)
        rc = candidates(k, &r, c, &me, self, flags, cs, err);
    for (size_t i = 0; rc == CRM_OK && i < cs->n; i++) {
        rec other = {0};
        crm_dup_pair p;
        if ((rc = load_one(k, cs->v[i], &other, err)) != CRM_OK) {
            rec_free(&other);
            break;
        }
        int s = score_pair(&r, &me, &other, &p);
        if (s >= r.min_score && (!out->a || s > out->score || (s == out->score && other.id < out->a))) {
            out->a = other.id;
            out->score = s;
            memcpy(out->reasons, p.reasons, sizeof out->reasons);
        }
        rec_free(&other);
    }
    rec_free(&me);
    return rc;
}

/* segmentation plugin — RFM scores, cut points and the (R, F) grid. */
#include "rfm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key; /* order-preserving image of the signed key: better is larger */
    uint32_t idx;
} keyed;

static uint64_t flip(int64_t v)
{
    return (uint64_t)v ^ (UINT64_C(1) << 63);
}

/* LSD radix sort on 8-bit digits, skipping digits that are the same in every
 * key (frequency needs one pass, recency two). Stable; O(n) per used digit. */
static void radix_sort(keyed *a, keyed *tmp, size_t n)
{
    if (n < 2)
        return;
    uint64_t all_or = 0, all_and = ~UINT64_C(0);
    for (size_t i = 0; i < n; i++) {
        all_or |= a[i].key;
        all_and &= a[i].key;
    }
    uint64_t varying = all_or ^ all_and;
    keyed *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if (((varying >> shift) & 0xff) == 0)
            continue;
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & 0xff]++;
        size_t pos = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
        keyed *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

int seg_rfm_rank_score(int64_t r, int64_t n)
{
    if (n <= 0 || r < 1 || r > n)
        return 0;
    /* 5 (r - 1) fits: r <= n and n is a count of things in memory. */
    return 1 + (int)((5 * (r - 1)) / n);
}

enum { MET_R, MET_F, MET_M };

static int64_t metric_key(const seg_rfm_row *row, int which)
{
    switch (which) {
    case MET_R:
        return -row->recency_days; /* fewer days is better */
    case MET_F:
        return row->frequency;
    default:
        return row->monetary;
    }
}

static void set_score(seg_rfm_row *row, int which, int s)
{
    if (which == MET_R)
        row->r = s;
    else if (which == MET_F)
        row->f = s;
    else
        row->m = s;
}

static void set_cut(seg_rfm_cuts *cuts, int which, int s, int64_t key)
{
    if (which == MET_R) {
        cuts->recency[s] = -key;
        cuts->has_recency[s] = 1;
    } else if (which == MET_F) {
        cuts->frequency[s] = key;
        cuts->has_frequency[s] = 1;
    } else {
        cuts->monetary[s] = key;
        cuts->has_monetary[s] = 1;
    }
}

int seg_rfm_score(seg_rfm_row *rows, size_t n, seg_rfm_cuts *cuts)
{
    if (cuts) {
        memset(cuts, 0, sizeof *cuts);
        cuts->n = (int64_t)n;
    }
    if (n == 0)
        return 0;
    if (n > UINT32_MAX)
        return -1;
    keyed *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp);
    if (!a || !tmp) {
        free(a);
        free(tmp);
        return -1;
    }
    for (int which = MET_R; which <= MET_M; which++) {
        for (size_t i = 0; i < n; i++) {
            a[i].key = flip(metric_key(&rows[i], which));
            a[i].idx = (uint32_t)i;
        }
        radix_sort(a, tmp, n);
        int last_score = 1;
        for (size_t i = 0; i < n;) {
            /* i is the 0-based position of the first of a run of equal
             * values: every member has rank i + 1. */
            size_t j = i;
            int s = seg_rfm_rank_score((int64_t)i + 1, (int64_t)n);
            while (j < n && a[j].key == a[i].key)
                set_score(&rows[a[j++].idx], which, s);
            if (cuts)
                for (int t = last_score + 1; t <= s; t++)
                    set_cut(cuts, which, t, metric_key(&rows[a[i].idx], which));
            if (s > last_score)
                last_score = s;
            i = j;
        }
    }
    free(a);
    free(tmp);
    return 0;
}

static int score_up(const int64_t *cut, const unsigned char *has, int64_t v)
{
    int s = 1;
    for (int t = 2; t <= SEG_SCORES; t++)
        if (has[t] && v >= cut[t])
            s = t;
    return s;
}

void seg_rfm_score_with_cuts(const seg_rfm_cuts *cuts, seg_rfm_row *row)
{
    int s = 1;
    for (int t = 2; t <= SEG_SCORES; t++)
        if (cuts->has_recency[t] && row->recency_days <= cuts->recency[t])
            s = t;
    row->r = s;
    row->f = score_up(cuts->frequency, cuts->has_frequency, row->frequency);
    row->m = score_up(cuts->monetary, cuts->has_monetary, row->monetary);
}

int64_t seg_rfm_recency_days(int64_t last_at, int64_t as_of)
{
    int64_t d = as_of - last_at;
    /* floor division, also right for d < 0 (which the window excludes) */
    return d >= 0 ? d / SEG_DAY_SECONDS : -((-d + SEG_DAY_SECONDS - 1) / SEG_DAY_SECONDS);
}

int64_t seg_rfm_window_start(int64_t as_of, int64_t window_days)
{
    if (window_days <= 0)
        return INT64_MIN;
    return as_of - window_days * SEG_DAY_SECONDS;
}

/* ---- grid ---------------------------------------------------------------- */

#define CELL(n, s, rl, rh, fl, fh) {n, s, rl, rh, fl, fh}
static const seg_grid_cell default_cells[] = {
    CELL("Champions", "champions", 5, 5, 4, 5),
    CELL("Loyal", "loyal", 3, 4, 4, 5),
    CELL("Potential Loyalists", "potential_loyalists", 4, 5, 2, 3),
    CELL("New", "new", 5, 5, 1, 1),
    CELL("Promising", "promising", 4, 4, 1, 1),
    CELL("Need Attention", "need_attention", 3, 3, 3, 3),
    CELL("About to Sleep", "about_to_sleep", 3, 3, 1, 2),
    CELL("At Risk", "at_risk", 1, 2, 3, 4),
    CELL("Can't Lose Them", "cant_lose_them", 1, 2, 5, 5),
    CELL("Hibernating", "hibernating", 1, 2, 1, 2),
};
static const seg_grid default_grid = {default_cells,
                                      sizeof default_cells / sizeof default_cells[0]};

const seg_grid *seg_grid_default(void)
{
    return &default_grid;
}

int seg_grid_match(const seg_grid *grid, int r, int f)
{
    for (size_t i = 0; i < grid->n; i++) {
        const seg_grid_cell *c = &grid->cells[i];
        if (r >= c->r_lo && r <= c->r_hi && f >= c->f_lo && f <= c->f_hi)
            return (int)i;
    }
    return -1;
}

char *seg_slugify(const char *name, char *out, size_t size)
{
    size_t o = 0;
    int pending = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p && o + 1 < size) {
        unsigned char c = *p;
        if (c == '\'') {
            p++;
            continue;
        }
        if (c == 0xE2 && p[1] == 0x80 && p[2] == 0x99) { /* U+2019 */
            p += 3;
            continue;
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
            if (pending && o > 0 && o + 2 < size)
                out[o++] = '_';
            pending = 0;
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        } else {
            pending = 1;
        }
        p++;
    }
    if (size)
        out[o] = 0;
    return out;
}

int seg_parse_range(const char *text, int *lo, int *hi)
{
    const char *p = text;
    while (*p == ' ')
        p++;
    if (*p < '1' || *p > '5')
        return -1;
    int a = *p++ - '0', b = a;
    while (*p == ' ')
        p++;
    if (*p == '-' || (unsigned char)*p == 0xE2) {
        if (*p == '-')
            p++;
        else if ((unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x93)
            p += 3;
        else
            return -1;
        while (*p == ' ')
            p++;
        if (*p < '1' || *p > '5')
            return -1;
        b = *p++ - '0';
    }
    while (*p == ' ')
        p++;
    if (*p || b < a)
        return -1;
    *lo = a;
    *hi = b;
    return 0;
}

/* segmentation plugin — RFM computation, free of any SDK or database.
 *
 * Everything here works on caller-owned arrays so that it can be unit tested
 * directly and run over millions of contacts with a plain C loop. */
#ifndef SEG_RFM_H
#define SEG_RFM_H

#include <stddef.h>
#include <stdint.h>

#define SEG_DAY_SECONDS 86400
#define SEG_SCORES 5

/* One scored contact. The caller fills the metrics; seg_rfm_score fills r, f, m. */
typedef struct seg_rfm_row {
    int64_t contact_id;
    int64_t recency_days; /* whole days from the last qualifying order to T */
    int64_t frequency;    /* number of qualifying orders */
    int64_t monetary;     /* their total, minor units of the configured currency */
    int64_t last_at;      /* placed_at of the last qualifying order (informative) */
    int r, f, m;          /* 1..5 */
} seg_rfm_row;

/* Cut points: for score s (2..5), cut.x[s] is the worst value still scoring at
 * least s (recency: the largest number of days; frequency and monetary: the
 * smallest value). has[s] is 0 when no contact reached s (possible with fewer
 * than five contacts); index 0 and 1 are unused. */
typedef struct seg_rfm_cuts {
    int64_t recency[SEG_SCORES + 1];
    int64_t frequency[SEG_SCORES + 1];
    int64_t monetary[SEG_SCORES + 1];
    unsigned char has_recency[SEG_SCORES + 1];
    unsigned char has_frequency[SEG_SCORES + 1];
    unsigned char has_monetary[SEG_SCORES + 1];
    int64_t n; /* contacts scored when the cut points were taken */
} seg_rfm_cuts;

/* The score of the value of rank r (1-based, ties take the lowest rank) among
 * n: 1 + floor(5 (r - 1) / n). Returns 0 when r or n is out of range. */
int seg_rfm_rank_score(int64_t r, int64_t n);

/* Scores `n` rows in place: r, f and m get 1..5 by the tie rule (sort so that
 * better is later; r = 1-based rank of the value, ties taking the lowest
 * rank; score = 1 + floor(5 (r - 1) / n)). When `cuts` is not NULL it gets
 * the cut points of the result. Returns 0, or -1 when out of memory (rows
 * untouched then). O(n log n) time, O(n) temporary memory. */
int seg_rfm_score(seg_rfm_row *rows, size_t n, seg_rfm_cuts *cuts);

/* Scores one contact's metrics against stored cut points: the highest s whose
 * cut point the value reaches (1 when none). Used between full refreshes. */
void seg_rfm_score_with_cuts(const seg_rfm_cuts *cuts, seg_rfm_row *row);

/* recency_days for an order placed at `last_at` seen from `as_of` (seconds
 * since the epoch): floor((as_of - last_at) / 86400); as_of > last_at. */
int64_t seg_rfm_recency_days(int64_t last_at, int64_t as_of);

/* The start of the window of `window_days` days before `as_of`; INT64_MIN when
 * window_days is 0 (all history). Qualifying: start <= placed_at < as_of. */
int64_t seg_rfm_window_start(int64_t as_of, int64_t window_days);

/* ---- the (R, F) grid ---------------------------------------------------- */

#define SEG_NAME_MAX 64

typedef struct seg_grid_cell {
    char name[SEG_NAME_MAX]; /* shown as written: "Can't Lose Them" */
    char slug[SEG_NAME_MAX]; /* addressed by: "cant_lose_them" */
    int r_lo, r_hi, f_lo, f_hi;
} seg_grid_cell;

typedef struct seg_grid {
    const seg_grid_cell *cells;
    size_t n;
} seg_grid;

/* The default grid (Champions ... Hibernating), static storage. */
const seg_grid *seg_grid_default(void);

/* The first cell of `grid` that matches (r, f) — first match wins — or -1. */
int seg_grid_match(const seg_grid *grid, int r, int f);

/* Writes the slug of `name` into out (size >= 1): ASCII letters and digits
 * lower-cased, apostrophes (' and U+2019) dropped, every other run of
 * characters one '_', no leading or trailing '_'. Returns out. */
char *seg_slugify(const char *name, char *out, size_t size);

/* Parses a range "5", "4-5" or "4–5" (en dash) into lo..hi within 1..5.
 * Returns 0, or -1 when malformed. */
int seg_parse_range(const char *text, int *lo, int *hi);

#endif

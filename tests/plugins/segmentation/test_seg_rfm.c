/* Unit tests of the segmentation plugin's pure RFM code (no SDK, no database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rfm.h"

static void test_rank_score_formula(void **state)
{
    (void)state;
    assert_int_equal(seg_rfm_rank_score(1, 10), 1);
    assert_int_equal(seg_rfm_rank_score(2, 10), 1);
    assert_int_equal(seg_rfm_rank_score(3, 10), 2);
    assert_int_equal(seg_rfm_rank_score(10, 10), 5);
    assert_int_equal(seg_rfm_rank_score(1, 1), 1);
    assert_int_equal(seg_rfm_rank_score(2, 2), 3);
    assert_int_equal(seg_rfm_rank_score(0, 2), 0);
    assert_int_equal(seg_rfm_rank_score(3, 2), 0);
}

static void test_tie_rule(void **state)
{
    (void)state;
    /* frequency 10,20,20,30,40: ranks 1,2,2,4,5 of 5 -> 1,2,2,4,5 */
    int64_t fr[] = {20, 10, 40, 20, 30};
    int want_f[] = {2, 1, 5, 2, 4};
    /* recency 1,1,5,5,5,9 days: better later => order 9,5,5,5,1,1 ranks 1,2,2,2,5,5 */
    int64_t rd[] = {5, 1, 9, 5, 1, 5};
    int want_r[] = {1, 4, 1, 1, 4, 1};
    seg_rfm_row rows[6];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 6; i++) {
        rows[i].contact_id = i + 1;
        rows[i].recency_days = rd[i];
        rows[i].frequency = i < 5 ? fr[i] : 20;
        rows[i].monetary = 100; /* all tied: everybody rank 1 -> score 1 */
    }
    assert_int_equal(seg_rfm_score(rows, 6, NULL), 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(rows[i].r, want_r[i]);
        assert_int_equal(rows[i].m, 1);
    }
    /* with six rows the 20s are ranks 2,2,2 of 6 -> 1 + 5/6 = 1 */
    seg_rfm_row five[5];
    memset(five, 0, sizeof five);
    for (int i = 0; i < 5; i++)
        five[i].frequency = fr[i];
    assert_int_equal(seg_rfm_score(five, 5, NULL), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(five[i].f, want_f[i]);
}

/* Independent O(n^2) reference straight from the definition. */
static int ref_score(const int64_t *key, size_t n, size_t i)
{
    int64_t worse = 0;
    for (size_t j = 0; j < n; j++)
        if (key[j] < key[i])
            worse++;
    return 1 + (int)(5 * worse / (int64_t)n);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random_against_reference_and_cuts(void **state)
{
    (void)state;
    for (size_t n = 1; n <= 600; n += (n < 12 ? 1 : 97)) {
        seg_rfm_row *rows = calloc(n, sizeof *rows);
        int64_t *kr = malloc(n * 8), *kf = malloc(n * 8), *km = malloc(n * 8);
        for (size_t i = 0; i < n; i++) {
            rows[i].contact_id = (int64_t)i + 1;
            rows[i].recency_days = (int64_t)(xr() % 40);
            rows[i].frequency = 1 + (int64_t)(xr() % 6);
            rows[i].monetary = (int64_t)(xr() % 100000) - (i % 7 == 0 ? 500000 : 0);
            kr[i] = -rows[i].recency_days;
            kf[i] = rows[i].frequency;
            km[i] = rows[i].monetary;
        }
        seg_rfm_cuts cuts;
        assert_int_equal(seg_rfm_score(rows, n, &cuts), 0);
        assert_int_equal(cuts.n, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(rows[i].r, ref_score(kr, n, i));
            assert_int_equal(rows[i].f, ref_score(kf, n, i));
            assert_int_equal(rows[i].m, ref_score(km, n, i));
            /* the cut points reproduce every score of the refresh */
            seg_rfm_row copy = rows[i];
            copy.r = copy.f = copy.m = 0;
            seg_rfm_score_with_cuts(&cuts, &copy);
            assert_int_equal(copy.r, rows[i].r);
            assert_int_equal(copy.f, rows[i].f);
            assert_int_equal(copy.m, rows[i].m);
        }
        free(rows);
        free(kr);
        free(kf);
        free(km);
    }
}

static void test_cuts_for_new_values(void **state)
{
    (void)state;
    seg_rfm_row rows[10];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 10; i++) {
        rows[i].recency_days = 10 * (i + 1); /* 10..100 */
        rows[i].frequency = i + 1;           /* 1..10 */
        rows[i].monetary = 1000 * (i + 1);
    }
    seg_rfm_cuts c;
    seg_rfm_score(rows, 10, &c);
    /* frequency ranks: 1,2 -> 1; 3,4 -> 2; ... 9,10 -> 5 */
    assert_int_equal(c.frequency[2], 3);
    assert_int_equal(c.frequency[5], 9);
    assert_int_equal(c.recency[5], 20);
    assert_int_equal(c.recency[2], 80);
    seg_rfm_row x = {0};
    x.recency_days = 0;
    x.frequency = 100;
    x.monetary = 0;
    seg_rfm_score_with_cuts(&c, &x);
    assert_int_equal(x.r, 5);
    assert_int_equal(x.f, 5);
    assert_int_equal(x.m, 1);
    x.recency_days = 1000;
    x.frequency = 4;
    x.monetary = 5500;
    seg_rfm_score_with_cuts(&c, &x);
    assert_int_equal(x.r, 1);
    assert_int_equal(x.f, 2);
    assert_int_equal(x.m, 3);
}

static void test_small_populations(void **state)
{
    (void)state;
    seg_rfm_row one = {0};
    one.frequency = 3;
    seg_rfm_cuts c;
    assert_int_equal(seg_rfm_score(&one, 1, &c), 0);
    assert_int_equal(one.r, 1);
    assert_int_equal(one.f, 1);
    assert_int_equal(seg_rfm_score(NULL, 0, &c), 0);
    assert_int_equal(c.n, 0);
    seg_rfm_row x = {0};
    seg_rfm_score_with_cuts(&c, &x);
    assert_int_equal(x.r, 1);
}

static void test_window_and_recency(void **state)
{
    (void)state;
    int64_t T = 1700000000;
    assert_int_equal(seg_rfm_recency_days(T - 1, T), 0);
    assert_int_equal(seg_rfm_recency_days(T - 86400, T), 1);
    assert_int_equal(seg_rfm_recency_days(T - 86401, T), 1);
    assert_int_equal(seg_rfm_recency_days(T - 2 * 86400 + 1, T), 1);
    assert_true(seg_rfm_window_start(T, 0) < -((int64_t)1 << 62));
    assert_int_equal(seg_rfm_window_start(T, 365), T - 365 * 86400LL);
}

static void test_default_grid(void **state)
{
    (void)state;
    const seg_grid *g = seg_grid_default();
    const char *want[6][6] = {{0}};
    /* every cell of the 5x5 matrix is covered by the default grid */
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            assert_true(seg_grid_match(g, r, f) >= 0);
    want[5][5] = "champions";
    want[5][4] = "champions";
    want[4][5] = "loyal";
    want[3][4] = "loyal";
    want[5][2] = "potential_loyalists";
    want[4][3] = "potential_loyalists";
    want[5][1] = "new";
    want[4][1] = "promising";
    want[3][3] = "need_attention";
    want[3][2] = "about_to_sleep";
    want[2][4] = "at_risk";
    want[1][3] = "at_risk";
    want[1][5] = "cant_lose_them";
    want[2][1] = "hibernating";
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            if (want[r][f])
                assert_string_equal(g->cells[seg_grid_match(g, r, f)].slug, want[r][f]);
    assert_string_equal(g->cells[seg_grid_match(g, 1, 5)].name, "Can't Lose Them");
}

static void test_first_match_wins(void **state)
{
    (void)state;
    seg_grid_cell cells[2] = {{"Everyone", "everyone", 1, 5, 1, 5}, {"Top", "top", 5, 5, 5, 5}};
    seg_grid g = {cells, 2};
    assert_int_equal(seg_grid_match(&g, 5, 5), 0);
    seg_grid_cell gap[1] = {{"Top", "top", 5, 5, 5, 5}};
    seg_grid g2 = {gap, 1};
    assert_int_equal(seg_grid_match(&g2, 1, 1), -1);
}

static void test_slug_and_range(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(seg_slugify("Can't Lose Them", b, sizeof b), "cant_lose_them");
    assert_string_equal(seg_slugify("Can\xE2\x80\x99t Lose Them", b, sizeof b), "cant_lose_them");
    assert_string_equal(seg_slugify("  At  Risk! ", b, sizeof b), "at_risk");
    assert_string_equal(seg_slugify("Champions", b, sizeof b), "champions");
    assert_string_equal(seg_slugify("VIP 2024", b, sizeof b), "vip_2024");
    int lo, hi;
    assert_int_equal(seg_parse_range("4-5", &lo, &hi), 0);
    assert_int_equal(lo, 4);
    assert_int_equal(hi, 5);
    assert_int_equal(seg_parse_range("3", &lo, &hi), 0);
    assert_int_equal(lo, 3);
    assert_int_equal(hi, 3);
    assert_int_equal(seg_parse_range("1\xE2\x80\x93" "2", &lo, &hi), 0);
    assert_int_equal(hi, 2);
    assert_int_equal(seg_parse_range("5-4", &lo, &hi), -1);
    assert_int_equal(seg_parse_range("0", &lo, &hi), -1);
    assert_int_equal(seg_parse_range("6", &lo, &hi), -1);
    assert_int_equal(seg_parse_range("4-", &lo, &hi), -1);
    assert_int_equal(seg_parse_range("", &lo, &hi), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_score_formula),
        cmocka_unit_test(test_tie_rule),
        cmocka_unit_test(test_random_against_reference_and_cuts),
        cmocka_unit_test(test_cuts_for_new_values),
        cmocka_unit_test(test_small_populations),
        cmocka_unit_test(test_window_and_recency),
        cmocka_unit_test(test_default_grid),
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_slug_and_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

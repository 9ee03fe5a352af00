/* Unit tests of the segmentation plugin's churn points and reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "churn.h"

static const seg_churn_reason *find(const seg_churn_result *r, const char *code)
{
    for (size_t i = 0; i < r->nreasons; i++)
        if (strcmp(r->reasons[i].code, code) == 0)
            return &r->reasons[i];
    return NULL;
}

static void test_no_risk(void **state)
{
    (void)state;
    seg_churn_config cfg;
    seg_churn_config_default(&cfg);
    seg_churn_input in = {0};
    in.orders = 4;
    in.days_since_last = 20;
    in.cycle_days = 30;
    in.emails_sent = 5;
    in.emails_engaged = 2;
    seg_churn_result r;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 0);
    assert_int_equal(r.nreasons, 0);
    assert_int_equal(r.level, 0);
}

static void test_inactivity_uses_own_cycle_and_cap(void **state)
{
    (void)state;
    seg_churn_config cfg;
    seg_churn_config_default(&cfg);
    seg_churn_input in = {0};
    in.orders = 5;
    in.cycle_days = 30;
    in.days_since_last = 30 + 7 * 3 + 6; /* 3 whole weeks past the cycle */
    seg_churn_result r;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 15);
    const seg_churn_reason *x = find(&r, "inactivity");
    assert_non_null(x);
    assert_int_equal(x->points, 15);
    assert_non_null(strstr(x->text, "3 weeks past the contact's usual 30-day cycle"));

    in.days_since_last = 1000;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, cfg.inactivity_cap);
    assert_int_equal(r.level, 1);

    /* one order: no cycle of its own, the default applies */
    in.orders = 1;
    in.cycle_days = 0;
    in.days_since_last = 60 + 14;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 10);
    assert_non_null(strstr(find(&r, "inactivity")->text, "default 60-day"));

    /* no orders at all: inactivity does not apply */
    in.orders = 0;
    seg_churn_score(&cfg, &in, &r);
    assert_null(find(&r, "inactivity"));
}

static void test_low_engagement(void **state)
{
    (void)state;
    seg_churn_config cfg;
    seg_churn_config_default(&cfg);
    seg_churn_input in = {0};
    in.emails_sent = 12;
    in.emails_engaged = 0;
    seg_churn_result r;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 20);
    assert_non_null(strstr(find(&r, "low_engagement")->text, "12 emails"));
    in.emails_engaged = 2; /* 16% >= 10% */
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 0);
    in.emails_sent = 2; /* too few to judge */
    in.emails_engaged = 0;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 0);
}

static void test_signals_and_levels(void **state)
{
    (void)state;
    seg_churn_config cfg;
    seg_churn_config_default(&cfg);
    assert_true(seg_churn_signal_matches(&cfg.signals[0], "web", "Visited /Returns/form"));
    assert_false(seg_churn_signal_matches(&cfg.signals[0], "email", "/returns"));
    assert_false(seg_churn_signal_matches(&cfg.signals[0], "web", NULL));
    assert_true(seg_churn_signal_matches(&cfg.signals[1], "web", "page /cancel-subscription"));

    seg_churn_input in = {0};
    in.orders = 3;
    in.cycle_days = 20;
    in.days_since_last = 20 + 7 * 4; /* 20 points */
    in.signal_counts[0] = 3;         /* 30 capped to 20 */
    in.signal_counts[1] = 1;         /* 25 */
    seg_churn_result r;
    seg_churn_score(&cfg, &in, &r);
    assert_int_equal(r.score, 65);
    assert_int_equal(r.nreasons, 3);
    assert_int_equal(find(&r, "signal:returns_page")->points, 20);
    assert_int_equal(find(&r, "signal:cancel_page")->points, 25);
    int64_t sum = 0;
    for (size_t i = 0; i < r.nreasons; i++)
        sum += r.reasons[i].points;
    assert_int_equal(sum, r.score); /* every point has a reason */
    assert_int_equal(r.level, 1);
    assert_int_equal(seg_churn_level(&cfg, 70), 2);
    assert_int_equal(seg_churn_level(&cfg, 39), 0);
}

static void test_median(void **state)
{
    (void)state;
    int64_t a[] = {30, 10, 20};
    assert_int_equal(seg_median(a, 3), 20);
    int64_t b[] = {40, 10, 20, 30};
    assert_int_equal(seg_median(b, 4), 25);
    assert_int_equal(seg_median(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_risk),
        cmocka_unit_test(test_inactivity_uses_own_cycle_and_cap),
        cmocka_unit_test(test_low_engagement),
        cmocka_unit_test(test_signals_and_levels),
        cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* sla.c alone: the clocks of hand-written histories on a 24/7 calendar and
 * on a 09:00-17:00 (UTC, every day) calendar written here, so each figure
 * is worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sla.h"

#define H 3600
#define DAY 86400

static int always_between(void *ud, int64_t a, int64_t b, int64_t *out)
{
    (void)ud;
    *out = b - a;
    return 0;
}

static int always_add(void *ud, int64_t t, int64_t s, int64_t *out)
{
    (void)ud;
    *out = t + s;
    return 0;
}

/* open [09:00, 17:00) UTC every day */
static int64_t open_in(int64_t a, int64_t b)
{
    int64_t n = 0;
    for (int64_t d = a - a % DAY; d < b; d += DAY) {
        int64_t x = d + 9 * H, y = d + 17 * H;
        int64_t lo = a > x ? a : x, hi = b < y ? b : y;
        if (hi > lo)
            n += hi - lo;
    }
    return n;
}

static int office_between(void *ud, int64_t a, int64_t b, int64_t *out)
{
    (void)ud;
    *out = b >= a ? open_in(a, b) : -open_in(b, a);
    return 0;
}

static int office_add(void *ud, int64_t t, int64_t s, int64_t *out)
{
    (void)ud;
    for (int64_t d = t - t % DAY;; d += DAY) {
        int64_t x = d + 9 * H, y = d + 17 * H, lo = t > x ? t : x;
        if (lo < y) {
            if (s <= y - lo) {
                *out = lo + s;
                return 0;
            }
            s -= y - lo;
        }
    }
}

static const tk_cal_ops always = {always_between, always_add, NULL};
static const tk_cal_ops office = {office_between, office_add, NULL};

static tk_sla_policy policy(void)
{
    tk_sla_policy p = {{2 * H, 1 * H, 8 * H}, {0}};
    p.pause[TK_PENDING] = 7u;
    p.pause[TK_ON_HOLD] = 1u << TK_RESOLUTION;
    return p;
}

static void first_reply_stops_on_agent_not_note(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    tk_hist h[] = {{H / 2, TK_H_MESSAGE, TK_NOTE}, {H, TK_H_MESSAGE, TK_AGENT}};
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 2, 3 * H, 0, c), 0);
    assert_true(c[TK_FIRST_REPLY].stopped);
    assert_int_equal(c[TK_FIRST_REPLY].achieved_at, H);
    assert_int_equal(c[TK_FIRST_REPLY].elapsed, H);
    assert_false(c[TK_FIRST_REPLY].breached);
    assert_int_equal(c[TK_FIRST_REPLY].target_at, 2 * H);
    assert_false(c[TK_NEXT_REPLY].started);
    assert_true(c[TK_RESOLUTION].running);
    assert_int_equal(c[TK_RESOLUTION].target_at, 8 * H);
}

static void pending_pauses_and_moves_the_deadline(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    /* open 1h, pending 3h, open again: the 2h target lands at 2h + 3h */
    tk_hist h[] = {{H, TK_H_STATUS, TK_PENDING}, {4 * H, TK_H_STATUS, TK_OPEN}};
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 1, 2 * H, 0, c), 0);
    assert_true(c[TK_FIRST_REPLY].paused);
    assert_int_equal(c[TK_FIRST_REPLY].remaining, H);
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 2, 4 * H + 60, 0, c), 0);
    assert_true(c[TK_FIRST_REPLY].running);
    assert_int_equal(c[TK_FIRST_REPLY].target_at, 5 * H);
    /* on_hold pauses resolution only */
    tk_hist g[] = {{H, TK_H_STATUS, TK_ON_HOLD}};
    assert_int_equal(tk_sla_compute(&p, &always, 0, g, 1, 3 * H, 0, c), 0);
    assert_true(c[TK_RESOLUTION].paused);
    assert_false(c[TK_FIRST_REPLY].paused);
    assert_true(c[TK_FIRST_REPLY].breached);
    assert_int_equal(c[TK_FIRST_REPLY].breached_at, 2 * H);
}

static void next_reply_from_oldest_customer_message(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    tk_hist h[] = {{10, TK_H_MESSAGE, TK_AGENT},
                   {H, TK_H_MESSAGE, TK_CUSTOMER},
                   {H + 600, TK_H_MESSAGE, TK_CUSTOMER},
                   {H + 3000, TK_H_MESSAGE, TK_AGENT},
                   {3 * H, TK_H_MESSAGE, TK_CUSTOMER}};
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 4, 2 * H, 0, c), 0);
    assert_int_equal(c[TK_NEXT_REPLY].started_at, H);
    assert_int_equal(c[TK_NEXT_REPLY].elapsed, 3000);
    assert_false(c[TK_NEXT_REPLY].breached);
    /* a second cycle, unanswered for 2h: breached at 4h, counted once */
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 5, 5 * H, 0, c), 0);
    assert_int_equal(c[TK_NEXT_REPLY].started_at, 3 * H);
    assert_true(c[TK_NEXT_REPLY].breached);
    assert_int_equal(c[TK_NEXT_REPLY].breached_at, 4 * H);
    assert_int_equal(c[TK_NEXT_REPLY].breaches, 1);
}

static void solve_reopen_and_override(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    tk_hist h[] = {{2 * H, TK_H_STATUS, TK_SOLVED}, {5 * H, TK_H_STATUS, TK_OPEN}};
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 1, 3 * H, 0, c), 0);
    assert_int_equal(c[TK_RESOLUTION].achieved_at, 2 * H);
    /* reopened: the resolution clock goes on from its 2h */
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 2, 6 * H, 0, c), 0);
    assert_true(c[TK_RESOLUTION].running);
    assert_int_equal(c[TK_RESOLUTION].elapsed, 3 * H);
    assert_int_equal(c[TK_RESOLUTION].target_at, 11 * H);
    /* a manual due date wins */
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 2, 6 * H, 7 * H, c), 0);
    assert_int_equal(c[TK_RESOLUTION].target_at, 7 * H);
    assert_int_equal(c[TK_RESOLUTION].remaining, H);
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 2, 8 * H, 7 * H, c), 0);
    assert_true(c[TK_RESOLUTION].breached);
}

static void business_hours(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    /* opened 16:00 on day 0: first reply 2h = 1h today + 1h from 09:00 */
    int64_t t0 = 16 * H;
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &office, t0, NULL, 0, t0 + 60, 0, c), 0);
    assert_int_equal(c[TK_FIRST_REPLY].target_at, DAY + 10 * H);
    /* at 08:00 the next day only 1h has counted */
    assert_int_equal(tk_sla_compute(&p, &office, t0, NULL, 0, DAY + 8 * H, 0, c), 0);
    assert_int_equal(c[TK_FIRST_REPLY].elapsed, H);
    assert_int_equal(c[TK_FIRST_REPLY].target_at, DAY + 10 * H);
    /* breached at 10:00 exactly, seen at 12:00 */
    assert_int_equal(tk_sla_compute(&p, &office, t0, NULL, 0, DAY + 12 * H, 0, c), 0);
    assert_true(c[TK_FIRST_REPLY].breached);
    assert_int_equal(c[TK_FIRST_REPLY].breached_at, DAY + 10 * H);
    assert_int_equal(c[TK_FIRST_REPLY].remaining, -2 * H);
}

static void history_after_now_is_not_seen(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    tk_hist h[] = {{5 * H, TK_H_MESSAGE, TK_AGENT}};
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 1, H, 0, c), 0);
    assert_true(c[TK_FIRST_REPLY].running);
    assert_int_equal(c[TK_FIRST_REPLY].elapsed, H);
    assert_int_equal(tk_metric_parse("next_reply"), TK_NEXT_REPLY);
    assert_int_equal(tk_status_parse("on_hold"), TK_ON_HOLD);
    assert_int_equal(tk_status_parse("nope"), -1);
}

/* An agent update every 2h at most, from the first reply on; each public
 * reply starts a new cycle, notes do not, pending pauses it, solving stops
 * it counting. */
static void periodic_update_cycles(void **state)
{
    (void)state;
    tk_sla_policy p = policy();
    p.target[TK_PERIODIC_UPDATE] = 2 * H;
    p.pause[TK_PENDING] = (1u << TK_NMETRIC) - 1;
    tk_clock c[TK_NMETRIC];
    assert_int_equal(tk_sla_compute(&p, &always, 0, NULL, 0, 3 * H, 0, c), 0);
    assert_false(c[TK_PERIODIC_UPDATE].started); /* no reply yet: first_reply's job */

    tk_hist h[] = {{H, TK_H_MESSAGE, TK_AGENT},
                   {2 * H, TK_H_MESSAGE, TK_AGENT},
                   {3 * H, TK_H_MESSAGE, TK_NOTE}};
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 3, 3 * H + 30 * 60, 0, c), 0);
    assert_true(c[TK_PERIODIC_UPDATE].running);
    assert_int_equal(c[TK_PERIODIC_UPDATE].started_at, 2 * H);
    assert_int_equal(c[TK_PERIODIC_UPDATE].target_at, 4 * H);
    assert_int_equal(c[TK_PERIODIC_UPDATE].elapsed, H + 30 * 60);
    assert_int_equal(tk_sla_compute(&p, &always, 0, h, 3, 5 * H, 0, c), 0);
    assert_true(c[TK_PERIODIC_UPDATE].breached);
    assert_int_equal(c[TK_PERIODIC_UPDATE].breached_at, 4 * H);
    assert_int_equal(c[TK_PERIODIC_UPDATE].breaches, 1);

    /* a late update closes the breached cycle and opens a fresh one */
    tk_hist g[] = {{H, TK_H_MESSAGE, TK_AGENT}, {4 * H, TK_H_MESSAGE, TK_AGENT},
                   {5 * H, TK_H_STATUS, TK_PENDING}, {7 * H, TK_H_STATUS, TK_OPEN},
                   {7 * H + 1, TK_H_STATUS, TK_SOLVED}};
    assert_int_equal(tk_sla_compute(&p, &always, 0, g, 3, 6 * H, 0, c), 0);
    assert_true(c[TK_PERIODIC_UPDATE].paused);
    assert_false(c[TK_PERIODIC_UPDATE].breached);
    assert_int_equal(c[TK_PERIODIC_UPDATE].breaches, 1);
    assert_int_equal(c[TK_PERIODIC_UPDATE].elapsed, H);
    assert_int_equal(tk_sla_compute(&p, &always, 0, g, 5, 20 * H, 0, c), 0);
    assert_false(c[TK_PERIODIC_UPDATE].running); /* solved: nobody waits for news */
    assert_int_equal(c[TK_PERIODIC_UPDATE].elapsed, H + 1);
    assert_false(c[TK_PERIODIC_UPDATE].breached);
    assert_int_equal(tk_metric_parse("periodic_update"), TK_PERIODIC_UPDATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_reply_stops_on_agent_not_note),
        cmocka_unit_test(pending_pauses_and_moves_the_deadline),
        cmocka_unit_test(next_reply_from_oldest_customer_message),
        cmocka_unit_test(solve_reopen_and_override),
        cmocka_unit_test(business_hours),
        cmocka_unit_test(history_after_now_is_not_seen),
        cmocka_unit_test(periodic_update_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

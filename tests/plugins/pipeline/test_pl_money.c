/* The pipeline plugin's money arithmetic: expected values rounded half away
 * from zero, quote lines parsed, VAT per rate on the sum of that rate's nets.
 * Each expected figure is worked by hand in the comment beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "money.h"

static void test_expected_rounding(void **state)
{
    (void)state;
    assert_int_equal(pl_expected(123455, 40), 49382);  /* 49382.0 */
    assert_int_equal(pl_expected(125, 10), 13);        /* 12.5 -> 13 */
    assert_int_equal(pl_expected(-125, 10), -13);      /* -12.5 -> -13 */
    assert_int_equal(pl_expected(115, 10), 12);        /* 11.5 -> 12 */
    assert_int_equal(pl_expected(114, 10), 11);        /* 11.4 -> 11 */
    assert_int_equal(pl_expected(999, 0), 0);
    assert_int_equal(pl_expected(999, 100), 999);
}

static void test_line_parse(void **state)
{
    (void)state;
    pl_quote_line l;
    char err[256];
    assert_int_equal(pl_quote_line_parse("A1:3:12.50:5.5", 2, 2000, &l, err, sizeof err), 0);
    assert_string_equal(l.sku, "A1");
    assert_int_equal(l.quantity, 3);
    assert_int_equal(l.unit_price, 1250);
    assert_int_equal(l.vat_bp, 550);
    assert_int_equal(pl_quote_line_parse("B:1:10", 2, 2000, &l, err, sizeof err), 0);
    assert_int_equal(l.vat_bp, 2000);
    assert_int_equal(pl_quote_line_parse("B:1", 2, 2000, &l, err, sizeof err), -1);
    assert_int_equal(pl_quote_line_parse("B:1:1:2:3", 2, 2000, &l, err, sizeof err), -1);
    assert_int_equal(pl_quote_line_parse("B:0:1", 2, 2000, &l, err, sizeof err), -1);
    assert_int_equal(pl_quote_line_parse("B:1:1.234", 2, 2000, &l, err, sizeof err), -1);
}

static void test_quote_two_rates_discount(void **state)
{
    (void)state;
    pl_quote_line l[3];
    char err[256];
    assert_int_equal(pl_quote_line_parse("A:3:33.33:20", 2, 2000, &l[0], err, sizeof err), 0);
    assert_int_equal(pl_quote_line_parse("B:1:0.05:5.5", 2, 2000, &l[1], err, sizeof err), 0);
    assert_int_equal(pl_quote_line_parse("C:2:10.01:20", 2, 2000, &l[2], err, sizeof err), 0);
    pl_quote_totals t;
    /* 7.5 % discount: A 9999 x 0.925 = 9249.075 -> 9249; B 5 x 0.925 =
     * 4.625 -> 5; C 2002 x 0.925 = 1851.85 -> 1852. 20 %: nets 9249 + 1852 =
     * 11101, VAT 2220.2 -> 2220; 5.5 %: net 5, VAT 0.275 -> 0. */
    assert_int_equal(pl_quote_compute(l, 3, 750, &t), 0);
    assert_int_equal(l[0].net, 9249);
    assert_int_equal(l[1].net, 5);
    assert_int_equal(l[2].net, 1852);
    assert_int_equal(t.nrates, 2);
    assert_int_equal(t.rate_bp[0], 550);
    assert_int_equal(t.rate_net[0], 5);
    assert_int_equal(t.rate_vat[0], 0);
    assert_int_equal(t.rate_bp[1], 2000);
    assert_int_equal(t.rate_net[1], 11101);
    assert_int_equal(t.rate_vat[1], 2220);
    assert_int_equal(t.net, 11106);
    assert_int_equal(t.vat, 2220);
    assert_int_equal(t.gross, 13326);
}

/* Two lines each just within int64 once discounted, whose rate sum times the
 * rate would overflow: refused, not wrapped
 * (signed overflow is undefined behaviour: UBSan would flag it). */
static void test_quote_overflow_refused(void **state)
{
    (void)state;
    pl_quote_line l[2] = {{.sku = "A", .quantity = 1, .unit_price = INT64_MAX / 10000 - 1,
                           .vat_bp = 2000},
                          {.sku = "B", .quantity = 1, .unit_price = INT64_MAX / 10000 - 1,
                           .vat_bp = 2000}};
    pl_quote_totals t;
    assert_int_equal(pl_quote_compute(l, 2, 0, &t), -1);
    l[0].unit_price = l[1].unit_price = 100000000000; /* a billion EUR each: fine */
    assert_int_equal(pl_quote_compute(l, 2, 0, &t), 0);
    assert_int_equal(t.vat, 40000000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expected_rounding),
        cmocka_unit_test(test_line_parse),
        cmocka_unit_test(test_quote_two_rates_discount),
        cmocka_unit_test(test_quote_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/cli/table.c: display widths (accents, combining marks,
 * CJK), cutting with an ellipsis, aligned output, and money in major units. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(crm_text_width(""), 0);
    assert_int_equal(crm_text_width("Jean"), 4);
    assert_int_equal(crm_text_width("\xc3\x89lodie"), 6);        /* Élodie, precomposed */
    assert_int_equal(crm_text_width("e\xcc\x81"), 1);            /* e + combining acute */
    assert_int_equal(crm_text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4); /* 日本 */
}

static void test_fit(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(crm_text_fit("Jean", 10, buf, sizeof buf), 4);
    assert_string_equal(buf, "Jean");
    assert_int_equal(crm_text_fit("Dupontel", 5, buf, sizeof buf), 5);
    assert_string_equal(buf, "Dupo\xe2\x80\xa6");
    /* 日本語 is 6 columns: in 4, one ideograph and the ellipsis (3), not half of one. */
    assert_int_equal(crm_text_fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, buf, sizeof buf), 3);
    assert_string_equal(buf, "\xe6\x97\xa5\xe2\x80\xa6");
    /* Exactly the limit is not cut; a tab or newline becomes a space. */
    assert_int_equal(crm_text_fit("a\tb\nc", 5, buf, sizeof buf), 5);
    assert_string_equal(buf, "a b c");
    /* A combining mark is not separated from its letter. */
    assert_int_equal(crm_text_fit("ae\xcc\x81z", 3, buf, sizeof buf), 3);
    assert_string_equal(buf, "ae\xcc\x81z");
    assert_int_equal(crm_text_fit("ae\xcc\x81zz", 3, buf, sizeof buf), 3);
    assert_string_equal(buf, "ae\xcc\x81\xe2\x80\xa6");
}

/* Display column where `needle` starts in `line`, counted independently of
 * table.c: one column per code point, two for the CJK ideographs used here. */
static int column_of(const char *line, const char *needle)
{
    const char *at = strstr(line, needle);
    int col = 0;
    for (const unsigned char *p = (const unsigned char *)line; at && p < (const unsigned char *)at;) {
        if (*p < 0x80)
            p += 1, col += 1;
        else if (*p < 0xE0)
            p += 2, col += 1;
        else
            col += p[0] == 0xE2 ? 1 : 2, p += 3; /* the ellipsis, or the CJK of this test */
    }
    return at ? col : -1;
}

static void test_table_aligned(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    static const crm_table_col cols[] = {{"ID", 0, true}, {"NAME", 8, false}, {"CITY", 0, false}};
    crm_table *t = crm_table_new(f, cols, 3);
    assert_non_null(t);
    const char *rows[][3] = {
        {"1", "\xc3\x89lodie", "Lyon"},
        {"22", "\xe6\x97\xa5\xe6\x9c\xac", "Tokyo"},
        {"333", "Jean-Christophe", NULL},
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(crm_table_row(t, rows[i]), 0);
    crm_table_end(t, true);
    fclose(f);
    char *line = strtok(text, "\n");
    int n = 0, city = -1;
    while (line) {
        const char *c = n == 0 ? "CITY" : n == 1 ? "Lyon" : n == 2 ? "Tokyo" : "  -";
        int col = column_of(line, c) + (n == 3 ? 2 : 0);
        if (city < 0)
            city = col;
        assert_int_equal(col, city);
        if (n == 3)
            assert_non_null(strstr(line, "Jean-Ch\xe2\x80\xa6"));
        line = strtok(NULL, "\n");
        n++;
    }
    assert_int_equal(n, 4);
    assert_int_equal(city, 5 + 8 + 2); /* "333" right-aligned, two spaces, 8 columns, two */
    free(text);
}

/* Past CRM_TABLE_HOLD rows the widths are fixed: a wider cell is cut to
 * them, so the table stays aligned while it streams. */
static void test_table_streams(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    static const crm_table_col cols[] = {{"NAME", 20, false}, {"N", 0, true}};
    crm_table *t = crm_table_new(f, cols, 2);
    for (int i = 0; i < CRM_TABLE_HOLD; i++) {
        const char *row[] = {"abcd", "1"};
        assert_int_equal(crm_table_row(t, row), 0);
    }
    fflush(f);
    assert_true(len > 0); /* printed once the hold was full */
    const char *wide[] = {"abcdefgh", "2"};
    assert_int_equal(crm_table_row(t, wide), 0);
    crm_table_end(t, true);
    fclose(f);
    const char *last = text + len - 1;
    while (last > text && last[-1] != '\n')
        last--;
    assert_string_equal(last, "abc\xe2\x80\xa6  2\n");
    free(text);
}

static void test_money(void **state)
{
    (void)state;
    char buf[64];
    crm_cli_money(4990, "EUR", buf, sizeof buf);
    assert_string_equal(buf, "49.90 EUR");
    crm_cli_money(1500, "JPY", buf, sizeof buf);
    assert_string_equal(buf, "1 500 JPY");
    crm_cli_money(1500, "KWD", buf, sizeof buf);
    assert_string_equal(buf, "1.500 KWD");
    crm_cli_money(-123456789, "EUR", buf, sizeof buf);
    assert_string_equal(buf, "-1 234 567.89 EUR");
    crm_cli_money(5, "EUR", buf, sizeof buf);
    assert_string_equal(buf, "0.05 EUR");
    crm_cli_money(100000, "JPY", buf, sizeof buf);
    assert_string_equal(buf, "100 000 JPY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_table_aligned),
        cmocka_unit_test(test_table_streams),
        cmocka_unit_test(test_money),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

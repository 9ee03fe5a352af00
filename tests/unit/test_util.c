/* core/util.h: array growth, name checks, string lists. */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"

/* The capacity doubling from 8 gives for n elements, computed apart. */
static size_t expected_cap(size_t n)
{
    size_t c = 8;
    while (c < n)
        c *= 2;
    return c;
}

static void test_reserve(void **state)
{
    (void)state;
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(CRM_ARRAY_RESERVE(v, cap, n + 1), CRM_OK);
        assert_true(cap >= n + 1);
        assert_int_equal(cap, expected_cap(n + 1));
        v[n++] = i * 7;
    }
    long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    assert_int_equal(sum, 7L * 999 * 1000 / 2); /* nothing lost across reallocations */

    int *before = v;
    size_t cap_before = cap;
    assert_int_equal(CRM_ARRAY_RESERVE(v, cap, cap), CRM_OK); /* fits: untouched */
    assert_ptr_equal(v, before);
    assert_int_equal(cap, cap_before);

    /* A request whose byte size overflows is refused, the array kept. */
    assert_int_equal(CRM_ARRAY_RESERVE(v, cap, SIZE_MAX / 2), CRM_ENOMEM);
    assert_int_equal(CRM_ARRAY_RESERVE(v, cap, SIZE_MAX), CRM_ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, cap_before);
    assert_int_equal(v[999], 999 * 7);
    free(v);

    /* Byte buffers: one large jump lands on a power of two above it. */
    char *buf = NULL;
    size_t bcap = 0;
    assert_int_equal(CRM_ARRAY_RESERVE(buf, bcap, 5000), CRM_OK);
    assert_int_equal(bcap, 8192);
    memset(buf, 'x', bcap);
    free(buf);
}

typedef struct pair {
    int64_t a;
    char name[12];
} pair;

static void test_append(void **state)
{
    (void)state;
    pair *v = NULL;
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        pair *p = CRM_ARRAY_APPEND(v, n);
        assert_non_null(p);
        assert_int_equal(n, (size_t)i + 1);
        assert_ptr_equal(p, &v[i]);
        assert_int_equal(p->a, 0); /* zeroed */
        assert_string_equal(p->name, "");
        p->a = i;
        snprintf(p->name, sizeof p->name, "n%d", i);
    }
    for (int i = 0; i < 100; i++) {
        char want[12];
        snprintf(want, sizeof want, "n%d", i);
        assert_int_equal(v[i].a, i);
        assert_string_equal(v[i].name, want);
    }
    pair *before = v;
    size_t huge = SIZE_MAX / sizeof *v;
    assert_null(CRM_ARRAY_APPEND(v, huge)); /* would overflow: refused, nothing touched */
    assert_int_equal(huge, SIZE_MAX / sizeof *v);
    assert_ptr_equal(v, before);
    free(v);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ident, slug, word, lua;
    } cases[] = {
        {"email", true, true, true, true},
        {"shoe_size", true, true, true, true},
        {"a1", true, true, true, true},
        {"x", true, true, true, true},
        {"1st", false, false, true, false},
        {"_x", false, false, true, true},
        {"fr-paris", false, true, false, false},
        {"-x", false, false, false, false},
        {"Email", false, false, false, true},
        {"camelCase", false, false, false, true},
        {"a b", false, false, false, false},
        {"a.b", false, false, false, false},
        {"caf\xc3\xa9", false, false, false, false},
        {"", false, false, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s = cases[i].s;
        if (crm_name_valid(s, CRM_NAME_IDENT, 0) != cases[i].ident ||
            crm_name_valid(s, CRM_NAME_SLUG, 0) != cases[i].slug ||
            crm_name_valid(s, CRM_NAME_WORD, 0) != cases[i].word ||
            crm_name_valid(s, CRM_NAME_LUA, 0) != cases[i].lua)
            fail_msg("name '%s': wrong verdict", s);
    }
    assert_false(crm_name_valid(NULL, CRM_NAME_IDENT, 0));
    assert_false(crm_name_valid("a", (crm_name_kind)42, 0));

    char name[80];
    memset(name, 'a', sizeof name);
    name[63] = '\0';
    assert_true(crm_name_valid(name, CRM_NAME_IDENT, 63));
    name[63] = 'a';
    name[64] = '\0';
    assert_false(crm_name_valid(name, CRM_NAME_IDENT, 63));
    assert_true(crm_name_valid(name, CRM_NAME_WORD, 64));
    assert_true(crm_name_valid(name, CRM_NAME_SLUG, 0));
}

static void test_strv(void **state)
{
    (void)state;
    char **v = NULL;
    size_t n = 0;
    assert_int_equal(crm_strv_push(&v, &n, "vip"), CRM_OK);
    assert_int_equal(crm_strv_push(&v, &n, NULL), CRM_OK); /* NULL is stored as "" */
    assert_int_equal(crm_strv_push(&v, &n, "b2b"), CRM_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "vip");
    assert_string_equal(v[1], "");
    assert_string_equal(v[2], "b2b");
    assert_true(crm_strv_contains(v, n, "b2b"));
    assert_true(crm_strv_contains(v, n, ""));
    assert_false(crm_strv_contains(v, n, "vi"));
    assert_false(crm_strv_contains(v, 2, "b2b")); /* only the first n count */
    assert_false(crm_strv_contains(v, n, NULL));
    crm_strv_free(v, n);
    crm_strv_free(NULL, 0);
}

static void test_strlist(void **state)
{
    (void)state;
    static const char *const stages[] = {"lead", "prospect", "customer", NULL};
    static const char *const none[] = {NULL};
    assert_int_equal(crm_strlist_find(stages, "lead"), 0);
    assert_int_equal(crm_strlist_find(stages, "customer"), 2);
    assert_int_equal(crm_strlist_find(stages, "Lead"), -1);
    assert_int_equal(crm_strlist_find(stages, NULL), -1);
    assert_int_equal(crm_strlist_find(none, "lead"), -1);
    assert_true(crm_str_in("prospect", stages));
    assert_false(crm_str_in("prospects", stages));
    assert_false(crm_str_in(NULL, stages));

    char buf[64];
    const char *whole = "lead, prospect, customer";
    assert_int_equal(crm_strlist_join(stages, ", ", buf, sizeof buf), strlen(whole));
    assert_string_equal(buf, whole);
    /* Truncated like snprintf: every size keeps a terminated prefix and
     * reports the whole length. */
    for (size_t size = 1; size <= strlen(whole) + 1; size++) {
        char small[64];
        memset(small, '#', sizeof small);
        assert_int_equal(crm_strlist_join(stages, ", ", small, size), strlen(whole));
        assert_int_equal(strlen(small), size - 1);
        assert_memory_equal(small, whole, size - 1);
    }
    assert_int_equal(crm_strlist_join(stages, ", ", NULL, 0), strlen(whole));
    assert_int_equal(crm_strlist_join(none, ", ", buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(crm_strlist_join(stages, "|", buf, sizeof buf), strlen("lead|prospect|customer"));
    assert_string_equal(buf, "lead|prospect|customer");
}

/* The counted join agrees with the NULL-terminated one on the same strings,
 * at every buffer size. */
static void test_strv_join(void **state)
{
    (void)state;
    static const char *const tags[] = {"vip", "b2b", "", "newsletter", NULL};
    char *v[4] = {"vip", "b2b", "", "newsletter"};
    char a[64], b[64];
    for (size_t n = 0; n <= 4; n++) {
        const char *prefix[5] = {NULL};
        for (size_t i = 0; i < n; i++)
            prefix[i] = tags[i];
        for (size_t size = 0; size <= sizeof a; size++) {
            memset(a, '#', sizeof a);
            memset(b, '#', sizeof b);
            assert_int_equal(crm_strv_join(v, n, "|", size ? a : NULL, size),
                             crm_strlist_join(prefix, "|", size ? b : NULL, size));
            assert_memory_equal(a, b, sizeof a);
        }
    }
    assert_int_equal(crm_strv_join(v, 4, "|", a, sizeof a), strlen("vip|b2b||newsletter"));
    assert_string_equal(a, "vip|b2b||newsletter");
    assert_int_equal(crm_strv_join(NULL, 0, ", ", a, sizeof a), 0);
    assert_string_equal(a, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve), cmocka_unit_test(test_append),
        cmocka_unit_test(test_names),   cmocka_unit_test(test_strv),
        cmocka_unit_test(test_strlist), cmocka_unit_test(test_strv_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

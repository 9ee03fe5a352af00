/* Unit tests for core/audit/audit.c, the audit's pure half: month
 * arithmetic, the merge-safety rule, examples and the JSON report. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "hygiene.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    crm_err err = {0};
    assert_int_equal(crm_parse_datetime("t", iso, &t, &err), CRM_OK);
    return t;
}

static void test_months_before(void **state)
{
    (void)state;
    assert_int_equal(crm_audit_months_before(at("2026-12-01"), 18), at("2025-06-01"));
    /* The day is clamped to the month's length, leap years included. */
    assert_int_equal(crm_audit_months_before(at("2026-08-31"), 6), at("2026-02-28"));
    assert_int_equal(crm_audit_months_before(at("2024-08-31"), 6), at("2024-02-29"));
    assert_int_equal(crm_audit_months_before(at("2026-03-31T10:20:30Z"), 1),
                     at("2026-02-28T10:20:30Z"));
    assert_int_equal(crm_audit_months_before(at("2026-01-15"), 13), at("2024-12-15"));
    assert_int_equal(crm_audit_months_before(at("1970-03-01"), 3), at("1969-12-01"));
}

static crm_contact person(const char *first, const char *last, const char *email,
                          const char *phone, const char *city)
{
    crm_contact c = {0};
    c.first_name = first ? strdup(first) : NULL;
    c.last_name = last ? strdup(last) : NULL;
    c.email = email ? strdup(email) : NULL;
    c.phone = phone ? strdup(phone) : NULL;
    c.city = city ? strdup(city) : NULL;
    return c;
}

static void test_conflict(void **state)
{
    (void)state;
    char why[128];
    crm_contact a = person("Jean", "Dupont", "jean@example.fr", "+33612345678", "Paris");
    crm_contact b = person("JEAN", "dupont", NULL, "+33612345678", "PARIS");
    assert_true(crm_audit_shares_key(&a, &b));
    /* Case and accents are not conflicts; an empty side is not either. */
    assert_false(crm_audit_conflict(&a, &b, why, sizeof why));
    assert_string_equal(why, "");
    free(b.city);
    b.city = strdup("Lyon");
    assert_true(crm_audit_conflict(&a, &b, why, sizeof why));
    assert_string_equal(why, "city: 'Paris' / 'Lyon'");
    free(b.city);
    b.city = NULL;
    crm_contact_set_custom(&a, "loyalty_card", "A1");
    crm_contact_set_custom(&b, "loyalty_card", "B2");
    assert_true(crm_audit_conflict(&a, &b, why, sizeof why));
    assert_string_equal(why, "custom.loyalty_card: 'A1' / 'B2'");
    crm_contact c = person("Élodie", NULL, "e@example.fr", NULL, NULL);
    crm_contact d = person("Elodie", NULL, NULL, "+33611111111", NULL);
    assert_false(crm_audit_shares_key(&c, &d));
    assert_false(crm_audit_conflict(&c, &d, why, sizeof why));
    d.external_id = strdup("X1");
    c.external_id = strdup("X2");
    assert_true(crm_audit_conflict(&c, &d, why, sizeof why));
    assert_string_equal(why, "external_id: 'X2' / 'X1'");
    crm_contact_clear(&a);
    crm_contact_clear(&b);
    crm_contact_clear(&c);
    crm_contact_clear(&d);
}

static void test_report_json(void **state)
{
    (void)state;
    crm_audit_report r = {0};
    r.id = 2;
    r.as_of = at("2026-12-01");
    r.contacts = 10;
    r.min_score = 80;
    r.inactive_months = 18;
    r.inactive_before = crm_audit_months_before(r.as_of, 18);
    for (int i = 0; i < 7; i++)
        crm_audit_note(&r.f[CRM_AUDIT_NO_CONSENT], i + 1, 0, NULL);
    crm_audit_note(&r.f[CRM_AUDIT_DUPLICATES], 1, 2, "same phone");
    assert_int_equal(r.f[CRM_AUDIT_NO_CONSENT].count, 7);
    assert_int_equal(r.f[CRM_AUDIT_NO_CONSENT].n_examples, CRM_AUDIT_EXAMPLES);
    json_t *j = crm_audit_to_json(&r);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "previous")));
    assert_null(json_object_get(json_object_get(j, "no_consent"), "change"));
    json_decref(j);
    r.prev_id = 1;
    r.prev[CRM_AUDIT_NO_CONSENT] = 9;
    j = crm_audit_to_json(&r);
    json_t *nc = json_object_get(j, "no_consent");
    assert_int_equal(json_integer_value(json_object_get(nc, "count")), 7);
    assert_int_equal(json_integer_value(json_object_get(nc, "change")), -2);
    assert_int_equal(json_array_size(json_object_get(nc, "examples")), CRM_AUDIT_EXAMPLES);
    json_t *dup = json_array_get(json_object_get(json_object_get(j, "duplicates"), "examples"), 0);
    assert_string_equal(json_string_value(json_object_get(dup, "reasons")), "same phone");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "inactive"), "before")),
                        "2025-06-01T00:00:00Z");
    assert_null(json_object_get(j, "fix"));
    json_decref(j);
    crm_audit_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months_before),
        cmocka_unit_test(test_conflict),
        cmocka_unit_test(test_report_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Phone numbers through libphonenumber: for each country, numbers as people
 * type them, with the E.164 form and the type written out here by hand (from
 * the national numbering plans, not from the library), and refusals naming
 * the field, the value, the country and the reason. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"

typedef struct {
    const char *country, *in, *e164, *type;
} ok_case;

static const ok_case ok_cases[] = {
    /* FR: 06/07 mobile, 01-05 geographic, 09 VoIP boxes, 080x free */
    {"FR", "06 12 34 56 78", "+33612345678", "mobile"},
    {"FR", "07.81.23.45.67", "+33781234567", "mobile"},
    {"FR", "01 42 68 53 00", "+33142685300", "fixed_line"},
    {"FR", "+33 (0)4 78 12 34 56", "+33478123456", "fixed_line"},
    {"FR", "09 51 23 45 67", "+33951234567", "voip"},
    {"FR", "0800 12 34 56", "+33800123456", "toll_free"},
    {"FR", "00 49 30 123456", "+4930123456", "fixed_line"}, /* FR's international prefix */
    /* DE: 015x/016x/017x mobile, variable-length area codes */
    {"DE", "030 123456", "+4930123456", "fixed_line"},
    {"DE", "089 1234567", "+49891234567", "fixed_line"},
    {"DE", "0151 23456789", "+4915123456789", "mobile"},
    {"DE", "+49 (0)170 1234567", "+491701234567", "mobile"},
    /* GB: 07xxx mobile, 01/02 geographic */
    {"GB", "020 7946 0958", "+442079460958", "fixed_line"},
    {"GB", "07400 123456", "+447400123456", "mobile"},
    {"GB", "+44 (0)121 496 0000", "+441214960000", "fixed_line"},
    /* US: the ranges do not tell mobile from fixed; 8xx toll free */
    {"US", "(201) 555-0123", "+12015550123", "fixed_line_or_mobile"},
    {"US", "1-800-253-0000", "+18002530000", "toll_free"},
    {"us", "011 33 6 12 34 56 78", "+33612345678", "mobile"}, /* US's international prefix */
    /* BE: 04xx mobile, 02 Brussels (022-028: 021 is not allocated) */
    {"BE", "02 511 12 34", "+3225111234", "fixed_line"},
    {"BE", "0470 12 34 56", "+32470123456", "mobile"},
    /* CH: 07x mobile, 044 Zurich */
    {"CH", "044 668 18 00", "+41446681800", "fixed_line"},
    {"CH", "078 123 45 67", "+41781234567", "mobile"},
    /* ES: no trunk prefix; 6/7 mobile, 9 fixed */
    {"ES", "612 34 56 78", "+34612345678", "mobile"},
    {"ES", "91 123 45 67", "+34911234567", "fixed_line"},
    /* IT: the leading 0 of fixed lines is part of the number; 3xx mobile */
    {"IT", "06 1234 5678", "+390612345678", "fixed_line"},
    {"IT", "312 345 6789", "+393123456789", "mobile"},
    /* a country the old hand-written table did not know */
    {NULL, "+258 84 123 4567", "+258841234567", "mobile"},
};

static void test_countries(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
        const ok_case *c = &ok_cases[i];
        char *out = NULL;
        const char *type = NULL;
        crm_err err = {0};
        int rc = crm_normalise_phone_typed("phone", c->in, c->country, &out, &type, &err);
        if (rc != CRM_OK) {
            print_error("%s '%s' refused: %s\n", c->country, c->in, err.msg);
            bad++;
            continue;
        }
        if (strcmp(out, c->e164) || strcmp(type, c->type)) {
            print_error("%s '%s' gave %s %s, expected %s %s\n", c->country, c->in, out, type,
                        c->e164, c->type);
            bad++;
        }
        /* the stored form reads back as the same type */
        if (strcmp(crm_phone_type(out), type)) {
            print_error("%s: stored type %s, parsed %s\n", out, crm_phone_type(out), type);
            bad++;
        }
        free(out);
    }
    assert_int_equal(bad, 0);
}

typedef struct {
    const char *country, *in, *msg;
} bad_case;

static const bad_case bad_cases[] = {
    {"FR", "06 12", "phone: '06 12' is not a valid FR number (too short)"},
    {"FR", "06 12 34 56 78 9", "phone: '06 12 34 56 78 9' is not a valid FR number (too long)"},
    /* right length, but no such range: the old length rule let it in */
    {"FR", "00 33 6 12", "phone: '00 33 6 12' is not a valid FR number (too short)"},
    {"DE", "030 12", "phone: '030 12' is not a valid DE number ("},
    {"GB", "020 7946 095", "phone: '020 7946 095' is not a valid GB number"},
    {"US", "(015) 555-2671", "phone: '(015) 555-2671' is not a valid US number"},
    {"ES", "412 34 56 78", "phone: '412 34 56 78' is not a valid ES number (not a range in use)"},
    {"BE", "02 123 45 67", "phone: '02 123 45 67' is not a valid BE number (not a range in use)"},
    {"FR", "+0 6 12 34 56 78", "phone: '+0 6 12 34 56 78' is not a valid number (no valid country code)"},
    {NULL, "06 12 34 56 78", "phone: '06 12 34 56 78' has no international prefix and no default country is set"},
    {"FR", "06 12 AB 56 78", "phone: '06 12 AB 56 78' contains letters"},
    {"FR", "06 12 34 56 78 ext 2", "phone: '06 12 34 56 78 ext 2' contains letters"},
};

static void test_refusals(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const bad_case *c = &bad_cases[i];
        char *out = (char *)"untouched";
        crm_err err = {0};
        int rc = crm_normalise_phone("phone", c->in, c->country, &out, &err);
        if (rc != CRM_EINVAL || out || strncmp(err.msg, c->msg, strlen(c->msg))) {
            print_error("%s '%s': rc %d, '%s', expected '%s'\n", c->country, c->in, rc,
                        rc == CRM_OK ? out : err.msg, c->msg);
            bad++;
        }
        if (rc == CRM_OK)
            free(out);
    }
    assert_int_equal(bad, 0);
}

static void test_type_of_stored(void **state)
{
    (void)state;
    assert_string_equal(crm_phone_type("+33612345678"), "mobile");
    assert_string_equal(crm_phone_type("+33142685300"), "fixed_line");
    assert_string_equal(crm_phone_type(NULL), "unknown");
    assert_string_equal(crm_phone_type("0612345678"), "unknown"); /* not E.164 */
    assert_string_equal(crm_phone_type("+999"), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_countries),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_type_of_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/hygiene: every rule with accepted and refused values,
 * exact normalised output, and messages naming field, value and rule. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "hygiene.h"

typedef int (*norm_fn)(const char *field, const char *in, char **out, crm_err *err);

static const char *g_country; /* for phone_fn / postal_fn */
static int64_t g_not_after;   /* for date_fn */

static int phone_fn(const char *f, const char *in, char **out, crm_err *err)
{
    return crm_normalise_phone(f, in, g_country, out, err);
}

static int postal_fn(const char *f, const char *in, char **out, crm_err *err)
{
    return crm_normalise_postal_code(f, in, g_country, out, err);
}

static int date_fn(const char *f, const char *in, char **out, crm_err *err)
{
    return crm_normalise_date(f, in, g_not_after, out, err);
}

static void check_ok(norm_fn fn, const char *in, const char *want)
{
    char *out = NULL;
    crm_err err = {0};
    int rc = fn("field", in, &out, &err);
    if (rc != CRM_OK)
        fail_msg("'%s' refused: %s", in, err.msg);
    if (strcmp(out, want))
        fail_msg("'%s' gave '%s', expected '%s'", in, out, want);
    free(out);
}

/* Asserts a message "<field>: '<shown>' ... <rule> ...". */
static void check_msg(const crm_err *err, const char *field, const char *shown, const char *rule)
{
    char head[256];
    snprintf(head, sizeof head, "%s: '%s' ", field, shown);
    if (strncmp(err->msg, head, strlen(head)))
        fail_msg("message '%s' does not start with '%s'", err->msg, head);
    if (!strstr(err->msg, rule))
        fail_msg("message '%s' does not say '%s'", err->msg, rule);
    assert_int_equal(err->code, CRM_EINVAL);
}

/* As check_bad, for a value the message shows differently (invalid UTF-8). */
static void check_bad_shown(norm_fn fn, const char *field, const char *in, const char *shown,
                            const char *rule)
{
    char *out = (char *)"untouched";
    crm_err err = {0};
    assert_int_equal(fn(field, in, &out, &err), CRM_EINVAL);
    assert_null(out);
    check_msg(&err, field, shown, rule);
}

static void check_bad(norm_fn fn, const char *field, const char *in, const char *rule)
{
    char *out = (char *)"untouched";
    crm_err err = {0};
    int rc = fn(field, in, &out, &err);
    if (rc != CRM_EINVAL)
        fail_msg("'%s' accepted as '%s', expected refusal '%s'", in, rc ? "?" : out, rule);
    assert_null(out);
    check_msg(&err, field, in ? in : "", rule);
}

/* ---- text ------------------------------------------------------------ */

static void test_clean_text(void **state)
{
    (void)state;
    check_ok(crm_clean_text, "  Jean \t\n  Dupont  ", "Jean Dupont");
    check_ok(crm_clean_text, "a\xc2\xa0\xc2\xa0" "b", "a b"); /* no-break spaces */
    check_ok(crm_clean_text, "e\xcc\x81l\xc3\xa8ve", "\xc3\xa9l\xc3\xa8ve"); /* NFC */
    check_ok(crm_clean_text, "x", "x");
    check_bad(crm_clean_text, "note", "", "is empty");
    check_bad(crm_clean_text, "note", NULL, "is empty");
    check_bad_shown(crm_clean_text, "note", " \t\n", " ??", "is empty");
    crm_err err = {0};
    char *out = NULL;
    assert_int_equal(crm_clean_text("note", "ab\xff" "c", &out, &err), CRM_EINVAL);
    assert_null(out);
    check_msg(&err, "note", "ab?c", "is not valid UTF-8");
}

static void test_message_truncation(void **state)
{
    (void)state;
    char in[201];
    memset(in, 'x', 200);
    in[200] = '\0';
    crm_err err = {0};
    char *out = NULL;
    assert_int_equal(crm_normalise_email("email", in, &out, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "xxx...'"));
    assert_true(strlen(err.msg) < 150);
    /* a 2-byte character straddling the limit is left out whole */
    memset(in, 'a', 63);
    strcpy(in + 63, "\xc3\xa9zzz");
    assert_int_equal(crm_normalise_phone("phone", in, "FR", &out, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "aaa...'"));
    assert_true(utf8proc_map((const utf8proc_uint8_t *)err.msg, 0, (utf8proc_uint8_t **)&out,
                             UTF8PROC_NULLTERM) >= 0);
    free(out);
    /* control characters never reach a terminal */
    check_bad_shown(crm_clean_text, "note", "\xff", "?", "not valid UTF-8");
    assert_int_equal(crm_normalise_postal_code("postal_code", "12\x1b[3", "FR", &out, &err),
                     CRM_EINVAL);
    assert_null(strchr(err.msg, '\x1b'));
}

static void test_names(void **state)
{
    (void)state;
    norm_fn f = crm_normalise_name;
    check_ok(f, "JEAN DUPONT", "Jean Dupont");
    check_ok(f, "jean dupont", "Jean Dupont");
    check_ok(f, "jean-pierre  de la   fontaine", "Jean-Pierre de la Fontaine");
    check_ok(f, "JEAN DE LA FONTAINE", "Jean de la Fontaine");
    check_ok(f, "o'neil", "O'Neil");
    check_ok(f, "O\xe2\x80\x99NEIL", "O\xe2\x80\x99Neil");
    check_ok(f, "\xc3\x89LODIE", "\xc3\x89lodie");
    check_ok(f, "\xc3\xa9lodie", "\xc3\x89lodie");
    check_ok(f, "d'artagnan", "D'Artagnan");
    check_ok(f, "charles d'artagnan", "Charles d'Artagnan");
    check_ok(f, "CHARLES D'ARTAGNAN", "Charles d'Artagnan");
    check_ok(f, "van der berg", "Van der Berg");
    check_ok(f, "ludwig van beethoven", "Ludwig van Beethoven");
    check_ok(f, "jos\xc3\xa9 ortega y gasset", "Jos\xc3\xa9 Ortega y Gasset");
    check_ok(f, "McDonald", "McDonald");
    check_ok(f, "  Ronald   McDonald ", "Ronald McDonald");
    check_ok(f, "leonardo DiCaprio", "Leonardo DiCaprio");
    check_ok(f, "e\xcc\x81lodie", "\xc3\x89lodie"); /* decomposed input, NFC output */
    check_ok(f, "le", "Le");
    check_bad(f, "name", "", "is empty");
    check_bad(f, "name", "  ", "is empty");
    check_bad_shown(f, "name", "\xc3", "?", "not valid UTF-8");
}

static void check_key(const char *in, const char *want)
{
    char *k = crm_fold_key(in);
    assert_non_null(k);
    assert_string_equal(k, want);
    free(k);
}

static void test_fold_key(void **state)
{
    (void)state;
    check_key("\xc3\x89lodie  DUPONT-Herv\xc3\xa9", "elodie dupont herve");
    check_key("e\xcc\x81LODIE", "elodie");
    check_key("O'Neil, Jr.", "o neil jr");
    check_key("Stra\xc3\x9f" "e", "strasse");
    check_key("  --  ", "");
    check_key("Fran\xc3\xa7ois\t\xc5\x92uvre", "francois \xc5\x93uvre");
    assert_null(crm_fold_key(NULL));
    assert_null(crm_fold_key("ab\xff"));
}

/* ---- email ----------------------------------------------------------- */

static void test_email(void **state)
{
    (void)state;
    norm_fn f = crm_normalise_email;
    check_ok(f, "  Jean.Dupont@Example.FR ", "jean.dupont@example.fr");
    check_ok(f, "a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk");
    check_ok(f, "o'neil@x-y.ie", "o'neil@x-y.ie");
    check_ok(f, "jean@EX\xc3\x84MPLE.fr", "jean@ex\xc3\xa4mple.fr"); /* IDN, lower-cased */
    check_ok(f, "jean@xn--exmple-cua.xn--p1ai", "jean@xn--exmple-cua.xn--p1ai");
    check_bad(f, "email", "a@b", "is not a valid address (domain needs a dot)");
    check_bad(f, "email", "jean@@x.fr", "(more than one '@')");
    check_bad(f, "email", "jean.x.fr", "(no '@')");
    check_bad(f, "email", "@x.fr", "(nothing before '@')");
    check_bad(f, "email", "jean@", "(nothing after '@')");
    check_bad(f, "email", ".jean@x.fr", "starts or ends with a dot");
    check_bad(f, "email", "jean.@x.fr", "starts or ends with a dot");
    check_bad(f, "email", "je..an@x.fr", "two dots in a row");
    check_bad(f, "email", "je(an@x.fr", "character not allowed before '@'");
    check_bad(f, "email", "j\xc3\xa9" "an@x.fr", "non-ASCII character before '@'");
    check_bad(f, "email", "jean dupont@x.fr", "contains a space");
    check_bad(f, "email", "jean@-x.fr", "starts or ends with '-'");
    check_bad(f, "email", "jean@x..fr", "empty label");
    check_bad(f, "email", "jean@x.fr.", "empty label");
    check_bad(f, "email", "jean@x_y.fr", "character not allowed in domain");
    check_bad(f, "email", "jean@x.f", "top-level domain must be at least 2 letters");
    check_bad(f, "email", "jean@x.123", "top-level domain");
    check_bad(f, "email", "", "is empty");
    char local[80], addr[300];
    memset(local, 'a', 65);
    local[65] = '\0';
    snprintf(addr, sizeof addr, "%s@x.fr", local);
    char *out = NULL;
    crm_err err = {0};
    assert_int_equal(f("email", addr, &out, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "longer than 64"));
    local[64] = '\0';
    snprintf(addr, sizeof addr, "%s@x.fr", local);
    check_ok(f, addr, addr);
    memset(addr, 'b', 250);
    strcpy(addr + 250, "@x.fr");
    assert_int_equal(f("email", addr, &out, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "longer than 254"));
}

/* ---- phone ----------------------------------------------------------- */

static void phone_ok(const char *country, const char *in, const char *want)
{
    g_country = country;
    check_ok(phone_fn, in, want);
}

static void phone_bad(const char *country, const char *in, const char *rule)
{
    g_country = country;
    check_bad(phone_fn, "phone", in, rule);
}

static void test_phone_fr(void **state)
{
    (void)state;
    const char *want = "+33612345678";
    phone_ok("FR", "06 12 34 56 78", want);
    phone_ok("fr", "06.12.34.56.78", want);
    phone_ok("FR", "06-12-34-56-78", want);
    phone_ok("FR", "+33 6 12 34 56 78", want);
    phone_ok("FR", "0033612345678", want);
    phone_ok("FR", "00 33 6 12 34 56 78", want);
    phone_ok("FR", "(0)6.12.34.56.78", want);
    phone_ok("FR", "+33 (0)6 12 34 56 78", want);
    phone_ok("FR", "+33 06 12 34 56 78", want);
    phone_ok(NULL, "+33 6 12 34 56 78", want);
    phone_ok("DE", "+33 6 12 34 56 78", want);
    phone_bad("FR", "06 12", "is not a valid FR number (too short)");
    phone_bad("FR", "06 12 34 56 78 9", "is not a valid FR number (too long)");
    phone_bad("FR", "+33 6 12 34 56", "is not a valid FR number (too short)");
    phone_bad("FR", "06 12 AB 56 78", "contains letters");
    phone_bad("FR", "06 12 34 56 78 ext 2", "contains letters");
    phone_bad("FR", "06#12345678", "not allowed in a phone number");
    phone_bad("FR", "06 12 34 56 78+", "'+' that is not at the start");
    phone_bad("FR", "(06 12 34 56 78", "unbalanced parentheses");
    phone_bad("FR", "06) 12 34 56 78", "unbalanced parentheses");
    phone_bad("FR", "+0 6 12 34 56 78", "no valid country code");
    phone_bad("FR", "", "is empty");
    phone_bad("FR", " - ", "has no digits");
}

static void test_phone_countries(void **state)
{
    (void)state;
    phone_ok("GB", "020 7946 0958", "+442079460958");
    phone_ok("GB", "+44 (0)20 7946 0958", "+442079460958");
    phone_bad("GB", "020 7946 095", "is not a valid GB number");
    phone_ok("DE", "030 123456", "+4930123456");
    phone_ok("DE", "0049 30 1234 5678", "+493012345678");
    phone_bad("DE", "030 12", "is not a valid DE number");
    phone_ok("ES", "612 34 56 78", "+34612345678");
    phone_bad("ES", "612 34 56", "is not a valid ES number (too short)");
    phone_ok("IT", "06 1234 5678", "+390612345678"); /* Italy keeps its 0 */
    phone_ok("IT", "+39 06 1234 5678", "+390612345678");
    phone_ok("BE", "02 511 12 34", "+3225111234"); /* 021 is not allocated */
    phone_ok("BE", "0470 12 34 56", "+32470123456");
    phone_ok("CH", "044 668 18 00", "+41446681800");
    phone_ok("NL", "020 123 4567", "+31201234567");
    phone_ok("PT", "912 345 678", "+351912345678");
    phone_ok("LU", "26 12 34", "+352261234");
    phone_ok("IE", "01 234 5678", "+35312345678");
    phone_ok("US", "(415) 555-2671", "+14155552671");
    phone_ok("US", "+1 415 555 2671", "+14155552671");
    phone_ok("US", "1-415-555-2671", "+14155552671");
    phone_ok("US", "011 33 6 12 34 56 78", "+33612345678");
    phone_ok("CA", "416/555/0199", "+14165550199");
    phone_bad("US", "(015) 555-2671", "is not a valid US number");
    phone_bad("US", "555-2671", "is not a valid US number (a local number: add the area code)");
    /* countries without a length rule: E.164 bounds */
    phone_ok(NULL, "+258 84 123 4567", "+258841234567");
    phone_ok("JP", "03-1234-5678", "+81312345678");
    phone_bad(NULL, "+258 1234", "is not a valid MZ number (too short)");
    phone_bad(NULL, "+258 1234 5678 9012 34", "is not a valid MZ number (too long)");
    phone_bad(NULL, "06 12 34 56 78", "no default country is set");
    phone_bad("ZZ", "06 12 34 56 78", "'ZZ' is not a country libphonenumber knows");
    phone_bad("FR", "0612345678901234567890123", "is too long (more than 20 digits)");
}

/* ---- postal codes ---------------------------------------------------- */

static void postal_ok(const char *country, const char *in, const char *want)
{
    g_country = country;
    check_ok(postal_fn, in, want);
}

static void postal_bad(const char *country, const char *in, const char *rule)
{
    g_country = country;
    check_bad(postal_fn, "postal_code", in, rule);
}

static void test_postal(void **state)
{
    (void)state;
    postal_ok("FR", "75001", "75001");
    postal_ok("fr", " 75 001 ", "75001");
    postal_bad("FR", "7500", "is not a valid FR postal code (expected 5 digits)");
    postal_bad("FR", "750011", "expected 5 digits");
    postal_bad("FR", "7500A", "expected 5 digits");
    postal_ok("DE", "10115", "10115");
    postal_bad("DE", "1011", "is not a valid DE postal code (expected 5 digits)");
    postal_ok("ES", "28013", "28013");
    postal_ok("ES", "01001", "01001");
    postal_bad("ES", "53001", "province number 01 to 52");
    postal_bad("ES", "00123", "province number 01 to 52");
    postal_ok("IT", "00184", "00184");
    postal_bad("IT", "0018", "is not a valid IT postal code");
    postal_ok("US", "94103", "94103");
    postal_ok("US", "94103-1234", "94103-1234");
    postal_ok("US", "941031234", "94103-1234");
    postal_bad("US", "9410", "ZIP+4");
    postal_bad("US", "94103-12", "ZIP+4");
    postal_ok("GB", "sw1a1aa", "SW1A 1AA");
    postal_ok("GB", "SW1A 1AA", "SW1A 1AA");
    postal_ok("GB", "m1 1ae", "M1 1AE");
    postal_ok("GB", "B33 8TH", "B33 8TH");
    postal_ok("GB", "CR2 6XH", "CR2 6XH");
    postal_ok("GB", "DN55 1PT", "DN55 1PT");
    postal_ok("GB", "W1A 0AX", "W1A 0AX");
    postal_ok("GB", "GIR 0AA", "GIR 0AA");
    postal_bad("GB", "SW1A 1A", "is not a valid GB postcode");
    postal_bad("GB", "12345", "UK pattern");
    postal_bad("GB", "SW1A 11A", "UK pattern");
    postal_ok("BE", "1000", "1000");
    postal_bad("BE", "0999", "is not a valid BE postal code (expected 4 digits, 1000 to 9999)");
    postal_bad("BE", "10000", "BE postal code");
    postal_ok("CH", "8001", "8001");
    postal_bad("CH", "800", "CH postal code");
    postal_ok("AT", "1010", "1010");
    postal_bad("AT", "101", "AT postal code");
    postal_ok("NL", "1234 ab", "1234 AB");
    postal_ok("NL", "1234AB", "1234 AB");
    postal_bad("NL", "1234", "like 1234 AB");
    postal_bad("NL", "0234 AB", "like 1234 AB");
    postal_ok("PT", "1000-001", "1000-001");
    postal_ok("PT", "1000001", "1000-001");
    postal_bad("PT", "1000", "like 1234-567");
    postal_ok("LU", "1234", "1234");
    postal_ok("LU", "L-1234", "1234");
    postal_ok("LU", "l-2180", "2180");
    postal_bad("LU", "L-123", "LU postal code (expected 4 digits, optionally after 'L-')");
    /* generic rule: unknown country, or none */
    postal_ok("SE", "114 55", "114 55");
    postal_ok(NULL, "  ab-12   cd ", "AB-12 CD");
    postal_ok("JP", "100-0001", "100-0001");
    postal_bad("SE", "1", "expected 2 to 10 letters, digits, spaces or '-'");
    postal_bad(NULL, "12345678901", "expected 2 to 10");
    postal_bad(NULL, "12#45", "expected 2 to 10");
    postal_bad(NULL, "--", "expected 2 to 10");
    postal_bad("FR", "", "is empty");
    postal_bad("FR", "75\xc3\xa9" "01", "FR postal code");
}

static void test_country(void **state)
{
    (void)state;
    norm_fn f = crm_normalise_country;
    check_ok(f, "fr", "FR");
    check_ok(f, " FR ", "FR");
    check_ok(f, "France", "FR");
    check_ok(f, "FRANCE", "FR");
    check_ok(f, "Deutschland", "DE");
    check_ok(f, "Germany", "DE");
    check_ok(f, "Allemagne", "DE");
    check_ok(f, "Royaume-Uni", "GB");
    check_ok(f, "United Kingdom", "GB");
    check_ok(f, "uk", "GB");
    check_ok(f, "\xc3\x89tats-Unis", "US");
    check_ok(f, "USA", "US");
    check_ok(f, "Espa\xc3\xb1" "a", "ES");
    check_ok(f, "Pays-Bas", "NL");
    check_ok(f, "Suisse", "CH");
    check_ok(f, "\xc3\x96sterreich", "AT");
    check_ok(f, "C\xc3\xb4te d'Ivoire", "CI");
    check_ok(f, "jp", "JP");
    check_ok(f, "zw", "ZW");
    check_bad(f, "country", "Atlantis", "is not a known country");
    check_bad(f, "country", "XX", "is not a known country (expected an ISO 3166 alpha-2");
    check_bad(f, "country", "F", "is not a known country");
    check_bad(f, "country", "", "is empty");
    check_bad_shown(f, "country", "\xff", "?", "not valid UTF-8");
}

/* ---- dates ----------------------------------------------------------- */

static void date_ok(const char *in, const char *want)
{
    check_ok(date_fn, in, want);
}

static void date_bad(const char *in, const char *rule)
{
    check_bad(date_fn, "birth_date", in, rule);
}

static void test_dates(void **state)
{
    (void)state;
    g_not_after = 0;
    date_ok("2024-02-29", "2024-02-29");
    date_ok("2000-02-29", "2000-02-29");
    date_ok(" 2024-12-31 ", "2024-12-31");
    date_ok("29/02/2024", "2024-02-29");
    date_ok("1/2/2024", "2024-02-01");
    date_ok("0001-01-01", "0001-01-01");
    date_bad("2023-02-29", "is not a real date (2023 is not a leap year, February has 28 days)");
    date_bad("1900-02-29", "1900 is not a leap year");
    date_bad("2024-02-30", "February has 29 days");
    date_bad("2024-04-31", "is not a real date (April has 30 days)");
    date_bad("31/04/2024", "April has 30 days");
    date_bad("2024-13-01", "month 13 does not exist");
    date_bad("2024-00-10", "month 00 does not exist");
    date_bad("2024-01-00", "January has 31 days");
    date_bad("0000-01-01", "years start at 0001");
    date_bad("2024-1-01", "is not a date (expected YYYY-MM-DD or DD/MM/YYYY)");
    date_bad("2024/01/01", "expected YYYY-MM-DD");
    date_bad("2024-01-01x", "expected YYYY-MM-DD");
    date_bad("01/01/24", "expected YYYY-MM-DD");
    date_bad("yesterday", "expected YYYY-MM-DD");
    date_bad("", "is empty");
    /* birth dates: not after 2025-06-01T12:00:00Z */
    g_not_after = 1748779200;
    date_ok("2025-06-01", "2025-06-01");
    date_ok("1980-05-17", "1980-05-17");
    date_bad("2025-06-02", "is in the future (the latest date allowed is 2025-06-01)");
    date_bad("02/06/2025", "is in the future");
    g_not_after = 0;
}

static void dt_ok(const char *in, int64_t want)
{
    int64_t t = 42;
    crm_err err = {0};
    if (crm_parse_datetime("at", in, &t, &err) != CRM_OK)
        fail_msg("'%s' refused: %s", in, err.msg);
    if (t != want)
        fail_msg("'%s' gave %lld, expected %lld", in, (long long)t, (long long)want);
}

static void dt_bad(const char *in, const char *rule)
{
    int64_t t = 42;
    crm_err err = {0};
    assert_int_equal(crm_parse_datetime("at", in, &t, &err), CRM_EINVAL);
    check_msg(&err, "at", in ? in : "", rule);
}

static void test_datetime(void **state)
{
    (void)state;
    const int64_t day = 1740787200; /* 2025-03-01T00:00:00Z */
    const int64_t t = day + 10 * 3600 + 20 * 60 + 30;
    dt_ok("2025-03-01", day);
    dt_ok("2025-03-01T10:20:30", t);
    dt_ok("2025-03-01T10:20:30Z", t);
    dt_ok("2025-03-01t10:20:30z", t);
    dt_ok("2025-03-01T10:20:30.987Z", t);
    dt_ok("2025-03-01T12:20:30+02:00", t);
    dt_ok("2025-03-01T12:20:30+0200", t);
    dt_ok("2025-03-01T12:20:30+02", t);
    dt_ok("2025-03-01T04:50:30-05:30", t);
    dt_ok("2025-03-02T00:20:30+14:00", t);
    dt_ok("2025-03-01 10:20", t - 30);
    dt_ok(" 2025-03-01T10:20:30Z ", t);
    dt_ok("2025-03-01T01:00:00+02:00", day - 3600); /* previous day in UTC */
    dt_ok("1970-01-01T00:00:00Z", 0);
    dt_ok("1969-12-31T23:59:59Z", -1);
    dt_ok("2000-03-01", 951868800);
    dt_bad("2025-03-01T24:00", "is not a real time");
    dt_bad("2025-03-01T10:60", "is not a real time");
    dt_bad("2025-03-01T10:20:61", "is not a real time");
    dt_bad("2025-03-01T10", "is not a date-time");
    dt_bad("2025-03-01T10:20+2", "bad time zone offset");
    dt_bad("2025-03-01T10:20+25:00", "time zone offset out of range");
    dt_bad("2025-03-01T10:20:30Z junk", "unexpected text");
    dt_bad("2025-02-29T10:20", "2025 is not a leap year");
    dt_bad("01/03/2025", "is not a date-time");
    dt_bad("", "is empty");
    dt_bad(NULL, "is empty");

    /* the process time zone must not matter */
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", "America/New_York", 1);
    tzset();
    dt_ok("2025-03-01T10:20:30Z", t);
    dt_ok("2025-07-01", 1751328000);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

static void test_format_datetime(void **state)
{
    (void)state;
    char buf[32];
    crm_format_datetime(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    crm_format_datetime(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    crm_format_datetime(1740787200 + 37230, buf, sizeof buf);
    assert_string_equal(buf, "2025-03-01T10:20:30Z");
    crm_format_datetime(951782400, buf, sizeof buf);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    /* round trip across many days, leap years included */
    for (int64_t s = -5000LL * 86400; s < 20000LL * 86400; s += 86400 * 7 + 3601) {
        int64_t back = 0;
        crm_err err = {0};
        crm_format_datetime(s, buf, sizeof buf);
        assert_int_equal(crm_parse_datetime("at", buf, &back, &err), CRM_OK);
        assert_int_equal(back, s);
    }
    crm_format_datetime(0, buf, 5); /* truncates, never overflows */
    assert_string_equal(buf, "1970");
    crm_format_datetime(0, NULL, 0);
}

/* ---- money ----------------------------------------------------------- */

static void money_ok(const char *in, int decimals, int64_t want)
{
    int64_t v = 42;
    crm_err err = {0};
    if (crm_parse_money("amount", in, decimals, &v, &err) != CRM_OK)
        fail_msg("'%s' refused: %s", in, err.msg);
    if (v != want)
        fail_msg("'%s' gave %lld, expected %lld", in, (long long)v, (long long)want);
}

static void money_bad(const char *in, int decimals, const char *rule)
{
    int64_t v = 42;
    crm_err err = {0};
    assert_int_equal(crm_parse_money("amount", in, decimals, &v, &err), CRM_EINVAL);
    check_msg(&err, "amount", in ? in : "", rule);
}

static void test_money(void **state)
{
    (void)state;
    money_ok("12,50", 2, 1250);
    money_ok("12.5", 2, 1250);
    money_ok("12", 2, 1200);
    money_ok("0.05", 2, 5);
    money_ok("1 234.5", 2, 123450);
    money_ok("1 234,56", 2, 123456);
    money_ok("1\xc2\xa0" "234,56", 2, 123456);      /* no-break space */
    money_ok("1\xe2\x80\xaf" "234,56", 2, 123456);  /* narrow no-break space */
    money_ok("1'234.56", 2, 123456);
    money_ok("1,234.56", 2, 123456);
    money_ok("1.234,56", 2, 123456);
    money_ok("1.234.567", 2, 123456700);
    money_ok("1,234,567.89", 2, 123456789);
    money_ok("-3", 2, -300);
    money_ok("-12,50", 2, -1250);
    money_ok("+7", 2, 700);
    money_ok("  42  ", 2, 4200);
    money_ok("1500", 0, 1500);
    money_ok("12.345", 3, 12345);
    money_ok("92233720368547758.07", 2, INT64_MAX);
    money_ok("-92233720368547758.07", 2, -INT64_MAX);
    money_bad("12.345", 2, "has 3 decimals, more than the 2 allowed");
    money_bad("1500.5", 0, "has 1 decimals, more than the 0 allowed");
    money_bad("abc", 2, "is not a number");
    money_bad("12\xe2\x82\xac", 2, "is not a number");
    money_bad("12 5", 2, "grouped by 3 digits");
    money_bad("1.2.3", 2, "grouped by 3 digits");
    money_bad("1,234.5.6", 2, "is not a number");
    money_bad("12.", 2, "ends with a separator");
    money_bad(".5", 2, "must follow a digit");
    money_bad("--3", 2, "is not a number");
    money_bad("-", 2, "no digits");
    money_bad("1.234,5 6", 2, "thousands separator after the decimal mark");
    money_bad("99999999999999999999", 2, "is too large");
    money_bad("92233720368547758.08", 2, "is too large");
    money_bad("", 2, "is empty");
    money_bad(NULL, 2, "is empty");
    int64_t v;
    crm_err err = {0};
    assert_int_equal(crm_parse_money("amount", "1", 19, &v, &err), CRM_EUSAGE);
    assert_int_equal(crm_parse_money("amount", "1", -1, &v, &err), CRM_EUSAGE);
}

static void test_format_money(void **state)
{
    (void)state;
    char buf[40];
    crm_format_money(1250, 2, buf, sizeof buf);
    assert_string_equal(buf, "12.50");
    crm_format_money(123450, 2, buf, sizeof buf);
    assert_string_equal(buf, "1234.50");
    crm_format_money(-5, 2, buf, sizeof buf);
    assert_string_equal(buf, "-0.05");
    crm_format_money(0, 2, buf, sizeof buf);
    assert_string_equal(buf, "0.00");
    crm_format_money(1500, 0, buf, sizeof buf);
    assert_string_equal(buf, "1500");
    crm_format_money(12345, 3, buf, sizeof buf);
    assert_string_equal(buf, "12.345");
    crm_format_money(INT64_MIN, 2, buf, sizeof buf);
    assert_string_equal(buf, "-92233720368547758.08");
    crm_format_money(1, -3, buf, sizeof buf);
    assert_string_equal(buf, "1");
}

static void test_currency_decimals(void **state)
{
    (void)state;
    assert_int_equal(crm_currency_decimals("EUR"), 2);
    assert_int_equal(crm_currency_decimals("USD"), 2);
    assert_int_equal(crm_currency_decimals("JPY"), 0);
    assert_int_equal(crm_currency_decimals("XOF"), 0);
    assert_int_equal(crm_currency_decimals("KWD"), 3);
    assert_int_equal(crm_currency_decimals("TND"), 3);
    assert_int_equal(crm_currency_decimals("CLF"), 4);
    assert_int_equal(crm_currency_decimals("XYZ"), 2);
    assert_int_equal(crm_currency_decimals("eur"), -1);
    assert_int_equal(crm_currency_decimals("EU"), -1);
    assert_int_equal(crm_currency_decimals("EURO"), -1);
    assert_int_equal(crm_currency_decimals(""), -1);
    assert_int_equal(crm_currency_decimals(NULL), -1);
}

/* Every entry point refuses junk without crashing. */
static void test_hostile_input(void **state)
{
    (void)state;
    static const char *const junk[] = {NULL, "", "\xff\xfe", "\xc0\x80", "\xed\xa0\x80",
                                       "a\x01" "b", "\xf4\x90\x80\x80"};
    norm_fn fns[] = {crm_clean_text, crm_normalise_name, crm_normalise_email, phone_fn,
                     postal_fn, crm_normalise_country, date_fn};
    g_country = "FR";
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        for (size_t j = 0; j < sizeof fns / sizeof *fns; j++) {
            char *out = NULL;
            crm_err err = {0};
            int rc = fns[j]("f", junk[i], &out, &err);
            if (rc == CRM_OK) {
                /* only control characters may pass, as a space */
                assert_string_equal(junk[i], "a\x01" "b");
                free(out);
            } else {
                assert_int_equal(rc, CRM_EINVAL);
                assert_null(out);
                assert_non_null(strstr(err.msg, "f: '"));
            }
        }
        int64_t v;
        assert_int_equal(crm_parse_datetime("f", junk[i], &v, NULL), CRM_EINVAL);
        assert_int_equal(crm_parse_money("f", junk[i], 2, &v, NULL), CRM_EINVAL);
        char *k = crm_fold_key(junk[i]);
        free(k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_text),
        cmocka_unit_test(test_message_truncation),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fold_key),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_phone_fr),
        cmocka_unit_test(test_phone_countries),
        cmocka_unit_test(test_postal),
        cmocka_unit_test(test_country),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_format_datetime),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_format_money),
        cmocka_unit_test(test_currency_decimals),
        cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

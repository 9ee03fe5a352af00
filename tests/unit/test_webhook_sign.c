/* Standard Webhooks signatures: the specification's published vector, a
 * vector computed here by Python's hmac, verification and bad secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/driver.h"
#include "testutil.h"

/* The example of the Standard Webhooks specification and its reference
 * libraries' tests: this secret, id, timestamp and body sign to this. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_spec_vector(void **state)
{
    (void)state;
    char sig[CRM_WEBHOOK_SIG_MAX];
    crm_err err = {0};
    assert_int_equal(crm_webhook_sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY,
                                      strlen(SPEC_BODY), sig, &err),
                     CRM_OK);
    assert_string_equal(sig, SPEC_SIG);
    /* The whsec_ prefix is optional. */
    assert_int_equal(crm_webhook_sign(SPEC_SECRET + 6, SPEC_ID, SPEC_TS, SPEC_BODY,
                                      strlen(SPEC_BODY), sig, &err),
                     CRM_OK);
    assert_string_equal(sig, SPEC_SIG);
}

/* A body with UTF-8 and a NUL-free binary-ish run, signed by Python. */
static void test_python_vector(void **state)
{
    (void)state;
    const char *secret = "whsec_c2VjcmV0LWtleS1mb3ItdGhlLXRlc3RzLTEyMzQ1Njc4OTA=";
    const char *id = "evt_42";
    const char *body = "{\"type\":\"order.placed\",\"name\":\"Hélène\",\"total\":\"49,90 €\"}";
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import base64,hashlib,hmac,sys;"
             "k=base64.b64decode(sys.argv[1][6:]);"
             "m=(sys.argv[2]+\".\"+sys.argv[3]+\".\"+sys.argv[4]).encode();"
             "print(\"v1,\"+base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())'"
             " '%s' '%s' 1700000000 '%s'",
             secret, id, body);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char want[128] = "";
    assert_non_null(fgets(want, sizeof want, p));
    assert_int_equal(pclose(p), 0);
    want[strcspn(want, "\n")] = '\0';
    char sig[CRM_WEBHOOK_SIG_MAX];
    crm_err err = {0};
    assert_int_equal(crm_webhook_sign(secret, id, 1700000000, body, strlen(body), sig, &err),
                     CRM_OK);
    assert_string_equal(sig, want);
}

static void test_verify(void **state)
{
    (void)state;
    crm_err err = {0};
    size_t n = strlen(SPEC_BODY);
    assert_int_equal(crm_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n, SPEC_SIG,
                                        &err),
                     CRM_OK);
    /* A rotated secret: several signatures, one matches. */
    assert_int_equal(crm_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n,
                                        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " SPEC_SIG,
                                        &err),
                     CRM_OK);
    /* Any change to id, timestamp or body breaks it. */
    assert_int_equal(crm_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS + 1, SPEC_BODY, n,
                                        SPEC_SIG, &err),
                     CRM_EDENIED);
    assert_int_equal(crm_webhook_verify(SPEC_SECRET, "msg_other", SPEC_TS, SPEC_BODY, n,
                                        SPEC_SIG, &err),
                     CRM_EDENIED);
    assert_int_equal(crm_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n - 1,
                                        SPEC_SIG, &err),
                     CRM_EDENIED);
    assert_int_equal(crm_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n,
                                        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", &err),
                     CRM_EDENIED);
}

static void test_bad_secret(void **state)
{
    (void)state;
    char sig[CRM_WEBHOOK_SIG_MAX];
    crm_err err = {0};
    assert_int_equal(crm_webhook_sign("whsec_not base64!", "id", 1, "", 0, sig, &err),
                     CRM_EINVAL);
    assert_non_null(strstr(err.msg, "webhook secret"));
    assert_int_equal(crm_webhook_sign("whsec_", "id", 1, "", 0, sig, &err), CRM_EINVAL);
    assert_int_equal(crm_webhook_sign(NULL, "id", 1, "", 0, sig, &err), CRM_EINVAL);
    assert_int_equal(crm_webhook_sign(SPEC_SECRET, "", 1, "", 0, sig, &err), CRM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vector),
        cmocka_unit_test(test_python_vector),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_bad_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Standard Webhooks signatures (https://www.standardwebhooks.com/):
 * HMAC-SHA256 of "id.timestamp.body" keyed with the secret's decoded bytes. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "messages/driver.h"

#define MAX_KEY 256

static int decode_secret(const char *secret, unsigned char *key, size_t *key_len, crm_err *err)
{
    if (!secret)
        return crm_err_set(err, CRM_EINVAL, "webhook secret: missing");
    if (strncmp(secret, "whsec_", 6) == 0)
        secret += 6;
    if (sodium_base642bin(key, MAX_KEY, secret, strlen(secret), NULL, key_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *key_len == 0)
        return crm_err_set(err, CRM_EINVAL,
                           "webhook secret: expected whsec_ followed by base64 (at most %d "
                           "bytes), got something else",
                           MAX_KEY);
    return CRM_OK;
}

static int mac(const char *secret, const char *id, int64_t timestamp, const char *body,
               size_t body_len, unsigned char out[crypto_auth_hmacsha256_BYTES], crm_err *err)
{
    if (sodium_init() < 0)
        return crm_err_set(err, CRM_EINTERNAL, "webhook signature: libsodium failed to start");
    unsigned char key[MAX_KEY];
    size_t key_len = 0;
    int rc = decode_secret(secret, key, &key_len, err);
    if (rc != CRM_OK)
        return rc;
    if (!id || !*id)
        return crm_err_set(err, CRM_EINVAL, "webhook signature: missing webhook-id");
    char ts[32];
    snprintf(ts, sizeof ts, ".%" PRId64 ".", timestamp);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&st, sizeof st);
    return CRM_OK;
}

int crm_webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                     size_t body_len, char sig[CRM_WEBHOOK_SIG_MAX], crm_err *err)
{
    unsigned char h[crypto_auth_hmacsha256_BYTES];
    int rc = mac(secret, id, timestamp, body, body_len, h, err);
    if (rc != CRM_OK)
        return rc;
    memcpy(sig, "v1,", 3);
    sodium_bin2base64(sig + 3, CRM_WEBHOOK_SIG_MAX - 3, h, sizeof h,
                      sodium_base64_VARIANT_ORIGINAL);
    return CRM_OK;
}

int crm_webhook_verify(const char *secret, const char *id, int64_t timestamp, const char *body,
                       size_t body_len, const char *header, crm_err *err)
{
    unsigned char h[crypto_auth_hmacsha256_BYTES];
    int rc = mac(secret, id, timestamp, body, body_len, h, err);
    if (rc != CRM_OK)
        return rc;
    /* A sender rotating secrets lists several signatures: any may match. */
    for (const char *p = header ? header : ""; *p;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        unsigned char got[crypto_auth_hmacsha256_BYTES];
        size_t got_len = 0;
        if (n > 3 && strncmp(p, "v1,", 3) == 0 &&
            sodium_base642bin(got, sizeof got, p + 3, n - 3, NULL, &got_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            got_len == sizeof got && sodium_memcmp(got, h, sizeof h) == 0)
            return CRM_OK;
        p += n;
    }
    return crm_err_set(err, CRM_EDENIED, "webhook signature: no v1 signature matches");
}

/* API tokens and roles for `crm serve`.
 *
 * A token is "crm_" followed by 64 hex digits of randomness (libsodium); the
 * database keeps only its BLAKE2b hash (crypto_generichash), so a copy of the
 * database grants nothing. A request's bearer token is hashed, looked up and
 * compared in constant time; a revoked or expired token is refused. */
#ifndef CRM_CORE_HTTP_AUTH_H
#define CRM_CORE_HTTP_AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "kernel.h"

/* Roles as bits, so a route lists who may call it as one mask. */
enum {
    CRM_ROLE_VIEWER = 1u << 0,
    CRM_ROLE_AGENT = 1u << 1,
    CRM_ROLE_MANAGER = 1u << 2,
    CRM_ROLE_ADMIN = 1u << 3,
    CRM_ROLE_INTEGRATION = 1u << 4,
};
#define CRM_ROLE_ALL 0x1fu

/* The bit of role `name` ("viewer", ...), 0 when unknown. */
unsigned crm_role_bit(const char *name);
/* The name of a single role bit, NULL when not one. */
const char *crm_role_name(unsigned bit);
/* Parses "viewer,agent" into a mask; CRM_EINVAL naming the bad word. */
int crm_role_mask(const char *list, unsigned *mask, crm_err *err);

#define CRM_TOKEN_TEXT 69 /* "crm_" + 64 hex + NUL */

/* The secrets of crm serve (API tokens, board sessions) share one recipe:
 * prefix + 32 random bytes as 64 hex digits into out (strlen(prefix) + 65
 * bytes); stored only as crm_secret_hash, BLAKE2b-256 in hex (keyed when
 * key is not NULL). */
void crm_secret_new(const char *prefix, char *out);
void crm_secret_hash(const char *text, const unsigned char *key, size_t key_len, char hex[65]);

typedef struct crm_token {
    int64_t id;
    char name[128];
    unsigned role;  /* one CRM_ROLE_* bit */
} crm_token;

/* Creates token `name` with `role` expiring at expires_at (0: never) and
 * writes its text to token (CRM_TOKEN_TEXT bytes): the only time it exists
 * outside the caller. CRM_EINVAL for an unknown role, CRM_EEXISTS for a name
 * in use. */
int crm_token_create(crm_kernel *k, const char *name, const char *role, int64_t expires_at,
                     char token[CRM_TOKEN_TEXT], int64_t *id, crm_err *err);

/* Marks token `ref` (id or name) revoked at k->now. CRM_ENOTFOUND. */
int crm_token_revoke(crm_kernel *k, const char *ref, crm_err *err);

/* Calls fn with each token as JSON (id, name, role, prefix, created_at,
 * expires_at, revoked_at), in id order. */
int crm_token_list(crm_kernel *k, int (*fn)(json_t *t, void *ud), void *ud, crm_err *err);

/* Checks the bearer text against the stored hashes at time now: CRM_OK with
 * *out, CRM_EDENIED when unknown, revoked or expired (err says which). */
int crm_token_verify(crm_kernel *k, const char *bearer, int64_t now, crm_token *out,
                     crm_err *err);

#endif

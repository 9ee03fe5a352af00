/* API tokens: creation, listing, revocation, verification (see auth.h). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "http/auth.h"
#include "model/model_util.h"

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {
    {"viewer", CRM_ROLE_VIEWER},   {"agent", CRM_ROLE_AGENT},
    {"manager", CRM_ROLE_MANAGER}, {"admin", CRM_ROLE_ADMIN},
    {"integration", CRM_ROLE_INTEGRATION},
};

unsigned crm_role_bit(const char *name)
{
    for (size_t i = 0; name && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *crm_role_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].bit == bit)
            return roles[i].name;
    return NULL;
}

int crm_role_mask(const char *list, unsigned *mask, crm_err *err)
{
    char word[32];
    *mask = 0;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        unsigned bit = crm_role_bit(word);
        if (!bit)
            return crm_err_set(err, CRM_EINVAL,
                               "unknown role '%s' (admin, manager, agent, viewer, integration)",
                               word);
        *mask |= bit;
        p += strcspn(p, ",");
        p += *p == ',';
    }
    return CRM_OK;
}

/* Hex of BLAKE2b-256 of the token text: what the database keeps. */
void crm_secret_hash(const char *text, const unsigned char *key, size_t key_len, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, strlen(text), key, key_len);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

void crm_secret_new(const char *prefix, char *out)
{
    unsigned char secret[32];
    size_t n = strlen(prefix);
    randombytes_buf(secret, sizeof secret);
    memcpy(out, prefix, n);
    sodium_bin2hex(out + n, 65, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
}

static int step_done(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, what, err);
}

int crm_token_create(crm_kernel *k, const char *name, const char *role, int64_t expires_at,
                     char token[CRM_TOKEN_TEXT], int64_t *id, crm_err *err)
{
    if (!name || !*name)
        return crm_err_set(err, CRM_EUSAGE, "missing --name NAME: what the token is for");
    if (!crm_role_bit(role))
        return crm_err_set(err, CRM_EINVAL,
                           "unknown role '%s' (admin, manager, agent, viewer, integration)",
                           role ? role : "");
    if (sodium_init() < 0)
        return crm_err_set(err, CRM_EINTERNAL, "libsodium failed to initialise");
    crm_secret_new("crm_", token);
    char hex[65], prefix[13];
    crm_secret_hash(token, NULL, 0, hex);
    snprintf(prefix, sizeof prefix, "%.12s", token);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO api_tokens(name, role, prefix, hash, created_at, expires_at) "
        "VALUES(?, ?, ?, ?, ?, nullif(?, 0))",
        err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, name);
    crm_bind_text(st, 2, role);
    crm_bind_text(st, 3, prefix);
    crm_bind_text(st, 4, hex);
    sqlite3_bind_int64(st, 5, k->now);
    sqlite3_bind_int64(st, 6, expires_at);
    int rc = sqlite3_step(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return crm_err_set(err, CRM_EEXISTS, "a token named '%s' exists (see crm token list)",
                           name);
    if (rc != SQLITE_DONE)
        return crm_store_error(k->store, "storing the token", err);
    if (id)
        *id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    return CRM_OK;
}

int crm_token_revoke(crm_kernel *k, const char *ref, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) "
        "WHERE name = ? OR CAST(id AS TEXT) = ?",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, k->now);
    crm_bind_text(st, 2, ref);
    crm_bind_text(st, 3, ref);
    int rc = step_done(k, st, "revoking the token", err);
    if (rc == CRM_OK && sqlite3_changes(crm_store_db(k->store)) == 0)
        rc = crm_err_set(err, CRM_ENOTFOUND, "no token '%s' (see crm token list)", ref);
    return rc;
}

static json_t *opt_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? json_null()
               : crm_json_time(sqlite3_column_int64(st, col));
}

int crm_token_list(crm_kernel *k, int (*fn)(json_t *t, void *ud), void *ud, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "SELECT id, name, role, prefix, created_at, expires_at, "
                                      "revoked_at FROM api_tokens ORDER BY id",
                                      err);
    if (!st)
        return err->code;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *t = json_pack("{sIsssssssososo}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                              "name", (const char *)sqlite3_column_text(st, 1), "role",
                              (const char *)sqlite3_column_text(st, 2), "prefix",
                              (const char *)sqlite3_column_text(st, 3), "created_at",
                              opt_time(st, 4), "expires_at", opt_time(st, 5), "revoked_at",
                              opt_time(st, 6));
        if (!t)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
        int stop = fn(t, ud);
        json_decref(t);
        if (stop) {
            sqlite3_reset(st);
            return CRM_OK;
        }
    }
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "listing tokens", err);
}

int crm_token_verify(crm_kernel *k, const char *bearer, int64_t now, crm_token *out,
                     crm_err *err)
{
    if (!bearer || strlen(bearer) != CRM_TOKEN_TEXT - 1 || strncmp(bearer, "crm_", 4) != 0)
        return crm_err_set(err, CRM_EDENIED, "missing or malformed bearer token");
    char hex[65];
    crm_secret_hash(bearer, NULL, 0, hex);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT id, name, role, hash, coalesce(expires_at, 0), revoked_at IS NOT NULL "
        "FROM api_tokens WHERE hash = ?",
        err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, hex);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? crm_err_set(err, CRM_EDENIED, "unknown token")
                                 : crm_store_error(k->store, "checking the token", err);
    }
    /* The lookup found the row by hash; the constant-time compare keeps the
     * decision itself free of early exits. */
    const char *stored = (const char *)sqlite3_column_text(st, 3);
    bool same = stored && strlen(stored) == 64 && sodium_memcmp(stored, hex, 64) == 0;
    int64_t expires = sqlite3_column_int64(st, 4);
    bool revoked = sqlite3_column_int(st, 5) != 0;
    out->id = sqlite3_column_int64(st, 0);
    snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
    out->role = crm_role_bit((const char *)sqlite3_column_text(st, 2));
    sqlite3_reset(st);
    if (!same || !out->role)
        return crm_err_set(err, CRM_EDENIED, "unknown token");
    if (revoked)
        return crm_err_set(err, CRM_EDENIED, "token '%s' was revoked", out->name);
    if (expires && expires <= now)
        return crm_err_set(err, CRM_EDENIED, "token '%s' has expired", out->name);
    return CRM_OK;
}

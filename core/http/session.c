/* Board passwords (Argon2id) and login sessions (see session.h). */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "http/session.h"
#include "model.h"
#include "model/model_util.h"

/* The key of the CSRF hash: public, it only separates this use of BLAKE2b
 * from the session lookup hash; the secret is the cookie itself. */
static const unsigned char csrf_key[] = "crm board csrf token v1";

void crm_session_csrf(const char *cookie, char csrf[CRM_CSRF_TEXT])
{
    crm_secret_hash(cookie, csrf_key, sizeof csrf_key - 1, csrf);
}

bool crm_session_csrf_ok(const char *cookie, const char *header)
{
    char want[CRM_CSRF_TEXT];
    if (!cookie || !header || strlen(header) != CRM_CSRF_TEXT - 1)
        return false;
    crm_session_csrf(cookie, want);
    return sodium_memcmp(want, header, CRM_CSRF_TEXT - 1) == 0;
}

static int step_done(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, what, err);
}

static int end_user_sessions(crm_kernel *k, int64_t user_id, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "DELETE FROM board_sessions WHERE user_id = ?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, user_id);
    return step_done(k, st, "ending the user's sessions", err);
}

static int store_password(crm_kernel *k, int64_t id, const char *hash, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "UPDATE users SET password_hash = ? WHERE id = ?", err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, hash);
    sqlite3_bind_int64(st, 2, id);
    int rc = step_done(k, st, "storing the password", err);
    return rc == CRM_OK ? end_user_sessions(k, id, err) : rc;
}

int crm_user_passwd(crm_kernel *k, const char *ref, const char *password, crm_err *err)
{
    size_t n = password ? strlen(password) : 0;
    if (n < CRM_PASSWORD_MIN || n > CRM_PASSWORD_MAX)
        return crm_err_set(err, CRM_EINVAL, "password: must be %d to %d characters (got %zu)",
                           CRM_PASSWORD_MIN, CRM_PASSWORD_MAX, n);
    if (sodium_init() < 0)
        return crm_err_set(err, CRM_EINTERNAL, "libsodium failed to initialise");
    int64_t id;
    int rc = crm_user_resolve(k, ref, &id, err);
    if (rc != CRM_OK)
        return rc;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return crm_err_set(err, CRM_ENOMEM, "not enough memory for the Argon2id hash");
    rc = crm_kernel_begin(k, err);
    if (rc == CRM_OK)
        rc = store_password(k, id, hash, err);
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return rc;
}

/* The user's id, role and display name when ref names one with a password. */
static bool load_user(crm_kernel *k, const char *ref, crm_token *who, char *hash, size_t cap)
{
    crm_err ignored = {0};
    int64_t id;
    if (crm_user_resolve(k, ref, &id, &ignored) != CRM_OK)
        return false;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT coalesce(email, name), role, password_hash FROM users WHERE id = ?",
        &ignored);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, id);
    bool ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 2) != SQLITE_NULL;
    if (ok) {
        who->id = -id;
        snprintf(who->name, sizeof who->name, "%s", (const char *)sqlite3_column_text(st, 0));
        who->role = crm_role_bit((const char *)sqlite3_column_text(st, 1));
        snprintf(hash, cap, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    return ok;
}

static int insert_session(crm_kernel *k, int64_t user_id, const char *cookie, int64_t expires_at,
                          crm_err *err)
{
    char hex[65];
    crm_secret_hash(cookie, NULL, 0, hex);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO board_sessions(user_id, hash, created_at, expires_at) VALUES(?, ?, ?, ?)",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, user_id);
    crm_bind_text(st, 2, hex);
    sqlite3_bind_int64(st, 3, k->now);
    sqlite3_bind_int64(st, 4, expires_at);
    return step_done(k, st, "storing the session", err);
}

/* The user's sessions past their expiry go at each login, so the table
 * holds no more than the sessions one can still use. */
static int purge_expired(crm_kernel *k, int64_t user_id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "DELETE FROM board_sessions WHERE user_id = ? AND expires_at <= ?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, k->now);
    return step_done(k, st, "forgetting expired sessions", err);
}

/* The throttle's key: the name as typed, case folded (an unknown name is
 * throttled like a known one, so the answer tells nothing). */
static void login_key(const char *ref, char key[256])
{
    size_t i = 0;
    for (; ref && ref[i] && i < 255; i++)
        key[i] = (char)tolower((unsigned char)ref[i]);
    key[i] = 0;
}

/* *wait: seconds until key may try again, 0 when it may now. */
static int login_wait(crm_kernel *k, const char *key, int64_t *wait, crm_err *err)
{
    *wait = 0;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT count(*), min(at) FROM login_failures WHERE key = ? AND at > ?", err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, k->now - CRM_LOGIN_WINDOW);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) >= CRM_LOGIN_MAX_FAILURES)
        *wait = sqlite3_column_int64(st, 1) + CRM_LOGIN_WINDOW - k->now;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CRM_OK : crm_store_error(k->store, "reading failed logins", err);
}

/* Runs sql with ?1 = key and, when the statement has it, ?2 = t. */
static int run_key(crm_kernel *k, const char *sql, const char *key, int64_t t, const char *what,
                   crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, key);
    if (sqlite3_bind_parameter_count(st) > 1)
        sqlite3_bind_int64(st, 2, t);
    return step_done(k, st, what, err);
}

/* A failure, in a transaction of its own; every name's rows out of the
 * window go (what was typed at a login is not kept longer than it counts). */
static int login_failed(crm_kernel *k, const char *key, crm_err *err)
{
    crm_err ignored = {0};
    int rc = crm_kernel_begin(k, &ignored);
    if (rc == CRM_OK)
        rc = run_key(k, "INSERT INTO login_failures(key, at) VALUES(?1, ?2)", key, k->now,
                     "recording a failed login", &ignored);
    if (rc == CRM_OK)
        rc = run_key(k, "DELETE FROM login_failures WHERE at <= ?2", key,
                     k->now - CRM_LOGIN_WINDOW, "forgetting old failed logins", &ignored);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, &ignored);
    else
        crm_kernel_rollback(k);
    return rc == CRM_OK ? err->code : crm_err_set(err, rc, "%s", ignored.msg);
}

int crm_session_login(crm_kernel *k, const char *ref, const char *password,
                      char cookie[CRM_SESSION_TEXT], crm_token *who, int64_t *expires_at,
                      int64_t *retry_after, crm_err *err)
{
    char hash[crypto_pwhash_STRBYTES] = "", key[256];
    size_t n = password ? strlen(password) : 0;
    login_key(ref, key);
    int rc = login_wait(k, key, retry_after, err);
    if (rc != CRM_OK)
        return rc;
    if (*retry_after > 0)
        return crm_err_set(err, CRM_EBUSY, "too many failed logins for this user: try again "
                           "in %lld s", (long long)*retry_after);
    bool found = ref && *ref && load_user(k, ref, who, hash, sizeof hash);
    if (!found) {
        /* the same Argon2id work as a real check, so timing does not tell
         * an unknown user from a wrong password */
        char scratch[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str(scratch, password ? password : "", n,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            return crm_err_set(err, CRM_ENOMEM, "not enough memory for the Argon2id hash");
    }
    if (!found || !who->role || n > CRM_PASSWORD_MAX ||
        crypto_pwhash_str_verify(hash, password ? password : "", n) != 0) {
        crm_err_set(err, CRM_EDENIED, "unknown user or wrong password");
        return login_failed(k, key, err);
    }
    crm_secret_new("s_", cookie);
    *expires_at = k->now + CRM_SESSION_TTL;
    /* the transaction starts after the Argon2id check (about 0.1 s): other
     * writers do not wait on a password being hashed */
    rc = crm_kernel_begin(k, err);
    if (rc == CRM_OK)
        rc = purge_expired(k, -who->id, err);
    if (rc == CRM_OK)
        rc = run_key(k, "DELETE FROM login_failures WHERE key = ?1", key, 0,
                     "forgetting failed logins", err);
    if (rc == CRM_OK)
        rc = insert_session(k, -who->id, cookie, *expires_at, err);
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return rc;
}

int crm_session_verify(crm_kernel *k, const char *cookie, int64_t now, crm_token *who,
                       int64_t *expires_at, crm_err *err)
{
    if (!cookie || strlen(cookie) != CRM_SESSION_TEXT - 1 || strncmp(cookie, "s_", 2) != 0)
        return crm_err_set(err, CRM_EDENIED, "malformed session cookie");
    char hex[65];
    crm_secret_hash(cookie, NULL, 0, hex);
    sqlite3_stmt *st =
        crm_store_stmt(k->store,
                       "SELECT s.user_id, s.expires_at, coalesce(u.email, u.name), u.role "
                       "FROM board_sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?",
                       err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, hex);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? crm_err_set(err, CRM_EDENIED, "not logged in (or logged out)")
                                 : crm_store_error(k->store, "checking the session", err);
    }
    who->id = -sqlite3_column_int64(st, 0);
    *expires_at = sqlite3_column_int64(st, 1);
    snprintf(who->name, sizeof who->name, "%s", (const char *)sqlite3_column_text(st, 2));
    who->role = crm_role_bit((const char *)sqlite3_column_text(st, 3));
    sqlite3_reset(st);
    if (*expires_at <= now)
        return crm_err_set(err, CRM_EDENIED, "the session has expired: log in again");
    return who->role ? CRM_OK : crm_err_set(err, CRM_EDENIED, "the user has no known role");
}

int crm_session_end(crm_kernel *k, const char *cookie, crm_err *err)
{
    char hex[65];
    if (!cookie)
        return CRM_OK;
    crm_secret_hash(cookie, NULL, 0, hex);
    sqlite3_stmt *st = crm_store_stmt(k->store, "DELETE FROM board_sessions WHERE hash = ?", err);
    if (!st)
        return err->code;
    crm_bind_text(st, 1, hex);
    return step_done(k, st, "ending the session", err);
}

/* The web board's users: passwords and login sessions.
 *
 * A password is kept as libsodium's Argon2id string (crypto_pwhash_str:
 * algorithm, parameters and salt inside). Logging in makes a session: a
 * random cookie value ("s_" + 64 hex digits) that the browser holds, of which
 * the database keeps only the BLAKE2b hash, valid CRM_SESSION_TTL seconds.
 * The CSRF token a page must echo on writes is a keyed hash of the cookie:
 * whoever can read the page's session answer has it, a cross-site form
 * cannot, and nothing more is stored. */
#ifndef CRM_CORE_HTTP_SESSION_H
#define CRM_CORE_HTTP_SESSION_H

#include <stdint.h>

#include "http/auth.h"
#include "kernel.h"

#define CRM_SESSION_TTL (12 * 3600)
#define CRM_SESSION_TEXT 67 /* "s_" + 64 hex + NUL */
#define CRM_CSRF_TEXT 65    /* 64 hex + NUL */
#define CRM_PASSWORD_MIN 8
#define CRM_PASSWORD_MAX 1024

/* Sets user `ref`'s (id or email) password and ends its open sessions.
 * CRM_EINVAL when shorter than CRM_PASSWORD_MIN or longer than the max,
 * CRM_ENOTFOUND for an unknown user. */
int crm_user_passwd(crm_kernel *k, const char *ref, const char *password, crm_err *err);

/* Failed logins to one user name (known or not) within the window refuse
 * the next ones until the oldest leaves it: online password guessing gets
 * CRM_LOGIN_MAX_FAILURES tries per CRM_LOGIN_WINDOW seconds. */
#define CRM_LOGIN_MAX_FAILURES 5
#define CRM_LOGIN_WINDOW (15 * 60)

/* Checks user `ref`'s password and opens a session at k->now: writes the
 * cookie value to cookie, the session's user as *who (id negated: see
 * crm_session_verify) and its expiry. The session is stored in a
 * transaction of its own, which also deletes the user's expired sessions
 * and its failed logins. CRM_EDENIED with one message for an unknown user,
 * no password or a wrong one (the answer does not tell which), recorded as
 * a failure; CRM_EBUSY without checking the password when `ref` has had
 * too many failures, *retry_after the seconds until it may try again. */
int crm_session_login(crm_kernel *k, const char *ref, const char *password,
                      char cookie[CRM_SESSION_TEXT], crm_token *who, int64_t *expires_at,
                      int64_t *retry_after, crm_err *err);

/* The session of cookie at time now: CRM_OK with *who (name: the user's
 * email, else its name; role: the user's; id: minus the user id, so it never
 * equals a token id where both key a table such as api_idempotency) and
 * *expires_at; CRM_EDENIED when unknown or expired. */
int crm_session_verify(crm_kernel *k, const char *cookie, int64_t now, crm_token *who,
                       int64_t *expires_at, crm_err *err);

/* Forgets the session of cookie (logout). Unknown is not an error. */
int crm_session_end(crm_kernel *k, const char *cookie, crm_err *err);

/* The CSRF token of cookie (64 hex digits). */
void crm_session_csrf(const char *cookie, char csrf[CRM_CSRF_TEXT]);

/* True when header equals the CSRF token of cookie (constant time). */
bool crm_session_csrf_ok(const char *cookie, const char *header);

#endif

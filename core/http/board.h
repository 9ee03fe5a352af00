/* The web board inside `crm serve`: its login endpoints and static files.
 *
 * /board/login, /board/logout and /board/session are not API routes (no
 * bearer token, not in the OpenAPI document): they turn a user's password
 * into the session cookie the API then accepts (see session.h). Every other
 * GET outside /v1/ and /openapi.json is a file of core/http/board/, embedded
 * in the binary at build time (board_assets.cmake). */
#ifndef CRM_CORE_HTTP_BOARD_H
#define CRM_CORE_HTTP_BOARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kernel.h"

#define CRM_SESSION_COOKIE "crm_session"

/* What the server passes in: the parsed body, the session cookie and the
 * X-CSRF-Token header (NULL when absent), whether the client came over
 * TLS (X-Forwarded-Proto: https from the reverse proxy: the cookie gets
 * Secure), and whether the body was sent as application/json (a cross-site
 * form cannot send that type, so a login needs it). */
typedef struct crm_board_in {
    json_t *body;
    const char *cookie;
    const char *csrf;
    bool secure;
    bool json;
} crm_board_in;

typedef struct crm_board_out {
    int status;
    json_t *body;
    char set_cookie[200]; /* a Set-Cookie value, "" for none */
    int64_t retry_after;  /* seconds, for a 429; 0 for none */
} crm_board_out;

/* True for the paths crm_board_route answers. */
bool crm_board_is_auth_path(const char *path);

/* Answers /board/login (POST {"user", "password"}), /board/logout (POST, with
 * the CSRF token) and /board/session (GET: who is logged in, the CSRF token,
 * the locale, the plugins whose routes the pages use). */
void crm_board_route(crm_kernel *k, const char *method, const char *path, const crm_board_in *in,
                     crm_board_out *out);

/* ---- embedded files (board_static.c over the generated table) ---- */

typedef struct crm_board_asset {
    const char *path; /* "/index.html" */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<first 16 hex of its SHA-256>\"" */
} crm_board_asset;

/* The generated table (board_assets.c in the build tree), NULL-path ended. */
extern const crm_board_asset crm_board_assets[];

/* The file for a GET of path ("/" is /index.html), NULL when none. */
const crm_board_asset *crm_board_find(const char *path);
/* Its Content-Type, by extension. */
const char *crm_board_content_type(const crm_board_asset *a);

/* The Content-Security-Policy of the board's pages: own scripts and styles
 * only, no inline code, no framing. */
#define CRM_BOARD_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#endif

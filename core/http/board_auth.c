/* /board/login, /board/logout, /board/session (see board.h). */
#include <stdio.h>
#include <string.h>

#include "http/board.h"
#include "http/http.h"
#include "http/session.h"

static void answer_error(crm_board_out *out, int status, const char *code, const char *msg,
                         const char *field)
{
    out->status = status;
    out->body = json_pack("{s{ssssss?}}", "error", "code", code, "message", msg, "field", field);
}

static void set_cookie(crm_board_out *out, const char *value, int64_t max_age, bool secure)
{
    snprintf(out->set_cookie, sizeof out->set_cookie,
             CRM_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", value,
             (long long)max_age, secure ? "; Secure" : "");
}

static int add_owner(const crm_http_route *r, void *ud)
{
    json_t *set = ud;
    if (r->owner)
        json_object_set_new(set, r->owner, json_true());
    return 0;
}

/* The session's answer: the user, the CSRF token, what the pages need to
 * know of the installation (locale, the plugins with routes). */
static json_t *session_body(crm_kernel *k, const crm_token *who, const char *cookie,
                            int64_t expires_at)
{
    char csrf[CRM_CSRF_TEXT];
    crm_session_csrf(cookie, csrf);
    json_t *owners = json_object(), *plugins = json_array();
    crm_http_each_plugin_route(k, add_owner, owners);
    const char *name;
    json_t *v;
    json_object_foreach(owners, name, v) json_array_append_new(plugins, json_string(name));
    json_decref(owners);
    return json_pack("{s{sIssss}sssIs{ssssss?}so}", "user", "id", (json_int_t)-who->id, "name",
                     who->name, "role", crm_role_name(who->role), "csrf", csrf, "expires_at",
                     (json_int_t)expires_at, "locale", "country", k->cfg->country, "currency",
                     k->cfg->currency, "timezone", k->cfg->timezone, "plugins", plugins);
}

static const char *member(json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

static void login(crm_kernel *k, const crm_board_in *in, crm_board_out *out)
{
    crm_err err = {0};
    const char *user = member(in->body, "user"), *password = member(in->body, "password");
    /* a form on another site may post a JSON-looking text/plain body: it
     * would log the victim's browser into the attacker's account */
    if (!in->json) {
        answer_error(out, 415, "usage", "send the login as Content-Type: application/json",
                     NULL);
        return;
    }
    if (!json_is_object(in->body) || !user || !password) {
        answer_error(out, 400, "usage", "send {\"user\": EMAIL, \"password\": TEXT}",
                     !user ? "user" : "password");
        return;
    }
    char cookie[CRM_SESSION_TEXT];
    crm_token who = {0};
    int64_t expires_at = 0, retry_after = 0;
    int rc = crm_session_login(k, user, password, cookie, &who, &expires_at, &retry_after, &err);
    if (rc == CRM_EBUSY && retry_after > 0) {
        answer_error(out, 429, "too_many_requests", err.msg, "user");
        out->retry_after = retry_after;
        return;
    }
    if (rc != CRM_OK) {
        /* a refused password is 401 like a refused token, not 403 */
        answer_error(out, rc == CRM_EDENIED ? 401 : crm_http_status_of(rc),
                     rc == CRM_EDENIED ? "unauthorized" : "internal", err.msg, NULL);
        return;
    }
    set_cookie(out, cookie, CRM_SESSION_TTL, in->secure);
    out->status = 200;
    out->body = session_body(k, &who, cookie, expires_at);
}

static void logout(crm_kernel *k, const crm_board_in *in, crm_board_out *out)
{
    crm_err err = {0};
    if (in->cookie && !crm_session_csrf_ok(in->cookie, in->csrf)) {
        answer_error(out, 403, "csrf", "send the session's X-CSRF-Token header", NULL);
        return;
    }
    if (crm_session_end(k, in->cookie, &err) != CRM_OK) {
        answer_error(out, 500, "internal", err.msg, NULL);
        return;
    }
    set_cookie(out, "", 0, in->secure);
    out->status = 204;
}

static void session(crm_kernel *k, const crm_board_in *in, crm_board_out *out)
{
    crm_err err = {0};
    crm_token who = {0};
    int64_t expires_at;
    if (crm_session_verify(k, in->cookie, k->now, &who, &expires_at, &err) != CRM_OK) {
        answer_error(out, 401, "unauthorized", err.msg, NULL);
        return;
    }
    out->status = 200;
    out->body = session_body(k, &who, in->cookie, expires_at);
}

static const struct {
    const char *method, *path;
    void (*fn)(crm_kernel *k, const crm_board_in *in, crm_board_out *out);
} endpoints[] = {
    {"POST", "/board/login", login},
    {"POST", "/board/logout", logout},
    {"GET", "/board/session", session},
};

bool crm_board_is_auth_path(const char *path) { return strncmp(path, "/board/", 7) == 0; }

void crm_board_route(crm_kernel *k, const char *method, const char *path, const crm_board_in *in,
                     crm_board_out *out)
{
    bool known = false;
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        if (strcmp(endpoints[i].path, path) != 0)
            continue;
        known = true;
        if (strcmp(endpoints[i].method, method) == 0) {
            endpoints[i].fn(k, in, out);
            return;
        }
    }
    answer_error(out, known ? 405 : 404, known ? "method_not_allowed" : "not_found",
                 known ? "this path does not take that method" : "no such board endpoint", NULL);
}

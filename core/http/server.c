/* The libmicrohttpd glue: body collection with a size cap, bearer auth, role
 * check, one transaction per write with its Idempotency-Key, JSON out. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/board.h"
#include "http/http.h"
#include "http/idempotency.h"
#include "http/pool.h"
#include "http/server.h"
#include "http/session.h"

struct crm_http_server {
    struct MHD_Daemon *d;
    crm_kernel_pool *pool;
    size_t max_body;
};

/* What MHD keeps per request between its calls (*con_cls). */
typedef struct conn_state {
    char *body;
    size_t len, cap;
    bool too_big;
} conn_state;

typedef struct reply {
    int status;
    json_t *body;
    const char *allow_auth;  /* WWW-Authenticate on 401 */
    char set_cookie[200];    /* the board's session cookie, "" for none */
    bool no_store;           /* Cache-Control: no-store (the board's session answers) */
    int64_t retry_after;     /* Retry-After seconds on a 429, 0 for none */
    const crm_board_asset *asset; /* a board file instead of JSON */
} reply;

static void fail(reply *r, int code, const crm_err *err, const char *field, int64_t existing)
{
    r->status = crm_http_status_of(code);
    r->body = crm_http_error_body(code, err->msg, field, existing);
}

static void fail_status(reply *r, int status, const char *code, const char *msg)
{
    r->status = status;
    r->body = json_pack("{s{sssssn}}", "error", "code", code, "message", msg, "field");
}

static const char *query_of(void *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static bool is_write(const char *method) { return strcmp(method, "GET") != 0; }

/* Appends an upload chunk; past the cap, keeps reading but drops it. */
static void collect(crm_http_server *s, conn_state *c, const char *data, size_t size)
{
    if (c->too_big || c->len + size > s->max_body) {
        c->too_big = true;
        return;
    }
    if (c->len + size + 1 > c->cap) {
        size_t cap = (c->len + size + 1) * 2;
        char *b = realloc(c->body, cap);
        if (!b) {
            c->too_big = true;
            return;
        }
        c->body = b, c->cap = cap;
    }
    memcpy(c->body + c->len, data, size);
    c->len += size;
    c->body[c->len] = '\0';
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static const char *session_cookie(struct MHD_Connection *conn)
{
    return MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, CRM_SESSION_COOKIE);
}

/* A bearer token, else the board's session cookie. A write made with the
 * cookie must carry the session's CSRF token: without it *csrf_bad is set
 * (the caller answers 403: the user is known, the request is not theirs). */
static int authenticate(crm_kernel *k, struct MHD_Connection *conn, const char *method,
                        crm_token *who, bool *csrf_bad, crm_err *err)
{
    const char *h = header(conn, "Authorization");
    const char *cookie = session_cookie(conn);
    if (h && strncmp(h, "Bearer ", 7) == 0)
        return crm_token_verify(k, h + 7, k->now, who, err);
    if (!cookie)
        return crm_err_set(err, CRM_EDENIED,
                           "send Authorization: Bearer TOKEN (see crm token create) or log "
                           "into the board");
    int64_t expires_at;
    int rc = crm_session_verify(k, cookie, k->now, who, &expires_at, err);
    if (rc == CRM_OK && is_write(method) &&
        !crm_session_csrf_ok(cookie, header(conn, "X-CSRF-Token")))
        *csrf_bad = true;
    return rc;
}

static int parse_body(crm_http_req *rq, const conn_state *c, reply *r)
{
    if (!c->len)
        return CRM_OK;
    json_error_t je;
    rq->raw_body = c->body;
    rq->body = json_loadb(c->body, c->len, JSON_REJECT_DUPLICATES, &je);
    if (rq->body)
        return CRM_OK;
    char msg[300];
    snprintf(msg, sizeof msg, "the body is not JSON: %s at line %d column %d", je.text, je.line,
             je.column);
    fail_status(r, 400, "usage", msg);
    return CRM_EUSAGE;
}

/* Runs the route's handler; a write inside one transaction (with the
 * idempotency row when a key was sent), rolled back on any failure. */
static void run_route(crm_http_req *rq, const crm_http_route *route, const char *key, reply *r)
{
    crm_err err = {0};
    crm_http_resp rs = {.status = route->status};
    bool tx = is_write(rq->method);
    int rc = tx ? crm_kernel_begin(rq->k, &err) : CRM_OK;
    if (rc == CRM_OK && key) {
        int status;
        json_t *body = NULL;
        rc = crm_idem_find(rq->k, rq->who->id, key, rq->method, rq->path, &status, &body, &err);
        if (rc == CRM_OK) {
            crm_kernel_rollback(rq->k);
            r->status = status, r->body = body;
            return;
        }
        if (rc == CRM_ENOTFOUND)
            rc = CRM_OK, crm_err_clear(&err);
    }
    if (rc == CRM_OK) {
        rq->route_ud = route->ud;
        rc = route->fn(rq, &rs, &err);
    }
    if (rc == CRM_OK && key)
        rc = crm_idem_store(rq->k, rq->who->id, key, rq->method, rq->path, rs.status, rs.body,
                            &err);
    if (rc == CRM_OK && tx)
        rc = crm_kernel_commit(rq->k, &err);
    if (rc != CRM_OK) {
        if (tx && crm_store_depth(rq->k->store) > 0)
            crm_kernel_rollback(rq->k);
        json_decref(rs.body);
        fail(r, rc, &err, rs.field, rs.existing_id);
        return;
    }
    r->status = rs.status, r->body = rs.body;
}

static const crm_http_route *find_route(crm_http_req *rq, bool *path_known)
{
    const crm_http_route *r = crm_http_find_kernel(rq->method, rq->path, rq, path_known);
    return r ? r : crm_http_find_plugin(rq->k, rq->method, rq->path, rq, path_known);
}

static bool is_api_path(const char *path)
{
    return strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/openapi.json") == 0;
}

/* /board/login, logout, session: on a kernel of the pool like a route. */
static void board_auth(crm_http_server *s, struct MHD_Connection *conn, const char *method,
                       const char *path, conn_state *c, reply *r)
{
    crm_http_req rq = {0};
    if (parse_body(&rq, c, r) != CRM_OK)
        return;
    const char *proto = header(conn, "X-Forwarded-Proto");
    const char *type = header(conn, "Content-Type");
    crm_board_in in = {rq.body, session_cookie(conn), header(conn, "X-CSRF-Token"),
                       proto && strcmp(proto, "https") == 0,
                       type && strncmp(type, "application/json", 16) == 0};
    crm_board_out out = {500, NULL, "", 0};
    crm_kernel *k = crm_pool_acquire(s->pool);
    if (!k->as_of_set)
        k->now = (int64_t)time(NULL);
    crm_board_route(k, method, path, &in, &out);
    crm_pool_release(s->pool, k);
    json_decref(rq.body);
    r->status = out.status, r->body = out.body, r->no_store = true;
    snprintf(r->set_cookie, sizeof r->set_cookie, "%s", out.set_cookie);
    r->retry_after = out.retry_after;
}

/* A GET outside the API: a board file, 304 when the client's copy is it. */
static void board_file(struct MHD_Connection *conn, const char *path, reply *r)
{
    const char *have = header(conn, "If-None-Match");
    r->asset = crm_board_find(path);
    if (!r->asset)
        fail_status(r, 404, "not_found", "no such page or route (see /openapi.json)");
    else
        r->status = have && strcmp(have, r->asset->etag) == 0 ? 304 : 200;
}

/* Everything after the body is in: the reply for this request. */
static void handle(crm_http_server *s, struct MHD_Connection *conn, const char *method,
                   const char *path, conn_state *c, reply *r)
{
    crm_err err = {0};
    crm_token who = {0};
    crm_http_req rq = {.method = method, .path = path, .who = &who, .query_fn = query_of,
                       .conn = conn};
    if (c->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the body exceeds %zu bytes", s->max_body);
        fail_status(r, 413, "too_large", msg);
        return;
    }
    const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (key && (!*key || strlen(key) > CRM_IDEMPOTENCY_KEY_MAX)) {
        fail_status(r, 400, "usage", "Idempotency-Key must be 1 to 200 characters");
        return;
    }
    if (crm_board_is_auth_path(path)) {
        board_auth(s, conn, method, path, c, r);
        return;
    }
    if (!is_api_path(path) && strcmp(method, "GET") == 0) {
        board_file(conn, path, r);
        return;
    }
    rq.k = crm_pool_acquire(s->pool);
    if (!rq.k->as_of_set)
        rq.k->now = (int64_t)time(NULL);
    /* a read sees one snapshot, authentication included (and locks once) */
    if (!is_write(method))
        (void)crm_store_snapshot_begin(rq.k->store);
    bool path_known = false, csrf_bad = false;
    const crm_http_route *route = NULL;
    int rc = authenticate(rq.k, conn, method, &who, &csrf_bad, &err);
    if (rc != CRM_OK) {
        r->allow_auth = "Bearer";
        fail_status(r, 401, "unauthorized", err.msg);
    } else if (csrf_bad) {
        fail_status(r, 403, "csrf",
                    "a write with the board's session cookie needs its X-CSRF-Token header");
    } else if (!(route = find_route(&rq, &path_known))) {
        fail_status(r, path_known ? 405 : 404, path_known ? "method_not_allowed" : "not_found",
                    path_known ? "this path does not take that method (see /openapi.json)"
                               : "no such route (see /openapi.json)");
    } else if (!(route->roles & who.role)) {
        char msg[200];
        snprintf(msg, sizeof msg, "role %s may not %s %s", crm_role_name(who.role), method,
                 route->path);
        fail_status(r, 403, "denied", msg);
    } else if (parse_body(&rq, c, r) == CRM_OK) {
        run_route(&rq, route, strcmp(method, "POST") == 0 ? key : NULL, r);
    }
    crm_store_snapshot_end(rq.k->store);
    crm_pool_release(s->pool, rq.k);
    json_decref(rq.body);
}

/* Headers of every board file: revalidate by ETag (the names carry no
 * version), the page's CSP, no sniffing, no framing. */
static enum MHD_Result send_asset(struct MHD_Connection *conn, reply *r)
{
    const crm_board_asset *a = r->asset;
    bool fresh = r->status == 304;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        fresh ? 0 : a->len, fresh ? (void *)"" : (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (!fresh)
        MHD_add_response_header(resp, "Content-Type", crm_board_content_type(a));
    MHD_add_response_header(resp, "ETag", a->etag);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy", CRM_BOARD_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, reply *r)
{
    if (r->asset)
        return send_asset(conn, r);
    char *text = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    size_t len = text ? strlen(text) : 0;
    if (text && len) {
        text[len++] = '\n'; /* json_dumps leaves room for its NUL: reuse it */
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text ? text : (char *)"", MHD_RESPMEM_MUST_COPY);
    free(text);
    json_decref(r->body);
    if (!resp)
        return MHD_NO;
    if (len)
        MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (r->allow_auth)
        MHD_add_response_header(resp, "WWW-Authenticate", r->allow_auth);
    if (r->set_cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
    if (r->retry_after > 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)r->retry_after);
        MHD_add_response_header(resp, "Retry-After", secs);
    }
    if (r->no_store)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    crm_http_server *s = cls;
    conn_state *c = *con_cls;
    if (!c) {
        if (!(c = calloc(1, sizeof *c)))
            return MHD_NO;
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_size) {
        collect(s, c, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    reply r = {.status = 500};
    handle(s, conn, method, url, c, &r);
    if (r.status == 204) {
        json_decref(r.body);
        r.body = NULL;
    }
    return send_reply(conn, &r);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    conn_state *c = *con_cls;
    if (c)
        free(c->body);
    free(c);
    *con_cls = NULL;
}

static int parse_listen(const char *text, struct sockaddr_in *sa, crm_err *err)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || (size_t)(colon - text) >= sizeof host || !colon[1] || *end || port < 0 ||
        port > 65535)
        return crm_err_set(err, CRM_EUSAGE, "--listen %s: expected HOST:PORT, e.g. 127.0.0.1:8080",
                           text);
    snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return crm_err_set(err, CRM_EUSAGE, "--listen %s: '%s' is not an IPv4 address", text,
                           host);
    return CRM_OK;
}

int crm_http_start(crm_http_server **out, const crm_http_opts *o, crm_err *err)
{
    struct sockaddr_in sa;
    int rc = parse_listen(o->listen, &sa, err);
    if (rc != CRM_OK)
        return rc;
    crm_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    s->max_body = o->max_body;
    rc = crm_pool_open(&s->pool, o->threads, o->open, err);
    if (rc != CRM_OK) {
        free(s);
        return rc;
    }
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)o->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
        MHD_OPTION_END);
    if (!s->d) {
        crm_pool_close(s->pool);
        free(s);
        return crm_err_set(err, CRM_EIO, "cannot listen on %s (in use, or not an address of "
                                         "this machine?)", o->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    printf("crm serve: listening on http://%s:%u\n", host, info ? info->port : 0);
    fflush(stdout);
    *out = s;
    return CRM_OK;
}

void crm_http_stop(crm_http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    crm_pool_close(s->pool);
    free(s);
}

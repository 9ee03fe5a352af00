/* SDK 1.4 routes: HTTP routes registered by plugins (register_route and the
 * exchange accessors, see crm/plugin.h). Each route is a crm_http_route the
 * server finds after the kernel's (crm_http_find_plugin); its handler is a
 * trampoline that runs the plugin's function with the plugin's rights and
 * turns its answer into the server's response. Routes are stored per plugin
 * and freed with its other registrations. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "api.h"
#include "internal.h"
#include "util.h"

typedef struct plug_route {
    crm_http_route r;     /* r.ud points back here; strings owned */
    crm_plugin_ctx *p;
    crm_route_fn fn;
    void *ud;
    char field[64];       /* the last error's field: rs->field must outlive the call */
} plug_route;

struct crm_http_exchange {
    const crm_host_api *api; /* struct crm_handle_head */
    crm_http_req *rq;
    crm_http_resp *rs;
    plug_route *route;
    char msg[512];           /* http_error's message, "" when none */
    char field[64];
};

/* ---- registration -------------------------------------------------------------- */

static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE", NULL};

static bool method_ok(const char *m)
{
    for (size_t i = 0; m && methods[i]; i++)
        if (strcmp(m, methods[i]) == 0)
            return true;
    return false;
}

static bool seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* "/v1/deals/{id}": non-empty segments of [a-z0-9_.-] or {name}. */
static bool path_ok(const char *path, char *why, size_t size)
{
    int params = 0;
    if (!path || path[0] != '/' || !path[1]) {
        snprintf(why, size, "expected a path such as /v1/things/{id}");
        return false;
    }
    for (const char *s = path; *s;) {
        s++; /* the '/' */
        size_t n = strcspn(s, "/");
        bool param = n >= 3 && s[0] == '{' && s[n - 1] == '}';
        for (size_t i = param ? 1 : 0; i < (param ? n - 1 : n); i++)
            if (!seg_char(s[i]) || n == 0 || (param && n - 2 >= 32)) {
                snprintf(why, size, "segment '%.*s' is not [a-z0-9_.-]+ or {name}", (int)n, s);
                return false;
            }
        if (n == 0) {
            snprintf(why, size, "empty segment");
            return false;
        }
        if (param && ++params > CRM_HTTP_MAX_PARAMS) {
            snprintf(why, size, "more than %d {parameters}", CRM_HTTP_MAX_PARAMS);
            return false;
        }
        s += n;
    }
    return true;
}

/* The same route shape: equal segments, any {name} equal to any other. */
static bool same_shape(const char *a, const char *b)
{
    while (*a && *b) {
        size_t na = strcspn(a + 1, "/"), nb = strcspn(b + 1, "/");
        bool pa = a[1] == '{', pb = b[1] == '{';
        if (pa != pb || (!pa && (na != nb || strncmp(a + 1, b + 1, na) != 0)))
            return false;
        a += na + 1, b += nb + 1;
    }
    return !*a && !*b;
}

typedef struct dup_probe {
    const char *method, *path;
    const crm_http_route *hit;
} dup_probe;

static int probe_kernel(const crm_http_route *r, void *ud)
{
    dup_probe *d = ud;
    if (strcmp(r->method, d->method) == 0 && same_shape(r->path, d->path)) {
        d->hit = r;
        return 1;
    }
    return 0;
}

/* The route of the kernel or of a plugin of h (p's own included) that has
 * method and path's shape, or NULL. */
static const crm_http_route *duplicate_of(crm_plugin_host *h, const char *method,
                                          const char *path)
{
    dup_probe d = {method, path, NULL};
    if (crm_http_each_kernel_route(probe_kernel, &d))
        return d.hit;
    for (size_t i = 0; i < h->n_all; i++)
        for (size_t j = 0; j < h->all[i]->n_routes; j++)
            if (probe_kernel(&h->all[i]->routes[j]->r, &d))
                return d.hit;
    return NULL;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void route_free(plug_route *pr)
{
    if (!pr)
        return;
    free((char *)pr->r.method);
    free((char *)pr->r.path);
    free((char *)pr->r.summary);
    free((char *)pr->r.request);
    free((char *)pr->r.response);
    free(pr);
}

void crm_plug_routes_free(crm_plugin_ctx *p)
{
    for (size_t i = 0; i < p->n_routes; i++)
        route_free(p->routes[i]);
    free(p->routes);
    p->routes = NULL;
    p->n_routes = 0;
}

static int route_trampoline(crm_http_req *rq, crm_http_resp *rs, crm_err *err);

/* A refused registration also refuses the plugin (as api_register.c does). */
__attribute__((format(printf, 3, 4)))
static int route_fail(crm_plugin_ctx *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    if (p->state == PLUG_INITING && !p->reg_error[0])
        snprintf(p->reg_error, sizeof p->reg_error, "%s", p->error);
    return code;
}

static bool schema_ok(const char *text)
{
    if (!text)
        return true;
    json_t *j = json_loads(text, 0, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok;
}

/* The spec's checks, in the order a plugin author would fix them. */
static int check_spec(crm_plugin_ctx *p, const crm_route_spec *s, unsigned *roles)
{
    char why[160];
    crm_err e = {0};
    if (!s || !s->fn)
        return route_fail(p, CRM_EUSAGE, "register_route: expected a spec with a handler");
    if (!method_ok(s->method))
        return route_fail(p, CRM_EUSAGE, "register_route: method '%s' is not GET, POST, PATCH, "
                          "PUT or DELETE", s->method ? s->method : "(null)");
    if (!path_ok(s->path, why, sizeof why))
        return route_fail(p, CRM_EUSAGE, "register_route %s %s: %s", s->method,
                          s->path ? s->path : "(null)", why);
    if (s->roles && strcmp(s->roles, "*") == 0)
        *roles = CRM_ROLE_ALL;
    else if (!s->roles || crm_role_mask(s->roles, roles, &e) != CRM_OK || !*roles)
        return route_fail(p, CRM_EUSAGE, "register_route %s %s: roles '%s': expected a list of "
                          "viewer, agent, manager, admin, integration, or \"*\"", s->method,
                          s->path, s->roles ? s->roles : "(null)");
    if (s->status && s->status != 200 && s->status != 201 && s->status != 204)
        return route_fail(p, CRM_EUSAGE, "register_route %s %s: status %d is not 200, 201 or 204",
                          s->method, s->path, s->status);
    if (!schema_ok(s->request_schema) || !schema_ok(s->response_schema))
        return route_fail(p, CRM_EUSAGE, "register_route %s %s: a schema is not a JSON object",
                          s->method, s->path);
    return CRM_OK;
}

int crm_plug_api_register_route(crm_plugin_ctx *p, const crm_route_spec *s, void *ud)
{
    if (p->state != PLUG_INITING)
        return crm_plug_fail(p, CRM_EDENIED, "register_route: the registry is frozen after init"
                             DASH "register in the plugin's init callback");
    unsigned roles = 0;
    int rc = check_spec(p, s, &roles);
    if (rc != CRM_OK)
        return rc;
    const crm_http_route *dup = duplicate_of(p->host, s->method, s->path);
    if (dup)
        return route_fail(p, CRM_EEXISTS, "route %s %s is already registered by %s%s (as %s)",
                          s->method, s->path, dup->owner ? "plugin " : "the kernel",
                          dup->owner ? dup->owner : "", dup->path);
    plug_route *pr = calloc(1, sizeof *pr);
    size_t n = p->n_routes; /* the slot is claimed only once the route is whole */
    plug_route **slot = CRM_ARRAY_APPEND(p->routes, n);
    if (pr) {
        pr->r = (crm_http_route){dup_or_null(s->method), dup_or_null(s->path), roles,
                                 route_trampoline, dup_or_null(s->summary),
                                 dup_or_null(s->request_schema), dup_or_null(s->response_schema),
                                 s->status ? s->status : 200, pr, p->name};
        pr->p = p, pr->fn = s->fn, pr->ud = ud;
    }
    if (!pr || !slot || !pr->r.method || !pr->r.path || (s->summary && !pr->r.summary) ||
        (s->request_schema && !pr->r.request) || (s->response_schema && !pr->r.response)) {
        route_free(pr);
        return route_fail(p, CRM_ENOMEM, "register_route: out of memory");
    }
    *slot = pr;
    p->n_routes = n;
    return CRM_OK;
}

/* ---- the exchange -------------------------------------------------------------- */

const char *crm_plug_api_http_param(crm_http_exchange *x, const char *name)
{
    return name ? crm_http_param(x->rq, name) : NULL;
}

const char *crm_plug_api_http_query(crm_http_exchange *x, const char *name)
{
    return name ? crm_http_query(x->rq, name) : NULL;
}

const char *crm_plug_api_http_body(crm_http_exchange *x) { return x->rq->raw_body; }

const char *crm_plug_api_http_caller(crm_http_exchange *x, const char *key)
{
    if (key && strcmp(key, "role") == 0)
        return crm_role_name(x->rq->who->role);
    if (key && strcmp(key, "name") == 0)
        return x->rq->who->name;
    return NULL;
}

int crm_plug_api_http_reply(crm_http_exchange *x, int status, const char *json)
{
    if (status && (status < 200 || status > 299))
        return crm_plug_fail(x->route->p, CRM_EUSAGE, "http_reply: status %d is not 2xx",
                             status);
    json_t *body = NULL;
    if (json) {
        json_error_t je;
        if (!(body = json_loads(json, JSON_DECODE_ANY, &je)))
            return crm_plug_fail(x->route->p, CRM_EINVAL, "http_reply: not JSON: %s at %d:%d",
                                 je.text, je.line, je.column);
    }
    json_decref(x->rs->body);
    x->rs->body = body;
    if (status)
        x->rs->status = status;
    return CRM_OK;
}

int crm_plug_api_http_error(crm_http_exchange *x, int code, const char *field, const char *fmt,
                            ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof x->msg, fmt ? fmt : "", ap);
    va_end(ap);
    snprintf(x->field, sizeof x->field, "%s", field ? field : "");
    return code;
}

/* The crm_http_fn of every plugin route: the plugin's handler, run as the
 * plugin, its answer or error handed to the server. */
static int route_trampoline(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    plug_route *pr = rq->route_ud;
    crm_plugin_ctx *p = pr->p;
    crm_http_exchange x = {.api = p->api, .rq = rq, .rs = rs, .route = pr};
    plug_frame f;
    p->error[0] = '\0';
    crm_plug_enter(p, &f);
    int rc = pr->fn(p, &x, pr->ud);
    crm_plug_leave(p, &f);
    if (rc == CRM_OK)
        return CRM_OK;
    json_decref(rs->body);
    rs->body = NULL;
    snprintf(pr->field, sizeof pr->field, "%s", x.field);
    rs->field = pr->field[0] ? pr->field : NULL;
    const char *msg = x.msg[0] ? x.msg : p->error[0] ? p->error : "the plugin's handler failed";
    return crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "%s", msg);
}

/* ---- lookups (http.h) ---------------------------------------------------------- */

int crm_http_each_plugin_route(crm_kernel *k, int (*fn)(const crm_http_route *r, void *ud),
                               void *ud)
{
    crm_plugin_host *h = k ? k->plugins : NULL;
    for (size_t i = 0; h && i < h->n_order; i++) {
        const crm_plugin_ctx *p = h->order[i];
        for (size_t j = 0; p->state == PLUG_STARTED && j < p->n_routes; j++) {
            int rc = fn(&p->routes[j]->r, ud);
            if (rc)
                return rc;
        }
    }
    return 0;
}

typedef struct find_job {
    const char *method, *path;
    crm_http_req *rq;
    bool *path_known;
    const crm_http_route *hit;
} find_job;

static int find_one(const crm_http_route *r, void *ud)
{
    find_job *j = ud;
    if (!crm_http_match(r->path, j->path, NULL))
        return 0;
    *j->path_known = true;
    if (strcmp(r->method, j->method) != 0)
        return 0;
    crm_http_match(r->path, j->path, j->rq);
    j->hit = r;
    return 1;
}

const crm_http_route *crm_http_find_plugin(crm_kernel *k, const char *method, const char *path,
                                           crm_http_req *rq, bool *path_known)
{
    find_job j = {method, path, rq, path_known, NULL};
    crm_http_each_plugin_route(k, find_one, &j);
    return j.hit;
}

/* `crm serve`: the REST API's request, response and route types.
 *
 * A route is data (method, path pattern, roles, handler, schemas), like a CLI
 * command row: the kernel's routes live in tables in routes_*.c, plugins add
 * theirs through the SDK (core/plugin/api_http.c). The server authenticates,
 * checks the route's roles, runs the handler on a kernel of its pool (a write
 * inside one transaction) and turns the result into JSON. */
#ifndef CRM_CORE_HTTP_HTTP_H
#define CRM_CORE_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/auth.h"
#include "kernel.h"

#define CRM_HTTP_MAX_PARAMS 4

typedef struct crm_http_req crm_http_req;

/* What a handler answers: status and a JSON body it hands over (NULL: an
 * empty body). On failure a handler returns a CRM_E* code with err set
 * instead; the server writes the error body. */
typedef struct crm_http_resp {
    int status;
    json_t *body;
    int64_t existing_id;  /* CRM_EEXISTS: the record the request duplicates */
    const char *field;    /* CRM_EINVAL / CRM_EUSAGE: the member at fault (static) */
    char field_text[64];  /* storage for a field the handler had to compute */
} crm_http_resp;

typedef int (*crm_http_fn)(crm_http_req *rq, crm_http_resp *rs, crm_err *err);

typedef struct crm_http_route {
    const char *method;  /* "GET", "POST", "PATCH", "DELETE" */
    const char *path;    /* "/v1/contacts/{id}" */
    unsigned roles;      /* CRM_ROLE_* bits allowed */
    crm_http_fn fn;
    const char *summary;
    const char *request;   /* JSON Schema of the body (JSON text), NULL: none */
    const char *response;  /* JSON Schema of a success body (JSON text) */
    int status;            /* the success status (200, 201, 204) */
    void *ud;              /* the handler's own (plugin routes); in rq->route_ud */
    const char *owner;     /* the plugin that registered it; NULL: the kernel */
} crm_http_route;

struct crm_http_req {
    crm_kernel *k;
    const char *method;
    const char *path;
    const crm_token *who;
    json_t *body;  /* parsed JSON body, NULL when none */
    const char *raw_body;
    const char *names[CRM_HTTP_MAX_PARAMS];  /* path parameters ({id} ...) */
    char values[CRM_HTTP_MAX_PARAMS][256];
    char namebuf[CRM_HTTP_MAX_PARAMS][32];
    int n_params;
    /* query parameter `name` (NULL when absent); the server's lookup */
    const char *(*query_fn)(void *conn, const char *name);
    void *conn;
    void *route_ud;  /* the route's ud */
};

/* Path parameter `name`, or NULL. */
const char *crm_http_param(const crm_http_req *rq, const char *name);
/* Query parameter `name`, or NULL. */
const char *crm_http_query(const crm_http_req *rq, const char *name);

/* Path parameter `name` as a positive id; CRM_EUSAGE naming it otherwise. */
int crm_http_param_id(crm_http_req *rq, crm_http_resp *rs, const char *name, int64_t *id,
                      crm_err *err);
/* Query parameter `name` as an integer in [min, max] (def when absent);
 * CRM_EUSAGE with rs->field set otherwise. */
int crm_http_query_int(crm_http_req *rq, crm_http_resp *rs, const char *name, int64_t def,
                       int64_t min, int64_t max, int64_t *out, crm_err *err);
/* The body as an object; CRM_EUSAGE when absent or not an object. */
int crm_http_body_object(crm_http_req *rq, json_t **obj, crm_err *err);
/* Refuses a member of obj not in `known` (NULL-ended): CRM_EUSAGE naming it. */
int crm_http_known_members(json_t *obj, const char *const *known, crm_http_resp *rs,
                           crm_err *err);

/* A record's body members as data: name, kind ('s' text, 'i' integer),
 * offset of the char * or int64_t in the record struct. Ends with NULL. */
typedef struct crm_http_field {
    const char *name;
    char kind;
    size_t offset;
} crm_http_field;

/* Copies obj's members into the struct at out by the table (strings are
 * strdup'ed; the record's clear function frees them). CRM_EUSAGE with
 * rs->field for an unknown member or a wrong type. */
int crm_http_fill(json_t *obj, const crm_http_field *fields, void *out, crm_http_resp *rs,
                  crm_err *err);

/* The first name of `fields` that occurs in msg as a whole word, or NULL:
 * which member a model refusal is about, for the error's "field". */
const char *crm_http_blame(const char *msg, const crm_http_field *fields);
/* The same over a NULL-ended list of names. */
const char *crm_http_blame_names(const char *msg, const char *const *names);

/* The HTTP status for a result code (CRM_EINVAL 422, CRM_ENOTFOUND 404, ...). */
int crm_http_status_of(int code);
/* {"error": {"code", "message", "field"?, "existing_id"?}} for a failure. */
json_t *crm_http_error_body(int code, const char *message, const char *field,
                            int64_t existing_id);

/* ---- the route registry (router.c) ---- */

/* Kernel route tables, each ending with a row whose method is NULL. */
extern const crm_http_route crm_http_contact_routes[];
extern const crm_http_route crm_http_record_routes[];
extern const crm_http_route crm_http_event_routes[];
extern const crm_http_route crm_http_track_routes[];
extern const crm_http_route crm_http_meta_routes[];

/* Matches `path` against `pattern`, filling rq's parameters when rq is not
 * NULL; true on a match. */
bool crm_http_match(const char *pattern, const char *path, crm_http_req *rq);

/* Calls fn for every kernel route in registration order; stops at nonzero. */
int crm_http_each_kernel_route(int (*fn)(const crm_http_route *r, void *ud), void *ud);

/* Finds the kernel route for method and path: *route (and rq's parameters)
 * on a match; *path_known tells whether some route has this path (405 vs 404). */
const crm_http_route *crm_http_find_kernel(const char *method, const char *path,
                                           crm_http_req *rq, bool *path_known);

/* ---- plugin routes (core/plugin/api_http.c) ---- */

/* Calls fn for each route the plugins loaded in k registered; stops at nonzero. */
int crm_http_each_plugin_route(crm_kernel *k, int (*fn)(const crm_http_route *r, void *ud),
                               void *ud);
/* crm_http_find_kernel over the plugins' routes of k. */
const crm_http_route *crm_http_find_plugin(crm_kernel *k, const char *method, const char *path,
                                           crm_http_req *rq, bool *path_known);

/* ---- the OpenAPI document (openapi.c) ---- */

/* The OpenAPI 3.1 document of the kernel's routes and those the plugins of k
 * registered. NULL when out of memory. */
json_t *crm_http_openapi(crm_kernel *k);

#endif

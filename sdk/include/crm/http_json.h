/* crm SDK — helpers for HTTP route handlers that speak JSON through jansson
 * (include it only then: the plugin links jansson). Header-only, over the
 * exchange accessors of plugin.h (ABI 1.4 routes): no new ABI entry. */
#ifndef CRM_HTTP_JSON_H
#define CRM_HTTP_JSON_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/plugin.h"

/* Answers with v (stolen) as compact JSON; status 0 = the route's status. */
static inline int crm_http_reply_json(crm_http_exchange *x, int status, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!s)
        return crm_http_error(x, CRM_ENOMEM, NULL, "out of memory");
    int rc = crm_http_reply(x, status, s);
    free(s);
    return rc;
}

/* Path parameter `name` as a positive id into *id; else a 400 naming it
 * ("id: expected a positive deal id", what = "deal"). */
static inline int crm_http_id_param(crm_http_exchange *x, const char *name, const char *what,
                                    int64_t *id)
{
    const char *s = crm_http_param(x, name);
    char *end = NULL;
    long long v = s ? strtoll(s, &end, 10) : 0;
    *id = 0;
    if (!s || !*s || *end || v <= 0)
        return crm_http_error(x, CRM_EUSAGE, name, "%s: expected a positive %s id", name, what);
    *id = (int64_t)v;
    return CRM_OK;
}

/* The body as a JSON object whose members are all in `known` (NULL-ended)
 * into *out (new reference); else a 400 naming the unknown member. */
static inline int crm_http_body_object(crm_http_exchange *x, const char *const *known,
                                       json_t **out)
{
    const char *text = crm_http_body(x);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return crm_http_error(x, CRM_EUSAGE, NULL, "expected a JSON object body");
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key))
            i++;
        if (!known[i]) {
            int rc = crm_http_error(x, CRM_EUSAGE, key, "unknown member '%s' in the request body",
                                    key);
            json_decref(o);
            return rc;
        }
    }
    *out = o;
    return CRM_OK;
}

/* The names a caller goes by, to match an owner or assignee written in a
 * record or in crm.yaml (a user's name or email): the token's name (a board
 * session's: the user's email, else name) and, when a user is found by it
 * (crm_user_find_json: id, email or name), that user's name and email. */
typedef struct crm_http_names {
    char v[3][128];
    size_t n;
} crm_http_names;

static inline void crm_http_names_add(crm_http_names *w, const char *s)
{
    if (!s || !*s || w->n == 3)
        return;
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->v[i], s))
            return;
    snprintf(w->v[w->n++], sizeof w->v[0], "%s", s);
}

static inline void crm_http_caller_names(crm_plugin_ctx *ctx, crm_http_exchange *x,
                                         crm_http_names *out)
{
    const char *name = crm_http_caller(x, "name");
    char *user = NULL;
    out->n = 0;
    crm_http_names_add(out, name);
    if (!name || !CRM_API_HAS(ctx, user_find_json) ||
        crm_user_find_json(ctx, name, &user) != CRM_OK)
        return;
    json_t *u = json_loads(user, 0, NULL);
    crm_free(ctx, user);
    crm_http_names_add(out, json_string_value(json_object_get(u, "name")));
    crm_http_names_add(out, json_string_value(json_object_get(u, "email")));
    json_decref(u);
}

/* True when ref (an owner, an assignee, a team member) is one of w's names. */
static inline int crm_http_names_has(const crm_http_names *w, const char *ref)
{
    for (size_t i = 0; ref && i < w->n; i++)
        if (!strcmp(w->v[i], ref))
            return 1;
    return 0;
}

#endif

/* crm SDK — helpers for HTTP route handlers that speak JSON through jansson
 * (include it only then: the plugin links jansson). Header-only, over the
 * exchange accessors of plugin.h (ABI 1.4 routes): no new ABI entry. */
#ifndef CRM_HTTP_JSON_H
#define CRM_HTTP_JSON_H

#include <jansson.h>
#include <stdint.h>
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

#endif

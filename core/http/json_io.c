/* Request accessors and error bodies shared by every route (see http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

const char *crm_http_param(const crm_http_req *rq, const char *name)
{
    for (int i = 0; i < rq->n_params; i++)
        if (strcmp(rq->names[i], name) == 0)
            return rq->values[i];
    return NULL;
}

const char *crm_http_query(const crm_http_req *rq, const char *name)
{
    return rq->query_fn ? rq->query_fn(rq->conn, name) : NULL;
}

int crm_http_param_id(crm_http_req *rq, crm_http_resp *rs, const char *name, int64_t *id,
                      crm_err *err)
{
    const char *v = crm_http_param(rq, name);
    char *end;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || n <= 0) {
        rs->field = name;
        return crm_err_set(err, CRM_EUSAGE, "path parameter %s: '%s' is not an id", name,
                           v ? v : "");
    }
    *id = n;
    return CRM_OK;
}

int crm_http_query_int(crm_http_req *rq, crm_http_resp *rs, const char *name, int64_t def,
                       int64_t min, int64_t max, int64_t *out, crm_err *err)
{
    const char *v = crm_http_query(rq, name);
    *out = def;
    if (!v)
        return CRM_OK;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        rs->field = name;
        return crm_err_set(err, CRM_EUSAGE, "query parameter %s: '%s' is not an integer in %lld..%lld",
                           name, v, (long long)min, (long long)max);
    }
    *out = n;
    return CRM_OK;
}

int crm_http_body_object(crm_http_req *rq, json_t **obj, crm_err *err)
{
    if (!rq->body || !json_is_object(rq->body))
        return crm_err_set(err, CRM_EUSAGE, "the request body must be a JSON object");
    *obj = rq->body;
    return CRM_OK;
}

int crm_http_known_members(json_t *obj, const char *const *known, crm_http_resp *rs,
                           crm_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i]) {
            rs->field = NULL;
            return crm_err_set(err, CRM_EUSAGE, "unknown member '%s' in the request body", key);
        }
    }
    return CRM_OK;
}

static const struct {
    int code;
    int status;
} statuses[] = {
    {CRM_OK, 200},         {CRM_EINVAL, 422},   {CRM_ENOTFOUND, 404}, {CRM_EEXISTS, 409},
    {CRM_EUSAGE, 400},     {CRM_ECONFIG, 500},  {CRM_EDB, 500},       {CRM_ENOMEM, 500},
    {CRM_EIO, 500},        {CRM_EPLUGIN, 500},  {CRM_ESCRIPT, 422},   {CRM_EDENIED, 403},
    {CRM_EBUSY, 503},      {CRM_EINTERNAL, 500},
};

int crm_http_status_of(int code)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == code)
            return statuses[i].status;
    return 500;
}

json_t *crm_http_error_body(int code, const char *message, const char *field,
                            int64_t existing_id)
{
    json_t *e = json_pack("{ssss}", "code", crm_err_name(code), "message", message ? message : "");
    if (!e)
        return NULL;
    json_object_set_new(e, "field", field ? json_string(field) : json_null());
    if (existing_id > 0)
        json_object_set_new(e, "existing_id", json_integer(existing_id));
    return json_pack("{so}", "error", e);
}

int crm_http_fill(json_t *obj, const crm_http_field *fields, void *out, crm_http_resp *rs,
                  crm_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const crm_http_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f->name)
            return crm_err_set(err, CRM_EUSAGE, "unknown member '%s' in the request body", key);
        rs->field = f->name;
        if (json_is_null(v))
            continue;
        if (f->kind == 'i') {
            if (!json_is_integer(v))
                return crm_err_set(err, CRM_EUSAGE, "%s must be an integer", f->name);
            *(int64_t *)((char *)out + f->offset) = json_integer_value(v);
        } else {
            if (!json_is_string(v))
                return crm_err_set(err, CRM_EUSAGE, "%s must be a string", f->name);
            char **dst = (char **)((char *)out + f->offset);
            free(*dst);
            if (!(*dst = strdup(json_string_value(v))))
                return crm_err_set(err, CRM_ENOMEM, "out of memory");
        }
    }
    rs->field = NULL;
    return CRM_OK;
}

static bool word_at(const char *msg, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(msg, name); p; p = strstr(p + 1, name)) {
        bool left = p == msg || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'));
        char r = p[n];
        if (left && !(r == '_' || (r >= 'a' && r <= 'z')))
            return true;
    }
    return false;
}

const char *crm_http_blame(const char *msg, const crm_http_field *fields)
{
    for (const crm_http_field *f = fields; msg && f->name; f++)
        if (word_at(msg, f->name))
            return f->name;
    return NULL;
}

const char *crm_http_blame_names(const char *msg, const char *const *names)
{
    for (size_t i = 0; msg && names[i]; i++)
        if (word_at(msg, names[i]))
            return names[i];
    return NULL;
}

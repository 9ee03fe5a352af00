/* /v1/contacts: list (filters, cursor on id, updated_since), create, read,
 * update, delete, timeline. Writes go through the model, so the API gets
 * the CLI's normalisation and duplicate refusal. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "model.h"

#define PAGE_MAX 500

/* The first contact field named in msg (the refusal's "field"). */
static const char *blame_contact(const char *msg)
{
    static const char *const extra[] = {"tags", "custom", NULL};
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        const char *one[] = {f->name, NULL};
        if (crm_http_blame_names(msg, one))
            return f->name;
    }
    return crm_http_blame_names(msg, extra);
}

static int take_tags(crm_contact *c, json_t *v, crm_http_resp *rs, crm_err *err)
{
    size_t i;
    json_t *t;
    rs->field = "tags";
    if (!json_is_array(v))
        return crm_err_set(err, CRM_EUSAGE, "tags must be an array of strings");
    json_array_foreach(v, i, t) {
        if (!json_is_string(t))
            return crm_err_set(err, CRM_EUSAGE, "tags[%zu] must be a string", i);
        if (crm_contact_add_tag(c, json_string_value(t)) != CRM_OK)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return CRM_OK;
}

static int take_custom(crm_contact *c, json_t *v, crm_http_resp *rs, crm_err *err)
{
    const char *key;
    json_t *x;
    rs->field = "custom";
    if (!json_is_object(v))
        return crm_err_set(err, CRM_EUSAGE, "custom must be an object of strings");
    json_object_foreach(v, key, x) {
        if (!json_is_string(x))
            return crm_err_set(err, CRM_EUSAGE, "custom.%s must be a string", key);
        if (crm_contact_set_custom(c, key, json_string_value(x)) != CRM_OK)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return CRM_OK;
}

/* The body's members into c: text fields, tags, custom. */
static int contact_from_body(crm_http_req *rq, crm_contact *c, crm_http_resp *rs, crm_err *err)
{
    json_t *obj, *v;
    const char *key;
    int rc = crm_http_body_object(rq, &obj, err);
    json_object_foreach(obj, key, v) {
        if (rc != CRM_OK)
            break;
        char **dst = crm_contact_field_ptr(c, key);
        if (strcmp(key, "tags") == 0) {
            rc = take_tags(c, v, rs, err);
        } else if (strcmp(key, "custom") == 0) {
            rc = take_custom(c, v, rs, err);
        } else if (!dst) {
            rs->field = NULL;
            rc = crm_err_set(err, CRM_EUSAGE, "unknown member '%s' in the request body", key);
        } else if (!json_is_string(v) && !json_is_null(v)) {
            rs->field = key; /* borrowed from the body, which outlives the error */
            rc = crm_err_set(err, CRM_EUSAGE, "%s must be a string", key);
        } else {
            free(*dst);
            *dst = strdup(json_is_null(v) ? "" : json_string_value(v));
            if (!*dst)
                rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
        }
    }
    return rc;
}

static int respond_contact(crm_kernel *k, int64_t id, int status, crm_http_resp *rs,
                           crm_err *err)
{
    crm_contact c = {0};
    int rc = crm_contact_get(k, id, &c, err);
    if (rc == CRM_OK) {
        rs->status = status;
        rs->body = crm_contact_to_json(&c);
    }
    crm_contact_clear(&c);
    return rc;
}

typedef struct page {
    json_t *data;
    int64_t limit, last_id;
    bool more;
} page;

static int page_one(const crm_contact *c, void *ud)
{
    page *p = ud;
    if ((int64_t)json_array_size(p->data) == p->limit) {
        p->more = true;
        return 1;
    }
    p->last_id = c->id;
    return json_array_append_new(p->data, crm_contact_to_json(c));
}

/* Query parameters that filter the list, by name, into the filter struct. */
static const struct {
    const char *name;
    size_t offset;
} filters[] = {
#define F(n) {#n, offsetof(crm_contact_filter, n)}
    F(email), F(name), F(city), F(postal_code), F(country), F(company), F(tag), F(source),
    F(lifecycle_stage),
#undef F
};

static int list(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_contact_filter f = {0};
    page p = {json_array(), 0, 0, false};
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        *(const char **)((char *)&f + filters[i].offset) = crm_http_query(rq, filters[i].name);
    int rc = crm_http_query_int(rq, rs, "limit", 50, 1, PAGE_MAX, &p.limit, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "cursor", 0, 0, INT64_MAX, &f.after_id, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "updated_since", 0, 0, INT64_MAX, &f.updated_since, err);
    /* one more than the page tells whether there is a next one */
    f.limit = p.limit + 1;
    if (rc == CRM_OK && p.data)
        rc = crm_contact_list(rq->k, &f, page_one, &p, err);
    if (rc != CRM_OK || !p.data) {
        json_decref(p.data);
        return rc != CRM_OK ? rc : crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    rs->body = json_pack("{soso}", "data", p.data, "next_cursor",
                         p.more ? json_integer(p.last_id) : json_null());
    return CRM_OK;
}

static int create(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_contact c = {0};
    int64_t id = 0;
    int rc = contact_from_body(rq, &c, rs, err);
    if (rc == CRM_OK) {
        rc = crm_contact_add(rq->k, &c, &id, err);
        if (rc == CRM_EEXISTS)
            rs->existing_id = id;
        if (rc == CRM_EINVAL || rc == CRM_EEXISTS)
            rs->field = blame_contact(err->msg);
    }
    crm_contact_clear(&c);
    return rc == CRM_OK ? respond_contact(rq->k, id, 201, rs, err) : rc;
}

static int get(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    return rc == CRM_OK ? respond_contact(rq->k, id, 200, rs, err) : rc;
}

static int patch(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_contact c = {0};
    int64_t id;
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    if (rc == CRM_OK)
        rc = contact_from_body(rq, &c, rs, err);
    if (rc == CRM_OK) {
        rc = crm_contact_update(rq->k, id, &c, err);
        if (rc == CRM_EINVAL)
            rs->field = blame_contact(err->msg);
    }
    crm_contact_clear(&c);
    return rc == CRM_OK ? respond_contact(rq->k, id, 200, rs, err) : rc;
}

static int delete(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    const char *force = crm_http_query(rq, "force");
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    if (rc == CRM_OK)
        rc = crm_contact_delete(rq->k, id, force && strcmp(force, "true") == 0, err);
    rs->status = 204;
    return rc;
}

static int timeline_one(json_t *item, void *ud)
{
    return json_array_append(ud, item);
}

static int timeline(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    crm_timeline_opts o = {0};
    crm_contact c = {0};
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "limit", 0, 0, 10000, &o.limit, err);
    if (rc == CRM_OK)
        rc = crm_contact_get(rq->k, id, &c, err); /* 404 rather than an empty list */
    crm_contact_clear(&c);
    json_t *items = rc == CRM_OK ? json_array() : NULL;
    if (rc == CRM_OK)
        rc = crm_timeline_query(rq->k, id, &o, timeline_one, items, err);
    if (rc != CRM_OK) {
        json_decref(items);
        return rc;
    }
    rs->body = json_pack("{so}", "data", items);
    return CRM_OK;
}

#define CONTACT "{\"$ref\":\"#/components/schemas/Contact\"}"
#define CONTACT_IN "{\"$ref\":\"#/components/schemas/ContactInput\"}"
#define READ (CRM_ROLE_VIEWER | CRM_ROLE_AGENT | CRM_ROLE_MANAGER | CRM_ROLE_ADMIN | CRM_ROLE_INTEGRATION)
#define WRITE (CRM_ROLE_AGENT | CRM_ROLE_MANAGER | CRM_ROLE_ADMIN | CRM_ROLE_INTEGRATION)

const crm_http_route crm_http_contact_routes[] = {
    {"GET", "/v1/contacts", READ, list,
     "list contacts (filters: email, name, city, postal_code, country, company, tag, source, "
     "lifecycle_stage; cursor, limit, updated_since)",
     NULL,
     "{\"type\":\"object\",\"required\":[\"data\",\"next_cursor\"],\"properties\":{\"data\":"
     "{\"type\":\"array\",\"items\":" CONTACT "},\"next_cursor\":{\"type\":[\"integer\","
     "\"null\"]}}}",
     200, NULL, NULL},
    {"POST", "/v1/contacts", WRITE, create, "create a contact (409 with existing_id on a duplicate)",
     CONTACT_IN, CONTACT, 201, NULL, NULL},
    {"GET", "/v1/contacts/{id}", READ, get, "read a contact", NULL, CONTACT, 200, NULL, NULL},
    {"PATCH", "/v1/contacts/{id}", CRM_ROLE_AGENT | CRM_ROLE_MANAGER | CRM_ROLE_ADMIN, patch,
     "change a contact's fields (null or \"\" clears one; tags given replace the tags)",
     CONTACT_IN, CONTACT, 200, NULL, NULL},
    {"DELETE", "/v1/contacts/{id}", CRM_ROLE_MANAGER | CRM_ROLE_ADMIN, delete,
     "delete a contact (force=true also deletes its orders and interactions)", NULL, NULL, 204, NULL, NULL},
    {"GET", "/v1/contacts/{id}/timeline", CRM_ROLE_VIEWER | CRM_ROLE_AGENT | CRM_ROLE_MANAGER | CRM_ROLE_ADMIN,
     timeline, "the contact's 360-degree timeline, oldest first (limit: the latest N)", NULL,
     "{\"type\":\"object\",\"required\":[\"data\"],\"properties\":{\"data\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"required\":[\"kind\",\"at\"],\"properties\":{"
     "\"kind\":{\"type\":\"string\"},\"at\":{\"type\":\"string\",\"description\":\"ISO 8601 UTC\"},"
     "\"at_epoch\":{\"type\":\"integer\"},\"record\":{\"type\":\"object\"}}}}}}",
     200, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

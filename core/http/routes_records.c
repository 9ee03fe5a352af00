/* Companies, orders (with lines), interactions, consents and tasks: each a
 * body-to-struct table and the model call, so the API validates exactly as
 * the CLI does. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "model.h"

#define PAGE_MAX 500
#define S(type, n) {#n, 's', offsetof(type, n)}
#define I(type, n) {#n, 'i', offsetof(type, n)}

/* A model refusal's field from the table; EEXISTS keeps the existing id. */
static int refused(int rc, int64_t id, const crm_http_field *fields, crm_http_resp *rs,
                   const crm_err *err)
{
    if (rc == CRM_EEXISTS)
        rs->existing_id = id;
    if (rc == CRM_EINVAL || rc == CRM_ENOTFOUND || rc == CRM_EEXISTS)
        rs->field = crm_http_blame(err->msg, fields);
    return rc;
}

/* ---- companies ---- */

static const crm_http_field company_fields[] = {
    S(crm_company, external_id), S(crm_company, name),        S(crm_company, domain),
    S(crm_company, phone),       S(crm_company, street),      S(crm_company, postal_code),
    S(crm_company, city),        S(crm_company, country),     {NULL, 0, 0},
};

static int company_reply(crm_kernel *k, int64_t id, int status, crm_http_resp *rs, crm_err *err)
{
    crm_company c = {0};
    int rc = crm_company_get(k, id, &c, err);
    if (rc == CRM_OK) {
        rs->status = status;
        rs->body = crm_company_to_json(&c);
    }
    crm_company_clear(&c);
    return rc;
}

static int company_one(const crm_company *c, void *ud)
{
    return json_array_append_new(ud, crm_company_to_json(c));
}

static int companies_list(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t limit, offset;
    int rc = crm_http_query_int(rq, rs, "limit", 50, 1, PAGE_MAX, &limit, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "offset", 0, 0, INT64_MAX, &offset, err);
    json_t *data = rc == CRM_OK ? json_array() : NULL;
    if (rc == CRM_OK)
        rc = crm_company_list(rq->k, crm_http_query(rq, "name"), limit, offset, company_one, data,
                              err);
    if (rc != CRM_OK) {
        json_decref(data);
        return rc;
    }
    rs->body = json_pack("{so}", "data", data);
    return CRM_OK;
}

static int company_create(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_company c = {0};
    json_t *obj;
    int64_t id = 0;
    int rc = crm_http_body_object(rq, &obj, err);
    if (rc == CRM_OK)
        rc = crm_http_fill(obj, company_fields, &c, rs, err);
    if (rc == CRM_OK)
        rc = refused(crm_company_add(rq->k, &c, &id, err), id, company_fields, rs, err);
    crm_company_clear(&c);
    return rc == CRM_OK ? company_reply(rq->k, id, 201, rs, err) : rc;
}

static int company_get(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    return rc == CRM_OK ? company_reply(rq->k, id, 200, rs, err) : rc;
}

/* ---- orders ---- */

static const crm_http_field order_fields[] = {
    S(crm_order, external_id), I(crm_order, contact_id), I(crm_order, placed_at),
    I(crm_order, total),       S(crm_order, currency),   S(crm_order, status),
    S(crm_order, cart_id),     {"lines", 'a', 0},        {NULL, 0, 0},
};

static const crm_http_field line_fields[] = {
    S(crm_order_line, sku), I(crm_order_line, quantity), I(crm_order_line, unit_price),
    {NULL, 0, 0},
};

static int order_lines(json_t *lines, crm_order *o, crm_http_resp *rs, crm_err *err)
{
    size_t i;
    json_t *l;
    rs->field = "lines";
    if (!json_is_array(lines))
        return crm_err_set(err, CRM_EUSAGE, "lines must be an array of {sku, quantity, unit_price}");
    if (!(o->lines = calloc(json_array_size(lines) + 1, sizeof *o->lines)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    json_array_foreach(lines, i, l) {
        o->n_lines = i + 1;
        int rc = json_is_object(l) ? crm_http_fill(l, line_fields, &o->lines[i], rs, err)
                                   : crm_err_set(err, CRM_EUSAGE, "lines[%zu] must be an object", i);
        if (rc != CRM_OK) {
            rs->field = "lines";
            return crm_err_prefix(err, "lines[%zu]", i);
        }
    }
    return CRM_OK;
}

static int order_reply(crm_kernel *k, int64_t id, int status, crm_http_resp *rs, crm_err *err)
{
    crm_order o = {0};
    int rc = crm_order_get(k, id, &o, err);
    if (rc == CRM_OK) {
        rs->status = status;
        rs->body = crm_order_to_json(&o);
    }
    crm_order_clear(&o);
    return rc;
}

static int order_create(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_order o = {0};
    json_t *obj, *lines = NULL;
    int64_t id = 0;
    int rc = crm_http_body_object(rq, &obj, err);
    if (rc == CRM_OK && (lines = json_incref(json_object_get(obj, "lines"))))
        json_object_del(obj, "lines");
    if (rc == CRM_OK)
        rc = crm_http_fill(obj, order_fields, &o, rs, err);
    if (rc == CRM_OK && lines)
        rc = order_lines(lines, &o, rs, err);
    if (rc == CRM_OK)
        rc = refused(crm_order_add(rq->k, &o, &id, err), id, order_fields, rs, err);
    json_decref(lines);
    crm_order_clear(&o);
    return rc == CRM_OK ? order_reply(rq->k, id, 201, rs, err) : rc;
}

static int order_get(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    return rc == CRM_OK ? order_reply(rq->k, id, 200, rs, err) : rc;
}

static int order_one(const crm_order *o, void *ud)
{
    return json_array_append_new(ud, crm_order_to_json(o));
}

static int orders_list(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t limit, offset, contact;
    int rc = crm_http_query_int(rq, rs, "limit", 50, 1, PAGE_MAX, &limit, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "offset", 0, 0, INT64_MAX, &offset, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "contact_id", 0, 0, INT64_MAX, &contact, err);
    json_t *data = rc == CRM_OK ? json_array() : NULL;
    if (rc == CRM_OK)
        rc = crm_order_list(rq->k, contact, crm_http_query(rq, "status"), limit, offset,
                            order_one, data, err);
    if (rc != CRM_OK) {
        json_decref(data);
        return rc;
    }
    rs->body = json_pack("{so}", "data", data);
    return CRM_OK;
}

/* ---- interactions ---- */

static const crm_http_field interaction_fields[] = {
    I(crm_interaction, contact_id), S(crm_interaction, channel),
    S(crm_interaction, direction),  S(crm_interaction, subject),
    S(crm_interaction, body),       I(crm_interaction, occurred_at),
    S(crm_interaction, author),     S(crm_interaction, external_id),
    {NULL, 0, 0},
};

static int interaction_create(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_interaction i = {0};
    json_t *obj;
    int64_t id = 0;
    int rc = crm_http_body_object(rq, &obj, err);
    if (rc == CRM_OK)
        rc = crm_http_fill(obj, interaction_fields, &i, rs, err);
    if (rc == CRM_OK)
        rc = refused(crm_interaction_log(rq->k, &i, &id, err), id, interaction_fields, rs, err);
    if (rc == CRM_OK) {
        i.id = id;
        rs->status = 201;
        rs->body = crm_interaction_to_json(&i);
    }
    crm_interaction_clear(&i);
    return rc;
}

/* ---- consents ---- */

static const crm_http_field consent_fields[] = {
    I(crm_consent, contact_id), S(crm_consent, channel),     S(crm_consent, purpose),
    S(crm_consent, status),     I(crm_consent, recorded_at), S(crm_consent, source),
    {NULL, 0, 0},
};

static int consent_create(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_consent c = {0};
    json_t *obj;
    int64_t id = 0;
    int rc = crm_http_body_object(rq, &obj, err);
    if (rc == CRM_OK)
        rc = crm_http_fill(obj, consent_fields, &c, rs, err);
    if (rc == CRM_OK)
        rc = refused(crm_consent_record(rq->k, &c, &id, err), id, consent_fields, rs, err);
    if (rc == CRM_OK) {
        rs->status = c.unchanged ? 200 : 201;
        rs->body = json_pack("{sIsbsI}", "id", (json_int_t)id, "unchanged", c.unchanged,
                             "contact_id", (json_int_t)c.contact_id);
    }
    crm_consent_clear(&c);
    return rc;
}

static int consent_one(json_t *item, void *ud) { return json_array_append(ud, item); }

static int consents_of(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    const char *history = crm_http_query(rq, "history");
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    json_t *data = rc == CRM_OK ? json_array() : NULL;
    if (rc == CRM_OK)
        rc = crm_consent_list(rq->k, id, history && strcmp(history, "true") == 0, consent_one,
                              data, err);
    if (rc != CRM_OK) {
        json_decref(data);
        return rc;
    }
    rs->body = json_pack("{so}", "data", data);
    return CRM_OK;
}

/* ---- tasks ---- */

static const crm_http_field task_fields[] = {
    S(crm_task, subject),  S(crm_task, kind), I(crm_task, due_at), S(crm_task, assignee),
    I(crm_task, contact_id), S(crm_task, ref), S(crm_task, notes),   {NULL, 0, 0},
};

static int task_reply(crm_kernel *k, int64_t id, int status, crm_http_resp *rs, crm_err *err)
{
    crm_task t = {0};
    int rc = crm_task_get(k, id, &t, err);
    if (rc == CRM_OK) {
        rs->status = status;
        rs->body = crm_task_to_json(&t);
    }
    crm_task_clear(&t);
    return rc;
}

static int task_create(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_task t = {0};
    json_t *obj;
    int64_t id = 0;
    int rc = crm_http_body_object(rq, &obj, err);
    if (rc == CRM_OK)
        rc = crm_http_fill(obj, task_fields, &t, rs, err);
    if (rc == CRM_OK)
        rc = refused(crm_task_add(rq->k, &t, &id, err), id, task_fields, rs, err);
    crm_task_clear(&t);
    return rc == CRM_OK ? task_reply(rq->k, id, 201, rs, err) : rc;
}

static int task_get(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    return rc == CRM_OK ? task_reply(rq->k, id, 200, rs, err) : rc;
}

static int task_done(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t id;
    int rc = crm_http_param_id(rq, rs, "id", &id, err);
    if (rc == CRM_OK)
        rc = crm_task_complete(rq->k, id, err);
    return rc == CRM_OK ? task_reply(rq->k, id, 200, rs, err) : rc;
}

static int task_one(const crm_task *t, void *ud)
{
    return json_array_append_new(ud, crm_task_to_json(t));
}

static int tasks_list(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    crm_task_filter f = {0};
    f.status = crm_http_query(rq, "status");
    f.ref = crm_http_query(rq, "ref");
    int rc = crm_http_query_int(rq, rs, "contact_id", 0, 0, INT64_MAX, &f.contact_id, err);
    json_t *data = rc == CRM_OK ? json_array() : NULL;
    if (rc == CRM_OK)
        rc = crm_task_list(rq->k, &f, task_one, data, err);
    if (rc != CRM_OK) {
        json_decref(data);
        return rc;
    }
    rs->body = json_pack("{so}", "data", data);
    return CRM_OK;
}

#define REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"
#define LIST(name)                                                                          \
    "{\"type\":\"object\",\"required\":[\"data\"],\"properties\":{\"data\":{\"type\":"      \
    "\"array\",\"items\":" REF(name) "}}}"
#define STAFF (CRM_ROLE_VIEWER | CRM_ROLE_AGENT | CRM_ROLE_MANAGER | CRM_ROLE_ADMIN)
#define SHOP (STAFF | CRM_ROLE_INTEGRATION)
#define AGENTS (CRM_ROLE_AGENT | CRM_ROLE_MANAGER | CRM_ROLE_ADMIN)
#define SELLERS (CRM_ROLE_MANAGER | CRM_ROLE_ADMIN | CRM_ROLE_INTEGRATION)

const crm_http_route crm_http_record_routes[] = {
    {"GET", "/v1/companies", STAFF, companies_list, "list companies (name, limit, offset)", NULL,
     LIST("Company"), 200, NULL, NULL},
    {"POST", "/v1/companies", AGENTS | CRM_ROLE_INTEGRATION, company_create,
     "create a company (409 with existing_id for a name in use)", REF("CompanyInput"),
     REF("Company"), 201, NULL, NULL},
    {"GET", "/v1/companies/{id}", STAFF, company_get, "read a company", NULL, REF("Company"), 200, NULL, NULL},
    {"GET", "/v1/orders", SHOP, orders_list, "list orders, newest first (contact_id, status)",
     NULL, LIST("Order"), 200, NULL, NULL},
    {"POST", "/v1/orders", SELLERS, order_create, "record an order with its lines",
     REF("OrderInput"), REF("Order"), 201, NULL, NULL},
    {"GET", "/v1/orders/{id}", SHOP, order_get, "read an order with its lines", NULL,
     REF("Order"), 200, NULL, NULL},
    {"POST", "/v1/interactions", AGENTS, interaction_create,
     "log an interaction (email, sms, phone, meeting, note, web) in a contact's history",
     REF("InteractionInput"), REF("Interaction"), 201, NULL, NULL},
    {"POST", "/v1/consents", AGENTS | CRM_ROLE_INTEGRATION, consent_create,
     "record a consent given or withdrawn (200 with unchanged when it already stood)",
     REF("ConsentInput"), REF("ConsentResult"), 201, NULL, NULL},
    {"GET", "/v1/contacts/{id}/consents", STAFF, consents_of,
     "a contact's consents in force (history=true: every record)", NULL,
     "{\"type\":\"object\",\"required\":[\"data\"],\"properties\":{\"data\":{\"type\":\"array\"}}}",
     200, NULL, NULL},
    {"GET", "/v1/tasks", STAFF, tasks_list, "list tasks by due time (status, contact_id, ref)",
     NULL, LIST("Task"), 200, NULL, NULL},
    {"POST", "/v1/tasks", AGENTS, task_create, "add a task (due_at: epoch seconds)",
     REF("TaskInput"), REF("Task"), 201, NULL, NULL},
    {"GET", "/v1/tasks/{id}", STAFF, task_get, "read a task", NULL, REF("Task"), 200, NULL, NULL},
    {"POST", "/v1/tasks/{id}/done", AGENTS, task_done, "mark an open task done", NULL,
     REF("Task"), 200, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

/* The API about itself: its OpenAPI document and (admin) its tokens. */
#include "http/http.h"

static int openapi(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    rs->body = crm_http_openapi(rq->k);
    return rs->body ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

static int token_one(json_t *t, void *ud) { return json_array_append(ud, t); }

static int tokens(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    json_t *data = json_array();
    int rc = data ? crm_token_list(rq->k, token_one, data, err)
                  : crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc != CRM_OK) {
        json_decref(data);
        return rc;
    }
    rs->body = json_pack("{so}", "data", data);
    return CRM_OK;
}

const crm_http_route crm_http_meta_routes[] = {
    {"GET", "/openapi.json", CRM_ROLE_ALL, openapi,
     "this document: OpenAPI 3.1 generated from the route registrations", NULL,
     "{\"type\":\"object\",\"required\":[\"openapi\",\"paths\"],\"properties\":{"
     "\"openapi\":{\"type\":\"string\"},\"paths\":{\"type\":\"object\"}}}",
     200, NULL, NULL},
    {"GET", "/v1/tokens", CRM_ROLE_ADMIN, tokens, "the API tokens (never their secret)", NULL,
     "{\"type\":\"object\",\"required\":[\"data\"],\"properties\":{\"data\":{\"type\":\"array\","
     "\"items\":{\"$ref\":\"#/components/schemas/Token\"}}}}",
     200, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

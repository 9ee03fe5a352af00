/* GET /openapi.json: OpenAPI 3.1 from the route registrations, kernel and
 * plugins alike, so the document cannot drift from what the server runs. */
#include <stdio.h>
#include <string.h>

#include "http/board.h"
#include "http/http.h"

/* Shared shapes, referenced by the routes' schemas as #/components/schemas/X.
 * Nullable members are typed [T, "null"] (JSON Schema 2020-12, as 3.1 uses). */
static const char components[] =
    "{\"Error\":{\"type\":\"object\",\"required\":[\"error\"],\"properties\":{\"error\":{"
    "\"type\":\"object\",\"required\":[\"code\",\"message\",\"field\"],\"properties\":{"
    "\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},"
    "\"field\":{\"type\":[\"string\",\"null\"]},\"existing_id\":{\"type\":\"integer\"}}}}},"
    "\"Contact\":{\"type\":\"object\",\"required\":[\"id\",\"email\",\"tags\",\"custom\","
    "\"created_at\",\"updated_at\"],\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"external_id\":{\"type\":[\"string\",\"null\"]},\"first_name\":{\"type\":[\"string\",\"null\"]},"
    "\"last_name\":{\"type\":[\"string\",\"null\"]},\"email\":{\"type\":[\"string\",\"null\"]},"
    "\"phone\":{\"type\":[\"string\",\"null\"]},\"company\":{\"type\":[\"string\",\"null\"]},"
    "\"city\":{\"type\":[\"string\",\"null\"]},\"country\":{\"type\":[\"string\",\"null\"]},"
    "\"lifecycle_stage\":{\"type\":[\"string\",\"null\"]},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"custom\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
    "\"created_at\":{\"type\":\"string\"},\"updated_at\":{\"type\":\"string\"}}},"
    "\"ContactInput\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"external_id\":{\"type\":[\"string\",\"null\"]},\"first_name\":{\"type\":[\"string\",\"null\"]},"
    "\"last_name\":{\"type\":[\"string\",\"null\"]},\"email\":{\"type\":[\"string\",\"null\"]},"
    "\"phone\":{\"type\":[\"string\",\"null\"]},\"company\":{\"type\":[\"string\",\"null\"]},"
    "\"street\":{\"type\":[\"string\",\"null\"]},\"postal_code\":{\"type\":[\"string\",\"null\"]},"
    "\"city\":{\"type\":[\"string\",\"null\"]},\"country\":{\"type\":[\"string\",\"null\"]},"
    "\"birth_date\":{\"type\":[\"string\",\"null\"]},\"lifecycle_stage\":{\"type\":[\"string\",\"null\"]},"
    "\"owner\":{\"type\":[\"string\",\"null\"]},\"source\":{\"type\":[\"string\",\"null\"]},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"custom\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}}},"
    "\"Company\":{\"type\":\"object\",\"required\":[\"id\",\"name\"],\"properties\":{"
    "\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"}}},"
    "\"CompanyInput\":{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
    "\"properties\":{\"name\":{\"type\":\"string\"},\"external_id\":{\"type\":\"string\"},"
    "\"domain\":{\"type\":\"string\"},\"phone\":{\"type\":\"string\"},\"street\":{\"type\":\"string\"},"
    "\"postal_code\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"},\"country\":{\"type\":\"string\"}}},"
    "\"Order\":{\"type\":\"object\",\"required\":[\"id\",\"contact_id\",\"total_minor\",\"currency\","
    "\"status\",\"lines\"],\"properties\":{\"id\":{\"type\":\"integer\"},\"contact_id\":{\"type\":\"integer\"},"
    "\"total_minor\":{\"type\":\"integer\"},\"total\":{\"type\":\"string\"},\"currency\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\"},\"lines\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"sku\",\"quantity\"],\"properties\":{\"sku\":{\"type\":\"string\"},"
    "\"quantity\":{\"type\":\"integer\"}}}}}},"
    "\"OrderInput\":{\"type\":\"object\",\"required\":[\"contact_id\"],\"additionalProperties\":false,"
    "\"properties\":{\"contact_id\":{\"type\":\"integer\"},\"external_id\":{\"type\":\"string\"},"
    "\"placed_at\":{\"type\":\"integer\",\"description\":\"epoch seconds UTC\"},"
    "\"total\":{\"type\":\"integer\",\"description\":\"minor units\"},\"currency\":{\"type\":\"string\"},"
    "\"cart_id\":{\"type\":\"string\",\"description\":\"the shop's cart this order converts "
    "(absent: the contact's open carts updated before placed_at)\"},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"placed\",\"paid\",\"cancelled\",\"refunded\"]},"
    "\"lines\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"sku\",\"quantity\"],"
    "\"additionalProperties\":false,\"properties\":{\"sku\":{\"type\":\"string\"},"
    "\"quantity\":{\"type\":\"integer\",\"minimum\":1},\"unit_price\":{\"type\":\"integer\"}}}}}},"
    "\"Interaction\":{\"type\":\"object\",\"required\":[\"id\",\"contact_id\",\"channel\"],"
    "\"properties\":{\"id\":{\"type\":\"integer\"},\"contact_id\":{\"type\":\"integer\"},"
    "\"channel\":{\"type\":\"string\"}}},"
    "\"InteractionInput\":{\"type\":\"object\",\"required\":[\"contact_id\",\"channel\"],"
    "\"additionalProperties\":false,\"properties\":{\"contact_id\":{\"type\":\"integer\"},"
    "\"channel\":{\"type\":\"string\",\"enum\":[\"email\",\"sms\",\"phone\",\"meeting\",\"note\",\"web\"]},"
    "\"direction\":{\"type\":\"string\",\"enum\":[\"in\",\"out\",\"none\"]},\"subject\":{\"type\":\"string\"},"
    "\"body\":{\"type\":\"string\"},\"occurred_at\":{\"type\":\"integer\"},\"author\":{\"type\":\"string\"},"
    "\"external_id\":{\"type\":\"string\"}}},"
    "\"ConsentInput\":{\"type\":\"object\",\"required\":[\"contact_id\",\"channel\",\"purpose\","
    "\"status\"],\"additionalProperties\":false,\"properties\":{\"contact_id\":{\"type\":\"integer\"},"
    "\"channel\":{\"type\":\"string\"},\"purpose\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"granted\",\"withdrawn\"]},"
    "\"recorded_at\":{\"type\":\"integer\"},\"source\":{\"type\":\"string\"}}},"
    "\"ConsentResult\":{\"type\":\"object\",\"required\":[\"id\",\"unchanged\",\"contact_id\"],"
    "\"properties\":{\"id\":{\"type\":\"integer\"},\"unchanged\":{\"type\":\"boolean\"},"
    "\"contact_id\":{\"type\":\"integer\"}}},"
    "\"Task\":{\"type\":\"object\",\"required\":[\"id\",\"subject\",\"status\",\"due_at\"],"
    "\"properties\":{\"id\":{\"type\":\"integer\"},\"subject\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\"},\"due_at\":{\"type\":\"string\"}}},"
    "\"TaskInput\":{\"type\":\"object\",\"required\":[\"subject\",\"due_at\"],"
    "\"additionalProperties\":false,\"properties\":{\"subject\":{\"type\":\"string\"},"
    "\"kind\":{\"type\":\"string\"},\"due_at\":{\"type\":\"integer\"},\"assignee\":{\"type\":\"string\"},"
    "\"contact_id\":{\"type\":\"integer\"},\"ref\":{\"type\":\"string\"},\"notes\":{\"type\":\"string\"}}},"
    "\"Event\":{\"type\":\"object\",\"required\":[\"id\",\"type\",\"payload\",\"source\",\"created_at\"],"
    "\"properties\":{\"id\":{\"type\":\"integer\"},\"type\":{\"type\":\"string\"},"
    "\"payload\":{},\"source\":{\"type\":\"string\"},\"created_at\":{\"type\":\"integer\"}}},"
    "\"TrackEvent\":{\"type\":\"object\",\"required\":[\"type\"],\"additionalProperties\":false,"
    "\"description\":\"one tracked shop event; contact_id or email is required\","
    "\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"cart.updated\",\"checkout.started\","
    "\"page.viewed\",\"email.opened\",\"email.clicked\"]},\"contact_id\":{\"type\":\"integer\"},"
    "\"email\":{\"type\":\"string\"},\"cart_id\":{\"type\":[\"string\",\"integer\"],"
    "\"description\":\"the shop's cart id (cart types)\"},\"value\":{\"type\":[\"integer\",\"string\"],"
    "\"description\":\"minor units, or major units as decimal text\"},\"currency\":{\"type\":\"string\"},"
    "\"device\":{\"type\":\"string\",\"enum\":[\"desktop\",\"mobile\",\"tablet\"]},"
    "\"lines\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"sku\",\"quantity\","
    "\"unit_price\"],\"properties\":{\"sku\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
    "\"quantity\":{\"type\":\"integer\",\"minimum\":1},\"unit_price\":{\"type\":[\"integer\",\"string\"]}}}},"
    "\"url\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"},"
    "\"at\":{\"type\":[\"integer\",\"string\"],\"description\":\"epoch seconds or ISO 8601\"},"
    "\"id\":{\"type\":[\"string\",\"integer\"],\"description\":\"the shop's event id "
    "(idempotency)\"}}},"
    "\"TrackResult\":{\"type\":\"object\",\"required\":[\"status\",\"type\",\"contact_id\","
    "\"cart_id\"],\"properties\":{\"status\":{\"type\":\"string\",\"enum\":[\"stored\",\"duplicate\"]},"
    "\"type\":{\"type\":\"string\"},\"contact_id\":{\"type\":\"integer\"},"
    "\"cart_id\":{\"type\":[\"integer\",\"null\"]},\"index\":{\"type\":\"integer\"}}},"
    "\"TrackBatchResult\":{\"type\":\"object\",\"required\":[\"stored\",\"duplicates\","
    "\"refused\",\"results\"],\"properties\":{\"stored\":{\"type\":\"integer\"},"
    "\"duplicates\":{\"type\":\"integer\"},\"refused\":{\"type\":\"integer\"},"
    "\"results\":{\"type\":\"array\",\"items\":{\"oneOf\":[{\"$ref\":\"#/components/schemas/"
    "TrackResult\"},{\"type\":\"object\",\"required\":[\"index\",\"status\",\"error\"],"
    "\"properties\":{\"index\":{\"type\":\"integer\"},\"status\":{\"const\":\"refused\"},"
    "\"error\":{\"$ref\":\"#/components/schemas/Error/properties/error\"}}}]}}}},"
    "\"Token\":{\"type\":\"object\",\"required\":[\"id\",\"name\",\"role\",\"prefix\"],"
    "\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},"
    "\"role\":{\"type\":\"string\"},\"prefix\":{\"type\":\"string\"}}}}";

static json_t *schema(const char *text)
{
    json_t *s = text ? json_loads(text, 0, NULL) : NULL;
    return s ? s : json_object();
}

static json_t *content(const char *schema_text)
{
    return json_pack("{s{s{so}}}", "content", "application/json", "schema", schema(schema_text));
}

static json_t *error_response(const char *what)
{
    json_t *r = content("{\"$ref\":\"#/components/schemas/Error\"}");
    json_object_set_new(r, "description", json_string(what));
    return r;
}

/* The path's {name} segments as required path parameters. */
static json_t *path_params(const char *path)
{
    json_t *a = json_array();
    for (const char *s = strchr(path, '{'); s; s = strchr(s + 1, '{')) {
        size_t n = strcspn(s + 1, "}");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)n, s + 1);
        json_array_append_new(a, json_pack("{sssssbs{ss}}", "name", name, "in", "path",
                                           "required", 1, "schema", "type", "string"));
    }
    return a;
}

/* "get" from "GET": OpenAPI's operation keys are lower case. */
static void lower(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

/* operationId: method and path as one identifier ("get_v1_contacts_id"). */
static void operation_id(const crm_http_route *r, char *out, size_t size)
{
    char m[16];
    lower(r->method, m, sizeof m);
    size_t n = (size_t)snprintf(out, size, "%s", m);
    for (const char *p = r->path; *p && n + 1 < size; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            out[n++] = *p;
        else if (out[n - 1] != '_')
            out[n++] = '_';
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
}

static json_t *roles_of(unsigned mask)
{
    json_t *a = json_array();
    for (unsigned bit = 1; bit & CRM_ROLE_ALL; bit <<= 1)
        if (mask & bit)
            json_array_append_new(a, json_string(crm_role_name(bit)));
    return a;
}

static int add_route(const crm_http_route *r, void *ud)
{
    json_t *paths = ud;
    json_t *item = json_object_get(paths, r->path);
    if (!item) {
        item = json_object();
        json_object_set_new(item, "parameters", path_params(r->path));
        json_object_set_new(paths, r->path, item);
    }
    char m[16], id[160], status[8];
    lower(r->method, m, sizeof m);
    operation_id(r, id, sizeof id);
    snprintf(status, sizeof status, "%d", r->status ? r->status : 200);
    json_t *ok = r->status == 204 ? json_object() : content(r->response);
    json_object_set_new(ok, "description", json_string("success"));
    json_t *op = json_pack("{sssss{so}so}", "operationId", id, "summary",
                           r->summary ? r->summary : "", "responses", status, ok, "x-roles",
                           roles_of(r->roles));
    json_t *responses = json_object_get(op, "responses");
    json_object_set_new(responses, "400", error_response("bad request (the field is named)"));
    json_object_set_new(responses, "401",
                        error_response("no valid bearer token or board session"));
    json_object_set_new(responses, "403",
                        error_response("the role may not do this, or a board write lacks "
                                       "its X-CSRF-Token"));
    json_object_set_new(responses, "404", error_response("no such record"));
    if (strcmp(r->method, "GET") != 0) {
        json_object_set_new(responses, "409", error_response("duplicate: existing_id names it"));
        json_object_set_new(responses, "422", error_response("refused by a validation rule"));
    }
    if (r->owner) {
        json_object_set_new(op, "tags", json_pack("[s]", r->owner));
        json_object_set_new(op, "x-owner", json_string(r->owner));
    }
    if (r->request) {
        json_t *body = content(r->request);
        json_object_set_new(body, "required", json_true());
        json_object_set_new(op, "requestBody", body);
    }
    json_object_set_new(item, m, op);
    return 0;
}

json_t *crm_http_openapi(crm_kernel *k)
{
    json_t *paths = json_object();
    crm_http_each_kernel_route(add_route, paths);
    crm_http_each_plugin_route(k, add_route, paths);
    /* either scheme will do: a bearer token, or the web board's session
     * cookie (whose writes also need the session's X-CSRF-Token header) */
    json_t *doc = json_pack(
        "{sss{ssssss}s[{ss}]sos{sos{s{ssss}s{ssssssss}}}s[{s[]}{s[]}]}", "openapi", "3.1.0",
        "info", "title", "crm REST API", "version", CRM_VERSION, "description",
        "The crm kernel and its plugins over HTTP. Every route needs Authorization: Bearer "
        "TOKEN (crm token create), or the web board's crm_session cookie (POST /board/login), "
        "whose writes also carry the session's X-CSRF-Token header; x-roles lists the roles "
        "allowed.",
        "servers", "url", "/", "paths", paths, "components", "schemas", schema(components),
        "securitySchemes", "bearer", "type", "http", "scheme", "bearer", "session", "type",
        "apiKey", "in", "cookie", "name", CRM_SESSION_COOKIE, "description",
        "the web board's session (crm user passwd, POST /board/login)", "security", "bearer",
        "session");
    return doc;
}

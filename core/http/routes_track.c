/* POST /v1/track: inbound shop events (cart.h), one object or a batch
 * {"events": [...]}. The kernel's crm_track_apply_json validates and applies
 * each in its own savepoint inside the request's transaction, so a refused
 * event of a batch leaves nothing while the others stand and are reported
 * with their index. */
#include <stdio.h>
#include <string.h>

#include "cart.h"
#include "http/http.h"
#include "util.h"

#define TRACK_BATCH_MAX 1000

/* The member a kernel refusal names: its message starts with the member's
 * path ("lines[2].quantity: ...", "contact_id or email: ..."). Only names
 * whose base is a tracked member count, so prose is never taken for one. */
static const char *blame(const char *msg, char *buf, size_t size)
{
    size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz0123456789_.[]");
    if (n == 0 || n >= size || (msg[n] != ':' && msg[n] != ' '))
        return NULL;
    snprintf(buf, size, "%.*s", (int)n, msg);
    char base[32];
    snprintf(base, sizeof base, "%.*s", (int)strcspn(buf, ".["), buf);
    return crm_str_in(base, crm_track_members) ? buf : NULL;
}

/* Anything but an object of tracked members is bad input (400, the member
 * named) before the kernel sees it, like the other routes; the kernel's own
 * refusals are 422. */
static int check_shape(json_t *obj, crm_http_resp *rs, crm_err *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return crm_err_set(err, CRM_EUSAGE, "expected an object with a \"type\"");
    json_object_foreach(obj, key, v) {
        if (!crm_str_in(key, crm_track_members)) {
            rs->field = key; /* borrowed from the body, which outlives the error */
            return crm_err_set(err, CRM_EUSAGE,
                               "unknown member '%s' (expected type, contact_id or email, "
                               "cart_id, value, currency, device, lines, url, subject, at, id)",
                               key);
        }
    }
    return CRM_OK;
}

/* Applies one object: its result as JSON, or the code with err and field set. */
static int track_one(crm_http_req *rq, json_t *obj, json_t **out, crm_http_resp *rs,
                     crm_err *err)
{
    crm_track_result res;
    int rc = check_shape(obj, rs, err);
    if (rc == CRM_OK)
        rc = crm_track_apply_json(rq->k, obj, &res, err);
    if (rc == CRM_EINVAL || rc == CRM_ENOTFOUND) {
        rs->field = blame(err->msg, rs->field_text, sizeof rs->field_text);
        /* a contact_id naming no contact: the body is at fault, not the URL */
        return err->code = CRM_EINVAL;
    }
    if (rc != CRM_OK)
        return rc;
    const char *type = json_string_value(json_object_get(obj, "type"));
    *out = json_pack("{sssssIso}", "status",
                     res.outcome == CRM_TRACK_DUPLICATE ? "duplicate" : "stored", "type", type,
                     "contact_id", (json_int_t)res.contact_id, "cart_id",
                     res.cart_id ? json_integer(res.cart_id) : json_null());
    return *out ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

/* Refusals an event can earn (reported in its result; EEXISTS: the contact
 * its email would create is refused as a duplicate by the hygiene rules); any
 * other failure is the database's and fails the whole request, rolled back. */
static bool refusal(int rc) { return rc == CRM_EINVAL || rc == CRM_EUSAGE || rc == CRM_EEXISTS; }

/* counts: stored, duplicates, refused. */
static int batch_item(crm_http_req *rq, size_t index, json_t *obj, json_t *results,
                      int64_t counts[3], crm_err *err)
{
    crm_http_resp rs = {0};
    json_t *item = NULL;
    int rc = track_one(rq, obj, &item, &rs, err);
    if (rc != CRM_OK && !refusal(rc))
        return crm_err_prefix(err, "events[%zu]", index);
    if (rc != CRM_OK) {
        json_t *e = crm_http_error_body(rc, err->msg, rs.field, 0);
        item = e ? json_pack("{sIssso}", "index", (json_int_t)index, "status", "refused",
                             "error", json_incref(json_object_get(e, "error")))
                 : NULL;
        json_decref(e);
        crm_err_clear(err);
        counts[2]++;
    } else {
        counts[strcmp(json_string_value(json_object_get(item, "status")), "duplicate") == 0]++;
        json_object_set_new(item, "index", json_integer((json_int_t)index));
    }
    return item && json_array_append_new(results, item) == 0
               ? CRM_OK
               : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

static int track_batch(crm_http_req *rq, json_t *events, crm_http_resp *rs, crm_err *err)
{
    rs->field = "events";
    if (json_object_size(rq->body) != 1)
        return crm_err_set(err, CRM_EUSAGE, "a batch is {\"events\": [...]} and nothing else");
    if (!json_is_array(events) || json_array_size(events) == 0 ||
        json_array_size(events) > TRACK_BATCH_MAX)
        return crm_err_set(err, CRM_EUSAGE, "events must be an array of 1 to %d objects",
                           TRACK_BATCH_MAX);
    rs->field = NULL;
    int64_t counts[3] = {0, 0, 0};
    json_t *results = json_array(), *obj;
    size_t i;
    if (!results)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    json_array_foreach(events, i, obj) {
        int rc = batch_item(rq, i, obj, results, counts, err);
        if (rc != CRM_OK) {
            json_decref(results);
            return rc;
        }
    }
    rs->body = json_pack("{sIsIsIso}", "stored", (json_int_t)counts[0], "duplicates",
                         (json_int_t)counts[1], "refused", (json_int_t)counts[2], "results",
                         results);
    return rs->body ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

static int track(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    json_t *obj;
    int rc = crm_http_body_object(rq, &obj, err);
    if (rc != CRM_OK)
        return rc;
    json_t *events = json_object_get(obj, "events");
    return events ? track_batch(rq, events, rs, err) : track_one(rq, obj, &rs->body, rs, err);
}

/* A batch's items are only "objects" in its schema: a bad one is refused
 * alone, in the results, not the request. */
#define ONE_OF(a, b) "{\"oneOf\":[" a "," b "]}"
#define REF(x) "{\"$ref\":\"#/components/schemas/" x "\"}"

const crm_http_route crm_http_track_routes[] = {
    {"POST", "/v1/track", CRM_ROLE_INTEGRATION | CRM_ROLE_ADMIN, track,
     "inbound shop events: cart.updated and checkout.started store the kernel cart, "
     "page.viewed and email.opened|clicked an inbound interaction; each emits the event of its "
     "type. One object (refused whole: 400/422 naming the field) or {\"events\": [...]} "
     "(each stored, duplicate or refused with its index)",
     ONE_OF(REF("TrackEvent"), "{\"type\":\"object\",\"required\":[\"events\"],"
                               "\"additionalProperties\":false,\"properties\":{\"events\":"
                               "{\"type\":\"array\",\"minItems\":1,\"maxItems\":1000,\"items\":"
                               "{\"type\":\"object\"}}}}"),
     ONE_OF(REF("TrackResult"), REF("TrackBatchResult")), 200, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

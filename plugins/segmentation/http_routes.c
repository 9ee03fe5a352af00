/* segmentation plugin — its HTTP routes (SDK 1.4 register_route): the RFM
 * grid and a cell's members, the segments with their size over time and a
 * segment's members. Read-only, thin glue over rfm_cmd.c and segment_cmd.c:
 * the figures are the stored ones (`crm rfm refresh`, `crm segment refresh`
 * and the event handlers keep them current). */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"
#include "crm/http_json.h"

/* Query parameter `name` as an integer in [min, max]: def when absent
 * (required: refused when absent); CRM_EUSAGE naming it otherwise. */
static int query_int(crm_http_exchange *x, const char *name, int required, int64_t def,
                     int64_t min, int64_t max, int64_t *out)
{
    const char *t = crm_http_query(x, name);
    char *end;
    *out = t ? strtoll(t, &end, 10) : def;
    if ((!t && required) || (t && (!*t || *end || *out < min || *out > max)))
        return crm_http_error(x, CRM_EUSAGE, name, "%s: expected an integer in [%lld, %lld]",
                              name, (long long)min, (long long)max);
    return CRM_OK;
}

/* A host or plugin failure: its message (from crm_last_error). */
static int failed(crm_plugin_ctx *ctx, crm_http_exchange *x, int rc, const char *field)
{
    return crm_http_error(x, rc, field, "%s", crm_last_error(ctx));
}

static int get_rfm(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    json_t *out = NULL;
    int rc = seg_rfm_grid_json(ctx, &out);
    return rc == CRM_OK ? crm_http_reply_json(x, 0, out) : failed(ctx, x, rc, NULL);
}

/* The contacts of cell (r, f) with their stored scores, by contact id. */
static int get_rfm_members(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    int64_t r, f, after, limit;
    int rc = query_int(x, "r", 1, 0, 1, 5, &r);
    if (rc == CRM_OK)
        rc = query_int(x, "f", 1, 0, 1, 5, &f);
    if (rc == CRM_OK)
        rc = query_int(x, "cursor", 0, 0, 0, INT64_MAX, &after);
    if (rc == CRM_OK)
        rc = query_int(x, "limit", 0, 100, 1, 1000, &limit);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = seg_prep(ctx,
                            "SELECT s.contact_id, c.first_name, c.last_name, c.email, s.m,"
                            " s.segment FROM segmentation_rfm s LEFT JOIN contacts c ON c.id ="
                            " s.contact_id WHERE s.r = ?1 AND s.f = ?2 AND s.contact_id > ?3"
                            " ORDER BY s.contact_id LIMIT ?4",
                            4, r, f, after, limit + 1);
    if (!st)
        return failed(ctx, x, seg_fail_db(ctx, "listing the cell"), NULL);
    json_t *items = json_array();
    int64_t last = 0;
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW && (int64_t)json_array_size(items) < limit) {
        last = crm_sql_column_int64(st, 0);
        json_array_append_new(
            items, json_pack("{sI ss? ss? ss? sI sI sI ss?}", "id", (json_int_t)last,
                             "first_name", crm_sql_column_text(st, 1), "last_name",
                             crm_sql_column_text(st, 2), "email", crm_sql_column_text(st, 3), "r",
                             (json_int_t)r, "f", (json_int_t)f, "m",
                             (json_int_t)crm_sql_column_int64(st, 4), "segment",
                             crm_sql_column_text(st, 5)));
    }
    crm_sql_finalize(st);
    if (step < 0) {
        json_decref(items);
        return failed(ctx, x, seg_fail_db(ctx, "listing the cell"), NULL);
    }
    return crm_http_reply_json(x, 0, json_pack("{so so}", "items", items, "next_cursor",
                              step == CRM_SQL_ROW ? json_integer(last) : json_null()));
}

static int get_segments(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    int64_t points;
    json_t *out = NULL;
    int rc = query_int(x, "points", 0, 100, 1, 10000, &points);
    if (rc == CRM_OK && (rc = seg_segments_json(ctx, points, &out)) != CRM_OK)
        return failed(ctx, x, rc, NULL);
    return rc == CRM_OK ? crm_http_reply_json(x, 0, out) : rc;
}

static int get_segment_members(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    int64_t after, limit;
    json_t *out = NULL;
    int rc = query_int(x, "cursor", 0, 0, 0, INT64_MAX, &after);
    if (rc == CRM_OK)
        rc = query_int(x, "limit", 0, 100, 1, 1000, &limit);
    if (rc == CRM_OK &&
        (rc = seg_segment_members_json(ctx, crm_http_param(x, "name"), after, limit, &out)) !=
            CRM_OK)
        return failed(ctx, x, rc, "name");
    return rc == CRM_OK ? crm_http_reply_json(x, 0, out) : rc;
}

/* ---- registration ---------------------------------------------------------------- */

#define CONTACT_PROPS                                                                          \
    "\"id\":{\"type\":\"integer\"},\"first_name\":{\"type\":[\"string\",\"null\"]},"           \
    "\"last_name\":{\"type\":[\"string\",\"null\"]},\"email\":{\"type\":[\"string\",\"null\"]}"

static const crm_route_spec routes[] = {
    {"GET", "/v1/rfm", "*", get_rfm,
     "the RFM grid of `crm rfm grid`: contacts per (R, F) cell and per grid segment, as of the "
     "latest crm rfm refresh", NULL,
     "{\"type\":\"object\",\"required\":[\"as_of\",\"cells\",\"segments\",\"customers\","
     "\"revenue\",\"currency\"],\"properties\":{\"as_of\":{\"type\":[\"integer\",\"null\"]},"
     "\"cells\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"r\",\"f\","
     "\"count\",\"segment\"],\"properties\":{\"r\":{\"type\":\"integer\",\"minimum\":1,"
     "\"maximum\":5},\"f\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5},"
     "\"count\":{\"type\":\"integer\"},\"segment\":{\"type\":[\"string\",\"null\"]}}}},"
     "\"segments\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
     "\"segment\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
     "\"customers\":{\"type\":\"integer\"},\"revenue\":{\"type\":\"integer\","
     "\"description\":\"minor units\"}}}},\"customers\":{\"type\":\"integer\"},"
     "\"revenue\":{\"type\":\"integer\"},\"currency\":{\"type\":[\"string\",\"null\"]}}}",
     200},
    {"GET", "/v1/rfm/members", "*", get_rfm_members,
     "the contacts of one cell (query r and f, 1-5; cursor: the last id seen; limit)", NULL,
     "{\"type\":\"object\",\"required\":[\"items\",\"next_cursor\"],\"properties\":{"
     "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
     CONTACT_PROPS ",\"r\":{\"type\":\"integer\"},\"f\":{\"type\":\"integer\"},"
     "\"m\":{\"type\":\"integer\"},\"segment\":{\"type\":[\"string\",\"null\"]}}}},"
     "\"next_cursor\":{\"type\":[\"integer\",\"null\"]}}}",
     200},
    {"GET", "/v1/segments", "*", get_segments,
     "every declared segment with its size and its size after each membership change "
     "(query points: how many, default 100)", NULL,
     "{\"type\":\"object\",\"required\":[\"items\"],\"properties\":{\"items\":{\"type\":"
     "\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\",\"size\",\"history\"],"
     "\"properties\":{\"name\":{\"type\":\"string\"},\"label\":{\"type\":\"string\"},"
     "\"kind\":{\"enum\":[\"rfm\",\"rule\",\"lua\",\"static\"]},\"size\":{\"type\":"
     "\"integer\"},\"refreshed_as_of\":{\"type\":[\"integer\",\"null\"]},\"history\":{"
     "\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"at\":{\"type\":"
     "\"integer\"},\"size\":{\"type\":\"integer\"}}}}}}}}}",
     200},
    {"GET", "/v1/segments/{name}/members", "*", get_segment_members,
     "a segment's current members by contact id (cursor, limit)", NULL,
     "{\"type\":\"object\",\"required\":[\"segment\",\"items\",\"next_cursor\"],\"properties\":{"
     "\"segment\":{\"type\":\"string\"},\"items\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"object\",\"properties\":{" CONTACT_PROPS ",\"entered_at\":{\"type\":\"integer\"}}}},"
     "\"next_cursor\":{\"type\":[\"integer\",\"null\"]}}}",
     200},
};

int seg_routes_register(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, register_route))
        return CRM_OK; /* an older crm: the plugin works without its routes */
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = crm_register_route(ctx, &routes[i], NULL);
    return rc;
}

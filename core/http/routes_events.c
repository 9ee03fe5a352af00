/* GET /v1/events: the change feed. Events are the kernel's transactional
 * outbox (committed with their change), so a client that keeps the cursor
 * (the last id it saw) misses none and sees each once. */
#include <string.h>

#include "http/http.h"

#define FEED_MAX 1000

static int feed(crm_http_req *rq, crm_http_resp *rs, crm_err *err)
{
    int64_t cursor, limit;
    const char *type = crm_http_query(rq, "type");
    int rc = crm_http_query_int(rq, rs, "cursor", 0, 0, INT64_MAX, &cursor, err);
    if (rc == CRM_OK)
        rc = crm_http_query_int(rq, rs, "limit", 100, 1, FEED_MAX, &limit, err);
    if (rc != CRM_OK)
        return rc;
    /* type: an exact name or a prefix ending in ".*" ("contact.*") */
    sqlite3_stmt *st = crm_store_stmt(
        rq->k->store,
        "SELECT id, type, payload, source, created_at FROM events WHERE id > ? "
        "AND (?2 IS NULL OR type = ?2 OR (substr(?2, -2) = '.*' "
        "AND substr(type, 1, length(?2) - 1) = substr(?2, 1, length(?2) - 1))) "
        "ORDER BY id LIMIT ?3",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, cursor);
    crm_bind_text(st, 2, type);
    sqlite3_bind_int64(st, 3, limit);
    json_t *data = json_array();
    int64_t last = cursor;
    while (data && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *payload = (const char *)sqlite3_column_text(st, 2);
        json_t *p = json_loads(payload ? payload : "null", JSON_DECODE_ANY, NULL);
        last = sqlite3_column_int64(st, 0);
        json_array_append_new(
            data, json_pack("{sIssso*sssI}", "id", (json_int_t)last, "type",
                            (const char *)sqlite3_column_text(st, 1), "payload", p, "source",
                            (const char *)sqlite3_column_text(st, 3), "created_at",
                            (json_int_t)sqlite3_column_int64(st, 4)));
    }
    sqlite3_reset(st);
    if (!data)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        json_decref(data);
        return crm_store_error(rq->k->store, "reading the events", err);
    }
    rs->body = json_pack("{sosI}", "data", data, "next_cursor", (json_int_t)last);
    return CRM_OK;
}

const crm_http_route crm_http_event_routes[] = {
    {"GET", "/v1/events", CRM_ROLE_MANAGER | CRM_ROLE_ADMIN | CRM_ROLE_INTEGRATION, feed,
     "the change feed: events after cursor, oldest first (type: name or prefix.*); "
     "next_cursor is the last id returned",
     NULL,
     "{\"type\":\"object\",\"required\":[\"data\",\"next_cursor\"],\"properties\":{\"data\":"
     "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/Event\"}},\"next_cursor\":"
     "{\"type\":\"integer\"}}}",
     200, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

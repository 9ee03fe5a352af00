/* Stored first responses of POSTs (see idempotency.h). */
#include <stdlib.h>
#include <string.h>

#include "http/idempotency.h"

int crm_idem_find(crm_kernel *k, int64_t token_id, const char *key, const char *method,
                  const char *path, int *status, json_t **body, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "SELECT method, path, status, body FROM api_idempotency "
                                      "WHERE token_id = ? AND key = ?",
                                      err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, token_id);
    crm_bind_text(st, 2, key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? CRM_ENOTFOUND
                                 : crm_store_error(k->store, "reading idempotency keys", err);
    }
    if (strcmp((const char *)sqlite3_column_text(st, 0), method) != 0 ||
        strcmp((const char *)sqlite3_column_text(st, 1), path) != 0) {
        rc = crm_err_set(err, CRM_EINVAL,
                         "Idempotency-Key '%s' was used for %s %s; use a new key per request",
                         key, (const char *)sqlite3_column_text(st, 0),
                         (const char *)sqlite3_column_text(st, 1));
        sqlite3_reset(st);
        return rc;
    }
    *status = sqlite3_column_int(st, 2);
    *body = json_loads((const char *)sqlite3_column_text(st, 3), JSON_DECODE_ANY, NULL);
    sqlite3_reset(st);
    return CRM_OK;
}

int crm_idem_store(crm_kernel *k, int64_t token_id, const char *key, const char *method,
                   const char *path, int status, const json_t *body, crm_err *err)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
    if (!text)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO api_idempotency(token_id, key, method, path, status, body, created_at) "
        "VALUES(?, ?, ?, ?, ?, ?, ?)",
        err);
    int rc = st ? CRM_OK : err->code;
    if (st) {
        sqlite3_bind_int64(st, 1, token_id);
        crm_bind_text(st, 2, key);
        crm_bind_text(st, 3, method);
        crm_bind_text(st, 4, path);
        sqlite3_bind_int(st, 5, status);
        crm_bind_text(st, 6, text);
        sqlite3_bind_int64(st, 7, k->now);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = crm_store_error(k->store, "storing the idempotency key", err);
        sqlite3_reset(st);
    }
    free(text);
    return rc;
}

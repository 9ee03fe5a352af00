/* Shared by export.c and erase.c. Private to core/privacy. */
#ifndef CRM_CORE_PRIVACY_INT_H
#define CRM_CORE_PRIVACY_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "kernel.h"

/* Events whose payload names the contact (?1) as contact_id, keep_id or other_id. */
#define CRM_PRIVACY_EVENTS_SQL                                                                     \
    "SELECT id, type, payload, source, created_at FROM events"                                     \
    " WHERE json_extract(payload, '$.contact_id') = ?1 OR json_extract(payload, '$.keep_id') = ?1" \
    " OR json_extract(payload, '$.other_id') = ?1 ORDER BY id"

/* The current row as an object keyed by column name. */
json_t *crm_privacy_row_json(sqlite3_stmt *st);

/* Appends every row of `sql` (each parameter bound to id) to array. */
int crm_privacy_rows(crm_kernel *k, const char *sql, int64_t id, json_t *array, crm_err *err);

#endif

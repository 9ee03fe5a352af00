#include "events.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int crm_event_name_valid(const char *type)
{
    if (!type)
        return 0;
    const char *dot = strchr(type, '.');
    if (!dot || dot == type || !dot[1] || strchr(dot + 1, '.'))
        return 0;
    for (const char *p = type; *p; p++)
        if (p != dot && !(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    return 1;
}

int crm_event_emit(crm_kernel *k, const char *type, json_t *payload, int64_t *id_out,
                   crm_err *err)
{
    int rc = CRM_OK;
    char *text = NULL;
    if (!crm_event_name_valid(type)) {
        rc = crm_err_set(err, CRM_EUSAGE, "invalid event name '%s' (expected entity.verb)",
                         type ? type : "(null)");
        goto done;
    }
    if (crm_store_depth(k->store) == 0) {
        rc = crm_err_set(err, CRM_EUSAGE, "event %s emitted outside a transaction", type);
        goto done;
    }
    if (!json_object_get(payload, "dataver"))
        json_object_set_new(payload, "dataver", json_integer(CRM_EVENT_DATAVER));
    text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO events(type, payload, source, depth, created_at) VALUES(?,?,?,?,?)", err);
    if (!text || !st) {
        rc = text ? (err ? err->code : CRM_EDB) : crm_err_set(err, CRM_ENOMEM, "out of memory");
        goto done;
    }
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->actor ? k->actor : "kernel", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, k->event_depth);
    sqlite3_bind_int64(st, 5, k->now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot record event", err);
    else if (id_out)
        *id_out = sqlite3_last_insert_rowid(crm_store_db(k->store));
    sqlite3_reset(st);
done:
    free(text);
    json_decref(payload);
    return rc;
}

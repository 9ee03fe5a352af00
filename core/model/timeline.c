/* The 360° view: a contact's interactions, orders and lifecycle stage
 * changes merged in time order. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_util.h"

typedef struct entry {
    char kind[16]; /* "interaction" | "order" | "stage" */
    int64_t id;
    int64_t at;
} entry;

typedef struct entries {
    entry *v;
    size_t n;
} entries;

/* Ties on time sort by kind then id, as the contract says. */
#define TIMELINE_SQL                                                                               \
    "SELECT 'interaction' AS kind, id, occurred_at AS at FROM interactions "                       \
    "WHERE contact_id=?1 UNION ALL "                                                               \
    "SELECT 'order', id, placed_at FROM orders WHERE contact_id=?1 UNION ALL "                     \
    "SELECT 'stage', id, changed_at FROM contact_history WHERE contact_id=?1 "                     \
    "ORDER BY at, kind, id"

/* Collects the index first: loading each record reuses the statement cache,
 * which must not happen while this query is stepping. */
static int collect(crm_kernel *k, int64_t contact_id, entries *out, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, TIMELINE_SQL, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, contact_id);
    int rc, result = CRM_OK;
    while (result == CRM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        entry *grown = realloc(out->v, (out->n + 1) * sizeof *grown);
        if (!grown) {
            result = crm_err_set(err, CRM_ENOMEM, "out of memory");
            break;
        }
        out->v = grown;
        entry *e = &grown[out->n++];
        memset(e, 0, sizeof *e);
        strncpy(e->kind, (const char *)sqlite3_column_text(st, 0), sizeof e->kind - 1);
        e->id = sqlite3_column_int64(st, 1);
        e->at = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (result == CRM_OK && rc != SQLITE_DONE)
        result = crm_store_error(k->store, "cannot read the timeline", err);
    return result;
}

static int load_record(crm_kernel *k, const entry *e, json_t **record, crm_err *err)
{
    int rc;
    if (strcmp(e->kind, "stage") == 0)
        return crm_contact_history_get(k, e->id, record, err);
    if (strcmp(e->kind, "order") == 0) {
        crm_order o;
        rc = crm_order_get(k, e->id, &o, err);
        if (rc == CRM_OK)
            *record = crm_order_to_json(&o);
        crm_order_clear(&o);
    } else {
        crm_interaction i;
        rc = crm_interaction_get(k, e->id, &i, err);
        if (rc == CRM_OK)
            *record = crm_interaction_to_json(&i);
        crm_interaction_clear(&i);
    }
    return rc;
}

int crm_timeline(crm_kernel *k, int64_t contact_id, int (*fn)(json_t *item, void *ud), void *ud,
                 crm_err *err)
{
    entries list = {0};
    int rc = collect(k, contact_id, &list, err);
    for (size_t i = 0; rc == CRM_OK && i < list.n; i++) {
        json_t *record = NULL;
        rc = load_record(k, &list.v[i], &record, err);
        if (rc != CRM_OK)
            break;
        json_t *item =
            json_pack("{sssosIso}", "kind", list.v[i].kind, "at", crm_json_time(list.v[i].at),
                      "at_epoch", (json_int_t)list.v[i].at, "record", record);
        int stop = fn(item, ud);
        json_decref(item);
        if (stop)
            break;
    }
    free(list.v);
    return rc;
}

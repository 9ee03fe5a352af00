/* The 360° view: a contact's interactions, orders, lifecycle stage changes,
 * consents, tasks (at their due time) and the events plugins emitted about it
 * (segment entries and exits, churn alerts), merged in time order. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_util.h"
#include "util.h"

typedef struct entry {
    char kind[16]; /* "consent" | "event" | "interaction" | "message" | "order" | "stage" |
                      "task" */
    int64_t id;
    int64_t at;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

/* Ties on time sort by kind then id, as the contract says. The inner query
 * keeps the latest ?4 items (-1: all) in [?2, ?3]; the outer one puts them
 * back in time order. Plugin events are found through events_contact (a
 * partial index: contact_id = ?1 implies its IS NOT NULL, and the source
 * term is written as the index has it). */
#define TIMELINE_SQL                                                                               \
    "SELECT kind, id, at FROM ("                                                                   \
    "SELECT 'interaction' AS kind, id, occurred_at AS at FROM interactions "                       \
    "WHERE contact_id=?1 AND occurred_at BETWEEN ?2 AND ?3 UNION ALL "                             \
    "SELECT 'order', id, placed_at FROM orders WHERE contact_id=?1 "                               \
    "AND placed_at BETWEEN ?2 AND ?3 UNION ALL "                                                   \
    "SELECT 'stage', id, changed_at FROM contact_history WHERE contact_id=?1 "                     \
    "AND changed_at BETWEEN ?2 AND ?3 UNION ALL "                                                  \
    "SELECT 'consent', id, recorded_at FROM consents WHERE contact_id=?1 "                         \
    "AND recorded_at BETWEEN ?2 AND ?3 UNION ALL "                                                 \
    "SELECT 'task', id, due_at FROM tasks WHERE contact_id=?1 "                                    \
    "AND due_at BETWEEN ?2 AND ?3 UNION ALL "                                                      \
    "SELECT 'event', id, created_at FROM events WHERE contact_id=?1 AND source <> 'kernel' "       \
    "AND created_at BETWEEN ?2 AND ?3 UNION ALL "                                                  \
    "SELECT 'message', id, created_at FROM messages WHERE contact_id=?1 AND status <> 'sent' "     \
    "AND created_at BETWEEN ?2 AND ?3 "                                                            \
    "ORDER BY at DESC, kind DESC, id DESC LIMIT ?4) ORDER BY at, kind, id"

/* Collects the index first: loading each record reuses the statement cache,
 * which must not happen while this query is stepping. */
static int collect(crm_kernel *k, int64_t contact_id, const crm_timeline_opts *o, entries *out,
                   crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, TIMELINE_SQL, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, contact_id);
    sqlite3_bind_int64(st, 2, o && o->since ? o->since : INT64_MIN);
    sqlite3_bind_int64(st, 3, o && o->until ? o->until : INT64_MAX);
    sqlite3_bind_int64(st, 4, o && o->limit > 0 ? o->limit : -1);
    int rc, result = CRM_OK;
    while (result == CRM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (CRM_ARRAY_RESERVE(out->v, out->cap, out->n + 1) != CRM_OK) {
            result = crm_err_set(err, CRM_ENOMEM, "out of memory");
            break;
        }
        entry *e = &out->v[out->n++];
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

/* One row of `sql` (?1 = id) as an object of its columns: recorded_at and
 * created_at as ISO 8601, payload parsed as JSON. */
static int row_json(crm_kernel *k, const char *sql, int64_t id, json_t **out, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? crm_err_set(err, CRM_ENOTFOUND, "timeline: record %lld is gone",
                                               (long long)id)
                                 : crm_store_error(k->store, "cannot read the timeline", err);
    }
    json_t *o = json_object();
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        json_t *v;
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            v = json_null();
        else if (!strcmp(name, "recorded_at") || !strcmp(name, "created_at"))
            v = crm_json_time(sqlite3_column_int64(st, i));
        else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
            v = json_integer(sqlite3_column_int64(st, i));
        else if (!strcmp(name, "payload"))
            v = json_loads((const char *)sqlite3_column_text(st, i), 0, NULL);
        else
            v = json_string((const char *)sqlite3_column_text(st, i));
        json_object_set_new(o, name, v ? v : json_null());
    }
    sqlite3_reset(st);
    *out = o;
    return CRM_OK;
}

static int load_record(crm_kernel *k, const entry *e, json_t **record, crm_err *err)
{
    int rc;
    if (strcmp(e->kind, "stage") == 0)
        return crm_contact_history_get(k, e->id, record, err);
    if (strcmp(e->kind, "task") == 0) {
        crm_task t;
        rc = crm_task_get(k, e->id, &t, err);
        if (rc == CRM_OK)
            *record = crm_task_to_json(&t);
        crm_task_clear(&t);
    } else if (strcmp(e->kind, "order") == 0) {
        crm_order o;
        rc = crm_order_get(k, e->id, &o, err);
        if (rc == CRM_OK)
            *record = crm_order_to_json(&o);
        crm_order_clear(&o);
    } else if (strcmp(e->kind, "consent") == 0) {
        rc = row_json(k,
                      "SELECT id, contact_id, channel, purpose, status, recorded_at, source "
                      "FROM consents WHERE id=?1",
                      e->id, record, err);
    } else if (strcmp(e->kind, "message") == 0) {
        /* a message not sent (yet): waiting for quiet hours, held, stopped */
        rc = row_json(k,
                      "SELECT id, channel, purpose, template, status, reason, created_at,"
                      " scheduled_at FROM messages WHERE id=?1",
                      e->id, record, err);
    } else if (strcmp(e->kind, "event") == 0) {
        rc = row_json(k, "SELECT id, type, source, payload, created_at FROM events WHERE id=?1",
                      e->id, record, err);
    } else {
        crm_interaction i;
        rc = crm_interaction_get(k, e->id, &i, err);
        if (rc == CRM_OK)
            *record = crm_interaction_to_json(&i);
        crm_interaction_clear(&i);
    }
    return rc;
}

int crm_timeline_query(crm_kernel *k, int64_t contact_id, const crm_timeline_opts *o,
                       int (*fn)(json_t *item, void *ud), void *ud, crm_err *err)
{
    entries list = {0};
    int rc = collect(k, contact_id, o, &list, err);
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

int crm_timeline(crm_kernel *k, int64_t contact_id, int (*fn)(json_t *item, void *ud), void *ud,
                 crm_err *err)
{
    return crm_timeline_query(k, contact_id, NULL, fn, ud, err);
}

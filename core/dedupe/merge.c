/* Contact merge and unmerge with history (contact_merges). Rows are
 * snapshotted column by column as JSON, so unmerge restores exactly. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "events.h"
#include "model.h"
#include "model/model_util.h"

/* Records that follow their contact: moved to KEEP, moved back on unmerge. */
static const struct {
    const char *key;
    const char *select;  /* ?1 = contact */
    const char *move;    /* ?1 = to, ?2 = from */
    const char *back;    /* ?1 = other, ?2 = record id, ?3 = keep */
    const char *check;   /* ?1 = record id, ?2 = keep: 1 when still there */
} movable[] = {
    {"orders", "SELECT id FROM orders WHERE contact_id=?1",
     "UPDATE orders SET contact_id=?1 WHERE contact_id=?2",
     "UPDATE orders SET contact_id=?1 WHERE id=?2 AND contact_id=?3",
     "SELECT count(*) FROM orders WHERE id=?1 AND contact_id=?2"},
    {"interactions", "SELECT id FROM interactions WHERE contact_id=?1",
     "UPDATE interactions SET contact_id=?1 WHERE contact_id=?2",
     "UPDATE interactions SET contact_id=?1 WHERE id=?2 AND contact_id=?3",
     "SELECT count(*) FROM interactions WHERE id=?1 AND contact_id=?2"},
    {"consents", "SELECT id FROM consents WHERE contact_id=?1",
     "UPDATE consents SET contact_id=?1 WHERE contact_id=?2",
     "UPDATE consents SET contact_id=?1 WHERE id=?2 AND contact_id=?3",
     "SELECT count(*) FROM consents WHERE id=?1 AND contact_id=?2"},
    {"contact_history", "SELECT id FROM contact_history WHERE contact_id=?1",
     "UPDATE contact_history SET contact_id=?1 WHERE contact_id=?2",
     "UPDATE contact_history SET contact_id=?1 WHERE id=?2 AND contact_id=?3",
     "SELECT count(*) FROM contact_history WHERE id=?1 AND contact_id=?2"},
    {"tasks", "SELECT id FROM tasks WHERE contact_id=?1",
     "UPDATE tasks SET contact_id=?1 WHERE contact_id=?2",
     "UPDATE tasks SET contact_id=?1 WHERE id=?2 AND contact_id=?3",
     "SELECT count(*) FROM tasks WHERE id=?1 AND contact_id=?2"},
};
#define N_MOVABLE (sizeof movable / sizeof movable[0])

/* ---- small SQL helpers ----------------------------------------------------------- */

static int exec2(crm_kernel *k, const char *sql, int64_t a, int64_t b, int64_t c, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    int n = sqlite3_bind_parameter_count(st);
    int64_t v[3] = {a, b, c};
    for (int i = 0; i < n && i < 3; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "merge failed", err);
}

static int query_int(crm_kernel *k, const char *sql, int64_t a, int64_t b, int64_t *out,
                     crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1)
        sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                : crm_store_error(k->store, "query failed", err);
}

/* Column values of the first column of each row, as a JSON array (ints or strings). */
static int query_list(crm_kernel *k, const char *sql, int64_t a, int64_t b, json_t *arr,
                      crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1)
        sqlite3_bind_int64(st, 2, b);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, sqlite3_column_type(st, 0) == SQLITE_INTEGER
                                       ? json_integer(sqlite3_column_int64(st, 0))
                                       : json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "query failed", err);
}

/* ---- row snapshots ------------------------------------------------------------------ */

static json_t *column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
    case SQLITE_NULL: return json_null();
    default: return json_string((const char *)sqlite3_column_text(st, i));
    }
}

static int row_json(crm_kernel *k, int64_t id, json_t **out, crm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT * FROM contacts WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++)
            json_object_set_new(*out, sqlite3_column_name(st, i), column_json(st, i));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return crm_err_set(err, CRM_ENOTFOUND, "no contact with id %lld", (long long)id);
    return rc == SQLITE_ROW ? CRM_OK : crm_store_error(k->store, "cannot read contact", err);
}

static void bind_json(sqlite3_stmt *st, int i, json_t *v)
{
    if (json_is_integer(v))
        sqlite3_bind_int64(st, i, json_integer_value(v));
    else if (json_is_real(v))
        sqlite3_bind_double(st, i, json_real_value(v));
    else if (json_is_string(v))
        sqlite3_bind_text(st, i, json_string_value(v), -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Writes a snapshot back: INSERT (same id) or UPDATE of every column. */
static int row_restore(crm_kernel *k, json_t *row, bool insert, crm_err *err)
{
    char sql[4096], vals[1024];
    size_t n = 0, m = 0;
    const char *key;
    json_t *v;
    n += (size_t)snprintf(sql, sizeof sql, insert ? "INSERT INTO contacts(" : "UPDATE contacts SET ");
    int cols = 0;
    json_object_foreach(row, key, v) {
        if (!insert && strcmp(key, "id") == 0)
            continue;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s%s", cols ? "," : "", key,
                              insert ? "" : "=?");
        m += (size_t)snprintf(vals + m, sizeof vals - m, "%s?", cols ? "," : "");
        cols++;
    }
    snprintf(sql + n, sizeof sql - n, insert ? ") VALUES(%s)" : " WHERE id=?", vals);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL) != SQLITE_OK)
        return crm_store_error(k->store, "cannot restore contact", err);
    int i = 1;
    json_object_foreach(row, key, v) {
        if (insert || strcmp(key, "id") != 0)
            bind_json(st, i++, v);
    }
    if (!insert)
        bind_json(st, i, json_object_get(row, "id"));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot restore contact", err);
}

/* ---- merge --------------------------------------------------------------------------- */

static bool prefers(const char *const *prefer, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = strncmp(prefer[i], "other:", 6) == 0 ? prefer[i] + 6 : prefer[i];
        if (strcmp(p, field) == 0)
            return true;
    }
    return false;
}

static int check_prefer(const char *const *prefer, size_t n, crm_err *err)
{
    crm_contact probe = {0};
    for (size_t i = 0; i < n; i++) {
        const char *p = strncmp(prefer[i], "other:", 6) == 0 ? prefer[i] + 6 : prefer[i];
        if (!crm_contact_field_ptr(&probe, p))
            return crm_err_set(err, CRM_EUSAGE,
                               "--prefer '%s': '%s' is not a contact field (e.g. "
                               "other:email,other:phone)",
                               prefer[i], p);
    }
    return CRM_OK;
}

/* KEEP's empty fields from OTHER, and OTHER's value for preferred fields. */
static int field_changes(crm_contact *keep, crm_contact *other, const char *const *prefer,
                         size_t n_prefer, crm_contact *changes, json_t *filled)
{
    int n = 0;
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        char *kv = *crm_contact_field_ptr(keep, f->name);
        char *ov = *crm_contact_field_ptr(other, f->name);
        if (!ov || crm_str_equal(kv, ov) || (kv && !prefers(prefer, n_prefer, f->name)))
            continue;
        *crm_contact_field_ptr(changes, f->name) = strdup(ov);
        json_array_append_new(filled, json_string(f->name));
        n++;
    }
    return n;
}

static int move_records(crm_kernel *k, int64_t keep, int64_t other, json_t *moved,
                        crm_err *err)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < N_MOVABLE; i++) {
        json_t *ids = json_array();
        json_object_set_new(moved, movable[i].key, ids);
        rc = query_list(k, movable[i].select, other, 0, ids, err);
        if (rc == CRM_OK)
            rc = exec2(k, movable[i].move, keep, other, 0, err);
    }
    return rc;
}

/* OTHER's tags and custom values (for restore) and those KEEP gains. */
static int move_extras(crm_kernel *k, int64_t keep, int64_t other, json_t *moved, crm_err *err)
{
    json_t *tags = json_array(), *added = json_array(), *cnames = json_array();
    json_object_set_new(moved, "other_tags", tags);
    json_object_set_new(moved, "tags_added", added);
    json_object_set_new(moved, "custom_added", cnames);
    int rc = query_list(k, "SELECT tag FROM contact_tags WHERE contact_id=?1", other, 0, tags,
                        err);
    if (rc == CRM_OK)
        rc = query_list(k,
                        "SELECT tag FROM contact_tags WHERE contact_id=?1 AND tag NOT IN "
                        "(SELECT tag FROM contact_tags WHERE contact_id=?2)",
                        other, keep, added, err);
    if (rc == CRM_OK)
        rc = query_list(k,
                        "SELECT name FROM custom_values WHERE entity='contact' AND entity_id=?1 "
                        "AND name NOT IN (SELECT name FROM custom_values WHERE "
                        "entity='contact' AND entity_id=?2)",
                        other, keep, cnames, err);
    if (rc == CRM_OK)
        rc = exec2(k, "INSERT OR IGNORE INTO contact_tags(contact_id, tag) "
                      "SELECT ?1, tag FROM contact_tags WHERE contact_id=?2",
                   keep, other, 0, err);
    if (rc == CRM_OK)
        rc = exec2(k, "INSERT OR IGNORE INTO custom_values(entity, entity_id, name, value) "
                      "SELECT 'contact', ?1, name, value FROM custom_values "
                      "WHERE entity='contact' AND entity_id=?2",
                   keep, other, 0, err);
    return rc;
}

static json_t *custom_json(const crm_contact *c)
{
    json_t *o = json_object();
    for (size_t i = 0; i < c->n_custom; i++)
        json_object_set_new(o, c->custom[i].key, json_string(c->custom[i].value));
    return o;
}

static int delete_other(crm_kernel *k, int64_t other, crm_err *err)
{
    static const char *const sql[] = {
        "DELETE FROM contact_tags WHERE contact_id=?",
        "DELETE FROM custom_values WHERE entity='contact' AND entity_id=?",
        "DELETE FROM contacts WHERE id=?",
    };
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof sql / sizeof sql[0]; i++)
        rc = crm_exec_id(k, sql[i], other, err);
    return rc;
}

static int record_merge(crm_kernel *k, int64_t keep, int64_t other, json_t *other_row,
                        json_t *keep_before, json_t *moved, int64_t *merge_id, crm_err *err)
{
    json_t *keep_after = NULL;
    int rc = row_json(k, keep, &keep_after, err);
    char *texts[4] = {json_dumps(other_row, JSON_COMPACT), json_dumps(keep_before, JSON_COMPACT),
                      keep_after ? json_dumps(keep_after, JSON_COMPACT) : NULL,
                      json_dumps(moved, JSON_COMPACT)};
    sqlite3_stmt *st = rc == CRM_OK ? crm_store_stmt(k->store,
        "INSERT INTO contact_merges(keep_id, other_id, other_row, keep_before, keep_after,"
        " moved, created_at) VALUES(?,?,?,?,?,?,?)", err) : NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, keep);
        sqlite3_bind_int64(st, 2, other);
        for (int i = 0; i < 4; i++)
            crm_bind_text(st, 3 + i, texts[i]);
        sqlite3_bind_int64(st, 7, k->now);
        rc = sqlite3_step(st) == SQLITE_DONE ? CRM_OK
                                             : crm_store_error(k->store, "cannot record merge", err);
        sqlite3_reset(st);
        *merge_id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    } else if (rc == CRM_OK) {
        rc = err->code;
    }
    for (int i = 0; i < 4; i++)
        free(texts[i]);
    json_decref(keep_after);
    return rc;
}

static int do_merge(crm_kernel *k, int64_t keep, int64_t other, const char *const *prefer,
                    size_t n_prefer, int64_t *merge_id, crm_err *err)
{
    crm_contact ck = {0}, co = {0}, changes = {0};
    json_t *other_row = NULL, *keep_before = NULL, *moved = json_object();
    int rc = crm_contact_get(k, keep, &ck, err);
    if (rc == CRM_OK)
        rc = crm_contact_get(k, other, &co, err);
    if (rc == CRM_OK)
        rc = row_json(k, other, &other_row, err);
    if (rc == CRM_OK)
        rc = row_json(k, keep, &keep_before, err);
    if (rc == CRM_OK) {
        json_object_set_new(moved, "other_custom", custom_json(&co));
        json_t *filled = json_array();
        json_object_set_new(moved, "fields_filled", filled);
        field_changes(&ck, &co, prefer, n_prefer, &changes, filled);
        rc = move_records(k, keep, other, moved, err);
    }
    if (rc == CRM_OK)
        rc = move_extras(k, keep, other, moved, err);
    if (rc == CRM_OK)
        rc = delete_other(k, other, err); /* first: OTHER's email may move to KEEP */
    if (rc == CRM_OK && json_array_size(json_object_get(moved, "fields_filled")))
        rc = crm_contact_update(k, keep, &changes, err);
    /* The merged person is as far on the ladder as either of the two was. */
    if (rc == CRM_OK && !prefers(prefer, n_prefer, "lifecycle_stage") && co.lifecycle_stage) {
        int64_t hist = 0;
        rc = crm_lifecycle_merged(k, keep, co.lifecycle_stage, other, &hist, err);
        if (rc == CRM_OK && hist)
            json_object_set_new(moved, "stage_history", json_integer(hist));
    }
    if (rc == CRM_OK)
        rc = record_merge(k, keep, other, other_row, keep_before, moved, merge_id, err);
    crm_contact_clear(&ck);
    crm_contact_clear(&co);
    crm_contact_clear(&changes);
    json_decref(other_row);
    json_decref(keep_before);
    json_decref(moved);
    return rc;
}

int crm_contact_merge(crm_kernel *k, int64_t keep, int64_t other, const char *const *prefer,
                      size_t n_prefer, int64_t *merge_id, crm_err *err)
{
    *merge_id = 0;
    if (keep == other)
        return crm_err_set(err, CRM_EUSAGE, "cannot merge contact %lld into itself",
                           (long long)keep);
    int rc = check_prefer(prefer, n_prefer, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = do_merge(k, keep, other, prefer, n_prefer, merge_id, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "contact.merged",
                            json_pack("{sIsIsI}", "keep_id", (json_int_t)keep, "other_id",
                                      (json_int_t)other, "merge_id", (json_int_t)*merge_id),
                            NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        *merge_id = 0;
        return rc;
    }
    return crm_kernel_commit(k, err);
}

/* ---- unmerge ----------------------------------------------------------------------------- */

typedef struct merge_row {
    int64_t keep, other;
    json_t *other_row, *keep_before, *keep_after, *moved;
    bool undone;
} merge_row;

static void merge_row_free(merge_row *m)
{
    json_decref(m->other_row);
    json_decref(m->keep_before);
    json_decref(m->keep_after);
    json_decref(m->moved);
}

static int load_merge(crm_kernel *k, int64_t id, merge_row *m, crm_err *err)
{
    memset(m, 0, sizeof *m);
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT keep_id, other_id, other_row, keep_before, keep_after, moved, unmerged_at "
        "FROM contact_merges WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = CRM_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        m->keep = sqlite3_column_int64(st, 0);
        m->other = sqlite3_column_int64(st, 1);
        json_t **slots[] = {&m->other_row, &m->keep_before, &m->keep_after, &m->moved};
        for (int i = 0; i < 4; i++)
            *slots[i] = json_loads((const char *)sqlite3_column_text(st, 2 + i), 0, NULL);
        m->undone = sqlite3_column_type(st, 6) != SQLITE_NULL;
    } else {
        rc = crm_err_set(err, CRM_ENOTFOUND, "no merge with id %lld (see crm contact merges)",
                         (long long)id);
    }
    sqlite3_reset(st);
    if (rc == CRM_OK && (!m->other_row || !m->keep_before || !m->keep_after || !m->moved))
        rc = crm_err_set(err, CRM_EINTERNAL, "merge %lld: history row is unreadable",
                         (long long)id);
    return rc;
}

/* Why unmerge is refused, or CRM_OK. */
static int check_unmerge(crm_kernel *k, int64_t id, const merge_row *m, crm_err *err)
{
    int64_t n = 0;
    if (m->undone)
        return crm_err_set(err, CRM_EINVAL, "merge %lld was already undone", (long long)id);
    int rc = query_int(k,
                       "SELECT coalesce(max(id), 0) FROM contact_merges WHERE id > ?1 AND "
                       "unmerged_at IS NULL AND (keep_id = ?2 OR other_id = ?2)",
                       id, m->keep, &n, err);
    if (rc == CRM_OK && n)
        return crm_err_set(err, CRM_EINVAL,
                           "contact %lld was merged again later (merge %lld): unmerge that first",
                           (long long)m->keep, (long long)n);
    if (rc == CRM_OK)
        rc = query_int(k, "SELECT count(*) FROM contacts WHERE id=?1", m->other, 0, &n, err);
    if (rc == CRM_OK && n)
        return crm_err_set(err, CRM_EINVAL, "contact id %lld is in use again: cannot restore it",
                           (long long)m->other);
    json_t *now = NULL;
    if (rc == CRM_OK)
        rc = row_json(k, m->keep, &now, err);
    bool same = rc == CRM_OK && json_equal(now, m->keep_after);
    json_decref(now);
    if (rc == CRM_OK && !same)
        return crm_err_set(err, CRM_EINVAL,
                           "contact %lld changed since the merge: unmerge would lose that change",
                           (long long)m->keep);
    for (size_t i = 0; rc == CRM_OK && i < N_MOVABLE; i++) {
        size_t j;
        json_t *v;
        json_array_foreach(json_object_get(m->moved, movable[i].key), j, v) {
            rc = query_int(k, movable[i].check, json_integer_value(v), m->keep, &n, err);
            if (rc == CRM_OK && !n)
                return crm_err_set(err, CRM_EINVAL,
                                   "%s record %lld no longer belongs to contact %lld",
                                   movable[i].key, (long long)json_integer_value(v),
                                   (long long)m->keep);
        }
    }
    return rc;
}

static int for_each_text(crm_kernel *k, const char *sql, int64_t id, json_t *list,
                         const char *extra, crm_err *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
        if (!st)
            return err->code;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, json_string_value(v), -1, SQLITE_TRANSIENT);
        if (extra)
            sqlite3_bind_text(st, 3, extra, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return crm_store_error(k->store, "unmerge failed", err);
    }
    return CRM_OK;
}

static int restore_extras(crm_kernel *k, const merge_row *m, crm_err *err)
{
    json_t *mv = m->moved;
    int rc = for_each_text(k, "DELETE FROM contact_tags WHERE contact_id=?1 AND tag=?2", m->keep,
                           json_object_get(mv, "tags_added"), NULL, err);
    if (rc == CRM_OK)
        rc = for_each_text(k,
                           "DELETE FROM custom_values WHERE entity='contact' AND entity_id=?1 "
                           "AND name=?2",
                           m->keep, json_object_get(mv, "custom_added"), NULL, err);
    if (rc == CRM_OK)
        rc = for_each_text(k, "INSERT INTO contact_tags(contact_id, tag) VALUES(?1, ?2)",
                           m->other, json_object_get(mv, "other_tags"), NULL, err);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(mv, "other_custom"), name, v) {
        json_t *one = json_pack("[s]", name);
        if (rc == CRM_OK)
            rc = for_each_text(k,
                               "INSERT INTO custom_values(entity, entity_id, name, value) "
                               "VALUES('contact', ?1, ?2, ?3)",
                               m->other, one, json_string_value(v), err);
        json_decref(one);
    }
    return rc;
}

static int restore_records(crm_kernel *k, const merge_row *m, crm_err *err)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < N_MOVABLE; i++) {
        size_t j;
        json_t *v;
        json_array_foreach(json_object_get(m->moved, movable[i].key), j, v) {
            rc = exec2(k, movable[i].back, m->other, json_integer_value(v), m->keep, err);
            if (rc != CRM_OK)
                break;
        }
    }
    return rc;
}

int crm_contact_unmerge(crm_kernel *k, int64_t merge_id, crm_err *err)
{
    merge_row m;
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = load_merge(k, merge_id, &m, err);
    if (rc == CRM_OK)
        rc = check_unmerge(k, merge_id, &m, err);
    if (rc == CRM_OK)
        rc = row_restore(k, m.keep_before, false, err); /* frees OTHER's email first */
    if (rc == CRM_OK)
        rc = row_restore(k, m.other_row, true, err);
    if (rc == CRM_OK)
        rc = restore_records(k, &m, err);
    if (rc == CRM_OK)
        rc = restore_extras(k, &m, err);
    json_t *hist = json_object_get(m.moved, "stage_history"); /* the stage the merge moved */
    if (rc == CRM_OK && json_is_integer(hist))
        rc = crm_exec_id(k, "DELETE FROM contact_history WHERE id=?", json_integer_value(hist),
                         err);
    if (rc == CRM_OK)
        rc = crm_exec_id(k, "UPDATE contact_merges SET unmerged_at=strftime('%s','now') "
                            "WHERE id=?", merge_id, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "contact.unmerged",
                            json_pack("{sIsIsI}", "keep_id", (json_int_t)m.keep, "other_id",
                                      (json_int_t)m.other, "merge_id", (json_int_t)merge_id),
                            NULL, err);
    merge_row_free(&m);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

int crm_contact_merges(crm_kernel *k, int64_t id, int (*fn)(void *json, void *ud), void *ud,
                       crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT id, keep_id, other_id, other_row, moved, created_at, unmerged_at "
        "FROM contact_merges WHERE ?1 = 0 OR keep_id = ?1 ORDER BY id DESC", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_pack("{sIsIsI}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                              "keep_id", (json_int_t)sqlite3_column_int64(st, 1), "other_id",
                              (json_int_t)sqlite3_column_int64(st, 2));
        json_object_set_new(o, "other", json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL));
        json_object_set_new(o, "moved", json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL));
        json_object_set_new(o, "created_at", crm_json_time(sqlite3_column_int64(st, 5)));
        json_object_set_new(o, "unmerged_at", crm_json_time(sqlite3_column_int64(st, 6)));
        int stop = fn(o, ud);
        json_decref(o);
        if (stop)
            break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                : crm_store_error(k->store, "cannot list", err);
}

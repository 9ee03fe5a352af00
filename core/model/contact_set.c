/* Named sets of contact ids for one command (crm contact list and crm
 * export contacts with --segment, --consent): a TEMP table of the
 * connection, so the listing filters in SQL and pages as usual. */
#include <stdio.h>

#include "model.h"
#include "model_util.h"

#define CREATE_SETS                                                                         \
    "CREATE TEMP TABLE IF NOT EXISTS crm_contact_sets(name TEXT NOT NULL,"                   \
    " contact_id INTEGER NOT NULL, PRIMARY KEY(name, contact_id)) WITHOUT ROWID"

/* Creates the table and empties set `name`, inside the open transaction. */
static int reset_set(crm_kernel *k, const char *name, crm_err *err)
{
    int rc = crm_store_exec(k->store, CREATE_SETS, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "DELETE FROM temp.crm_contact_sets WHERE name = ?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? CRM_OK
                                         : crm_store_error(k->store, "cannot reset a set", err);
    sqlite3_reset(st);
    return rc;
}

static int finish(crm_kernel *k, int rc, crm_err *err)
{
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

int crm_contact_set_ids(crm_kernel *k, const char *name, const int64_t *ids, size_t n,
                        crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = reset_set(k, name, err);
    sqlite3_stmt *st = rc == CRM_OK ? crm_store_stmt(k->store,
                                                     "INSERT OR IGNORE INTO temp.crm_contact_sets"
                                                     "(name, contact_id) VALUES(?, ?)",
                                                     err)
                                    : NULL;
    if (rc == CRM_OK && !st)
        rc = err ? err->code : CRM_EDB;
    for (size_t i = 0; rc == CRM_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot store a contact set", err);
        sqlite3_reset(st);
    }
    return finish(k, rc, err);
}

/* The latest record of the pair at or before ?4 is a grant: no record of
 * the pair comes after it (recorded_at, then id) by ?4. */
#define CONSENT_SET_SQL                                                                     \
    "INSERT OR IGNORE INTO temp.crm_contact_sets(name, contact_id)"                          \
    " SELECT ?1, x.contact_id FROM consents x WHERE x.channel = ?2 AND x.purpose = ?3"       \
    " AND x.recorded_at <= ?4 AND x.status = 'granted' AND NOT EXISTS ("                     \
    "  SELECT 1 FROM consents y WHERE y.contact_id = x.contact_id AND y.channel = x.channel" \
    "  AND y.purpose = x.purpose AND y.recorded_at <= ?4 AND (y.recorded_at > x.recorded_at" \
    "  OR (y.recorded_at = x.recorded_at AND y.id > x.id)))"

int crm_contact_set_consent(crm_kernel *k, const char *name, const char *channel,
                            const char *purpose, int64_t as_of, int64_t *count, crm_err *err)
{
    if (count)
        *count = 0;
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = reset_set(k, name, err);
    sqlite3_stmt *st = rc == CRM_OK ? crm_store_stmt(k->store, CONSENT_SET_SQL, err) : NULL;
    if (rc == CRM_OK && !st)
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, as_of);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot select the consents", err);
        else if (count)
            *count = sqlite3_changes(crm_store_db(k->store));
        sqlite3_reset(st);
    }
    return finish(k, rc, err);
}

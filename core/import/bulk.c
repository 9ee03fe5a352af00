/* Bulk load: an import into an empty table, or one with fewer rows than
 * the input has lines, builds the secondary indexes its own look-ups never
 * read after the rows, with one sort each, instead of a random B-tree
 * insert per row and index.
 *
 * The drop and its record (bulk_load_indexes: name, definition, import)
 * commit together, and so do the rebuild and the record's removal, so the
 * database is always either complete or listed there. A load killed in
 * between leaves the list behind: crm_import_recover, run by every kernel
 * open, rebuilds it once the import's process is gone. Unique indexes are
 * never dropped (they are the import's duplicate checks), nor those the
 * duplicate rules or the import's look-ups read. */
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

/* Per entity: the indexes nothing in its import reads (checked against
 * crm_dedupe_match's and the handlers' queries) and whose keys arrive in
 * random order. Left in place: those whose keys grow with the ids (lines by
 * order, a contact's own events: appended at the right edge, cheaper than a
 * sort) and events_contact, which holds no kernel event. */
static const struct {
    const char *entity;
    const char *const indexes[8];
} droppable[] = {
    {"contacts", {"contacts_company", "contact_tags_tag"}},
    {"orders", {"orders_contact", "orders_placed", "events_contact_id", "contact_history_contact"}},
    {"interactions", {"interactions_contact", "events_contact_id"}},
};

static int step_all(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, what, err);
}

/* *rows: at least the rows of the entity's table (its highest id, read
 * from the end of the table's B-tree: no count). */
static int table_rows(crm_kernel *k, const char *table, int64_t *rows, crm_err *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM %s", table);
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    int rc = sqlite3_step(st);
    *rows = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CRM_OK : crm_store_error(k->store, "cannot read", err);
}

/* Records index `name` (when it exists) for import_id, then drops it. */
static int drop_one(crm_kernel *k, const char *name, int64_t import_id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "INSERT INTO bulk_load_indexes(name, sql, import_id) SELECT name, sql, ?2 "
        "FROM sqlite_master WHERE type='index' AND name=?1 AND sql IS NOT NULL", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, import_id);
    int rc = step_all(k, st, "cannot record a bulk load", err);
    if (rc != CRM_OK || sqlite3_changes(crm_store_db(k->store)) == 0)
        return rc;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP INDEX %s", name); /* a name of the table above */
    return crm_store_exec(k->store, sql, err);
}

/* A load at least as large as the table: rebuilding an index sorts every
 * row once, which costs less than inserting as many rows at random places
 * (a smaller load into a large table keeps its indexes). */
int imp_bulk_begin(crm_kernel *k, const imp_entity *ent, int64_t import_id, int64_t lines,
                   bool *on, crm_err *err)
{
    *on = false;
    size_t e = 0;
    while (e < sizeof droppable / sizeof droppable[0] && strcmp(droppable[e].entity, ent->name))
        e++;
    if (e == sizeof droppable / sizeof droppable[0] || !import_id)
        return CRM_OK;
    int64_t rows;
    int rc = table_rows(k, ent->name, &rows, err);
    if (rc != CRM_OK || (rows > 0 && lines < rows))
        return rc;
    rc = crm_kernel_begin(k, err);
    for (size_t i = 0; rc == CRM_OK && i < 8 && droppable[e].indexes[i]; i++)
        rc = drop_one(k, droppable[e].indexes[i], import_id, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else if (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    *on = rc == CRM_OK;
    return rc;
}

/* Rebuilds every index listed for import_id that is missing and removes
 * their rows, in one transaction. */
int imp_bulk_end(crm_kernel *k, int64_t import_id, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT b.sql FROM bulk_load_indexes b WHERE b.import_id=? AND NOT EXISTS ("
        " SELECT 1 FROM sqlite_master m WHERE m.type='index' AND m.name=b.name) ORDER BY b.name",
        err);
    char *sql[16];
    size_t n = 0;
    if (!st)
        rc = err->code;
    else {
        sqlite3_bind_int64(st, 1, import_id);
        while (n < 16 && sqlite3_step(st) == SQLITE_ROW)
            if ((sql[n] = crm_column_strdup(st, 0)))
                n++;
        sqlite3_reset(st);
    }
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = crm_store_exec(k->store, sql[i], err);
    for (size_t i = 0; i < n; i++)
        free(sql[i]);
    if (rc == CRM_OK &&
        (st = crm_store_stmt(k->store, "DELETE FROM bulk_load_indexes WHERE import_id=?", err))) {
        sqlite3_bind_int64(st, 1, import_id);
        rc = step_all(k, st, "cannot end a bulk load", err);
    } else if (rc == CRM_OK)
        rc = err->code;
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return crm_err_prefix(err, "cannot rebuild the indexes of a bulk load");
}

/* The bulk loads (*n of them) whose import is not running in a live process. */
static int orphaned(crm_kernel *k, int64_t *ids, size_t max, size_t *n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT DISTINCT b.import_id, j.status, j.pid, j.proc_start, j.boot_id, j.host "
        "FROM bulk_load_indexes b LEFT JOIN import_journal j ON j.id = b.import_id", err);
    *n = 0;
    if (!st)
        return err->code;
    while (*n < max && sqlite3_step(st) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 1);
        imp_proc p;
        imp_proc_from_row(st, 2, &p);
        if (!status || strcmp(status, "running") != 0 || imp_proc_gone(&p))
            ids[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return CRM_OK;
}

int crm_import_recover(crm_kernel *k, crm_err *err)
{
    int64_t ids[16];
    size_t n;
    int rc = orphaned(k, ids, 16, &n, err);
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = imp_bulk_end(k, ids[i], err);
    return rc == CRM_EBUSY ? CRM_OK : rc; /* a writer holds it: the next command rebuilds */
}

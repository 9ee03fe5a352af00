/* The import journal: one import_journal row per run, its counts rewritten
 * at each committed batch, the records it wrote as id ranges (import_ranges),
 * and undo.
 *
 * A run keeps one pending range in memory and writes it (one row) when the
 * next id does not extend it, and before each batch commits: a range never
 * spans two transactions, so a batch rolled back takes its rows with it and
 * imp_journal_discard() drops the pending one. A fresh import whose ids come
 * consecutively costs one row per batch instead of one per record. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "import_int.h"
#include "model/model_util.h"

static int exec_step(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? CRM_OK : crm_store_error(k->store, what, err);
}

/* Writes the pending range (one row) and forgets it. Two rows of a run can
 * start at the same id: a record updated twice, the second time followed by
 * others. The row already there then keeps its action (the first one wins,
 * as for a single record) and grows to cover both; "stored" gives way, so a
 * doubt refuses an undo rather than deleting a record the run did not
 * create. ON CONFLICT ... DO UPDATE and CASE (not max()) are what SQLite and
 * PostgreSQL share. */
static int flush_range(imp_journal *j, crm_err *err)
{
    static const char *const actions[] = {NULL, "stored", "updated", NULL, "merged"};
    if (!j->action)
        return CRM_OK;
    sqlite3_stmt *st = crm_store_stmt(j->k->store,
        "INSERT INTO import_ranges(import_id, entity, action, first_id, last_id) "
        "VALUES(?,?,?,?,?) ON CONFLICT(import_id, entity, first_id) DO UPDATE SET "
        "last_id=CASE WHEN excluded.last_id > import_ranges.last_id THEN excluded.last_id "
        "ELSE import_ranges.last_id END, "
        "action=CASE WHEN import_ranges.action='stored' THEN excluded.action "
        "ELSE import_ranges.action END", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->ent->record, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, actions[j->action], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, j->first);
    sqlite3_bind_int64(st, 5, j->last);
    int rc = exec_step(j->k, st, "cannot record the imported rows", err);
    if (rc == CRM_OK)
        j->action = 0;
    return rc;
}

/* True when this run already stored record `id` (written ranges of its open
 * or committed batches). Ranges of one run never overlap a stored range, so
 * the range starting nearest below `id` is the only candidate. */
static int stored_before(imp_journal *j, int64_t id, bool *yes, crm_err *err)
{
    *yes = false;
    if (id < j->stored_lo || id > j->stored_hi)
        return CRM_OK;
    sqlite3_stmt *st = crm_store_stmt(j->k->store,
        "SELECT action='stored' AND last_id >= ?3 FROM import_ranges "
        "WHERE import_id=?1 AND entity=?2 AND first_id <= ?3 ORDER BY first_id DESC LIMIT 1",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->ent->record, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *yes = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(j->k->store, "cannot read the import journal", err);
}

/* ---- the process behind a run ------------------------------------------------ */

/* Field 22 (starttime) of /proc/PID/stat, or -1; *state gets field 3 ('Z'
 * for a zombie: killed, not yet waited for). The command name (field 2) may
 * hold spaces and parentheses: fields are counted after its last ')'. */
static int64_t proc_stat(int64_t pid, char *state)
{
    *state = '?';
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p && p[1] == ' ' && p[2])
        *state = p[2];
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoll(p + 1, NULL, 10) : -1;
}

static void read_boot_id(char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f)
        return;
    if (!fgets(out, (int)size, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

void imp_proc_self(imp_proc *p)
{
    memset(p, 0, sizeof *p);
    p->pid = (int64_t)getpid();
    char state;
    p->start = proc_stat(p->pid, &state);
    read_boot_id(p->boot_id, sizeof p->boot_id);
    if (gethostname(p->host, sizeof p->host - 1) != 0)
        p->host[0] = '\0';
}

bool imp_proc_gone(const imp_proc *p)
{
    imp_proc me;
    imp_proc_self(&me);
    if (strcmp(p->host, me.host) != 0)
        return false; /* another machine's process cannot be checked from here */
    if (*p->boot_id && *me.boot_id && strcmp(p->boot_id, me.boot_id) != 0)
        return true;
    if (p->pid <= 0 || p->pid > INT_MAX || (kill((pid_t)p->pid, 0) != 0 && errno == ESRCH))
        return true;
    char state;
    int64_t start = proc_stat(p->pid, &state);
    return state == 'Z' || state == 'X' || (p->start >= 0 && start >= 0 && start != p->start);
}

void imp_proc_from_row(sqlite3_stmt *st, int col, imp_proc *p)
{
    *p = (imp_proc){.pid = sqlite3_column_int64(st, col), .start = -1};
    if (sqlite3_column_type(st, col + 1) != SQLITE_NULL)
        p->start = sqlite3_column_int64(st, col + 1);
    const char *boot = (const char *)sqlite3_column_text(st, col + 2);
    const char *host = (const char *)sqlite3_column_text(st, col + 3);
    snprintf(p->boot_id, sizeof p->boot_id, "%s", boot ? boot : "");
    snprintf(p->host, sizeof p->host, "%s", host ? host : "");
}

int imp_journal_reap(crm_kernel *k, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT id, pid, proc_start, boot_id, host FROM import_journal WHERE status='running'",
        err);
    if (!st)
        return err->code;
    int64_t gone[64];
    size_t n = 0;
    int rc;
    while (n < sizeof gone / sizeof gone[0] && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) { /* a run from before schema 10 */
            gone[n++] = sqlite3_column_int64(st, 0);
            continue;
        }
        imp_proc p;
        imp_proc_from_row(st, 1, &p);
        if (imp_proc_gone(&p))
            gone[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (n == 0)
        return CRM_OK;
    crm_err e = {0};
    rc = crm_kernel_begin(k, &e);
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = crm_exec_id(k, "UPDATE import_journal SET status='interrupted' "
                            "WHERE id=? AND status='running'", gone[i], &e);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, &e);
    else if (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    if (rc == CRM_EBUSY) /* another writer holds the database: the next command marks them */
        return CRM_OK;
    if (rc != CRM_OK && err)
        *err = e;
    return rc;
}

int imp_journal_find(crm_kernel *k, const imp_entity *ent, const imp_input *in,
                     const char *status, int64_t *id, int64_t *at, crm_err *err)
{
    *id = *at = 0;
    if (!in->hash)
        return CRM_OK;
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT id, coalesce(finished_at, started_at) FROM import_journal j"
        " WHERE entity=?1 AND hash=?2 AND lines_hash IS ?3 AND options IS ?4 AND status=?5"
        " AND (?5 <> 'interrupted' OR id > coalesce((SELECT max(d.id) FROM import_journal d"
        "  WHERE d.entity=?1 AND d.hash=?2 AND d.lines_hash IS ?3 AND d.options IS ?4"
        "  AND d.status='done'), 0))"
        " ORDER BY id DESC LIMIT 1", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, ent->name, -1, SQLITE_STATIC);
    crm_bind_text(st, 2, in->hash);
    crm_bind_text(st, 3, in->lines_hash);
    crm_bind_text(st, 4, in->options);
    sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *at = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot read the import journal", err);
}

int imp_journal_start(imp_journal *j, crm_kernel *k, const imp_entity *ent, const char *path,
                      const imp_input *in, int64_t completes, crm_err *err)
{
    *j = (imp_journal){.k = k, .ent = ent, .stored_lo = INT64_MAX};
    imp_proc me;
    imp_proc_self(&me);
    int rc = crm_kernel_begin(k, err);
    sqlite3_stmt *st = rc == CRM_OK ? crm_store_stmt(k->store,
        "INSERT INTO import_journal(entity, file, status, started_at, first_event_id, hash,"
        " lines_hash, options, completes, pid, proc_start, boot_id, host) "
        "VALUES(?, ?, 'running', ?, (SELECT coalesce(max(id), 0) FROM events),"
        " ?, ?, ?, ?, ?, ?, ?, ?)", err)
                                    : NULL;
    if (!st) {
        if (rc == CRM_OK)
            crm_kernel_rollback(k);
        return err->code ? err->code : CRM_EDB;
    }
    sqlite3_bind_text(st, 1, ent->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, k->now);
    crm_bind_text(st, 4, in->hash);
    crm_bind_text(st, 5, in->lines_hash);
    crm_bind_text(st, 6, in->options);
    if (completes)
        sqlite3_bind_int64(st, 7, completes);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int64(st, 8, me.pid);
    if (me.start >= 0)
        sqlite3_bind_int64(st, 9, me.start);
    else
        sqlite3_bind_null(st, 9);
    crm_bind_text(st, 10, *me.boot_id ? me.boot_id : NULL);
    crm_bind_text(st, 11, me.host);
    rc = exec_step(k, st, "cannot start the import journal", err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    j->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    return crm_kernel_commit(k, err);
}

int imp_journal_update(imp_journal *j, const crm_import_report *r, const char *hash,
                       const char *status, crm_err *err)
{
    if (!j->id)
        return CRM_OK;
    crm_kernel *k = j->k;
    int rc = flush_range(j, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "UPDATE import_journal SET n_read=?, n_stored=?, n_updated=?, n_unchanged=?,"
        " n_merged=?, n_rejected=?, status=coalesce(?, status), hash=coalesce(?, hash),"
        " finished_at=CASE WHEN ? IS NULL THEN finished_at ELSE ? END,"
        " last_event_id=(SELECT coalesce(max(id), 0) FROM events),"
        " rejects=coalesce(?12, rejects) WHERE id=?11", err);
    if (!st)
        return err->code;
    /* the reject file, by absolute path: erasure strips a person's rows from it */
    char *rejects = status && r->rejects_path[0] ? realpath(r->rejects_path, NULL) : NULL;
    crm_bind_text(st, 12, rejects);
    free(rejects);
    int64_t v[] = {r->read, r->stored, r->updated, r->unchanged, r->merged, r->rejected};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    crm_bind_text(st, 7, status);
    crm_bind_text(st, 8, status ? hash : NULL);
    crm_bind_text(st, 9, status);
    sqlite3_bind_int64(st, 10, k->now);
    sqlite3_bind_int64(st, 11, j->id);
    return exec_step(k, st, "cannot update the import journal", err);
}

int imp_journal_record(imp_journal *j, int64_t id, int outcome, crm_err *err)
{
    if (!j->id || !id || (outcome != IMP_STORED && outcome != IMP_UPDATED &&
                          outcome != IMP_MERGED))
        return CRM_OK;
    if (j->action && id >= j->first && id <= j->last)
        return CRM_OK; /* already noted: a record keeps its first action */
    if (outcome != IMP_STORED) {
        bool stored = false;
        int rc = stored_before(j, id, &stored, err);
        if (rc != CRM_OK || stored)
            return rc; /* a record this run created stays "stored" */
    } else {
        if (id < j->stored_lo)
            j->stored_lo = id;
        if (id > j->stored_hi)
            j->stored_hi = id;
    }
    if (j->action == outcome && j->last < INT64_MAX && id == j->last + 1) {
        j->last = id;
        return CRM_OK;
    }
    int rc = flush_range(j, err);
    if (rc == CRM_OK) {
        j->action = outcome;
        j->first = j->last = id;
    }
    return rc;
}

void imp_journal_discard(imp_journal *j)
{
    j->action = 0;
}

/* ---- undo ---------------------------------------------------------------- */

/* Undo works on ranges, set-based: a check or a delete joins the run's
 * ranges (a few hundred for a million records) to the records' indexes
 * (`x BETWEEN first_id AND last_id`), never expanding ids one by one. The
 * checks run in order and the first one refusing stops: once the first has
 * passed, every range is "stored", and stored ranges never overlap. */

/* One refusal check: a query over the import's ranges returning (record, detail). */
typedef struct undo_check {
    const char *record;   /* entity it applies to, NULL = all */
    const char *sql;      /* ?1 = import id, ?2 = last_event_id, ?3 = record ("contact") */
    const char *why;      /* printf: record id, detail */
} undo_check;

static const undo_check undo_checks[] = {
    {NULL,
     "SELECT first_id, action FROM import_ranges WHERE import_id=?1 AND action<>'stored' "
     "ORDER BY entity, first_id LIMIT 1",
     "it %2$s existing record %1$lld: only an import that created records can be undone"},
    /* Events since the import naming one of its records: for each event, the
     * one range that can hold its id (the nearest starting below it). */
    {NULL,
     "SELECT x.rid, x.what FROM (SELECT e.type || ' (event ' || e.id || ')' AS what,"
     " json_extract(e.payload, '$.' || ?3 || '_id') AS rid FROM events e"
     " WHERE e.id > ?2 AND e.type LIKE ?3 || '.%'"
     /* a change an order caused (a stage) is judged by its order: the check
      * below refuses while the order exists, and undoing the order's import
      * reverts it */
     "  AND (?3 = 'order' OR json_extract(e.payload, '$.order_id') IS NULL)) x"
     " WHERE x.rid IS NOT NULL AND (SELECT r.last_id FROM import_ranges r"
     "  WHERE r.import_id=?1 AND r.entity=?3 AND r.first_id <= x.rid"
     "  ORDER BY r.first_id DESC LIMIT 1) >= x.rid LIMIT 1",
     "record %lld was changed since the import: %s"},
    {"contact",
     "SELECT o.contact_id, 'an order recorded since' FROM import_ranges r JOIN orders o"
     " ON o.contact_id BETWEEN r.first_id AND r.last_id WHERE r.import_id=?1 AND r.entity=?3"
     " UNION ALL SELECT i.contact_id, 'an interaction recorded since' FROM import_ranges r"
     " JOIN interactions i ON i.contact_id BETWEEN r.first_id AND r.last_id"
     " WHERE r.import_id=?1 AND r.entity=?3"
     " UNION ALL SELECT c.contact_id, 'a consent recorded since' FROM import_ranges r"
     " JOIN consents c ON c.contact_id BETWEEN r.first_id AND r.last_id"
     " WHERE r.import_id=?1 AND r.entity=?3 LIMIT 1",
     "contact %lld has %s: delete it first, or keep the import"},
    {"company",
     "SELECT c.company_id, 'contacts' FROM import_ranges r JOIN contacts c"
     " ON c.company_id BETWEEN r.first_id AND r.last_id WHERE r.import_id=?1 AND r.entity=?3"
     " LIMIT 1",
     "company %lld has %s linked to it since the import"},
};

static int run_check(crm_kernel *k, const undo_check *c, int64_t id, int64_t last_event,
                     const char *record, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, c->sql, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, last_event);
    if (sqlite3_bind_parameter_count(st) >= 3)
        sqlite3_bind_text(st, 3, record, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        char why[512];
        snprintf(why, sizeof why, c->why, (long long)sqlite3_column_int64(st, 0),
                 (const char *)sqlite3_column_text(st, 1));
        sqlite3_reset(st);
        return crm_err_set(err, CRM_EINVAL, "cannot undo import %lld: %s", (long long)id, why);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "undo check failed", err);
}

/* The ids of the import's records present in TABLE(COL), for an IN (...). */
#define IN_RANGES(entity, table, col)                                                       \
    " IN (SELECT x." col " FROM import_ranges r JOIN " table " x ON x." col                 \
    " BETWEEN r.first_id AND r.last_id WHERE r.import_id=?1 AND r.entity='" entity "')"

/* The import's orders in contact_history: the stage changes they caused. */
#define HISTORY_OF_ORDERS "h.order_id" IN_RANGES("order", "orders", "id")

static const struct {
    const char *record;
    const char *const sql[6];
} undo_deletes[] = {
    {"contact",
     {"DELETE FROM contact_tags WHERE contact_id" IN_RANGES("contact", "contact_tags",
                                                            "contact_id"),
      "DELETE FROM custom_values WHERE entity='contact' AND entity_id IN (SELECT x.entity_id"
      " FROM import_ranges r JOIN custom_values x ON x.entity='contact' AND x.entity_id"
      " BETWEEN r.first_id AND r.last_id WHERE r.import_id=?1 AND r.entity='contact')",
      "DELETE FROM contacts WHERE id" IN_RANGES("contact", "contacts", "id")}},
    {"order",
     /* A stage the orders moved a contact to goes back, unless it changed since. */
     {"UPDATE contacts SET lifecycle_stage = (SELECT h.old_value FROM contact_history h"
      " WHERE h.contact_id = contacts.id ORDER BY h.id DESC LIMIT 1)"
      " WHERE id IN (SELECT h.contact_id FROM contact_history h WHERE " HISTORY_OF_ORDERS
      " AND h.new_value = contacts.lifecycle_stage AND h.id = (SELECT max(h2.id)"
      " FROM contact_history h2 WHERE h2.contact_id = h.contact_id))",
      "DELETE FROM contact_history WHERE id IN (SELECT h.id FROM contact_history h JOIN contacts"
      " c ON c.id = h.contact_id WHERE " HISTORY_OF_ORDERS " AND c.lifecycle_stage = h.old_value"
      " AND h.id = (SELECT max(h2.id) FROM contact_history h2 WHERE h2.contact_id = h.contact_id))",
      "DELETE FROM order_lines WHERE order_id" IN_RANGES("order", "order_lines", "order_id"),
      "DELETE FROM custom_values WHERE entity='order' AND entity_id IN (SELECT x.entity_id"
      " FROM import_ranges r JOIN custom_values x ON x.entity='order' AND x.entity_id"
      " BETWEEN r.first_id AND r.last_id WHERE r.import_id=?1 AND r.entity='order')",
      "DELETE FROM orders WHERE id" IN_RANGES("order", "orders", "id")}},
    {"company",
     {"DELETE FROM custom_values WHERE entity='company' AND entity_id IN (SELECT x.entity_id"
      " FROM import_ranges r JOIN custom_values x ON x.entity='company' AND x.entity_id"
      " BETWEEN r.first_id AND r.last_id WHERE r.import_id=?1 AND r.entity='company')",
      "DELETE FROM companies WHERE id" IN_RANGES("company", "companies", "id")}},
    {"interaction",
     {"DELETE FROM interactions WHERE id" IN_RANGES("interaction", "interactions", "id")}},
};

static int undo_delete(crm_kernel *k, const char *record, int64_t id, crm_err *err)
{
    int rc = CRM_OK;
    for (size_t i = 0; i < sizeof undo_deletes / sizeof undo_deletes[0]; i++) {
        if (strcmp(undo_deletes[i].record, record) != 0)
            continue;
        for (size_t j = 0; rc == CRM_OK && j < 6 && undo_deletes[i].sql[j]; j++)
            rc = crm_exec_id(k, undo_deletes[i].sql[j], id, err);
    }
    return rc;
}

static int load_journal(crm_kernel *k, int64_t id, char *record, size_t size,
                        int64_t *last_event, int64_t *n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT j.entity, j.status, j.last_event_id,"
        " (SELECT coalesce(sum(r.last_id - r.first_id + 1), 0) FROM import_ranges r"
        "  WHERE r.import_id=j.id)"
        " FROM import_journal j WHERE j.id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = CRM_OK;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = crm_err_set(err, CRM_ENOTFOUND, "no import with id %lld (see `crm import list`)",
                         (long long)id);
    } else if (strcmp((const char *)sqlite3_column_text(st, 1), "undone") == 0) {
        rc = crm_err_set(err, CRM_EINVAL, "import %lld was already undone", (long long)id);
    } else {
        const imp_entity *e = imp_find_entity((const char *)sqlite3_column_text(st, 0));
        snprintf(record, size, "%s", e ? e->record : "");
        *last_event = sqlite3_column_int64(st, 2);
        *n = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return rc;
}

int crm_import_undo(crm_kernel *k, int64_t id, crm_err *err)
{
    char record[32];
    int64_t last_event = 0, n = 0;
    int rc = imp_journal_reap(k, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = load_journal(k, id, record, sizeof record, &last_event, &n, err);
    for (size_t i = 0; rc == CRM_OK && i < sizeof undo_checks / sizeof undo_checks[0]; i++)
        if (!undo_checks[i].record || strcmp(undo_checks[i].record, record) == 0)
            rc = run_check(k, &undo_checks[i], id, last_event, record, err);
    if (rc == CRM_OK)
        rc = undo_delete(k, record, id, err);
    if (rc == CRM_OK)
        rc = crm_exec_id(k, "UPDATE import_journal SET status='undone' WHERE id=?", id, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "import.undone",
                            json_pack("{sIss sI}", "import_id", (json_int_t)id, "entity", record,
                                      "deleted", (json_int_t)n),
                            NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

int crm_import_list(crm_kernel *k, int (*fn)(void *json, void *ud), void *ud, crm_err *err)
{
    int rc = imp_journal_reap(k, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
        "SELECT id, entity, file, hash, n_read, n_stored, n_updated, n_unchanged, n_merged,"
        " n_rejected, status, completes, started_at, finished_at FROM import_journal"
        " ORDER BY id DESC", err);
    if (!st)
        return err->code;
    static const char *const keys[] = {"id", "entity", "file", "hash", "read", "stored",
                                       "updated", "unchanged", "merged", "rejected", "status",
                                       "completes", "started_at", "finished_at"};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < 14; i++) {
            json_t *v = sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                        : i >= 12 ? crm_json_time(sqlite3_column_int64(st, i))
                        : sqlite3_column_type(st, i) == SQLITE_INTEGER
                            ? json_integer(sqlite3_column_int64(st, i))
                            : json_string((const char *)sqlite3_column_text(st, i));
            json_object_set_new(o, keys[i], v);
        }
        int stop = fn(o, ud);
        json_decref(o);
        if (stop)
            break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                : crm_store_error(k->store, "cannot list", err);
}

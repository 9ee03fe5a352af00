#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Statements are cached by SQL text in an open-addressing table: the same
 * few dozen statements run millions of times during an import. */
typedef struct stmt_slot {
    char *sql;
    uint32_t hash;
    sqlite3_stmt *stmt;
} stmt_slot;

struct crm_store {
    sqlite3 *db;
    char *path;
    stmt_slot *slots;
    size_t n_slots;  /* power of two */
    size_t n_used;
    int depth;
    bool batch;          /* nested levels are free, see crm_store_begin_batch */
    bool batch_failed;   /* a nested level wrote, then rolled back */
    bool snapshot;       /* a read transaction of crm_store_snapshot_begin is open */
    sqlite3_int64 changes_at[64];  /* total changes when each batch level began */
    void (*on_commit)(void *);
    void *on_commit_ud;
    void (*on_rollback)(void *);
    void *on_rollback_ud;
};

static const char *const pragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA temp_store=MEMORY;"
    /* Reads through the mapping: a scan of a large table no longer copies
     * each page into the page cache and mallocs it there (the orders scan of
     * an RFM refresh spent half its time on that). Writes still go through
     * the WAL; the mapping is address space, not memory. */
    "PRAGMA mmap_size=4294967296;";

static const char *const migrations_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    " owner TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL, PRIMARY KEY(owner, version))";

int crm_store_error(crm_store *s, const char *what, crm_err *err)
{
    int rc = sqlite3_extended_errcode(s->db);
    int code = CRM_EDB;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        code = CRM_EBUSY;
    else if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = CRM_EEXISTS;
    return crm_err_set(err, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

int crm_store_open(crm_store **out, const char *path, crm_err *err)
{
    *out = NULL;
    crm_store *s = calloc(1, sizeof *s);
    if (!s)
        return crm_err_set(err, CRM_ENOMEM, "out of memory opening %s", path);
    s->path = strdup(path);
    s->n_slots = 64;
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    if (!s->path || !s->slots) {
        crm_store_close(s);
        return crm_err_set(err, CRM_ENOMEM, "out of memory opening %s", path);
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        crm_err_set(err, CRM_EIO, "cannot open database %s: %s", path,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        crm_store_close(s);
        return err ? err->code : CRM_EIO;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    if (crm_store_exec(s, pragmas, err) != CRM_OK ||
        crm_store_cache(s, CRM_STORE_CACHE_KIB, err) != CRM_OK ||
        crm_store_exec(s, migrations_table, err) != CRM_OK) {
        crm_err_prefix(err, "cannot prepare database %s", path);
        crm_store_close(s);
        return err ? err->code : CRM_EDB;
    }
    *out = s;
    return CRM_OK;
}

int crm_store_cache(crm_store *s, int kib, crm_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", kib);
    return crm_store_exec(s, sql, err);
}

void crm_store_close(crm_store *s)
{
    if (!s)
        return;
    if (s->depth > 0 && s->db)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    for (size_t i = 0; i < s->n_slots; i++) {
        sqlite3_finalize(s->slots[i].stmt);
        free(s->slots[i].sql);
    }
    free(s->slots);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

sqlite3 *crm_store_db(crm_store *s) { return s->db; }
const char *crm_store_path(const crm_store *s) { return s->path; }
int crm_store_depth(const crm_store *s) { return s->depth; }

/* Hashes the length and the first and last 32 bytes: statements differ in
 * those, and a full pass per lookup showed in profiles. strcmp confirms. */
static uint32_t hash_sql(const char *sql)
{
    size_t n = strlen(sql);
    uint32_t h = 2166136261u ^ (uint32_t)n;  /* FNV-1a */
    const unsigned char *p = (const unsigned char *)sql;
    for (size_t i = 0; i < n && i < 32; i++)
        h = (h ^ p[i]) * 16777619u;
    for (size_t i = n > 32 ? n - 32 : n; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static stmt_slot *find_slot(stmt_slot *slots, size_t n, const char *sql, uint32_t h)
{
    size_t i = h & (n - 1);
    while (slots[i].sql && (slots[i].hash != h || strcmp(slots[i].sql, sql) != 0))
        i = (i + 1) & (n - 1);
    return &slots[i];
}

static int grow_cache(crm_store *s)
{
    size_t n = s->n_slots * 2;
    stmt_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return CRM_ENOMEM;
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].sql)
            *find_slot(slots, n, s->slots[i].sql, s->slots[i].hash) = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->n_slots = n;
    return CRM_OK;
}

sqlite3_stmt *crm_store_stmt(crm_store *s, const char *sql, crm_err *err)
{
    uint32_t h = hash_sql(sql);
    stmt_slot *slot = find_slot(s->slots, s->n_slots, sql, h);
    if (slot->sql) {
        sqlite3_reset(slot->stmt);
        sqlite3_clear_bindings(slot->stmt);
        return slot->stmt;
    }
    if ((s->n_used + 1) * 2 > s->n_slots) {
        if (grow_cache(s) != CRM_OK) {
            crm_err_set(err, CRM_ENOMEM, "out of memory caching a statement");
            return NULL;
        }
        slot = find_slot(s->slots, s->n_slots, sql, h);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        crm_store_error(s, "cannot prepare statement", err);
        return NULL;
    }
    slot->sql = strdup(sql);
    if (!slot->sql) {
        sqlite3_finalize(st);
        crm_err_set(err, CRM_ENOMEM, "out of memory caching a statement");
        return NULL;
    }
    slot->hash = h;
    slot->stmt = st;
    s->n_used++;
    return st;
}

int crm_store_exec(crm_store *s, const char *sql, crm_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int code = crm_store_error(s, "database error", err);
        sqlite3_free(msg);
        return code;
    }
    return CRM_OK;
}

/* Transaction statements run once per record in batches: keep them prepared. */
static int exec_cached(crm_store *s, const char *sql, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(s, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(s, "database error", err);
}

int crm_store_snapshot_begin(crm_store *s)
{
    if (s->depth > 0 || s->snapshot)
        return CRM_OK;
    int rc = exec_cached(s, "BEGIN DEFERRED", NULL);
    s->snapshot = rc == CRM_OK;
    return rc;
}

void crm_store_snapshot_end(crm_store *s)
{
    if (!s->snapshot || s->depth > 0) {
        s->snapshot = false;
        return;
    }
    /* a statement left mid-step would keep the read open after COMMIT, and
     * this pooled connection would serve later requests an old view */
    for (sqlite3_stmt *st = sqlite3_next_stmt(s->db, NULL); st; st = sqlite3_next_stmt(s->db, st))
        if (sqlite3_stmt_busy(st))
            sqlite3_reset(st);
    (void)exec_cached(s, "COMMIT", NULL);
    s->snapshot = false;
}

int crm_store_begin(crm_store *s, crm_err *err)
{
    /* a write inside a snapshot takes the write lock the usual way: upgrading
     * the read transaction could fail with SQLITE_BUSY_SNAPSHOT, never waited for */
    if (s->depth == 0 && s->snapshot)
        crm_store_snapshot_end(s);
    if (s->batch && s->depth > 0) {
        if (s->depth < (int)(sizeof s->changes_at / sizeof s->changes_at[0]))
            s->changes_at[s->depth] = sqlite3_total_changes64(s->db);
        s->depth++;
        return CRM_OK;
    }
    const char *sql = s->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT crm_nested";
    int rc = exec_cached(s, sql, err);
    if (rc == CRM_OK)
        s->depth++;
    return rc;
}

int crm_store_begin_batch(crm_store *s, crm_err *err)
{
    if (s->depth != 0)
        return crm_err_set(err, CRM_EINTERNAL, "a batch must be the outermost transaction");
    int rc = crm_store_begin(s, err);
    if (rc == CRM_OK) {
        s->batch = true;
        s->batch_failed = false;
    }
    return rc;
}

bool crm_store_batch_failed(const crm_store *s) { return s->batch_failed; }

static void end_batch(crm_store *s)
{
    s->batch = false;
    s->batch_failed = false;
}

int crm_store_commit(crm_store *s, crm_err *err)
{
    if (s->depth <= 0)
        return crm_err_set(err, CRM_EINTERNAL, "commit without a transaction");
    if (s->batch && s->depth > 1) {
        s->depth--;
        return CRM_OK;
    }
    if (s->batch && s->batch_failed) {
        crm_store_rollback(s);
        return crm_err_set(err, CRM_EBUSY,
                           "the batch was rolled back: an operation failed after writing; "
                           "re-run it record by record");
    }
    const char *sql = s->depth == 1 ? "COMMIT" : "RELEASE crm_nested";
    int rc = exec_cached(s, sql, err);
    if (rc != CRM_OK) {
        crm_store_rollback(s);
        return rc;
    }
    s->depth--;
    end_batch(s);
    if (s->depth == 0 && s->on_commit)
        s->on_commit(s->on_commit_ud);
    return CRM_OK;
}

void crm_store_rollback(crm_store *s)
{
    if (s->depth <= 0)
        return;
    if (s->batch && s->depth > 1) {
        int level = s->depth - 1;
        if (level >= (int)(sizeof s->changes_at / sizeof s->changes_at[0]) ||
            sqlite3_total_changes64(s->db) != s->changes_at[level])
            s->batch_failed = true;
        s->depth--;
        return;
    }
    end_batch(s);
    if (s->depth == 1) {
        /* The transaction may already be gone (SQLite rolls back on some errors). */
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        sqlite3_exec(s->db, "ROLLBACK TO crm_nested; RELEASE crm_nested", NULL, NULL, NULL);
    }
    s->depth--;
    if (s->depth == 0 && s->on_rollback)
        s->on_rollback(s->on_rollback_ud);
}

void crm_store_on_commit(crm_store *s, void (*fn)(void *ud), void *ud)
{
    s->on_commit = fn;
    s->on_commit_ud = ud;
}

void crm_store_on_rollback(crm_store *s, void (*fn)(void *ud), void *ud)
{
    s->on_rollback = fn;
    s->on_rollback_ud = ud;
}

int crm_store_schema_version(crm_store *s, const char *owner, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        s, "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE owner = ?", err);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    if (v < 0)
        crm_store_error(s, "cannot read schema_migrations", err);
    return v;
}

/* 1 when `owner`'s migration `version` is recorded, 0 when not, -1 on error. */
static int migration_recorded(crm_store *s, const char *owner, int version, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        s, "SELECT 1 FROM schema_migrations WHERE owner = ? AND version = ?", err);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        crm_store_error(s, "cannot read schema_migrations", err);
        return -1;
    }
    return step == SQLITE_ROW;
}

static int apply_migration(crm_store *s, const char *owner, const crm_migration *m, crm_err *err)
{
    int rc = crm_store_begin(s, err);
    if (rc != CRM_OK)
        return rc;
    rc = crm_store_exec(s, m->sql, err);
    if (rc != CRM_OK) {
        crm_err_prefix(err, "migration %s %d (%s) failed", owner, m->version, m->name);
        goto fail;
    }
    sqlite3_stmt *st = crm_store_stmt(
        s, "INSERT INTO schema_migrations(owner, version, name, applied_at) VALUES(?,?,?,?)", err);
    if (!st) {
        rc = err ? err->code : CRM_EDB;
        goto fail;
    }
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, m->version);
    sqlite3_bind_text(st, 3, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = crm_store_error(s, "cannot record migration", err);
        goto fail;
    }
    return crm_store_commit(s, err);
fail:
    crm_store_rollback(s);
    return rc;
}

int crm_store_migrate(crm_store *s, const char *owner, const crm_migration *m, size_t n,
                      int *applied, crm_err *err)
{
    if (applied)
        *applied = 0;
    int current = crm_store_schema_version(s, owner, err);
    if (current < 0)
        return err ? err->code : CRM_EDB;
    int latest = n ? m[n - 1].version : 0;
    if (current > latest)
        return crm_err_set(err, CRM_EINVAL,
                           "database %s has %s schema version %d but this crm knows only up "
                           "to %d: it was written by a newer crm; upgrade crm to open it",
                           s->path, owner, current, latest);
    /* By record, not by the highest version: a migration missing below the
     * latest (its row removed, or one that landed out of order) still runs. */
    for (size_t i = 0; i < n; i++) {
        int recorded = m[i].version <= current ? migration_recorded(s, owner, m[i].version, err) : 0;
        if (recorded < 0)
            return err ? err->code : CRM_EDB;
        if (recorded)
            continue;
        int rc = apply_migration(s, owner, &m[i], err);
        if (rc != CRM_OK)
            return rc;
        if (applied)
            (*applied)++;
    }
    return CRM_OK;
}

int crm_bind_text(sqlite3_stmt *st, int idx, const char *str)
{
    return str ? sqlite3_bind_text(st, idx, str, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);
}

char *crm_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* The SQLite store: one connection per process, WAL, foreign keys on,
 * a cache of prepared statements, nested transactions, and numbered
 * migrations recorded per owner ("kernel" or a plugin's name). */
#ifndef CRM_CORE_STORE_H
#define CRM_CORE_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct crm_store crm_store;

/* One numbered schema step of an owner. Versions start at 1 and are applied
 * in order, each in its own transaction with its schema_migrations row. */
typedef struct crm_migration {
    int version;
    const char *name;  /* short description, stored with the row */
    const char *sql;   /* one or more statements */
} crm_migration;

/* Opens (creating if needed) the database at path and applies the pragmas
 * (WAL, foreign_keys, synchronous=NORMAL, busy timeout). ":memory:" works.
 * Returns CRM_OK and *out, or CRM_EDB / CRM_EIO with the path in err. */
int crm_store_open(crm_store **out, const char *path, crm_err *err);

/* Finalizes cached statements and closes. NULL is fine. A transaction still
 * open is rolled back. */
void crm_store_close(crm_store *s);

/* The underlying connection, for the few places that need sqlite3 itself. */
sqlite3 *crm_store_db(crm_store *s);

/* The path given to crm_store_open. */
const char *crm_store_path(const crm_store *s);

/* A prepared statement for `sql`, from the cache when it was prepared before
 * (keyed by the SQL text). It comes back reset with bindings cleared; the
 * store owns it: never finalize it. NULL on error with the SQL's problem in err. */
sqlite3_stmt *crm_store_stmt(crm_store *s, const char *sql, crm_err *err);

/* Runs statements without results (DDL, pragmas). */
int crm_store_exec(crm_store *s, const char *sql, crm_err *err);

/* The page cache's size in KiB: CRM_STORE_CACHE_KIB from open; bulk writers
 * raise it for their run. */
#define CRM_STORE_CACHE_KIB 65536
int crm_store_cache(crm_store *s, int kib, crm_err *err);

/* Transactions nest: the outermost begin is BEGIN IMMEDIATE (one writer), inner
 * ones are savepoints. Commit/rollback close the innermost level. */
int crm_store_begin(crm_store *s, crm_err *err);
/* A read snapshot for a sequence of reads (a GET of crm serve): one read
 * transaction instead of one per statement, and one consistent view. A
 * crm_store_begin meanwhile ends it first. No-op inside a transaction. */
int crm_store_snapshot_begin(crm_store *s);
void crm_store_snapshot_end(crm_store *s);
int crm_store_commit(crm_store *s, crm_err *err);
void crm_store_rollback(crm_store *s);

/* Begins the outermost transaction in batch mode, for bulk writers (import,
 * demo). Inside it, nested begin/commit cost nothing: no savepoints, whose
 * page copies dominate the cost of a single-record write. A nested rollback
 * of a level that wrote nothing (validation refusals happen before writes) is
 * free; one that wrote rows cannot be undone alone, so it marks the batch
 * failed and the outermost commit rolls everything back and returns
 * CRM_EBUSY: the caller re-runs the batch with crm_store_begin (savepoints),
 * record by record. Must be called at depth 0. */
int crm_store_begin_batch(crm_store *s, crm_err *err);

/* True when the current batch was marked failed (see crm_store_begin_batch). */
bool crm_store_batch_failed(const crm_store *s);

/* Depth of open transactions (0 = none). */
int crm_store_depth(const crm_store *s);

/* Called after the outermost COMMIT succeeds (the event bus dispatches from
 * here). One hook; NULL clears it. */
void crm_store_on_commit(crm_store *s, void (*fn)(void *ud), void *ud);

/* Called when the outermost transaction rolls back. */
void crm_store_on_rollback(crm_store *s, void (*fn)(void *ud), void *ud);

/* Applies the owner's migrations newer than its recorded version. Refuses
 * (CRM_EINVAL, message naming owner and both versions) when the database already
 * has a version higher than the last one given: the database was written by a
 * newer crm. *applied (may be NULL) receives how many ran. */
int crm_store_migrate(crm_store *s, const char *owner, const crm_migration *m, size_t n,
                      int *applied, crm_err *err);

/* The owner's recorded schema version, 0 when none. */
int crm_store_schema_version(crm_store *s, const char *owner, crm_err *err);

/* Sets err from the connection's last error, prefixed with `what`; returns CRM_EDB
 * (CRM_EBUSY when locked, CRM_EEXISTS on a UNIQUE violation). */
int crm_store_error(crm_store *s, const char *what, crm_err *err);

/* Binds a string, or NULL when str is NULL. */
int crm_bind_text(sqlite3_stmt *st, int idx, const char *str);

/* Column as malloc'd string, NULL for SQL NULL. */
char *crm_column_strdup(sqlite3_stmt *st, int col);

#endif

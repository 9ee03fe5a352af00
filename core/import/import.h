/* Import of contacts, companies, orders and interactions from CSV (RFC 4180,
 * via libcsv), JSON Lines or vCard, through the model's write API.
 *
 * Every row read ends in exactly one outcome, and the counts always satisfy
 *     read = stored + updated + unchanged + merged + rejected
 * where "unchanged" is a row matching a stored record field for field (so
 * re-importing a file reports only unchanged rows and writes nothing).
 * Rejected rows go to a reject file: the original cells plus `line` and
 * `reason` columns (the model's message naming field, value and rule).
 *
 * Rows are written in batched transactions; an import is journaled
 * (import_journal, and the ids it wrote as ranges in import_ranges) and can
 * be undone when it only created records. Reading streams: memory does not
 * grow with the file. */
#ifndef CRM_CORE_IMPORT_H
#define CRM_CORE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel.h"

typedef enum crm_import_format {
    CRM_IMPORT_AUTO,   /* from the extension: .jsonl/.ndjson, .vcf, else CSV */
    CRM_IMPORT_CSV,
    CRM_IMPORT_JSONL,
    CRM_IMPORT_VCARD
} crm_import_format;

/* Rows per transaction. Large: each commit writes every index page the batch
 * touched to the WAL, and with random keys (emails, phones) that is most of
 * them; 1M contacts took 46 s in batches of 5,000 and 28 s in batches of
 * 50,000. Memory holds one batch of rows (about 15 MB at this size). */
#define CRM_IMPORT_BATCH_DEFAULT 50000

typedef struct crm_import_opts {
    const char *entity;        /* "contacts" | "companies" | "orders" | "interactions" */
    const char *path;          /* input file */
    crm_import_format format;
    const char *lines_path;    /* orders: order lines file (order_external_id, sku, ...) */
    const char *rejects_path;  /* NULL: PATH.rejects.csv (or .jsonl) next to the input */
    const char *const *map;    /* "column=field" overrides; field "-" ignores a column */
    size_t n_map;
    bool dry_run;              /* validate everything, then roll back: nothing is written */
    bool merge_duplicates;     /* contacts: fold a row into a detected duplicate */
    size_t batch_size;         /* rows per transaction; 0 = CRM_IMPORT_BATCH_DEFAULT */
    bool progress;             /* draw a progress bar on stderr */
    bool force;                /* read a file the journal already has as imported */
    const char *encoding;      /* CSV: the file's encoding (NULL = utf-8; windows-1252,
                                  latin1, iso-8859-15); any other input must be UTF-8 */
} crm_import_opts;

typedef struct crm_import_report {
    int64_t id;                /* journal id; 0 for a dry run */
    int64_t read, stored, updated, unchanged, merged, rejected;
    char unknown[512];         /* unknown columns, comma-separated ("" when none) */
    char rejects_path[4096];   /* where rejected rows went ("" when none) */
    int64_t orphan_lines;      /* orders: lines matching no order row of the file */
    char lines_rejects_path[4096]; /* where those went ("" when none) */
    double seconds;
    /* An identical input (same bytes, lines file and options) already
     * imported: its journal id and time; nothing was read or written. */
    int64_t already_id, already_at;
    int64_t completes;         /* the interrupted import this run completes, or 0 */
} crm_import_report;

/* Imports o->path into the database. Row problems are not errors: they are
 * counted and written to the reject file. A regular file is hashed first:
 * when the journal has the same input as 'done' and o->force is false, the
 * run stops there (r->already_id set, CRM_OK). Runs whose process is gone
 * are marked 'interrupted' first; re-running one's input names it in
 * r->completes. Returns CRM_OK with *r filled, or
 * an error (unreadable file: CRM_EIO; bad option: CRM_EUSAGE; the database:
 * CRM_EDB) after rolling back the current batch; committed batches stay and
 * the journal row says "failed". */
int crm_import_run(crm_kernel *k, const crm_import_opts *o, crm_import_report *r,
                   crm_err *err);

/* Completes interrupted bulk loads: rebuilds the indexes a first load
 * dropped (bulk_load_indexes) when its import's process is gone. Called by
 * every kernel open; a database another writer holds is left for the next
 * command (CRM_OK). */
int crm_import_recover(crm_kernel *k, crm_err *err);

/* Undoes import `id`: deletes the records it created. Refuses (CRM_EINVAL,
 * saying why) when the import updated or merged records, when a record it
 * created was changed since, or when records created later depend on them
 * (orders, interactions of an imported contact...). */
int crm_import_undo(crm_kernel *k, int64_t id, crm_err *err);

/* Calls fn with one JSON object per journal row (newest first), after
 * marking runs whose process is gone as 'interrupted'. */
int crm_import_list(crm_kernel *k, int (*fn)(void *json, void *ud), void *ud, crm_err *err);

#endif

/* Internals of the importer shared by its files: the row a reader produces,
 * the readers (CSV, JSON Lines, vCard) and the per-entity handlers. */
#ifndef CRM_CORE_IMPORT_INT_H
#define CRM_CORE_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "import.h"
#include "kernel.h"

/* One input row. Strings are borrowed from the reader for the call. */
typedef struct imp_row {
    int64_t line;        /* 1-based line where the row starts */
    size_t n;            /* cells */
    char **names;        /* column names (CSV: the header, the same array every row) */
    char **cells;        /* values, NUL-terminated, un-neutralised (see export.h) */
    const char *raw;     /* JSON Lines: the line as read; NULL for CSV */
    const char *error;   /* set by the reader: the row is malformed (rejected) */
    const char **fields; /* set by the driver: target field per cell, NULL = ignored */
    bool names_stable;   /* names (array and strings) outlive the read (CSV header) */
} imp_row;

/* Streamed input: bytes consumed and a running hash of them. */
typedef struct imp_source {
    FILE *f;
    int64_t size;       /* file size, 0 when unknown (pipe) */
    int64_t consumed;
    uint64_t hash;      /* FNV-1a 64 of every byte read */
    char delim;         /* CSV: detected delimiter */
} imp_source;

/* Called per row; nonzero stops reading and is returned by the reader. */
typedef int (*imp_row_fn)(void *ud, imp_row *row);

/* Readers: each calls fn for every data row. The CSV reader detects the
 * delimiter (',' ';' or tab) from the header, skips a UTF-8 BOM and takes
 * the first row as column names. Return CRM_OK, fn's nonzero result, or an
 * error (CRM_EIO, CRM_EINVAL for a malformed file) with err set. */
int imp_read_csv(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);
int imp_read_jsonl(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);
int imp_read_vcard(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);

/* The value mapped to `field` in row r, or NULL when absent or empty. */
const char *imp_get(const imp_row *r, const char *field);

/* Outcomes of one row; a handler returns one of these or a negative CRM_E*
 * code with err set (the row is then rejected with err's message). */
enum { IMP_STORED = 1, IMP_UPDATED, IMP_UNCHANGED, IMP_MERGED };

typedef struct imp_ctx imp_ctx;

typedef struct imp_entity {
    const char *name;            /* "contacts" */
    const char *record;          /* "contact": import_records.entity, event prefix */
    const char *const *columns;  /* canonical columns, NULL-terminated */
    int custom;                  /* crm_entity whose custom fields map, or -1 */
    /* Writes one row; *id gets the record written (0 when none). */
    int (*apply)(imp_ctx *c, const imp_row *r, int64_t *id, crm_err *err);
} imp_entity;

struct imp_ctx {
    crm_kernel *k;
    const crm_import_opts *o;
    const imp_entity *ent;
    bool have_lines;             /* orders: the temp table imp_lines is loaded */
};

extern const imp_entity imp_contacts, imp_companies, imp_orders, imp_interactions;

/* True when `name` is a custom field of the entity's crm.yaml declaration. */
bool imp_is_custom(const imp_ctx *c, const char *field);

/* Orders: loads the lines file into the temp table imp_lines. */
int imp_load_lines(imp_ctx *c, const char *path, crm_err *err);

/* The entity named "contacts" (or "contact"), NULL when unknown. */
const imp_entity *imp_find_entity(const char *name);

/* The run's import_journal row and the records it wrote (journal.c). A dry
 * run has none: id 0 makes every call a no-op. */
typedef struct imp_journal {
    crm_kernel *k;
    const imp_entity *ent;
    int64_t id;
} imp_journal;

/* Inserts the journal row ("running") in its own transaction. */
int imp_journal_start(imp_journal *j, crm_kernel *k, const imp_entity *ent, const char *path,
                      crm_err *err);
/* Rewrites the counts in the open transaction; a status ends the run and
 * stores the input's hash. */
int imp_journal_update(imp_journal *j, const crm_import_report *r, uint64_t hash,
                       const char *status, crm_err *err);
/* Notes record `id` written by the row with `outcome` (IMP_*). */
int imp_journal_record(imp_journal *j, int64_t id, int outcome, crm_err *err);

/* Record lookups by a text key ("SELECT id FROM t WHERE x=?"); 0 when none. */
int imp_lookup(crm_kernel *k, const char *sql, const char *value, int64_t *id, crm_err *err);

#endif

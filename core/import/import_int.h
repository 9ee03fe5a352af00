/* Internals of the importer shared by its files: the row a reader produces,
 * the readers (CSV, JSON Lines, vCard), the per-entity handlers and the
 * helpers they call back into (helpers.c), the journal. The driver
 * (import.c) exports only crm_import_run (import.h). */
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
    const char *raw;     /* the row as read, in the file's encoding (CSV: its bytes up
                            to its line end; JSON Lines: the line), or NULL */
    size_t raw_len;
    size_t raw_cells;    /* CSV: the cells in raw (a short row is padded after) */
    const char *error;   /* set by the reader: the row is malformed (rejected) */
    const char **fields; /* set by the driver: target field per cell, NULL = ignored */
    bool names_stable;   /* names (array and strings) outlive the read (CSV header) */
    int error_code;      /* error's CRM_E* code; 0 means CRM_EINVAL */
    void *prep;          /* the entity's prepare result for this row, or NULL */
} imp_row;

/* An input encoding (codec.c). UTF-8 has no table (single is false); the
 * others are single-byte and ASCII-compatible: utf8[b - 0x80] is byte b's
 * character, len its length (0: the encoding leaves b undefined). */
typedef struct imp_codec {
    char name[16];      /* "windows-1252" */
    bool single;
    unsigned char len[128];
    char utf8[128][4];
} imp_codec;

/* Fills c for `name` (utf-8, utf8, windows-1252, cp1252, latin1,
 * iso-8859-1, latin9, iso-8859-15; any case). CRM_EUSAGE names the ones
 * known. */
int imp_codec_open(imp_codec *c, const char *name, crm_err *err);
/* Converts NUL-terminated `in` into out (3 * strlen(in) + 1 bytes at most).
 * Returns 0, or -1 when a byte is undefined (written as '?'; *bad gets the
 * offset of the first). */
int imp_codec_to_utf8(const imp_codec *c, const char *in, char *out, size_t *bad);
/* The reverse, for text written next to the original bytes (a reject's
 * reason): a character the encoding lacks becomes '?'. Returns the length. */
size_t imp_codec_from_utf8(const imp_codec *c, const char *in, char *out, size_t size);

/* A streamed UTF-8 check that knows where it stopped: line and column (in
 * characters, 1-based) of the first byte of the first invalid sequence. */
typedef struct imp_utf8 {
    int64_t line, col;
    int need;                 /* continuation bytes still expected */
    unsigned char lo, hi;     /* bounds of the next one */
    unsigned char seq[4];
    int n_seq;
    bool bad;
} imp_utf8;
void imp_utf8_init(imp_utf8 *u);
/* False once an invalid sequence was seen (u says where). */
bool imp_utf8_feed(imp_utf8 *u, const char *data, size_t n);
bool imp_utf8_end(imp_utf8 *u);
/* The refusal, once for the whole file: PATH:LINE:COLUMN, the byte, and
 * the --encoding to use; `before`: nothing was read into the database yet.
 * Returns CRM_EINVAL. */
int imp_utf8_refuse(const imp_utf8 *u, const char *path, bool before, crm_err *err);

/* Streamed input: bytes consumed and a running hash of them. */
typedef struct imp_source {
    FILE *f;
    const char *path;   /* for messages; NULL: "input" */
    int64_t size;       /* file size, 0 when unknown (pipe) */
    int64_t consumed;
    uint64_t hash;      /* FNV-1a 64 of every byte read */
    char delim;         /* CSV: detected delimiter */
    const imp_codec *codec; /* cells' encoding: NULL or not single = UTF-8 */
    bool check_utf8;    /* UTF-8 not checked beforehand (a pipe): the reader
                           stops at the first invalid byte */
    bool keep_raw;      /* CSV: rows carry their bytes, header_raw is kept */
    /* CSV, set by the reader before the first row: the header line as read
     * (without its line end), whether a BOM preceded it, the line end */
    char *header_raw;
    size_t header_raw_len;
    bool bom;
    char eol[3];
} imp_source;

/* Called per row; nonzero stops reading and is returned by the reader. */
typedef int (*imp_row_fn)(void *ud, imp_row *row);

/* Reads f to its end and rewinds it: *hash gets the FNV-1a 64 of every
 * byte (what a reader's imp_source.hash ends with), *lines (may be NULL)
 * its line ends. With utf8, refuses a
 * file that is not UTF-8 (imp_utf8_refuse: CRM_EINVAL); with a single-byte
 * codec, one that starts with a UTF-8 BOM. CRM_EIO. */
int imp_scan_file(FILE *f, const char *path, const imp_codec *codec, uint64_t *hash,
                  int64_t *lines, crm_err *err);

/* Readers: each calls fn for every data row. The CSV reader detects the
 * delimiter (',' ';' or tab) from the header, skips a UTF-8 BOM and takes
 * the first row as column names. Return CRM_OK, fn's nonzero result, or an
 * error (CRM_EIO, CRM_EINVAL for a malformed file) with err set. */
int imp_read_csv(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);
int imp_read_jsonl(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);
int imp_read_vcard(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);

/* The format of o->path (its extension when o->format is AUTO) and its
 * reader (helpers.c). */
typedef int (*imp_reader_fn)(imp_source *src, imp_row_fn fn, void *ud, crm_err *err);
crm_import_format imp_pick_format(const crm_import_opts *o);
imp_reader_fn imp_reader_for(crm_import_format format);

/* The CSV reader, pull style (the same dialects, lines and errors as
 * imp_read_csv): imp_csv_next gives the next data row, valid until the next
 * call; it returns 1, 0 at the end, or an error with err set. Memory stays
 * bounded by one 64 KiB chunk's rows. The caller keeps src->f open. */
typedef struct imp_csv imp_csv;
int imp_csv_open(imp_csv **out, imp_source *src, crm_err *err);
int imp_csv_next(imp_csv *r, imp_row *row, crm_err *err);
void imp_csv_close(imp_csv *r);

/* Reject files (helpers.c). The default path: INPUT's stem + ".rejects." +
 * ext, next to it. A CSV reject file is the input's header plus `line` and
 * `reason`; each row is padded to `width` cells so the columns hold. These
 * two write cells; the import's own reject file writes each row's raw bytes
 * (the source's delimiter, quoting, encoding and line end kept). */
void imp_rejects_path(const char *input, const char *ext, char *out, size_t size);
void imp_reject_csv_header(FILE *f, char *const *names, size_t n);
void imp_reject_csv_row(FILE *f, const imp_row *row, size_t width, const char *reason);
/* The raw writers: src's BOM and header line byte for byte, then each row's
 * bytes (a short row gets the delimiters it lacked up to `width` cells),
 * then `line` and `reason` in src's delimiter and encoding, and src's line
 * end. Use them when src->header_raw and row->raw are set. */
void imp_reject_raw_header(FILE *f, const imp_source *src);
void imp_reject_raw_row(FILE *f, const imp_source *src, const imp_row *row, size_t width,
                        const char *reason);

/* The value mapped to `field` in row r, or NULL when absent or empty
 * (helpers.c). */
const char *imp_get(const imp_row *r, const char *field);

/* Outcomes of one row; a handler returns one of these or a negative CRM_E*
 * code with err set (the row is then rejected with err's message). */
enum { IMP_STORED = 1, IMP_UPDATED, IMP_UNCHANGED, IMP_MERGED };

typedef struct imp_ctx imp_ctx;
typedef struct imp_lines imp_lines;

typedef struct imp_entity {
    const char *name;            /* "contacts" */
    const char *record;          /* "contact": import_ranges.entity, event prefix */
    const char *const *columns;  /* canonical columns, NULL-terminated */
    int custom;                  /* crm_entity whose custom fields map, or -1 */
    /* Writes one row; *id gets the record written (0 when none). r->prep
     * is what prepare made of the row, or NULL: apply then does it itself. */
    int (*apply)(imp_ctx *c, const imp_row *r, int64_t *id, crm_err *err);
    /* Optional: the row's work that reads no database and no Lua state
     * (parsing, normalising), run on the reader thread ahead of the writer.
     * An error rejects the row with err's message. */
    int (*prepare)(const imp_ctx *c, const imp_row *r, void **prep, crm_err *err);
    void (*release)(void *prep);
} imp_entity;

struct imp_ctx {
    crm_kernel *k;
    const crm_import_opts *o;
    const imp_codec *codec;      /* the input's encoding (CSV and lines files) */
    const imp_entity *ent;
    bool have_lines;             /* orders: a lines file is given (imp_load_lines) */
    imp_lines *lines;            /* orders: its state (lines.c), NULL without one */
};

extern const imp_entity imp_contacts, imp_companies, imp_orders, imp_interactions;

/* True when `name` is a custom field of the entity's crm.yaml declaration
 * (mapping.c). */
bool imp_is_custom(const imp_ctx *c, const char *field);

/* Orders: the lines file (lines.c). imp_load_lines pre-scans it with the
 * orders file: both sorted by order key, the lines are then read alongside
 * the orders (a merge), keeping the lines of the last batch_size orders for
 * a batch the driver runs again; otherwise they are staged in a scratch
 * database. Lines matching no order row go to the lines reject file either
 * way. imp_lines_free releases the state; call it once per run, even after
 * an error. */
int imp_load_lines(imp_ctx *c, const char *path, size_t batch_size, crm_err *err);
/* Takes the lines of the order row with key order_ext (NULL: none), before
 * the row is checked: a refused order's lines are not left for the next. */
int imp_lines_claim(imp_ctx *c, const char *order_ext, crm_err *err);
/* Fills o->lines with the claimed lines, each checked (an error names the
 * lines file line); without lines, the order must carry its total. */
struct crm_order;
int imp_lines_fill(imp_ctx *c, struct crm_order *o, crm_err *err);
/* Lines that matched no order row, and their reject file (NULL when none). */
int64_t imp_lines_orphans(const imp_ctx *c, const char **rejects_path);
void imp_lines_free(imp_ctx *c);

/* The entity named "contacts" (or "contact"), NULL when unknown (helpers.c). */
const imp_entity *imp_find_entity(const char *name);

/* The run's import_journal row and the records it wrote, as ranges of ids
 * in import_ranges (journal.c). A dry run has none: id 0 makes every call a
 * no-op. One range is pending in memory until the next id fails to extend
 * it or the batch commits. */
typedef struct imp_journal {
    crm_kernel *k;
    const imp_entity *ent;
    int64_t id;
    int action;                   /* pending range: IMP_* of its records, 0 = none */
    int64_t first, last;          /* its ids */
    int64_t stored_lo, stored_hi; /* bounds of the ids this run stored (never shrink) */
} imp_journal;

/* What identifies an input for the journal: the file's hash, the lines
 * file's, and the options that shape the outcome. NULL members are unknown
 * (a pipe is not read twice): such an input matches nothing. */
typedef struct imp_input {
    const char *hash, *lines_hash, *options;
} imp_input;

/* The process running an import, as the journal records it. */
typedef struct imp_proc {
    int64_t pid;
    int64_t start;        /* clock ticks since boot (/proc/PID/stat field 22), -1 unknown */
    char boot_id[40];     /* /proc/sys/kernel/random/boot_id, "" unknown */
    char host[256];
} imp_proc;

/* Fills p with the calling process. */
void imp_proc_self(imp_proc *p);
/* Fills p from four columns of st from `col` on: pid, proc_start, boot_id,
 * host (the journal's). */
void imp_proc_from_row(sqlite3_stmt *st, int col, imp_proc *p);
/* True when the process p recorded is certainly gone: same host and
 * another boot, or no process with that pid, or one started at another
 * time (a reused pid). A run on another host is never judged gone. */
bool imp_proc_gone(const imp_proc *p);

/* Marks every 'running' import whose process is gone as 'interrupted'
 * (its counts are those of its last committed batch). Writes only when
 * there is one, so a live import is never waited for; when another writer
 * keeps the database busy it leaves them for the next command (CRM_OK). */
int imp_journal_reap(crm_kernel *k, crm_err *err);

/* The newest journal row for this entity and input with `status` ("done",
 * "interrupted"), newer than any 'done' one when status is "interrupted".
 * *id is 0 when none; *at gets its finished_at (else started_at). */
int imp_journal_find(crm_kernel *k, const imp_entity *ent, const imp_input *in,
                     const char *status, int64_t *id, int64_t *at, crm_err *err);

/* Inserts the journal row ("running") in its own transaction, with the
 * input's identity, the import it completes (0: none) and this process. */
int imp_journal_start(imp_journal *j, crm_kernel *k, const imp_entity *ent, const char *path,
                      const imp_input *in, int64_t completes, crm_err *err);
/* Writes the pending range and rewrites the counts in the open transaction;
 * call it before each batch commits. A status ends the run and stores the
 * input's hash when given ("fnv1a64:HEX"; NULL keeps the one stored). */
int imp_journal_update(imp_journal *j, const crm_import_report *r, const char *hash,
                       const char *status, crm_err *err);
/* Notes record `id` written by the row with `outcome` (IMP_*) in the open
 * transaction. A record keeps the first action noted for it in the run. */
int imp_journal_record(imp_journal *j, int64_t id, int outcome, crm_err *err);
/* Drops the pending range: call it when the batch's transaction is rolled
 * back (its written ranges go with it). */
void imp_journal_discard(imp_journal *j);

/* Bulk load (bulk.c). When the entity's table is empty, or holds fewer
 * rows than the input's `lines` (0: unknown), drops the secondary indexes
 * its import does not read, recording them for import_id in the same
 * transaction; *on tells whether it did. */
int imp_bulk_begin(crm_kernel *k, const imp_entity *ent, int64_t import_id, int64_t lines,
                   bool *on, crm_err *err);
/* Rebuilds the indexes imp_bulk_begin dropped for import_id, and forgets
 * them, in one transaction. */
int imp_bulk_end(crm_kernel *k, int64_t import_id, crm_err *err);

/* Record lookups by a text key ("SELECT id FROM t WHERE x=?"); *id is 0
 * when none (helpers.c). */
int imp_lookup(crm_kernel *k, const char *sql, const char *value, int64_t *id, crm_err *err);

#endif

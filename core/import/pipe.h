/* The import's two stages: a reader thread parses the file and prepares
 * rows (the work that needs no database: parsing, normalising) into
 * batches, while the caller's thread writes the previous batch. Two batches
 * circulate, so memory stays bounded by twice the batch size whatever the
 * file's size. Rows reach the writer in file order. */
#ifndef CRM_CORE_IMPORT_PIPE_H
#define CRM_CORE_IMPORT_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "import_int.h"

/* One kept row: offsets into its batch's arena (NONE when absent). */
typedef struct imp_brow {
    int64_t line;
    size_t n;
    size_t cells;        /* index in offs of the first cell (names follow unless shared) */
    size_t raw, error;   /* arena offsets */
    size_t raw_len, raw_cells;
    int error_code;      /* the error's CRM_E* code (reader or prepare) */
    char **names;        /* the batch's copy of a stable header, or NULL: copied per row */
    void *prep;          /* what the entity's prepare made of the row, or NULL */
} imp_brow;

#define IMP_NONE ((size_t)-1)

/* Rows copied out of the reader, whose strings are only borrowed per call,
 * so that a batch whose fast run failed can be run again row by row. */
typedef struct imp_batch {
    char **header;           /* a copy of the reader's stable names (CSV header) */
    size_t n_header;
    char *const *header_of;  /* the reader's array it copies */
    imp_brow *rows;
    size_t n, cap;
    size_t *offs;
    size_t n_offs, cap_offs;
    char *arena;
    size_t used, cap_arena;
    int64_t consumed;        /* input bytes read when the batch was handed over */
    void (*release)(void *); /* frees a row's prep */
} imp_batch;

/* Copies row into b with its prep (owned by b from now on) and, when the
 * reader or prepare refused the row, error and its code. CRM_ENOMEM. */
int imp_batch_keep(imp_batch *b, const imp_row *row, void *prep, int code, const char *error);
/* Row i as an imp_row; names and cells must hold row's cell count. */
void imp_batch_row(const imp_batch *b, size_t i, char **names, char **cells, imp_row *row);
/* Frees every prep: a re-run prepares its rows again on the writer's thread. */
void imp_batch_drop_preps(imp_batch *b);
void imp_batch_clear(imp_batch *b);
void imp_batch_free(imp_batch *b);

/* Reads the whole input, calling fn per row (imp_read_csv and friends). */
typedef int (*imp_read_fn)(void *ud, imp_row_fn fn, void *fn_ud, crm_err *err);
/* Per row, on the reader thread: maps the row's columns and prepares it.
 * A nonzero return (with err set) refuses the row, not the file. */
typedef int (*imp_prepare_fn)(void *ud, imp_row *row, void **prep, crm_err *err);

typedef struct imp_pipe_cfg {
    size_t batch_size;
    imp_read_fn read;
    void *read_ud;
    imp_prepare_fn prepare;
    void *prepare_ud;
    void (*release)(void *prep); /* NULL when prepare makes no preps */
    const imp_source *src;       /* its `consumed` is sampled per batch */
} imp_pipe_cfg;

typedef struct imp_pipe imp_pipe;

int imp_pipe_start(imp_pipe **out, const imp_pipe_cfg *cfg, crm_err *err);
/* The next full batch (the last may be short), or NULL when the reader is
 * done. Hand it back with imp_pipe_recycle once written. */
imp_batch *imp_pipe_next(imp_pipe *p);
void imp_pipe_recycle(imp_pipe *p, imp_batch *b);
/* Stops the reader if it still runs, joins it and frees the pipe. Returns
 * how the reader ended (CRM_OK, or its error copied into err); a reader
 * stopped because the writer failed returns CRM_OK. */
int imp_pipe_finish(imp_pipe *p, crm_err *err);

#endif

/* A batch of imported rows: strings in one arena, rows as offsets into it. */
#include <stdlib.h>
#include <string.h>

#include "pipe.h"
#include "util.h"

/* n bytes and a NUL after them. */
static size_t put_bytes(imp_batch *b, const char *p, size_t n)
{
    size_t at = b->used;
    if (CRM_ARRAY_RESERVE(b->arena, b->cap_arena, b->used + n + 1) != CRM_OK)
        return IMP_NONE;
    memcpy(b->arena + at, p, n);
    b->arena[at + n] = '\0';
    b->used += n + 1;
    return at;
}

static size_t put_str(imp_batch *b, const char *str)
{
    return put_bytes(b, str, strlen(str));
}

/* The batch's copy of a reader's stable names: the CSV header, once. */
static char **stable_names(imp_batch *b, const imp_row *row)
{
    if (!row->names_stable || (b->header_of && b->header_of != row->names))
        return NULL;
    if (!b->header_of) {
        if (!(b->header = calloc(row->n ? row->n : 1, sizeof *b->header)))
            return NULL;
        b->header_of = row->names;
        for (size_t i = 0; i < row->n; i++, b->n_header++)
            if (!(b->header[i] = strdup(row->names[i])))
                return NULL;
    }
    return row->n == b->n_header ? b->header : NULL;
}

static int keep_strings(imp_batch *b, imp_brow *br, const imp_row *row, const char *error)
{
    size_t per = br->names ? row->n : 2 * row->n;
    if (CRM_ARRAY_RESERVE(b->offs, b->cap_offs, b->n_offs + per) != CRM_OK)
        return CRM_ENOMEM;
    for (size_t i = 0; i < row->n; i++)
        if ((b->offs[b->n_offs + i] = put_str(b, row->cells[i])) == IMP_NONE)
            return CRM_ENOMEM;
    for (size_t i = 0; !br->names && i < row->n; i++)
        if ((b->offs[b->n_offs + row->n + i] = put_str(b, row->names[i])) == IMP_NONE)
            return CRM_ENOMEM;
    if ((row->raw && (br->raw = put_bytes(b, row->raw, row->raw_len)) == IMP_NONE) ||
        (error && (br->error = put_str(b, error)) == IMP_NONE))
        return CRM_ENOMEM;
    b->n_offs += per;
    return CRM_OK;
}

int imp_batch_keep(imp_batch *b, const imp_row *row, void *prep, int code, const char *error)
{
    if (CRM_ARRAY_RESERVE(b->rows, b->cap, b->n + 1) != CRM_OK) {
        if (prep && b->release)
            b->release(prep);
        return CRM_ENOMEM;
    }
    imp_brow *br = &b->rows[b->n];
    *br = (imp_brow){.line = row->line, .n = row->n, .cells = b->n_offs, .raw = IMP_NONE,
                     .raw_len = row->raw_len, .raw_cells = row->raw_cells,
                     .error = IMP_NONE, .error_code = code, .names = stable_names(b, row),
                     .prep = prep};
    b->n++; /* counted even on failure, so that clear releases prep */
    return keep_strings(b, br, row, error);
}

void imp_batch_row(const imp_batch *b, size_t i, char **names, char **cells, imp_row *row)
{
    const imp_brow *br = &b->rows[i];
    for (size_t j = 0; j < br->n; j++) {
        cells[j] = b->arena + b->offs[br->cells + j];
        if (!br->names)
            names[j] = b->arena + b->offs[br->cells + br->n + j];
    }
    *row = (imp_row){.line = br->line, .n = br->n, .names = br->names ? br->names : names,
                     .cells = cells, .names_stable = br->names != NULL,
                     .raw = br->raw == IMP_NONE ? NULL : b->arena + br->raw,
                     .raw_len = br->raw_len, .raw_cells = br->raw_cells,
                     .error = br->error == IMP_NONE ? NULL : b->arena + br->error,
                     .error_code = br->error_code, .prep = br->prep};
}

void imp_batch_drop_preps(imp_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->rows[i].prep && b->release)
            b->release(b->rows[i].prep);
        b->rows[i].prep = NULL;
    }
}

void imp_batch_clear(imp_batch *b)
{
    imp_batch_drop_preps(b);
    b->n = b->n_offs = b->used = 0;
}

void imp_batch_free(imp_batch *b)
{
    imp_batch_clear(b);
    for (size_t i = 0; i < b->n_header; i++)
        free(b->header[i]);
    free(b->header);
    free(b->rows);
    free(b->offs);
    free(b->arena);
    memset(b, 0, sizeof *b);
}

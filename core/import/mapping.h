/* Column names to entity fields: canonical columns, custom fields, --map. */
#ifndef CRM_CORE_IMPORT_MAPPING_H
#define CRM_CORE_IMPORT_MAPPING_H

#include <stddef.h>

#include "import_int.h"

#define IMP_MAX_COLS 512
#define IMP_NAME_CACHE 64

/* A mapping cache: one per thread that maps rows (the reader prepares rows,
 * the writer applies them), so that neither waits for the other. */
typedef struct imp_mapper {
    const imp_ctx *c;
    char *unknown;                /* where unknown columns are listed, comma-separated,
                                   * or NULL: not listed */
    size_t unknown_size;
    char *cache_name[IMP_NAME_CACHE];
    const char *cache_field[IMP_NAME_CACHE];
    size_t n_cache;
    const char *fields[IMP_MAX_COLS];
    char **fields_of;             /* the names array fields[] was computed for */
    size_t fields_n;
} imp_mapper;

/* The field column `name` maps to (a --map entry first, else the loose
 * name match), NULL when none or mapped to "-". */
const char *imp_map_name(const imp_ctx *c, const char *name);

/* Sets row->fields (valid until the mapper maps a row with other names). */
void imp_map_row(imp_mapper *m, imp_row *row);
void imp_mapper_free(imp_mapper *m);

/* Checks every --map target up front: a typo is a usage error, not 10,000
 * rejects. */
int imp_check_map(const imp_ctx *c, crm_err *err);

#endif

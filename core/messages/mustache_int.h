/* Internals of the Mustache engine shared by its compiler, renderer and
 * checker: a template compiles to a flat list of instructions per unit (the
 * template itself, then each partial it reaches, each compiled once). */
#ifndef CRM_CORE_MESSAGES_MUSTACHE_INT_H
#define CRM_CORE_MESSAGES_MUSTACHE_INT_H

#include <stdint.h>

#include "messages/mustache.h"
#include "util.h" /* CRM_ARRAY_RESERVE */

typedef enum mu_opcode {
    MU_TEXT,     /* a = pool offset, b = length */
    MU_VAR,      /* a = name, escape */
    MU_SECTION,  /* a = name, end = first instruction after the body */
    MU_INVERTED, /* a = name, end as for MU_SECTION */
    MU_PARTIAL,  /* a = unit, b = pool offset of its indentation, c = its length */
    MU_BOL       /* a line of a partial starts: write the current indentation */
} mu_opcode;

typedef struct mu_op {
    uint8_t code;   /* mu_opcode */
    uint8_t escape; /* MU_VAR: HTML-escape the value */
    uint32_t a, b, c;
    uint32_t end;
    uint32_t ref; /* index in refs (VAR, SECTION, INVERTED, PARTIAL) */
} mu_op;

/* A name split at its dots: segments are NUL-terminated in the pool, one
 * after the other; dot means the implicit iterator `.`. */
typedef struct mu_name {
    uint32_t first; /* pool offset of the first segment */
    uint16_t count;
    uint8_t dot;
} mu_name;

/* A compiled template or partial: its instructions ops[first..end). */
typedef struct mu_unit {
    uint32_t name; /* pool offset of the partial's name (unit 0: the template's file) */
    uint32_t file; /* pool offset of the file shown in messages */
    uint32_t first, end;
    bool missing;  /* a partial the loader did not find: renders as nothing */
} mu_unit;

/* Where a reference is written; public refs are built from these. */
typedef struct mu_ref {
    uint8_t kind; /* crm_mustache_ref_kind */
    uint32_t text; /* pool offset of the name as written */
    uint32_t unit;
    uint32_t partial; /* PARTIAL: the unit it includes */
    uint32_t line, column;
} mu_ref;

struct crm_mustache {
    mu_op *ops;
    size_t nops, cap_ops;
    mu_name *names;
    size_t nnames, cap_names;
    mu_unit *units;
    size_t nunits, cap_units;
    mu_ref *refs;
    size_t nrefs, cap_refs;
    char *pool;
    size_t npool, cap_pool;
    crm_mustache_ref *pub; /* refs with pointers, built once compiling is done */
};

/* The NUL-terminated string at pool offset off. */
static inline const char *mu_str(const crm_mustache *t, uint32_t off)
{
    return t->pool + off;
}

/* "FILE:LINE:COLUMN" of reference r into buf. */
void mu_where(const crm_mustache *t, uint32_t ref, char *buf, size_t size);

#endif

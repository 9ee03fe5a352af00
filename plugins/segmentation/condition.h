/* segmentation plugin — declarative segment conditions compiled to SQL.
 *
 * A condition is `term ((and|or) term)*` with parentheses; `and` binds
 * tighter than `or`. A term is `FIELD OP VALUE`, OP one of = != > >= < <=.
 * Fields:
 *   recency_days frequency monetary r f m rfm_segment   (the stored RFM row)
 *   orders_<N>d            qualifying orders in the last N days
 *   interactions_<N>d      interactions in the last N days
 *   days_since_last_order  whole days since the last qualifying order
 *   churn_score            the stored churn score
 *   tag                    `tag = vip` has the tag, `tag != vip` has not
 *   segment                `segment = champions`: currently a member
 *   custom.<name>          a custom field (numbers compare as numbers)
 *   consent.<channel>.<purpose>  latest status: granted | withdrawn
 *   lifecycle_stage country city source   contact columns
 * The SQL reads contacts as `c` LEFT JOIN segmentation_rfm as `r`, with the
 * as-of instant bound as ?1. Pure string work: no SDK, no database. */
#ifndef SEG_CONDITION_H
#define SEG_CONDITION_H

#include <stddef.h>

#define SEG_COND_MAX_TERMS 32

typedef struct seg_cond {
    char sql[8192];                     /* the whole condition */
    size_t nterms;
    char term_text[SEG_COND_MAX_TERMS][128]; /* each term as written */
    char term_sql[SEG_COND_MAX_TERMS][1024]; /* each term alone */
} seg_cond;

/* One row of the operator table: as written, and in SQL. */
typedef struct seg_cond_op {
    const char *text, *sql;
} seg_cond_op;

/* The operator table (longest spelling first), *n rows. */
const seg_cond_op *seg_cond_ops(size_t *n);

/* The field table: how many rows, and row i's name (a prefix for
 * orders_ interactions_ custom. consent.); NULL past the end. */
size_t seg_cond_field_count(void);
const char *seg_cond_field_name(size_t i);

/* Compiles `text`. Returns 0, or -1 with a message in err (what was expected
 * at which character). */
int seg_cond_compile(const char *text, seg_cond *out, char *err, size_t errsize);

#endif

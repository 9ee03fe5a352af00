/* Small helpers shared by the model files: key/value sets,
 * reference resolution, and a WHERE-clause builder for list queries. */
#ifndef CRM_CORE_MODEL_UTIL_H
#define CRM_CORE_MODEL_UTIL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "util.h" /* string lists (crm_strv_*, crm_str_in), array growth */

/* NULL-safe equality. */
bool crm_str_equal(const char *a, const char *b);
/* Frees *dst and stores fresh (which may be NULL). Always CRM_OK. */
int crm_str_replace(char **dst, char *fresh);
void crm_str_lower_ascii(char *s);

/* Sets (replacing) key's value in the set. Copies both. */
int crm_kv_set(crm_kv **kv, size_t *n, const char *key, const char *value);

/* Cleans an optional text value in place: trims, collapses spaces, NFC;
 * a value that becomes empty is freed and set to NULL (unset). */
int crm_clean_optional(const char *field, char **value, crm_err *err);

/* Phone and postal code of any entity under the hygiene switches, read with
 * `country` (NULL or "" = locale.country): *v is replaced by the normalised
 * value. A phone that cannot be normalised is kept as typed when only
 * normalisation (not validation) is on. */
int crm_model_phone(const crm_kernel *k, const char *country, const char *field, char **v, crm_err *err);
/* crm_model_phone, also writing the number's type (crm_phone_type) into
 * type[size]; "" when the number was kept as typed or hygiene is off. */
int crm_model_phone_typed(const crm_kernel *k, const char *country, const char *field, char **v,
                          char *type, size_t size, crm_err *err);
int crm_model_postal(const crm_kernel *k, const char *country, const char *field, char **v, crm_err *err);

/* Binds an id, NULL when id <= 0. */
void crm_bind_id(sqlite3_stmt *st, int idx, int64_t id);

/* Runs `sql`, a query whose column 0 is an id: ?1 is bound to `text` when not
 * NULL (then ?2, if the statement has it, to `num`), else ?1 to `num`.
 * *found gets the first row's id, 0 when there is none. */
int crm_query_id(crm_kernel *k, const char *sql, const char *text, int64_t num, int64_t *found,
                 crm_err *err);

/* Runs a statement taking one id parameter. */
int crm_exec_id(crm_kernel *k, const char *sql, int64_t id, crm_err *err);

/* ISO 8601 UTC string for epoch seconds, JSON null for 0. */
json_t *crm_json_time(int64_t t);

/* How a textual reference to a record is looked up. */
typedef enum { CRM_REF_ID, CRM_REF_EXTERNAL, CRM_REF_TEXT } crm_ref_kind;
typedef struct crm_ref_rule {
    crm_ref_kind kind; /* ID: all digits; EXTERNAL: "ext:VALUE"; TEXT: anything else */
    const char *sql;   /* one parameter, returns the id */
} crm_ref_rule;

/* Resolves ref with the first rule of its kind; CRM_ENOTFOUND names `what`. */
int crm_resolve_ref(crm_kernel *k, const char *what, const char *ref, const crm_ref_rule *rules,
                    size_t n, int64_t *id, crm_err *err);

/* A SELECT with AND-ed WHERE clauses, each taking one text parameter. */
typedef struct crm_sql {
    char *text;
    size_t len, cap;
    const char *params[32];
    int n_params;
    int n_where;
} crm_sql;

void crm_sql_init(crm_sql *q, const char *select);
/* Adds "AND (clause)" with one bound text value (borrowed until crm_sql_each). */
void crm_sql_where(crm_sql *q, const char *clause, const char *value);
/* Appends ORDER BY order_by and LIMIT/OFFSET when limit > 0. */
void crm_sql_page(crm_sql *q, const char *order_by, int64_t limit, int64_t offset);
/* Prepares (uncached: the text varies), binds and calls row(st, ud) per row;
 * stops early when row returns nonzero (negative values are returned as errors). */
int crm_sql_each(crm_kernel *k, crm_sql *q, int (*row)(sqlite3_stmt *st, void *ud), void *ud,
                 crm_err *err);
void crm_sql_free(crm_sql *q);

/* Steps the prepared, bound statement st to its end, copying each row with
 * to_json, resets it, then calls fn(item, ud) per row until fn returns
 * nonzero. Rows are copied first so fn may write. `what` names the read in
 * the error ("cannot read WHAT"). Returns CRM_OK or the read's error. */
int crm_stmt_json_each(crm_kernel *k, sqlite3_stmt *st, json_t *(*to_json)(sqlite3_stmt *st),
                       const char *what, int (*fn)(json_t *item, void *ud), void *ud,
                       crm_err *err);

/* ---- shared between model files (not part of model.h's contract) -------- */

/* Loads interaction id into *out (zeroed first; author is the user's email,
 * else name). CRM_ENOTFOUND when absent. Used by the timeline. */
int crm_interaction_get(crm_kernel *k, int64_t id, crm_interaction *out, crm_err *err);

#endif

/* journeys plugin — declarative conditions, pure (no plugin.h): a clause
 * list "NAME OP VALUE [and NAME OP VALUE ...]" with OP one of = != > >= < <=,
 * evaluated over a JSON object of facts (the trigger's payload plus the
 * contact's aggregates). Numbers compare as integers when both sides are
 * integers, else as text; a fact that is absent or null makes its clause
 * false (except for !=). */
#ifndef JRN_CONDITION_H
#define JRN_CONDITION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Checks `cond` is well formed; 0, or -1 with a message in err[size]. */
int jrn_cond_check(const char *cond, char *err, size_t size);
/* True when every clause of cond holds over facts; "" or NULL holds. A
 * malformed condition never holds (jrn_cond_check refuses it at start). */
bool jrn_cond_eval(const char *cond, const json_t *facts);

#endif

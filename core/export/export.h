/* Export of contacts, companies, orders and interactions as CSV or JSON
 * Lines (the columns `crm import` reads back), and of one contact as vCard.
 *
 * Formula injection. A spreadsheet runs a cell as a formula when it starts
 * with = + - @ (also after a tab, CR or leading spaces in some programs).
 * Rule, shared by export and import so the round trip is lossless:
 *   danger(v): the first byte of v is = + - @ TAB or CR, or the first byte
 *              that is not a space or control character is = + - @ ;
 *              but a plain number ("-12.50", "+33612345678") is not danger.
 *   P(v)     : danger(v), or v starts with ' and P(v + 1).
 * Export writes "'" + v when P(v), else v. Import removes one leading "'"
 * from a cell w when P(w + 1). Since P(v) for every v starting with "'"
 * whose tail is P, a value that really starts with a quote before a formula
 * is exported with one more quote and comes back exactly. */
#ifndef CRM_CORE_EXPORT_H
#define CRM_CORE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel.h"

/* P(v) above. NULL is false. */
bool crm_cell_needs_quote(const char *v);

/* Import side: when P(v + 1) for v starting with "'", removes that quote in
 * place (memmove). Returns v. */
char *crm_cell_unneutralise(char *v);

/* Writes one CSV field (RFC 4180 quoting when needed) after neutralising it;
 * NULL writes an empty field. `first` omits the leading delimiter. */
void crm_csv_put(FILE *f, const char *v, bool first);
/* The same with another delimiter (';' for a French spreadsheet). */
void crm_csv_put_delim(FILE *f, const char *v, bool first, char delim);

typedef enum crm_export_format { CRM_EXPORT_CSV, CRM_EXPORT_JSONL } crm_export_format;

typedef struct crm_export_opts {
    const char *entity;      /* "contacts" | "companies" | "orders" | "interactions" */
    crm_export_format format;
    /* CSV for a French Excel: ';' between cells, a UTF-8 BOM (else Excel
     * reads the bytes as windows-1252), CRLF, amounts with a decimal comma.
     * `crm import` reads it back as it is. */
    bool excel;
    /* filters (NULL = all) */
    const char *city, *country, *tag, *source, *postal_code;  /* contacts */
    const char *sets[3];  /* contacts: crm_contact_set_* names they belong to, NULL ends */
    const char *status;                                        /* orders */
    const char *since, *until;   /* orders placed / interactions occurred, ISO 8601 */
} crm_export_opts;

/* Writes the records to out; *count receives the rows written. */
int crm_export_run(crm_kernel *k, const crm_export_opts *o, FILE *out, int64_t *count,
                   crm_err *err);

/* Writes contact id as a vCard 4.0 (FN, N, EMAIL, TEL, ADR, ORG, BDAY, UID,
 * CATEGORIES). */
int crm_export_vcard(crm_kernel *k, int64_t id, FILE *out, crm_err *err);

#endif

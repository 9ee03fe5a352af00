/* Mustache templates for messages: compile once, render many, check early.
 *
 * The language is the required part of the Mustache specification
 * (https://github.com/mustache/spec: comments, delimiters, interpolation,
 * inverted, partials, sections), tested by tests/unit/test_mustache_spec.c
 * against the specification's own files. The optional modules (lambdas,
 * inheritance, dynamic names) are not implemented: `{{$x}}` and `{{<x}}`
 * are refused at compile time rather than misread.
 *
 * Data is a jansson value. A name is looked up from the innermost section's
 * value outwards; a dotted name `a.b.c` finds `a` that way, then `b` and `c`
 * inside it only. `.` is the current value. Falsey values are: missing,
 * null, false, the empty list and the empty string ("" is falsey so that
 * `{{first_name}}{{^first_name}}client{{/first_name}}` covers an empty
 * name as well as a missing one). Numbers interpolate in their shortest
 * round-trip form, true/false as words, null, lists and objects as nothing.
 *
 * A compiled template is immutable: several threads may render it at once.
 * Rendering is bounded (CRM_MUSTACHE_MAX_DEPTH nested sections and
 * partials, CRM_MUSTACHE_MAX_OUTPUT bytes) so a self-including partial or a
 * runaway template fails with an error instead of exhausting the stack. */
#ifndef CRM_CORE_MESSAGES_MUSTACHE_H
#define CRM_CORE_MESSAGES_MUSTACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Largest template source (one file) compile accepts. */
#define CRM_MUSTACHE_MAX_SOURCE (16u << 20)
/* Deepest nesting of sections and partials while rendering. */
#define CRM_MUSTACHE_MAX_DEPTH 64
/* Largest output of one render. */
#define CRM_MUSTACHE_MAX_OUTPUT (64u << 20)
/* Longest name a tag may hold, in bytes. */
#define CRM_MUSTACHE_MAX_NAME 255
/* Longest delimiter a `{{=<% %>=}}` tag may set. */
#define CRM_MUSTACHE_MAX_DELIM 16

typedef struct crm_mustache crm_mustache;

/* Finds partial `name` for the compiler. On success sets *text to a
 * malloc'd copy of its source (the compiler frees it), *len to its length
 * and, optionally, *file to a malloc'd path used in error messages (leave it
 * NULL to show the partial's name). Returns CRM_OK; CRM_ENOTFOUND when there
 * is no such partial (the specification renders it as nothing;
 * crm_mustache_check reports it); any other code, with err set, stops the
 * compile. */
typedef int (*crm_mustache_load_fn)(void *ud, const char *name, char **text, size_t *len,
                                    char **file, crm_err *err);

typedef struct crm_mustache_opts {
    const char *file;          /* shown in error messages; "template" when NULL */
    bool escape_html;          /* {{x}} escapes & < > " ' (HTML bodies); text bodies: false */
    crm_mustache_load_fn load; /* partials; NULL: every partial is missing */
    void *load_ud;
} crm_mustache_opts;

/* Compiles text[0..len) (and, through o->load, every partial it reaches,
 * each once) into *out. o may be NULL (no escaping, no partials). A syntax
 * error returns CRM_EINVAL with err saying "FILE:LINE:COLUMN: what, and
 * what to do" (an unclosed section points at its opening tag); CRM_ENOMEM;
 * or the loader's error. Lines and columns are 1-based, columns count
 * UTF-8 characters. */
int crm_mustache_compile(const char *text, size_t len, const crm_mustache_opts *o,
                         crm_mustache **out, crm_err *err);

/* Frees t (NULL-safe). */
void crm_mustache_free(crm_mustache *t);

/* A growable output buffer, reusable across renders so rendering many
 * messages allocates only while the largest one grows. Zero-initialise it;
 * free with crm_mustache_buf_free. */
typedef struct crm_mustache_buf {
    char *data; /* NUL-terminated after a successful render */
    size_t len;
    size_t cap;
} crm_mustache_buf;

/* Frees b's memory and zeroes it (NULL-safe). */
void crm_mustache_buf_free(crm_mustache_buf *b);

/* Renders t against data (any JSON value; NULL renders as an empty
 * context) into out, replacing its content. Returns CRM_OK, CRM_ENOMEM, or
 * CRM_EINVAL when a bound (depth, output size) is exceeded, with err
 * naming the file, line and column of the tag that exceeded it. */
int crm_mustache_render(const crm_mustache *t, const json_t *data, crm_mustache_buf *out,
                        crm_err *err);

/* ---- Static checks (`crm template check`) ------------------------------ */

typedef enum crm_mustache_ref_kind {
    CRM_MUSTACHE_VAR,      /* {{x}} {{{x}}} {{&x}} */
    CRM_MUSTACHE_SECTION,  /* {{#x}} */
    CRM_MUSTACHE_INVERTED, /* {{^x}} */
    CRM_MUSTACHE_PARTIAL   /* {{>x}} */
} crm_mustache_ref_kind;

/* One name a template references, where it is written. */
typedef struct crm_mustache_ref {
    crm_mustache_ref_kind kind;
    const char *name; /* as written, trimmed: "first_name", "last_order.total", "." */
    const char *file; /* the template's or the partial's file */
    unsigned line, column;
    bool missing;     /* PARTIAL only: the loader did not find it */
} crm_mustache_ref;

/* Every reference of t and of the partials it reaches, in source order,
 * template first; *n receives the count. Owned by t. */
const crm_mustache_ref *crm_mustache_refs(const crm_mustache *t, size_t *n);

/* "var", "section", "inverted", "partial". */
const char *crm_mustache_ref_kind_name(crm_mustache_ref_kind k);

typedef enum crm_mustache_severity {
    CRM_MUSTACHE_ERROR,  /* the template must not be used */
    CRM_MUSTACHE_WARNING /* likely a mistake, harmless when rendered */
} crm_mustache_severity;

typedef struct crm_mustache_issue {
    crm_mustache_severity severity;
    const crm_mustache_ref *ref; /* the reference at fault (owned by the template) */
    char message[512];           /* "FILE:LINE:COLUMN: what, and what to do" */
} crm_mustache_issue;

typedef struct crm_mustache_report {
    crm_mustache_issue *items; /* in the order met: the template's, a partial's where included */
    size_t count;
    size_t errors;
} crm_mustache_report;

/* Frees r's items and zeroes it (NULL-safe). */
void crm_mustache_report_free(crm_mustache_report *r);

/* Checks every reference of t against shape, the data a template may see:
 *   an object      the names it declares (each member's value is its shape);
 *   an array       a list, whose first element (if any) is each item's shape;
 *   null           declared, of unknown shape: anything under it is accepted;
 *   anything else  a value (a string such as "text" may describe it).
 * Names resolve as when rendering, through the sections that enclose them.
 * Errors: a variable whose name is not declared, unless it is inside a
 * section or inverted section of that name (`{{#deal}}{{deal.title}}` too)
 * or directly next to an inverted section of the same name (the explicit
 * fallback `{{first_name}}{{^first_name}}client{{/first_name}}`); a variable naming a
 * list or an object; a dotted name through a list or a scalar; a missing
 * partial. Warnings: a section or inverted section over an undeclared name
 * (it never renders its content, or always does). A NULL shape accepts
 * every name. Fills *report (no need to initialise it; free it with
 * crm_mustache_report_free; its refs live as long as t). Returns CRM_OK when there
 * is no error, CRM_EINVAL with err holding the first error and how many
 * there are, or CRM_ENOMEM. */
int crm_mustache_check(const crm_mustache *t, const json_t *shape, crm_mustache_report *report,
                       crm_err *err);

/* Builds a shape from dotted names: "first_name", "last_order.total",
 * "orders[].number" (orders is a list of objects), "tags[]" (a list of
 * values), "payload.*" (payload is of unknown shape). Returns CRM_OK with
 * *shape (a new reference), CRM_EINVAL naming the entry that is malformed
 * or contradicts another ("a" as a value and "a.b"), or CRM_ENOMEM. */
int crm_mustache_shape_from_names(const char *const *names, size_t n, json_t **shape,
                                  crm_err *err);

#endif

/* The Mustache renderer: runs a unit's instructions against a stack of
 * JSON values. Sections recurse (bounded by CRM_MUSTACHE_MAX_DEPTH);
 * inverted sections that render simply fall through into their body. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/mustache_int.h"

typedef struct render {
    const crm_mustache *t;
    crm_mustache_buf *out;
    const json_t *stack[CRM_MUSTACHE_MAX_DEPTH + 1];
    size_t depth;   /* frames on the stack */
    unsigned nest;  /* sections and partials being rendered */
    uint32_t ref;   /* the last tag reached, for error messages */
    char *indent;   /* a partial's indentation is indent[ind_from..ind_used) */
    size_t ind_from, ind_used, ind_cap;
    crm_err *err;
} render;

static int where_error(render *r, int code, const char *what)
{
    char at[600];
    mu_where(r->t, r->ref, at, sizeof at);
    return crm_err_set(r->err, code, "%s: %s", at, what);
}

static int grow_out(render *r, size_t need)
{
    crm_mustache_buf *b = r->out;
    if (need > (size_t)CRM_MUSTACHE_MAX_OUTPUT + 1)
        return where_error(r, CRM_EINVAL, "the message grows past the 64 MiB a render may "
                           "write: look for a section repeated over too much data");
    if (CRM_ARRAY_RESERVE(b->data, b->cap, need) != CRM_OK)
        return where_error(r, CRM_ENOMEM, "out of memory rendering the message");
    return CRM_OK;
}

/* Appends s[0..n); room for the final NUL is kept. */
static inline int put(render *r, const char *s, size_t n)
{
    crm_mustache_buf *b = r->out;
    int rc;
    if (b->len + n >= b->cap && (rc = grow_out(r, b->len + n + 1)) != CRM_OK)
        return rc;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return CRM_OK;
}

static const char *const html_entity[256] = {
    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

static int put_escaped(render *r, const char *s, size_t n)
{
    size_t run = 0;
    int rc;
    for (size_t i = 0; i < n; i++) {
        const char *e = html_entity[(unsigned char)s[i]];
        if (!e)
            continue;
        if ((rc = put(r, s + run, i - run)) != CRM_OK || (rc = put(r, e, strlen(e))) != CRM_OK)
            return rc;
        run = i + 1;
    }
    return put(r, s + run, n - run);
}

/* The shortest %g form that reads back as the same double, with a '.'
 * whatever the locale. */
static size_t format_real(double d, char *buf, size_t size)
{
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    for (int i = 0; i < n; i++)
        if (buf[i] == ',')
            buf[i] = '.';
    return n > 0 ? (size_t)n : 0;
}

/* Writes a value as text: strings as they are (escaped when asked),
 * numbers and booleans as JSON writes them; null, lists and objects as
 * nothing. */
static int put_value(render *r, const json_t *v, bool escape)
{
    char num[64];
    size_t n;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return (escape ? put_escaped : put)(r, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return put(r, num, n);
    case JSON_REAL:
        n = format_real(json_real_value(v), num, sizeof num);
        return put(r, num, n);
    case JSON_TRUE:
        return put(r, "true", 4);
    case JSON_FALSE:
        return put(r, "false", 5);
    default:
        return CRM_OK;
    }
}

/* A name from the innermost frame out; the rest of a dotted name inside
 * what its first segment found only. NULL when missing. */
static const json_t *lookup(const render *r, const mu_name *nm)
{
    if (nm->dot)
        return r->stack[r->depth - 1];
    const char *seg = mu_str(r->t, nm->first);
    json_t *v = NULL;
    for (size_t d = r->depth; d-- > 0;) {
        const json_t *f = r->stack[d];
        if (json_is_object(f) && (v = json_object_get(f, seg)) != NULL)
            break;
    }
    for (uint16_t k = 1; v && k < nm->count; k++) {
        seg += strlen(seg) + 1;
        v = json_is_object(v) ? json_object_get(v, seg) : NULL;
    }
    return v;
}

static bool truthy(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    default:
        return true;
    }
}

static int run(render *r, uint32_t from, uint32_t to);

static int enter(render *r)
{
    if (r->nest >= CRM_MUSTACHE_MAX_DEPTH)
        return where_error(r, CRM_EINVAL, "sections and partials nest more than 64 deep here: "
                           "does a partial include itself outside a section that ends?");
    r->nest++;
    return CRM_OK;
}

/* The body ops[i+1..end) once per item of a list, or once for any other
 * truthy value, with that value as the innermost frame. */
static int section(render *r, uint32_t i, const json_t *v)
{
    const mu_op *op = &r->t->ops[i];
    int rc = enter(r);
    if (rc != CRM_OK)
        return rc;
    if (json_is_array(v)) {
        for (size_t k = 0; k < json_array_size(v) && rc == CRM_OK; k++) {
            r->stack[r->depth++] = json_array_get(v, k);
            rc = run(r, i + 1, op->end);
            r->depth--;
        }
    } else {
        r->stack[r->depth++] = v;
        rc = run(r, i + 1, op->end);
        r->depth--;
    }
    r->nest--;
    return rc;
}

/* A standalone partial's lines take the current indentation plus the
 * tag's own; an inline partial's lines take none. */
static int partial(render *r, const mu_op *op)
{
    const mu_unit *u = &r->t->units[op->a];
    if (u->first == u->end)
        return CRM_OK;
    int rc = enter(r);
    if (rc != CRM_OK)
        return rc;
    size_t from = r->ind_from, used = r->ind_used;
    if (op->c == 0) {
        r->ind_from = used;
    } else {
        if (CRM_ARRAY_RESERVE(r->indent, r->ind_cap, used + op->c) != CRM_OK) {
            r->nest--;
            return where_error(r, CRM_ENOMEM, "out of memory rendering the message");
        }
        memcpy(r->indent + used, mu_str(r->t, op->b), op->c);
        r->ind_used = used + op->c;
    }
    rc = run(r, u->first, u->end);
    r->ind_from = from;
    r->ind_used = used;
    r->nest--;
    return rc;
}

static int run(render *r, uint32_t from, uint32_t to)
{
    const crm_mustache *t = r->t;
    int rc = CRM_OK;
    for (uint32_t i = from; i < to && rc == CRM_OK; i++) {
        const mu_op *op = &t->ops[i];
        const json_t *v;
        switch (op->code) {
        case MU_TEXT:
            rc = put(r, t->pool + op->a, op->b);
            break;
        case MU_VAR:
            r->ref = op->ref;
            rc = put_value(r, lookup(r, &t->names[op->a]), op->escape);
            break;
        case MU_SECTION:
            r->ref = op->ref;
            v = lookup(r, &t->names[op->a]);
            if (truthy(v))
                rc = section(r, i, v);
            i = op->end - 1;
            break;
        case MU_INVERTED:
            if (truthy(lookup(r, &t->names[op->a])))
                i = op->end - 1;
            break;
        case MU_PARTIAL:
            r->ref = op->ref;
            rc = partial(r, op);
            break;
        case MU_BOL:
            if (r->ind_used > r->ind_from)
                rc = put(r, r->indent + r->ind_from, r->ind_used - r->ind_from);
            break;
        default:
            rc = crm_err_set(r->err, CRM_EINTERNAL, "unknown template instruction %u",
                             op->code);
        }
    }
    return rc;
}

int crm_mustache_render(const crm_mustache *t, const json_t *data, crm_mustache_buf *out,
                        crm_err *err)
{
    render r = {.t = t, .out = out, .depth = 1, .ref = UINT32_MAX, .err = err};
    r.stack[0] = data;
    out->len = 0;
    int rc = out->cap ? CRM_OK : grow_out(&r, 1);
    if (rc == CRM_OK)
        rc = run(&r, t->units[0].first, t->units[0].end);
    free(r.indent);
    if (rc != CRM_OK)
        out->len = 0;
    if (out->data)
        out->data[out->len] = '\0';
    return rc;
}

void crm_mustache_buf_free(crm_mustache_buf *b)
{
    if (!b)
        return;
    free(b->data);
    *b = (crm_mustache_buf){0};
}

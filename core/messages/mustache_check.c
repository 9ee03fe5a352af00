/* Static checks of a compiled template against the shape of the data it
 * may see: the renderer's name resolution, played over shapes instead of
 * values, through every section and partial once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "messages/mustache_int.h"

typedef enum frame_kind {
    FR_SHAPE,  /* a declared shape: an object's members resolve, nothing else */
    FR_OPAQUE, /* a section over an undeclared name: nothing resolves */
    FR_ANY     /* of unknown shape: every name resolves */
} frame_kind;

typedef struct frame {
    const json_t *shape;
    frame_kind kind;
} frame;

typedef struct checker {
    const crm_mustache *t;
    frame frames[CRM_MUSTACHE_MAX_DEPTH + 1];
    size_t nframes;
    const char *guards[CRM_MUSTACHE_MAX_DEPTH]; /* enclosing sections' names */
    size_t nguards;
    unsigned nest;
    bool *on_path;      /* per unit: being checked (recursive partials) */
    uint8_t *reported;  /* per ref: already reported */
    crm_mustache_report *rep;
    size_t cap_items;
} checker;

typedef enum resolved {
    RS_FOUND,      /* *shape (or any) */
    RS_UNDECLARED, /* no frame declares it, or a member is not declared */
    RS_THROUGH     /* a dotted name goes through a list or a value */
} resolved;

/* The outcome of resolving a name: where it failed, to say so. */
typedef struct resolution {
    resolved how;
    const json_t *shape; /* RS_FOUND: the shape; NULL with any */
    bool any;
    size_t seg;          /* failing segment's index */
    const json_t *in;    /* RS_UNDECLARED in a member: the object searched */
} resolution;

static bool is_any(const json_t *s)
{
    return !s || json_is_null(s);
}

static resolution resolve(const checker *k, const mu_name *nm)
{
    resolution r = {.how = RS_FOUND};
    if (nm->dot) {
        const frame *f = &k->frames[k->nframes - 1];
        r.any = f->kind != FR_SHAPE || is_any(f->shape);
        r.shape = r.any ? NULL : f->shape;
        return r;
    }
    const char *seg = mu_str(k->t, nm->first);
    const json_t *v = NULL;
    bool found = false;
    for (size_t d = k->nframes; d-- > 0 && !found;) {
        const frame *f = &k->frames[d];
        if (f->kind == FR_ANY || (f->kind == FR_SHAPE && is_any(f->shape)))
            found = r.any = true;
        else if (f->kind == FR_SHAPE && json_is_object(f->shape))
            found = (v = json_object_get(f->shape, seg)) != NULL;
    }
    if (!found)
        return (resolution){.how = RS_UNDECLARED};
    for (uint16_t i = 1; i < nm->count && !r.any; i++) {
        seg += strlen(seg) + 1;
        if (is_any(v)) {
            r.any = true;
        } else if (!json_is_object(v)) {
            return (resolution){.how = RS_THROUGH, .seg = i, .in = v};
        } else {
            const json_t *in = v;
            if (!(v = json_object_get(in, seg)))
                return (resolution){.how = RS_UNDECLARED, .seg = i, .in = in};
        }
    }
    if (!r.any && is_any(v))
        r.any = true;
    r.shape = r.any ? NULL : v;
    return r;
}

/* ---- Reporting ---------------------------------------------------------- */

static int add_issue(checker *k, uint32_t ref, crm_mustache_severity sev, const char *what)
{
    crm_mustache_report *rep = k->rep;
    uint8_t bit = sev == CRM_MUSTACHE_ERROR ? 1 : 2;
    if (k->reported[ref] & bit)
        return CRM_OK;
    k->reported[ref] |= bit;
    if (CRM_ARRAY_RESERVE(rep->items, k->cap_items, rep->count + 1) != CRM_OK)
        return CRM_ENOMEM;
    crm_mustache_issue *it = &rep->items[rep->count++];
    it->severity = sev;
    it->ref = &k->t->pub[ref];
    char at[600];
    mu_where(k->t, ref, at, sizeof at);
    snprintf(it->message, sizeof it->message, "%s: %s", at, what);
    rep->errors += sev == CRM_MUSTACHE_ERROR;
    return CRM_OK;
}

/* " (did you mean 'x'?)" for the nearest of the names the frames (or the
 * object `in`) declare, or "". */
static void suggest(const checker *k, const char *word, const json_t *in, char *buf, size_t size)
{
    const char *names[257];
    size_t n = 0;
    const char *key;
    json_t *val;
    buf[0] = '\0';
    for (size_t d = k->nframes; d-- > 0 && n < 256;) {
        const json_t *obj = in ? in : k->frames[d].shape;
        if ((in || k->frames[d].kind == FR_SHAPE) && json_is_object(obj))
            json_object_foreach((json_t *)obj, key, val) {
                if (n < 256)
                    names[n++] = key;
            }
        if (in)
            break;
    }
    names[n] = NULL;
    const char *near = crm_suggest(word, names);
    if (near)
        snprintf(buf, size, " (did you mean '%s'?)", near);
}

/* The name's first `upto` segments joined with dots ("last_order"). */
static void prefix(const checker *k, const mu_name *nm, size_t upto, char *buf, size_t size)
{
    const char *seg = mu_str(k->t, nm->first);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < upto && len < size; i++, seg += strlen(seg) + 1)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "." : "", seg);
}

static const char *segment(const checker *k, const mu_name *nm, size_t i)
{
    const char *seg = mu_str(k->t, nm->first);
    while (i--)
        seg += strlen(seg) + 1;
    return seg;
}

/* Why a name did not resolve, in words, with a suggestion. */
static void explain(const checker *k, const mu_name *nm, const char *name, const resolution *r,
                    char *buf, size_t size)
{
    char head[256], near[160];
    const char *seg = segment(k, nm, r->seg);
    prefix(k, nm, r->seg, head, sizeof head);
    if (r->how == RS_THROUGH) {
        if (json_is_array(r->in))
            snprintf(buf, size, "'%s' is a list: take its items with {{#%s}}...{{/%s}} and name "
                     "'%s' inside", head, head, head, seg);
        else
            snprintf(buf, size, "'%s' is a value, it has no '%s'", head, seg);
        return;
    }
    suggest(k, seg, r->seg ? r->in : NULL, near, sizeof near);
    if (r->seg)
        snprintf(buf, size, "'%s' has no '%s'%s", head, seg, near);
    else
        snprintf(buf, size, "'%s' is not in the data this template sees%s", name, near);
}

/* ---- Walking the instructions ------------------------------------------- */

/* Inside a section over the same name (or a name it starts with). */
static bool guarded_by_section(const checker *k, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < k->nguards; i++) {
        size_t g = strlen(k->guards[i]);
        if (g <= n && memcmp(name, k->guards[i], g) == 0 && (name[g] == '\0' || name[g] == '.'))
            return true;
    }
    return false;
}

static const char *ref_name(const checker *k, uint32_t ref)
{
    return k->t->pub[ref].name;
}

/* ops[i] is an inverted section over `name`. */
static bool is_fallback(const checker *k, size_t i, const char *name)
{
    const mu_op *op = &k->t->ops[i];
    return op->code == MU_INVERTED && strcmp(ref_name(k, op->ref), name) == 0;
}

/* A variable at ops[i]; prev is the instruction before it at the same level
 * (SIZE_MAX: none), to the end of that level. */
/* ops[i] is a variable named `name`. */
static bool is_var(const checker *k, size_t i, const char *name)
{
    const mu_op *op = &k->t->ops[i];
    return op->code == MU_VAR && strcmp(ref_name(k, op->ref), name) == 0;
}

static int check_var(checker *k, size_t i, size_t prev, size_t to)
{
    const mu_op *op = &k->t->ops[i];
    const char *name = ref_name(k, op->ref);
    const mu_name *nm = &k->t->names[op->a];
    resolution r = resolve(k, nm);
    char what[512], why[400];
    if (r.how == RS_FOUND) {
        if (r.any || (!json_is_object(r.shape) && !json_is_array(r.shape)))
            return CRM_OK;
        if (json_is_array(r.shape))
            snprintf(what, sizeof what, "{{%s}} is a list and renders as nothing: write "
                     "{{#%s}}...{{/%s}} to show its items", name, name, name);
        else
            snprintf(what, sizeof what, "{{%s}} is an object and renders as nothing: name one "
                     "of its fields ({{%s%s%s}})", name, nm->dot ? "" : name, nm->dot ? "" : ".",
                     json_object_size(r.shape) ? json_object_iter_key(
                         json_object_iter((json_t *)r.shape)) : "field");
        return add_issue(k, op->ref, CRM_MUSTACHE_ERROR, what);
    }
    bool fallback = (i + 1 < to && is_fallback(k, i + 1, name)) ||
                    (prev != SIZE_MAX && is_fallback(k, prev, name));
    if (r.how == RS_UNDECLARED && (fallback || guarded_by_section(k, name)))
        return CRM_OK;
    explain(k, nm, name, &r, why, sizeof why);
    if (r.how == RS_THROUGH)
        snprintf(what, sizeof what, "{{%s}}: %s", name, why);
    else
        snprintf(what, sizeof what, "{{%s}}: %s: fix the name, declare it, or follow it with "
                 "a fallback {{^%s}}...{{/%s}}", name, why, name, name);
    return add_issue(k, op->ref, CRM_MUSTACHE_ERROR, what);
}

static int walk(checker *k, size_t from, size_t to);

static int too_deep(checker *k, uint32_t ref)
{
    return add_issue(k, ref, CRM_MUSTACHE_ERROR, "sections and partials nest more than 64 deep "
                     "here: rendering would fail");
}

/* A section or inverted section at ops[i]: its name, then its body with
 * the frame rendering would push (sections) and its name as a guard. */
static int check_section(checker *k, size_t i, size_t prev, size_t to)
{
    const mu_op *op = &k->t->ops[i];
    const char *name = ref_name(k, op->ref);
    const mu_name *nm = &k->t->names[op->a];
    bool inverted = op->code == MU_INVERTED;
    char tag[300], what[512], why[400];
    snprintf(tag, sizeof tag, "{{%c%s}}", inverted ? '^' : '#', name);
    resolution r = resolve(k, nm);
    int rc = CRM_OK;
    if (r.how != RS_FOUND) {
        /* An inverted section next to the variable it stands in for. */
        bool fallback = inverted && ((prev != SIZE_MAX && is_var(k, prev, name)) ||
                                     (op->end < to && is_var(k, op->end, name)));
        explain(k, nm, name, &r, why, sizeof why);
        snprintf(what, sizeof what, "%s: %s%s", tag, why,
                 r.how == RS_THROUGH ? "" : inverted ? ": its content always renders"
                                                     : ": its content never renders");
        if (!fallback)
            rc = add_issue(k, op->ref, r.how == RS_THROUGH ? CRM_MUSTACHE_ERROR
                                                           : CRM_MUSTACHE_WARNING, what);
    }
    if (rc != CRM_OK)
        return rc;
    if (k->nest >= CRM_MUSTACHE_MAX_DEPTH)
        return too_deep(k, op->ref);
    frame f = {.kind = FR_OPAQUE};
    if (r.how == RS_FOUND && r.any)
        f.kind = FR_ANY;
    else if (r.how == RS_FOUND && json_is_array(r.shape))
        f = json_array_size(r.shape) ? (frame){json_array_get(r.shape, 0), FR_SHAPE}
                                     : (frame){NULL, FR_ANY};
    else if (r.how == RS_FOUND)
        f = (frame){r.shape, FR_SHAPE};
    k->nest++;
    k->guards[k->nguards++] = name;
    if (!inverted)
        k->frames[k->nframes++] = f;
    rc = walk(k, i + 1, op->end < to ? op->end : to);
    if (!inverted)
        k->nframes--;
    k->nguards--;
    k->nest--;
    return rc;
}

static int check_partial(checker *k, const mu_op *op)
{
    const mu_unit *u = &k->t->units[op->a];
    char what[512];
    if (u->missing) {
        snprintf(what, sizeof what, "{{>%s}}: partial '%s' not found: create it or fix the "
                 "name", ref_name(k, op->ref), ref_name(k, op->ref));
        return add_issue(k, op->ref, CRM_MUSTACHE_ERROR, what);
    }
    if (k->on_path[op->a])
        return CRM_OK;
    if (k->nest >= CRM_MUSTACHE_MAX_DEPTH)
        return too_deep(k, op->ref);
    k->nest++;
    k->on_path[op->a] = true;
    int rc = walk(k, u->first, u->end);
    k->on_path[op->a] = false;
    k->nest--;
    return rc;
}

static int walk(checker *k, size_t from, size_t to)
{
    size_t i = from, prev = SIZE_MAX;
    int rc = CRM_OK;
    while (i < to && rc == CRM_OK) {
        const mu_op *op = &k->t->ops[i];
        size_t next = i + 1;
        switch (op->code) {
        case MU_VAR:
            rc = check_var(k, i, prev, to);
            break;
        case MU_SECTION:
        case MU_INVERTED:
            rc = check_section(k, i, prev, to);
            next = op->end;
            break;
        case MU_PARTIAL:
            rc = check_partial(k, op);
            break;
        default:
            break;
        }
        prev = i;
        i = next;
    }
    return rc;
}

int crm_mustache_check(const crm_mustache *t, const json_t *shape, crm_mustache_report *report,
                       crm_err *err)
{
    *report = (crm_mustache_report){0};
    checker k = {.t = t, .rep = report, .nframes = 1};
    k.frames[0] = (frame){shape, FR_SHAPE};
    k.on_path = calloc(t->nunits, sizeof *k.on_path);
    k.reported = calloc(t->nrefs ? t->nrefs : 1, 1);
    int rc = CRM_ENOMEM;
    if (k.on_path && k.reported) {
        k.on_path[0] = true;
        rc = walk(&k, t->units[0].first, t->units[0].end);
    }
    free(k.on_path);
    free(k.reported);
    if (rc != CRM_OK) {
        crm_mustache_report_free(report);
        return crm_err_set(err, rc, "%s: out of memory checking the template",
                           mu_str(t, t->units[0].file));
    }
    if (report->errors == 0)
        return CRM_OK;
    size_t first = 0;
    while (report->items[first].severity != CRM_MUSTACHE_ERROR)
        first++;
    if (report->errors == 1)
        return crm_err_set(err, CRM_EINVAL, "%s", report->items[first].message);
    return crm_err_set(err, CRM_EINVAL, "%s (and %zu more errors)",
                       report->items[first].message, report->errors - 1);
}

void crm_mustache_report_free(crm_mustache_report *r)
{
    if (!r)
        return;
    free(r->items);
    *r = (crm_mustache_report){0};
}

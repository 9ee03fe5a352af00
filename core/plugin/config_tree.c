/* Structured plugin configuration (SDK 1.3): a plugin declares its section's
 * lists, maps and typed scalars as a table of crm_config_field; after init
 * the host checks the section's crm_node tree against it (the kernel's own
 * position-keeping tree from config_node.c) and remembers, for every node it
 * checked, its declaration and key path. Reading then needs no second parse,
 * and a plugin's own error at a node carries the node's file:line:column. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"
#include "sdk13.h"
#include "time/calendar.h"
#include "util.h"

#define DASH " \xe2\x80\x94 "
#define MAX_NAMES 64

/* The SDK's units are the kernel's, by value. */
_Static_assert((int)CRM_DURATION_SECONDS == (int)CRM_DUR_OPEN, "duration units");
_Static_assert((int)CRM_DURATION_DAYS == (int)CRM_DUR_DAYS, "duration units");
_Static_assert((int)CRM_DURATION_BUSINESS_DAYS == (int)CRM_DUR_BDAYS, "duration units");

static const crm_node *as_node(const crm_config_node *n) { return (const crm_node *)(const void *)n; }
static const crm_config_node *as_handle(const crm_node *n)
{
    return (const crm_config_node *)(const void *)n;
}

static bool is_null(const crm_node *n) { return n && n->kind == CRM_NODE_SCALAR && n->is_null; }

static bool scalar_type(crm_config_type t) { return t >= CRM_CONFIG_STRING && t <= CRM_CONFIG_MONEY; }

static const crm_node *section(const crm_plugin_ctx *p)
{
    const crm_node *sec = crm_config_section(p->host->k->cfg, p->name);
    return sec && sec->kind == CRM_NODE_MAP ? sec : NULL;
}

static const crm_config_field *find_field(const crm_config_field *fields, const char *name)
{
    for (const crm_config_field *f = fields; f && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const crm_config_field *crm_plug13_schema_field(const crm_plugin_ctx *p, const char *key)
{
    return p->ext ? find_field(p->ext->schema, key) : NULL;
}

void crm_plug13_schema_names(const crm_plugin_ctx *p, const char **names, size_t *n, size_t max)
{
    for (const crm_config_field *f = p->ext ? p->ext->schema : NULL; f && f->name; f++)
        if (*n + 1 < max)
            names[(*n)++] = f->name;
    names[*n] = NULL;
}

/* ---- declaration ------------------------------------------------------------------ */

static bool field_name_ok(const char *s) { return crm_name_valid(s, CRM_NAME_IDENT, 0); }

/* Checks a table (and its nested ones, to `depth`); why names the culprit. */
static bool table_ok(const crm_config_field *fields, int depth, char *why, size_t size)
{
    if (depth > CRM_CONFIG_MAX_DEPTH)
        return snprintf(why, size, "schema nested deeper than %d levels", CRM_CONFIG_MAX_DEPTH),
               false;
    for (const crm_config_field *f = fields; f && f->name; f++) {
        if (!field_name_ok(f->name))
            return snprintf(why, size, "key '%s': expected a-z, 0-9 and _", f->name), false;
        for (const crm_config_field *g = fields; g < f; g++)
            if (strcmp(g->name, f->name) == 0)
                return snprintf(why, size, "key '%s' declared twice", f->name), false;
        bool container = f->type == CRM_CONFIG_LIST || f->type == CRM_CONFIG_DICT;
        crm_config_type inner = container ? f->item_type : f->type;
        if (!scalar_type(f->type) && !container && f->type != CRM_CONFIG_MAP)
            return snprintf(why, size, "key '%s': unknown type %d", f->name, (int)f->type), false;
        if (container && !scalar_type(inner) && inner != CRM_CONFIG_MAP)
            return snprintf(why, size, "key '%s': items must be a scalar type or maps", f->name),
                   false;
        if (inner == CRM_CONFIG_MAP && !f->fields)
            return snprintf(why, size, "key '%s': a map needs its fields", f->name), false;
        if (f->default_value && !scalar_type(f->type))
            return snprintf(why, size, "key '%s': only scalars take a default", f->name), false;
        if (inner == CRM_CONFIG_MAP && !table_ok(f->fields, depth + 1, why, size))
            return false;
    }
    return true;
}

int crm_plug13_declare_config_schema(crm_plugin_ctx *p, const crm_config_field *fields)
{
    if (p->state != PLUG_INITING)
        return crm_plug_fail(p, CRM_EDENIED,
                             "declare_config_schema: the registry is frozen after init" DASH
                             "register in the plugin's init callback");
    plug_ext *x = crm_plug13_ext(p);
    char why[256] = "";
    int rc = CRM_OK;
    if (!x)
        rc = crm_plug_fail(p, CRM_ENOMEM, "out of memory");
    else if (x->schema)
        rc = crm_plug_fail(p, CRM_EEXISTS, "declare_config_schema: called twice");
    else if (!fields || !table_ok(fields, 0, why, sizeof why))
        rc = crm_plug_fail(p, CRM_EUSAGE, "declare_config_schema: %s",
                           fields ? why : "expected a table ending with {NULL}");
    for (const crm_config_field *f = fields; rc == CRM_OK && f->name; f++)
        for (size_t i = 0; i < p->n_keys; i++) {
            size_t len = strcspn(p->keys[i].key, ".");
            if (strlen(f->name) == len && strncmp(f->name, p->keys[i].key, len) == 0)
                rc = crm_plug_fail(p, CRM_EEXISTS,
                                   "declare_config_schema: key '%s' is also declared with "
                                   "declare_config_key ('%s')",
                                   f->name, p->keys[i].key);
        }
    if (rc != CRM_OK) {
        /* a refused registration refuses the plugin (as reg_fail does) */
        if (!p->reg_error[0])
            snprintf(p->reg_error, sizeof p->reg_error, "%s", p->error);
        return rc;
    }
    x->schema = fields;
    return CRM_OK;
}

/* ---- typed scalars ----------------------------------------------------------------- */

int crm_plug13_parse_money(const crm_config *cfg, const char *text, crm_value *out, char *why,
                           size_t size)
{
    char amount[128];
    const char *sp = text ? strrchr(text, ' ') : NULL;
    const char *code = cfg ? cfg->currency : "EUR";
    size_t len = text ? strlen(text) : 0;
    if (sp && strlen(sp + 1) == 3 && crm_currency_decimals(sp + 1) >= 0) {
        code = sp + 1;
        len = (size_t)(sp - text);
    }
    if (!text || len == 0 || len >= sizeof amount)
        return snprintf(why, size, "'%s' is not an amount (expected \"200.00 EUR\")",
                        text ? text : ""),
               CRM_EINVAL;
    memcpy(amount, text, len);
    amount[len] = '\0';
    int decimals = crm_currency_decimals(code);
    crm_err e = {0};
    if (crm_parse_money("amount", amount, decimals, &out->i, &e) != CRM_OK)
        return snprintf(why, size, "%s (currency %s, %d decimals; expected \"200.00 EUR\")",
                        e.msg, code, decimals),
               CRM_EINVAL;
    snprintf(out->currency, sizeof out->currency, "%s", code);
    return CRM_OK;
}

/* Parses scalar node n as `type` into out; the message names `path`. */
static int parse_scalar(const crm_plugin_ctx *p, const crm_node *n, crm_config_type type,
                        const crm_config_field *f, const char *path, crm_value *out,
                        crm_err *err)
{
    memset(out, 0, sizeof *out);
    out->given = 1;
    out->text = n->kind == CRM_NODE_SCALAR ? n->value : NULL;
    bool b = false;
    int rc;
    char why[512];
    switch (type) {
    case CRM_CONFIG_INT:
        rc = crm_node_int(n, path, &out->i, err);
        if (rc == CRM_OK && f->min < f->max && (out->i < f->min || out->i > f->max))
            rc = crm_node_error(n, path, err, "%lld is out of range (%lld to %lld)",
                                (long long)out->i, (long long)f->min, (long long)f->max);
        return rc;
    case CRM_CONFIG_BOOL:
        rc = crm_node_bool(n, path, &b, err);
        out->i = b;
        return rc;
    case CRM_CONFIG_DURATION: {
        if (n->kind != CRM_NODE_SCALAR || n->is_null)
            return crm_node_expected(n, path, "a duration (90m, 2h, 7d, 15bd)", err);
        crm_duration d;
        crm_err e = {0};
        if (crm_duration_parse(n->value, &d, &e) != CRM_OK)
            return crm_node_error(n, path, err, "%s", e.msg);
        out->i = d.amount;
        out->unit = (int)d.unit;
        return CRM_OK;
    }
    case CRM_CONFIG_MONEY:
        if (n->kind != CRM_NODE_SCALAR || n->is_null)
            return crm_node_expected(n, path, "an amount (200.00 EUR)", err);
        if (crm_plug13_parse_money(p->host->k->cfg, n->value, out, why, sizeof why) != CRM_OK)
            return crm_node_error(n, path, err, "%s", why);
        return CRM_OK;
    default:
        return crm_node_string(n, path, &out->text, err);
    }
}

/* ---- validation -------------------------------------------------------------------- */

static int remember(crm_plugin_ctx *p, const crm_node *n, const crm_config_field *f, bool item,
                    const char *path, crm_err *err)
{
    plug_ext *x = p->ext;
    /* doubling: a section may have many nodes */
    if (CRM_ARRAY_RESERVE(x->nodes, x->cap_nodes, x->n_nodes + 1) != CRM_OK)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    char *copy = strdup(path);
    if (!copy)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    x->nodes[x->n_nodes++] = (plug_node_info){n, f, item, copy};
    x->sorted = false;
    return CRM_OK;
}

static int by_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const plug_node_info *)a)->node;
    uintptr_t y = (uintptr_t)((const plug_node_info *)b)->node;
    return x < y ? -1 : x > y;
}

/* What validation recorded for node n. The index is sorted on first lookup
 * (validation only appends), so reading a large section is not quadratic. */
static const plug_node_info *info_of(const crm_plugin_ctx *p, const crm_node *n)
{
    plug_ext *x = p->ext;
    if (!n || !x || x->n_nodes == 0)
        return NULL;
    if (!x->sorted) {
        qsort(x->nodes, x->n_nodes, sizeof *x->nodes, by_node);
        x->sorted = true;
    }
    plug_node_info key = {.node = n};
    return bsearch(&key, x->nodes, x->n_nodes, sizeof *x->nodes, by_node);
}

static int check_node(crm_plugin_ctx *p, const crm_node *n, const crm_config_field *f, bool item,
                      const char *path, crm_err *err);

static int unknown_field(const crm_node *n, const crm_config_field *fields, const char *path,
                         crm_err *err)
{
    const char *names[MAX_NAMES];
    size_t count = 0;
    char list[1024] = "";
    for (const crm_config_field *f = fields; f && f->name && count + 1 < MAX_NAMES; f++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", count ? ", " : "", f->name);
        names[count++] = f->name;
    }
    names[count] = NULL;
    const char *hint = crm_suggest(n->key, names);
    if (hint)
        return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "did you mean '%s'?",
                              n->key, path, hint);
    return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "valid keys: %s", n->key,
                          path, list);
}

static int check_map(crm_plugin_ctx *p, const crm_node *n, const crm_config_field *fields,
                     const char *path, crm_err *err)
{
    char sub[512];
    for (size_t i = 0; !is_null(n) && i < n->n_items; i++) {
        const crm_node *c = n->items[i];
        const crm_config_field *f = find_field(fields, c->key);
        if (!f)
            return unknown_field(c, fields, path, err);
        snprintf(sub, sizeof sub, "%s.%s", path, c->key);
        int rc = check_node(p, c, f, false, sub, err);
        if (rc != CRM_OK)
            return rc;
    }
    for (const crm_config_field *f = fields; f->name; f++)
        if ((f->flags & CRM_CONFIG_REQUIRED) && !crm_node_get(n, f->name))
            return crm_node_error(n, path, err, "missing required key '%s'%s%s", f->name,
                                  f->description ? DASH : "",
                                  f->description ? f->description : "");
    return CRM_OK;
}

static int check_node(crm_plugin_ctx *p, const crm_node *n, const crm_config_field *f, bool item,
                      const char *path, crm_err *err)
{
    int rc = remember(p, n, f, item, path, err);
    if (rc != CRM_OK)
        return rc;
    crm_config_type type = item ? f->item_type : f->type;
    char sub[512];
    crm_value v;
    switch (type) {
    case CRM_CONFIG_MAP:
        if (n->kind != CRM_NODE_MAP && !is_null(n))
            return crm_node_expected(n, path, "a map", err);
        return check_map(p, n, f->fields, path, err);
    case CRM_CONFIG_LIST:
        if (n->kind != CRM_NODE_SEQ && !is_null(n))
            return crm_node_expected(n, path, "a list", err);
        for (size_t i = 0; rc == CRM_OK && !is_null(n) && i < n->n_items; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            rc = check_node(p, n->items[i], f, true, sub, err);
        }
        return rc;
    case CRM_CONFIG_DICT:
        if (n->kind != CRM_NODE_MAP && !is_null(n))
            return crm_node_expected(n, path, "a map of names", err);
        for (size_t i = 0; rc == CRM_OK && !is_null(n) && i < n->n_items; i++) {
            snprintf(sub, sizeof sub, "%s.%s", path, n->items[i]->key);
            rc = check_node(p, n->items[i], f, true, sub, err);
        }
        return rc;
    default:
        return parse_scalar(p, n, type, f, path, &v, err);
    }
}

int crm_plug13_check_entry(crm_plugin_ctx *p, const crm_node *n, crm_err *err)
{
    const crm_config_field *f = crm_plug13_schema_field(p, n->key);
    if (!f)
        return crm_err_set(err, CRM_EINTERNAL, "%s: no schema for '%s'", p->name, n->key);
    char path[512];
    snprintf(path, sizeof path, "%s.%s", p->name, n->key);
    return check_node(p, n, f, false, path, err);
}

int crm_plug13_check_section(const crm_plugin_ctx *p, const crm_node *sec, crm_err *err)
{
    /* declare_config_key may come after the schema: the same name twice
     * would make the key's reader ambiguous */
    for (size_t i = 0; i < p->n_keys; i++) {
        char first[128];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(p->keys[i].key, "."), p->keys[i].key);
        if (crm_plug13_schema_field(p, first))
            return crm_err_set(err, CRM_EPLUGIN,
                               "plugin '%s' (%s): config key '%s' is declared both with "
                               "declare_config_key and in its schema",
                               p->name, p->file, first);
    }
    for (const crm_config_field *f = p->ext ? p->ext->schema : NULL; f && f->name; f++)
        if ((f->flags & CRM_CONFIG_REQUIRED) && !crm_node_get(sec, f->name)) {
            const crm_config *cfg = p->host->k->cfg;
            if (sec)
                return crm_node_error(sec, p->name, err, "missing required key '%s'", f->name);
            return crm_err_set(err, CRM_ECONFIG,
                               "%s: section '%s' with the required key '%s' is missing" DASH
                               "add it to crm.yaml",
                               cfg && cfg->path ? cfg->path : "crm.yaml", p->name, f->name);
        }
    return CRM_OK;
}

/* ---- reading ------------------------------------------------------------------------- */

const crm_config_node *crm_plug13_config_child(crm_plugin_ctx *p, const crm_config_node *parent,
                                               const char *key)
{
    const crm_node *n = parent ? as_node(parent) : section(p);
    return as_handle(crm_node_get(n, key));
}

size_t crm_plug13_config_count(crm_plugin_ctx *p, const crm_config_node *node)
{
    (void)p;
    const crm_node *n = as_node(node);
    return n && n->kind != CRM_NODE_SCALAR ? n->n_items : 0;
}

const crm_config_node *crm_plug13_config_item(crm_plugin_ctx *p, const crm_config_node *node,
                                              size_t i)
{
    (void)p;
    const crm_node *n = as_node(node);
    return n && n->kind != CRM_NODE_SCALAR && i < n->n_items ? as_handle(n->items[i]) : NULL;
}

const char *crm_plug13_config_key(crm_plugin_ctx *p, const crm_config_node *node)
{
    (void)p;
    return node ? as_node(node)->key : NULL;
}

/* The fields a map node's entries are declared by (the schema for the
 * section), or NULL when the node is not a declared map. */
static const crm_config_field *children_of(const crm_plugin_ctx *p, const crm_node *parent)
{
    if (!parent || parent == section(p))
        return p->ext ? p->ext->schema : NULL;
    const plug_node_info *in = info_of(p, parent);
    if (!in)
        return NULL;
    crm_config_type t = in->item ? in->field->item_type : in->field->type;
    return t == CRM_CONFIG_MAP ? in->field->fields : NULL;
}

int crm_plug13_config_value(crm_plugin_ctx *p, const crm_config_node *parent, const char *key,
                            crm_value *out)
{
    memset(out, 0, sizeof *out);
    const crm_node *n = NULL;
    const crm_config_field *f = NULL;
    bool item = false;
    char path[600];
    if (key) {
        const crm_node *pn = parent ? as_node(parent) : section(p);
        f = find_field(children_of(p, parent ? as_node(parent) : NULL), key);
        n = crm_node_get(pn, key);
        const plug_node_info *pi = parent ? info_of(p, as_node(parent)) : NULL;
        snprintf(path, sizeof path, "%s.%s", pi ? pi->path : p->name, key);
    } else {
        const plug_node_info *in = info_of(p, as_node(parent));
        n = as_node(parent);
        f = in ? in->field : NULL;
        item = in && in->item;
        snprintf(path, sizeof path, "%s", in ? in->path : p->name);
    }
    crm_config_type type = f ? (item ? f->item_type : f->type) : 0;
    if (!f || !scalar_type(type))
        return crm_plug_fail(p, CRM_EUSAGE, "config_value: '%s' is not a declared scalar key",
                             path);
    crm_node tmp;
    if (!n || is_null(n)) {
        if (item || !f->default_value)
            return crm_plug_fail(p, CRM_ENOTFOUND, "config_value: '%s' is not set", path);
        tmp = (crm_node){.kind = CRM_NODE_SCALAR, .value = (char *)f->default_value,
                         .file = "default"};
        n = &tmp;
    }
    crm_err e = {0};
    int rc = parse_scalar(p, n, type, f, path, out, &e);
    return rc == CRM_OK ? CRM_OK : crm_plug_fail(p, rc, "%s", e.msg);
}

int crm_plug13_config_error(crm_plugin_ctx *p, const crm_config_node *node, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const crm_node *n = node ? as_node(node) : crm_config_section(p->host->k->cfg, p->name);
    const plug_node_info *in = info_of(p, n);
    crm_err e = {0};
    crm_node_error(n, in ? in->path : p->name, &e, "%s", msg);
    return crm_plug_fail(p, CRM_ECONFIG, "%s", e.msg);
}

int crm_plug13_config_position(crm_plugin_ctx *p, const crm_config_node *node, const char **file,
                               int *line, int *column)
{
    const crm_node *n = as_node(node);
    if (!n)
        return crm_plug_fail(p, CRM_EUSAGE, "config_position: no node");
    if (file)
        *file = n->file;
    if (line)
        *line = n->line;
    if (column)
        *column = n->column;
    return CRM_OK;
}

/* ---- crm plugins --json ------------------------------------------------------------------ */

static const char *const type_names[] = {"",     "string", "int",  "bool", "duration",
                                         "money", "list",   "map",  "dict"};

static json_t *describe_fields(const crm_config_field *fields)
{
    json_t *a = json_array();
    for (const crm_config_field *f = fields; f && f->name; f++) {
        json_t *o = json_pack("{ss ss sb ss? ss?}", "key", f->name, "type", type_names[f->type],
                              "required", (f->flags & CRM_CONFIG_REQUIRED) != 0, "default",
                              f->default_value, "description", f->description);
        if (f->type == CRM_CONFIG_LIST || f->type == CRM_CONFIG_DICT)
            json_object_set_new(o, "items", json_string(type_names[f->item_type]));
        if (f->fields)
            json_object_set_new(o, "fields", describe_fields(f->fields));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *crm_plug13_describe_schema(const crm_plugin_ctx *p)
{
    return p->ext && p->ext->schema ? describe_fields(p->ext->schema) : NULL;
}

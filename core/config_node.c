/* The position-keeping YAML tree: libyaml's document loader, then a copy
 * into crm_node so the yaml_document can be dropped while every node keeps
 * its file:line:column for later messages. Also the scalar readers and the
 * "did you mean" helper every config consumer shares. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>


typedef struct loader {
    yaml_document_t *doc;
    const char *file;
    unsigned char *seen; /* per document node: a second visit means an alias */
    crm_err *err;
} loader;

/* ---- building ---------------------------------------------------------- */

static crm_node *node_new(crm_node_kind kind, const char *file, const yaml_mark_t *at)
{
    crm_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->file = file;
    n->line = (int)at->line + 1; /* libyaml marks are 0-based */
    n->column = (int)at->column + 1;
    return n;
}

void crm_node_free(crm_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_items; i++)
        crm_node_free(n->items[i]);
    free(n->items);
    free(n->key);
    free(n->value);
    free(n);
}

static int at_error(const loader *ld, const yaml_mark_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int at_error(const loader *ld, const yaml_mark_t *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return crm_err_set(ld->err, CRM_ECONFIG, "%s:%d:%d: %s", ld->file, (int)at->line + 1,
                       (int)at->column + 1, msg);
}

static int oom(const loader *ld)
{
    return crm_err_set(ld->err, CRM_ENOMEM, "%s: out of memory while loading", ld->file);
}

/* Plain `~`, `null` or nothing: YAML's null, which a quoted "" is not. */
static bool scalar_is_null(const yaml_node_t *yn)
{
    if (yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)yn->data.scalar.value;
    return yn->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int convert(loader *ld, int index, const yaml_mark_t *at, int depth, crm_node **out);

/* A map or list's items are allocated once, from libyaml's count: growing
 * them one by one would copy a large section over and over. */
static int reserve_items(const loader *ld, crm_node *n, size_t count)
{
    if (count == 0)
        return CRM_OK;
    n->items = count <= SIZE_MAX / sizeof *n->items ? malloc(count * sizeof *n->items) : NULL;
    return n->items ? CRM_OK : oom(ld);
}

static int convert_scalar(loader *ld, const yaml_node_t *yn, const yaml_mark_t *at,
                          crm_node **out)
{
    crm_node *n = node_new(CRM_NODE_SCALAR, ld->file, at);
    if (!n)
        return oom(ld);
    n->is_null = scalar_is_null(yn);
    n->value = n->is_null ? strdup("")
                          : strndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
    if (!n->value) {
        free(n);
        return oom(ld);
    }
    *out = n;
    return CRM_OK;
}

static int convert_seq(loader *ld, const yaml_node_t *yn, crm_node *n, int depth)
{
    size_t count = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
    if (reserve_items(ld, n, count) != CRM_OK)
        return CRM_ENOMEM;
    for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top;
         it++) {
        const yaml_node_t *child = yaml_document_get_node(ld->doc, *it);
        crm_node *c = NULL;
        int rc = convert(ld, *it, &child->start_mark, depth + 1, &c);
        if (rc != CRM_OK)
            return rc;
        n->items[n->n_items++] = c;
    }
    return CRM_OK;
}

static const crm_node *find_key(const crm_node *map, const char *key)
{
    for (size_t i = 0; i < map->n_items; i++)
        if (strcmp(map->items[i]->key, key) == 0)
            return map->items[i];
    return NULL;
}

/* The keys already read in one map, for the duplicate check: a scan of the
 * earlier keys in a small map, an open-addressing table over its entries in
 * a large one, so a section of N keys costs N probes rather than N^2/2
 * string compares (100k keys took over a minute). */
#define KEYSET_MIN 16

typedef struct key_set {
    const crm_node *map;  /* the entries read so far */
    const crm_node **slot; /* NULL for a small map */
    size_t mask;
} key_set;

static uint64_t key_hash(const char *s)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static int keyset_init(const loader *ld, key_set *ks, const crm_node *map, size_t count)
{
    *ks = (key_set){.map = map};
    if (count <= KEYSET_MIN)
        return CRM_OK;
    size_t size = 2 * KEYSET_MIN;
    while (size < 2 * count && size <= SIZE_MAX / 4 / sizeof *ks->slot)
        size *= 2;
    if (size < 2 * count || !(ks->slot = calloc(size, sizeof *ks->slot)))
        return oom(ld);
    ks->mask = size - 1;
    return CRM_OK;
}

/* The entry named key, or NULL; *at is where key goes in the table. */
static const crm_node *keyset_find(const key_set *ks, const char *key, size_t *at)
{
    if (!ks->slot)
        return find_key(ks->map, key);
    size_t i = (size_t)key_hash(key) & ks->mask;
    for (; ks->slot[i]; i = (i + 1) & ks->mask)
        if (strcmp(ks->slot[i]->key, key) == 0)
            return ks->slot[i];
    *at = i;
    return NULL;
}

/* Reads one key of a map: a scalar, not seen before in this map. */
static int map_key(loader *ld, const key_set *ks, const yaml_node_t *kn, char **key,
                   size_t *at)
{
    if (kn->type != YAML_SCALAR_NODE)
        return at_error(ld, &kn->start_mark, "a key must be plain text, not a map or list");
    *key = strndup((const char *)kn->data.scalar.value, kn->data.scalar.length);
    if (!*key)
        return oom(ld);
    const crm_node *first = keyset_find(ks, *key, at);
    if (!first)
        return CRM_OK;
    char msg[256];
    snprintf(msg, sizeof msg, "duplicate key '%s' (first defined at %s:%d:%d)", *key,
             first->file, first->line, first->column);
    free(*key);
    *key = NULL;
    return at_error(ld, &kn->start_mark, "%s", msg);
}

static int convert_map_pairs(loader *ld, const yaml_node_t *yn, crm_node *n, key_set *ks,
                             int depth)
{
    for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
        char *key = NULL;
        size_t at = 0;
        int rc = map_key(ld, ks, kn, &key, &at);
        if (rc != CRM_OK)
            return rc;
        crm_node *c = NULL;
        rc = convert(ld, p->value, &kn->start_mark, depth + 1, &c);
        if (rc != CRM_OK) {
            free(key);
            return rc;
        }
        c->key = key;
        n->items[n->n_items++] = c;
        if (ks->slot)
            ks->slot[at] = c;
    }
    return CRM_OK;
}

static int convert_map(loader *ld, const yaml_node_t *yn, crm_node *n, int depth)
{
    size_t count = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
    key_set ks;
    if (reserve_items(ld, n, count) != CRM_OK || keyset_init(ld, &ks, n, count) != CRM_OK)
        return CRM_ENOMEM;
    int rc = convert_map_pairs(ld, yn, n, &ks, depth);
    free(ks.slot);
    return rc;
}

/* Converts document node `index`; `at` is where messages about it point
 * (the key, for a map entry). Recursion is bounded by the depth cap, and
 * aliases are refused so a self-referencing anchor cannot loop. */
static int convert(loader *ld, int index, const yaml_mark_t *at, int depth, crm_node **out)
{
    const yaml_node_t *yn = yaml_document_get_node(ld->doc, index);
    if (ld->seen[index - 1])
        return at_error(ld, at, "aliases (*name) are not supported: write the value out in full");
    ld->seen[index - 1] = 1;
    if (yn->type == YAML_SCALAR_NODE)
        return convert_scalar(ld, yn, at, out);
    if (depth > CRM_CONFIG_MAX_DEPTH)
        return at_error(ld, at, "nesting deeper than %d levels", CRM_CONFIG_MAX_DEPTH);
    bool is_map = yn->type == YAML_MAPPING_NODE;
    crm_node *n = node_new(is_map ? CRM_NODE_MAP : CRM_NODE_SEQ, ld->file, at);
    if (!n)
        return oom(ld);
    int rc = is_map ? convert_map(ld, yn, n, depth) : convert_seq(ld, yn, n, depth);
    if (rc != CRM_OK) {
        crm_node_free(n);
        return rc;
    }
    *out = n;
    return CRM_OK;
}

/* ---- parsing ----------------------------------------------------------- */

/* Reader errors (bad encoding) carry a byte offset rather than a mark. */
static yaml_mark_t offset_mark(const char *text, size_t len, size_t offset)
{
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            m.column++; /* columns count characters, not bytes */
        }
    }
    return m;
}

static int syntax_error(const yaml_parser_t *p, const char *text, size_t len, const char *file,
                        crm_err *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory while loading", file);
    yaml_mark_t m = p->error == YAML_READER_ERROR ? offset_mark(text, len, p->problem_offset)
                                                  : p->problem_mark;
    return crm_err_set(err, CRM_ECONFIG, "%s:%d:%d: %s", file, (int)m.line + 1,
                       (int)m.column + 1, p->problem ? p->problem : "invalid YAML");
}

static int convert_document(yaml_document_t *doc, const char *file, crm_node **out,
                            crm_err *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    /* A file holding only comments, or a bare `---`, is an empty config. */
    if (!root || (root->type == YAML_SCALAR_NODE && scalar_is_null(root))) {
        yaml_mark_t start = {0, 0, 0};
        *out = node_new(CRM_NODE_MAP, file, &start);
        return *out ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "%s: out of memory", file);
    }
    loader ld = {.doc = doc, .file = file, .err = err};
    ld.seen = calloc((size_t)(doc->nodes.top - doc->nodes.start), 1);
    if (!ld.seen)
        return oom(&ld);
    int rc = convert(&ld, 1, &root->start_mark, 1, out);
    free(ld.seen);
    return rc;
}

/* A second document in the same file is almost always a stray `---`. */
static int refuse_second_document(yaml_parser_t *p, const char *text, size_t len,
                                  const char *file, crm_err *err)
{
    yaml_document_t next;
    if (!yaml_parser_load(p, &next))
        return syntax_error(p, text, len, file, err);
    int rc = CRM_OK;
    yaml_node_t *root = yaml_document_get_root_node(&next);
    if (root)
        rc = crm_err_set(err, CRM_ECONFIG, "%s:%d:%d: only one YAML document is allowed", file,
                         (int)next.start_mark.line + 1, (int)next.start_mark.column + 1);
    yaml_document_delete(&next);
    return rc;
}

int crm_node_parse(crm_node **out, const char *text, size_t len, const char *file,
                   crm_err *err)
{
    *out = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = syntax_error(&parser, text, len, file, err);
        goto done;
    }
    rc = convert_document(&doc, file, out, err);
    yaml_document_delete(&doc);
    if (rc == CRM_OK)
        rc = refuse_second_document(&parser, text, len, file, err);
    if (rc != CRM_OK) {
        crm_node_free(*out);
        *out = NULL;
    }
done:
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

const crm_node *crm_node_get(const crm_node *map, const char *key)
{
    if (!map || map->kind != CRM_NODE_MAP || !key)
        return NULL;
    return find_key(map, key);
}

const crm_node *crm_node_path(const crm_node *root, const char *dotted)
{
    if (!root || !dotted)
        return NULL;
    const crm_node *n = root;
    const char *p = dotted;
    char part[256];
    while (n) {
        size_t len = strcspn(p, ".");
        if (len == 0 || len >= sizeof part)
            return NULL;
        memcpy(part, p, len);
        part[len] = '\0';
        n = crm_node_get(n, part);
        if (p[len] == '\0')
            return n;
        p += len + 1;
    }
    return NULL;
}

static void vposition_error(const crm_node *n, const char *path, crm_err *err, const char *msg)
{
    char where[320] = "";
    if (n)
        snprintf(where, sizeof where, "%s:%d:%d: ", n->file, n->line, n->column);
    crm_err_set(err, CRM_ECONFIG, "%s%s%s%s", where, path && *path ? path : "",
                path && *path ? ": " : "", msg);
}

int crm_node_error(const crm_node *n, const char *path, crm_err *err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vposition_error(n, path, err, msg);
    return CRM_ECONFIG;
}

int crm_node_expected(const crm_node *n, const char *path, const char *what, crm_err *err)
{
    if (!n)
        return crm_node_error(NULL, path, err, "expected %s, got nothing", what);
    if (n->kind == CRM_NODE_MAP)
        return crm_node_error(n, path, err, "expected %s, got a map", what);
    if (n->kind == CRM_NODE_SEQ)
        return crm_node_error(n, path, err, "expected %s, got a list", what);
    if (n->is_null)
        return crm_node_error(n, path, err, "expected %s, got nothing", what);
    /* Long values are cut so the message stays one readable line. */
    return crm_node_error(n, path, err, "expected %s, got '%.80s%s'", what, n->value,
                          strlen(n->value) > 80 ? "..." : "");
}

static bool is_value(const crm_node *n)
{
    return n && n->kind == CRM_NODE_SCALAR && !n->is_null;
}

int crm_node_int(const crm_node *n, const char *path, int64_t *out, crm_err *err)
{
    const char *what = "an integer";
    if (!is_value(n) || !*n->value || isspace((unsigned char)n->value[0]))
        return crm_node_expected(n, path, what, err);
    char *end;
    errno = 0;
    long long v = strtoll(n->value, &end, 10);
    if (*end != '\0')
        return crm_node_expected(n, path, what, err);
    if (errno == ERANGE)
        return crm_node_expected(n, path, "an integer within 64 bits", err);
    *out = (int64_t)v;
    return CRM_OK;
}

int crm_node_bool(const crm_node *n, const char *path, bool *out, crm_err *err)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    if (is_value(n))
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(n->value, yes[i]) == 0 || strcasecmp(n->value, no[i]) == 0) {
                *out = strcasecmp(n->value, yes[i]) == 0;
                return CRM_OK;
            }
        }
    return crm_node_expected(n, path, "true or false", err);
}

int crm_node_string(const crm_node *n, const char *path, const char **out, crm_err *err)
{
    if (!is_value(n))
        return crm_node_expected(n, path, "a string", err);
    *out = n->value;
    return CRM_OK;
}

/* ---- suggestions ------------------------------------------------------- */

/* Edit distance counting a swap of neighbours as one edit ("contatc" is one
 * from "contact"): optimal string alignment, three rows; words longer than
 * a row are "far". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][65];
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t *two = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t best = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                two[j - 2] + 1 < best)
                best = two[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = two;
        two = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *crm_suggest(const char *word, const char *const *names)
{
    if (!word || !names)
        return NULL;
    size_t len = strlen(word), best_d = SIZE_MAX;
    const char *best = NULL;
    for (size_t i = 0; names[i]; i++) {
        size_t d = distance(word, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    /* Beyond that, the "suggestion" is noise rather than a likely typo. */
    if (best_d > 3 || 2 * best_d >= len)
        return NULL;
    return best;
}

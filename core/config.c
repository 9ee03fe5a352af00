/* The kernel's typed view of crm.yaml.
 *
 * The kernel keys are one data table (the pattern of Fluent Bit's config
 * maps): each entry names a key path, its type, its default and where it
 * lands in crm_config. Loading is three passes over the tree: the structure
 * is checked against the table (unknown keys, sections that are not maps),
 * then every table entry is read from the tree or takes its default, in
 * table order, so `scripts` is resolved before the rules that use it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "messages/driver.h"
#include "messages/quiet.h"
#include "messages/webhook.h"
#include "time/calendar.h"
#include "time/timer.h"
#include "util.h"

#define DASH " \xe2\x80\x94 " /* em dash, between a problem and its hint */
#define NO_FIELD SIZE_MAX     /* checked, but read by its consumer from the tree */
#define AT(member) offsetof(crm_config, member)
#define MiB (INT64_C(1) << 20)

typedef enum schema_type {
    S_SECTION, /* a map of further table entries */
    S_STRING,  /* non-empty text */
    S_PATH,    /* text, resolved against the config file's directory */
    S_CODE,    /* `min` upper-case letters (country, currency) */
    S_BOOL,
    S_INT,     /* integer in [min, max] */
    S_BYTES,   /* integer or "64MiB", in [min, max] */
    S_NAMES,   /* list of distinct names, checked by `check` or `choices` */
    S_PATHS,   /* list of directories, resolved against the config directory */
    S_CUSTOM,  /* custom field declarations of entity `idef` */
    S_RULES,   /* rules: NAME -> {kind, script, function} */
    S_WEIGHTS, /* map of name -> non-negative integer */
    S_CALENDARS, /* calendars: NAME -> {timezone, hours, holidays} (core/time) */
    S_TIMERS,    /* timers: {backoff, max_attempts, keep_done} (core/time/timer_config.c) */
    S_CHANNELS,  /* messages.channels: NAME -> {driver, ...} (core/messages/driver.h) */
    S_WEBHOOKS,  /* webhooks: [{url, events, secret_env, ...}] (core/messages/webhook.h) */
    S_QUIET,     /* messages.quiet_hours: PURPOSE: CHANNEL: {allowed, holidays} (quiet.h) */
    S_CAPS       /* messages.caps: PURPOSE: {CHANNEL: duration} (core/messages/quiet.h) */
} schema_type;

typedef struct schema_entry {
    const char *path;
    schema_type type;
    size_t field;  /* offset in crm_config, or NO_FIELD */
    size_t count;  /* S_NAMES, S_PATHS: offset of the size_t count */
    const char *def;
    int64_t idef, min, max;
    const char *expect;                /* for messages */
    bool (*check)(const char *name);   /* S_NAMES */
    const char *const *choices;        /* S_NAMES, S_STRING */
    const char *const *defs;           /* S_NAMES: the default list */
    bool always;                       /* applied even when absent (node NULL) */
} schema_entry;

static bool is_word(const char *s);

static const char *const contact_fields[] = {
    "first_name", "last_name", "email", "phone", "company", "street",
    "postal_code", "city", "country", "birth_date", "source", NULL};

static const char *const default_channels[] = {"email", "sms", "phone", "post", NULL};
static const char *const default_purposes[] = {"newsletter", "offers", "marketing",
                                               "profiling", NULL};
/* The contact stages a kernel event may move a contact to ("none": never). */
static const char *const stage_targets[] = {"subscriber", "lead",       "prospect", "customer",
                                            "evangelist", "none",       NULL};

static const schema_entry schema[] = {
    {.path = "database", .type = S_PATH, .field = AT(database), .def = "crm.db"},
    {.path = "locale", .type = S_SECTION},
    {.path = "locale.country", .type = S_CODE, .field = AT(country), .def = "FR", .min = 2,
     .expect = "an ISO 3166-1 country code of 2 upper-case letters (FR)"},
    {.path = "locale.currency", .type = S_CODE, .field = AT(currency), .def = "EUR", .min = 3,
     .expect = "an ISO 4217 currency code of 3 upper-case letters (EUR)"},
    {.path = "locale.timezone", .type = S_STRING, .field = AT(timezone),
     .def = "Europe/Paris", .expect = "an IANA time zone name (Europe/Paris)"},
    {.path = "plugins", .type = S_NAMES, .field = AT(plugins), .count = AT(n_plugins),
     .check = crm_plugin_name_valid,
     .expect = "a plugin name (a-z first, then a-z, 0-9 and _; at most 64 bytes)"},
    {.path = "plugin_path", .type = S_PATHS, .field = AT(plugin_path),
     .count = AT(n_plugin_path), .expect = "a directory"},
    {.path = "scripts", .type = S_PATH, .field = AT(scripts), .def = "scripts"},
    {.path = "custom_fields", .type = S_SECTION},
    {.path = "custom_fields.contact", .type = S_CUSTOM, .idef = CRM_ENTITY_CONTACT},
    {.path = "custom_fields.company", .type = S_CUSTOM, .idef = CRM_ENTITY_COMPANY},
    {.path = "custom_fields.order", .type = S_CUSTOM, .idef = CRM_ENTITY_ORDER},
    {.path = "custom_fields.interaction", .type = S_CUSTOM, .idef = CRM_ENTITY_INTERACTION},
    {.path = "hygiene", .type = S_SECTION},
    {.path = "hygiene.validate", .type = S_SECTION},
    {.path = "hygiene.validate.email", .type = S_BOOL, .field = AT(hygiene.validate_email),
     .idef = 1},
    {.path = "hygiene.validate.phone", .type = S_BOOL, .field = AT(hygiene.validate_phone),
     .idef = 1},
    {.path = "hygiene.validate.postal_code", .type = S_BOOL,
     .field = AT(hygiene.validate_postal_code), .idef = 1},
    {.path = "hygiene.normalise", .type = S_SECTION},
    {.path = "hygiene.normalise.names", .type = S_BOOL, .field = AT(hygiene.normalise_names),
     .idef = 1},
    {.path = "hygiene.normalise.email", .type = S_BOOL, .field = AT(hygiene.normalise_email),
     .idef = 1},
    {.path = "hygiene.normalise.phone", .type = S_BOOL, .field = AT(hygiene.normalise_phone),
     .idef = 1},
    {.path = "hygiene.duplicates", .type = S_SECTION},
    {.path = "hygiene.duplicates.refuse_on_add", .type = S_BOOL,
     .field = AT(hygiene.refuse_duplicates), .idef = 1},
    /* Duplicate scoring reads these from the tree; checked here so a typo
     * fails at load time rather than when scoring first runs. */
    {.path = "hygiene.duplicates.min_score", .type = S_INT, .field = NO_FIELD, .idef = 80,
     .min = 0, .max = 100},
    {.path = "hygiene.duplicates.weights", .type = S_WEIGHTS, .field = NO_FIELD},
    {.path = "hygiene.required", .type = S_NAMES, .field = AT(hygiene.required),
     .count = AT(hygiene.n_required), .choices = contact_fields, .expect = "a contact field"},
    {.path = "hygiene.recommended", .type = S_NAMES, .field = AT(hygiene.recommended),
     .count = AT(hygiene.n_recommended), .choices = contact_fields, .expect = "a contact field"},
    {.path = "hygiene.inactive_months", .type = S_INT, .field = AT(hygiene.inactive_months),
     .idef = 18, .min = 1, .max = 1200},
    {.path = "lua", .type = S_SECTION},
    {.path = "lua.max_memory", .type = S_BYTES, .field = AT(lua.max_memory), .idef = 64 * MiB,
     .min = 64 * 1024, .max = INT64_MAX},
    {.path = "lua.max_instructions", .type = S_INT, .field = AT(lua.max_instructions),
     .idef = 10000000, .min = 1000, .max = INT64_MAX},
    {.path = "lua.max_failures", .type = S_INT, .field = AT(lua.max_failures), .idef = 100,
     .min = 0, .max = INT64_MAX},
    {.path = "consents", .type = S_SECTION},
    {.path = "consents.channels", .type = S_NAMES, .field = AT(consents.channels),
     .count = AT(consents.n_channels), .check = is_word, .defs = default_channels,
     .expect = "a channel name of a-z, 0-9 and _"},
    {.path = "consents.purposes", .type = S_NAMES, .field = AT(consents.purposes),
     .count = AT(consents.n_purposes), .check = is_word, .defs = default_purposes,
     .expect = "a purpose name of a-z, 0-9 and _"},
    {.path = "lifecycle", .type = S_SECTION},
    {.path = "lifecycle.on_first_paid_order", .type = S_STRING,
     .field = AT(lifecycle.on_first_paid_order), .def = "customer", .choices = stage_targets,
     .expect = "a lifecycle stage or none"},
    {.path = "rules", .type = S_RULES},
    /* After locale: the default calendar follows locale.timezone and country. */
    {.path = "calendars", .type = S_CALENDARS, .always = true},
    {.path = "timers", .type = S_TIMERS, .always = true},
    {.path = "messages", .type = S_SECTION},
    /* Read by the drivers from the tree; checked here so a typo in a
     * channel fails every command, not the first send. */
    {.path = "messages.channels", .type = S_CHANNELS, .field = NO_FIELD},
    {.path = "messages.templates", .type = S_PATH, .field = AT(templates), .def = "templates"},
    {.path = "messages.quiet_hours", .type = S_QUIET, .field = NO_FIELD},
    {.path = "messages.caps", .type = S_CAPS, .field = NO_FIELD},
    /* Read by the webhook subsystem from the tree; checked here likewise. */
    {.path = "webhooks", .type = S_WEBHOOKS, .field = NO_FIELD},
};
#define N_SCHEMA (sizeof schema / sizeof schema[0])

/* ---- small helpers ----------------------------------------------------- */

static char **str_at(crm_config *cfg, size_t off) { return (char **)((char *)cfg + off); }
static bool *bool_at(crm_config *cfg, size_t off) { return (bool *)((char *)cfg + off); }
static int64_t *int_at(crm_config *cfg, size_t off) { return (int64_t *)((char *)cfg + off); }
static size_t *size_at(crm_config *cfg, size_t off) { return (size_t *)((char *)cfg + off); }

static int nomem(crm_err *err)
{
    return crm_err_set(err, CRM_ENOMEM, "out of memory while reading the configuration");
}

static bool is_null(const crm_node *n)
{
    return n->kind == CRM_NODE_SCALAR && n->is_null;
}

static bool is_word(const char *s) { return crm_name_valid(s, CRM_NAME_WORD, 64); }

/* `base` + "/" + `p`, or p itself when absolute. */
static char *resolve(const char *base, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t len = strlen(base) + strlen(p) + 2;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s/%s", base, p);
    return out;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static void child_path(char *buf, size_t size, const char *parent, const char *key)
{
    snprintf(buf, size, "%s%s%s", parent, *parent ? "." : "", key);
}

/* ---- unknown keys ------------------------------------------------------ */

static int unknown_key(const crm_node *n, const char *section, const char *const *names,
                       crm_err *err)
{
    const char *hint = crm_suggest(n->key, names);
    if (hint)
        return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "did you mean '%s'?",
                              n->key, section, hint);
    char list[512];
    crm_strlist_join(names, ", ", list, sizeof list);
    return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "valid keys: %s", n->key,
                          section, list);
}

/* Every key of `map` must be in `names`. */
static int check_keys(const crm_node *map, const char *section, const char *const *names,
                      crm_err *err)
{
    for (size_t i = 0; i < map->n_items; i++)
        if (!crm_str_in(map->items[i]->key, names))
            return unknown_key(map->items[i], section, names, err);
    return CRM_OK;
}

static const schema_entry *schema_find(const char *path)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (strcmp(schema[i].path, path) == 0)
            return &schema[i];
    return NULL;
}

/* The last components of the table entries directly under `section`. */
static void schema_children(const char *section, const char **names, size_t max)
{
    size_t n = 0, len = strlen(section);
    for (size_t i = 0; i < N_SCHEMA && n + 1 < max; i++) {
        const char *p = schema[i].path;
        if (len && (strncmp(p, section, len) != 0 || p[len] != '.'))
            continue;
        p += len ? len + 1 : 0;
        if (!strchr(p, '.'))
            names[n++] = p;
    }
    names[n] = NULL;
}

/* Checks the shape of kernel sections: known keys only, maps where the
 * table has sections. Unknown top-level keys are left to plugins. */
static int check_map(const crm_node *map, const char *section, crm_err *err)
{
    for (size_t i = 0; i < map->n_items; i++) {
        const crm_node *c = map->items[i];
        char full[256];
        child_path(full, sizeof full, section, c->key);
        const schema_entry *e = schema_find(full);
        if (!e && !*section)
            continue;
        if (!e) {
            const char *names[32];
            schema_children(section, names, 32);
            return unknown_key(c, section, names, err);
        }
        if (e->type != S_SECTION || is_null(c))
            continue;
        if (c->kind != CRM_NODE_MAP)
            return crm_node_expected(c, full, "a map of settings", err);
        int rc = check_map(c, full, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- scalar entries ---------------------------------------------------- */

static int set_default(crm_config *cfg, const schema_entry *e)
{
    if (e->field == NO_FIELD)
        return CRM_OK;
    switch (e->type) {
    case S_STRING:
        *str_at(cfg, e->field) = strdup(e->def);
        return *str_at(cfg, e->field) ? CRM_OK : CRM_ENOMEM;
    case S_PATH:
        *str_at(cfg, e->field) = resolve(cfg->dir, e->def);
        return *str_at(cfg, e->field) ? CRM_OK : CRM_ENOMEM;
    case S_CODE:
        memcpy((char *)cfg + e->field, e->def, strlen(e->def) + 1);
        return CRM_OK;
    case S_BOOL:
        *bool_at(cfg, e->field) = e->idef != 0;
        return CRM_OK;
    case S_INT:
    case S_BYTES:
        *int_at(cfg, e->field) = e->idef;
        return CRM_OK;
    case S_NAMES:
        for (size_t i = 0; e->defs && e->defs[i]; i++)
            if (crm_strv_push((char ***)str_at(cfg, e->field), size_at(cfg, e->count),
                              e->defs[i]) != CRM_OK)
                return CRM_ENOMEM;
        return CRM_OK;
    default:
        return CRM_OK; /* lists and maps start empty */
    }
}

static int read_text(const crm_node *n, const char *path, const char *what, const char **out,
                     crm_err *err)
{
    if (crm_node_string(n, path, out, err) != CRM_OK || !**out)
        return crm_node_expected(n, path, what, err);
    return CRM_OK;
}

static int apply_string(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    const char *s;
    if (read_text(n, e->path, e->expect ? e->expect : "a string", &s, err) != CRM_OK)
        return CRM_ECONFIG;
    if (e->choices && !crm_str_in(s, e->choices)) {
        char list[512], what[600];
        crm_strlist_join(e->choices, ", ", list, sizeof list);
        snprintf(what, sizeof what, "%s (%s)", e->expect, list);
        crm_node_expected(n, e->path, what, err);
        const char *hint = crm_suggest(s, e->choices);
        if (hint) {
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof err->msg - len, DASH "did you mean '%s'?", hint);
        }
        return CRM_ECONFIG;
    }
    char *copy = e->type == S_PATH ? resolve(cfg->dir, s) : strdup(s);
    if (!copy)
        return nomem(err);
    free(*str_at(cfg, e->field));
    *str_at(cfg, e->field) = copy;
    return CRM_OK;
}

static int apply_code(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    const char *s = n->kind == CRM_NODE_SCALAR ? n->value : "";
    size_t len = strlen(s);
    if (n->kind != CRM_NODE_SCALAR || len != (size_t)e->min ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != len)
        return crm_node_expected(n, e->path, e->expect, err);
    memcpy((char *)cfg + e->field, s, len + 1);
    return CRM_OK;
}

static int apply_bool(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    bool v;
    if (crm_node_bool(n, e->path, &v, err) != CRM_OK)
        return CRM_ECONFIG;
    if (e->field != NO_FIELD)
        *bool_at(cfg, e->field) = v;
    return CRM_OK;
}

static int range_error(const schema_entry *e, const crm_node *n, crm_err *err)
{
    char what[128];
    if (e->max == INT64_MAX)
        snprintf(what, sizeof what, "an integer of at least %lld", (long long)e->min);
    else
        snprintf(what, sizeof what, "an integer from %lld to %lld", (long long)e->min,
                 (long long)e->max);
    return crm_node_expected(n, e->path, what, err);
}

static int apply_int(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    int64_t v;
    if (crm_node_int(n, e->path, &v, err) != CRM_OK)
        return CRM_ECONFIG;
    if (v < e->min || v > e->max)
        return range_error(e, n, err);
    if (e->field != NO_FIELD)
        *int_at(cfg, e->field) = v;
    return CRM_OK;
}

/* "64MiB", "512 KiB", "1GB", "65536": binary units are what people mean for
 * memory caps, decimal ones are accepted for what they say. */
static bool parse_bytes(const char *s, int64_t *out)
{
    static const struct { const char *unit; int64_t mult; } units[] = {
        {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", MiB}, {"GiB", 1024 * MiB},
        {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return false;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(end, units[i].unit) != 0)
            continue;
        if (v > INT64_MAX / units[i].mult)
            return false;
        *out = (int64_t)v * units[i].mult;
        return true;
    }
    return false;
}

static int apply_bytes(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    int64_t v;
    if (n->kind != CRM_NODE_SCALAR || !parse_bytes(n->value, &v))
        return crm_node_expected(n, e->path, "a size in bytes (65536, 512KiB, 64MiB, 1GiB)",
                                 err);
    if (v < e->min || v > e->max)
        return crm_node_expected(n, e->path, "a size of at least 64KiB", err);
    *int_at(cfg, e->field) = v;
    return CRM_OK;
}

/* ---- lists and maps ---------------------------------------------------- */

static int list_item_error(const schema_entry *e, const crm_node *item, const char *ipath,
                           crm_err *err)
{
    const char *hint = e->choices ? crm_suggest(item->value, e->choices) : NULL;
    if (!e->choices || item->kind != CRM_NODE_SCALAR)
        return crm_node_expected(item, ipath, e->expect, err);
    char list[512], what[600];
    crm_strlist_join(e->choices, ", ", list, sizeof list);
    snprintf(what, sizeof what, "%s (%s)", e->expect, list);
    crm_node_expected(item, ipath, what, err);
    if (hint) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, DASH "did you mean '%s'?", hint);
    }
    return CRM_ECONFIG;
}

static bool item_ok(const schema_entry *e, const crm_node *item)
{
    if (item->kind != CRM_NODE_SCALAR || item->is_null || !*item->value)
        return false;
    if (e->check)
        return e->check(item->value);
    return !e->choices || crm_str_in(item->value, e->choices);
}

static int check_unique(const crm_node *list, size_t i, const char *ipath, crm_err *err)
{
    for (size_t j = 0; j < i; j++) {
        const crm_node *a = list->items[j];
        if (strcmp(a->value, list->items[i]->value) == 0)
            return crm_node_error(list->items[i], ipath, err,
                                  "'%s' is listed twice (first at %s:%d:%d)",
                                  a->value, a->file, a->line, a->column);
    }
    return CRM_OK;
}

static int apply_list(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    if (n->kind != CRM_NODE_SEQ) {
        char what[160];
        snprintf(what, sizeof what, "a list of %s", e->expect);
        return crm_node_expected(n, e->path, what, err);
    }
    char **out = calloc(n->n_items ? n->n_items : 1, sizeof *out);
    if (!out)
        return nomem(err);
    *str_at(cfg, e->field) = (char *)out; /* owned by cfg from here on */
    for (size_t i = 0; i < n->n_items; i++) {
        const crm_node *item = n->items[i];
        char ipath[160];
        snprintf(ipath, sizeof ipath, "%s[%zu]", e->path, i);
        bool ok = e->type == S_PATHS ? item->kind == CRM_NODE_SCALAR && *item->value
                                     : item_ok(e, item);
        if (!ok)
            return list_item_error(e, item, ipath, err);
        if (check_unique(n, i, ipath, err) != CRM_OK)
            return CRM_ECONFIG;
        out[i] = e->type == S_PATHS ? resolve(cfg->dir, item->value) : strdup(item->value);
        if (!out[i])
            return nomem(err);
        (*size_at(cfg, e->count))++;
    }
    return CRM_OK;
}

static int apply_weights(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    if (n->kind != CRM_NODE_MAP)
        return crm_node_expected(n, e->path, "a map of criterion: weight", err);
    for (size_t i = 0; i < n->n_items; i++) {
        char ipath[256];
        int64_t w;
        child_path(ipath, sizeof ipath, e->path, n->items[i]->key);
        if (crm_node_int(n->items[i], ipath, &w, err) != CRM_OK)
            return CRM_ECONFIG;
        if (w < 0)
            return crm_node_expected(n->items[i], ipath, "a weight of 0 or more", err);
    }
    return CRM_OK;
}

/* ---- custom fields ----------------------------------------------------- */

static const char *const field_keys[] = {"name", "type", "values", "required", "description",
                                         NULL};
static const char *const type_names[] = {"text", "integer", "decimal", "date", "boolean",
                                         "enum", NULL};

/* Columns each entity already has: a custom field of that name would be
 * ambiguous in imports, exports and rules. */
static const char *const builtin_contact[] = {
    "id", "external_id", "first_name", "last_name", "email", "phone", "company",
    "company_id", "street", "postal_code", "city", "country", "birth_date",
    "lifecycle_stage", "owner_id", "source", "name_key", "tags", "created_at",
    "updated_at", NULL};
static const char *const builtin_company[] = {
    "id", "external_id", "name", "name_key", "domain", "phone", "street", "postal_code",
    "city", "country", "created_at", "updated_at", NULL};
static const char *const builtin_order[] = {
    "id", "external_id", "contact_id", "placed_at", "total", "currency", "status", "lines",
    "created_at", "updated_at", NULL};
static const char *const builtin_interaction[] = {
    "id", "external_id", "contact_id", "channel", "direction", "subject", "body",
    "occurred_at", "author_id", "created_at", NULL};
static const char *const *const builtin_fields[CRM_ENTITY_COUNT] = {
    builtin_contact, builtin_company, builtin_order, builtin_interaction};

const char *crm_entity_name(crm_entity e)
{
    static const char *const names[CRM_ENTITY_COUNT] = {"contact", "company", "order",
                                                         "interaction"};
    return (unsigned)e < CRM_ENTITY_COUNT ? names[e] : "?";
}

const char *crm_field_type_name(crm_field_type t)
{
    return (unsigned)t <= CRM_FIELD_ENUM ? type_names[t] : "?";
}

static const crm_node *require_key(const crm_node *map, const char *key, const char *path,
                                   crm_err *err)
{
    const crm_node *n = crm_node_get(map, key);
    if (!n)
        crm_node_error(map, path, err, "missing '%s'", key);
    return n;
}

static int field_name(crm_custom_field *f, crm_entity ent, const crm_node *item,
                      const char *path, crm_err *err)
{
    char kpath[200];
    const crm_node *n = require_key(item, "name", path, err);
    if (!n)
        return CRM_ECONFIG;
    snprintf(kpath, sizeof kpath, "%s.name", path);
    if (n->kind != CRM_NODE_SCALAR || !crm_name_valid(n->value, CRM_NAME_IDENT, 63))
        return crm_node_expected(n, kpath, "a name of a-z, 0-9 and _ starting with a letter",
                                 err);
    if (crm_str_in(n->value, builtin_fields[ent]))
        return crm_node_error(n, kpath, err, "'%s' is a built-in %s field; choose another name",
                              n->value, crm_entity_name(ent));
    f->name = strdup(n->value);
    return f->name ? CRM_OK : nomem(err);
}

static int field_type(crm_custom_field *f, const crm_node *item, const char *path, crm_err *err)
{
    char kpath[200];
    const crm_node *n = require_key(item, "type", path, err);
    if (!n)
        return CRM_ECONFIG;
    snprintf(kpath, sizeof kpath, "%s.type", path);
    for (int t = 0; n->kind == CRM_NODE_SCALAR && type_names[t]; t++)
        if (strcmp(n->value, type_names[t]) == 0) {
            f->type = (crm_field_type)t;
            return CRM_OK;
        }
    return crm_node_expected(n, kpath, "one of text, integer, decimal, date, boolean, enum",
                             err);
}

static int field_values(crm_custom_field *f, const crm_node *item, const char *path,
                        crm_err *err)
{
    char kpath[200];
    const crm_node *n = crm_node_get(item, "values");
    snprintf(kpath, sizeof kpath, "%s.values", path);
    if (f->type != CRM_FIELD_ENUM) {
        if (n)
            return crm_node_error(n, kpath, err, "only allowed with type: enum");
        return CRM_OK;
    }
    if (!n)
        return crm_node_error(item, path, err,
                              "type enum needs 'values', a non-empty list of choices");
    if (n->kind != CRM_NODE_SEQ || n->n_items == 0)
        return crm_node_expected(n, kpath, "a non-empty list of choices", err);
    if (!(f->enum_values = calloc(n->n_items, sizeof *f->enum_values)))
        return nomem(err);
    for (size_t i = 0; i < n->n_items; i++) {
        const crm_node *v = n->items[i];
        char ipath[220];
        snprintf(ipath, sizeof ipath, "%s[%zu]", kpath, i);
        if (v->kind != CRM_NODE_SCALAR || v->is_null || !*v->value)
            return crm_node_expected(v, ipath, "a non-empty choice", err);
        if (check_unique(n, i, ipath, err) != CRM_OK)
            return CRM_ECONFIG;
        if (!(f->enum_values[i] = strdup(v->value)))
            return nomem(err);
        f->n_enum++;
    }
    return CRM_OK;
}

static int field_extras(crm_custom_field *f, const crm_node *item, const char *path,
                        crm_err *err)
{
    char kpath[200];
    const crm_node *n = crm_node_get(item, "required");
    snprintf(kpath, sizeof kpath, "%s.required", path);
    if (n && crm_node_bool(n, kpath, &f->required, err) != CRM_OK)
        return CRM_ECONFIG;
    n = crm_node_get(item, "description");
    if (!n)
        return CRM_OK;
    const char *s;
    snprintf(kpath, sizeof kpath, "%s.description", path);
    if (crm_node_string(n, kpath, &s, err) != CRM_OK)
        return CRM_ECONFIG;
    f->description = strdup(s);
    return f->description ? CRM_OK : nomem(err);
}

static int parse_field(crm_custom_field *f, crm_entity ent, const crm_node *item,
                       const char *path, crm_err *err)
{
    if (item->kind != CRM_NODE_MAP)
        return crm_node_expected(item, path, "a map with name and type", err);
    int rc = check_keys(item, path, field_keys, err);
    if (rc == CRM_OK)
        rc = field_name(f, ent, item, path, err);
    if (rc == CRM_OK)
        rc = field_type(f, item, path, err);
    if (rc == CRM_OK)
        rc = field_values(f, item, path, err);
    if (rc == CRM_OK)
        rc = field_extras(f, item, path, err);
    return rc;
}

static int apply_custom(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    crm_entity ent = (crm_entity)e->idef;
    if (n->kind != CRM_NODE_SEQ)
        return crm_node_expected(n, e->path, "a list of fields ({name, type, ...})", err);
    cfg->custom[ent] = calloc(n->n_items ? n->n_items : 1, sizeof *cfg->custom[ent]);
    if (!cfg->custom[ent])
        return nomem(err);
    for (size_t i = 0; i < n->n_items; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s[%zu]", e->path, i);
        cfg->n_custom[ent]++; /* counted first so a half-read field is freed too */
        int rc = parse_field(&cfg->custom[ent][i], ent, n->items[i], path, err);
        if (rc != CRM_OK)
            return rc;
        const crm_custom_field *first = NULL;
        for (size_t j = 0; j < i && !first; j++)
            if (strcmp(cfg->custom[ent][j].name, cfg->custom[ent][i].name) == 0)
                first = &cfg->custom[ent][j];
        if (first) {
            const crm_node *a = crm_node_get(n->items[first - cfg->custom[ent]], "name");
            return crm_node_error(crm_node_get(n->items[i], "name"), path, err,
                                  "field '%s' is declared twice (first at %s:%d:%d)",
                                  first->name, a->file, a->line, a->column);
        }
    }
    return CRM_OK;
}

/* ---- rules ------------------------------------------------------------- */

static const char *const rule_keys[] = {"kind", "script", "function", NULL};
static const char *const rule_kinds[] = {"predicate", "score", "validator", "handler", NULL};

static int rule_text(const crm_node *rule, const char *key, const char *path,
                     const char *what, const char **out, crm_err *err)
{
    char kpath[300];
    const crm_node *n = require_key(rule, key, path, err);
    if (!n)
        return CRM_ECONFIG;
    snprintf(kpath, sizeof kpath, "%s.%s", path, key);
    return read_text(n, kpath, what, out, err);
}

static int parse_rule(crm_config *cfg, crm_rule_config *r, const crm_node *n, crm_err *err)
{
    char path[280];
    const char *kind, *script, *fn;
    snprintf(path, sizeof path, "rules.%s", n->key);
    if (n->kind != CRM_NODE_MAP)
        return crm_node_expected(n, path, "a map with kind, script and function", err);
    if (check_keys(n, path, rule_keys, err) != CRM_OK ||
        rule_text(n, "kind", path, "one of predicate, score, validator, handler", &kind,
                  err) != CRM_OK ||
        rule_text(n, "script", path, "a Lua file name", &script, err) != CRM_OK ||
        rule_text(n, "function", path, "a Lua function name", &fn, err) != CRM_OK)
        return CRM_ECONFIG;
    if (!crm_str_in(kind, rule_kinds)) {
        snprintf(path + strlen(path), sizeof path - strlen(path), ".kind");
        return crm_node_expected(crm_node_get(n, "kind"), path, 
                                 "one of predicate, score, validator, handler", err);
    }
    if (!crm_name_valid(fn, CRM_NAME_LUA, 0)) {
        snprintf(path + strlen(path), sizeof path - strlen(path), ".function");
        return crm_node_expected(crm_node_get(n, "function"), path, "a Lua function name", err);
    }
    r->node = n;
    r->name = strdup(n->key);
    r->kind = strdup(kind);
    r->script = resolve(cfg->scripts, script);
    r->function = strdup(fn);
    return r->name && r->kind && r->script && r->function ? CRM_OK : nomem(err);
}

static int apply_rules(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    if (n->kind != CRM_NODE_MAP)
        return crm_node_expected(n, e->path, "a map of rule name: {kind, script, function}",
                                 err);
    cfg->rules = calloc(n->n_items ? n->n_items : 1, sizeof *cfg->rules);
    if (!cfg->rules)
        return nomem(err);
    for (size_t i = 0; i < n->n_items; i++) {
        cfg->n_rules++;
        int rc = parse_rule(cfg, &cfg->rules[i], n->items[i], err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- calendars (parsed in core/time/calendar_config.c) ----------------- */

static int apply_calendars(crm_config *cfg, const schema_entry *e, const crm_node *n,
                           crm_err *err)
{
    return crm_calendars_load(cfg, n, err);
}

/* ---- timers (parsed in core/time/timer_config.c) ----------------------- */

static int apply_timers(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    (void)e;
    return crm_timer_config_load(&cfg->timers, n, err);
}

/* ---- message channels (drivers in core/messages) ----------------------- */

static int apply_channels(crm_config *cfg, const schema_entry *e, const crm_node *n,
                          crm_err *err)
{
    (void)cfg;
    if (n->kind != CRM_NODE_MAP)
        return crm_node_expected(n, e->path, "a map of channel name: {driver, ...}", err);
    for (size_t i = 0; i < n->n_items; i++) {
        const crm_node *c = n->items[i];
        char path[160];
        snprintf(path, sizeof path, "%s.%s", e->path, c->key);
        if (!is_word(c->key))
            return crm_node_error(c, path, err, "a channel name is a-z, 0-9 and _");
        int rc = crm_driver_check(c, c->key, path, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- outbound webhooks (core/messages/webhook_config.c) ---------------- */

static int apply_webhooks(crm_config *cfg, const schema_entry *e, const crm_node *n,
                          crm_err *err)
{
    (void)cfg;
    (void)e;
    return crm_webhook_config(n, NULL, NULL, err);
}

/* Checked here so a mistake stops the load; the outbox reads them again
 * from the tree when it first needs them. */
static int apply_quiet(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    (void)cfg, (void)e;
    return crm_quiet_config(n, NULL, NULL, err);
}

static int apply_caps(crm_config *cfg, const schema_entry *e, const crm_node *n, crm_err *err)
{
    (void)cfg, (void)e;
    return crm_caps_config(n, NULL, NULL, err);
}

/* ---- the table, applied ------------------------------------------------ */

typedef int (*applier)(crm_config *, const schema_entry *, const crm_node *, crm_err *);

static const applier appliers[] = {
    [S_STRING] = apply_string, [S_PATH] = apply_string,  [S_CODE] = apply_code,
    [S_BOOL] = apply_bool,     [S_INT] = apply_int,      [S_BYTES] = apply_bytes,
    [S_NAMES] = apply_list,    [S_PATHS] = apply_list,   [S_CUSTOM] = apply_custom,
    [S_RULES] = apply_rules,   [S_WEIGHTS] = apply_weights, [S_CALENDARS] = apply_calendars,
    [S_TIMERS] = apply_timers,
    [S_CHANNELS] = apply_channels, [S_WEBHOOKS] = apply_webhooks, [S_QUIET] = apply_quiet,
    [S_CAPS] = apply_caps};

/* An empty list or map may be written as nothing (`plugins:`); a scalar
 * left empty is a mistake and goes to its reader, which says so. */
static bool empty_means_default(schema_type t)
{
    return t >= S_NAMES;
}

static int apply_schema(crm_config *cfg, crm_err *err)
{
    for (size_t i = 0; i < N_SCHEMA; i++) {
        const schema_entry *e = &schema[i];
        if (e->type == S_SECTION)
            continue;
        const crm_node *n = cfg->root ? crm_node_path(cfg->root, e->path) : NULL;
        int rc;
        if (!e->always && (!n || (is_null(n) && empty_means_default(e->type))))
            rc = set_default(cfg, e) == CRM_OK ? CRM_OK : nomem(err);
        else
            rc = appliers[e->type](cfg, e, n, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- public ------------------------------------------------------------ */

crm_config *crm_config_defaults(void)
{
    crm_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    cfg->dir = strdup(".");
    if (!cfg->dir || apply_schema(cfg, NULL) != CRM_OK) {
        crm_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_custom(crm_custom_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].name);
        free_strings(f[i].enum_values, f[i].n_enum);
        free(f[i].description);
    }
    free(f);
}

void crm_config_free(crm_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->dir);
    free(cfg->database);
    free(cfg->timezone);
    free_strings(cfg->plugins, cfg->n_plugins);
    free_strings(cfg->plugin_path, cfg->n_plugin_path);
    free(cfg->scripts);
    free(cfg->templates);
    for (int e = 0; e < CRM_ENTITY_COUNT; e++)
        free_custom(cfg->custom[e], cfg->n_custom[e]);
    free_strings(cfg->hygiene.required, cfg->hygiene.n_required);
    free_strings(cfg->hygiene.recommended, cfg->hygiene.n_recommended);
    free_strings(cfg->consents.channels, cfg->consents.n_channels);
    free_strings(cfg->consents.purposes, cfg->consents.n_purposes);
    free(cfg->lifecycle.on_first_paid_order);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        free(cfg->rules[i].name);
        free(cfg->rules[i].kind);
        free(cfg->rules[i].script);
        free(cfg->rules[i].function);
    }
    free(cfg->rules);
    crm_calendars_free(cfg->calendars);
    crm_node_free(cfg->root);
    free(cfg);
}

static int load_text(crm_config **out, const char *text, size_t len, const char *name,
                     crm_err *err)
{
    int rc = CRM_ENOMEM;
    crm_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return nomem(err);
    if (!(cfg->path = strdup(name)) || !(cfg->dir = dir_of(name))) {
        nomem(err);
        goto fail;
    }
    if ((rc = crm_node_parse(&cfg->root, text, len, cfg->path, err)) != CRM_OK)
        goto fail;
    if (cfg->root->kind != CRM_NODE_MAP) {
        rc = crm_node_error(cfg->root, NULL, err,
                            "the top level must be a map of sections (key: value)");
        goto fail;
    }
    if ((rc = check_map(cfg->root, "", err)) != CRM_OK ||
        (rc = apply_schema(cfg, err)) != CRM_OK)
        goto fail;
    *out = cfg;
    return CRM_OK;
fail:
    crm_config_free(cfg);
    return rc;
}

int crm_config_load_string(crm_config **out, const char *yaml, const char *name, crm_err *err)
{
    *out = NULL;
    return load_text(out, yaml ? yaml : "", yaml ? strlen(yaml) : 0, name ? name : "<string>",
                     err);
}

static int read_file(const char *path, char **text, size_t *len, crm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return crm_err_set(err, CRM_EIO, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 0, n = 0, got;
    char *buf = NULL;
    int rc;
    while ((rc = CRM_ARRAY_RESERVE(buf, cap, n + 4096)) == CRM_OK &&
           (got = fread(buf + n, 1, cap - n, f)) > 0)
        n += got;
    int failed = ferror(f);
    fclose(f);
    if (rc != CRM_OK) {
        free(buf);
        return nomem(err);
    }
    if (failed) {
        free(buf);
        return crm_err_set(err, CRM_EIO, "cannot read %s", path);
    }
    *text = buf;
    *len = n;
    return CRM_OK;
}

int crm_config_load(crm_config **out, const char *path, crm_err *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = read_file(path, &text, &len, err);
    if (rc != CRM_OK)
        return rc;
    rc = load_text(out, text, len, path, err);
    free(text);
    return rc;
}

const crm_node *crm_config_section(const crm_config *cfg, const char *name)
{
    return cfg ? crm_node_get(cfg->root, name) : NULL;
}

const crm_custom_field *crm_config_custom_field(const crm_config *cfg, crm_entity e,
                                                const char *name)
{
    if (!cfg || (unsigned)e >= CRM_ENTITY_COUNT || !name)
        return NULL;
    for (size_t i = 0; i < cfg->n_custom[e]; i++)
        if (strcmp(cfg->custom[e][i].name, name) == 0)
            return &cfg->custom[e][i];
    return NULL;
}

static bool is_kernel_key(const char *key)
{
    const schema_entry *e = schema_find(key);
    return e && !strchr(e->path, '.');
}

/* Kernel top-level keys then the claimed names: what a top-level key may be. */
static const char **valid_top_keys(const char *const *claimed)
{
    size_t n = 0;
    while (claimed && claimed[n])
        n++;
    const char **names = calloc(N_SCHEMA + n + 1, sizeof *names);
    if (!names)
        return NULL;
    schema_children("", names, N_SCHEMA + 1);
    size_t k = 0;
    while (names[k])
        k++;
    for (size_t i = 0; i < n; i++)
        names[k++] = claimed[i];
    names[k] = NULL;
    return names;
}

static int unknown_section(const crm_node *n, const char *const *claimed, crm_err *err)
{
    const char **names = valid_top_keys(claimed);
    if (!names)
        return nomem(err);
    const char *hint = crm_suggest(n->key, names);
    char list[600];
    crm_strlist_join(names, ", ", list, sizeof list);
    if (hint)
        crm_node_error(n, NULL, err, "unknown top-level key '%s'" DASH "did you mean '%s'?",
                       n->key, hint);
    else
        crm_node_error(n, NULL, err,
                       "unknown top-level key '%s'" DASH
                       "not a kernel key nor an enabled plugin's section (valid: %s)",
                       n->key, list);
    free(names);
    return CRM_ECONFIG;
}

int crm_config_check_sections(const crm_config *cfg, const char *const *claimed,
                              bool (*is_plugin)(const char *name, void *ud), void *ud,
                              crm_err *err)
{
    if (!cfg || !cfg->root)
        return CRM_OK;
    for (size_t i = 0; i < cfg->root->n_items; i++) {
        const crm_node *n = cfg->root->items[i];
        if (is_kernel_key(n->key) || (claimed && crm_str_in(n->key, claimed)))
            continue;
        if (is_plugin && is_plugin(n->key, ud))
            continue; /* an installed plugin, disabled: its settings wait */
        return unknown_section(n, claimed, err);
    }
    return CRM_OK;
}

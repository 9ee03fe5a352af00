/* crm.yaml: a position-keeping YAML tree and the kernel's typed view of it.
 *
 * The file is read with libyaml's document loader into crm_node trees that
 * remember file:line:column for every node, so any later consumer (a plugin
 * validating its own section, the rule engine) can report errors at the
 * exact spot. The kernel's own keys are checked against a schema table:
 * wrong types, unknown keys (with a "did you mean" suggestion) and excessive
 * nesting are refused with file:line:column and the key path. */
#ifndef CRM_CORE_CONFIG_H
#define CRM_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Nesting deeper than this is refused: configuration has no business being
 * deeper, and the cap bounds the loader's recursion. */
#define CRM_CONFIG_MAX_DEPTH 32

typedef enum crm_node_kind {
    CRM_NODE_SCALAR,
    CRM_NODE_MAP,
    CRM_NODE_SEQ
} crm_node_kind;

typedef struct crm_node crm_node;
struct crm_node {
    crm_node_kind kind;
    char *key;          /* key in the parent map; NULL for list items and the root */
    char *value;        /* scalar text (NULL for maps and lists; "" for empty/null) */
    bool is_null;       /* scalar was `~`, `null` or empty */
    const char *file;   /* the file it came from (owned by the config) */
    int line, column;   /* 1-based position of the value (for map entries: of the key) */
    crm_node **items;   /* children: map entries (each has key) or list items */
    size_t n_items;
};

/* Returns the entry `key` of map node `map`, or NULL (also when map is not a map). */
const crm_node *crm_node_get(const crm_node *map, const char *key);

/* Follows a dotted path ("segmentation.rfm.window_days") from `root`; NULL if absent. */
const crm_node *crm_node_path(const crm_node *root, const char *dotted);

/* Reads a scalar as the named type. Each returns CRM_OK, or CRM_ECONFIG with
 * "FILE:LINE:COL: KEYPATH: expected ..., got '...'" in err. `path` is the key
 * path used in the message. */
int crm_node_int(const crm_node *n, const char *path, int64_t *out, crm_err *err);
int crm_node_bool(const crm_node *n, const char *path, bool *out, crm_err *err);
int crm_node_string(const crm_node *n, const char *path, const char **out, crm_err *err);

/* Fills err with "FILE:LINE:COL: PATH: MESSAGE" for node n; returns CRM_ECONFIG. */
int crm_node_error(const crm_node *n, const char *path, crm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The valid name closest to `word` by edit distance (at most 3 edits, and
 * fewer than half its length), or NULL. `names` ends with NULL. */
const char *crm_suggest(const char *word, const char *const *names);

/* ---- the kernel's typed configuration ---------------------------------- */

typedef enum crm_entity {
    CRM_ENTITY_CONTACT,
    CRM_ENTITY_COMPANY,
    CRM_ENTITY_ORDER,
    CRM_ENTITY_INTERACTION,
    CRM_ENTITY_COUNT
} crm_entity;

/* "contact", "company", "order", "interaction" — the crm.yaml key under
 * custom_fields and the `entity` column of custom_values. */
const char *crm_entity_name(crm_entity e);

typedef enum crm_field_type {
    CRM_FIELD_TEXT,
    CRM_FIELD_INTEGER,
    CRM_FIELD_DECIMAL,
    CRM_FIELD_DATE,
    CRM_FIELD_BOOLEAN,
    CRM_FIELD_ENUM
} crm_field_type;

/* "text", "integer", ... */
const char *crm_field_type_name(crm_field_type t);

typedef struct crm_custom_field {
    char *name;
    crm_field_type type;
    char **enum_values;  /* for CRM_FIELD_ENUM */
    size_t n_enum;
    bool required;
    char *description;   /* optional, may be NULL */
} crm_custom_field;

typedef struct crm_hygiene_config {
    bool validate_email;        /* hygiene.validate.email */
    bool validate_phone;        /* hygiene.validate.phone */
    bool validate_postal_code;  /* hygiene.validate.postal_code */
    bool normalise_names;       /* hygiene.normalise.names: proper case with particles */
    bool normalise_email;       /* hygiene.normalise.email: lower case */
    bool normalise_phone;       /* hygiene.normalise.phone: store E.164 */
    bool refuse_duplicates;     /* hygiene.duplicates.refuse_on_add */
    char **required;            /* hygiene.required: contact fields that must be set */
    size_t n_required;
    char **recommended;         /* hygiene.recommended: fields `crm audit` reports missing */
    size_t n_recommended;
    int64_t inactive_months;    /* hygiene.inactive_months: no order or interaction since */
} crm_hygiene_config;

typedef struct crm_lua_config {
    int64_t max_memory;        /* lua.max_memory bytes, default 64 MiB */
    int64_t max_instructions;  /* lua.max_instructions per call, default 10,000,000 */
    int64_t max_failures;      /* lua.max_failures in a batch before it stops, default 100 */
} crm_lua_config;

typedef struct crm_consent_config {
    char **channels;     /* consents.channels: the channels a consent may name */
    size_t n_channels;
    char **purposes;     /* consents.purposes: the purposes it may name */
    size_t n_purposes;
} crm_consent_config;

typedef struct crm_lifecycle_config {
    char *on_first_paid_order;  /* lifecycle.on_first_paid_order: a stage, or "none" */
} crm_lifecycle_config;

/* timers: (core/time/timer_config.c). Delays are wall-clock seconds. */
#define CRM_TIMER_MAX_BACKOFF 16
typedef struct crm_timer_config {
    int64_t backoff[CRM_TIMER_MAX_BACKOFF]; /* timers.backoff: delay after the Nth failure */
    size_t n_backoff;                       /* >= 1; the last delay repeats */
    int64_t max_attempts;                   /* timers.max_attempts: parked after this many */
    int64_t keep_done;                      /* timers.keep_done: done rows purged after */
} crm_timer_config;

typedef struct crm_rule_config {
    char *name;          /* key under rules: */
    char *kind;          /* predicate | score | validator | handler */
    char *script;        /* resolved path of the script file */
    char *function;      /* function name inside it */
    const crm_node *node;/* position, for messages */
} crm_rule_config;

typedef struct crm_config {
    char *path;           /* file loaded; NULL when built from defaults */
    char *dir;            /* its directory: relative paths resolve against it */
    char *database;       /* resolved path (absolute or relative to dir) */
    char country[3];      /* locale.country, ISO 3166-1 alpha-2, default "FR" */
    char currency[4];     /* locale.currency, ISO 4217, default "EUR" */
    char *timezone;       /* locale.timezone, default "Europe/Paris" */
    char **plugins;       /* enabled plugins, in file order */
    size_t n_plugins;
    char **plugin_path;   /* extra directories to search for NAME.so */
    size_t n_plugin_path;
    char *scripts;        /* resolved scripts directory, default "<dir>/scripts" */
    char *templates;      /* messages.templates resolved, default "<dir>/templates" */
    crm_custom_field *custom[CRM_ENTITY_COUNT];
    size_t n_custom[CRM_ENTITY_COUNT];
    crm_hygiene_config hygiene;
    crm_lua_config lua;
    crm_consent_config consents;
    crm_lifecycle_config lifecycle;
    crm_rule_config *rules; /* rules: NAME: {kind, script, function} */
    size_t n_rules;
    struct crm_calendars *calendars; /* calendars: (core/time/calendar.h), `default` first */
    crm_timer_config timers;         /* timers: backoff, parking and retention */
    crm_node *root;       /* the whole document, NULL for defaults */
} crm_config;

/* Loads and checks `path`. On success *out owns everything. Top-level keys
 * that are not kernel keys are kept in root and must be claimed later by an
 * enabled plugin (see crm_config_unclaimed_sections). Returns CRM_OK,
 * CRM_EIO (unreadable), or CRM_ECONFIG with a positioned message. */
int crm_config_load(crm_config **out, const char *path, crm_err *err);

/* Same, from a string (tests); `name` is used as the file name in messages. */
int crm_config_load_string(crm_config **out, const char *yaml, const char *name, crm_err *err);

/* A configuration holding only defaults, with dir = "." . */
crm_config *crm_config_defaults(void);

void crm_config_free(crm_config *cfg);

/* The top-level section `name` (a plugin's settings), or NULL. */
const crm_node *crm_config_section(const crm_config *cfg, const char *name);

/* The custom field `name` declared for entity e, or NULL. */
const crm_custom_field *crm_config_custom_field(const crm_config *cfg, crm_entity e,
                                                const char *name);

/* Checks top-level keys that are neither kernel keys nor in `claimed` (NULL-
 * terminated: the enabled plugins' names). `is_plugin(name)` tells whether a
 * disabled-but-installed plugin of that name exists (its section is then
 * ignored). Anything else is an unknown key: CRM_ECONFIG with position and
 * the nearest valid key suggested. */
int crm_config_check_sections(const crm_config *cfg, const char *const *claimed,
                              bool (*is_plugin)(const char *name, void *ud), void *ud,
                              crm_err *err);

/* ---- additions: the tree on its own (plugins' tests, the rule engine) --- */

/* Parses `len` bytes of YAML text into a tree (*out, freed with
 * crm_node_free). Every node keeps `file` as its file name: the caller keeps
 * that string alive as long as the tree. An empty document gives an empty
 * map. Refuses syntax errors, aliases, duplicate keys, non-scalar keys, more
 * than one document and nesting deeper than CRM_CONFIG_MAX_DEPTH, each with
 * "FILE:LINE:COL: ..." in err. Returns CRM_OK, CRM_ECONFIG or CRM_ENOMEM. */
int crm_node_parse(crm_node **out, const char *text, size_t len, const char *file,
                   crm_err *err);

/* Frees a tree made by crm_node_parse; NULL is allowed. */
void crm_node_free(crm_node *n);

/* Fills err with "FILE:LINE:COL: PATH: expected WHAT, got 'VALUE'" (a map or
 * a list is named rather than quoted); returns CRM_ECONFIG. */
int crm_node_expected(const crm_node *n, const char *path, const char *what, crm_err *err);

#endif

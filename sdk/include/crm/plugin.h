/* crm SDK — the whole public surface a plugin sees.
 *
 * A plugin is a shared object NAME.so exporting one symbol, crm_plugin_query,
 * which returns a pointer to a constant crm_plugin_descriptor. The host checks
 * the descriptor's ABI version and size before calling anything else, then
 * calls init with the host API table (crm_host_api). Everything a plugin does
 * to the outside world goes through that table; the macros at the end of this
 * file let plugin code read like plain calls:
 *
 *     crm_stmt *st;
 *     if (crm_sql_prepare(ctx, "SELECT count(*) FROM hello_rows", &st) == CRM_OK) {
 *         if (crm_sql_step(st) == CRM_SQL_ROW)
 *             crm_log(ctx, CRM_LOG_INFO, "%lld rows", (long long)crm_sql_column_int64(st, 0));
 *         crm_sql_finalize(st);
 *     }
 *
 * Lifecycle (see sdk/README.md): query -> ABI check -> init (registration
 * only) -> config validation -> migrations -> start -> ... -> stop -> fini.
 *
 * ABI promises: within one major version, crm_host_api and every struct
 * carrying a struct_size only grow at their end; existing members never move
 * or change meaning. A plugin built against 1.x loads in any host 1.y; it
 * tests for entries newer than the host with CRM_API_HAS. */
#ifndef CRM_PLUGIN_H
#define CRM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crm/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CRM_PLUGIN_ABI_MAJOR 1
#define CRM_PLUGIN_ABI_MINOR 4

/* Marks the entry point as the one exported symbol (plugins build with
 * -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define CRM_PLUGIN_EXPORT __attribute__((visibility("default")))
#define CRM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CRM_PLUGIN_EXPORT
#define CRM_PRINTF(f, a)
#endif

typedef struct crm_host_api crm_host_api;

/* Opaque handles. Each starts with the host API pointer (crm_handle_head),
 * which is what the macros below use; everything else is private. */
typedef struct crm_plugin_ctx crm_plugin_ctx;     /* one loaded plugin */
typedef struct crm_stmt crm_stmt;                 /* a prepared SQL statement */
typedef struct crm_plugin_event crm_plugin_event; /* an event being delivered */
typedef struct crm_command_io crm_command_io;     /* a CLI command's invocation */

struct crm_handle_head {
    const crm_host_api *api;
};
#define CRM_API(h) (((const struct crm_handle_head *)(const void *)(h))->api)

/* True when the host's table has entry `member` (it may be older than the SDK
 * the plugin was built with). Test it before calling an entry newer than 1.0:
 *     if (CRM_API_HAS(ctx, locale)) cur = crm_locale(ctx, "currency");
 * The SDK 1.1 entries are register_noun_command, call_rule and locale; 1.2
 * added rule_each; 1.3 register_demo, the entries after the table's
 * "1.3: sdk13" comment, then format_money and register_contact_set ("1.3: seg"), then the
 * "1.3: timers" entries, then the "1.3: tasks", "1.3: privacy" and
 * "1.3: sdkwrites" entries, then "1.3: ticketing", then "1.3: messages"; 1.4
 * the "1.4: routes" entries (register_route onwards), then call_rule_json. */
#define CRM_API_HAS(h, member)                                                               \
    (CRM_API(h)->struct_size >=                                                              \
     offsetof(crm_host_api, member) + sizeof(((const crm_host_api *)0)->member))

/* True when the host provides ABI major.minor or a later minor of the same
 * major (the same question as CRM_API_HAS, asked by version). */
#define CRM_API_AT_LEAST(h, major, minor)                                                    \
    (CRM_API(h)->abi_major == (major) && CRM_API(h)->abi_minor >= (minor))

/* ---- the descriptor ------------------------------------------------------ */

/* A plugin this one needs, loaded and started first. min_version "1.2.0"
 * (numeric dot-separated compare; NULL = any version). */
typedef struct crm_plugin_requirement {
    const char *name;
    const char *min_version;
} crm_plugin_requirement;

typedef struct crm_plugin_descriptor {
    uint32_t abi_major;   /* CRM_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* CRM_PLUGIN_ABI_MINOR */
    size_t struct_size;   /* sizeof(crm_plugin_descriptor) */
    const char *name;     /* must equal the file name without ".so": [a-z][a-z0-9_]* */
    const char *version;  /* "1.2.0" */
    const char *description;
    const crm_plugin_requirement *requires; /* ends with {NULL, NULL}; NULL = none */

    /* Registration happens here and only here (migrations, subscriptions,
     * commands, Lua functions, config keys). Returns CRM_OK, or an error code
     * after crm_set_error() explained why: the plugin is then refused with
     * that message. `api` is also reachable later as CRM_API(ctx). */
    int (*init)(crm_plugin_ctx *ctx, const crm_host_api *api);
    /* After config validation and migrations, in dependency order. May use
     * SQL and the entity calls. CRM_OK or an error (with crm_set_error). */
    int (*start)(crm_plugin_ctx *ctx);
    /* In reverse dependency order when the kernel closes (only if started). */
    void (*stop)(crm_plugin_ctx *ctx);
    /* Last call before dlclose (only if init was called, even if it failed):
     * free what init allocated. */
    void (*fini)(crm_plugin_ctx *ctx);
} crm_plugin_descriptor;

/* The entry point every plugin defines, exactly once:
 *     CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
 *     { return &my_descriptor; }
 * It must not do anything else: it runs before the ABI check. */
typedef const crm_plugin_descriptor *(*crm_plugin_query_fn)(void);
CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void);

/* Convenience initialiser for the descriptor's header fields. */
#define CRM_PLUGIN_DESCRIPTOR_HEADER                                                         \
    .abi_major = CRM_PLUGIN_ABI_MAJOR, .abi_minor = CRM_PLUGIN_ABI_MINOR,                    \
    .struct_size = sizeof(crm_plugin_descriptor)

/* ---- callback types --------------------------------------------------------- */

/* An event handler. Runs after the event's transaction committed, inside a
 * transaction the bus opened: its writes commit with the subscriber's cursor
 * (durable) or roll back when it fails. Returns CRM_OK or an error code after
 * crm_set_error(); a failing handler is retried, then the event is parked. */
typedef int (*crm_event_handler)(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud);

/* A CLI command `crm <plugin> <verb> ARGS...` (or `crm <noun> <verb> ARGS...`
 * registered with register_noun_command). argv[0] is the verb (the noun for
 * a single-word noun command); global options (--json, --db, ...) are
 * already removed. Print results to
 * crm_io_out(io) (as one JSON value per line when crm_io_json(io)). Returns
 * CRM_OK, or an error code after crm_set_error() (exit status 1, or 2 for
 * CRM_EUSAGE). */
typedef int (*crm_command_fn)(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv);

/* A Lua function crm.<plugin>.<name>(...). Arguments arrive as a JSON array
 * text; the function stores a malloc'd JSON text in *result_json (any JSON
 * value; NULL means nil) or, on failure, a malloc'd message in *error and
 * returns an error code. The host frees both with free(). */
typedef int (*crm_lua_fn)(crm_plugin_ctx *ctx, void *ud, const char *args_json,
                          char **result_json, char **error);

/* What rule_each (ABI 1.2) calls once per contact, in contact id order. When
 * the rule ran, result_json is its result as JSON text ("true", "false",
 * "null", a number such as "42", or for FILE:FN rules a string, array or
 * object) and error and cause are NULL. When it failed for this contact,
 * result_json is NULL, error is the engine's message ("rule R: FILE:LINE:
 * ... (contact 42)") and cause one of "memory", "instructions", "blocked",
 * "runtime", "syntax" (the script does not compile). All three strings are borrowed: valid during the call only.
 * Return CRM_OK (0) to go on; any other value stops the scan and becomes
 * rule_each's result. The callback may use the host API (SQL on its own
 * tables, emit events) but must not start or end a transaction. */
typedef int (*crm_rule_each_fn)(void *ud, int64_t contact_id, const char *result_json,
                                const char *error, const char *cause);

/* What register_demo (ABI 1.3) registers: `crm demo` calls it once, after
 * the demo data is generated and committed and the plugin's subscribers have
 * seen its events. It brings the plugin's state up to date on that data
 * (e.g. a full refresh, as of crm_now) and prints the plugin's headline — a
 * few lines a new user should see first — to crm_io_out(io), or one JSON
 * value when crm_io_json(io). Returns CRM_OK, or an error code after
 * crm_set_error() (crm demo reports it and exits 1; the demo data stays). */
typedef int (*crm_demo_fn)(crm_plugin_ctx *ctx, crm_command_io *io);
/* What a contact set provider (register_contact_set, ABI 1.3) calls once per
 * member of the set it resolves. Returns CRM_OK, or an error: the provider
 * then stops and returns it. */
typedef int (*crm_contact_sink)(void *sink, int64_t contact_id);

/* A contact set provider (register_contact_set, ABI 1.3). Resolves `name`, a
 * set the user named (`--segment NAME`), by calling add(sink, id) for each of
 * its contacts (any order; duplicates are ignored), and returns CRM_OK; or
 * returns CRM_ENOTFOUND after crm_set_error() naming the sets it knows, when
 * it has none called `name`. Any other error stops the command with the
 * provider's message. It runs with the plugin's rights and may read and
 * print notes on stderr, but must not begin a transaction or write. */
typedef int (*crm_contact_set_fn)(crm_plugin_ctx *ctx, const char *name, crm_contact_sink add,
                                  void *sink, void *ud);

/* Types of declared config keys. */
typedef enum crm_config_type {
    CRM_CONFIG_STRING = 1,
    CRM_CONFIG_INT = 2,
    CRM_CONFIG_BOOL = 3,
    /* ABI 1.3, in declare_config_schema tables only: */
    CRM_CONFIG_DURATION = 4, /* "90m", "2h", "1h30m", "7d", "15bd" (business days) */
    CRM_CONFIG_MONEY = 5,    /* "200.00 EUR" (or "200.00": locale.currency) */
    CRM_CONFIG_LIST = 6,     /* a YAML list of item_type values (maps: `fields`) */
    CRM_CONFIG_MAP = 7,      /* a YAML map with the fixed keys `fields` */
    CRM_CONFIG_DICT = 8      /* a YAML map NAME -> item_type value (maps: `fields`) */
} crm_config_type;

/* SDK 1.3 personal data (declare_personal_callbacks): a contact's data kept by
 * the plugin, exported as a malloc'd JSON text in *json_out, or erased. */
typedef int (*crm_personal_export_fn)(crm_plugin_ctx *ctx, int64_t contact_id, char **json_out,
                                      void *ud);
typedef int (*crm_personal_erase_fn)(crm_plugin_ctx *ctx, int64_t contact_id, void *ud);

/* ---- SDK 1.3 types: structured config, option tables, typed values ------------ */

/* A typed value parsed by the host: a config node's value (config_value) or a
 * command option (args_option). */
typedef enum crm_period_unit {
    CRM_DURATION_SECONDS = 0,      /* s, m, h: `i` is seconds (open time with a calendar) */
    CRM_DURATION_DAYS = 1,         /* d: `i` is calendar days */
    CRM_DURATION_BUSINESS_DAYS = 2 /* bd: `i` is business days */
} crm_period_unit;

typedef struct crm_value {
    int given;         /* 1 when present (or defaulted, for config), else 0 */
    const char *text;  /* the text as written (borrowed; NULL for a flag) */
    int64_t i;         /* INT; BOOL and FLAG 0/1; DATE epoch seconds; MONEY minor
                          units; DURATION amount in `unit` */
    int unit;          /* DURATION: a crm_period_unit */
    char currency[4];  /* MONEY: ISO 4217 code */
} crm_value;

/* A node of the plugin's crm.yaml section: opaque, borrowed, valid until the
 * kernel closes. Every node keeps its file:line:column (config_error). */
typedef struct crm_config_node crm_config_node;

#define CRM_CONFIG_REQUIRED 1u

/* One key of a structured configuration schema (declare_config_schema).
 * Tables end with an entry whose name is NULL; they are borrowed, so make
 * them static const. */
typedef struct crm_config_field {
    const char *name;          /* a-z, 0-9, _ */
    crm_config_type type;
    unsigned flags;            /* CRM_CONFIG_REQUIRED */
    const char *default_value; /* scalar types: text parsed as the type; NULL = none */
    const char *description;
    const struct crm_config_field *fields; /* MAP: its keys; LIST/DICT of maps: an item's */
    crm_config_type item_type; /* LIST, DICT: the items' type (CRM_CONFIG_MAP + fields) */
    int64_t min, max;          /* INT: inclusive bounds, checked when min < max */
} crm_config_field;

/* Option types of a command table. */
typedef enum crm_option_type {
    CRM_OPTION_FLAG = 1,     /* --force */
    CRM_OPTION_STRING = 2,   /* --name TEXT */
    CRM_OPTION_INT = 3,      /* --limit N (64-bit) */
    CRM_OPTION_DATE = 4,     /* --since DATE: ISO 8601; without offset, in locale.timezone */
    CRM_OPTION_MONEY = 5,    /* --min "200.00 EUR" (or "200.00": locale.currency) */
    CRM_OPTION_DURATION = 6  /* --window 90d */
} crm_option_type;

typedef struct crm_option {
    const char *name;    /* without dashes: "min-score"; NULL ends the table */
    crm_option_type type;
    int required;        /* non-zero: refused (exit 2) when absent */
    const char *metavar; /* "N" in --help (NULL: from the type) */
    const char *help;
} crm_option;

/* A parsed command line (opaque handle; carries the API like the others). */
typedef struct crm_command_args crm_command_args;

/* A command declared with an option table: the host already parsed and
 * checked argv; read it through args_count/args_get/args_option. Returns as
 * crm_command_fn does (CRM_EUSAGE: exit 2, another error: exit 1). */
typedef int (*crm_command_table_fn)(crm_plugin_ctx *ctx, crm_command_io *io,
                                    const crm_command_args *args);

/* `crm <noun> <verb>` (noun NULL: `crm <plugin> <verb>`; verb NULL: the
 * single-word `crm <noun>`) with its options. Borrowed: make it static const. */
typedef struct crm_command_spec {
    const char *noun;
    const char *verb;
    const char *usage;         /* positional synopsis ("[NAME]"), may be NULL */
    const char *summary;       /* one line */
    int min_args, max_args;    /* positional arguments accepted */
    const crm_option *options; /* ends with {NULL}; NULL = none */
    crm_command_table_fn fn;
} crm_command_spec;

/* Log levels. */
typedef enum crm_log_level {
    CRM_LOG_ERROR = 0,
    CRM_LOG_WARN = 1,
    CRM_LOG_INFO = 2,
    CRM_LOG_DEBUG = 3
} crm_log_level;

/* crm_sql_step results (besides negative error codes). */
#define CRM_SQL_DONE 0
#define CRM_SQL_ROW 1

/* crm_sql_column_type results. */
#define CRM_SQL_INTEGER 1
#define CRM_SQL_FLOAT 2
#define CRM_SQL_TEXT 3
#define CRM_SQL_BLOB 4
#define CRM_SQL_NULL 5

/* What a timer handler (ABI 1.3, register_timer_handler) receives. Strings
 * are valid during the call. Grows at its end (struct_size). */
typedef struct crm_timer_info {
    size_t struct_size;
    int64_t id;
    const char *key;      /* as given to schedule */
    int64_t due_at;       /* as scheduled, epoch seconds */
    int64_t fired_at;     /* the pass's clock (crm tick --as-of, or the worker's) */
    const char *payload;  /* the JSON object given to schedule */
    int attempts;         /* failed attempts before this one */
} crm_timer_info;

/* A timer handler. Runs inside the transaction that marks the timer done:
 * its writes and the completion commit together (a crash before that commit
 * fires it again; never twice after). Returns CRM_OK, or an error after
 * crm_set_error(): its writes roll back and the timer is retried with
 * exponential backoff, then parked (`crm timers failed`). */
typedef int (*crm_timer_fn)(crm_plugin_ctx *ctx, const crm_timer_info *timer, void *ud);

/* ---- SDK 1.4 types: HTTP routes (register_route) ----------------------------- */

/* One request to a plugin route and its answer (opaque; carries the API like
 * the other handles). Valid during the handler's call only. */
typedef struct crm_http_exchange crm_http_exchange;

/* A route handler. Runs on the request's own kernel with the plugin's
 * rights; a GET inside no transaction, any other method inside the one the
 * server opened (committed when the handler returns CRM_OK, rolled back
 * otherwise). On success it answers with http_reply (no reply: the route's
 * status with an empty body); on failure it returns a CRM_E* code after
 * http_error (or crm_set_error): the server writes {"error": {...}} with the
 * code's status (CRM_EUSAGE 400, CRM_EDENIED 403, CRM_ENOTFOUND 404,
 * CRM_EEXISTS 409, CRM_EINVAL 422, others 500). */
typedef int (*crm_route_fn)(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud);

/* What register_route registers. Strings are copied. It has no struct_size:
 * it grows only with a minor bump, and the host reads a member added after
 * 1.4 only from a plugin whose descriptor's abi_minor has it. */
typedef struct crm_route_spec {
    const char *method;   /* "GET", "POST", "PATCH", "PUT" or "DELETE" */
    const char *path;     /* "/v1/deals/{id}": literal segments and {name}s (at most 4) */
    const char *roles;    /* who may call it: "viewer,agent,manager,admin,integration" or "*" */
    crm_route_fn fn;
    const char *summary;  /* one line, in the OpenAPI document */
    const char *request_schema;  /* JSON Schema text of the body, NULL: none */
    const char *response_schema; /* JSON Schema text of a success body, NULL: any */
    int status;           /* the success status: 200 (0 means 200), 201 or 204 */
} crm_route_spec;

/* ---- the host API table ------------------------------------------------------ */

/* Append-only: new entries go at the end, with a minor version bump. Every
 * function returning int returns CRM_OK or a negative CRM_E* code and then
 * leaves a message readable with last_error. */
struct crm_host_api {
    uint32_t abi_major;
    uint32_t abi_minor;
    size_t struct_size;

    /* -- registration: during init only; afterwards CRM_EDENIED ---------------- */

    /* Registers schema step `version` (1, 2, ... in increasing order) named
     * `name` running `sql` (one or more statements; SQL shared by SQLite and
     * PostgreSQL). Tables created must be named <plugin>_*. Applied once,
     * after init, recorded under the plugin's name. Strings are copied. */
    int (*register_migration)(crm_plugin_ctx *ctx, int version, const char *name,
                              const char *sql);
    /* Subscribes `handler` to events matching `pattern` ("contact.created",
     * "order.*", "*"). Durable subscribers keep a cursor in the database and
     * see every event exactly once in effect, across restarts; others see
     * events committed while the process runs. `ud` is passed back. */
    int (*subscribe)(crm_plugin_ctx *ctx, const char *pattern, int durable,
                     crm_event_handler handler, void *ud);
    /* Registers `crm <plugin> <verb>`; `usage` is the argument synopsis
     * ("[NAME]", may be NULL), `summary` one line of help. Copied. */
    int (*register_command)(crm_plugin_ctx *ctx, const char *verb, const char *usage,
                            const char *summary, crm_command_fn fn);
    /* Registers crm.<plugin>.<name> for Lua rules; `help` documents it. */
    int (*register_lua_function)(crm_plugin_ctx *ctx, const char *name, crm_lua_fn fn,
                                 void *ud, const char *help);
    /* Declares config key `key` (dotted for nesting: "rfm.window_days") of the
     * plugin's crm.yaml section, with its type, default (text, parsed as the
     * type; NULL = no default) and description. The section is validated
     * against the declared keys after init: unknown keys and wrong types
     * are refused with file:line:column. */
    int (*declare_config_key)(crm_plugin_ctx *ctx, const char *key, crm_config_type type,
                              const char *default_value, const char *description);

    /* -- configuration: any time -------------------------------------------------- */

    /* The value of declared key `key` from the plugin's section, or its
     * default. *out points into host memory valid until the kernel closes
     * (NULL when unset without default). CRM_ENOTFOUND for an undeclared key,
     * CRM_ECONFIG for a value of the wrong type. */
    int (*config_get_string)(crm_plugin_ctx *ctx, const char *key, const char **out);
    int (*config_get_int)(crm_plugin_ctx *ctx, const char *key, int64_t *out);
    int (*config_get_bool)(crm_plugin_ctx *ctx, const char *key, int *out);

    /* -- SQL on the host's connection, inside the host's transaction -------------- */

    /* Prepares one statement. The SQLite authorizer checks it against the
     * plugin's rights (write own <plugin>_* tables; read kernel tables and
     * those of required plugins): a refusal is CRM_EDENIED naming the table.
     * *out must be finalized with sql_finalize. */
    int (*sql_prepare)(crm_plugin_ctx *ctx, const char *sql, crm_stmt **out);
    /* Binds parameter idx (1-based). Text is copied. */
    int (*sql_bind_int64)(crm_stmt *st, int idx, int64_t value);
    int (*sql_bind_text)(crm_stmt *st, int idx, const char *value);
    int (*sql_bind_null)(crm_stmt *st, int idx);
    /* CRM_SQL_ROW, CRM_SQL_DONE or a negative error. */
    int (*sql_step)(crm_stmt *st);
    /* Resets the statement so it can run again (bindings kept). */
    int (*sql_reset)(crm_stmt *st);
    int (*sql_column_count)(crm_stmt *st);
    int64_t (*sql_column_int64)(crm_stmt *st, int col);
    /* Valid until the next step, reset or finalize; NULL for SQL NULL. */
    const char *(*sql_column_text)(crm_stmt *st, int col);
    int (*sql_column_type)(crm_stmt *st, int col);
    /* Frees the statement; NULL is fine. */
    void (*sql_finalize)(crm_stmt *st);
    /* Runs statements that return no rows. */
    int (*sql_exec)(crm_plugin_ctx *ctx, const char *sql);
    /* Row id of the last INSERT on the connection. */
    int64_t (*sql_last_insert_id)(crm_plugin_ctx *ctx);

    /* Transactions nest (savepoints inside the outermost one). Events emitted
     * inside are dispatched after the outermost commit. */
    int (*begin)(crm_plugin_ctx *ctx);
    int (*commit)(crm_plugin_ctx *ctx);
    void (*rollback)(crm_plugin_ctx *ctx);

    /* -- kernel entities: validated, normalised, emitting events ------------------ */

    /* The contact as the CLI's JSON object; *json is host-allocated (free
     * with crm_free). CRM_ENOTFOUND when absent. */
    int (*contact_get_json)(crm_plugin_ctx *ctx, int64_t id, char **json);
    /* Adds a contact from a JSON object of contact fields (first_name, email,
     * ..., tags array, custom object). *id (may be NULL) gets its id.
     * Emits contact.created. */
    int (*contact_add_json)(crm_plugin_ctx *ctx, const char *json, int64_t *id);
    /* Applies the fields of the JSON object to contact id (null or "" clears a
     * field; tags replace; custom values set). Emits contact.updated. */
    int (*contact_update_json)(crm_plugin_ctx *ctx, int64_t id, const char *changes_json);
    /* Logs an interaction: {contact_id, channel, direction, subject, body,
     * occurred_at (epoch seconds), author, external_id}. Emits
     * interaction.logged. */
    int (*interaction_log_json)(crm_plugin_ctx *ctx, const char *json, int64_t *id);
    /* Records consent: {contact_id, channel, purpose, status
     * (granted|withdrawn), recorded_at, source}. Emits consent.<status>.
     * Channel and purpose must be listed in crm.yaml `consents:`; a status
     * the pair already has changes nothing (no record, no event; *id is the
     * record in force). */
    int (*consent_record_json)(crm_plugin_ctx *ctx, const char *json, int64_t *id);

    /* -- events -------------------------------------------------------------------- */

    /* Emits event `type` (<entity>.<past_verb>; kernel entity names are
     * reserved) with a JSON object payload ("dataver" added when absent), in
     * the current transaction (or its own one when none is open). The
     * event's source is the plugin's name. */
    int (*emit_event)(crm_plugin_ctx *ctx, const char *type, const char *payload_json);
    /* Accessors of the event a handler receives; valid during the call. */
    int64_t (*event_id)(const crm_plugin_event *ev);
    const char *(*event_type)(const crm_plugin_event *ev);
    const char *(*event_payload)(const crm_plugin_event *ev);  /* JSON object text */
    const char *(*event_source)(const crm_plugin_event *ev);   /* "kernel" or a plugin */
    int64_t (*event_created_at)(const crm_plugin_event *ev);

    /* -- CLI command invocations ----------------------------------------------------- */

    /* Where a command prints (stdout unless redirected by the host). */
    FILE *(*io_out)(crm_command_io *io);
    /* Non-zero when --json was given. */
    int (*io_json)(crm_command_io *io);

    /* -- utilities --------------------------------------------------------------------- */

    /* Writes a line to the log with the plugin's name attached. ERROR and
     * WARN always show; INFO and DEBUG when $CRM_LOG is "info" or "debug". */
    void (*log)(crm_plugin_ctx *ctx, crm_log_level level, const char *fmt, ...)
        CRM_PRINTF(3, 4);
    /* Sets the message the host reports when the plugin's callback returns an
     * error (init, start, handler, command). */
    void (*set_error)(crm_plugin_ctx *ctx, const char *fmt, ...) CRM_PRINTF(2, 3);
    /* The message of the last failed host call (or set_error), "" when none. */
    const char *(*last_error)(crm_plugin_ctx *ctx);
    /* The kernel's clock in epoch seconds: --as-of when given, else the time
     * the command started. Use it instead of time() so runs are reproducible. */
    int64_t (*now)(crm_plugin_ctx *ctx);
    /* Frees a string the host allocated for the plugin (NULL is fine). */
    void (*free)(void *ptr);
    /* The plugin's name, as loaded. */
    const char *(*plugin_name)(crm_plugin_ctx *ctx);

    /* -- added in ABI 1.1: test with CRM_API_HAS(ctx, member) before use ---------------- */

    /* During init only. Registers the top-level command `crm <noun> <verb>`
     * (verb NULL: the single-word command `crm <noun>`), so a plugin can own
     * nouns like `crm rfm refresh` besides `crm <plugin> <verb>`. noun and
     * verb are a-z first, then a-z, 0-9, _ and -. A noun may carry several
     * verbs, or be single-word, not both. Refused (CRM_EEXISTS, and the
     * plugin with it) when the noun is a kernel command (`crm contact`), a
     * loaded plugin's name, or a noun another plugin registered: the message
     * names both sides. `usage` (may be NULL) and `summary` as for
     * register_command; strings are copied. `crm --help` lists plugin nouns,
     * `crm <noun> --help` their verbs, `crm plugins --json` shows them in
     * "commands" with a "noun" member. */
    int (*register_noun_command)(crm_plugin_ctx *ctx, const char *noun, const char *verb,
                                 const char *usage, const char *summary, crm_command_fn fn);
    /* Any time after init. Evaluates Lua rule `rule_spec` — a name from
     * crm.yaml `rules:` or "FILE:FUNCTION" (FILE relative to the working
     * directory, else to the scripts directory) — for contact `contact_id`
     * through the kernel's Lua engine: the same sandbox and limits as every
     * rule (lua.max_memory, lua.max_instructions from crm.yaml; only the safe
     * libraries; the contact read lazily). On CRM_OK, *result_json is
     * {"result": R, "reasons": [...]} where R is what the rule returned
     * (predicate: true/false; score: a number; FILE:FN: the value converted
     * to JSON) and reasons the strings of its second result. On failure it
     * returns CRM_ESCRIPT with the rule's message in *error ("rule R: FILE:LINE:
     * ... (contact 42)") and the cause in *cause: "memory", "instructions",
     * "blocked", "runtime" or "syntax"; CRM_ENOTFOUND (unknown rule or contact) or
     * CRM_EUSAGE (bad spec) with *error set and *cause NULL. Every out
     * pointer may be NULL; strings set are host-allocated: free them with
     * crm_free. The message is also readable with last_error. */
    int (*call_rule)(crm_plugin_ctx *ctx, const char *rule_spec, int64_t contact_id,
                     char **result_json, char **error, char **cause);
    /* The installation's locale from crm.yaml `locale:`: key "country" (ISO
     * 3166-1 alpha-2), "currency" (ISO 4217) or "timezone" (IANA). Borrowed:
     * valid until the kernel closes. NULL for another key. */
    const char *(*locale)(crm_plugin_ctx *ctx, const char *key);

    /* -- added in ABI 1.2: test with CRM_API_HAS(ctx, member) before use ---------------- */

    /* Any time after init (as call_rule). Evaluates Lua rule `rule_spec` (as
     * for call_rule) for every contact in one streamed scan of the contacts
     * table, in id order, with the same sandbox and limits as call_rule, and
     * calls fn(ud, contact_id, ...) with each contact's result or failure
     * (crm_rule_each_fn). Much cheaper per contact than call_rule: no
     * per-contact lookup, no JSON object built; the rule's reasons are not
     * passed (use call_rule for one contact's reasons).
     * where_sql (may be NULL) restricts the contacts: an SQL expression over
     * the aliases c (contacts), co (the contact's company) and u (its owner,
     * users), e.g. "c.id IN (SELECT contact_id FROM myplugin_flags)", checked
     * by the authorizer with the plugin's read rights; one expression, no
     * parameters (write literals), no ';'.
     * A contact for which the rule fails is passed to fn with its error and
     * cause, and counted; when the count reaches crm.yaml lua.max_failures
     * (when > 0) the scan stops and rule_each returns CRM_ESCRIPT ("... stopped
     * after N failures (lua.max_failures) ..."). Returns CRM_OK when every
     * contact was passed to fn (some may have failed), fn's non-zero value
     * when fn stopped the scan, CRM_ENOTFOUND for an unknown rule, CRM_EUSAGE
     * for a bad spec, a handler rule (it runs on events) or bad where_sql,
     * CRM_EDENIED when where_sql reads a table the plugin may not, CRM_EBUSY
     * before the Lua engine is attached. Messages are readable with
     * last_error. */
    int (*rule_each)(crm_plugin_ctx *ctx, const char *rule_spec, const char *where_sql,
                     crm_rule_each_fn fn, void *ud);

    /* -- added in ABI 1.3: test with CRM_API_HAS(ctx, member) before use ---------------- */

    /* During init only. Registers the plugin's demo hook (crm_demo_fn), which
     * `crm demo` runs after generating its data, in dependency order, with the
     * plugin's rights; its output follows the demo's summary (with --json,
     * the value it prints is the summary's "modules".<plugin>). One per
     * plugin: a second call is refused (CRM_EEXISTS); fn NULL is CRM_EUSAGE. */
    int (*register_demo)(crm_plugin_ctx *ctx, crm_demo_fn fn);

    /* 1.3: sdk13 -- test with CRM_API_HAS(ctx, member) before use ----------------------- */

    /* During init only. Declares structured keys of the plugin's crm.yaml
     * section (lists, maps, name->value maps, nested, with typed scalars),
     * besides declare_config_key's. `fields` (ends with {NULL}) is borrowed.
     * After init the host checks the section against it: unknown keys (with
     * the nearest valid key), wrong types, bad durations or money, INT out of
     * [min, max] and missing CRM_CONFIG_REQUIRED keys are refused with
     * FILE:LINE:COL and the key path ("seg.levels[1].name"). Once per plugin. */
    int (*declare_config_schema)(crm_plugin_ctx *ctx, const crm_config_field *fields);
    /* Any time after init. The entry `key` of map node `parent` (NULL: the
     * plugin's section), or NULL when absent. */
    const crm_config_node *(*config_child)(crm_plugin_ctx *ctx, const crm_config_node *parent,
                                          const char *key);
    /* Items of a list, or entries of a map (0 for a scalar or NULL). */
    size_t (*config_count)(crm_plugin_ctx *ctx, const crm_config_node *node);
    /* Item i (0-based) of a list or map node; NULL when out of range. */
    const crm_config_node *(*config_item)(crm_plugin_ctx *ctx, const crm_config_node *node,
                                          size_t i);
    /* The key of a map entry (NULL for a list item). Borrowed. */
    const char *(*config_key)(crm_plugin_ctx *ctx, const crm_config_node *node);
    /* The value of scalar entry `key` of `parent` (key NULL: parent itself,
     * e.g. a list item), parsed as its declared type, its default applied
     * when absent. CRM_OK; CRM_ENOTFOUND when absent without default
     * (out->given 0); CRM_EUSAGE when the node is not a declared scalar. */
    int (*config_value)(crm_plugin_ctx *ctx, const crm_config_node *parent, const char *key,
                        crm_value *out);
    /* Sets the plugin's error to "FILE:LINE:COL: PLUGIN.PATH: MESSAGE" for
     * node (the section when NULL) and returns CRM_ECONFIG: a plugin's own
     * validation (in start) points into crm.yaml like the kernel's. */
    int (*config_error)(crm_plugin_ctx *ctx, const crm_config_node *node, const char *fmt, ...)
        CRM_PRINTF(3, 4);
    /* Where node was written: *file (borrowed, valid until the kernel
     * closes), 1-based *line and *column (of the key, for a map entry). Any
     * out pointer may be NULL. CRM_EUSAGE for a NULL node. */
    int (*config_position)(crm_plugin_ctx *ctx, const crm_config_node *node, const char **file,
                           int *line, int *column);

    /* During init only. Registers a command with an option table (see
     * crm_command_spec): the host parses argv, refuses unknown options (exit
     * 2, naming the option and the nearest one), wrong types, missing
     * required options and a wrong number of arguments, and prints --help
     * from the table. Names are checked as for register_command /
     * register_noun_command. `spec` and its options are borrowed. */
    int (*register_command_table)(crm_plugin_ctx *ctx, const crm_command_spec *spec);
    /* Positional arguments of a table command (the verb not counted). */
    int (*args_count)(const crm_command_args *args);
    const char *(*args_get)(const crm_command_args *args, int i);
    /* Option `name` (as declared): CRM_OK when given, CRM_ENOTFOUND when not
     * (out->given 0), CRM_EUSAGE for a name the table does not declare. */
    int (*args_option)(const crm_command_args *args, const char *name, crm_value *out);

    /* The plugin's data slot: set it in init, read it anywhere (NULL until
     * set). The host never touches what it points to: free it in fini. */
    void (*set_data)(crm_plugin_ctx *ctx, void *data);
    void *(*get_data)(crm_plugin_ctx *ctx);

    /* Epoch seconds as ISO 8601 with the zone's offset
     * ("2026-03-30T10:00:00+02:00") in IANA zone `zone` (NULL:
     * locale.timezone), from the system tz database. buf of at least 32
     * bytes. CRM_ENOTFOUND for an unknown zone, CRM_EUSAGE for a short buf. */
    int (*format_time)(crm_plugin_ctx *ctx, int64_t t, const char *zone, char *buf,
                       size_t size);
    /* Reads member `path` (dotted for nested objects: "order.id"; a number
     * indexes an array: "lines.0.sku") of the JSON object text `json` (an
     * event payload): an integer, or a string copied into buf. CRM_OK; CRM_ENOTFOUND when absent (or null);
     * CRM_EINVAL when the text is not a JSON object or the member has
     * another type; CRM_EUSAGE when buf is too small. */
    int (*json_get_int)(crm_plugin_ctx *ctx, const char *json, const char *path, int64_t *out);
    int (*json_get_string)(crm_plugin_ctx *ctx, const char *json, const char *path, char *buf,
                           size_t size);
    /* 1.3: seg */
    /* Any time. Formats `minor` units of ISO 4217 `currency` the way the
     * kernel prints money: major units with the currency's own number of
     * decimals from the kernel's table (0 for JPY or KRW, 3 for KWD or TND,
     * 4 for CLF, 2 otherwise), thousands grouped by a space, a space and the
     * code: "1 234.50 EUR", "1 500 JPY", "1.500 KWD", "-0.05 EUR". Writes at
     * most `size` bytes into
     * buf, always terminated when size > 0. Returns CRM_OK; CRM_EINVAL when
     * `currency` is not three upper-case letters (buf then gets the minor
     * units and the code as given, "1500 (minor units) xx"); CRM_EUSAGE when
     * buf is NULL or size 0; CRM_ENOMEM when the text did not fit (buf holds
     * its cut start). One currency table serves the whole program. */
    int (*format_money)(crm_plugin_ctx *ctx, int64_t minor, const char *currency, char *buf,
                        size_t size);
    /* During init only. Makes the plugin a provider of named contact sets
     * (crm_contact_set_fn): the kernel, which knows no segments, resolves the
     * `--segment NAME` of `crm contact list` and `crm export contacts` by
     * asking each provider in load order until one knows NAME; when none
     * does, the command fails (exit 1) with every provider's message.
     * `summary` (copied; e.g. "RFM, rule, Lua and static segments") is shown
     * in `crm plugins`. One provider per plugin: a second registration is
     * CRM_EEXISTS. */
    int (*register_contact_set)(crm_plugin_ctx *ctx, const char *summary, crm_contact_set_fn fn,
                                void *ud);

    /* 1.3: timers -- test with CRM_API_HAS(ctx, member) before use ---------------------- */

    /* Any time after init (start, handlers, commands). Schedules the plugin's
     * timer `key` (1 to 200 characters, unique per plugin) to fire at due_at
     * (epoch seconds) with payload_json (a JSON object; NULL: {}), in the
     * current transaction (or its own). Scheduling a key again moves it (new
     * time and payload, attempts reset), also from its own handler (a
     * recurring timer). CRM_EINVAL for a bad key or payload. */
    int (*schedule)(crm_plugin_ctx *ctx, const char *key, int64_t due_at,
                    const char *payload_json);
    /* Cancels the plugin's timer `key` in any state; *found (may be NULL)
     * is set to 1 when there was one. CRM_OK either way. */
    int (*cancel)(crm_plugin_ctx *ctx, const char *key, int *found);
    /* During init only. The plugin's one timer handler (crm_timer_fn); a
     * second call is CRM_EEXISTS. Timers of a plugin not loaded stay pending. */
    int (*register_timer_handler)(crm_plugin_ctx *ctx, crm_timer_fn fn, void *ud);
    /* Business time against crm.yaml calendar `calendar` (NULL or "": the
     * default calendar, which follows locale:). *out = t + duration ("2h" of
     * open time, "3bd" business days, "7d" calendar days; see README
     * "Business calendars"). CRM_ENOTFOUND for an unknown calendar,
     * CRM_EINVAL for a bad duration or a time out of the covered years. */
    int (*calendar_add)(crm_plugin_ctx *ctx, const char *calendar, int64_t t,
                        const char *duration, int64_t *out);
    /* *open = 1 when the calendar is open at t, else 0. */
    int (*calendar_is_open)(crm_plugin_ctx *ctx, const char *calendar, int64_t t, int *open);
    /* *out = the first open instant at or after t. */
    int (*calendar_next_open)(crm_plugin_ctx *ctx, const char *calendar, int64_t t,
                              int64_t *out);

    /* 1.3: tasks -- test with CRM_API_HAS(ctx, member) before use ----------------------- */

    /* Any time after init. Adds an open task from a JSON object: "subject"
     * and "due_at" (epoch seconds) required; "kind" (call|email|meeting|todo|
     * follow_up, default todo), "contact_id", "assignee" (user id or email),
     * "ref" (a record of the plugin, "deal:12"), "notes". Validated like
     * `crm task add`; emits task.created; *id (may be NULL) gets the id. */
    int (*task_add_json)(crm_plugin_ctx *ctx, const char *json, int64_t *id);
    /* Marks open task `id` done (task.completed). CRM_ENOTFOUND, or
     * CRM_EINVAL when it is already done or cancelled. */
    int (*task_complete)(crm_plugin_ctx *ctx, int64_t id);
    /* Tasks as a JSON array (each as `crm task show --json`), by due time.
     * filter_json (NULL or "{}": every open task) may hold "status"
     * (open|done|cancelled|all), "contact_id", "assignee" (user id or
     * email), "ref" ("deal:12") and "overdue" (true: open and due before
     * the kernel's now). *out_json is host-allocated: free it with crm_free. */
    int (*task_list_json)(crm_plugin_ctx *ctx, const char *filter_json, char **out_json);

    /* 1.3: privacy -- test with CRM_API_HAS(ctx, member) before use --------------------- */

    /* During init only. Declares that rows of the plugin's table `table`
     * (<plugin>_*) whose column `contact_column` equals a contact's id hold
     * that person's data: `crm contact export-data` includes them (every
     * column) under the plugin's name, `crm contact erase` deletes them. A
     * plugin whose migrations create a <plugin>_* table with a contact_id
     * column is refused at start unless that table is declared here or the
     * plugin declares callbacks. Strings are copied. */
    int (*declare_personal_data)(crm_plugin_ctx *ctx, const char *table,
                                 const char *contact_column);
    /* During init only. For data a table declaration cannot describe:
     * export_fn (may be NULL) sets *json_out to a malloc'd JSON value (the
     * host frees it) with the person's data; erase_fn (may be NULL) deletes
     * or anonymises it inside the erasure's transaction (a failure rolls the
     * whole erasure back). Both run with the plugin's rights. Once per plugin. */
    int (*declare_personal_callbacks)(crm_plugin_ctx *ctx, crm_personal_export_fn export_fn,
                                      crm_personal_erase_fn erase_fn, void *ud);

    /* 1.3: sdkwrites -- test with CRM_API_HAS(ctx, order_add_json) before use ---------- */

    /* Any time after init. Adds an order with its lines through the kernel's
     * own path (the same as `crm order add`): contact, status, currency
     * (ISO 4217), lines and total validated, order.placed (and order.paid)
     * emitted, the lifecycle moved; all or nothing, in the current
     * transaction or its own. `json` is an object of contact_id (required),
     * external_id, placed_at (epoch seconds; absent: now), total_minor (minor
     * units; absent: the sum of the lines), currency (absent: locale's),
     * status (placed|paid|cancelled|refunded; absent: placed) and lines
     * [{sku, quantity, unit_price_minor}]; an unknown member is refused.
     * *id (may be NULL) gets the new order's id, 0 on failure. CRM_EINVAL
     * (crm_last_error says which field), CRM_ENOTFOUND for an unknown contact,
     * CRM_EEXISTS for an external_id already used. */
    int (*order_add_json)(crm_plugin_ctx *ctx, const char *json, int64_t *id);
    /* Any time after init. *json (free with crm_free) = a JSON array of every
     * user in id order, each {id, name, email (null when none), role}. */
    int (*user_list_json)(crm_plugin_ctx *ctx, char **json);
    /* One user, {id, name, email, role}, found by id, email or name (tried in
     * that order). CRM_ENOTFOUND when none; *json NULL on failure. */
    int (*user_find_json)(crm_plugin_ctx *ctx, const char *ref, char **json);
    /* During init only. As subscribe(..., durable=1, ...), but a subscriber
     * new to this database (no cursor yet) starts at the FIRST event, so a
     * plugin enabled on an existing base catches up on its history at the
     * next dispatch (`crm tick`, or the next command). The default, subscribe
     * with durable=1, starts at the current last event. A cursor that
     * exists (the plugin ran before) is kept either way. */
    int (*subscribe_from_start)(crm_plugin_ctx *ctx, const char *pattern,
                                crm_event_handler handler, void *ud);

    /* 1.3: ticketing -- test with CRM_API_HAS(ctx, calendar_between) before use -------- */

    /* Any time after init. *out = the open seconds of crm.yaml calendar
     * `calendar` (NULL or "": default) in [from, to); negative (minus the
     * open seconds of [to, from)) when to < from. The inverse of
     * calendar_add with a duration in seconds: an SLA clock's elapsed
     * business time. CRM_ENOTFOUND for an unknown calendar, CRM_EINVAL for
     * a time out of the covered years. */
    int (*calendar_between)(crm_plugin_ctx *ctx, const char *calendar, int64_t from, int64_t to,
                            int64_t *out);

    /* 1.3: messages -- test with CRM_API_HAS(ctx, message_queue_json) before use ------- */

    /* Any time after init. Queues a message through the outbox's rules (consent, address, quiet
     * hours, caps, pause), in the current transaction or its own. json: {"contact_id": N (required),
     * "template": "NAME" (required), "channel": "email"|"sms" (absent: the template's first channel the
     * contact has an address for), "purpose": "transactional"|"service"|"marketing" (absent:
     * transactional), "key": "idempotency key" (absent: derived from plugin, template, contact, data),
     * "at": epoch seconds (absent: now), "data": {object: extra template values, e.g. {"quote": {...}}}}.
     * *id (may be NULL) = the message's id; a key already used returns the first message's id and CRM_OK
     * and creates nothing. A message suppressed by a rule is not an error (it gets an id and a reason).
     * CRM_ENOTFOUND: unknown contact or template; CRM_EINVAL: bad member (last_error says which). */
    int (*message_queue_json)(crm_plugin_ctx *ctx, const char *json, int64_t *id);

    /* -- added in ABI 1.4 -------------------------------------------------------------- */
    /* 1.4: routes -- test with CRM_API_HAS(ctx, register_route) before use ----------- */

    /* During init only. Adds the route spec describes to `crm serve` (and
     * to /openapi.json, tagged with the plugin's name and x-owner): the
     * server authenticates the caller, refuses a role not in spec->roles
     * with 403 and calls spec->fn(ctx, exchange, ud). The kernel's routes
     * are matched first. Refused, with the plugin, (CRM_EEXISTS) when the
     * same method and path shape ("/v1/x/{id}" and "/v1/x/{name}" are one
     * shape) is a kernel route or another loaded plugin's, naming both;
     * CRM_EUSAGE for a bad method, path, role list or status. */
    int (*register_route)(crm_plugin_ctx *ctx, const crm_route_spec *spec, void *ud);
    /* Path parameter `name` ({name} in the path) or query parameter `name`,
     * decoded; NULL when absent. Borrowed: valid during the handler. */
    const char *(*http_param)(crm_http_exchange *x, const char *name);
    const char *(*http_query)(crm_http_exchange *x, const char *name);
    /* The request body as JSON text (already checked to be JSON), NULL when
     * none; read members with json_get_int / json_get_string. Borrowed. */
    const char *(*http_body)(crm_http_exchange *x);
    /* Who calls: key "role" (viewer, agent, manager, admin, integration) or
     * "name" (the token's name). NULL for another key. Borrowed. */
    const char *(*http_caller)(crm_http_exchange *x, const char *key);
    /* Answers with `status` (0: the route's) and the JSON text `json` (NULL:
     * an empty body). CRM_OK; CRM_EINVAL when json is not JSON (the answer
     * is then unchanged); CRM_EUSAGE for a status outside 200-299. */
    int (*http_reply)(crm_http_exchange *x, int status, const char *json);
    /* Sets the error the server answers when the handler returns `code`:
     * the message, and `field` (may be NULL) the request member or
     * parameter at fault. Returns code, so: return crm_http_error(...). */
    int (*http_error)(crm_http_exchange *x, int code, const char *field, const char *fmt, ...)
        CRM_PRINTF(4, 5);

    /* 1.4: rules on records -- test with CRM_API_HAS(ctx, call_rule_json) ------------ */

    /* As call_rule, for a record that is not a contact (a lead, a ticket):
     * the rule's function gets the JSON object arg_json as a Lua table in
     * place of the contact. Same sandbox, limits, result and errors;
     * CRM_EINVAL when arg_json is not a JSON object. */
    int (*call_rule_json)(crm_plugin_ctx *ctx, const char *rule_spec, const char *arg_json,
                          char **result_json, char **error, char **cause);
};

/* ---- call macros: plugin code reads like plain calls ------------------------------ */

/* The host itself defines CRM_PLUGIN_NO_MACROS: its own names may collide. */
#ifndef CRM_PLUGIN_NO_MACROS

#define crm_register_migration(ctx, v, n, sql) CRM_API(ctx)->register_migration((ctx), (v), (n), (sql))
#define crm_subscribe(ctx, pat, durable, fn, ud) CRM_API(ctx)->subscribe((ctx), (pat), (durable), (fn), (ud))
#define crm_register_command(ctx, verb, usage, summary, fn)                                 \
    CRM_API(ctx)->register_command((ctx), (verb), (usage), (summary), (fn))
#define crm_register_lua_function(ctx, name, fn, ud, help)                                  \
    CRM_API(ctx)->register_lua_function((ctx), (name), (fn), (ud), (help))
#define crm_declare_config_key(ctx, key, type, def, desc)                                   \
    CRM_API(ctx)->declare_config_key((ctx), (key), (type), (def), (desc))

#define crm_config_get_string(ctx, key, out) CRM_API(ctx)->config_get_string((ctx), (key), (out))
#define crm_config_get_int(ctx, key, out) CRM_API(ctx)->config_get_int((ctx), (key), (out))
#define crm_config_get_bool(ctx, key, out) CRM_API(ctx)->config_get_bool((ctx), (key), (out))

#define crm_sql_prepare(ctx, sql, out) CRM_API(ctx)->sql_prepare((ctx), (sql), (out))
#define crm_sql_bind_int64(st, i, v) CRM_API(st)->sql_bind_int64((st), (i), (v))
#define crm_sql_bind_text(st, i, v) CRM_API(st)->sql_bind_text((st), (i), (v))
#define crm_sql_bind_null(st, i) CRM_API(st)->sql_bind_null((st), (i))
#define crm_sql_step(st) CRM_API(st)->sql_step(st)
#define crm_sql_reset(st) CRM_API(st)->sql_reset(st)
#define crm_sql_column_count(st) CRM_API(st)->sql_column_count(st)
#define crm_sql_column_int64(st, c) CRM_API(st)->sql_column_int64((st), (c))
#define crm_sql_column_text(st, c) CRM_API(st)->sql_column_text((st), (c))
#define crm_sql_column_type(st, c) CRM_API(st)->sql_column_type((st), (c))
#define crm_sql_finalize(st) do { if (st) CRM_API(st)->sql_finalize(st); } while (0)
#define crm_sql_exec(ctx, sql) CRM_API(ctx)->sql_exec((ctx), (sql))
#define crm_sql_last_insert_id(ctx) CRM_API(ctx)->sql_last_insert_id(ctx)

#define crm_begin(ctx) CRM_API(ctx)->begin(ctx)
#define crm_commit(ctx) CRM_API(ctx)->commit(ctx)
#define crm_rollback(ctx) CRM_API(ctx)->rollback(ctx)

#define crm_contact_get_json(ctx, id, json) CRM_API(ctx)->contact_get_json((ctx), (id), (json))
#define crm_contact_add_json(ctx, json, id) CRM_API(ctx)->contact_add_json((ctx), (json), (id))
#define crm_contact_update_json(ctx, id, json) CRM_API(ctx)->contact_update_json((ctx), (id), (json))
#define crm_interaction_log_json(ctx, json, id) CRM_API(ctx)->interaction_log_json((ctx), (json), (id))
#define crm_consent_record_json(ctx, json, id) CRM_API(ctx)->consent_record_json((ctx), (json), (id))

#define crm_emit_event(ctx, type, payload) CRM_API(ctx)->emit_event((ctx), (type), (payload))
#define crm_event_id(ev) CRM_API(ev)->event_id(ev)
#define crm_event_type(ev) CRM_API(ev)->event_type(ev)
#define crm_event_payload(ev) CRM_API(ev)->event_payload(ev)
#define crm_event_source(ev) CRM_API(ev)->event_source(ev)
#define crm_event_created_at(ev) CRM_API(ev)->event_created_at(ev)

#define crm_io_out(io) CRM_API(io)->io_out(io)
#define crm_io_json(io) CRM_API(io)->io_json(io)

#define crm_log(ctx, level, ...) CRM_API(ctx)->log((ctx), (level), __VA_ARGS__)
#define crm_set_error(ctx, ...) CRM_API(ctx)->set_error((ctx), __VA_ARGS__)
#define crm_last_error(ctx) CRM_API(ctx)->last_error(ctx)
#define crm_now(ctx) CRM_API(ctx)->now(ctx)
#define crm_free(ctx, p) CRM_API(ctx)->free(p)
#define crm_plugin_name(ctx) CRM_API(ctx)->plugin_name(ctx)

/* ABI 1.1 (check CRM_API_HAS first when the plugin supports 1.0 hosts) */
#define crm_register_noun_command(ctx, noun, verb, usage, summary, fn)                      \
    CRM_API(ctx)->register_noun_command((ctx), (noun), (verb), (usage), (summary), (fn))
#define crm_call_rule(ctx, spec, id, result, error, cause)                                  \
    CRM_API(ctx)->call_rule((ctx), (spec), (id), (result), (error), (cause))
#define crm_locale(ctx, key) CRM_API(ctx)->locale((ctx), (key))

/* ABI 1.2 (check CRM_API_HAS(ctx, rule_each) first when the plugin supports older hosts) */
#define crm_rule_each(ctx, spec, where, fn, ud)                                             \
    CRM_API(ctx)->rule_each((ctx), (spec), (where), (fn), (ud))

/* ABI 1.3 (check CRM_API_HAS(ctx, register_demo) first when the plugin supports older hosts) */
#define crm_register_demo(ctx, fn) CRM_API(ctx)->register_demo((ctx), (fn))

/* ABI 1.3: sdk13 (check CRM_API_HAS first when the plugin supports older hosts) */
#define crm_declare_config_schema(ctx, fields) CRM_API(ctx)->declare_config_schema((ctx), (fields))
#define crm_config_child(ctx, parent, key) CRM_API(ctx)->config_child((ctx), (parent), (key))
#define crm_config_count(ctx, node) CRM_API(ctx)->config_count((ctx), (node))
#define crm_config_item(ctx, node, i) CRM_API(ctx)->config_item((ctx), (node), (i))
#define crm_config_key(ctx, node) CRM_API(ctx)->config_key((ctx), (node))
#define crm_config_value(ctx, parent, key, out)                                             \
    CRM_API(ctx)->config_value((ctx), (parent), (key), (out))
#define crm_config_error(ctx, node, ...) CRM_API(ctx)->config_error((ctx), (node), __VA_ARGS__)
#define crm_config_position(ctx, node, file, line, column)                                  \
    CRM_API(ctx)->config_position((ctx), (node), (file), (line), (column))
#define crm_register_command_table(ctx, spec) CRM_API(ctx)->register_command_table((ctx), (spec))
#define crm_args_count(args) CRM_API(args)->args_count(args)
#define crm_args_get(args, i) CRM_API(args)->args_get((args), (i))
#define crm_args_option(args, name, out) CRM_API(args)->args_option((args), (name), (out))
#define crm_set_data(ctx, data) CRM_API(ctx)->set_data((ctx), (data))
#define crm_get_data(ctx) CRM_API(ctx)->get_data(ctx)
#define crm_format_time(ctx, t, zone, buf, size)                                            \
    CRM_API(ctx)->format_time((ctx), (t), (zone), (buf), (size))
#define crm_json_get_int(ctx, json, path, out)                                              \
    CRM_API(ctx)->json_get_int((ctx), (json), (path), (out))
#define crm_json_get_string(ctx, json, path, buf, size)                                     \
    CRM_API(ctx)->json_get_string((ctx), (json), (path), (buf), (size))

/* 1.3: seg */
#define crm_format_money(ctx, minor, cur, buf, size)                                        \
    CRM_API(ctx)->format_money((ctx), (minor), (cur), (buf), (size))
#define crm_register_contact_set(ctx, summary, fn, ud)                                      \
    CRM_API(ctx)->register_contact_set((ctx), (summary), (fn), (ud))
/* ABI 1.3: timers (check CRM_API_HAS(ctx, schedule) first when the plugin supports older hosts) */
#define crm_schedule(ctx, key, due, payload) CRM_API(ctx)->schedule((ctx), (key), (due), (payload))
#define crm_cancel(ctx, key, found) CRM_API(ctx)->cancel((ctx), (key), (found))
#define crm_register_timer_handler(ctx, fn, ud) CRM_API(ctx)->register_timer_handler((ctx), (fn), (ud))
#define crm_calendar_add(ctx, cal, t, dur, out) CRM_API(ctx)->calendar_add((ctx), (cal), (t), (dur), (out))
#define crm_calendar_is_open(ctx, cal, t, open) CRM_API(ctx)->calendar_is_open((ctx), (cal), (t), (open))
#define crm_calendar_next_open(ctx, cal, t, out) CRM_API(ctx)->calendar_next_open((ctx), (cal), (t), (out))

/* ABI 1.3: tasks (check CRM_API_HAS(ctx, task_add_json) first when the plugin supports older hosts) */
#define crm_task_add_json(ctx, json, id) CRM_API(ctx)->task_add_json((ctx), (json), (id))
#define crm_task_complete(ctx, id) CRM_API(ctx)->task_complete((ctx), (id))
#define crm_task_list_json(ctx, filter, out) CRM_API(ctx)->task_list_json((ctx), (filter), (out))

/* ABI 1.3: privacy (check CRM_API_HAS(ctx, declare_personal_data) first on older hosts) */
#define crm_declare_personal_data(ctx, table, column)                                       \
    CRM_API(ctx)->declare_personal_data((ctx), (table), (column))
#define crm_declare_personal_callbacks(ctx, export_fn, erase_fn, ud)                         \
    CRM_API(ctx)->declare_personal_callbacks((ctx), (export_fn), (erase_fn), (ud))

/* ABI 1.3: sdkwrites (check CRM_API_HAS(ctx, order_add_json) first for older hosts) */
#define crm_order_add_json(ctx, json, id) CRM_API(ctx)->order_add_json((ctx), (json), (id))
#define crm_user_list_json(ctx, json) CRM_API(ctx)->user_list_json((ctx), (json))
#define crm_user_find_json(ctx, ref, json) CRM_API(ctx)->user_find_json((ctx), (ref), (json))
#define crm_subscribe_from_start(ctx, pat, fn, ud)                                          \
    CRM_API(ctx)->subscribe_from_start((ctx), (pat), (fn), (ud))
/* ABI 1.3: ticketing (check CRM_API_HAS(ctx, calendar_between) first for older hosts) */
#define crm_calendar_between(ctx, cal, from, to, out)                                       \
    CRM_API(ctx)->calendar_between((ctx), (cal), (from), (to), (out))

/* 1.3: messages (check CRM_API_HAS(ctx, message_queue_json) first for older hosts) */
#define crm_message_queue_json(ctx, json, id) CRM_API(ctx)->message_queue_json((ctx), (json), (id))

/* ABI 1.4: routes (check CRM_API_HAS(ctx, register_route) first for older hosts) */
#define crm_register_route(ctx, spec, ud) CRM_API(ctx)->register_route((ctx), (spec), (ud))
#define crm_http_param(x, name) CRM_API(x)->http_param((x), (name))
#define crm_http_query(x, name) CRM_API(x)->http_query((x), (name))
#define crm_http_body(x) CRM_API(x)->http_body(x)
#define crm_http_caller(x, key) CRM_API(x)->http_caller((x), (key))
#define crm_http_reply(x, status, json) CRM_API(x)->http_reply((x), (status), (json))
#define crm_http_error(x, code, field, ...) CRM_API(x)->http_error((x), (code), (field), __VA_ARGS__)
#define crm_call_rule_json(ctx, spec, arg, result, error, cause)                            \
    CRM_API(ctx)->call_rule_json((ctx), (spec), (arg), (result), (error), (cause))
#endif /* CRM_PLUGIN_NO_MACROS */

#ifdef __cplusplus
}
#endif

#endif

/* SDK 1.3 host code: structured configuration (config_tree.c), commands with
 * option tables (commands.c), the data slot and the formatting helpers
 * (format.c). Private to the plugin host, like internal.h; the hooks
 * below are what host.c and the api_*.c entries call. */
#ifndef CRM_CORE_PLUGIN_SDK13_H
#define CRM_CORE_PLUGIN_SDK13_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

#include "internal.h"

struct crm_tz;

/* What the host knows about one validated node of a structured section. */
typedef struct plug_node_info {
    const crm_node *node;
    const crm_config_field *field; /* its declaration */
    bool item;                     /* a list or dict item: typed by field->item_type */
    char *path;                    /* "plugin.key[2].name", for messages */
} plug_node_info;

/* A plugin's SDK 1.3 state, hung on crm_plugin_ctx.ext on first use. */
typedef struct plug_ext {
    void *data;                     /* the data slot */
    const crm_config_field *schema; /* declare_config_schema's table (borrowed) */
    plug_node_info *nodes;          /* filled by validation */
    size_t n_nodes, cap_nodes;
    bool sorted;                    /* nodes sorted by node address (lookups) */
    struct crm_tz **zones;          /* format_time's loaded zones */
    size_t n_zones;
} plug_ext;

/* p's state, created when absent (NULL when out of memory). */
plug_ext *crm_plug13_ext(crm_plugin_ctx *p);

/* Frees p's SDK 1.3 state (free_registrations calls it). */
void crm_plug13_free(crm_plugin_ctx *p);

/* The table handed to plugins: the host's own, or the one a test set with
 * crm_plugin_host_set_table. */
const crm_host_api *crm_plug_table(void);

/* ---- config_tree.c -------------------------------------------------------- */

/* The declared schema field of p's section named `key`, or NULL. */
const crm_config_field *crm_plug13_schema_field(const crm_plugin_ctx *p, const char *key);

/* Checks top-level entry n of p's section against its schema field and
 * records every node under it. CRM_OK or CRM_ECONFIG with a positioned
 * message in err. */
int crm_plug13_check_entry(crm_plugin_ctx *p, const crm_node *n, crm_err *err);

/* After the entries were checked: refuses a schema key also declared with
 * declare_config_key, and a CRM_CONFIG_REQUIRED top-level key absent from
 * section `sec` (NULL when the plugin has no section). */
int crm_plug13_check_section(const crm_plugin_ctx *p, const crm_node *sec, crm_err *err);

/* Appends the schema's top-level names to names[*n] (up to max - 1 entries,
 * NULL-terminated): suggestions for an unknown key. */
void crm_plug13_schema_names(const crm_plugin_ctx *p, const char **names, size_t *n, size_t max);

/* Parses money text "200.00 EUR" (or "200.00": cfg's locale currency) with
 * the currency's exponent into out (i, currency). CRM_OK, or CRM_EINVAL with
 * why (size bytes) saying what is wrong. */
int crm_plug13_parse_money(const crm_config *cfg, const char *text, crm_value *out, char *why,
                           size_t size);

/* The API entries (api_table.c points at them). */
int crm_plug13_declare_config_schema(crm_plugin_ctx *p, const crm_config_field *fields);
const crm_config_node *crm_plug13_config_child(crm_plugin_ctx *p, const crm_config_node *parent,
                                               const char *key);
size_t crm_plug13_config_count(crm_plugin_ctx *p, const crm_config_node *node);
const crm_config_node *crm_plug13_config_item(crm_plugin_ctx *p, const crm_config_node *node,
                                              size_t i);
const char *crm_plug13_config_key(crm_plugin_ctx *p, const crm_config_node *node);
int crm_plug13_config_value(crm_plugin_ctx *p, const crm_config_node *parent, const char *key,
                            crm_value *out);
int crm_plug13_config_error(crm_plugin_ctx *p, const crm_config_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int crm_plug13_config_position(crm_plugin_ctx *p, const crm_config_node *node, const char **file,
                               int *line, int *column);

/* ---- commands.c ------------------------------------------------------------- */

/* Why spec cannot be registered (into why), or true when it is well formed. */
bool crm_plug13_spec_ok(const crm_command_spec *spec, char *why, size_t size);

/* The crm_command_fn a table command is registered with: never called
 * (crm_plug13_run_table runs table commands). */
int crm_plug13_table_entry(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv);

/* Parses argv (argv[0] the verb) against c->spec, then runs the plugin's
 * handler with its rights. CRM_EUSAGE with the refusal in err when argv does
 * not fit the table; else the handler's result, as run_command. */
int crm_plug13_run_table(crm_kernel *k, const crm_plugin_command *c, int argc, char **argv,
                         bool json, FILE *out, crm_err *err);

int crm_plug13_args_count(const crm_command_args *a);
const char *crm_plug13_args_get(const crm_command_args *a, int i);
int crm_plug13_args_option(const crm_command_args *a, const char *name, crm_value *out);

/* `crm plugins --json`: a table command's options [{name, type, required,
 * metavar, help}] (NULL for a command without a table), and p's schema as
 * nested [{key, type, required, default, description, items, fields}] (NULL
 * without one). New references for the caller. */
json_t *crm_plug13_describe_options(const crm_plugin_command *c);
json_t *crm_plug13_describe_schema(const crm_plugin_ctx *p);

/* ---- format.c --------------------------------------------------------------- */

void crm_plug13_set_data(crm_plugin_ctx *p, void *data);
void *crm_plug13_get_data(crm_plugin_ctx *p);
int crm_plug13_format_time(crm_plugin_ctx *p, int64_t t, const char *zone, char *buf,
                           size_t size);
int crm_plug13_json_get_int(crm_plugin_ctx *p, const char *json, const char *path, int64_t *out);
int crm_plug13_json_get_string(crm_plugin_ctx *p, const char *json, const char *path, char *buf,
                               size_t size);

#endif

/* The plugin host: finds, checks, loads and runs the plugins crm.yaml enables.
 *
 * A plugin NAME is the file NAME.so, searched in $CRM_PLUGIN_PATH (colon-
 * separated), then crm.yaml's plugin_path, then beside the running
 * executable (/proc/self/exe): the build tree's plugins/ and the installed
 * <prefix>/lib/crm/plugins, never a path fixed at build time. Loading is all or nothing: any refusal (missing
 * file, no crm_plugin_query, another ABI major, a descriptor too small, a
 * required plugin missing or too old, a dependency cycle, init failing, a bad
 * config section, a migration failing, start failing) unloads everything and
 * fails with a message naming the plugin, its file and the reason, before
 * any command touches data.
 *
 * Lifecycle: query -> ABI check -> init (registration only) -> config
 * validation -> migrations -> start (dependency order) -> subscriptions
 * attached to the bus -> ... -> stop (reverse order) -> fini -> dlclose.
 * While plugin code runs, an SQLite authorizer limits what it may touch
 * (authorizer.c). */
#ifndef CRM_CORE_PLUGIN_HOST_H
#define CRM_CORE_PLUGIN_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CRM_PLUGIN_NO_MACROS
#include "crm/plugin.h"
#include "kernel.h"

typedef struct crm_plugin_host crm_plugin_host;

/* A Lua function a plugin registered (crm.<plugin>.<name>). The Lua engine
 * calls fn(ctx, ud, args_json_array, &result_json, &error): results and
 * errors are malloc'd (free them with free()); the call runs with the
 * plugin's rights. */
typedef struct crm_lua_export {
    const char *plugin;
    const char *name;
    int (*fn)(void *ctx, void *ud, const char *args_json, char **result_json, char **error);
    void *ctx;
    void *ud;
    const char *help;
} crm_lua_export;

/* A CLI command a plugin registered: `crm <plugin> <verb>` (noun NULL), or
 * with register_noun_command `crm <noun> <verb>` (verb NULL: the single-word
 * command `crm <noun>`). */
typedef struct crm_plugin_command {
    const char *plugin;
    char *verb;     /* NULL only for a single-word noun command */
    char *usage;    /* argument synopsis, may be NULL */
    char *summary;
    crm_command_fn fn;
    crm_plugin_ctx *ctx;
    char *noun;     /* NULL for `crm <plugin> <verb>` */
    const crm_command_spec *spec; /* SDK 1.3 option table (borrowed), or NULL */
} crm_plugin_command;

/* Prints `--help` of a command registered with an option table (c->spec):
 * synopsis, summary, and one line per option from the table. */
void crm_plugin_command_help(FILE *f, const crm_plugin_command *c);

/* For tests: the host API table handed to plugins loaded from now on (a
 * copy truncated to an older minor, say); NULL restores the host's own. */
void crm_plugin_host_set_table(const crm_host_api *api);

/* Loads the plugins enabled in k->cfg: crm_plugin_host_prepare then
 * crm_plugin_host_start (k->store open and migrated, k->bus attached when
 * there is one). Returns CRM_OK, or CRM_EPLUGIN / CRM_ECONFIG / CRM_EDB with
 * the message in err; on failure nothing of a refused plugin stays
 * registered and k->plugins is NULL. */
int crm_plugin_host_load(crm_kernel *k, crm_err *err);

/* The half of loading that needs no database (k->store may be NULL): finds,
 * dlopens and ABI-checks every enabled plugin, checks requirements and
 * order, calls init (registration) and validates each plugin's crm.yaml
 * section against its declared keys, and checks crm.yaml's top-level
 * sections (a section that is neither a kernel key, an enabled plugin nor an
 * installed plugin is an error). Sets k->plugins on success; on failure
 * everything is unloaded (fini called) and err names the plugin. */
int crm_plugin_host_prepare(crm_kernel *k, crm_err *err);

/* The other half, on k->store: the authorizer, each plugin's migrations,
 * start in dependency order (a start error that begins with a declared key,
 * "<plugin>.<key>: ...", gets that key's crm.yaml file:line:column), the Lua
 * exports and the bus subscriptions. CRM_OK when nothing was prepared. On
 * failure the host is freed and k->plugins is NULL. */
int crm_plugin_host_start(crm_kernel *k, crm_err *err);

/* True when a prepared plugin has migrations its recorded schema version
 * (in k->store) lacks, or when that version cannot be read. */
bool crm_plugin_host_pending(crm_kernel *k, crm_err *err);

/* Who answers to `crm <noun>` among plugins `names` (n of them; NULL: the
 * ones cfg enables), asked without a database, for reporting a failed start
 * or a disabled plugin: dlopens them and calls their init (registration only;
 * fini follows) whatever fails. Returns 1 with the plugin's name in `plugin`
 * when noun is one of them or a noun one registered (even one whose init
 * then failed); 2 with the name of the first plugin that failed before
 * registering anything, when nobody claims noun; 0 otherwise. */
int crm_plugin_host_provider(const crm_config *cfg, const char *const *names, size_t n,
                             const char *noun, char *plugin, size_t size);

/* Delivers what durable plugin subscribers missed (their cursors behind the
 * event log). crm_kernel_open calls it once the Lua engine is attached, so a
 * handler catching up may already evaluate rules (call_rule). CRM_OK when no
 * plugin is loaded. */
int crm_plugin_host_catch_up(crm_kernel *k, crm_err *err);

/* Stops started plugins in reverse order, calls fini, dlcloses, frees the
 * host and clears k->plugins. NULL-safe; call before crm_bus_close. */
void crm_plugin_host_unload(crm_kernel *k);

/* Finds NAME.so along the search path. Returns CRM_OK with the path in
 * `path`, CRM_ENOTFOUND with the directories searched in err, or CRM_EIO
 * when the file exists but cannot be read. */
int crm_plugin_locate(const crm_config *cfg, const char *name, char *path, size_t size,
                      crm_err *err);

/* The Lua functions registered by the loaded plugins; *out (may be NULL when
 * 0 is returned) stays valid until the kernel closes. 0 when no host. */
size_t crm_plugin_host_lua_exports(crm_kernel *k, const crm_lua_export **out);

/* The command `crm <noun> <verb>` some loaded plugin registered with
 * register_noun_command, or NULL. A single-word noun command matches
 * whatever verb is given (its arguments start there). */
const crm_plugin_command *crm_plugin_host_find_noun(crm_kernel *k, const char *noun,
                                                    const char *verb);

/* The noun commands of the loaded plugins (noun NULL: all of them; else only
 * that noun's), in load then registration order: up to max pointers in out,
 * the total count returned. */
size_t crm_plugin_host_noun_commands(crm_kernel *k, const char *noun,
                                     const crm_plugin_command **out, size_t max);

/* The command `verb` of loaded plugin `plugin` (`crm <plugin> <verb>`), or
 * NULL. */
const crm_plugin_command *crm_plugin_host_find_command(crm_kernel *k, const char *plugin,
                                                       const char *verb);

/* The commands of loaded plugin `plugin` (*out, count returned; 0 when the
 * plugin is not loaded). Noun commands are among them (noun set). */
size_t crm_plugin_host_commands(crm_kernel *k, const char *plugin,
                                const crm_plugin_command **out);

/* True when `plugin` is loaded. */
bool crm_plugin_host_loaded(crm_kernel *k, const char *plugin);

/* Runs a plugin command with its rights: argv[0] is the verb (the noun for
 * a single-word noun command). Output goes to
 * out (as JSON when json). Returns the plugin's result; on failure err holds
 * "<plugin> <verb>: <its message>". */
int crm_plugin_host_run_command(crm_kernel *k, const crm_plugin_command *c, int argc,
                                char **argv, bool json, FILE *out, crm_err *err);

/* Runs the demo hook (SDK 1.3 register_demo) of every loaded plugin that
 * has one, in dependency order, with its rights, each printing to its own
 * buffer (JSON when json). Returns CRM_OK with *out a new JSON object
 * {plugin: "what it printed"} in run order (empty without hooks), or the
 * first failing hook's code with "plugin 'NAME' demo: ..." in err (*out then
 * holds what ran before it). */
int crm_plugin_host_run_demos(crm_kernel *k, bool json, json_t **out, crm_err *err);
/* Resolves the contact set `name` (`--segment NAME`) through the plugins'
 * contact set providers (SDK 1.3 register_contact_set), asked in load order
 * until one knows it. On CRM_OK *ids (malloc'd; free it) holds the set's
 * contact ids sorted and unique, *n their number. CRM_ENOTFOUND when no
 * provider knows `name` (err quotes each provider's message), CRM_EPLUGIN
 * when no loaded plugin provides sets, or the provider's error. */
int crm_plugin_host_contact_set(crm_kernel *k, const char *name, int64_t **ids, size_t *n,
                                crm_err *err);

/* The loaded plugins in dependency order, as a JSON array of objects: name,
 * version, abi ("1.0"), file, description, requires [{name, min_version}],
 * events [{pattern, durable}], commands [{noun (noun commands only), verb
 * (null for a single-word noun), usage, summary, options (table commands:
 * [{name, type, required, metavar, help}])}], lua_functions [{name, help}],
 * config [{key, type, default, description}], config_schema (when declared:
 * [{key, type, required, default, description, items, fields}]), and
 * contact_sets (the provider's summary) when it provides sets. */
json_t *crm_plugin_host_describe(crm_kernel *k);

#endif

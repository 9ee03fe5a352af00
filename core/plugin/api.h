/* The host API's entries, by area: registration (api_register.c), config
 * values (api_config.c), SQL and transactions (api_store.c), kernel writes
 * (api_entities.c), the bus (api_events.c), Lua rules (api_rules.c), helpers
 * (api_format.c); the table that points at them is api_table.c. Private to
 * core/plugin/; each entry's contract is its crm_host_api member's in
 * crm/plugin.h. */
#ifndef CRM_CORE_PLUGIN_API_H
#define CRM_CORE_PLUGIN_API_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

#define DASH " \xe2\x80\x94 " /* em dash, between a problem and its hint */

/* ---- shared by the entries -------------------------------------------------- */

/* p->error = "out of memory"; returns CRM_ENOMEM (api_format.c). */
int crm_plug_nomem(crm_plugin_ctx *p);

/* True, with p->error set, when no database is open yet: plugins' init runs
 * before it is (a refused start writes nothing), so data calls made there
 * are refused rather than crash (api_store.c). */
bool crm_plug_no_db(crm_plugin_ctx *p);

/* The host's connection (k->store's). */
sqlite3 *crm_plug_db(crm_plugin_ctx *p);

/* The failed statement's error into p->error, prefixed with `what`: the
 * authorizer's refusal when there was one (CRM_EDENIED), else SQLite's, mapped
 * to CRM_EEXISTS / CRM_EINVAL (constraints), CRM_EBUSY or CRM_EDB. */
int crm_plug_sql_fail(crm_plugin_ctx *p, const char *what);

/* True when s holds only blanks and ';' (the tail of one statement). */
bool crm_plug_only_space(const char *s);

/* A kernel call's result for the plugin: CRM_OK, or rc with e's message in
 * p->error. */
int crm_plug_host_result(crm_plugin_ctx *p, int rc, const crm_err *e);

/* ---- api_register.c ---- */
int crm_plug_api_register_migration(crm_plugin_ctx *p, int version, const char *name,
                                    const char *sql);
int crm_plug_api_subscribe(crm_plugin_ctx *p, const char *pattern, int durable,
                           crm_event_handler handler, void *ud);
int crm_plug_api_register_command(crm_plugin_ctx *p, const char *verb, const char *usage,
                                  const char *summary, crm_command_fn fn);
int crm_plug_api_register_noun_command(crm_plugin_ctx *p, const char *noun, const char *verb,
                                       const char *usage, const char *summary, crm_command_fn fn);
int crm_plug_api_register_lua_function(crm_plugin_ctx *p, const char *name, crm_lua_fn fn, void *ud,
                                       const char *help);
int crm_plug_api_register_demo(crm_plugin_ctx *p, crm_demo_fn fn);
int crm_plug_api_declare_config_key(crm_plugin_ctx *p, const char *key, crm_config_type type,
                                    const char *def, const char *description);
int crm_plug_api_register_command_table(crm_plugin_ctx *p, const crm_command_spec *spec);
int crm_plug_api_register_contact_set(crm_plugin_ctx *p, const char *summary, crm_contact_set_fn fn,
                                      void *ud);

/* ---- api_config.c ---- */
int crm_plug_api_config_get_string(crm_plugin_ctx *p, const char *key, const char **out);
int crm_plug_api_config_get_int(crm_plugin_ctx *p, const char *key, int64_t *out);
int crm_plug_api_config_get_bool(crm_plugin_ctx *p, const char *key, int *out);

/* ---- api_store.c ---- */
int crm_plug_api_sql_prepare(crm_plugin_ctx *p, const char *sql, crm_stmt **out);
int crm_plug_api_bind_int64(crm_stmt *s, int idx, int64_t v);
int crm_plug_api_bind_text(crm_stmt *s, int idx, const char *v);
int crm_plug_api_bind_null(crm_stmt *s, int idx);
int crm_plug_api_step(crm_stmt *s);
int crm_plug_api_reset(crm_stmt *s);
int crm_plug_api_column_count(crm_stmt *s);
int64_t crm_plug_api_column_int64(crm_stmt *s, int c);
int crm_plug_api_column_type(crm_stmt *s, int c);
const char *crm_plug_api_column_text(crm_stmt *s, int c);
void crm_plug_api_finalize(crm_stmt *s);
int crm_plug_api_exec(crm_plugin_ctx *p, const char *sql);
int64_t crm_plug_api_last_insert_id(crm_plugin_ctx *p);
int crm_plug_api_begin(crm_plugin_ctx *p);
int crm_plug_api_commit(crm_plugin_ctx *p);
void crm_plug_api_rollback(crm_plugin_ctx *p);

/* ---- api_writes.c (1.3: sdkwrites) ---- */
int crm_plugw_order_add_json(crm_plugin_ctx *p, const char *json, int64_t *id);
int crm_plugw_user_list_json(crm_plugin_ctx *p, char **json);
int crm_plugw_user_find_json(crm_plugin_ctx *p, const char *ref, char **json);
/* api_register.c */
int crm_plugw_subscribe_from_start(crm_plugin_ctx *p, const char *pattern,
                                   crm_event_handler handler, void *ud);

/* ---- api_entities.c ---- */
int crm_plug_api_contact_get_json(crm_plugin_ctx *p, int64_t id, char **json);
int crm_plug_api_contact_add_json(crm_plugin_ctx *p, const char *json, int64_t *id);
int crm_plug_api_contact_update_json(crm_plugin_ctx *p, int64_t id, const char *json);
int crm_plug_api_interaction_log_json(crm_plugin_ctx *p, const char *json, int64_t *id);
int crm_plug_api_consent_record_json(crm_plugin_ctx *p, const char *json, int64_t *id);

/* ---- api_events.c ---- */
int crm_plug_api_emit_event(crm_plugin_ctx *p, const char *type, const char *payload_json);
int64_t crm_plug_api_event_id(const crm_plugin_event *v);
const char *crm_plug_api_event_type(const crm_plugin_event *v);
const char *crm_plug_api_event_payload(const crm_plugin_event *v);
const char *crm_plug_api_event_source(const crm_plugin_event *v);
int64_t crm_plug_api_event_created_at(const crm_plugin_event *v);

/* ---- api_rules.c ---- */
int crm_plug_api_call_rule(crm_plugin_ctx *p, const char *spec, int64_t contact_id,
                           char **result_json, char **error, char **cause);
int crm_plug_api_call_rule_json(crm_plugin_ctx *p, const char *spec, const char *arg_json,
                                char **result_json, char **error, char **cause);
int crm_plug_api_rule_each(crm_plugin_ctx *p, const char *spec, const char *where_sql,
                           crm_rule_each_fn fn, void *ud);

/* ---- api_format.c ---- */
FILE *crm_plug_api_io_out(crm_command_io *io);
int crm_plug_api_io_json(crm_command_io *io);
void crm_plug_api_log(crm_plugin_ctx *p, crm_log_level level, const char *fmt, ...);
void crm_plug_api_set_error(crm_plugin_ctx *p, const char *fmt, ...);
const char *crm_plug_api_last_error(crm_plugin_ctx *p);
const char *crm_plug_api_locale(crm_plugin_ctx *p, const char *key);
int crm_plug_api_format_money(crm_plugin_ctx *p, int64_t minor, const char *currency, char *buf,
                              size_t size);
int64_t crm_plug_api_now(crm_plugin_ctx *p);
void crm_plug_api_free(void *ptr);
const char *crm_plug_api_plugin_name(crm_plugin_ctx *p);

/* ---- api_http.c (1.4: routes) ---- */
int crm_plug_api_register_route(crm_plugin_ctx *p, const crm_route_spec *spec, void *ud);
const char *crm_plug_api_http_param(crm_http_exchange *x, const char *name);
const char *crm_plug_api_http_query(crm_http_exchange *x, const char *name);
const char *crm_plug_api_http_body(crm_http_exchange *x);
const char *crm_plug_api_http_caller(crm_http_exchange *x, const char *key);
int crm_plug_api_http_reply(crm_http_exchange *x, int status, const char *json);
int crm_plug_api_http_error(crm_http_exchange *x, int code, const char *field, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

#endif

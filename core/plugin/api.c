/* The host API table (crm_host_api) handed to plugins: registration during
 * init, configuration, SQL through the host's connection, kernel entities
 * through the model (validated, emitting events), events, logging. Every
 * failing call leaves its message in the plugin's error buffer (last_error). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "events.h"
#include "hygiene.h"
#include "lua/engine.h"
#include "model.h"
#include "sdk13.h"
#include "internal.h"

#define DASH " \xe2\x80\x94 "

struct crm_stmt {
    const crm_host_api *api;  /* struct crm_handle_head */
    crm_plugin_ctx *ctx;
    sqlite3_stmt *st;
};

int crm_plug_fail(crm_plugin_ctx *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    return code;
}

static int nomem(crm_plugin_ctx *p) { return crm_plug_fail(p, CRM_ENOMEM, "out of memory"); }

/* ---- registration ---------------------------------------------------------------- */

/* A refused registration also refuses the plugin, even when init ignores the
 * return code. */
__attribute__((format(printf, 3, 4)))
static int reg_fail(crm_plugin_ctx *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    if (p->state == PLUG_INITING && !p->reg_error[0])
        snprintf(p->reg_error, sizeof p->reg_error, "%s", p->error);
    return code;
}

static bool registering(crm_plugin_ctx *p, const char *what)
{
    if (p->state == PLUG_INITING)
        return true;
    crm_plug_fail(p, CRM_EDENIED,
                  "%s: the registry is frozen after init" DASH
                  "register in the plugin's init callback",
                  what);
    return false;
}

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_alnum_(char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A CLI verb: a-z first, then a-z, 0-9, _ and -. */
static bool verb_ok(const char *s)
{
    if (!s || !is_lower(*s))
        return false;
    for (; *s; s++)
        if (!(is_lower(*s) || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

/* A Lua identifier. */
static bool ident_ok(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!is_alnum_(*s))
            return false;
    return true;
}

/* Grows *arr (of elements of `size` bytes) by one; returns the new slot. */
static void *grow(void *arr_ptr, size_t *n, size_t size)
{
    void **arr = arr_ptr;
    char *a = realloc(*arr, (*n + 1) * size);
    if (!a)
        return NULL;
    *arr = a;
    memset(a + *n * size, 0, size);
    return a + (*n)++ * size;
}

static int api_register_migration(crm_plugin_ctx *p, int version, const char *name,
                                  const char *sql)
{
    if (!registering(p, "register_migration"))
        return CRM_EDENIED;
    int last = p->n_migrations ? p->migrations[p->n_migrations - 1].version : 0;
    if (version <= last || !name || !sql)
        return reg_fail(p, CRM_EUSAGE,
                        "migration %d: versions must increase from 1, with a name and SQL",
                        version);
    char bad[128];
    if (!crm_plug_sql_tables_ok(p->name, sql, bad, sizeof bad))
        return reg_fail(p, CRM_EDENIED,
                        "migration %d creates table '%s': a plugin's tables must be named %s_*",
                        version, bad, p->name);
    crm_migration *m = grow(&p->migrations, &p->n_migrations, sizeof *m);
    if (!m)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *m = (crm_migration){version, strdup(name), strdup(sql)};
    return m->name && m->sql ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

static bool pattern_ok(const char *pattern)
{
    if (!pattern)
        return false;
    if (strcmp(pattern, "*") == 0 || crm_event_name_valid(pattern))
        return true;
    size_t len = strlen(pattern);
    if (len < 3 || strcmp(pattern + len - 2, ".*") != 0)
        return false;
    char entity[128];
    snprintf(entity, sizeof entity, "%.*s.x", (int)(len - 2), pattern);
    return crm_event_name_valid(entity);
}

static int api_subscribe(crm_plugin_ctx *p, const char *pattern, int durable,
                         crm_event_handler handler, void *ud)
{
    if (!registering(p, "subscribe"))
        return CRM_EDENIED;
    if (!pattern_ok(pattern) || !handler)
        return reg_fail(p, CRM_EUSAGE,
                        "subscribe '%s': expected entity.verb, entity.* or * and a handler",
                        pattern ? pattern : "(null)");
    int same = 0;
    for (size_t i = 0; i < p->n_subs; i++)
        same += strcmp(p->subs[i].pattern, pattern) == 0;
    plug_sub *s = grow(&p->subs, &p->n_subs, sizeof *s);
    if (!s)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    char name[256];
    snprintf(name, sizeof name, same ? "%s.%s#%d" : "%s.%s", p->name, pattern, same + 1);
    *s = (plug_sub){strdup(pattern), durable != 0, handler, ud, p, strdup(name), false};
    return s->pattern && s->bus_name ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

static int api_register_command(crm_plugin_ctx *p, const char *verb, const char *usage,
                                const char *summary, crm_command_fn fn)
{
    if (!registering(p, "register_command"))
        return CRM_EDENIED;
    if (!verb_ok(verb) || !fn)
        return reg_fail(p, CRM_EUSAGE, "command '%s': expected a verb of a-z, 0-9, _ and -",
                        verb ? verb : "(null)");
    for (size_t i = 0; i < p->n_commands; i++)
        if (!p->commands[i].noun && strcmp(p->commands[i].verb, verb) == 0)
            return reg_fail(p, CRM_EEXISTS, "command '%s' registered twice", verb);
    crm_plugin_command *c = grow(&p->commands, &p->n_commands, sizeof *c);
    if (!c)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *c = (crm_plugin_command){p->name, strdup(verb), usage ? strdup(usage) : NULL,
                              strdup(summary ? summary : ""), fn, p, NULL, NULL};
    return c->verb && c->summary ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

/* Who already answers to `crm <noun>`: the kernel, a plugin by its name, or
 * another plugin's noun. Returns CRM_OK or refuses the registration with a
 * message naming both sides. */
static int noun_free(crm_plugin_ctx *p, const char *noun)
{
    if (crm_cli_kernel_noun(noun) || strcmp(noun, "help") == 0)
        return reg_fail(p, CRM_EEXISTS,
                        "noun '%s' of plugin '%s' collides with the kernel command `crm %s`"
                        DASH "choose another noun",
                        noun, p->name, noun);
    crm_plugin_host *h = p->host;
    for (size_t i = 0; i < h->n_all; i++) {
        const crm_plugin_ctx *q = h->all[i];
        if (strcmp(q->name, noun) == 0)
            return reg_fail(p, CRM_EEXISTS,
                            "noun '%s' of plugin '%s' collides with plugin '%s' (`crm %s "
                            "<verb>`)" DASH "choose another noun",
                            noun, p->name, q->name, q->name);
        if (q == p)
            continue;
        for (size_t j = 0; j < q->n_commands; j++)
            if (q->commands[j].noun && strcmp(q->commands[j].noun, noun) == 0)
                return reg_fail(p, CRM_EEXISTS,
                                "noun '%s' of plugin '%s' is already registered by plugin '%s'"
                                DASH "disable one of them or rename the noun",
                                noun, p->name, q->name);
    }
    return CRM_OK;
}

static int api_register_noun_command(crm_plugin_ctx *p, const char *noun, const char *verb,
                                     const char *usage, const char *summary, crm_command_fn fn)
{
    if (!registering(p, "register_noun_command"))
        return CRM_EDENIED;
    if (!verb_ok(noun) || (verb && !verb_ok(verb)) || !fn)
        return reg_fail(p, CRM_EUSAGE,
                        "command '%s %s': expected a noun (and a verb, or NULL) of a-z, 0-9, _ "
                        "and - and a function",
                        noun ? noun : "(null)", verb ? verb : "");
    int rc = noun_free(p, noun);
    if (rc != CRM_OK)
        return rc;
    for (size_t i = 0; i < p->n_commands; i++) {
        const crm_plugin_command *c = &p->commands[i];
        if (!c->noun || strcmp(c->noun, noun) != 0)
            continue;
        if (!c->verb || !verb)
            return reg_fail(p, CRM_EEXISTS,
                            "noun '%s': a single-word command cannot also have verbs", noun);
        if (strcmp(c->verb, verb) == 0)
            return reg_fail(p, CRM_EEXISTS, "command '%s %s' registered twice", noun, verb);
    }
    crm_plugin_command *c = grow(&p->commands, &p->n_commands, sizeof *c);
    if (!c)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *c = (crm_plugin_command){p->name, verb ? strdup(verb) : NULL, usage ? strdup(usage) : NULL,
                              strdup(summary ? summary : ""), fn, p, strdup(noun), NULL};
    return (!verb || c->verb) && c->summary && c->noun ? CRM_OK
                                                      : reg_fail(p, CRM_ENOMEM, "out of memory");
}

static int api_register_lua_function(crm_plugin_ctx *p, const char *name, crm_lua_fn fn,
                                     void *ud, const char *help)
{
    if (!registering(p, "register_lua_function"))
        return CRM_EDENIED;
    if (!ident_ok(name) || !fn)
        return reg_fail(p, CRM_EUSAGE, "Lua function '%s': expected an identifier",
                        name ? name : "(null)");
    for (size_t i = 0; i < p->n_luas; i++)
        if (strcmp(p->luas[i].name, name) == 0)
            return reg_fail(p, CRM_EEXISTS, "Lua function '%s' registered twice", name);
    plug_lua *l = grow(&p->luas, &p->n_luas, sizeof *l);
    if (!l)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *l = (plug_lua){strdup(name), fn, ud, help ? strdup(help) : NULL, p};
    return l->name ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

static int api_register_demo(crm_plugin_ctx *p, crm_demo_fn fn)
{
    if (!registering(p, "register_demo"))
        return CRM_EDENIED;
    if (!fn)
        return reg_fail(p, CRM_EUSAGE, "register_demo: expected a function");
    if (p->demo)
        return reg_fail(p, CRM_EEXISTS, "register_demo: a demo hook is already registered");
    p->demo = fn;
    return CRM_OK;
}

static bool key_ok(const char *key)
{
    if (!key || !*key || *key == '.')
        return false;
    for (const char *c = key; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              (*c == '.' && c[1] && c[1] != '.')))
            return false;
    return true;
}

/* Parses text as `type` (defaults and values share this). */
static int parse_value(crm_config_type type, const crm_node *n, const char *path, int64_t *i,
                       bool *b, crm_err *err)
{
    const char *s;
    switch (type) {
    case CRM_CONFIG_INT:
        return crm_node_int(n, path, i, err);
    case CRM_CONFIG_BOOL:
        return crm_node_bool(n, path, b, err);
    case CRM_CONFIG_STRING:
        return crm_node_string(n, path, &s, err);
    default: /* the 1.3 types are declare_config_schema's */
        break;
    }
    return crm_err_set(err, CRM_EUSAGE, "%s: unknown type", path);
}

static int api_declare_config_key(crm_plugin_ctx *p, const char *key, crm_config_type type,
                                  const char *def, const char *description)
{
    if (!registering(p, "declare_config_key"))
        return CRM_EDENIED;
    if (!key_ok(key) || type < CRM_CONFIG_STRING || type > CRM_CONFIG_BOOL)
        return reg_fail(p, CRM_EUSAGE,
                        "config key '%s': expected dotted a-z, 0-9, _ names and a known type",
                        key ? key : "(null)");
    if (crm_plug_key(p, key))
        return reg_fail(p, CRM_EEXISTS, "config key '%s' declared twice", key);
    int64_t i;
    bool b;
    crm_err e = {0};
    crm_node n = {.kind = CRM_NODE_SCALAR, .value = (char *)def, .file = "default"};
    if (def && parse_value(type, &n, key, &i, &b, &e) != CRM_OK)
        return reg_fail(p, CRM_EUSAGE, "config key '%s': bad default '%s'", key, def);
    plug_key *k = grow(&p->keys, &p->n_keys, sizeof *k);
    if (!k)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *k = (plug_key){strdup(key), type, def ? strdup(def) : NULL,
                    description ? strdup(description) : NULL};
    return k->key ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

/* ---- configuration ------------------------------------------------------------------ */

/* The node giving key's value (from crm.yaml, else the default in *tmp), or
 * NULL when neither. */
static const crm_node *config_node(crm_plugin_ctx *p, const char *key, crm_config_type type,
                                   crm_node *tmp, int *rc)
{
    const plug_key *k = crm_plug_key(p, key);
    *rc = CRM_OK;
    if (!k || k->type != type) {
        *rc = crm_plug_fail(p, k ? CRM_EUSAGE : CRM_ENOTFOUND,
                            "config key '%s' %s", key,
                            k ? "is declared with another type" : "was not declared");
        return NULL;
    }
    const crm_node *sec = crm_config_section(p->host->k->cfg, p->name);
    const crm_node *n = sec && sec->kind == CRM_NODE_MAP ? crm_node_path(sec, key) : NULL;
    if (n && !(n->kind == CRM_NODE_SCALAR && n->is_null))
        return n;
    if (!k->def)
        return NULL;
    *tmp = (crm_node){.kind = CRM_NODE_SCALAR, .value = k->def, .file = "default"};
    return tmp;
}

static int config_fail(crm_plugin_ctx *p, const crm_err *e)
{
    return crm_plug_fail(p, e->code, "%s", e->msg);
}

static int api_config_get_string(crm_plugin_ctx *p, const char *key, const char **out)
{
    crm_node tmp;
    int rc;
    crm_err e = {0};
    char path[256];
    *out = NULL;
    const crm_node *n = config_node(p, key, CRM_CONFIG_STRING, &tmp, &rc);
    snprintf(path, sizeof path, "%s.%s", p->name, key);
    if (n && crm_node_string(n, path, out, &e) != CRM_OK)
        return config_fail(p, &e);
    return rc;
}

static int api_config_get_int(crm_plugin_ctx *p, const char *key, int64_t *out)
{
    crm_node tmp;
    int rc;
    crm_err e = {0};
    char path[256];
    *out = 0;
    const crm_node *n = config_node(p, key, CRM_CONFIG_INT, &tmp, &rc);
    snprintf(path, sizeof path, "%s.%s", p->name, key);
    if (n && crm_node_int(n, path, out, &e) != CRM_OK)
        return config_fail(p, &e);
    return rc;
}

static int api_config_get_bool(crm_plugin_ctx *p, const char *key, int *out)
{
    crm_node tmp;
    int rc;
    crm_err e = {0};
    char path[256];
    bool b = false;
    *out = 0;
    const crm_node *n = config_node(p, key, CRM_CONFIG_BOOL, &tmp, &rc);
    snprintf(path, sizeof path, "%s.%s", p->name, key);
    if (n && crm_node_bool(n, path, &b, &e) != CRM_OK)
        return config_fail(p, &e);
    *out = b;
    return rc;
}

/* ---- SQL ------------------------------------------------------------------------------ */

/* Plugins' init runs before the database is opened (a refused start writes
 * nothing), so data calls made there are refused rather than crash. */
static bool no_db(crm_plugin_ctx *p)
{
    if (p->host->k->store)
        return false;
    crm_plug_fail(p, CRM_EBUSY,
                  "no database during init" DASH "use SQL and entity calls from start on");
    return true;
}

static sqlite3 *db_of(crm_plugin_ctx *p) { return crm_store_db(p->host->k->store); }

/* The authorizer's refusal when there was one, else SQLite's message. */
static int sql_fail(crm_plugin_ctx *p, const char *what)
{
    crm_plugin_host *h = p->host;
    if (h->denial[0]) {
        crm_plug_fail(p, CRM_EDENIED, "%s", h->denial);
        fprintf(stderr, "crm: denied: %s\n", h->denial);
        return CRM_EDENIED;
    }
    int ext = sqlite3_extended_errcode(db_of(p));
    /* a constraint refuses the data (exit 1); only the database failing is CRM_EDB */
    bool constraint = (ext & 0xff) == SQLITE_CONSTRAINT;
    p->constraint = p->constraint || constraint;
    int code = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                   ? CRM_EEXISTS
               : constraint               ? CRM_EINVAL
               : (ext & 0xff) == SQLITE_BUSY ? CRM_EBUSY
                                             : CRM_EDB;
    return crm_plug_fail(p, code, "%s: %s", what, sqlite3_errmsg(db_of(p)));
}

static bool only_space(const char *s)
{
    for (; s && *s; s++)
        if (!strchr(" \t\r\n;", *s))
            return false;
    return true;
}

static int api_sql_prepare(crm_plugin_ctx *p, const char *sql, crm_stmt **out)
{
    *out = NULL;
    if (no_db(p))
        return CRM_EBUSY;
    crm_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return nomem(p);
    plug_frame f;
    const char *tail = NULL;
    crm_plug_enter(p, &f);
    p->host->denial[0] = '\0';
    int rc = sqlite3_prepare_v2(db_of(p), sql, -1, &s->st, &tail);
    rc = rc == SQLITE_OK ? CRM_OK : sql_fail(p, "cannot prepare SQL");
    crm_plug_leave(p, &f);
    if (rc == CRM_OK && !only_space(tail))
        rc = crm_plug_fail(p, CRM_EUSAGE, "sql_prepare takes one statement: use sql_exec");
    if (rc == CRM_OK && !s->st)
        rc = crm_plug_fail(p, CRM_EUSAGE, "sql_prepare: no statement in '%s'", sql);
    if (rc != CRM_OK) {
        sqlite3_finalize(s->st);
        free(s);
        return rc;
    }
    s->api = p->api;
    s->ctx = p;
    *out = s;
    return CRM_OK;
}

static int bind_result(crm_stmt *s, int rc)
{
    return rc == SQLITE_OK ? CRM_OK : sql_fail(s->ctx, "cannot bind");
}

static int api_bind_int64(crm_stmt *s, int idx, int64_t v)
{
    return bind_result(s, sqlite3_bind_int64(s->st, idx, v));
}

static int api_bind_text(crm_stmt *s, int idx, const char *v)
{
    return bind_result(s, v ? sqlite3_bind_text(s->st, idx, v, -1, SQLITE_TRANSIENT)
                            : sqlite3_bind_null(s->st, idx));
}

static int api_bind_null(crm_stmt *s, int idx)
{
    return bind_result(s, sqlite3_bind_null(s->st, idx));
}

static int api_step(crm_stmt *s)
{
    plug_frame f;
    crm_plug_enter(s->ctx, &f);
    s->ctx->host->denial[0] = '\0';
    int rc = sqlite3_step(s->st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        rc = sql_fail(s->ctx, "SQL failed");
    crm_plug_leave(s->ctx, &f);
    return rc == SQLITE_ROW ? CRM_SQL_ROW : rc == SQLITE_DONE ? CRM_SQL_DONE : rc;
}

static int api_reset(crm_stmt *s)
{
    sqlite3_reset(s->st);
    return CRM_OK;
}

static int api_column_count(crm_stmt *s) { return sqlite3_column_count(s->st); }
static int64_t api_column_int64(crm_stmt *s, int c) { return sqlite3_column_int64(s->st, c); }
static int api_column_type(crm_stmt *s, int c) { return sqlite3_column_type(s->st, c); }

static const char *api_column_text(crm_stmt *s, int c)
{
    return (const char *)sqlite3_column_text(s->st, c);
}

static void api_finalize(crm_stmt *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->st);
    free(s);
}

static int api_exec(crm_plugin_ctx *p, const char *sql)
{
    if (no_db(p))
        return CRM_EBUSY;
    plug_frame f;
    crm_plug_enter(p, &f);
    p->host->denial[0] = '\0';
    int rc = sqlite3_exec(db_of(p), sql, NULL, NULL, NULL);
    rc = rc == SQLITE_OK ? CRM_OK : sql_fail(p, "SQL failed");
    crm_plug_leave(p, &f);
    return rc;
}

static int64_t api_last_insert_id(crm_plugin_ctx *p)
{
    return no_db(p) ? 0 : sqlite3_last_insert_rowid(db_of(p));
}

/* ---- transactions and kernel calls: the host acts on the plugin's behalf ------------ */

static int host_result(crm_plugin_ctx *p, int rc, const crm_err *e)
{
    return rc == CRM_OK ? CRM_OK : crm_plug_fail(p, rc, "%s", e->msg);
}

static int api_begin(crm_plugin_ctx *p)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    p->host->trusted++;
    int rc = crm_kernel_begin(p->host->k, &e);
    p->host->trusted--;
    return host_result(p, rc, &e);
}

static int api_commit(crm_plugin_ctx *p)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    p->host->trusted++;
    int rc = crm_kernel_commit(p->host->k, &e);
    p->host->trusted--;
    return host_result(p, rc, &e);
}

static void api_rollback(crm_plugin_ctx *p)
{
    if (!p->host->k->store)
        return;
    p->host->trusted++;
    crm_kernel_rollback(p->host->k);
    p->host->trusted--;
}

static int api_contact_get_json(crm_plugin_ctx *p, int64_t id, char **json)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_contact c = {0};
    *json = NULL;
    p->host->trusted++;
    int rc = crm_contact_get(p->host->k, id, &c, &e);
    p->host->trusted--;
    if (rc != CRM_OK)
        return host_result(p, rc, &e);
    json_t *o = crm_contact_to_json(&c);
    *json = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    crm_contact_clear(&c);
    return *json ? CRM_OK : nomem(p);
}

/* Fills c from a JSON object of contact fields. Read-only fields of the
 * contact's own JSON (id, created_at, updated_at) are ignored so a plugin may
 * send back what it read. */
static int contact_set(crm_contact *c, const char *key, json_t *v, crm_err *e)
{
    static const char *const ignored[] = {"id", "created_at", "updated_at", "company_id", NULL};
    for (size_t i = 0; ignored[i]; i++)
        if (strcmp(key, ignored[i]) == 0)
            return CRM_OK;
    if (strcmp(key, "tags") == 0 && json_is_array(v)) {
        if (!c->tags && !(c->tags = calloc(1, sizeof *c->tags)))
            return crm_err_set(e, CRM_ENOMEM, "out of memory");
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) {
            if (!json_is_string(t) || crm_contact_add_tag(c, json_string_value(t)) != CRM_OK)
                return crm_err_set(e, CRM_EINVAL, "tags: expected an array of strings");
        }
        return CRM_OK;
    }
    if (strcmp(key, "custom") == 0 && json_is_object(v)) {
        const char *name;
        json_t *cv;
        json_object_foreach(v, name, cv) {
            if (!json_is_string(cv))
                return crm_err_set(e, CRM_EINVAL, "custom.%s: expected a string", name);
            if (crm_contact_set_custom(c, name, json_string_value(cv)) != CRM_OK)
                return crm_err_set(e, CRM_ENOMEM, "out of memory");
        }
        return CRM_OK;
    }
    char **field = crm_contact_field_ptr(c, key);
    if (!field)
        return crm_err_set(e, CRM_EINVAL, "unknown contact field '%s'", key);
    if (!json_is_string(v) && !json_is_null(v))
        return crm_err_set(e, CRM_EINVAL, "contact field '%s': expected a string or null", key);
    free(*field);
    *field = strdup(json_is_string(v) ? json_string_value(v) : "");
    return *field ? CRM_OK : crm_err_set(e, CRM_ENOMEM, "out of memory");
}

static int contact_from_json(const char *text, crm_contact *c, crm_err *e)
{
    json_error_t je;
    json_t *o = json_loads(text ? text : "", 0, &je);
    int rc = json_is_object(o) ? CRM_OK
                               : crm_err_set(e, CRM_EINVAL, "expected a JSON object: %s", je.text);
    const char *key;
    json_t *v;
    if (rc == CRM_OK) {
        json_object_foreach(o, key, v) {
            if ((rc = contact_set(c, key, v, e)) != CRM_OK)
                break;
        }
    }
    json_decref(o);
    return rc;
}

static int api_contact_add_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_contact c = {0};
    int64_t got = 0;
    int rc = contact_from_json(json, &c, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_contact_add(p->host->k, &c, &got, &e);
    p->host->trusted--;
    crm_contact_clear(&c);
    if (id)
        *id = got;
    return host_result(p, rc, &e);
}

static int api_contact_update_json(crm_plugin_ctx *p, int64_t id, const char *json)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_contact c = {0};
    int rc = contact_from_json(json, &c, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_contact_update(p->host->k, id, &c, &e);
    p->host->trusted--;
    crm_contact_clear(&c);
    return host_result(p, rc, &e);
}

/* A JSON object's members mapped onto struct fields, as data. */
typedef struct json_field {
    const char *name;
    size_t offset;
    bool is_int;
} json_field;

static int fields_from_json(const char *text, const json_field *fields, void *out, crm_err *e)
{
    json_error_t je;
    json_t *o = json_loads(text ? text : "", 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return crm_err_set(e, CRM_EINVAL, "expected a JSON object: %s", je.text);
    }
    const char *key;
    json_t *v;
    int rc = CRM_OK;
    json_object_foreach(o, key, v) {
        const json_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        char *slot = (char *)out + (f->name ? f->offset : 0);
        if (!f->name)
            rc = crm_err_set(e, CRM_EINVAL, "unknown field '%s'", key);
        else if (f->is_int && json_is_integer(v))
            *(int64_t *)(void *)slot = json_integer_value(v);
        else if (!f->is_int && json_is_string(v))
            rc = (*(char **)(void *)slot = strdup(json_string_value(v)))
                     ? CRM_OK
                     : crm_err_set(e, CRM_ENOMEM, "out of memory");
        else if (!json_is_null(v))
            rc = crm_err_set(e, CRM_EINVAL, "field '%s': expected %s", key,
                             f->is_int ? "an integer" : "a string");
        if (rc != CRM_OK)
            break;
    }
    json_decref(o);
    return rc;
}

#define JF_STR(type, name) {#name, offsetof(type, name), false}
#define JF_INT(type, name) {#name, offsetof(type, name), true}

static const json_field interaction_fields[] = {
    JF_INT(crm_interaction, contact_id), JF_STR(crm_interaction, channel),
    JF_STR(crm_interaction, direction),  JF_STR(crm_interaction, subject),
    JF_STR(crm_interaction, body),       JF_INT(crm_interaction, occurred_at),
    JF_STR(crm_interaction, author),     JF_STR(crm_interaction, external_id),
    {NULL, 0, false},
};

static const json_field consent_fields[] = {
    JF_INT(crm_consent, contact_id), JF_STR(crm_consent, channel),     JF_STR(crm_consent, purpose),
    JF_STR(crm_consent, status),     JF_INT(crm_consent, recorded_at), JF_STR(crm_consent, source),
    {NULL, 0, false},
};

static int api_interaction_log_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_interaction it = {0};
    int64_t got = 0;
    int rc = fields_from_json(json, interaction_fields, &it, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_interaction_log(p->host->k, &it, &got, &e);
    p->host->trusted--;
    crm_interaction_clear(&it);
    if (id)
        *id = got;
    return host_result(p, rc, &e);
}

static int api_consent_record_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_consent c = {0};
    int64_t got = 0;
    int rc = fields_from_json(json, consent_fields, &c, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_consent_record(p->host->k, &c, &got, &e);
    p->host->trusted--;
    crm_consent_clear(&c);
    if (id)
        *id = got;
    return host_result(p, rc, &e);
}

/* ---- events --------------------------------------------------------------------------- */

static const char *const kernel_entities[] = {
    "contact", "company", "order", "product", "interaction", "consent", "user", NULL,
};

static int emit_checked(crm_plugin_ctx *p, const char *type, json_t *payload, crm_err *e)
{
    crm_kernel *k = p->host->k;
    bool own_txn = crm_store_depth(k->store) == 0;
    int rc = own_txn ? crm_kernel_begin(k, e) : CRM_OK;
    if (rc != CRM_OK) {
        json_decref(payload);
        return rc;
    }
    rc = crm_event_emit(k, type, payload, NULL, e);
    if (own_txn && rc == CRM_OK)
        rc = crm_kernel_commit(k, e);
    else if (own_txn)
        crm_kernel_rollback(k);
    return rc;
}

static int api_emit_event(crm_plugin_ctx *p, const char *type, const char *payload_json)
{
    if (no_db(p))
        return CRM_EBUSY;
    size_t len = type ? strcspn(type, ".") : 0;
    for (size_t i = 0; type && kernel_entities[i]; i++)
        if (strlen(kernel_entities[i]) == len && strncmp(type, kernel_entities[i], len) == 0)
            return crm_plug_fail(p, CRM_EDENIED,
                                 "emit_event '%s': %s.* events are the kernel's; name your "
                                 "own entity",
                                 type, kernel_entities[i]);
    json_error_t je;
    json_t *payload = json_loads(payload_json ? payload_json : "{}", 0, &je);
    if (!json_is_object(payload)) {
        json_decref(payload);
        return crm_plug_fail(p, CRM_EINVAL, "emit_event '%s': payload is not a JSON object",
                             type ? type : "(null)");
    }
    crm_err e = {0};
    p->host->trusted++;
    int rc = emit_checked(p, type, payload, &e);
    p->host->trusted--;
    return host_result(p, rc, &e);
}

static const crm_event *ev_of(const crm_plugin_event *v) { return v->ev; }
static int64_t api_event_id(const crm_plugin_event *v) { return ev_of(v)->id; }
static const char *api_event_type(const crm_plugin_event *v) { return ev_of(v)->type; }
static const char *api_event_payload(const crm_plugin_event *v) { return ev_of(v)->payload; }
static const char *api_event_source(const crm_plugin_event *v) { return ev_of(v)->source; }
static int64_t api_event_created_at(const crm_plugin_event *v) { return ev_of(v)->created_at; }

/* ---- command io, utilities -------------------------------------------------------------- */

static FILE *api_io_out(crm_command_io *io) { return io->out ? io->out : stdout; }
static int api_io_json(crm_command_io *io) { return io->json; }

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static int log_threshold(void)
{
    static const char *const env_names[] = {"error", "warn", "info", "debug"};
    const char *env = getenv("CRM_LOG");
    for (int i = 0; env && i < 4; i++)
        if (strcmp(env, env_names[i]) == 0)
            return i;
    return CRM_LOG_WARN;
}

static void api_log(crm_plugin_ctx *p, crm_log_level level, const char *fmt, ...)
{
    if ((int)level > log_threshold() || (int)level < 0)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "crm: plugin %s: %s: %s\n", p->name, level_names[level], msg);
}

/* Formats into a copy first: the arguments may be crm_last_error(ctx). */
static void api_set_error(crm_plugin_ctx *p, const char *fmt, ...)
{
    char msg[sizeof p->error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(p->error, msg, sizeof msg);
}

static const char *api_last_error(crm_plugin_ctx *p) { return p->error; }

/* ---- SDK 1.1: rules and locale ------------------------------------------------------------ */

static void put(char **slot, const char *text)
{
    if (slot)
        *slot = text ? strdup(text) : NULL;
}

static int rule_fail(crm_plugin_ctx *p, int rc, const char *msg, const char *cause, char **error,
                     char **cause_out)
{
    put(error, msg);
    put(cause_out, cause);
    return crm_plug_fail(p, rc, "%s", msg);
}

static int api_call_rule(crm_plugin_ctx *p, const char *spec, int64_t contact_id,
                         char **result_json, char **error, char **cause)
{
    put(result_json, NULL);
    put(error, NULL);
    put(cause, NULL);
    crm_kernel *k = p->host->k;
    if (!spec || !*spec)
        return rule_fail(p, CRM_EUSAGE, "call_rule: expected a rule name or FILE:FUNCTION", NULL,
                         error, cause);
    if (!k->lua)
        return rule_fail(p, CRM_EBUSY,
                         "call_rule: the Lua engine is not attached yet (rules are callable "
                         "from commands and event handlers, not from init or start)",
                         NULL, error, cause);
    crm_err e = {0};
    crm_lua_rule *r = NULL;
    crm_lua_outcome out;
    memset(&out, 0, sizeof out);
    /* the host reads on the plugin's behalf: the engine's statements are the
     * kernel's, not the plugin's */
    p->host->trusted++;
    int rc = crm_lua_rule_find(k->lua, spec, &r, &e);
    if (rc == CRM_OK)
        rc = crm_lua_eval(k->lua, r, contact_id, &out, &e);
    p->host->trusted--;
    if (rc == CRM_OK) {
        json_t *o = json_pack("{sOso}", "result", out.result ? out.result : json_null(),
                              "reasons", out.reasons ? json_incref(out.reasons) : json_array());
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
                       : NULL;
        json_decref(o);
        crm_lua_outcome_clear(&out);
        if (!text)
            return nomem(p);
        if (result_json)
            *result_json = text;
        else
            free(text);
        return CRM_OK;
    }
    const char *why = rc == CRM_ESCRIPT && out.cause != CRM_LUA_OK
                          ? crm_lua_cause_name(out.cause) : NULL;
    rc = rule_fail(p, rc, out.error[0] ? out.error : e.msg, why, error, cause);
    crm_lua_outcome_clear(&out);
    return rc;
}

static const char *api_locale(crm_plugin_ctx *p, const char *key)
{
    const crm_config *cfg = p->host->k->cfg;
    if (!key || !cfg)
        return NULL;
    if (strcmp(key, "country") == 0)
        return cfg->country;
    if (strcmp(key, "currency") == 0)
        return cfg->currency;
    if (strcmp(key, "timezone") == 0)
        return cfg->timezone;
    return NULL;
}

/* ---- SDK 1.2: a rule over every contact in one scan ------------------------------------------ */

/* The outcome's result as JSON text: scalars without jansson's encoder (the
 * common case, a predicate's true/false), anything else through it. Returns
 * buf or a malloc'd text (*owned), or NULL when out of memory. */
static const char *result_text(const json_t *v, char *buf, size_t size, char **owned)
{
    *owned = NULL;
    if (!v || json_is_null(v))
        return "null";
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    *owned = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    return *owned;
}

static int api_rule_each(crm_plugin_ctx *p, const char *spec, const char *where_sql,
                         crm_rule_each_fn fn, void *ud)
{
    crm_kernel *k = p->host->k;
    crm_plugin_host *h = p->host;
    if (!spec || !*spec || !fn)
        return crm_plug_fail(p, CRM_EUSAGE,
                             "rule_each: expected a rule name or FILE:FUNCTION and a callback");
    if (!k->lua)
        return crm_plug_fail(p, CRM_EBUSY,
                             "rule_each: the Lua engine is not attached yet (rules are callable "
                             "from commands and event handlers, not from init or start)");
    if (where_sql && (strchr(where_sql, ';') || only_space(where_sql)))
        return crm_plug_fail(p, CRM_EUSAGE,
                             "rule_each: where_sql must be one SQL expression (no ';'), or NULL");
    crm_err e = {0};
    crm_lua_rule *r = NULL;
    h->trusted++;
    int rc = crm_lua_rule_find(k->lua, spec, &r, &e);
    h->trusted--;
    if (rc != CRM_OK)
        return crm_plug_fail(p, rc, "%s", e.msg);
    if (crm_lua_rule_kind(r) == CRM_LUA_HANDLER)
        return crm_plug_fail(p, CRM_EUSAGE, "rule %s is a handler: it runs on events",
                             crm_lua_rule_name(r));

    const char *select = crm_lua_contact_select();
    size_t len = strlen(select) + (where_sql ? strlen(where_sql) : 0) + 32;
    char *sql = malloc(len);
    if (!sql)
        return nomem(p);
    snprintf(sql, len, "%s%s%s%s ORDER BY c.id", select, where_sql ? " WHERE (" : "",
             where_sql ? where_sql : "", where_sql ? ")" : "");
    /* prepared with the plugin's rights: the authorizer checks where_sql */
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    plug_frame f;
    crm_plug_enter(p, &f);
    h->denial[0] = '\0';
    rc = sqlite3_prepare_v2(db_of(p), sql, -1, &st, &tail);
    rc = rc == SQLITE_OK ? CRM_OK : sql_fail(p, "rule_each: cannot select the contacts");
    crm_plug_leave(p, &f);
    if (rc == CRM_OK && !only_space(tail))
        rc = crm_plug_fail(p, CRM_EUSAGE, "rule_each: where_sql must be one SQL expression");
    free(sql);
    if (rc != CRM_OK) {
        sqlite3_finalize(st);
        return rc == CRM_EDB ? CRM_EUSAGE : rc;
    }

    int64_t max_failures = k->cfg ? k->cfg->lua.max_failures : 0, failed = 0, seen = 0;
    char first[1024] = "", buf[32];
    for (;;) {
        crm_lua_outcome o;
        /* the engine reads on the plugin's behalf (the kernel's statements) */
        h->trusted++;
        int step = sqlite3_step(st);
        int erc = CRM_OK;
        if (step == SQLITE_ROW) {
            crm_err_clear(&e);
            erc = crm_lua_eval_row(k->lua, r, st, &o, &e);
        }
        h->trusted--;
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sql_fail(p, "rule_each: reading the contacts");
            break;
        }
        int64_t id = sqlite3_column_int64(st, 0);
        seen++;
        if (erc == CRM_OK) {
            char *owned;
            const char *text = result_text(o.result, buf, sizeof buf, &owned);
            crm_lua_outcome_clear(&o);
            if (!text) {
                rc = nomem(p);
                break;
            }
            rc = fn(ud, id, text, NULL, NULL);
            free(owned);
        } else {
            const char *msg = o.error[0] ? o.error : e.msg;
            const char *cause = o.cause != CRM_LUA_OK ? crm_lua_cause_name(o.cause) : "runtime";
            if (!failed++)
                snprintf(first, sizeof first, "%s", msg);
            rc = fn(ud, id, NULL, msg, cause);
            crm_lua_outcome_clear(&o);
            if (rc == CRM_OK && max_failures > 0 && failed >= max_failures)
                rc = crm_plug_fail(p, CRM_ESCRIPT,
                                   "rule %s: stopped after %lld failures (lua.max_failures) "
                                   "at contact %lld of the scan; first: %s",
                                   crm_lua_rule_name(r), (long long)failed, (long long)seen,
                                   first);
        }
        if (rc != CRM_OK)
            break;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- 1.3: sdk13 (the rest is in core/plugin/) ------------------------------------------ */

/* Registered through the 1.0/1.1 paths, so names and collisions are checked
 * once; the run path sees c->spec and parses argv from the table. */
static int api_register_command_table(crm_plugin_ctx *p, const crm_command_spec *spec)
{
    if (!registering(p, "register_command_table"))
        return CRM_EDENIED;
    char why[256];
    if (!spec || !crm_plug13_spec_ok(spec, why, sizeof why))
        return reg_fail(p, CRM_EUSAGE, "command '%s %s': %s",
                        spec && spec->noun ? spec->noun : p->name,
                        spec && spec->verb ? spec->verb : "", spec ? why : "no spec");
    crm_command_fn entry = crm_plug13_table_entry;
    int rc = spec->noun ? api_register_noun_command(p, spec->noun, spec->verb, spec->usage,
                                                    spec->summary, entry)
                        : api_register_command(p, spec->verb, spec->usage, spec->summary, entry);
    if (rc == CRM_OK)
        p->commands[p->n_commands - 1].spec = spec;
    return rc;
}

/* ---- SDK 1.3 (seg): money as the kernel prints it --------------------------------------- */

static int api_format_money(crm_plugin_ctx *p, int64_t minor, const char *currency, char *buf,
                            size_t size)
{
    if (!buf || !size)
        return crm_plug_fail(p, CRM_EUSAGE, "format_money: expected a buffer");
    int d = crm_currency_decimals(currency);
    int n;
    if (d < 0) {
        n = snprintf(buf, size, "%lld (minor units) %s", (long long)minor,
                     currency ? currency : "");
        crm_plug_fail(p, CRM_EINVAL,
                      "format_money: '%s' is not an ISO 4217 code (three upper-case letters)",
                      currency ? currency : "(null)");
        return n >= 0 && (size_t)n < size ? CRM_EINVAL : CRM_ENOMEM;
    }
    char text[96]; /* the CLI's own money text, so plugins print like the kernel */
    crm_cli_money(minor, currency, text, sizeof text);
    n = snprintf(buf, size, "%s", text);
    if (n < 0 || (size_t)n >= size)
        return crm_plug_fail(p, CRM_ENOMEM, "format_money: %zu bytes are too few for '%s'", size,
                             text);
    return CRM_OK;
}

static int api_register_contact_set(crm_plugin_ctx *p, const char *summary,
                                    crm_contact_set_fn fn, void *ud)
{
    if (!registering(p, "register_contact_set"))
        return CRM_EDENIED;
    if (!fn)
        return reg_fail(p, CRM_EUSAGE, "register_contact_set: expected a provider function");
    if (p->set_fn)
        return reg_fail(p, CRM_EEXISTS, "register_contact_set: one provider per plugin");
    p->set_summary = strdup(summary ? summary : "");
    if (!p->set_summary)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    p->set_fn = fn;
    p->set_ud = ud;
    return CRM_OK;
}

static int64_t api_now(crm_plugin_ctx *p) { return p->host->k->now; }
static void api_free(void *ptr) { free(ptr); }
static const char *api_plugin_name(crm_plugin_ctx *p) { return p->name; }

const crm_host_api crm_plug_api = {
    .abi_major = CRM_PLUGIN_ABI_MAJOR,
    .abi_minor = CRM_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(crm_host_api),
    .register_migration = api_register_migration,
    .subscribe = api_subscribe,
    .register_command = api_register_command,
    .register_lua_function = api_register_lua_function,
    .declare_config_key = api_declare_config_key,
    .config_get_string = api_config_get_string,
    .config_get_int = api_config_get_int,
    .config_get_bool = api_config_get_bool,
    .sql_prepare = api_sql_prepare,
    .sql_bind_int64 = api_bind_int64,
    .sql_bind_text = api_bind_text,
    .sql_bind_null = api_bind_null,
    .sql_step = api_step,
    .sql_reset = api_reset,
    .sql_column_count = api_column_count,
    .sql_column_int64 = api_column_int64,
    .sql_column_text = api_column_text,
    .sql_column_type = api_column_type,
    .sql_finalize = api_finalize,
    .sql_exec = api_exec,
    .sql_last_insert_id = api_last_insert_id,
    .begin = api_begin,
    .commit = api_commit,
    .rollback = api_rollback,
    .contact_get_json = api_contact_get_json,
    .contact_add_json = api_contact_add_json,
    .contact_update_json = api_contact_update_json,
    .interaction_log_json = api_interaction_log_json,
    .consent_record_json = api_consent_record_json,
    .emit_event = api_emit_event,
    .event_id = api_event_id,
    .event_type = api_event_type,
    .event_payload = api_event_payload,
    .event_source = api_event_source,
    .event_created_at = api_event_created_at,
    .io_out = api_io_out,
    .io_json = api_io_json,
    .log = api_log,
    .set_error = api_set_error,
    .last_error = api_last_error,
    .now = api_now,
    .free = api_free,
    .plugin_name = api_plugin_name,
    /* 1.1 */
    .register_noun_command = api_register_noun_command,
    .call_rule = api_call_rule,
    .locale = api_locale,
    /* 1.2 */
    .rule_each = api_rule_each,
    /* 1.3 */
    .register_demo = api_register_demo,
    /* 1.3: sdk13 */
    .declare_config_schema = crm_plug13_declare_config_schema,
    .config_child = crm_plug13_config_child,
    .config_count = crm_plug13_config_count,
    .config_item = crm_plug13_config_item,
    .config_key = crm_plug13_config_key,
    .config_value = crm_plug13_config_value,
    .config_error = crm_plug13_config_error,
    .config_position = crm_plug13_config_position,
    .register_command_table = api_register_command_table,
    .args_count = crm_plug13_args_count,
    .args_get = crm_plug13_args_get,
    .args_option = crm_plug13_args_option,
    .set_data = crm_plug13_set_data,
    .get_data = crm_plug13_get_data,
    .format_time = crm_plug13_format_time,
    .json_get_int = crm_plug13_json_get_int,
    .json_get_string = crm_plug13_json_get_string,
    /* 1.3: seg */
    .format_money = api_format_money,
    .register_contact_set = api_register_contact_set,
};

/* Host API, registration: what a plugin may declare, only inside init
 * (migrations, subscriptions, commands, Lua functions, demo hook, config
 * keys, a contact set). A refused registration also refuses the plugin. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "events.h"
#include "sdk13.h"
#include "util.h"
#include "api.h"

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

/* A CLI verb or noun: a-z first, then a-z, 0-9, _ and -. */
static bool verb_ok(const char *s) { return crm_name_valid(s, CRM_NAME_SLUG, 0); }

int crm_plug_api_register_migration(crm_plugin_ctx *p, int version, const char *name,
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
    crm_migration *m = CRM_ARRAY_APPEND(p->migrations, p->n_migrations);
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

static int subscribe(crm_plugin_ctx *p, const char *what, const char *pattern, int durable,
                     bool from_start, crm_event_handler handler, void *ud)
{
    if (!registering(p, what))
        return CRM_EDENIED;
    if (!pattern_ok(pattern) || !handler)
        return reg_fail(p, CRM_EUSAGE,
                        "subscribe '%s': expected entity.verb, entity.* or * and a handler",
                        pattern ? pattern : "(null)");
    int same = 0;
    for (size_t i = 0; i < p->n_subs; i++)
        same += strcmp(p->subs[i].pattern, pattern) == 0;
    plug_sub *s = CRM_ARRAY_APPEND(p->subs, p->n_subs);
    if (!s)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    char name[256];
    snprintf(name, sizeof name, same ? "%s.%s#%d" : "%s.%s", p->name, pattern, same + 1);
    *s = (plug_sub){strdup(pattern), durable != 0, handler, ud, p, strdup(name), false,
                    from_start};
    return s->pattern && s->bus_name ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

int crm_plug_api_subscribe(crm_plugin_ctx *p, const char *pattern, int durable,
                           crm_event_handler handler, void *ud)
{
    return subscribe(p, "subscribe", pattern, durable, false, handler, ud);
}

int crm_plugw_subscribe_from_start(crm_plugin_ctx *p, const char *pattern,
                                   crm_event_handler handler, void *ud)
{
    return subscribe(p, "subscribe_from_start", pattern, 1, true, handler, ud);
}

int crm_plug_api_register_command(crm_plugin_ctx *p, const char *verb, const char *usage,
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
    crm_plugin_command *c = CRM_ARRAY_APPEND(p->commands, p->n_commands);
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

int crm_plug_api_register_noun_command(crm_plugin_ctx *p, const char *noun, const char *verb,
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
    crm_plugin_command *c = CRM_ARRAY_APPEND(p->commands, p->n_commands);
    if (!c)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *c = (crm_plugin_command){p->name, verb ? strdup(verb) : NULL, usage ? strdup(usage) : NULL,
                              strdup(summary ? summary : ""), fn, p, strdup(noun), NULL};
    return (!verb || c->verb) && c->summary && c->noun ? CRM_OK
                                                      : reg_fail(p, CRM_ENOMEM, "out of memory");
}

int crm_plug_api_register_lua_function(crm_plugin_ctx *p, const char *name, crm_lua_fn fn, void *ud,
                                       const char *help)
{
    if (!registering(p, "register_lua_function"))
        return CRM_EDENIED;
    if (!crm_name_valid(name, CRM_NAME_LUA, 0) || !fn)
        return reg_fail(p, CRM_EUSAGE, "Lua function '%s': expected an identifier",
                        name ? name : "(null)");
    for (size_t i = 0; i < p->n_luas; i++)
        if (strcmp(p->luas[i].name, name) == 0)
            return reg_fail(p, CRM_EEXISTS, "Lua function '%s' registered twice", name);
    plug_lua *l = CRM_ARRAY_APPEND(p->luas, p->n_luas);
    if (!l)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *l = (plug_lua){strdup(name), fn, ud, help ? strdup(help) : NULL, p};
    return l->name ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

int crm_plug_api_register_demo(crm_plugin_ctx *p, crm_demo_fn fn)
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

int crm_plug_api_declare_config_key(crm_plugin_ctx *p, const char *key, crm_config_type type,
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
    plug_key *k = CRM_ARRAY_APPEND(p->keys, p->n_keys);
    if (!k)
        return reg_fail(p, CRM_ENOMEM, "out of memory");
    *k = (plug_key){strdup(key), type, def ? strdup(def) : NULL,
                    description ? strdup(description) : NULL};
    return k->key ? CRM_OK : reg_fail(p, CRM_ENOMEM, "out of memory");
}

/* ---- SDK 1.3 -------------------------------------------------------------------------------- */

/* Registered through the 1.0/1.1 paths, so names and collisions are checked
 * once; the run path sees c->spec and parses argv from the table. */
int crm_plug_api_register_command_table(crm_plugin_ctx *p, const crm_command_spec *spec)
{
    if (!registering(p, "register_command_table"))
        return CRM_EDENIED;
    char why[256];
    if (!spec || !crm_plug13_spec_ok(spec, why, sizeof why))
        return reg_fail(p, CRM_EUSAGE, "command '%s %s': %s",
                        spec && spec->noun ? spec->noun : p->name,
                        spec && spec->verb ? spec->verb : "", spec ? why : "no spec");
    crm_command_fn entry = crm_plug13_table_entry;
    int rc = spec->noun
                 ? crm_plug_api_register_noun_command(p, spec->noun, spec->verb, spec->usage,
                                                      spec->summary, entry)
                 : crm_plug_api_register_command(p, spec->verb, spec->usage, spec->summary, entry);
    if (rc == CRM_OK)
        p->commands[p->n_commands - 1].spec = spec;
    return rc;
}

int crm_plug_api_register_contact_set(crm_plugin_ctx *p, const char *summary, crm_contact_set_fn fn,
                                      void *ud)
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

/* template — a small, complete crm plugin meant to be copied.
 *
 * It shows every kind of registration a plugin makes in init:
 *   - migration 1 creates its own table, template_greetings;
 *   - a durable handler on contact.created inserts a greeting row;
 *   - the CLI command `crm template greetings` lists the rows;
 *   - the config key `template.greeting` (string, default "Bonjour");
 *   - the Lua function crm.template.greet(name) -> "<greeting> <name>".
 *
 * A plugin includes crm/plugin.h only and reaches the database and the
 * kernel through the host API macros (crm_sql_prepare, crm_contact_get_json,
 * ...). Build it with -fvisibility=hidden: only crm_plugin_query is exported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crm/plugin.h>

/* ---- a few JSON helpers (the SDK has no JSON library: use your own) --------- */

/* Appends s to out as a JSON string literal; out has room for 2*strlen+3. */
static void json_quote(char *out, const char *s)
{
    *out++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *out++ = '\\';
        *out++ = *s == '\n' ? ' ' : *s;
    }
    *out++ = '"';
    *out = '\0';
}

/* The integer member `key` of a flat JSON object, or -1. */
static long long json_int(const char *json, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    return at ? strtoll(at + strlen(pattern), NULL, 10) : -1;
}

/* ---- the event handler --------------------------------------------------------- */

/* contact.created {contact_id, dataver}: remember a greeting for the new
 * contact. Runs in the bus's transaction: the row and the subscriber's
 * cursor commit together, so a crash never loses or doubles it. */
static int on_contact_created(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    const char *greeting;
    long long contact_id = json_int(crm_event_payload(ev), "contact_id");
    int rc = crm_config_get_string(ctx, "greeting", &greeting);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st;
    rc = crm_sql_prepare(ctx,
                         "INSERT INTO template_greetings(contact_id, greeting, created_at)"
                         " VALUES(?, ?, ?)",
                         &st);
    if (rc != CRM_OK)
        return rc;
    crm_sql_bind_int64(st, 1, contact_id);
    crm_sql_bind_text(st, 2, greeting);
    crm_sql_bind_int64(st, 3, crm_now(ctx));
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? rc : CRM_OK;
}

/* ---- the CLI command --------------------------------------------------------------- */

/* crm template greetings: one line per row, or one JSON object per line. */
static int cmd_greetings(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        crm_set_error(ctx, "greetings takes no arguments");
        return CRM_EUSAGE;
    }
    crm_stmt *st;
    int rc = crm_sql_prepare(ctx,
                             "SELECT id, contact_id, greeting FROM template_greetings ORDER BY id",
                             &st);
    if (rc != CRM_OK)
        return rc;
    FILE *out = crm_io_out(io);
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        long long id = crm_sql_column_int64(st, 0), contact = crm_sql_column_int64(st, 1);
        const char *greeting = crm_sql_column_text(st, 2);
        if (crm_io_json(io)) {
            char quoted[512];
            json_quote(quoted, strlen(greeting) < 250 ? greeting : "...");
            fprintf(out, "{\"id\":%lld,\"contact_id\":%lld,\"greeting\":%s}\n", id, contact,
                    quoted);
        } else {
            fprintf(out, "%lld\tcontact %lld\t%s\n", id, contact, greeting);
        }
    }
    crm_sql_finalize(st);
    return rc < 0 ? rc : CRM_OK;
}

/* ---- the Lua function -------------------------------------------------------------- */

/* crm.template.greet(name): args arrive as a JSON array, ["Ada"]; the result
 * is JSON too, "Bonjour Ada". Both strings are malloc'd: the host frees them. */
static int lua_greet(crm_plugin_ctx *ctx, void *ud, const char *args, char **result,
                     char **error)
{
    (void)ud;
    char name[128];
    if (sscanf(args, " [ \"%127[^\"]\" ]", name) != 1) {
        *error = strdup("greet(name): expected one string");
        return CRM_EINVAL;
    }
    const char *greeting;
    int rc = crm_config_get_string(ctx, "greeting", &greeting);
    if (rc != CRM_OK) {
        *error = strdup(crm_last_error(ctx));
        return rc;
    }
    char text[256];
    snprintf(text, sizeof text, "%s %s", greeting, name);
    *result = malloc(2 * strlen(text) + 3);
    if (!*result)
        return CRM_ENOMEM;
    json_quote(*result, text);
    return CRM_OK;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

/* Registration only: no SQL here (the tables do not exist yet). Any failed
 * registration refuses the plugin, so checking each result is optional. */
static int init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    crm_declare_config_key(ctx, "greeting", CRM_CONFIG_STRING, "Bonjour",
                           "word the greetings start with");
    crm_register_migration(ctx, 1, "greetings table",
                           "CREATE TABLE template_greetings("
                           " id INTEGER PRIMARY KEY,"
                           " contact_id INTEGER NOT NULL,"
                           " greeting TEXT NOT NULL,"
                           " created_at INTEGER NOT NULL)");
    crm_subscribe(ctx, "contact.created", 1, on_contact_created, NULL);
    crm_register_command(ctx, "greetings", NULL, "list the greetings recorded for new contacts",
                         cmd_greetings);
    crm_register_lua_function(ctx, "greet", lua_greet, NULL,
                              "greet(name) -> \"<greeting> <name>\"");
    return CRM_OK;
}

static int start(crm_plugin_ctx *ctx)
{
    crm_log(ctx, CRM_LOG_DEBUG, "started");
    return CRM_OK;
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "template",
    .version = "0.1.0",
    .description = "a plugin meant to be copied: greets new contacts",
    .requires = NULL,
    .init = init,
    .start = start,
    .stop = NULL,
    .fini = NULL,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void) { return &descriptor; }

/* hello — a small, complete crm plugin meant to be copied.
 *
 * It shows every kind of registration a plugin makes in init:
 *   - migration 1 creates its own table, hello_greetings;
 *   - a durable handler on contact.created inserts a greeting row;
 *   - the CLI command `crm hello greetings [--contact ID]`, declared with
 *     an option table (the host parses, refuses and prints --help);
 *   - the config key `hello.greeting` (string, default "Bonjour"),
 *     declared with a structured schema and checked with the key's
 *     crm.yaml position (lists and maps are declared the same way);
 *   - the Lua function crm.hello.greet(name) -> "<greeting> <name>";
 *   - the HTTP route GET /v1/hello/greetings of `crm serve` (SDK 1.4), for
 *     every role: {"greeting": "...", "count": N}.
 * Its state lives in the context's data slot (no globals), event payloads
 * are read with the host's JSON reader and times formatted by the host.
 *
 * A plugin includes crm/plugin.h only and reaches the database and the
 * kernel through the host API macros (crm_sql_prepare, crm_contact_get_json,
 * ...). Build it with -fvisibility=hidden: only crm_plugin_query is exported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crm/plugin.h>

/* ---- state: the context's data slot --------------------------------------------- */

typedef struct hello_state {
    const char *greeting; /* hello.greeting, read once in start */
} hello_state;

static hello_state *state(crm_plugin_ctx *ctx) { return crm_get_data(ctx); }

/* ---- writing JSON (the SDK reads JSON, crm_json_get_*, but writes none) ------- */

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

/* ---- the event handler --------------------------------------------------------- */

/* contact.created {contact_id, dataver}: remember a greeting for the new
 * contact. Runs in the bus's transaction: the row and the subscriber's
 * cursor commit together, so a crash never loses or doubles it. */
static int on_contact_created(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    int64_t contact_id;
    int rc = crm_json_get_int(ctx, crm_event_payload(ev), "contact_id", &contact_id);
    if (rc != CRM_OK)
        return rc; /* the message names the member: the event is parked with it */
    crm_stmt *st;
    rc = crm_sql_prepare(ctx,
                         "INSERT INTO hello_greetings(contact_id, greeting, created_at)"
                         " VALUES(?, ?, ?)",
                         &st);
    if (rc != CRM_OK)
        return rc;
    crm_sql_bind_int64(st, 1, contact_id);
    crm_sql_bind_text(st, 2, state(ctx)->greeting);
    crm_sql_bind_int64(st, 3, crm_now(ctx));
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? rc : CRM_OK;
}

/* ---- the CLI command --------------------------------------------------------------- */

/* The options of `crm hello greetings`: the host refuses anything else
 * (exit 2) and prints --help from this table. */
static const crm_option greetings_options[] = {
    {"contact", CRM_OPTION_INT, 0, "ID", "only the greetings of this contact"},
    {NULL, 0, 0, NULL, NULL},
};

/* crm hello greetings [--contact ID]: one line per row, or one JSON
 * object per line; times in the configured zone. */
static int cmd_greetings(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value contact;
    int filter = crm_args_option(args, "contact", &contact) == CRM_OK;
    crm_stmt *st;
    int rc = crm_sql_prepare(ctx,
                             "SELECT id, contact_id, greeting, created_at FROM hello_greetings"
                             " WHERE ? IS NULL OR contact_id = ? ORDER BY id",
                             &st);
    if (rc != CRM_OK)
        return rc;
    for (int i = 1; i <= 2; i++) {
        if (filter)
            crm_sql_bind_int64(st, i, contact.i);
        else
            crm_sql_bind_null(st, i);
    }
    FILE *out = crm_io_out(io);
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        long long id = crm_sql_column_int64(st, 0), contact_id = crm_sql_column_int64(st, 1);
        const char *greeting = crm_sql_column_text(st, 2);
        char at[40];
        if (crm_format_time(ctx, crm_sql_column_int64(st, 3), NULL, at, sizeof at) != CRM_OK)
            snprintf(at, sizeof at, "?");
        if (crm_io_json(io)) {
            char quoted[512];
            json_quote(quoted, strlen(greeting) < 250 ? greeting : "...");
            fprintf(out, "{\"id\":%lld,\"contact_id\":%lld,\"greeting\":%s,\"created_at\":\"%s\"}\n",
                    id, contact_id, quoted, at);
        } else {
            fprintf(out, "%lld\tcontact %lld\t%s\t%s\n", id, contact_id, greeting, at);
        }
    }
    crm_sql_finalize(st);
    return rc < 0 ? rc : CRM_OK;
}

/* ---- the Lua function -------------------------------------------------------------- */

/* crm.hello.greet(name): args arrive as a JSON array, ["Ada"]; the result
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
    char text[256];
    snprintf(text, sizeof text, "%s %s", state(ctx)->greeting, name);
    *result = malloc(2 * strlen(text) + 3);
    if (!*result)
        return CRM_ENOMEM;
    json_quote(*result, text);
    return CRM_OK;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static const crm_command_spec greetings_command = {
    .noun = NULL, /* `crm hello greetings`; a noun makes it `crm <noun> <verb>` */
    .verb = "greetings",
    .usage = NULL,
    .summary = "list the greetings recorded for new contacts",
    .min_args = 0,
    .max_args = 0,
    .options = greetings_options,
    .fn = cmd_greetings,
};

/* ---- an HTTP route (SDK 1.4) ------------------------------------------------------ */

/* GET /v1/hello/greetings: the greeting word and how many greetings were
 * recorded. The server authenticated the caller and checked its role. */
static int route_greetings(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    crm_stmt *st;
    long long n = 0;
    if (crm_sql_prepare(ctx, "SELECT count(*) FROM hello_greetings", &st) != CRM_OK)
        return crm_http_error(x, CRM_EDB, NULL, "%s", crm_last_error(ctx));
    if (crm_sql_step(st) == CRM_SQL_ROW)
        n = (long long)crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    char quoted[520], json[600];
    json_quote(quoted, strlen(state(ctx)->greeting) < 250 ? state(ctx)->greeting : "...");
    snprintf(json, sizeof json, "{\"greeting\": %s, \"count\": %lld}", quoted, n);
    return crm_http_reply(x, 0, json);
}

static const crm_route_spec greetings_route = {
    .method = "GET",
    .path = "/v1/hello/greetings",
    .roles = "*",
    .fn = route_greetings,
    .summary = "the greeting and how many were recorded",
    .response_schema = "{\"type\": \"object\", \"required\": [\"greeting\", \"count\"]}",
};

/* The plugin's crm.yaml section. A LIST or MAP field nests its own table
 * (plugins/segmentation/config.c declares lists of maps). */
static const crm_config_field config_schema[] = {
    {"greeting", CRM_CONFIG_STRING, 0, "Bonjour", "word the greetings start with", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

/* Registration only: no SQL here (the tables do not exist yet). Any failed
 * registration refuses the plugin, so checking each result is optional. */
static int init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    /* The calls below are SDK 1.3's: refuse an older crm plainly. */
    if (!CRM_API_AT_LEAST(ctx, 1, 3)) {
        crm_set_error(ctx, "needs crm SDK 1.3 or later, this crm provides %u.%u",
                      CRM_API(ctx)->abi_major, CRM_API(ctx)->abi_minor);
        return CRM_EPLUGIN;
    }
    hello_state *s = calloc(1, sizeof *s);
    if (!s)
        return CRM_ENOMEM;
    crm_set_data(ctx, s);
    crm_declare_config_schema(ctx, config_schema);
    crm_register_migration(ctx, 1, "greetings table",
                           "CREATE TABLE hello_greetings("
                           " id INTEGER PRIMARY KEY,"
                           " contact_id INTEGER NOT NULL,"
                           " greeting TEXT NOT NULL,"
                           " created_at INTEGER NOT NULL)");
    /* rows about a contact: exported and erased with the person (GDPR); a
     * contact_id table left undeclared refuses the plugin */
    if (CRM_API_HAS(ctx, declare_personal_data))
        crm_declare_personal_data(ctx, "hello_greetings", "contact_id");
    crm_subscribe(ctx, "contact.created", 1, on_contact_created, NULL);
    crm_register_command_table(ctx, &greetings_command);
    crm_register_lua_function(ctx, "greet", lua_greet, NULL,
                              "greet(name) -> \"<greeting> <name>\"");
    /* SDK 1.4: on an older crm the plugin simply has no route */
    if (CRM_API_HAS(ctx, register_route))
        crm_register_route(ctx, &greetings_route, NULL);
    return CRM_OK;
}

/* The host checked the types by now: read the section once into the state;
 * the plugin's own checks point at crm.yaml through crm_config_error. */
static int start(crm_plugin_ctx *ctx)
{
    crm_value v;
    int rc = crm_config_value(ctx, NULL, "greeting", &v);
    if (rc != CRM_OK)
        return rc;
    if (!v.text || !v.text[0])
        return crm_config_error(ctx, crm_config_child(ctx, NULL, "greeting"),
                                "the greeting cannot be empty");
    state(ctx)->greeting = v.text; /* borrowed: valid until the kernel closes */
    crm_log(ctx, CRM_LOG_DEBUG, "started");
    return CRM_OK;
}

/* Frees what init allocated (also called when init failed half-way). */
static void fini(crm_plugin_ctx *ctx)
{
    if (CRM_API_HAS(ctx, get_data))
        free(crm_get_data(ctx));
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "hello",
    .version = "0.1.0",
    .description = "a plugin meant to be copied: greets new contacts",
    .requires = NULL,
    .init = init,
    .start = start,
    .stop = NULL,
    .fini = fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void) { return &descriptor; }

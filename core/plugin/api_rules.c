/* Host API, Lua rules: one rule on one contact (call_rule), or on every
 * contact of a scan (rule_each), evaluated by the kernel's Lua engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/engine.h"
#include "api.h"

/* ---- SDK 1.1: one rule on one contact ------------------------------------------------------- */

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

/* The rule on contact `contact_id`, or on `arg` when it is set (call_rule_json). */
static int call_one(crm_plugin_ctx *p, const char *entry, const char *spec, int64_t contact_id,
                    const json_t *arg, char **result_json, char **error, char **cause)
{
    crm_kernel *k = p->host->k;
    char msg[256];
    if (!spec || !*spec) {
        snprintf(msg, sizeof msg, "%s: expected a rule name or FILE:FUNCTION", entry);
        return rule_fail(p, CRM_EUSAGE, msg, NULL, error, cause);
    }
    if (!k->lua) {
        snprintf(msg, sizeof msg, "%s: the Lua engine is not attached yet (rules are callable "
                 "from commands and event handlers, not from init or start)", entry);
        return rule_fail(p, CRM_EBUSY, msg, NULL, error, cause);
    }
    crm_err e = {0};
    crm_lua_rule *r = NULL;
    crm_lua_outcome out;
    memset(&out, 0, sizeof out);
    /* the host reads on the plugin's behalf: the engine's statements are the
     * kernel's, not the plugin's */
    p->host->trusted++;
    int rc = crm_lua_rule_find(k->lua, spec, &r, &e);
    if (rc == CRM_OK)
        rc = arg ? crm_lua_eval_json(k->lua, r, arg, &out, &e)
                 : crm_lua_eval(k->lua, r, contact_id, &out, &e);
    p->host->trusted--;
    if (rc == CRM_OK) {
        json_t *o = json_pack("{sOso}", "result", out.result ? out.result : json_null(),
                              "reasons", out.reasons ? json_incref(out.reasons) : json_array());
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
                       : NULL;
        json_decref(o);
        crm_lua_outcome_clear(&out);
        if (!text)
            return crm_plug_nomem(p);
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

int crm_plug_api_call_rule(crm_plugin_ctx *p, const char *spec, int64_t contact_id,
                           char **result_json, char **error, char **cause)
{
    put(result_json, NULL);
    put(error, NULL);
    put(cause, NULL);
    return call_one(p, "call_rule", spec, contact_id, NULL, result_json, error, cause);
}

/* ---- SDK 1.4: one rule on a record that is not a contact ------------------------------------ */

int crm_plug_api_call_rule_json(crm_plugin_ctx *p, const char *spec, const char *arg_json,
                                char **result_json, char **error, char **cause)
{
    put(result_json, NULL);
    put(error, NULL);
    put(cause, NULL);
    json_error_t je;
    json_t *arg = arg_json ? json_loads(arg_json, 0, &je) : NULL;
    if (!json_is_object(arg)) {
        json_decref(arg);
        return rule_fail(p, CRM_EINVAL, "call_rule_json: the argument must be a JSON object",
                         NULL, error, cause);
    }
    int rc = call_one(p, "call_rule_json", spec, 0, arg, result_json, error, cause);
    json_decref(arg);
    return rc;
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

int crm_plug_api_rule_each(crm_plugin_ctx *p, const char *spec, const char *where_sql,
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
    if (where_sql && (strchr(where_sql, ';') || crm_plug_only_space(where_sql)))
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

    const char *select = crm_lua_contact_select(where_sql != NULL);
    size_t len = strlen(select) + (where_sql ? strlen(where_sql) : 0) + 32;
    char *sql = malloc(len);
    if (!sql)
        return crm_plug_nomem(p);
    snprintf(sql, len, "%s%s%s%s ORDER BY c.id", select, where_sql ? " WHERE (" : "",
             where_sql ? where_sql : "", where_sql ? ")" : "");
    /* prepared with the plugin's rights: the authorizer checks where_sql */
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    plug_frame f;
    crm_plug_enter(p, &f);
    h->denial[0] = '\0';
    rc = sqlite3_prepare_v2(crm_plug_db(p), sql, -1, &st, &tail);
    rc = rc == SQLITE_OK ? CRM_OK : crm_plug_sql_fail(p, "rule_each: cannot select the contacts");
    crm_plug_leave(p, &f);
    if (rc == CRM_OK && !crm_plug_only_space(tail))
        rc = crm_plug_fail(p, CRM_EUSAGE, "rule_each: where_sql must be one SQL expression");
    free(sql);
    if (rc != CRM_OK) {
        sqlite3_finalize(st);
        return rc == CRM_EDB ? CRM_EUSAGE : rc;
    }

    int64_t max_failures = k->cfg ? k->cfg->lua.max_failures : 0, failed = 0, seen = 0;
    char first[1024] = "", buf[32];
    crm_lua_scan_begin(k->lua);
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
            rc = crm_plug_sql_fail(p, "rule_each: reading the contacts");
            break;
        }
        int64_t id = sqlite3_column_int64(st, 0);
        seen++;
        if (erc == CRM_OK) {
            char *owned;
            const char *text = result_text(o.result, buf, sizeof buf, &owned);
            crm_lua_outcome_clear(&o);
            if (!text) {
                rc = crm_plug_nomem(p);
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
    crm_lua_scan_end(k->lua);
    sqlite3_finalize(st);
    return rc;
}

/* The `crm` module seen by rules.
 *
 *   crm.now()                      k->now: honours --as-of
 *   crm.days_since(t)              whole days from t (epoch or ISO) to now; nil for nil
 *   crm.time("2024-05-01")         epoch seconds;  crm.date(t): ISO 8601 UTC text
 *   crm.log(...)                   a line to the rule log (stderr by default)
 *   crm.money.format(minor [, cur]) "1234.50 EUR";  crm.money.parse(text [, cur]) minor units
 *   crm.orders(contact_id [, {since=, until=, status=, limit=}])  list of orders
 *   crm.contact(id)                a snapshot table of another contact
 *   crm.emit(type, payload)        handler rules only: emits an event
 *   crm.interaction.log{...}       handler rules only: crm_interaction_log
 *   crm.schedule, crm.cancel, crm.calendar.*   timers and calendars (lua_timer.c)
 *   crm.<plugin>.<fn>(...)         functions plugins register (JSON in, JSON out)
 *
 * Host writes validate through the kernel model exactly as the CLI does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hygiene.h"
#include "lua/lua_int.h"
#include "plugin/host.h"

#define DAY 86400
#define JSON_MAX_DEPTH 16

static crm_lua_engine *eng(lua_State *L) { return crm_lua_engine_of(L); }

/* ---- time --------------------------------------------------------------------- */

int64_t crm_lua_checktime(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TNUMBER)
        return (int64_t)luaL_checknumber(L, idx);
    const char *s = luaL_checkstring(L, idx);
    int64_t t;
    crm_err err = {0};
    if (crm_parse_datetime("date", s, &t, &err) != CRM_OK)
        luaL_error(L, "%s", err.msg);
    return t;
}

static int l_now(lua_State *L)
{
    lua_pushinteger(L, eng(L)->k->now);
    return 1;
}

static int l_days_since(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        return lua_pushnil(L), 1;
    int64_t t = crm_lua_checktime(L, 1);
    lua_pushinteger(L, (lua_Integer)floor((double)(eng(L)->k->now - t) / DAY));
    return 1;
}

static int l_time(lua_State *L)
{
    lua_pushinteger(L, crm_lua_checktime(L, 1));
    return 1;
}

static int l_date(lua_State *L)
{
    char buf[32];
    crm_format_datetime(lua_isnoneornil(L, 1) ? eng(L)->k->now : crm_lua_checktime(L, 1), buf,
                        sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

static int l_log(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= lua_gettop(L); i++) {
        if (i > 1)
            luaL_addchar(&b, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    crm_lua_engine *e = eng(L);
    e->log(e->call && e->call->rule ? e->call->rule->name : "-", lua_tostring(L, -1), e->log_ud);
    return 0;
}

/* ---- money ------------------------------------------------------------------- */

static const char *currency_arg(lua_State *L, int idx, int *decimals)
{
    const char *cur = luaL_optstring(L, idx, eng(L)->k->cfg->currency);
    *decimals = crm_currency_decimals(cur);
    if (*decimals < 0)
        luaL_error(L, "'%s' is not an ISO 4217 currency code", cur);
    return cur;
}

static int l_money_format(lua_State *L)
{
    lua_Integer minor = luaL_checkinteger(L, 1);
    int dec;
    const char *cur = currency_arg(L, 2, &dec);
    char buf[64];
    crm_format_money(minor, dec, buf, sizeof buf);
    lua_pushfstring(L, "%s %s", buf, cur);
    return 1;
}

/* Accepts "12.50", "1 234,56", optionally followed by the currency code or €. */
static int l_money_parse(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int dec;
    const char *cur = currency_arg(L, 2, &dec);
    char text[128];
    snprintf(text, sizeof text, "%.*s", (int)(len < 127 ? len : 127), s);
    char *end = text + strlen(text);
    while (end > text && end[-1] == ' ')
        *--end = '\0';
    size_t cl = strlen(cur);
    if ((size_t)(end - text) > cl && strcmp(end - cl, cur) == 0)
        end[-(ptrdiff_t)cl] = '\0';
    else if (end - text > 3 && strcmp(end - 3, "\xe2\x82\xac") == 0)
        end[-3] = '\0';
    int64_t minor;
    crm_err err = {0};
    if (crm_parse_money("amount", text, dec, &minor, &err) != CRM_OK) {
        lua_pushnil(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushinteger(L, minor);
    return 1;
}

/* ---- JSON <-> Lua ------------------------------------------------------------- */

static json_t *table_to_json(lua_State *L, int idx, int depth);

json_t *crm_lua_to_json(lua_State *L, int idx, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return NULL;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: case LUA_TNONE: return json_null();
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer(lua_tointeger(L, idx));
        return isfinite(lua_tonumber(L, idx)) ? json_real(lua_tonumber(L, idx)) : NULL;
    case LUA_TSTRING: {
        size_t l;
        const char *s = lua_tolstring(L, idx, &l);
        return json_stringn(s, l);
    }
    case LUA_TTABLE: return table_to_json(L, lua_absindex(L, idx), depth);
    default: return NULL;
    }
}

static json_t *array_to_json(lua_State *L, int idx, size_t n, int depth)
{
    json_t *a = json_array();
    for (size_t i = 1; a && i <= n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i);
        json_t *v = crm_lua_to_json(L, -1, depth + 1);
        lua_pop(L, 1);
        if (!v || json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *table_to_json(lua_State *L, int idx, int depth)
{
    size_t n = lua_rawlen(L, idx);
    if (n > 0)
        return array_to_json(L, idx, n, depth);
    json_t *o = json_object();
    lua_pushnil(L);
    while (o && lua_next(L, idx)) {
        json_t *v = lua_type(L, -2) == LUA_TSTRING ? crm_lua_to_json(L, -1, depth + 1) : NULL;
        if (!v || json_object_set_new(o, lua_tostring(L, -2), v) != 0) {
            lua_pop(L, 2);
            json_decref(o);
            return NULL;
        }
        lua_pop(L, 1);
    }
    return o;
}

/* Converts or raises "NAME: cannot convert to JSON". */
static json_t *check_json(lua_State *L, int idx, const char *what)
{
    json_t *j = crm_lua_to_json(L, idx, 0);
    if (!j)
        luaL_error(L, "%s: only nil, booleans, finite numbers, UTF-8 strings and tables with "
                      "string keys or list items convert to JSON (nesting up to %d)",
                   what, JSON_MAX_DEPTH);
    return j;
}

void crm_lua_push_json(lua_State *L, json_t *v, int depth)
{
    luaL_checkstack(L, 3, "JSON too deep");
    if (depth > JSON_MAX_DEPTH || !v || json_is_null(v)) {
        lua_pushnil(L);
    } else if (json_is_boolean(v)) {
        lua_pushboolean(L, json_is_true(v));
    } else if (json_is_integer(v)) {
        lua_pushinteger(L, json_integer_value(v));
    } else if (json_is_real(v)) {
        lua_pushnumber(L, json_real_value(v));
    } else if (json_is_string(v)) {
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
    } else if (json_is_array(v)) {
        lua_createtable(L, (int)json_array_size(v), 0);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            crm_lua_push_json(L, x, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    } else {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x) {
            crm_lua_push_json(L, x, depth + 1);
            lua_setfield(L, -2, key);
        }
    }
}

/* ---- reading records ------------------------------------------------------------ */

static int l_contact(lua_State *L)
{
    crm_contact c;
    crm_err err = {0};
    if (crm_contact_get(eng(L)->k, luaL_checkinteger(L, 1), &c, &err) != CRM_OK)
        return lua_pushnil(L), 1;
    json_t *j = crm_contact_to_json(&c);
    crm_contact_clear(&c);
    crm_lua_push_json(L, j, 0);
    json_decref(j);
    return 1;
}

static int64_t opt_time_field(lua_State *L, int t, const char *key, int64_t def)
{
    if (lua_getfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    int64_t v = crm_lua_checktime(L, -1);
    lua_pop(L, 1);
    return v;
}

static void push_order_row(lua_State *L, sqlite3_stmt *st)
{
    static const char *const cols[] = {"id", "placed_at", "total", "currency", "status"};
    lua_createtable(L, 0, 5);
    for (int i = 0; i < 5; i++) {
        if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
            lua_pushinteger(L, sqlite3_column_int64(st, i));
        else
            lua_pushstring(L, (const char *)sqlite3_column_text(st, i));
        lua_setfield(L, -2, cols[i]);
    }
}

/* crm.orders(contact_id [, {since, until, status, limit}]): oldest first;
 * until defaults to crm.now(), limit to 1000. */
static int l_orders(lua_State *L)
{
    crm_lua_engine *e = eng(L);
    lua_Integer id = luaL_checkinteger(L, 1);
    bool opts = lua_type(L, 2) == LUA_TTABLE;
    int64_t since = opts ? opt_time_field(L, 2, "since", INT64_MIN) : INT64_MIN;
    int64_t until = opts ? opt_time_field(L, 2, "until", e->k->now) : e->k->now;
    const char *status = NULL;
    lua_Integer limit = 1000;
    if (opts) {
        lua_getfield(L, 2, "status");
        status = lua_tostring(L, -1);
        lua_getfield(L, 2, "limit");
        limit = luaL_optinteger(L, -1, 1000);
    }
    crm_err err = {0};
    sqlite3_stmt *st = crm_store_stmt(
        e->k->store,
        "SELECT id, placed_at, total, currency, status FROM orders WHERE contact_id = ?1 "
        "AND placed_at >= ?2 AND placed_at <= ?3 AND (?4 IS NULL OR status = ?4) "
        "ORDER BY placed_at, id LIMIT ?5", &err);
    if (!st)
        return luaL_error(L, "%s", err.msg);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int64(st, 3, until);
    crm_bind_text(st, 4, status);
    sqlite3_bind_int64(st, 5, limit);
    lua_newtable(L);
    for (lua_Integer i = 1; sqlite3_step(st) == SQLITE_ROW; i++) {
        push_order_row(L, st);
        lua_rawseti(L, -2, i);
    }
    sqlite3_reset(st);
    return 1;
}

/* ---- host writes (handler rules only) ---------------------------------------- */

static void require_writes(lua_State *L, const char *fn)
{
    crm_lua_engine *e = eng(L);
    if (!e->call || !e->call->writes) {
        char what[96];
        snprintf(what, sizeof what, "%s outside a handler rule", fn);
        crm_lua_blocked(L, what);
    }
}

static int l_emit(lua_State *L)
{
    require_writes(L, "crm.emit");
    const char *type = luaL_checkstring(L, 1);
    json_t *payload = lua_isnoneornil(L, 2) ? json_object() : check_json(L, 2, "crm.emit");
    if (!json_is_object(payload)) {
        json_decref(payload);
        return luaL_error(L, "crm.emit: the payload must be a table with string keys");
    }
    crm_kernel *k = eng(L)->k;
    crm_err err = {0};
    int64_t id = 0;
    int rc = crm_kernel_begin(k, &err);
    if (rc != CRM_OK) {
        json_decref(payload);
        return luaL_error(L, "crm.emit: %s", err.msg);
    }
    rc = crm_event_emit(k, type, payload, &id, &err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, &err);
    else
        crm_kernel_rollback(k);
    if (rc != CRM_OK)
        return luaL_error(L, "crm.emit: %s", err.msg);
    lua_pushinteger(L, id);
    return 1;
}

static char *opt_dup(lua_State *L, int t, const char *key)
{
    lua_getfield(L, t, key);
    const char *v = lua_tostring(L, -1);
    char *copy = v ? strdup(v) : NULL;
    lua_pop(L, 1);
    return copy;
}

/* crm.interaction.log{contact_id=, channel=, subject=, body=, direction=, occurred_at=} */
static int l_interaction_log(lua_State *L)
{
    require_writes(L, "crm.interaction.log");
    luaL_checktype(L, 1, LUA_TTABLE);
    crm_interaction it = {0};
    lua_getfield(L, 1, "contact_id");
    it.contact_id = luaL_checkinteger(L, -1);
    it.occurred_at = opt_time_field(L, 1, "occurred_at", 0);
    it.channel = opt_dup(L, 1, "channel");
    it.direction = opt_dup(L, 1, "direction");
    it.subject = opt_dup(L, 1, "subject");
    it.body = opt_dup(L, 1, "body");
    it.author = opt_dup(L, 1, "author");
    int64_t id = 0;
    crm_err err = {0};
    int rc = crm_interaction_log(eng(L)->k, &it, &id, &err);
    crm_interaction_clear(&it);
    if (rc != CRM_OK)
        return luaL_error(L, "crm.interaction.log: %s", err.msg);
    lua_pushinteger(L, id);
    return 1;
}

/* ---- plugin functions --------------------------------------------------------- */

/* Upvalue: light userdata, the export. Arguments go as a JSON array. */
static int plugin_call(lua_State *L)
{
    const crm_lua_export *x = lua_touserdata(L, lua_upvalueindex(1));
    json_t *args = json_array();
    for (int i = 1; i <= lua_gettop(L); i++) {
        json_t *v = crm_lua_to_json(L, i, 0);
        if (!v) {
            json_decref(args);
            return luaL_error(L, "crm.%s.%s: argument %d does not convert to JSON", x->plugin,
                              x->name, i);
        }
        json_array_append_new(args, v);
    }
    char *text = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(args);
    char *result = NULL, *error = NULL;
    int rc = text ? x->fn(x->ctx, x->ud, text, &result, &error) : CRM_ENOMEM;
    free(text);
    json_t *r = rc == CRM_OK && result ? json_loads(result, JSON_DECODE_ANY, NULL) : NULL;
    free(result);
    if (rc != CRM_OK) {
        lua_pushfstring(L, "crm.%s.%s: %s", x->plugin, x->name, error ? error : "failed");
        free(error);
        return lua_error(L);
    }
    free(error);
    crm_lua_push_json(L, r, 0);
    json_decref(r);
    return 1;
}

static void add_plugins(lua_State *L, crm_kernel *k)
{
    const crm_lua_export *x = NULL;
    size_t n = k->plugins ? crm_plugin_host_lua_exports(k, &x) : 0;
    for (size_t i = 0; i < n; i++) {
        if (lua_getfield(L, -1, x[i].plugin) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, x[i].plugin);
        } else if (lua_type(L, -1) != LUA_TTABLE) {
            lua_pop(L, 1);  /* a built-in name: the built-in wins */
            continue;
        }
        lua_pushlightuserdata(L, (void *)&x[i]);
        lua_pushcclosure(L, plugin_call, 1);
        lua_setfield(L, -2, x[i].name);
        lua_pop(L, 1);
    }
}

/* ---- the table ------------------------------------------------------------------ */

void crm_lua_push_crm_module(lua_State *L, crm_lua_engine *e)
{
    static const luaL_Reg fns[] = {
        {"now", l_now},       {"days_since", l_days_since}, {"time", l_time},
        {"date", l_date},     {"log", l_log},               {"orders", l_orders},
        {"contact", l_contact}, {"emit", l_emit},           {NULL, NULL},
    };
    static const luaL_Reg money[] = {
        {"format", l_money_format}, {"parse", l_money_parse}, {NULL, NULL}};
    static const luaL_Reg interaction[] = {{"log", l_interaction_log}, {NULL, NULL}};
    luaL_newlib(L, fns);
    luaL_newlib(L, money);
    lua_setfield(L, -2, "money");
    luaL_newlib(L, interaction);
    lua_setfield(L, -2, "interaction");
    crm_lua_push_timer_functions(L);
    crm_lua_push_message_functions(L);
    add_plugins(L, e->k);
}

/* on(pattern, fn): only while a handler rule's function runs. */
int crm_lua_on(lua_State *L)
{
    const char *pattern = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    crm_lua_engine *e = eng(L);
    if (!e->call || !e->call->registering)
        return luaL_error(L, "on(\"%s\", ...) works only inside the function of a handler rule "
                             "(rules: NAME: {kind: handler, script: ..., function: ...})",
                          pattern);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->call->handlers_ref);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    return 0;
}

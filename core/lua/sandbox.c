/* The sandbox: a counting allocator with a cap, the instruction budget hook,
 * and the restricted library set every script's environment is copied from.
 *
 * Nothing dangerous is ever opened: io, debug and package are not loaded,
 * os is opened only to take time/date/clock, and stock functions that could
 * escape (dofile, loadfile, collectgarbage, string.dump, ...) are replaced by
 * functions raising a `blocked` error that names them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/lua_int.h"

crm_lua_engine *crm_lua_engine_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* ---- allocator -------------------------------------------------------------- */

/* Counts every byte; refuses growth beyond the cap when limits are on. Lua
 * turns a refusal into a clean LUA_ERRMEM (after an emergency collection). */
static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    crm_lua_engine *e = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        e->mem_used -= old;
        return NULL;
    }
    if (e->limits && nsize > old && e->mem_used + (nsize - old) > e->mem_max)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        e->mem_used = e->mem_used - old + nsize;
    return p;
}

/* ---- instruction budget --------------------------------------------------- */

/* Fires every CRM_LUA_TICK instructions (in every coroutine: new threads
 * inherit the hook). Once the budget is spent it raises at every tick, so a
 * script catching the error cannot go on for long; pcall re-raises anyway. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    crm_lua_engine *e = crm_lua_engine_of(L);
    lua_call *c = e->call;
    if (!c || --c->ticks_left > 0)
        return;
    crm_lua_abort(L, CRM_LUA_INSTRUCTIONS, "instruction budget of %lld exceeded",
                  (long long)e->max_instructions);
}

void crm_lua_arm(crm_lua_engine *e)
{
    if (e->limits)
        lua_sethook(e->L, count_hook, LUA_MASKCOUNT, CRM_LUA_TICK);
    else
        lua_sethook(e->L, NULL, 0, 0);
}

int crm_lua_abort(lua_State *L, crm_lua_cause cause, const char *fmt, ...)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (e->call && e->call->abort == CRM_LUA_OK)
        e->call->abort = cause;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_error(L, "%s", msg);
}

int crm_lua_blocked(lua_State *L, const char *name)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (e->call)
        e->call->blocked = true;
    return luaL_error(L, "%s is not available to rules (blocked)", name);
}

static int refuse_blocked_call(lua_State *L)
{
    return crm_lua_blocked(L, lua_tostring(L, lua_upvalueindex(1)));
}

static void push_blocked(lua_State *L, const char *name)
{
    lua_pushstring(L, name);
    lua_pushcclosure(L, refuse_blocked_call, 1);
}

/* ---- protected calls that cannot swallow an abort -------------------------- */

static bool aborting(lua_State *L, int status)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (!e->call)
        return false;
    if (status == LUA_ERRMEM && e->call->abort == CRM_LUA_OK)
        e->call->abort = CRM_LUA_MEMORY;
    return e->call->abort != CRM_LUA_OK;
}

static int finish_pcall(lua_State *L, int status, lua_KContext extra)
{
    if (status == LUA_OK || status == LUA_YIELD)
        return lua_gettop(L) - (int)extra;
    if (aborting(L, status))
        return lua_error(L);  /* re-raise: budget and memory aborts go to the top */
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (e->call)
        e->call->blocked = false;  /* the script handled it */
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
}

static int safe_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
    return finish_pcall(L, status, 0);
}

/* The script's message handler, skipped during an abort: an error raised by
 * the count hook runs the handler with hooks disabled, so a looping handler
 * could not be stopped. Upvalue 1: the script's handler. */
static int guarded_handler(lua_State *L)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (e->call && e->call->abort != CRM_LUA_OK)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int safe_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
    return finish_pcall(L, status, 2);
}

/* coroutine.resume / coroutine.close return (false, msg) on errors: the
 * wrapper re-raises aborts. Upvalue 1: the stock function. */
static int safe_resume(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    if (lua_isboolean(L, 1) && !lua_toboolean(L, 1) && aborting(L, LUA_ERRRUN)) {
        lua_pushvalue(L, 2);
        return lua_error(L);
    }
    return lua_gettop(L);
}

/* ---- replaced base functions --------------------------------------------- */

static int safe_getmetatable(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        return crm_lua_blocked(L, "getmetatable of a string");
    luaL_checkany(L, 1);
    if (!lua_getmetatable(L, 1))
        return lua_pushnil(L), 1;
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

static int safe_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return crm_lua_blocked(L, "a __gc metamethod");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* load(text [, name [, mode [, env]]]): text only; env defaults to the
 * calling script's environment. */
static int safe_load(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING)
        return crm_lua_blocked(L, "load of a function reader");
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (len > 0 && s[0] == LUA_SIGNATURE[0])
        return crm_lua_blocked(L, "load of a binary chunk");
    const char *name = luaL_optstring(L, 2, s);
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnone(L, 4))
        lua_pushvalue(L, 4);
    else if (e->call && e->call->script && e->call->script->env_ref != LUA_NOREF)
        lua_rawgeti(L, LUA_REGISTRYINDEX, e->call->script->env_ref);
    else
        lua_newtable(L);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    return 1;
}

/* require "crm" / "crm.money" / "crm.<plugin>": the host's modules only. */
static int safe_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (strcmp(name, "crm") != 0 && strncmp(name, "crm.", 4) != 0) {
        char what[128];
        snprintf(what, sizeof what, "require \"%.64s\" (only crm.* modules)", name);
        return crm_lua_blocked(L, what);
    }
    crm_lua_engine *e = crm_lua_engine_of(L);
    lua_script *sc = e->call ? e->call->script : NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX,
                sc && sc->env_ref != LUA_NOREF ? sc->env_ref : e->template_ref);
    lua_getfield(L, -1, "crm");
    if (name[3] == '.' && lua_type(L, -1) == LUA_TTABLE)
        lua_getfield(L, -1, name + 4);
    if (lua_isnil(L, -1))
        return luaL_error(L, "module '%s' not found", name);
    return 1;
}

static int sandbox_print(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= lua_gettop(L); i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    crm_lua_engine *e = crm_lua_engine_of(L);
    const char *rule = e->call && e->call->rule ? e->call->rule->name : "-";
    e->log(rule, lua_tostring(L, -1), e->log_ud);
    return 0;
}

/* string.rep bounded by CRM_LUA_MAX_REP: a bigger result is a memory abort. */
static int safe_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n > 0 && (l + lsep > 0) &&
        ((lua_Unsigned)n > CRM_LUA_MAX_REP / (l + lsep) + 1 ||
         (size_t)n * (l + lsep) - lsep > CRM_LUA_MAX_REP))
        return crm_lua_abort(L, CRM_LUA_MEMORY,
                             "string.rep: result over the %d byte limit", CRM_LUA_MAX_REP);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* ---- the template ---------------------------------------------------------- */

/* A table whose every read or write raises `blocked` (io, debug, package, and
 * os beyond time/date/clock). */
static int blocked_index(lua_State *L)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", lua_tostring(L, lua_upvalueindex(1)),
             lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
    return crm_lua_blocked(L, name);
}

static void set_blocked_meta(lua_State *L, const char *lib)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, lib);
    lua_pushcclosure(L, blocked_index, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -2, "__newindex");
    lua_pushstring(L, "blocked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

static void add_blocked_lib(lua_State *L, const char *lib)
{
    lua_newtable(L);
    set_blocked_meta(L, lib);
    lua_setfield(L, -2, lib);
}

/* Copies the named fields of the table at `from` into the table on top. */
static void copy_fields(lua_State *L, int from, const char *const *names)
{
    from = lua_absindex(L, from);
    for (; *names; names++) {
        lua_getfield(L, from, *names);
        lua_setfield(L, -2, *names);
    }
}

static void wrap_field(lua_State *L, int tbl, const char *name, lua_CFunction fn)
{
    lua_getfield(L, tbl, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, tbl, name);
}

static void add_base(lua_State *L, int T)
{
    static const char *const keep[] = {
        "assert", "error",  "ipairs",   "next",     "pairs",  "rawequal", "rawget",
        "rawlen", "rawset", "select",   "tonumber", "tostring", "type", "_VERSION", NULL,
    };
    static const char *const blocked[] = {"dofile", "loadfile", "collectgarbage", "warn",
                                          NULL};
    static const luaL_Reg own[] = {
        {"pcall", safe_pcall},   {"xpcall", safe_xpcall},   {"getmetatable", safe_getmetatable},
        {"load", safe_load},     {"require", safe_require}, {"print", sandbox_print},
        {NULL, NULL},
    };
    lua_pushglobaltable(L);
    lua_pushvalue(L, T);
    copy_fields(L, -2, keep);
    luaL_setfuncs(L, own, 0);
    lua_getfield(L, -2, "setmetatable");
    lua_pushcclosure(L, safe_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    for (const char *const *b = blocked; *b; b++) {
        push_blocked(L, *b);
        lua_setfield(L, -2, *b);
    }
    lua_pop(L, 2);
}

static void add_lib(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 0);
    lua_setfield(L, -2, name);
}

/* string: the real library table is patched in place, since the string
 * metatable's __index (which scripts cannot reach) points to it. */
static void add_string(lua_State *L)
{
    luaL_requiref(L, "string", luaopen_string, 0);
    int s = lua_gettop(L);
    wrap_field(L, s, "rep", safe_rep);
    push_blocked(L, "string.dump");
    lua_setfield(L, s, "dump");
    crm_lua_open_patterns(L);
    lua_setfield(L, -2, "string");
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
}

static void add_coroutine(lua_State *L)
{
    luaL_requiref(L, "coroutine", luaopen_coroutine, 0);
    int co = lua_gettop(L);
    wrap_field(L, co, "resume", safe_resume);
    wrap_field(L, co, "close", safe_resume);
    lua_setfield(L, -2, "coroutine");
}

/* os.time() and os.date(fmt) without a time read the kernel's clock, as
 * crm.now() does, so --as-of reaches scripts written with the stock idiom.
 * Upvalue 1: the stock function. */
static int kernel_time(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, crm_lua_engine_of(L)->k->now);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int kernel_date(lua_State *L)
{
    if (lua_isnoneornil(L, 2)) {
        if (lua_isnoneornil(L, 1)) {
            lua_settop(L, 0);
            lua_pushliteral(L, "%c");
        }
        lua_settop(L, 1);
        lua_pushinteger(L, crm_lua_engine_of(L)->k->now);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static void add_os(lua_State *L)
{
    static const char *const keep[] = {"time", "date", "clock", NULL};
    luaL_requiref(L, "os", luaopen_os, 0);
    lua_newtable(L);
    copy_fields(L, -2, keep);
    int os = lua_gettop(L);
    wrap_field(L, os, "time", kernel_time);
    wrap_field(L, os, "date", kernel_date);
    set_blocked_meta(L, "os");
    lua_setfield(L, -3, "os");
    lua_pop(L, 1);
}

static void build_template(lua_State *L, crm_lua_engine *e)
{
    luaL_requiref(L, "_G", luaopen_base, 0);
    lua_pop(L, 1);
    lua_newtable(L);
    int T = lua_gettop(L);
    add_base(L, T);
    add_string(L);
    add_lib(L, "table", luaopen_table);
    add_lib(L, "math", luaopen_math);
    add_lib(L, "utf8", luaopen_utf8);
    add_coroutine(L);
    add_os(L);
    add_blocked_lib(L, "io");
    add_blocked_lib(L, "debug");
    add_blocked_lib(L, "package");
    crm_lua_push_crm_module(L, e);
    lua_setfield(L, T, "crm");
    lua_pushcfunction(L, crm_lua_on);
    lua_setfield(L, T, "on");
    e->template_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Drops the stock globals: C code that reads globals (require) then sees the
 * sandbox's crm only, and nothing else is reachable by name. */
static void clear_globals(lua_State *L)
{
    lua_newtable(L);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
}

int crm_lua_state_open(crm_lua_engine *e, crm_err *err)
{
    bool limits = e->limits;
    e->limits = false;  /* the template itself is not counted against the cap */
    e->L = lua_newstate(counting_alloc, e);
    if (!e->L) {
        e->limits = limits;
        return crm_err_set(err, CRM_ENOMEM, "cannot create a Lua state");
    }
    lua_State *L = e->L;
    crm_lua_open_contact(L);
    build_template(L, e);
    clear_globals(L);
    lua_gc(L, LUA_GCCOLLECT);
    e->limits = limits;
    crm_lua_arm(e);
    return CRM_OK;
}

/* ---- per-script environments ------------------------------------------- */

static bool has_meta(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    lua_pop(L, 1);
    return true;
}

static void copy_table(lua_State *L, int depth)
{
    int src = lua_gettop(L);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, src)) {
        if (depth > 0 && lua_type(L, -1) == LUA_TTABLE && !has_meta(L, -1))
            copy_table(L, depth - 1);
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, src + 1);
    }
    lua_remove(L, src);
}

void crm_lua_push_env(lua_State *L, crm_lua_engine *e)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->template_ref);
    copy_table(L, 2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
}

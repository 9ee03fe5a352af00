/* Timers and calendars for Lua rules:
 *
 *   crm.schedule(key, due [, payload])  handler rules only: timer `key` of owner
 *                                       "lua:RULE" at due (epoch or ISO), payload a table
 *   crm.cancel(key)                     handler rules only: true when there was one
 *   crm.calendar.add(t, "2bd" [, name]) epoch seconds: t plus business time
 *   crm.calendar.is_open(t [, name])    boolean
 *   crm.calendar.next_open(t [, name])  epoch seconds
 *
 * A handler rule's timers fire its on("timer.fired", fn) handlers with a table
 * {type="timer.fired", key=, due_at=, fired_at=, attempts=, payload={...}};
 * calendars are crm.yaml's (name nil: `default`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "lua/lua_int.h"
#include "time/calendar.h"
#include "time/timer.h"

static crm_lua_engine *eng(lua_State *L) { return crm_lua_engine_of(L); }

/* The handler rule whose code runs now (raises outside one). */
static const crm_lua_rule *writing_rule(lua_State *L, const char *fn)
{
    crm_lua_engine *e = eng(L);
    if (!e->call || !e->call->writes || !e->call->rule) {
        char what[96];
        snprintf(what, sizeof what, "%s outside a handler rule", fn);
        crm_lua_blocked(L, what);
    }
    return e->call->rule;
}

static int l_schedule(lua_State *L)
{
    const crm_lua_rule *r = writing_rule(L, "crm.schedule");
    const char *key = luaL_checkstring(L, 1);
    int64_t due = crm_lua_checktime(L, 2);
    char *text = NULL;
    if (!lua_isnoneornil(L, 3)) {
        json_t *p = crm_lua_to_json(L, 3, 0);
        if (!json_is_object(p)) {
            json_decref(p);
            return luaL_error(L, "crm.schedule: the payload must be a table with string keys");
        }
        text = json_dumps(p, JSON_COMPACT);
        json_decref(p);
    }
    char owner[300];
    snprintf(owner, sizeof owner, "lua:%s", r->name);
    crm_err err = {0};
    int64_t id = 0;
    int rc = crm_timer_schedule(eng(L)->k, owner, key, due, text, &id, &err);
    free(text);
    if (rc != CRM_OK)
        return luaL_error(L, "crm.schedule: %s", err.msg);
    lua_pushinteger(L, id);
    return 1;
}

static int l_cancel(lua_State *L)
{
    const crm_lua_rule *r = writing_rule(L, "crm.cancel");
    const char *key = luaL_checkstring(L, 1);
    char owner[300];
    snprintf(owner, sizeof owner, "lua:%s", r->name);
    crm_err err = {0};
    bool found = false;
    if (crm_timer_cancel(eng(L)->k, owner, key, &found, &err) != CRM_OK)
        return luaL_error(L, "crm.cancel: %s", err.msg);
    lua_pushboolean(L, found);
    return 1;
}

static const crm_calendar *check_calendar(lua_State *L, int idx, const char *fn)
{
    const char *name = luaL_optstring(L, idx, NULL);
    const crm_calendar *cal = crm_calendar_find(eng(L)->k->cfg, name);
    if (!cal)
        luaL_error(L, "%s: no calendar '%s' in crm.yaml `calendars:`", fn, name ? name : "default");
    return cal;
}

static int l_cal_add(lua_State *L)
{
    int64_t t = crm_lua_checktime(L, 1);
    const char *dur = luaL_checkstring(L, 2);
    const crm_calendar *cal = check_calendar(L, 3, "crm.calendar.add");
    int64_t out;
    crm_err err = {0};
    if (crm_calendar_add_text(cal, t, dur, &out, &err) != CRM_OK)
        return luaL_error(L, "crm.calendar.add: %s", err.msg);
    lua_pushinteger(L, out);
    return 1;
}

static int l_cal_is_open(lua_State *L)
{
    int64_t t = crm_lua_checktime(L, 1);
    const crm_calendar *cal = check_calendar(L, 2, "crm.calendar.is_open");
    bool open;
    crm_err err = {0};
    if (crm_calendar_is_open(cal, t, &open, &err) != CRM_OK)
        return luaL_error(L, "crm.calendar.is_open: %s", err.msg);
    lua_pushboolean(L, open);
    return 1;
}

static int l_cal_next_open(lua_State *L)
{
    int64_t t = crm_lua_checktime(L, 1);
    const crm_calendar *cal = check_calendar(L, 2, "crm.calendar.next_open");
    int64_t out;
    crm_err err = {0};
    if (crm_calendar_next_open(cal, t, &out, &err) != CRM_OK)
        return luaL_error(L, "crm.calendar.next_open: %s", err.msg);
    lua_pushinteger(L, out);
    return 1;
}

void crm_lua_push_timer_functions(lua_State *L)
{
    static const luaL_Reg fns[] = {{"schedule", l_schedule}, {"cancel", l_cancel}, {NULL, NULL}};
    static const luaL_Reg cal[] = {{"add", l_cal_add},
                                   {"is_open", l_cal_is_open},
                                   {"next_open", l_cal_next_open},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    luaL_newlib(L, cal);
    lua_setfield(L, -2, "calendar");
}

/* ---- firing ------------------------------------------------------------------ */

static int on_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    if (!k->lua)
        return crm_err_set(err, CRM_EINTERNAL, "the Lua engine is not attached");
    json_t *payload = json_loads(t->payload ? t->payload : "{}", 0, NULL);
    json_t *obj = json_pack("{sssIsIsiso}", "key", t->key, "due_at", (json_int_t)t->due_at,
                            "fired_at", (json_int_t)t->fired_at, "attempts", t->attempts,
                            "payload", payload ? payload : json_object());
    if (!obj)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    crm_event ev = {.id = t->id, .type = "timer.fired", .payload = "", .json = obj,
                    .source = "timer", .created_at = t->fired_at};
    int rc = crm_lua_dispatch_rule(k->lua, ud, &ev, err);
    json_decref(obj);
    return rc;
}

int crm_lua_timers_wire(crm_lua_engine *e, crm_err *err)
{
    for (size_t i = 0; i < e->n_rules; i++) {
        crm_lua_rule *r = e->rules[i];
        if (r->kind != CRM_LUA_HANDLER)
            continue;
        char owner[300];
        snprintf(owner, sizeof owner, "lua:%s", r->name);
        int rc = crm_timer_register(e->k, owner, on_timer, r, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

void crm_lua_timers_unwire(crm_lua_engine *e)
{
    for (size_t i = 0; i < e->n_rules; i++)
        if (e->rules[i]->kind == CRM_LUA_HANDLER) {
            char owner[300];
            snprintf(owner, sizeof owner, "lua:%s", e->rules[i]->name);
            crm_timer_unregister(e->k, owner);
        }
}

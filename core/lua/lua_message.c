/* Messages for Lua rules:
 *
 *   crm.message.queue{contact_id=, template=, channel=, purpose=, key=, at=, data={...}}
 *       handler rules only: queues through the outbox exactly as a plugin's
 *       message_queue_json does (same JSON members, same rules: consent,
 *       address, quiet hours, caps, idempotency key), with source "lua".
 *       Returns the message's id (the first message's when the key was used).
 *
 * `at` may be epoch seconds or ISO 8601 text, like crm.schedule's due. */
#include <stdio.h>
#include <stdlib.h>

#include "lua/lua_int.h"
#include "messages/outbox.h"

static int l_queue(lua_State *L)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    if (!e->call || !e->call->writes)
        crm_lua_blocked(L, "crm.message.queue outside a handler rule");
    luaL_checktype(L, 1, LUA_TTABLE);
    int64_t at = 0;
    lua_getfield(L, 1, "at");
    bool has_at = !lua_isnil(L, -1);
    if (has_at)
        at = crm_lua_checktime(L, lua_gettop(L));
    lua_pop(L, 1);
    json_t *req = crm_lua_to_json(L, 1, 0);
    if (!json_is_object(req)) {
        json_decref(req);
        return luaL_error(L, "crm.message.queue: expected a table {contact_id=, template=, ...}");
    }
    if (has_at)
        json_object_set_new(req, "at", json_integer(at));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return luaL_error(L, "crm.message.queue: out of memory");
    crm_err err = {0};
    int64_t id = 0;
    int rc = crm_outbox_queue_json(e->k, text, "lua", &id, &err);
    free(text);
    if (rc != CRM_OK)
        return luaL_error(L, "crm.message.queue: %s", err.msg);
    lua_pushinteger(L, id);
    return 1;
}

void crm_lua_push_message_functions(lua_State *L)
{
    static const luaL_Reg fns[] = {{"queue", l_queue}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "message");
}

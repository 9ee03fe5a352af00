/* Internals shared by the rule engine's files in core/lua/. */
#ifndef CRM_CORE_LUA_INT_H
#define CRM_CORE_LUA_INT_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <time.h>

#include "lua/engine.h"
#include "model.h"

/* A script file and its loaded environment. */
typedef struct lua_script {
    char *path;
    int env_ref;            /* registry ref of the active environment, LUA_NOREF */
    struct timespec mtime;  /* of the active version's file */
    off_t size;
    int64_t checked_ms;     /* monotonic time of the last change check */
    char error[1024];       /* why the last load failed; "" when it did not */
    crm_lua_cause cause;    /* of that failure (CRM_LUA_OK when none) */
} lua_script;

struct crm_lua_rule {
    char *name;
    crm_lua_kind kind;
    lua_script *script;
    char *function;
    int handlers_ref;       /* handler rules: array of {pattern, fn}; LUA_NOREF */
};

struct lua_contact;

/* The state of the call in progress; calls nest (a plugin function called
 * from Lua may write a contact, which runs validators). */
typedef struct lua_call {
    struct lua_call *prev;
    const crm_lua_rule *rule;
    lua_script *script;       /* whose environment `load` defaults to */
    int64_t record;           /* contact id being evaluated, 0 when none */
    int64_t ticks_left;       /* budget left, in CRM_LUA_TICK units */
    int64_t steps_left;       /* pattern matcher steps left (same budget) */
    crm_lua_cause abort;      /* sticky: memory or instructions; pcall re-raises */
    bool blocked;             /* a blocked function raised (and was not caught) */
    bool writes;              /* handler: host write functions allowed */
    bool registering;         /* handler setup: on() allowed */
    int handlers_ref;         /* handler setup: the list on() appends to */
    json_t *fields_read;      /* names read from contacts, in order (or NULL) */
    char where[300];          /* "FILE:LINE" of the failure, set by the handler */
} lua_call;

struct crm_lua_engine {
    crm_kernel *k;
    lua_State *L;
    size_t mem_used, mem_max;
    bool limits;
    int64_t max_instructions;
    lua_call *call;
    lua_script **scripts;
    size_t n_scripts, cap_scripts;
    crm_lua_rule **rules;
    size_t n_rules, cap_rules;
    int64_t reload_ms;
    int template_ref;         /* the sandbox's globals, copied per script */
    struct crm_lua_prefetch *prefetch; /* during a scan (prefetch.c), else NULL */
    void (*log)(const char *rule, const char *msg, void *ud);
    void *log_ud;
};

/* ---- prefetch.c: a scan's aggregates and tags, read in one pass --------- */

/* count, total, first placed_at, last placed_at */
#define CRM_LUA_AGG_N 4

/* Contact cid's aggregates over qualifying orders (lua_contact.c's
 * QUALIFYING) placed after `since`
 * (INT64_MIN: all) from the scan's table; *found is false for a contact
 * without such orders. CRM_ENOTFOUND: no scan, or not worth a pass yet
 * (the caller asks SQLite for this one contact); another error: the pass
 * failed (err says why). */
int crm_lua_prefetch_orders(crm_lua_engine *e, int64_t since, int64_t cid,
                            int64_t out[CRM_LUA_AGG_N], bool *found, crm_err *err);
/* Contact cid's tags (sorted; owned by the scan) in *tags, *n; as above. */
int crm_lua_prefetch_tags(crm_lua_engine *e, int64_t cid, char *const **tags, size_t *n,
                          crm_err *err);

/* ---- sandbox.c ---------------------------------------------------------- */

/* The engine owning L (the allocator's userdata). */
crm_lua_engine *crm_lua_engine_of(lua_State *L);

/* Creates e->L with the allocator, the hook and the sandbox template. */
int crm_lua_state_open(crm_lua_engine *e, crm_err *err);

/* Pushes a fresh environment for one script (a copy of the template). */
void crm_lua_push_env(lua_State *L, crm_lua_engine *e);

/* Raises a `blocked` error: "NAME is not available to rules". */
int crm_lua_blocked(lua_State *L, const char *name);

/* Marks the call as aborted for `cause` and raises msg (never returns). */
int crm_lua_abort(lua_State *L, crm_lua_cause cause, const char *fmt, ...);

/* Applies e->limits to the hook. */
void crm_lua_arm(crm_lua_engine *e);

/* ---- pattern.c: the bounded pattern functions ---------------------------- */

/* Replaces find, match, gmatch and gsub in the string table on the top. */
void crm_lua_open_patterns(lua_State *L);

/* ---- contact.c: contacts as lazy userdata -------------------------------- */

typedef enum lua_contact_src {
    SRC_ID,      /* read by id on first access */
    SRC_ROW,     /* the current row of a crm_lua_contact_select() statement */
    SRC_STRUCT   /* a crm_contact in memory (validators) */
} lua_contact_src;

/* Registers the contact metatable; call once per state. */
void crm_lua_open_contact(lua_State *L);

/* Pushes a contact userdata for the source; it is valid until
 * crm_lua_contact_expire. */
struct lua_contact *crm_lua_push_contact(lua_State *L, crm_lua_engine *e, lua_contact_src src,
                                         int64_t id, sqlite3_stmt *row,
                                         const crm_contact *c);

/* Ends the contact's life: later accesses raise, memory is released. */
void crm_lua_contact_expire(struct lua_contact *lc);

/* ---- crm.c: the `crm` module --------------------------------------------- */

/* Pushes the `crm` table (helpers, money, orders, host writes, plugins). */
void crm_lua_push_crm_module(lua_State *L, crm_lua_engine *e);

/* on(pattern, fn): handler registration (global in the sandbox). */
int crm_lua_on(lua_State *L);

/* ---- lua_timer.c: crm.schedule, crm.cancel, crm.calendar ------------------ */

/* Adds schedule, cancel and the calendar table to the `crm` table on top. */
void crm_lua_push_timer_functions(lua_State *L);

/* lua_message.c: sets crm.message (queue) on the table at the top of L. */
void crm_lua_push_message_functions(lua_State *L);
/* Registers each handler rule as timer owner "lua:RULE" / removes them. */
int crm_lua_timers_wire(crm_lua_engine *e, crm_err *err);
void crm_lua_timers_unwire(crm_lua_engine *e);
/* Runs handler rule r's on() handlers matching ev->type (engine.c). */
int crm_lua_dispatch_rule(crm_lua_engine *e, crm_lua_rule *r, const struct crm_event *ev,
                          crm_err *err);

/* Epoch seconds of a Lua value: number, or ISO date/date-time string. */
int64_t crm_lua_checktime(lua_State *L, int idx);

/* JSON <-> Lua (depth-limited). crm_lua_to_json raises on unsupported values. */
json_t *crm_lua_to_json(lua_State *L, int idx, int depth);
void crm_lua_push_json(lua_State *L, json_t *v, int depth);

#endif

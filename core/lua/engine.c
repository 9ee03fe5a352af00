/* The rule engine: rules, scripts (loaded and hot-reloaded), protected calls
 * and their failure reports, validators and event handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "lua/lua_int.h"
#include "util.h"

static const char *const cause_names[] = {
    [CRM_LUA_OK] = "",
    [CRM_LUA_MEMORY] = "memory",
    [CRM_LUA_INSTRUCTIONS] = "instructions",
    [CRM_LUA_BLOCKED] = "blocked",
    [CRM_LUA_RUNTIME] = "runtime",
    [CRM_LUA_SYNTAX] = "syntax",
};

static const char *const kind_names[] = {
    [CRM_LUA_ANY] = "any",
    [CRM_LUA_PREDICATE] = "predicate",
    [CRM_LUA_SCORE] = "score",
    [CRM_LUA_VALIDATOR] = "validator",
    [CRM_LUA_HANDLER] = "handler",
};

static const char *const cause_help[] = {
    [CRM_LUA_OK] = "",
    [CRM_LUA_MEMORY] = "lua.max_memory reached",
    [CRM_LUA_INSTRUCTIONS] = "lua.max_instructions reached in one call",
    [CRM_LUA_BLOCKED] = "a function rules may not use (io, os.execute, require of a non-crm "
                        "module)",
    [CRM_LUA_RUNTIME] = "an error raised while it ran, or a result of the wrong type",
    [CRM_LUA_SYNTAX] = "the script does not compile (nothing of it ran)",
};

const char *crm_lua_cause_name(crm_lua_cause c) { return cause_names[c]; }
const char *crm_lua_cause_help(crm_lua_cause c) { return cause_help[c]; }
const char *crm_lua_kind_name(crm_lua_kind k) { return kind_names[k]; }
crm_lua_kind crm_lua_rule_kind(const crm_lua_rule *r) { return r->kind; }
const char *crm_lua_rule_name(const crm_lua_rule *r) { return r->name; }
const char *crm_lua_script_error(const crm_lua_rule *r) { return r->script->error; }

void crm_lua_outcome_clear(crm_lua_outcome *o)
{
    json_decref(o->result);
    json_decref(o->reasons);
    json_decref(o->fields_read);
    memset(o, 0, sizeof *o);
}

void crm_lua_set_reload_interval(crm_lua_engine *e, int64_t ms) { e->reload_ms = ms; }

void crm_lua_set_limits(crm_lua_engine *e, bool on)
{
    e->limits = on;
    if (e->L)
        crm_lua_arm(e);
}

void crm_lua_set_log(crm_lua_engine *e, void (*fn)(const char *, const char *, void *), void *ud)
{
    e->log = fn;
    e->log_ud = ud;
}

static void stderr_log(const char *rule, const char *msg, void *ud)
{
    (void)ud;
    fprintf(stderr, "crm: rule %s: %s\n", rule, msg);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- calls --------------------------------------------------------------------- */

static void call_begin(crm_lua_engine *e, lua_call *c, const crm_lua_rule *r, lua_script *sc,
                       int64_t record)
{
    memset(c, 0, sizeof *c);
    c->prev = e->call;
    c->rule = r;
    c->script = sc;
    c->record = record;
    c->ticks_left = e->max_instructions / CRM_LUA_TICK > 0 ? e->max_instructions / CRM_LUA_TICK
                                                            : 1;
    c->handlers_ref = LUA_NOREF;
    e->call = c;
}

static void call_end(crm_lua_engine *e, lua_call *c) { e->call = c->prev; }

/* Message handler: notes where the error happened (the innermost Lua frame
 * with a line) and returns the message unchanged. */
static int msgh(lua_State *L)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    lua_Debug ar;
    for (int level = 1; e->call && lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(e->call->where, sizeof e->call->where, "%s:%d", ar.short_src,
                     ar.currentline);
            break;
        }
    }
    return 1;
}

/* Calls the function below its nargs arguments through lua_pcall with msgh. */
static int protected_call(crm_lua_engine *e, int nargs, int nres)
{
    lua_State *L = e->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    return status;
}

static crm_lua_cause classify(const lua_call *c, int status)
{
    if (c->abort != CRM_LUA_OK)
        return c->abort;
    if (status == LUA_ERRMEM)
        return CRM_LUA_MEMORY;
    return c->blocked ? CRM_LUA_BLOCKED : CRM_LUA_RUNTIME;
}

/* "rule NAME: FILE:LINE: MESSAGE (cause: CAUSE, contact ID)" from the error
 * value on top of the stack (popped). */
static crm_lua_cause describe(crm_lua_engine *e, const lua_call *c, int status, char *buf,
                              size_t size)
{
    crm_lua_cause cause = classify(c, status);
    char other[64];
    const char *msg = lua_tostring(e->L, -1);
    if (!msg) {
        snprintf(other, sizeof other, "(error object is a %s value)", luaL_typename(e->L, -1));
        msg = other;
    }
    char mem[96];
    if (cause == CRM_LUA_MEMORY && strcmp(msg, "not enough memory") == 0) {
        snprintf(mem, sizeof mem, "memory limit of %zu bytes reached", e->mem_max);
        msg = mem;
    }
    size_t wl = strlen(c->where);
    if (wl && strncmp(msg, c->where, wl) == 0 && msg[wl] == ':')
        msg += wl + 1 + (msg[wl + 1] == ' ');
    char rec[48] = "", rule[300] = "";
    if (c->record)
        snprintf(rec, sizeof rec, ", contact %lld", (long long)c->record);
    if (c->rule)
        snprintf(rule, sizeof rule, "rule %s: ", c->rule->name);
    snprintf(buf, size, "%s%s%s%s (cause: %s%s)", rule, c->where, wl ? ": " : "", msg,
             cause_names[cause], rec);
    lua_pop(e->L, 1);
    if (cause == CRM_LUA_MEMORY || cause == CRM_LUA_INSTRUCTIONS)
        lua_gc(e->L, LUA_GCCOLLECT);
    return cause;
}

/* ---- scripts --------------------------------------------------------------------- */

static lua_script *script_get(crm_lua_engine *e, const char *path)
{
    for (size_t i = 0; i < e->n_scripts; i++)
        if (strcmp(e->scripts[i]->path, path) == 0)
            return e->scripts[i];
    int rc = CRM_ARRAY_RESERVE(e->scripts, e->cap_scripts, e->n_scripts + 1);
    lua_script *sc = calloc(1, sizeof *sc);
    if (rc != CRM_OK || !sc || !(sc->path = strdup(path))) {
        free(sc);
        return NULL;
    }
    sc->env_ref = LUA_NOREF;
    e->scripts[e->n_scripts++] = sc;
    return sc;
}

/* Loads the file and runs its top level in a fresh environment; on success
 * *env_ref holds it. On failure msg says why (with file:line). */
static crm_lua_cause run_chunk(crm_lua_engine *e, lua_script *sc, int *env_ref, char *msg,
                               size_t size)
{
    lua_State *L = e->L;
    int top = lua_gettop(L);
    int lrc = luaL_loadfilex(L, sc->path, "t");
    if (lrc != LUA_OK) {
        snprintf(msg, size, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load");
        lua_settop(L, top);
        return lrc == LUA_ERRMEM      ? CRM_LUA_MEMORY
               : lrc == LUA_ERRSYNTAX ? CRM_LUA_SYNTAX
                                      : CRM_LUA_RUNTIME;
    }
    crm_lua_push_env(L, e);
    lua_pushvalue(L, -1);
    lua_setupvalue(L, -3, 1);
    lua_insert(L, -2);
    lua_call c;
    call_begin(e, &c, NULL, sc, 0);
    int status = protected_call(e, 0, 0);
    crm_lua_cause cause = CRM_LUA_OK;
    if (status != LUA_OK)
        cause = describe(e, &c, status, msg, size);
    else
        *env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    call_end(e, &c);
    lua_settop(L, top);
    return cause;
}

/* Runs handler rule r's function in env, collecting on() registrations. */
static crm_lua_cause setup_handlers(crm_lua_engine *e, crm_lua_rule *r, int env_ref,
                                    int *handlers_ref, char *msg, size_t size)
{
    lua_State *L = e->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, env_ref);
    if (lua_getfield(L, -1, r->function) != LUA_TFUNCTION) {
        snprintf(msg, size, "rule %s: %s has no function %s", r->name, r->script->path,
                 r->function);
        lua_settop(L, top);
        return CRM_LUA_RUNTIME;
    }
    lua_newtable(L);
    int pending = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_call c;
    call_begin(e, &c, r, r->script, 0);
    c.registering = true;
    c.handlers_ref = pending;
    int status = protected_call(e, 0, 0);
    crm_lua_cause cause = CRM_LUA_OK;
    if (status != LUA_OK) {
        cause = describe(e, &c, status, msg, size);
        luaL_unref(L, LUA_REGISTRYINDEX, pending);
    } else {
        *handlers_ref = pending;
    }
    call_end(e, &c);
    lua_settop(L, top);
    return cause;
}

/* Sets up every handler rule of sc in env; all or nothing. */
static crm_lua_cause setup_script_handlers(crm_lua_engine *e, lua_script *sc, int env_ref,
                                           int *refs, char *msg, size_t size)
{
    for (size_t i = 0; i < e->n_rules; i++) {
        refs[i] = LUA_NOREF;
        crm_lua_rule *r = e->rules[i];
        if (r->script != sc || r->kind != CRM_LUA_HANDLER)
            continue;
        crm_lua_cause cause = setup_handlers(e, r, env_ref, &refs[i], msg, size);
        if (cause != CRM_LUA_OK) {
            for (size_t j = 0; j < i; j++)
                luaL_unref(e->L, LUA_REGISTRYINDEX, refs[j]);
            return cause;
        }
    }
    return CRM_LUA_OK;
}

static void install(crm_lua_engine *e, lua_script *sc, int env_ref, const int *refs)
{
    luaL_unref(e->L, LUA_REGISTRYINDEX, sc->env_ref);
    sc->env_ref = env_ref;
    for (size_t i = 0; i < e->n_rules; i++)
        if (refs[i] != LUA_NOREF) {
            luaL_unref(e->L, LUA_REGISTRYINDEX, e->rules[i]->handlers_ref);
            e->rules[i]->handlers_ref = refs[i];
        }
    sc->error[0] = '\0';
    sc->cause = CRM_LUA_OK;
}

/* sc's load error with its cause, "MSG (cause: C[, contact ID])": errors of
 * the top level already carry theirs (describe), compile errors do not. */
static void script_error_text(const lua_script *sc, int64_t record, char *buf, size_t size)
{
    if (strstr(sc->error, "(cause: ")) {
        snprintf(buf, size, "%s", sc->error);
        return;
    }
    char rec[48] = "";
    if (record)
        snprintf(rec, sizeof rec, ", contact %lld", (long long)record);
    snprintf(buf, size, "%s (cause: %s%s)", sc->error,
             cause_names[sc->cause ? sc->cause : CRM_LUA_RUNTIME], rec);
}

/* (Re)loads sc. A failure keeps the active version and records why. */
static crm_lua_cause load_script(crm_lua_engine *e, lua_script *sc)
{
    struct stat st;
    if (stat(sc->path, &st) != 0) {
        snprintf(sc->error, sizeof sc->error, "cannot read %s: %s", sc->path, strerror(errno));
        return sc->cause = CRM_LUA_RUNTIME;
    }
    sc->mtime = st.st_mtim;
    sc->size = st.st_size;
    int env_ref = LUA_NOREF;
    char msg[sizeof sc->error];
    crm_lua_cause cause = run_chunk(e, sc, &env_ref, msg, sizeof msg);
    int *refs = cause == CRM_LUA_OK ? calloc(e->n_rules + 1, sizeof *refs) : NULL;
    if (cause == CRM_LUA_OK && !refs) {
        snprintf(msg, sizeof msg, "out of memory");
        cause = CRM_LUA_MEMORY;
    }
    if (cause == CRM_LUA_OK)
        cause = setup_script_handlers(e, sc, env_ref, refs, msg, sizeof msg);
    if (cause == CRM_LUA_OK)
        install(e, sc, env_ref, refs);
    else {
        luaL_unref(e->L, LUA_REGISTRYINDEX, env_ref);
        snprintf(sc->error, sizeof sc->error, "%s", msg);
        sc->cause = cause;
    }
    free(refs);
    return cause;
}

/* At most once per reload interval: reloads sc when its file changed. */
static void maybe_reload(crm_lua_engine *e, lua_script *sc)
{
    int64_t now = mono_ms();
    if (e->reload_ms > 0 && now - sc->checked_ms < e->reload_ms)
        return;
    sc->checked_ms = now;
    struct stat st;
    if (stat(sc->path, &st) != 0 ||
        (st.st_mtim.tv_sec == sc->mtime.tv_sec && st.st_mtim.tv_nsec == sc->mtime.tv_nsec &&
         st.st_size == sc->size))
        return;
    if (load_script(e, sc) != CRM_LUA_OK) {
        char line[1400], why[1200];
        script_error_text(sc, 0, why, sizeof why);
        snprintf(line, sizeof line, "reloading %s failed, the previous version stays active: %s",
                 sc->path, why);
        e->log("-", line, e->log_ud);
    }
}

static int ensure_state(crm_lua_engine *e, crm_err *err)
{
    return e->L ? CRM_OK : crm_lua_state_open(e, err);
}

/* Makes r's script loaded and current. On failure out (when given) gets the
 * load error as the outcome; record (0: none) is the contact it was for. */
static int ready(crm_lua_engine *e, crm_lua_rule *r, crm_lua_outcome *out, int64_t record,
                 crm_err *err)
{
    int rc = ensure_state(e, err);
    if (rc != CRM_OK)
        return rc;
    lua_script *sc = r->script;
    if (sc->env_ref == LUA_NOREF) {
        load_script(e, sc);
        sc->checked_ms = mono_ms();
    } else {
        maybe_reload(e, sc);
    }
    if (sc->env_ref != LUA_NOREF)
        return CRM_OK;
    char why[1200];
    script_error_text(sc, record, why, sizeof why);
    if (out) {
        out->cause = sc->cause;
        snprintf(out->error, sizeof out->error, "rule %s: cannot load %s: %s", r->name,
                 sc->path, why);
    }
    return crm_err_set(err, CRM_ESCRIPT, "rule %s: cannot load %s: %s", r->name, sc->path, why);
}

/* ---- rules ------------------------------------------------------------------------ */

static crm_lua_kind kind_of(const char *name)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(kind_names[i], name) == 0)
            return (crm_lua_kind)i;
    return CRM_LUA_ANY;
}

static crm_lua_rule *rule_add(crm_lua_engine *e, const char *name, crm_lua_kind kind,
                              const char *path, const char *fn)
{
    if (CRM_ARRAY_RESERVE(e->rules, e->cap_rules, e->n_rules + 1) != CRM_OK)
        return NULL;
    crm_lua_rule *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = strdup(name);
    r->function = strdup(fn);
    r->kind = kind;
    r->handlers_ref = LUA_NOREF;
    r->script = script_get(e, path);
    if (!r->name || !r->function || !r->script) {
        free(r->name);
        free(r->function);
        free(r);
        return NULL;
    }
    e->rules[e->n_rules++] = r;
    return r;
}

/* FILE as given when readable, else under the scripts directory. */
static int resolve_file(crm_lua_engine *e, const char *file, char *out, size_t size,
                        crm_err *err)
{
    snprintf(out, size, "%s", file);
    if (access(out, R_OK) == 0)
        return CRM_OK;
    const char *dir = e->k->cfg->scripts ? e->k->cfg->scripts : "scripts";
    snprintf(out, size, "%s/%s", dir, file);
    if (file[0] != '/' && access(out, R_OK) == 0)
        return CRM_OK;
    return crm_err_set(err, CRM_ENOTFOUND, "no script %s (looked in . and %s)", file, dir);
}

int crm_lua_rule_find(crm_lua_engine *e, const char *spec, crm_lua_rule **out, crm_err *err)
{
    for (size_t i = 0; i < e->n_rules; i++)
        if (strcmp(e->rules[i]->name, spec) == 0)
            return *out = e->rules[i], CRM_OK;
    const char *colon = strrchr(spec, ':');
    if (!colon) {
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < e->n_rules && n < 63; i++)
            names[n++] = e->rules[i]->name;
        names[n] = NULL;
        const char *near = crm_suggest(spec, names);
        return crm_err_set(err, CRM_ENOTFOUND, "no rule '%s' in crm.yaml rules:%s%s%s "
                           "(or give FILE:FUNCTION)", spec, near ? " (did you mean '" : "",
                           near ? near : "", near ? "'?)" : "");
    }
    if (!crm_name_valid(colon + 1, CRM_NAME_LUA, 0))
        return crm_err_set(err, CRM_EUSAGE, "'%s': expected FILE:FUNCTION", spec);
    char file[1024], path[2048];
    snprintf(file, sizeof file, "%.*s", (int)(colon - spec), spec);
    int rc = resolve_file(e, file, path, sizeof path, err);
    if (rc != CRM_OK)
        return rc;
    *out = rule_add(e, spec, CRM_LUA_ANY, path, colon + 1);
    return *out ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

/* ---- evaluation ------------------------------------------------------------------ */

typedef struct eval_src {
    lua_contact_src src;
    int64_t id;
    sqlite3_stmt *row;
    const crm_contact *c;
    const json_t *arg; /* set: the rule gets this value as a table, no contact */
} eval_src;

static void take_reasons(lua_State *L, int idx, crm_lua_outcome *out)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return;
    if (!out->reasons)
        out->reasons = json_array();
    for (lua_Integer i = 1; lua_rawgeti(L, idx, i) != LUA_TNIL; i++) {
        const char *s = luaL_tolstring(L, -1, NULL);
        json_array_append_new(out->reasons, json_string(s ? s : "?"));
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}

/* Converts the results (at idx, idx+1) by kind; NULL or a message. */
static const char *take_result(lua_State *L, const crm_lua_rule *r, int idx,
                               crm_lua_outcome *out)
{
    int t = lua_type(L, idx);
    switch (r->kind) {
    case CRM_LUA_PREDICATE:
        out->result = json_boolean(lua_toboolean(L, idx));
        break;
    case CRM_LUA_SCORE:
        if (t != LUA_TNUMBER)
            return "a score rule must return a number";
        out->result = lua_isinteger(L, idx) ? json_integer(lua_tointeger(L, idx))
                                            : json_real(lua_tonumber(L, idx));
        break;
    case CRM_LUA_VALIDATOR:
        if (t == LUA_TSTRING)
            out->result = json_string(lua_tostring(L, idx));
        else if (t == LUA_TNIL || t == LUA_TBOOLEAN)
            out->result = json_null();
        else
            return "a validator must return nil or an error message";
        break;
    default:
        out->result = crm_lua_to_json(L, idx, 0);
        if (!out->result)
            return "the result does not convert to JSON";
    }
    take_reasons(L, idx + 1, out);
    return NULL;
}

static int fail(crm_lua_outcome *out, crm_err *err)
{
    return crm_err_set(err, CRM_ESCRIPT, "%s", out->error);
}

/* Pushes r's function; on failure fills out. */
static bool push_function(crm_lua_engine *e, const crm_lua_rule *r, crm_lua_outcome *out)
{
    lua_rawgeti(e->L, LUA_REGISTRYINDEX, r->script->env_ref);
    bool ok = lua_getfield(e->L, -1, r->function) == LUA_TFUNCTION;
    lua_remove(e->L, -2);
    if (!ok) {
        lua_pop(e->L, 1);
        out->cause = CRM_LUA_RUNTIME;
        snprintf(out->error, sizeof out->error, "rule %s: %s has no function %s (cause: runtime)",
                 r->name, r->script->path, r->function);
    }
    return ok;
}

static int eval_src_run(crm_lua_engine *e, crm_lua_rule *r, const eval_src *s, bool fields,
                        crm_lua_outcome *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    out->reasons = fields ? json_array() : NULL;
    if (r->kind == CRM_LUA_HANDLER)
        return crm_err_set(err, CRM_EUSAGE, "rule %s is a handler: it runs on events", r->name);
    int64_t id = s->arg                ? 0
                 : s->src == SRC_ROW ? sqlite3_column_int64(s->row, 0)
                 : s->c              ? s->c->id
                                     : s->id;
    int rc = ready(e, r, out, id, err);
    if (rc != CRM_OK)
        return rc;
    lua_State *L = e->L;
    int top = lua_gettop(L);
    struct lua_contact *lc = NULL;
    if (s->arg)
        crm_lua_push_json(L, (json_t *)s->arg, 0);
    else
        lc = crm_lua_push_contact(L, e, s->src, s->id, s->row, s->c);
    if (!push_function(e, r, out)) {
        crm_lua_contact_expire(lc);
        lua_settop(L, top);
        return fail(out, err);
    }
    lua_pushvalue(L, top + 1);
    lua_call c;
    call_begin(e, &c, r, r->script, id);
    c.fields_read = fields ? json_array() : NULL;
    int status = protected_call(e, 1, 2);
    const char *bad = NULL;
    if (status != LUA_OK)
        out->cause = describe(e, &c, status, out->error, sizeof out->error);
    else if ((bad = take_result(L, r, top + 2, out)) != NULL) {
        out->cause = CRM_LUA_RUNTIME;
        char rec[48] = "";
        if (id)
            snprintf(rec, sizeof rec, ", contact %lld", (long long)id);
        snprintf(out->error, sizeof out->error, "rule %s: %s: %s: %s, got %s (cause: runtime%s)",
                 r->name, r->script->path, r->function, bad, luaL_typename(L, top + 2), rec);
    }
    out->fields_read = c.fields_read;
    call_end(e, &c);
    crm_lua_contact_expire(lc);
    lua_settop(L, top);
    return out->cause == CRM_LUA_OK ? CRM_OK : fail(out, err);
}

int crm_lua_eval(crm_lua_engine *e, crm_lua_rule *r, int64_t id, crm_lua_outcome *out,
                 crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(e->k->store, "SELECT 1 FROM contacts WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!found)
        return crm_err_set(err, CRM_ENOTFOUND, "no contact with id %lld", (long long)id);
    eval_src s = {SRC_ID, id, NULL, NULL, NULL};
    return eval_src_run(e, r, &s, true, out, err);
}

int crm_lua_eval_row(crm_lua_engine *e, crm_lua_rule *r, void *row, crm_lua_outcome *out,
                     crm_err *err)
{
    eval_src s = {SRC_ROW, 0, row, NULL, NULL};
    return eval_src_run(e, r, &s, false, out, err);
}

int crm_lua_eval_json(crm_lua_engine *e, crm_lua_rule *r, const json_t *arg,
                      crm_lua_outcome *out, crm_err *err)
{
    if (!json_is_object(arg))
        return crm_err_set(err, CRM_EUSAGE, "rule %s: the argument must be a JSON object",
                           crm_lua_rule_name(r));
    eval_src s = {SRC_ID, 0, NULL, NULL, arg};
    return eval_src_run(e, r, &s, true, out, err);
}

/* ---- validators ------------------------------------------------------------------ */

int crm_lua_validate_contact(crm_kernel *k, const crm_contact *c, crm_err *err)
{
    crm_lua_engine *e = k->lua;
    for (size_t i = 0; e && i < e->n_rules; i++) {
        crm_lua_rule *r = e->rules[i];
        if (r->kind != CRM_LUA_VALIDATOR)
            continue;
        crm_lua_outcome out;
        eval_src s = {SRC_STRUCT, c->id, NULL, c, NULL};
        int rc = eval_src_run(e, r, &s, false, &out, err);
        if (rc == CRM_OK && json_is_string(out.result))
            rc = crm_err_set(err, CRM_EINVAL, "%s (rule %s)", json_string_value(out.result),
                             r->name);
        crm_lua_outcome_clear(&out);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- handlers -------------------------------------------------------------------- */

static bool pattern_match(const char *pattern, const char *type)
{
    size_t n = strlen(pattern);
    if (strcmp(pattern, "*") == 0 || strcmp(pattern, type) == 0)
        return true;
    return n > 2 && strcmp(pattern + n - 2, ".*") == 0 && strncmp(pattern, type, n - 1) == 0;
}

/* The event as a table: its payload's fields plus type, event_id, source. */
static void push_event(lua_State *L, const crm_event *ev)
{
    json_t *p = ev->json ? json_incref(ev->json) : json_loads(ev->payload ? ev->payload : "{}", 0, NULL);
    if (json_is_object(p))
        crm_lua_push_json(L, p, 0);
    else
        lua_newtable(L);
    json_decref(p);
    lua_pushstring(L, ev->type);
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, ev->id);
    lua_setfield(L, -2, "event_id");
    lua_pushstring(L, ev->source ? ev->source : "kernel");
    lua_setfield(L, -2, "source");
}

static int run_handler(crm_lua_engine *e, crm_lua_rule *r, const crm_event *ev, crm_err *err)
{
    lua_State *L = e->L;
    int top = lua_gettop(L);
    lua_call c;
    call_begin(e, &c, r, r->script, 0);
    c.writes = true;
    push_event(L, ev);
    lua_pushvalue(L, top);  /* the handler function */
    lua_pushvalue(L, -2);
    int status = protected_call(e, 1, 0);
    int rc = CRM_OK;
    if (status != LUA_OK) {
        char msg[1024];
        describe(e, &c, status, msg, sizeof msg);
        rc = crm_err_set(err, CRM_ESCRIPT, "%s (event %s #%lld)", msg, ev->type,
                         (long long)ev->id);
    }
    call_end(e, &c);
    lua_settop(L, top);
    return rc;
}

static int dispatch_rule(crm_lua_engine *e, crm_lua_rule *r, const crm_event *ev, crm_err *err)
{
    int rc = ready(e, r, NULL, 0, err);
    if (rc != CRM_OK || r->handlers_ref == LUA_NOREF)
        return rc;
    lua_State *L = e->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->handlers_ref);
    int list = lua_gettop(L);
    for (lua_Integer i = 1; rc == CRM_OK && lua_rawgeti(L, list, i) == LUA_TTABLE; i++) {
        lua_rawgeti(L, -1, 1);
        bool match = pattern_match(lua_tostring(L, -1), ev->type);
        lua_rawgeti(L, -2, 2);
        if (match)
            rc = run_handler(e, r, ev, err);
        lua_settop(L, list);
    }
    lua_settop(L, top);
    return rc;
}

int crm_lua_dispatch(crm_kernel *k, const crm_event *ev, crm_err *err)
{
    crm_lua_engine *e = k->lua;
    int rc = CRM_OK;
    for (size_t i = 0; e && rc == CRM_OK && i < e->n_rules; i++)
        if (e->rules[i]->kind == CRM_LUA_HANDLER)
            rc = dispatch_rule(e, e->rules[i], ev, err);
    return rc;
}

int crm_lua_dispatch_rule(crm_lua_engine *e, crm_lua_rule *r, const crm_event *ev, crm_err *err)
{
    return dispatch_rule(e, r, ev, err);
}

static int bus_handler(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    return k->lua ? dispatch_rule(k->lua, ud, ev, err) : CRM_OK;
}

/* ---- check ------------------------------------------------------------------------- */

int crm_lua_check_file(crm_lua_engine *e, const char *path, crm_err *err)
{
    int rc = ensure_state(e, err);
    if (rc != CRM_OK)
        return rc;
    lua_script tmp = {.path = (char *)path, .env_ref = LUA_NOREF};
    int env_ref = LUA_NOREF;
    crm_lua_cause cause = run_chunk(e, &tmp, &env_ref, tmp.error, sizeof tmp.error);
    luaL_unref(e->L, LUA_REGISTRYINDEX, env_ref);
    if (cause == CRM_LUA_OK)
        return CRM_OK;
    tmp.cause = cause;
    char msg[1200];
    script_error_text(&tmp, 0, msg, sizeof msg);
    return crm_err_set(err, CRM_ESCRIPT, "%s", msg);
}

size_t crm_lua_configured_scripts(crm_lua_engine *e, const char **paths, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n_rules && i < e->k->cfg->n_rules; i++) {
        const char *p = e->rules[i]->script->path;
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen = seen || strcmp(paths[j], p) == 0;
        if (!seen && n < max)
            paths[n++] = p;
    }
    return n;
}

int crm_lua_check_rule(crm_lua_engine *e, size_t i, crm_err *err)
{
    if (i >= e->n_rules || i >= e->k->cfg->n_rules)
        return CRM_ENOTFOUND;
    crm_lua_rule *r = e->rules[i];
    crm_lua_outcome out = {0};
    int rc = ready(e, r, &out, 0, err);
    if (rc == CRM_OK && !push_function(e, r, &out))
        rc = crm_err_set(err, CRM_ESCRIPT, "%s", out.error);
    else if (rc == CRM_OK)
        lua_pop(e->L, 1);
    return rc;
}

/* ---- attach ---------------------------------------------------------------------- */

static void engine_free(crm_lua_engine *e)
{
    crm_lua_scan_end(e);
    if (e->L)
        lua_close(e->L);
    for (size_t i = 0; i < e->n_rules; i++) {
        free(e->rules[i]->name);
        free(e->rules[i]->function);
        free(e->rules[i]);
    }
    for (size_t i = 0; i < e->n_scripts; i++) {
        free(e->scripts[i]->path);
        free(e->scripts[i]);
    }
    free(e->rules);
    free(e->scripts);
    free(e);
}

static int add_configured(crm_lua_engine *e, crm_err *err)
{
    const crm_config *cfg = e->k->cfg;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const crm_rule_config *rc = &cfg->rules[i];
        if (!rule_add(e, rc->name, kind_of(rc->kind), rc->script, rc->function))
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return CRM_OK;
}

/* Loads validator and handler rules now (they run without being asked) and
 * subscribes handlers. Load errors stay with the rule. */
static int prepare_active_rules(crm_lua_engine *e, crm_err *err)
{
    for (size_t i = 0; i < e->n_rules; i++) {
        crm_lua_rule *r = e->rules[i];
        if (r->kind != CRM_LUA_VALIDATOR && r->kind != CRM_LUA_HANDLER)
            continue;
        crm_err ignored = {0};
        if (ready(e, r, NULL, 0, &ignored) != CRM_OK && ignored.code != CRM_ESCRIPT)
            return crm_err_set(err, ignored.code, "%s", ignored.msg);
        if (r->kind != CRM_LUA_HANDLER || !e->k->bus)
            continue;
        char name[300];
        snprintf(name, sizeof name, "lua:%s", r->name);
        int rc = crm_bus_subscribe(e->k, name, "*", false, bus_handler, r, "kernel", err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* What the engine installs on the kernel: the model runs it before writes. */
static const crm_validators lua_validators = {.contact = crm_lua_validate_contact};

int crm_lua_attach(crm_kernel *k, crm_err *err)
{
    crm_lua_engine *e = calloc(1, sizeof *e);
    if (!e)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    e->k = k;
    e->limits = true;
    e->mem_max = (size_t)k->cfg->lua.max_memory;
    e->max_instructions = k->cfg->lua.max_instructions;
    e->reload_ms = 1000;
    e->template_ref = LUA_NOREF;
    e->log = stderr_log;
    int rc = add_configured(e, err);
    if (rc == CRM_OK) {
        k->lua = e;
        k->validators = &lua_validators;
        rc = prepare_active_rules(e, err);
        if (rc == CRM_OK)
            rc = crm_lua_timers_wire(e, err);
    }
    if (rc != CRM_OK) {
        if (k->validators == &lua_validators)
            k->validators = NULL;
        crm_lua_timers_unwire(e);
        k->lua = NULL;
        engine_free(e);
    }
    return rc;
}

void crm_lua_detach(crm_kernel *k)
{
    if (!k || !k->lua)
        return;
    if (k->validators == &lua_validators)
        k->validators = NULL;
    crm_lua_timers_unwire(k->lua);
    engine_free(k->lua);
    k->lua = NULL;
}

/* string.find, match, gmatch and gsub with Lua 5.4 pattern semantics and a
 * bounded amount of work.
 *
 * The stock matcher runs inside one C call, where the instruction hook never
 * fires: a pathological pattern (".-.-.-x" over a long subject) would run for
 * hours. This matcher counts its steps against the call's instruction budget
 * (one step = one instruction) and aborts with cause `instructions` when it
 * is spent. Inputs are capped too: patterns over CRM_LUA_MAX_PATTERN bytes
 * and subjects over CRM_LUA_MAX_SUBJECT bytes are refused (`blocked`). */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "lua/lua_int.h"

#define MAX_DEPTH 200
#define MAX_CAPTURES 32
#define CAP_OPEN (-1)
#define CAP_POS (-2)
#define SPECIALS "^$*+?.([%-"

typedef struct mstate {
    lua_State *L;
    const char *src, *src_end, *p_end;
    int level, depth;
    struct {
        const char *init;
        ptrdiff_t len;
    } cap[MAX_CAPTURES];
    int64_t steps, start_steps;
    bool limited;
} mstate;

static const char *do_match(mstate *ms, const char *s, const char *p);

/* ---- budget ----------------------------------------------------------------- */

static void ms_begin(mstate *ms, lua_State *L, const char *s, size_t ls, const char *p,
                     size_t lp)
{
    crm_lua_engine *e = crm_lua_engine_of(L);
    ms->L = L;
    ms->src = s;
    ms->src_end = s + ls;
    ms->p_end = p + lp;
    ms->limited = e->limits && e->call;
    ms->steps = ms->limited ? e->call->ticks_left * CRM_LUA_TICK : INT64_MAX;
    ms->start_steps = ms->steps;
}

/* Charges the steps used to the call's budget. */
static void ms_end(mstate *ms)
{
    crm_lua_engine *e = crm_lua_engine_of(ms->L);
    if (ms->limited && e->call)
        e->call->ticks_left -= (ms->start_steps - ms->steps) / CRM_LUA_TICK;
}

static void step(mstate *ms)
{
    if (--ms->steps >= 0)
        return;
    crm_lua_engine *e = crm_lua_engine_of(ms->L);
    e->call->ticks_left = 0;
    crm_lua_abort(ms->L, CRM_LUA_INSTRUCTIONS,
                  "pattern matching exceeded the instruction budget of %lld",
                  (long long)e->max_instructions);
}

static void check_sizes(lua_State *L, const char *fn, size_t ls, size_t lp)
{
    char what[160];
    if (lp > CRM_LUA_MAX_PATTERN) {
        snprintf(what, sizeof what, "string.%s with a pattern of %zu bytes (limit %d)", fn, lp,
                 CRM_LUA_MAX_PATTERN);
        crm_lua_blocked(L, what);
    }
    if (ls > CRM_LUA_MAX_SUBJECT) {
        snprintf(what, sizeof what, "string.%s on a subject of %zu bytes (limit %d)", fn, ls,
                 CRM_LUA_MAX_SUBJECT);
        crm_lua_blocked(L, what);
    }
}

/* ---- single characters -------------------------------------------------- */

/* The end of the single-character class starting at p. */
static const char *class_end(mstate *ms, const char *p)
{
    if (*p == '%') {
        if (p + 1 >= ms->p_end)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 2;
    }
    if (*p != '[')
        return p + 1;
    p++;
    if (p < ms->p_end && *p == '^')
        p++;
    do {
        if (p >= ms->p_end)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*p++ == '%' && p < ms->p_end)
            p++;
    } while (p >= ms->p_end || *p != ']');
    return p + 1;
}

static bool match_class(int c, int cl)
{
    bool r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    default: return cl == c;
    }
    return isupper(cl) ? !r : r;
}

/* p at '[', ec at the closing ']'. */
static bool match_set(int c, const char *p, const char *ec)
{
    bool yes = true;
    if (*++p == '^') {
        yes = false;
        p++;
    }
    for (; p < ec; p++) {
        if (*p == '%' && p + 1 < ec) {
            if (match_class(c, (unsigned char)*++p))
                return yes;
        } else if (p + 2 < ec && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return yes;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return yes;
        }
    }
    return !yes;
}

static bool single_match(mstate *ms, const char *s, const char *p, const char *ep)
{
    if (s >= ms->src_end)
        return false;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return true;
    case '%': return match_class(c, (unsigned char)p[1]);
    case '[': return match_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- items ---------------------------------------------------------------- */

static const char *max_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (single_match(ms, s + i, p, ep)) {
        step(ms);
        i++;
    }
    for (; i >= 0; i--) {
        step(ms);
        const char *r = do_match(ms, s + i, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

static const char *min_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
    for (;; s++) {
        step(ms);
        const char *r = do_match(ms, s, ep + 1);
        if (r)
            return r;
        if (!single_match(ms, s, p, ep))
            return NULL;
    }
}

static const char *start_capture(mstate *ms, const char *s, const char *p, ptrdiff_t what)
{
    if (ms->level >= MAX_CAPTURES)
        luaL_error(ms->L, "too many captures");
    ms->cap[ms->level].init = s;
    ms->cap[ms->level].len = what;
    ms->level++;
    const char *r = do_match(ms, s, p);
    if (!r)
        ms->level--;
    return r;
}

static const char *end_capture(mstate *ms, const char *s, const char *p)
{
    int l = ms->level - 1;
    while (l >= 0 && ms->cap[l].len != CAP_OPEN)
        l--;
    if (l < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->cap[l].len = s - ms->cap[l].init;
    const char *r = do_match(ms, s, p);
    if (!r)
        ms->cap[l].len = CAP_OPEN;
    return r;
}

static const char *match_balance(mstate *ms, const char *s, const char *p)
{
    if (p + 1 >= ms->p_end)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != p[0])
        return NULL;
    int open = 1;
    while (++s < ms->src_end) {
        step(ms);
        if (*s == p[1] && --open == 0)
            return s + 1;
        if (*s == p[0] && p[0] != p[1])
            open++;
    }
    return NULL;
}

static int capture_index(mstate *ms, int l)
{
    l -= '1';
    if (l < 0 || l >= ms->level || ms->cap[l].len == CAP_OPEN)
        luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    return l;
}

static const char *match_capture(mstate *ms, const char *s, int l)
{
    l = capture_index(ms, l);
    ptrdiff_t len = ms->cap[l].len;
    if (len >= 0 && ms->src_end - s >= len && memcmp(ms->cap[l].init, s, (size_t)len) == 0)
        return s + len;
    return NULL;
}

static const char *frontier(mstate *ms, const char *s, const char *p)
{
    if (p >= ms->p_end || *p != '[')
        luaL_error(ms->L, "missing '[' after '%%f' in pattern");
    const char *ep = class_end(ms, p);
    int prev = s == ms->src ? 0 : (unsigned char)s[-1];
    int cur = s < ms->src_end ? (unsigned char)*s : 0;
    if (!match_set(prev, p, ep - 1) && match_set(cur, p, ep - 1))
        return ep;
    return NULL;
}

/* One single-character item with its optional quantifier. *p_next gets the
 * pattern position to continue from when the item consumed `*s_next`. */
static const char *match_item(mstate *ms, const char *s, const char *p, const char **s_next,
                              const char **p_next)
{
    const char *ep = class_end(ms, p);
    bool m = single_match(ms, s, p, ep);
    char q = ep < ms->p_end ? *ep : '\0';
    if (q == '?') {
        const char *r = m ? do_match(ms, s + 1, ep + 1) : NULL;
        if (r)
            return r;
        *s_next = s;
        *p_next = ep + 1;
        return NULL;
    }
    if (q == '+')
        return m ? max_expand(ms, s + 1, p, ep) : (*p_next = NULL, NULL);
    if (q == '*')
        return max_expand(ms, s, p, ep);
    if (q == '-')
        return min_expand(ms, s, p, ep);
    *s_next = m ? s + 1 : NULL;
    *p_next = m ? ep : NULL;
    return NULL;
}

static const char *do_match(mstate *ms, const char *s, const char *p)
{
    if (++ms->depth > MAX_DEPTH)
        luaL_error(ms->L, "pattern too complex");
    while (s && p < ms->p_end) {
        step(ms);
        if (*p == '(') {
            s = p + 1 < ms->p_end && p[1] == ')' ? start_capture(ms, s, p + 2, CAP_POS)
                                                 : start_capture(ms, s, p + 1, CAP_OPEN);
            break;
        }
        if (*p == ')') {
            s = end_capture(ms, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == ms->p_end) {
            s = s == ms->src_end ? s : NULL;
            break;
        }
        if (*p == '%' && p + 1 < ms->p_end && p[1] == 'b') {
            s = match_balance(ms, s, p + 2);
            p += 4;
            continue;
        }
        if (*p == '%' && p + 1 < ms->p_end && p[1] == 'f') {
            p = frontier(ms, s, p + 2);
            if (!p)
                s = NULL;
            continue;
        }
        if (*p == '%' && p + 1 < ms->p_end && isdigit((unsigned char)p[1])) {
            s = match_capture(ms, s, (unsigned char)p[1]);
            p += 2;
            continue;
        }
        const char *s_next = NULL, *p_next = NULL;
        const char *r = match_item(ms, s, p, &s_next, &p_next);
        if (r || !p_next) {
            s = r;
            break;
        }
        s = s_next;
        p = p_next;
    }
    ms->depth--;
    return s;
}

/* ---- captures ---------------------------------------------------------------- */

static void push_capture(mstate *ms, int i, const char *s, const char *e)
{
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t l = ms->cap[i].len;
    if (l == CAP_OPEN)
        luaL_error(ms->L, "unfinished capture");
    if (l == CAP_POS)
        lua_pushinteger(ms->L, (ms->cap[i].init - ms->src) + 1);
    else
        lua_pushlstring(ms->L, ms->cap[i].init, (size_t)l);
}

static int push_captures(mstate *ms, const char *s, const char *e)
{
    int n = ms->level == 0 && s ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(ms, i, s, e);
    return n;
}

static void reset(mstate *ms)
{
    ms->level = 0;
    ms->depth = 0;
}

/* ---- find, match ------------------------------------------------------------ */

static size_t start_index(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

/* memmem without _GNU_SOURCE. */
static const char *find_bytes(const char *h, size_t lh, const char *n, size_t ln)
{
    if (ln == 0)
        return h;
    while (ln <= lh) {
        const char *c = memchr(h, n[0], lh - ln + 1);
        if (!c)
            return NULL;
        if (memcmp(c, n, ln) == 0)
            return c;
        lh -= (size_t)(c - h) + 1;
        h = c + 1;
    }
    return NULL;
}

static int plain_find(lua_State *L, const char *s, size_t ls, const char *p, size_t lp,
                      size_t init)
{
    const char *hit = find_bytes(s + init - 1, ls - (init - 1), p, lp);
    if (!hit)
        return lua_pushnil(L), 1;
    lua_pushinteger(L, (hit - s) + 1);
    lua_pushinteger(L, (hit - s) + (lua_Integer)lp);
    return 2;
}

static int find_aux(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls);
    if (init > ls + 1)
        return lua_pushnil(L), 1;
    if (find && (lua_toboolean(L, 4) || !strpbrk(p, SPECIALS)))
        return plain_find(L, s, ls, p, lp, init);
    check_sizes(L, find ? "find" : "match", ls, lp);
    mstate ms;
    bool anchor = *p == '^';
    ms_begin(&ms, L, s, ls, p + anchor, lp - anchor);
    const char *s1 = s + init - 1;
    do {
        reset(&ms);
        const char *e = do_match(&ms, s1, p + anchor);
        if (e) {
            ms_end(&ms);
            if (!find)
                return push_captures(&ms, s1, e);
            lua_pushinteger(L, (s1 - s) + 1);
            lua_pushinteger(L, e - s);
            return push_captures(&ms, NULL, NULL) + 2;
        }
        step(&ms);
    } while (s1++ < ms.src_end && !anchor);
    ms_end(&ms);
    return lua_pushnil(L), 1;
}

static int str_find(lua_State *L) { return find_aux(L, true); }
static int str_match(lua_State *L) { return find_aux(L, false); }

/* ---- gmatch -------------------------------------------------------------------- */

typedef struct gm_state {
    size_t pos;        /* next start, 0-based */
    ptrdiff_t last;    /* end of the last match, -1 none */
} gm_state;

static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gm_state *g = lua_touserdata(L, lua_upvalueindex(3));
    mstate ms;
    ms_begin(&ms, L, s, ls, p, lp);
    for (const char *src = s + g->pos; src <= ms.src_end; src++) {
        reset(&ms);
        const char *e = do_match(&ms, src, p);
        if (e && e - s != g->last) {
            g->pos = (size_t)(e - s);
            g->last = e - s;
            ms_end(&ms);
            return push_captures(&ms, src, e);
        }
        step(&ms);
    }
    g->pos = ls + 1;
    ms_end(&ms);
    return 0;
}

static int str_gmatch(lua_State *L)
{
    size_t ls, lp;
    luaL_checklstring(L, 1, &ls);
    luaL_checklstring(L, 2, &lp);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls);
    check_sizes(L, "gmatch", ls, lp);
    lua_settop(L, 2);
    gm_state *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pos = init > ls + 1 ? ls + 1 : init - 1;
    g->last = -1;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* ---- gsub ------------------------------------------------------------------------- */

static void add_string_repl(mstate *ms, luaL_Buffer *b, const char *s, const char *e)
{
    size_t l;
    const char *r = lua_tolstring(ms->L, 3, &l);
    for (const char *end = r + l; r < end; r++) {
        if (*r != '%') {
            luaL_addchar(b, *r);
            continue;
        }
        r++;
        if (r < end && *r == '%') {
            luaL_addchar(b, '%');
        } else if (r < end && isdigit((unsigned char)*r)) {
            if (*r == '0')
                lua_pushlstring(ms->L, s, (size_t)(e - s));
            else
                push_capture(ms, *r - '1', s, e);
            luaL_tolstring(ms->L, -1, NULL);
            lua_remove(ms->L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(ms->L, "invalid use of '%%' in replacement string");
        }
    }
}

static void add_value(mstate *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = ms->L;
    if (tr == LUA_TSTRING || tr == LUA_TNUMBER) {
        add_string_repl(ms, b, s, e);
        return;
    }
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else {
        push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int str_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int tr = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                            tr == LUA_TTABLE, 3, "string/function/table");
    check_sizes(L, "gsub", ls, lp);
    bool anchor = *p == '^';
    mstate ms;
    ms_begin(&ms, L, src, ls, p + anchor, lp - anchor);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *last = NULL;
    lua_Integer n = 0;
    while (n < max_n) {
        reset(&ms);
        const char *e = do_match(&ms, src, p + anchor);
        if (e && e != last) {
            n++;
            add_value(&ms, &b, src, e, tr);
            src = last = e;
        } else if (src < ms.src_end) {
            step(&ms);
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    ms_end(&ms);
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void crm_lua_open_patterns(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub},
        {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}

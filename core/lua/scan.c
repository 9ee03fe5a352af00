/* A static scan of a script's text for uses of functions the sandbox blocks,
 * so `crm rules check` reports them with file:line even when they sit in a
 * function that loading the script does not run.
 *
 * A light tokenizer: comments and strings are skipped, and a name is only
 * considered when it is not a field (not preceded by '.' or ':'). Local
 * variables shadowing a library name are reported too (rare; harmless). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/lua_int.h"

typedef struct scanner {
    const char *p, *end;
    int line;
    char prev;  /* last significant character before the current token */
} scanner;

/* Libraries blocked as a whole, and single blocked functions. */
static const char *const blocked_libs[] = {"io", "debug", "package", NULL};
static const char *const blocked_fns[] = {"dofile", "loadfile", "collectgarbage", "warn",
                                          NULL};
static const char *const os_allowed[] = {"time", "date", "clock", NULL};

static bool in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static void advance(scanner *s, size_t n)
{
    for (size_t i = 0; i < n && s->p < s->end; i++)
        if (*s->p++ == '\n')
            s->line++;
}

/* At "[" of a long bracket: its level (count of '='), or -1 when not one. */
static int long_level(const scanner *s)
{
    const char *q = s->p + 1;
    int level = 0;
    while (q < s->end && *q == '=')
        q++, level++;
    return q < s->end && *q == '[' ? level : -1;
}

static void skip_long(scanner *s, int level)
{
    advance(s, (size_t)level + 2);
    while (s->p < s->end) {
        if (*s->p == ']') {
            const char *q = s->p + 1;
            int l = 0;
            while (q < s->end && *q == '=')
                q++, l++;
            if (l == level && q < s->end && *q == ']') {
                advance(s, (size_t)level + 2);
                return;
            }
        }
        advance(s, 1);
    }
}

static void skip_quoted(scanner *s)
{
    char q = *s->p;
    advance(s, 1);
    while (s->p < s->end && *s->p != q && *s->p != '\n') {
        if (*s->p == '\\')
            advance(s, 1);
        advance(s, 1);
    }
    advance(s, 1);
}

/* Skips a comment or string at p; true when something was skipped. */
static bool skip_noise(scanner *s)
{
    if (s->p + 1 < s->end && s->p[0] == '-' && s->p[1] == '-') {
        advance(s, 2);
        int level = s->p < s->end && *s->p == '[' ? long_level(s) : -1;
        if (level >= 0)
            skip_long(s, level);
        else
            while (s->p < s->end && *s->p != '\n')
                advance(s, 1);
        return true;
    }
    if (*s->p == '"' || *s->p == '\'') {
        skip_quoted(s);
        s->prev = '"';
        return true;
    }
    if (*s->p == '[' && long_level(s) >= 0) {
        skip_long(s, long_level(s));
        s->prev = '"';
        return true;
    }
    return false;
}

static size_t read_name(const scanner *s, const char *at, char *out, size_t size)
{
    size_t n = 0;
    while (at + n < s->end && (isalnum((unsigned char)at[n]) || at[n] == '_'))
        n++;
    snprintf(out, size, "%.*s", (int)n, at);
    return n;
}

/* After a name: ".field" or ":method" gives the member, else "". */
static void member_after(const scanner *s, const char *at, char *out, size_t size)
{
    while (at < s->end && (*at == ' ' || *at == '\t'))
        at++;
    out[0] = '\0';
    if (at < s->end && (*at == '.' || *at == ':') && at + 1 < s->end && at[1] != '.')
        read_name(s, at + 1, out, size);
}

/* require "x" / require("x"): the module name, or "". */
static void require_arg(const scanner *s, const char *at, char *out, size_t size)
{
    while (at < s->end && (*at == ' ' || *at == '(' || *at == '\t'))
        at++;
    out[0] = '\0';
    if (at < s->end && (*at == '"' || *at == '\'')) {
        const char *close = memchr(at + 1, *at, (size_t)(s->end - at - 1));
        if (close)
            snprintf(out, size, "%.*s", (int)(close - at - 1), at + 1);
    }
}

/* The blocked use named by `name` (+member) or NULL. */
static const char *verdict(const scanner *s, const char *name, const char *after, char *buf,
                           size_t size)
{
    char member[64];
    member_after(s, after, member, sizeof member);
    if (in(name, blocked_libs) || in(name, blocked_fns) ||
        (strcmp(name, "os") == 0 && *member && !in(member, os_allowed)) ||
        (strcmp(name, "string") == 0 && strcmp(member, "dump") == 0)) {
        snprintf(buf, size, "%s%s%s", name, *member ? "." : "", member);
        return buf;
    }
    if (strcmp(name, "require") == 0) {
        char mod[64];
        require_arg(s, after, mod, sizeof mod);
        if (*mod && strcmp(mod, "crm") != 0 && strncmp(mod, "crm.", 4) != 0) {
            snprintf(buf, size, "require \"%s\" (only crm.* modules)", mod);
            return buf;
        }
    }
    return NULL;
}

int crm_lua_scan_blocked(const char *path, void (*fn)(int line, const char *what, void *ud),
                         void *ud)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static const size_t max = 4 << 20;
    char *text = malloc(max);
    size_t len = text ? fread(text, 1, max, f) : 0;
    fclose(f);
    if (!text)
        return -1;
    scanner s = {text, text + len, 1, ' '};
    int found = 0;
    while (s.p < s.end) {
        if (skip_noise(&s))
            continue;
        if (isalpha((unsigned char)*s.p) || *s.p == '_') {
            char name[64], buf[128];
            size_t n = read_name(&s, s.p, name, sizeof name);
            const char *what = s.prev != '.' && s.prev != ':'
                                   ? verdict(&s, name, s.p + n, buf, sizeof buf)
                                   : NULL;
            if (what) {
                fn(s.line, what, ud);
                found++;
            }
            advance(&s, n);
            s.prev = 'a';
            continue;
        }
        if (!isspace((unsigned char)*s.p))
            s.prev = *s.p;
        advance(&s, 1);
    }
    free(text);
    return found;
}

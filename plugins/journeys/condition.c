/* journeys plugin — declarative conditions (condition.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"

typedef enum { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE } cond_op;

static const struct {
    const char *text;
    cond_op op;
} ops[] = {{">=", OP_GE}, {"<=", OP_LE}, {"!=", OP_NE}, {"=", OP_EQ}, {">", OP_GT}, {"<", OP_LT}};

typedef struct clause {
    char name[64];
    cond_op op;
    char value[128];
} clause;

static const char *skip_ws(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* Reads one clause at *p; advances past it and a following "and". */
static int read_clause(const char **p, clause *c, char *err, size_t size)
{
    const char *s = skip_ws(*p), *n = s;
    while (isalnum((unsigned char)*n) || *n == '_' || *n == '.')
        n++;
    if (n == s || (size_t)(n - s) >= sizeof c->name) {
        snprintf(err, size, "expected a fact name at '%s'", s);
        return -1;
    }
    snprintf(c->name, sizeof c->name, "%.*s", (int)(n - s), s);
    s = skip_ws(n);
    size_t i = 0;
    while (i < sizeof ops / sizeof ops[0] && strncmp(s, ops[i].text, strlen(ops[i].text)) != 0)
        i++;
    if (i == sizeof ops / sizeof ops[0]) {
        snprintf(err, size, "expected =, !=, >, >=, < or <= after '%s'", c->name);
        return -1;
    }
    c->op = ops[i].op;
    s = skip_ws(s + strlen(ops[i].text));
    const char *v = s;
    if (*s == '"') {
        const char *q = strchr(s + 1, '"');
        if (!q) {
            snprintf(err, size, "unterminated quoted value after '%s'", c->name);
            return -1;
        }
        snprintf(c->value, sizeof c->value, "%.*s", (int)(q - s - 1), s + 1);
        s = q + 1;
    } else {
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (s == v) {
            snprintf(err, size, "expected a value after '%s'", c->name);
            return -1;
        }
        snprintf(c->value, sizeof c->value, "%.*s", (int)(s - v), v);
    }
    s = skip_ws(s);
    if (strncmp(s, "and", 3) == 0 && isspace((unsigned char)s[3]))
        s = skip_ws(s + 3);
    else if (*s) {
        snprintf(err, size, "expected 'and' or the end at '%s'", s);
        return -1;
    }
    *p = s;
    return 0;
}

static bool as_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return *s && !*end && !errno;
}

static bool compare(cond_op op, int c)
{
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    }
    return false;
}

/* A fact by dotted name ("payload.value" or "value"). */
static const json_t *fact(const json_t *facts, const char *name)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", name);
    const json_t *v = facts;
    for (char *part = strtok(buf, "."); part && v; part = strtok(NULL, "."))
        v = json_object_get(v, part);
    return v;
}

static bool holds(const clause *c, const json_t *facts)
{
    const json_t *v = fact(facts, c->name);
    if (!v || json_is_null(v))
        return c->op == OP_NE;
    long long want;
    if (json_is_integer(v) && as_int(c->value, &want)) {
        long long have = json_integer_value(v);
        return compare(c->op, have < want ? -1 : have > want);
    }
    if (json_is_boolean(v))
        return compare(c->op, strcmp(json_is_true(v) ? "true" : "false", c->value));
    if (json_is_string(v))
        return compare(c->op, strcmp(json_string_value(v), c->value));
    return false;
}

int jrn_cond_check(const char *cond, char *err, size_t size)
{
    const char *p = cond ? cond : "";
    clause c;
    while (*skip_ws(p))
        if (read_clause(&p, &c, err, size) != 0)
            return -1;
    return 0;
}

bool jrn_cond_eval(const char *cond, const json_t *facts)
{
    const char *p = cond ? cond : "";
    clause c;
    char err[128];
    while (*skip_ws(p)) {
        if (read_clause(&p, &c, err, sizeof err) != 0 || !holds(&c, facts))
            return false;
    }
    return true;
}

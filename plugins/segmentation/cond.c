/* segmentation plugin — declarative conditions to SQL. */
#include "cond.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *src, *p;
    seg_cond *out;
    char *err;
    size_t errsize;
    int failed;
} parser;

static void fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errsize, "condition \"%s\", at character %d: %s", ps->src,
             (int)(ps->p - ps->src) + 1, msg);
}

static void skip(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static int word(parser *ps, char *buf, size_t size)
{
    skip(ps);
    size_t n = 0;
    while (isalnum((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '.' || *ps->p == '-') {
        if (n + 1 < size)
            buf[n++] = *ps->p;
        ps->p++;
    }
    buf[n] = 0;
    return n > 0;
}

static int keyword(parser *ps, const char *kw)
{
    skip(ps);
    size_t n = strlen(kw);
    if (strncasecmp(ps->p, kw, n) == 0 && !isalnum((unsigned char)ps->p[n]) && ps->p[n] != '_') {
        ps->p += n;
        return 1;
    }
    return 0;
}

static void cat(char *dst, size_t size, const char *fmt, ...)
{
    size_t len = strlen(dst);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + len, size - len, fmt, ap);
    va_end(ap);
}

static int is_ident(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static int is_number(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* value as an SQL literal: digits as they are, text quoted with '' doubled */
static void literal(const char *v, char *buf, size_t size)
{
    if (is_number(v)) {
        snprintf(buf, size, "%s", v);
        return;
    }
    size_t n = 0;
    if (size < 3) {
        buf[0] = 0;
        return;
    }
    buf[n++] = '\'';
    for (; *v && n + 3 < size; v++) {
        if (*v == '\'')
            buf[n++] = '\'';
        buf[n++] = *v;
    }
    buf[n++] = '\'';
    buf[n] = 0;
}

static const char *const qualifying =
    "o.contact_id = c.id AND o.status IN ('placed','paid') AND o.placed_at < ?1";

/* Parses N from "<prefix>_<N>d". */
static int days_field(const char *f, const char *prefix, long *days)
{
    size_t n = strlen(prefix);
    if (strncmp(f, prefix, n) != 0)
        return 0;
    char *end;
    long v = strtol(f + n, &end, 10);
    if (end == f + n || strcmp(end, "d") != 0 || v <= 0 || v > 100000)
        return 0;
    *days = v;
    return 1;
}

static void term(parser *ps, char *sql, size_t size)
{
    const char *start;
    skip(ps);
    start = ps->p;
    char field[96], op[3] = {0}, value[96], lit[256], expr[768];
    if (!word(ps, field, sizeof field)) {
        fail(ps, "expected a field name (frequency, tag, orders_90d, custom.NAME...)");
        return;
    }
    skip(ps);
    if (ps->p[0] == '!' && ps->p[1] == '=')
        strcpy(op, "!="), ps->p += 2;
    else if ((ps->p[0] == '>' || ps->p[0] == '<') && ps->p[1] == '=')
        op[0] = ps->p[0], op[1] = '=', ps->p += 2;
    else if (ps->p[0] == '=' || ps->p[0] == '>' || ps->p[0] == '<')
        op[0] = *ps->p++;
    else {
        fail(ps, "expected an operator (= != > >= < <=) after \"%s\"", field);
        return;
    }
    skip(ps);
    if (*ps->p == '\'' || *ps->p == '"') {
        char q = *ps->p++;
        size_t n = 0;
        while (*ps->p && *ps->p != q) {
            if (n + 1 < sizeof value)
                value[n++] = *ps->p;
            ps->p++;
        }
        value[n] = 0;
        if (*ps->p != q) {
            fail(ps, "unterminated quoted value");
            return;
        }
        ps->p++;
    } else if (!word(ps, value, sizeof value)) {
        fail(ps, "expected a value after \"%s %s\"", field, op);
        return;
    }
    literal(value, lit, sizeof lit);
    int eq_only = 0;
    long days;
    char a[64], b[64];
    if (!strcmp(field, "recency_days") || !strcmp(field, "frequency") ||
        !strcmp(field, "monetary") || !strcmp(field, "r") || !strcmp(field, "f") ||
        !strcmp(field, "m")) {
        if (!is_number(value)) {
            fail(ps, "%s compares with a whole number, not \"%s\"", field, value);
            return;
        }
        snprintf(expr, sizeof expr, "r.%s %s %s", field, op, lit);
    } else if (!strcmp(field, "rfm_segment")) {
        snprintf(expr, sizeof expr, "r.segment %s %s", op, lit);
    } else if (days_field(field, "orders_", &days)) {
        if (!is_number(value)) {
            fail(ps, "%s compares with a whole number", field);
            return;
        }
        snprintf(expr, sizeof expr,
                 "(SELECT count(*) FROM orders o WHERE %s AND o.placed_at >= ?1 - %ld) %s %s",
                 qualifying, days * 86400, op, lit);
    } else if (days_field(field, "interactions_", &days)) {
        if (!is_number(value)) {
            fail(ps, "%s compares with a whole number", field);
            return;
        }
        snprintf(expr, sizeof expr,
                 "(SELECT count(*) FROM interactions i WHERE i.contact_id = c.id AND "
                 "i.occurred_at < ?1 AND i.occurred_at >= ?1 - %ld) %s %s",
                 days * 86400, op, lit);
    } else if (!strcmp(field, "days_since_last_order")) {
        if (!is_number(value)) {
            fail(ps, "%s compares with a whole number", field);
            return;
        }
        snprintf(expr, sizeof expr,
                 "(?1 - (SELECT max(o.placed_at) FROM orders o WHERE %s)) / 86400 %s %s",
                 qualifying, op, lit);
    } else if (!strcmp(field, "churn_score")) {
        snprintf(expr, sizeof expr,
                 "(SELECT s.score FROM segmentation_churn s WHERE s.contact_id = c.id) %s %s",
                 op, lit);
    } else if (!strcmp(field, "tag")) {
        eq_only = 1;
        snprintf(expr, sizeof expr,
                 "%sEXISTS(SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = %s)",
                 op[0] == '!' ? "NOT " : "", lit);
    } else if (!strcmp(field, "segment")) {
        eq_only = 1;
        snprintf(expr, sizeof expr,
                 "%sEXISTS(SELECT 1 FROM segmentation_members sm WHERE sm.contact_id = c.id "
                 "AND sm.segment = %s AND sm.left_at IS NULL)",
                 op[0] == '!' ? "NOT " : "", lit);
    } else if (!strncmp(field, "custom.", 7) && is_ident(field + 7)) {
        snprintf(expr, sizeof expr,
                 "%s(SELECT v.value FROM custom_values v WHERE v.entity = 'contact' AND "
                 "v.entity_id = c.id AND v.name = '%s')%s %s %s",
                 is_number(value) ? "CAST(" : "", field + 7, is_number(value) ? " AS INTEGER)" : "",
                 op, lit);
    } else if (!strncmp(field, "consent.", 8) && sscanf(field + 8, "%63[a-z0-9_].%63[a-z0-9_]", a, b) == 2 &&
               strlen(field) == 9 + strlen(a) + strlen(b)) {
        eq_only = 1;
        if (strcmp(value, "granted") && strcmp(value, "withdrawn")) {
            fail(ps, "%s is granted or withdrawn, not \"%s\"", field, value);
            return;
        }
        snprintf(expr, sizeof expr,
                 "COALESCE((SELECT k.status FROM consents k WHERE k.contact_id = c.id AND "
                 "k.channel = '%s' AND k.purpose = '%s' AND k.recorded_at < ?1 ORDER BY "
                 "k.recorded_at DESC, k.id DESC LIMIT 1), '') %s %s",
                 a, b, op[0] == '!' ? "<>" : "=", lit);
    } else if (!strcmp(field, "lifecycle_stage") || !strcmp(field, "country") ||
               !strcmp(field, "city") || !strcmp(field, "source")) {
        snprintf(expr, sizeof expr, "c.%s %s %s", field, op, lit);
    } else {
        fail(ps, "unknown field \"%s\" (expected recency_days, frequency, monetary, r, f, m, "
                 "rfm_segment, orders_<N>d, interactions_<N>d, days_since_last_order, "
                 "churn_score, tag, segment, custom.<name>, consent.<channel>.<purpose>, "
                 "lifecycle_stage, country, city, source)", field);
        return;
    }
    if (eq_only && strcmp(op, "=") && strcmp(op, "!=")) {
        fail(ps, "%s takes = or != only", field);
        return;
    }
    /* "!=" is fine in SQLite but <> is the shared spelling */
    char *ne = strstr(expr, " != ");
    if (ne)
        memcpy(ne, " <> ", 4);
    cat(sql, size, "(%s)", expr);
    seg_cond *o = ps->out;
    if (o->nterms >= SEG_COND_MAX_TERMS) {
        fail(ps, "more than %d terms", SEG_COND_MAX_TERMS);
        return;
    }
    size_t len = (size_t)(ps->p - start);
    if (len >= sizeof o->term_text[0])
        len = sizeof o->term_text[0] - 1;
    memcpy(o->term_text[o->nterms], start, len);
    o->term_text[o->nterms][len] = 0;
    snprintf(o->term_sql[o->nterms], sizeof o->term_sql[0], "(%s)", expr);
    o->nterms++;
}

static void or_list(parser *ps, char *sql, size_t size, int depth);

static void primary(parser *ps, char *sql, size_t size, int depth)
{
    skip(ps);
    if (*ps->p == '(') {
        if (depth > 16) {
            fail(ps, "parentheses nested too deep");
            return;
        }
        ps->p++;
        cat(sql, size, "(");
        or_list(ps, sql, size, depth + 1);
        skip(ps);
        if (*ps->p != ')') {
            fail(ps, "expected ')'");
            return;
        }
        ps->p++;
        cat(sql, size, ")");
    } else {
        term(ps, sql, size);
    }
}

static void and_list(parser *ps, char *sql, size_t size, int depth)
{
    primary(ps, sql, size, depth);
    while (!ps->failed && keyword(ps, "and")) {
        cat(sql, size, " AND ");
        primary(ps, sql, size, depth);
    }
}

static void or_list(parser *ps, char *sql, size_t size, int depth)
{
    and_list(ps, sql, size, depth);
    while (!ps->failed && keyword(ps, "or")) {
        cat(sql, size, " OR ");
        and_list(ps, sql, size, depth);
    }
}

int seg_cond_compile(const char *text, seg_cond *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    parser ps = {text, text, out, err, errsize, 0};
    or_list(&ps, out->sql, sizeof out->sql, 0);
    skip(&ps);
    if (!ps.failed && *ps.p)
        fail(&ps, "expected 'and', 'or' or the end, found \"%s\"", ps.p);
    if (!ps.failed && strlen(out->sql) + 1 >= sizeof out->sql)
        fail(&ps, "condition too long");
    return ps.failed ? -1 : 0;
}

/* segmentation plugin — declarative conditions compiled to SQL, driven by
 * two tables: the operators (spelling -> SQL) and the fields (name or
 * prefix, checks, SQL builder). Pure: no SDK, no database. */
#include "condition.h"

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

/* ---- the operator table --------------------------------------------------
 * Longest spelling first, so ">=" is not read as ">" then "=". The SQL is
 * written straight from the table: nothing is rewritten afterwards, so a
 * quoted value containing an operator ('a != b') stays as written. */
static const seg_cond_op ops[] = {
    {">=", ">="}, {"<=", "<="}, {"!=", "<>"}, {"=", "="}, {">", ">"}, {"<", "<"},
};

const seg_cond_op *seg_cond_ops(size_t *n)
{
    *n = sizeof ops / sizeof ops[0];
    return ops;
}

static const seg_cond_op *read_op(parser *ps)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (!strncmp(ps->p, ops[i].text, n)) {
            ps->p += n;
            return &ops[i];
        }
    }
    return NULL;
}

/* ---- the field table ----------------------------------------------------- */

/* What one term knows when its SQL is built. */
typedef struct term_in {
    const char *field;     /* as written */
    const seg_cond_op *op;
    const char *value;     /* unquoted */
    const char *lit;       /* as an SQL literal */
    long days;             /* DAYS fields: N of <prefix>_<N>d */
    char a[64], b[64];     /* CONSENT: channel, purpose; CUSTOM: a = the name */
} term_in;

typedef void (*term_sql_fn)(const term_in *t, char *expr, size_t size);

enum { MATCH_EXACT, MATCH_DAYS, MATCH_CUSTOM, MATCH_CONSENT };
enum { F_NUMBER = 1, F_EQ_ONLY = 2, F_STATUS = 4 };

typedef struct cond_field {
    const char *name; /* exact, or the prefix of DAYS/CUSTOM/CONSENT */
    int match;
    unsigned flags;
    term_sql_fn sql;
} cond_field;

static void sql_rfm(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "r.%s %s %s", t->field, t->op->sql, t->lit);
}
static void sql_rfm_segment(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "r.segment %s %s", t->op->sql, t->lit);
}
static void sql_orders(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "(SELECT count(*) FROM orders o WHERE %s AND o.placed_at >= ?1 - %ld) %s %s",
             qualifying, t->days * 86400, t->op->sql, t->lit);
}
static void sql_interactions(const term_in *t, char *e, size_t n)
{
    snprintf(e, n,
             "(SELECT count(*) FROM interactions i WHERE i.contact_id = c.id AND "
             "i.occurred_at < ?1 AND i.occurred_at >= ?1 - %ld) %s %s",
             t->days * 86400, t->op->sql, t->lit);
}
static void sql_days_since(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "(?1 - (SELECT max(o.placed_at) FROM orders o WHERE %s)) / 86400 %s %s",
             qualifying, t->op->sql, t->lit);
}
static void sql_churn(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "(SELECT s.score FROM segmentation_churn s WHERE s.contact_id = c.id) %s %s",
             t->op->sql, t->lit);
}
static void sql_tag(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "%sEXISTS(SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = %s)",
             t->op->text[0] == '!' ? "NOT " : "", t->lit);
}
static void sql_segment(const term_in *t, char *e, size_t n)
{
    snprintf(e, n,
             "%sEXISTS(SELECT 1 FROM segmentation_members sm WHERE sm.contact_id = c.id "
             "AND sm.segment = %s AND sm.left_at IS NULL)",
             t->op->text[0] == '!' ? "NOT " : "", t->lit);
}
static void sql_custom(const term_in *t, char *e, size_t n)
{
    int num = is_number(t->value);
    snprintf(e, n,
             "%s(SELECT v.value FROM custom_values v WHERE v.entity = 'contact' AND "
             "v.entity_id = c.id AND v.name = '%s')%s %s %s",
             num ? "CAST(" : "", t->a, num ? " AS INTEGER)" : "", t->op->sql, t->lit);
}
static void sql_consent(const term_in *t, char *e, size_t n)
{
    snprintf(e, n,
             "COALESCE((SELECT k.status FROM consents k WHERE k.contact_id = c.id AND "
             "k.channel = '%s' AND k.purpose = '%s' AND k.recorded_at < ?1 ORDER BY "
             "k.recorded_at DESC, k.id DESC LIMIT 1), '') %s %s",
             t->a, t->b, t->op->sql, t->lit);
}
static void sql_contact(const term_in *t, char *e, size_t n)
{
    snprintf(e, n, "c.%s %s %s", t->field, t->op->sql, t->lit);
}

static const cond_field fields[] = {
    {"recency_days", MATCH_EXACT, F_NUMBER, sql_rfm},
    {"frequency", MATCH_EXACT, F_NUMBER, sql_rfm},
    {"monetary", MATCH_EXACT, F_NUMBER, sql_rfm},
    {"r", MATCH_EXACT, F_NUMBER, sql_rfm},
    {"f", MATCH_EXACT, F_NUMBER, sql_rfm},
    {"m", MATCH_EXACT, F_NUMBER, sql_rfm},
    {"rfm_segment", MATCH_EXACT, 0, sql_rfm_segment},
    {"orders_", MATCH_DAYS, F_NUMBER, sql_orders},
    {"interactions_", MATCH_DAYS, F_NUMBER, sql_interactions},
    {"days_since_last_order", MATCH_EXACT, F_NUMBER, sql_days_since},
    {"churn_score", MATCH_EXACT, 0, sql_churn},
    {"tag", MATCH_EXACT, F_EQ_ONLY, sql_tag},
    {"segment", MATCH_EXACT, F_EQ_ONLY, sql_segment},
    {"custom.", MATCH_CUSTOM, 0, sql_custom},
    {"consent.", MATCH_CONSENT, F_EQ_ONLY | F_STATUS, sql_consent},
    {"lifecycle_stage", MATCH_EXACT, 0, sql_contact},
    {"country", MATCH_EXACT, 0, sql_contact},
    {"city", MATCH_EXACT, 0, sql_contact},
    {"source", MATCH_EXACT, 0, sql_contact},
};

size_t seg_cond_field_count(void)
{
    return sizeof fields / sizeof fields[0];
}

const char *seg_cond_field_name(size_t i)
{
    return i < sizeof fields / sizeof fields[0] ? fields[i].name : NULL;
}

/* The field row `name` matches, filling t's days, a and b; NULL if none. */
static const cond_field *find_field(const char *name, term_in *t)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const cond_field *f = &fields[i];
        size_t n = strlen(f->name);
        switch (f->match) {
        case MATCH_EXACT:
            if (!strcmp(name, f->name))
                return f;
            break;
        case MATCH_DAYS:
            if (days_field(name, f->name, &t->days))
                return f;
            break;
        case MATCH_CUSTOM:
            if (!strncmp(name, f->name, n) && is_ident(name + n) &&
                strlen(name + n) < sizeof t->a) {
                snprintf(t->a, sizeof t->a, "%s", name + n);
                return f;
            }
            break;
        case MATCH_CONSENT:
            if (!strncmp(name, f->name, n) &&
                sscanf(name + n, "%63[a-z0-9_].%63[a-z0-9_]", t->a, t->b) == 2 &&
                strlen(name) == n + 1 + strlen(t->a) + strlen(t->b))
                return f;
            break;
        }
    }
    return NULL;
}

static void unknown_field(parser *ps, const char *field)
{
    char names[512] = "";
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const cond_field *f = &fields[i];
        cat(names, sizeof names, "%s%s%s", i ? ", " : "", f->name,
            f->match == MATCH_DAYS ? "<N>d" : f->match == MATCH_CUSTOM ? "<name>"
            : f->match == MATCH_CONSENT ? "<channel>.<purpose>" : "");
    }
    fail(ps, "unknown field \"%s\" (expected %s)", field, names);
}

/* A value: 'quoted' or "quoted" (anything but the quote inside, operators
 * included), else a bare word. */
static int read_value(parser *ps, char *value, size_t size)
{
    skip(ps);
    if (*ps->p == '\'' || *ps->p == '"') {
        char q = *ps->p++;
        size_t n = 0;
        while (*ps->p && *ps->p != q) {
            if (n + 1 < size)
                value[n++] = *ps->p;
            ps->p++;
        }
        value[n] = 0;
        if (*ps->p != q) {
            fail(ps, "unterminated quoted value");
            return 0;
        }
        ps->p++;
        return 1;
    }
    return word(ps, value, size);
}

static void term(parser *ps, char *sql, size_t size)
{
    skip(ps);
    const char *start = ps->p;
    char field[96], value[96], lit[256], expr[768];
    term_in t;
    memset(&t, 0, sizeof t);
    if (!word(ps, field, sizeof field)) {
        fail(ps, "expected a field name (frequency, tag, orders_90d, custom.NAME...)");
        return;
    }
    skip(ps);
    if (!(t.op = read_op(ps))) {
        fail(ps, "expected an operator (= != > >= < <=) after \"%s\"", field);
        return;
    }
    if (!read_value(ps, value, sizeof value)) {
        fail(ps, "expected a value after \"%s %s\"", field, t.op->text);
        return;
    }
    const cond_field *f = find_field(field, &t);
    if (!f) {
        unknown_field(ps, field);
        return;
    }
    if ((f->flags & F_NUMBER) && !is_number(value)) {
        fail(ps, "%s compares with a whole number, not \"%s\"", field, value);
        return;
    }
    if ((f->flags & F_STATUS) && strcmp(value, "granted") && strcmp(value, "withdrawn")) {
        fail(ps, "%s is granted or withdrawn, not \"%s\"", field, value);
        return;
    }
    if ((f->flags & F_EQ_ONLY) && strcmp(t.op->text, "=") && strcmp(t.op->text, "!=")) {
        fail(ps, "%s takes = or != only", field);
        return;
    }
    literal(value, lit, sizeof lit);
    t.field = field;
    t.value = value;
    t.lit = lit;
    f->sql(&t, expr, sizeof expr);
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

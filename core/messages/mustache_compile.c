/* The Mustache compiler: source -> tokens -> standalone lines removed ->
 * instructions. Each unit (the template, then each partial it reaches) is
 * compiled once; a partial tag refers to its unit by index, so recursive
 * partials need no recursion here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/mustache_int.h"

typedef enum tk_type {
    TK_TEXT,
    TK_VAR,      /* {{x}}: escaped when the template escapes */
    TK_RAW,      /* {{{x}}} {{&x}} */
    TK_SECTION,  /* {{#x}} */
    TK_INVERTED, /* {{^x}} */
    TK_CLOSE,    /* {{/x}} */
    TK_COMMENT,  /* {{! ...}} */
    TK_PARTIAL,  /* {{>x}} */
    TK_DELIM,    /* {{=<% %>=}} */
    TK_REFUSED   /* a sigil of an optional module we do not implement */
} tk_type;

typedef struct token {
    uint8_t type;
    bool standalone;   /* alone on its line: the line is removed */
    size_t start, end; /* TEXT: the text; a tag: all of it, delimiters included */
    size_t name, name_len;
    size_t line_start; /* a standalone tag's line start: [line_start, start) is its indentation */
    unsigned line, column;
} token;

/* What follows the opening delimiter, and what it makes. */
static const struct {
    char sigil;
    uint8_t type;
} sigils[] = {
    {'{', TK_RAW},     {'&', TK_RAW},     {'#', TK_SECTION}, {'^', TK_INVERTED},
    {'/', TK_CLOSE},   {'!', TK_COMMENT}, {'>', TK_PARTIAL}, {'=', TK_DELIM},
    {'$', TK_REFUSED}, {'<', TK_REFUSED},
};

typedef struct compiler {
    crm_mustache *t;
    const crm_mustache_opts *o;
    const char *src;
    size_t len;
    uint32_t unit;
    const char *file; /* for messages */
    token *tk;
    size_t ntk, cap_tk;
    size_t at;          /* line/column tracking: position reached */
    unsigned line, col; /* ... and its line and column */
    crm_err *err;
} compiler;

static int no_memory(compiler *c)
{
    return crm_err_set(c->err, CRM_ENOMEM, "%s: out of memory compiling the template", c->file);
}

/* Appends bytes (and a NUL when nul) to the pool; *off gets their offset. */
static int pool_put(crm_mustache *t, const char *s, size_t n, bool nul, uint32_t *off)
{
    if (t->npool + n + 1 > UINT32_MAX)
        return CRM_ENOMEM;
    if (CRM_ARRAY_RESERVE(t->pool, t->cap_pool, t->npool + n + 1) != CRM_OK)
        return CRM_ENOMEM;
    *off = (uint32_t)t->npool;
    if (n)
        memcpy(t->pool + t->npool, s, n);
    t->npool += n;
    if (nul)
        t->pool[t->npool++] = '\0';
    return CRM_OK;
}

static int emit(compiler *c, mu_op op)
{
    crm_mustache *t = c->t;
    if (t->nops >= UINT32_MAX - 1 ||
        CRM_ARRAY_RESERVE(t->ops, t->cap_ops, t->nops + 1) != CRM_OK)
        return no_memory(c);
    t->ops[t->nops++] = op;
    return CRM_OK;
}

/* Line and column of pos; positions are asked for in increasing order. */
static void locate(compiler *c, size_t pos, unsigned *line, unsigned *col)
{
    for (; c->at < pos; c->at++) {
        unsigned char ch = (unsigned char)c->src[c->at];
        if (ch == '\n') {
            c->line++;
            c->col = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c->col++;
        }
    }
    *line = c->line;
    *col = c->col;
}

static int syntax(compiler *c, unsigned line, unsigned col, const char *what)
{
    return crm_err_set(c->err, CRM_EINVAL, "%s:%u:%u: %s", c->file, line, col, what);
}

/* The first needle[0..m) in hay[0..n), or NULL (memmem is not C11). */
static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
    while (n >= m) {
        const char *p = memchr(hay, needle[0], n - m + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
        n -= (size_t)(p - hay) + 1;
        hay = p + 1;
    }
    return NULL;
}

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static int push_token(compiler *c, token tk)
{
    if (CRM_ARRAY_RESERVE(c->tk, c->cap_tk, c->ntk + 1) != CRM_OK)
        return no_memory(c);
    c->tk[c->ntk++] = tk;
    return CRM_OK;
}

/* ---- Tokens ------------------------------------------------------------- */

typedef struct delims {
    char open[CRM_MUSTACHE_MAX_DELIM + 1], close[CRM_MUSTACHE_MAX_DELIM + 2];
    size_t olen, clen;
} delims;

/* Parses the inside of {{=<% %>=}} into d. */
static int set_delims(compiler *c, const token *tk, const char *s, size_t n, delims *d)
{
    size_t at[2], len[2], k = 0, i = 0;
    while (i < n) {
        while (i < n && blank(s[i]))
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && !blank(s[i]))
            i++;
        if (k == 2)
            k = 3;
        if (k < 2) {
            at[k] = b;
            len[k] = i - b;
            k++;
        }
    }
    bool ok = k == 2;
    for (size_t j = 0; ok && j < 2; j++)
        ok = len[j] <= CRM_MUSTACHE_MAX_DELIM && !memchr(s + at[j], '=', len[j]);
    if (!ok)
        return syntax(c, tk->line, tk->column,
                      "bad set-delimiter tag: write two delimiters without spaces or '=' "
                      "inside, separated by a space, as in {{=<% %>=}}");
    memcpy(d->open, s + at[0], len[0]);
    d->open[len[0]] = '\0';
    d->olen = len[0];
    memcpy(d->close, s + at[1], len[1]);
    d->close[len[1]] = '\0';
    d->clen = len[1];
    return CRM_OK;
}

/* A name is not empty, holds no blank, and (variables and sections) is `.`
 * or dot-separated non-empty segments. */
static int check_name(compiler *c, const token *tk)
{
    const char *s = c->src + tk->name;
    size_t n = tk->name_len;
    if (n == 0)
        return syntax(c, tk->line, tk->column, "empty tag: write a name inside it");
    if (n > CRM_MUSTACHE_MAX_NAME)
        return syntax(c, tk->line, tk->column, "name longer than 255 bytes: is a tag left open?");
    for (size_t i = 0; i < n; i++)
        if (blank(s[i]))
            return syntax(c, tk->line, tk->column,
                          "a name cannot contain spaces: use one name per tag");
    if (tk->type == TK_PARTIAL) {
        if (s[0] == '*')
            return syntax(c, tk->line, tk->column,
                          "dynamic partial names ({{>*name}}) are not supported: name the "
                          "partial");
        return CRM_OK;
    }
    if (n == 1 && s[0] == '.')
        return CRM_OK;
    bool empty_segment = s[0] == '.' || s[n - 1] == '.' || find(s, n, "..", 2);
    if (empty_segment)
        return syntax(c, tk->line, tk->column,
                      "bad dotted name: write `.` alone or names joined by single dots "
                      "(last_order.total)");
    return CRM_OK;
}

/* The tag at src[pos] (the opening delimiter found there) into *tk; *d may
 * change (set-delimiter tag). */
static int read_tag(compiler *c, size_t pos, delims *d, token *tk)
{
    *tk = (token){.type = TK_VAR, .start = pos};
    locate(c, pos, &tk->line, &tk->column);
    size_t p = pos + d->olen;
    char closer[CRM_MUSTACHE_MAX_DELIM + 2];
    memcpy(closer, d->close, d->clen + 1);
    size_t closer_len = d->clen;
    if (p < c->len) {
        for (size_t i = 0; i < sizeof sigils / sizeof sigils[0]; i++) {
            if (c->src[p] != sigils[i].sigil)
                continue;
            tk->type = sigils[i].type;
            if (sigils[i].sigil == '{' || sigils[i].sigil == '=') {
                closer[0] = sigils[i].sigil == '{' ? '}' : '=';
                memcpy(closer + 1, d->close, d->clen + 1);
                closer_len = d->clen + 1;
            }
            p++;
            break;
        }
    }
    if (tk->type == TK_REFUSED)
        return syntax(c, tk->line, tk->column,
                      "template inheritance ({{<parent}}, {{$block}}) is not supported: use "
                      "partials ({{>name}})");
    const char *hit = find(c->src + p, c->len - p, closer, closer_len);
    if (!hit) {
        char what[128];
        snprintf(what, sizeof what, "tag is not closed: add '%s'", closer);
        return syntax(c, tk->line, tk->column, what);
    }
    size_t q = (size_t)(hit - c->src);
    tk->end = q + closer_len;
    if (tk->type == TK_COMMENT)
        return CRM_OK;
    if (tk->type == TK_DELIM)
        return set_delims(c, tk, c->src + p, q - p, d);
    while (p < q && blank(c->src[p]))
        p++;
    while (q > p && blank(c->src[q - 1]))
        q--;
    tk->name = p;
    tk->name_len = q - p;
    return check_name(c, tk);
}

static int tokenize(compiler *c)
{
    delims d = {.open = "{{", .close = "}}", .olen = 2, .clen = 2};
    size_t pos = 0;
    while (pos < c->len) {
        const char *hit = find(c->src + pos, c->len - pos, d.open, d.olen);
        size_t tag = hit ? (size_t)(hit - c->src) : c->len;
        int rc;
        if (tag > pos && (rc = push_token(c, (token){.type = TK_TEXT, .start = pos, .end = tag})))
            return rc;
        if (!hit)
            break;
        token tk;
        if ((rc = read_tag(c, tag, &d, &tk)) != CRM_OK || (rc = push_token(c, tk)) != CRM_OK)
            return rc;
        pos = tk.end;
    }
    return CRM_OK;
}

/* ---- Standalone lines --------------------------------------------------- */

static bool may_stand_alone(uint8_t type)
{
    return type != TK_TEXT && type != TK_VAR && type != TK_RAW;
}

/* A tag alone on its line but for spaces and tabs loses the whole line:
 * the blanks before it, the blanks after it and the line's end. */
static void strip_standalone(compiler *c)
{
    const char *s = c->src;
    for (size_t i = 0; i < c->ntk; i++) {
        token *tk = &c->tk[i];
        if (!may_stand_alone(tk->type))
            continue;
        size_t ls = tk->start, le = tk->end;
        while (ls > 0 && (s[ls - 1] == ' ' || s[ls - 1] == '\t'))
            ls--;
        if (ls > 0 && s[ls - 1] != '\n')
            continue;
        while (le < c->len && (s[le] == ' ' || s[le] == '\t'))
            le++;
        if (le < c->len) {
            if (s[le] == '\n')
                le++;
            else if (s[le] == '\r' && le + 1 < c->len && s[le + 1] == '\n')
                le += 2;
            else
                continue;
        }
        tk->standalone = true;
        tk->line_start = ls;
        if (i > 0 && c->tk[i - 1].type == TK_TEXT)
            c->tk[i - 1].end = ls;
        if (i + 1 < c->ntk && c->tk[i + 1].type == TK_TEXT)
            c->tk[i + 1].start = le;
    }
}

/* ---- Instructions ------------------------------------------------------- */

typedef struct open_section {
    size_t op;  /* its instruction */
    size_t tok; /* its token */
} open_section;

typedef struct emitter {
    compiler *c;
    bool bol_ops; /* partials mark their line starts for indentation */
    bool at_bol;
    open_section *open;
    size_t nopen, cap_open;
} emitter;

static int emit_text(compiler *c, size_t from, size_t to)
{
    if (from == to)
        return CRM_OK;
    uint32_t off;
    if (pool_put(c->t, c->src + from, to - from, false, &off) != CRM_OK)
        return no_memory(c);
    return emit(c, (mu_op){.code = MU_TEXT, .a = off, .b = (uint32_t)(to - from)});
}

/* Writes the text as one instruction, or, in a partial, cut where a
 * non-empty line starts so the indentation can go there. */
static int text_token(emitter *e, const token *tk)
{
    compiler *c = e->c;
    size_t run = tk->start, p = tk->start;
    int rc;
    while (p < tk->end) {
        const char *nl = memchr(c->src + p, '\n', tk->end - p);
        size_t eol = nl ? (size_t)(nl - c->src) + 1 : tk->end;
        bool empty_line = nl && (eol - p == 1 || (eol - p == 2 && c->src[p] == '\r'));
        if (e->at_bol && e->bol_ops && !empty_line) {
            if ((rc = emit_text(c, run, p)) != CRM_OK || (rc = emit(c, (mu_op){.code = MU_BOL})))
                return rc;
            run = p;
        }
        e->at_bol = nl != NULL;
        p = eol;
    }
    return emit_text(c, run, tk->end);
}

static int add_ref(compiler *c, const token *tk, crm_mustache_ref_kind kind, uint32_t *index)
{
    crm_mustache *t = c->t;
    uint32_t text;
    if (pool_put(t, c->src + tk->name, tk->name_len, true, &text) != CRM_OK ||
        CRM_ARRAY_RESERVE(t->refs, t->cap_refs, t->nrefs + 1) != CRM_OK)
        return no_memory(c);
    t->refs[t->nrefs] = (mu_ref){.kind = (uint8_t)kind, .text = text, .unit = c->unit,
                                 .line = tk->line, .column = tk->column};
    *index = (uint32_t)t->nrefs++;
    return CRM_OK;
}

/* The name of a variable or section, split at its dots. */
static int add_name(compiler *c, const token *tk, uint32_t *index)
{
    crm_mustache *t = c->t;
    const char *s = c->src + tk->name;
    size_t n = tk->name_len;
    mu_name nm = {.dot = n == 1 && s[0] == '.'};
    if (CRM_ARRAY_RESERVE(t->names, t->cap_names, t->nnames + 1) != CRM_OK)
        return no_memory(c);
    size_t i = 0;
    while (!nm.dot && i < n) {
        const char *dot = memchr(s + i, '.', n - i);
        size_t seg = dot ? (size_t)(dot - s) : n;
        uint32_t off;
        if (pool_put(t, s + i, seg - i, true, &off) != CRM_OK)
            return no_memory(c);
        if (nm.count++ == 0)
            nm.first = off;
        i = seg + 1;
    }
    t->names[t->nnames] = nm;
    *index = (uint32_t)t->nnames++;
    return CRM_OK;
}

/* The unit of partial `name`: an existing one, or a new one compiled after
 * the current unit. */
static int partial_unit(compiler *c, const token *tk, uint32_t *unit)
{
    crm_mustache *t = c->t;
    const char *s = c->src + tk->name;
    for (size_t u = 1; u < t->nunits; u++) {
        const char *name = mu_str(t, t->units[u].name);
        if (strlen(name) == tk->name_len && memcmp(name, s, tk->name_len) == 0) {
            *unit = (uint32_t)u;
            return CRM_OK;
        }
    }
    uint32_t name;
    if (pool_put(t, s, tk->name_len, true, &name) != CRM_OK ||
        CRM_ARRAY_RESERVE(t->units, t->cap_units, t->nunits + 1) != CRM_OK)
        return no_memory(c);
    t->units[t->nunits] = (mu_unit){.name = name, .file = name};
    *unit = (uint32_t)t->nunits++;
    return CRM_OK;
}

static int open_tag(emitter *e, size_t tok, uint8_t code)
{
    compiler *c = e->c;
    const token *tk = &c->tk[tok];
    mu_op op = {.code = code};
    int rc;
    if ((rc = add_name(c, tk, &op.a)) != CRM_OK ||
        (rc = add_ref(c, tk, code == MU_SECTION ? CRM_MUSTACHE_SECTION : CRM_MUSTACHE_INVERTED,
                      &op.ref)) != CRM_OK)
        return rc;
    if (e->nopen >= CRM_MUSTACHE_MAX_DEPTH)
        return syntax(c, tk->line, tk->column,
                      "sections nest more than 64 deep: no message can render this");
    if (CRM_ARRAY_RESERVE(e->open, e->cap_open, e->nopen + 1) != CRM_OK)
        return no_memory(c);
    e->open[e->nopen++] = (open_section){.op = c->t->nops, .tok = tok};
    return emit(c, op);
}

static int close_tag(emitter *e, const token *tk)
{
    compiler *c = e->c;
    char what[512];
    int n = (int)tk->name_len;
    const char *name = c->src + tk->name;
    if (e->nopen == 0) {
        snprintf(what, sizeof what, "{{/%.*s}} closes no open section: remove it or open it "
                 "before with {{#%.*s}}", n, name, n, name);
        return syntax(c, tk->line, tk->column, what);
    }
    const open_section *os = &e->open[e->nopen - 1];
    const token *ot = &c->tk[os->tok];
    if (ot->name_len != tk->name_len || memcmp(c->src + ot->name, name, tk->name_len) != 0) {
        int on = (int)ot->name_len;
        snprintf(what, sizeof what, "{{/%.*s}} does not match the open section {{%c%.*s}} of "
                 "line %u column %u: close that one first with {{/%.*s}}", n, name,
                 ot->type == TK_SECTION ? '#' : '^', on, c->src + ot->name, ot->line,
                 ot->column, on, c->src + ot->name);
        return syntax(c, tk->line, tk->column, what);
    }
    c->t->ops[os->op].end = (uint32_t)c->t->nops;
    e->nopen--;
    return CRM_OK;
}

static int partial_tag(emitter *e, const token *tk)
{
    compiler *c = e->c;
    mu_op op = {.code = MU_PARTIAL};
    int rc;
    if ((rc = partial_unit(c, tk, &op.a)) != CRM_OK ||
        (rc = add_ref(c, tk, CRM_MUSTACHE_PARTIAL, &op.ref)) != CRM_OK)
        return rc;
    c->t->refs[op.ref].partial = op.a;
    if (tk->standalone) {
        size_t n = tk->start - tk->line_start;
        if (pool_put(c->t, c->src + tk->line_start, n, false, &op.b) != CRM_OK)
            return no_memory(c);
        op.c = (uint32_t)n;
    }
    return emit(c, op);
}

static int tag_token(emitter *e, size_t tok)
{
    compiler *c = e->c;
    const token *tk = &c->tk[tok];
    int rc;
    if (tk->standalone) {
        e->at_bol = true;
    } else if (e->at_bol) {
        e->at_bol = false;
        if (e->bol_ops && (rc = emit(c, (mu_op){.code = MU_BOL})) != CRM_OK)
            return rc;
    }
    mu_op op = {.code = MU_VAR};
    switch (tk->type) {
    case TK_VAR:
    case TK_RAW:
        op.escape = tk->type == TK_VAR && c->o && c->o->escape_html;
        if ((rc = add_name(c, tk, &op.a)) != CRM_OK ||
            (rc = add_ref(c, tk, CRM_MUSTACHE_VAR, &op.ref)) != CRM_OK)
            return rc;
        return emit(c, op);
    case TK_SECTION:
        return open_tag(e, tok, MU_SECTION);
    case TK_INVERTED:
        return open_tag(e, tok, MU_INVERTED);
    case TK_CLOSE:
        return close_tag(e, tk);
    case TK_PARTIAL:
        return partial_tag(e, tk);
    default: /* comments and delimiters write nothing */
        return CRM_OK;
    }
}

static int emit_unit(compiler *c)
{
    emitter e = {.c = c, .bol_ops = c->unit != 0, .at_bol = true};
    int rc = CRM_OK;
    for (size_t i = 0; i < c->ntk && rc == CRM_OK; i++)
        rc = c->tk[i].type == TK_TEXT ? text_token(&e, &c->tk[i]) : tag_token(&e, i);
    if (rc == CRM_OK && e.nopen > 0) {
        const token *ot = &c->tk[e.open[e.nopen - 1].tok];
        char what[512];
        int n = (int)ot->name_len;
        snprintf(what, sizeof what, "section {{%c%.*s}} is never closed: add {{/%.*s}} where it "
                 "ends", ot->type == TK_SECTION ? '#' : '^', n, c->src + ot->name, n,
                 c->src + ot->name);
        rc = syntax(c, ot->line, ot->column, what);
    }
    free(e.open);
    return rc;
}

/* Compiles src as unit u. */
static int compile_unit(crm_mustache *t, const crm_mustache_opts *o, uint32_t u, const char *src,
                        size_t len, crm_err *err)
{
    /* The pool moves as it grows: messages need a copy of the file name. */
    char *file = strdup(mu_str(t, t->units[u].file));
    compiler c = {.t = t, .o = o, .src = src, .len = len, .unit = u, .file = file, .line = 1,
                  .col = 1, .err = err};
    if (!file)
        return crm_err_set(err, CRM_ENOMEM, "out of memory compiling the template");
    t->units[u].first = (uint32_t)t->nops;
    int rc = CRM_OK;
    if (len > CRM_MUSTACHE_MAX_SOURCE)
        rc = crm_err_set(err, CRM_EINVAL, "%s: template is %zu bytes, more than the %u "
                         "accepted: split it into partials", file, len, CRM_MUSTACHE_MAX_SOURCE);
    if (rc == CRM_OK)
        rc = tokenize(&c);
    if (rc == CRM_OK) {
        strip_standalone(&c);
        rc = emit_unit(&c);
    }
    t->units[u].end = (uint32_t)t->nops;
    free(c.tk);
    free(file);
    return rc;
}

/* Loads and compiles partial unit u through o->load. */
static int compile_partial(crm_mustache *t, const crm_mustache_opts *o, uint32_t u, crm_err *err)
{
    char *text = NULL, *file = NULL;
    size_t len = 0;
    char *name = strdup(mu_str(t, t->units[u].name));
    if (!name)
        return crm_err_set(err, CRM_ENOMEM, "out of memory compiling partials");
    int rc = o && o->load ? o->load(o->load_ud, name, &text, &len, &file, err) : CRM_ENOTFOUND;
    if (rc == CRM_ENOTFOUND) {
        t->units[u].missing = true;
        t->units[u].first = t->units[u].end = (uint32_t)t->nops;
        rc = CRM_OK;
    } else if (rc == CRM_OK) {
        uint32_t off;
        if (file && pool_put(t, file, strlen(file), true, &off) != CRM_OK)
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory compiling partial %s", name);
        else if (file)
            t->units[u].file = off;
        if (rc == CRM_OK)
            rc = compile_unit(t, o, u, text ? text : "", text ? len : 0, err);
    }
    free(text);
    free(file);
    free(name);
    return rc;
}

/* The public references, with pointers into the finished pool. */
static int publish_refs(crm_mustache *t)
{
    if (!(t->pub = calloc(t->nrefs ? t->nrefs : 1, sizeof *t->pub)))
        return CRM_ENOMEM;
    for (size_t i = 0; i < t->nrefs; i++) {
        const mu_ref *r = &t->refs[i];
        t->pub[i] = (crm_mustache_ref){
            .kind = (crm_mustache_ref_kind)r->kind, .name = mu_str(t, r->text),
            .file = mu_str(t, t->units[r->unit].file), .line = r->line, .column = r->column};
        if (r->kind == CRM_MUSTACHE_PARTIAL)
            t->pub[i].missing = t->units[r->partial].missing;
    }
    return CRM_OK;
}

int crm_mustache_compile(const char *text, size_t len, const crm_mustache_opts *o,
                         crm_mustache **out, crm_err *err)
{
    *out = NULL;
    crm_mustache *t = calloc(1, sizeof *t);
    const char *file = o && o->file ? o->file : "template";
    uint32_t off;
    int rc = CRM_ENOMEM;
    if (!t || pool_put(t, file, strlen(file), true, &off) != CRM_OK ||
        CRM_ARRAY_RESERVE(t->units, t->cap_units, 1) != CRM_OK) {
        crm_err_set(err, CRM_ENOMEM, "%s: out of memory compiling the template", file);
        goto fail;
    }
    t->units[t->nunits++] = (mu_unit){.name = off, .file = off};
    if ((rc = compile_unit(t, o, 0, text ? text : "", text ? len : 0, err)) != CRM_OK)
        goto fail;
    for (uint32_t u = 1; u < t->nunits; u++)
        if ((rc = compile_partial(t, o, u, err)) != CRM_OK)
            goto fail;
    if ((rc = publish_refs(t)) != CRM_OK) {
        crm_err_set(err, rc, "%s: out of memory compiling the template", file);
        goto fail;
    }
    *out = t;
    return CRM_OK;
fail:
    crm_mustache_free(t);
    return rc;
}

void crm_mustache_free(crm_mustache *t)
{
    if (!t)
        return;
    free(t->ops);
    free(t->names);
    free(t->units);
    free(t->refs);
    free(t->pool);
    free(t->pub);
    free(t);
}

const crm_mustache_ref *crm_mustache_refs(const crm_mustache *t, size_t *n)
{
    *n = t->nrefs;
    return t->pub;
}

const char *crm_mustache_ref_kind_name(crm_mustache_ref_kind k)
{
    static const char *const names[] = {"var", "section", "inverted", "partial"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

void mu_where(const crm_mustache *t, uint32_t ref, char *buf, size_t size)
{
    if (ref >= t->nrefs) {
        snprintf(buf, size, "%s", mu_str(t, t->units[0].file));
        return;
    }
    const mu_ref *r = &t->refs[ref];
    snprintf(buf, size, "%s:%u:%u", mu_str(t, t->units[r->unit].file), r->line, r->column);
}

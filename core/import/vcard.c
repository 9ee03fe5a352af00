/* vCard 3.0 / 4.0 reader for `crm import contacts FILE.vcf`: each card
 * becomes a row whose columns are the canonical contact fields. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "util.h"

enum { V_EXT, V_FIRST, V_LAST, V_EMAIL, V_PHONE, V_COMPANY, V_STREET, V_POSTAL, V_CITY,
       V_COUNTRY, V_BIRTH, V_TAGS, V_FN, V_N };
static const char *const v_names[V_N] = {
    "external_id", "first_name", "last_name", "email", "phone", "company", "street",
    "postal_code", "city", "country", "birth_date", "tags", "fn",
};

typedef struct card {
    char *cell[V_N];
    int64_t line;
    bool open;
} card;

static void card_reset(card *c)
{
    for (int i = 0; i < V_N; i++)
        free(c->cell[i]);
    memset(c, 0, sizeof *c);
}

/* Unescapes \n \, \; \\ in place. */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *o++ = (*p == 'n' || *p == 'N') ? '\n' : *p;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* The idx-th ';'-separated component of v (escapes respected), unescaped. */
static char *component(const char *v, int idx)
{
    int n = 0;
    const char *start = v;
    for (const char *p = v;; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == ';' || !*p) {
            if (n == idx) {
                char *out = strndup(start, (size_t)(p - start));
                if (out)
                    unescape(out);
                return out;
            }
            if (!*p)
                return NULL;
            n++;
            start = p + 1;
        }
    }
}

static void set_cell(card *c, int i, char *v)
{
    if (!v || !*v || c->cell[i]) { /* the first of a repeated property wins */
        free(v);
        return;
    }
    c->cell[i] = v;
}

static char *bday(const char *v)
{
    char buf[16];
    if (strlen(v) >= 8 && isdigit((unsigned char)v[4]))
        snprintf(buf, sizeof buf, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
    else
        snprintf(buf, sizeof buf, "%.10s", v);
    return strdup(buf);
}

static char *categories(const char *v)
{
    char *out = strdup(v);
    for (char *p = out; p && *p; p++)
        if (*p == ',')
            *p = '|';
    if (out)
        unescape(out);
    return out;
}

static void take_property(card *c, const char *name, char *value)
{
    if (strcasecmp(name, "N") == 0) {
        set_cell(c, V_LAST, component(value, 0));
        set_cell(c, V_FIRST, component(value, 1));
    } else if (strcasecmp(name, "ADR") == 0) {
        set_cell(c, V_STREET, component(value, 2));
        set_cell(c, V_CITY, component(value, 3));
        set_cell(c, V_POSTAL, component(value, 5));
        set_cell(c, V_COUNTRY, component(value, 6));
    } else if (strcasecmp(name, "ORG") == 0) {
        set_cell(c, V_COMPANY, component(value, 0));
    } else if (strcasecmp(name, "CATEGORIES") == 0) {
        set_cell(c, V_TAGS, categories(value));
    } else if (strcasecmp(name, "BDAY") == 0) {
        set_cell(c, V_BIRTH, bday(value));
    } else {
        static const struct {
            const char *prop;
            int cell;
        } plain[] = {{"EMAIL", V_EMAIL}, {"TEL", V_PHONE}, {"UID", V_EXT}, {"FN", V_FN}};
        for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
            if (strcasecmp(name, plain[i].prop) == 0) {
                const char *v = strncasecmp(value, "tel:", 4) == 0    ? value + 4
                                : strncasecmp(value, "mailto:", 7) == 0 ? value + 7
                                                                        : value;
                char *copy = strdup(v);
                if (copy)
                    unescape(copy);
                set_cell(c, plain[i].cell, copy);
            }
    }
}

/* "item1.TEL;TYPE=cell:+33..." -> name "TEL", value "+33...". */
static void parse_line(card *c, char *line)
{
    char *colon = line;
    bool quoted = false;
    for (; *colon && (quoted || *colon != ':'); colon++)
        if (*colon == '"')
            quoted = !quoted;
    if (!*colon)
        return;
    *colon = '\0';
    char *name = line, *semi = strchr(line, ';'), *dot;
    if (semi)
        *semi = '\0';
    if ((dot = strchr(name, '.')))
        name = dot + 1;
    take_property(c, name, colon + 1);
}

static int emit_card(card *c, imp_row_fn fn, void *ud)
{
    if (!c->cell[V_FIRST] && !c->cell[V_LAST] && c->cell[V_FN]) {
        char *sp = strrchr(c->cell[V_FN], ' ');
        c->cell[V_LAST] = strdup(sp ? sp + 1 : c->cell[V_FN]);
        if (sp)
            c->cell[V_FIRST] = strndup(c->cell[V_FN], (size_t)(sp - c->cell[V_FN]));
    }
    char *names[V_N], *cells[V_N];
    size_t n = 0;
    for (int i = 0; i < V_FN; i++)
        if (c->cell[i]) {
            names[n] = (char *)v_names[i];
            cells[n++] = c->cell[i];
        }
    imp_row row = {.line = c->line, .n = n, .names = names, .cells = cells};
    int stop = fn(ud, &row);
    card_reset(c);
    return stop;
}

/* Handles one unfolded logical line. */
static int logical_line(card *c, char *line, int64_t lineno, imp_row_fn fn, void *ud)
{
    if (strcasecmp(line, "BEGIN:VCARD") == 0) {
        card_reset(c);
        c->open = true;
        c->line = lineno;
    } else if (strcasecmp(line, "END:VCARD") == 0 && c->open) {
        return emit_card(c, fn, ud);
    } else if (c->open) {
        parse_line(c, line);
    }
    return 0;
}

int imp_read_vcard(imp_source *src, imp_row_fn fn, void *ud, crm_err *err)
{
    char *text = NULL, *logical = NULL;
    size_t cap = 0, llen = 0, lcap = 0;
    ssize_t len;
    int64_t lineno = 0, start = 0;
    int stop = 0;
    card c = {0};
    while (!stop && (len = getline(&text, &cap, src->f)) >= 0) {
        lineno++;
        src->consumed += len;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        bool cont = (text[0] == ' ' || text[0] == '\t') && logical;
        if (!cont && logical) {
            stop = logical_line(&c, logical, start, fn, ud);
            llen = 0;
        }
        if (CRM_ARRAY_RESERVE(logical, lcap, llen + (size_t)len + 1) != CRM_OK) {
            stop = crm_err_set(err, CRM_ENOMEM, "out of memory");
            break;
        }
        const char *add = cont ? text + 1 : text;
        memcpy(logical + llen, add, strlen(add) + 1);
        llen += strlen(add);
        if (!cont)
            start = lineno;
    }
    if (!stop && logical && llen)
        stop = logical_line(&c, logical, start, fn, ud);
    card_reset(&c);
    free(text);
    free(logical);
    return stop;
}

#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "err.h"
#include "hygiene.h"

#define CELL_MAX 1024 /* bytes of one printed cell, after the cut */

struct crm_table {
    FILE *out;
    const crm_table_col *cols;
    int n;
    size_t *width;   /* per column: fixed once the header is printed */
    char **held;     /* rows * n cells, until the widths are fixed */
    size_t n_held;
    bool printed;    /* header printed: widths fixed, rows stream */
};

/* One character at s: its byte length and display width. Invalid bytes are
 * one byte of width 1; control characters are reported as such. */
static size_t char_at(const char *s, int *width, bool *control)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp);
    *control = false;
    if (len <= 0) {
        *width = 1;
        return 1;
    }
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    *control = p->category == UTF8PROC_CATEGORY_CC;
    *width = *control ? 1 : utf8proc_charwidth(cp);
    return (size_t)len;
}

size_t crm_text_width(const char *s)
{
    size_t w = 0;
    while (s && *s) {
        int cw;
        bool ctl;
        s += char_at(s, &cw, &ctl);
        w += (size_t)cw;
    }
    return w;
}

size_t crm_text_fit(const char *s, size_t max, char *out, size_t size)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    if (size < sizeof ellipsis + 1) {
        if (size)
            out[0] = '\0';
        return 0;
    }
    size_t budget = max && crm_text_width(s) > max ? max - 1 : (size_t)-1;
    size_t room = size - sizeof ellipsis, w = 0, o = 0; /* the ellipsis always fits */
    while (s && *s) {
        int cw;
        bool ctl;
        size_t len = char_at(s, &cw, &ctl);
        /* A zero-width mark fits after the character it belongs to. */
        if (w + (size_t)cw > budget || o + len > room)
            break;
        if (ctl)
            out[o++] = ' ';
        else
            memcpy(out + o, s, len), o += len;
        w += (size_t)cw;
        s += len;
    }
    if (s && *s) {
        memcpy(out + o, ellipsis, sizeof ellipsis - 1);
        o += sizeof ellipsis - 1;
        w++;
    }
    out[o] = '\0';
    return w;
}

crm_table *crm_table_new(FILE *out, const crm_table_col *cols, int n)
{
    if (n < 1 || n > CRM_TABLE_MAX_COLS)
        return NULL;
    crm_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->out = out;
    t->cols = cols;
    t->n = n;
    t->width = calloc((size_t)n, sizeof *t->width);
    t->held = calloc((size_t)n * CRM_TABLE_HOLD, sizeof *t->held);
    if (!t->width || !t->held) {
        free(t->width);
        free(t->held);
        free(t);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        t->width[i] = crm_text_width(cols[i].title);
    return t;
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

/* Prints one line of cells already fitted to their column. */
static void print_line(crm_table *t, char *const *cells)
{
    for (int i = 0; i < t->n; i++) {
        const char *c = cells[i];
        size_t w = crm_text_width(c), gap = t->width[i] > w ? t->width[i] - w : 0;
        bool last = i == t->n - 1;
        if (i)
            fputs("  ", t->out);
        if (t->cols[i].right)
            pad(t->out, gap);
        fputs(c, t->out);
        if (!t->cols[i].right && !last)
            pad(t->out, gap);
    }
    fputc('\n', t->out);
}

static void print_header(crm_table *t)
{
    char *titles[CRM_TABLE_MAX_COLS];
    for (int i = 0; i < t->n; i++)
        titles[i] = (char *)t->cols[i].title;
    print_line(t, titles);
    t->printed = true;
}

static void flush_held(crm_table *t)
{
    if (!t->printed)
        print_header(t);
    for (size_t r = 0; r < t->n_held; r++) {
        print_line(t, t->held + r * (size_t)t->n);
        for (int i = 0; i < t->n; i++)
            free(t->held[r * (size_t)t->n + (size_t)i]);
    }
    t->n_held = 0;
}

int crm_table_row(crm_table *t, const char *const *cells)
{
    char buf[CELL_MAX];
    char *fitted[CRM_TABLE_MAX_COLS];
    int rc = CRM_OK;
    for (int i = 0; i < t->n; i++) {
        const char *c = cells[i] && *cells[i] ? cells[i] : "-";
        size_t max = (size_t)(t->cols[i].max > 0 ? t->cols[i].max : 0);
        if (t->printed && (!max || t->width[i] < max))
            max = t->width[i]; /* streaming: widths are fixed */
        size_t w = crm_text_fit(c, max, buf, sizeof buf);
        if (!t->printed && w > t->width[i])
            t->width[i] = w;
        if (!(fitted[i] = strdup(buf)))
            rc = CRM_ENOMEM;
    }
    if (rc == CRM_OK && t->printed) {
        print_line(t, fitted);
    } else if (rc == CRM_OK) {
        memcpy(t->held + t->n_held * (size_t)t->n, fitted, (size_t)t->n * sizeof *fitted);
        if (++t->n_held == CRM_TABLE_HOLD)
            flush_held(t);
        return CRM_OK;
    }
    for (int i = 0; i < t->n; i++)
        free(fitted[i]);
    return rc;
}

void crm_table_end(crm_table *t, bool header_if_empty)
{
    if (!t)
        return;
    if (t->n_held || (header_if_empty && !t->printed))
        flush_held(t);
    free(t->width);
    free(t->held);
    free(t);
}

void crm_cli_money(int64_t minor, const char *currency, char *buf, size_t size)
{
    if (currency && !*currency)
        currency = NULL;
    int dec = currency ? crm_currency_decimals(currency) : 2;
    char plain[48];
    crm_format_money(minor, dec < 0 ? 2 : dec, plain, sizeof plain);
    const char *digits = plain + (plain[0] == '-');
    const char *mark = strchr(digits, '.');
    size_t n_int = mark ? (size_t)(mark - digits) : strlen(digits);
    char grouped[80];
    size_t o = 0;
    if (plain[0] == '-')
        grouped[o++] = '-';
    for (size_t i = 0; i < n_int; i++) {
        if (i && (n_int - i) % 3 == 0)
            grouped[o++] = ' ';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    snprintf(buf, size, "%s%s%s%s", grouped, mark ? mark : "", currency ? " " : "",
             currency ? currency : "");
}

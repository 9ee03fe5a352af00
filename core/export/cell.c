/* Formula-injection neutralisation and CSV field writing (rule in export.h). */
#include <ctype.h>
#include <string.h>

#include "export.h"

static bool is_formula_char(unsigned char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@';
}

/* An optional sign, digits, at most one '.' or ',' followed by digits. */
static bool is_plain_number(const char *v)
{
    const char *p = v + (*v == '+' || *v == '-');
    size_t digits = 0, marks = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if ((*p == '.' || *p == ',') && digits && !marks && isdigit((unsigned char)p[1]))
            marks++;
        else
            return false;
    }
    return digits > 0;
}

static bool danger(const char *v)
{
    unsigned char c0 = (unsigned char)v[0];
    if (!c0 || is_plain_number(v))
        return false;
    if (is_formula_char(c0) || c0 == '\t' || c0 == '\r')
        return true;
    const unsigned char *p = (const unsigned char *)v;
    while (*p == ' ' || *p < 0x20 || *p == 0x7f)
        p++;
    return *p && is_formula_char(*p);
}

bool crm_cell_needs_quote(const char *v)
{
    for (; v && *v; v++) {
        if (danger(v))
            return true;
        if (*v != '\'')
            return false;
    }
    return false;
}

char *crm_cell_unneutralise(char *v)
{
    if (v && v[0] == '\'' && crm_cell_needs_quote(v + 1))
        memmove(v, v + 1, strlen(v));
    return v;
}

void crm_csv_put(FILE *f, const char *v, bool first)
{
    crm_csv_put_delim(f, v, first, ',');
}

void crm_csv_put_delim(FILE *f, const char *v, bool first, char delim)
{
    if (!first)
        fputc(delim, f);
    if (!v)
        return;
    bool quote_it = crm_cell_needs_quote(v);
    /* With ';' a decimal comma stays bare: a quoted amount is text to some
     * spreadsheets. With ',' a ';' is quoted too, as it always was. */
    const char *special = delim == ',' ? ",;\"\r\n\t" : delim == ';' ? ";\"\r\n\t" : NULL;
    char others[8] = {delim, '"', '\r', '\n', '\t', ',', ';', '\0'};
    bool wrap = strpbrk(v, special ? special : others) != NULL || v[0] == ' ' ||
                (*v && v[strlen(v) - 1] == ' ');
    if (wrap)
        fputc('"', f);
    if (quote_it)
        fputc('\'', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    if (wrap)
        fputc('"', f);
}

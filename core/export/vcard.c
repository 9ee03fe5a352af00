/* vCard 4.0 export of one contact (RFC 6350): escaped text values, lines
 * folded at 75 octets on UTF-8 character boundaries. */
#include <string.h>

#include "export.h"
#include "model.h"

/* Writes "NAME:VALUE\r\n" folded; `raw` values are written as given. */
static void prop(FILE *f, const char *name, const char *const *parts, size_t n, char sep)
{
    char line[4096];
    size_t len = (size_t)snprintf(line, sizeof line, "%s:", name);
    for (size_t i = 0; i < n && len < sizeof line - 8; i++) {
        if (i)
            line[len++] = sep;
        for (const char *p = parts[i] ? parts[i] : ""; *p && len < sizeof line - 8; p++) {
            if (*p == '\n') {
                line[len++] = '\\';
                line[len++] = 'n';
                continue;
            }
            if (*p == ',' || *p == ';' || *p == '\\')
                line[len++] = '\\';
            line[len++] = *p;
        }
    }
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        bool lead = ((unsigned char)line[i] & 0xC0) != 0x80;
        if (col >= 74 && lead) {
            fputs("\r\n ", f);
            col = 1;
        }
        fputc(line[i], f);
        col++;
    }
    fputs("\r\n", f);
}

static void one(FILE *f, const char *name, const char *v)
{
    if (v && *v)
        prop(f, name, &v, 1, ';');
}

int crm_export_vcard(crm_kernel *k, int64_t id, FILE *out, crm_err *err)
{
    crm_contact c;
    int rc = crm_contact_get(k, id, &c, err);
    if (rc != CRM_OK)
        return rc;
    char fn[512], bday[16] = "";
    snprintf(fn, sizeof fn, "%s%s%s", c.first_name ? c.first_name : "",
             c.first_name && c.last_name ? " " : "", c.last_name ? c.last_name : "");
    fputs("BEGIN:VCARD\r\nVERSION:4.0\r\n", out);
    one(out, "UID", c.external_id);
    one(out, "FN", *fn ? fn : (c.email ? c.email : "?"));
    const char *n[] = {c.last_name, c.first_name, "", "", ""};
    prop(out, "N", n, 5, ';');
    one(out, "EMAIL", c.email);
    if (c.phone)
        fprintf(out, "TEL;VALUE=uri:tel:%s\r\n", c.phone);
    if (c.street || c.city || c.postal_code || c.country) {
        const char *adr[] = {"", "", c.street, c.city, "", c.postal_code, c.country};
        prop(out, "ADR", adr, 7, ';');
    }
    one(out, "ORG", c.company);
    if (c.birth_date && strlen(c.birth_date) == 10) {
        snprintf(bday, sizeof bday, "%.4s%.2s%.2s", c.birth_date, c.birth_date + 5,
                 c.birth_date + 8);
        one(out, "BDAY", bday);
    }
    if (c.n_tags)
        prop(out, "CATEGORIES", (const char *const *)c.tags, c.n_tags, ',');
    fputs("END:VCARD\r\n", out);
    crm_contact_clear(&c);
    return ferror(out) ? crm_err_set(err, CRM_EIO, "cannot write the vCard") : CRM_OK;
}

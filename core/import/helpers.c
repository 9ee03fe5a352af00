/* What the importer's parts call back into: the entities and the formats
 * (and their readers) by name, a row's mapped values, record lookups, and
 * the reject-file writers the driver and the lines file share. The driver
 * (import.c) calls these too but owns none of them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "export/export.h"
#include "import_int.h"
#include "store.h"

/* ---- entities and formats ---------------------------------------------------- */

static const imp_entity *const entities[] = {&imp_contacts, &imp_companies, &imp_orders,
                                             &imp_interactions};

const imp_entity *imp_find_entity(const char *name)
{
    for (size_t i = 0; name && i < sizeof entities / sizeof entities[0]; i++) {
        size_t len = strlen(entities[i]->name);
        /* "contacts" and "contact" both work */
        if (strcmp(name, entities[i]->name) == 0 ||
            (strncmp(name, entities[i]->name, len - 1) == 0 && !name[len - 1]))
            return entities[i];
    }
    return NULL;
}

crm_import_format imp_pick_format(const crm_import_opts *o)
{
    if (o->format != CRM_IMPORT_AUTO)
        return o->format;
    const char *dot = strrchr(o->path, '.');
    if (dot && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0))
        return CRM_IMPORT_JSONL;
    if (dot && (strcasecmp(dot, ".vcf") == 0 || strcasecmp(dot, ".vcard") == 0))
        return CRM_IMPORT_VCARD;
    return CRM_IMPORT_CSV;
}

imp_reader_fn imp_reader_for(crm_import_format format)
{
    switch (format) {
    case CRM_IMPORT_JSONL: return imp_read_jsonl;
    case CRM_IMPORT_VCARD: return imp_read_vcard;
    default: return imp_read_csv;
    }
}

/* ---- rows and lookups ------------------------------------------------------- */

const char *imp_get(const imp_row *r, const char *field)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->fields[i] && (r->fields[i] == field || strcmp(r->fields[i], field) == 0))
            return r->cells[i][0] ? r->cells[i] : NULL;
    return NULL;
}

int imp_lookup(crm_kernel *k, const char *sql, const char *value, int64_t *id, crm_err *err)
{
    *id = 0;
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err && err->code ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                : crm_store_error(k->store, "lookup failed", err);
}

/* ---- reject files ------------------------------------------------------------ */

void imp_rejects_path(const char *input, const char *ext, char *out, size_t size)
{
    const char *slash = strrchr(input, '/'), *dot = strrchr(input, '.');
    int stem = dot && (!slash || dot > slash) ? (int)(dot - input) : (int)strlen(input);
    snprintf(out, size, "%.*s.rejects.%s", stem, input, ext);
}

void imp_reject_csv_header(FILE *f, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crm_csv_put(f, names[i], i == 0);
    crm_csv_put(f, "line", n == 0);
    crm_csv_put(f, "reason", false);
    fputc('\n', f);
}

void imp_reject_csv_row(FILE *f, const imp_row *row, size_t width, const char *reason)
{
    size_t n = width > row->n ? width : row->n;
    for (size_t i = 0; i < n; i++)
        crm_csv_put(f, i < row->n ? row->cells[i] : NULL, i == 0);
    char line[32];
    snprintf(line, sizeof line, "%lld", (long long)row->line);
    crm_csv_put(f, line, n == 0);
    crm_csv_put(f, reason, false);
    fputc('\n', f);
}

/* The `line` and `reason` cells after a raw row, in the source's delimiter
 * and encoding, then its line end. */
static void reject_tail(FILE *f, const imp_source *src, const char *line, const char *reason)
{
    char text[2048];
    if (src->codec)
        imp_codec_from_utf8(src->codec, reason, text, sizeof text);
    else
        snprintf(text, sizeof text, "%s", reason);
    crm_csv_put_delim(f, line, false, src->delim);
    crm_csv_put_delim(f, text, false, src->delim);
    fputs(src->eol, f);
}

void imp_reject_raw_header(FILE *f, const imp_source *src)
{
    if (src->bom)
        fputs("\xEF\xBB\xBF", f);
    fwrite(src->header_raw, 1, src->header_raw_len, f);
    reject_tail(f, src, "line", "reason");
}

void imp_reject_raw_row(FILE *f, const imp_source *src, const imp_row *row, size_t width,
                        const char *reason)
{
    fwrite(row->raw, 1, row->raw_len, f);
    for (size_t i = row->raw_cells; i < width; i++)
        fputc(src->delim, f);
    char line[32];
    snprintf(line, sizeof line, "%lld", (long long)row->line);
    reject_tail(f, src, line, reason);
}

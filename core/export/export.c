/* crm export: contacts through the model's listing, the other entities by
 * one SQL query each, as CSV (neutralised, RFC 4180) or JSON Lines. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "hygiene.h"
#include "model.h"
#include "model/model_util.h"
#include "util.h"

/* One output row being built: names and values (borrowed). */
#define MAX_COLS 256
typedef struct out_row {
    const char *name[MAX_COLS];
    const char *value[MAX_COLS];
    json_t *json_override[MAX_COLS];  /* JSONL: a value that is not a string (tags) */
    size_t n;
} out_row;

typedef struct writer {
    FILE *f;
    crm_export_format format;
    bool header_done;
    int64_t count;
    char delim;          /* CSV: ',' or, for Excel, ';' */
    const char *eol;
    bool excel;
} writer;

/* One CSV line of cells (the header when names, else the values). */
static void csv_line(writer *w, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crm_csv_put_delim(w->f, cells[i], i == 0, w->delim);
    fputs(w->eol, w->f);
}

static void put(out_row *r, const char *name, const char *value)
{
    if (r->n < MAX_COLS) {
        r->json_override[r->n] = NULL;
        r->name[r->n] = name;
        r->value[r->n++] = value;
    }
}

/* CSV: the header alone, for an export without rows. */
static void header_only(writer *w, out_row *r)
{
    if (w->format == CRM_EXPORT_CSV && !w->header_done) {
        csv_line(w, r->name, r->n);
        w->header_done = true;
    }
}

static void emit(writer *w, out_row *r)
{
    if (w->format == CRM_EXPORT_JSONL) {
        json_t *o = json_object();
        for (size_t i = 0; i < r->n; i++)
            json_object_set_new(o, r->name[i],
                                r->json_override[i] ? r->json_override[i]
                                : r->value[i]       ? json_string(r->value[i])
                                                    : json_null());
        json_dumpf(o, w->f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', w->f);
        json_decref(o);
    } else {
        if (!w->header_done) {
            csv_line(w, r->name, r->n);
            w->header_done = true;
        }
        csv_line(w, r->value, r->n);
        for (size_t i = 0; i < r->n; i++)
            json_decref(r->json_override[i]);
    }
    w->count++;
}

/* ---- contacts ---------------------------------------------------------------- */

static const char *const contact_columns[] = {
    "external_id", "first_name", "last_name", "email", "phone",       "company", "street",
    "postal_code", "city",       "country",   "birth_date", "source", NULL,
};

typedef struct contact_ctx {
    writer *w;
    const crm_config *cfg;
} contact_ctx;

static char *join_tags(const crm_contact *c)
{
    size_t len = crm_strv_join(c->tags, c->n_tags, "|", NULL, 0) + 1;
    char *out = malloc(len);
    if (out)
        crm_strv_join(c->tags, c->n_tags, "|", out, len);
    return out;
}

static const char *custom_of(const crm_contact *c, const char *name)
{
    for (size_t i = 0; i < c->n_custom; i++)
        if (strcmp(c->custom[i].key, name) == 0)
            return c->custom[i].value;
    return NULL;
}

static int contact_row(const crm_contact *c, void *ud)
{
    contact_ctx *ctx = ud;
    out_row r = {.n = 0};
    /* The key that round-trips: importing this file matches each row to its contact. */
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    put(&r, "id", id);
    if (ctx->w->format == CRM_EXPORT_JSONL)
        r.json_override[r.n - 1] = json_integer(c->id);
    for (const char *const *col = contact_columns; *col; col++)
        put(&r, *col, *crm_contact_field_ptr((crm_contact *)c, *col));
    char *tags = join_tags(c);
    put(&r, "tags", tags && *tags ? tags : NULL);
    if (ctx->w->format == CRM_EXPORT_JSONL) {
        json_t *arr = json_array();
        for (size_t i = 0; i < c->n_tags; i++)
            json_array_append_new(arr, json_string(c->tags[i]));
        r.json_override[r.n - 1] = arr;
    }
    put(&r, "lifecycle_stage", c->lifecycle_stage);
    for (size_t i = 0; i < ctx->cfg->n_custom[CRM_ENTITY_CONTACT]; i++) {
        const char *name = ctx->cfg->custom[CRM_ENTITY_CONTACT][i].name;
        put(&r, name, custom_of(c, name));
    }
    emit(ctx->w, &r);
    free(tags);
    return 0;
}

static int export_contacts(crm_kernel *k, const crm_export_opts *o, writer *w, crm_err *err)
{
    crm_contact_filter f = {.city = o->city, .country = o->country, .tag = o->tag,
                            .source = o->source, .postal_code = o->postal_code,
                            .sets = {o->sets[0], o->sets[1], o->sets[2]}};
    contact_ctx ctx = {w, k->cfg};
    int rc = crm_contact_list(k, &f, contact_row, &ctx, err);
    if (rc == CRM_OK && !w->count) {
        out_row r = {.n = 0};
        put(&r, "id", NULL);
        for (const char *const *col = contact_columns; *col; col++)
            put(&r, *col, NULL);
        put(&r, "tags", NULL);
        put(&r, "lifecycle_stage", NULL);
        for (size_t i = 0; i < k->cfg->n_custom[CRM_ENTITY_CONTACT]; i++)
            put(&r, k->cfg->custom[CRM_ENTITY_CONTACT][i].name, NULL);
        header_only(w, &r);
    }
    return rc;
}

/* ---- the others, by SQL -------------------------------------------------------- */

typedef enum { COL_TEXT, COL_TIME, COL_MONEY } col_kind;

typedef struct sql_col {
    const char *name;
    col_kind kind;   /* COL_MONEY reads its currency from the column named "currency" */
} sql_col;

typedef struct filter {
    const char *opt;     /* which crm_export_opts member, by name */
    const char *clause;  /* one text parameter */
} filter;

typedef struct sql_export {
    const char *entity;
    const char *select;
    const sql_col *cols;
    const filter *filters;
    const char *order_by;
} sql_export;

static const sql_col order_cols[] = {
    {"external_id", COL_TEXT}, {"contact_external_id", COL_TEXT}, {"contact_email", COL_TEXT},
    {"placed_at", COL_TIME},   {"total", COL_MONEY},              {"currency", COL_TEXT},
    {"status", COL_TEXT},      {NULL, 0},
};
static const filter order_filters[] = {
    {"status", "o.status = lower(?)"},
    {"since", "o.placed_at >= ?"},
    {"until", "o.placed_at < ?"},
    {NULL, NULL},
};
static const sql_col company_cols[] = {
    {"external_id", COL_TEXT}, {"name", COL_TEXT}, {"domain", COL_TEXT},  {"phone", COL_TEXT},
    {"street", COL_TEXT},      {"postal_code", COL_TEXT}, {"city", COL_TEXT},
    {"country", COL_TEXT},     {NULL, 0},
};
static const filter company_filters[] = {
    {"city", "city = ? COLLATE NOCASE"}, {"country", "country = upper(?)"}, {NULL, NULL}};
static const sql_col interaction_cols[] = {
    {"external_id", COL_TEXT}, {"contact_external_id", COL_TEXT}, {"contact_email", COL_TEXT},
    {"channel", COL_TEXT},     {"direction", COL_TEXT},           {"subject", COL_TEXT},
    {"body", COL_TEXT},        {"occurred_at", COL_TIME},         {"author", COL_TEXT},
    {NULL, 0},
};
static const filter interaction_filters[] = {
    {"since", "i.occurred_at >= ?"}, {"until", "i.occurred_at < ?"}, {NULL, NULL}};

static const sql_export sql_exports[] = {
    {"orders",
     "SELECT o.external_id, c.external_id, c.email, o.placed_at, o.total, o.currency, o.status "
     "FROM orders o JOIN contacts c ON c.id = o.contact_id",
     order_cols, order_filters, "o.id"},
    {"companies",
     "SELECT external_id, name, domain, phone, street, postal_code, city, country FROM companies",
     company_cols, company_filters, "id"},
    {"interactions",
     "SELECT i.external_id, c.external_id, c.email, i.channel, i.direction, i.subject, i.body, "
     "i.occurred_at, u.email FROM interactions i JOIN contacts c ON c.id = i.contact_id "
     "LEFT JOIN users u ON u.id = i.author_id",
     interaction_cols, interaction_filters, "i.id"},
};

static const char *filter_value(const crm_export_opts *o, const char *opt)
{
    static const struct {
        const char *name;
        size_t off;
    } members[] = {
        {"status", offsetof(crm_export_opts, status)}, {"since", offsetof(crm_export_opts, since)},
        {"until", offsetof(crm_export_opts, until)},   {"city", offsetof(crm_export_opts, city)},
        {"country", offsetof(crm_export_opts, country)},
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (strcmp(members[i].name, opt) == 0)
            return *(const char *const *)((const char *)o + members[i].off);
    return NULL;
}

typedef struct sql_ctx {
    writer *w;
    const sql_export *x;
} sql_ctx;

static int sql_row(sqlite3_stmt *st, void *ud)
{
    sql_ctx *ctx = ud;
    out_row r = {.n = 0};
    char buf[MAX_COLS][40];
    const char *currency = NULL;
    for (int i = 0; ctx->x->cols[i].name; i++)
        if (strcmp(ctx->x->cols[i].name, "currency") == 0)
            currency = (const char *)sqlite3_column_text(st, i);
    for (int i = 0; ctx->x->cols[i].name; i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        if (v && ctx->x->cols[i].kind == COL_TIME) {
            crm_format_datetime(sqlite3_column_int64(st, i), buf[i], sizeof buf[i]);
            if (ctx->w->excel) { /* "2025-01-02 10:00:00", a date to Excel; still UTC */
                buf[i][10] = ' ';
                buf[i][strcspn(buf[i], "Z")] = '\0';
            }
            v = buf[i];
        } else if (v && ctx->x->cols[i].kind == COL_MONEY) {
            int d = crm_currency_decimals(currency);
            crm_format_money(sqlite3_column_int64(st, i), d < 0 ? 2 : d, buf[i], sizeof buf[i]);
            char *dot = ctx->w->excel ? strchr(buf[i], '.') : NULL;
            if (dot) /* French Excel reads "12.50" as text, "12,50" as a number */
                *dot = ',';
            v = buf[i];
        }
        put(&r, ctx->x->cols[i].name, v);
    }
    emit(ctx->w, &r);
    return CRM_OK;
}

/* Turns since/until dates into epoch text for the query. */
static int bind_filters(crm_sql *q, const crm_export_opts *o, const filter *fl,
                        char epochs[][24], crm_err *err)
{
    for (int i = 0; fl[i].opt; i++) {
        const char *v = filter_value(o, fl[i].opt);
        if (!v)
            continue;
        if (strcmp(fl[i].opt, "since") == 0 || strcmp(fl[i].opt, "until") == 0) {
            int64_t t;
            int rc = crm_parse_datetime(fl[i].opt, v, &t, err);
            if (rc != CRM_OK)
                return rc;
            snprintf(epochs[i], 24, "%lld", (long long)t);
            v = epochs[i];
        }
        crm_sql_where(q, fl[i].clause, v);
    }
    return CRM_OK;
}

static int export_sql(crm_kernel *k, const sql_export *x, const crm_export_opts *o, writer *w,
                      crm_err *err)
{
    crm_sql q;
    char epochs[8][24];
    crm_sql_init(&q, x->select);
    int rc = bind_filters(&q, o, x->filters, epochs, err);
    if (rc == CRM_OK) {
        crm_sql_page(&q, x->order_by, 0, 0);
        sql_ctx ctx = {w, x};
        rc = crm_sql_each(k, &q, sql_row, &ctx, err);
    }
    if (rc == CRM_OK && !w->count) {
        out_row r = {.n = 0};
        for (int i = 0; x->cols[i].name; i++)
            put(&r, x->cols[i].name, NULL);
        header_only(w, &r);
    }
    crm_sql_free(&q);
    return rc;
}

int crm_export_run(crm_kernel *k, const crm_export_opts *o, FILE *out, int64_t *count,
                   crm_err *err)
{
    writer w = {.f = out, .format = o->format, .delim = o->excel ? ';' : ',',
                .eol = o->excel ? "\r\n" : "\n", .excel = o->excel};
    if (o->excel && o->format != CRM_EXPORT_CSV)
        return crm_err_set(err, CRM_EUSAGE, "--excel writes CSV: drop --format jsonl");
    if (o->excel)
        fputs("\xEF\xBB\xBF", out); /* Excel takes the file for UTF-8 only with it */
    int rc = CRM_ENOTFOUND;
    const char *e = o->entity ? o->entity : "";
    if (strcmp(e, "contacts") == 0 || strcmp(e, "contact") == 0)
        rc = export_contacts(k, o, &w, err);
    for (size_t i = 0; rc == CRM_ENOTFOUND && i < sizeof sql_exports / sizeof sql_exports[0];
         i++)
        if (strncmp(e, sql_exports[i].entity, strlen(e)) == 0 && *e &&
            strlen(e) + 1 >= strlen(sql_exports[i].entity))
            rc = export_sql(k, &sql_exports[i], o, &w, err);
    if (rc == CRM_ENOTFOUND)
        return crm_err_set(err, CRM_EUSAGE,
                           "cannot export '%s': expected contacts, companies, orders or "
                           "interactions", e);
    if (count)
        *count = w.count;
    if (rc == CRM_OK && fflush(out) != 0)
        rc = crm_err_set(err, CRM_EIO, "cannot write the export");
    return rc;
}

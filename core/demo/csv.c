/* `crm demo --csv DIR`: the data set as CSV files in the import format.
 *
 * Rows are generated one at a time into stack buffers and appended to a
 * fixed output buffer per file, flushed with fwrite: memory is flat and
 * there is no stdio formatting on the hot path (millions of rows/s). */
#include "demo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define OUT_CAP (256 * 1024)
#define ROW_MAX 4096  /* flush before a row could overflow the buffer */

typedef struct csv_out {
    FILE *f;
    char path[4096];
    char *buf;
    size_t n;
    bool first;  /* no separator before the next field */
    bool failed;
} csv_out;

static int csv_open(csv_out *w, const char *dir, const char *name, const char *header,
                    crm_err *err)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    w->buf = malloc(OUT_CAP);
    if (!w->buf)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    w->f = fopen(w->path, "wb");
    if (!w->f)
        return crm_err_set(err, CRM_EIO, "cannot write %s: %s", w->path, strerror(errno));
    w->first = true;
    size_t len = strlen(header);
    memcpy(w->buf, header, len);
    w->buf[len] = '\n';
    w->n = len + 1;
    return CRM_OK;
}

static void csv_flush(csv_out *w)
{
    if (w->n && fwrite(w->buf, 1, w->n, w->f) != w->n)
        w->failed = true;
    w->n = 0;
}

static int csv_close(csv_out *w, crm_err *err)
{
    int rc = CRM_OK;
    if (w->f) {
        csv_flush(w);
        if (fclose(w->f) != 0)
            w->failed = true;
        if (w->failed)
            rc = crm_err_set(err, CRM_EIO, "cannot write %s: %s", w->path, strerror(errno));
    }
    free(w->buf);
    memset(w, 0, sizeof *w);
    return rc;
}

static void sep(csv_out *w)
{
    if (!w->first)
        w->buf[w->n++] = ',';
    w->first = false;
}

/* RFC 4180: quote a field holding , " CR or LF, doubling the quotes. Fields
 * are bounded by the generator's buffers, so ROW_MAX headroom suffices. */
static void field(csv_out *w, const char *s)
{
    sep(w);
    size_t len = strlen(s);
    if (strcspn(s, ",\"\r\n") == len) {
        memcpy(w->buf + w->n, s, len);
        w->n += len;
        return;
    }
    w->buf[w->n++] = '"';
    for (; *s; s++) {
        if (*s == '"')
            w->buf[w->n++] = '"';
        w->buf[w->n++] = *s;
    }
    w->buf[w->n++] = '"';
}

static void field_int(csv_out *w, int64_t v)
{
    sep(w);
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        w->buf[w->n++] = '-';
    while (n)
        w->buf[w->n++] = tmp[--n];
}

/* Cents as "123.45": integer arithmetic, never floating point. */
static void field_money(csv_out *w, int64_t cents)
{
    field_int(w, cents / 100);
    int64_t c = cents % 100;
    w->buf[w->n++] = '.';
    w->buf[w->n++] = (char)('0' + (c < 0 ? -c : c) / 10);
    w->buf[w->n++] = (char)('0' + (c < 0 ? -c : c) % 10);
}

static void field_time(csv_out *w, int64_t t)
{
    sep(w);
    w->n += crm_demo_format_time(t, false, w->buf + w->n);
}

static void end_row(csv_out *w)
{
    w->buf[w->n++] = '\n';
    w->first = true;
    if (w->n > OUT_CAP - ROW_MAX)
        csv_flush(w);
}

/* ---- files -------------------------------------------------------------------- */

static void company_row(csv_out *w, const crm_demo_company *c)
{
    field(w, c->external_id);
    field(w, c->name);
    field(w, c->domain);
    field(w, c->phone);
    field(w, c->street);
    field(w, c->postal_code);
    field(w, c->city);
    field(w, c->country);
    end_row(w);
}

static void contact_row(csv_out *w, const crm_demo_contact *c)
{
    const char *text[] = {c->external_id, c->first_name, c->last_name, c->email,
                          c->phone, c->company_name, c->street, c->postal_code,
                          c->city, c->country, c->birth_date, c->source};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++)
        field(w, text[i]);
    char tags[256];
    size_t n = 0;
    for (int i = 0; i < c->n_tags; i++) {
        size_t len = strlen(c->tags[i]);
        if (n + len + 2 > sizeof tags)
            break;
        if (i)
            tags[n++] = '|';
        memcpy(tags + n, c->tags[i], len);
        n += len;
    }
    tags[n] = '\0';
    field(w, tags);
    end_row(w);
}

static void interaction_row(csv_out *w, const char *id, const crm_demo_contact *c,
                            const crm_demo_interaction *it)
{
    field(w, id);
    field(w, c->external_id);
    field(w, it->channel);
    field(w, it->direction);
    field(w, it->subject);
    field(w, it->body);
    field_time(w, it->occurred_at);
    end_row(w);
}

static void order_rows(csv_out *orders, csv_out *lines, const crm_demo_order *o)
{
    char contact_id[16];
    crm_demo_format_id(contact_id, sizeof contact_id, 'C', o->contact, 7);
    field(orders, o->external_id);
    field(orders, contact_id);
    field_time(orders, o->placed_at);
    field_money(orders, o->total);
    field(orders, "EUR");
    field(orders, o->status);
    end_row(orders);
    for (int i = 0; i < o->n_lines; i++) {
        field(lines, o->external_id);
        field(lines, o->lines[i].sku);
        field_int(lines, o->lines[i].quantity);
        field_money(lines, o->lines[i].unit_price);
        end_row(lines);
    }
}

static int write_companies(const crm_demo *g, const char *dir, crm_demo_stats *st,
                           crm_err *err)
{
    csv_out w;
    int rc = csv_open(&w, dir, "companies.csv",
                      "external_id,name,domain,phone,street,postal_code,city,country", err);
    for (int64_t i = 0; rc == CRM_OK && i < g->n_companies; i++) {
        crm_demo_company c;
        crm_demo_make_company(g, i, &c);
        company_row(&w, &c);
        st->companies++;
    }
    int rc2 = csv_close(&w, err);
    return rc != CRM_OK ? rc : rc2;
}

static int write_contacts(const crm_demo *g, const char *dir, crm_demo_stats *st,
                          crm_err *err)
{
    csv_out w, wi;
    int rc = csv_open(&w, dir, "contacts.csv",
                      "external_id,first_name,last_name,email,phone,company,street,"
                      "postal_code,city,country,birth_date,source,tags", err);
    if (rc == CRM_OK)
        rc = csv_open(&wi, dir, "interactions.csv",
                      "external_id,contact_external_id,channel,direction,subject,body,"
                      "occurred_at", err);
    else
        memset(&wi, 0, sizeof wi);
    for (int64_t i = 0; rc == CRM_OK && i < g->n_contacts; i++) {
        crm_demo_contact c;
        crm_demo_interaction its[CRM_DEMO_MAX_INTERACTIONS];
        crm_demo_make_contact(g, i, &c);
        contact_row(&w, &c);
        st->contacts++;
        int n = crm_demo_interactions(g, &c, its);
        for (int k = 0; k < n; k++) {
            char id[16];
            crm_demo_format_id(id, sizeof id, 'I', st->interactions++, 9);
            interaction_row(&wi, id, &c, &its[k]);
        }
    }
    int rc2 = csv_close(&w, err), rc3 = csv_close(&wi, err);
    return rc != CRM_OK ? rc : rc2 != CRM_OK ? rc2 : rc3;
}

static int write_orders(const crm_demo *g, const char *dir, crm_demo_stats *st, crm_err *err)
{
    csv_out wo, wl;
    int rc = csv_open(&wo, dir, "orders.csv",
                      "external_id,contact_external_id,placed_at,total,currency,status", err);
    if (rc == CRM_OK)
        rc = csv_open(&wl, dir, "order_lines.csv", "order_external_id,sku,quantity,unit_price",
                      err);
    else
        memset(&wl, 0, sizeof wl);
    for (int64_t i = 0; rc == CRM_OK && i < g->n_orders; i++) {
        crm_demo_order o;
        crm_demo_make_order(g, i, &o);
        order_rows(&wo, &wl, &o);
        st->orders++;
        st->order_lines += o.n_lines;
        if (!strcmp(o.status, "paid"))
            st->revenue += o.total;
    }
    int rc2 = csv_close(&wo, err), rc3 = csv_close(&wl, err);
    return rc != CRM_OK ? rc : rc2 != CRM_OK ? rc2 : rc3;
}

/* mkdir -p */
static int make_dir(const char *dir, crm_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return crm_err_set(err, CRM_EIO, "cannot create directory %s: %s", path,
                               strerror(errno));
        if (end)
            break;
        *p = '/';
    }
    return CRM_OK;
}

int crm_demo_write_csv(const crm_demo *g, const char *dir, crm_demo_stats *st, crm_err *err)
{
    int rc = make_dir(dir, err);
    if (rc == CRM_OK)
        rc = write_companies(g, dir, st, err);
    if (rc == CRM_OK)
        rc = write_contacts(g, dir, st, err);
    if (rc == CRM_OK)
        rc = write_orders(g, dir, st, err);
    return rc;
}

/* pipeline plugin — one quote: stored with its lines (amounts computed by
 * money.c), read back, shown as JSON with its VAT by rate, and its two
 * kernel timers: "quote-expire:ID" at the validity date and
 * "quote-follow:ID" follow_up_after a send. Every write runs inside the
 * caller's transaction. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

#define QUOTE_COLS                                                                               \
    "id, deal_id, contact_id, status, currency, discount_bp, net, vat, gross, valid_until,"    \
    " sent_at, message_id, decided_at, reason, order_id, created_at"

static int64_t int_col(crm_stmt *st, int c)
{
    return crm_sql_column_type(st, c) == CRM_SQL_NULL ? 0 : crm_sql_column_int64(st, c);
}

static void text_col(crm_stmt *st, int c, char *buf, size_t size)
{
    const char *t = crm_sql_column_text(st, c);
    snprintf(buf, size, "%s", t ? t : "");
}

static void read_row(crm_stmt *st, pl_quote *q)
{
    memset(q, 0, sizeof *q);
    q->id = int_col(st, 0);
    q->deal_id = int_col(st, 1);
    q->contact_id = int_col(st, 2);
    text_col(st, 3, q->status, sizeof q->status);
    text_col(st, 4, q->currency, sizeof q->currency);
    q->discount_bp = int_col(st, 5);
    q->net = int_col(st, 6);
    q->vat = int_col(st, 7);
    q->gross = int_col(st, 8);
    q->valid_until = int_col(st, 9);
    q->sent_at = int_col(st, 10);
    q->message_id = int_col(st, 11);
    q->decided_at = int_col(st, 12);
    text_col(st, 13, q->reason, sizeof q->reason);
    q->order_id = int_col(st, 14);
    q->created_at = int_col(st, 15);
}

static int read_lines(crm_plugin_ctx *ctx, pl_quote *q)
{
    crm_stmt *st = pl_prep(ctx, "SELECT sku, quantity, unit_price, vat_bp, net"
                                " FROM pipeline_quote_lines WHERE quote_id = ?1 ORDER BY id");
    if (!st)
        return pl_fail_db(ctx, "cannot read the quote's lines");
    crm_sql_bind_int64(st, 1, q->id);
    q->nlines = 0;
    while (q->nlines < PL_QUOTE_MAX_LINES && crm_sql_step(st) == CRM_SQL_ROW) {
        pl_quote_line *l = &q->lines[q->nlines++];
        text_col(st, 0, l->sku, sizeof l->sku);
        l->quantity = int_col(st, 1);
        l->unit_price = int_col(st, 2);
        l->vat_bp = int_col(st, 3);
        l->net = int_col(st, 4);
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

int pl_quote_get(crm_plugin_ctx *ctx, int64_t id, pl_quote *q)
{
    crm_stmt *st = pl_prep(ctx, "SELECT " QUOTE_COLS " FROM pipeline_quotes WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot read the quote");
    crm_sql_bind_int64(st, 1, id);
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW)
        read_row(st, q);
    crm_sql_finalize(st);
    if (rc == CRM_SQL_ROW)
        return read_lines(ctx, q);
    if (rc < 0)
        return pl_fail_db(ctx, "cannot read the quote");
    crm_set_error(ctx, "no quote %lld", (long long)id);
    return CRM_ENOTFOUND;
}

void pl_quote_number(const pl_quote *q, char *buf, size_t size)
{
    snprintf(buf, size, "Q-%06lld", (long long)q->id);
}

/* ---- writes ------------------------------------------------------------------- */

static int insert_line(crm_plugin_ctx *ctx, const pl_quote *q, const pl_quote_line *l)
{
    crm_stmt *st = pl_prep(ctx, "INSERT INTO pipeline_quote_lines(quote_id, contact_id, sku,"
                                " quantity, unit_price, vat_bp, net) VALUES(?1,?2,?3,?4,?5,?6,?7)");
    if (!st)
        return pl_fail_db(ctx, "cannot store a quote line");
    crm_sql_bind_int64(st, 1, q->id);
    crm_sql_bind_int64(st, 2, q->contact_id);
    crm_sql_bind_text(st, 3, l->sku);
    crm_sql_bind_int64(st, 4, l->quantity);
    crm_sql_bind_int64(st, 5, l->unit_price);
    crm_sql_bind_int64(st, 6, l->vat_bp);
    crm_sql_bind_int64(st, 7, l->net);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot store a quote line") : CRM_OK;
}

static int insert_head(crm_plugin_ctx *ctx, pl_quote *q)
{
    crm_stmt *st = pl_prep(ctx, "INSERT INTO pipeline_quotes(deal_id, contact_id, status, currency,"
                                " discount_bp, net, vat, gross, valid_until, created_at)"
                                " VALUES(?1,?2,'draft',?3,?4,?5,?6,?7,?8,?9)");
    if (!st)
        return pl_fail_db(ctx, "cannot store the quote");
    crm_sql_bind_int64(st, 1, q->deal_id);
    crm_sql_bind_int64(st, 2, q->contact_id);
    crm_sql_bind_text(st, 3, q->currency);
    crm_sql_bind_int64(st, 4, q->discount_bp);
    crm_sql_bind_int64(st, 5, q->net);
    crm_sql_bind_int64(st, 6, q->vat);
    crm_sql_bind_int64(st, 7, q->gross);
    crm_sql_bind_int64(st, 8, q->valid_until);
    crm_sql_bind_int64(st, 9, q->created_at);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return pl_fail_db(ctx, "cannot store the quote");
    q->id = crm_sql_last_insert_id(ctx);
    snprintf(q->status, sizeof q->status, "draft");
    return CRM_OK;
}

/* The event payload every quote.* event carries (contact_id: the timeline). */
static json_t *event_payload(const pl_quote *q)
{
    return json_pack("{sI sI sI ss sI ss}", "quote_id", (json_int_t)q->id, "deal_id",
                     (json_int_t)q->deal_id, "contact_id", (json_int_t)q->contact_id, "status",
                     q->status, "gross", (json_int_t)q->gross, "currency", q->currency);
}

int pl_quote_emit(crm_plugin_ctx *ctx, const pl_quote *q, const char *type)
{
    return pl_emit(ctx, type, event_payload(q));
}

static int timer_key(char *buf, size_t size, const char *prefix, int64_t id)
{
    snprintf(buf, size, "%s%lld", prefix, (long long)id);
    return CRM_OK;
}

int pl_quote_schedule(crm_plugin_ctx *ctx, const pl_quote *q, const char *prefix, int64_t due)
{
    char key[48], payload[96];
    timer_key(key, sizeof key, prefix, q->id);
    snprintf(payload, sizeof payload, "{\"quote_id\":%lld,\"contact_id\":%lld}", (long long)q->id,
             (long long)q->contact_id);
    return crm_schedule(ctx, key, due, payload);
}

int pl_quote_cancel_timers(crm_plugin_ctx *ctx, const pl_quote *q)
{
    char key[48];
    timer_key(key, sizeof key, PL_QUOTE_EXPIRE, q->id);
    int rc = crm_cancel(ctx, key, NULL);
    timer_key(key, sizeof key, PL_QUOTE_FOLLOW, q->id);
    return rc == CRM_OK ? crm_cancel(ctx, key, NULL) : rc;
}

int pl_quote_insert(crm_plugin_ctx *ctx, pl_quote *q)
{
    int rc = insert_head(ctx, q);
    for (size_t i = 0; rc == CRM_OK && i < q->nlines; i++)
        rc = insert_line(ctx, q, &q->lines[i]);
    if (rc == CRM_OK)
        rc = pl_quote_schedule(ctx, q, PL_QUOTE_EXPIRE, q->valid_until);
    if (rc == CRM_OK)
        rc = pl_quote_emit(ctx, q, "quote.created");
    return rc;
}

int pl_quote_set_status(crm_plugin_ctx *ctx, pl_quote *q, const char *status, const char *reason)
{
    snprintf(q->status, sizeof q->status, "%s", status);
    snprintf(q->reason, sizeof q->reason, "%s", reason ? reason : "");
    q->decided_at = pl_now(ctx);
    crm_stmt *st = pl_prep(ctx, "UPDATE pipeline_quotes SET status = ?2, reason = ?3,"
                                " decided_at = ?4, order_id = ?5 WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot update the quote");
    crm_sql_bind_int64(st, 1, q->id);
    crm_sql_bind_text(st, 2, q->status);
    if (reason)
        crm_sql_bind_text(st, 3, reason);
    else
        crm_sql_bind_null(st, 3);
    crm_sql_bind_int64(st, 4, q->decided_at);
    if (q->order_id)
        crm_sql_bind_int64(st, 5, q->order_id);
    else
        crm_sql_bind_null(st, 5);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot update the quote") : CRM_OK;
}

/* ---- JSON ---------------------------------------------------------------------- */

/* A rate in basis points as a percentage text: 2000 -> "20", 550 -> "5.5". */
static void rate_text(int64_t bp, char *buf, size_t size)
{
    if (bp % 100 == 0)
        snprintf(buf, size, "%lld", (long long)(bp / 100));
    else if (bp % 10 == 0)
        snprintf(buf, size, "%lld.%lld", (long long)(bp / 100), (long long)(bp % 100 / 10));
    else
        snprintf(buf, size, "%lld.%02lld", (long long)(bp / 100), (long long)(bp % 100));
}

static json_t *lines_json(const pl_quote *q)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < q->nlines; i++) {
        const pl_quote_line *l = &q->lines[i];
        char rate[16];
        rate_text(l->vat_bp, rate, sizeof rate);
        json_array_append_new(a, json_pack("{ss sI sI ss sI}", "sku", l->sku, "quantity",
                                           (json_int_t)l->quantity, "unit_price",
                                           (json_int_t)l->unit_price, "vat_rate", rate, "net",
                                           (json_int_t)l->net));
    }
    return a;
}

/* VAT by rate, recomputed from the stored lines (the same arithmetic). */
static json_t *rates_json(const pl_quote *q)
{
    pl_quote_line lines[PL_QUOTE_MAX_LINES];
    pl_quote_totals t;
    memcpy(lines, q->lines, q->nlines * sizeof lines[0]);
    json_t *a = json_array();
    if (!a || pl_quote_compute(lines, q->nlines, q->discount_bp, &t) != 0)
        return a;
    for (size_t r = 0; r < t.nrates; r++) {
        char rate[16];
        rate_text(t.rate_bp[r], rate, sizeof rate);
        json_array_append_new(a, json_pack("{ss sI sI}", "rate", rate, "net",
                                           (json_int_t)t.rate_net[r], "vat",
                                           (json_int_t)t.rate_vat[r]));
    }
    return a;
}

/* A time as ISO text, or JSON null when 0. */
static json_t *time_or_null(crm_plugin_ctx *ctx, int64_t t)
{
    char buf[40];
    if (!t)
        return json_null();
    pl_time_of(ctx, t, buf, sizeof buf);
    return json_string(buf);
}

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

json_t *pl_quote_json(crm_plugin_ctx *ctx, const pl_quote *q)
{
    char number[24], discount[16];
    pl_quote_number(q, number, sizeof number);
    rate_text(q->discount_bp, discount, sizeof discount);
    json_t *o = json_pack("{sI ss sI sI ss ss ss}", "id", (json_int_t)q->id, "number", number,
                          "deal_id", (json_int_t)q->deal_id, "contact_id",
                          (json_int_t)q->contact_id, "status", q->status, "currency",
                          q->currency, "discount", discount);
    if (!o)
        return NULL;
    json_object_set_new(o, "lines", lines_json(q));
    json_object_set_new(o, "net", json_integer(q->net));
    json_object_set_new(o, "vat_by_rate", rates_json(q));
    json_object_set_new(o, "vat", json_integer(q->vat));
    json_object_set_new(o, "gross", json_integer(q->gross));
    json_object_set_new(o, "valid_until", time_or_null(ctx, q->valid_until));
    json_object_set_new(o, "sent_at", time_or_null(ctx, q->sent_at));
    json_object_set_new(o, "message_id", id_or_null(q->message_id));
    json_object_set_new(o, "decided_at", time_or_null(ctx, q->decided_at));
    json_object_set_new(o, "reason", q->reason[0] ? json_string(q->reason) : json_null());
    json_object_set_new(o, "order_id", id_or_null(q->order_id));
    json_object_set_new(o, "created_at", time_or_null(ctx, q->created_at));
    return o;
}

/* ---- timers ---------------------------------------------------------------------- */

int pl_quote_expire_fire(crm_plugin_ctx *ctx, int64_t id)
{
    pl_quote q;
    int rc = pl_quote_get(ctx, id, &q);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK; /* erased since */
    if (rc != CRM_OK || (strcmp(q.status, "draft") && strcmp(q.status, "sent")))
        return rc; /* answered before its validity ended */
    rc = pl_quote_set_status(ctx, &q, "expired", NULL);
    if (rc == CRM_OK)
        rc = pl_quote_cancel_timers(ctx, &q);
    return rc == CRM_OK ? pl_quote_emit(ctx, &q, "quote.expired") : rc;
}

int pl_quote_follow_fire(crm_plugin_ctx *ctx, int64_t id)
{
    pl_quote q;
    pl_deal d;
    int rc = pl_quote_get(ctx, id, &q);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK;
    if (rc != CRM_OK || strcmp(q.status, "sent"))
        return rc; /* answered (or expired) meanwhile: nothing to chase */
    if ((rc = pl_deal_get(ctx, q.deal_id, &d)) != CRM_OK)
        return rc == CRM_ENOTFOUND ? CRM_OK : rc;
    char number[24], subject[400];
    pl_quote_number(&q, number, sizeof number);
    snprintf(subject, sizeof subject, "Follow up quote %s (%s)", number, d.title);
    rc = pl_deal_task(ctx, &d, "follow_up", subject);
    return rc == CRM_OK ? pl_quote_emit(ctx, &q, "quote.follow_up_due") : rc;
}

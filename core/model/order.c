/* Products and orders. Money is integer minor units with an ISO 4217 code;
 * an order's status moves along a small state machine, each step an event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

static const char *const statuses[] = {"placed", "paid", "cancelled", "refunded", NULL};

/* The allowed moves; anything else is refused. */
static const struct {
    const char *from, *to;
} transitions[] = {
    {"placed", "paid"},
    {"placed", "cancelled"},
    {"paid", "refunded"},
    {"paid", "cancelled"},
};

static int step_done(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, what, err);
}

/* Upper-cases *code (NULL: the configured currency) and checks it is ISO 4217-shaped. */
static int normalise_currency(crm_kernel *k, char **code, crm_err *err)
{
    if (!*code && !(*code = strdup(k->cfg->currency)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (char *p = *code; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    if (crm_currency_decimals(*code) < 0)
        return crm_hygiene_reject(err, "currency", *code,
                                  "is not an ISO 4217 currency code (expected e.g. EUR, USD)");
    return CRM_OK;
}

static int money_decimals(const char *currency)
{
    int d = crm_currency_decimals(currency ? currency : "");
    return d < 0 ? 2 : d;
}

/* "12.50 EUR" into buf. */
static const char *money_text(int64_t minor, const char *currency, char *buf, size_t size)
{
    char amount[48];
    crm_format_money(minor, money_decimals(currency), amount, sizeof amount);
    snprintf(buf, size, "%s %s", amount, currency ? currency : "");
    return buf;
}

static json_t *money_json(int64_t minor, const char *currency)
{
    char amount[48];
    crm_format_money(minor, money_decimals(currency), amount, sizeof amount);
    return json_string(amount);
}

/* ---- products ------------------------------------------------------------- */

void crm_product_clear(crm_product *p)
{
    free(p->sku);
    free(p->name);
    free(p->currency);
    memset(p, 0, sizeof *p);
}

static int normalise_product(crm_kernel *k, crm_product *p, crm_err *err)
{
    int rc = crm_clean_optional("sku", &p->sku, err);
    if (rc == CRM_OK && !p->sku)
        rc = crm_err_set(err, CRM_EINVAL, "sku: is required (the product's reference)");
    if (rc == CRM_OK)
        rc = crm_clean_optional("name", &p->name, err);
    if (rc == CRM_OK && p->price < 0)
        rc = crm_err_set(err, CRM_EINVAL, "price: %lld is negative", (long long)p->price);
    if (rc == CRM_OK)
        rc = normalise_currency(k, &p->currency, err);
    return rc;
}

static int write_product(crm_kernel *k, crm_product *p, int64_t existing, crm_err *err)
{
    const char *sql = existing ? "UPDATE products SET name=coalesce(?,name), price=?, currency=? "
                                 "WHERE id=?"
                               : "INSERT INTO products(name, price, currency, created_at, sku) "
                                 "VALUES(?,?,?,?,?)";
    if (!existing && !p->name)
        return crm_err_set(err, CRM_EINVAL, "name: is required for a new product (sku %s)", p->sku);
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, p->name);
    sqlite3_bind_int64(st, 2, p->price);
    crm_bind_text(st, 3, p->currency);
    sqlite3_bind_int64(st, 4, existing ? existing : k->now); /* WHERE id / created_at */
    if (!existing)
        crm_bind_text(st, 5, p->sku);
    int rc = step_done(k, st, "cannot store product", err);
    p->id = existing ? existing : sqlite3_last_insert_rowid(crm_store_db(k->store));
    return rc;
}

int crm_product_upsert(crm_kernel *k, crm_product *p, int64_t *id_out, crm_err *err)
{
    int64_t existing = 0;
    int rc = normalise_product(k, p, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = crm_query_id(k, "SELECT id FROM products WHERE sku=?", p->sku, 0, &existing, err);
    if (rc == CRM_OK)
        rc = write_product(k, p, existing, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, existing ? "product.updated" : "product.created",
                            json_pack("{sIss}", "product_id", (json_int_t)p->id, "sku", p->sku),
                            NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    rc = crm_kernel_commit(k, err);
    if (rc == CRM_OK && id_out)
        *id_out = p->id;
    return rc;
}

/* ---- order validation ------------------------------------------------------ */

void crm_order_clear(crm_order *o)
{
    free(o->external_id);
    free(o->currency);
    free(o->status);
    free(o->cart_id);
    for (size_t i = 0; i < o->n_lines; i++)
        free(o->lines[i].sku);
    free(o->lines);
    memset(o, 0, sizeof *o);
}

static int check_status(const char *status, crm_err *err)
{
    if (crm_str_in(status, statuses))
        return CRM_OK;
    return crm_hygiene_reject(err, "status", status,
                              "is not an order status (expected placed, paid, cancelled or "
                              "refunded)");
}

static int normalise_line(crm_order_line *l, size_t n, crm_err *err)
{
    char field[32];
    snprintf(field, sizeof field, "line %zu: sku", n);
    int rc = crm_clean_optional(field, &l->sku, err);
    if (rc == CRM_OK && !l->sku)
        rc = crm_err_set(err, CRM_EINVAL, "%s: is required", field);
    if (rc == CRM_OK && l->quantity <= 0)
        rc = crm_err_set(err, CRM_EINVAL, "line %zu: quantity: %lld must be at least 1", n,
                         (long long)l->quantity);
    if (rc == CRM_OK && l->unit_price < 0)
        rc = crm_err_set(err, CRM_EINVAL, "line %zu: unit price must not be negative", n);
    return rc;
}

/* Sums the lines into *sum, refusing an overflow. */
static int sum_lines(const crm_order *o, int64_t *sum, crm_err *err)
{
    *sum = 0;
    for (size_t i = 0; i < o->n_lines; i++) {
        int64_t amount;
        if (__builtin_mul_overflow(o->lines[i].quantity, o->lines[i].unit_price, &amount) ||
            __builtin_add_overflow(*sum, amount, sum))
            return crm_err_set(err, CRM_EINVAL, "line %zu: amount is too large", i + 1);
    }
    return CRM_OK;
}

static int check_total(crm_order *o, crm_err *err)
{
    if (o->total < 0)
        return crm_err_set(err, CRM_EINVAL,
                           "total: must not be negative (record a refund with the status "
                           "'refunded')");
    int64_t sum;
    int rc = sum_lines(o, &sum, err);
    if (rc != CRM_OK || !o->n_lines)
        return rc;
    if (!o->total) {
        o->total = sum;
        return CRM_OK;
    }
    if (o->total == sum)
        return CRM_OK;
    char a[64], b[64];
    return crm_err_set(err, CRM_EINVAL,
                       "total: %s does not match the sum of the lines (%s); correct the total "
                       "or the line prices, or leave the total out",
                       money_text(o->total, o->currency, a, sizeof a),
                       money_text(sum, o->currency, b, sizeof b));
}

static int normalise_order(crm_kernel *k, crm_order *o, crm_err *err)
{
    int rc = crm_clean_optional("external_id", &o->external_id, err);
    if (rc == CRM_OK && !o->status && !(o->status = strdup("placed")))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK) {
        crm_str_lower_ascii(o->status);
        rc = check_status(o->status, err);
    }
    if (rc == CRM_OK)
        rc = normalise_currency(k, &o->currency, err);
    if (rc == CRM_OK && o->placed_at < 0)
        rc = crm_err_set(err, CRM_EINVAL, "placed_at: must be a date after 1970");
    if (rc == CRM_OK && !o->placed_at)
        o->placed_at = k->now;
    for (size_t i = 0; rc == CRM_OK && i < o->n_lines; i++)
        rc = normalise_line(&o->lines[i], i + 1, err);
    if (rc == CRM_OK)
        rc = check_total(o, err);
    return rc;
}

/* ---- order writes ------------------------------------------------------------ */

/* Formatted directly (keys sorted, as crm_event_emit_text wants): orders
 * are written in bulk by imports, and currency and status are validated
 * words (ISO 4217 letters, a status name) that need no escaping. */
static int emit_order_event(crm_kernel *k, const char *type, const crm_order *o, crm_err *err)
{
    char payload[256];
    snprintf(payload, sizeof payload,
             "{\"contact_id\":%lld,\"currency\":\"%s\",\"dataver\":%d,\"order_id\":%lld,"
             "\"status\":\"%s\",\"total\":%lld}",
             (long long)o->contact_id, o->currency, CRM_EVENT_DATAVER, (long long)o->id, o->status,
             (long long)o->total);
    return crm_event_emit_text(k, type, payload, NULL, err);
}

/* Why an order insert failed its constraints: the same messages as before
 * the insert relied on them (contact first, then the duplicate). */
static int refused_refs(crm_kernel *k, const crm_order *o, int64_t *dup, crm_err *err)
{
    int64_t found;
    int rc =
        crm_query_id(k, "SELECT id FROM contacts WHERE id=?", NULL, o->contact_id, &found, err);
    if (rc == CRM_OK && !found)
        return crm_err_set(err, CRM_ENOTFOUND,
                           "contact: no contact with id %lld (add the contact first)",
                           (long long)o->contact_id);
    if (rc == CRM_OK && o->external_id)
        rc = crm_query_id(k, "SELECT id FROM orders WHERE external_id=?", o->external_id, 0, dup,
                          err);
    if (rc == CRM_OK && *dup)
        return crm_err_set(err, CRM_EEXISTS,
                           "external_id: '%s' is already order %lld (it was imported before)",
                           o->external_id, (long long)*dup);
    return rc;
}

static int insert_lines(crm_kernel *k, const crm_order *o, crm_err *err)
{
    for (size_t i = 0; i < o->n_lines; i++) {
        sqlite3_stmt *st = crm_store_stmt(
            k->store,
            "INSERT INTO order_lines(order_id, product_id, sku, quantity, unit_price) "
            "VALUES(?1, (SELECT id FROM products WHERE sku=?2), ?2, ?3, ?4)",
            err);
        if (!st)
            return err ? err->code : CRM_EDB;
        sqlite3_bind_int64(st, 1, o->id);
        crm_bind_text(st, 2, o->lines[i].sku);
        sqlite3_bind_int64(st, 3, o->lines[i].quantity);
        sqlite3_bind_int64(st, 4, o->lines[i].unit_price);
        int rc = step_done(k, st, "cannot store order line", err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* The UNIQUE external_id and the contact's foreign key refuse a duplicate or
 * an unknown contact before anything is written: no lookups ahead of it. */
static int insert_order(crm_kernel *k, crm_order *o, int64_t *dup, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO orders(external_id, contact_id, placed_at, total, currency, status, "
        "created_at, updated_at) VALUES(?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, o->external_id);
    sqlite3_bind_int64(st, 2, o->contact_id);
    sqlite3_bind_int64(st, 3, o->placed_at);
    sqlite3_bind_int64(st, 4, o->total);
    crm_bind_text(st, 5, o->currency);
    crm_bind_text(st, 6, o->status);
    sqlite3_bind_int64(st, 7, k->now);
    sqlite3_bind_int64(st, 8, k->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        int ext = sqlite3_extended_errcode(crm_store_db(k->store));
        int code = crm_store_error(k->store, "cannot store order", err);
        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
            rc = refused_refs(k, o, dup, err);
            if (rc != CRM_OK)
                return rc;
        }
        return code;
    }
    o->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    o->created_at = o->updated_at = k->now;
    return insert_lines(k, o, err);
}

/* order.placed always; then the event of the status it arrived in (an
 * imported order may already be paid, cancelled or refunded). */
static int emit_order_events(crm_kernel *k, const crm_order *o, crm_err *err)
{
    int rc = emit_order_event(k, "order.placed", o, err);
    if (rc == CRM_OK && strcmp(o->status, "placed") != 0) {
        char type[32];
        snprintf(type, sizeof type, "order.%s", o->status);
        rc = emit_order_event(k, type, o, err);
    }
    return rc;
}

int crm_order_add(crm_kernel *k, crm_order *o, int64_t *id_out, crm_err *err)
{
    if (id_out)
        *id_out = 0;
    int64_t dup = 0;
    int rc = normalise_order(k, o, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = insert_order(k, o, &dup, err);
    if (rc == CRM_OK)
        rc = emit_order_events(k, o, err);
    if (rc == CRM_OK && strcmp(o->status, "paid") == 0)
        rc = crm_lifecycle_order_paid(k, o->contact_id, o->id, err);
    if (rc == CRM_OK)
        rc = crm_cart_order_placed(k, o->id, o->contact_id, o->placed_at, o->cart_id, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (id_out)
        *id_out = rc == CRM_OK ? o->id : dup;
    return rc;
}

static bool transition_allowed(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (strcmp(transitions[i].from, from) == 0 && strcmp(transitions[i].to, to) == 0)
            return true;
    return false;
}

static int move_status(crm_kernel *k, crm_order *o, const char *to, crm_err *err)
{
    if (strcmp(o->status, to) == 0)
        return crm_err_set(err, CRM_EINVAL, "order %lld is already %s", (long long)o->id, to);
    if (!transition_allowed(o->status, to))
        return crm_err_set(err, CRM_EINVAL,
                           "order %lld is %s and cannot become %s (allowed: placed -> paid or "
                           "cancelled, paid -> refunded or cancelled)",
                           (long long)o->id, o->status, to);
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "UPDATE orders SET status=?, updated_at=? WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, to);
    sqlite3_bind_int64(st, 2, k->now);
    sqlite3_bind_int64(st, 3, o->id);
    int rc = step_done(k, st, "cannot update order", err);
    char *fresh = strdup(to);
    if (rc == CRM_OK && !fresh)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    crm_str_replace(&o->status, fresh);
    if (rc == CRM_OK) {
        char type[32];
        snprintf(type, sizeof type, "order.%s", to);
        rc = emit_order_event(k, type, o, err);
    }
    if (rc == CRM_OK && strcmp(to, "paid") == 0)
        rc = crm_lifecycle_order_paid(k, o->contact_id, o->id, err);
    return rc;
}

int crm_order_set_status(crm_kernel *k, int64_t id, const char *status, crm_err *err)
{
    char to[16] = "";
    if (status && strlen(status) < sizeof to) {
        memcpy(to, status, strlen(status) + 1);
        crm_str_lower_ascii(to);
    }
    int rc = check_status(*to ? to : status ? status : "", err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    crm_order o;
    rc = crm_order_get(k, id, &o, err);
    if (rc == CRM_OK) {
        rc = move_status(k, &o, to, err);
        crm_order_clear(&o);
    }
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

/* ---- reading --------------------------------------------------------------------- */

#define SELECT_ORDER                                                                               \
    "SELECT id, external_id, contact_id, placed_at, total, currency, status, "                     \
    "created_at, updated_at FROM orders "

static int add_line(crm_order *o, const char *sku, int64_t quantity, int64_t unit_price)
{
    char *copy = strdup(sku ? sku : "");
    crm_order_line *l = copy ? CRM_ARRAY_APPEND(o->lines, o->n_lines) : NULL;
    if (!l) {
        free(copy);
        return CRM_ENOMEM;
    }
    l->sku = copy;
    l->quantity = quantity;
    l->unit_price = unit_price;
    return CRM_OK;
}

static int load_lines(crm_kernel *k, crm_order *o, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT sku, quantity, unit_price FROM order_lines WHERE order_id=? ORDER BY id",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, o->id);
    int rc, result = CRM_OK;
    while (result == CRM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        result = add_line(o, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                          sqlite3_column_int64(st, 2));
    sqlite3_reset(st);
    if (result != CRM_OK)
        return crm_err_set(err, result, "out of memory");
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot read order lines", err);
}

static void read_row(sqlite3_stmt *st, crm_order *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    o->external_id = crm_column_strdup(st, 1);
    o->contact_id = sqlite3_column_int64(st, 2);
    o->placed_at = sqlite3_column_int64(st, 3);
    o->total = sqlite3_column_int64(st, 4);
    o->currency = crm_column_strdup(st, 5);
    o->status = crm_column_strdup(st, 6);
    o->created_at = sqlite3_column_int64(st, 7);
    o->updated_at = sqlite3_column_int64(st, 8);
}

int crm_order_get(crm_kernel *k, int64_t id, crm_order *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = crm_store_stmt(k->store, SELECT_ORDER "WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_row(st, out);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE
                   ? crm_err_set(err, CRM_ENOTFOUND, "no order with id %lld (see `crm order list`)",
                                 (long long)id)
                   : crm_store_error(k->store, "cannot read order", err);
    rc = load_lines(k, out, err);
    if (rc != CRM_OK)
        crm_order_clear(out);
    return rc;
}

int crm_order_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    static const crm_ref_rule rules[] = {
        {CRM_REF_ID, "SELECT id FROM orders WHERE id=?"},
        {CRM_REF_EXTERNAL, "SELECT id FROM orders WHERE external_id=?"},
    };
    return crm_resolve_ref(k, "order", ref, rules, sizeof rules / sizeof rules[0], id, err);
}

/* Money appears twice: "total" as the exact decimal text for people and
 * "total_minor" as the stored integer for programs. */
json_t *crm_order_to_json(const crm_order *o)
{
    json_t *lines = json_array();
    for (size_t i = 0; i < o->n_lines; i++) {
        const crm_order_line *l = &o->lines[i];
        json_t *line = json_pack("{sssI}", "sku", l->sku, "quantity", (json_int_t)l->quantity);
        json_object_set_new(line, "unit_price", money_json(l->unit_price, o->currency));
        json_object_set_new(line, "unit_price_minor", json_integer(l->unit_price));
        json_array_append_new(lines, line);
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_integer(o->id));
    json_object_set_new(obj, "external_id",
                        o->external_id ? json_string(o->external_id) : json_null());
    json_object_set_new(obj, "contact_id", json_integer(o->contact_id));
    json_object_set_new(obj, "placed_at", crm_json_time(o->placed_at));
    json_object_set_new(obj, "total", money_json(o->total, o->currency));
    json_object_set_new(obj, "total_minor", json_integer(o->total));
    json_object_set_new(obj, "currency", json_string(o->currency ? o->currency : ""));
    json_object_set_new(obj, "status", json_string(o->status ? o->status : ""));
    json_object_set_new(obj, "lines", lines);
    json_object_set_new(obj, "created_at", crm_json_time(o->created_at));
    json_object_set_new(obj, "updated_at", crm_json_time(o->updated_at));
    return obj;
}

typedef struct list_ctx {
    crm_kernel *k;
    int (*fn)(const crm_order *o, void *ud);
    void *ud;
    crm_err *err;
} list_ctx;

static int list_row(sqlite3_stmt *st, void *ud)
{
    list_ctx *ctx = ud;
    crm_order o;
    read_row(st, &o);
    int rc = load_lines(ctx->k, &o, ctx->err);
    if (rc == CRM_OK)
        rc = ctx->fn(&o, ctx->ud) ? 1 : CRM_OK;
    crm_order_clear(&o);
    return rc;
}

int crm_order_list(crm_kernel *k, int64_t contact_id, const char *status, int64_t limit,
                   int64_t offset, int (*fn)(const crm_order *o, void *ud), void *ud, crm_err *err)
{
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)contact_id);
    crm_sql q;
    crm_sql_init(&q, SELECT_ORDER);
    if (contact_id > 0)
        crm_sql_where(&q, "contact_id = CAST(? AS INTEGER)", id_text);
    if (status && *status)
        crm_sql_where(&q, "status = lower(?)", status);
    crm_sql_page(&q, "placed_at DESC, id DESC", limit, offset);
    list_ctx ctx = {k, fn, ud, err};
    int rc = crm_sql_each(k, &q, list_row, &ctx, err);
    crm_sql_free(&q);
    return rc;
}

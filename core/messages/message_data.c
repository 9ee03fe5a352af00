/* The data a message template sees: the contact, the kernel's order
 * aggregates (money in the locale's style) and the queuer's payload. The
 * names match crm_template_shape, which checks templates against them; a
 * payload naming a cart_id gets the cart (`cart.total`, `cart.items[]`). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "messages/message_data.h"
#include "messages/money_text.h"
#include "model.h"

/* Orders that count: a cancelled or refunded order was not a purchase. */
#define COUNTED "status='placed' OR status='paid'"

static int add_aggregates(crm_kernel *k, int64_t contact_id, json_t *o, crm_err *err)
{
    const char *country = k->cfg->country, *currency = k->cfg->currency;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT count(*), coalesce(sum(CASE WHEN currency=?2 THEN total END), 0)"
        " FROM orders WHERE contact_id=?1 AND (" COUNTED ")", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, contact_id);
    sqlite3_bind_text(st, 2, currency, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return crm_store_error(k->store, "cannot read the contact's orders", err);
    }
    char money[96];
    json_object_set_new(o, "orders_count", json_integer(sqlite3_column_int64(st, 0)));
    crm_money_text(country, sqlite3_column_int64(st, 1), currency, money, sizeof money);
    json_object_set_new(o, "total_spent", json_string(money));
    sqlite3_reset(st);
    st = crm_store_stmt(k->store,
                        "SELECT id, total, currency, placed_at, status FROM orders"
                        " WHERE contact_id=? AND (" COUNTED ") ORDER BY placed_at DESC, id DESC"
                        " LIMIT 1", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, contact_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        crm_money_text(country, sqlite3_column_int64(st, 1),
                       (const char *)sqlite3_column_text(st, 2), money, sizeof money);
        time_t t = (time_t)sqlite3_column_int64(st, 3);
        struct tm tm;
        char day[16];
        strftime(day, sizeof day, "%Y-%m-%d", gmtime_r(&t, &tm));
        json_object_set_new(o, "last_order",
                            json_pack("{sIssssss}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                                      "total", money, "placed_at", day, "status",
                                      (const char *)sqlite3_column_text(st, 4)));
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot read the contact's last order", err);
}

static json_t *cart_money(const crm_kernel *k, int64_t minor, const char *currency)
{
    char money[96];
    crm_money_text(k->cfg->country, minor, currency, money, sizeof money);
    return json_string(money);
}

static int add_cart_items(crm_kernel *k, int64_t cart_id, const char *currency, json_t *cart,
                          crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT sku, coalesce(name, sku), quantity,"
                                      " unit_price FROM cart_lines WHERE cart_id=?"
                                      " ORDER BY position", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, cart_id);
    json_t *items = json_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t qty = sqlite3_column_int64(st, 2), unit = sqlite3_column_int64(st, 3);
        json_array_append_new(
            items, json_pack("{sssssIsoso}", "sku", (const char *)sqlite3_column_text(st, 0),
                             "name", (const char *)sqlite3_column_text(st, 1), "quantity",
                             (json_int_t)qty, "unit_price", cart_money(k, unit, currency),
                             "amount", cart_money(k, unit * qty, currency)));
    }
    sqlite3_reset(st);
    json_object_set_new(cart, "items", items);
    return step == SQLITE_DONE ? CRM_OK
                               : crm_store_error(k->store, "cannot read the cart's lines", err);
}

/* A message about a cart ("cart_id" in its data) sees the cart as it is
 * when the message is queued: lines may have changed since the trigger. */
static int add_cart(crm_kernel *k, int64_t contact_id, int64_t cart_id, json_t *o, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT external_id, value, currency,"
                                      " coalesce(device, ''), status FROM carts"
                                      " WHERE id=?1 AND contact_id=?2", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, cart_id);
    sqlite3_bind_int64(st, 2, contact_id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sqlite3_reset(st);
        return step == SQLITE_DONE
                   ? crm_err_set(err, CRM_ENOTFOUND, "field 'data': cart_id %lld is not a "
                                 "cart of contact %lld", (long long)cart_id,
                                 (long long)contact_id)
                   : crm_store_error(k->store, "cannot read the cart", err);
    }
    char currency[8];
    snprintf(currency, sizeof currency, "%s", (const char *)sqlite3_column_text(st, 2));
    int64_t value = sqlite3_column_int64(st, 1);
    json_t *cart = json_pack("{sIsssIsossssss}", "id", (json_int_t)cart_id, "ref",
                             (const char *)sqlite3_column_text(st, 0), "value", (json_int_t)value,
                             "total", cart_money(k, value, currency), "currency", currency,
                             "device", (const char *)sqlite3_column_text(st, 3), "status",
                             (const char *)sqlite3_column_text(st, 4));
    sqlite3_reset(st);
    if (!cart)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    json_object_set_new(o, "cart", cart);
    return add_cart_items(k, cart_id, currency, cart, err);
}

int crm_message_data(crm_kernel *k, int64_t contact_id, const json_t *payload, json_t **out,
                     crm_err *err)
{
    *out = NULL;
    crm_contact c = {0};
    int rc = crm_contact_get(k, contact_id, &c, err);
    if (rc != CRM_OK)
        return rc;
    json_t *o = json_object();
    json_t *contact = crm_contact_to_json(&c);
    crm_contact_clear(&c);
    if (!o || !contact) {
        json_decref(o);
        json_decref(contact);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    json_object_set_new(o, "contact", contact);
    rc = add_aggregates(k, contact_id, o, err);
    json_t *cart_id = payload ? json_object_get(payload, "cart_id") : NULL;
    if (rc == CRM_OK && json_is_integer(cart_id) && !json_object_get(payload, "cart"))
        rc = add_cart(k, contact_id, json_integer_value(cart_id), o, err);
    if (rc == CRM_OK && payload) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)payload, key, v) {
            if (json_object_get(o, key)) {
                rc = crm_err_set(err, CRM_EINVAL, "field 'data': '%s' is a name every message "
                                 "has already; rename it", key);
                break;
            }
            json_object_set(o, key, v);
        }
    }
    if (rc != CRM_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return CRM_OK;
}

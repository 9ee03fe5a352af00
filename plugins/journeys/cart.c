/* journeys plugin — the cart a message talks about. A journey entered on a
 * cart event sends the cart as it is when the step runs (lines may have
 * changed since), so the reminder names what is in it, not "your cart". */
#include <stdio.h>

#include "jrn_int.h"

static json_t *money(crm_plugin_ctx *ctx, int64_t minor, const char *currency)
{
    char buf[64];
    if (crm_format_money(ctx, minor, currency, buf, sizeof buf) != CRM_OK)
        snprintf(buf, sizeof buf, "%lld %s", (long long)minor, currency);
    return json_string(buf);
}

static json_t *cart_items(crm_plugin_ctx *ctx, int64_t cart_id, const char *currency)
{
    crm_stmt *st = jrn_prep(ctx, "SELECT sku, coalesce(name, sku), quantity, unit_price"
                                 " FROM cart_lines WHERE cart_id = ?1 ORDER BY position");
    json_t *items = json_array();
    if (!st)
        return items;
    crm_sql_bind_int64(st, 1, cart_id);
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        int64_t qty = crm_sql_column_int64(st, 2), unit = crm_sql_column_int64(st, 3);
        json_array_append_new(items, json_pack("{sssssIsoso}", "sku", crm_sql_column_text(st, 0),
                                               "name", crm_sql_column_text(st, 1), "quantity",
                                               (json_int_t)qty, "unit_price",
                                               money(ctx, unit, currency), "amount",
                                               money(ctx, unit * qty, currency)));
    }
    crm_sql_finalize(st);
    return items;
}

json_t *jrn_cart_data(crm_plugin_ctx *ctx, const json_t *facts)
{
    json_int_t cart_id = json_integer_value(json_object_get(facts, "cart_id"));
    crm_stmt *st = cart_id > 0 ? jrn_prep(ctx, "SELECT external_id, value, currency,"
                                               " coalesce(device, ''), status FROM carts"
                                               " WHERE id = ?1")
                               : NULL;
    if (!st)
        return NULL;
    crm_sql_bind_int64(st, 1, cart_id);
    json_t *cart = NULL;
    if (crm_sql_step(st) == CRM_SQL_ROW) {
        char currency[8];
        snprintf(currency, sizeof currency, "%s", crm_sql_column_text(st, 2));
        cart = json_pack("{sIsssIsossssss}", "id", cart_id, "ref", crm_sql_column_text(st, 0),
                         "value", (json_int_t)crm_sql_column_int64(st, 1), "total",
                         money(ctx, crm_sql_column_int64(st, 1), currency), "currency", currency,
                         "device", crm_sql_column_text(st, 3), "status",
                         crm_sql_column_text(st, 4));
        if (cart)
            json_object_set_new(cart, "items", cart_items(ctx, cart_id, currency));
    }
    crm_sql_finalize(st);
    return cart;
}

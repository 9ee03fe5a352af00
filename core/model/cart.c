/* Carts: storage, abandonment timers, conversion by an order, reads.
 * The tracked objects that feed them are parsed in cart_track.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "cart_int.h"
#include "events.h"
#include "hygiene.h"
#include "model_util.h"
#include "time/timer.h"

static int step_done(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, what, err);
}

static json_t *money_json(int64_t minor, const char *currency)
{
    char buf[48];
    int d = crm_currency_decimals(currency);
    crm_format_money(minor, d < 0 ? 2 : d, buf, sizeof buf);
    return json_string(buf);
}

/* ---- the abandonment timer --------------------------------------------- */

static void timer_key(char *buf, size_t n, int64_t id)
{
    snprintf(buf, n, "cart:%lld", (long long)id);
}

/* The payload names the contact so erasing the person drops the timer. */
static int schedule_abandon(crm_kernel *k, int64_t id, int64_t contact_id, int64_t updated_at,
                            crm_err *err)
{
    char key[32], payload[48];
    timer_key(key, sizeof key, id);
    snprintf(payload, sizeof payload, "{\"contact_id\":%lld}", (long long)contact_id);
    return crm_timer_schedule(k, "kernel", key, updated_at + CRM_CART_ABANDON_AFTER, payload,
                              NULL, err);
}

static int emit_cart_event(crm_kernel *k, const char *type, int64_t id, int64_t at,
                           crm_err *err)
{
    json_t *cart;
    int rc = crm_cart_get_json(k, id, &cart, err);
    if (rc != CRM_OK)
        return rc;
    json_t *p = json_pack("{sIsOsOsOsOsOsO}", "cart_id", (json_int_t)id, "cart",
                          json_object_get(cart, "cart"), "contact_id",
                          json_object_get(cart, "contact_id"), "value",
                          json_object_get(cart, "value_minor"), "currency",
                          json_object_get(cart, "currency"), "device",
                          json_object_get(cart, "device"), "order_id",
                          json_object_get(cart, "order_id"));
    json_object_set_new(p, "at", json_integer(at)); /* when it happened, not when it was told */
    json_decref(cart);
    return crm_event_emit(k, type, p, NULL, err);
}

/* Timer "cart:ID": the cart is abandoned if it is still open and was not
 * updated since (an update moves the timer, so this is a safety net). */
static int on_cart_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    (void)ud;
    char *end = NULL;
    long long id = strtoll(t->key + strlen("cart:"), &end, 10);
    if (!end || *end || id <= 0)
        return crm_err_set(err, CRM_EINVAL, "timer %s names no cart", t->key);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE carts SET status='abandoned', abandoned_at=?2 WHERE id=?1 AND status='open'"
        " AND updated_at + ?3 <= ?2",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, t->due_at);
    sqlite3_bind_int64(st, 3, CRM_CART_ABANDON_AFTER);
    int rc = step_done(k, st, "cannot mark cart abandoned", err);
    if (rc != CRM_OK || sqlite3_changes(crm_store_db(k->store)) == 0)
        return rc;
    return emit_cart_event(k, "cart.abandoned", id, t->due_at, err);
}

int crm_cart_timers_register(crm_kernel *k, crm_err *err)
{
    return crm_timer_register_prefix(k, "kernel", "cart:", on_cart_timer, NULL, err);
}

/* ---- storing a cart update ---------------------------------------------- */

static int find_cart(crm_kernel *k, const char *ext, int64_t *id, int64_t *updated_at,
                     char *status, size_t n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT id, updated_at, status FROM carts WHERE external_id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, ext);
    int rc = sqlite3_step(st);
    *id = 0;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *updated_at = sqlite3_column_int64(st, 1);
        snprintf(status, n, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                 : crm_store_error(k->store, "cannot read cart", err);
}

static int insert_cart(crm_kernel *k, const crm_cart_update *u, int64_t *id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO carts(external_id, contact_id, value, currency, device, status,"
        " created_at, updated_at) VALUES(?,?,?,?,?,'open',?,?)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, u->cart_ref);
    sqlite3_bind_int64(st, 2, u->contact_id);
    sqlite3_bind_int64(st, 3, u->value);
    crm_bind_text(st, 4, u->currency);
    crm_bind_text(st, 5, u->device);
    sqlite3_bind_int64(st, 6, u->at);
    sqlite3_bind_int64(st, 7, u->at);
    int rc = step_done(k, st, "cannot store cart", err);
    *id = rc == CRM_OK ? sqlite3_last_insert_rowid(crm_store_db(k->store)) : 0;
    return rc;
}

/* A newer update replaces value, currency, device and the lines and reopens
 * an abandoned cart; the contact stays the one who opened it. A checkout
 * without lines keeps the lines (replace_lines is skipped), so without a value
 * it keeps the value too, which the lines still add up to. */
static int update_cart(crm_kernel *k, int64_t id, const crm_cart_update *u, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE carts SET value=CASE WHEN ?6 THEN value ELSE ?1 END, currency=?2,"
        " device=coalesce(?3, device), status='open', abandoned_at=NULL, updated_at=?4"
        " WHERE id=?5",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int(st, 6, u->keep_value);
    sqlite3_bind_int64(st, 1, u->value);
    crm_bind_text(st, 2, u->currency);
    crm_bind_text(st, 3, u->device);
    sqlite3_bind_int64(st, 4, u->at);
    sqlite3_bind_int64(st, 5, id);
    return step_done(k, st, "cannot update cart", err);
}

static int replace_lines(crm_kernel *k, int64_t id, const crm_cart_update *u, crm_err *err)
{
    int rc = crm_exec_id(k, "DELETE FROM cart_lines WHERE cart_id=?", id, err);
    sqlite3_stmt *st = rc == CRM_OK ? crm_store_stmt(
                                          k->store,
                                          "INSERT INTO cart_lines(cart_id, position, sku, name,"
                                          " quantity, unit_price) VALUES(?,?,?,?,?,?)",
                                          err)
                                    : NULL;
    if (rc == CRM_OK && !st)
        rc = err ? err->code : CRM_EDB;
    for (size_t i = 0; rc == CRM_OK && i < u->n_lines; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i + 1);
        crm_bind_text(st, 3, u->lines[i].sku);
        crm_bind_text(st, 4, u->lines[i].name);
        sqlite3_bind_int64(st, 5, u->lines[i].quantity);
        sqlite3_bind_int64(st, 6, u->lines[i].unit_price);
        rc = step_done(k, st, "cannot store cart line", err);
        sqlite3_clear_bindings(st);
    }
    return rc;
}

static int mark_checkout(crm_kernel *k, int64_t id, int64_t at, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "UPDATE carts SET checkout_at=max(coalesce(checkout_at, 0), ?) WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, id);
    return step_done(k, st, "cannot mark checkout", err);
}

int crm_cart_apply_update(crm_kernel *k, const crm_cart_update *u, int64_t *id_out, crm_err *err)
{
    int64_t id = 0, updated_at = 0;
    char status[16] = "";
    int rc = find_cart(k, u->cart_ref, &id, &updated_at, status, sizeof status, err);
    if (rc == CRM_OK && id && strcmp(status, "converted") == 0)
        return crm_err_set(err, CRM_EINVAL,
                           "cart_id: cart '%s' was converted by an order; a new cart needs a "
                           "new id",
                           u->cart_ref);
    bool newer = !id || u->at >= updated_at;
    if (rc == CRM_OK && !id)
        rc = insert_cart(k, u, &id, err);
    else if (rc == CRM_OK && newer)
        rc = update_cart(k, id, u, err);
    if (rc == CRM_OK && newer && (u->n_lines || !u->checkout))
        rc = replace_lines(k, id, u, err);
    if (rc == CRM_OK && u->checkout)
        rc = mark_checkout(k, id, u->at, err);
    if (rc == CRM_OK && newer)
        rc = schedule_abandon(k, id, u->contact_id, u->at, err);
    if (rc == CRM_OK)
        rc = emit_cart_event(k, u->checkout ? "checkout.started" : "cart.updated", id, u->at, err);
    *id_out = rc == CRM_OK ? id : 0;
    return rc;
}

/* ---- conversion by an order --------------------------------------------- */

static int convert_one(crm_kernel *k, int64_t cart_id, int64_t order_id, int64_t at,
                       crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "UPDATE carts SET status='converted', converted_at=?, order_id=? WHERE id=?"
        " AND status <> 'converted'",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, order_id);
    sqlite3_bind_int64(st, 3, cart_id);
    int rc = step_done(k, st, "cannot convert cart", err);
    if (rc != CRM_OK || sqlite3_changes(crm_store_db(k->store)) == 0)
        return rc;
    char key[32];
    timer_key(key, sizeof key, cart_id);
    rc = crm_timer_cancel(k, "kernel", key, NULL, err);
    return rc == CRM_OK ? emit_cart_event(k, "cart.converted", cart_id, at, err) : rc;
}

static int collect_id(json_t *item, void *ud)
{
    json_array_append(ud, json_object_get(item, "id"));
    return 0;
}

static json_t *id_row(sqlite3_stmt *st)
{
    return json_pack("{sI}", "id", (json_int_t)sqlite3_column_int64(st, 0));
}

int crm_cart_order_placed(crm_kernel *k, int64_t order_id, int64_t contact_id, int64_t placed_at,
                          const char *cart_ref, crm_err *err)
{
    sqlite3_stmt *st;
    if (cart_ref && *cart_ref)
        st = crm_store_stmt(k->store,
                            "SELECT id FROM carts WHERE external_id=?1 AND status <> 'converted'",
                            err);
    else
        st = crm_store_stmt(k->store,
                            "SELECT id FROM carts WHERE contact_id=?2 AND status <> 'converted'"
                            " AND updated_at <= ?3 ORDER BY id",
                            err);
    if (!st)
        return err ? err->code : CRM_EDB;
    if (cart_ref && *cart_ref)
        crm_bind_text(st, 1, cart_ref);
    else {
        sqlite3_bind_int64(st, 2, contact_id);
        sqlite3_bind_int64(st, 3, placed_at);
    }
    json_t *ids = json_array();
    int rc = crm_stmt_json_each(k, st, id_row, "carts", collect_id, ids, err);
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (rc != CRM_OK)
            break;
        rc = convert_one(k, json_integer_value(v), order_id, placed_at, err);
    }
    json_decref(ids);
    return rc;
}

/* ---- reads -------------------------------------------------------------- */

#define CART_COLUMNS                                                                       \
    "id, external_id, contact_id, status, value, currency, device, checkout_at, "          \
    "abandoned_at, converted_at, order_id, created_at, updated_at"

static json_t *opt_id(int64_t id) { return id > 0 ? json_integer(id) : json_null(); }

static json_t *cart_row(sqlite3_stmt *st)
{
    const char *currency = (const char *)sqlite3_column_text(st, 5);
    const char *device = (const char *)sqlite3_column_text(st, 6);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "cart", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(o, "contact_id", json_integer(sqlite3_column_int64(st, 2)));
    json_object_set_new(o, "status", json_string((const char *)sqlite3_column_text(st, 3)));
    json_object_set_new(o, "value_minor", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(o, "value", money_json(sqlite3_column_int64(st, 4), currency));
    json_object_set_new(o, "currency", json_string(currency));
    json_object_set_new(o, "device", device ? json_string(device) : json_null());
    static const char *const times[] = {"checkout_at", "abandoned_at", "converted_at"};
    for (int i = 0; i < 3; i++)
        json_object_set_new(o, times[i], crm_json_time(sqlite3_column_int64(st, 7 + i)));
    json_object_set_new(o, "order_id", opt_id(sqlite3_column_int64(st, 10)));
    json_object_set_new(o, "created_at", crm_json_time(sqlite3_column_int64(st, 11)));
    json_object_set_new(o, "updated_at", crm_json_time(sqlite3_column_int64(st, 12)));
    return o;
}

static json_t *line_row(sqlite3_stmt *st)
{
    const char *name = (const char *)sqlite3_column_text(st, 1);
    json_t *l = json_pack("{sssosI}", "sku", (const char *)sqlite3_column_text(st, 0), "name",
                          name ? json_string(name) : json_null(), "quantity",
                          (json_int_t)sqlite3_column_int64(st, 2));
    json_object_set_new(l, "unit_price_minor", json_integer(sqlite3_column_int64(st, 3)));
    return l;
}

static int push(json_t *item, void *ud)
{
    json_array_append(ud, item);
    return 0;
}

int crm_cart_get_json(crm_kernel *k, int64_t id, json_t **out, crm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "SELECT " CART_COLUMNS " FROM carts WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    json_t *found = json_array();
    int rc = crm_stmt_json_each(k, st, cart_row, "cart", push, found, err);
    json_t *cart = json_incref(json_array_get(found, 0));
    json_decref(found);
    if (rc == CRM_OK && !cart)
        rc = crm_err_set(err, CRM_ENOTFOUND, "no cart with id %lld (see `crm cart list`)",
                         (long long)id);
    json_t *lines = json_array();
    st = rc == CRM_OK ? crm_store_stmt(k->store,
                                       "SELECT sku, name, quantity, unit_price FROM cart_lines"
                                       " WHERE cart_id=? ORDER BY position",
                                       err)
                      : NULL;
    if (rc == CRM_OK && !st)
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = crm_stmt_json_each(k, st, line_row, "cart lines", push, lines, err);
    }
    const char *currency = json_string_value(json_object_get(cart, "currency"));
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        json_int_t minor = json_integer_value(json_object_get(l, "unit_price_minor"));
        json_object_set_new(l, "unit_price", money_json(minor, currency));
    }
    if (rc == CRM_OK) {
        json_object_set_new(cart, "lines", lines);
        *out = cart;
        return CRM_OK;
    }
    json_decref(lines);
    json_decref(cart);
    return rc;
}

int crm_cart_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    static const crm_ref_rule rules[] = {
        {CRM_REF_ID, "SELECT id FROM carts WHERE id=?"},
        {CRM_REF_EXTERNAL, "SELECT id FROM carts WHERE external_id=?"},
        {CRM_REF_TEXT, "SELECT id FROM carts WHERE external_id=?"},
    };
    return crm_resolve_ref(k, "cart", ref, rules, sizeof rules / sizeof rules[0], id, err);
}

typedef struct list_ctx {
    int (*fn)(json_t *cart, void *ud);
    void *ud;
} list_ctx;

static int list_row(sqlite3_stmt *st, void *ud)
{
    list_ctx *lc = ud;
    json_t *cart = cart_row(st);
    int r = lc->fn(cart, lc->ud);
    json_decref(cart);
    return r;
}

int crm_cart_list(crm_kernel *k, const crm_cart_filter *f, int (*fn)(json_t *cart, void *ud),
                  void *ud, crm_err *err)
{
    char contact[24];
    snprintf(contact, sizeof contact, "%lld", (long long)f->contact_id);
    crm_sql q;
    crm_sql_init(&q, "SELECT " CART_COLUMNS " FROM carts");
    if (f->contact_id > 0)
        crm_sql_where(&q, "contact_id = CAST(? AS INTEGER)", contact);
    if (f->status)
        crm_sql_where(&q, "status = ?", f->status);
    crm_sql_page(&q, "updated_at DESC, id DESC", f->limit, f->offset);
    list_ctx lc = {fn, ud};
    int rc = crm_sql_each(k, &q, list_row, &lc, err);
    crm_sql_free(&q);
    return rc;
}

/* `crm demo`: shop visits on the stored data set, so the abandoned-cart
 * journey has carts to work on. Every CARTS_EVERY-th contact with an email
 * put one to five products in a cart during the last three days, through the
 * same path as POST /v1/track (crm_track_apply_json); the worker then runs at
 * the demo's clock, as `crm run` would have meanwhile: carts idle for 30
 * minutes become abandoned, the journeys (when enabled) take them and their
 * due steps fire. One abandoned cart in RECOVER_EVERY is then bought, at the
 * demo's clock, by an order naming it, and the worker runs once more: the
 * entries still under way reach their goal.
 *
 * Deterministic like the rest of the demo: every choice is a function of
 * the contact's id and the clock. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "demo/demo.h"
#include "hygiene.h"
#include "model.h"
#include "store.h"
#include "time/worker.h"

#define CARTS_EVERY 25
#define RECOVER_EVERY 4
#define CART_WINDOW (3 * 86400)
#define WORKER_PASSES 8 /* steps due within the window chain: entry, then each step */

static const char *const devices[] = {"desktop", "mobile", "mobile", "tablet"};

/* A mixing step so neighbouring ids pick unrelated products and hours. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static json_t *cart_object(const crm_demo *g, int64_t contact_id)
{
    uint64_t h = mix((uint64_t)contact_id ^ g->seed);
    json_t *lines = json_array();
    int n = 1 + (int)(h % 5);
    for (int i = 0; i < n; i++) {
        const crm_demo_product *p =
            &crm_demo_products[mix(h + (uint64_t)i) % crm_demo_products_n];
        json_array_append_new(lines, json_pack("{sssssIsI}", "sku", p->sku, "name", p->name,
                                               "quantity", (json_int_t)(1 + (h >> (8 + i)) % 2),
                                               "unit_price", (json_int_t)p->price));
    }
    char ref[32], at[32];
    snprintf(ref, sizeof ref, "DEMO-%lld", (long long)contact_id);
    /* at least an hour old, so the 30-minute abandonment is due by now */
    crm_format_datetime(g->now - 3600 - (int64_t)((h >> 20) % CART_WINDOW), at, sizeof at);
    return json_pack("{sssIsssssoss}", "type", "cart.updated", "contact_id",
                     (json_int_t)contact_id, "cart_id", ref, "device",
                     devices[(h >> 40) % (sizeof devices / sizeof *devices)], "lines", lines,
                     "at", at);
}

/* Calls fn for each id the query returns. */
static int each_id(crm_kernel *k, const char *sql, int (*fn)(crm_kernel *, const crm_demo *,
                                                              int64_t, crm_demo_stats *,
                                                              crm_err *),
                   const crm_demo *g, crm_demo_stats *st, crm_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &q, NULL) != SQLITE_OK)
        return crm_store_error(k->store, "demo carts", err);
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = fn(k, g, sqlite3_column_int64(q, 0), st, err);
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "demo carts", err);
    sqlite3_finalize(q);
    return rc;
}

/* Two shoppers in three tick the checkout's "offers by email" box: the
 * journey's marketing emails reach them, the others' are kept as suppressed. */
static int checkout_opt_in(crm_kernel *k, const crm_demo *g, int64_t contact_id, crm_err *err)
{
    if (mix((uint64_t)contact_id ^ g->seed) % 3 == 0)
        return CRM_OK;
    crm_consent c = {.contact_id = contact_id, .channel = strdup("email"),
                     .purpose = strdup("marketing"), .status = strdup("granted"),
                     .recorded_at = g->now - CART_WINDOW - 3600, .source = strdup("shop checkout")};
    int rc = c.channel && c.purpose && c.status && c.source
                 ? crm_consent_record(k, &c, NULL, err)
                 : crm_err_set(err, CRM_ENOMEM, "out of memory for a demo consent");
    crm_consent_clear(&c);
    return rc;
}

static int put_cart(crm_kernel *k, const crm_demo *g, int64_t contact_id, crm_demo_stats *st,
                    crm_err *err)
{
    json_t *o = cart_object(g, contact_id);
    int rc = o ? checkout_opt_in(k, g, contact_id, err) : crm_err_set(err, CRM_ENOMEM, "demo cart");
    if (rc == CRM_OK)
        rc = crm_track_apply_json(k, o, NULL, err);
    json_decref(o);
    st->carts += rc == CRM_OK;
    return rc;
}

/* The cart's own lines, bought at the demo's clock. */
static int buy_cart(crm_kernel *k, const crm_demo *g, int64_t cart_id, crm_demo_stats *st,
                    crm_err *err)
{
    json_t *cart = NULL;
    int rc = crm_cart_get_json(k, cart_id, &cart, err);
    if (rc != CRM_OK)
        return rc;
    json_t *lines = json_object_get(cart, "lines");
    size_t n = json_array_size(lines);
    /* the model normalises in place and frees with crm_order_clear: heap copies */
    crm_order o = {0};
    o.contact_id = json_integer_value(json_object_get(cart, "contact_id"));
    o.cart_id = strdup(json_string_value(json_object_get(cart, "cart")));
    o.status = strdup("paid");
    o.lines = calloc(n ? n : 1, sizeof *o.lines);
    if (!o.cart_id || !o.status || !o.lines)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory for a demo order");
    for (size_t i = 0; rc == CRM_OK && i < n; i++, o.n_lines++) {
        json_t *l = json_array_get(lines, i);
        o.lines[i].sku = strdup(json_string_value(json_object_get(l, "sku")));
        o.lines[i].quantity = json_integer_value(json_object_get(l, "quantity"));
        o.lines[i].unit_price = json_integer_value(json_object_get(l, "unit_price_minor"));
        if (!o.lines[i].sku)
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory for a demo order");
    }
    o.placed_at = g->now; /* after the reminders it got */
    if (rc == CRM_OK)
        rc = crm_order_add(k, &o, NULL, err);
    crm_order_clear(&o);
    json_decref(cart);
    st->carts_recovered += rc == CRM_OK;
    return rc;
}

static int run_worker(crm_kernel *k, int64_t now, crm_err *err)
{
    int rc = CRM_OK;
    for (int i = 0; rc == CRM_OK && i < WORKER_PASSES; i++) {
        crm_worker_stats ws = {0};
        rc = crm_worker_pass(k, now, NULL, &ws, err);
        if (ws.timers.fired == 0 && ws.events == 0)
            break;
    }
    return rc;
}

static int in_transaction(crm_kernel *k, const char *sql,
                          int (*fn)(crm_kernel *, const crm_demo *, int64_t, crm_demo_stats *,
                                    crm_err *),
                          const crm_demo *g, crm_demo_stats *st, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = each_id(k, sql, fn, g, st, err);
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return rc;
}

int crm_demo_store_carts(crm_kernel *k, const crm_demo *g, crm_demo_stats *st, crm_err *err)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT id FROM contacts WHERE email IS NOT NULL AND id %% %d = 0 ORDER BY id",
             CARTS_EVERY);
    int rc = in_transaction(k, sql, put_cart, g, st, err);
    if (rc == CRM_OK)
        rc = run_worker(k, g->now, err);
    snprintf(sql, sizeof sql,
             "SELECT id FROM carts WHERE status = 'abandoned' AND id %% %d = 0 ORDER BY id",
             RECOVER_EVERY);
    if (rc == CRM_OK)
        rc = in_transaction(k, sql, buy_cart, g, st, err);
    if (rc == CRM_OK)
        rc = run_worker(k, g->now, err);
    if (rc == CRM_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(crm_store_db(k->store),
                               "SELECT count(*) FROM carts WHERE abandoned_at IS NOT NULL", -1,
                               &q, NULL) != SQLITE_OK)
            return crm_store_error(k->store, "demo carts", err);
        if (sqlite3_step(q) == SQLITE_ROW)
            st->carts_abandoned = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    return rc;
}

/* Carts and tracked shop events: what a shop tells the CRM about a visit
 * (POST /v1/track, `crm import events FILE`).
 *
 * A tracked object is one JSON object:
 *   "type"        cart.updated | checkout.started | page.viewed | email.opened |
 *                 email.clicked (required)
 *   "contact_id"  an existing contact's id, or
 *   "email"       an address: the contact having it, created (source "shop")
 *                 when there is none; one of the two is required
 *   "cart_id"     the shop's cart id (text or integer; required for the cart types)
 *   "value"       cart value: an integer in minor units, or a decimal string
 *                 in major units ("249.90"); absent: the sum of the lines
 *   "currency"    ISO 4217 (absent: locale.currency)
 *   "device"      desktop | mobile | tablet (absent: unknown)
 *   "lines"       [{"sku", "name"?, "quantity", "unit_price"}] (unit_price as "value")
 *   "url"         page.viewed: the page; email.*: the link (optional)
 *   "subject"     email.*: the message's subject or template (optional)
 *   "at"          when it happened: ISO 8601 text or epoch seconds (absent: now)
 *   "id"          the shop's event id, for idempotency (absent: a digest of
 *                 the object's canonical text)
 * Unknown members are refused (a typo must not be silently dropped).
 *
 * cart.updated and checkout.started store the cart (lines replaced when the
 * object is not older than the cart's last update; a checkout.started without
 * lines keeps them, and without a value too the value) and move its abandonment
 * timer (kernel timer cart:ID, due CRM_CART_ABANDON_AFTER after the update);
 * when it fires on a cart still open, the cart becomes abandoned and
 * cart.abandoned is emitted. page.viewed (channel web) and email.opened|clicked
 * (channel email) are logged as inbound interactions. Each type emits the
 * event of its name with {cart_id (the kernel's), cart (the shop's), contact_id,
 * value, currency, device, order_id, at (when it happened, epoch seconds)} or {contact_id, interaction_id, url, at}.
 *
 * An order closes carts (crm_cart_order_placed): the cart it names, else the
 * contact's open or abandoned carts last updated before it was placed; each
 * becomes converted with cart.converted {cart_id, contact_id, order_id, value}. */
#ifndef CRM_CORE_CART_H
#define CRM_CORE_CART_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* Seconds without cart.updated or checkout.started after which an open cart is abandoned. */
#define CRM_CART_ABANDON_AFTER (30 * 60)

/* What crm_track_apply_json did. */
typedef enum {
    CRM_TRACK_STORED = 0,  /* stored, its event emitted */
    CRM_TRACK_DUPLICATE,   /* the same object (same "id" or text) was applied before: nothing */
} crm_track_outcome;

typedef struct crm_track_result {
    crm_track_outcome outcome;
    int64_t contact_id;  /* the contact it was applied to (the first time, for a duplicate) */
    int64_t cart_id;     /* the kernel's cart for the cart types, else 0 */
} crm_track_result;

/* The members a tracked object may have, NULL-ended (anything else is refused). */
extern const char *const crm_track_members[];

/* Applies one tracked object (see above) in the current transaction or its
 * own: everything it writes and its event commit together, or nothing does.
 * *res (may be NULL) says whether it was stored or already known, and where.
 * CRM_EINVAL with the member's name in err for a bad object (missing or
 * unknown member, bad type, value, currency, device, date); CRM_ENOTFOUND for a
 * contact_id naming no contact; CRM_EINVAL for an update of a converted cart.
 * Serve's POST /v1/track and `crm import events` both call this. */
int crm_track_apply_json(crm_kernel *k, const json_t *obj, crm_track_result *res,
                         crm_err *err);

/* Order order_id of contact_id, placed at placed_at, for cart `cart_ref` (the
 * shop's cart id; NULL: the contact's open or abandoned carts last updated at
 * or before placed_at) closes those carts, inside the caller's transaction
 * (crm_order_add calls it). A cart_ref naming no cart, or a converted one, is
 * not an error: the order stands. */
int crm_cart_order_placed(crm_kernel *k, int64_t order_id, int64_t contact_id, int64_t placed_at,
                          const char *cart_ref, crm_err *err);

/* Registers the handler of kernel timers "cart:ID" (abandonment). */
int crm_cart_timers_register(crm_kernel *k, crm_err *err);

/* The cart with kernel id `id` as JSON {id, cart (shop id), contact_id, status,
 * value_minor, value (decimal text), currency, device, lines [...],
 * checkout_at, abandoned_at, converted_at, order_id, created_at, updated_at}
 * (times ISO 8601 UTC, null when unset). CRM_ENOTFOUND when absent. */
int crm_cart_get_json(crm_kernel *k, int64_t id, json_t **out, crm_err *err);

/* Resolves "ID" (kernel id) or "ext:SHOPID" / any other text (the shop's id). */
int crm_cart_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err);

typedef struct crm_cart_filter {
    int64_t contact_id;   /* 0 = any */
    const char *status;   /* NULL = any */
    int64_t limit, offset;
} crm_cart_filter;

/* Calls fn with each matching cart's JSON (as crm_cart_get_json, without
 * lines; borrowed for the call), most recently updated first; a non-zero
 * return stops the walk and is returned when negative. */
int crm_cart_list(crm_kernel *k, const crm_cart_filter *f, int (*fn)(json_t *cart, void *ud),
                  void *ud, crm_err *err);

#endif

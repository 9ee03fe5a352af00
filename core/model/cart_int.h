/* Shared between cart.c (storage) and cart_track.c (parsing tracked objects). */
#ifndef CRM_CORE_MODEL_CART_INT_H
#define CRM_CORE_MODEL_CART_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct crm_cart_line {
    const char *sku, *name; /* borrowed from the tracked object */
    int64_t quantity;
    int64_t unit_price;     /* minor units */
} crm_cart_line;

/* A validated cart.updated / checkout.started. Strings borrowed. */
typedef struct crm_cart_update {
    const char *cart_ref;   /* the shop's cart id */
    int64_t contact_id;
    int64_t value;          /* minor units */
    const char *currency;   /* upper-case ISO 4217 */
    const char *device;     /* NULL = not given */
    crm_cart_line *lines;
    size_t n_lines;
    int64_t at;
    bool checkout;          /* checkout.started */
    bool keep_value;        /* a checkout with neither lines nor value: the cart's stands */
} crm_cart_update;

/* Stores the update (creating the cart, or replacing its contents when u is
 * not older than its last update), moves its abandonment timer and emits
 * cart.updated or checkout.started, in the caller's transaction. *id_out gets
 * the cart's kernel id. CRM_EINVAL for a converted cart. */
int crm_cart_apply_update(crm_kernel *k, const crm_cart_update *u, int64_t *id_out,
                          crm_err *err);

#endif

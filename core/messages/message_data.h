/* The data a message template is rendered against (message_data.c). */
#ifndef CRM_CORE_MESSAGES_MESSAGE_DATA_H
#define CRM_CORE_MESSAGES_MESSAGE_DATA_H

#include <jansson.h>
#include <stdint.h>

#include "kernel.h"

/* *out = {contact: {...contact JSON}, orders_count, total_spent (text),
 * last_order: {id, total (text), placed_at (YYYY-MM-DD), status} (absent
 * without orders), plus payload's members}. Placed and paid orders count;
 * total_spent sums those in locale.currency. CRM_ENOTFOUND for no such
 * contact; CRM_EINVAL when a payload member takes one of the names above. */
int crm_message_data(crm_kernel *k, int64_t contact_id, const json_t *payload, json_t **out,
                     crm_err *err);

#endif

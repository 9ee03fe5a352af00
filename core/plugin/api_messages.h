/* SDK 1.3 messages entries (api_messages.c): the host table in api_table.c
 * points at them. Private to the plugin host. */
#ifndef CRM_CORE_PLUGIN_API_MESSAGES_H
#define CRM_CORE_PLUGIN_API_MESSAGES_H

#include <stdint.h>

#include "internal.h"

/* See message_queue_json in crm/plugin.h. */
int crm_plugm_message_queue_json(crm_plugin_ctx *p, const char *json, int64_t *id);

#endif

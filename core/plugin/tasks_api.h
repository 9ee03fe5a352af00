/* SDK 1.3 task entries (tasks_api.c): the host table in api_table.c points
 * at them. Private to the plugin host. */
#ifndef CRM_CORE_PLUGIN_TASKS_API_H
#define CRM_CORE_PLUGIN_TASKS_API_H

#include <stdint.h>

#include "internal.h"

/* See task_add_json, task_complete and task_list_json in crm/plugin.h. */
int crm_plugtask_add_json(crm_plugin_ctx *p, const char *json, int64_t *id);
int crm_plugtask_complete(crm_plugin_ctx *p, int64_t id);
int crm_plugtask_list_json(crm_plugin_ctx *p, const char *filter_json, char **out_json);

#endif

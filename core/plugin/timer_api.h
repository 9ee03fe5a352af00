/* SDK 1.3 timers and calendars (the "1.3: timers" block of crm_host_api):
 * what plugin_api.c puts in the table and plugin_host.c wires at start.
 * Private to the plugin host. */
#ifndef CRM_CORE_PLUGIN_TIMER_API_H
#define CRM_CORE_PLUGIN_TIMER_API_H

#include "internal.h"

int crm_plugt_schedule(crm_plugin_ctx *p, const char *key, int64_t due_at, const char *payload);
int crm_plugt_cancel(crm_plugin_ctx *p, const char *key, int *found);
int crm_plugt_register_handler(crm_plugin_ctx *p, crm_timer_fn fn, void *ud);
int crm_plugt_calendar_add(crm_plugin_ctx *p, const char *calendar, int64_t t,
                           const char *duration, int64_t *out);
int crm_plugt_calendar_is_open(crm_plugin_ctx *p, const char *calendar, int64_t t, int *open);
int crm_plugt_calendar_next_open(crm_plugin_ctx *p, const char *calendar, int64_t t,
                                 int64_t *out);
/* 1.3: ticketing -- open seconds between two instants (crm_calendar_between). */
int crm_plugt_calendar_between(crm_plugin_ctx *p, const char *calendar, int64_t from, int64_t to,
                               int64_t *out);

/* After start: registers p's timer handler (when it has one) with the
 * kernel's timers under the plugin's name. CRM_OK or an error naming p. */
int crm_plugt_wire(crm_plugin_ctx *p, crm_err *err);
/* Removes it again (before stop); NULL-safe, idempotent. */
void crm_plugt_unwire(crm_plugin_ctx *p);

#endif

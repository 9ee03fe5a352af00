/* Event emission: the transactional outbox half of the event bus.
 *
 * crm_event_emit inserts a row in `events` inside the caller's transaction;
 * the bus (bus.c) dispatches committed rows to subscribers after commit.
 * Payloads are JSON objects with a `dataver` and the ids they concern. */
#ifndef CRM_CORE_EVENTS_H
#define CRM_CORE_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "kernel.h"

/* Current payload version of kernel events. */
#define CRM_EVENT_DATAVER 1

/* Inserts event `type` ("contact.created") with `payload` (a JSON object;
 * this function steals the reference and adds "dataver" when absent) in the
 * current transaction, which must be open. *id_out (may be NULL) gets the
 * event id. Returns CRM_OK or CRM_EDB/CRM_EUSAGE. */
int crm_event_emit(crm_kernel *k, const char *type, json_t *payload, int64_t *id_out,
                   crm_err *err);

/* The same with a payload already formatted by kernel code as json_dumps
 * would (compact, keys sorted, "dataver" included): the bulk write paths
 * (import, demo) skip building a json_t per event. */
int crm_event_emit_text(crm_kernel *k, const char *type, const char *payload, int64_t *id_out,
                        crm_err *err);

/* True when `type` is a valid event name: <entity>.<verb>, lower-case
 * letters, digits and '_' on each side of one dot. */
int crm_event_name_valid(const char *type);

#endif

/* Private to the outbox (outbox*.c): its per-process caches and the rules
 * shared by queueing and delivery. */
#ifndef CRM_CORE_MESSAGES_OUTBOX_INT_H
#define CRM_CORE_MESSAGES_OUTBOX_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"
#include "messages/driver.h"
#include "messages/template.h"

typedef struct outbox_driver {
    char channel[32];
    crm_driver *d; /* NULL with open_rc set: the channel cannot send */
    int open_rc;
    char open_error[256];
} outbox_driver;

/* Hung on the kernel (k->outbox): templates compiled once per process, so
 * queueing many messages compiles each template once; drivers opened once. */
typedef struct crm_outbox {
    crm_template **templates;
    size_t n_templates;
    outbox_driver *drivers;
    size_t n_drivers;
} crm_outbox;

/* k's outbox state, created on first use (NULL: out of memory). */
crm_outbox *crm_outbox_state(crm_kernel *k);

/* Template `name`, loaded on first use. */
int crm_outbox_template(crm_kernel *k, const char *name, const crm_template **out,
                        crm_err *err);

/* A message's facts the rules look at. */
typedef struct outbox_msg {
    int64_t id, contact_id;
    const char *channel, *purpose;
    const char *address; /* the contact's email or mobile number, NULL when none */
} outbox_msg;

/* Runs the rules that stop a message (pause, address, consent) at k->now:
 * *status becomes "queued", "held" or "suppressed" and reason (size bytes)
 * says why when not queued. CRM_OK or CRM_EDB. */
int crm_outbox_rules(crm_kernel *k, const outbox_msg *m, const char **status, char *reason,
                     size_t size, crm_err *err);

/* The contact's address for channel (malloc'd into *out, NULL when none). */
int crm_outbox_address(crm_kernel *k, int64_t contact_id, const char *channel, char **out,
                       char **name, crm_err *err);

/* Schedules (or moves) message id's delivery timer to `at`. */
int crm_outbox_schedule(crm_kernel *k, int64_t id, int64_t at, crm_err *err);

/* Emits message.<verb> for message id. */
int crm_outbox_emit(crm_kernel *k, const char *verb, int64_t id, crm_err *err);

#endif

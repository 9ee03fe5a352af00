/* Private to the outbox (outbox*.c): its per-process caches and the rules
 * shared by queueing and delivery. */
#ifndef CRM_CORE_MESSAGES_OUTBOX_INT_H
#define CRM_CORE_MESSAGES_OUTBOX_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"
#include "messages/driver.h"
#include "messages/quiet.h"
#include "messages/template.h"

typedef struct outbox_driver {
    char channel[32];
    crm_driver *d; /* NULL with open_rc set: the channel cannot send */
    int open_rc;
    char open_error[256];
} outbox_driver;

/* A quiet-hours calendar for one rule in one contact zone and country. */
typedef struct outbox_quiet_cal {
    size_t rule;
    char zone[64], country[3];
    crm_calendar *cal;
} outbox_quiet_cal;

/* Hung on the kernel (k->outbox): templates compiled once per process, so
 * queueing many messages compiles each template once; drivers opened once. */
typedef struct crm_outbox {
    crm_template **templates;
    size_t n_templates;
    outbox_driver *drivers;
    size_t n_drivers;
    bool settings_loaded;       /* quiet hours and caps read from crm.yaml */
    crm_quiet_rule *quiet;
    size_t n_quiet;
    crm_cap *caps;
    size_t n_caps;
    outbox_quiet_cal *cals;     /* built on first use per contact zone */
    size_t n_cals;
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

/* Runs the rules (pause, address, consent, quiet hours, caps) at k->now for
 * a message due at *at: *status becomes "queued", "held" or "suppressed" and
 * reason (size bytes) says why when not queued. Quiet hours move *at to the
 * next allowed instant (still "queued", the reason saying so). CRM_OK,
 * CRM_EDB, CRM_ENOMEM. */
int crm_outbox_rules(crm_kernel *k, const outbox_msg *m, int64_t *at, const char **status,
                     char *reason, size_t size, crm_err *err);

/* Quiet hours (outbox_quiet.c): moves *at to the next instant the
 * contact's zone allows for m's purpose and channel, saying so in reason. */
int crm_outbox_quiet(crm_kernel *k, const outbox_msg *m, int64_t *at, char *reason,
                     size_t size, crm_err *err);

/* Frequency caps (outbox_caps.c): *stop when another message of m's purpose
 * and channel to the same contact is within the cap of *at. At queue time
 * (m->id 0) queued and sent messages count; at send time, sent ones. */
int crm_outbox_cap(crm_kernel *k, const outbox_msg *m, int64_t at, bool *stop, char *reason,
                   size_t size, crm_err *err);

/* Quiet hours and caps from crm.yaml, read once into k's outbox state. */
int crm_outbox_settings(crm_kernel *k, crm_outbox **out, crm_err *err);

/* The contact's address for channel (malloc'd into *out, NULL when none). */
int crm_outbox_address(crm_kernel *k, int64_t contact_id, const char *channel, char **out,
                       char **name, crm_err *err);

/* Schedules (or moves) message id's delivery timer to `at`. */
int crm_outbox_schedule(crm_kernel *k, int64_t id, int64_t at, crm_err *err);

/* Emits message.<verb> for message id. */
int crm_outbox_emit(crm_kernel *k, const char *verb, int64_t id, crm_err *err);

#endif

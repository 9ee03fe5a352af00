/* The outbox: every message the CRM sends, queued first, delivered later.
 *
 * Queueing (crm_outbox_queue) renders a template for one contact and stores
 * the result as a row of `messages` in the caller's transaction, after the
 * rules: an address for the channel, consent (marketing needs a granted
 * consent for the channel and purpose in the kernel's ledger), the pause
 * switch, quiet hours in the contact's zone (which postpone it: still queued,
 * scheduled at the next allowed instant, the reason saying so) and frequency
 * caps (crm.yaml messages.quiet_hours, messages.caps; quiet.h). A message a
 * rule stops is stored too, `suppressed` with its reason,
 * so `crm message list` explains why nobody got it. An idempotency key makes
 * queueing safe to repeat: a key already used returns the first message.
 *
 * Delivery runs in the worker (`crm run`, `crm tick`) from kernel timers
 * "message:ID": the rules are checked again (a consent withdrawn since
 * suppresses the message), then the channel's driver sends it under the
 * stable id "msg-ID" (file name, Message-ID, webhook-id), so a resend after
 * a crash carries the same id. Events: message.queued, message.postponed
 * (quiet hours caught it at send time), message.sent, message.failed,
 * message.suppressed. */
#ifndef CRM_CORE_MESSAGES_OUTBOX_H
#define CRM_CORE_MESSAGES_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* Purposes, in the order of their strictness: the rules key on them. */
extern const char *const crm_message_purposes[]; /* transactional, service, marketing */
extern const char *const crm_message_statuses[]; /* queued, held, sent, failed, suppressed */

/* Longest idempotency key. */
#define CRM_MESSAGE_MAX_KEY 200

/* What to queue. Strings are borrowed. */
typedef struct crm_outbox_req {
    int64_t contact_id;   /* required */
    const char *template; /* required */
    const char *channel;  /* NULL: the template's first channel the contact has an address for */
    const char *purpose;  /* NULL: transactional */
    const char *key;      /* NULL: derived from source, template, contact, channel and data */
    int64_t at;           /* 0: k->now */
    const json_t *data;   /* an object of extra template values, or NULL */
    const char *source;   /* who queues: "kernel", a plugin's name, "lua" */
} crm_outbox_req;

/* Queues r in the current transaction or its own. *id (may be NULL) gets the
 * message's id and *created (may be NULL) whether this call created it
 * (false: the key was used before). CRM_ENOTFOUND for an unknown contact or
 * template; CRM_EINVAL for a bad field (err names it), a template that does
 * not render; CRM_EDB. A message suppressed by a rule is CRM_OK. */
int crm_outbox_queue(crm_kernel *k, const crm_outbox_req *r, int64_t *id, bool *created,
                     crm_err *err);

/* Parses the SDK's JSON form (see message_queue_json in crm/plugin.h) and
 * queues it as crm_outbox_queue does, with `source` as the queuer. */
int crm_outbox_queue_json(crm_kernel *k, const char *json, const char *source, int64_t *id,
                          crm_err *err);

/* The kill switch: pauses every message (contact_id 0) or one contact's.
 * A paused message is `held` (at queue time or when its turn comes), never
 * lost. Pausing twice is fine. */
int crm_outbox_pause(crm_kernel *k, int64_t contact_id, crm_err *err);

/* Lifts that pause; held messages no pause covers any more go back to the
 * queue (due at their time, or now). *released (may be NULL) counts them. */
int crm_outbox_resume(crm_kernel *k, int64_t contact_id, int64_t *released, crm_err *err);

/* Brings failed message id back: queued, attempts reset, due now (same id,
 * so the same Message-ID). CRM_ENOTFOUND; CRM_EINVAL when it is not failed. */
int crm_outbox_retry(crm_kernel *k, int64_t id, crm_err *err);

/* Registers the delivery timers' handler (kernel open calls it). */
int crm_outbox_register(crm_kernel *k, crm_err *err);

/* Frees the outbox's per-process caches (templates, drivers); kernel close. */
void crm_outbox_close(crm_kernel *k);

/* The message row as JSON (the CLI contract: times as epoch seconds);
 * with `full`, its rendered content and driver response too. CRM_ENOTFOUND. */
int crm_outbox_get(crm_kernel *k, int64_t id, bool full, json_t **out, crm_err *err);

typedef struct crm_outbox_filter {
    const char *status;  /* NULL: any */
    int64_t contact_id;  /* 0: any */
    int64_t limit;       /* 0: no limit */
} crm_outbox_filter;

/* Calls fn with each matching message (crm_outbox_get's short form) in id
 * order; a non-zero return stops with that code. */
int crm_outbox_list(crm_kernel *k, const crm_outbox_filter *f,
                    int (*fn)(json_t *msg, void *ud), void *ud, crm_err *err);

#endif

/* The kernel's data model: contacts, companies, orders (with lines and
 * products), interactions, consents and users.
 *
 * Writes go through these functions only: each validates and normalises
 * its input (hygiene.h), writes inside a transaction it opens (nesting in
 * the caller's when one is open), and emits its event in the same
 * transaction. A failure rolls back everything the call did and leaves a
 * message naming the field, the value and the rule.
 *
 * Strings in the structs are malloc'd and owned by the struct; NULL means
 * "not set". For updates, NULL means "leave as is" and "" means "clear". */
#ifndef CRM_CORE_MODEL_H
#define CRM_CORE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct crm_kv {
    char *key;
    char *value;
} crm_kv;

/* ---- contacts ----------------------------------------------------------- */

typedef struct crm_contact {
    int64_t id;
    char *external_id;
    char *first_name;
    char *last_name;
    char *email;
    char *phone;
    char *company;          /* company name; resolved to (or creates) a company */
    char *street;
    char *postal_code;
    char *city;
    char *country;          /* ISO alpha-2 */
    char *birth_date;       /* YYYY-MM-DD */
    char *lifecycle_stage;  /* subscriber|lead|prospect|customer|evangelist|inactive */
    char *owner;            /* user id or email; shown as the user's email */
    char *source;
    char **tags;
    size_t n_tags;
    crm_kv *custom;         /* custom fields declared in crm.yaml, values as text */
    size_t n_custom;
    int64_t company_id;
    int64_t created_at;
    int64_t updated_at;
    /* crm_phone_type of phone ("mobile", "fixed_line", ...), set by
     * normalisation and stored; "" when there is no phone or it is not known
     * yet (the write then works it out). Not a settable field. */
    char phone_type[24];
} crm_contact;

/* The text fields of crm_contact as data: name, offset, whether the CLI has a
 * --flag for it. Ends with a NULL name. Used by the CLI, JSON and import. */
typedef struct crm_contact_field {
    const char *name;   /* "first_name" */
    size_t offset;      /* offsetof(crm_contact, first_name) */
} crm_contact_field;
extern const crm_contact_field crm_contact_fields[];

/* Address of the text field `name` in c, or NULL when no such field. */
char **crm_contact_field_ptr(crm_contact *c, const char *name);

/* Frees the strings and arrays of c and zeroes it (c itself is not freed). */
void crm_contact_clear(crm_contact *c);

/* Appends a tag / sets a custom value (copies the strings). */
int crm_contact_add_tag(crm_contact *c, const char *tag);
int crm_contact_set_custom(crm_contact *c, const char *name, const char *value);

/* Runs the validators installed on k (k->validators, see kernel.h) on c:
 * CRM_OK when none is installed or none refuses, else the validator's code
 * (CRM_EINVAL refused, CRM_ESCRIPT failed to run) and message. */
int crm_contact_validate(crm_kernel *k, const crm_contact *c, crm_err *err);

/* Validates and normalises c in place against the configuration (hygiene
 * switches, required fields, custom field types), then runs the installed
 * validators (crm_contact_validate). `is_update` skips the
 * required-field check for fields left NULL. CRM_EINVAL with message. */
int crm_contact_normalise(crm_kernel *k, crm_contact *c, bool is_update, crm_err *err);

/* crm_contact_normalise with no validator installed: reads only the
 * configuration, never the database or the Lua state, so an import can run
 * it on its reader thread; crm_contact_validate then runs on the kernel's
 * thread. */
int crm_contact_normalise_fields(const crm_kernel *k, crm_contact *c, bool is_update,
                                 crm_err *err);

/* Adds a contact: normalises, refuses a duplicate normalised email, and
 * with hygiene.duplicates.refuse_on_add a phone or a duplicate score at
 * min_score (CRM_EEXISTS, message names the existing id, and for a score
 * the score and reasons; *id_out gets that id),
 * writes it with its tags and custom values and emits contact.created. */
int crm_contact_add(crm_kernel *k, crm_contact *c, int64_t *id_out, crm_err *err);

/* crm_contact_add for a contact that already went through
 * crm_contact_normalise(k, c, false, ...) unchanged since: skips normalising
 * it twice (imports normalise first to look a row up). */
int crm_contact_add_normalised(crm_kernel *k, crm_contact *c, int64_t *id_out, crm_err *err);

/* crm_contact_add with flags: CRM_CONTACT_NORMALISED as
 * crm_contact_add_normalised; CRM_CONTACT_ALLOW_DUPLICATE adds a contact
 * that looks like a stored one (same phone, or a duplicate score at
 * hygiene.duplicates.min_score), which hygiene.duplicates.refuse_on_add
 * otherwise refuses (CRM_EEXISTS naming the contact, the score and the
 * reasons; *id_out gets its id). An email stays unique either way. */
#define CRM_CONTACT_NORMALISED 1u
#define CRM_CONTACT_ALLOW_DUPLICATE 2u
#define CRM_CONTACT_IMPORTING 4u /* the refusal's hint names import's --merge-duplicates */
/* The caller looked c->email up in this transaction and found no contact
 * (the import's match by email): the uniqueness check skips that query. */
#define CRM_CONTACT_EMAIL_CHECKED 8u
int crm_contact_add_flags(crm_kernel *k, crm_contact *c, unsigned flags, int64_t *id_out,
                          crm_err *err);

/* Applies the set fields of `changes` to contact id (NULL = unchanged,
 * "" = clear; tags given replace the tags; custom values given are set, ""
 * removes one). Emits contact.updated with the changed field names. */
int crm_contact_update(crm_kernel *k, int64_t id, crm_contact *changes, crm_err *err);

/* Deletes contact id with its tags, custom values, consents; refuses
 * (CRM_EINVAL) when it has orders or interactions unless `force`, which
 * deletes those too (GDPR erasure). Emits contact.deleted. */
int crm_contact_delete(crm_kernel *k, int64_t id, bool force, crm_err *err);

/* Loads contact id into *out (cleared first). CRM_ENOTFOUND when absent. */
int crm_contact_get(crm_kernel *k, int64_t id, crm_contact *out, crm_err *err);

/* Resolves "123", "ext:ABC" (external id) or an email to a contact id. */
int crm_contact_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err);

/* The JSON object of the CLI contract: id, external_id, first_name, ...,
 * tags (array), custom (object), created_at, updated_at (ISO 8601 UTC). */
json_t *crm_contact_to_json(const crm_contact *c);

typedef struct crm_contact_filter {
    const char *email;        /* exact (normalised) */
    const char *name;         /* substring of first or last name, accent/case-insensitive */
    const char *city;
    const char *postal_code;  /* prefix */
    const char *country;
    const char *company;
    const char *tag;
    const char *source;
    const char *lifecycle_stage;
    /* names of contact sets (crm_contact_set_*) the contact must belong to;
     * NULL ends the list */
    const char *sets[3];
    int64_t after_id;         /* > 0: only ids above it (cursor paging, stable under inserts) */
    int64_t updated_since;    /* > 0: only contacts updated at or after it (sync) */
    int64_t limit;            /* 0 = no limit */
    int64_t offset;
} crm_contact_filter;

/* Named sets of contact ids kept for the current command in a TEMP table of
 * the connection, so listings filter on them in SQL (paging included):
 * `--segment NAME` (ids from a plugin) and `--consent CHANNEL:PURPOSE`.
 * Stores `ids` (n of them) as set `name`, replacing a set of that name. */
int crm_contact_set_ids(crm_kernel *k, const char *name, const int64_t *ids, size_t n,
                        crm_err *err);

/* Stores as set `name` the contacts whose consent for channel and purpose
 * stands granted at `as_of`: their latest consent record at or before it
 * (by recorded_at, then id) says granted. *count (may be NULL) gets how many. */
int crm_contact_set_consent(crm_kernel *k, const char *name, const char *channel,
                            const char *purpose, int64_t as_of, int64_t *count, crm_err *err);

/* Calls fn for each matching contact in id order; stops early when fn returns
 * nonzero. The contact passed is only valid during the call. */
int crm_contact_list(crm_kernel *k, const crm_contact_filter *f,
                     int (*fn)(const crm_contact *c, void *ud), void *ud, crm_err *err);

/* ---- companies ---------------------------------------------------------- */

typedef struct crm_company {
    int64_t id;
    char *external_id;
    char *name;
    char *domain;
    char *phone;
    char *street;
    char *postal_code;
    char *city;
    char *country;
    crm_kv *custom;
    size_t n_custom;
    int64_t created_at;
    int64_t updated_at;
} crm_company;

void crm_company_clear(crm_company *c);
/* Adds a company (name required, normalised; duplicate folded name refused with
 * the existing id in *id_out and CRM_EEXISTS). Emits company.created. */
int crm_company_add(crm_kernel *k, crm_company *c, int64_t *id_out, crm_err *err);
int crm_company_update(crm_kernel *k, int64_t id, crm_company *changes, crm_err *err);
/* Deletes; contacts keep existing with company unset. Emits company.deleted. */
int crm_company_delete(crm_kernel *k, int64_t id, crm_err *err);
int crm_company_get(crm_kernel *k, int64_t id, crm_company *out, crm_err *err);
/* Resolves an id, "ext:ID" or a name (folded comparison). */
int crm_company_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err);
/* Finds the company with this name (folded) or creates it; used by contact writes. */
int crm_company_ensure(crm_kernel *k, const char *name, int64_t *id, crm_err *err);
json_t *crm_company_to_json(const crm_company *c);
int crm_company_list(crm_kernel *k, const char *name_like, int64_t limit, int64_t offset,
                     int (*fn)(const crm_company *c, void *ud), void *ud, crm_err *err);

/* ---- products, orders ----------------------------------------------------- */

typedef struct crm_product {
    int64_t id;
    char *sku;
    char *name;
    int64_t price;   /* minor units */
    char *currency;
} crm_product;

void crm_product_clear(crm_product *p);
/* Adds or updates (by sku) a product. Emits product.created / product.updated. */
int crm_product_upsert(crm_kernel *k, crm_product *p, int64_t *id_out, crm_err *err);

typedef struct crm_order_line {
    char *sku;
    int64_t quantity;
    int64_t unit_price;  /* minor units */
} crm_order_line;

typedef struct crm_order {
    int64_t id;
    char *external_id;
    int64_t contact_id;
    int64_t placed_at;   /* epoch seconds UTC */
    int64_t total;       /* minor units; when 0 and lines given, the sum of lines */
    char *currency;      /* ISO 4217; NULL = the configured currency */
    char *status;        /* placed|paid|cancelled|refunded; NULL = placed */
    crm_order_line *lines;
    size_t n_lines;
    int64_t created_at;
    int64_t updated_at;
    char *cart_id;       /* in only: the shop's cart this order converts (NULL: the
                            contact's open carts updated before placed_at; cart.h) */
} crm_order;

void crm_order_clear(crm_order *o);
/* Adds an order for an existing contact; validates status, currency, lines
 * (quantity > 0) and that total matches the lines when both are given.
 * Emits order.placed (and order.paid when status is paid). */
int crm_order_add(crm_kernel *k, crm_order *o, int64_t *id_out, crm_err *err);
/* Moves an order to a new status along placed -> paid -> refunded, placed|paid ->
 * cancelled; emits order.<status>. Refuses other transitions. */
int crm_order_set_status(crm_kernel *k, int64_t id, const char *status, crm_err *err);
int crm_order_get(crm_kernel *k, int64_t id, crm_order *out, crm_err *err);
int crm_order_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err);
/* Money as exact decimal text ("total": "12.50", lines' "unit_price") plus the
 * stored integer ("total_minor", "unit_price_minor"); times ISO 8601 UTC. */
json_t *crm_order_to_json(const crm_order *o);
/* Orders of one contact (contact_id > 0) or all, newest first. */
int crm_order_list(crm_kernel *k, int64_t contact_id, const char *status, int64_t limit,
                   int64_t offset, int (*fn)(const crm_order *o, void *ud), void *ud,
                   crm_err *err);

/* ---- interactions ------------------------------------------------------- */

typedef struct crm_interaction {
    int64_t id;
    int64_t contact_id;
    char *channel;      /* email|sms|phone|meeting|note|web */
    char *direction;    /* in|out|none; NULL = none for note, else out */
    char *subject;
    char *body;
    int64_t occurred_at;  /* 0 = now */
    char *author;       /* user id or email */
    char *external_id;
    int64_t created_at;
} crm_interaction;

void crm_interaction_clear(crm_interaction *i);
/* Logs an interaction in the contact's shared history. Emits interaction.logged. */
int crm_interaction_log(crm_kernel *k, crm_interaction *i, int64_t *id_out, crm_err *err);
json_t *crm_interaction_to_json(const crm_interaction *i);

/* ---- tasks: reminders, follow-ups, calls ------------------------------------ */

typedef struct crm_task {
    int64_t id;
    char *subject;
    char *kind;          /* call|email|meeting|todo|follow_up; NULL = todo */
    int64_t due_at;      /* epoch seconds UTC; required */
    char *assignee;      /* user id or email in; the user's email (else name) out */
    int64_t contact_id;  /* 0 = none */
    char *ref;           /* a plugin record, "deal:12"; NULL = none */
    char *notes;
    char *status;        /* open|done|cancelled (out only) */
    int64_t done_at;     /* when done or cancelled; 0 while open */
    int64_t overdue_notified_at;
    int64_t created_at;
    int64_t updated_at;
} crm_task;

void crm_task_clear(crm_task *t);
/* Adds an open task (subject and due_at required, kind checked, contact and
 * assignee must exist, ref is "<word>:<id>"). Emits task.created. */
int crm_task_add(crm_kernel *k, crm_task *t, int64_t *id_out, crm_err *err);
/* Loads task id into *out (cleared first). CRM_ENOTFOUND when absent. */
int crm_task_get(crm_kernel *k, int64_t id, crm_task *out, crm_err *err);
/* Closes an open task as done (task.completed) or cancelled (task.cancelled)
 * at k->now; a task already closed is refused (CRM_EINVAL naming its status). */
int crm_task_complete(crm_kernel *k, int64_t id, crm_err *err);
int crm_task_cancel(crm_kernel *k, int64_t id, crm_err *err);
/* Gives an open task to another user (id or email; NULL or "" = nobody).
 * Emits task.reassigned {task_id, from, to} (user ids, null for nobody);
 * the same assignee again changes nothing and emits nothing. */
int crm_task_reassign(crm_kernel *k, int64_t id, const char *assignee, crm_err *err);

typedef struct crm_task_filter {
    int64_t assignee_id;   /* 0 = anyone */
    int64_t contact_id;    /* 0 = any */
    const char *status;    /* open|done|cancelled; NULL = every status */
    const char *ref;       /* "deal:12"; NULL = any */
    int64_t due_from;      /* due_at >= due_from when due_to > 0 */
    int64_t due_to;        /* due_at < due_to; 0 = no bound */
    int64_t overdue_at;    /* > 0: open and due before this instant */
} crm_task_filter;

/* Calls fn for each matching task, by due time then id; nonzero stops. The
 * task is only valid during the call. Reads only. */
int crm_task_list(crm_kernel *k, const crm_task_filter *f,
                  int (*fn)(const crm_task *t, void *ud), void *ud, crm_err *err);
/* {id, subject, kind, due_at (ISO), due_at_epoch, assignee, contact_id, ref,
 * notes, status, done_at, overdue_notified_at, created_at, updated_at}. */
json_t *crm_task_to_json(const crm_task *t);

/* The overdue check: in one transaction, emits task.overdue {task_id,
 * contact_id, assignee_id, due_at} for each open task due before as_of that
 * was not notified yet, and stamps overdue_notified_at, so a task is
 * reported once whoever runs the pass and however often. *count (may be
 * NULL) gets how many were reported. Covers tasks that have no timer (made
 * before task timers existed). */
int crm_task_overdue_pass(crm_kernel *k, int64_t as_of, int64_t *count, crm_err *err);
/* Registers the kernel handler of "task:ID" timers (crm_task_add schedules
 * one at due_at, closing cancels it): it emits the task's task.overdue, as
 * the pass would, in the timer's transaction. crm_kernel_open calls it. */
int crm_task_timers_register(crm_kernel *k, crm_err *err);

/* ---- timeline: the 360° view ------------------------------------------- */

/* Calls fn with one JSON object per interaction, order, consent record, task
 * (at its due time), plugin event about the contact (its payload's
 * contact_id: segment.entered, segment.left, churn.risk_raised, ...) and
 * outbox message not sent (yet: postponed by quiet hours, held, suppressed,
 * failed; a sent one is its interaction), in time order (oldest first; ties
 * by kind then id). Each object has "kind"
 * ("consent"|"event"|"interaction"|"message"|"order"|"stage"|"task"), "at"
 * (ISO 8601), "at_epoch" and the record under "record" (an order's,
 * interaction's or task's *_to_json object; a consent's row; an event's id,
 * type, source, payload object and created_at; a message's id, channel,
 * purpose, template, status, reason, created_at and scheduled_at). The object is borrowed for the call; fn
 * returning nonzero stops early. */
int crm_timeline(crm_kernel *k, int64_t contact_id, int (*fn)(json_t *item, void *ud),
                 void *ud, crm_err *err);

/* Which part of a timeline: items at or after `since` and at or before
 * `until` (0: unbounded), the latest `limit` of them (0: all), still given
 * oldest first. */
typedef struct crm_timeline_opts {
    int64_t since, until, limit;
} crm_timeline_opts;

/* crm_timeline restricted by o (NULL: everything). */
int crm_timeline_query(crm_kernel *k, int64_t contact_id, const crm_timeline_opts *o,
                       int (*fn)(json_t *item, void *ud), void *ud, crm_err *err);

/* ---- consents (GDPR) ------------------------------------------------------ */

typedef struct crm_consent {
    int64_t id;
    int64_t contact_id;
    char *channel;     /* email|sms|phone|post|web (any lower-case word) */
    char *purpose;     /* marketing|newsletter|profiling|... (lower-case word) */
    char *status;      /* granted|withdrawn */
    int64_t recorded_at;  /* 0 = now */
    char *source;      /* where the consent was given: "web form", "shop" ... */
    bool unchanged;    /* set by crm_consent_record: the pair already had this status */
    int64_t since;     /* then: when that status was recorded */
} crm_consent;

void crm_consent_clear(crm_consent *c);
/* Appends a consent record; emits consent.granted or consent.withdrawn.
 * Channel and purpose must be listed under crm.yaml `consents:` (CRM_EINVAL
 * naming the known ones otherwise). When the pair already has that status
 * at c->recorded_at, nothing is written and no event emitted: CRM_OK with
 * c->unchanged set, c->since the time of that status and *id_out (and
 * c->id) the record in force. */
int crm_consent_record(crm_kernel *k, crm_consent *c, int64_t *id_out, crm_err *err);
/* Current state per (channel, purpose) for a contact (latest record each), or
 * the whole history when `history`; fn gets each as JSON. */
int crm_consent_list(crm_kernel *k, int64_t contact_id, bool history,
                     int (*fn)(json_t *item, void *ud), void *ud, crm_err *err);

/* ---- lifecycle and the contact's history ---------------------------------- */

/* An order of contact_id became paid (added as paid, or placed -> paid):
 * inside the caller's transaction, moves the contact up to crm.yaml
 * lifecycle.on_first_paid_order when its stage is behind it (never down;
 * "none" turns this off), records the change in contact_history and emits
 * contact.stage_changed and contact.updated. CRM_OK when nothing changes. */
int crm_lifecycle_order_paid(crm_kernel *k, int64_t contact_id, int64_t order_id, crm_err *err);

/* KEEP absorbed contact OTHER whose stage was OTHER_STAGE: inside the
 * caller's transaction, moves KEEP up to that stage when it is further on
 * the ladder (the merged person is as far as either was; inactive counts as
 * behind), recorded in contact_history ("merge of contact #OTHER") with
 * contact.stage_changed and contact.updated; *history_id gets that row's
 * id (0 when nothing changes), for unmerge to take it back. */
int crm_lifecycle_merged(crm_kernel *k, int64_t keep, const char *other_stage, int64_t other,
                         int64_t *history_id, crm_err *err);

/* Contacts the lifecycle rule has not reached: behind
 * lifecycle.on_first_paid_order although an order of theirs placed by
 * k->now is paid, with no stage change in their history (data from before
 * the rule, or paid while it was `none`). fn gets each (from, to, the first
 * paid order) in id order; a non-zero return stops with that code. With
 * apply, inside the caller's transaction, each is first moved up as that
 * order would have ("order #N paid (audit --fix stages)" in its history). */
int crm_lifecycle_behind(crm_kernel *k, bool apply,
                         int (*fn)(int64_t contact_id, const char *from, const char *to,
                                   int64_t order_id, void *ud),
                         void *ud, crm_err *err);

/* Appends a row to contact_history (field, old and new values, why, the
 * order that caused it or 0), at k->now, inside the caller's transaction. */
int crm_contact_history_add(crm_kernel *k, int64_t contact_id, const char *field,
                            const char *from, const char *to, const char *reason,
                            int64_t order_id, crm_err *err);

/* The contact's history, oldest first; fn gets each row as JSON {id,
 * contact_id, field, from, to, reason, order_id, changed_at} (borrowed);
 * nonzero stops. */
int crm_contact_history(crm_kernel *k, int64_t contact_id, int (*fn)(json_t *item, void *ud),
                        void *ud, crm_err *err);

/* One history row as that JSON (*out owned by the caller); CRM_ENOTFOUND. */
int crm_contact_history_get(crm_kernel *k, int64_t id, json_t **out, crm_err *err);

/* ---- users ---------------------------------------------------------------- */

/* Adds an agent; role admin|manager|agent|viewer. Emits user.created. */
int crm_user_add(crm_kernel *k, const char *name, const char *email, const char *role,
                 int64_t *id_out, crm_err *err);
/* Resolves a user id or email to an id. */
int crm_user_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err);
/* Calls fn for each user in id order with {id, name, email, role, created_at}
 * (borrowed for the call); stops early when fn returns nonzero. */
int crm_user_list(crm_kernel *k, int (*fn)(json_t *user, void *ud), void *ud, crm_err *err);

/* ---- custom values (shared by entities) --------------------------------- */

/* Checks each value against the crm.yaml declaration for entity e (unknown
 * name, type, enum) and the required ones when !is_update; normalises values
 * in place (dates to YYYY-MM-DD, booleans to true/false, decimals canonical). */
int crm_custom_validate(const crm_kernel *k, crm_entity e, crm_kv *kv, size_t n, bool is_update,
                        crm_err *err);
/* Writes values for a record ("" deletes one). */
int crm_custom_store(crm_kernel *k, crm_entity e, int64_t id, const crm_kv *kv, size_t n,
                     crm_err *err);
/* Loads all values of a record. */
int crm_custom_load(crm_kernel *k, crm_entity e, int64_t id, crm_kv **kv, size_t *n,
                    crm_err *err);
/* Deletes all values of a record. */
int crm_custom_delete(crm_kernel *k, crm_entity e, int64_t id, crm_err *err);
void crm_kv_free(crm_kv *kv, size_t n);

#endif

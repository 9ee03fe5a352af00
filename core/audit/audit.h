/* The quarterly data audit: what a base's hygiene looks like today, how it
 * moved since the previous audit, and the merges that are safe to do
 * unattended.
 *
 * Findings, each with a count and a few examples:
 *   duplicates           pairs scoring >= hygiene.duplicates.min_score (core/dedupe)
 *   missing_required     contacts lacking a hygiene.required field or a required
 *                        custom field (a rule added after they were stored)
 *   missing_recommended  contacts lacking a hygiene.recommended field
 *   invalid              contacts with a stored value today's rules refuse
 *                        (validation switches, custom field types, Lua validators)
 *   no_consent           contacts with no consent recorded, granted or withdrawn
 *   inactive             contacts whose last order or interaction (or, without
 *                        any, their creation) is older than hygiene.inactive_months
 * Every audit is recorded (table `audits`), so the next one reports deltas.
 *
 * audit.c is pure computation (no database); collect.c reads the base. */
#ifndef CRM_CORE_AUDIT_H
#define CRM_CORE_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "model.h"

#define CRM_AUDIT_EXAMPLES 5

typedef enum crm_audit_kind {
    CRM_AUDIT_DUPLICATES,
    CRM_AUDIT_MISSING_REQUIRED,
    CRM_AUDIT_MISSING_RECOMMENDED,
    CRM_AUDIT_INVALID,
    CRM_AUDIT_NO_CONSENT,
    CRM_AUDIT_INACTIVE,
    CRM_AUDIT_N
} crm_audit_kind;

/* JSON key and `audits` column of each kind, in enum order. */
extern const char *const crm_audit_keys[CRM_AUDIT_N];

typedef struct crm_audit_example {
    int64_t a, b;        /* contact ids; b is the other contact of a pair, else 0 */
    int64_t at;          /* inactive: the last activity (shown in locale.timezone), else 0 */
    char detail[320];    /* the pair's reasons, the refused value's message, the field */
} crm_audit_example;

typedef struct crm_audit_finding {
    int64_t count;
    size_t n_examples;
    crm_audit_example examples[CRM_AUDIT_EXAMPLES];
} crm_audit_finding;

/* One required or recommended field and the contacts lacking it. */
typedef struct crm_audit_field {
    char name[72];       /* "phone", "custom.vat_number" */
    bool required;
    crm_audit_finding missing;
} crm_audit_field;

/* One merge done by --fix merge-safe. */
typedef struct crm_audit_merge {
    int64_t merge_id, keep_id, other_id;
} crm_audit_merge;

typedef struct crm_audit_report {
    int64_t id;                 /* this audit's row in `audits` */
    int64_t as_of;              /* the kernel clock (--as-of) */
    int64_t contacts;
    int min_score;              /* duplicate threshold used */
    int64_t inactive_months, inactive_before; /* last activity before this instant */
    crm_audit_finding f[CRM_AUDIT_N];
    crm_audit_field *fields;    /* required then recommended, config order */
    size_t n_fields;
    /* The previous audit (prev_id 0: this is the first). */
    int64_t prev_id, prev_as_of, prev_contacts;
    int64_t prev[CRM_AUDIT_N];
    /* --fix merge-safe: merges done and candidate pairs left alone. */
    bool fixed;
    crm_audit_merge *merges;
    size_t n_merges;
    crm_audit_finding refused; /* pairs sharing an email or phone, kept apart: a field conflicts */
    /* --fix stages: contacts moved up by the lifecycle rule they predate. */
    bool fixed_stages;
    crm_audit_finding staged;  /* a = contact, detail "lead -> customer (order #3 paid)" */
} crm_audit_report;

typedef struct crm_audit_opts {
    bool fix_merge_safe;  /* merge the safe duplicate pairs before auditing */
    bool fix_stages;      /* apply the lifecycle rule to the contacts it predates */
} crm_audit_opts;

/* ---- audit.c: pure ------------------------------------------------------------- */

/* Counts one finding and keeps it as an example while there is room. */
void crm_audit_note(crm_audit_finding *f, int64_t a, int64_t b, const char *detail);

/* The instant `months` calendar months before t (UTC; the day is clamped to
 * the target month's length: 31 August minus 6 months is 28/29 February). */
int64_t crm_audit_months_before(int64_t t, int64_t months);

/* True when a and b share a (non-empty) email or phone. */
bool crm_audit_shares_key(const crm_contact *a, const crm_contact *b);

/* True when a field set on both sides differs (names, city and street
 * compared case- and accent-insensitively; email, phone, postal code,
 * country, birth date, company, external id and custom values exactly);
 * `why` gets "city: 'Paris' / 'Lyon'". One side empty is not a conflict. */
bool crm_audit_conflict(const crm_contact *a, const crm_contact *b, char *why, size_t size);

/* The report as one JSON object (see README "Data audit"); NULL on no memory. */
json_t *crm_audit_to_json(const crm_audit_report *r);

/* Frees what the report owns and zeroes it. */
void crm_audit_report_free(crm_audit_report *r);

/* ---- collect.c: reads the base ------------------------------------------------ */

/* Runs the audit as of k->now in one transaction: with fix_merge_safe first
 * merges each duplicate pair that shares an email or phone and has no
 * conflicting field (through crm_contact_merge: history moves, unmerge
 * works; KEEP is the older contact), with fix_stages moves the contacts
 * the lifecycle rule has not reached (crm_lifecycle_behind; they are an
 * `invalid` finding otherwise), then computes every finding, reads the
 * previous audit and records this one (emitting audit.recorded). On failure
 * nothing is written. *r is owned by the caller (crm_audit_report_free). */
int crm_audit_run(crm_kernel *k, const crm_audit_opts *o, crm_audit_report *r, crm_err *err);

#endif

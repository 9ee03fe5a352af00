/* Duplicate contacts: a near-linear scan of the whole base, and merge /
 * unmerge with history.
 *
 * Scan. Every contact gets blocking keys (normalised email, E.164 phone,
 * folded last name + postal code, folded first+last sorted so swapped names
 * meet, email local part, and two name-prefix/suffix keys within a postal
 * code for typos); only contacts sharing a key are compared, and a block
 * larger than CRM_DEDUPE_MAX_BLOCK is skipped (counted in the stats). A pair
 * scores the sum of the weights of the criteria it meets, capped to 0–100:
 *
 *   criterion            default  met when
 *   email                  100    same normalised email
 *   phone                   60    same E.164 phone
 *   name                    45    same folded full name (or first/last swapped)
 *   similar_name            40    Jaro-Winkler of folded full names >= 0.92 (not equal)
 *   postal_code             40    same postal code, with a name or similar_name match
 *   email_local             40    same email local part (>= 4 chars), other domain
 *   birth_date              20    same birth date, with a name or similar_name match
 *   birth_date_conflict    -40    both birth dates set and different (a penalty)
 *
 * Weights come from crm.yaml hygiene.duplicates.weights (criterion: weight;
 * a penalty is given as a positive number), the threshold from
 * hygiene.duplicates.min_score (default 80). */
#ifndef CRM_CORE_DEDUPE_H
#define CRM_CORE_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

#define CRM_DEDUPE_MAX_BLOCK 500

typedef struct crm_dup_pair {
    int64_t a, b;        /* contact ids, a < b */
    int score;           /* 0-100 */
    char reasons[320];   /* "same phone +33612345678; same name and postal code 75001" */
} crm_dup_pair;

typedef struct crm_dedupe_stats {
    int64_t contacts, comparisons, pairs, skipped_blocks;
    double seconds;
} crm_dedupe_stats;

/* Scans all contacts and calls fn for each pair scoring >= min_score (< 0:
 * the configured threshold), best score first. Stops when fn returns
 * nonzero. CRM_ECONFIG when a weight names an unknown criterion. */
int crm_dedupe_scan(crm_kernel *k, int min_score,
                    int (*fn)(const crm_dup_pair *p, void *ud), void *ud,
                    crm_dedupe_stats *stats, crm_err *err);

/* Scores one pair of stored contacts (for tests and `merge` previews). */
int crm_dedupe_score(crm_kernel *k, int64_t a, int64_t b, crm_dup_pair *out, crm_err *err);

/* The stored contact that candidate `c` (normalised, stored or not) most
 * looks like: the best score >= min_score (< 0: the configured threshold)
 * among the contacts other than `self` (0: none) sharing a blocking key with
 * it, found by indexed lookups (same email, phone, folded name either way
 * round, email local part, or postal code with the first or last three
 * letters of the last name), never a scan; ties go to the
 * lowest id. out->a receives that contact's id (0 when none reaches the
 * threshold; min_score 0 gives the best candidate whatever its score),
 * out->b `self`, out->score and out->reasons as the scan gives them.
 * CRM_DEDUPE_KEYS_CHECKED in flags skips the email and phone look-ups, for
 * a caller that just found no other contact with c's email and phone.
 * CRM_ECONFIG for a bad weight, CRM_EDB. */
#define CRM_DEDUPE_KEYS_CHECKED 1u
struct crm_contact;
int crm_dedupe_match(crm_kernel *k, const struct crm_contact *c, int64_t self, int min_score,
                     unsigned flags, crm_dup_pair *out, crm_err *err);

/* Merges OTHER into KEEP in one transaction: moves orders, interactions and
 * consents, adds OTHER's tags and custom values KEEP lacks, fills KEEP's
 * empty fields from OTHER (and takes OTHER's value for each field named in
 * `prefer`, e.g. {"email", "phone"}), records everything in contact_merges,
 * deletes OTHER and emits contact.merged {keep_id, other_id, merge_id}.
 * *merge_id receives the history row's id. */
int crm_contact_merge(crm_kernel *k, int64_t keep, int64_t other, const char *const *prefer,
                      size_t n_prefer, int64_t *merge_id, crm_err *err);

/* Reverts merge `merge_id`: restores OTHER (same id) with its fields, tags,
 * custom values and moved records, and KEEP as it was before. Refuses
 * (CRM_EINVAL, saying why) when KEEP changed since, a moved record moved
 * again, a later merge involved KEEP, or OTHER's id was reused. Emits
 * contact.unmerged. */
int crm_contact_unmerge(crm_kernel *k, int64_t merge_id, crm_err *err);

/* Calls fn with each merge of contact id (as KEEP), newest first, as JSON
 * {id, keep_id, other_id, other, moved, created_at, unmerged_at}; id 0 = all. */
int crm_contact_merges(crm_kernel *k, int64_t id, int (*fn)(void *json, void *ud), void *ud,
                       crm_err *err);

#endif

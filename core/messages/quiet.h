/* Quiet hours and frequency caps: crm.yaml `messages.quiet_hours` and
 * `messages.caps`, read into plain rules the outbox applies (outbox_rules.c).
 *
 * quiet_hours: PURPOSE: CHANNEL: {allowed: {DAYS: ["HH:MM-HH:MM", ...]},
 *   holidays: closed|open}. The hours are wall-clock time in the contact's own
 * zone; a message outside them is postponed to the next allowed instant.
 * Absent, the default is the rule for France: marketing SMS Monday to
 * Saturday 08:00-20:00, not on public holidays. Present, it replaces the
 * default (`quiet_hours: {}` means none).
 *
 * caps: PURPOSE: {CHANNEL: DURATION}: at most one message of that purpose on
 * that channel per DURATION per contact; another is suppressed. Absent:
 * marketing email 16h, marketing SMS 24h. Transactional is never capped. */
#ifndef CRM_CORE_MESSAGES_QUIET_H
#define CRM_CORE_MESSAGES_QUIET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "time/calendar.h"

typedef struct crm_quiet_rule {
    char purpose[16], channel[16];
    crm_calendar_hours hours[7][CRM_CALENDAR_MAX_INTERVALS];
    size_t n_hours[7];
    bool holidays_closed;
} crm_quiet_rule;

typedef struct crm_cap {
    char purpose[16], channel[16];
    int64_t seconds;
} crm_cap;

/* Reads messages.quiet_hours (n NULL: the defaults) into *out (malloc'd,
 * may be NULL when *count is 0; out NULL only validates). CRM_ECONFIG
 * naming file:line:col and the key; CRM_ENOMEM. */
int crm_quiet_config(const crm_node *n, crm_quiet_rule **out, size_t *count, crm_err *err);

/* Reads messages.caps (n NULL: the defaults) likewise. */
int crm_caps_config(const crm_node *n, crm_cap **out, size_t *count, crm_err *err);

#endif

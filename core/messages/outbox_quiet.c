/* Quiet hours in the contact's own zone (outbox_int.h). The zone is the
 * contact's country's, from the tz database's zone.tab (the locale's zone
 * when the country has several and it is one of them), else
 * locale.timezone; public holidays are that country's, else the locale's.
 * A calendar is built from the rule's allowed hours per zone and country,
 * once per process, and its next open instant is when the message goes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/outbox_int.h"
#include "store.h"
#include "time/holidays.h"
#include "util.h"

int crm_outbox_settings(crm_kernel *k, crm_outbox **out, crm_err *err)
{
    crm_outbox *o = crm_outbox_state(k);
    if (!o)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    *out = o;
    if (o->settings_loaded)
        return CRM_OK;
    const crm_node *root = k->cfg->root;
    int rc = crm_quiet_config(root ? crm_node_path(root, "messages.quiet_hours") : NULL,
                              &o->quiet, &o->n_quiet, err);
    if (rc == CRM_OK)
        rc = crm_caps_config(root ? crm_node_path(root, "messages.caps") : NULL, &o->caps,
                             &o->n_caps, err);
    o->settings_loaded = rc == CRM_OK;
    return rc;
}

/* The contact's country ("" when none) into cc. */
static int contact_country(crm_kernel *k, int64_t id, char cc[3], crm_err *err)
{
    cc[0] = '\0';
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT country FROM contacts WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    const char *c = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (c && strlen(c) == 2)
        memcpy(cc, c, 3);
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot read the contact's country", err);
}

static int calendar_for(crm_kernel *k, crm_outbox *o, size_t rule, const char *zone,
                        const char *country, const crm_calendar **out, crm_err *err)
{
    for (size_t i = 0; i < o->n_cals; i++)
        if (o->cals[i].rule == rule && strcmp(o->cals[i].zone, zone) == 0 &&
            strcmp(o->cals[i].country, country) == 0) {
            *out = o->cals[i].cal;
            return CRM_OK;
        }
    (void)k;
    const crm_quiet_rule *r = &o->quiet[rule];
    char name[64];
    snprintf(name, sizeof name, "quiet_hours.%s.%s", r->purpose, r->channel);
    crm_calendar *cal;
    int rc = crm_calendar_make(name, zone, r->hours, r->n_hours, country, &cal, err);
    if (rc != CRM_OK)
        return rc;
    outbox_quiet_cal *slot = CRM_ARRAY_APPEND(o->cals, o->n_cals);
    if (!slot) {
        crm_calendar_free(cal);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    *slot = (outbox_quiet_cal){.rule = rule, .cal = cal};
    snprintf(slot->zone, sizeof slot->zone, "%s", zone);
    snprintf(slot->country, sizeof slot->country, "%s", country);
    *out = cal;
    return CRM_OK;
}

int crm_outbox_quiet(crm_kernel *k, const outbox_msg *m, int64_t *at, char *reason,
                     size_t size, crm_err *err)
{
    crm_outbox *o;
    int rc = crm_outbox_settings(k, &o, err);
    size_t rule = 0;
    for (; rc == CRM_OK && rule < o->n_quiet; rule++)
        if (strcmp(o->quiet[rule].purpose, m->purpose) == 0 &&
            strcmp(o->quiet[rule].channel, m->channel) == 0)
            break;
    if (rc != CRM_OK || rule == o->n_quiet)
        return rc;
    char cc[3], zone[64];
    if ((rc = contact_country(k, m->contact_id, cc, err)) != CRM_OK)
        return rc;
    if (!cc[0] || !crm_tz_country_zone(cc, k->cfg->timezone, zone, sizeof zone))
        snprintf(zone, sizeof zone, "%s", k->cfg->timezone);
    const char *holidays = !o->quiet[rule].holidays_closed ? "" : cc[0] ? cc : k->cfg->country;
    const crm_calendar *cal = NULL;
    int64_t next = *at;
    if ((rc = calendar_for(k, o, rule, zone, holidays, &cal, err)) != CRM_OK ||
        (rc = crm_calendar_next_open(cal, *at, &next, err)) != CRM_OK)
        return rc;
    if (next > *at) {
        char when[40];
        crm_calendar_format(cal, next, when, sizeof when);
        snprintf(reason, size, "quiet hours (%s %s in %s): postponed to %s", m->purpose,
                 m->channel, zone, when);
        *at = next;
    }
    return CRM_OK;
}

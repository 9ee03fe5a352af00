/* The rules a message passes at queue time and again before it is sent:
 * the pause switch, an address for the channel, consent for marketing,
 * quiet hours (which postpone, never stop), frequency caps. Data driven: one
 * row per rule, run in order, the first that stops wins. Caps come after
 * quiet hours so they judge the instant the message will really go out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/outbox_int.h"
#include "store.h"

typedef int (*rule_fn)(crm_kernel *k, const outbox_msg *m, int64_t *at, bool *stop,
                       char *reason, size_t size, crm_err *err);

/* `crm message pause [--contact ID]`: held, not lost; resume sends it. */
static int rule_pause(crm_kernel *k, const outbox_msg *m, int64_t *at, bool *stop, char *reason, size_t size,
                      crm_err *err)
{
    (void)at;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT contact_id FROM message_pauses WHERE contact_id IN (0, ?)"
                  " ORDER BY contact_id LIMIT 1", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, m->contact_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *stop = true;
        snprintf(reason, size, sqlite3_column_int64(st, 0) ? "paused for this contact"
                                                           : "paused for everyone");
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? CRM_OK
                                                     : crm_store_error(k->store, "pause", err);
}

static int rule_address(crm_kernel *k, const outbox_msg *m, int64_t *at, bool *stop, char *reason,
                        size_t size, crm_err *err)
{
    (void)k, (void)err, (void)at;
    if (m->address && *m->address)
        return CRM_OK;
    *stop = true;
    snprintf(reason, size, strcmp(m->channel, "sms") == 0 ? "no mobile number"
                                                          : "no %s address", m->channel);
    return CRM_OK;
}

/* Marketing needs the person's yes for this channel and purpose: the latest
 * record of the consent ledger at k->now must be `granted`. */
static int rule_consent(crm_kernel *k, const outbox_msg *m, int64_t *at, bool *stop, char *reason,
                        size_t size, crm_err *err)
{
    (void)at;
    if (strcmp(m->purpose, "marketing") != 0)
        return CRM_OK;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT status FROM consents WHERE contact_id=? AND channel=? AND purpose='marketing'"
        " AND recorded_at<=? ORDER BY recorded_at DESC, id DESC LIMIT 1", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, m->contact_id);
    sqlite3_bind_text(st, 2, m->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, k->now);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "granted") != 0) {
        *stop = true;
        snprintf(reason, size, "consent withdrawn (%s marketing)", m->channel);
    } else if (step == SQLITE_DONE) {
        *stop = true;
        snprintf(reason, size, "no consent (%s marketing)", m->channel);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? CRM_OK
                                                     : crm_store_error(k->store, "consent", err);
}

/* Postpones, never stops: the message stays queued for the next allowed
 * instant in the contact's zone. */
static int rule_quiet(crm_kernel *k, const outbox_msg *m, int64_t *at, bool *stop,
                      char *reason, size_t size, crm_err *err)
{
    (void)stop;
    return crm_outbox_quiet(k, m, at, reason, size, err);
}

static int rule_cap(crm_kernel *k, const outbox_msg *m, int64_t *at, bool *stop, char *reason,
                    size_t size, crm_err *err)
{
    return crm_outbox_cap(k, m, *at, stop, reason, size, err);
}

static const struct {
    rule_fn fn;
    const char *status; /* what a stop makes of the message */
} rules[] = {
    {rule_pause, "held"},
    {rule_address, "suppressed"},
    {rule_consent, "suppressed"},
    {rule_quiet, "queued"},
    {rule_cap, "suppressed"},
};

int crm_outbox_rules(crm_kernel *k, const outbox_msg *m, int64_t *at, const char **status,
                     char *reason, size_t size, crm_err *err)
{
    *status = "queued";
    reason[0] = '\0';
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        bool stop = false;
        int rc = rules[i].fn(k, m, at, &stop, reason, size, err);
        if (rc != CRM_OK)
            return rc;
        if (stop) {
            *status = rules[i].status;
            return CRM_OK;
        }
    }
    return CRM_OK;
}

/* SMS goes to mobiles only: a landline cannot receive it (phone_type from
 * libphonenumber; a number it cannot tell apart is given the benefit). */
int crm_outbox_address(crm_kernel *k, int64_t contact_id, const char *channel, char **out,
                       char **name, crm_err *err)
{
    *out = NULL;
    if (name)
        *name = NULL;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT email, phone, phone_type, trim(coalesce(first_name,'')||' '||"
        "coalesce(last_name,'')) FROM contacts WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, contact_id);
    int step = sqlite3_step(st);
    int rc = CRM_OK;
    if (step == SQLITE_ROW) {
        const char *addr = NULL;
        if (strcmp(channel, "email") == 0) {
            addr = (const char *)sqlite3_column_text(st, 0);
        } else if (strcmp(channel, "sms") == 0) {
            const char *type = (const char *)sqlite3_column_text(st, 2);
            if (!type || strcmp(type, "mobile") == 0 || strcmp(type, "fixed_line_or_mobile") == 0)
                addr = (const char *)sqlite3_column_text(st, 1);
        }
        const char *nm = (const char *)sqlite3_column_text(st, 3);
        if ((addr && *addr && !(*out = strdup(addr))) ||
            (name && nm && *nm && !(*name = strdup(nm))))
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    } else if (step == SQLITE_DONE) {
        rc = crm_err_set(err, CRM_ENOTFOUND, "no contact %lld", (long long)contact_id);
    } else {
        rc = crm_store_error(k->store, "cannot read the contact", err);
    }
    sqlite3_reset(st);
    return rc;
}

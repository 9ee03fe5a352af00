/* Frequency caps (outbox_int.h): at most one message of a purpose on a
 * channel per contact within the configured span. The span is checked
 * around the instant the message goes out (after quiet hours moved it), on
 * both sides at queue time, so a message queued for later and one queued now
 * cannot both pass; at send time only messages already sent count, so the
 * first of two never loses to the second. */
#include <stdio.h>
#include <string.h>

#include "messages/outbox_int.h"
#include "store.h"

int crm_outbox_cap(crm_kernel *k, const outbox_msg *m, int64_t at, bool *stop, char *reason,
                   size_t size, crm_err *err)
{
    crm_outbox *o;
    int rc = crm_outbox_settings(k, &o, err);
    const crm_cap *cap = NULL;
    for (size_t i = 0; rc == CRM_OK && i < o->n_caps && !cap; i++)
        if (strcmp(o->caps[i].purpose, m->purpose) == 0 &&
            strcmp(o->caps[i].channel, m->channel) == 0)
            cap = &o->caps[i];
    if (rc != CRM_OK || !cap)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT id FROM messages WHERE contact_id=?1 AND channel=?2 AND purpose=?3 AND id<>?4"
        " AND (status='sent' AND sent_at>?5-?6 AND sent_at<?5+?6"
        "  OR ?4=0 AND status='queued' AND scheduled_at>?5-?6 AND scheduled_at<?5+?6)"
        " ORDER BY id LIMIT 1", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, m->contact_id);
    sqlite3_bind_text(st, 2, m->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->id);
    sqlite3_bind_int64(st, 5, at);
    sqlite3_bind_int64(st, 6, cap->seconds);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *stop = true;
        char span[32];
        crm_duration d = {CRM_DUR_OPEN, cap->seconds};
        crm_duration_format(&d, span, sizeof span);
        snprintf(reason, size, "frequency cap: one %s %s per %s (message %lld is within it)",
                 m->purpose, m->channel, span, (long long)sqlite3_column_int64(st, 0));
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot check the frequency cap", err);
}

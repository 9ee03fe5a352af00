/* The operator's levers on the outbox: the pause switch (everyone, or one
 * contact) and bringing a dead-lettered message back (outbox.h). */
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "messages/outbox.h"
#include "messages/outbox_int.h"
#include "store.h"

static int exec_id(crm_kernel *k, const char *sql, int64_t a, int64_t b, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "outbox", err);
}

int crm_outbox_pause(crm_kernel *k, int64_t contact_id, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = exec_id(k, "INSERT OR IGNORE INTO message_pauses(contact_id, paused_at) VALUES(?1, ?2)",
                 contact_id, k->now, err);
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return rc;
}

/* Held messages the rules now let through go back to the queue, due at
 * their own time or now. */
static int release_held(crm_kernel *k, int64_t *n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT m.id, m.scheduled_at FROM messages m WHERE m.status='held' AND NOT"
                  " EXISTS(SELECT 1 FROM message_pauses p WHERE p.contact_id IN (0, m.contact_id))"
                  " ORDER BY m.id", err);
    if (!st)
        return err->code;
    int64_t ids[512], at[512];
    size_t count = 0;
    int step;
    while (count < 512 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        ids[count] = sqlite3_column_int64(st, 0);
        at[count++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    int rc = CRM_OK;
    for (size_t i = 0; i < count && rc == CRM_OK; i++) {
        rc = exec_id(k, "UPDATE messages SET status='queued', reason=NULL WHERE id=?1 AND ?2=?2",
                     ids[i], 0, err);
        if (rc == CRM_OK)
            rc = crm_outbox_schedule(k, ids[i], at[i] > k->now ? at[i] : k->now, err);
    }
    *n += (int64_t)count;
    /* more than a batch: go round again (each round releases what it read) */
    return rc == CRM_OK && count == 512 ? release_held(k, n, err) : rc;
}

int crm_outbox_resume(crm_kernel *k, int64_t contact_id, int64_t *released, crm_err *err)
{
    int64_t n = 0;
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = exec_id(k, "DELETE FROM message_pauses WHERE contact_id=?1 AND ?2=?2", contact_id, 0,
                 err);
    if (rc == CRM_OK)
        rc = release_held(k, &n, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (released)
        *released = rc == CRM_OK ? n : 0;
    return rc;
}

int crm_outbox_retry(crm_kernel *k, int64_t id, crm_err *err)
{
    json_t *m = NULL;
    int rc = crm_outbox_get(k, id, false, &m, err);
    if (rc != CRM_OK)
        return rc;
    const char *status = json_string_value(json_object_get(m, "status"));
    if (strcmp(status, "failed") != 0)
        rc = crm_err_set(err, CRM_EINVAL, "message %lld is %s: only a failed message is retried",
                         (long long)id, status);
    json_decref(m);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = exec_id(k, "UPDATE messages SET status='queued', attempts=0, scheduled_at=?2"
                    " WHERE id=?1", id, k->now, err);
    if (rc == CRM_OK)
        rc = crm_outbox_schedule(k, id, k->now, err);
    if (rc == CRM_OK)
        rc = crm_outbox_emit(k, "queued", id, err);
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return rc;
}

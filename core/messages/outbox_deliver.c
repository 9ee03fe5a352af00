/* Delivery: the kernel timer "message:ID" sends message ID through its
 * channel's driver (outbox.h). The handler records every outcome itself and
 * returns CRM_OK, so a failed attempt is stored (attempts, reason, response)
 * rather than rolled back: a transient failure reschedules the timer with
 * exponential backoff, a permanent one or the last attempt marks the
 * message failed (dead letter, `crm message retry ID` brings it back). The
 * rules are checked in the timer's transaction, the send runs after it
 * committed (crm_timer_defer_io: no write lock held while a server answers)
 * and its outcome is written in a transaction of its own. Each message's
 * timer fires alone (crm_timer_register_solo): a crash after the driver
 * delivered but before the outcome committed sends that one message again,
 * under the same id (Message-ID <msg-ID@domain>), and no other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "messages/outbox.h"
#include "messages/outbox_int.h"
#include "model.h"
#include "store.h"
#include "time/timer.h"
#include "util.h"

/* Attempts before a message is dead-lettered, and the first retry delay
 * (doubling after each failure). */
#define MAX_ATTEMPTS 5
#define BACKOFF 60
/* How long a claimed send may take before another process may send it
 * again (a process that died gives its claims back at once). */
#define CLAIM_LEASE 600

static outbox_driver *driver_for(crm_kernel *k, const char *channel, crm_err *err)
{
    crm_outbox *o = crm_outbox_state(k);
    if (!o) {
        crm_err_set(err, CRM_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < o->n_drivers; i++)
        if (strcmp(o->drivers[i].channel, channel) == 0)
            return &o->drivers[i];
    outbox_driver *d = CRM_ARRAY_APPEND(o->drivers, o->n_drivers);
    if (!d) {
        crm_err_set(err, CRM_ENOMEM, "out of memory");
        return NULL;
    }
    *d = (outbox_driver){0};
    snprintf(d->channel, sizeof d->channel, "%s", channel);
    const crm_config *cfg = k->cfg;
    const crm_node *chs = cfg->root ? crm_node_path(cfg->root, "messages.channels") : NULL;
    const crm_node *ch = chs ? crm_node_get(chs, channel) : NULL;
    char path[96];
    snprintf(path, sizeof path, "messages.channels.%s", channel);
    crm_err e = {0};
    if (!ch) {
        d->open_rc = CRM_ENOTFOUND;
        snprintf(d->open_error, sizeof d->open_error, "no channel '%s' under messages.channels",
                 channel);
    } else if ((d->open_rc = crm_driver_open(ch, channel, path, cfg->dir, &d->d, &e)) != CRM_OK) {
        snprintf(d->open_error, sizeof d->open_error, "%s", e.msg);
    }
    return d;
}

typedef struct row {
    int64_t id, contact_id;
    int attempts;
    char *channel, *purpose, *status, *to, *to_name, *subject, *text, *html;
} row;

static void row_clear(row *r)
{
    free(r->channel), free(r->purpose), free(r->status), free(r->to), free(r->to_name);
    free(r->subject), free(r->text), free(r->html);
    *r = (row){0};
}

static char *dup_col(sqlite3_stmt *st, int c)
{
    const char *s = (const char *)sqlite3_column_text(st, c);
    return s ? strdup(s) : NULL;
}

static int load_row(crm_kernel *k, int64_t id, row *r, bool *found, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT contact_id, attempts, channel, purpose, status, to_address, to_name,"
                  " subject, body_text, body_html FROM messages WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (*found) {
        r->id = id;
        r->contact_id = sqlite3_column_int64(st, 0);
        r->attempts = sqlite3_column_int(st, 1);
        char **cols[] = {&r->channel, &r->purpose, &r->status, &r->to,
                         &r->to_name, &r->subject, &r->text, &r->html};
        for (int i = 0; i < 8; i++)
            *cols[i] = dup_col(st, i + 2);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot read the message", err);
}

/* Writes the message's new state. sent_at 0 leaves it NULL. */
static int update(crm_kernel *k, int64_t id, const char *status, const char *reason,
                  int attempts, int64_t sent_at, const char *response, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "UPDATE messages SET status=?1,"
                  /* a sent message still says it waited for quiet hours */
                  " reason=CASE WHEN ?1='sent' AND reason LIKE 'quiet hours%' THEN reason"
                  " ELSE ?2 END, attempts=?3, sent_at=?4,"
                  " response=coalesce(?5, response) WHERE id=?6", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reason && *reason ? reason : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, attempts);
    if (sent_at)
        sqlite3_bind_int64(st, 4, sent_at);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, response && *response ? response : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return step == SQLITE_DONE ? CRM_OK
                               : crm_store_error(k->store, "cannot update the message", err);
}

/* The timeline shows what the person received: one interaction per sent
 * message, keyed message:ID so it is never logged twice. */
static int log_interaction(crm_kernel *k, const row *r, int64_t at, crm_err *err)
{
    char ext[40];
    snprintf(ext, sizeof ext, "message:%lld", (long long)r->id);
    /* crm_interaction_log normalises the strings in place: it owns copies */
    crm_interaction i = {.contact_id = r->contact_id, .channel = strdup(r->channel),
                         .direction = strdup("out"),
                         .subject = r->subject ? strdup(r->subject) : NULL,
                         .body = r->text ? strdup(r->text) : NULL, .occurred_at = at,
                         .external_id = strdup(ext)};
    int64_t iid;
    int rc = !i.channel || !i.direction || !i.external_id || (r->subject && !i.subject) ||
                     (r->text && !i.body)
                 ? crm_err_set(err, CRM_ENOMEM, "out of memory")
                 : crm_interaction_log(k, &i, &iid, err);
    crm_interaction_clear(&i);
    return rc;
}

/* One send handed to crm_timer_defer_io: the driver runs after the
 * timer's transaction committed, so the write lock is free while the server
 * answers; its outcome is recorded in a transaction of its own. */
typedef struct send_job {
    row r;
    int64_t at;
    int attempts; /* counting this one */
    int rc;       /* the driver's */
    bool opened;
    crm_send_result res;
    crm_err e;
} send_job;

static void job_send(crm_kernel *k, void *ud)
{
    send_job *j = ud;
    outbox_driver *d = driver_for(k, j->r.channel, &j->e);
    if (!d) {
        j->rc = j->e.code;
        return;
    }
    char mid[CRM_MESSAGE_MAX_ID + 1];
    snprintf(mid, sizeof mid, "msg-%lld", (long long)j->r.id);
    crm_message m = {.id = mid, .channel = j->r.channel, .to = j->r.to,
                     .to_name = j->r.to_name, .subject = j->r.subject,
                     .text = j->r.text ? j->r.text : "", .html = j->r.html, .date = j->at};
    j->opened = d->d != NULL;
    j->rc = d->d ? crm_driver_send(d->d, &m, &j->res, &j->e) : d->open_rc;
    if (!d->d)
        snprintf(j->e.msg, sizeof j->e.msg, "%s", d->open_error);
}

static int job_record(crm_kernel *k, void *ud, crm_err *err)
{
    send_job *j = ud;
    row now_row = {0};
    bool found = false;
    int rc = load_row(k, j->r.id, &now_row, &found, err);
    /* erased, retried or stopped while it was sent: nothing of ours to write */
    bool ours = rc == CRM_OK && found && strcmp(now_row.status, "queued") == 0 &&
                now_row.attempts == j->attempts;
    row_clear(&now_row);
    if (!ours)
        return rc;
    const row *r = &j->r;
    if (j->rc == CRM_OK) {
        rc = update(k, r->id, "sent", NULL, j->attempts, j->at, j->res.response, err);
        if (rc == CRM_OK)
            rc = log_interaction(k, r, j->at, err);
        return rc == CRM_OK ? crm_outbox_emit(k, "sent", r->id, err) : rc;
    }
    bool retry = j->opened && j->res.transient && j->attempts < MAX_ATTEMPTS;
    rc = update(k, r->id, retry ? "queued" : "failed", j->e.msg, j->attempts, 0, j->res.response,
                err);
    if (rc == CRM_OK && retry)
        rc = crm_outbox_schedule(k, r->id, j->at + ((int64_t)BACKOFF << (j->attempts - 1)), err);
    if (rc == CRM_OK && !retry)
        rc = crm_outbox_emit(k, "failed", r->id, err);
    return rc;
}

static void job_free(void *ud)
{
    send_job *j = ud;
    row_clear(&j->r);
    free(j);
}

/* Counts the attempt before the send (a send that kills the process still
 * counts, so a message that crashes its sender ends in the dead letter) and
 * hands the send on; r's strings move into the job. */
static int claim_send(crm_kernel *k, const crm_timer *t, row *r, crm_err *err)
{
    if (r->attempts >= MAX_ATTEMPTS) {
        int rc = update(k, r->id, "failed", "delivery interrupted at every attempt", r->attempts,
                        0, NULL, err);
        return rc == CRM_OK ? crm_outbox_emit(k, "failed", r->id, err) : rc;
    }
    sqlite3_stmt *st = crm_store_stmt(k->store, "UPDATE messages SET attempts=?2 WHERE id=?1", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, r->attempts + 1);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot count the attempt", err);
    send_job *j = calloc(1, sizeof *j);
    if (!j)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    *j = (send_job){.r = *r, .at = t->fired_at, .attempts = r->attempts + 1};
    *r = (row){0};
    crm_timer_io io = {job_send, job_record, job_free, j};
    return crm_timer_defer_io(k, t, CLAIM_LEASE, &io, err);
}

/* Quiet hours began since it was queued (or it was due at a quiet time):
 * it waits, with the reason, and its timer moves to the allowed instant. */
static int postpone(crm_kernel *k, int64_t id, int64_t at, const char *reason, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "UPDATE messages SET reason=?, scheduled_at=? WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot postpone the message", err);
    int rc = crm_outbox_schedule(k, id, at, err);
    return rc == CRM_OK ? crm_outbox_emit(k, "postponed", id, err) : rc;
}

static int on_message_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    (void)ud;
    char *end = NULL;
    long long id = strtoll(t->key + strlen("message:"), &end, 10);
    if (!end || *end || id <= 0)
        return crm_err_set(err, CRM_EINVAL, "timer %s names no message", t->key);
    row r = {0};
    bool found = false;
    int rc = load_row(k, id, &r, &found, err);
    if (rc != CRM_OK || !found || strcmp(r.status, "queued") != 0)
        goto cleanup; /* erased, sent, or stopped since: nothing to do */
    /* The rules again: the world may have changed since it was queued. */
    int64_t saved = k->now;
    k->now = t->fired_at;
    const char *status;
    char reason[160];
    outbox_msg facts = {r.id, r.contact_id, r.channel, r.purpose, r.to};
    int64_t at = t->fired_at;
    rc = crm_outbox_rules(k, &facts, &at, &status, reason, sizeof reason, err);
    if (rc == CRM_OK && strcmp(status, "queued") == 0 && at > t->fired_at) {
        rc = postpone(k, r.id, at, reason, err);
    } else if (rc == CRM_OK && strcmp(status, "queued") != 0) {
        rc = update(k, r.id, status, reason, r.attempts, 0, NULL, err);
        if (rc == CRM_OK && strcmp(status, "suppressed") == 0)
            rc = crm_outbox_emit(k, "suppressed", r.id, err);
    } else if (rc == CRM_OK) {
        rc = claim_send(k, t, &r, err);
    }
    k->now = saved;
cleanup:
    row_clear(&r);
    return rc;
}

int crm_outbox_register(crm_kernel *k, crm_err *err)
{
    return crm_timer_register_solo(k, "kernel", "message:", on_message_timer, NULL, err);
}

/* Reading the outbox: one message, or a filtered list (outbox.h). */
#include <string.h>

#include "messages/outbox.h"
#include "store.h"

#define COLS "id, contact_id, channel, purpose, template, idem_key, status, reason, created_at," \
             " scheduled_at, sent_at, attempts, source, to_address, subject, body_text,"        \
             " body_html, response"

static json_t *text_or_null(sqlite3_stmt *st, int c)
{
    const char *s = (const char *)sqlite3_column_text(st, c);
    return s ? json_string(s) : json_null();
}

static json_t *int_or_null(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, c));
}

/* Column names in COLS order; the short form stops at `source`. */
static const char *const names[] = {
    "id", "contact_id", "channel", "purpose", "template", "key", "status", "reason",
    "created_at", "scheduled_at", "sent_at", "attempts", "source", "to", "subject", "text",
    "html", "response", NULL};
#define N_SHORT 13

static json_t *row_json(sqlite3_stmt *st, bool full)
{
    json_t *o = json_object();
    int n = full ? (int)(sizeof names / sizeof names[0]) - 1 : N_SHORT;
    for (int c = 0; o && c < n; c++) {
        int type = sqlite3_column_type(st, c);
        json_t *v = type == SQLITE_INTEGER || (type == SQLITE_NULL && c >= 8 && c <= 11)
                        ? int_or_null(st, c)
                        : text_or_null(st, c);
        json_object_set_new(o, names[c], v);
    }
    return o;
}

int crm_outbox_get(crm_kernel *k, int64_t id, bool full, json_t **out, crm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT " COLS " FROM messages WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    int rc = CRM_OK;
    if (step == SQLITE_ROW)
        rc = (*out = row_json(st, full)) ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
    else if (step == SQLITE_DONE)
        rc = crm_err_set(err, CRM_ENOTFOUND, "no message %lld (see crm message list)",
                         (long long)id);
    else
        rc = crm_store_error(k->store, "cannot read the message", err);
    sqlite3_reset(st);
    return rc;
}

int crm_outbox_list(crm_kernel *k, const crm_outbox_filter *f,
                    int (*fn)(json_t *msg, void *ud), void *ud, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT " COLS " FROM messages WHERE (?1 IS NULL OR status=?1)"
        " AND (?2=0 OR contact_id=?2) ORDER BY id LIMIT ?3", err);
    if (!st)
        return err->code;
    if (f->status)
        sqlite3_bind_text(st, 1, f->status, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, f->contact_id);
    sqlite3_bind_int64(st, 3, f->limit > 0 ? f->limit : -1);
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = row_json(st, false);
        rc = o ? fn(o, ud) : crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot list messages", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

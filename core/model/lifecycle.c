/* Lifecycle stages that follow kernel events, and the contact's history of
 * stage changes (contact_history).
 *
 * Stages are a ladder: subscriber < lead < prospect < customer < evangelist.
 * An event moves a contact up to a stage, never down; `inactive` is off the
 * ladder, so a paid order brings an inactive contact back. Every change,
 * automatic or by `contact update`, is a row of contact_history written in
 * the transaction of its cause. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "model.h"
#include "model_util.h"
#include "util.h"

static const char *const ladder[] = {"subscriber", "lead", "prospect", "customer", "evangelist",
                                     NULL};

/* Position on the ladder; -1 off it (inactive, unknown). */
static int rank(const char *stage)
{
    for (int i = 0; stage && ladder[i]; i++)
        if (strcmp(ladder[i], stage) == 0)
            return i;
    return -1;
}

int crm_contact_history_add(crm_kernel *k, int64_t contact_id, const char *field,
                            const char *from, const char *to, const char *reason,
                            int64_t order_id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO contact_history(contact_id, field, old_value, new_value, reason, order_id,"
        " changed_at) VALUES(?,?,?,?,?,?,?)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, contact_id);
    crm_bind_text(st, 2, field);
    crm_bind_text(st, 3, from);
    crm_bind_text(st, 4, to);
    crm_bind_text(st, 5, reason);
    crm_bind_id(st, 6, order_id);
    sqlite3_bind_int64(st, 7, k->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK
                             : crm_store_error(k->store, "cannot record the contact's history",
                                               err);
}

static int read_stage(crm_kernel *k, int64_t contact_id, char *buf, size_t size, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "SELECT lifecycle_stage FROM contacts WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, contact_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return CRM_OK;
    return rc == SQLITE_DONE ? crm_err_set(err, CRM_ENOTFOUND, "contact: no contact with id %lld",
                                           (long long)contact_id)
                             : crm_store_error(k->store, "cannot read the contact", err);
}

static int set_stage(crm_kernel *k, int64_t contact_id, const char *to, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "UPDATE contacts SET lifecycle_stage=?, updated_at=? WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, to);
    sqlite3_bind_int64(st, 2, k->now);
    sqlite3_bind_int64(st, 3, contact_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK
                             : crm_store_error(k->store, "cannot update the contact", err);
}

/* Moves CONTACT_ID up to TO when its stage is behind it, with REASON in its
 * history and the events; ORDER_ID 0 when no order caused it. */
static int move_up(crm_kernel *k, int64_t contact_id, const char *to, const char *reason,
                   int64_t order_id, int64_t *history_id, crm_err *err)
{
    char from[32];
    int rc = read_stage(k, contact_id, from, sizeof from, err);
    if (rc != CRM_OK || rank(to) < 0 || rank(from) >= rank(to))
        return rc;  /* already there or further: never backward */
    rc = set_stage(k, contact_id, to, err);
    if (rc == CRM_OK)
        rc = crm_contact_history_add(k, contact_id, "lifecycle_stage", from, to, reason, order_id,
                                     err);
    if (rc == CRM_OK && history_id)
        *history_id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    json_t *changed = json_pack("{sIssssss}", "contact_id", (json_int_t)contact_id, "from", from,
                                "to", to, "reason", reason);
    json_t *updated = json_pack("{sIs[s]}", "contact_id", (json_int_t)contact_id, "changed",
                                "lifecycle_stage");
    if (order_id) {
        json_object_set_new(changed, "order_id", json_integer(order_id));
        json_object_set_new(updated, "order_id", json_integer(order_id));
    }
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "contact.stage_changed", changed, NULL, err);
    else
        json_decref(changed);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "contact.updated", updated, NULL, err);
    else
        json_decref(updated);
    return rc;
}

int crm_lifecycle_order_paid(crm_kernel *k, int64_t contact_id, int64_t order_id, crm_err *err)
{
    const char *to = k->cfg->lifecycle.on_first_paid_order;
    if (!to || strcmp(to, "none") == 0)
        return CRM_OK;
    char reason[64];
    snprintf(reason, sizeof reason, "order #%lld paid", (long long)order_id);
    return move_up(k, contact_id, to, reason, order_id, NULL, err);
}

int crm_lifecycle_merged(crm_kernel *k, int64_t keep, const char *other_stage, int64_t other,
                         int64_t *history_id, crm_err *err)
{
    *history_id = 0;
    char reason[64];
    snprintf(reason, sizeof reason, "merge of contact #%lld", (long long)other);
    return move_up(k, keep, other_stage, reason, 0, history_id, err);
}

typedef struct behind_row {
    int64_t contact_id, order_id;
    char from[32];
} behind_row;

int crm_lifecycle_behind(crm_kernel *k, bool apply,
                         int (*fn)(int64_t contact_id, const char *from, const char *to,
                                   int64_t order_id, void *ud),
                         void *ud, crm_err *err)
{
    const char *to = k->cfg->lifecycle.on_first_paid_order;
    int target = rank(to);
    if (target <= 0)
        return CRM_OK; /* none, or nothing before it */
    /* Only contacts with no recorded stage change: one since the rule
     * existed was the rule's or a person's decision, not a gap. The CASE is
     * the ladder's rank (NULL for inactive), so the stage prunes first. */
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT c.id, c.lifecycle_stage, (SELECT o.id FROM orders o WHERE o.contact_id = c.id"
        "  AND o.status = 'paid' AND o.placed_at <= ?1 ORDER BY o.placed_at, o.id LIMIT 1)"
        " FROM contacts c WHERE (CASE c.lifecycle_stage WHEN 'subscriber' THEN 0"
        "  WHEN 'lead' THEN 1 WHEN 'prospect' THEN 2 WHEN 'customer' THEN 3"
        "  WHEN 'evangelist' THEN 4 END) < ?2"
        " AND EXISTS(SELECT 1 FROM orders o WHERE o.contact_id = c.id AND o.status = 'paid'"
        "  AND o.placed_at <= ?1)"
        " AND NOT EXISTS(SELECT 1 FROM contact_history h WHERE h.contact_id = c.id"
        "  AND h.field = 'lifecycle_stage')"
        " ORDER BY c.id",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, k->now);
    sqlite3_bind_int(st, 2, target);
    behind_row *rows = NULL;
    size_t n = 0;
    int step, rc = CRM_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *from = (const char *)sqlite3_column_text(st, 1);
        int r = rank(from);
        if (r < 0 || r >= target)
            continue; /* inactive was set on purpose; further is fine */
        behind_row *b = CRM_ARRAY_APPEND(rows, n);
        if (!b) {
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
            break;
        }
        b->contact_id = sqlite3_column_int64(st, 0);
        b->order_id = sqlite3_column_int64(st, 2);
        snprintf(b->from, sizeof b->from, "%s", from);
    }
    sqlite3_reset(st);
    if (rc == CRM_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = crm_store_error(k->store, "cannot read contacts and orders", err);
    for (size_t i = 0; rc == CRM_OK && i < n; i++) {
        if (apply) {
            char reason[96];
            snprintf(reason, sizeof reason, "order #%lld paid (audit --fix stages)",
                     (long long)rows[i].order_id);
            rc = move_up(k, rows[i].contact_id, to, reason, rows[i].order_id, NULL, err);
        }
        if (rc == CRM_OK)
            rc = fn(rows[i].contact_id, rows[i].from, to, rows[i].order_id, ud);
    }
    free(rows);
    return rc;
}

static json_t *history_json(sqlite3_stmt *st)
{
    int64_t order_id = sqlite3_column_int64(st, 6);
    return json_pack("{sIsIsssssssososo}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                     "contact_id", (json_int_t)sqlite3_column_int64(st, 1), "field",
                     (const char *)sqlite3_column_text(st, 2), "from",
                     sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "",
                     "to", (const char *)sqlite3_column_text(st, 4), "reason",
                     sqlite3_column_text(st, 5) ? json_string((const char *)sqlite3_column_text(st, 5))
                                                : json_null(),
                     "order_id", order_id ? json_integer(order_id) : json_null(), "changed_at",
                     crm_json_time(sqlite3_column_int64(st, 7)));
}

#define SELECT_HISTORY                                                                             \
    "SELECT id, contact_id, field, old_value, new_value, reason, order_id, changed_at "            \
    "FROM contact_history "

int crm_contact_history_get(crm_kernel *k, int64_t id, json_t **out, crm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st = crm_store_stmt(k->store, SELECT_HISTORY "WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = history_json(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return *out ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
    return rc == SQLITE_DONE
               ? crm_err_set(err, CRM_ENOTFOUND, "no history entry %lld", (long long)id)
               : crm_store_error(k->store, "cannot read the history", err);
}

int crm_contact_history(crm_kernel *k, int64_t contact_id, int (*fn)(json_t *item, void *ud),
                        void *ud, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, SELECT_HISTORY "WHERE contact_id=? ORDER BY changed_at, id", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, contact_id);
    return crm_stmt_json_each(k, st, history_json, "the history", fn, ud, err);
}

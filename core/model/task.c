/* Tasks: the kernel's activities (calls, follow-ups, reminders), with the
 * once-per-task overdue notice. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"
#include "time/timer.h"

static const char *const kinds[] = {"call", "email", "meeting", "todo", "follow_up", NULL};

void crm_task_clear(crm_task *t)
{
    free(t->subject);
    free(t->kind);
    free(t->assignee);
    free(t->ref);
    free(t->notes);
    free(t->status);
    memset(t, 0, sizeof *t);
}

/* "deal:12": a plugin's record kind (a-z first, then a-z, 0-9, _) and an id. */
static bool ref_valid(const char *r)
{
    if (!islower((unsigned char)*r))
        return false;
    while (islower((unsigned char)*r) || isdigit((unsigned char)*r) || *r == '_')
        r++;
    if (*r++ != ':' || !isdigit((unsigned char)*r))
        return false;
    while (isdigit((unsigned char)*r))
        r++;
    return *r == '\0';
}

static int normalise(crm_task *t, crm_err *err)
{
    int rc = crm_clean_optional("subject", &t->subject, err);
    if (rc == CRM_OK && !t->subject)
        rc = crm_err_set(err, CRM_EINVAL, "subject: is required");
    if (rc == CRM_OK)
        rc = crm_clean_optional("kind", &t->kind, err);
    if (rc == CRM_OK && t->kind) {
        crm_str_lower_ascii(t->kind);
        if (!crm_str_in(t->kind, kinds))
            rc = crm_hygiene_reject(err, "kind", t->kind,
                                    "is not a task kind (expected call, email, meeting, todo or "
                                    "follow_up)");
    }
    if (rc == CRM_OK && !t->kind && !(t->kind = strdup("todo")))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK && t->due_at <= 0)
        rc = crm_err_set(err, CRM_EINVAL, "due_at: is required (a date after 1970)");
    if (rc == CRM_OK)
        rc = crm_clean_optional("ref", &t->ref, err);
    if (rc == CRM_OK && t->ref && !ref_valid(t->ref))
        rc = crm_hygiene_reject(err, "ref", t->ref,
                                "is not a record reference (expected KIND:ID, e.g. deal:12)");
    if (rc == CRM_OK)
        rc = crm_clean_optional("notes", &t->notes, err);
    if (rc == CRM_OK)
        rc = crm_clean_optional("assignee", &t->assignee, err);
    return rc;
}

static int check_contact(crm_kernel *k, int64_t contact_id, crm_err *err)
{
    if (contact_id <= 0)
        return CRM_OK;
    int64_t found = 0;
    int rc = crm_query_id(k, "SELECT id FROM contacts WHERE id=?", NULL, contact_id, &found, err);
    if (rc == CRM_OK && !found)
        rc = crm_err_set(err, CRM_ENOTFOUND,
                         "contact: no contact with id %lld (add the contact first)",
                         (long long)contact_id);
    return rc;
}

static int resolve_user(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    *id = 0;
    if (!ref || !*ref)
        return CRM_OK;
    int rc = crm_user_resolve(k, ref, id, err);
    return rc == CRM_OK ? CRM_OK : crm_err_prefix(err, "assignee");
}

static json_t *opt_id(int64_t id) { return id > 0 ? json_integer(id) : json_null(); }

/* The kernel timer that raises task.overdue at the due time; scheduled with
 * the task so the notice needs no periodic pass. */
static void timer_key(char *buf, size_t n, int64_t id)
{
    snprintf(buf, n, "task:%lld", (long long)id);
}

/* The payload names the contact so erasing the person drops the timer. */
static int schedule_overdue(crm_kernel *k, int64_t id, int64_t due_at, int64_t contact_id,
                            crm_err *err)
{
    char key[32], payload[48] = "{}";
    timer_key(key, sizeof key, id);
    if (contact_id > 0)
        snprintf(payload, sizeof payload, "{\"contact_id\":%lld}", (long long)contact_id);
    return crm_timer_schedule(k, "kernel", key, due_at, payload, NULL, err);
}

int crm_task_add(crm_kernel *k, crm_task *t, int64_t *id_out, crm_err *err)
{
    if (id_out)
        *id_out = 0;
    int64_t assignee_id = 0;
    int rc = normalise(t, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = check_contact(k, t->contact_id, err);
    if (rc == CRM_OK)
        rc = resolve_user(k, t->assignee, &assignee_id, err);
    sqlite3_stmt *st = NULL;
    if (rc == CRM_OK)
        st = crm_store_stmt(k->store,
                            "INSERT INTO tasks(subject, kind, due_at, assignee_id, contact_id, ref,"
                            " notes, status, created_at, updated_at)"
                            " VALUES(?,?,?,?,?,?,?,'open',?,?)",
                            err);
    if (rc == CRM_OK && !st)
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        crm_bind_text(st, 1, t->subject);
        crm_bind_text(st, 2, t->kind);
        sqlite3_bind_int64(st, 3, t->due_at);
        crm_bind_id(st, 4, assignee_id);
        crm_bind_id(st, 5, t->contact_id);
        crm_bind_text(st, 6, t->ref);
        crm_bind_text(st, 7, t->notes);
        sqlite3_bind_int64(st, 8, k->now);
        sqlite3_bind_int64(st, 9, k->now);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot store task", err);
    }
    if (rc == CRM_OK) {
        t->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
        json_t *p = json_pack("{sIsososssI}", "task_id", (json_int_t)t->id, "contact_id",
                              opt_id(t->contact_id), "assignee_id", opt_id(assignee_id), "kind",
                              t->kind, "due_at", (json_int_t)t->due_at);
        if (p && t->ref)
            json_object_set_new(p, "ref", json_string(t->ref));
        rc = p ? crm_event_emit(k, "task.created", p, NULL, err)
               : crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    if (rc == CRM_OK)
        rc = schedule_overdue(k, t->id, t->due_at, t->contact_id, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (rc == CRM_OK && id_out)
        *id_out = t->id;
    return rc;
}

#define TASK_COLUMNS                                                                               \
    "t.id, t.subject, t.kind, t.due_at, coalesce(u.email, u.name), t.contact_id, t.ref, t.notes, " \
    "t.status, t.done_at, t.overdue_notified_at, t.created_at, t.updated_at"
#define TASK_FROM " FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id"

static void task_from_row(sqlite3_stmt *st, crm_task *t)
{
    t->id = sqlite3_column_int64(st, 0);
    t->subject = crm_column_strdup(st, 1);
    t->kind = crm_column_strdup(st, 2);
    t->due_at = sqlite3_column_int64(st, 3);
    t->assignee = crm_column_strdup(st, 4);
    t->contact_id = sqlite3_column_int64(st, 5);
    t->ref = crm_column_strdup(st, 6);
    t->notes = crm_column_strdup(st, 7);
    t->status = crm_column_strdup(st, 8);
    t->done_at = sqlite3_column_int64(st, 9);
    t->overdue_notified_at = sqlite3_column_int64(st, 10);
    t->created_at = sqlite3_column_int64(st, 11);
    t->updated_at = sqlite3_column_int64(st, 12);
}

int crm_task_get(crm_kernel *k, int64_t id, crm_task *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT " TASK_COLUMNS TASK_FROM " WHERE t.id=?",
                                      err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        task_from_row(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return CRM_OK;
    return rc == SQLITE_DONE ? crm_err_set(err, CRM_ENOTFOUND,
                                           "no task with id %lld (see crm task list)",
                                           (long long)id)
                             : crm_store_error(k->store, "cannot read task", err);
}

/* Open -> done|cancelled, with its event, in one transaction. */
static int close_task(crm_kernel *k, int64_t id, const char *status, const char *event,
                      crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    crm_task t;
    rc = crm_task_get(k, id, &t, err);
    if (rc == CRM_OK && strcmp(t.status, "open") != 0)
        rc = crm_err_set(err, CRM_EINVAL, "task %lld is already %s: only an open task can be %s",
                         (long long)id, t.status, status);
    sqlite3_stmt *st = NULL;
    if (rc == CRM_OK &&
        !(st = crm_store_stmt(k->store,
                              "UPDATE tasks SET status=?, done_at=?, updated_at=? WHERE id=?",
                              err)))
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        crm_bind_text(st, 1, status);
        sqlite3_bind_int64(st, 2, k->now);
        sqlite3_bind_int64(st, 3, k->now);
        sqlite3_bind_int64(st, 4, id);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot update task", err);
    }
    if (rc == CRM_OK) {
        char key[32];
        timer_key(key, sizeof key, id);
        rc = crm_timer_cancel(k, "kernel", key, NULL, err);
    }
    if (rc == CRM_OK)
        rc = crm_event_emit(k, event,
                            json_pack("{sIsosI}", "task_id", (json_int_t)id, "contact_id",
                                      opt_id(t.contact_id), "at", (json_int_t)k->now),
                            NULL, err);
    crm_task_clear(&t);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    return rc;
}

int crm_task_complete(crm_kernel *k, int64_t id, crm_err *err)
{
    return close_task(k, id, "done", "task.completed", err);
}

int crm_task_cancel(crm_kernel *k, int64_t id, crm_err *err)
{
    return close_task(k, id, "cancelled", "task.cancelled", err);
}

int crm_task_reassign(crm_kernel *k, int64_t id, const char *assignee, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    crm_task t;
    int64_t from = 0, to = 0;
    rc = crm_task_get(k, id, &t, err);
    if (rc == CRM_OK && strcmp(t.status, "open") != 0)
        rc = crm_err_set(err, CRM_EINVAL, "task %lld is already %s: only an open task can be "
                         "reassigned", (long long)id, t.status);
    if (rc == CRM_OK)
        rc = crm_query_id(k, "SELECT assignee_id FROM tasks WHERE id=?", NULL, id, &from, err);
    if (rc == CRM_OK)
        rc = resolve_user(k, assignee, &to, err);
    if (rc == CRM_OK && from != to) {
        sqlite3_stmt *st = crm_store_stmt(
            k->store, "UPDATE tasks SET assignee_id=?, updated_at=? WHERE id=?", err);
        if (!st)
            rc = err ? err->code : CRM_EDB;
        if (rc == CRM_OK) {
            crm_bind_id(st, 1, to);
            sqlite3_bind_int64(st, 2, k->now);
            sqlite3_bind_int64(st, 3, id);
            int step = sqlite3_step(st);
            sqlite3_reset(st);
            if (step != SQLITE_DONE)
                rc = crm_store_error(k->store, "cannot update task", err);
        }
        if (rc == CRM_OK)
            rc = crm_event_emit(k, "task.reassigned",
                                json_pack("{sIsososo}", "task_id", (json_int_t)id, "contact_id",
                                          opt_id(t.contact_id), "from", opt_id(from), "to",
                                          opt_id(to)),
                                NULL, err);
    }
    crm_task_clear(&t);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    return rc;
}

typedef struct list_ctx {
    int (*fn)(const crm_task *t, void *ud);
    void *ud;
} list_ctx;

static int list_row(sqlite3_stmt *st, void *ud)
{
    list_ctx *c = ud;
    crm_task t = {0};
    task_from_row(st, &t);
    int stop = c->fn(&t, c->ud);
    crm_task_clear(&t);
    return stop;
}

int crm_task_list(crm_kernel *k, const crm_task_filter *f,
                  int (*fn)(const crm_task *t, void *ud), void *ud, crm_err *err)
{
    /* crm_sql binds text: numbers go in as their decimal text, compared
     * after CAST so the index on the integer columns still serves. */
    char assignee[24], contact[24], from[24], to[24], overdue[24];
    crm_sql q;
    crm_sql_init(&q, "SELECT " TASK_COLUMNS TASK_FROM);
    if (f && f->assignee_id > 0) {
        snprintf(assignee, sizeof assignee, "%lld", (long long)f->assignee_id);
        crm_sql_where(&q, "t.assignee_id = CAST(? AS INTEGER)", assignee);
    }
    if (f && f->contact_id > 0) {
        snprintf(contact, sizeof contact, "%lld", (long long)f->contact_id);
        crm_sql_where(&q, "t.contact_id = CAST(? AS INTEGER)", contact);
    }
    if (f && f->status)
        crm_sql_where(&q, "t.status = ?", f->status);
    if (f && f->ref)
        crm_sql_where(&q, "t.ref = ?", f->ref);
    if (f && f->due_to > 0) {
        snprintf(from, sizeof from, "%lld", (long long)f->due_from);
        snprintf(to, sizeof to, "%lld", (long long)f->due_to);
        crm_sql_where(&q, "t.due_at >= CAST(? AS INTEGER)", from);
        crm_sql_where(&q, "t.due_at < CAST(? AS INTEGER)", to);
    }
    if (f && f->overdue_at > 0) {
        snprintf(overdue, sizeof overdue, "%lld", (long long)f->overdue_at);
        crm_sql_where(&q, "t.status = 'open' AND t.due_at < CAST(? AS INTEGER)", overdue);
    }
    crm_sql_page(&q, "t.due_at, t.id", 0, 0);
    list_ctx c = {fn, ud};
    int rc = crm_sql_each(k, &q, list_row, &c, err);
    crm_sql_free(&q);
    return rc;
}

static json_t *opt_string(const char *s) { return s ? json_string(s) : json_null(); }

json_t *crm_task_to_json(const crm_task *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "subject", opt_string(t->subject));
    json_object_set_new(o, "kind", opt_string(t->kind));
    json_object_set_new(o, "due_at", crm_json_time(t->due_at));
    json_object_set_new(o, "due_at_epoch", json_integer(t->due_at));
    json_object_set_new(o, "assignee", opt_string(t->assignee));
    json_object_set_new(o, "contact_id", opt_id(t->contact_id));
    json_object_set_new(o, "ref", opt_string(t->ref));
    json_object_set_new(o, "notes", opt_string(t->notes));
    json_object_set_new(o, "status", opt_string(t->status));
    json_object_set_new(o, "done_at", crm_json_time(t->done_at));
    json_object_set_new(o, "overdue_notified_at", crm_json_time(t->overdue_notified_at));
    json_object_set_new(o, "created_at", crm_json_time(t->created_at));
    json_object_set_new(o, "updated_at", crm_json_time(t->updated_at));
    return o;
}

typedef struct due_task {
    int64_t id, contact_id, assignee_id, due_at;
} due_task;

/* One task's notice: stamps it and emits task.overdue with its lateness, in
 * the caller's transaction. */
static int notify_overdue(crm_kernel *k, const due_task *d, int64_t as_of, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "UPDATE tasks SET overdue_notified_at=? WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, as_of);
    sqlite3_bind_int64(st, 2, d->id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot update task", err);
    return crm_event_emit(k, "task.overdue",
                          json_pack("{sIsososIsI}", "task_id", (json_int_t)d->id, "contact_id",
                                    opt_id(d->contact_id), "assignee_id", opt_id(d->assignee_id),
                                    "due_at", (json_int_t)d->due_at, "late",
                                    (json_int_t)(as_of - d->due_at)),
                          NULL, err);
}

/* Timer "task:ID": the task's notice if it is still open and not notified
 * (the pass may have got there first; a closed task's timer is cancelled). */
static int on_task_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    (void)ud;
    char *end = NULL;
    long long id = strtoll(t->key + strlen("task:"), &end, 10);
    if (!end || *end || id <= 0)
        return crm_err_set(err, CRM_EINVAL, "timer %s names no task", t->key);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT id, contact_id, assignee_id, due_at FROM tasks WHERE id=? AND status='open'"
        " AND overdue_notified_at IS NULL",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    due_task d = {0};
    if (step == SQLITE_ROW)
        d = (due_task){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return CRM_OK;
    if (step != SQLITE_ROW)
        return crm_store_error(k->store, "cannot read task", err);
    return notify_overdue(k, &d, t->fired_at, err);
}

int crm_task_timers_register(crm_kernel *k, crm_err *err)
{
    return crm_timer_register_prefix(k, "kernel", "task:", on_task_timer, NULL, err);
}

int crm_task_overdue_pass(crm_kernel *k, int64_t as_of, int64_t *count, crm_err *err)
{
    if (count)
        *count = 0;
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    /* Collected first: emitting reuses the statement cache. */
    due_task *v = NULL;
    size_t n = 0;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT id, contact_id, assignee_id, due_at FROM tasks WHERE status='open' AND due_at < ?"
        " AND overdue_notified_at IS NULL ORDER BY due_at, id",
        err);
    if (!st)
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        sqlite3_bind_int64(st, 1, as_of);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            due_task *grown = realloc(v, (n + 1) * sizeof *grown);
            if (!grown) {
                rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
                break;
            }
            v = grown;
            v[n++] = (due_task){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
        }
        sqlite3_reset(st);
        if (rc == CRM_OK && step != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot read tasks", err);
    }
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = notify_overdue(k, &v[i], as_of, err);
    free(v);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (rc == CRM_OK && count)
        *count = (int64_t)n;
    return rc;
}

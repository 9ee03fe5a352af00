/* Users: the agents who own contacts and author interactions. */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

static const char *const roles[] = {"admin", "manager", "agent", "viewer", NULL};

int crm_user_add(crm_kernel *k, const char *name, const char *email, const char *role,
                 int64_t *id_out, crm_err *err)
{
    char *clean_name = NULL, *clean_email = NULL;
    int rc = crm_clean_text("name", name ? name : "", &clean_name, err);
    if (rc == CRM_OK && !*clean_name)
        rc = crm_err_set(err, CRM_EINVAL, "name: is required");
    if (rc == CRM_OK && email && *email)
        rc = crm_normalise_email("email", email, &clean_email, err);
    if (rc == CRM_OK && !crm_str_in(role ? role : "agent", roles))
        rc = crm_err_set(err, CRM_EINVAL,
                         "role: '%s' is not a role (expected admin, manager, agent or viewer)",
                         role);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        goto done;
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "INSERT INTO users(name, email, role, created_at) VALUES(?,?,?,?)", err);
    if (!st) {
        rc = err ? err->code : CRM_EDB;
    } else {
        crm_bind_text(st, 1, clean_name);
        crm_bind_text(st, 2, clean_email);
        crm_bind_text(st, 3, role ? role : "agent");
        sqlite3_bind_int64(st, 4, k->now);
        rc = sqlite3_step(st) == SQLITE_DONE ? CRM_OK
                                             : crm_store_error(k->store, "cannot add user", err);
        sqlite3_reset(st);
    }
    int64_t id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "user.created", json_pack("{sI}", "user_id", (json_int_t)id), NULL,
                            err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (rc == CRM_OK && id_out)
        *id_out = id;
done:
    free(clean_name);
    free(clean_email);
    return rc;
}

int crm_user_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    static const crm_ref_rule rules[] = {
        {CRM_REF_ID, "SELECT id FROM users WHERE id=?"},
        {CRM_REF_TEXT, "SELECT id FROM users WHERE email=lower(trim(?))"},
        {CRM_REF_TEXT, "SELECT id FROM users WHERE name=trim(?)"},
    };
    return crm_resolve_ref(k, "user", ref, rules, sizeof rules / sizeof rules[0], id, err);
}

typedef struct user_ctx {
    int (*fn)(json_t *user, void *ud);
    void *ud;
} user_ctx;

static int user_row(sqlite3_stmt *st, void *ud)
{
    user_ctx *ctx = ud;
    const char *email = (const char *)sqlite3_column_text(st, 2);
    json_t *u = json_pack("{sIsssossso}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                          (const char *)sqlite3_column_text(st, 1), "email",
                          email ? json_string(email) : json_null(), "role",
                          (const char *)sqlite3_column_text(st, 3), "created_at",
                          crm_json_time(sqlite3_column_int64(st, 4)));
    int stop = ctx->fn(u, ctx->ud);
    json_decref(u);
    return stop ? 1 : CRM_OK;
}

int crm_user_list(crm_kernel *k, int (*fn)(json_t *user, void *ud), void *ud, crm_err *err)
{
    crm_sql q;
    crm_sql_init(&q, "SELECT id, name, email, role, created_at FROM users");
    crm_sql_page(&q, "id", 0, 0);
    user_ctx ctx = {fn, ud};
    int rc = crm_sql_each(k, &q, user_row, &ctx, err);
    crm_sql_free(&q);
    return rc;
}

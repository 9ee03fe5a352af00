/* ticketing plugin — what every feature file shares: SQL helpers over the
 * host API, times and JSON output through the host, command arguments. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static void bind_args(crm_stmt *st, int n, va_list ap)
{
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
}

crm_stmt *tk_prep(crm_plugin_ctx *ctx, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return NULL;
    va_list ap;
    va_start(ap, n);
    bind_args(st, n, ap);
    va_end(ap);
    return st;
}

int tk_run(crm_plugin_ctx *ctx, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    int rc = crm_sql_prepare(ctx, sql, &st);
    if (rc != CRM_OK)
        return rc;
    va_list ap;
    va_start(ap, n);
    bind_args(st, n, ap);
    va_end(ap);
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? rc : CRM_OK;
}

int64_t tk_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return dflt;
    va_list ap;
    va_start(ap, n);
    bind_args(st, n, ap);
    va_end(ap);
    int64_t v = dflt;
    if (crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_type(st, 0) != CRM_SQL_NULL)
        v = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return v;
}

int tk_fail_db(crm_plugin_ctx *ctx, const char *what)
{
    crm_set_error(ctx, "%s: %s", what, crm_last_error(ctx));
    return CRM_EDB;
}

void tk_col_text(crm_stmt *st, int col, char *buf, size_t size)
{
    const char *s = crm_sql_column_text(st, col);
    snprintf(buf, size, "%s", s ? s : "");
}

int tk_ticket_load(crm_plugin_ctx *ctx, int64_t id, tk_ticket *t)
{
    crm_stmt *st = tk_prep(ctx,
                           "SELECT id, contact_id, created_at, updated_at, due_override, subject,"
                           " channel, priority, type, status, assignee, team, tags, policy"
                           " FROM ticketing_tickets WHERE id = ?1",
                           1, id);
    if (!st)
        return tk_fail_db(ctx, "reading the ticket");
    int rc = crm_sql_step(st);
    if (rc != CRM_SQL_ROW) {
        crm_sql_finalize(st);
        if (rc < 0)
            return tk_fail_db(ctx, "reading the ticket");
        crm_set_error(ctx, "no ticket %lld (see crm ticket list)", (long long)id);
        return CRM_ENOTFOUND;
    }
    memset(t, 0, sizeof *t);
    t->id = crm_sql_column_int64(st, 0);
    t->contact_id = crm_sql_column_int64(st, 1);
    t->created_at = crm_sql_column_int64(st, 2);
    t->updated_at = crm_sql_column_int64(st, 3);
    t->due_override = crm_sql_column_int64(st, 4);
    tk_col_text(st, 5, t->subject, sizeof t->subject);
    tk_col_text(st, 6, t->channel, sizeof t->channel);
    tk_col_text(st, 7, t->priority, sizeof t->priority);
    tk_col_text(st, 8, t->type, sizeof t->type);
    tk_col_text(st, 9, t->status, sizeof t->status);
    tk_col_text(st, 10, t->assignee, sizeof t->assignee);
    tk_col_text(st, 11, t->team, sizeof t->team);
    tk_col_text(st, 12, t->tags, sizeof t->tags);
    tk_col_text(st, 13, t->policy, sizeof t->policy);
    crm_sql_finalize(st);
    return CRM_OK;
}

int tk_arg_id(crm_plugin_ctx *ctx, const crm_command_args *args, int i, int64_t *id)
{
    const char *s = crm_args_get(args, i);
    char *end = NULL;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || v <= 0) {
        crm_set_error(ctx, "expected a ticket id (a positive number), got '%s'", s ? s : "");
        return CRM_EUSAGE;
    }
    *id = v;
    return CRM_OK;
}

const char *tk_opt_text(const crm_command_args *args, const char *name)
{
    crm_value v;
    if (crm_args_option(args, name, &v) != CRM_OK || !v.given)
        return NULL;
    return v.text;
}

int tk_print_json(crm_command_io *io, json_t *v)
{
    if (!v)
        return CRM_ENOMEM;
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!s)
        return CRM_ENOMEM;
    fprintf(crm_io_out(io), "%s\n", s);
    free(s);
    return CRM_OK;
}

const char *tk_fmt_time(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size)
{
    if (!t || crm_format_time(ctx, t, NULL, buf, size) != CRM_OK)
        snprintf(buf, size, "-");
    return buf;
}

void tk_json_time(crm_plugin_ctx *ctx, json_t *obj, const char *key, int64_t t)
{
    char iso[64], k[96];
    snprintf(k, sizeof k, "%s_iso", key);
    json_object_set_new(obj, key, t ? json_integer(t) : json_null());
    json_object_set_new(obj, k, t ? json_string(tk_fmt_time(ctx, t, iso, sizeof iso)) : json_null());
}

int tk_in_txn(crm_plugin_ctx *ctx, int (*fn)(crm_plugin_ctx *, void *), void *ud)
{
    int rc = crm_begin(ctx);
    if (rc != CRM_OK)
        return rc;
    rc = fn(ctx, ud);
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    return rc;
}

int tk_list_has(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ')
            len--;
        if (len == n && n && !strncmp(p, w, n))
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

/* loyalty plugin — what every file shares: SQL helpers over the host API,
 * command arguments as the option tables parsed them, contact references,
 * output through the host's time and money formatting. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

static void bind_args(crm_stmt *st, int n, va_list ap)
{
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
}

crm_stmt *loy_prep(crm_plugin_ctx *ctx, const char *sql, int n, ...)
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

crm_stmt *loy_kept(crm_plugin_ctx *ctx, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    if (loy_cached_stmt(ctx, sql, &st) != CRM_OK)
        return NULL;
    va_list ap;
    va_start(ap, n);
    bind_args(st, n, ap);
    va_end(ap);
    return st;
}

int loy_run(crm_plugin_ctx *ctx, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    int rc = loy_cached_stmt(ctx, sql, &st);
    if (rc != CRM_OK)
        return rc;
    va_list ap;
    va_start(ap, n);
    bind_args(st, n, ap);
    va_end(ap);
    rc = crm_sql_step(st);
    loy_cached_done(ctx, sql, st);
    return rc < 0 ? rc : CRM_OK;
}

int64_t loy_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    if (loy_cached_stmt(ctx, sql, &st) != CRM_OK)
        return dflt;
    va_list ap;
    va_start(ap, n);
    bind_args(st, n, ap);
    va_end(ap);
    int64_t v = dflt;
    if (crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_type(st, 0) != CRM_SQL_NULL)
        v = crm_sql_column_int64(st, 0);
    loy_cached_done(ctx, sql, st);
    return v;
}

int loy_fail_db(crm_plugin_ctx *ctx, const char *what)
{
    crm_set_error(ctx, "%s: %s", what, crm_last_error(ctx));
    return CRM_EDB;
}

int64_t loy_resolve_contact(crm_plugin_ctx *ctx, const char *ref)
{
    char *end;
    long long id = strtoll(ref, &end, 10);
    int64_t found = 0;
    if (!*end && id > 0)
        found = loy_scalar(ctx, 0, "SELECT id FROM contacts WHERE id = ?1", 1, (int64_t)id);
    if (!found) {
        crm_stmt *st = NULL;
        if (crm_sql_prepare(ctx, "SELECT id FROM contacts WHERE external_id = ?1 OR email = ?1",
                            &st) == CRM_OK) {
            crm_sql_bind_text(st, 1, strncmp(ref, "ext:", 4) ? ref : ref + 4);
            if (crm_sql_step(st) == CRM_SQL_ROW)
                found = crm_sql_column_int64(st, 0);
            crm_sql_finalize(st);
        }
    }
    if (!found)
        crm_set_error(ctx, "no contact \"%s\" (give an id, ext:EXTERNAL_ID or an email; see crm "
                           "contact list)", ref);
    return found;
}

const char *loy_opt(const crm_command_args *args, const char *name)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK && v.given ? v.text : NULL;
}

int64_t loy_opt_int(const crm_command_args *args, const char *name, int64_t dflt)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK && v.given ? v.i : dflt;
}

int loy_flag(const crm_command_args *args, const char *name)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK && v.given && v.i;
}

const char *loy_time(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size)
{
    if (crm_format_time(ctx, t, NULL, buf, size) != CRM_OK)
        snprintf(buf, size, "%lld", (long long)t);
    return buf;
}

const char *loy_money(crm_plugin_ctx *ctx, int64_t minor, char *buf, size_t size)
{
    crm_format_money(ctx, minor, PROG(ctx)->currency, buf, size);
    return buf;
}

void loy_print_json(crm_command_io *io, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        fprintf(crm_io_out(io), "%s\n", s);
    free(s);
    json_decref(j);
}

int64_t loy_points_money(crm_plugin_ctx *ctx, int64_t points)
{
    int64_t m = 0;
    if (__builtin_mul_overflow(points, PROG(ctx)->point_value, &m))
        return INT64_MAX;
    return m;
}

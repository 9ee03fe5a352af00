/* pipeline plugin — what every file shares: SQL helpers over the host API,
 * JSON output, dates and money through the host's formatters, events,
 * one-transaction command bodies. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

crm_stmt *pl_prep(crm_plugin_ctx *ctx, const char *sql)
{
    crm_stmt *st = NULL;
    return crm_sql_prepare(ctx, sql, &st) == CRM_OK ? st : NULL;
}

static void bind_args(crm_stmt *st, int n, va_list ap)
{
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
}

int pl_run(crm_plugin_ctx *ctx, const char *sql, int n, ...)
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

int64_t pl_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...)
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

int64_t pl_now(crm_plugin_ctx *ctx)
{
    return PL(ctx)->story_at ? PL(ctx)->story_at : crm_now(ctx);
}

int pl_fail_db(crm_plugin_ctx *ctx, const char *what)
{
    char why[512]; /* copied first: set_error overwrites the message it formats */
    snprintf(why, sizeof why, "%s", crm_last_error(ctx));
    crm_set_error(ctx, "%s: %s", what, why);
    return CRM_EDB;
}

int pl_print_json(crm_plugin_ctx *ctx, crm_command_io *io, json_t *v)
{
    if (!v) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    fprintf(crm_io_out(io), "%s\n", s);
    free(s);
    return CRM_OK;
}

void pl_time_of(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size)
{
    if (crm_format_time(ctx, t, NULL, buf, size) != CRM_OK)
        snprintf(buf, size, "%lld", (long long)t);
}

void pl_date_of(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size)
{
    char iso[40];
    pl_time_of(ctx, t, iso, sizeof iso);
    snprintf(buf, size, "%.10s", iso);
}

void pl_money(crm_plugin_ctx *ctx, int64_t minor, const char *cur, char *buf, size_t size)
{
    if (crm_format_money(ctx, minor, cur, buf, size) != CRM_OK)
        snprintf(buf, size, "%lld %s", (long long)minor, cur);
}

int64_t pl_parse_id(crm_plugin_ctx *ctx, const char *text, const char *what)
{
    char *end = NULL;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || *end || v <= 0) {
        crm_set_error(ctx, "%s \"%s\" is not an id (a positive number)", what, text ? text : "");
        return 0;
    }
    return (int64_t)v;
}

const char *pl_actor(void)
{
    const char *u = getenv("CRM_USER");
    return u && *u ? u : "cli";
}

int pl_emit(crm_plugin_ctx *ctx, const char *type, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    int rc = crm_emit_event(ctx, type, s);
    free(s);
    return rc;
}

const char *pl_opt_text(const crm_command_args *args, const char *name)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK && v.given ? v.text : NULL;
}

int pl_in_tx(crm_plugin_ctx *ctx, int (*fn)(crm_plugin_ctx *, void *), void *ud)
{
    int rc = crm_begin(ctx);
    if (rc != CRM_OK)
        return pl_fail_db(ctx, "cannot begin a transaction");
    rc = fn(ctx, ud);
    if (rc == CRM_OK && (rc = crm_commit(ctx)) != CRM_OK)
        pl_fail_db(ctx, "cannot commit");
    if (rc != CRM_OK)
        crm_rollback(ctx);
    return rc;
}

/* The last 9 digits of a phone number (the national number without its
 * prefix in most plans), "" when it has fewer. */
static void phone_tail(const char *phone, char out[10])
{
    char digits[64];
    size_t n = 0;
    for (const char *p = phone; *p && n < sizeof digits - 1; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    digits[n] = 0;
    snprintf(out, 10, "%s", n >= 9 ? digits + n - 9 : "");
}

int pl_same_phone(const char *a, const char *b)
{
    char ta[10], tb[10];
    if (!a || !b)
        return 0;
    phone_tail(a, ta);
    phone_tail(b, tb);
    return ta[0] && !strcmp(ta, tb);
}

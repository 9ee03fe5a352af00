/* segmentation plugin — small helpers over the host SQL API: prepare with
 * int64 arguments, run, read one integer, cached statements, id lists. */
#include <stdarg.h>
#include <stdlib.h>

#include "seg_int.h"

crm_stmt *seg_cached(crm_plugin_ctx *ctx, crm_stmt **slot, const char *sql)
{
    if (!*slot && crm_sql_prepare(ctx, sql, slot) != CRM_OK) {
        *slot = NULL;
        return NULL;
    }
    crm_sql_reset(*slot);
    return *slot;
}

void seg_finalize_cached(crm_plugin_ctx *ctx)
{
    crm_sql_finalize(SEG(ctx)->st_enter);
    crm_sql_finalize(SEG(ctx)->st_leave);
    crm_sql_finalize(SEG(ctx)->st_upsert);
    crm_sql_finalize(SEG(ctx)->st_delete);
    crm_sql_finalize(SEG(ctx)->st_last_refresh);
    SEG(ctx)->st_enter = SEG(ctx)->st_leave = SEG(ctx)->st_upsert = SEG(ctx)->st_delete = NULL;
    SEG(ctx)->st_last_refresh = NULL;
}

/* Binds the n int64 arguments of ap to ?1..?n. */
static void bind_args(crm_stmt *st, int n, va_list ap)
{
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
}

crm_stmt *seg_prep(crm_plugin_ctx *ctx, const char *sql, int n, ...)
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

int seg_run(crm_plugin_ctx *ctx, const char *sql, int n, ...)
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

int64_t seg_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...)
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

int seg_fail_db(crm_plugin_ctx *ctx, const char *what)
{
    crm_set_error(ctx, "%s: %s", what, crm_last_error(ctx));
    return CRM_EDB;
}

int seg_idlist_push(seg_idlist *l, int64_t id)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 256;
        int64_t *nv = realloc(l->v, c * sizeof *nv);
        if (!nv)
            return CRM_ENOMEM;
        l->v = nv;
        l->cap = c;
    }
    l->v[l->n++] = id;
    return CRM_OK;
}

int seg_collect(crm_plugin_ctx *ctx, const char *sql, const char *text1, int64_t as_of,
                seg_idlist *out)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return seg_fail_db(ctx, "evaluating a segment");
    crm_sql_bind_int64(st, 1, as_of);
    if (text1)
        crm_sql_bind_text(st, 2, text1);
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW)
        if (seg_idlist_push(out, crm_sql_column_int64(st, 0)) != CRM_OK) {
            rc = CRM_ENOMEM;
            break;
        }
    crm_sql_finalize(st);
    return rc < 0 ? seg_fail_db(ctx, "evaluating a segment") : CRM_OK;
}

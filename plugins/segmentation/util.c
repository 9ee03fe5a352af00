/* segmentation plugin — what every feature file shares: SQL helpers over the
 * host API, output through the host's formatting helpers, command arguments
 * as the option tables parsed them, contact references. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* ---- small helpers over the host SQL API: prepare with
 * int64 arguments, run, read one integer, cached statements, id lists. */

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

/* ---- output formatting shared by the commands, through
 * the host's helpers: times as ISO 8601 in locale.timezone (crm_format_time),
 * money with the kernel's currency table (crm_format_money). JSON keeps
 * epoch seconds (with an _iso twin) and integer minor units. */

const char *seg_fmt_day(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size)
{
    /* the host's clock formatting: ISO 8601 in locale.timezone, with its offset */
    if (crm_format_time(ctx, t, NULL, buf, size) != CRM_OK)
        snprintf(buf, size, "%lld", (long long)t);
    return buf;
}

/* The host owns the currency table: decimals are never guessed here. */
const char *seg_fmt_money(crm_plugin_ctx *ctx, int64_t minor, const char *cur, char *buf,
                          size_t size)
{
    if (crm_format_money(ctx, minor, cur && *cur ? cur : "", buf, size) != CRM_OK && !*buf)
        snprintf(buf, size, "%lld (minor units) %s", (long long)minor, cur ? cur : "");
    return buf;
}

const char *const seg_iso_as_of[] = {"as_of", NULL};
const char *const seg_iso_entered_left[] = {"entered_at", "left_at", NULL};

json_t *seg_json_iso(crm_plugin_ctx *ctx, json_t *obj, const char *const *keys)
{
    for (size_t i = 0; obj && keys[i]; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        char name[64], iso[48];
        snprintf(name, sizeof name, "%s_iso", keys[i]);
        if (json_is_integer(v))
            json_object_set_new(obj, name,
                                json_string(seg_fmt_day(ctx, json_integer_value(v), iso,
                                                        sizeof iso)));
        else if (json_is_null(v))
            json_object_set_new(obj, name, json_null());
    }
    return obj;
}

void seg_print_reason_texts(FILE *out, const char *reasons_json)
{
    json_t *arr = json_loads(reasons_json ? reasons_json : "[]", 0, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *text = json_string_value(json_object_get(r, "text"));
        fprintf(out, "%s%s", i ? "; " : "", text ? text : "");
    }
    json_decref(arr);
}

void seg_print_json(crm_command_io *io, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fprintf(crm_io_out(io), "%s\n", s);
        free(s);
    }
    json_decref(j);
}

void seg_note(crm_command_io *io, size_t shown, const char *fmt, ...)
{
    if (io && crm_io_json(io) && shown)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- what the commands share about their arguments: the
 * host parsed them against the option tables (segmentation.c); these read
 * them, refuse what the tables cannot say, and resolve contact references. */

int seg_usage(crm_plugin_ctx *ctx, const char *text)
{
    int noun = (int)strcspn(text, " ");
    crm_set_error(ctx, "usage: crm %s (see crm %.*s --help)", text, noun, text);
    return CRM_EUSAGE;
}

const char *seg_opt(const crm_command_args *args, const char *name)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK && v.text ? v.text : NULL;
}

int64_t seg_opt_int(const crm_command_args *args, const char *name, int64_t dflt)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK ? v.i : dflt;
}

int seg_has_flag(const crm_command_args *args, const char *name)
{
    crm_value v;
    return crm_args_option(args, name, &v) == CRM_OK && v.i;
}

const char *seg_arg(const crm_command_args *args, int i)
{
    return i < crm_args_count(args) ? crm_args_get(args, i) : NULL;
}

int64_t seg_resolve_contact(crm_plugin_ctx *ctx, const char *ref)
{
    char *end;
    long long id = strtoll(ref, &end, 10);
    int64_t found = 0;
    if (!*end && id > 0)
        found = seg_scalar(ctx, 0, "SELECT id FROM contacts WHERE id = ?1", 1, (int64_t)id);
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
        crm_set_error(ctx, "no contact \"%s\" (give an id, external id or email; see crm contact "
                           "list)", ref);
    return found;
}

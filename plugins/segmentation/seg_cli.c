/* segmentation plugin — what the commands share about their arguments: the
 * host parsed them against the option tables (segmentation.c); these read
 * them, refuse what the tables cannot say, and resolve contact references. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

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

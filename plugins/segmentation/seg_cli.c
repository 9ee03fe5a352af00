/* segmentation plugin — command-line arguments shared by the commands:
 * options, positionals, usage errors, contact references. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

int seg_usage(crm_plugin_ctx *ctx, const char *text)
{
    int noun = (int)strcspn(text, " ");
    crm_set_error(ctx, "usage: crm %s (see crm %.*s --help)", text, noun, text);
    return CRM_EUSAGE;
}

const char *seg_opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

int seg_has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

const char *seg_positional(int argc, char **argv, int n)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            if (strcmp(argv[i], "--fresh") && strcmp(argv[i], "--dry-run"))
                i++;
            continue;
        }
        if (n-- == 0)
            return argv[i];
    }
    return NULL;
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

/* Companies. */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

int crm_company_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    static const crm_ref_rule rules[] = {
        {CRM_REF_ID, "SELECT id FROM companies WHERE id=?"},
        {CRM_REF_EXTERNAL, "SELECT id FROM companies WHERE external_id=?"},
        {CRM_REF_TEXT, "SELECT id FROM companies WHERE name_key=? ORDER BY id LIMIT 1"},
    };
    char *key = crm_fold_key(ref ? ref : "");
    bool digits_or_ext = ref && (strncmp(ref, "ext:", 4) == 0 || strspn(ref, "0123456789") == strlen(ref));
    int rc = crm_resolve_ref(k, "company", digits_or_ext ? ref : key, rules,
                             sizeof rules / sizeof rules[0], id, err);
    free(key);
    return rc;
}

int crm_company_ensure(crm_kernel *k, const char *name, int64_t *id, crm_err *err)
{
    *id = 0;
    char *key = crm_fold_key(name);
    if (!key || !*key) {
        free(key);
        return crm_err_set(err, CRM_EINVAL, "company: '%s' is not a usable company name", name);
    }
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT id FROM companies WHERE name_key=? ORDER BY id LIMIT 1", err);
    int rc = st ? CRM_OK : (err ? err->code : CRM_EDB);
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    free(key);
    if (rc != CRM_OK || *id)
        return rc;
    crm_company c = {0};
    c.name = strdup(name);
    rc = crm_company_add(k, &c, id, err);
    crm_company_clear(&c);
    return rc;
}

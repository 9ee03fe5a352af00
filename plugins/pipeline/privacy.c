/* pipeline plugin — the person's data it keeps: deals, their history, leads
 * once converted (contact_id), quotes and their lines, snapshot rows, all
 * declared by table. A lead never converted has no contact_id, yet it is the
 * same person when it has the contact's email (any case) or phone (same
 * last nine digits): the callbacks export and erase those leads with the
 * contact. `crm lead erase` removes a lead that matches no contact. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pl_int.h"

/* The contact's email and phone (copied: the kernel row is read once). */
static int contact_keys(crm_plugin_ctx *ctx, int64_t cid, char *email, char *phone, size_t size)
{
    email[0] = phone[0] = 0;
    crm_stmt *st = pl_prep(ctx, "SELECT email, phone FROM contacts WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot read the contact");
    crm_sql_bind_int64(st, 1, cid);
    if (crm_sql_step(st) == CRM_SQL_ROW) {
        const char *e = crm_sql_column_text(st, 0), *p = crm_sql_column_text(st, 1);
        snprintf(email, size, "%s", e ? e : "");
        snprintf(phone, size, "%s", p ? p : "");
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

/* Calls fn(ctx, row statement, ud) for each unconverted lead of contact cid. */
static int each_unlinked(crm_plugin_ctx *ctx, int64_t cid,
                         int (*fn)(crm_plugin_ctx *, crm_stmt *, void *), void *ud)
{
    char email[256], phone[64];
    int rc = contact_keys(ctx, cid, email, phone, sizeof phone);
    if (rc != CRM_OK || (!email[0] && !phone[0]))
        return rc;
    crm_stmt *st = pl_prep(ctx, "SELECT id, name, email, phone, company, source, notes, status,"
                                " reason, created_at FROM pipeline_leads WHERE contact_id IS NULL"
                                " ORDER BY id");
    if (!st)
        return pl_fail_db(ctx, "cannot read the leads");
    while (rc == CRM_OK && crm_sql_step(st) == CRM_SQL_ROW) {
        const char *e = crm_sql_column_text(st, 2), *p = crm_sql_column_text(st, 3);
        if ((email[0] && e && !strcasecmp(e, email)) || (phone[0] && pl_same_phone(p, phone)))
            rc = fn(ctx, st, ud);
    }
    crm_sql_finalize(st);
    return rc;
}

static int export_one(crm_plugin_ctx *ctx, crm_stmt *st, void *ud)
{
    (void)ctx;
    static const char *const cols[] = {"id", "name", "email", "phone", "company", "source",
                                       "notes", "status", "reason", "created_at"};
    json_t *o = json_object();
    for (int c = 0; c < 10; c++) {
        const char *t = crm_sql_column_text(st, c);
        json_object_set_new(o, cols[c], c == 0 || c == 9 ? json_integer(crm_sql_column_int64(st, c))
                                        : t ? json_string(t) : json_null());
    }
    return json_array_append_new(ud, o) ? CRM_ENOMEM : CRM_OK;
}

static int export_leads(crm_plugin_ctx *ctx, int64_t cid, char **json_out, void *ud)
{
    (void)ud;
    json_t *arr = json_array();
    int rc = arr ? each_unlinked(ctx, cid, export_one, arr) : CRM_ENOMEM;
    json_t *o = json_pack("{so}", "unconverted_leads", arr);
    *json_out = rc == CRM_OK && o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return rc != CRM_OK ? rc : *json_out ? CRM_OK : CRM_ENOMEM;
}

typedef struct id_list {
    int64_t v[256];
    size_t n;
} id_list;

static int collect_one(crm_plugin_ctx *ctx, crm_stmt *st, void *ud)
{
    id_list *l = ud;
    if (l->n == sizeof l->v / sizeof l->v[0]) {
        crm_set_error(ctx, "more than %zu unconverted leads match the contact: erase them with "
                      "crm lead erase first", sizeof l->v / sizeof l->v[0]);
        return CRM_EINVAL;
    }
    l->v[l->n++] = crm_sql_column_int64(st, 0);
    return CRM_OK;
}

/* Deleted after the scan: a statement is not stepped while rows change. */
static int erase_leads(crm_plugin_ctx *ctx, int64_t cid, void *ud)
{
    (void)ud;
    id_list *l = calloc(1, sizeof *l);
    if (!l)
        return CRM_ENOMEM;
    int rc = each_unlinked(ctx, cid, collect_one, l);
    for (size_t i = 0; rc == CRM_OK && i < l->n; i++)
        rc = pl_run(ctx, "DELETE FROM pipeline_leads WHERE id = ?1", 1, l->v[i]);
    free(l);
    return rc;
}

int pl_privacy_register(crm_plugin_ctx *ctx)
{
    static const char *const tables[] = {"pipeline_deals", "pipeline_deal_history",
                                         "pipeline_leads", "pipeline_quotes",
                                         "pipeline_quote_lines", "pipeline_snapshot_deals"};
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof tables / sizeof tables[0]; i++)
        rc = crm_declare_personal_data(ctx, tables[i], "contact_id");
    if (rc == CRM_OK)
        rc = crm_declare_personal_callbacks(ctx, export_leads, erase_leads, NULL);
    return rc;
}

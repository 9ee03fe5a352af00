/* pipeline plugin — the person's data it keeps: deals, their history, leads
 * once converted, quotes and their lines, snapshot rows. `crm contact
 * export-data` includes them, `crm contact erase` deletes them. */
#include "pl_int.h"

int pl_privacy_register(crm_plugin_ctx *ctx)
{
    static const char *const tables[] = {"pipeline_deals", "pipeline_deal_history",
                                         "pipeline_leads", "pipeline_quotes",
                                         "pipeline_quote_lines", "pipeline_snapshot_deals"};
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof tables / sizeof tables[0]; i++)
        rc = crm_declare_personal_data(ctx, tables[i], "contact_id");
    return rc;
}

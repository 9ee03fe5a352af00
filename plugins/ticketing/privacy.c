/* ticketing plugin — a person's data: tickets, their history, clocks,
 * notices, complaints, NPS surveys and answers carry contact_id, so the host's table declarations
 * reach them for `crm contact export-data` and `crm contact erase` (the
 * messages themselves are kernel interactions, erased by the kernel). */
#include "tk_int.h"

int tk_privacy_register(crm_plugin_ctx *ctx)
{
    static const char *const tables[] = {"ticketing_tickets", "ticketing_history",
                                         "ticketing_clocks", "ticketing_notices",
                                         "ticketing_complaints", "ticketing_nps_surveys",
                                         "ticketing_nps"};
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof tables / sizeof tables[0]; i++)
        rc = crm_declare_personal_data(ctx, tables[i], "contact_id");
    return rc;
}

/* journeys plugin — a person's entries (with the trigger facts copied into
 * them) and the steps run for them are their data: exported and erased. */
#include "jrn_int.h"

int jrn_privacy_register(crm_plugin_ctx *ctx)
{
    static const char *const tables[] = {"journeys_effects", "journeys_entries"};
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < 2; i++)
        rc = crm_declare_personal_data(ctx, tables[i], "contact_id");
    return rc;
}

/* Every kernel command group, in the order `crm --help` lists them. */
#include "cli.h"

const crm_command *const crm_cli_groups[] = {
    crm_cli_init_cmds,
    crm_cli_contact_cmds,
    NULL,
};

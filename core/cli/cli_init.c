/* crm init: create or upgrade the database. */
#include "cli.h"

static int cmd_init(crm_cli *cli, const crm_args *args, crm_err *err)
{
    int version = crm_store_schema_version(cli->k->store, "kernel", err);
    if (version < 0)
        return err->code;
    if (cli->json) {
        crm_cli_print_json(cli, json_pack("{ss si}", "database", crm_store_path(cli->k->store),
                                          "kernel_schema", version));
    } else if (!cli->quiet) {
        fprintf(cli->out, "database %s ready (kernel schema %d)\n", crm_store_path(cli->k->store),
                version);
    }
    return CRM_OK;
}

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

const crm_command crm_cli_init_cmds[] = {
    {"init", NULL, cmd_init, CRM_CMD_NEEDS_KERNEL | CRM_CMD_CREATES_DB, 0, 0, NULL,
     "create the database, or upgrade it to this version's schema (idempotent)", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

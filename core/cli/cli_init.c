/* crm init: create or upgrade the database. */
#include "cli.h"
#include "config.h"
#include "model.h"

static int count_behind(int64_t id, const char *from, const char *to, int64_t order_id, void *ud)
{
    (void)id, (void)from, (void)to, (void)order_id;
    ++*(int64_t *)ud;
    return 0;
}

static int cmd_init(crm_cli *cli, const crm_args *args, crm_err *err)
{
    int version = crm_store_schema_version(cli->k->store, "kernel", err);
    if (version < 0)
        return err->code;
    /* An upgraded base may predate the lifecycle rule: say so once here. */
    int64_t behind = 0;
    int rc = crm_lifecycle_behind(cli->k, false, count_behind, &behind, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json) {
        crm_cli_print_json(cli, json_pack("{ss si sI}", "database", crm_store_path(cli->k->store),
                                          "kernel_schema", version, "stages_behind",
                                          (json_int_t)behind));
    } else if (!cli->quiet) {
        fprintf(cli->out, "database %s ready (kernel schema %d)\n", crm_store_path(cli->k->store),
                version);
    }
    if (behind && !cli->quiet)
        fprintf(stderr,
                "crm init: %lld contact%s with a paid order %s still before "
                "lifecycle.on_first_paid_order (%s), from before the rule: crm audit lists "
                "them, crm audit --fix stages moves them\n",
                (long long)behind, behind == 1 ? "" : "s", behind == 1 ? "is" : "are",
                cli->k->cfg->lifecycle.on_first_paid_order);
    return CRM_OK;
}

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

const crm_command crm_cli_init_cmds[] = {
    {"init", NULL, cmd_init, CRM_CMD_NEEDS_KERNEL | CRM_CMD_CREATES_DB, 0, 0, NULL,
     "create the database, or upgrade it to this version's schema (idempotent)", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

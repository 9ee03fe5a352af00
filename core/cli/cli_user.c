/* crm user add|list: the agents who own contacts and log interactions. */
#include "cli.h"
#include "cli_util.h"
#include "model.h"

static int cmd_add(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *name;
    int64_t id = 0;
    int rc = crm_cli_need(a, "name", "the agent's name", &name, err);
    if (rc == CRM_OK)
        rc = crm_user_add(cli->k, name, crm_args_get(a, "email"), crm_args_get(a, "role"), &id,
                          err);
    if (rc != CRM_OK)
        return rc;
    crm_cli_print_id(cli, id);
    return CRM_OK;
}

static int list_one(json_t *u, void *ud)
{
    crm_cli *cli = ud;
    if (cli->json)
        crm_cli_print_json(cli, json_incref(u));
    else
        fprintf(cli->out, "%-7lld %-28.28s %-34.34s %s\n",
                (long long)json_integer_value(json_object_get(u, "id")), crm_cli_str(u, "name"),
                crm_cli_str(u, "email"), crm_cli_str(u, "role"));
    return 0;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    if (!cli->json)
        fprintf(cli->out, "%-7s %-28s %-34s %s\n", "ID", "NAME", "EMAIL", "ROLE");
    return crm_user_list(cli->k, list_one, cli, err);
}

static const crm_opt add_opts[] = {
    {"name", CRM_OPT_VALUE, "NAME", "the agent's name (required)"},
    {"email", CRM_OPT_VALUE, "EMAIL", "email address (unique; used to refer to the agent)"},
    {"role", CRM_OPT_VALUE, "ROLE", "admin, manager, agent (default) or viewer"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_user_cmds[] = {
    {"user", "add", cmd_add, K | CRM_CMD_WRITES, 0, 0, NULL, "add an agent; prints its id",
     add_opts},
    {"user", "list", cmd_list, K, 0, 0, NULL, "list the agents", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

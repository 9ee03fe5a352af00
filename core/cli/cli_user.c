/* crm user add|list|passwd: the agents who own contacts and log
 * interactions, and log into the web board. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "http/session.h"
#include "table.h"
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

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
} list_out;

static int list_one(json_t *u, void *ud)
{
    list_out *lo = ud;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, json_incref(u));
        return 0;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(u, "id")));
    const char *cells[] = {id, crm_cli_str(u, "name"), crm_cli_str(u, "email"),
                           crm_cli_str(u, "role")};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : -1;
}

static const crm_table_col list_cols[] = {
    {"ID", 0, true}, {"NAME", 28, false}, {"EMAIL", 34, false}, {"ROLE", 0, false}};

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    list_out lo = {cli, NULL};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 4)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    int rc = crm_user_list(cli->k, list_one, &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    return rc;
}

static const crm_opt add_opts[] = {
    {"name", CRM_OPT_VALUE, "NAME", "the agent's name (required)"},
    {"email", CRM_OPT_VALUE, "EMAIL", "email address (unique; used to refer to the agent)"},
    {"role", CRM_OPT_VALUE, "ROLE", "admin, manager, agent (default) or viewer"},
    {NULL, 0, NULL, NULL},
};

/* The new password is the first line of stdin, so it appears in no process
 * list or shell history: `crm user passwd ana@x.fr` then type it, or pipe it. */
static int cmd_passwd(crm_cli *cli, const crm_args *a, crm_err *err)
{
    char line[CRM_PASSWORD_MAX + 2];
    if (!fgets(line, sizeof line, stdin))
        return crm_err_set(err, CRM_EUSAGE, "type the new password on stdin (one line)");
    line[strcspn(line, "\r\n")] = '\0';
    int rc = crm_user_passwd(cli->k, a->pos[0], line, err);
    memset(line, 0, sizeof line);
    if (rc == CRM_OK && !cli->quiet)
        fprintf(stderr, "password of %s set; the user's board sessions are ended\n", a->pos[0]);
    return rc;
}

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_user_cmds[] = {
    {"user", "add", cmd_add, K | CRM_CMD_WRITES, 0, 0, NULL, "add an agent; prints its id",
     add_opts},
    {"user", "list", cmd_list, K, 0, 0, NULL, "list the agents", no_opts},
    {"user", "passwd", cmd_passwd, K | CRM_CMD_WRITES, 1, 1, "ID|EMAIL",
     "set the user's web board password (Argon2id), read from stdin", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

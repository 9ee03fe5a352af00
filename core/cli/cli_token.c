/* crm token create|list|revoke: the bearer tokens `crm serve` accepts. */
#include <sodium.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "http/auth.h"
#include "table.h"
#include "time/calendar.h"

static int cmd_create(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *name, *role, *expires = crm_args_get(a, "expires");
    int64_t until = 0, id = 0;
    char token[CRM_TOKEN_TEXT];
    int rc = crm_cli_need(a, "name", "what the token is for, e.g. shop", &name, err);
    if (rc == CRM_OK)
        rc = crm_cli_need(a, "role", "admin, manager, agent, viewer or integration", &role, err);
    if (rc == CRM_OK && expires)
        rc = crm_calendar_add_text(NULL, cli->k->now, expires, &until, err);
    if (rc == CRM_OK && expires && until <= cli->k->now)
        rc = crm_err_set(err, CRM_EUSAGE, "--expires %s: give a positive duration, e.g. 90d",
                         expires);
    if (rc == CRM_OK)
        rc = crm_token_create(cli->k, name, role, until, token, &id, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sIss}", "id", (json_int_t)id, "token", token));
    else
        fprintf(cli->out, "%s\n", token);
    if (!cli->quiet && !cli->json)
        fprintf(stderr, "token %lld created: shown once, store it now "
                        "(send it as Authorization: Bearer TOKEN)\n", (long long)id);
    sodium_memzero(token, sizeof token);
    return CRM_OK;
}

static int cmd_revoke(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int rc = crm_token_revoke(cli->k, a->pos[0], err);
    if (rc == CRM_OK && !cli->quiet)
        fprintf(stderr, "token %s revoked\n", a->pos[0]);
    return rc;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
} list_out;

static int list_one(json_t *t, void *ud)
{
    list_out *lo = ud;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, json_incref(t));
        return 0;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(t, "id")));
    const char *state = !json_is_null(json_object_get(t, "revoked_at")) ? "revoked" : "active";
    const char *cells[] = {id, crm_cli_str(t, "name"), crm_cli_str(t, "role"),
                           crm_cli_str(t, "prefix"), crm_cli_str(t, "expires_at"), state};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : -1;
}

static const crm_table_col list_cols[] = {{"ID", 0, true},      {"NAME", 24, false},
                                          {"ROLE", 0, false},   {"PREFIX", 0, false},
                                          {"EXPIRES", 0, false}, {"STATE", 0, false}};

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    list_out lo = {cli, NULL};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 6)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    int rc = crm_token_list(cli->k, list_one, &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    return rc;
}

static const crm_opt create_opts[] = {
    {"name", CRM_OPT_VALUE, "NAME", "what the token is for (unique), e.g. shop"},
    {"role", CRM_OPT_VALUE, "ROLE", "admin, manager, agent, viewer or integration"},
    {"expires", CRM_OPT_VALUE, "DURATION", "valid for this long, e.g. 90d (default: no expiry)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_token_cmds[] = {
    {"token", "create", cmd_create, K | CRM_CMD_WRITES, 0, 0, NULL,
     "create an API token for crm serve; prints it once", create_opts},
    {"token", "list", cmd_list, K, 0, 0, NULL, "list API tokens (never their secret)", no_opts},
    {"token", "revoke", cmd_revoke, K | CRM_CMD_WRITES, 1, 1, "ID|NAME",
     "revoke an API token: its requests get 401 from then on", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

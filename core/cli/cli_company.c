/* crm company add|show|list|update|delete */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"
#include "cli_util.h"
#include "model.h"
#include "model/model_util.h"

/* The --flags that set company fields, as data: option name -> struct member. */
static const struct {
    const char *opt;
    size_t offset;
} field_opts[] = {
    {"external-id", offsetof(crm_company, external_id)},
    {"name", offsetof(crm_company, name)},
    {"domain", offsetof(crm_company, domain)},
    {"phone", offsetof(crm_company, phone)},
    {"street", offsetof(crm_company, street)},
    {"postal-code", offsetof(crm_company, postal_code)},
    {"city", offsetof(crm_company, city)},
    {"country", offsetof(crm_company, country)},
};

static int company_from_args(const crm_args *a, crm_company *c, crm_err *err)
{
    for (size_t i = 0; i < sizeof field_opts / sizeof field_opts[0]; i++) {
        const char *v = crm_args_get(a, field_opts[i].opt);
        char **dst = (char **)((char *)c + field_opts[i].offset);
        if (v && !(*dst = strdup(v)))
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    const char **fields;
    int n = crm_args_list(a, "field", &fields);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(fields[i], '=');
        if (!eq || eq == fields[i])
            return crm_err_set(err, CRM_EUSAGE, "--field '%s': expected NAME=VALUE", fields[i]);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - fields[i]), fields[i]);
        if (crm_kv_set(&c->custom, &c->n_custom, name, eq + 1) != CRM_OK)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return CRM_OK;
}

static int print_company(crm_cli *cli, int64_t id, crm_err *err)
{
    crm_company c;
    int rc = crm_company_get(cli->k, id, &c, err);
    if (rc != CRM_OK)
        return rc;
    json_t *o = crm_company_to_json(&c);
    crm_company_clear(&c);
    if (cli->json)
        crm_cli_print_json(cli, o);
    else
        crm_cli_print_object(cli, o);
    return CRM_OK;
}

static int resolve(crm_cli *cli, const char *ref, int64_t *id, crm_err *err)
{
    int rc = crm_company_resolve(cli->k, ref, id, err);
    if (rc == CRM_ENOTFOUND)
        return crm_err_set(err, rc, "no company matches '%s' (see `crm company list --name ...`)",
                           ref);
    return rc;
}

static int cmd_add(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_company c = {0};
    int64_t id = 0;
    const char *name;
    int rc = crm_cli_need(a, "name", "the company's name", &name, err);
    if (rc == CRM_OK)
        rc = company_from_args(a, &c, err);
    if (rc == CRM_OK)
        rc = crm_company_add(cli->k, &c, &id, err);
    crm_company_clear(&c);
    if (rc != CRM_OK)
        return rc;
    crm_cli_print_id(cli, id);
    return CRM_OK;
}

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = resolve(cli, a->pos[0], &id, err);
    return rc == CRM_OK ? print_company(cli, id, err) : rc;
}

static int cmd_update(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    crm_company changes = {0};
    int rc = resolve(cli, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = company_from_args(a, &changes, err);
    if (rc == CRM_OK)
        rc = crm_company_update(cli->k, id, &changes, err);
    crm_company_clear(&changes);
    if (rc == CRM_OK && !cli->quiet)
        rc = print_company(cli, id, err);
    return rc;
}

static int cmd_delete(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = resolve(cli, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_company_delete(cli->k, id, err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sIsb}", "id", (json_int_t)id, "deleted", 1));
    else if (rc == CRM_OK && !cli->quiet)
        fprintf(cli->out, "company %lld deleted (its contacts are kept)\n", (long long)id);
    return rc;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
    int64_t count;
} list_out;

static const crm_table_col list_cols[] = {
    {"ID", 0, true}, {"NAME", 32, false}, {"DOMAIN", 24, false}, {"PHONE", 16, false},
    {"CITY", 24, false},
};

static int list_one(const crm_company *c, void *ud)
{
    list_out *lo = ud;
    lo->count++;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, crm_company_to_json(c));
        return 0;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    const char *cells[] = {id, c->name, c->domain, c->phone, c->city};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : -1;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t limit, offset;
    int rc = crm_cli_paging(a, 50, &limit, &offset, err);
    if (rc != CRM_OK)
        return rc;
    list_out lo = {cli, NULL, 0};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 5)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_company_list(cli->k, crm_args_get(a, "name"), limit, offset, list_one, &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld compan%s%s\n", (long long)lo.count, lo.count == 1 ? "y" : "ies",
                limit && lo.count == limit ? " (more with --page)" : "");
    return rc;
}

#define COMPANY_FIELD_OPTS                                                                 \
    {"external-id", CRM_OPT_VALUE, "ID", "identifier in the source system (unique)"},      \
    {"name", CRM_OPT_VALUE, "NAME", "company name (unique, compared without case/accents)"}, \
    {"domain", CRM_OPT_VALUE, "DOMAIN", "web domain (lower-cased, e.g. acme.fr)"},         \
    {"phone", CRM_OPT_VALUE, "PHONE", "phone number (stored as E.164)"},                    \
    {"street", CRM_OPT_VALUE, "TEXT", "street address"},                                    \
    {"postal-code", CRM_OPT_VALUE, "CODE", "postal code (checked for the country)"},        \
    {"city", CRM_OPT_VALUE, "CITY", "city"},                                                \
    {"country", CRM_OPT_VALUE, "CC", "country (ISO code or name)"},                          \
    {"field", CRM_OPT_LIST, "NAME=VALUE", "a custom field from crm.yaml (repeatable)"}

static const crm_opt add_opts[] = {COMPANY_FIELD_OPTS, {NULL, 0, NULL, NULL}};

static const crm_opt list_opts[] = {
    {"name", CRM_OPT_VALUE, "TEXT", "part of the name (case and accents ignored)"},
    {"limit", CRM_OPT_VALUE, "N", "companies per page (default 50, 0 = all)"},
    {"page", CRM_OPT_VALUE, "N", "page number, from 1"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_company_cmds[] = {
    {"company", "add", cmd_add, K | CRM_CMD_WRITES, 0, 0, NULL,
     "add a company (name unique); prints its id", add_opts},
    {"company", "show", cmd_show, K, 1, 1, "ID|NAME|ext:ID", "show one company", no_opts},
    {"company", "list", cmd_list, K, 0, 0, NULL, "list companies, filtered and paged",
     list_opts},
    {"company", "update", cmd_update, K | CRM_CMD_WRITES, 1, 1, "ID|NAME|ext:ID",
     "change fields of a company (\"\" clears a field)", add_opts},
    {"company", "delete", cmd_delete, K | CRM_CMD_WRITES, 1, 1, "ID|NAME|ext:ID",
     "delete a company (its contacts are kept, unlinked)", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* crm contact add|show|list|update|delete */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "model.h"
#include "table.h"

/* The --flags that set contact fields, as data: option name -> field. */
static const struct {
    const char *opt;
    const char *field;
} field_opts[] = {
    {"external-id", "external_id"}, {"first-name", "first_name"}, {"last-name", "last_name"},
    {"email", "email"},             {"phone", "phone"},           {"company", "company"},
    {"street", "street"},           {"postal-code", "postal_code"}, {"city", "city"},
    {"country", "country"},         {"birth-date", "birth_date"}, {"stage", "lifecycle_stage"},
    {"owner", "owner"},             {"source", "source"},
};

#define CONTACT_FIELD_OPTS                                                                   \
    {"external-id", CRM_OPT_VALUE, "ID", "identifier in the source system (unique)"},        \
    {"first-name", CRM_OPT_VALUE, "NAME", "first name (proper-cased)"},                      \
    {"last-name", CRM_OPT_VALUE, "NAME", "last name (proper-cased, particles kept)"},        \
    {"email", CRM_OPT_VALUE, "EMAIL", "email address (checked, lower-cased, unique)"},       \
    {"phone", CRM_OPT_VALUE, "PHONE", "phone number (stored as E.164)"},                      \
    {"company", CRM_OPT_VALUE, "NAME", "company name (created when new)"},                    \
    {"street", CRM_OPT_VALUE, "TEXT", "street address"},                                      \
    {"postal-code", CRM_OPT_VALUE, "CODE", "postal code (checked for the country)"},          \
    {"city", CRM_OPT_VALUE, "CITY", "city"},                                                  \
    {"country", CRM_OPT_VALUE, "CC", "country (ISO code or name; default locale.country)"},  \
    {"birth-date", CRM_OPT_VALUE, "DATE", "birth date, YYYY-MM-DD"},                          \
    {"stage", CRM_OPT_VALUE, "STAGE",                                                          \
     "lifecycle stage: subscriber|lead|prospect|customer|evangelist|inactive"},              \
    {"owner", CRM_OPT_VALUE, "USER", "owning agent (user id or email)"},                      \
    {"source", CRM_OPT_VALUE, "TEXT", "where the contact came from"},                         \
    {"tag", CRM_OPT_LIST, "TAG", "a tag (repeatable; on update, replaces the tags)"},         \
    {"field", CRM_OPT_LIST, "NAME=VALUE", "a custom field from crm.yaml (repeatable)"}

static int contact_from_args(const crm_args *a, crm_contact *c, crm_err *err)
{
    for (size_t i = 0; i < sizeof field_opts / sizeof field_opts[0]; i++) {
        const char *v = crm_args_get(a, field_opts[i].opt);
        if (v && !(*crm_contact_field_ptr(c, field_opts[i].field) = strdup(v)))
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    const char **tags;
    int n = crm_args_list(a, "tag", &tags);
    if (n > 0 && !c->tags && !(c->tags = calloc(1, sizeof *c->tags)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (crm_contact_add_tag(c, tags[i]) != CRM_OK)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    const char **fields;
    n = crm_args_list(a, "field", &fields);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(fields[i], '=');
        if (!eq || eq == fields[i])
            return crm_err_set(err, CRM_EUSAGE, "--field '%s': expected NAME=VALUE", fields[i]);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - fields[i]), fields[i]);
        if (crm_contact_set_custom(c, name, eq + 1) != CRM_OK)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return CRM_OK;
}

static int collect_history(json_t *item, void *ud)
{
    json_array_append(ud, item);
    return 0;
}

/* The contact, then its stage history ("lifecycle_history" in JSON). */
static int print_contact(crm_cli *cli, int64_t id, crm_err *err)
{
    crm_contact c;
    int rc = crm_contact_get(cli->k, id, &c, err);
    if (rc != CRM_OK)
        return rc;
    json_t *o = crm_contact_to_json(&c);
    crm_contact_clear(&c);
    json_t *history = json_array();
    rc = crm_contact_history(cli->k, id, collect_history, history, err);
    if (rc != CRM_OK) {
        json_decref(history);
        json_decref(o);
        return rc;
    }
    if (cli->json) {
        json_object_set_new(o, "lifecycle_history", history);
        crm_cli_print_json(cli, o);
        return CRM_OK;
    }
    crm_cli_print_object(cli, o);
    size_t i;
    json_t *h;
    char when[CRM_CLI_TIME_SIZE];
    json_array_foreach(history, i, h)
        fprintf(cli->out, "%-16s %s %s -> %s (%s)\n", i ? "" : "stage history",
                crm_cli_time_of(cli, h, "changed_at", when, sizeof when),
                crm_cli_str(h, "from"), crm_cli_str(h, "to"),
                crm_cli_str(h, "reason"));
    json_decref(history);
    return CRM_OK;
}

static int cmd_add(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_contact c = {0};
    int64_t id = 0;
    int rc = contact_from_args(a, &c, err);
    unsigned flags = crm_args_flag(a, "allow-duplicate") ? CRM_CONTACT_ALLOW_DUPLICATE : 0;
    if (rc == CRM_OK)
        rc = crm_contact_add_flags(cli->k, &c, flags, &id, err);
    crm_contact_clear(&c);
    if (rc != CRM_OK)
        return rc;
    crm_cli_print_id(cli, id);
    return CRM_OK;
}

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = crm_contact_resolve(cli->k, a->pos[0], &id, err);
    return rc == CRM_OK ? print_contact(cli, id, err) : rc;
}

static int cmd_update(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    crm_contact changes = {0};
    int rc = crm_contact_resolve(cli->k, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = contact_from_args(a, &changes, err);
    if (rc == CRM_OK)
        rc = crm_contact_update(cli->k, id, &changes, err);
    crm_contact_clear(&changes);
    if (rc == CRM_OK && !cli->quiet)
        rc = print_contact(cli, id, err);
    return rc;
}

static int cmd_delete(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = crm_contact_resolve(cli->k, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_contact_delete(cli->k, id, crm_args_flag(a, "force"), err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sIsb}", "id", (json_int_t)id, "deleted", 1));
    else if (rc == CRM_OK && !cli->quiet)
        fprintf(cli->out, "contact %lld deleted\n", (long long)id);
    return rc;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
    int64_t count;
} list_out;

static const crm_table_col list_cols[] = {
    {"ID", 0, true}, {"NAME", 32, false}, {"EMAIL", 34, false}, {"PHONE", 16, false},
    {"CITY", 24, false},
};

static int list_one(const crm_contact *c, void *ud)
{
    list_out *lo = ud;
    lo->count++;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, crm_contact_to_json(c));
        return 0;
    }
    char name[256], id[24];
    snprintf(name, sizeof name, "%s%s%s", c->first_name ? c->first_name : "",
             c->first_name && c->last_name ? " " : "", c->last_name ? c->last_name : "");
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    const char *cells[] = {id, name, c->email, c->phone, c->city};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : -1;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_contact_filter f = {
        .email = crm_args_get(a, "email"),
        .name = crm_args_get(a, "name"),
        .city = crm_args_get(a, "city"),
        .postal_code = crm_args_get(a, "postal-code"),
        .country = crm_args_get(a, "country"),
        .company = crm_args_get(a, "company"),
        .tag = crm_args_get(a, "tag"),
        .source = crm_args_get(a, "source"),
        .lifecycle_stage = crm_args_get(a, "stage"),
    };
    int rc = crm_cli_paging(a, 50, &f.limit, &f.offset, err);
    if (rc == CRM_OK)
        rc = crm_cli_contact_sets(cli, a, f.sets, err);
    if (rc != CRM_OK)
        return rc;
    list_out lo = {cli, NULL, 0};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 5)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_contact_list(cli->k, &f, list_one, &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld contact%s%s\n", (long long)lo.count, lo.count == 1 ? "" : "s",
                f.limit && lo.count == f.limit ? " (more with --page)" : "");
    return rc;
}

static const crm_opt add_opts[] = {
    CONTACT_FIELD_OPTS,
    {"allow-duplicate", CRM_OPT_FLAG, NULL,
     "add it even when it looks like a stored contact (hygiene.duplicates.refuse_on_add)"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt update_opts[] = {CONTACT_FIELD_OPTS, {NULL, 0, NULL, NULL}};

static const crm_opt list_opts[] = {
    {"name", CRM_OPT_VALUE, "TEXT", "part of the name (case and accents ignored)"},
    {"email", CRM_OPT_VALUE, "EMAIL", "exact email"},
    {"city", CRM_OPT_VALUE, "CITY", "city"},
    {"postal-code", CRM_OPT_VALUE, "PREFIX", "postal code prefix (\"75\" for Paris)"},
    {"country", CRM_OPT_VALUE, "CC", "country code"},
    {"company", CRM_OPT_VALUE, "NAME", "company name"},
    {"tag", CRM_OPT_VALUE, "TAG", "has this tag"},
    {"source", CRM_OPT_VALUE, "TEXT", "source"},
    {"stage", CRM_OPT_VALUE, "STAGE", "lifecycle stage"},
    CRM_CLI_CONTACT_SET_OPTS,
    {"limit", CRM_OPT_VALUE, "N", "contacts per page (default 50, 0 = all)"},
    {"page", CRM_OPT_VALUE, "N", "page number, from 1"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt delete_opts[] = {
    {"force", CRM_OPT_FLAG, NULL, "also erase the contact's orders and interactions (GDPR)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_contact_cmds[] = {
    {"contact", "add", cmd_add, K | CRM_CMD_WRITES, 0, 0, NULL,
     "add a contact (validated and normalised); prints its id", add_opts},
    {"contact", "show", cmd_show, K, 1, 1, "ID|EMAIL|ext:ID", "show one contact", no_opts},
    {"contact", "list", cmd_list, K, 0, 0, NULL, "list contacts, filtered and paged", list_opts},
    {"contact", "update", cmd_update, K | CRM_CMD_WRITES, 1, 1, "ID|EMAIL|ext:ID",
     "change fields of a contact (\"\" clears a field)", update_opts},
    {"contact", "delete", cmd_delete, K | CRM_CMD_WRITES, 1, 1, "ID|EMAIL|ext:ID",
     "delete a contact", delete_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

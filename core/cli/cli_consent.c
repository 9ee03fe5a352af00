/* crm consent grant|withdraw|show (GDPR record: append-only). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"
#include "cli_util.h"
#include "hygiene.h"
#include "model.h"
#include "model/model_util.h"

static int dup_into(const char *v, char **dst, crm_err *err)
{
    if (v && !(*dst = strdup(v)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    return CRM_OK;
}

static int record(crm_cli *cli, const crm_args *a, const char *status, crm_err *err)
{
    crm_consent c = {0};
    const char *ref, *channel, *purpose;
    int64_t id = 0;
    int rc = crm_cli_need(a, "contact", "the contact's id, email or ext:ID", &ref, err);
    if (rc == CRM_OK)
        rc = crm_cli_need(a, "channel", "one of crm.yaml consents.channels", &channel, err);
    if (rc == CRM_OK)
        rc = crm_cli_need(a, "purpose", "one of crm.yaml consents.purposes", &purpose, err);
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, ref, &c.contact_id, err);
    if (rc == CRM_OK)
        rc = crm_cli_time_opt(a, "at", &c.recorded_at, err);
    if (rc == CRM_OK)
        rc = dup_into(channel, &c.channel, err);
    if (rc == CRM_OK)
        rc = dup_into(purpose, &c.purpose, err);
    if (rc == CRM_OK)
        rc = dup_into(status, &c.status, err);
    if (rc == CRM_OK)
        rc = dup_into(crm_args_get(a, "source"), &c.source, err);
    if (rc == CRM_OK)
        rc = crm_consent_record(cli->k, &c, &id, err);
    if (rc == CRM_OK && cli->json) {
        json_t *j = json_pack("{sIsIsssssssb}", "id", (json_int_t)id, "contact_id",
                              (json_int_t)c.contact_id, "channel", c.channel, "purpose",
                              c.purpose, "status", c.status, "changed", !c.unchanged);
        if (c.unchanged)
            json_object_set_new(j, "since", crm_json_time(c.since));
        crm_cli_print_json(cli, j);
    } else if (rc == CRM_OK && c.unchanged && !cli->quiet) {
        char since[CRM_CLI_TIME_SIZE];
        crm_cli_time(cli, c.since, since, sizeof since);
        fprintf(cli->out, "consent %s/%s for contact %lld was already %s (since %s): nothing "
                          "changed\n", c.channel, c.purpose, (long long)c.contact_id, c.status,
                since);
    } else if (rc == CRM_OK && !cli->quiet)
        fprintf(cli->out, "consent %s: %s/%s for contact %lld\n", c.status, c.channel, c.purpose,
                (long long)c.contact_id);
    crm_consent_clear(&c);
    return rc;
}

static int cmd_grant(crm_cli *cli, const crm_args *a, crm_err *err)
{
    return record(cli, a, "granted", err);
}

static int cmd_withdraw(crm_cli *cli, const crm_args *a, crm_err *err)
{
    return record(cli, a, "withdrawn", err);
}

typedef struct show_out {
    crm_cli *cli;
    crm_table *table;
    int64_t count;
} show_out;

static const crm_table_col show_cols[] = {
    {"CHANNEL", 0, false},  {"PURPOSE", 0, false}, {"STATUS", 0, false},
    {"RECORDED", 0, false}, {"SOURCE", 40, false},
};

static int show_one(json_t *item, void *ud)
{
    show_out *so = ud;
    so->count++;
    if (so->cli->json) {
        crm_cli_print_json(so->cli, json_incref(item));
        return 0;
    }
    char recorded[CRM_CLI_TIME_SIZE];
    const char *cells[] = {crm_cli_str(item, "channel"), crm_cli_str(item, "purpose"),
                           crm_cli_str(item, "status"),
                           crm_cli_time_of(so->cli, item, "recorded_at", recorded, sizeof recorded),
                           crm_cli_str(item, "source")};
    return crm_table_row(so->table, cells) == CRM_OK ? 0 : -1;
}

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t contact_id;
    int rc = crm_cli_contact(cli, a->pos[0], &contact_id, err);
    if (rc != CRM_OK)
        return rc;
    show_out so = {cli, NULL, 0};
    if (!cli->json && !(so.table = crm_table_new(cli->out, show_cols, 5)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_consent_list(cli->k, contact_id, crm_args_flag(a, "history"), show_one, &so, err);
    crm_table_end(so.table, rc == CRM_OK);
    if (rc == CRM_OK && !cli->json && !cli->quiet && !so.count)
        fprintf(stderr, "no consent recorded for contact %lld (record one with `crm consent "
                        "grant`)\n", (long long)contact_id);
    return rc;
}

static const crm_opt record_opts[] = {
    {"contact", CRM_OPT_VALUE, "REF", "contact id, email or ext:ID (required)"},
    {"channel", CRM_OPT_VALUE, "CHANNEL",
     "one of crm.yaml consents.channels: email, sms, phone, post by default (required)"},
    {"purpose", CRM_OPT_VALUE, "PURPOSE",
     "one of crm.yaml consents.purposes: newsletter, offers, marketing, profiling by default "
     "(required)"},
    {"source", CRM_OPT_VALUE, "TEXT", "where it was given: \"web form\", \"shop\" ..."},
    {"at", CRM_OPT_VALUE, "DATE", "when, ISO 8601 (default: now)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt show_opts[] = {
    {"history", CRM_OPT_FLAG, NULL, "every record, oldest first, not just the current state"},
    {NULL, 0, NULL, NULL},
};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_consent_cmds[] = {
    {"consent", "grant", cmd_grant, K | CRM_CMD_WRITES, 0, 0, NULL,
     "record that a contact gave consent for a channel and purpose", record_opts},
    {"consent", "withdraw", cmd_withdraw, K | CRM_CMD_WRITES, 0, 0, NULL,
     "record that a contact withdrew consent", record_opts},
    {"consent", "show", cmd_show, K, 1, 1, "CONTACT",
     "a contact's current consents (or --history)", show_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

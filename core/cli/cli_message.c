/* crm message send|list|show: the outbox from the command line
 * (core/messages/outbox.h). `send` queues through the same rules as a
 * plugin's message_queue_json; the worker (`crm run`, `crm tick`) delivers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "messages/outbox.h"
#include "util.h"

static int cmd_send(crm_cli *cli, const crm_args *args, crm_err *err)
{
    const char *ref, *tpl;
    int rc = crm_cli_need(args, "contact", "the contact's id, email or ext:ID", &ref, err);
    if (rc == CRM_OK)
        rc = crm_cli_need(args, "template", "a template name (crm template list)", &tpl, err);
    crm_outbox_req r = {.template = tpl, .channel = crm_args_get(args, "channel"),
                        .purpose = crm_args_get(args, "purpose"),
                        .key = crm_args_get(args, "key"), .source = "kernel"};
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, ref, &r.contact_id, err);
    if (rc == CRM_OK)
        rc = crm_cli_time_opt(args, "at", &r.at, err);
    json_t *data = NULL;
    const char *data_text = crm_args_get(args, "data");
    if (rc == CRM_OK && data_text) {
        json_error_t je;
        data = json_loads(data_text, 0, &je);
        if (!json_is_object(data))
            rc = crm_err_set(err, CRM_EUSAGE, "--data: expected a JSON object (%s)", je.text);
        r.data = data;
    }
    int64_t id = 0;
    bool created = false;
    if (rc == CRM_OK)
        rc = crm_outbox_queue(cli->k, &r, &id, &created, err);
    json_decref(data);
    if (rc != CRM_OK)
        return rc;
    json_t *m = NULL;
    rc = crm_outbox_get(cli->k, id, false, &m, err);
    if (rc != CRM_OK)
        return rc;
    json_object_set_new(m, "created", json_boolean(created));
    if (cli->json)
        crm_cli_print_json(cli, m);
    else
        crm_cli_print_object(cli, m);
    return CRM_OK;
}

static int print_row(json_t *m, void *ud)
{
    crm_cli *cli = ud;
    if (cli->json) {
        crm_cli_print_json(cli, m);
        return CRM_OK;
    }
    fprintf(cli->out, "%-6lld %-7lld %-6s %-13s %-18s %-10s %s\n",
            (long long)json_integer_value(json_object_get(m, "id")),
            (long long)json_integer_value(json_object_get(m, "contact_id")),
            crm_cli_str(m, "channel"), crm_cli_str(m, "purpose"),
            crm_cli_str(m, "template"), crm_cli_str(m, "status"), crm_cli_str(m, "reason"));
    json_decref(m);
    return CRM_OK;
}

static int cmd_list(crm_cli *cli, const crm_args *args, crm_err *err)
{
    crm_outbox_filter f = {.status = crm_args_get(args, "status")};
    if (f.status && !crm_str_in(f.status, crm_message_statuses))
        return crm_err_set(err, CRM_EUSAGE,
                           "--status: '%s' is not queued, held, sent, failed or suppressed",
                           f.status);
    const char *ref = crm_args_get(args, "contact");
    int rc = ref ? crm_cli_contact(cli, ref, &f.contact_id, err) : CRM_OK;
    if (rc == CRM_OK)
        rc = crm_args_int(args, "limit", 0, &f.limit, err);
    if (rc == CRM_OK && !cli->json)
        fprintf(cli->out, "%-6s %-7s %-6s %-13s %-18s %-10s %s\n", "ID", "CONTACT", "CHAN",
                "PURPOSE", "TEMPLATE", "STATUS", "REASON");
    return rc == CRM_OK ? crm_outbox_list(cli->k, &f, print_row, cli, err) : rc;
}

static int cmd_show(crm_cli *cli, const crm_args *args, crm_err *err)
{
    int64_t id = 0;
    char *end = NULL;
    long long v = strtoll(args->pos[0], &end, 10);
    if (!end || *end || v <= 0)
        return crm_err_set(err, CRM_EUSAGE, "expected a message id, got '%s'", args->pos[0]);
    id = v;
    json_t *m = NULL;
    int rc = crm_outbox_get(cli->k, id, true, &m, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json)
        crm_cli_print_json(cli, m);
    else
        crm_cli_print_object(cli, m);
    return CRM_OK;
}

static int parse_id(const char *text, int64_t *id, crm_err *err)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (!end || *end || v <= 0)
        return crm_err_set(err, CRM_EUSAGE, "expected a message id, got '%s'", text);
    *id = v;
    return CRM_OK;
}

static int pause_or_resume(crm_cli *cli, const crm_args *args, bool pause, crm_err *err)
{
    int64_t contact = 0, n = 0;
    const char *ref = crm_args_get(args, "contact");
    int rc = ref ? crm_cli_contact(cli, ref, &contact, err) : CRM_OK;
    if (rc == CRM_OK)
        rc = pause ? crm_outbox_pause(cli->k, contact, err)
                   : crm_outbox_resume(cli->k, contact, &n, err);
    if (rc != CRM_OK)
        return rc;
    json_t *o = json_pack("{sssIsI}", "messages", pause ? "paused" : "resumed", "contact_id",
                          (json_int_t)contact, "released", (json_int_t)n);
    if (cli->json)
        crm_cli_print_json(cli, o);
    else
        crm_cli_print_object(cli, o);
    return CRM_OK;
}

static int cmd_pause(crm_cli *cli, const crm_args *args, crm_err *err)
{
    return pause_or_resume(cli, args, true, err);
}

static int cmd_resume(crm_cli *cli, const crm_args *args, crm_err *err)
{
    return pause_or_resume(cli, args, false, err);
}

static int cmd_retry(crm_cli *cli, const crm_args *args, crm_err *err)
{
    int64_t id = 0;
    int rc = parse_id(args->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_outbox_retry(cli->k, id, err);
    if (rc == CRM_OK)
        crm_cli_print_id(cli, id);
    return rc;
}

static const crm_opt pause_opts[] = {
    {"contact", CRM_OPT_VALUE, "ID", "only this contact's messages (default: everyone's)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt send_opts[] = {
    {"contact", CRM_OPT_VALUE, "ID", "the recipient: id, email or ext:ID (required)"},
    {"template", CRM_OPT_VALUE, "NAME", "template folder under messages.templates (required)"},
    {"channel", CRM_OPT_VALUE, "email|sms",
     "default: the template's first channel the contact has an address for"},
    {"purpose", CRM_OPT_VALUE, "P", "transactional (default), service or marketing "
                                    "(needs the contact's consent)"},
    {"key", CRM_OPT_VALUE, "KEY", "idempotency key: sending again with it creates nothing"},
    {"at", CRM_OPT_VALUE, "DATE", "send at or after this instant (default: now)"},
    {"data", CRM_OPT_VALUE, "JSON", "extra template values, a JSON object"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt list_opts[] = {
    {"status", CRM_OPT_VALUE, "S", "queued, held, sent, failed or suppressed"},
    {"contact", CRM_OPT_VALUE, "ID", "only this contact's messages"},
    {"limit", CRM_OPT_VALUE, "N", "at most N messages (default: all)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

const crm_command crm_cli_message_cmds[] = {
    {"message", "send", cmd_send, CRM_CMD_NEEDS_KERNEL | CRM_CMD_WRITES, 0, 0, NULL,
     "queue a message from a template through the outbox rules (the worker sends it)",
     send_opts},
    {"message", "list", cmd_list, CRM_CMD_NEEDS_KERNEL, 0, 0, NULL,
     "list messages: id, contact, channel, purpose, template, status, reason", list_opts},
    {"message", "show", cmd_show, CRM_CMD_NEEDS_KERNEL, 1, 1, "ID",
     "one message with its rendered content and the driver's response", no_opts},
    {"message", "pause", cmd_pause, CRM_CMD_NEEDS_KERNEL | CRM_CMD_WRITES, 0, 0, NULL,
     "kill switch: hold every message (or one contact's) until resume", pause_opts},
    {"message", "resume", cmd_resume, CRM_CMD_NEEDS_KERNEL | CRM_CMD_WRITES, 0, 0, NULL,
     "lift a pause: held messages go back to the queue", pause_opts},
    {"message", "retry", cmd_retry, CRM_CMD_NEEDS_KERNEL | CRM_CMD_WRITES, 1, 1, "ID",
     "send a failed (dead-lettered) message again, under the same id", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

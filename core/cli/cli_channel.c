/* crm channel test: sends one hand-written message through a channel of
 * crm.yaml `messages.channels`, to try a driver's settings (an SMTP relay, a
 * gateway URL). A test tool only: it bypasses the outbox, so no consent,
 * quiet hours, caps, idempotency or timeline apply and nothing is stored. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "messages/driver.h"

static int cmd_test(crm_cli *cli, const crm_args *args, crm_err *err)
{
    const char *name = args->pos[0];
    const crm_config *cfg = cli->k->cfg;
    const crm_node *channels = cfg->root ? crm_node_path(cfg->root, "messages.channels") : NULL;
    const crm_node *ch = channels ? crm_node_get(channels, name) : NULL;
    if (!ch)
        return crm_err_set(err, CRM_ENOTFOUND,
                           "no channel '%s' under messages.channels in %s", name,
                           cfg->path ? cfg->path : "the configuration");
    const char *to = crm_args_get(args, "to");
    char id[CRM_MESSAGE_MAX_ID + 1];
    const char *given = crm_args_get(args, "id");
    if (given)
        snprintf(id, sizeof id, "%s", given);
    else
        snprintf(id, sizeof id, "test-%lld-%ld", (long long)cli->k->now, (long)getpid());
    crm_message m = {.id = id, .channel = name, .to = to,
                     .to_name = crm_args_get(args, "to-name"),
                     .from = crm_args_get(args, "from"),
                     .subject = crm_args_get(args, "subject"),
                     .text = crm_args_get(args, "text"), .html = crm_args_get(args, "html"),
                     .date = cli->k->now};
    if (!m.text)
        m.text = "";
    char path[160];
    snprintf(path, sizeof path, "messages.channels.%s", name);
    crm_driver *d;
    int rc = crm_driver_open(ch, name, path, cfg->dir, &d, err);
    if (rc != CRM_OK)
        return rc;
    crm_send_result res;
    rc = crm_driver_send(d, &m, &res, err);
    const char *driver = crm_driver_name(d);
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:s}", "channel", name, "driver", driver,
                          "id", id, "sent", rc == CRM_OK, "status", (json_int_t)res.status,
                          "response", res.response);
    crm_driver_close(d);
    if (rc != CRM_OK) {
        json_decref(o);
        /* Either way the user learns whether trying again can help. */
        crm_err_prefix(err, "not sent (%s)", res.transient ? "transient" : "permanent");
        return rc;
    }
    if (cli->json)
        crm_cli_print_json(cli, o);
    else
        crm_cli_print_object(cli, o);
    return CRM_OK;
}

static const crm_opt test_opts[] = {
    {"to", CRM_OPT_VALUE, "ADDRESS", "recipient: an email address, a phone number, ..."},
    {"to-name", CRM_OPT_VALUE, "NAME", "recipient's display name (email)"},
    {"from", CRM_OPT_VALUE, "MAILBOX", "sender (default: the channel's `from`)"},
    {"subject", CRM_OPT_VALUE, "TEXT", "subject (email)"},
    {"text", CRM_OPT_VALUE, "TEXT", "text body"},
    {"html", CRM_OPT_VALUE, "HTML", "HTML alternative (email)"},
    {"id", CRM_OPT_VALUE, "ID", "message id: spool file name, Message-ID, webhook-id "
                                "(default: test-EPOCH-PID)"},
    {NULL, 0, NULL, NULL},
};

const crm_command crm_cli_channel_cmds[] = {
    {"channel", "test", cmd_test, CRM_CMD_NEEDS_KERNEL | CRM_CMD_NO_DATA, 1, 1, "NAME",
     "send one test message through channel NAME of messages.channels, bypassing the "
     "outbox (no consent, quiet hours, caps or timeline; nothing stored)",
     test_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

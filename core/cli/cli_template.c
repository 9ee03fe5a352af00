/* crm template list|check|render: the templates directory
 * (core/messages/template.h) from the command line. `check` compiles every
 * file and refuses an unknown variable with its file:line:column, so a typo
 * is caught before a message is queued. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "messages/message_data.h"
#include "messages/template.h"

typedef struct each_ctx {
    crm_cli *cli;
    const char *dir;
    int errors;
    crm_err *err;
} each_ctx;

static int list_one(const char *name, void *ud)
{
    each_ctx *c = ud;
    crm_template *t;
    crm_err e = {0};
    int rc = crm_template_load(c->dir, name, &t, &e);
    const char *buf[4];
    char chans[32] = "";
    if (rc == CRM_OK) {
        const char *const *ch = crm_template_channels(t, buf, 4);
        for (size_t i = 0; ch[i]; i++)
            snprintf(chans + strlen(chans), sizeof chans - strlen(chans), "%s%s", i ? "," : "",
                     ch[i]);
        crm_template_free(t);
    }
    if (c->cli->json)
        crm_cli_print_json(c->cli, json_pack("{ssssss*}", "name", name, "channels", chans,
                                             "error", rc == CRM_OK ? NULL : e.msg));
    else
        fprintf(c->cli->out, "%-24s %s\n", name, rc == CRM_OK ? chans : e.msg);
    return CRM_OK;
}

static int cmd_list(crm_cli *cli, const crm_args *args, crm_err *err)
{
    (void)args;
    char buf[4096];
    each_ctx c = {cli, crm_templates_dir(cli->k->cfg, buf, sizeof buf), 0, err};
    return crm_template_each(c.dir, list_one, &c, err);
}

static int check_one(const char *name, void *ud)
{
    each_ctx *c = ud;
    crm_template *t;
    crm_err e = {0};
    int rc = crm_template_load(c->dir, name, &t, &e);
    crm_template_free(t);
    if (rc == CRM_OK) {
        if (!c->cli->quiet && !c->cli->json)
            fprintf(c->cli->out, "%s: ok\n", name);
        return CRM_OK;
    }
    if (rc == CRM_ENOMEM || rc == CRM_EIO)
        return crm_err_set(c->err, rc, "%s", e.msg);
    c->errors++;
    fprintf(stderr, "%s\n", e.msg);
    return CRM_OK;
}

static int cmd_check(crm_cli *cli, const crm_args *args, crm_err *err)
{
    char buf[4096];
    each_ctx c = {cli, crm_templates_dir(cli->k->cfg, buf, sizeof buf), 0, err};
    int rc = args->n_pos ? check_one(args->pos[0], &c) : crm_template_each(c.dir, check_one, &c, err);
    if (rc == CRM_OK && c.errors)
        rc = crm_err_set(err, CRM_EINVAL, "%d template(s) refused (see above)", c.errors);
    return rc;
}

static int cmd_render(crm_cli *cli, const crm_args *args, crm_err *err)
{
    const char *ref;
    int64_t contact = 0;
    int rc = crm_cli_need(args, "contact", "the contact's id, email or ext:ID", &ref, err);
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, ref, &contact, err);
    if (rc != CRM_OK)
        return rc;
    char buf[4096];
    crm_template *t = NULL;
    json_t *data = NULL, *payload = NULL;
    crm_rendered out = {0};
    const char *text = crm_args_get(args, "data");
    if (text) {
        json_error_t je;
        payload = json_loads(text, 0, &je);
        if (!json_is_object(payload))
            rc = crm_err_set(err, CRM_EUSAGE, "--data: expected a JSON object (%s)", je.text);
    }
    if (rc == CRM_OK)
        rc = crm_template_load(crm_templates_dir(cli->k->cfg, buf, sizeof buf), args->pos[0], &t,
                               err);
    const char *chbuf[4], *channel = crm_args_get(args, "channel");
    if (rc == CRM_OK && !channel)
        channel = crm_template_channels(t, chbuf, 4)[0];
    if (rc == CRM_OK)
        rc = crm_message_data(cli->k, contact, payload, &data, err);
    if (rc == CRM_OK)
        rc = crm_template_render(t, channel, data, &out, err);
    if (rc == CRM_OK && cli->json) {
        crm_cli_print_json(cli, json_pack("{ssssssss*ss*}", "template", args->pos[0], "channel",
                                          channel, "text", out.text, "subject", out.subject,
                                          "html", out.html));
    } else if (rc == CRM_OK) {
        if (out.subject)
            fprintf(cli->out, "Subject: %s\n\n", out.subject);
        fputs(out.text, cli->out);
        if (out.html)
            fprintf(cli->out, "\n--- html ---\n%s", out.html);
    }
    crm_rendered_clear(&out);
    json_decref(data);
    json_decref(payload);
    crm_template_free(t);
    return rc;
}

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};
static const crm_opt render_opts[] = {
    {"contact", CRM_OPT_VALUE, "ID", "render for this contact: id, email or ext:ID (required)"},
    {"channel", CRM_OPT_VALUE, "email|sms", "default: the template's first channel"},
    {"data", CRM_OPT_VALUE, "JSON", "payload values the template declares in its data file"},
    {NULL, 0, NULL, NULL},
};

const crm_command crm_cli_template_cmds[] = {
    {"template", "list", cmd_list, CRM_CMD_NEEDS_KERNEL | CRM_CMD_NO_DATA, 0, 0, NULL,
     "the templates of messages.templates with their channels (or why one is refused)",
     no_opts},
    {"template", "check", cmd_check, CRM_CMD_NEEDS_KERNEL | CRM_CMD_NO_DATA, 0, 1, "[NAME]",
     "compile and check templates: unknown variables refused with file:line:column", no_opts},
    {"template", "render", cmd_render, CRM_CMD_NEEDS_KERNEL, 1, 1, "NAME",
     "render a template for one contact without queueing anything", render_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* journeys plugin — automation journeys as data in crm.yaml: a trigger
 * event, profiles, timed steps (send, task, tag, emit), an exit goal and a
 * re-entry policy, driven by kernel timers with one effect row per
 * (journey, contact, entry, step). This file is the descriptor and init:
 * every registration in one place (jrn_int.h maps the other files). */
#include <stdlib.h>

#include "jrn_int.h"

static const crm_option contacts_opts[] = {
    {"step", CRM_OPTION_INT, 0, "S", "only entries whose next step is S (0-based)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option exit_opts[] = {
    {"contact", CRM_OPTION_INT, 1, "ID", "the contact whose active entry ends"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_command_spec commands[] = {
    {"journey", "list", NULL, "every journey: entered, active, exited by goal, completed, "
     "messages, conversions, attributed revenue", 0, 0, NULL, jrn_cmd_list},
    {"journey", "show", "NAME", "one journey's trigger, goal, profiles and steps with counts", 1,
     1, NULL, jrn_cmd_show},
    {"journey", "contacts", "NAME", "the entries of a journey with their next step", 1, 1,
     contacts_opts, jrn_cmd_contacts},
    {"journey", "pause", "NAME", "stop entering and running steps (timers wait)", 1, 1, NULL,
     jrn_cmd_pause},
    {"journey", "resume", "NAME", "start again; steps that came due meanwhile run at the next "
     "tick", 1, 1, NULL, jrn_cmd_resume},
    {"journey", "exit", "NAME", "end a contact's active entry (nothing more is sent)", 1, 1,
     exit_opts, jrn_cmd_exit},
};

static int jrn_init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    if (!CRM_API_HAS(ctx, subscribe_from_start) || !CRM_API_HAS(ctx, set_data)) {
        crm_set_error(ctx, "this crm's plugin API is older than 1.3 (timers, tasks, data slot)");
        return CRM_EPLUGIN;
    }
    jrn_state *s = calloc(1, sizeof *s);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    crm_set_data(ctx, s);
    int rc = jrn_schema_register(ctx);
    if (rc == CRM_OK)
        rc = crm_declare_config_schema(ctx, jrn_config_schema); /* config.c */
    for (size_t i = 0; rc == CRM_OK && i < sizeof commands / sizeof commands[0]; i++)
        rc = crm_register_command_table(ctx, &commands[i]);
    /* every event: triggers and goals are configuration, read at start */
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "*", 1, jrn_on_event, NULL);
    if (rc == CRM_OK)
        rc = crm_register_timer_handler(ctx, jrn_on_timer, NULL);
    if (rc == CRM_OK)
        rc = crm_register_demo(ctx, jrn_demo);
    if (rc == CRM_OK)
        rc = jrn_privacy_register(ctx);
    if (rc != CRM_OK && !crm_last_error(ctx)[0])
        crm_set_error(ctx, "registration failed");
    return rc;
}

static int jrn_start(crm_plugin_ctx *ctx)
{
    return jrn_config_load(ctx);
}

static void jrn_fini(crm_plugin_ctx *ctx)
{
    jrn_state *s = JRN(ctx);
    jrn_config_free(s);
    free(s);
    crm_set_data(ctx, NULL);
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "journeys",
    .version = "0.1.0",
    .description = "automation journeys: abandoned carts by profile, post-purchase, win-back",
    .requires = NULL,
    .init = jrn_init,
    .start = jrn_start,
    .fini = jrn_fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
{
    return &descriptor;
}

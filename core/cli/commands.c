/* Every kernel command group, in the order `crm --help` lists them. */
#include "cli.h"

const crm_command *const crm_cli_groups[] = {
    crm_cli_init_cmds,
    crm_cli_contact_cmds,
    crm_cli_privacy_cmds,
    crm_cli_dedupe_cmds,
    crm_cli_audit_cmds,
    crm_cli_company_cmds,
    crm_cli_order_cmds,
    crm_cli_cart_cmds,
    crm_cli_interaction_cmds,
    crm_cli_task_cmds,
    crm_cli_consent_cmds,
    crm_cli_user_cmds,
    crm_cli_event_cmds,
    crm_cli_rules_cmds,
    crm_cli_calendar_cmds,
    crm_cli_timer_cmds,
    crm_cli_channel_cmds,
    crm_cli_template_cmds,
    crm_cli_message_cmds,
    crm_cli_webhook_cmds,
    crm_cli_token_cmds,
    crm_cli_serve_cmds,
    crm_cli_plugin_cmds,
    crm_cli_import_cmds,
    crm_cli_export_cmds,
    crm_cli_demo_cmds,
    NULL,
};

const crm_cli_topic crm_cli_topics[] = {
    {"rules", crm_cli_rules_topic},
    {NULL, NULL},
};

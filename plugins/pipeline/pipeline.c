/* pipeline plugin — leads, deals with stage history, forecasts, quotes and
 * follow-ups (issue 14).
 *
 * This file is the plugin itself: its descriptor (the one exported symbol)
 * and init, with every registration in one place: migrations (schema.c),
 * the structured config schema (config.c), the option tables of
 * `crm deal|lead|quote <verb>` and `crm pipeline <verb>`, the timer handler
 * and activity subscriptions (events.c), Lua functions, personal data
 * (privacy.c) and the demo hook. Its state lives in the context's data slot. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* ---- option tables ------------------------------------------------------------- */

static const crm_option deal_add_opts[] = {
    {"title", CRM_OPTION_STRING, 1, "T", "what is being sold"},
    {"contact", CRM_OPTION_STRING, 1, "ID", "the contact the deal is with"},
    {"company", CRM_OPTION_STRING, 0, "ID", "the company the deal is with"},
    {"amount", CRM_OPTION_MONEY, 1, "AMOUNT", "value, e.g. 1200.00 (minor units are stored)"},
    {"currency", CRM_OPTION_STRING, 0, "CUR", "ISO 4217 code (default: the pipeline's)"},
    {"pipeline", CRM_OPTION_STRING, 0, "P", "pipeline (default: the first configured)"},
    {"stage", CRM_OPTION_STRING, 0, "S", "open stage (default: the pipeline's first)"},
    {"close-date", CRM_OPTION_DATE, 0, "DATE", "expected close date"},
    {"owner", CRM_OPTION_STRING, 0, "USER", "owner (default: round-robin over users)"},
    {"probability", CRM_OPTION_INT, 0, "N", "override of the stage's probability, 0-100"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option deal_lose_opts[] = {
    {"reason", CRM_OPTION_STRING, 1, "R", "one of pipeline.lost_reasons"},
    {"note", CRM_OPTION_STRING, 0, "TEXT", "free text kept with the reason"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option deal_update_opts[] = {
    {"amount", CRM_OPTION_MONEY, 0, "AMOUNT", "new value"},
    {"close-date", CRM_OPTION_DATE, 0, "DATE", "new expected close date"},
    {"owner", CRM_OPTION_STRING, 0, "USER", "new owner"},
    {"probability", CRM_OPTION_INT, 0, "N", "override, kept until the stage changes"},
    {"category", CRM_OPTION_STRING, 0, "C", "forecast category override"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option deal_list_opts[] = {
    {"pipeline", CRM_OPTION_STRING, 0, "P", "only this pipeline"},
    {"stage", CRM_OPTION_STRING, 0, "S", "only this stage"},
    {"owner", CRM_OPTION_STRING, 0, "USER", "only this owner"},
    {"status", CRM_OPTION_STRING, 0, "open|won|lost", "only this status"},
    {"stalled", CRM_OPTION_FLAG, 0, NULL, "only stalled deals"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option forecast_opts[] = {
    {"pipeline", CRM_OPTION_STRING, 0, "P", "pipeline (default: the first)"},
    {"from", CRM_OPTION_DATE, 1, "DATE", "first close date of the period"},
    {"to", CRM_OPTION_DATE, 1, "DATE", "last close date of the period"},
    {"by", CRM_OPTION_STRING, 0, "owner|stage|category|month", "grouping"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option board_opts[] = {
    {"pipeline", CRM_OPTION_STRING, 0, "P", "pipeline (default: the first)"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_option stats_opts[] = {
    {"pipeline", CRM_OPTION_STRING, 0, "P", "pipeline (default: the first)"},
    {"from", CRM_OPTION_DATE, 0, "DATE", "first day of the period (default: all time)"},
    {"to", CRM_OPTION_DATE, 0, "DATE", "last day of the period (default: now)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option diff_opts[] = {
    {"pipeline", CRM_OPTION_STRING, 0, "P", "pipeline (default: the first)"},
    {"from", CRM_OPTION_DATE, 1, "DATE", "the snapshot at or before this day"},
    {"to", CRM_OPTION_DATE, 1, "DATE", "against the snapshot at or before this day"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_option quote_add_opts[] = {
    {"deal", CRM_OPTION_STRING, 1, "ID", "the open deal quoted"},
    {"line", CRM_OPTION_STRING, 1, "SKU:QTY:UNIT_PRICE[:VAT%]",
     "the first line (VAT absent: quotes.default_vat); further lines follow as arguments"},
    {"discount", CRM_OPTION_STRING, 0, "PCT", "discount on every line, e.g. 10 or 7.5"},
    {"valid-for", CRM_OPTION_STRING, 0, "DURATION", "validity (default: quotes.valid_for)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option quote_decline_opts[] = {
    {"reason", CRM_OPTION_STRING, 1, "R", "why the customer declined"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_option lead_add_opts[] = {
    {"name", CRM_OPTION_STRING, 1, "NAME", "the person, \"First Last\""},
    {"email", CRM_OPTION_STRING, 0, "EMAIL", "checked by the kernel at conversion"},
    {"phone", CRM_OPTION_STRING, 0, "PHONE", "any national or E.164 form"},
    {"company", CRM_OPTION_STRING, 0, "NAME", "the company (created at conversion when new)"},
    {"source", CRM_OPTION_STRING, 0, "TEXT", "where the lead came from"},
    {"notes", CRM_OPTION_STRING, 0, "TEXT", "free text"},
    {"owner", CRM_OPTION_STRING, 0, "USER", "owner (default: round-robin over users)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option lead_update_opts[] = {
    {"name", CRM_OPTION_STRING, 0, "NAME", "the person, \"First Last\""},
    {"email", CRM_OPTION_STRING, 0, "EMAIL", "checked by the kernel at conversion"},
    {"phone", CRM_OPTION_STRING, 0, "PHONE", "any national or E.164 form"},
    {"company", CRM_OPTION_STRING, 0, "NAME", "the company"},
    {"source", CRM_OPTION_STRING, 0, "TEXT", "where the lead came from"},
    {"notes", CRM_OPTION_STRING, 0, "TEXT", "free text"},
    {"owner", CRM_OPTION_STRING, 0, "USER", "owner"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option lead_list_opts[] = {
    {"status", CRM_OPTION_STRING, 0, "new|qualified|disqualified|converted", "only this status"},
    {"sort", CRM_OPTION_STRING, 0, "id|score", "order (score: highest first, unscored last)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option lead_disqualify_opts[] = {
    {"reason", CRM_OPTION_STRING, 1, "R", "why the lead is not worth pursuing"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option lead_convert_opts[] = {
    {"deal-title", CRM_OPTION_STRING, 0, "T", "the deal's title (default: company, else name)"},
    {"amount", CRM_OPTION_MONEY, 0, "AMOUNT", "the deal's value (default 0)"},
    {"pipeline", CRM_OPTION_STRING, 0, "P", "pipeline (default: the first configured)"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_option lead_erase_opts[] = {
    {"reason", CRM_OPTION_STRING, 1, "R", "why (the person's request, ...)"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_command_spec commands[] = {
    {"lead", "erase", "ID", "forget a lead that never became a contact", 1, 1, lead_erase_opts,
     pl_cmd_lead_erase},
    {"lead", "add", NULL, "add a lead; prints its id", 0, 0, lead_add_opts, pl_cmd_lead_add},
    {"lead", "list", NULL, "leads, by id", 0, 0, lead_list_opts, pl_cmd_lead_list},
    {"lead", "show", "ID", "one lead", 1, 1, NULL, pl_cmd_lead_show},
    {"lead", "update", "ID", "change a lead's fields (its score is recomputed)", 1, 1,
     lead_update_opts, pl_cmd_lead_update},
    {"lead", "qualify", "ID", "the lead is worth pursuing", 1, 1, NULL, pl_cmd_lead_qualify},
    {"lead", "disqualify", "ID", "the lead is not worth pursuing, with a reason", 1, 1,
     lead_disqualify_opts, pl_cmd_lead_disqualify},
    {"lead", "convert", "ID", "create (or link) the contact and company, open a deal", 1, 1,
     lead_convert_opts, pl_cmd_lead_convert},
    {"quote", "add", "[SKU:QTY:UNIT_PRICE[:VAT%]...]", "quote a deal; prints the quote's id", 0,
     PL_QUOTE_MAX_LINES - 1, quote_add_opts, pl_cmd_quote_add},
    {"quote", "show", "ID", "one quote: lines, net, VAT by rate, gross", 1, 1, NULL,
     pl_cmd_quote_show},
    {"quote", "send", "ID", "send a draft quote through the outbox (template quote)", 1, 1, NULL,
     pl_cmd_quote_send},
    {"quote", "accept", "ID", "accepted: wins the deal, creates the order", 1, 1, NULL,
     pl_cmd_quote_accept},
    {"quote", "decline", "ID", "declined by the customer, with a reason", 1, 1,
     quote_decline_opts, pl_cmd_quote_decline},
    {"deal", "add", NULL, "add a deal; prints its id", 0, 0, deal_add_opts, pl_cmd_deal_add},
    {"deal", "move", "ID STAGE", "move a deal to another stage", 2, 2, NULL, pl_cmd_deal_move},
    {"deal", "win", "ID", "the deal is won", 1, 1, NULL, pl_cmd_deal_win},
    {"deal", "lose", "ID", "the deal is lost, with a reason", 1, 1, deal_lose_opts,
     pl_cmd_deal_lose},
    {"deal", "reopen", "ID", "reopen a won or lost deal in the stage it left", 1, 1, NULL,
     pl_cmd_deal_reopen},
    {"deal", "update", "ID", "change amount, close date, owner, probability, category", 1, 1,
     deal_update_opts, pl_cmd_deal_update},
    {"deal", "list", NULL, "deals, filtered", 0, 0, deal_list_opts, pl_cmd_deal_list},
    {"deal", "show", "ID", "one deal with expected value and time in stage", 1, 1, NULL,
     pl_cmd_deal_show},
    {"deal", "history", "ID", "every recorded change of the deal", 1, 1, NULL,
     pl_cmd_deal_history},
    {NULL, "forecast", NULL, "open deals closing in a period, weighted, by category", 0, 0,
     forecast_opts, pl_cmd_forecast},
    {NULL, "board", NULL, "the stages as columns with counts and sums", 0, 0, board_opts,
     pl_cmd_board},
    {NULL, "stats", NULL, "per stage: entered, advanced, conversion, win rate, time in stage",
     0, 0, stats_opts, pl_cmd_stats},
    {NULL, "snapshot", NULL, "record the open pipeline now; prints the snapshot's id", 0, 0,
     NULL, pl_cmd_snapshot},
    {NULL, "diff", NULL, "what changed between two snapshots: new, won, lost, slipped...", 0, 0,
     diff_opts, pl_cmd_diff},
};

static int register_commands(crm_plugin_ctx *ctx)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof commands / sizeof commands[0]; i++)
        rc = crm_register_command_table(ctx, &commands[i]);
    return rc;
}

/* Activity on a contact clears its deals' stalled flag. */
static int subscribe(crm_plugin_ctx *ctx)
{
    int rc = crm_subscribe(ctx, "interaction.logged", 1, pl_on_activity, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "task.completed", 1, pl_on_activity, NULL);
    return rc;
}

/* The SDK entries this plugin cannot work without. */
static int check_host(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, set_data) || !CRM_API_HAS(ctx, schedule) ||
        !CRM_API_HAS(ctx, task_add_json) || !CRM_API_HAS(ctx, declare_personal_data) ||
        !CRM_API_HAS(ctx, order_add_json)) {
        crm_set_error(ctx, "this crm's plugin API is older than 1.3 sdkwrites");
        return CRM_EPLUGIN;
    }
    pl_state *s = calloc(1, sizeof *s);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    crm_set_data(ctx, s);
    return CRM_OK;
}

static int pl_init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    int rc = check_host(ctx);
    if (rc == CRM_OK)
        rc = pl_schema_register(ctx);
    if (rc == CRM_OK)
        rc = crm_declare_config_schema(ctx, pl_config_schema);
    if (rc == CRM_OK)
        rc = register_commands(ctx);
    if (rc == CRM_OK)
        rc = subscribe(ctx);
    if (rc == CRM_OK)
        rc = crm_register_timer_handler(ctx, pl_on_timer, NULL);
    if (rc == CRM_OK)
        rc = pl_privacy_register(ctx);
    if (rc == CRM_OK)
        rc = crm_register_demo(ctx, pl_demo);
    if (rc == CRM_OK)
        rc = pl_lua_register(ctx); /* lua_fns.c */
    if (rc == CRM_OK)
        rc = pl_routes_register(ctx);
    if (rc != CRM_OK && !crm_last_error(ctx)[0])
        crm_set_error(ctx, "registration failed");
    return rc;
}

static int pl_start(crm_plugin_ctx *ctx)
{
    return pl_config_load(ctx);
}

static void pl_fini(crm_plugin_ctx *ctx)
{
    free(crm_get_data(ctx));
    crm_set_data(ctx, NULL);
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "pipeline",
    .version = "0.1.0",
    .description = "leads, deals with stage history, forecasts, quotes and follow-ups",
    .requires = NULL,
    .init = pl_init,
    .start = pl_start,
    .stop = NULL,
    .fini = pl_fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
{
    return &descriptor;
}

/* loyalty plugin — a points ledger that never lies, tiers, a VIP club,
 * rewards beyond discounts, referrals (issue 16).
 *
 * This file is the plugin itself: its descriptor (the one exported symbol)
 * and init, with every registration in one place — migrations (schema.c),
 * the structured config (config.c), the `crm loyalty <verb>` option tables
 * (loyalty_cmd.c), the durable order subscriptions and the timer handler
 * (events.c), personal data (privacy.c) and the demo hook (demo.c). State
 * lives in the context's data slot. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

#define OPT_END {NULL, 0, 0, NULL, NULL}

static const crm_option earn_opts[] = {
    {"points", CRM_OPTION_INT, 1, "N", "points to add (approved at once)"},
    {"reason", CRM_OPTION_STRING, 1, "TEXT", "why (shown in the history)"},
    {"key", CRM_OPTION_STRING, 1, "KEY", "idempotency key: the same key never earns twice"},
    OPT_END,
};
static const crm_option adjust_opts[] = {
    {"points", CRM_OPTION_INT, 1, "N", "points to add (> 0) or take back FIFO (< 0)"},
    {"reason", CRM_OPTION_STRING, 1, "TEXT", "why (shown in the history)"},
    {"key", CRM_OPTION_STRING, 1, "KEY", "idempotency key (an adjustment id)"},
    OPT_END,
};
static const crm_option redeem_opts[] = {
    {"key", CRM_OPTION_STRING, 0, "KEY", "idempotency key: the same key redeems once"},
    OPT_END,
};
static const crm_option refund_opts[] = {
    {"amount", CRM_OPTION_MONEY, 1, "AMOUNT", "the part of the order refunded (\"20.00 EUR\")"},
    {"key", CRM_OPTION_STRING, 1, "KEY", "idempotency key of this refund (a return id): the "
     "same key reverses once"},
    OPT_END,
};
static const crm_option refer_opts[] = {
    {"code", CRM_OPTION_STRING, 1, "CODE", "the referrer's referral code"},
    OPT_END,
};
static const crm_option referrals_opts[] = {
    {"suspicious", CRM_OPTION_FLAG, 0, NULL, "only the refused ones, with the fraud check"},
    OPT_END,
};

static const crm_command_spec commands[] = {
    {NULL, "balance", "CONTACT", "approved, pending, spent, expired, lifetime, tier and what "
     "keeps or lifts it", 1, 1, NULL, loy_cmd_balance},
    {NULL, "history", "CONTACT", "every ledger entry with its lot", 1, 1, NULL, loy_cmd_history},
    {NULL, "earn", "CONTACT", "add points by hand, once per --key", 1, 1, earn_opts, loy_cmd_earn},
    {NULL, "adjust", "CONTACT", "correct a balance up or down, once per --key", 1, 1, adjust_opts,
     loy_cmd_adjust},
    {NULL, "redeem", "CONTACT REWARD", "spend points on a reward (balance, tier, VIP, stock, "
     "limit checked)", 2, 2, redeem_opts, loy_cmd_redeem},
    {NULL, "refund", "ORDER", "reverse an order's points for a partial refund, proportionally",
     1, 1, refund_opts, loy_cmd_refund},
    {NULL, "join", "CONTACT", "enrol a contact (programs with auto_enrol: false)", 1, 1, NULL,
     loy_cmd_join},
    {NULL, "refer", "REFEREE", "record that REFEREE came with a referral code", 1, 1, refer_opts,
     loy_cmd_refer},
    {NULL, "referrals", NULL, "referrals with their status and fraud reason", 0, 0,
     referrals_opts, loy_cmd_referrals},
    {NULL, "rewards", NULL, "the catalogue with redemptions and stock left", 0, 0, NULL,
     loy_cmd_rewards},
    {NULL, "vip", NULL, "the VIP club's members (top spenders) as of --as-of", 0, 0, NULL,
     loy_cmd_vip},
    {NULL, "report", NULL, "members per tier, points per month, liability, breakage, "
     "redemptions, repurchase", 0, 0, NULL, loy_cmd_report},
    {NULL, "check", NULL, "verify the ledger's invariants (exit 1 when one breaks)", 0, 0, NULL,
     loy_cmd_check},
};

static int register_commands(crm_plugin_ctx *ctx)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof commands / sizeof commands[0]; i++)
        rc = crm_register_command_table(ctx, &commands[i]);
    return rc;
}

/* Durable from the first event: a base that enables loyalty catches up on
 * its order history; the keys make a replay earn nothing twice. */
static int subscribe(crm_plugin_ctx *ctx)
{
    /* one subscriber for all order events: one cursor keeps an order's events in order */
    int rc = crm_subscribe_from_start(ctx, "order.*", loy_on_order, NULL);
    if (rc == CRM_OK)
        rc = crm_register_timer_handler(ctx, loy_on_timer, NULL);
    return rc;
}

static int loy_init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    if (!CRM_API_HAS(ctx, subscribe_from_start)) {
        crm_set_error(ctx, "this crm's plugin API is older than 1.3 (sdkwrites): loyalty needs "
                           "data slots, timers and subscribe_from_start");
        return CRM_EPLUGIN;
    }
    loy_state *s = calloc(1, sizeof *s);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    crm_set_data(ctx, s);
    int rc = loy_schema_register(ctx);
    if (rc == CRM_OK)
        rc = crm_declare_config_schema(ctx, loy_config_schema);
    if (rc == CRM_OK)
        rc = register_commands(ctx);
    if (rc == CRM_OK)
        rc = subscribe(ctx);
    if (rc == CRM_OK)
        rc = crm_register_demo(ctx, loy_demo);
    if (rc == CRM_OK)
        rc = loy_privacy_register(ctx);
    if (rc == CRM_OK)
        rc = loy_routes_register(ctx); /* http_routes.c */
    if (rc != CRM_OK && !crm_last_error(ctx)[0])
        crm_set_error(ctx, "registration failed");
    return rc;
}

static int loy_start(crm_plugin_ctx *ctx)
{
    return loy_config_load(ctx);
}

static void loy_fini(crm_plugin_ctx *ctx)
{
    if (crm_get_data(ctx))
        loy_stmt_cache_free(ctx);
    free(crm_get_data(ctx));
    crm_set_data(ctx, NULL);
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "loyalty",
    .version = "0.1.0",
    .description = "points ledger with lots, tiers, VIP club, rewards, referrals, liability",
    .requires = NULL,
    .init = loy_init,
    .start = loy_start,
    .stop = NULL,
    .fini = loy_fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
{
    return &descriptor;
}

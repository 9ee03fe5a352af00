/* segmentation plugin — RFM scores, rule segments, churn risk, metrics.
 *
 * The reference layout for plugins (seg_int.h maps the files): this file is
 * the plugin itself, its descriptor (the one exported symbol) and init, with
 * every registration in one place: the migrations (schema.c), the
 * structured config schema (config.c), the command option tables of
 * `crm rfm|segment|churn <verb>` and `crm metrics`, the durable event
 * subscriptions (events.c), the `crm demo` headline and the contact set
 * provider. Its state lives in the context's data slot. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* ---- commands: `crm rfm|segment|churn <verb>` and `crm metrics` -------------
 * The host parses argv against these tables: unknown options exit 2 with
 * the nearest one, and --help is printed from them. */

static const crm_option rfm_list_opts[] = {
    {"segment", CRM_OPTION_STRING, 0, "SLUG", "only the contacts of this RFM grid segment"},
    {"fresh", CRM_OPTION_FLAG, 0, NULL, "compute as of --as-of now instead of the stored scores"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option segment_explain_opts[] = {
    {"contact", CRM_OPTION_STRING, 1, "CONTACT", "id, external id or email of the contact"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option segment_diff_opts[] = {
    {"rule", CRM_OPTION_STRING, 0, "FILE|FILE.lua:FN|RULE",
     "the changed rule: a condition file, a Lua function or a rules: name"},
    {"where", CRM_OPTION_STRING, 0, "COND", "the changed rule as a condition"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option churn_list_opts[] = {
    {"min-score", CRM_OPTION_INT, 0, "S", "only scores of at least S (default 1)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option metrics_opts[] = {
    {"period-days", CRM_OPTION_INT, 0, "N", "the period repurchase and churn look at (default 90)"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_command_spec commands[] = {
    {"rfm", "refresh", NULL, "recompute every RFM score as of T, store the cut points", 0, 0,
     NULL, seg_cmd_rfm_refresh},
    {"rfm", "list", NULL, "one line (or JSON object) per scored contact", 0, 0, rfm_list_opts,
     seg_cmd_rfm_list},
    {"rfm", "show", "CONTACT", "one contact's metrics, scores, cut points and segment", 1, 1,
     NULL, seg_cmd_rfm_show},
    {"rfm", "grid", NULL, "the 5x5 R x F matrix, each segment's share of customers and revenue",
     0, 0, NULL, seg_cmd_rfm_grid},
    {"segment", "list", NULL, "every segment (rfm, rule, lua, static) with its member count", 0,
     0, NULL, seg_cmd_segment_list},
    {"segment", "members", "NAME", "the current members of a segment", 1, 1, NULL,
     seg_cmd_segment_members},
    {"segment", "history", "NAME", "every membership with entered_at and left_at", 1, 1, NULL,
     seg_cmd_segment_history},
    {"segment", "refresh", "[NAME]", "re-evaluate rule and Lua segments as of T", 0, 1, NULL,
     seg_cmd_segment_refresh},
    {"segment", "explain", "NAME", "which conditions held (or the Lua reasons)", 1, 1,
     segment_explain_opts, seg_cmd_segment_explain},
    {"segment", "diff", "NAME", "dry run of a changed rule: who would enter and leave; changes "
     "nothing", 1, 1, segment_diff_opts, seg_cmd_segment_diff},
    {"segment", "add", "NAME CONTACT...", "add contacts to a static segment", 2, 64, NULL,
     seg_cmd_segment_add},
    {"segment", "remove", "NAME CONTACT...", "remove contacts from a static segment", 2, 64,
     NULL, seg_cmd_segment_remove},
    {"churn", "refresh", NULL, "score every contact with orders; emits churn.risk_raised", 0, 0,
     NULL, seg_cmd_churn_refresh},
    {"churn", "list", NULL, "stored churn scores with their reasons", 0, 0, churn_list_opts,
     seg_cmd_churn_list},
    {"churn", "show", "CONTACT", "one contact's churn score, computed now, with its reasons", 1,
     1, NULL, seg_cmd_churn_show},
    {"metrics", NULL, NULL, "portfolio metrics: customers, repurchase, AOV, LTV, churn, Pareto",
     0, 0, metrics_opts, seg_cmd_metrics},
};

static int register_commands(crm_plugin_ctx *ctx)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof commands / sizeof commands[0]; i++)
        rc = crm_register_command_table(ctx, &commands[i]);
    return rc;
}

static int subscribe(crm_plugin_ctx *ctx)
{
    static const char *const order_events[] = {"order.placed", "order.paid", "order.cancelled",
                                               "order.refunded"};
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < 4; i++)
        rc = crm_subscribe(ctx, order_events[i], 1, seg_on_order, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "contact.*", 1, seg_on_contact, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "interaction.*", 1, seg_on_contact, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "consent.*", 1, seg_on_contact, NULL);
    return rc;
}

/* The state lives in the context's data slot (SDK 1.3): no globals. */
static int make_state(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, set_data)) {
        crm_set_error(ctx, "this crm's plugin API is older than 1.3 (no data slot)");
        return CRM_EPLUGIN;
    }
    seg_state *s = calloc(1, sizeof *s);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    crm_set_data(ctx, s);
    return CRM_OK;
}

static int seg_init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    int rc = make_state(ctx);
    if (rc == CRM_OK)
        rc = seg_schema_register(ctx);
    if (rc == CRM_OK)
        rc = crm_declare_config_schema(ctx, seg_config_schema); /* config.c */
    if (rc == CRM_OK)
        rc = register_commands(ctx);
    if (rc == CRM_OK)
        rc = subscribe(ctx);
    if (rc == CRM_OK && CRM_API_HAS(ctx, register_demo)) /* SDK 1.3 */
        rc = crm_register_demo(ctx, seg_demo);
    /* SDK 1.3: `crm contact list --segment NAME` and `crm export contacts --segment NAME` */
    if (rc == CRM_OK && CRM_API_HAS(ctx, register_contact_set))
        rc = crm_register_contact_set(ctx, "RFM, rule, Lua and static segments (current members)",
                                      seg_contact_set, NULL);
    /* scores and memberships are the person's derived data: export, erase */
    static const char *const personal[] = {"segmentation_rfm", "segmentation_members",
                                           "segmentation_churn"};
    for (size_t i = 0; rc == CRM_OK && i < 3 && CRM_API_HAS(ctx, declare_personal_data); i++)
        rc = crm_declare_personal_data(ctx, personal[i], "contact_id");
    if (rc == CRM_OK)
        rc = seg_routes_register(ctx); /* http_routes.c */
    if (rc != CRM_OK && !crm_last_error(ctx)[0])
        crm_set_error(ctx, "registration failed");
    return rc;
}

static int seg_start(crm_plugin_ctx *ctx)
{
    SEG(ctx)->cuts_refresh = 0;
    return seg_config_load(ctx);
}

static void seg_stop(crm_plugin_ctx *ctx)
{
    seg_finalize_cached(ctx);
}

static void seg_fini(crm_plugin_ctx *ctx)
{
    seg_state *s = SEG(ctx);
    if (s)
        free(s->rules);
    free(s);
    crm_set_data(ctx, NULL);
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "segmentation",
    .version = "0.2.0",
    .description = "RFM scores, rule segments with history, churn risk and portfolio metrics",
    .requires = NULL,
    .init = seg_init,
    .start = seg_start,
    .stop = seg_stop,
    .fini = seg_fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
{
    return &descriptor;
}

/* ticketing plugin — helpdesk: tickets with their conversation on the
 * contact's timeline, live SLA clocks on business calendars, routing, CSAT
 * surveys, the complaint process and a knowledge base.
 *
 * This file is the plugin itself: its descriptor (the one exported symbol)
 * and init, with every registration in one place (tk_int.h maps the other
 * files). Its state lives in the context's data slot. */
#include <stdlib.h>

#include "tk_int.h"

/* ---- option tables: the host parses, refuses and prints --help ---- */

static const crm_option open_opts[] = {
    {"contact", CRM_OPTION_INT, 1, "ID", "the contact who asks"},
    {"subject", CRM_OPTION_STRING, 1, "S", "one line"},
    {"description", CRM_OPTION_STRING, 0, "D", "the customer's first message"},
    {"priority", CRM_OPTION_STRING, 0, "P", "low|normal|high|urgent (default normal)"},
    {"type", CRM_OPTION_STRING, 0, "T", "question|incident|problem|request|complaint"},
    {"channel", CRM_OPTION_STRING, 0, "C", "email|phone|web|chat (default email)"},
    {"team", CRM_OPTION_STRING, 0, "T", "the team (default: the first of ticketing.teams)"},
    {"tag", CRM_OPTION_STRING, 0, "X[,Y]", "tags (comma-separated)"},
    {"assignee", CRM_OPTION_STRING, 0, "U", "assign to U instead of routing"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option reply_opts[] = {
    {"body", CRM_OPTION_STRING, 1, "B", "the message"},
    {"as", CRM_OPTION_STRING, 0, "customer|agent", "who writes (default agent)"},
    {"author", CRM_OPTION_STRING, 0, "U", "the agent's or sender's name"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option note_opts[] = {
    {"body", CRM_OPTION_STRING, 1, "B", "the internal note"},
    {"author", CRM_OPTION_STRING, 0, "U", "who writes it"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option assign_opts[] = {
    {"user", CRM_OPTION_STRING, 0, "U", "the agent"},
    {"team", CRM_OPTION_STRING, 0, "T", "the team (routed within it when --user is absent)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option list_opts[] = {
    {"status", CRM_OPTION_STRING, 0, "S", "only this status"},
    {"assignee", CRM_OPTION_STRING, 0, "U", "only this agent's"},
    {"team", CRM_OPTION_STRING, 0, "T", "only this team's"},
    {"priority", CRM_OPTION_STRING, 0, "P", "only this priority"},
    {"breached", CRM_OPTION_FLAG, 0, NULL, "only tickets with a breached clock"},
    {"sort", CRM_OPTION_STRING, 0, "sla|id", "sla: the nearest deadline first"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option due_opts[] = {
    {"at", CRM_OPTION_DATE, 0, "DATE", "the resolution deadline, overriding the policy's"},
    {"clear", CRM_OPTION_FLAG, 0, NULL, "back to the policy's deadline"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option rate_opts[] = {
    {"score", CRM_OPTION_INT, 1, "N", "1 to 5"},
    {"comment", CRM_OPTION_STRING, 0, "C", "the customer's words"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option nps_rate_opts[] = {
    {"score", CRM_OPTION_INT, 1, "N", "0 to 10 (9-10 promoter, 0-6 detractor)"},
    {"comment", CRM_OPTION_STRING, 0, "C", "the customer's words"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option team_opts[] = {
    {"team", CRM_OPTION_STRING, 0, "T", "only this team's"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option recompute_opts[] = {
    {"ticket", CRM_OPTION_INT, 0, "ID", "only this ticket"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option agent_opts[] = {
    {"team", CRM_OPTION_STRING, 0, "T", "the agent's team"},
    {"skills", CRM_OPTION_STRING, 0, "A,B", "tags the agent covers"},
    {"calendar", CRM_OPTION_STRING, 0, "NAME", "the agent's hours (routing skips them outside)"},
    {"capacity", CRM_OPTION_INT, 0, "N", "most open tickets at once (0: no limit)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option period_opts[] = {
    {"from", CRM_OPTION_DATE, 0, "DATE", "from this date (received/opened)"},
    {"to", CRM_OPTION_DATE, 0, "DATE", "before this date"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option report_opts[] = {
    {"from", CRM_OPTION_DATE, 0, "DATE", "tickets opened (NPS answered) from this date"},
    {"to", CRM_OPTION_DATE, 0, "DATE", "before this date"},
    {"by", CRM_OPTION_STRING, 0, "team|agent|priority", "the ticket figures per group too"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option respond_opts[] = {
    {"body", CRM_OPTION_STRING, 1, "B", "the answer (the mediator's details are appended)"},
    {"outcome", CRM_OPTION_STRING, 0, "O", "upheld|partly_upheld|rejected (default upheld)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option kb_opts[] = {
    {"title", CRM_OPTION_STRING, 0, "T", "the article's title (required for add)"},
    {"body", CRM_OPTION_STRING, 0, "MARKDOWN", "the article (required for add)"},
    {"tags", CRM_OPTION_STRING, 0, "A,B", "tags"},
    {"status", CRM_OPTION_STRING, 0, "S", "draft|published (default published)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option kb_add_opts[] = {
    {"title", CRM_OPTION_STRING, 1, "T", "the article's title"},
    {"body", CRM_OPTION_STRING, 1, "MARKDOWN", "the article"},
    {"tags", CRM_OPTION_STRING, 0, "A,B", "tags"},
    {"status", CRM_OPTION_STRING, 0, "S", "draft|published (default published)"},
    {NULL, 0, 0, NULL, NULL},
};
static const crm_option search_opts[] = {
    {"limit", CRM_OPTION_INT, 0, "N", "at most N articles (default 10)"},
    {NULL, 0, 0, NULL, NULL},
};

static const crm_command_spec commands[] = {
    {"ticket", "open", NULL, "open a ticket; prints its id", 0, 0, open_opts, tk_cmd_open},
    {"ticket", "reply", "ID", "add a message (agent by default, --as customer)", 1, 1, reply_opts,
     tk_cmd_reply},
    {"ticket", "note", "ID", "add an internal note", 1, 1, note_opts, tk_cmd_note},
    {"ticket", "assign", "ID", "assign to a user or a team", 1, 1, assign_opts, tk_cmd_assign},
    {"ticket", "status", "ID STATUS", "set the status (open, pending, on_hold, solved, closed)",
     2, 2, NULL, tk_cmd_status},
    {"ticket", "solve", "ID", "mark solved (closes after close_after, survey after survey_after)",
     1, 1, NULL, tk_cmd_solve},
    {"ticket", "reopen", "ID", "reopen a solved ticket", 1, 1, NULL, tk_cmd_reopen},
    {"ticket", "list", NULL, "tickets, filtered", 0, 0, list_opts, tk_cmd_list},
    {"ticket", "show", "ID", "a ticket, its clocks and its conversation", 1, 1, NULL, tk_cmd_show},
    {"ticket", "due", "ID", "override (or --clear) the resolution deadline", 1, 1, due_opts,
     tk_cmd_due},
    {"ticket", "rate", "ID", "record the customer's CSAT answer", 1, 1, rate_opts, tk_cmd_rate},
    {"ticket", "queue", NULL, "what to pick next: open tickets by time left before breach", 0, 0,
     team_opts, tk_cmd_queue},
    {"ticket", "suggest", "ID", "knowledge-base articles for the ticket", 1, 1, NULL,
     tk_cmd_suggest},
    {"sla", "show", "TICKET", "each clock explained: what started, paused and stopped it", 1, 1,
     NULL, tk_cmd_sla_show},
    {"sla", "recompute", NULL, "recompute clocks and timers from history (after a config change)",
     0, 0, recompute_opts, tk_cmd_sla_recompute},
    {"agent", "set", "U", "an agent's team, skills, calendar and capacity", 1, 1, agent_opts,
     tk_cmd_agent_set},
    {"complaint", "register", NULL, "every complaint with its deadlines kept or missed", 0, 0,
     period_opts, tk_cmd_complaint_register},
    {"complaint", "escalate", "ID", "level 2: the customer refers it to the mediator (90 days)",
     1, 1, NULL, tk_cmd_complaint_escalate},
    {"complaint", "respond", "ID", "the final answer, naming the mediator; solves the ticket", 1,
     1, respond_opts, tk_cmd_complaint_respond},
    {"kb", "add", NULL, "add an article; prints its id", 0, 0, kb_add_opts, tk_cmd_kb_add},
    {"kb", "update", "ID", "change an article", 1, 1, kb_opts, tk_cmd_kb_update},
    {"kb", "show", "ID", "one article", 1, 1, NULL, tk_cmd_kb_show},
    {"kb", "search", "QUERY", "published articles ranked (accents folded)", 1, 1, search_opts,
     tk_cmd_kb_search},
    {"nps", "rate", "CONTACT", "record the contact's NPS answer (0-10)", 1, 1, nps_rate_opts,
     tk_cmd_nps_rate},
    {"helpdesk", "report", NULL, "opened/solved, median reply and resolution, breaches, CSAT, "
     "NPS, backlog", 0, 0, report_opts, tk_cmd_report},
};

static int register_commands(crm_plugin_ctx *ctx)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof commands / sizeof commands[0]; i++)
        rc = crm_register_command_table(ctx, &commands[i]);
    return rc;
}

static int tk_init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    if (!CRM_API_HAS(ctx, calendar_between)) {
        crm_set_error(ctx, "this crm's plugin API is older than 1.3: ticketing (no "
                           "calendar_between)");
        return CRM_EPLUGIN;
    }
    tk_state *s = calloc(1, sizeof *s);
    if (!s) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    crm_set_data(ctx, s);
    int rc = tk_schema_register(ctx);
    if (rc == CRM_OK)
        rc = crm_declare_config_schema(ctx, tk_config_schema); /* config.c */
    if (rc == CRM_OK)
        rc = register_commands(ctx);
    if (rc == CRM_OK)
        rc = crm_register_timer_handler(ctx, tk_on_timer, NULL); /* events.c */
    if (rc == CRM_OK)
        rc = crm_register_demo(ctx, tk_demo);
    if (rc == CRM_OK)
        rc = tk_privacy_register(ctx);
    if (rc == CRM_OK)
        rc = tk_routes_register(ctx); /* http_routes.c */
    if (rc != CRM_OK && !crm_last_error(ctx)[0])
        crm_set_error(ctx, "registration failed");
    return rc;
}

static int tk_start(crm_plugin_ctx *ctx)
{
    return tk_config_load(ctx);
}

static void tk_fini(crm_plugin_ctx *ctx)
{
    free(crm_get_data(ctx));
    crm_set_data(ctx, NULL);
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "ticketing",
    .version = "0.1.0",
    .description = "helpdesk: tickets, live SLAs, routing, CSAT, complaints, knowledge base",
    .requires = NULL,
    .init = tk_init,
    .start = tk_start,
    .stop = NULL,
    .fini = tk_fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
{
    return &descriptor;
}

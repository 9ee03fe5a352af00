/* ticketing plugin — private interface shared by its files.
 *
 * Nothing here is exported: the plugin builds with -fvisibility=hidden and
 * exports only crm_plugin_query (ticketing.c). sla.c is the pure
 * computation (no SDK); the other files work through the host API:
 *
 *   ticketing.c    descriptor and init: every registration in one place
 *   schema.c       the ticketing_* tables (numbered migrations)
 *   config.c       the structured crm.yaml schema, read into the state
 *   util.c         SQL helpers, output, JSON, ticket loading
 *   sla.c          the clocks from the history (pure)
 *   clocks.c       the clocks stored, their timers, warning and breach events
 *   ticket.c       ticket writes: open, messages, status, assignment
 *   ticket_cmd.c   crm ticket ...
 *   route.c        assignment: round-robin, least-loaded, skills, calendar, Lua
 *   sla_cmd.c      crm sla show|recompute, crm agent set, crm ticket queue
 *   survey.c       CSAT surveys and answers
 *   nps.c          NPS surveys per contact (0-10), their schedule and answers
 *   complaint.c    the complaint process and its register
 *   kb.c           knowledge base on FTS5, crm kb ..., crm ticket suggest
 *   report.c       crm helpdesk report
 *   events.c       the timer handler: warnings, breaches, auto-close, surveys
 *   privacy.c      personal data for export and erasure
 *   demo.c         the crm demo data and headline
 *   http_routes.c  its crm serve routes (SDK 1.4): the queue, tickets, replies
 *   scope.c        which tickets an agent's requests reach (agent_scope) */
#ifndef TK_INT_H
#define TK_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "crm/http_json.h"
#include "crm/plugin.h"

#include "sla.h"

#define TK_NAME_MAX 64
#define TK_MAX_TEAMS 16
#define TK_MAX_MEMBERS 32
#define TK_MAX_POLICIES 16
#define TK_NPRIORITY 4

/* A team of crm.yaml ticketing.teams. */
typedef struct tk_team {
    char name[TK_NAME_MAX];
    char calendar[TK_NAME_MAX];
    char routing[16];          /* round_robin | least_loaded | skills | lua | none */
    char rule[256];            /* routing lua: a rules: name or FILE:FN returning a user */
    char members[TK_MAX_MEMBERS][TK_NAME_MAX];
    char skills[TK_MAX_MEMBERS][256]; /* comma-separated, per member */
    size_t nmembers;
} tk_team;

/* An SLA policy of ticketing.sla (first match wins). */
typedef struct tk_policy {
    char name[TK_NAME_MAX];
    char calendar[TK_NAME_MAX];
    char tag[TK_NAME_MAX], priority[16], type[16], team[TK_NAME_MAX], lua[256];
    int64_t target[TK_NPRIORITY][TK_NMETRIC]; /* business seconds, 0 = none */
} tk_policy;

/* The plugin's state, in the context's data slot. */
typedef struct tk_state {
    tk_team teams[TK_MAX_TEAMS];
    size_t nteams;
    tk_policy pol[TK_MAX_POLICIES];
    size_t npol;
    unsigned pause[TK_NSTATUS]; /* metrics paused per status (1 << tk_metric) */
    int64_t warn_before, close_after, survey_after; /* seconds */
    char survey_template[TK_NAME_MAX], ack_template[TK_NAME_MAX];
    char mediator_name[256], mediator_url[256], mediator_address[256];
    int64_t nps_every, nps_after_solve; /* seconds; nps_every 0: no NPS surveys */
    char nps_template[TK_NAME_MAX], nps_purpose[16];
    int batch; /* demo generation: clocks computed once per ticket, at its end */
    char agent_scope[32]; /* own | team | all: what an agent's API requests reach */
} tk_state;

#define TK(ctx) ((tk_state *)crm_get_data(ctx))

/* A ticket row. */
typedef struct tk_ticket {
    int64_t id, contact_id, created_at, updated_at, due_override;
    char subject[256], channel[16], priority[16], type[16], status[16];
    char assignee[TK_NAME_MAX], team[TK_NAME_MAX], tags[256], policy[TK_NAME_MAX];
} tk_ticket;

/* ---- config.c ---- */
extern const crm_config_field tk_config_schema[];
/* Reads crm.yaml ticketing.* into the state: CRM_OK or CRM_ECONFIG (positioned). */
int tk_config_load(crm_plugin_ctx *ctx);
const tk_team *tk_team_find(crm_plugin_ctx *ctx, const char *name);
const tk_policy *tk_policy_find(crm_plugin_ctx *ctx, const char *name);
/* Index of a priority name (low, normal, high, urgent) or -1. */
int tk_priority_index(const char *p);

/* ---- schema.c ---- */
int tk_schema_register(crm_plugin_ctx *ctx);

/* ---- util.c ---- */
crm_stmt *tk_prep(crm_plugin_ctx *ctx, const char *sql, int n, ...);
int tk_run(crm_plugin_ctx *ctx, const char *sql, int n, ...);
int64_t tk_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...);
int tk_fail_db(crm_plugin_ctx *ctx, const char *what);
/* The column's text copied into buf ("" for NULL). */
void tk_col_text(crm_stmt *st, int col, char *buf, size_t size);
/* Loads ticket id: CRM_OK or CRM_ENOTFOUND (error set). */
int tk_ticket_load(crm_plugin_ctx *ctx, int64_t id, tk_ticket *t);
/* The ticket id argument i of a command: CRM_OK or CRM_EUSAGE (error set). */
int tk_arg_id(crm_plugin_ctx *ctx, const crm_command_args *args, int i, int64_t *id);
/* Option `name` as text (NULL when not given). */
const char *tk_opt_text(const crm_command_args *args, const char *name);
/* Prints a JSON value as one line and frees it (CRM_ENOMEM on NULL). */
int tk_print_json(crm_command_io *io, json_t *v);
/* ISO 8601 in locale.timezone into buf; "-" for 0. */
const char *tk_fmt_time(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size);
/* Adds KEY = t (null for 0) and KEY_iso to obj. */
void tk_json_time(crm_plugin_ctx *ctx, json_t *obj, const char *key, int64_t t);
/* Runs fn inside one transaction: committed on CRM_OK, rolled back otherwise. */
int tk_in_txn(crm_plugin_ctx *ctx, int (*fn)(crm_plugin_ctx *, void *), void *ud);
/* 1 when the comma-separated list has the word w. */
int tk_list_has(const char *list, const char *w);

/* ---- ticket.c ---- */
typedef struct tk_open_req {
    int64_t contact_id, at;
    const char *subject, *description, *priority, *type, *channel, *team, *tags, *assignee;
} tk_open_req;
/* Opens a ticket (validated; routed; clocks and timers set; ticket.created). */
int tk_ticket_open(crm_plugin_ctx *ctx, const tk_open_req *req, int64_t *id);
/* Adds a message (customer, agent or note) as a kernel interaction linked to
 * the ticket; a customer message reopens a solved ticket. */
int tk_ticket_message(crm_plugin_ctx *ctx, int64_t id, int author, const char *body,
                      const char *who, int64_t at);
/* Moves the ticket to `status` (validated transition), with its effects. */
int tk_ticket_set_status(crm_plugin_ctx *ctx, int64_t id, int status, int64_t at);
/* Assigns to user (NULL: keep) and/or team (NULL: keep; routed when user NULL). */
int tk_ticket_assign(crm_plugin_ctx *ctx, int64_t id, const char *user, const char *team,
                     int64_t at);
/* The ticket as JSON (with its sla object and, when full, its conversation). */
json_t *tk_ticket_json(crm_plugin_ctx *ctx, const tk_ticket *t, int64_t now, int full);

/* ---- clocks.c ---- */
/* Computes the ticket's clocks as of now (policy chosen and kept on the ticket). */
int tk_clocks_compute(crm_plugin_ctx *ctx, const tk_ticket *t, int64_t now,
                      tk_clock out[TK_NMETRIC]);
/* Recomputes, stores the clocks and (re)schedules their warning and breach
 * timers (cancelled for clocks not running). */
int tk_clocks_update(crm_plugin_ctx *ctx, int64_t id, int64_t now);
/* The sla object of ticket show --json. */
json_t *tk_clocks_json(crm_plugin_ctx *ctx, const tk_clock *c, int64_t now);
/* Chooses the first matching policy of the ticket ("" when none matches). */
int tk_policy_select(crm_plugin_ctx *ctx, const tk_ticket *t, char *name, size_t size);
/* A warning or breach timer fired: emits the event once per clock cycle. */
int tk_clocks_fire(crm_plugin_ctx *ctx, int64_t id, int metric, int breach, int64_t at);

/* ---- route.c ---- */
/* The agent to assign ticket t of `team` to ("" when none is available). */
int tk_route(crm_plugin_ctx *ctx, const tk_ticket *t, const char *team, int64_t now,
             char *out, size_t size);

/* ---- survey.c ---- */
int tk_survey_schedule(crm_plugin_ctx *ctx, int64_t id, int64_t solved_at);
int tk_survey_send(crm_plugin_ctx *ctx, int64_t id);

/* ---- nps.c ---- */
/* A ticket of the contact was solved at `at`: (re)schedules nps:CONTACT
 * after_solve later, never inside the period of the last survey. */
int tk_nps_schedule(crm_plugin_ctx *ctx, int64_t contact, int64_t at);
/* The nps:CONTACT timer fired at `at`: queues the survey once per period. */
int tk_nps_send(crm_plugin_ctx *ctx, int64_t contact, int64_t at);

/* ---- complaint.c ---- */
/* A complaint ticket was opened: acknowledgement and level-1 deadline. */
int tk_complaint_start(crm_plugin_ctx *ctx, const tk_ticket *t);
/* The civil date `months` later at the same wall time (UTC). */
int64_t tk_add_months(int64_t t, int months);

/* ---- events.c ---- */
int tk_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *timer, void *ud);
/* Emits `type` with {"dataver":1,"ticket_id":id,"contact_id":...} plus extra members. */
int tk_emit(crm_plugin_ctx *ctx, const char *type, const tk_ticket *t, json_t *extra);

/* ---- commands (registered in ticketing.c) ---- */
int tk_cmd_open(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_reply(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_note(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_assign(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_status(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_solve(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_reopen(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_list(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_show(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_due(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_rate(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
/* Records a CSAT answer (score 1-5, comment may be NULL) and emits
 * ticket.rated; a later answer replaces it. Inside the caller's transaction;
 * CRM_EINVAL (message "score: ...") or CRM_ENOTFOUND. */
int tk_rate(crm_plugin_ctx *ctx, int64_t id, int64_t score, const char *comment);
/* Records a contact's NPS answer (score 0-10, linked to their latest survey)
 * and emits nps.answered. Inside the caller's transaction; CRM_EINVAL
 * ("score: ...") or CRM_ENOTFOUND (no such contact). */
int tk_nps_answer(crm_plugin_ctx *ctx, int64_t contact, int64_t score, const char *comment);
int tk_cmd_queue(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_sla_show(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_sla_recompute(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_agent_set(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_complaint_register(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_complaint_escalate(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_complaint_respond(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_kb_add(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_kb_update(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_kb_show(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_kb_search(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_suggest(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_report(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int tk_cmd_nps_rate(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);

/* ---- privacy.c / demo.c ---- */
int tk_privacy_register(crm_plugin_ctx *ctx);
int tk_demo(crm_plugin_ctx *ctx, crm_command_io *io);

/* ---- http_routes.c: the HTTP routes (SDK 1.4; none on an older host) ---- */
int tk_routes_register(crm_plugin_ctx *ctx);

/* ---- scope.c ---- */

/* The tickets one API request reaches: every one (all), or those assigned
 * to one of the caller's names or in one of its teams. */
typedef struct tk_scope {
    int all;
    crm_http_names me;
    const char *teams[TK_MAX_TEAMS]; /* team scope: the teams listing the caller */
    size_t nteams;
} tk_scope;

/* The caller's scope: all unless its role is agent and ticketing.agent_scope
 * is own or team. */
void tk_scope_of(crm_plugin_ctx *ctx, crm_http_exchange *x, tk_scope *s);
/* True when a ticket with that assignee and team (either may be NULL or "")
 * is within s. */
int tk_scope_has(const tk_scope *s, const char *assignee, const char *team);
/* " AND (1 = 0 OR assignee IN (?first, ...) OR team IN (...))" into buf,
 * "" for all; tk_scope_bind binds its parameters from ?first on. */
void tk_scope_sql(const tk_scope *s, int first, char *buf, size_t size);
void tk_scope_bind(crm_stmt *st, const tk_scope *s, int first);

#endif

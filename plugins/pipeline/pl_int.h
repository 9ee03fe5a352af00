/* pipeline plugin — private interface shared by its files.
 *
 * Nothing here is exported: the plugin builds with -fvisibility=hidden and
 * exports only crm_plugin_query (pipeline.c). One file per concept:
 *
 *   pipeline.c     descriptor and init: every registration
 *   schema.c       the pipeline_* tables (numbered migrations)
 *   config.c       the structured crm.yaml section read into the state
 *   money.c        expected value and quote arithmetic (pure, no SDK)
 *   util.c         SQL helpers, JSON output, dates, history rows, events
 *   deal.c         one deal read, written, moved; time in stage
 *   deal_cmd.c     crm deal ...
 *   forecast_cmd.c crm pipeline forecast|board
 *   stats_cmd.c    crm pipeline stats: stage flow from the history
 *   snapshot.c     crm pipeline snapshot|diff, the weekly snapshot timer
 *   lead_cmd.c     crm lead ...: add, qualify, convert (contact via the SDK), erase
 *   quote.c        one quote: stored, read, JSON, its expiry and follow-up timers
 *   quote_cmd.c    crm quote ...
 *   privacy.c      personal data declarations, unconverted leads by email/phone
 *   demo.c         the crm demo data and headline
 *   routes.c       its crm serve routes (SDK 1.4): deals, board, forecast
 *   scope.c        which deals an agent's requests reach (agent_scope) */
#ifndef PL_INT_H
#define PL_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crm/http_json.h"
#include "crm/plugin.h"

#include "money.h"

#define PL_MAX_PIPELINES 16
#define PL_MAX_STAGES 24
#define PL_MAX_REASONS 32
#define PL_NAME 64
#define PL_MAX_TEAMS 8
#define PL_MAX_MEMBERS 32

/* The forecast categories, in the order reports print them. */
typedef enum pl_category {
    PL_CAT_PIPELINE = 0,
    PL_CAT_BEST_CASE,
    PL_CAT_COMMIT,
    PL_CAT_CLOSED,
    PL_CAT_OMITTED,
    PL_CAT_COUNT
} pl_category;

/* One stage of a pipeline, as configured. */
typedef struct pl_stage {
    char name[PL_NAME];
    int probability;  /* 0-100 */
    pl_category category;
    int won, lost;
    int rot_unit;     /* crm_period_unit; rot_amount 0 = never rots */
    int64_t rot_amount;
    char rot_text[32]; /* "14d", "10bd" as written, for calendar_add */
} pl_stage;

typedef struct pl_pipeline {
    char name[PL_NAME];
    char currency[4];
    pl_stage stages[PL_MAX_STAGES];
    size_t nstages;
    size_t won, lost; /* indexes of the won and lost stages */
} pl_pipeline;

/* A sales team of pipeline.teams: whose deals its members see (agent_scope team). */
typedef struct pl_team {
    char name[PL_NAME];
    char members[PL_MAX_MEMBERS][128];
    size_t nmembers;
} pl_team;

/* The plugin's state, in the context's data slot: made in init, filled at
 * start from crm.yaml, freed in fini. */
typedef struct pl_state {
    pl_pipeline pipelines[PL_MAX_PIPELINES];
    size_t npipelines;
    char reasons[PL_MAX_REASONS][PL_NAME];
    size_t nreasons;
    char valid_for[32];        /* quotes.valid_for, e.g. "30d" */
    char follow_up_after[32];  /* quotes.follow_up_after, e.g. "7bd" */
    char calendar[PL_NAME];    /* quotes.calendar ("" = default) */
    int64_t default_vat_bp;    /* quotes.default_vat, basis points (2000 = 20 %) */
    char users[16][128];       /* round-robin owners */
    char assign_rule[256];     /* Lua FILE:FN or rule name: owner of new leads and deals */
    char lead_score_rule[256]; /* Lua FILE:FN or rule name: a lead's score with reasons */
    size_t nusers;
    int64_t story_at;          /* crm demo: the moment its story is at; 0 = the host's clock */
    pl_team teams[PL_MAX_TEAMS];
    size_t nteams;
    char agent_scope[32];      /* own | team | all: what an agent's API requests reach */
} pl_state;

#define PL(ctx) ((pl_state *)crm_get_data(ctx))

extern const crm_config_field pl_config_schema[];
extern const char *const pl_category_names[PL_CAT_COUNT];

/* ---- config.c ---- */
/* Reads and checks the section into the state (crm_config_error on a bad
 * node: file:line:col). CRM_OK or CRM_ECONFIG. */
int pl_config_load(crm_plugin_ctx *ctx);
/* The pipeline called name (NULL or "": the first one); NULL when none, with
 * crm_set_error naming the known ones. */
const pl_pipeline *pl_pipeline_find(crm_plugin_ctx *ctx, const char *name);
/* The stage index of `name` in p, or -1. */
int pl_stage_index(const pl_pipeline *p, const char *name);
/* 1 when reason is one of lost_reasons; the comma-separated list into buf. */
int pl_reason_known(crm_plugin_ctx *ctx, const char *reason);
void pl_reason_list(crm_plugin_ctx *ctx, char *buf, size_t size);
/* The category called name, or -1. */
int pl_category_parse(const char *name);

/* ---- schema.c / privacy.c ---- */
int pl_schema_register(crm_plugin_ctx *ctx);
int pl_privacy_register(crm_plugin_ctx *ctx);

/* ---- util.c ---- */
crm_stmt *pl_prep(crm_plugin_ctx *ctx, const char *sql);
/* Runs sql with int64 ?1..?n; CRM_OK or the error. */
int pl_run(crm_plugin_ctx *ctx, const char *sql, int n, ...);
/* One integer from sql (dflt when no row or NULL). */
int64_t pl_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...);
/* Sets "what: <host's last error>" and returns CRM_EDB. */
int pl_fail_db(crm_plugin_ctx *ctx, const char *what);
/* Prints v (stolen) as one compact JSON line. */
int pl_print_json(crm_plugin_ctx *ctx, crm_command_io *io, json_t *v);
/* Epoch seconds -> "YYYY-MM-DD" in locale.timezone (buf >= 11). */
void pl_date_of(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size);
/* Epoch seconds -> ISO 8601 with offset (buf >= 32). */
void pl_time_of(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size);
/* Money text "1 234.50 EUR" (buf >= 48). */
void pl_money(crm_plugin_ctx *ctx, int64_t minor, const char *cur, char *buf, size_t size);
/* A positive id from text, else 0 (after crm_set_error naming `what`). */
int64_t pl_parse_id(crm_plugin_ctx *ctx, const char *text, const char *what);
/* The time a change is recorded at: the host's clock, or the demo's story. */
int64_t pl_now(crm_plugin_ctx *ctx);
/* Who makes a change: $CRM_USER, else "cli". */
const char *pl_actor(void);
/* Emits `type` with payload v (stolen). */
int pl_emit(crm_plugin_ctx *ctx, const char *type, json_t *v);
/* String option `name` (NULL when absent). */
const char *pl_opt_text(const crm_command_args *args, const char *name);
/* 1 when two phone numbers, however written, end in the same 9 digits
 * ("06 12 34 56 78" and "+33612345678"); 0 when either is NULL or short. */
int pl_same_phone(const char *a, const char *b);
/* Runs fn inside one transaction: commit on CRM_OK, else roll back. */
int pl_in_tx(crm_plugin_ctx *ctx, int (*fn)(crm_plugin_ctx *, void *), void *ud);

/* ---- deal.c ---- */
typedef struct pl_deal {
    int64_t id, amount, contact_id, company_id;
    int64_t stage_entered_at, created_at, updated_at, closed_at, last_activity_at;
    int probability_override; /* -1 = the stage's */
    int category_override;    /* -1 = the stage's */
    int stalled;
    char title[256], pipeline[PL_NAME], stage[PL_NAME], status[8], currency[4];
    char close_date[16], owner[128], lost_reason[PL_NAME], lost_note[256];
} pl_deal;

/* The columns pl_deal_read reads, in its order: "SELECT " PL_DEAL_COLS
 * " FROM pipeline_deals WHERE ..." scans deals in one statement. */
#define PL_DEAL_COLS                                                                             \
    "id, title, pipeline, stage, status, amount, currency, probability, category, close_date," \
    " owner, contact_id, company_id, lost_reason, lost_note, stage_entered_at, created_at,"    \
    " updated_at, closed_at, last_activity_at, stalled"
/* The current row of such a statement into d. */
void pl_deal_read(crm_stmt *st, pl_deal *d);
/* Reads deal id; CRM_ENOTFOUND (message set) when absent. */
int pl_deal_get(crm_plugin_ctx *ctx, int64_t id, pl_deal *d);
/* The deal's effective probability and category. */
int pl_deal_probability(crm_plugin_ctx *ctx, const pl_deal *d);
pl_category pl_deal_category(crm_plugin_ctx *ctx, const pl_deal *d);
/* Appends one history row (field, from, to) at now, by pl_actor(). */
int pl_history_add(crm_plugin_ctx *ctx, const pl_deal *d, const char *field, const char *from,
                   const char *to);
/* Moves d to stage index si of its pipeline: history, status, event; the
 * probability override is dropped. Inside the caller's transaction. */
int pl_deal_set_stage(crm_plugin_ctx *ctx, pl_deal *d, size_t si, const char *reason,
                      const char *note);
/* The deal as `crm deal show --json` prints it (new reference). */
json_t *pl_deal_json(crm_plugin_ctx *ctx, const pl_deal *d);
/* Seconds in each stage (object name -> seconds, every visit summed, the
 * open visit counted to now) from the history. */
json_t *pl_deal_time_in_stage(crm_plugin_ctx *ctx, const pl_deal *d);
/* Marks activity on the deal at `at`: clears the stalled flag, re-arms the
 * rot timer from then. */
int pl_deal_touch(crm_plugin_ctx *ctx, pl_deal *d, int64_t at);
/* Schedules (or cancels, on a closed deal or a stage without rot_after)
 * the deal's rot timer "rot:ID" from its last activity. */
int pl_deal_arm_rot(crm_plugin_ctx *ctx, const pl_deal *d);
/* Adds a task (kind, subject) about d, due now, for its owner when a user. */
int pl_deal_task(crm_plugin_ctx *ctx, const pl_deal *d, const char *kind, const char *subject);
/* Timer "rot:ID": flags the deal stalled, emits deal.stalled, adds a task. */
int pl_deal_rot_fire(crm_plugin_ctx *ctx, int64_t id);
/* Adds a deal from its fields (d->id set), history and deal.created. */
int pl_deal_insert(crm_plugin_ctx *ctx, pl_deal *d);

/* ---- quote.c ---- */
#define PL_QUOTE_EXPIRE "quote-expire:"
#define PL_QUOTE_FOLLOW "quote-follow:"

typedef struct pl_quote {
    int64_t id, deal_id, contact_id, discount_bp, net, vat, gross;
    int64_t valid_until, sent_at, message_id, decided_at, order_id, created_at;
    char status[12], currency[4], reason[256];
    pl_quote_line lines[PL_QUOTE_MAX_LINES];
    size_t nlines;
} pl_quote;

/* Reads quote id with its lines; CRM_ENOTFOUND (message set) when absent. */
int pl_quote_get(crm_plugin_ctx *ctx, int64_t id, pl_quote *q);
/* "Q-000012": the number customers see. */
void pl_quote_number(const pl_quote *q, char *buf, size_t size);
/* Stores q (computed amounts, status draft) and its lines, arms its expiry
 * timer, emits quote.created; q->id set. Inside the caller's transaction. */
int pl_quote_insert(crm_plugin_ctx *ctx, pl_quote *q);
/* Writes status, reason, decided_at = now and order_id. */
int pl_quote_set_status(crm_plugin_ctx *ctx, pl_quote *q, const char *status, const char *reason);
/* Emits `type` with the quote's ids, status and gross. */
int pl_quote_emit(crm_plugin_ctx *ctx, const pl_quote *q, const char *type);
/* Schedules timer PREFIX+ID at due; cancels both of the quote's timers. */
int pl_quote_schedule(crm_plugin_ctx *ctx, const pl_quote *q, const char *prefix, int64_t due);
int pl_quote_cancel_timers(crm_plugin_ctx *ctx, const pl_quote *q);
/* The quote as `crm quote show --json` prints it (new reference). */
json_t *pl_quote_json(crm_plugin_ctx *ctx, const pl_quote *q);
/* Timers: a draft or sent quote expires; a sent one unanswered gets a
 * follow_up task for the deal's owner and quote.follow_up_due. */
int pl_quote_expire_fire(crm_plugin_ctx *ctx, int64_t id);
/* Accepted (draft or sent): the kernel order at the quote's net, the deal
 * won when open. Inside the caller's transaction. */
int pl_quote_accept(crm_plugin_ctx *ctx, pl_quote *q);
int pl_quote_follow_fire(crm_plugin_ctx *ctx, int64_t id);

/* ---- deal_cmd.c ---- */
/* rules.c: the owner of a new `what` ("deal", "lead"): what
 * pipeline.assign_rule returns for record (a JSON object; the rule sees it
 * with kind = what), else round-robin over users ("" when none are
 * configured). */
int pl_assign_owner(crm_plugin_ctx *ctx, const char *what, const json_t *record, char *buf,
                    size_t size);
/* A lead's score by pipeline.lead_score_rule; given 0 without a rule or
 * when it failed (logged). reasons: the rule's reasons as a JSON array. */
typedef struct pl_score {
    int given;
    int64_t value;
    char reasons[1024];
} pl_score;
int pl_lead_score(crm_plugin_ctx *ctx, const json_t *lead, pl_score *out);
/* d's owner by pl_assign_owner ("deal"): the rule sees title, pipeline,
 * stage, amount, currency, contact_id, company_id. */
int pl_assign_deal(crm_plugin_ctx *ctx, pl_deal *d);
/* One updatable field of a deal: its column (also its history name), the
 * value before and after as text ("" = NULL). */
typedef struct pl_change {
    const char *column;
    char from[160], to[160];
    int is_int;
} pl_change;
/* Writes c to d's row with a history row (nothing when from equals to);
 * inside the caller's transaction. */
int pl_deal_apply_change(crm_plugin_ctx *ctx, const pl_deal *d, const pl_change *c);
/* CRM_OK when contact_id exists, else CRM_ENOTFOUND with a message. */
int pl_deal_check_contact(crm_plugin_ctx *ctx, int64_t contact_id);

/* ---- commands ---- */
int pl_cmd_deal_add(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_move(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_win(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_lose(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_reopen(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_update(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_list(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_show(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_deal_history(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_forecast(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_board(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_stats(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_snapshot(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_diff(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_add(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_list(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_show(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_update(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int pl_cmd_lead_qualify(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_disqualify(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_convert(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_lead_erase(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_quote_add(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_quote_show(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_quote_accept(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_quote_decline(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int pl_cmd_quote_send(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);

/* ---- forecast_cmd.c ---- */
/* The forecast `crm pipeline forecast --json` prints, for p's open deals
 * closing in [from, to] (epoch seconds, whole days in locale.timezone) and
 * those won then, grouped by `by` (all|owner|stage|category|month), over
 * the deals within scope (NULL: every deal): *out a new reference. */
typedef struct pl_scope pl_scope;
int pl_forecast_json(crm_plugin_ctx *ctx, const pl_pipeline *p, int64_t from, int64_t to,
                     const char *by, const pl_scope *scope, json_t **out);

/* ---- snapshot.c ---- */
/* Schedules the weekly snapshot timer "snapshot:weekly" (next Monday 00:00
 * UTC) unless one is pending; its handler takes a snapshot and moves it on. */
int pl_snapshot_arm(crm_plugin_ctx *ctx);
int pl_snapshot_fire(crm_plugin_ctx *ctx, int64_t unused);

/* ---- routes.c: the HTTP routes (SDK 1.4) ---- */
int pl_routes_register(crm_plugin_ctx *ctx);

/* ---- timers, events, demo ---- */
int pl_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *t, void *ud);
int pl_on_activity(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud);
int pl_demo(crm_plugin_ctx *ctx, crm_command_io *io);
/* crm.pipeline.deal(id), crm.pipeline.open_deals(contact_id) (lua_fns.c). */
int pl_lua_register(crm_plugin_ctx *ctx);

/* ---- scope.c ---- */

/* The deals one API request reaches: every one (all), or those owned by
 * one of the caller's names or by a member of one of its teams. */
struct pl_scope {
    int all;
    crm_http_names me;
    const char *owners[3 + PL_MAX_TEAMS * PL_MAX_MEMBERS]; /* me's names, then teammates */
    size_t n;
};

/* The caller's scope: all unless its role is agent and pipeline.agent_scope
 * is own or team. */
void pl_scope_of(crm_plugin_ctx *ctx, crm_http_exchange *x, pl_scope *s);
/* True when a deal owned by `owner` (NULL or "": nobody) is within s. */
int pl_scope_has(const pl_scope *s, const char *owner);
/* " AND owner IN (?first, ...)" into buf, "" for all (" AND 1 = 0" when no
 * owner is the caller's); pl_scope_bind binds its parameters from ?first. */
void pl_scope_sql(const pl_scope *s, int first, char *buf, size_t size);
void pl_scope_bind(crm_stmt *st, const pl_scope *s, int first);

#endif

/* journeys plugin — internals shared by its files:
 *   journeys.c     descriptor and init: every registration
 *   schema.c       migrations (journeys_entries, journeys_effects, journeys_paused)
 *   config.c       the `journeys:` section: flows, their trigger, goal, profiles, steps
 *   condition.c    pure: "value > 20000 and device = mobile" over a JSON object of facts
 *   engine.c       entering (event handler), goal exits, running due steps (timer handler)
 *   steps.c        what each step kind does (send, task, tag_add, tag_remove, emit)
 *   journey_cmd.c  `crm journey list|show|contacts|pause|resume|exit`
 *   privacy.c      the person's rows, declared for export and erasure */
#ifndef JRN_INT_H
#define JRN_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include <crm/plugin.h>

#include "condition.h"

#define JRN_NAME_MAX 64
#define JRN_TEXT_MAX 256

/* When a step runs: `after` from entering, `wait` after the previous step ran. */
typedef enum { JRN_AT_NOW = 0, JRN_AT_AFTER, JRN_AT_WAIT } jrn_timing;

typedef struct jrn_step {
    char kind[16];                  /* send|task|tag_add|tag_remove|emit|wait */
    char arg[JRN_TEXT_MAX];         /* template, task subject, tag, event type */
    char channel[16], purpose[16];  /* send */
    char assignee[JRN_NAME_MAX];    /* task: user id/email, or team:a@x,b@y (round-robin) */
    char task_kind[16];             /* task: call|email|... */
    char profile[JRN_NAME_MAX];     /* runs only for entries of this profile ("" = all) */
    char cond[JRN_TEXT_MAX];        /* runs only when this condition holds ("" = always) */
    jrn_timing timing;
    char duration[32];              /* as written: "3h", "2bd" */
    int64_t seconds;                /* duration in seconds (bd: 0, through the calendar) */
    bool business;                  /* duration in business days */
} jrn_step;

typedef struct jrn_profile {
    char name[JRN_NAME_MAX];
    char cond[JRN_TEXT_MAX];
} jrn_profile;

typedef struct jrn_flow {
    char name[JRN_NAME_MAX];
    char trigger[JRN_NAME_MAX];     /* event pattern: "cart.abandoned", "segment.*" */
    char trigger_if[JRN_TEXT_MAX];
    char goal[JRN_NAME_MAX];        /* event pattern that ends the journey ("" = none) */
    char reentry[16];               /* never | always | after */
    int64_t reentry_after;          /* seconds, for "after" */
    int64_t priority;
    jrn_profile *profiles;
    size_t n_profiles;
    jrn_step *steps;
    size_t n_steps;
} jrn_flow;

typedef struct jrn_state {
    jrn_flow *flows;
    size_t n_flows;
    int64_t rr;                     /* round-robin counter seed (per process) */
    char cart_url[JRN_TEXT_MAX];    /* "https://shop/cart/{ref}" ("" = no checkout_url) */
} jrn_state;

#define JRN(ctx) ((jrn_state *)crm_get_data(ctx))

/* schema.c */
int jrn_schema_register(crm_plugin_ctx *ctx);
/* config.c */
extern const crm_config_field jrn_config_schema[];
int jrn_config_load(crm_plugin_ctx *ctx);
void jrn_config_free(jrn_state *s);
const jrn_flow *jrn_flow_find(crm_plugin_ctx *ctx, const char *name);
/* engine.c */
int jrn_on_event(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud);
int jrn_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *t, void *ud);
int jrn_exit_entry(crm_plugin_ctx *ctx, int64_t entry_id, const char *reason, int64_t at,
                   int64_t order_id);
int jrn_schedule_entry(crm_plugin_ctx *ctx, int64_t entry_id, int64_t contact_id, int64_t due);
bool jrn_pattern_match(const char *pattern, const char *type);
/* steps.c: performs step `i` of entry (facts: the trigger payload and contact
 * aggregates); *detail gets a malloc'd JSON text of what was done. */
int jrn_step_run(crm_plugin_ctx *ctx, const jrn_flow *f, size_t i, int64_t entry_id,
                 int64_t contact_id, int64_t entry_no, const json_t *facts, char **detail);
/* journey_cmd.c */
int jrn_cmd_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int jrn_cmd_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int jrn_cmd_contacts(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int jrn_cmd_pause(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int jrn_cmd_resume(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int jrn_cmd_exit(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args);
int jrn_demo(crm_plugin_ctx *ctx, crm_command_io *io);
/* privacy.c */
int jrn_privacy_register(crm_plugin_ctx *ctx);
/* util (engine.c) */
crm_stmt *jrn_prep(crm_plugin_ctx *ctx, const char *sql);
int jrn_fail(crm_plugin_ctx *ctx, const char *what);

#endif

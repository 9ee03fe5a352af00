/* segmentation plugin — private interface shared by its files.
 *
 * Nothing here is exported from segmentation.so: the plugin builds with
 * -fvisibility=hidden and exports only crm_plugin_query (segmentation.c). The
 * pure computation (rfm.c, churn.c, condition.c) does not include the SDK;
 * the other files work through the host API. One file per concept:
 *
 *   segmentation.c  descriptor and init: every registration (schema, config,
 *                   command tables, subscriptions, demo, contact sets)
 *   schema.c        the segmentation_* tables (numbered migrations)
 *   config.c        the structured crm.yaml schema, read into the state; lookups
 *   util.c          SQL helpers, output through the host, arguments, contacts
 *   rfm.c           RFM scores and the grid (pure)
 *   rfm_cmd.c       orders aggregated, the diffed refresh, crm rfm ...
 *   condition.c     the table-driven condition compiler (pure)
 *   segments.c      memberships, rule and Lua segments evaluated
 *   segment_cmd.c   crm segment ...
 *   churn.c         churn points and reasons (pure)
 *   churn_cmd.c     one contact's churn stored and emitted, crm churn ...
 *   metrics.c       crm metrics and the crm demo headline
 *   events.c        order.*, contact.*, interaction.*, consent.* handlers
 *   http_routes.c   its crm serve routes (SDK 1.4): the RFM grid, segments */
#ifndef SEG_INT_H
#define SEG_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crm/plugin.h"

#include "churn.h"
#include "condition.h"
#include "rfm.h"

#define SEG_MAX_RULES 64

/* One declared segment of segmentation.segments. */
typedef struct seg_rule {
    char name[SEG_NAME_MAX];
    char slug[SEG_NAME_MAX];
    int is_static;
    int is_lua;          /* "Name: lua: RULE" or "Name: lua: FILE:FN" */
    char text[1024];
    char lua_spec[512];  /* the rule name or FILE:FN */
    seg_cond cond;
} seg_rule;

/* The plugin's state, in the context's data slot (SDK 1.3 set_data): made
 * in init, freed in fini; every function reaches it through its ctx. */
typedef struct seg_state {
    int64_t window_days;
    char currency[8]; /* "" = the most common among qualifying orders */
    seg_grid_cell cells[32];
    seg_grid grid;
    seg_rule *rules;
    size_t nrules;
    seg_churn_config churn;
    char churn_rule[512]; /* Lua score override ("" = points only) */
    seg_rfm_cuts cuts; /* of the latest refresh, cached */
    int64_t cuts_refresh;  /* its id; 0 = not loaded */
    int64_t cuts_window;
    char cuts_currency[8];
    /* statements the refresh and the event handlers run many times: prepared
     * once, reset before each use, finalized in stop */
    crm_stmt *st_enter, *st_leave, *st_upsert, *st_delete, *st_last_refresh;
} seg_state;

/* The plugin's state (never NULL after init). */
#define SEG(ctx) ((seg_state *)crm_get_data(ctx))

/* A growable list of contact ids (or other integers); free(v) when done. */
typedef struct seg_idlist {
    int64_t *v;
    size_t n, cap;
} seg_idlist;

/* Contacts' RFM metrics, sorted by contact id; free(rows) when done. */
typedef struct seg_rfm_set {
    seg_rfm_row *rows;
    size_t n, cap;
    int64_t skipped_orders; /* qualifying but in another currency */
    char currency[8];
} seg_rfm_set;

/* ---- config.c ------------------------------------------------------- */

/* The section's structured schema (rfm, segments, churn), declared in init
 * with crm_declare_config_schema. */
extern const crm_config_field seg_config_schema[];

/* Reads crm.yaml segmentation.* into the state (grid, rules, churn settings).
 * CRM_OK, or CRM_ECONFIG/CRM_ENOMEM with the error set naming the key. */
int seg_config_load(crm_plugin_ctx *ctx);

/* Trims white space in place; returns the first non-space character. */
char *seg_trim(char *s);

/* The slug of row's grid cell, or NULL when no cell matches. */
const char *seg_slug_of(crm_plugin_ctx *ctx, const seg_rfm_row *row);

/* The display name of a grid or rule segment slug (the slug when unknown). */
const char *seg_grid_name(crm_plugin_ctx *ctx, const char *slug);

/* The rule segment named `name` (compared as slugs), or NULL. */
seg_rule *seg_find_rule(crm_plugin_ctx *ctx, const char *name);

/* The slugs of the declared segments, ", "-separated, into buf: the RFM
 * grid's only (rfm_only), else the grid's then the rule segments'. */
void seg_known_segments(crm_plugin_ctx *ctx, char *buf, size_t size, int rfm_only);

/* ---- util.c: SQL ---------------------------------------------------------- */

/* The statement in *slot, prepared on first use and reset; NULL on failure. */
crm_stmt *seg_cached(crm_plugin_ctx *ctx, crm_stmt **slot, const char *sql);

/* Finalizes the statements seg_cached prepared into the state. */
void seg_finalize_cached(crm_plugin_ctx *ctx);

/* Prepares `sql` and binds the int64 arguments (n of them) to ?1..?n. */
crm_stmt *seg_prep(crm_plugin_ctx *ctx, const char *sql, int n, ...);

/* Runs a statement returning no rows; the int64 arguments bind ?1..?n. */
int seg_run(crm_plugin_ctx *ctx, const char *sql, int n, ...);

/* The first column of the first row as an integer (dflt when no row). */
int64_t seg_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...);

/* Sets "<what>: <host's last error>" and returns CRM_EDB. */
int seg_fail_db(crm_plugin_ctx *ctx, const char *what);

/* Appends id to l: CRM_OK or CRM_ENOMEM. */
int seg_idlist_push(seg_idlist *l, int64_t id);

/* Ids from a query whose first column is a contact id, in the order given;
 * ?1 binds as_of, ?2 text1 (when not NULL). */
int seg_collect(crm_plugin_ctx *ctx, const char *sql, const char *text1, int64_t as_of,
                seg_idlist *out);

/* ---- util.c: output ------------------------------------------------------- */

/* Human output through the host: times as ISO 8601 in locale.timezone
 * (crm_format_time), money with the kernel's currency table
 * (crm_format_money). */
const char *seg_fmt_day(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size);
const char *seg_fmt_money(crm_plugin_ctx *ctx, int64_t minor, const char *cur, char *buf,
                          size_t size);

/* JSON keeps epoch seconds; for each of `keys` (NULL-terminated) holding an
 * integer, adds KEY_iso with the same instant as seg_fmt_day prints it
 * (null stays null). Returns obj. */
json_t *seg_json_iso(crm_plugin_ctx *ctx, json_t *obj, const char *const *keys);
extern const char *const seg_iso_as_of[];         /* {"as_of", NULL} */
extern const char *const seg_iso_entered_left[];  /* {"entered_at", "left_at", NULL} */

/* The reasons column (a JSON array of {text}) as "text; text". */
void seg_print_reason_texts(FILE *out, const char *reasons_json);

/* A note on stderr about what the output holds (as of when, how to
 * refresh): always with text output, with --json only when nothing was
 * shown (so an empty answer is never silent); io NULL: always. */
void seg_note(crm_command_io *io, size_t shown, const char *fmt, ...) CRM_PRINTF(3, 4);

/* Prints j compactly on one line and releases it. */
void seg_print_json(crm_command_io *io, json_t *j);

/* ---- util.c: arguments ---------------------------------------------------------- */

/* Sets "usage: crm TEXT (see crm NOUN --help)"; returns CRM_EUSAGE. */
int seg_usage(crm_plugin_ctx *ctx, const char *text);

/* Option `name` (as declared, without dashes) as written; NULL when absent. */
const char *seg_opt(const crm_command_args *args, const char *name);

/* An INT option's value, dflt when absent. */
int64_t seg_opt_int(const crm_command_args *args, const char *name, int64_t dflt);

/* Whether flag `name` was given. */
int seg_has_flag(const crm_command_args *args, const char *name);

/* Positional argument i (0-based, the verb not counted); NULL past the end. */
const char *seg_arg(const crm_command_args *args, int i);

/* A contact by id, external_id or email; 0 when not found (error set). */
int64_t seg_resolve_contact(crm_plugin_ctx *ctx, const char *ref);

/* ---- rfm_cmd.c: loading ----------------------------------------------------- */

/* The configured currency, or the most common one among qualifying orders
 * placed in [start, as_of); out holds 8 bytes. */
void seg_pick_currency(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, char *out);

/* Loads the metrics of every contact with a qualifying order as of `as_of`
 * (only > 0: only that contact) in `currency` (NULL: seg_pick_currency).
 * Rows come out sorted by contact id. */
int seg_rfm_load(crm_plugin_ctx *ctx, int64_t as_of, int64_t window_days, const char *currency,
                 int64_t only, seg_rfm_set *set);

/* ---- rfm_cmd.c: refresh -------------------------------------------------- */

/* Scores every contact as of `as_of` and writes only what changed (scores,
 * memberships, events) in one transaction, with the refresh and its cut
 * points. Every out pointer may be NULL; currency_out holds 8 bytes. */
int seg_rfm_refresh(crm_plugin_ctx *ctx, int64_t as_of, int64_t *scored, int64_t *skipped,
                    int64_t *changed, char *currency_out);

/* 1 with *as_of the latest RFM refresh's as-of time, 0 when there was none. */
int seg_last_rfm_refresh(crm_plugin_ctx *ctx, int64_t *as_of);

/* Loads the latest refresh's cut points into the state (cached). 0 when there is none. */
int seg_load_cuts(crm_plugin_ctx *ctx);

/* Re-scores one contact as of `at` against the stored cut points and moves
 * its RFM membership. Nothing happens before the first refresh. */
int seg_rfm_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at);

/* The grid for GET /v1/rfm: *out = {"as_of" (the latest refresh, null when
 * none), "cells": [{"r", "f", "count", "segment"}] R5..R1 by F1..F5,
 * "segments": [{"segment", "name", "customers", "revenue"}], "customers",
 * "revenue", "currency"}, counted from the stored scores. */
int seg_rfm_grid_json(crm_plugin_ctx *ctx, json_t **out);

/* ---- segment_cmd.c: as data, for the HTTP routes ---------------------------------- */

/* *out = {"items": [{"name" (slug), "label", "kind", "size", "refreshed_as_of",
 * "history": [{"at", "size"}]}]} for every declared segment: history is the
 * size after each of the last `points` membership changes. */
int seg_segments_json(crm_plugin_ctx *ctx, int64_t points, json_t **out);

/* *out = {"segment", "items": [{"id", "first_name", "last_name", "email",
 * "entered_at"}], "next_cursor"}: the open members with an id above `after`,
 * at most `limit`. CRM_ENOTFOUND (error set, naming the known segments). */
int seg_segment_members_json(crm_plugin_ctx *ctx, const char *name, int64_t after, int64_t limit,
                             json_t **out);

/* ---- http_routes.c: the HTTP routes (SDK 1.4; none on an older host) ---- */
int seg_routes_register(crm_plugin_ctx *ctx);

/* ---- segments.c: memberships ------------------------------------------------------ */

/* Opens (enter) or closes (leave) contact's membership of `slug`, emitting
 * segment.entered or segment.left. */
int seg_member_enter(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t cid,
                     int64_t at);
int seg_member_leave(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t cid,
                     int64_t at);

/* The contact's open RFM segment into buf ("" when none). */
void seg_current_rfm_segment(crm_plugin_ctx *ctx, int64_t cid, char *buf, size_t size);

/* Moves the contact's RFM membership from `old` to `slug` (NULL: none). */
int seg_rfm_move(crm_plugin_ctx *ctx, int64_t cid, const char *old, const char *slug,
                 int64_t at);

/* Whether the contact is an open member of `slug` (0 on a database error). */
int seg_is_member(crm_plugin_ctx *ctx, const char *slug, int64_t cid);

/* The open members of `slug`, in id order. */
int seg_current_members(crm_plugin_ctx *ctx, const char *slug, seg_idlist *out);

/* ---- segments.c: rule segments ----------------------------------------------------- */

/* Contacts matching a compiled condition as of `as_of`, in id order. */
int seg_matching(crm_plugin_ctx *ctx, const seg_cond *cond, int64_t as_of, seg_idlist *out);

/* Walks two sorted id lists: entering = in `want` only, leaving = in `have` only. */
void seg_diff_lists(const seg_idlist *want, const seg_idlist *have, seg_idlist *enter,
                    seg_idlist *leave);

/* Evaluates `sql_expr` for one contact: 1, 0, or a negative error. */
int seg_eval_for(crm_plugin_ctx *ctx, const char *sql_expr, int64_t cid, int64_t as_of);

/* Re-evaluates rule segment rs over every contact, moves memberships and
 * records the refresh; *nin and *nout (may be NULL) get how many entered
 * and left. */
int seg_rule_refresh(crm_plugin_ctx *ctx, seg_rule *rs, int64_t as_of, int64_t *nin, int64_t *nout);

/* 1 with *as_of when segment `slug` of `kind` ("rfm", "rule", "lua",
 * "static") was last evaluated over every contact (crm rfm refresh, crm
 * segment refresh); 0 when never, and always for a static list. */
int seg_segment_refreshed(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t *as_of);

/* Re-evaluates every rule segment for one contact, in declaration order. */
int seg_rules_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at);

/* ---- segments.c: Lua ---------------------------------------------------------- */

/* Evaluates Lua rule `spec` for one contact through the host's rule engine
 * (sandboxed, with crm.yaml's limits): 1 when it holds (any result but
 * false or nil), 0 when not, or a negative error with the rule's message and
 * cause. *reasons (may be NULL) gets the rule's reasons array. */
int seg_lua_holds(crm_plugin_ctx *ctx, const char *spec, int64_t cid, json_t **reasons);

/* Contacts for which Lua rule `spec` holds, in id order. */
int seg_lua_matching(crm_plugin_ctx *ctx, const char *spec, seg_idlist *out);

/* ---- churn_cmd.c -------------------------------------------------------- */

/* One contact's churn score as of `as_of` (the Lua override when configured)
 * and its lifetime value in minor units. */
int seg_churn_compute(crm_plugin_ctx *ctx, int64_t cid, int64_t as_of, seg_churn_result *res,
                      int64_t *ltv);

/* The currency lifetime values are summed in: the latest RFM refresh's,
 * else rfm.currency (or locale.currency); NULL when none is known (every
 * order counts). */
const char *seg_ltv_currency(crm_plugin_ctx *ctx);

/* The result's reasons as a new JSON array of {code, points, text}. */
json_t *seg_churn_reasons_json(const seg_churn_result *r);

/* Computes, stores, and emits churn.risk_raised when the level went up
 * (counting it in *raised, which may be NULL). */
int seg_churn_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at, int *raised);

/* ---- commands, events, schema ------------------------------------------- */

/* The contact set provider (SDK 1.3 register_contact_set): `--segment NAME`
 * of crm contact list and crm export contacts gets the segment's current
 * members, with a note on stderr saying as of which refresh. */
int seg_contact_set(crm_plugin_ctx *ctx, const char *name, crm_contact_sink add, void *sink,
                    void *ud);

/* Scores every contact with an order before as_of (churn_cmd.c), in one
 * transaction: *scored contacts, *raised of them crossed a level upwards. */
int seg_churn_refresh(crm_plugin_ctx *ctx, int64_t as_of, size_t *scored, int *raised);

/* `crm demo`'s headline (metrics.c, SDK 1.3 register_demo): RFM and churn
 * refreshed as of now, customers per RFM segment and the churn alerts. */
int seg_demo(crm_plugin_ctx *ctx, crm_command_io *io);

/* The commands, registered with their option tables in segmentation.c. */
#define SEG_CMD(name) int name(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
SEG_CMD(seg_cmd_rfm_refresh);
SEG_CMD(seg_cmd_rfm_list);
SEG_CMD(seg_cmd_rfm_show);
SEG_CMD(seg_cmd_rfm_grid);
SEG_CMD(seg_cmd_segment_list);
SEG_CMD(seg_cmd_segment_members);
SEG_CMD(seg_cmd_segment_history);
SEG_CMD(seg_cmd_segment_refresh);
SEG_CMD(seg_cmd_segment_explain);
SEG_CMD(seg_cmd_segment_diff);
SEG_CMD(seg_cmd_segment_add);
SEG_CMD(seg_cmd_segment_remove);
SEG_CMD(seg_cmd_churn_refresh);
SEG_CMD(seg_cmd_churn_list);
SEG_CMD(seg_cmd_churn_show);
SEG_CMD(seg_cmd_metrics);

/* Durable subscribers: order.* re-scores RFM and rule segments of the
 * order's contact; contact.*, interaction.*, consent.* its rule segments (a
 * deleted or merged contact leaves everything). */
int seg_on_order(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud);
int seg_on_contact(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud);

/* Registers the plugin's numbered migrations (segmentation_* tables). */
int seg_schema_register(crm_plugin_ctx *ctx);

#endif

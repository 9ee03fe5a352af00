/* loyalty plugin — private interface shared by its files.
 *
 * Nothing here is exported from loyalty.so (built with -fvisibility=hidden;
 * only crm_plugin_query, in loyalty.c, is). One file per concept:
 *
 *   loyalty.c      descriptor and init: every registration in one place
 *   schema.c       the loyalty_* tables (numbered migrations)
 *   config.c       the structured crm.yaml schema, read into the state
 *   util.c         SQL helpers, arguments, contacts, output
 *   stmt_cache.c   statements kept across calls (one-shot SQL helpers)
 *   ledger.c       the arithmetic: rounding, FIFO, reversals, tiers (pure)
 *   book.c         the ledger in the database: operations, lots, entries
 *   balance.c      balances as sums over entries, history, `crm loyalty check`
 *   tiers.c        tier qualification, grace, downgrade, the VIP club
 *   rewards.c      the catalogue, redemptions, vouchers
 *   referrals.c    codes, fraud checks, rewards of both sides
 *   report.c       `crm loyalty report`, the demo headline
 *   loyalty_cmd.c  the commands' option-table handlers
 *   events.c       order.* handlers and the timers (approve, expire, warn, tier)
 *   privacy.c      the person's rows for export-data and erase
 *   demo.c         what `crm demo` adds
 *   http_routes.c  its crm serve routes (SDK 1.4): the card, redeeming */
#ifndef LOY_INT_H
#define LOY_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crm/plugin.h"

#include "ledger.h"

#define LOY_NAME_MAX 64
#define LOY_MAX_LEVELS 16
#define LOY_MAX_REWARDS 64
#define LOY_MAX_LUA 8
#define LOY_DAY 86400

typedef enum loy_clawback { LOY_NEGATIVE_BALANCE = 0, LOY_FUTURE_EARNINGS = 1 } loy_clawback;

typedef struct loy_level {
    char name[LOY_NAME_MAX];
    int64_t min;        /* minor units (qualify_on spent) or points */
    int64_t mult_milli; /* 1000 = x1 */
} loy_level;

typedef enum loy_reward_kind {
    LOY_VOUCHER = 0,
    LOY_FREE_PRODUCT,
    LOY_FREE_SHIPPING,
    LOY_EXPERIENCE,
    LOY_EDUCATION,
    LOY_DONATION
} loy_reward_kind;

typedef struct loy_reward {
    char name[LOY_NAME_MAX];
    loy_reward_kind kind;
    int64_t cost;          /* points */
    int64_t value;         /* minor units (voucher, donation); 0 when none */
    int64_t valid_for;     /* seconds a voucher stays valid; 0 = no expiry */
    int64_t stock;         /* -1 = unlimited */
    int64_t per_contact;   /* most redemptions per contact; 0 = no limit */
    int vip_only;
    unsigned tier_mask;    /* bit i: level i may redeem; 0 = every tier */
    char cause[LOY_NAME_MAX];
    char sku[LOY_NAME_MAX]; /* free_product */
} loy_reward;

/* The program (loyalty.programs[0]) as read at start. */
typedef struct loy_program {
    char name[LOY_NAME_MAX];
    char point_name[LOY_NAME_MAX];
    int64_t point_value;     /* minor units of one point ... */
    int64_t point_per;       /* ... per this many points (value "0.01 EUR": 1 per 1) */
    char currency[4];
    int auto_enrol;          /* paid orders enrol; 0: crm loyalty join first */
    int64_t earn_per;        /* order.paid: per this many minor units ... */
    int64_t earn_points;     /* ... this many points (0: no per-amount rule) */
    int64_t order_points;    /* order.paid without per: points per order */
    char lua[LOY_MAX_LUA][256];
    size_t nlua;
    int64_t pending;         /* seconds */
    int64_t expire_after;    /* seconds; 0 = never */
    int64_t warn_before;     /* seconds; 0 = no warning */
    loy_clawback clawback;
    int qualify_on_points;   /* tiers.qualify_on: 0 spent, 1 points */
    loy_window window;
    int64_t grace;
    loy_downgrade downgrade;
    loy_level levels[LOY_MAX_LEVELS];
    size_t nlevels;
    int64_t vip_percent;     /* 0 = no VIP club */
    loy_window vip_window;
    loy_reward rewards[LOY_MAX_REWARDS];
    size_t nrewards;
    int64_t referrer_points, referee_points, referral_per_week;
} loy_program;

#define LOY_STMT_CACHE 64

/* A kept statement (stmt_cache.c): the SQL's address and text, checked on reuse. */
typedef struct loy_cached {
    const char *sql;
    char text[1024];
    crm_stmt *st;
} loy_cached;

/* The plugin's state, in the context's data slot. */
typedef struct loy_state {
    int configured; /* a program is declared */
    loy_program p;
    loy_cached cache[LOY_STMT_CACHE];
} loy_state;

#define LOY(ctx) ((loy_state *)crm_get_data(ctx))
#define PROG(ctx) (&LOY(ctx)->p)

/* ---- config.c ---- */
extern const crm_config_field loy_config_schema[];
/* Reads loyalty.programs into the state; CRM_ECONFIG with file:line:col. */
int loy_config_load(crm_plugin_ctx *ctx);
/* The reward named `name`, or NULL. */
const loy_reward *loy_find_reward(crm_plugin_ctx *ctx, const char *name);
/* The reward kind's name ("voucher", ...). */
const char *loy_kind_name(loy_reward_kind k);
/* Level index of tier `name`, or -1. */
int loy_level_index(crm_plugin_ctx *ctx, const char *name);

/* ---- stmt_cache.c ---- */
/* The statement for `sql` into *out, prepared once and kept; the prepare's
 * error otherwise. Give it back with loy_cached_done(ctx, sql, st) after its
 * last step. */
int loy_cached_stmt(crm_plugin_ctx *ctx, const char *sql, crm_stmt **out);
/* Resets a kept statement for its next use (finalizes one that was not kept). */
void loy_cached_done(crm_plugin_ctx *ctx, const char *sql, crm_stmt *st);
/* Finalizes every kept statement (fini: before the host closes the database). */
void loy_stmt_cache_free(crm_plugin_ctx *ctx);

/* ---- util.c ---- */
crm_stmt *loy_prep(crm_plugin_ctx *ctx, const char *sql, int n, ...);
/* loy_prep on a kept statement (stmt_cache.c): give it back with
 * loy_cached_done(ctx, sql, st), never crm_sql_finalize. */
crm_stmt *loy_kept(crm_plugin_ctx *ctx, const char *sql, int n, ...);
int loy_run(crm_plugin_ctx *ctx, const char *sql, int n, ...);
int64_t loy_scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...);
int loy_fail_db(crm_plugin_ctx *ctx, const char *what);
/* A contact id from an id, external id (ext:X) or email; 0 with the error set. */
int64_t loy_resolve_contact(crm_plugin_ctx *ctx, const char *ref);
const char *loy_opt(const crm_command_args *args, const char *name);
int64_t loy_opt_int(const crm_command_args *args, const char *name, int64_t dflt);
int loy_flag(const crm_command_args *args, const char *name);
/* --as-of is global: crm_now. Formats t in locale.timezone. */
const char *loy_time(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size);
const char *loy_money(crm_plugin_ctx *ctx, int64_t minor, char *buf, size_t size);
/* Prints j as one compact line and releases it. */
void loy_print_json(crm_command_io *io, json_t *j);
/* Minor units per point value: liability of `points` in minor units (rounded). */
int64_t loy_points_money(crm_plugin_ctx *ctx, int64_t points);

/* ---- book.c: the ledger ---- */
/* Creates the member row when absent (joined_at = at, a referral code). */
int loy_member_ensure(crm_plugin_ctx *ctx, int64_t cid, int64_t at);
/* Whether operation key exists (its id in *op_id when given). */
int loy_op_exists(crm_plugin_ctx *ctx, const char *key, int64_t *op_id);
/* Earns `points` (> 0) as one lot under operation `key`: pending until
 * pending_until (<= at: approved at once), expiring at expires_at (0 never),
 * and settles a future_earnings debt from it. *done 0 when key existed. */
int loy_earn(crm_plugin_ctx *ctx, int64_t cid, int64_t points, const char *key, const char *kind,
             const char *reason, int64_t order_id, int64_t at, int64_t pending_until,
             int64_t expires_at, int *done);
/* Draws `points` from the contact's approved, unexpired lots FIFO (soonest
 * expiry first, then oldest) as entries of `kind` under a new operation
 * `key`. CRM_EINVAL when the balance is short (nothing written). */
int loy_draw(crm_plugin_ctx *ctx, int64_t cid, int64_t points, const char *key, const char *kind,
             const char *reason, int64_t at, int64_t *op_id);
/* Reverses an order's points for a cumulative refund of `refunded` of its
 * `total` (full: refunded >= total) under operation `key`; a shortfall (points
 * already spent) is clawed back by the program's policy. */
int loy_reverse_order(crm_plugin_ctx *ctx, int64_t order_id, int64_t refunded, int64_t total,
                      const char *key, int64_t at);
/* Approves lot `lot` (its pending period is over). */
int loy_approve_lot(crm_plugin_ctx *ctx, int64_t lot, int64_t at);
/* Expires what remains of lot `lot` (loyalty.points_expired). */
int loy_expire_lot(crm_plugin_ctx *ctx, int64_t lot, int64_t at);
/* Queues the expiry warning of lot `lot` through the outbox when there is one. */
int loy_warn_lot(crm_plugin_ctx *ctx, int64_t lot, int64_t at);
/* Approves and expires every due lot as of `at` (the demo; timers do it otherwise). */
int loy_sweep(crm_plugin_ctx *ctx, int64_t at);

/* ---- balance.c ---- */
typedef struct loy_balance {
    int64_t approved, pending, spent, expired, reversed, lifetime, debt;
} loy_balance;
int loy_balance_get(crm_plugin_ctx *ctx, int64_t cid, loy_balance *b);
/* Counts the ledger's broken invariants into *problems, printing each to out
 * (may be NULL). */
int loy_check(crm_plugin_ctx *ctx, FILE *out, int64_t *problems);

/* ---- tiers.c ---- */
/* The value tiers qualify on over the window as of `at`. */
int64_t loy_tier_value(crm_plugin_ctx *ctx, int64_t cid, int64_t at);
/* Recomputes the contact's tier as of `at` (loyalty.tier_changed) and
 * schedules its next window boundary or grace end. */
int loy_tier_update(crm_plugin_ctx *ctx, int64_t cid, int64_t at);
/* The contact's current level index (0 when not a member). */
size_t loy_tier_of(crm_plugin_ctx *ctx, int64_t cid);
/* 1 when the contact is in the VIP club as of at. */
int loy_is_vip(crm_plugin_ctx *ctx, int64_t cid, int64_t at);

/* ---- rewards.c ---- */
/* Redeems reward `name` for the contact under `key` in one transaction;
 * *redemption_id set. CRM_EINVAL with the reason when refused. */
int loy_redeem(crm_plugin_ctx *ctx, int64_t cid, const char *name, const char *key, int64_t at,
               int64_t *redemption_id);
/* Marks vouchers whose code an order's lines carry as used by that order. */
int loy_vouchers_use(crm_plugin_ctx *ctx, int64_t order_id, int64_t at);

/* ---- referrals.c ---- */
/* Records that `referee` came with referral code `code`. */
int loy_referral_add(crm_plugin_ctx *ctx, int64_t referee, const char *code, int64_t at,
                     int64_t *id);
/* Called when an order's points are approved: a pending referral of the
 * order's contact is checked and rewarded or refused. */
int loy_referral_on_approved(crm_plugin_ctx *ctx, int64_t cid, int64_t order_id, int64_t at);

/* ---- report.c ---- */
int loy_report_json(crm_plugin_ctx *ctx, int64_t at, json_t **out);

/* ---- events.c ---- */
int loy_on_order(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud);
int loy_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *t, void *ud);

/* ---- privacy.c ---- */
int loy_privacy_register(crm_plugin_ctx *ctx);

/* ---- demo.c ---- */
int loy_demo(crm_plugin_ctx *ctx, crm_command_io *io);

/* ---- schema.c ---- */
int loy_schema_register(crm_plugin_ctx *ctx);

/* ---- loyalty_cmd.c: the card as data ---- */
/* *out = `crm loyalty balance --json` with "program", "point_name", "member",
 * "balance" (the approved points), "grace_until" as epoch seconds and
 * "history": [{"at", "kind", "points", "reason", "key"}] oldest first. */
int loy_card_json(crm_plugin_ctx *ctx, int64_t cid, json_t **out);

/* ---- http_routes.c: the HTTP routes (SDK 1.4; none on an older host) ---- */
int loy_routes_register(crm_plugin_ctx *ctx);

/* ---- loyalty_cmd.c ---- */
int loy_cmd_balance(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_history(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_earn(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_adjust(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_redeem(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_refund(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_check(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_report(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_rewards(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_refer(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_referrals(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_join(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);
int loy_cmd_vip(crm_plugin_ctx *, crm_command_io *, const crm_command_args *);

#endif

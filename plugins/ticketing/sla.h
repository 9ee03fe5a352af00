/* ticketing plugin — SLA clocks as a pure function of a ticket's history.
 *
 * No SDK here (testable alone, like segmentation's rfm.c): business time is
 * asked of the caller through tk_cal_ops, so the same history against the
 * same calendar and policy gives the same clocks every time (a recompute
 * after a calendar or policy change equals a fresh computation). */
#ifndef TK_SLA_H
#define TK_SLA_H

#include <stddef.h>
#include <stdint.h>

/* Ticket statuses, in the order of the issue. */
typedef enum tk_status {
    TK_NEW, TK_OPEN, TK_PENDING, TK_ON_HOLD, TK_SOLVED, TK_CLOSED, TK_NSTATUS
} tk_status;

/* The clocks. periodic_update: the longest an open ticket may go without a
 * public agent update, counted from the last one (from the first reply on). */
typedef enum tk_metric {
    TK_FIRST_REPLY, TK_NEXT_REPLY, TK_RESOLUTION, TK_PERIODIC_UPDATE, TK_NMETRIC
} tk_metric;

/* Who wrote a message of the conversation. */
typedef enum tk_author { TK_CUSTOMER, TK_AGENT, TK_NOTE } tk_author;

typedef enum tk_hist_kind { TK_H_STATUS, TK_H_MESSAGE } tk_hist_kind;

/* One event of a ticket's history, in time order. */
typedef struct tk_hist {
    int64_t at;
    tk_hist_kind kind;
    int value; /* TK_H_STATUS: the new tk_status; TK_H_MESSAGE: a tk_author */
} tk_hist;

/* Business time on the policy's calendar. between: open seconds in [a, b);
 * add: the instant `secs` open seconds after t. Both return 0 on success. */
typedef struct tk_cal_ops {
    int (*between)(void *ud, int64_t a, int64_t b, int64_t *out);
    int (*add)(void *ud, int64_t t, int64_t secs, int64_t *out);
    void *ud;
} tk_cal_ops;

/* The policy as the computation needs it: target business seconds per
 * metric (0 = no target) and, per status, a bit mask of the metrics it
 * pauses (1 << tk_metric). */
typedef struct tk_sla_policy {
    int64_t target[TK_NMETRIC];
    unsigned pause[TK_NSTATUS];
} tk_sla_policy;

#define TK_SLA_MAX_STEPS 16

/* What started, paused, resumed and stopped a clock (for `crm sla show`). */
typedef struct tk_sla_step {
    int64_t at;
    const char *what; /* static text: "started (ticket opened)", "paused (pending)" ... */
} tk_sla_step;

/* One clock's state as of `now`. Times are 0 when unknown. */
typedef struct tk_clock {
    int has_target;       /* the policy has a target for this metric */
    int started;          /* the clock ever started */
    int running;          /* counting now (started, not stopped, not paused) */
    int paused;           /* started, not stopped, paused by the status */
    int stopped;          /* achieved (or stopped by solve/close without a reply) */
    int64_t started_at;   /* start of the current (or last) cycle */
    int64_t achieved_at;  /* when the current cycle stopped; 0 while open */
    int64_t target_at;    /* the deadline while running (or the breach instant) */
    int64_t elapsed;      /* business seconds counted in the current cycle */
    int64_t remaining;    /* target - elapsed (negative once breached) */
    int breached;         /* the current cycle passed its target */
    int64_t breached_at;  /* when it did */
    int breaches;         /* cycles breached so far (next_reply has several) */
    size_t nsteps;
    tk_sla_step steps[TK_SLA_MAX_STEPS]; /* the last TK_SLA_MAX_STEPS transitions */
} tk_clock;

/* Computes the clocks of a ticket opened at created_at (status new)
 * with history h[0..n) (time order) as of `now`, against `policy` and
 * `cal`. due_override (0 = none) replaces the resolution deadline with a
 * wall-clock instant. Returns 0, or -1 when the calendar failed. */
int tk_sla_compute(const tk_sla_policy *policy, const tk_cal_ops *cal, int64_t created_at,
                   const tk_hist *h, size_t n, int64_t now, int64_t due_override,
                   tk_clock out[TK_NMETRIC]);

/* Names: "first_reply", "new", "customer" ...; NULL for out of range. */
const char *tk_metric_name(int m);
const char *tk_status_name(int s);
/* The enum value of a name, or -1. */
int tk_metric_parse(const char *name);
int tk_status_parse(const char *name);

#endif

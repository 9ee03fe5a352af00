/* ticketing plugin — SLA clocks from a ticket's history (pure: see sla.h).
 *
 * The history is replayed in order; between two events every clock that is
 * started, not stopped and not paused by the current status counts the
 * business seconds of the interval on the policy's calendar. Nothing is
 * accumulated elsewhere: the stored clocks are a cache of this function. */
#include <string.h>

#include "sla.h"

static const char *const metric_names[TK_NMETRIC] = {"first_reply", "next_reply", "resolution",
                                                     "periodic_update"};
static const char *const status_names[TK_NSTATUS] = {"new",    "open",   "pending",
                                                     "on_hold", "solved", "closed"};

const char *tk_metric_name(int m)
{
    return m >= 0 && m < TK_NMETRIC ? metric_names[m] : NULL;
}

const char *tk_status_name(int s)
{
    return s >= 0 && s < TK_NSTATUS ? status_names[s] : NULL;
}

static int parse(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

int tk_metric_parse(const char *name)
{
    return parse(metric_names, TK_NMETRIC, name);
}

int tk_status_parse(const char *name)
{
    return parse(status_names, TK_NSTATUS, name);
}

/* Keeps the last TK_SLA_MAX_STEPS transitions (the oldest drop out). */
static void step(tk_clock *c, int64_t at, const char *what)
{
    if (c->nsteps == TK_SLA_MAX_STEPS) {
        memmove(c->steps, c->steps + 1, (TK_SLA_MAX_STEPS - 1) * sizeof c->steps[0]);
        c->nsteps--;
    }
    c->steps[c->nsteps].at = at;
    c->steps[c->nsteps].what = what;
    c->nsteps++;
}

/* Solved and closed tickets wait for nobody: their reply clocks stand
 * still whatever the configuration says. */
static int paused_by(const tk_sla_policy *p, int status, int m)
{
    if ((status == TK_SOLVED || status == TK_CLOSED) && m != TK_RESOLUTION)
        return 1;
    return (p->pause[status] >> m) & 1u;
}

static int counting(const tk_sla_policy *p, const tk_clock *c, int status, int m)
{
    return c->started && !c->stopped && !paused_by(p, status, m);
}

/* Counts [a, b) into a counting clock: its deadline as of a, and the breach
 * instant when the target falls inside the interval. */
static int advance(const tk_sla_policy *p, const tk_cal_ops *cal, tk_clock *c, int m, int64_t a,
                   int64_t b)
{
    int64_t d = 0, left = p->target[m] - c->elapsed;
    if (b <= a)
        return 0;
    if (cal->between(cal->ud, a, b, &d))
        return -1;
    if (p->target[m] > 0 && !c->breached) {
        if (cal->add(cal->ud, a, left, &c->target_at))
            return -1;
        if (d >= left) {
            c->breached = 1;
            c->breaches++;
            c->breached_at = c->target_at;
            step(c, c->target_at, "breached (target reached)");
        }
    }
    c->elapsed += d;
    return 0;
}

/* A new cycle of clock c starts at `at`. */
static void start(tk_clock *c, int64_t at, const char *why)
{
    int breaches = c->breaches;
    size_t nsteps = c->nsteps;
    tk_sla_step steps[TK_SLA_MAX_STEPS];
    memcpy(steps, c->steps, sizeof steps);
    int has_target = c->has_target;
    memset(c, 0, sizeof *c);
    c->has_target = has_target;
    c->breaches = breaches;
    c->nsteps = nsteps;
    memcpy(c->steps, steps, sizeof steps);
    c->started = 1;
    c->started_at = at;
    step(c, at, why);
}

static void stop(tk_clock *c, int64_t at, const char *why)
{
    c->stopped = 1;
    c->achieved_at = at;
    step(c, at, why);
}

/* A message of the conversation: an agent's reply stops the reply clocks
 * and begins a new periodic_update cycle; a customer's message after the
 * first reply starts a next_reply cycle unless an older unanswered one is
 * running. */
static void on_message(tk_clock *c, int author, int64_t at)
{
    if (author == TK_AGENT) {
        tk_clock *u = &c[TK_PERIODIC_UPDATE];
        if (u->started && !u->stopped)
            stop(u, at, "achieved (agent update)");
        start(u, at, "started (agent update)");
        if (c[TK_FIRST_REPLY].started && !c[TK_FIRST_REPLY].stopped)
            stop(&c[TK_FIRST_REPLY], at, "achieved (first agent reply)");
        if (c[TK_NEXT_REPLY].started && !c[TK_NEXT_REPLY].stopped)
            stop(&c[TK_NEXT_REPLY], at, "achieved (agent reply)");
    } else if (author == TK_CUSTOMER && c[TK_FIRST_REPLY].stopped &&
               (!c[TK_NEXT_REPLY].started || c[TK_NEXT_REPLY].stopped)) {
        start(&c[TK_NEXT_REPLY], at, "started (customer message waiting)");
    }
}

/* A status change: solve stops the resolution clock, a reopen resumes it
 * (its elapsed time kept); pauses are noted for the explanation. */
static void on_status(const tk_sla_policy *p, tk_clock *c, int from, int to, int64_t at)
{
    tk_clock *r = &c[TK_RESOLUTION];
    if ((to == TK_SOLVED || to == TK_CLOSED) && !r->stopped)
        stop(r, at, to == TK_SOLVED ? "achieved (solved)" : "achieved (closed)");
    else if (from == TK_SOLVED && to != TK_CLOSED && r->stopped) {
        r->stopped = 0;
        r->achieved_at = 0;
        step(r, at, "resumed (reopened)");
    }
    for (int m = 0; m < TK_NMETRIC; m++) {
        if (!c[m].started || c[m].stopped)
            continue;
        int was = paused_by(p, from, m), is = paused_by(p, to, m);
        if (!was && is)
            step(&c[m], at, "paused (status)");
        else if (was && !is)
            step(&c[m], at, "resumed (status)");
    }
}

/* The state as of now of each clock, its deadline where it runs. */
static int finish(const tk_sla_policy *p, const tk_cal_ops *cal, tk_clock *c, int status,
                  int64_t now, int64_t due_override)
{
    for (int m = 0; m < TK_NMETRIC; m++) {
        tk_clock *k = &c[m];
        k->paused = k->started && !k->stopped && paused_by(p, status, m);
        k->running = counting(p, k, status, m);
        k->remaining = p->target[m] - k->elapsed;
        if (k->running && p->target[m] > 0 && !k->breached &&
            cal->add(cal->ud, now, k->remaining, &k->target_at))
            return -1;
        if (k->paused && !k->breached)
            k->target_at = 0; /* unknown until it resumes */
    }
    tk_clock *r = &c[TK_RESOLUTION];
    if (due_override > 0 && r->started) {
        int64_t end = r->stopped ? r->achieved_at : now;
        r->has_target = 1;
        r->target_at = due_override;
        r->breached = end > due_override;
        r->breached_at = r->breached ? due_override : 0;
        r->breaches = r->breached;
        if (cal->between(cal->ud, end, due_override, &r->remaining))
            return -1;
    }
    return 0;
}

int tk_sla_compute(const tk_sla_policy *policy, const tk_cal_ops *cal, int64_t created_at,
                   const tk_hist *h, size_t n, int64_t now, int64_t due_override,
                   tk_clock out[TK_NMETRIC])
{
    memset(out, 0, TK_NMETRIC * sizeof *out);
    for (int m = 0; m < TK_NMETRIC; m++)
        out[m].has_target = policy->target[m] > 0;
    int status = TK_NEW;
    int64_t t = created_at;
    start(&out[TK_FIRST_REPLY], created_at, "started (ticket opened)");
    start(&out[TK_RESOLUTION], created_at, "started (ticket opened)");
    for (size_t i = 0; i <= n; i++) {
        int64_t at = i < n ? h[i].at : now;
        if (at > now)
            at = now; /* history after --as-of is not seen */
        for (int m = 0; m < TK_NMETRIC; m++)
            if (counting(policy, &out[m], status, m) &&
                advance(policy, cal, &out[m], m, t, at))
                return -1;
        if (at > t)
            t = at;
        if (i == n || h[i].at > now)
            break;
        if (h[i].kind == TK_H_MESSAGE)
            on_message(out, h[i].value, h[i].at);
        else if (h[i].value >= 0 && h[i].value < TK_NSTATUS) {
            on_status(policy, out, status, h[i].value, h[i].at);
            status = h[i].value;
        }
    }
    return finish(policy, cal, out, status, now, due_override);
}

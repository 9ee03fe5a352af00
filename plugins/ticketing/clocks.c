/* ticketing plugin — the clocks of sla.c against the host's calendars:
 * the policy chosen (first match), the result cached in ticketing_clocks,
 * each running clock's deadline as two timers (warning, breach), and the
 * ticket.sla_warning / ticket.sla_breached events, once per clock cycle. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

typedef struct cal_ud {
    crm_plugin_ctx *ctx;
    const char *calendar;
} cal_ud;

static int cal_between(void *ud, int64_t a, int64_t b, int64_t *out)
{
    cal_ud *c = ud;
    return crm_calendar_between(c->ctx, c->calendar, a, b, out) == CRM_OK ? 0 : -1;
}

static int cal_add(void *ud, int64_t t, int64_t secs, int64_t *out)
{
    cal_ud *c = ud;
    char d[32];
    snprintf(d, sizeof d, "%llds", (long long)secs);
    return crm_calendar_add(c->ctx, c->calendar, t, d, out) == CRM_OK ? 0 : -1;
}

/* Does policy p's `when` hold for ticket t? Each given condition must. */
static int policy_matches(crm_plugin_ctx *ctx, const tk_policy *p, const tk_ticket *t)
{
    if ((p->tag[0] && !tk_list_has(t->tags, p->tag)) ||
        (p->priority[0] && strcmp(p->priority, t->priority)) ||
        (p->type[0] && strcmp(p->type, t->type)) || (p->team[0] && strcmp(p->team, t->team)))
        return 0;
    if (!p->lua[0])
        return 1;
    char *res = NULL;
    int ok = 0;
    if (crm_call_rule(ctx, p->lua, t->contact_id, &res, NULL, NULL) == CRM_OK && res) {
        json_t *v = json_loads(res, 0, NULL);
        ok = v && json_is_true(json_object_get(v, "result"));
        json_decref(v);
    } else {
        crm_log(ctx, CRM_LOG_WARN, "sla policy %s: rule %s failed: %s", p->name, p->lua,
                crm_last_error(ctx));
    }
    crm_free(ctx, res);
    return ok;
}

int tk_policy_select(crm_plugin_ctx *ctx, const tk_ticket *t, char *name, size_t size)
{
    name[0] = 0;
    for (size_t i = 0; i < TK(ctx)->npol; i++)
        if (policy_matches(ctx, &TK(ctx)->pol[i], t)) {
            snprintf(name, size, "%s", TK(ctx)->pol[i].name);
            break;
        }
    return CRM_OK;
}

/* The history as sla.c reads it; *out malloc'd. */
static int load_history(crm_plugin_ctx *ctx, int64_t id, tk_hist **out, size_t *n)
{
    static const char *const authors[] = {"customer", "agent", "note"};
    crm_stmt *st = tk_prep(ctx,
                           "SELECT at, kind, value FROM ticketing_history WHERE ticket_id = ?1"
                           " ORDER BY at, id",
                           1, id);
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!st)
        return tk_fail_db(ctx, "reading the ticket's history");
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            tk_hist *v = realloc(*out, cap * sizeof *v);
            if (!v) {
                crm_sql_finalize(st);
                return CRM_ENOMEM;
            }
            *out = v;
        }
        tk_hist *h = &(*out)[*n];
        const char *kind = crm_sql_column_text(st, 1), *value = crm_sql_column_text(st, 2);
        h->at = crm_sql_column_int64(st, 0);
        h->kind = kind && !strcmp(kind, "message") ? TK_H_MESSAGE : TK_H_STATUS;
        h->value = -1;
        if (h->kind == TK_H_STATUS)
            h->value = tk_status_parse(value);
        else
            for (int a = 0; a < 3; a++)
                if (value && !strcmp(value, authors[a]))
                    h->value = a;
        (*n)++;
    }
    crm_sql_finalize(st);
    return rc < 0 ? tk_fail_db(ctx, "reading the ticket's history") : CRM_OK;
}

int tk_clocks_compute(crm_plugin_ctx *ctx, const tk_ticket *t, int64_t now,
                      tk_clock out[TK_NMETRIC])
{
    tk_sla_policy pol;
    memset(&pol, 0, sizeof pol);
    memcpy(pol.pause, TK(ctx)->pause, sizeof pol.pause);
    const tk_policy *p = tk_policy_find(ctx, t->policy);
    int pr = tk_priority_index(t->priority);
    if (p && pr >= 0)
        memcpy(pol.target, p->target[pr], sizeof pol.target);
    cal_ud ud = {ctx, p ? p->calendar : "default"};
    tk_cal_ops cal = {cal_between, cal_add, &ud};
    tk_hist *h = NULL;
    size_t n = 0;
    int rc = load_history(ctx, t->id, &h, &n);
    if (rc == CRM_OK && tk_sla_compute(&pol, &cal, t->created_at, h, n, now, t->due_override, out))
        rc = CRM_EINVAL; /* the calendar's message is set */
    free(h);
    return rc;
}

static int store(crm_plugin_ctx *ctx, const tk_ticket *t, const tk_clock *c)
{
    int64_t next = 0, breached = 0;
    for (int m = 0; m < TK_NMETRIC; m++) {
        crm_stmt *st = tk_prep(ctx,
                               "INSERT OR REPLACE INTO ticketing_clocks (ticket_id, contact_id,"
                               " metric, started_at, target_at, achieved_at, elapsed, remaining,"
                               " breached, breaches, paused, running) VALUES"
                               " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                               2, t->id, t->contact_id);
        if (!st)
            return tk_fail_db(ctx, "storing the clocks");
        const tk_clock *k = &c[m];
        crm_sql_bind_text(st, 3, tk_metric_name(m));
        int64_t v[] = {k->started_at, k->target_at, k->achieved_at, k->elapsed,
                       k->has_target ? k->remaining : 0, k->breached, k->breaches, k->paused,
                       k->running};
        for (int i = 0; i < 9; i++)
            if (i < 3 && !v[i])
                crm_sql_bind_null(st, 4 + i);
            else
                crm_sql_bind_int64(st, 4 + i, v[i]);
        int rc = crm_sql_step(st);
        crm_sql_finalize(st);
        if (rc < 0)
            return tk_fail_db(ctx, "storing the clocks");
        if (k->running && k->has_target && k->target_at && (!next || k->target_at < next))
            next = k->target_at;
        breached |= k->breaches > 0;
    }
    crm_stmt *st = tk_prep(ctx,
                           "UPDATE ticketing_tickets SET next_deadline = ?2, breached = ?3,"
                           " policy = ?4 WHERE id = ?1",
                           3, t->id, next, breached);
    if (!st)
        return tk_fail_db(ctx, "storing the clocks");
    if (!next)
        crm_sql_bind_null(st, 2);
    crm_sql_bind_text(st, 4, t->policy);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? tk_fail_db(ctx, "storing the clocks") : CRM_OK;
}

/* The clock's two timers: scheduled while it runs towards a deadline,
 * cancelled otherwise (scheduling a key again moves it). */
static int timers(crm_plugin_ctx *ctx, const tk_ticket *t, int m, const tk_clock *k, int64_t now)
{
    static const char *const kinds[2] = {"warning", "breach"};
    for (int b = 0; b < 2; b++) {
        char key[96], payload[160];
        snprintf(key, sizeof key, "sla:%lld:%s:%s", (long long)t->id, tk_metric_name(m), kinds[b]);
        int64_t due = k->target_at - (b ? 0 : TK(ctx)->warn_before);
        int rc;
        if (k->running && k->has_target && !k->breached && k->target_at && due > now) {
            snprintf(payload, sizeof payload,
                     "{\"ticket_id\": %lld, \"contact_id\": %lld, \"metric\": \"%s\"}",
                     (long long)t->id, (long long)t->contact_id, tk_metric_name(m));
            rc = crm_schedule(ctx, key, due, payload);
        } else {
            rc = crm_cancel(ctx, key, NULL);
        }
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

static int notify_breaches(crm_plugin_ctx *ctx, const tk_ticket *t, const tk_clock *c,
                           int64_t now);

int tk_clocks_update(crm_plugin_ctx *ctx, int64_t id, int64_t now)
{
    tk_ticket t;
    tk_clock c[TK_NMETRIC];
    if (TK(ctx)->batch)
        return CRM_OK; /* the batch recomputes each ticket once, when its story ends */
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc == CRM_OK)
        rc = tk_policy_select(ctx, &t, t.policy, sizeof t.policy);
    if (rc == CRM_OK)
        rc = tk_clocks_compute(ctx, &t, now, c);
    if (rc == CRM_OK)
        rc = store(ctx, &t, c);
    if (rc == CRM_OK)
        rc = notify_breaches(ctx, &t, c, now);
    for (int m = 0; rc == CRM_OK && m < TK_NMETRIC; m++)
        rc = timers(ctx, &t, m, &c[m], now);
    return rc;
}

json_t *tk_clocks_json(crm_plugin_ctx *ctx, const tk_clock *c, int64_t now)
{
    (void)now;
    json_t *o = json_object();
    for (int m = 0; o && m < TK_NMETRIC; m++) {
        const tk_clock *k = &c[m];
        json_t *j = json_object();
        tk_json_time(ctx, j, "target_at", k->has_target ? k->target_at : 0);
        tk_json_time(ctx, j, "achieved_at", k->achieved_at);
        json_object_set_new(j, "breached", json_boolean(k->breached));
        json_object_set_new(j, "remaining_seconds",
                            k->has_target && !k->stopped ? json_integer(k->remaining) : json_null());
        json_object_set_new(j, "paused", json_boolean(k->paused));
        json_object_set_new(j, "running", json_boolean(k->running));
        json_object_set_new(j, "elapsed_seconds", json_integer(k->elapsed));
        json_object_set_new(j, "breaches", json_integer(k->breaches));
        tk_json_time(ctx, j, "started_at", k->started ? k->started_at : 0);
        json_object_set_new(o, tk_metric_name(m), j);
    }
    return o;
}

/* Inserts the notice unless this cycle already had it: 1 when inserted. */
static int first_notice(crm_plugin_ctx *ctx, const tk_ticket *t, int m, int64_t cycle,
                        const char *kind, int64_t at)
{
    crm_stmt *st = tk_prep(ctx,
                           "SELECT count(*) FROM ticketing_notices WHERE ticket_id = ?1 AND"
                           " cycle = ?2 AND metric = ?3 AND kind = ?4",
                           2, t->id, cycle);
    if (!st)
        return -1;
    crm_sql_bind_text(st, 3, tk_metric_name(m));
    crm_sql_bind_text(st, 4, kind);
    int seen = crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_int64(st, 0) > 0;
    crm_sql_finalize(st);
    if (seen)
        return 0;
    st = tk_prep(ctx,
                 "INSERT INTO ticketing_notices (ticket_id, contact_id, metric, cycle, kind, at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 6, t->id, t->contact_id, (int64_t)0, cycle, (int64_t)0, at);
    if (!st)
        return -1;
    crm_sql_bind_text(st, 3, tk_metric_name(m));
    crm_sql_bind_text(st, 5, kind);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? -1 : 1;
}

/* The clock's warning or breach event, unless this cycle had it. */
static int notify(crm_plugin_ctx *ctx, const tk_ticket *t, int m, const tk_clock *k, int breach,
                  int64_t at)
{
    int first = first_notice(ctx, t, m, k->started_at, breach ? "breach" : "warning", at);
    if (first < 0)
        return tk_fail_db(ctx, "recording the notice");
    if (!first)
        return CRM_OK;
    json_t *x = json_object();
    json_object_set_new(x, "metric", json_string(tk_metric_name(m)));
    json_object_set_new(x, "target_at", json_integer(k->target_at));
    json_object_set_new(x, "policy", json_string(t->policy));
    return tk_emit(ctx, breach ? "ticket.sla_breached" : "ticket.sla_warning", t, x);
}

/* A breach the history shows but no timer announced yet (the reply that
 * stopped the clock came after the deadline, before the worker ran). */
static int notify_breaches(crm_plugin_ctx *ctx, const tk_ticket *t, const tk_clock *c, int64_t now)
{
    int rc = CRM_OK;
    for (int m = 0; rc == CRM_OK && m < TK_NMETRIC; m++)
        if (c[m].breached && c[m].breached_at <= now)
            rc = notify(ctx, t, m, &c[m], 1, now);
    return rc;
}

int tk_clocks_fire(crm_plugin_ctx *ctx, int64_t id, int m, int breach, int64_t at)
{
    tk_ticket t;
    tk_clock c[TK_NMETRIC];
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK; /* erased or deleted since: nothing to say */
    if (rc == CRM_OK)
        rc = tk_clocks_compute(ctx, &t, at, c);
    if (rc != CRM_OK || m < 0 || m >= TK_NMETRIC)
        return rc;
    const tk_clock *k = &c[m];
    if (!breach && k->running && !k->breached && k->target_at - TK(ctx)->warn_before <= at)
        rc = notify(ctx, &t, m, k, 0, at);
    return rc == CRM_OK ? tk_clocks_update(ctx, id, at) : rc;
}

/* ticketing plugin — crm sla show|recompute, crm ticket due|queue, crm agent
 * set: the clocks explained, recomputed from history, overridden, and the
 * team's queue ordered by time left before breach. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

int tk_cmd_sla_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t id, now = crm_now(ctx);
    tk_ticket t;
    tk_clock c[TK_NMETRIC];
    int rc = tk_arg_id(ctx, args, 0, &id);
    if (rc == CRM_OK)
        rc = tk_ticket_load(ctx, id, &t);
    if (rc == CRM_OK)
        rc = tk_policy_select(ctx, &t, t.policy, sizeof t.policy);
    if (rc == CRM_OK)
        rc = tk_clocks_compute(ctx, &t, now, c);
    if (rc != CRM_OK)
        return rc;
    const tk_policy *p = tk_policy_find(ctx, t.policy);
    const char *cal = p ? p->calendar : "default";
    json_t *o = json_object();
    json_object_set_new(o, "ticket_id", json_integer(id));
    json_object_set_new(o, "policy", p ? json_string(p->name) : json_null());
    json_object_set_new(o, "calendar", json_string(cal));
    json_t *sla = tk_clocks_json(ctx, c, now);
    for (int m = 0; m < TK_NMETRIC; m++) {
        json_t *steps = json_array();
        for (size_t i = 0; i < c[m].nsteps; i++) {
            json_t *s = json_object();
            tk_json_time(ctx, s, "at", c[m].steps[i].at);
            json_object_set_new(s, "what", json_string(c[m].steps[i].what));
            json_array_append_new(steps, s);
        }
        json_object_set_new(json_object_get(sla, tk_metric_name(m)), "steps", steps);
    }
    json_object_set_new(o, "sla", sla);
    if (crm_io_json(io))
        return tk_print_json(io, o);
    FILE *out = crm_io_out(io);
    fprintf(out, "ticket %lld, policy %s, calendar %s, priority %s\n", (long long)id,
            p ? p->name : "(none matches)", cal, t.priority);
    for (int m = 0; m < TK_NMETRIC; m++) {
        char a[64];
        const tk_clock *k = &c[m];
        fprintf(out, "%s: %s, elapsed %llds of business time", tk_metric_name(m),
                !k->has_target ? "no target" : k->breached ? "BREACHED" : k->stopped ? "achieved"
                : k->paused ? "paused" : k->running ? "running" : "not started",
                (long long)k->elapsed);
        if (k->has_target && k->target_at)
            fprintf(out, ", target %s", tk_fmt_time(ctx, k->target_at, a, sizeof a));
        fputc('\n', out);
        for (size_t i = 0; i < k->nsteps; i++)
            fprintf(out, "  %s  %s\n", tk_fmt_time(ctx, k->steps[i].at, a, sizeof a),
                    k->steps[i].what);
    }
    json_decref(o);
    return CRM_OK;
}

typedef struct recompute_req {
    int64_t only, n;
} recompute_req;

static int recompute(crm_plugin_ctx *ctx, void *ud)
{
    recompute_req *r = ud;
    crm_stmt *st = tk_prep(ctx, "SELECT id FROM ticketing_tickets WHERE (?1 = 0 OR id = ?1)"
                                " ORDER BY id", 1, r->only);
    if (!st)
        return tk_fail_db(ctx, "listing tickets");
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = CRM_OK;
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            int64_t *p = realloc(ids, cap * sizeof *p);
            if (!p) {
                rc = CRM_ENOMEM;
                break;
            }
            ids = p;
        }
        ids[n++] = crm_sql_column_int64(st, 0);
    }
    crm_sql_finalize(st);
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = tk_clocks_update(ctx, ids[i], crm_now(ctx));
    free(ids);
    if (rc == CRM_OK && r->only && !n) {
        crm_set_error(ctx, "no ticket %lld (see crm ticket list)", (long long)r->only);
        return CRM_ENOTFOUND;
    }
    r->n = (int64_t)n;
    return rc;
}

int tk_cmd_sla_recompute(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value v;
    crm_args_option(args, "ticket", &v);
    recompute_req r = {v.given ? v.i : 0, 0};
    int rc = tk_in_txn(ctx, recompute, &r);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "%lld tickets recomputed\n", (long long)r.n);
    return rc;
}

static int due_txn(crm_plugin_ctx *ctx, void *ud)
{
    int64_t *v = ud;
    crm_stmt *st = tk_prep(ctx, "UPDATE ticketing_tickets SET due_override = ?2 WHERE id = ?1",
                           2, v[0], v[1]);
    if (!st)
        return tk_fail_db(ctx, "setting the due date");
    if (!v[1])
        crm_sql_bind_null(st, 2);
    int rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "setting the due date") : CRM_OK;
    crm_sql_finalize(st);
    return rc == CRM_OK ? tk_clocks_update(ctx, v[0], crm_now(ctx)) : rc;
}

int tk_cmd_due(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t v[2] = {0, 0};
    tk_ticket t;
    crm_value at, clear;
    int rc = tk_arg_id(ctx, args, 0, &v[0]);
    crm_args_option(args, "at", &at);
    crm_args_option(args, "clear", &clear);
    if (rc == CRM_OK && at.given == clear.given) {
        crm_set_error(ctx, "give --at DATE or --clear");
        return CRM_EUSAGE;
    }
    v[1] = at.given ? at.i : 0;
    if (rc == CRM_OK)
        rc = tk_ticket_load(ctx, v[0], &t);
    if (rc == CRM_OK)
        rc = tk_in_txn(ctx, due_txn, v);
    char d[64];
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "ticket %lld: resolution due %s\n", (long long)v[0],
                v[1] ? tk_fmt_time(ctx, v[1], d, sizeof d) : "as the policy says");
    return rc;
}

int tk_cmd_queue(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const char *team = tk_opt_text(args, "team");
    int64_t now = crm_now(ctx);
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, "SELECT id, subject, priority, assignee, next_deadline, breached FROM"
                             " ticketing_tickets WHERE status NOT IN ('solved', 'closed') AND"
                             " (?1 IS NULL OR team = ?1) ORDER BY next_deadline IS NULL,"
                             " next_deadline, id LIMIT 100", &st) != CRM_OK)
        return tk_fail_db(ctx, "reading the queue");
    if (team)
        crm_sql_bind_text(st, 1, team);
    else
        crm_sql_bind_null(st, 1);
    FILE *out = crm_io_out(io);
    if (!crm_io_json(io))
        fprintf(out, "%-6s %-7s %-8s %-25s %-10s %s\n", "ID", "PRIO", "AGENT", "NEXT DEADLINE",
                "LEFT", "SUBJECT");
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        int64_t id = crm_sql_column_int64(st, 0), next = crm_sql_column_int64(st, 4);
        const char *ag = crm_sql_column_text(st, 3);
        if (crm_io_json(io)) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(id));
            json_object_set_new(o, "subject", json_string(crm_sql_column_text(st, 1)));
            json_object_set_new(o, "priority", json_string(crm_sql_column_text(st, 2)));
            json_object_set_new(o, "assignee", ag ? json_string(ag) : json_null());
            tk_json_time(ctx, o, "next_deadline", next);
            json_object_set_new(o, "seconds_left", next ? json_integer(next - now) : json_null());
            tk_print_json(io, o);
        } else {
            char d[64], left[32] = "-";
            if (next)
                snprintf(left, sizeof left, "%lldm", (long long)((next - now) / 60));
            fprintf(out, "%-6lld %-7s %-8s %-25s %-10s %s\n", (long long)id,
                    crm_sql_column_text(st, 2), ag ? ag : "-", tk_fmt_time(ctx, next, d, sizeof d),
                    left, crm_sql_column_text(st, 1));
        }
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

typedef struct agent_req {
    const char *name, *team, *skills, *calendar;
    int64_t capacity;
    int has_capacity;
} agent_req;

static int agent_txn(crm_plugin_ctx *ctx, void *ud)
{
    agent_req *a = ud;
    crm_stmt *st = tk_prep(ctx,
                           "INSERT INTO ticketing_agents (name, team, skills, calendar, capacity)"
                           " VALUES (?1, ?2, coalesce(?3, ''), ?4, coalesce(?5, 0))"
                           " ON CONFLICT (name) DO UPDATE SET team = coalesce(?2, team),"
                           " skills = coalesce(?3, skills), calendar = coalesce(?4, calendar),"
                           " capacity = coalesce(?5, capacity)", 0);
    if (!st)
        return tk_fail_db(ctx, "setting the agent");
    const char *v[] = {a->name, a->team, a->skills, a->calendar};
    for (int i = 0; i < 4; i++)
        if (v[i])
            crm_sql_bind_text(st, i + 1, v[i]);
        else
            crm_sql_bind_null(st, i + 1);
    if (a->has_capacity)
        crm_sql_bind_int64(st, 5, a->capacity);
    else
        crm_sql_bind_null(st, 5);
    int rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "setting the agent") : CRM_OK;
    crm_sql_finalize(st);
    return rc;
}

int tk_cmd_agent_set(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value cap;
    crm_args_option(args, "capacity", &cap);
    agent_req a = {crm_args_get(args, 0), tk_opt_text(args, "team"), tk_opt_text(args, "skills"),
                   tk_opt_text(args, "calendar"), cap.i, cap.given};
    int open;
    if (a.team && !tk_team_find(ctx, a.team)) {
        crm_set_error(ctx, "--team: no team '%s' in crm.yaml ticketing.teams", a.team);
        return CRM_EUSAGE;
    }
    if (a.calendar && crm_calendar_is_open(ctx, a.calendar, crm_now(ctx), &open) != CRM_OK)
        return CRM_EUSAGE; /* the host's message names the calendar */
    int rc = tk_in_txn(ctx, agent_txn, &a);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "agent %s set\n", a.name);
    return rc;
}

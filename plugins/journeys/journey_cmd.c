/* journeys plugin — `crm journey list|show|contacts|pause|resume|exit` and
 * the `crm demo` headline. Reads count from the durable rows; pause, resume
 * and exit write in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jrn_int.h"

typedef struct jrn_counts {
    int64_t entered, active, goal, completed, exited, messages, conversions, revenue;
} jrn_counts;

static int count(crm_plugin_ctx *ctx, const char *journey, jrn_counts *c)
{
    memset(c, 0, sizeof *c);
    crm_stmt *st = jrn_prep(ctx,
        "SELECT count(*), coalesce(sum(status = 'active'), 0),"
        " coalesce(sum(exit_reason = 'goal'), 0), coalesce(sum(status = 'completed'), 0),"
        " coalesce(sum(status = 'exited'), 0),"
        " (SELECT count(*) FROM journeys_effects f JOIN journeys_entries x ON x.id = f.entry_id"
        "   WHERE x.journey = ?1 AND f.kind = 'send'),"
        " coalesce(sum(order_id IS NOT NULL), 0),"
        " (SELECT coalesce(sum(o.total), 0) FROM orders o WHERE o.id IN"
        "   (SELECT order_id FROM journeys_entries WHERE journey = ?1))"
        " FROM journeys_entries WHERE journey = ?1");
    if (!st)
        return jrn_fail(ctx, "counting entries");
    crm_sql_bind_text(st, 1, journey);
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW) {
        int64_t *v[] = {&c->entered, &c->active, &c->goal, &c->completed, &c->exited,
                        &c->messages, &c->conversions, &c->revenue};
        for (int i = 0; i < 8; i++)
            *v[i] = crm_sql_column_int64(st, i);
    }
    crm_sql_finalize(st);
    return rc < 0 ? jrn_fail(ctx, "counting entries") : CRM_OK;
}

static bool is_paused(crm_plugin_ctx *ctx, const char *journey)
{
    crm_stmt *st = jrn_prep(ctx, "SELECT 1 FROM journeys_paused WHERE journey = ?1");
    if (!st)
        return false;
    crm_sql_bind_text(st, 1, journey);
    bool p = crm_sql_step(st) == CRM_SQL_ROW;
    crm_sql_finalize(st);
    return p;
}

static json_t *counts_json(crm_plugin_ctx *ctx, const jrn_flow *f, const jrn_counts *c)
{
    const char *cur = CRM_API_HAS(ctx, locale) ? crm_locale(ctx, "currency") : NULL;
    char money[64] = "";
    crm_format_money(ctx, c->revenue, cur ? cur : "EUR", money, sizeof money);
    return json_pack("{sssssbsIsIsIsIsIsIsIsIss}", "name", f->name, "trigger", f->trigger,
                     "paused", is_paused(ctx, f->name), "entered", (json_int_t)c->entered,
                     "active", (json_int_t)c->active, "exited_goal", (json_int_t)c->goal,
                     "completed", (json_int_t)c->completed, "exited", (json_int_t)c->exited,
                     "messages", (json_int_t)c->messages, "conversions",
                     (json_int_t)c->conversions, "revenue_minor", (json_int_t)c->revenue,
                     "revenue", money);
}

static void print_json(crm_command_io *io, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (text)
        fprintf(crm_io_out(io), "%s\n", text);
    free(text);
    json_decref(v);
}

int jrn_cmd_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    jrn_state *S = JRN(ctx);
    FILE *out = crm_io_out(io);
    if (!crm_io_json(io))
        fprintf(out, "%-18s %8s %7s %6s %9s %8s %11s %16s\n", "JOURNEY", "ENTERED", "ACTIVE",
                "GOAL", "COMPLETED", "MESSAGES", "CONVERSIONS", "REVENUE");
    for (size_t i = 0; i < S->n_flows; i++) {
        jrn_counts c;
        int rc = count(ctx, S->flows[i].name, &c);
        if (rc != CRM_OK)
            return rc;
        json_t *j = counts_json(ctx, &S->flows[i], &c);
        if (crm_io_json(io)) {
            print_json(io, j);
            continue;
        }
        fprintf(out, "%-18s %8lld %7lld %6lld %9lld %8lld %11lld %16s%s\n", S->flows[i].name,
                (long long)c.entered, (long long)c.active, (long long)c.goal,
                (long long)c.completed, (long long)c.messages, (long long)c.conversions,
                json_string_value(json_object_get(j, "revenue")),
                json_is_true(json_object_get(j, "paused")) ? " (paused)" : "");
        json_decref(j);
    }
    return CRM_OK;
}

static const jrn_flow *need_flow(crm_plugin_ctx *ctx, const char *name)
{
    const jrn_flow *f = jrn_flow_find(ctx, name);
    if (!f) {
        jrn_state *S = JRN(ctx);
        char known[512] = "";
        for (size_t i = 0; i < S->n_flows; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     S->flows[i].name);
        crm_set_error(ctx, "no journey '%s' in crm.yaml (journeys.flows: %s)", name,
                      known[0] ? known : "none");
    }
    return f;
}

static json_t *step_json(const jrn_step *s, size_t i)
{
    json_t *j = json_pack("{sIss}", "step", (json_int_t)i, "kind", s->kind);
    if (s->arg[0])
        json_object_set_new(j, "arg", json_string(s->arg));
    if (s->timing != JRN_AT_NOW)
        json_object_set_new(j, s->timing == JRN_AT_AFTER ? "after" : "wait",
                            json_string(s->duration));
    if (s->profile[0])
        json_object_set_new(j, "profile", json_string(s->profile));
    if (s->cond[0])
        json_object_set_new(j, "if", json_string(s->cond));
    return j;
}

int jrn_cmd_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const jrn_flow *f = need_flow(ctx, crm_args_get(args, 0));
    if (!f)
        return CRM_ENOTFOUND;
    jrn_counts c;
    int rc = count(ctx, f->name, &c);
    if (rc != CRM_OK)
        return rc;
    json_t *j = counts_json(ctx, f, &c), *steps = json_array(), *profiles = json_array();
    for (size_t i = 0; i < f->n_steps; i++)
        json_array_append_new(steps, step_json(&f->steps[i], i));
    for (size_t i = 0; i < f->n_profiles; i++)
        json_array_append_new(profiles, json_pack("{ssss}", "name", f->profiles[i].name, "if",
                                                  f->profiles[i].cond));
    json_object_set_new(j, "goal", json_string(f->goal));
    char reentry[48];
    if (!strcmp(f->reentry, "after"))
        snprintf(reentry, sizeof reentry, "after %lldd", (long long)(f->reentry_after / 86400));
    else
        snprintf(reentry, sizeof reentry, "%s", f->reentry);
    json_object_set_new(j, "reentry", json_string(reentry));
    json_object_set_new(j, "priority", json_integer(f->priority));
    json_object_set_new(j, "profiles", profiles);
    json_object_set_new(j, "steps", steps);
    if (crm_io_json(io)) {
        print_json(io, j);
        return CRM_OK;
    }
    FILE *out = crm_io_out(io);
    fprintf(out, "journey %s: trigger %s%s%s, goal %s, reentry %s\n", f->name, f->trigger,
            f->trigger_if[0] ? " if " : "", f->trigger_if, f->goal[0] ? f->goal : "-", reentry);
    fprintf(out, "entered %lld, active %lld, exited by goal %lld, completed %lld, messages %lld\n",
            (long long)c.entered, (long long)c.active, (long long)c.goal, (long long)c.completed,
            (long long)c.messages);
    for (size_t i = 0; i < f->n_profiles; i++)
        fprintf(out, "profile %-14s if %s\n", f->profiles[i].name, f->profiles[i].cond);
    for (size_t i = 0; i < f->n_steps; i++) {
        const jrn_step *s = &f->steps[i];
        fprintf(out, "%2zu %-6s %-5s %-10s %-14s %s%s%s\n", i,
                s->timing == JRN_AT_AFTER ? "after" : s->timing == JRN_AT_WAIT ? "wait" : "",
                s->duration, s->kind, s->profile[0] ? s->profile : "(all)", s->arg,
                s->cond[0] ? " if " : "", s->cond);
    }
    json_decref(j);
    return CRM_OK;
}

int jrn_cmd_contacts(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const jrn_flow *f = need_flow(ctx, crm_args_get(args, 0));
    if (!f)
        return CRM_ENOTFOUND;
    crm_value step;
    bool by_step = crm_args_option(args, "step", &step) == CRM_OK;
    crm_stmt *st = jrn_prep(ctx, "SELECT id, contact_id, entry_no, profile, status,"
                                 " coalesce(exit_reason, ''), step, entered_at,"
                                 " coalesce(next_at, 0) FROM journeys_entries WHERE journey = ?1"
                                 " AND (?2 < 0 OR (step = ?2 AND status = 'active')) ORDER BY id");
    if (!st)
        return jrn_fail(ctx, "listing entries");
    crm_sql_bind_text(st, 1, f->name);
    crm_sql_bind_int64(st, 2, by_step ? step.i : -1);
    FILE *out = crm_io_out(io);
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t next = crm_sql_column_int64(st, 8), entered = crm_sql_column_int64(st, 7);
        char next_s[40] = "-", entered_s[40];
        crm_format_time(ctx, entered, NULL, entered_s, sizeof entered_s);
        if (next)
            crm_format_time(ctx, next, NULL, next_s, sizeof next_s);
        json_t *j = json_pack("{sIsIsIsssssssIssss}", "entry_id",
                              (json_int_t)crm_sql_column_int64(st, 0), "contact_id",
                              (json_int_t)crm_sql_column_int64(st, 1), "entry",
                              (json_int_t)crm_sql_column_int64(st, 2), "profile",
                              crm_sql_column_text(st, 3), "status", crm_sql_column_text(st, 4),
                              "exit_reason", crm_sql_column_text(st, 5), "step",
                              (json_int_t)crm_sql_column_int64(st, 6), "entered_at", entered_s,
                              "next_at", next_s);
        if (crm_io_json(io)) {
            print_json(io, j);
            continue;
        }
        fprintf(out, "contact %-6lld entry %lld %-12s %-9s step %-2lld next %s %s\n",
                (long long)crm_sql_column_int64(st, 1), (long long)crm_sql_column_int64(st, 2),
                crm_sql_column_text(st, 3)[0] ? crm_sql_column_text(st, 3) : "-",
                crm_sql_column_text(st, 4), (long long)crm_sql_column_int64(st, 6), next_s,
                crm_sql_column_text(st, 5));
        json_decref(j);
    }
    crm_sql_finalize(st);
    return rc < 0 ? jrn_fail(ctx, "listing entries") : CRM_OK;
}

static int exec1(crm_plugin_ctx *ctx, const char *sql, const char *text, int64_t num)
{
    crm_stmt *st = jrn_prep(ctx, sql);
    if (!st)
        return jrn_fail(ctx, "writing");
    crm_sql_bind_text(st, 1, text);
    crm_sql_bind_int64(st, 2, num);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? jrn_fail(ctx, "writing") : CRM_OK;
}

int jrn_cmd_pause(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const jrn_flow *f = need_flow(ctx, crm_args_get(args, 0));
    if (!f)
        return CRM_ENOTFOUND;
    int rc = exec1(ctx, "INSERT INTO journeys_paused(journey, paused_at) VALUES(?1, ?2)"
                        " ON CONFLICT DO NOTHING", f->name, crm_now(ctx));
    if (rc == CRM_OK && !crm_io_json(io))
        fprintf(crm_io_out(io), "journey %s paused: no entries, no steps until resume\n", f->name);
    return rc;
}

/* Resume: every active entry's timer is set again at its next step's due
 * time (or now when that passed while paused). */
int jrn_cmd_resume(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const jrn_flow *f = need_flow(ctx, crm_args_get(args, 0));
    if (!f)
        return CRM_ENOTFOUND;
    int rc = crm_begin(ctx);
    if (rc == CRM_OK)
        rc = exec1(ctx, "DELETE FROM journeys_paused WHERE journey = ?1 AND ?2 = ?2", f->name, 0);
    crm_stmt *st = rc == CRM_OK ? jrn_prep(ctx, "SELECT id, contact_id, coalesce(next_at, 0)"
                                               " FROM journeys_entries WHERE journey = ?1"
                                               " AND status = 'active'")
                                : NULL;
    if (rc == CRM_OK && !st)
        rc = jrn_fail(ctx, "reading entries");
    int64_t now = crm_now(ctx), n = 0;
    if (st)
        crm_sql_bind_text(st, 1, f->name);
    while (rc == CRM_OK && crm_sql_step(st) == CRM_SQL_ROW) {
        int64_t next = crm_sql_column_int64(st, 2);
        rc = jrn_schedule_entry(ctx, crm_sql_column_int64(st, 0), crm_sql_column_int64(st, 1),
                                next > now ? next : now);
        n++;
    }
    crm_sql_finalize(st);
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    if (rc == CRM_OK && !crm_io_json(io))
        fprintf(crm_io_out(io), "journey %s resumed (%lld active entries)\n", f->name,
                (long long)n);
    return rc;
}

int jrn_cmd_exit(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const jrn_flow *f = need_flow(ctx, crm_args_get(args, 0));
    crm_value contact;
    if (!f)
        return CRM_ENOTFOUND;
    crm_args_option(args, "contact", &contact);
    crm_stmt *st = jrn_prep(ctx, "SELECT id FROM journeys_entries WHERE journey = ?1"
                                 " AND contact_id = ?2 AND status = 'active'");
    if (!st)
        return jrn_fail(ctx, "reading entries");
    crm_sql_bind_text(st, 1, f->name);
    crm_sql_bind_int64(st, 2, contact.i);
    int64_t id = crm_sql_step(st) == CRM_SQL_ROW ? crm_sql_column_int64(st, 0) : 0;
    crm_sql_finalize(st);
    if (!id) {
        crm_set_error(ctx, "contact %lld has no active entry in journey %s (see crm journey "
                           "contacts %s)", (long long)contact.i, f->name, f->name);
        return CRM_ENOTFOUND;
    }
    int rc = crm_begin(ctx);
    if (rc == CRM_OK)
        rc = jrn_exit_entry(ctx, id, "manual", crm_now(ctx), 0);
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    if (rc == CRM_OK && !crm_io_json(io))
        fprintf(crm_io_out(io), "contact %lld left journey %s\n", (long long)contact.i, f->name);
    return rc;
}

int jrn_demo(crm_plugin_ctx *ctx, crm_command_io *io)
{
    jrn_state *S = JRN(ctx);
    int64_t entered = 0, messages = 0, goal = 0;
    for (size_t i = 0; i < S->n_flows; i++) {
        jrn_counts c;
        int rc = count(ctx, S->flows[i].name, &c);
        if (rc != CRM_OK)
            return rc;
        entered += c.entered, messages += c.messages, goal += c.goal;
    }
    if (crm_io_json(io))
        print_json(io, json_pack("{sIsIsIsI}", "journeys", (json_int_t)S->n_flows, "entered",
                                 (json_int_t)entered, "messages", (json_int_t)messages,
                                 "exited_goal", (json_int_t)goal));
    else
        fprintf(crm_io_out(io), "journeys: %zu journeys, %lld entries, %lld messages, %lld "
                                "reached their goal (crm journey list)\n",
                S->n_flows, (long long)entered, (long long)messages, (long long)goal);
    return CRM_OK;
}

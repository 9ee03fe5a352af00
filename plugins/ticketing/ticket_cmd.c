/* ticketing plugin — crm ticket open|reply|note|assign|status|solve|reopen|
 * list|show: each write command is one transaction (a failure changes
 * nothing) at the kernel's clock (--as-of). */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static int open_txn(crm_plugin_ctx *ctx, void *ud)
{
    void **v = ud;
    return tk_ticket_open(ctx, v[0], v[1]);
}

int tk_cmd_open(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value c;
    crm_args_option(args, "contact", &c);
    tk_open_req r = {c.i, crm_now(ctx), tk_opt_text(args, "subject"),
                     tk_opt_text(args, "description"), tk_opt_text(args, "priority"),
                     tk_opt_text(args, "type"), tk_opt_text(args, "channel"),
                     tk_opt_text(args, "team"), tk_opt_text(args, "tag"),
                     tk_opt_text(args, "assignee")};
    int64_t id = 0;
    void *v[2] = {&r, &id};
    int rc = tk_in_txn(ctx, open_txn, v);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "%lld\n", (long long)id);
    return rc;
}

typedef struct msg_req {
    int64_t id;
    int author;
    const char *body, *who;
} msg_req;

static int msg_txn(crm_plugin_ctx *ctx, void *ud)
{
    msg_req *m = ud;
    return tk_ticket_message(ctx, m->id, m->author, m->body, m->who, crm_now(ctx));
}

static int message(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                   int author)
{
    msg_req m = {0, author, tk_opt_text(args, "body"), tk_opt_text(args, "author")};
    int rc = tk_arg_id(ctx, args, 0, &m.id);
    const char *as = tk_opt_text(args, "as");
    if (rc == CRM_OK && as && author != TK_NOTE) {
        if (!strcmp(as, "customer"))
            m.author = TK_CUSTOMER;
        else if (!strcmp(as, "agent"))
            m.author = TK_AGENT;
        else {
            crm_set_error(ctx, "--as: '%s' is not customer or agent", as);
            return CRM_EUSAGE;
        }
    }
    if (rc == CRM_OK)
        rc = tk_in_txn(ctx, msg_txn, &m);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "ticket %lld: %s added\n", (long long)m.id,
                m.author == TK_NOTE ? "note" : "message");
    return rc;
}

int tk_cmd_reply(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return message(ctx, io, args, TK_AGENT);
}

int tk_cmd_note(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return message(ctx, io, args, TK_NOTE);
}

typedef struct status_req {
    int64_t id;
    int status;
} status_req;

static int status_txn(crm_plugin_ctx *ctx, void *ud)
{
    status_req *s = ud;
    return tk_ticket_set_status(ctx, s->id, s->status, crm_now(ctx));
}

static int set_status(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                      int status)
{
    status_req s = {0, status};
    int rc = tk_arg_id(ctx, args, 0, &s.id);
    if (rc == CRM_OK && status < 0) {
        s.status = tk_status_parse(crm_args_get(args, 1));
        if (s.status < 0) {
            crm_set_error(ctx, "status: '%s' is not one of new, open, pending, on_hold, solved, "
                               "closed", crm_args_get(args, 1));
            return CRM_EUSAGE;
        }
    }
    if (rc == CRM_OK && status == TK_OPEN) { /* reopen: only a solved ticket */
        tk_ticket t;
        rc = tk_ticket_load(ctx, s.id, &t);
        if (rc == CRM_OK && strcmp(t.status, "solved")) {
            crm_set_error(ctx, "ticket %lld is %s, not solved: nothing to reopen", (long long)s.id,
                          t.status);
            rc = CRM_EINVAL;
        }
    }
    if (rc == CRM_OK)
        rc = tk_in_txn(ctx, status_txn, &s);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "ticket %lld: %s\n", (long long)s.id, tk_status_name(s.status));
    return rc;
}

int tk_cmd_status(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return set_status(ctx, io, args, -1);
}

int tk_cmd_solve(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return set_status(ctx, io, args, TK_SOLVED);
}

int tk_cmd_reopen(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return set_status(ctx, io, args, TK_OPEN);
}

typedef struct assign_req {
    int64_t id;
    const char *user, *team;
} assign_req;

static int assign_txn(crm_plugin_ctx *ctx, void *ud)
{
    assign_req *a = ud;
    return tk_ticket_assign(ctx, a->id, a->user, a->team, crm_now(ctx));
}

int tk_cmd_assign(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    assign_req a = {0, tk_opt_text(args, "user"), tk_opt_text(args, "team")};
    int rc = tk_arg_id(ctx, args, 0, &a.id);
    if (rc == CRM_OK && !a.user && !a.team) {
        crm_set_error(ctx, "give --user U or --team T");
        return CRM_EUSAGE;
    }
    if (rc == CRM_OK)
        rc = tk_in_txn(ctx, assign_txn, &a);
    tk_ticket t;
    if (rc == CRM_OK && (rc = tk_ticket_load(ctx, a.id, &t)) == CRM_OK)
        fprintf(crm_io_out(io), "ticket %lld: %s (team %s)\n", (long long)a.id,
                t.assignee[0] ? t.assignee : "unassigned", t.team[0] ? t.team : "-");
    return rc;
}

int tk_cmd_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t id;
    tk_ticket t;
    int rc = tk_arg_id(ctx, args, 0, &id);
    if (rc == CRM_OK)
        rc = tk_ticket_load(ctx, id, &t);
    if (rc != CRM_OK)
        return rc;
    json_t *o = tk_ticket_json(ctx, &t, crm_now(ctx), 1);
    if (crm_io_json(io))
        return tk_print_json(io, o);
    FILE *out = crm_io_out(io);
    char a[64];
    fprintf(out, "#%lld %s\n  status %s, priority %s, type %s, channel %s\n  contact %lld, "
                 "team %s, assignee %s, policy %s\n  opened %s\n",
            (long long)t.id, t.subject, t.status, t.priority, t.type, t.channel,
            (long long)t.contact_id, t.team[0] ? t.team : "-", t.assignee[0] ? t.assignee : "-",
            t.policy[0] ? t.policy : "-", tk_fmt_time(ctx, t.created_at, a, sizeof a));
    json_t *sla = json_object_get(o, "sla");
    for (int m = 0; sla && m < TK_NMETRIC; m++) {
        json_t *k = json_object_get(sla, tk_metric_name(m));
        const char *target = json_string_value(json_object_get(k, "target_at_iso"));
        fprintf(out, "  %-12s target %s%s%s%s\n", tk_metric_name(m), target ? target : "-",
                json_is_true(json_object_get(k, "breached")) ? ", BREACHED" : "",
                json_is_true(json_object_get(k, "paused")) ? ", paused" : "",
                json_is_string(json_object_get(k, "achieved_at_iso")) ? ", achieved" : "");
    }
    size_t i;
    json_t *mm;
    json_array_foreach(json_object_get(o, "messages"), i, mm)
    {
        const char *at = json_string_value(json_object_get(mm, "at_iso"));
        const char *value = json_string_value(json_object_get(mm, "value"));
        const char *body = json_string_value(json_object_get(mm, "body"));
        if (body) /* a message: who wrote what */
            fprintf(out, "  %s  %-8s %s\n", at, value, body);
        else /* a status change */
            fprintf(out, "  %s  status -> %s\n", at, value);
    }
    json_decref(o);
    return CRM_OK;
}

int tk_cmd_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const char *status = tk_opt_text(args, "status"), *assignee = tk_opt_text(args, "assignee"),
               *team = tk_opt_text(args, "team"), *priority = tk_opt_text(args, "priority"),
               *sort = tk_opt_text(args, "sort");
    crm_value br;
    crm_args_option(args, "breached", &br);
    if (sort && strcmp(sort, "sla") && strcmp(sort, "id")) {
        crm_set_error(ctx, "--sort: '%s' is not sla or id", sort);
        return CRM_EUSAGE;
    }
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT id FROM ticketing_tickets WHERE (?1 IS NULL OR status = ?1) AND"
             " (?2 IS NULL OR assignee = ?2) AND (?3 IS NULL OR team = ?3) AND"
             " (?4 IS NULL OR priority = ?4) AND (?5 = 0 OR breached = 1) ORDER BY %s",
             sort && !strcmp(sort, "sla") ? "next_deadline IS NULL, next_deadline, id" : "id");
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return tk_fail_db(ctx, "listing tickets");
    const char *v[] = {status, assignee, team, priority};
    for (int i = 0; i < 4; i++)
        if (v[i])
            crm_sql_bind_text(st, i + 1, v[i]);
        else
            crm_sql_bind_null(st, i + 1);
    crm_sql_bind_int64(st, 5, br.given ? 1 : 0);
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
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
    FILE *out = crm_io_out(io);
    if (!crm_io_json(io) && rc == CRM_SQL_DONE)
        fprintf(out, "%-6s %-8s %-7s %-10s %-8s %-25s %s\n", "ID", "STATUS", "PRIO", "TEAM",
                "AGENT", "NEXT DEADLINE", "SUBJECT");
    for (size_t i = 0; rc == CRM_SQL_DONE && i < n; i++) {
        tk_ticket t;
        if (tk_ticket_load(ctx, ids[i], &t) != CRM_OK)
            continue;
        if (crm_io_json(io)) {
            tk_print_json(io, tk_ticket_json(ctx, &t, crm_now(ctx), 0));
            continue;
        }
        char d[64];
        int64_t next = tk_scalar(ctx, 0, "SELECT next_deadline FROM ticketing_tickets WHERE"
                                         " id = ?1", 1, t.id);
        fprintf(out, "%-6lld %-8s %-7s %-10s %-8s %-25s %s\n", (long long)t.id, t.status,
                t.priority, t.team[0] ? t.team : "-", t.assignee[0] ? t.assignee : "-",
                tk_fmt_time(ctx, next, d, sizeof d), t.subject);
    }
    free(ids);
    return rc < 0 ? tk_fail_db(ctx, "listing tickets") : CRM_OK;
}

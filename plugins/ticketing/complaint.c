/* ticketing plugin — the written-complaint process (French consumer law):
 * a ticket of type complaint is acknowledged at once, must be answered
 * within two months (level 1); a customer not satisfied escalates to the
 * consumer mediator (level 2, 90 days), and the final answer names the
 * mediator of crm.yaml. The register lists every complaint with its
 * deadlines kept or missed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tk_int.h"

int64_t tk_add_months(int64_t t, int months)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return t;
    int mday = tm.tm_mday;
    tm.tm_mon += months;
    tm.tm_mday = 1;
    time_t first = timegm(&tm); /* normalises the month */
    gmtime_r(&first, &tm);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = tm.tm_year + 1900;
    int last = days[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
    tm.tm_mday = mday < last ? mday : last; /* 31 Dec + 2 months = 28/29 Feb */
    return (int64_t)timegm(&tm);
}

int tk_complaint_start(crm_plugin_ctx *ctx, const tk_ticket *t)
{
    int64_t at = t->created_at;
    int rc = tk_run(ctx,
                    "INSERT INTO ticketing_complaints (ticket_id, contact_id, received_at,"
                    " acknowledged_at, level, level1_due) VALUES (?1, ?2, ?3, ?3, 1, ?4)",
                    4, t->id, t->contact_id, at, tk_add_months(at, 2));
    if (rc != CRM_OK)
        return tk_fail_db(ctx, "registering the complaint");
#ifdef crm_message_queue_json /* the SDK has the outbox (1.3: messages) */
    if (CRM_API_HAS(ctx, message_queue_json)) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"contact_id\": %lld, \"template\": \"%s\", \"key\": \"ticketing:ack:%lld\","
                 " \"data\": {\"ticket_id\": %lld}}",
                 (long long)t->contact_id, TK(ctx)->ack_template, (long long)t->id,
                 (long long)t->id);
        rc = crm_message_queue_json(ctx, json, NULL);
        if (rc == CRM_ENOTFOUND) { /* no such template: the register still shows the date */
            crm_log(ctx, CRM_LOG_WARN, "complaint %lld: %s", (long long)t->id, crm_last_error(ctx));
            rc = CRM_OK;
        }
    }
#endif
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "level1_due", json_integer(tk_add_months(at, 2)));
        rc = tk_emit(ctx, "ticket.complaint_received", t, x);
    }
    return rc;
}

/* The final-answer text: the mediator's details appended (the law asks it). */
static void mediator_text(crm_plugin_ctx *ctx, const char *body, char *out, size_t size)
{
    tk_state *S = TK(ctx);
    snprintf(out, size, "%s\n\nIf this answer does not satisfy you, you may refer the matter "
                        "free of charge to the consumer mediator: %s%s%s%s%s.",
             body, S->mediator_name, S->mediator_url[0] ? ", " : "", S->mediator_url,
             S->mediator_address[0] ? ", " : "", S->mediator_address);
}

typedef struct respond_req {
    int64_t id, at;
    const char *body, *outcome;
    int level;
} respond_req;

static int respond(crm_plugin_ctx *ctx, void *ud)
{
    respond_req *r = ud;
    char text[4096];
    mediator_text(ctx, r->body, text, sizeof text);
    int rc = tk_ticket_message(ctx, r->id, TK_AGENT, text, NULL, r->at);
    crm_stmt *st = NULL;
    if (rc == CRM_OK)
        st = tk_prep(ctx, r->level == 1
                              ? "UPDATE ticketing_complaints SET level1_answered_at = ?2,"
                                " outcome = ?3, mediator = ?4 WHERE ticket_id = ?1"
                              : "UPDATE ticketing_complaints SET level2_answered_at = ?2,"
                                " outcome = ?3, mediator = ?4 WHERE ticket_id = ?1",
                     2, r->id, r->at);
    if (rc == CRM_OK && !st)
        return tk_fail_db(ctx, "recording the answer");
    if (st) {
        crm_sql_bind_text(st, 3, r->outcome);
        crm_sql_bind_text(st, 4, TK(ctx)->mediator_name);
        rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "recording the answer") : CRM_OK;
        crm_sql_finalize(st);
    }
    if (rc == CRM_OK)
        rc = tk_ticket_set_status(ctx, r->id, TK_SOLVED, r->at);
    return rc;
}

static int complaint_level(crm_plugin_ctx *ctx, int64_t id)
{
    return (int)tk_scalar(ctx, 0, "SELECT level FROM ticketing_complaints WHERE ticket_id = ?1", 1,
                          id);
}

int tk_cmd_complaint_respond(crm_plugin_ctx *ctx, crm_command_io *io,
                             const crm_command_args *args)
{
    static const char *const outcomes[] = {"upheld", "partly_upheld", "rejected"};
    respond_req r = {0, crm_now(ctx), tk_opt_text(args, "body"), tk_opt_text(args, "outcome"), 0};
    int rc = tk_arg_id(ctx, args, 0, &r.id);
    if (rc != CRM_OK)
        return rc;
    if (!r.outcome)
        r.outcome = "upheld";
    int ok = 0;
    for (int i = 0; i < 3; i++)
        ok |= !strcmp(outcomes[i], r.outcome);
    if (!ok) {
        crm_set_error(ctx, "--outcome: '%s' is not upheld, partly_upheld or rejected", r.outcome);
        return CRM_EUSAGE;
    }
    if (!(r.level = complaint_level(ctx, r.id))) {
        crm_set_error(ctx, "ticket %lld is not a complaint", (long long)r.id);
        return CRM_ENOTFOUND;
    }
    rc = tk_in_txn(ctx, respond, &r);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "complaint %lld answered (level %d, %s), naming %s\n",
                (long long)r.id, r.level, r.outcome, TK(ctx)->mediator_name);
    return rc;
}

static int escalate(crm_plugin_ctx *ctx, void *ud)
{
    int64_t *v = ud, id = v[0], at = v[1];
    tk_ticket t;
    int rc = tk_run(ctx,
                    "UPDATE ticketing_complaints SET level = 2, level2_at = ?2, level2_due = ?3"
                    " WHERE ticket_id = ?1",
                    3, id, at, at + 90 * 86400);
    if (rc == CRM_OK)
        rc = tk_ticket_load(ctx, id, &t);
    if (rc == CRM_OK && (!strcmp(t.status, "solved")))
        rc = tk_ticket_set_status(ctx, id, TK_OPEN, at);
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "level2_due", json_integer(at + 90 * 86400));
        json_object_set_new(x, "mediator", json_string(TK(ctx)->mediator_name));
        rc = tk_emit(ctx, "ticket.complaint_escalated", &t, x);
    }
    return rc;
}

int tk_cmd_complaint_escalate(crm_plugin_ctx *ctx, crm_command_io *io,
                              const crm_command_args *args)
{
    int64_t v[2] = {0, crm_now(ctx)};
    int rc = tk_arg_id(ctx, args, 0, &v[0]);
    if (rc != CRM_OK)
        return rc;
    int level = complaint_level(ctx, v[0]);
    if (level != 1) {
        crm_set_error(ctx, level ? "complaint %lld is already with the mediator (level 2)"
                                 : "ticket %lld is not a complaint",
                      (long long)v[0]);
        return level ? CRM_EINVAL : CRM_ENOTFOUND;
    }
    rc = tk_in_txn(ctx, escalate, v);
    char due[64];
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "complaint %lld escalated to %s, answer due %s\n",
                (long long)v[0], TK(ctx)->mediator_name,
                tk_fmt_time(ctx, v[1] + 90 * 86400, due, sizeof due));
    return rc;
}

/* A deadline kept, missed, or still open ("open", or "missed" once past). */
static const char *verdict(int64_t due, int64_t answered, int64_t now)
{
    if (!due)
        return NULL;
    if (answered)
        return answered <= due ? "kept" : "missed";
    return now > due ? "missed" : "open";
}

int tk_cmd_complaint_register(crm_plugin_ctx *ctx, crm_command_io *io,
                              const crm_command_args *args)
{
    crm_value from, to;
    int64_t now = crm_now(ctx);
    crm_args_option(args, "from", &from);
    crm_args_option(args, "to", &to);
    crm_stmt *st = tk_prep(ctx,
                           "SELECT c.ticket_id, c.contact_id, c.received_at, c.acknowledged_at,"
                           " c.level, c.level1_due, c.level1_answered_at, c.level2_at,"
                           " c.level2_due, c.level2_answered_at, c.outcome, c.mediator, t.subject"
                           " FROM ticketing_complaints c JOIN ticketing_tickets t"
                           " ON t.id = c.ticket_id WHERE c.received_at >= ?1 AND"
                           " c.received_at < ?2 ORDER BY c.received_at, c.ticket_id",
                           2, from.given ? from.i : INT64_MIN, to.given ? to.i : INT64_MAX);
    if (!st)
        return tk_fail_db(ctx, "reading the register");
    FILE *out = crm_io_out(io);
    if (!crm_io_json(io))
        fprintf(out, "%-6s %-25s %-25s %-6s %-6s %-8s %s\n", "TICKET", "RECEIVED", "LEVEL 1 DUE",
                "L1", "LEVEL", "L2", "OUTCOME");
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        int64_t v[10];
        for (int i = 0; i < 10; i++)
            v[i] = crm_sql_column_int64(st, i);
        const char *l1 = verdict(v[5], v[6], now), *l2 = verdict(v[8], v[9], now);
        const char *outcome = crm_sql_column_text(st, 10);
        if (crm_io_json(io)) {
            json_t *o = json_object();
            json_object_set_new(o, "ticket_id", json_integer(v[0]));
            json_object_set_new(o, "contact_id", json_integer(v[1]));
            json_object_set_new(o, "subject", json_string(crm_sql_column_text(st, 12)));
            tk_json_time(ctx, o, "received_at", v[2]);
            tk_json_time(ctx, o, "acknowledged_at", v[3]);
            json_object_set_new(o, "level", json_integer(v[4]));
            tk_json_time(ctx, o, "level1_due", v[5]);
            tk_json_time(ctx, o, "level1_answered_at", v[6]);
            json_object_set_new(o, "level1_deadline", json_string(l1));
            tk_json_time(ctx, o, "level2_at", v[7]);
            tk_json_time(ctx, o, "level2_due", v[8]);
            tk_json_time(ctx, o, "level2_answered_at", v[9]);
            json_object_set_new(o, "level2_deadline", l2 ? json_string(l2) : json_null());
            json_object_set_new(o, "outcome", outcome ? json_string(outcome) : json_null());
            const char *med = crm_sql_column_text(st, 11);
            json_object_set_new(o, "mediator", med ? json_string(med) : json_null());
            tk_print_json(io, o);
        } else {
            char a[64], b[64];
            fprintf(out, "%-6lld %-25s %-25s %-6s %-6lld %-8s %s\n", (long long)v[0],
                    tk_fmt_time(ctx, v[2], a, sizeof a), tk_fmt_time(ctx, v[5], b, sizeof b), l1,
                    (long long)v[4], l2 ? l2 : "-", outcome ? outcome : "-");
        }
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

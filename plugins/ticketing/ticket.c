/* ticketing plugin — the writes of a ticket: opening, the conversation (each
 * message a kernel interaction linked to the ticket, so the contact's
 * timeline shows it), status changes and assignment. Each records its
 * history row, emits its event and brings the clocks and timers up to date,
 * inside the caller's transaction. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static const char *const channels[] = {"email", "phone", "web", "chat", NULL};
static const char *const types[] = {"question", "incident", "problem", "request", "complaint",
                                    NULL};
static const char *const authors[] = {"customer", "agent", "note"};

static int one_of(crm_plugin_ctx *ctx, const char *field, const char *v,
                  const char *const *allowed)
{
    char list[256] = "";
    for (size_t i = 0; allowed[i]; i++) {
        if (!strcmp(v, allowed[i]))
            return CRM_OK;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 allowed[i]);
    }
    crm_set_error(ctx, "%s: '%s' is not one of %s", field, v, list);
    return CRM_EINVAL;
}

int tk_emit(crm_plugin_ctx *ctx, const char *type, const tk_ticket *t, json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "dataver", json_integer(1));
    json_object_set_new(o, "ticket_id", json_integer(t->id));
    json_object_set_new(o, "contact_id", json_integer(t->contact_id));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return CRM_ENOMEM;
    int rc = crm_emit_event(ctx, type, s);
    free(s);
    return rc;
}

static int history(crm_plugin_ctx *ctx, const tk_ticket *t, int64_t at, const char *kind,
                   const char *value, const char *author, int64_t interaction)
{
    crm_stmt *st = tk_prep(ctx,
                           "INSERT INTO ticketing_history (ticket_id, contact_id, at, kind, value,"
                           " author, interaction_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           3, t->id, t->contact_id, at);
    if (!st)
        return tk_fail_db(ctx, "recording the ticket's history");
    crm_sql_bind_text(st, 4, kind);
    crm_sql_bind_text(st, 5, value);
    if (author && *author)
        crm_sql_bind_text(st, 6, author);
    else
        crm_sql_bind_null(st, 6);
    if (interaction)
        crm_sql_bind_int64(st, 7, interaction);
    else
        crm_sql_bind_null(st, 7);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return tk_fail_db(ctx, "recording the ticket's history");
    return tk_run(ctx, "UPDATE ticketing_tickets SET updated_at = ?2 WHERE id = ?1", 2, t->id, at);
}

/* The kernel interaction of one message: inbound from the customer,
 * outbound from an agent, a note otherwise; subject "[#ID] subject". */
static int log_interaction(crm_plugin_ctx *ctx, const tk_ticket *t, int author,
                           const char *body, const char *who, int64_t at, int64_t *iid)
{
    const char *channel = !strcmp(t->channel, "email") ? "email"
                          : !strcmp(t->channel, "phone") ? "phone" : "web";
    char subject[300], ext[64];
    snprintf(subject, sizeof subject, "[#%lld] %s", (long long)t->id, t->subject);
    int64_t n = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_history WHERE ticket_id = ?1",
                          1, t->id);
    snprintf(ext, sizeof ext, "ticketing:%lld:%lld", (long long)t->id, (long long)n + 1);
    json_t *o = json_object();
    json_object_set_new(o, "contact_id", json_integer(t->contact_id));
    json_object_set_new(o, "channel", json_string(author == TK_NOTE ? "note" : channel));
    json_object_set_new(o, "direction", json_string(author == TK_CUSTOMER ? "in"
                                                    : author == TK_AGENT ? "out" : "none"));
    json_object_set_new(o, "subject", json_string(subject));
    json_object_set_new(o, "body", json_string(body));
    json_object_set_new(o, "occurred_at", json_integer(at));
    if (who && *who)
        json_object_set_new(o, "author", json_string(who));
    json_object_set_new(o, "external_id", json_string(ext));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return CRM_ENOMEM;
    int rc = crm_interaction_log_json(ctx, s, iid);
    free(s);
    return rc;
}

static int insert_ticket(crm_plugin_ctx *ctx, const tk_open_req *r, tk_ticket *t)
{
    crm_stmt *st = tk_prep(ctx,
                           "INSERT INTO ticketing_tickets (contact_id, subject, description,"
                           " channel, priority, type, status, team, tags, created_at, updated_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'new', ?7, ?8, ?9, ?9)",
                           1, r->contact_id);
    if (!st)
        return tk_fail_db(ctx, "opening the ticket");
    crm_sql_bind_text(st, 2, r->subject);
    crm_sql_bind_text(st, 3, r->description ? r->description : "");
    crm_sql_bind_text(st, 4, r->channel);
    crm_sql_bind_text(st, 5, r->priority);
    crm_sql_bind_text(st, 6, r->type);
    if (r->team && *r->team)
        crm_sql_bind_text(st, 7, r->team);
    else
        crm_sql_bind_null(st, 7);
    crm_sql_bind_text(st, 8, r->tags ? r->tags : "");
    crm_sql_bind_int64(st, 9, r->at);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return tk_fail_db(ctx, "opening the ticket");
    return tk_ticket_load(ctx, crm_sql_last_insert_id(ctx), t);
}

static int validate(crm_plugin_ctx *ctx, tk_open_req *r)
{
    char *c = NULL;
    if (!r->subject || !*r->subject) {
        crm_set_error(ctx, "subject: a ticket needs one");
        return CRM_EINVAL;
    }
    if (crm_contact_get_json(ctx, r->contact_id, &c) != CRM_OK) {
        crm_set_error(ctx, "contact: no contact %lld", (long long)r->contact_id);
        return CRM_ENOTFOUND;
    }
    crm_free(ctx, c);
    r->priority = r->priority ? r->priority : "normal";
    r->type = r->type ? r->type : "question";
    r->channel = r->channel ? r->channel : "email";
    if (tk_priority_index(r->priority) < 0) {
        crm_set_error(ctx, "priority: '%s' is not one of low, normal, high, urgent", r->priority);
        return CRM_EINVAL;
    }
    int rc = one_of(ctx, "type", r->type, types);
    if (rc == CRM_OK)
        rc = one_of(ctx, "channel", r->channel, channels);
    if (rc == CRM_OK && r->team && !tk_team_find(ctx, r->team)) {
        crm_set_error(ctx, "team: no team '%s' in crm.yaml ticketing.teams", r->team);
        rc = CRM_EINVAL;
    }
    if (rc == CRM_OK && !r->team && TK(ctx)->nteams)
        r->team = TK(ctx)->teams[0].name; /* the first team takes what nobody routed */
    return rc;
}

int tk_ticket_open(crm_plugin_ctx *ctx, const tk_open_req *req, int64_t *id)
{
    tk_open_req r = *req;
    tk_ticket t;
    int64_t iid = 0;
    int rc = validate(ctx, &r);
    if (rc == CRM_OK)
        rc = insert_ticket(ctx, &r, &t);
    if (rc == CRM_OK && r.description && *r.description) {
        rc = log_interaction(ctx, &t, TK_CUSTOMER, r.description, NULL, r.at, &iid);
        if (rc == CRM_OK)
            rc = history(ctx, &t, r.at, "message", "customer", NULL, iid);
    }
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "priority", json_string(t.priority));
        json_object_set_new(x, "type", json_string(t.type));
        rc = tk_emit(ctx, "ticket.created", &t, x);
    }
    if (rc == CRM_OK && !strcmp(t.type, "complaint"))
        rc = tk_complaint_start(ctx, &t);
    if (rc == CRM_OK)
        rc = tk_ticket_assign(ctx, t.id, r.assignee, NULL, r.at);
    if (rc == CRM_OK && id)
        *id = t.id;
    return rc;
}

int tk_ticket_set_status(crm_plugin_ctx *ctx, int64_t id, int status, int64_t at)
{
    tk_ticket t;
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc != CRM_OK)
        return rc;
    int from = tk_status_parse(t.status);
    if (from == status)
        return CRM_OK;
    if (from == TK_CLOSED) {
        crm_set_error(ctx, "ticket %lld is closed: open a new ticket instead", (long long)id);
        return CRM_EINVAL;
    }
    if (status == TK_NEW) {
        crm_set_error(ctx, "status: a ticket cannot go back to new");
        return CRM_EINVAL;
    }
    rc = history(ctx, &t, at, "status", tk_status_name(status), NULL, 0);
    crm_stmt *st = NULL;
    if (rc == CRM_OK && (st = tk_prep(ctx, "UPDATE ticketing_tickets SET status = ?2,"
                                           " solved_at = CASE WHEN ?2 = 'solved' THEN ?3"
                                           " ELSE solved_at END, closed_at = CASE WHEN ?2 ="
                                           " 'closed' THEN ?3 END WHERE id = ?1",
                                      1, id))) {
        crm_sql_bind_text(st, 2, tk_status_name(status));
        crm_sql_bind_int64(st, 3, at);
        rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "changing the status") : CRM_OK;
        crm_sql_finalize(st);
    } else if (rc == CRM_OK) {
        rc = tk_fail_db(ctx, "changing the status");
    }
    char key[64];
    snprintf(key, sizeof key, "close:%lld", (long long)id);
    if (rc == CRM_OK && status == TK_SOLVED) {
        char payload[96];
        snprintf(payload, sizeof payload, "{\"ticket_id\": %lld, \"contact_id\": %lld}",
                 (long long)id, (long long)t.contact_id);
        rc = crm_schedule(ctx, key, at + TK(ctx)->close_after, payload);
        if (rc == CRM_OK)
            rc = tk_survey_schedule(ctx, id, at);
        if (rc == CRM_OK)
            rc = tk_nps_schedule(ctx, t.contact_id, at);
    } else if (rc == CRM_OK && from == TK_SOLVED) {
        rc = crm_cancel(ctx, key, NULL);
    }
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "from", json_string(tk_status_name(from)));
        json_object_set_new(x, "to", json_string(tk_status_name(status)));
        rc = tk_emit(ctx, "ticket.status_changed", &t, x);
    }
    const char *named = status == TK_SOLVED ? "ticket.solved"
                        : status == TK_CLOSED ? "ticket.closed"
                        : from == TK_SOLVED ? "ticket.reopened" : NULL;
    if (rc == CRM_OK && named)
        rc = tk_emit(ctx, named, &t, NULL);
    return rc == CRM_OK ? tk_clocks_update(ctx, id, at) : rc;
}

int tk_ticket_message(crm_plugin_ctx *ctx, int64_t id, int author, const char *body,
                      const char *who, int64_t at)
{
    tk_ticket t;
    int64_t iid = 0;
    if (!body || !*body) {
        crm_set_error(ctx, "body: a message needs text");
        return CRM_EINVAL;
    }
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc != CRM_OK)
        return rc;
    int st = tk_status_parse(t.status);
    if (st == TK_CLOSED) {
        crm_set_error(ctx, "ticket %lld is closed: open a new ticket instead", (long long)id);
        return CRM_EINVAL;
    }
    /* the customer writing again: a solved ticket is not solved any more */
    if (author == TK_CUSTOMER && st == TK_SOLVED)
        rc = tk_ticket_set_status(ctx, id, TK_OPEN, at);
    else if (author == TK_AGENT && st == TK_NEW)
        rc = tk_ticket_set_status(ctx, id, TK_OPEN, at);
    if (rc == CRM_OK)
        rc = log_interaction(ctx, &t, author, body, who, at, &iid);
    if (rc == CRM_OK)
        rc = history(ctx, &t, at, "message", authors[author], who, iid);
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "author", json_string(authors[author]));
        json_object_set_new(x, "interaction_id", json_integer(iid));
        rc = tk_emit(ctx, "ticket.message_added", &t, x);
    }
    return rc == CRM_OK ? tk_clocks_update(ctx, id, at) : rc;
}

int tk_ticket_assign(crm_plugin_ctx *ctx, int64_t id, const char *user, const char *team,
                     int64_t at)
{
    tk_ticket t;
    char routed[TK_NAME_MAX] = "";
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc != CRM_OK)
        return rc;
    if (team && !tk_team_find(ctx, team)) {
        crm_set_error(ctx, "team: no team '%s' in crm.yaml ticketing.teams", team);
        return CRM_EINVAL;
    }
    if (team)
        snprintf(t.team, sizeof t.team, "%s", team);
    if (!user && t.team[0]) {
        rc = tk_route(ctx, &t, t.team, at, routed, sizeof routed);
        user = routed[0] ? routed : NULL;
    }
    crm_stmt *st = rc == CRM_OK ? tk_prep(ctx, "UPDATE ticketing_tickets SET team = ?2,"
                                               " assignee = coalesce(?3, assignee) WHERE id = ?1",
                                          1, id)
                                : NULL;
    if (rc == CRM_OK && !st)
        return tk_fail_db(ctx, "assigning the ticket");
    if (st) {
        if (t.team[0])
            crm_sql_bind_text(st, 2, t.team);
        else
            crm_sql_bind_null(st, 2);
        if (user)
            crm_sql_bind_text(st, 3, user);
        else
            crm_sql_bind_null(st, 3);
        rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "assigning the ticket") : CRM_OK;
        crm_sql_finalize(st);
    }
    if (rc == CRM_OK && user) {
        json_t *x = json_object();
        json_object_set_new(x, "assignee", json_string(user));
        json_object_set_new(x, "team", t.team[0] ? json_string(t.team) : json_null());
        rc = tk_emit(ctx, "ticket.assigned", &t, x);
        if (rc == CRM_OK && !strcmp(t.status, "new"))
            rc = tk_ticket_set_status(ctx, id, TK_OPEN, at);
    }
    return rc == CRM_OK ? tk_clocks_update(ctx, id, at) : rc;
}

/* The conversation: every message with its kernel interaction. */
static json_t *conversation(crm_plugin_ctx *ctx, int64_t id)
{
    json_t *a = json_array();
    crm_stmt *st = tk_prep(ctx,
                           "SELECT h.at, h.kind, h.value, h.author, h.interaction_id, i.body"
                           " FROM ticketing_history h LEFT JOIN interactions i"
                           " ON i.id = h.interaction_id WHERE h.ticket_id = ?1"
                           " ORDER BY h.at, h.id",
                           1, id);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        json_t *o = json_object();
        tk_json_time(ctx, o, "at", crm_sql_column_int64(st, 0));
        json_object_set_new(o, "kind", json_string(crm_sql_column_text(st, 1)));
        json_object_set_new(o, "value", json_string(crm_sql_column_text(st, 2)));
        const char *au = crm_sql_column_text(st, 3), *body = crm_sql_column_text(st, 5);
        json_object_set_new(o, "author", au ? json_string(au) : json_null());
        if (crm_sql_column_type(st, 4) != CRM_SQL_NULL)
            json_object_set_new(o, "interaction_id", json_integer(crm_sql_column_int64(st, 4)));
        if (body)
            json_object_set_new(o, "body", json_string(body));
        json_array_append_new(a, o);
    }
    crm_sql_finalize(st);
    return a;
}

json_t *tk_ticket_json(crm_plugin_ctx *ctx, const tk_ticket *t, int64_t now, int full)
{
    tk_clock c[TK_NMETRIC];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "contact_id", json_integer(t->contact_id));
    json_object_set_new(o, "subject", json_string(t->subject));
    json_object_set_new(o, "channel", json_string(t->channel));
    json_object_set_new(o, "priority", json_string(t->priority));
    json_object_set_new(o, "type", json_string(t->type));
    json_object_set_new(o, "status", json_string(t->status));
    json_object_set_new(o, "assignee", t->assignee[0] ? json_string(t->assignee) : json_null());
    json_object_set_new(o, "team", t->team[0] ? json_string(t->team) : json_null());
    json_object_set_new(o, "tags", json_string(t->tags));
    json_object_set_new(o, "policy", t->policy[0] ? json_string(t->policy) : json_null());
    tk_json_time(ctx, o, "created_at", t->created_at);
    tk_json_time(ctx, o, "due_override", t->due_override);
    if (tk_clocks_compute(ctx, t, now, c) == CRM_OK)
        json_object_set_new(o, "sla", tk_clocks_json(ctx, c, now));
    if (full)
        json_object_set_new(o, "messages", conversation(ctx, t->id));
    return o;
}

/* ticketing plugin — its HTTP routes (SDK 1.4 register_route): the queue by
 * time to breach, a ticket with its replies, opening a ticket and replying,
 * thin glue over ticket.c. A write runs inside the transaction `crm serve`
 * opened for the request, at the request's clock. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"
#include "crm/http_json.h"

/* ---- shared ---------------------------------------------------------------------- */

/* The request member a ticket.c refusal is about, from the name its message
 * starts with ("priority: 'x' is not ..."). */
static const struct {
    const char *prefix, *member;
} blame[] = {
    {"subject:", "subject"}, {"contact:", "contact_id"}, {"priority:", "priority"},
    {"type:", "type"},       {"channel:", "channel"},    {"team:", "team"},
    {"body:", "body"},       {NULL, NULL},
};

/* ticket.c's failure as the API's: its message, the member at fault; an
 * unknown contact in a body is bad input (422), not a missing resource. */
static int refusal(crm_plugin_ctx *ctx, crm_http_exchange *x, int rc)
{
    const char *msg = crm_last_error(ctx), *member = NULL;
    for (size_t i = 0; blame[i].prefix && !member; i++)
        if (!strncmp(msg, blame[i].prefix, strlen(blame[i].prefix)))
            member = blame[i].member;
    if (rc == CRM_ENOTFOUND && member)
        rc = CRM_EINVAL;
    return crm_http_error(x, rc, member, "%s", msg);
}

/* The {id} path parameter as a ticket read into t. A ticket outside the
 * caller's scope (agent_scope) is answered as one that does not exist, with
 * the same 404 and message, so an agent cannot probe other agents' ids;
 * every route taking {id} reads it through here, so the writes are scoped too. */
static int ticket_param(crm_plugin_ctx *ctx, crm_http_exchange *x, tk_ticket *t)
{
    int64_t id = 0;
    int rc = crm_http_id_param(x, "id", "ticket", &id);
    if (rc != CRM_OK)
        return rc;
    rc = tk_ticket_load(ctx, id, t);
    tk_scope s;
    if (rc == CRM_OK)
        tk_scope_of(ctx, x, &s);
    if (rc == CRM_OK && !tk_scope_has(&s, t->assignee, t->team)) {
        crm_set_error(ctx, "no ticket %lld (see crm ticket list)", (long long)id);
        rc = CRM_ENOTFOUND;
    }
    return rc == CRM_OK ? rc : crm_http_error(x, rc, "id", "%s", crm_last_error(ctx));
}
/* Member `name` of o: a string (NULL when absent or null), else CRM_EUSAGE. */
static int member_text(crm_http_exchange *x, json_t *o, const char *name, const char **out)
{
    json_t *v = json_object_get(o, name);
    *out = json_is_string(v) ? json_string_value(v) : NULL;
    if (v && !json_is_null(v) && !json_is_string(v))
        return crm_http_error(x, CRM_EUSAGE, name, "%s: expected a string", name);
    return CRM_OK;
}

/* The ticket with its replies: `crm ticket show --json`, whose conversation
 * entries that carry text are the replies (status changes are left out). */
static json_t *ticket_api_json(crm_plugin_ctx *ctx, const tk_ticket *t)
{
    json_t *o = tk_ticket_json(ctx, t, crm_now(ctx), 1), *replies = json_array(), *m;
    size_t i;
    json_array_foreach(json_object_get(o, "messages"), i, m)
        if (json_object_get(m, "body"))
            json_array_append(replies, m);
    json_object_del(o, "messages");
    json_object_set_new(o, "replies", replies);
    return o;
}

/* ---- GET /v1/tickets ------------------------------------------------------------- */

/* A comma list of statuses; CRM_EUSAGE naming the first unknown one. */
static int check_statuses(crm_http_exchange *x, const char *list)
{
    for (const char *s = list; s && *s;) {
        size_t n = strcspn(s, ",");
        char one[32];
        snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), s);
        if (tk_status_parse(one) < 0)
            return crm_http_error(x, CRM_EUSAGE, "status", "status: '%s' is not one of new, "
                                  "open, pending, on_hold, solved, closed", one);
        s += n + (s[n] == ',');
    }
    return CRM_OK;
}

/* order=breach (the default): tickets past a deadline or that breached one
 * first, then by the next deadline (none last); order=id: by id. */
static const struct {
    const char *order, *sql;
} orders[] = {
    {"breach", " ORDER BY (breached OR coalesce(next_deadline <= ?4, 0)) DESC,"
               " next_deadline IS NULL, next_deadline, id LIMIT ?5"},
    {"id", " ORDER BY id LIMIT ?5"},
    {NULL, NULL},
};

#define QUEUE_SELECT                                                                           \
    "SELECT id, subject, status, priority, team, assignee, contact_id, next_deadline,"         \
    " breached FROM ticketing_tickets WHERE (CASE WHEN ?1 IS NULL THEN status NOT IN"          \
    " ('solved', 'closed') ELSE instr(',' || ?1 || ',', ',' || status || ',') > 0 END)"        \
    " AND (?2 IS NULL OR team = ?2) AND (?3 IS NULL OR assignee = ?3)"

static json_t *queue_item(crm_stmt *st, int64_t now)
{
    json_t *o = json_object();
    static const char *const text[] = {"subject", "status", "priority", "team", "assignee"};
    json_object_set_new(o, "id", json_integer(crm_sql_column_int64(st, 0)));
    for (int i = 0; i < 5; i++) {
        const char *v = crm_sql_column_text(st, i + 1);
        json_object_set_new(o, text[i], v ? json_string(v) : json_null());
    }
    json_object_set_new(o, "contact_id", json_integer(crm_sql_column_int64(st, 6)));
    int has_due = crm_sql_column_type(st, 7) != CRM_SQL_NULL;
    int64_t due = crm_sql_column_int64(st, 7);
    json_object_set_new(o, "due_at", has_due ? json_integer(due) : json_null());
    json_object_set_new(o, "seconds_to_breach", has_due ? json_integer(due - now) : json_null());
    json_object_set_new(o, "breached",
                        json_boolean(crm_sql_column_int64(st, 8) || (has_due && due <= now)));
    return o;
}

static int query_limit(crm_http_exchange *x, int64_t *out)
{
    const char *t = crm_http_query(x, "limit");
    char *end;
    *out = t ? strtoll(t, &end, 10) : 100;
    if (t && (!*t || *end || *out < 1 || *out > 500))
        return crm_http_error(x, CRM_EUSAGE, "limit", "limit: expected an integer in [1, 500]");
    return CRM_OK;
}

static int get_tickets(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    const char *status = crm_http_query(x, "status"), *order = crm_http_query(x, "order");
    size_t k = 0;
    while (order && orders[k].order && strcmp(orders[k].order, order))
        k++;
    if (!orders[k].order)
        return crm_http_error(x, CRM_EUSAGE, "order", "order: '%s' is not breach or id", order);
    int64_t limit, now = crm_now(ctx);
    int rc = check_statuses(x, status);
    if (rc == CRM_OK)
        rc = query_limit(x, &limit);
    if (rc != CRM_OK)
        return rc;
    tk_scope scope;
    char sql[1536], where[512];
    tk_scope_of(ctx, x, &scope);
    tk_scope_sql(&scope, 6, where, sizeof where);
    snprintf(sql, sizeof sql, "%s%s%s", QUEUE_SELECT, where, orders[k].sql);
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return tk_fail_db(ctx, "reading the queue");
    tk_scope_bind(st, &scope, 6);
    const char *filters[] = {status, crm_http_query(x, "team"), crm_http_query(x, "assignee")};
    for (int i = 0; i < 3; i++)
        if (filters[i])
            crm_sql_bind_text(st, i + 1, filters[i]);
        else
            crm_sql_bind_null(st, i + 1);
    crm_sql_bind_int64(st, 4, now);
    crm_sql_bind_int64(st, 5, limit);
    json_t *items = json_array();
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW)
        json_array_append_new(items, queue_item(st, now));
    crm_sql_finalize(st);
    if (step < 0) {
        json_decref(items);
        return tk_fail_db(ctx, "reading the queue");
    }
    return crm_http_reply_json(x, 0, json_pack("{so}", "items", items));
}

/* ---- GET /v1/tickets/{id} -------------------------------------------------------- */

static int get_ticket(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    tk_ticket t;
    int rc = ticket_param(ctx, x, &t);
    return rc == CRM_OK ? crm_http_reply_json(x, 0, ticket_api_json(ctx, &t)) : rc;
}

/* ---- POST /v1/tickets ------------------------------------------------------------ */

static const char *const open_members[] = {"contact_id", "subject", "body",     "priority",
                                           "team",       "type",    "channel",  "tags",
                                           "assignee",   NULL};

static int post_ticket(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    json_t *o;
    int rc = crm_http_body_object(x, open_members, &o);
    if (rc != CRM_OK)
        return rc;
    json_t *c = json_object_get(o, "contact_id");
    tk_open_req r = {json_integer_value(c), crm_now(ctx), NULL, NULL, NULL, NULL, NULL, NULL,
                     NULL, NULL};
    if (!json_is_integer(c) || r.contact_id <= 0)
        rc = crm_http_error(x, CRM_EUSAGE, "contact_id", "contact_id: required, a contact id");
    const char **text[] = {&r.subject, &r.description, &r.priority, &r.team,
                           &r.type,    &r.channel,     &r.tags,     &r.assignee};
    for (size_t i = 0; rc == CRM_OK && i < sizeof text / sizeof text[0]; i++)
        rc = member_text(x, o, open_members[i + 1], text[i]);
    int64_t id = 0;
    tk_ticket t;
    if (rc == CRM_OK && (rc = tk_ticket_open(ctx, &r, &id)) != CRM_OK)
        rc = refusal(ctx, x, rc);
    json_decref(o); /* after the open: r's strings are o's */
    if (rc == CRM_OK)
        rc = tk_ticket_load(ctx, id, &t);
    return rc == CRM_OK ? crm_http_reply_json(x, 201, ticket_api_json(ctx, &t)) : rc;
}

/* ---- POST /v1/tickets/{id}/replies ----------------------------------------------- */

static const char *const reply_members[] = {"body", NULL};

/* The reply's author: the user the caller's token is named after (`crm user
 * add --name`), or none (NULL) when no user has that name: a token is not a
 * user, and an unknown author would refuse the reply. */
static const char *author_of(crm_plugin_ctx *ctx, crm_http_exchange *x)
{
    const char *name = crm_http_caller(x, "name");
    char *user = NULL;
    int found = name && crm_user_find_json(ctx, name, &user) == CRM_OK;
    crm_free(ctx, user);
    return found ? name : NULL;
}

/* An agent's reply, signed with the caller's user when there is one. */
static int post_reply(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    tk_ticket t;
    json_t *o = NULL;
    const char *body = NULL;
    int rc = ticket_param(ctx, x, &t);
    if (rc == CRM_OK)
        rc = crm_http_body_object(x, reply_members, &o);
    if (rc == CRM_OK)
        rc = member_text(x, o, "body", &body);
    if (rc == CRM_OK && (rc = tk_ticket_message(ctx, t.id, TK_AGENT, body ? body : "",
                                                author_of(ctx, x), crm_now(ctx))) !=
                            CRM_OK)
        rc = refusal(ctx, x, rc);
    json_decref(o);
    if (rc == CRM_OK)
        rc = tk_ticket_load(ctx, t.id, &t);
    return rc == CRM_OK ? crm_http_reply_json(x, 201, ticket_api_json(ctx, &t)) : rc;
}

/* ---- POST /v1/tickets/{id}/csat -------------------------------------------------- */

static const char *const csat_members[] = {"score", "comment", NULL};

/* The answer to the survey link (the shop's survey page posts it), as
 * `crm ticket rate`. */
static int post_csat(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    tk_ticket t;
    json_t *o = NULL;
    const char *comment = NULL;
    int rc = ticket_param(ctx, x, &t);
    if (rc == CRM_OK)
        rc = crm_http_body_object(x, csat_members, &o);
    json_t *score = json_object_get(o, "score");
    if (rc == CRM_OK && !json_is_integer(score))
        rc = crm_http_error(x, CRM_EUSAGE, "score", "score: required, an integer from 1 to 5");
    if (rc == CRM_OK)
        rc = member_text(x, o, "comment", &comment);
    if (rc == CRM_OK && (rc = tk_rate(ctx, t.id, json_integer_value(score), comment)) != CRM_OK)
        rc = crm_http_error(x, rc, rc == CRM_EINVAL ? "score" : NULL, "%s", crm_last_error(ctx));
    json_decref(o);
    if (rc != CRM_OK)
        return rc;
    int64_t kept = tk_scalar(ctx, 0, "SELECT csat_score FROM ticketing_tickets WHERE id = ?1", 1,
                             t.id);
    return crm_http_reply_json(x, 201, json_pack("{sI sI sI}", "ticket_id", (json_int_t)t.id,
                                                 "score", (json_int_t)kept, "rated_at",
                                                 (json_int_t)crm_now(ctx)));
}

/* ---- POST /v1/contacts/{id}/nps -------------------------------------------------- */

/* The answer to the NPS survey link, as `crm nps rate`. */
static int post_nps(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    const char *comment = NULL;
    int64_t contact = 0;
    json_t *o = NULL;
    int rc = crm_http_id_param(x, "id", "contact", &contact);
    if (rc == CRM_OK)
        rc = crm_http_body_object(x, csat_members, &o); /* the same members: score, comment */
    json_t *score = json_object_get(o, "score");
    if (rc == CRM_OK && !json_is_integer(score))
        rc = crm_http_error(x, CRM_EUSAGE, "score", "score: required, an integer from 0 to 10");
    if (rc == CRM_OK)
        rc = member_text(x, o, "comment", &comment);
    if (rc == CRM_OK &&
        (rc = tk_nps_answer(ctx, contact, json_integer_value(score), comment)) != CRM_OK)
        rc = crm_http_error(x, rc, rc == CRM_EINVAL ? "score" : rc == CRM_ENOTFOUND ? "id" : NULL,
                            "%s", crm_last_error(ctx));
    json_int_t given = json_integer_value(score);
    json_decref(o);
    if (rc != CRM_OK)
        return rc;
    return crm_http_reply_json(x, 201, json_pack("{sI sI sI}", "contact_id", (json_int_t)contact,
                                                 "score", given, "answered_at",
                                                 (json_int_t)crm_now(ctx)));
}

/* ---- registration ---------------------------------------------------------------- */

#define ITEM_SCHEMA                                                                            \
    "{\"type\":\"object\",\"required\":[\"id\",\"subject\",\"status\",\"priority\","           \
    "\"contact_id\",\"due_at\",\"seconds_to_breach\",\"breached\"],\"properties\":{"           \
    "\"id\":{\"type\":\"integer\"},\"subject\":{\"type\":\"string\"},"                         \
    "\"status\":{\"enum\":[\"new\",\"open\",\"pending\",\"on_hold\",\"solved\",\"closed\"]},"  \
    "\"priority\":{\"enum\":[\"low\",\"normal\",\"high\",\"urgent\"]},"                        \
    "\"team\":{\"type\":[\"string\",\"null\"]},\"assignee\":{\"type\":[\"string\",\"null\"]}," \
    "\"contact_id\":{\"type\":\"integer\"},"                                                   \
    "\"due_at\":{\"type\":[\"integer\",\"null\"],\"description\":\"the next SLA deadline\"},"  \
    "\"seconds_to_breach\":{\"type\":[\"integer\",\"null\"],\"description\":\"due_at - now, "  \
    "negative once passed\"},\"breached\":{\"type\":\"boolean\"}}}"

#define TICKET_SCHEMA                                                                          \
    "{\"type\":\"object\",\"required\":[\"id\",\"contact_id\",\"subject\",\"status\","         \
    "\"priority\",\"replies\"],\"properties\":{\"id\":{\"type\":\"integer\"},"                 \
    "\"contact_id\":{\"type\":\"integer\"},\"subject\":{\"type\":\"string\"},"                 \
    "\"channel\":{\"type\":\"string\"},\"priority\":{\"type\":\"string\"},"                    \
    "\"type\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"                         \
    "\"assignee\":{\"type\":[\"string\",\"null\"]},\"team\":{\"type\":[\"string\",\"null\"]}," \
    "\"tags\":{\"type\":\"string\"},\"policy\":{\"type\":[\"string\",\"null\"]},"              \
    "\"created_at\":{\"type\":\"integer\"},\"sla\":{\"type\":\"object\",\"description\":"      \
    "\"per metric (first_reply, next_reply, resolution): target_at, breached, paused, ...\"}," \
    "\"replies\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"at\","     \
    "\"value\",\"body\"],\"properties\":{\"at\":{\"type\":\"integer\"},"                       \
    "\"kind\":{\"type\":\"string\"},\"value\":{\"enum\":[\"customer\",\"agent\",\"note\"]},"   \
    "\"author\":{\"type\":[\"string\",\"null\"]},\"interaction_id\":{\"type\":\"integer\"},"   \
    "\"body\":{\"type\":\"string\"}}}}}}"

static const crm_route_spec routes[] = {
    {"GET", "/v1/tickets", "*", get_tickets,
     "the queue: status (comma list; default every status but solved and closed), team, "
     "assignee, order=breach (default: breached first, then by the next deadline) or id, limit "
     "(agents: within ticketing.agent_scope)",
     NULL,
     "{\"type\":\"object\",\"required\":[\"items\"],\"properties\":{\"items\":{\"type\":"
     "\"array\",\"items\":" ITEM_SCHEMA "}}}",
     200},
    {"GET", "/v1/tickets/{id}", "*", get_ticket,
     "a ticket with its SLA clocks and replies (agents: 404 outside ticketing.agent_scope)",
     NULL, TICKET_SCHEMA, 200},
    {"POST", "/v1/tickets", "agent,manager,admin,integration", post_ticket,
     "open a ticket (as crm ticket open; body: the customer's first message)",
     "{\"type\":\"object\",\"required\":[\"contact_id\",\"subject\"],"
     "\"additionalProperties\":false,\"properties\":{\"contact_id\":{\"type\":\"integer\"},"
     "\"subject\":{\"type\":\"string\"},\"body\":{\"type\":\"string\"},"
     "\"priority\":{\"enum\":[\"low\",\"normal\",\"high\",\"urgent\"]},"
     "\"team\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"},"
     "\"channel\":{\"type\":\"string\"},\"tags\":{\"type\":\"string\"},"
     "\"assignee\":{\"type\":\"string\"}}}",
     TICKET_SCHEMA, 201},
    {"POST", "/v1/tickets/{id}/replies", "agent,manager,admin", post_reply,
     "an agent's reply (as crm ticket reply; author: the user named as the token, if any)",
     "{\"type\":\"object\",\"required\":[\"body\"],\"additionalProperties\":false,"
     "\"properties\":{\"body\":{\"type\":\"string\"}}}",
     TICKET_SCHEMA, 201},
    {"POST", "/v1/tickets/{id}/csat", "integration,agent,manager,admin", post_csat,
     "the customer's CSAT answer from the survey link (as crm ticket rate; a later answer "
     "replaces it)",
     "{\"type\":\"object\",\"required\":[\"score\"],\"additionalProperties\":false,"
     "\"properties\":{\"score\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5},"
     "\"comment\":{\"type\":\"string\"}}}",
     "{\"type\":\"object\",\"required\":[\"ticket_id\",\"score\",\"rated_at\"],"
     "\"properties\":{\"ticket_id\":{\"type\":\"integer\"},\"score\":{\"type\":"
     "\"integer\"},\"rated_at\":{\"type\":\"integer\"}}}",
     201},
    {"POST", "/v1/contacts/{id}/nps", "integration,agent,manager,admin", post_nps,
     "the contact's NPS answer from the survey link (as crm nps rate; each answer counts)",
     "{\"type\":\"object\",\"required\":[\"score\"],\"additionalProperties\":false,"
     "\"properties\":{\"score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10},"
     "\"comment\":{\"type\":\"string\"}}}",
     "{\"type\":\"object\",\"required\":[\"contact_id\",\"score\",\"answered_at\"],"
     "\"properties\":{\"contact_id\":{\"type\":\"integer\"},\"score\":{\"type\":"
     "\"integer\"},\"answered_at\":{\"type\":\"integer\"}}}",
     201},
};

int tk_routes_register(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, register_route))
        return CRM_OK; /* an older crm: the plugin works without its routes */
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = crm_register_route(ctx, &routes[i], NULL);
    return rc;
}

/* ticketing plugin — who takes a ticket: the team's routing mode over the
 * agents available now (their own calendar open, under their capacity):
 * round_robin (the one assigned longest ago), least_loaded (fewest open
 * tickets with a running clock), skills (agents covering one of the
 * ticket's tags, least loaded first), or a Lua rule returning a user. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

typedef struct agent {
    char name[TK_NAME_MAX], skills[256], calendar[TK_NAME_MAX];
    int64_t capacity, seq, load;
} agent;

/* The team's agents: its crm.yaml members (with their skills) merged with
 * `crm agent set` (which overrides skills, calendar, capacity). */
static int load_agents(crm_plugin_ctx *ctx, const tk_team *team, agent *v, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < team->nmembers; i++) {
        agent *a = &v[(*n)++];
        memset(a, 0, sizeof *a);
        snprintf(a->name, sizeof a->name, "%s", team->members[i]);
        snprintf(a->skills, sizeof a->skills, "%s", team->skills[i]);
    }
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, "SELECT name, team, skills, calendar, capacity, assigned FROM"
                             " ticketing_agents ORDER BY name", &st) != CRM_OK)
        return tk_fail_db(ctx, "reading the agents");
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        char name[TK_NAME_MAX], tm[TK_NAME_MAX];
        tk_col_text(st, 0, name, sizeof name);
        tk_col_text(st, 1, tm, sizeof tm);
        size_t j = 0;
        while (j < *n && strcmp(v[j].name, name))
            j++;
        if (j == *n && (strcmp(tm, team->name) || *n == TK_MAX_MEMBERS))
            continue; /* another team's agent */
        if (j == *n) {
            memset(&v[j], 0, sizeof v[j]);
            snprintf(v[j].name, sizeof v[j].name, "%s", name);
            (*n)++;
        }
        if (crm_sql_column_type(st, 2) != CRM_SQL_NULL && crm_sql_column_text(st, 2)[0])
            tk_col_text(st, 2, v[j].skills, sizeof v[j].skills);
        tk_col_text(st, 3, v[j].calendar, sizeof v[j].calendar);
        v[j].capacity = crm_sql_column_int64(st, 4);
        v[j].seq = crm_sql_column_int64(st, 5);
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

static int64_t load_of(crm_plugin_ctx *ctx, const char *name)
{
    crm_stmt *st = tk_prep(ctx,
                           "SELECT count(*) FROM ticketing_tickets WHERE assignee = ?1 AND"
                           " status NOT IN ('solved', 'closed')", 0);
    int64_t n = 0;
    if (!st)
        return 0;
    crm_sql_bind_text(st, 1, name);
    if (crm_sql_step(st) == CRM_SQL_ROW)
        n = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return n;
}

/* Available: the agent's own calendar (when set) open now, under capacity. */
static int available(crm_plugin_ctx *ctx, agent *a, int64_t now)
{
    int open = 1;
    if (a->calendar[0] && crm_calendar_is_open(ctx, a->calendar, now, &open) != CRM_OK)
        open = 0;
    a->load = load_of(ctx, a->name);
    return open && (a->capacity <= 0 || a->load < a->capacity);
}

/* 1 when a is a better pick than b for the mode. */
static int better(const char *mode, const agent *a, const agent *b)
{
    if (strcmp(mode, "round_robin") && a->load != b->load)
        return a->load < b->load;
    if (a->seq != b->seq)
        return a->seq < b->seq;
    return strcmp(a->name, b->name) < 0;
}

static int covers(const agent *a, const char *tags)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", tags);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        while (*w == ' ')
            w++;
        if (*w && tk_list_has(a->skills, w))
            return 1;
    }
    return 0;
}

static int lua_pick(crm_plugin_ctx *ctx, const tk_team *team, const tk_ticket *t, char *out,
                    size_t size)
{
    char *res = NULL;
    int rc = crm_call_rule(ctx, team->rule, t->contact_id, &res, NULL, NULL);
    if (rc == CRM_OK && res) {
        json_t *v = json_loads(res, 0, NULL);
        json_t *r = json_object_get(v, "result");
        if (json_is_string(r))
            snprintf(out, size, "%s", json_string_value(r));
        json_decref(v);
    } else {
        crm_log(ctx, CRM_LOG_WARN, "team %s: routing rule %s failed: %s", team->name, team->rule,
                crm_last_error(ctx));
        rc = CRM_OK; /* the ticket waits in the team's queue */
    }
    crm_free(ctx, res);
    return rc;
}

/* Remembers the pick for round-robin: a sequence, not a time (two tickets
 * may be routed in the same second). */
static int remember(crm_plugin_ctx *ctx, const char *name, const char *team)
{
    int64_t seq = tk_scalar(ctx, 0, "SELECT max(assigned) FROM ticketing_agents", 0) + 1;
    crm_stmt *st = tk_prep(ctx,
                           "INSERT INTO ticketing_agents (name, team, assigned) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT (name) DO UPDATE SET assigned = excluded.assigned",
                           3, (int64_t)0, (int64_t)0, seq);
    if (!st)
        return tk_fail_db(ctx, "recording the assignment");
    crm_sql_bind_text(st, 1, name);
    crm_sql_bind_text(st, 2, team);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? tk_fail_db(ctx, "recording the assignment") : CRM_OK;
}

int tk_route(crm_plugin_ctx *ctx, const tk_ticket *t, const char *team_name, int64_t now,
             char *out, size_t size)
{
    const tk_team *team = tk_team_find(ctx, team_name);
    out[0] = 0;
    if (!team || !strcmp(team->routing, "none"))
        return CRM_OK;
    if (!strcmp(team->routing, "lua"))
        return lua_pick(ctx, team, t, out, size);
    agent v[TK_MAX_MEMBERS];
    size_t n = 0;
    int rc = load_agents(ctx, team, v, &n);
    if (rc != CRM_OK)
        return rc;
    int skilled = !strcmp(team->routing, "skills");
    const agent *best = NULL;
    for (int pass = skilled ? 0 : 1; pass < 2 && !best; pass++) /* skills first, then anyone */
        for (size_t i = 0; i < n; i++)
            if (available(ctx, &v[i], now) && (pass || covers(&v[i], t->tags)) &&
                (!best || better(team->routing, &v[i], best)))
                best = &v[i];
    if (!best)
        return CRM_OK;
    snprintf(out, size, "%s", best->name);
    return remember(ctx, best->name, team->name);
}

/* ticketing plugin — the structured crm.yaml section and its reading.
 *
 * The host checks types, unknown keys and durations against the schema
 * (FILE:LINE:COL and the key path); what a schema cannot say (a routing
 * mode, a status or metric name, a calendar that exists, a target in days)
 * is checked here and reported at the offending node with config_error. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static const char *const priorities[TK_NPRIORITY] = {"low", "normal", "high", "urgent"};

int tk_priority_index(const char *p)
{
    for (int i = 0; p && i < TK_NPRIORITY; i++)
        if (!strcmp(priorities[i], p))
            return i;
    return -1;
}

static const crm_config_field team_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the team's name", NULL, 0, 0, 0},
    {"calendar", CRM_CONFIG_STRING, 0, "default", "its business hours (a calendars: name)", NULL,
     0, 0, 0},
    {"members", CRM_CONFIG_LIST, 0, NULL, "its agents (user names)", NULL, CRM_CONFIG_STRING, 0,
     0},
    {"skills", CRM_CONFIG_DICT, 0, NULL, "agent -> comma-separated tags the agent covers", NULL,
     CRM_CONFIG_STRING, 0, 0},
    {"routing", CRM_CONFIG_STRING, 0, "round_robin",
     "round_robin | least_loaded | skills | lua | none", NULL, 0, 0, 0},
    {"rule", CRM_CONFIG_STRING, 0, "", "routing lua: a rules: name or FILE:FN returning a user",
     NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field when_fields[] = {
    {"tag", CRM_CONFIG_STRING, 0, NULL, "the ticket has this tag", NULL, 0, 0, 0},
    {"priority", CRM_CONFIG_STRING, 0, NULL, "low|normal|high|urgent", NULL, 0, 0, 0},
    {"type", CRM_CONFIG_STRING, 0, NULL, "question|incident|problem|request|complaint", NULL, 0,
     0, 0},
    {"team", CRM_CONFIG_STRING, 0, NULL, "the ticket's team", NULL, 0, 0, 0},
    {"lua", CRM_CONFIG_STRING, 0, NULL, "a Lua predicate on the contact (rules: name or FILE:FN)",
     NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field target_fields[] = {
    {"first_reply", CRM_CONFIG_DURATION, 0, NULL, "business time to the first agent reply", NULL,
     0, 0, 0},
    {"next_reply", CRM_CONFIG_DURATION, 0, NULL,
     "business time from the oldest unanswered customer message to the agent's reply", NULL, 0,
     0, 0},
    {"resolution", CRM_CONFIG_DURATION, 0, NULL, "business time from opening to solved", NULL, 0,
     0, 0},
    {"periodic_update", CRM_CONFIG_DURATION, 0, NULL,
     "longest business time between two agent replies while the ticket is open", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field sla_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the policy's name", NULL, 0, 0, 0},
    {"when", CRM_CONFIG_MAP, 0, NULL, "conditions, all of which must hold; absent: every ticket",
     when_fields, 0, 0, 0},
    {"calendar", CRM_CONFIG_STRING, 0, "default", "the calendar its durations count on", NULL, 0,
     0, 0},
    {"targets", CRM_CONFIG_DICT, 0, NULL, "priority -> {first_reply, next_reply, resolution, periodic_update}",
     target_fields, CRM_CONFIG_MAP, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field pause_fields[] = {
    {"new", CRM_CONFIG_LIST, 0, NULL, "metrics paused while new", NULL, CRM_CONFIG_STRING, 0, 0},
    {"open", CRM_CONFIG_LIST, 0, NULL, "metrics paused while open", NULL, CRM_CONFIG_STRING, 0,
     0},
    {"pending", CRM_CONFIG_LIST, 0, NULL, "metrics paused while pending (waiting on the customer)",
     NULL, CRM_CONFIG_STRING, 0, 0},
    {"on_hold", CRM_CONFIG_LIST, 0, NULL, "metrics paused while on hold (waiting on a third party)",
     NULL, CRM_CONFIG_STRING, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field mediator_fields[] = {
    {"name", CRM_CONFIG_STRING, 0, "", "the consumer mediator's name", NULL, 0, 0, 0},
    {"url", CRM_CONFIG_STRING, 0, "", "its web site", NULL, 0, 0, 0},
    {"address", CRM_CONFIG_STRING, 0, "", "its postal address", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field nps_fields[] = {
    {"every", CRM_CONFIG_DURATION, 0, "90d", "at most one NPS survey per contact in this period",
     NULL, 0, 0, 0},
    {"after_solve", CRM_CONFIG_DURATION, 0, "7d", "the survey goes this long after the contact's "
     "latest solved ticket", NULL, 0, 0, 0},
    {"template", CRM_CONFIG_STRING, 0, "nps_survey", "the survey's message template", NULL, 0, 0,
     0},
    {"purpose", CRM_CONFIG_STRING, 0, "marketing",
     "marketing (needs the contact's granted consent) | service", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

const crm_config_field tk_config_schema[] = {
    {"teams", CRM_CONFIG_LIST, 0, NULL, "support teams", team_fields, CRM_CONFIG_MAP, 0, 0},
    {"sla", CRM_CONFIG_LIST, 0, NULL, "SLA policies, first match wins", sla_fields,
     CRM_CONFIG_MAP, 0, 0},
    {"pause", CRM_CONFIG_MAP, 0, NULL, "status -> the clocks it pauses", pause_fields, 0, 0, 0},
    {"warn_before", CRM_CONFIG_DURATION, 0, "15m", "ticket.sla_warning this long before a "
     "deadline", NULL, 0, 0, 0},
    {"close_after", CRM_CONFIG_DURATION, 0, "4d", "solved tickets close after this", NULL, 0, 0,
     0},
    {"survey_after", CRM_CONFIG_DURATION, 0, "24h", "the CSAT survey goes this long after solve",
     NULL, 0, 0, 0},
    {"survey_template", CRM_CONFIG_STRING, 0, "csat_survey", "the survey's message template",
     NULL, 0, 0, 0},
    {"ack_template", CRM_CONFIG_STRING, 0, "complaint_ack",
     "the complaint acknowledgement's message template", NULL, 0, 0, 0},
    {"mediator", CRM_CONFIG_MAP, 0, NULL, "the consumer mediator (complaints, level 2)",
     mediator_fields, 0, 0, 0},
    {"nps", CRM_CONFIG_MAP, 0, NULL, "NPS surveys (0-10) per contact; absent: none", nps_fields,
     0, 0, 0},
    {"agent_scope", CRM_CONFIG_STRING, 0, "all", "crm serve: the tickets an agent token reads "
     "and writes: own (assigned to it), team (also its teams'), all", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

/* ---- reading ---- */

static void text(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key, char *buf,
                 size_t size)
{
    crm_value v;
    buf[0] = 0;
    if (map && crm_config_value(ctx, map, key, &v) == CRM_OK && v.text)
        snprintf(buf, size, "%s", v.text);
}

/* A key of the section itself, its default applied. */
static void top_text(crm_plugin_ctx *ctx, const char *key, char *buf, size_t size)
{
    crm_value v;
    buf[0] = 0;
    if (crm_config_value(ctx, NULL, key, &v) == CRM_OK && v.text)
        snprintf(buf, size, "%s", v.text);
}

/* A duration as wall-clock seconds (d and bd count 86400 s a day). */
static int64_t seconds_of(const crm_value *v)
{
    return v->unit == CRM_DURATION_SECONDS ? v->i : v->i * 86400;
}

static int duration(crm_plugin_ctx *ctx, const char *key, const char *dflt, int64_t *out)
{
    crm_value v;
    const crm_config_node *n = crm_config_child(ctx, NULL, key);
    if (!n) {
        *out = strtoll(dflt, NULL, 10) * (strchr(dflt, 'd') ? 86400 : strchr(dflt, 'h') ? 3600 : 60);
        return CRM_OK;
    }
    if (crm_config_value(ctx, NULL, key, &v) != CRM_OK)
        return crm_config_error(ctx, n, "expected a duration (15m, 24h, 4d)");
    *out = seconds_of(&v);
    return CRM_OK;
}

static int check_calendar(crm_plugin_ctx *ctx, const crm_config_node *n, const char *cal)
{
    int open;
    if (crm_calendar_is_open(ctx, cal, 0, &open) == CRM_ENOTFOUND)
        return crm_config_error(ctx, n, "no calendar '%s' in crm.yaml calendars:", cal);
    return CRM_OK;
}

static int load_team(crm_plugin_ctx *ctx, const crm_config_node *it, tk_team *t)
{
    static const char *const modes[] = {"round_robin", "least_loaded", "skills", "lua", "none"};
    memset(t, 0, sizeof *t);
    text(ctx, it, "name", t->name, sizeof t->name);
    text(ctx, it, "calendar", t->calendar, sizeof t->calendar);
    text(ctx, it, "routing", t->routing, sizeof t->routing);
    text(ctx, it, "rule", t->rule, sizeof t->rule);
    if (check_calendar(ctx, crm_config_child(ctx, it, "calendar"), t->calendar) != CRM_OK)
        return CRM_ECONFIG;
    int ok = 0;
    for (size_t i = 0; i < 5; i++)
        ok |= !strcmp(modes[i], t->routing);
    if (!ok)
        return crm_config_error(ctx, crm_config_child(ctx, it, "routing"),
                                "unknown routing '%s' (round_robin, least_loaded, skills, lua, "
                                "none)", t->routing);
    if (!strcmp(t->routing, "lua") && !t->rule[0])
        return crm_config_error(ctx, it, "routing lua needs rule: RULE");
    const crm_config_node *m = crm_config_child(ctx, it, "members");
    size_t n = crm_config_count(ctx, m);
    if (n > TK_MAX_MEMBERS)
        return crm_config_error(ctx, m, "at most %d members", TK_MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        text(ctx, crm_config_item(ctx, m, i), NULL, t->members[i], TK_NAME_MAX);
        t->nmembers++;
    }
    const crm_config_node *sk = crm_config_child(ctx, it, "skills");
    for (size_t i = 0; i < crm_config_count(ctx, sk); i++) {
        const crm_config_node *e = crm_config_item(ctx, sk, i);
        const char *who = crm_config_key(ctx, e);
        size_t j = 0;
        while (j < t->nmembers && strcmp(t->members[j], who))
            j++;
        if (j == t->nmembers)
            return crm_config_error(ctx, e, "'%s' is not a member of team %s", who, t->name);
        text(ctx, e, NULL, t->skills[j], sizeof t->skills[j]);
    }
    return CRM_OK;
}

static int load_teams(crm_plugin_ctx *ctx)
{
    tk_state *S = TK(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "teams");
    size_t n = crm_config_count(ctx, list);
    S->nteams = 0;
    if (n > TK_MAX_TEAMS)
        return crm_config_error(ctx, list, "at most %d teams", TK_MAX_TEAMS);
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *it = crm_config_item(ctx, list, i);
        if (load_team(ctx, it, &S->teams[i]) != CRM_OK)
            return CRM_ECONFIG;
        if (tk_team_find(ctx, S->teams[i].name))
            return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                    "team '%s' is declared twice", S->teams[i].name);
        S->nteams++;
    }
    return CRM_OK;
}

static int load_targets(crm_plugin_ctx *ctx, const crm_config_node *targets, tk_policy *p)
{
    for (size_t i = 0; i < crm_config_count(ctx, targets); i++) {
        const crm_config_node *e = crm_config_item(ctx, targets, i);
        int pr = tk_priority_index(crm_config_key(ctx, e));
        if (pr < 0)
            return crm_config_error(ctx, e, "unknown priority '%s' (low, normal, high, urgent)",
                                    crm_config_key(ctx, e));
        for (int m = 0; m < TK_NMETRIC; m++) {
            crm_value v;
            if (crm_config_value(ctx, e, tk_metric_name(m), &v) != CRM_OK || !v.given)
                continue;
            if (v.unit != CRM_DURATION_SECONDS)
                return crm_config_error(ctx, crm_config_child(ctx, e, tk_metric_name(m)),
                                        "an SLA target is business time: write it in h or m "
                                        "(8h, not 1d)");
            p->target[pr][m] = v.i;
        }
    }
    return CRM_OK;
}

static int load_policy(crm_plugin_ctx *ctx, const crm_config_node *it, tk_policy *p)
{
    memset(p, 0, sizeof *p);
    text(ctx, it, "name", p->name, sizeof p->name);
    text(ctx, it, "calendar", p->calendar, sizeof p->calendar);
    if (check_calendar(ctx, crm_config_child(ctx, it, "calendar"), p->calendar) != CRM_OK)
        return CRM_ECONFIG;
    const crm_config_node *w = crm_config_child(ctx, it, "when");
    text(ctx, w, "tag", p->tag, sizeof p->tag);
    text(ctx, w, "priority", p->priority, sizeof p->priority);
    text(ctx, w, "type", p->type, sizeof p->type);
    text(ctx, w, "team", p->team, sizeof p->team);
    text(ctx, w, "lua", p->lua, sizeof p->lua);
    if (p->priority[0] && tk_priority_index(p->priority) < 0)
        return crm_config_error(ctx, crm_config_child(ctx, w, "priority"),
                                "unknown priority '%s' (low, normal, high, urgent)", p->priority);
    if (p->team[0] && !tk_team_find(ctx, p->team))
        return crm_config_error(ctx, crm_config_child(ctx, w, "team"),
                                "no team '%s' in ticketing.teams", p->team);
    if (p->lua[0] && !CRM_API_HAS(ctx, call_rule))
        return crm_config_error(ctx, crm_config_child(ctx, w, "lua"),
                                "this crm's plugin API has no call_rule");
    return load_targets(ctx, crm_config_child(ctx, it, "targets"), p);
}

static int load_policies(crm_plugin_ctx *ctx)
{
    tk_state *S = TK(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "sla");
    size_t n = crm_config_count(ctx, list);
    S->npol = 0;
    if (n > TK_MAX_POLICIES)
        return crm_config_error(ctx, list, "at most %d policies", TK_MAX_POLICIES);
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *it = crm_config_item(ctx, list, i);
        if (load_policy(ctx, it, &S->pol[i]) != CRM_OK)
            return CRM_ECONFIG;
        if (tk_policy_find(ctx, S->pol[i].name))
            return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                    "policy '%s' is declared twice", S->pol[i].name);
        S->npol++;
    }
    return CRM_OK;
}

/* pause: status -> metrics; absent: pending pauses all, on_hold resolution. */
static int load_pause(crm_plugin_ctx *ctx)
{
    tk_state *S = TK(ctx);
    const crm_config_node *p = crm_config_child(ctx, NULL, "pause");
    memset(S->pause, 0, sizeof S->pause);
    if (!p) {
        S->pause[TK_PENDING] = (1u << TK_NMETRIC) - 1;
        S->pause[TK_ON_HOLD] = 1u << TK_RESOLUTION;
        return CRM_OK;
    }
    for (size_t i = 0; i < crm_config_count(ctx, p); i++) {
        const crm_config_node *e = crm_config_item(ctx, p, i);
        int st = tk_status_parse(crm_config_key(ctx, e));
        for (size_t j = 0; st >= 0 && j < crm_config_count(ctx, e); j++) {
            char name[32];
            const crm_config_node *m = crm_config_item(ctx, e, j);
            text(ctx, m, NULL, name, sizeof name);
            int metric = tk_metric_parse(name);
            if (metric < 0)
                return crm_config_error(ctx, m, "unknown clock '%s' (first_reply, next_reply, "
                                                "resolution, periodic_update)", name);
            S->pause[st] |= 1u << metric;
        }
    }
    return CRM_OK;
}

/* A duration of a map (its schema default applied), as wall-clock seconds. */
static int64_t map_duration(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key,
                            int64_t dflt)
{
    crm_value v;
    if (crm_config_value(ctx, map, key, &v) != CRM_OK || !v.given)
        return dflt;
    return seconds_of(&v);
}

/* nps: present enables the surveys; every must be positive (once per period). */
static int load_nps(crm_plugin_ctx *ctx)
{
    tk_state *S = TK(ctx);
    const crm_config_node *n = crm_config_child(ctx, NULL, "nps");
    S->nps_every = 0;
    if (!n)
        return CRM_OK;
    S->nps_every = map_duration(ctx, n, "every", 90 * 86400);
    S->nps_after_solve = map_duration(ctx, n, "after_solve", 7 * 86400);
    text(ctx, n, "template", S->nps_template, sizeof S->nps_template);
    text(ctx, n, "purpose", S->nps_purpose, sizeof S->nps_purpose);
    if (!S->nps_template[0])
        snprintf(S->nps_template, sizeof S->nps_template, "nps_survey");
    if (!S->nps_purpose[0])
        snprintf(S->nps_purpose, sizeof S->nps_purpose, "marketing");
    if (S->nps_every <= 0)
        return crm_config_error(ctx, crm_config_child(ctx, n, "every"),
                                "expected a positive period (90d)");
    if (strcmp(S->nps_purpose, "marketing") && strcmp(S->nps_purpose, "service"))
        return crm_config_error(ctx, crm_config_child(ctx, n, "purpose"),
                                "unknown purpose '%s' (marketing, service)", S->nps_purpose);
    return CRM_OK;
}

/* agent_scope: own, team or all (see scope.c). */
static int load_scope(crm_plugin_ctx *ctx)
{
    tk_state *S = TK(ctx);
    top_text(ctx, "agent_scope", S->agent_scope, sizeof S->agent_scope);
    if (!S->agent_scope[0])
        snprintf(S->agent_scope, sizeof S->agent_scope, "all");
    if (strcmp(S->agent_scope, "own") && strcmp(S->agent_scope, "team") &&
        strcmp(S->agent_scope, "all"))
        return crm_config_error(ctx, crm_config_child(ctx, NULL, "agent_scope"),
                                "unknown agent_scope '%s' (own, team, all)", S->agent_scope);
    return CRM_OK;
}

int tk_config_load(crm_plugin_ctx *ctx)
{
    tk_state *S = TK(ctx);
    int rc = load_teams(ctx);
    if (rc == CRM_OK)
        rc = load_policies(ctx);
    if (rc == CRM_OK)
        rc = load_pause(ctx);
    if (rc == CRM_OK)
        rc = duration(ctx, "warn_before", "15m", &S->warn_before);
    if (rc == CRM_OK)
        rc = duration(ctx, "close_after", "4d", &S->close_after);
    if (rc == CRM_OK)
        rc = duration(ctx, "survey_after", "24h", &S->survey_after);
    if (rc == CRM_OK)
        rc = load_nps(ctx);
    if (rc == CRM_OK)
        rc = load_scope(ctx);
    if (rc != CRM_OK)
        return rc;
    top_text(ctx, "survey_template", S->survey_template, sizeof S->survey_template);
    top_text(ctx, "ack_template", S->ack_template, sizeof S->ack_template);
    const crm_config_node *m = crm_config_child(ctx, NULL, "mediator");
    text(ctx, m, "name", S->mediator_name, sizeof S->mediator_name);
    text(ctx, m, "url", S->mediator_url, sizeof S->mediator_url);
    text(ctx, m, "address", S->mediator_address, sizeof S->mediator_address);
    return CRM_OK;
}

const tk_team *tk_team_find(crm_plugin_ctx *ctx, const char *name)
{
    for (size_t i = 0; name && i < TK(ctx)->nteams; i++)
        if (!strcmp(TK(ctx)->teams[i].name, name))
            return &TK(ctx)->teams[i];
    return NULL;
}

const tk_policy *tk_policy_find(crm_plugin_ctx *ctx, const char *name)
{
    for (size_t i = 0; name && i < TK(ctx)->npol; i++)
        if (!strcmp(TK(ctx)->pol[i].name, name))
            return &TK(ctx)->pol[i];
    return NULL;
}

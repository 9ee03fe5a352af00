/* pipeline plugin — its crm.yaml section: the declared schema (checked by the
 * host with file:line:column), read into the state at start with the
 * plugin's own checks pointing at the node: exactly one won and one lost
 * stage per pipeline, known categories, unique names. */
#include <ctype.h>
#include <string.h>

#include "pl_int.h"

const char *const pl_category_names[PL_CAT_COUNT] = {"pipeline", "best_case", "commit",
                                                     "closed", "omitted"};

static const crm_config_field stage_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the stage's name", NULL, 0, 0, 0},
    {"probability", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "win probability, 0-100", NULL, 0,
     0, 100},
    {"category", CRM_CONFIG_STRING, 0, NULL, "forecast category: pipeline, best_case, commit, "
     "closed or omitted (default: pipeline; closed for won and lost)", NULL, 0, 0, 0},
    {"rot_after", CRM_CONFIG_DURATION, 0, NULL, "a deal without activity this long is stalled",
     NULL, 0, 0, 0},
    {"won", CRM_CONFIG_BOOL, 0, "false", "the won stage (exactly one)", NULL, 0, 0, 0},
    {"lost", CRM_CONFIG_BOOL, 0, "false", "the lost stage (exactly one)", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field pipeline_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the pipeline's name", NULL, 0, 0, 0},
    {"currency", CRM_CONFIG_STRING, 0, NULL, "ISO 4217 code of its amounts (default: "
     "locale.currency)", NULL, 0, 0, 0},
    {"stages", CRM_CONFIG_LIST, CRM_CONFIG_REQUIRED, NULL, "the stages, in order", stage_fields,
     CRM_CONFIG_MAP, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field quote_fields[] = {
    {"valid_for", CRM_CONFIG_DURATION, 0, "30d", "how long a quote is valid", NULL, 0, 0, 0},
    {"follow_up_after", CRM_CONFIG_DURATION, 0, "7bd", "a sent quote unanswered this long gets "
     "a follow_up task", NULL, 0, 0, 0},
    {"calendar", CRM_CONFIG_STRING, 0, "default", "business calendar for bd durations", NULL, 0,
     0, 0},
    {"default_vat", CRM_CONFIG_STRING, 0, "20", "VAT % of a quote line written without one "
     "(\"5.5\": at most 2 decimals)", NULL, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field team_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the team's name", NULL, 0, 0, 0},
    {"members", CRM_CONFIG_LIST, CRM_CONFIG_REQUIRED, NULL, "its people (deal owners: user "
     "names or emails)", NULL, CRM_CONFIG_STRING, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

const crm_config_field pl_config_schema[] = {
    {"pipelines", CRM_CONFIG_LIST, 0, NULL, "the sales pipelines (the first is the default)",
     pipeline_fields, CRM_CONFIG_MAP, 0, 0},
    {"lost_reasons", CRM_CONFIG_LIST, 0, NULL, "the reasons `crm deal lose` accepts", NULL,
     CRM_CONFIG_STRING, 0, 0},
    {"quotes", CRM_CONFIG_MAP, 0, NULL, "quote validity and follow-up", quote_fields, 0, 0, 0},
    {"users", CRM_CONFIG_LIST, 0, NULL, "owners new leads and deals are assigned to, round-robin",
     NULL, CRM_CONFIG_STRING, 0, 0},
    {"assign_rule", CRM_CONFIG_STRING, 0, NULL, "Lua rule (FILE:FN) given a new lead or deal "
     "(kind = lead|deal) returning its owner, or nil for round-robin over users", NULL, 0, 0,
     0},
    {"lead_score_rule", CRM_CONFIG_STRING, 0, NULL, "Lua rule (FILE:FN) given a lead returning "
     "its score and reasons, recomputed when the lead changes", NULL, 0, 0, 0},
    {"agents_edit_own_deals", CRM_CONFIG_BOOL, 0, "false", "crm serve: PATCH /v1/deals/{id} "
     "lets an agent token change the deals it owns (owner = the token's name)", NULL, 0, 0, 0},
    {"agent_scope", CRM_CONFIG_STRING, 0, "all", "crm serve: the deals an agent token reads "
     "and writes: own (it owns), team (also its teams' members'), all", NULL, 0, 0, 0},
    {"teams", CRM_CONFIG_LIST, 0, NULL, "sales teams for agent_scope: team", team_fields,
     CRM_CONFIG_MAP, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

int pl_category_parse(const char *name)
{
    for (int i = 0; i < PL_CAT_COUNT; i++)
        if (name && !strcmp(pl_category_names[i], name))
            return i;
    return -1;
}

static void copy_text(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key,
                      char *buf, size_t size)
{
    crm_value v;
    buf[0] = 0;
    if (map && crm_config_value(ctx, map, key, &v) == CRM_OK && v.text)
        snprintf(buf, size, "%s", v.text);
}

static int flag_of(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key)
{
    crm_value v;
    return crm_config_value(ctx, map, key, &v) == CRM_OK && v.i;
}

/* One stage {name, probability, category, rot_after, won, lost}. */
static int load_stage(crm_plugin_ctx *ctx, const crm_config_node *it, pl_pipeline *p)
{
    pl_stage *s = &p->stages[p->nstages];
    crm_value v;
    memset(s, 0, sizeof *s);
    copy_text(ctx, it, "name", s->name, sizeof s->name);
    if (pl_stage_index(p, s->name) >= 0)
        return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                "stage \"%s\" is declared twice", s->name);
    if (crm_config_value(ctx, it, "probability", &v) != CRM_OK)
        return CRM_ECONFIG;
    s->probability = (int)v.i;
    s->won = flag_of(ctx, it, "won");
    s->lost = flag_of(ctx, it, "lost");
    if (s->won && s->lost)
        return crm_config_error(ctx, it, "stage \"%s\" cannot be both won and lost", s->name);
    if ((s->won && s->probability != 100) || (s->lost && s->probability != 0))
        return crm_config_error(ctx, crm_config_child(ctx, it, "probability"),
                                "the %s stage's probability must be %d", s->won ? "won" : "lost",
                                s->won ? 100 : 0);
    char cat[PL_NAME];
    copy_text(ctx, it, "category", cat, sizeof cat);
    int c = cat[0] ? pl_category_parse(cat) : (s->won || s->lost ? PL_CAT_CLOSED : PL_CAT_PIPELINE);
    if (c < 0)
        return crm_config_error(ctx, crm_config_child(ctx, it, "category"),
                                "unknown category \"%s\" (known: pipeline, best_case, commit, "
                                "closed, omitted)", cat);
    s->category = (pl_category)c;
    if (crm_config_value(ctx, it, "rot_after", &v) == CRM_OK && v.given) {
        s->rot_unit = v.unit;
        s->rot_amount = v.i;
        snprintf(s->rot_text, sizeof s->rot_text, "%s", v.text ? v.text : "");
    }
    if (s->won)
        p->won = p->nstages;
    if (s->lost)
        p->lost = p->nstages;
    p->nstages++;
    return CRM_OK;
}

/* Exactly one won and one lost stage, pointing at the stages list. */
static int check_terminals(crm_plugin_ctx *ctx, const crm_config_node *list, pl_pipeline *p)
{
    int won = 0, lost = 0;
    for (size_t i = 0; i < p->nstages; i++)
        won += p->stages[i].won, lost += p->stages[i].lost;
    if (won != 1 || lost != 1)
        return crm_config_error(ctx, list, "pipeline \"%s\" needs exactly one won stage and one "
                                "lost stage (it has %d won, %d lost)", p->name, won, lost);
    if (p->nstages < 3)
        return crm_config_error(ctx, list, "pipeline \"%s\" needs at least one open stage",
                                p->name);
    return CRM_OK;
}

static int load_pipeline(crm_plugin_ctx *ctx, const crm_config_node *it, pl_pipeline *p)
{
    memset(p, 0, sizeof *p);
    copy_text(ctx, it, "name", p->name, sizeof p->name);
    if (pl_pipeline_find(ctx, p->name))
        return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                "pipeline \"%s\" is declared twice", p->name);
    char cur[16];
    copy_text(ctx, it, "currency", cur, sizeof cur);
    if (!cur[0]) {
        const char *l = CRM_API_HAS(ctx, locale) ? crm_locale(ctx, "currency") : NULL;
        snprintf(cur, sizeof cur, "%s", l ? l : "EUR");
    }
    if (strlen(cur) != 3 || !isupper((unsigned char)cur[0]) || !isupper((unsigned char)cur[1]) ||
        !isupper((unsigned char)cur[2]))
        return crm_config_error(ctx, crm_config_child(ctx, it, "currency"),
                                "\"%s\" is not an ISO 4217 code (three capitals)", cur);
    memcpy(p->currency, cur, 4);
    const crm_config_node *list = crm_config_child(ctx, it, "stages");
    size_t n = crm_config_count(ctx, list);
    if (n > PL_MAX_STAGES)
        return crm_config_error(ctx, list, "at most %d stages", PL_MAX_STAGES);
    for (size_t i = 0; i < n; i++)
        if (load_stage(ctx, crm_config_item(ctx, list, i), p) != CRM_OK)
            return CRM_ECONFIG;
    return check_terminals(ctx, list, p);
}

/* The built-in pipeline when the section names none. */
static void default_pipeline(crm_plugin_ctx *ctx, pl_pipeline *p)
{
    static const pl_stage stages[] = {
        {"qualification", 10, PL_CAT_PIPELINE, 0, 0, CRM_DURATION_DAYS, 14, "14d"},
        {"proposal", 40, PL_CAT_BEST_CASE, 0, 0, CRM_DURATION_BUSINESS_DAYS, 10, "10bd"},
        {"negotiation", 70, PL_CAT_COMMIT, 0, 0, CRM_DURATION_BUSINESS_DAYS, 7, "7bd"},
        {"won", 100, PL_CAT_CLOSED, 1, 0, 0, 0, ""},
        {"lost", 0, PL_CAT_CLOSED, 0, 1, 0, 0, ""},
    };
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "default");
    const char *l = CRM_API_HAS(ctx, locale) ? crm_locale(ctx, "currency") : NULL;
    snprintf(p->currency, sizeof p->currency, "%s", l && strlen(l) == 3 ? l : "EUR");
    memcpy(p->stages, stages, sizeof stages);
    p->nstages = 5, p->won = 3, p->lost = 4;
}

static int load_reasons(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "lost_reasons");
    static const char *const dflt[] = {"price", "competitor", "no_budget", "no_decision",
                                       "timing"};
    S->nreasons = 0;
    if (!list) {
        for (size_t i = 0; i < 5; i++)
            snprintf(S->reasons[S->nreasons++], PL_NAME, "%s", dflt[i]);
        return CRM_OK;
    }
    size_t n = crm_config_count(ctx, list);
    if (n > PL_MAX_REASONS)
        return crm_config_error(ctx, list, "at most %d lost reasons", PL_MAX_REASONS);
    for (size_t i = 0; i < n; i++) {
        crm_value v;
        const crm_config_node *it = crm_config_item(ctx, list, i);
        if (crm_config_value(ctx, it, NULL, &v) != CRM_OK || !v.text || !v.text[0])
            return crm_config_error(ctx, it, "a lost reason must be a non-empty word");
        snprintf(S->reasons[S->nreasons++], PL_NAME, "%s", v.text);
    }
    return CRM_OK;
}

static int load_quotes(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    const crm_config_node *q = crm_config_child(ctx, NULL, "quotes");
    snprintf(S->valid_for, sizeof S->valid_for, "30d");
    snprintf(S->follow_up_after, sizeof S->follow_up_after, "7bd");
    S->calendar[0] = 0;
    S->default_vat_bp = 2000;
    if (!q)
        return CRM_OK;
    char buf[64];
    copy_text(ctx, q, "default_vat", buf, sizeof buf);
    if (buf[0] && (pl_parse_decimal(buf, 2, &S->default_vat_bp) || S->default_vat_bp < 0 ||
                   S->default_vat_bp > 10000))
        return crm_config_error(ctx, crm_config_child(ctx, q, "default_vat"),
                                "default_vat \"%s\" is not a percentage 0-100 with at most 2 "
                                "decimals", buf);
    copy_text(ctx, q, "valid_for", buf, sizeof buf);
    if (buf[0])
        snprintf(S->valid_for, sizeof S->valid_for, "%s", buf);
    copy_text(ctx, q, "follow_up_after", buf, sizeof buf);
    if (buf[0])
        snprintf(S->follow_up_after, sizeof S->follow_up_after, "%s", buf);
    copy_text(ctx, q, "calendar", buf, sizeof buf);
    if (strcmp(buf, "default"))
        snprintf(S->calendar, sizeof S->calendar, "%s", buf);
    return CRM_OK;
}

static int load_users(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "users");
    size_t n = crm_config_count(ctx, list);
    S->nusers = 0;
    if (n > sizeof S->users / sizeof S->users[0])
        return crm_config_error(ctx, list, "at most %zu users", sizeof S->users / sizeof S->users[0]);
    for (size_t i = 0; i < n; i++) {
        crm_value v;
        const crm_config_node *it = crm_config_item(ctx, list, i);
        if (crm_config_value(ctx, it, NULL, &v) != CRM_OK || !v.text || !v.text[0])
            return crm_config_error(ctx, it, "a user must be a non-empty name or email");
        snprintf(S->users[S->nusers++], sizeof S->users[0], "%s", v.text);
    }
    return CRM_OK;
}

/* assign_rule and lead_score_rule: Lua rules the host evaluates on records
 * (SDK 1.4 call_rule_json). */
static int load_rules(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    crm_value v;
    S->assign_rule[0] = S->lead_score_rule[0] = 0;
    if (crm_config_value(ctx, NULL, "assign_rule", &v) == CRM_OK && v.text)
        snprintf(S->assign_rule, sizeof S->assign_rule, "%s", v.text);
    if (crm_config_value(ctx, NULL, "lead_score_rule", &v) == CRM_OK && v.text)
        snprintf(S->lead_score_rule, sizeof S->lead_score_rule, "%s", v.text);
    const char *key = S->assign_rule[0] ? "assign_rule" : "lead_score_rule";
    if ((S->assign_rule[0] || S->lead_score_rule[0]) && !CRM_API_HAS(ctx, call_rule_json))
        return crm_config_error(ctx, crm_config_child(ctx, NULL, key),
                                "%s needs a crm with plugin API 1.4 (call_rule_json)", key);
    return CRM_OK;
}

/* One team {name, members}: a name declared once, members non-empty. */
static int load_team(crm_plugin_ctx *ctx, const crm_config_node *it, pl_team *t)
{
    memset(t, 0, sizeof *t);
    copy_text(ctx, it, "name", t->name, sizeof t->name);
    for (size_t i = 0; i < PL(ctx)->nteams; i++)
        if (!strcmp(PL(ctx)->teams[i].name, t->name))
            return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                    "team \"%s\" is declared twice", t->name);
    const crm_config_node *m = crm_config_child(ctx, it, "members");
    size_t n = crm_config_count(ctx, m);
    if (n > PL_MAX_MEMBERS)
        return crm_config_error(ctx, m, "at most %d members", PL_MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *e = crm_config_item(ctx, m, i);
        copy_text(ctx, e, NULL, t->members[i], sizeof t->members[i]);
        if (!t->members[i][0])
            return crm_config_error(ctx, e, "a member must be a non-empty name or email");
        t->nmembers++;
    }
    return CRM_OK;
}

static int load_teams(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "teams");
    size_t n = crm_config_count(ctx, list);
    S->nteams = 0;
    if (n > PL_MAX_TEAMS)
        return crm_config_error(ctx, list, "at most %d teams", PL_MAX_TEAMS);
    for (size_t i = 0; i < n; i++) {
        pl_team t;
        if (load_team(ctx, crm_config_item(ctx, list, i), &t) != CRM_OK)
            return CRM_ECONFIG;
        S->teams[S->nteams++] = t;
    }
    return CRM_OK;
}

/* agent_scope: own, team or all (see scope.c). */
static int load_scope(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    crm_value v;
    int given = crm_config_value(ctx, NULL, "agent_scope", &v) == CRM_OK && v.text;
    snprintf(S->agent_scope, sizeof S->agent_scope, "%s", given ? v.text : "all");
    if (strcmp(S->agent_scope, "own") && strcmp(S->agent_scope, "team") &&
        strcmp(S->agent_scope, "all"))
        return crm_config_error(ctx, crm_config_child(ctx, NULL, "agent_scope"),
                                "unknown agent_scope \"%s\" (own, team, all)", S->agent_scope);
    return CRM_OK;
}

int pl_config_load(crm_plugin_ctx *ctx)
{
    pl_state *S = PL(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "pipelines");
    size_t n = crm_config_count(ctx, list);
    S->npipelines = 0;
    if (n > PL_MAX_PIPELINES)
        return crm_config_error(ctx, list, "at most %d pipelines", PL_MAX_PIPELINES);
    for (size_t i = 0; i < n; i++) {
        pl_pipeline p;
        if (load_pipeline(ctx, crm_config_item(ctx, list, i), &p) != CRM_OK)
            return CRM_ECONFIG;
        S->pipelines[S->npipelines++] = p;
    }
    if (!S->npipelines)
        default_pipeline(ctx, &S->pipelines[S->npipelines++]);
    int rc = load_reasons(ctx);
    if (rc == CRM_OK)
        rc = load_quotes(ctx);
    if (rc == CRM_OK)
        rc = load_users(ctx);
    if (rc == CRM_OK)
        rc = load_rules(ctx);
    if (rc == CRM_OK)
        rc = load_teams(ctx);
    return rc == CRM_OK ? load_scope(ctx) : rc;
}

const pl_pipeline *pl_pipeline_find(crm_plugin_ctx *ctx, const char *name)
{
    pl_state *S = PL(ctx);
    if ((!name || !name[0]) && S->npipelines)
        return &S->pipelines[0];
    for (size_t i = 0; name && i < S->npipelines; i++)
        if (!strcmp(S->pipelines[i].name, name))
            return &S->pipelines[i];
    return NULL;
}

int pl_stage_index(const pl_pipeline *p, const char *name)
{
    for (size_t i = 0; name && i < p->nstages; i++)
        if (!strcmp(p->stages[i].name, name))
            return (int)i;
    return -1;
}

int pl_reason_known(crm_plugin_ctx *ctx, const char *reason)
{
    for (size_t i = 0; reason && i < PL(ctx)->nreasons; i++)
        if (!strcmp(PL(ctx)->reasons[i], reason))
            return 1;
    return 0;
}

void pl_reason_list(crm_plugin_ctx *ctx, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < PL(ctx)->nreasons && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", PL(ctx)->reasons[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

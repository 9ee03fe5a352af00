/* ticketing plugin — which tickets an agent's API requests reach
 * (ticketing.agent_scope): own = assigned to the agent (its token's name, or
 * the name or email of the user so named), team = also every ticket of a
 * team listing the agent among its members, all = every ticket. Only the
 * agent role is scoped: managers and admins see everything, and so do
 * viewers (read only) and integrations (the shop, the survey page). */
#include <string.h>

#include "tk_int.h"

/* The teams whose members include one of the caller's names. */
static void teams_of(crm_plugin_ctx *ctx, tk_scope *s)
{
    const tk_state *S = TK(ctx);
    for (size_t i = 0; i < S->nteams; i++)
        for (size_t j = 0; j < S->teams[i].nmembers; j++)
            if (crm_http_names_has(&s->me, S->teams[i].members[j])) {
                s->teams[s->nteams++] = S->teams[i].name;
                break;
            }
}

void tk_scope_of(crm_plugin_ctx *ctx, crm_http_exchange *x, tk_scope *s)
{
    const char *role = crm_http_caller(x, "role"), *scope = TK(ctx)->agent_scope;
    memset(s, 0, sizeof *s);
    s->all = !role || strcmp(role, "agent") || !strcmp(scope, "all");
    if (s->all)
        return;
    crm_http_caller_names(ctx, x, &s->me);
    if (!strcmp(scope, "team"))
        teams_of(ctx, s);
}

int tk_scope_has(const tk_scope *s, const char *assignee, const char *team)
{
    if (s->all || crm_http_names_has(&s->me, assignee))
        return 1;
    for (size_t i = 0; team && i < s->nteams; i++)
        if (!strcmp(s->teams[i], team))
            return 1;
    return 0;
}

/* Appends text at buf + *len (a truncated condition fails to prepare: no
 * ticket leaks through it). */
static void append(char *buf, size_t size, size_t *len, const char *text)
{
    int w = *len < size ? snprintf(buf + *len, size - *len, "%s", text) : 0;
    *len += w > 0 ? (size_t)w : 0;
}

/* " OR column IN (?first, ...)" for n parameters; nothing when n is 0. */
static void any_of(char *buf, size_t size, size_t *len, const char *column, int first, size_t n)
{
    char one[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(one, sizeof one, "%s?%d", i ? ", " : "", first + (int)i);
        if (!i) {
            append(buf, size, len, " OR ");
            append(buf, size, len, column);
            append(buf, size, len, " IN (");
        }
        append(buf, size, len, one);
    }
    if (n)
        append(buf, size, len, ")");
}

void tk_scope_sql(const tk_scope *s, int first, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    if (s->all)
        return;
    append(buf, size, &len, " AND (1 = 0"); /* portable false: no 0 as a boolean */
    any_of(buf, size, &len, "assignee", first, s->me.n);
    any_of(buf, size, &len, "team", first + (int)s->me.n, s->nteams);
    append(buf, size, &len, ")");
}

void tk_scope_bind(crm_stmt *st, const tk_scope *s, int first)
{
    if (s->all)
        return;
    for (size_t i = 0; i < s->me.n; i++)
        crm_sql_bind_text(st, first + (int)i, s->me.v[i]);
    for (size_t i = 0; i < s->nteams; i++)
        crm_sql_bind_text(st, first + (int)(s->me.n + i), s->teams[i]);
}

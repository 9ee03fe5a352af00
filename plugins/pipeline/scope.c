/* pipeline plugin — which deals an agent's API requests reach
 * (pipeline.agent_scope): own = the deals it owns (owner = its token's name,
 * or the name or email of the user so named), team = also those owned by a
 * member of a pipeline.teams team listing the agent, all = every deal. Only
 * the agent role is scoped: managers and admins see everything, and so do
 * viewers (read only) and integrations. */
#include <string.h>

#include "pl_int.h"

/* Adds owner once. */
static void add_owner(pl_scope *s, const char *owner)
{
    if (!pl_scope_has(s, owner) && s->n < sizeof s->owners / sizeof s->owners[0])
        s->owners[s->n++] = owner;
}

/* The members of every team listing one of the caller's names. */
static void teammates(crm_plugin_ctx *ctx, pl_scope *s)
{
    const pl_state *S = PL(ctx);
    for (size_t i = 0; i < S->nteams; i++) {
        const pl_team *t = &S->teams[i];
        size_t j = 0;
        while (j < t->nmembers && !crm_http_names_has(&s->me, t->members[j]))
            j++;
        for (size_t k = 0; j < t->nmembers && k < t->nmembers; k++)
            add_owner(s, t->members[k]);
    }
}

void pl_scope_of(crm_plugin_ctx *ctx, crm_http_exchange *x, pl_scope *s)
{
    const char *role = crm_http_caller(x, "role"), *scope = PL(ctx)->agent_scope;
    memset(s, 0, sizeof *s);
    s->all = !role || strcmp(role, "agent") || !strcmp(scope, "all");
    if (s->all)
        return;
    crm_http_caller_names(ctx, x, &s->me);
    for (size_t i = 0; i < s->me.n; i++)
        add_owner(s, s->me.v[i]);
    if (!strcmp(scope, "team"))
        teammates(ctx, s);
}

int pl_scope_has(const pl_scope *s, const char *owner)
{
    if (s->all)
        return 1;
    for (size_t i = 0; owner && *owner && i < s->n; i++)
        if (!strcmp(s->owners[i], owner))
            return 1;
    return 0;
}

void pl_scope_sql(const pl_scope *s, int first, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    if (s->all)
        return;
    if (!s->n) {
        snprintf(buf, size, " AND 1 = 0");
        return;
    }
    /* a truncated list fails to prepare: no deal leaks through it */
    for (size_t i = 0; i < s->n && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s?%d", i ? ", " : " AND owner IN (",
                         first + (int)i);
        len += w > 0 ? (size_t)w : 0;
    }
    if (len < size)
        snprintf(buf + len, size - len, ")");
}

void pl_scope_bind(crm_stmt *st, const pl_scope *s, int first)
{
    for (size_t i = 0; !s->all && i < s->n; i++)
        crm_sql_bind_text(st, first + (int)i, s->owners[i]);
}

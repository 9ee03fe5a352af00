/* loyalty plugin — prepared statements kept for the life of the context.
 *
 * The host prepares every statement afresh (parse, plan, authorizer), which
 * was most of an order event's cost in `crm demo` (100,000 events). The
 * one-shot helpers loy_scalar and loy_run reuse a statement per SQL text
 * instead: keyed by the text's address (the callers pass literals) and
 * checked against its content, reset after every use so none holds a read
 * open, and finalized in fini, which the host runs before it closes the
 * connection. Each kernel (one per connection, `crm serve` threads
 * included) has its own context, hence its own cache. */
#include <stdint.h>
#include <string.h>

#include "loy_int.h"

static size_t slot_of(const char *sql)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 7;
    return (size_t)(h * 2654435761u) % LOY_STMT_CACHE;
}

int loy_cached_stmt(crm_plugin_ctx *ctx, const char *sql, crm_stmt **out)
{
    loy_cached *c = &LOY(ctx)->cache[slot_of(sql)];
    if (c->st && c->sql == sql && !strcmp(c->text, sql)) {
        *out = c->st;
        return CRM_OK;
    }
    int rc = crm_sql_prepare(ctx, sql, out);
    size_t len = strlen(sql);
    if (rc != CRM_OK || len >= sizeof c->text) /* too long to check later: not kept */
        return rc;
    crm_sql_finalize(c->st);
    c->sql = sql;
    memcpy(c->text, sql, len + 1);
    c->st = *out;
    return CRM_OK;
}

void loy_cached_done(crm_plugin_ctx *ctx, const char *sql, crm_stmt *st)
{
    if (st && LOY(ctx)->cache[slot_of(sql)].st == st)
        crm_sql_reset(st);
    else
        crm_sql_finalize(st); /* not a kept one */
}

void loy_stmt_cache_free(crm_plugin_ctx *ctx)
{
    for (size_t i = 0; i < LOY_STMT_CACHE; i++) {
        crm_sql_finalize(LOY(ctx)->cache[i].st);
        LOY(ctx)->cache[i].st = NULL;
    }
}

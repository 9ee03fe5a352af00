/* pipeline plugin — its Lua functions, for rules and handlers:
 * crm.pipeline.deal(id) is `crm deal show --json` (nil when there is no such
 * deal); crm.pipeline.open_deals(contact_id) the contact's open deals, by id.
 * So a segment "contacts with an open deal above 10k in negotiation" is a
 * few lines of Lua. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* The single positive integer argument of `what`, or 0 with *error set. */
static int64_t one_id(const char *args_json, const char *what, char **error)
{
    json_t *a = json_loads(args_json ? args_json : "", 0, NULL);
    json_t *v = json_array_get(a, 0);
    int64_t id = json_array_size(a) == 1 && json_is_integer(v) ? json_integer_value(v) : 0;
    json_decref(a);
    if (id <= 0)
        *error = strdup(what);
    return id;
}

static int result(json_t *v, char **result_json, char **error)
{
    *result_json = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (*result_json)
        return CRM_OK;
    *error = strdup("out of memory");
    return CRM_ENOMEM;
}

static int lua_deal(crm_plugin_ctx *ctx, void *ud, const char *args_json, char **result_json,
                    char **error)
{
    (void)ud;
    int64_t id = one_id(args_json, "crm.pipeline.deal(id): expected one deal id", error);
    if (!id)
        return CRM_EINVAL;
    pl_deal d;
    int rc = pl_deal_get(ctx, id, &d);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK; /* nil */
    if (rc != CRM_OK) {
        *error = strdup(crm_last_error(ctx));
        return rc;
    }
    return result(pl_deal_json(ctx, &d), result_json, error);
}

static int lua_open_deals(crm_plugin_ctx *ctx, void *ud, const char *args_json,
                          char **result_json, char **error)
{
    (void)ud;
    int64_t contact = one_id(args_json, "crm.pipeline.open_deals(contact_id): expected one id",
                             error);
    if (!contact)
        return CRM_EINVAL;
    crm_stmt *st = pl_prep(ctx, "SELECT " PL_DEAL_COLS " FROM pipeline_deals WHERE"
                                " contact_id = ?1 AND status = 'open' ORDER BY id");
    if (!st) {
        *error = strdup(crm_last_error(ctx));
        return CRM_EDB;
    }
    crm_sql_bind_int64(st, 1, contact);
    json_t *arr = json_array();
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        pl_deal d;
        pl_deal_read(st, &d);
        json_array_append_new(arr, pl_deal_json(ctx, &d));
    }
    crm_sql_finalize(st);
    if (step < 0) {
        json_decref(arr);
        *error = strdup(crm_last_error(ctx));
        return CRM_EDB;
    }
    return result(arr, result_json, error);
}

int pl_lua_register(crm_plugin_ctx *ctx)
{
    int rc = crm_register_lua_function(ctx, "deal", lua_deal, NULL,
                                       "deal(id) -> the deal as `crm deal show --json`, or nil");
    if (rc == CRM_OK)
        rc = crm_register_lua_function(ctx, "open_deals", lua_open_deals, NULL,
                                       "open_deals(contact_id) -> the contact's open deals");
    return rc;
}

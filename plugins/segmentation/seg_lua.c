/* segmentation plugin — Lua predicate segments, evaluated by the host's rule
 * engine (sandboxed, with crm.yaml's limits): rule_each over every contact on
 * SDK 1.2 hosts, call_rule per contact otherwise. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

int seg_lua_holds(crm_plugin_ctx *ctx, const char *spec, int64_t cid, json_t **reasons)
{
    char *res = NULL, *err = NULL, *cause = NULL;
    if (reasons)
        *reasons = NULL;
    int rc = crm_call_rule(ctx, spec, cid, &res, &err, &cause);
    if (rc != CRM_OK) {
        /* the engine's message names the rule, file:line, contact and cause */
        crm_set_error(ctx, "%s", err ? err : crm_last_error(ctx));
        crm_free(ctx, res);
        crm_free(ctx, err);
        crm_free(ctx, cause);
        return rc < 0 ? rc : CRM_ESCRIPT;
    }
    json_t *o = json_loads(res, 0, NULL);
    crm_free(ctx, res);
    json_t *v = json_object_get(o, "result");
    int yes = v && !json_is_false(v) && !json_is_null(v);
    if (reasons)
        *reasons = json_incref(json_object_get(o, "reasons"));
    json_decref(o);
    return yes;
}

static const char *const cause_names[5] = {"memory", "instructions", "blocked", "runtime",
                                           "syntax"};

/* What rule_each's callback collects for seg_lua_matching. */
typedef struct lua_scan {
    seg_idlist *out;
    int64_t evaluated, failed;
    int64_t by_cause[5]; /* memory, instructions, blocked, runtime, syntax */
    char first[768];     /* the first failure's message */
} lua_scan;

static int lua_scan_row(void *ud, int64_t cid, const char *result, const char *error,
                        const char *cause)
{
    lua_scan *ls = ud;
    ls->evaluated++;
    if (!result) {
        for (int k = 0; k < 5; k++)
            if (cause && !strcmp(cause, cause_names[k]))
                ls->by_cause[k]++;
        if (!ls->failed++)
            snprintf(ls->first, sizeof ls->first, "%s", error ? error : "");
        return CRM_OK;
    }
    /* holds: any result but false or null (as seg_lua_holds) */
    if (strcmp(result, "false") != 0 && strcmp(result, "null") != 0)
        return seg_idlist_push(ls->out, cid);
    return CRM_OK;
}

/* Hosts before SDK 1.2: call_rule once per contact, in id order. */
static int lua_matching_each(crm_plugin_ctx *ctx, const char *spec, seg_idlist *out)
{
    seg_idlist all = {0};
    int rc = seg_collect(ctx, "SELECT id FROM contacts WHERE ?1 = ?1 ORDER BY id", NULL, 0, &all);
    for (size_t i = 0; rc == CRM_OK && i < all.n; i++) {
        int v = seg_lua_holds(ctx, spec, all.v[i], NULL);
        if (v < 0)
            rc = v;
        else if (v && seg_idlist_push(out, all.v[i]) != CRM_OK)
            rc = CRM_ENOMEM;
    }
    free(all.v);
    return rc;
}

/* The scan's failures counted by cause, quoting the first; CRM_ESCRIPT. */
static int scan_failed(crm_plugin_ctx *ctx, const char *spec, const lua_scan *ls, int rc)
{
    char causes[160] = "";
    size_t len = 0;
    for (int k = 0; k < 5; k++)
        if (ls->by_cause[k])
            len += (size_t)snprintf(causes + len, sizeof causes - len, "%s%s: %lld",
                                    len ? ", " : "", cause_names[k], (long long)ls->by_cause[k]);
    crm_set_error(ctx, "Lua rule %s failed for %lld of %lld contacts evaluated (%s)%s; "
                       "first: %s",
                  spec, (long long)ls->failed, (long long)ls->evaluated, causes,
                  rc == CRM_ESCRIPT ? ", stopped at lua.max_failures" : "", ls->first);
    return CRM_ESCRIPT;
}

/* SDK 1.2 hosts evaluate the rule over every contact in one scan
 * (rule_each); older ones once per contact (call_rule). A rule failing for
 * any contact fails the whole evaluation (a membership is never decided from
 * a failed rule): the message counts the failures by cause and quotes the
 * first. */
int seg_lua_matching(crm_plugin_ctx *ctx, const char *spec, seg_idlist *out)
{
    if (!CRM_API_HAS(ctx, rule_each) || !CRM_API_AT_LEAST(ctx, 1, 2))
        return lua_matching_each(ctx, spec, out);
    lua_scan ls = {.out = out};
    int rc = crm_rule_each(ctx, spec, NULL, lua_scan_row, &ls);
    if (rc == CRM_ENOMEM) {
        crm_set_error(ctx, "out of memory evaluating %s", spec);
        return rc;
    }
    if (rc != CRM_OK && !ls.failed)
        return rc; /* unknown rule, bad spec...: the host's message stands */
    if (ls.failed)
        return scan_failed(ctx, spec, &ls, rc);
    return CRM_OK;
}

/* pipeline plugin — its two Lua rules: the lead score
 * (pipeline.lead_score_rule) and the owner of a new lead or deal
 * (pipeline.assign_rule, else round-robin over pipeline.users). Both get
 * the record as a table (SDK 1.4 call_rule_json): a lead is not a contact
 * yet. A failing rule is logged and the record is still stored: a lead is
 * worth more than its score, and round-robin still gives it an owner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* Runs rule spec on record (with kind = what); *result the rule's return
 * value and *reasons its reasons (owned, NULL on failure, logged). */
static int run_rule(crm_plugin_ctx *ctx, const char *key, const char *spec, const char *what,
                    const json_t *record, json_t **result, json_t **reasons)
{
    *result = *reasons = NULL;
    json_t *arg = json_deep_copy(record);
    if (!arg || json_object_set_new(arg, "kind", json_string(what)) != 0) {
        json_decref(arg);
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    char *text = json_dumps(arg, JSON_COMPACT);
    json_decref(arg);
    if (!text) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    char *out = NULL, *error = NULL;
    int rc = crm_call_rule_json(ctx, spec, text, &out, &error, NULL);
    free(text);
    json_t *o = rc == CRM_OK && out ? json_loads(out, 0, NULL) : NULL;
    if (o) {
        *result = json_incref(json_object_get(o, "result"));
        *reasons = json_incref(json_object_get(o, "reasons"));
    } else {
        crm_log(ctx, CRM_LOG_WARN, "pipeline.%s %s failed for a %s: %s", key, spec, what,
                error ? error : crm_last_error(ctx));
    }
    json_decref(o);
    crm_free(ctx, out);
    crm_free(ctx, error);
    return CRM_OK;
}

int pl_lead_score(crm_plugin_ctx *ctx, const json_t *lead, pl_score *out)
{
    pl_state *S = PL(ctx);
    memset(out, 0, sizeof *out);
    if (!S->lead_score_rule[0])
        return CRM_OK;
    json_t *result, *reasons;
    int rc = run_rule(ctx, "lead_score_rule", S->lead_score_rule, "lead", lead, &result,
                      &reasons);
    if (rc == CRM_OK && json_is_number(result)) {
        out->given = 1;
        out->value = (int64_t)llround(json_number_value(result));
        char *r = json_dumps(json_is_array(reasons) ? reasons : json_array(), JSON_COMPACT);
        snprintf(out->reasons, sizeof out->reasons, "%s", r ? r : "[]");
        free(r);
    } else if (rc == CRM_OK && result) {
        crm_log(ctx, CRM_LOG_WARN, "pipeline.lead_score_rule %s: a score must be a number",
                S->lead_score_rule);
    }
    json_decref(result);
    json_decref(reasons);
    return rc;
}

/* The next configured user for `what`; the position is kept in
 * pipeline_assign so it survives across runs. "" when none are configured. */
static int round_robin(crm_plugin_ctx *ctx, const char *what, char *buf, size_t size)
{
    pl_state *S = PL(ctx);
    buf[0] = 0;
    if (!S->nusers)
        return CRM_OK;
    crm_stmt *st = pl_prep(ctx, "SELECT next FROM pipeline_assign WHERE what = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot read the assignment");
    crm_sql_bind_text(st, 1, what);
    int64_t next = crm_sql_step(st) == CRM_SQL_ROW ? crm_sql_column_int64(st, 0) : 0;
    crm_sql_finalize(st);
    snprintf(buf, size, "%s", S->users[(size_t)next % S->nusers]);
    if (!(st = pl_prep(ctx, "INSERT INTO pipeline_assign(what, next) VALUES(?1, ?2)"
                            " ON CONFLICT(what) DO UPDATE SET next = excluded.next")))
        return pl_fail_db(ctx, "cannot store the assignment");
    crm_sql_bind_text(st, 1, what);
    crm_sql_bind_int64(st, 2, (next + 1) % (int64_t)S->nusers);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot store the assignment") : CRM_OK;
}

int pl_assign_owner(crm_plugin_ctx *ctx, const char *what, const json_t *record, char *buf,
                    size_t size)
{
    pl_state *S = PL(ctx);
    buf[0] = 0;
    if (S->assign_rule[0] && record) {
        json_t *result, *reasons;
        int rc = run_rule(ctx, "assign_rule", S->assign_rule, what, record, &result, &reasons);
        if (json_is_string(result) && json_string_length(result) > 0 &&
            json_string_length(result) < size)
            snprintf(buf, size, "%s", json_string_value(result));
        else if (result && !json_is_null(result))
            crm_log(ctx, CRM_LOG_WARN, "pipeline.assign_rule %s: expected a user name or nil "
                    "for a %s; round-robin instead", S->assign_rule, what);
        json_decref(result);
        json_decref(reasons);
        if (rc != CRM_OK || buf[0])
            return rc;
    }
    return round_robin(ctx, what, buf, size);
}

int pl_assign_deal(crm_plugin_ctx *ctx, pl_deal *d)
{
    json_t *rec = json_pack("{ss ss ss sI ss sI}", "title", d->title, "pipeline", d->pipeline,
                            "stage", d->stage, "amount", (json_int_t)d->amount, "currency",
                            d->currency, "contact_id", (json_int_t)d->contact_id);
    if (!rec) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    if (d->company_id)
        json_object_set_new(rec, "company_id", json_integer(d->company_id));
    int rc = pl_assign_owner(ctx, "deal", rec, d->owner, sizeof d->owner);
    json_decref(rec);
    return rc;
}

/* pipeline plugin — its HTTP routes (SDK 1.4 register_route): deals, the
 * board and the forecast, thin glue over deal.c and forecast_cmd.c. A write
 * runs inside the transaction `crm serve` opened for the request. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"
#include "crm/http_json.h"

/* ---- shared ---------------------------------------------------------------------- */

/* The deal as the API shows it: `crm deal show --json` with its times as
 * epoch seconds (the CLI prints them in locale.timezone). */
static json_t *deal_api_json(crm_plugin_ctx *ctx, const pl_deal *d)
{
    json_t *o = pl_deal_json(ctx, d);
    if (!o)
        return NULL;
    json_object_set_new(o, "stage_entered_at", json_integer(d->stage_entered_at));
    json_object_set_new(o, "created_at", json_integer(d->created_at));
    json_object_set_new(o, "updated_at", json_integer(d->updated_at));
    json_object_set_new(o, "closed_at", d->closed_at ? json_integer(d->closed_at) : json_null());
    return o;
}

/* The {id} path parameter as a deal read into d. A deal outside the
 * caller's scope (agent_scope) is answered as one that does not exist, with
 * the same 404 and message, so an agent cannot probe other owners' ids; the
 * PATCH reads it through here too. */
static int deal_param(crm_plugin_ctx *ctx, crm_http_exchange *x, pl_deal *d)
{
    int64_t id = 0;
    int rc = crm_http_id_param(x, "id", "deal", &id);
    if (rc != CRM_OK)
        return rc;
    rc = pl_deal_get(ctx, id, d);
    pl_scope s;
    if (rc == CRM_OK)
        pl_scope_of(ctx, x, &s);
    if (rc == CRM_OK && !pl_scope_has(&s, d->owner)) {
        crm_set_error(ctx, "no deal %lld", (long long)id);
        rc = CRM_ENOTFOUND;
    }
    return rc == CRM_OK ? rc : crm_http_error(x, rc, "id", "%s", crm_last_error(ctx));
}
/* Member `name` as text into buf ("" when absent); CRM_EUSAGE when not a string. */
static int member_text(crm_http_exchange *x, json_t *o, const char *name, char *buf, size_t size)
{
    json_t *v = json_object_get(o, name);
    buf[0] = 0;
    if (!v || json_is_null(v))
        return CRM_OK;
    if (!json_is_string(v) || strlen(json_string_value(v)) >= size)
        return crm_http_error(x, CRM_EUSAGE, name, "%s: expected a string of at most %zu bytes",
                              name, size - 1);
    snprintf(buf, size, "%s", json_string_value(v));
    return CRM_OK;
}

/* Member `name` as an integer (*given 0 when absent); CRM_EUSAGE otherwise. */
static int member_int(crm_http_exchange *x, json_t *o, const char *name, int64_t *out,
                      int *given)
{
    json_t *v = json_object_get(o, name);
    *given = v && !json_is_null(v);
    if (*given && !json_is_integer(v))
        return crm_http_error(x, CRM_EUSAGE, name, "%s: expected an integer", name);
    *out = *given ? json_integer_value(v) : 0;
    return CRM_OK;
}

/* close_date "YYYY-MM-DD" as stored; close_at (epoch) is converted to the
 * day it falls on in locale.timezone. */
static int member_close_date(crm_plugin_ctx *ctx, crm_http_exchange *x, json_t *o, char *buf,
                             size_t size, int *given)
{
    int64_t at;
    int has_at;
    int rc = member_int(x, o, "close_at", &at, &has_at);
    if (rc == CRM_OK)
        rc = member_text(x, o, "close_date", buf, size);
    if (rc != CRM_OK)
        return rc;
    if (has_at)
        pl_date_of(ctx, at, buf, size);
    int y, m, d;
    char tail;
    if (buf[0] && (sscanf(buf, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
                   d < 1 || d > 31))
        return crm_http_error(x, CRM_EINVAL, "close_date", "close_date: \"%s\" is not YYYY-MM-DD",
                              buf);
    *given = has_at || json_object_get(o, "close_date") != NULL;
    return CRM_OK;
}

/* ---- GET /v1/deals --------------------------------------------------------------- */

static int list_ids(crm_plugin_ctx *ctx, crm_http_exchange *x, int64_t after, int64_t limit,
                    int64_t *ids, size_t *n)
{
    pl_scope scope;
    char sql[4608], where[4096];
    pl_scope_of(ctx, x, &scope);
    pl_scope_sql(&scope, 6, where, sizeof where);
    snprintf(sql, sizeof sql, "SELECT id FROM pipeline_deals WHERE id > ?1"
                              " AND (?2 IS NULL OR pipeline = ?2) AND (?3 IS NULL OR stage = ?3)"
                              " AND (?4 IS NULL OR status = ?4)%s ORDER BY id LIMIT ?5", where);
    crm_stmt *st = pl_prep(ctx, sql);
    if (!st)
        return pl_fail_db(ctx, "cannot list deals");
    pl_scope_bind(st, &scope, 6);
    static const char *const filters[] = {"pipeline", "stage", "status"};
    crm_sql_bind_int64(st, 1, after);
    for (int i = 0; i < 3; i++) {
        const char *v = crm_http_query(x, filters[i]);
        if (v)
            crm_sql_bind_text(st, i + 2, v);
        else
            crm_sql_bind_null(st, i + 2);
    }
    crm_sql_bind_int64(st, 5, limit + 1); /* one more: is there a next page? */
    int rc;
    *n = 0;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW)
        ids[(*n)++] = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot list deals") : CRM_OK;
}

static int query_int(crm_http_exchange *x, const char *name, int64_t def, int64_t min,
                     int64_t max, int64_t *out)
{
    const char *t = crm_http_query(x, name);
    char *end;
    *out = t ? strtoll(t, &end, 10) : def;
    if (t && (!*t || *end || *out < min || *out > max))
        return crm_http_error(x, CRM_EUSAGE, name, "%s: expected an integer in [%lld, %lld]",
                              name, (long long)min, (long long)max);
    return CRM_OK;
}

static int get_deals(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    int64_t after, limit;
    int rc = query_int(x, "cursor", 0, 0, INT64_MAX, &after);
    if (rc == CRM_OK)
        rc = query_int(x, "limit", 50, 1, 500, &limit);
    const char *status = crm_http_query(x, "status");
    if (rc == CRM_OK && status && strcmp(status, "open") && strcmp(status, "won") &&
        strcmp(status, "lost"))
        rc = crm_http_error(x, CRM_EUSAGE, "status", "status: \"%s\" is not open, won or lost",
                            status);
    int64_t ids[501];
    size_t n = 0;
    if (rc == CRM_OK)
        rc = list_ids(ctx, x, after, limit, ids, &n);
    json_t *items = json_array();
    for (size_t i = 0; rc == CRM_OK && i < n && i < (size_t)limit; i++) {
        pl_deal d;
        if ((rc = pl_deal_get(ctx, ids[i], &d)) == CRM_OK &&
            json_array_append_new(items, deal_api_json(ctx, &d)) != 0)
            rc = crm_http_error(x, CRM_ENOMEM, NULL, "out of memory");
    }
    if (rc != CRM_OK) {
        json_decref(items);
        return rc;
    }
    json_t *next = n > (size_t)limit ? json_integer(ids[limit - 1]) : json_null();
    return crm_http_reply_json(x, 0, json_pack("{so so}", "items", items, "next_cursor", next));
}

static int get_deal(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    pl_deal d;
    int rc = deal_param(ctx, x, &d);
    return rc == CRM_OK ? crm_http_reply_json(x, 0, deal_api_json(ctx, &d)) : rc;
}

/* ---- POST /v1/deals -------------------------------------------------------------- */

static const char *const post_members[] = {"title",    "contact_id", "company_id", "pipeline",
                                           "stage",    "amount",     "currency",   "owner",
                                           "close_at", "close_date", "probability", NULL};

/* The pipeline and open stage a new deal goes to. */
static int place(crm_plugin_ctx *ctx, crm_http_exchange *x, json_t *o, pl_deal *d)
{
    char name[PL_NAME], stage[PL_NAME];
    int rc = member_text(x, o, "pipeline", name, sizeof name);
    if (rc == CRM_OK)
        rc = member_text(x, o, "stage", stage, sizeof stage);
    if (rc != CRM_OK)
        return rc;
    const pl_pipeline *p = pl_pipeline_find(ctx, name);
    if (!p)
        return crm_http_error(x, CRM_EINVAL, "pipeline", "pipeline: no pipeline \"%s\"", name);
    int si = stage[0] ? pl_stage_index(p, stage) : 0;
    if (si < 0 || (size_t)si == p->won || (size_t)si == p->lost)
        return crm_http_error(x, CRM_EINVAL, "stage",
                              "stage: \"%s\" is not an open stage of pipeline %s", stage, p->name);
    snprintf(d->pipeline, sizeof d->pipeline, "%s", p->name);
    snprintf(d->stage, sizeof d->stage, "%s", p->stages[si].name);
    snprintf(d->currency, sizeof d->currency, "%s", p->currency);
    return CRM_OK;
}

static int post_fields(crm_plugin_ctx *ctx, crm_http_exchange *x, json_t *o, pl_deal *d)
{
    int given, has_amount, has_contact, has_prob, has_close;
    int64_t prob;
    char cur[8];
    memset(d, 0, sizeof *d);
    d->probability_override = d->category_override = -1;
    int rc = place(ctx, x, o, d);
    if (rc == CRM_OK)
        rc = member_text(x, o, "title", d->title, sizeof d->title);
    if (rc == CRM_OK && !d->title[0])
        rc = crm_http_error(x, CRM_EUSAGE, "title", "title: required");
    if (rc == CRM_OK)
        rc = member_int(x, o, "amount", &d->amount, &has_amount);
    if (rc == CRM_OK && !has_amount)
        rc = crm_http_error(x, CRM_EUSAGE, "amount", "amount: required (minor units)");
    if (rc == CRM_OK)
        rc = member_int(x, o, "contact_id", &d->contact_id, &has_contact);
    if (rc == CRM_OK && (!has_contact || d->contact_id <= 0))
        rc = crm_http_error(x, CRM_EUSAGE, "contact_id", "contact_id: required, a contact id");
    if (rc == CRM_OK)
        rc = member_int(x, o, "company_id", &d->company_id, &given);
    if (rc == CRM_OK)
        rc = member_text(x, o, "currency", cur, sizeof cur);
    if (rc == CRM_OK && cur[0]) {
        if (strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
            return crm_http_error(x, CRM_EINVAL, "currency", "currency: \"%s\" is not ISO 4217",
                                  cur);
        snprintf(d->currency, sizeof d->currency, "%s", cur);
    }
    if (rc == CRM_OK)
        rc = member_close_date(ctx, x, o, d->close_date, sizeof d->close_date, &has_close);
    if (rc == CRM_OK)
        rc = member_int(x, o, "probability", &prob, &has_prob);
    if (rc == CRM_OK && has_prob && (prob < 0 || prob > 100))
        rc = crm_http_error(x, CRM_EINVAL, "probability", "probability: %lld is not 0-100",
                            (long long)prob);
    if (rc == CRM_OK && has_prob)
        d->probability_override = (int)prob;
    if (rc == CRM_OK)
        rc = member_text(x, o, "owner", d->owner, sizeof d->owner);
    if (rc == CRM_OK && !d->owner[0])
        rc = pl_assign_deal(ctx, d);
    if (rc == CRM_OK && (rc = pl_deal_check_contact(ctx, d->contact_id)) != CRM_OK)
        rc = crm_http_error(x, rc == CRM_ENOTFOUND ? CRM_EINVAL : rc, "contact_id",
                            "contact_id: no contact %lld", (long long)d->contact_id);
    return rc;
}

static int post_deal(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    json_t *o;
    pl_deal d;
    int rc = crm_http_body_object(x, post_members, &o);
    if (rc != CRM_OK)
        return rc;
    rc = post_fields(ctx, x, o, &d);
    json_decref(o);
    if (rc == CRM_OK)
        rc = pl_deal_insert(ctx, &d);
    if (rc == CRM_OK)
        rc = pl_deal_get(ctx, d.id, &d);
    return rc == CRM_OK ? crm_http_reply_json(x, 201, deal_api_json(ctx, &d)) : rc;
}

/* ---- PATCH /v1/deals/{id} -------------------------------------------------------- */

static const char *const patch_members[] = {"stage", "amount", "owner", "close_at",
                                            "close_date", "lost_reason", NULL};

/* An agent may change a deal only when pipeline.agents_edit_own_deals is
 * true and the deal's owner is the agent (its token's name, or the name or
 * email of the user so named): a teammate's deal that agent_scope team
 * shows is read only (403, where a deal out of scope is 404). */
static int may_patch(crm_plugin_ctx *ctx, crm_http_exchange *x, const pl_deal *d)
{
    const char *role = crm_http_caller(x, "role");
    if (!role || strcmp(role, "agent"))
        return CRM_OK;
    crm_value v;
    int own = crm_config_value(ctx, NULL, "agents_edit_own_deals", &v) == CRM_OK && v.i;
    if (!own)
        return crm_http_error(x, CRM_EDENIED, NULL, "role agent may not change deals "
                              "(pipeline.agents_edit_own_deals is false)");
    crm_http_names me;
    crm_http_caller_names(ctx, x, &me);
    if (!crm_http_names_has(&me, d->owner))
        return crm_http_error(x, CRM_EDENIED, NULL, "deal %lld belongs to %s, not to %s",
                              (long long)d->id, d->owner[0] ? d->owner : "nobody",
                              crm_http_caller(x, "name"));
    return CRM_OK;
}

/* The stage member: a move (history, event) through pl_deal_set_stage. */
static int patch_stage(crm_plugin_ctx *ctx, crm_http_exchange *x, json_t *o, pl_deal *d)
{
    char stage[PL_NAME], reason[PL_NAME];
    int rc = member_text(x, o, "stage", stage, sizeof stage);
    if (rc == CRM_OK)
        rc = member_text(x, o, "lost_reason", reason, sizeof reason);
    if (rc != CRM_OK || !stage[0] || !strcmp(stage, d->stage))
        return rc;
    const pl_pipeline *p = pl_pipeline_find(ctx, d->pipeline);
    int si = p ? pl_stage_index(p, stage) : -1;
    if (si < 0)
        return crm_http_error(x, CRM_EINVAL, "stage", "stage: no stage \"%s\" in pipeline %s",
                              stage, d->pipeline);
    if (strcmp(d->status, "open"))
        return crm_http_error(x, CRM_EINVAL, "stage", "deal %lld is %s: crm deal reopen %lld "
                              "first", (long long)d->id, d->status, (long long)d->id);
    if ((size_t)si == p->lost && !pl_reason_known(ctx, reason)) {
        char list[512];
        pl_reason_list(ctx, list, sizeof list);
        return crm_http_error(x, CRM_EINVAL, "lost_reason",
                              "lost_reason: \"%s\" is not a lost reason (known: %s)", reason, list);
    }
    return pl_deal_set_stage(ctx, d, (size_t)si, (size_t)si == p->lost ? reason : NULL, NULL);
}

/* amount, owner, close date: one history row each, as crm deal update. */
static int patch_fields(crm_plugin_ctx *ctx, crm_http_exchange *x, json_t *o, const pl_deal *d)
{
    pl_change c[3];
    size_t n = 0;
    int64_t amount;
    int has_amount, has_close;
    char owner[128], close[16];
    int rc = member_int(x, o, "amount", &amount, &has_amount);
    if (rc == CRM_OK)
        rc = member_text(x, o, "owner", owner, sizeof owner);
    if (rc == CRM_OK)
        rc = member_close_date(ctx, x, o, close, sizeof close, &has_close);
    if (rc != CRM_OK)
        return rc;
    if (has_amount) {
        c[n] = (pl_change){"amount", "", "", 1};
        snprintf(c[n].from, sizeof c->from, "%lld", (long long)d->amount);
        snprintf(c[n++].to, sizeof c->to, "%lld", (long long)amount);
    }
    if (json_object_get(o, "owner")) {
        c[n] = (pl_change){"owner", "", "", 0};
        snprintf(c[n].from, sizeof c->from, "%s", d->owner);
        snprintf(c[n++].to, sizeof c->to, "%s", owner);
    }
    if (has_close) {
        c[n] = (pl_change){"close_date", "", "", 0};
        snprintf(c[n].from, sizeof c->from, "%s", d->close_date);
        snprintf(c[n++].to, sizeof c->to, "%s", close);
    }
    for (size_t i = 0; rc == CRM_OK && i < n; i++)
        rc = pl_deal_apply_change(ctx, d, &c[i]);
    return rc;
}

static int patch_deal(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    json_t *o = NULL;
    pl_deal d;
    int rc = deal_param(ctx, x, &d);
    if (rc == CRM_OK)
        rc = may_patch(ctx, x, &d);
    if (rc == CRM_OK)
        rc = crm_http_body_object(x, patch_members, &o);
    if (rc == CRM_OK && json_object_size(o) == 0)
        rc = crm_http_error(x, CRM_EUSAGE, NULL, "nothing to change: give stage, amount, owner "
                            "or close_date");
    if (rc == CRM_OK)
        rc = patch_fields(ctx, x, o, &d);
    if (rc == CRM_OK)
        rc = patch_stage(ctx, x, o, &d);
    json_decref(o);
    if (rc == CRM_OK)
        rc = pl_deal_get(ctx, d.id, &d);
    if (rc == CRM_OK)
        rc = pl_deal_touch(ctx, &d, pl_now(ctx));
    if (rc == CRM_OK)
        rc = pl_emit(ctx, "deal.updated", json_pack("{sI sI}", "deal_id", (json_int_t)d.id,
                                                    "contact_id", (json_int_t)d.contact_id));
    if (rc == CRM_OK)
        rc = pl_deal_get(ctx, d.id, &d);
    return rc == CRM_OK ? crm_http_reply_json(x, 0, deal_api_json(ctx, &d)) : rc;
}

/* ---- GET /v1/pipelines/{pipeline}/board ------------------------------------------ */

/* The pipeline's deals in its currency, open ones and those closed in the
 * won and lost stages, by stage: the kanban (other currencies are left out,
 * as `crm pipeline board` does, so the sums are in one currency). */
static int board_stage(crm_plugin_ctx *ctx, const pl_pipeline *p, size_t si,
                       const pl_scope *scope, json_t *stages)
{
    char sql[4608], where[4096];
    pl_scope_sql(scope, 4, where, sizeof where);
    snprintf(sql, sizeof sql, "SELECT id FROM pipeline_deals WHERE pipeline = ?1 AND"
                              " stage = ?2 AND currency = ?3%s ORDER BY id", where);
    crm_stmt *st = pl_prep(ctx, sql);
    if (!st)
        return pl_fail_db(ctx, "cannot read the board");
    pl_scope_bind(st, scope, 4);
    crm_sql_bind_text(st, 1, p->name);
    crm_sql_bind_text(st, 2, p->stages[si].name);
    crm_sql_bind_text(st, 3, p->currency);
    int64_t count = 0, amount = 0, weighted = 0;
    json_t *deals = json_array();
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = crm_sql_step(st)) == CRM_SQL_ROW) {
        pl_deal d;
        if ((rc = pl_deal_get(ctx, crm_sql_column_int64(st, 0), &d)) != CRM_OK)
            break;
        count++, amount += d.amount;
        weighted += pl_expected(d.amount, pl_deal_probability(ctx, &d));
        json_t *o = json_pack("{sI ss sI sI}", "id", (json_int_t)d.id, "title", d.title, "amount",
                              (json_int_t)d.amount, "contact_id", (json_int_t)d.contact_id);
        json_object_set_new(o, "owner", d.owner[0] ? json_string(d.owner) : json_null());
        json_object_set_new(o, "status", json_string(d.status));
        json_array_append_new(deals, o);
    }
    crm_sql_finalize(st);
    if (rc == CRM_OK)
        json_array_append_new(
            stages, json_pack("{ss si sI sI sI so}", "name", p->stages[si].name, "probability",
                              p->stages[si].probability, "count", (json_int_t)count, "amount",
                              (json_int_t)amount, "weighted", (json_int_t)weighted, "deals",
                              deals));
    else
        json_decref(deals);
    return rc;
}

static int get_board(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    const char *name = crm_http_param(x, "pipeline");
    const pl_pipeline *p = pl_pipeline_find(ctx, name);
    if (!p || !name[0])
        return crm_http_error(x, CRM_ENOTFOUND, "pipeline", "no pipeline \"%s\"", name);
    json_t *stages = json_array();
    int rc = CRM_OK;
    pl_scope scope;
    pl_scope_of(ctx, x, &scope);
    for (size_t i = 0; rc == CRM_OK && i < p->nstages; i++)
        rc = board_stage(ctx, p, i, &scope, stages);
    if (rc != CRM_OK) {
        json_decref(stages);
        return rc;
    }
    return crm_http_reply_json(x, 0, json_pack("{ss ss so}", "pipeline", p->name, "currency",
                                               p->currency, "stages", stages));
}

/* ---- GET /v1/forecast ------------------------------------------------------------ */

static int get_forecast(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    static const char *const bys[] = {"all", "owner", "stage", "category", "month", NULL};
    const char *name = crm_http_query(x, "pipeline"), *by = crm_http_query(x, "by");
    const pl_pipeline *p = pl_pipeline_find(ctx, name);
    if (!p)
        return crm_http_error(x, CRM_ENOTFOUND, "pipeline", "no pipeline \"%s\"", name);
    size_t k = 0;
    while (by && bys[k] && strcmp(bys[k], by))
        k++;
    if (!bys[k])
        return crm_http_error(x, CRM_EUSAGE, "by", "by: \"%s\" is not all, owner, stage, "
                              "category or month", by);
    int64_t now = crm_now(ctx), from, to;
    int rc = query_int(x, "from", now, 0, INT64_MAX / 2, &from);
    if (rc == CRM_OK)
        rc = query_int(x, "to", now + 90 * 86400, 0, INT64_MAX / 2, &to);
    json_t *out = NULL;
    pl_scope scope;
    pl_scope_of(ctx, x, &scope);
    if (rc == CRM_OK)
        rc = pl_forecast_json(ctx, p, from, to, bys[k], &scope, &out);
    return rc == CRM_OK ? crm_http_reply_json(x, 0, out) : rc;
}

/* ---- registration ---------------------------------------------------------------- */

#define DEAL_SCHEMA                                                                           \
    "{\"type\":\"object\",\"required\":[\"id\",\"title\",\"pipeline\",\"stage\",\"status\","    \
    "\"amount\",\"currency\",\"probability\",\"contact_id\",\"updated_at\"],\"properties\":{"   \
    "\"id\":{\"type\":\"integer\"},\"title\":{\"type\":\"string\"},"                            \
    "\"pipeline\":{\"type\":\"string\"},\"stage\":{\"type\":\"string\"},"                       \
    "\"status\":{\"enum\":[\"open\",\"won\",\"lost\"]},"                                        \
    "\"amount\":{\"type\":\"integer\",\"description\":\"minor units\"},"                        \
    "\"currency\":{\"type\":\"string\"},\"probability\":{\"type\":\"integer\"},"                \
    "\"expected\":{\"type\":\"integer\"},\"category\":{\"type\":\"string\"},"                   \
    "\"contact_id\":{\"type\":\"integer\"},\"company_id\":{\"type\":[\"integer\",\"null\"]},"   \
    "\"owner\":{\"type\":[\"string\",\"null\"]},"                                               \
    "\"close_date\":{\"type\":[\"string\",\"null\"],\"description\":\"YYYY-MM-DD\"},"           \
    "\"created_at\":{\"type\":\"integer\"},\"updated_at\":{\"type\":\"integer\"},"              \
    "\"stage_entered_at\":{\"type\":\"integer\"},"                                              \
    "\"closed_at\":{\"type\":[\"integer\",\"null\"]},\"stalled\":{\"type\":\"boolean\"}}}"

static const crm_route_spec routes[] = {
    {"GET", "/v1/deals", "*", get_deals,
     "deals by id, filtered by pipeline, stage and status (cursor: the last id seen; agents: "
     "within pipeline.agent_scope)", NULL,
     "{\"type\":\"object\",\"required\":[\"items\",\"next_cursor\"],\"properties\":{"
     "\"items\":{\"type\":\"array\",\"items\":" DEAL_SCHEMA "},"
     "\"next_cursor\":{\"type\":[\"integer\",\"null\"]}}}",
     200},
    {"GET", "/v1/deals/{id}", "*", get_deal, "one deal (agents: 404 outside pipeline.agent_scope)",
     NULL, DEAL_SCHEMA, 200},
    {"POST", "/v1/deals", "manager,admin", post_deal, "add a deal (as crm deal add)",
     "{\"type\":\"object\",\"required\":[\"title\",\"contact_id\",\"amount\"],"
     "\"additionalProperties\":false,\"properties\":{\"title\":{\"type\":\"string\"},"
     "\"contact_id\":{\"type\":\"integer\"},\"company_id\":{\"type\":\"integer\"},"
     "\"pipeline\":{\"type\":\"string\"},\"stage\":{\"type\":\"string\"},"
     "\"amount\":{\"type\":\"integer\",\"description\":\"minor units\"},"
     "\"currency\":{\"type\":\"string\"},\"owner\":{\"type\":\"string\"},"
     "\"close_at\":{\"type\":\"integer\"},\"close_date\":{\"type\":\"string\"},"
     "\"probability\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100}}}",
     DEAL_SCHEMA, 201},
    {"PATCH", "/v1/deals/{id}", "agent,manager,admin", patch_deal,
     "move a deal or change its amount, owner, close date (agents: their own deals when "
     "pipeline.agents_edit_own_deals)",
     "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
     "\"stage\":{\"type\":\"string\"},\"lost_reason\":{\"type\":\"string\"},"
     "\"amount\":{\"type\":\"integer\"},\"owner\":{\"type\":\"string\"},"
     "\"close_at\":{\"type\":\"integer\"},\"close_date\":{\"type\":\"string\"}}}",
     DEAL_SCHEMA, 200},
    {"GET", "/v1/pipelines/{pipeline}/board", "*", get_board,
     "the pipeline's stages with count, amount, weighted amount and their deals", NULL,
     "{\"type\":\"object\",\"required\":[\"pipeline\",\"currency\",\"stages\"],\"properties\":{"
     "\"pipeline\":{\"type\":\"string\"},\"currency\":{\"type\":\"string\"},"
     "\"stages\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\","
     "\"probability\",\"count\",\"amount\",\"weighted\",\"deals\"],\"properties\":{"
     "\"name\":{\"type\":\"string\"},\"probability\":{\"type\":\"integer\"},"
     "\"count\":{\"type\":\"integer\"},\"amount\":{\"type\":\"integer\"},"
     "\"weighted\":{\"type\":\"integer\"},\"deals\":{\"type\":\"array\",\"items\":{"
     "\"type\":\"object\",\"required\":[\"id\",\"title\",\"amount\",\"contact_id\",\"owner\"],"
     "\"properties\":{\"id\":{\"type\":\"integer\"},\"title\":{\"type\":\"string\"},"
     "\"amount\":{\"type\":\"integer\"},\"contact_id\":{\"type\":\"integer\"},"
     "\"owner\":{\"type\":[\"string\",\"null\"]},\"status\":{\"type\":\"string\"}}}}}}}}}",
     200},
    {"GET", "/v1/forecast", "*", get_forecast,
     "crm pipeline forecast --json (query: pipeline, from, to as epoch seconds, by)", NULL,
     "{\"type\":\"object\",\"required\":[\"pipeline\",\"currency\",\"total\",\"groups\"]}", 200},
};

int pl_routes_register(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, register_route))
        return CRM_OK; /* an older crm: the plugin works without its routes */
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = crm_register_route(ctx, &routes[i], NULL);
    return rc;
}

/* pipeline plugin — one deal: read, inserted, moved between stages with its
 * history rows and events in the caller's transaction, shown as JSON, its
 * time in stage derived from the history, its rot timer. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

static void text_col(crm_stmt *st, int c, char *buf, size_t size)
{
    const char *t = crm_sql_column_text(st, c);
    snprintf(buf, size, "%s", t ? t : "");
}

static int64_t int_col(crm_stmt *st, int c, int64_t null_value)
{
    return crm_sql_column_type(st, c) == CRM_SQL_NULL ? null_value : crm_sql_column_int64(st, c);
}

void pl_deal_read(crm_stmt *st, pl_deal *d)
{
    memset(d, 0, sizeof *d);
    d->id = crm_sql_column_int64(st, 0);
    text_col(st, 1, d->title, sizeof d->title);
    text_col(st, 2, d->pipeline, sizeof d->pipeline);
    text_col(st, 3, d->stage, sizeof d->stage);
    text_col(st, 4, d->status, sizeof d->status);
    d->amount = crm_sql_column_int64(st, 5);
    text_col(st, 6, d->currency, sizeof d->currency);
    d->probability_override = (int)int_col(st, 7, -1);
    char cat[PL_NAME];
    text_col(st, 8, cat, sizeof cat);
    d->category_override = cat[0] ? pl_category_parse(cat) : -1;
    text_col(st, 9, d->close_date, sizeof d->close_date);
    text_col(st, 10, d->owner, sizeof d->owner);
    d->contact_id = crm_sql_column_int64(st, 11);
    d->company_id = int_col(st, 12, 0);
    text_col(st, 13, d->lost_reason, sizeof d->lost_reason);
    text_col(st, 14, d->lost_note, sizeof d->lost_note);
    d->stage_entered_at = crm_sql_column_int64(st, 15);
    d->created_at = crm_sql_column_int64(st, 16);
    d->updated_at = crm_sql_column_int64(st, 17);
    d->closed_at = int_col(st, 18, 0);
    d->last_activity_at = crm_sql_column_int64(st, 19);
    d->stalled = (int)crm_sql_column_int64(st, 20);
}

int pl_deal_get(crm_plugin_ctx *ctx, int64_t id, pl_deal *d)
{
    crm_stmt *st = pl_prep(ctx, "SELECT " PL_DEAL_COLS " FROM pipeline_deals WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot read the deal");
    crm_sql_bind_int64(st, 1, id);
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW)
        pl_deal_read(st, d);
    crm_sql_finalize(st);
    if (rc == CRM_SQL_ROW)
        return CRM_OK;
    if (rc < 0)
        return pl_fail_db(ctx, "cannot read the deal");
    crm_set_error(ctx, "no deal %lld", (long long)id);
    return CRM_ENOTFOUND;
}

/* The configured stage of d, or NULL when the config no longer has it. */
static const pl_stage *stage_of(crm_plugin_ctx *ctx, const pl_deal *d)
{
    const pl_pipeline *p = pl_pipeline_find(ctx, d->pipeline);
    int si = p ? pl_stage_index(p, d->stage) : -1;
    return si < 0 ? NULL : &p->stages[si];
}

int pl_deal_probability(crm_plugin_ctx *ctx, const pl_deal *d)
{
    if (d->probability_override >= 0)
        return d->probability_override;
    const pl_stage *s = stage_of(ctx, d);
    return s ? s->probability : 0;
}

pl_category pl_deal_category(crm_plugin_ctx *ctx, const pl_deal *d)
{
    if (d->category_override >= 0 && !strcmp(d->status, "open"))
        return (pl_category)d->category_override;
    const pl_stage *s = stage_of(ctx, d);
    return s ? s->category : PL_CAT_OMITTED;
}

int pl_history_add(crm_plugin_ctx *ctx, const pl_deal *d, const char *field, const char *from,
                   const char *to)
{
    crm_stmt *st = pl_prep(ctx, "INSERT INTO pipeline_deal_history(deal_id, contact_id, field,"
                                " from_value, to_value, at, by) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return pl_fail_db(ctx, "cannot record the deal's history");
    crm_sql_bind_int64(st, 1, d->id);
    crm_sql_bind_int64(st, 2, d->contact_id);
    crm_sql_bind_text(st, 3, field);
    if (from)
        crm_sql_bind_text(st, 4, from);
    else
        crm_sql_bind_null(st, 4);
    if (to)
        crm_sql_bind_text(st, 5, to);
    else
        crm_sql_bind_null(st, 5);
    crm_sql_bind_int64(st, 6, pl_now(ctx));
    crm_sql_bind_text(st, 7, pl_actor());
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot record the deal's history") : CRM_OK;
}

/* The event payload every deal.* event carries. */
static json_t *event_payload(const pl_deal *d)
{
    return json_pack("{sI sI ss ss ss sI ss}", "deal_id", (json_int_t)d->id, "contact_id",
                     (json_int_t)d->contact_id, "title", d->title, "pipeline", d->pipeline,
                     "stage", d->stage, "amount", (json_int_t)d->amount, "currency",
                     d->currency);
}

static int bind_opt_text(crm_stmt *st, int i, const char *v)
{
    return v && *v ? crm_sql_bind_text(st, i, v) : crm_sql_bind_null(st, i);
}

int pl_deal_insert(crm_plugin_ctx *ctx, pl_deal *d)
{
    int64_t now = pl_now(ctx);
    crm_stmt *st = pl_prep(ctx,
        "INSERT INTO pipeline_deals(title, pipeline, stage, status, amount, currency,"
        " probability, close_date, owner, contact_id, company_id, stage_entered_at,"
        " last_activity_at, created_at, updated_at) VALUES(?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7,"
        " ?8, ?9, ?10, ?11, ?11, ?11, ?11)");
    if (!st)
        return pl_fail_db(ctx, "cannot add the deal");
    crm_sql_bind_text(st, 1, d->title);
    crm_sql_bind_text(st, 2, d->pipeline);
    crm_sql_bind_text(st, 3, d->stage);
    crm_sql_bind_int64(st, 4, d->amount);
    crm_sql_bind_text(st, 5, d->currency);
    if (d->probability_override >= 0)
        crm_sql_bind_int64(st, 6, d->probability_override);
    else
        crm_sql_bind_null(st, 6);
    bind_opt_text(st, 7, d->close_date);
    bind_opt_text(st, 8, d->owner);
    crm_sql_bind_int64(st, 9, d->contact_id);
    if (d->company_id > 0)
        crm_sql_bind_int64(st, 10, d->company_id);
    else
        crm_sql_bind_null(st, 10);
    crm_sql_bind_int64(st, 11, now);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return pl_fail_db(ctx, "cannot add the deal");
    d->id = crm_sql_last_insert_id(ctx);
    snprintf(d->status, sizeof d->status, "open");
    d->stage_entered_at = d->created_at = d->updated_at = d->last_activity_at = now;
    char amount[32], prob[8];
    snprintf(amount, sizeof amount, "%lld", (long long)d->amount);
    snprintf(prob, sizeof prob, "%d", pl_deal_probability(ctx, d));
    /* the creation is the first visit of the stage: time in stage starts here */
    if ((rc = pl_history_add(ctx, d, "stage", NULL, d->stage)) == CRM_OK &&
        (rc = pl_history_add(ctx, d, "status", NULL, "open")) == CRM_OK &&
        (rc = pl_history_add(ctx, d, "amount", NULL, amount)) == CRM_OK &&
        (rc = pl_history_add(ctx, d, "probability", NULL, prob)) == CRM_OK &&
        (!d->close_date[0] ||
         (rc = pl_history_add(ctx, d, "close_date", NULL, d->close_date)) == CRM_OK) &&
        (!d->owner[0] || (rc = pl_history_add(ctx, d, "owner", NULL, d->owner)) == CRM_OK) &&
        (rc = pl_emit(ctx, "deal.created", event_payload(d))) == CRM_OK &&
        (rc = pl_deal_arm_rot(ctx, d)) == CRM_OK)
        rc = pl_snapshot_arm(ctx); /* the weekly snapshot, from the first deal on */
    return rc;
}

/* The status a stage index gives: won, lost or open. */
static const char *status_of(const pl_pipeline *p, size_t si)
{
    return si == p->won ? "won" : si == p->lost ? "lost" : "open";
}

static int write_stage(crm_plugin_ctx *ctx, const pl_deal *d)
{
    crm_stmt *st = pl_prep(ctx,
        "UPDATE pipeline_deals SET stage = ?2, status = ?3, probability = NULL,"
        " stage_entered_at = ?4, updated_at = ?4, last_activity_at = ?4, stalled = 0,"
        " closed_at = ?5, lost_reason = ?6, lost_note = ?7 WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot move the deal");
    crm_sql_bind_int64(st, 1, d->id);
    crm_sql_bind_text(st, 2, d->stage);
    crm_sql_bind_text(st, 3, d->status);
    crm_sql_bind_int64(st, 4, pl_now(ctx));
    if (d->closed_at)
        crm_sql_bind_int64(st, 5, d->closed_at);
    else
        crm_sql_bind_null(st, 5);
    bind_opt_text(st, 6, d->lost_reason);
    bind_opt_text(st, 7, d->lost_note);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot move the deal") : CRM_OK;
}

/* The events a stage change emits: deal.stage_changed always, then
 * deal.won, deal.lost or deal.reopened when the status changed. */
static int emit_move(crm_plugin_ctx *ctx, const pl_deal *d, const char *from_stage,
                     const char *from_status)
{
    json_t *p = event_payload(d);
    json_object_set_new(p, "from", json_string(from_stage));
    json_object_set_new(p, "to", json_string(d->stage));
    int rc = pl_emit(ctx, "deal.stage_changed", p);
    const char *type = NULL;
    if (strcmp(from_status, d->status))
        type = !strcmp(d->status, "won") ? "deal.won" : !strcmp(d->status, "lost") ? "deal.lost"
                                                                                      : "deal.reopened";
    if (rc == CRM_OK && type) {
        p = event_payload(d);
        if (d->lost_reason[0])
            json_object_set_new(p, "reason", json_string(d->lost_reason));
        rc = pl_emit(ctx, type, p);
    }
    return rc;
}

int pl_deal_set_stage(crm_plugin_ctx *ctx, pl_deal *d, size_t si, const char *reason,
                      const char *note)
{
    const pl_pipeline *p = pl_pipeline_find(ctx, d->pipeline);
    if (!p) {
        crm_set_error(ctx, "deal %lld: its pipeline \"%s\" is no longer configured",
                      (long long)d->id, d->pipeline);
        return CRM_ECONFIG;
    }
    char from_stage[PL_NAME], from_status[8], from_prob[8], to_prob[8];
    snprintf(from_stage, sizeof from_stage, "%s", d->stage);
    snprintf(from_status, sizeof from_status, "%s", d->status);
    snprintf(from_prob, sizeof from_prob, "%d", pl_deal_probability(ctx, d));
    snprintf(d->stage, sizeof d->stage, "%s", p->stages[si].name);
    snprintf(d->status, sizeof d->status, "%s", status_of(p, si));
    d->probability_override = -1; /* an override lasts until the stage changes */
    snprintf(to_prob, sizeof to_prob, "%d", p->stages[si].probability);
    d->closed_at = strcmp(d->status, "open") ? pl_now(ctx) : 0;
    snprintf(d->lost_reason, sizeof d->lost_reason, "%s", reason ? reason : "");
    snprintf(d->lost_note, sizeof d->lost_note, "%s", note ? note : "");
    d->stage_entered_at = d->updated_at = d->last_activity_at = pl_now(ctx);
    d->stalled = 0;
    int rc = write_stage(ctx, d);
    if (rc == CRM_OK)
        rc = pl_history_add(ctx, d, "stage", from_stage, d->stage);
    if (rc == CRM_OK && strcmp(from_status, d->status))
        rc = pl_history_add(ctx, d, "status", from_status, d->status);
    if (rc == CRM_OK && strcmp(from_prob, to_prob))
        rc = pl_history_add(ctx, d, "probability", from_prob, to_prob);
    if (rc == CRM_OK && reason)
        rc = pl_history_add(ctx, d, "lost_reason", NULL, reason);
    if (rc == CRM_OK)
        rc = emit_move(ctx, d, from_stage, from_status);
    if (rc == CRM_OK)
        rc = pl_deal_arm_rot(ctx, d);
    return rc;
}

json_t *pl_deal_json(crm_plugin_ctx *ctx, const pl_deal *d)
{
    char entered[40], created[40], updated[40];
    pl_time_of(ctx, d->stage_entered_at, entered, sizeof entered);
    pl_time_of(ctx, d->created_at, created, sizeof created);
    pl_time_of(ctx, d->updated_at, updated, sizeof updated);
    int prob = pl_deal_probability(ctx, d);
    json_t *o = json_pack("{sI ss ss ss ss sI ss si sb sI ss}", "id", (json_int_t)d->id, "title",
                          d->title, "pipeline", d->pipeline, "stage", d->stage, "status",
                          d->status, "amount", (json_int_t)d->amount, "currency", d->currency,
                          "probability", prob, "probability_overridden",
                          d->probability_override >= 0, "expected",
                          (json_int_t)pl_expected(d->amount, prob), "category",
                          pl_category_names[pl_deal_category(ctx, d)]);
    if (!o)
        return NULL;
    json_object_set_new(o, "close_date", d->close_date[0] ? json_string(d->close_date) : json_null());
    json_object_set_new(o, "owner", d->owner[0] ? json_string(d->owner) : json_null());
    json_object_set_new(o, "contact_id", json_integer(d->contact_id));
    json_object_set_new(o, "company_id", d->company_id ? json_integer(d->company_id) : json_null());
    json_object_set_new(o, "lost_reason",
                        d->lost_reason[0] ? json_string(d->lost_reason) : json_null());
    json_object_set_new(o, "stage_entered_at", json_string(entered));
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "updated_at", json_string(updated));
    json_object_set_new(o, "stalled", json_boolean(d->stalled));
    json_object_set_new(o, "time_in_stage", json_integer(crm_now(ctx) - d->stage_entered_at));
    json_object_set_new(o, "time_by_stage", pl_deal_time_in_stage(ctx, d));
    return o;
}

json_t *pl_deal_time_in_stage(crm_plugin_ctx *ctx, const pl_deal *d)
{
    json_t *o = json_object();
    crm_stmt *st = pl_prep(ctx, "SELECT to_value, at FROM pipeline_deal_history WHERE deal_id = ?1"
                                " AND field = 'stage' ORDER BY at, id");
    if (!o || !st) {
        crm_sql_finalize(st);
        return o;
    }
    crm_sql_bind_int64(st, 1, d->id);
    char cur[PL_NAME] = "";
    int64_t since = 0, now = crm_now(ctx);
    /* each row ends the previous visit and starts one; the last runs to now */
    for (int more = 1; more;) {
        more = crm_sql_step(st) == CRM_SQL_ROW;
        int64_t at = more ? crm_sql_column_int64(st, 1) : now;
        if (cur[0]) {
            json_t *prev = json_object_get(o, cur);
            int64_t sum = (prev ? json_integer_value(prev) : 0) + (at > since ? at - since : 0);
            json_object_set_new(o, cur, json_integer(sum));
        }
        if (more) {
            const char *t = crm_sql_column_text(st, 0);
            snprintf(cur, sizeof cur, "%s", t ? t : "");
            since = at;
        }
    }
    crm_sql_finalize(st);
    return o;
}

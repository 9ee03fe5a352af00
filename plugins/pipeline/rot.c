/* pipeline plugin — rotting deals (Pipedrive's idea): a deal without activity
 * (an interaction with its contact, a task completed, a stage change) for
 * its stage's rot_after is flagged stalled, emits deal.stalled and gets a
 * task for its owner; activity clears the flag. One kernel timer per open
 * deal, "rot:ID", due at last activity + rot_after, moved on activity. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

static const pl_stage *rot_stage(crm_plugin_ctx *ctx, const pl_deal *d)
{
    const pl_pipeline *p = pl_pipeline_find(ctx, d->pipeline);
    int si = p ? pl_stage_index(p, d->stage) : -1;
    if (si < 0 || strcmp(d->status, "open") || !p->stages[si].rot_amount)
        return NULL;
    return &p->stages[si];
}

int pl_deal_arm_rot(crm_plugin_ctx *ctx, const pl_deal *d)
{
    char key[48];
    snprintf(key, sizeof key, "rot:%lld", (long long)d->id);
    const pl_stage *s = rot_stage(ctx, d);
    if (!s)
        return crm_cancel(ctx, key, NULL);
    int64_t due = 0;
    int rc = crm_calendar_add(ctx, PL(ctx)->calendar[0] ? PL(ctx)->calendar : NULL,
                              d->last_activity_at, s->rot_text, &due);
    if (rc != CRM_OK)
        return rc;
    char payload[96];
    snprintf(payload, sizeof payload, "{\"deal_id\":%lld,\"contact_id\":%lld}", (long long)d->id,
             (long long)d->contact_id);
    return crm_schedule(ctx, key, due, payload);
}

int pl_deal_touch(crm_plugin_ctx *ctx, pl_deal *d, int64_t at)
{
    d->last_activity_at = at;
    d->stalled = 0;
    int rc = pl_run(ctx, "UPDATE pipeline_deals SET last_activity_at = ?2, stalled = 0"
                         " WHERE id = ?1", 2, d->id, d->last_activity_at);
    return rc == CRM_OK ? pl_deal_arm_rot(ctx, d) : pl_fail_db(ctx, "cannot touch the deal");
}

/* The owner as a task assignee: only when the kernel knows that user. */
static void add_assignee(crm_plugin_ctx *ctx, json_t *task, const char *owner)
{
    char *u = NULL;
    if (owner[0] && CRM_API_HAS(ctx, user_find_json) && crm_user_find_json(ctx, owner, &u) == CRM_OK)
        json_object_set_new(task, "assignee", json_string(owner));
    crm_free(ctx, u);
}

/* Adds a task about deal d (subject, kind) due now, for its owner. */
int pl_deal_task(crm_plugin_ctx *ctx, const pl_deal *d, const char *kind, const char *subject)
{
    char ref[48];
    snprintf(ref, sizeof ref, "deal:%lld", (long long)d->id);
    json_t *t = json_pack("{ss ss sI sI ss}", "subject", subject, "kind", kind, "due_at",
                          (json_int_t)crm_now(ctx), "contact_id", (json_int_t)d->contact_id,
                          "ref", ref);
    if (!t)
        return CRM_ENOMEM;
    add_assignee(ctx, t, d->owner);
    char *s = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    int rc = s ? crm_task_add_json(ctx, s, NULL) : CRM_ENOMEM;
    free(s);
    return rc;
}

int pl_deal_rot_fire(crm_plugin_ctx *ctx, int64_t id)
{
    pl_deal d;
    int rc = pl_deal_get(ctx, id, &d);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK; /* erased or deleted since */
    if (rc != CRM_OK || d.stalled || !rot_stage(ctx, &d))
        return rc;
    rc = pl_run(ctx, "UPDATE pipeline_deals SET stalled = 1 WHERE id = ?1", 1, id);
    if (rc != CRM_OK)
        return pl_fail_db(ctx, "cannot flag the deal stalled");
    d.stalled = 1;
    json_t *p = json_pack("{sI sI ss ss sI}", "deal_id", (json_int_t)d.id, "contact_id",
                          (json_int_t)d.contact_id, "title", d.title, "stage", d.stage,
                          "last_activity_at", (json_int_t)d.last_activity_at);
    if ((rc = pl_emit(ctx, "deal.stalled", p)) != CRM_OK)
        return rc;
    char subject[320];
    snprintf(subject, sizeof subject, "Stalled deal: %s (no activity in %s)", d.title, d.stage);
    return pl_deal_task(ctx, &d, "todo", subject);
}

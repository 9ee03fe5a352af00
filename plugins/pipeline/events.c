/* pipeline plugin — what it reacts to: its timers (rot:ID, and the quote
 * timers) and activity on a deal's contact (an interaction logged, a task
 * completed), which clears the stalled flag and re-arms the rot timer. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* The handlers of the timer keys' prefixes. */
static const struct {
    const char *prefix;
    int (*fn)(crm_plugin_ctx *ctx, int64_t id);
} timers[] = {
    {"rot:", pl_deal_rot_fire},
    {PL_QUOTE_EXPIRE, pl_quote_expire_fire},
    {PL_QUOTE_FOLLOW, pl_quote_follow_fire},
    {"snapshot:", pl_snapshot_fire},
};

int pl_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *t, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        size_t n = strlen(timers[i].prefix);
        if (!strncmp(t->key, timers[i].prefix, n))
            return timers[i].fn(ctx, strtoll(t->key + n, NULL, 10));
    }
    crm_log(ctx, CRM_LOG_WARN, "unknown timer %s: ignored", t->key);
    return CRM_OK;
}

/* When the activity happened: an interaction's occurred_at (logged today
 * about a call last month), else the event's time. */
static int64_t activity_at(crm_plugin_ctx *ctx, const crm_plugin_event *ev)
{
    int64_t at = 0;
    if (crm_json_get_int(ctx, crm_event_payload(ev), "occurred_at", &at) != CRM_OK || at <= 0)
        at = crm_event_created_at(ev);
    return at;
}

int pl_on_activity(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    int64_t contact_id = 0, at = activity_at(ctx, ev);
    if (crm_json_get_int(ctx, crm_event_payload(ev), "contact_id", &contact_id) != CRM_OK)
        return CRM_OK;
    crm_stmt *st = pl_prep(ctx, "SELECT id FROM pipeline_deals WHERE contact_id = ?1"
                                " AND status = 'open' ORDER BY id");
    if (!st)
        return pl_fail_db(ctx, "cannot read the contact's deals");
    crm_sql_bind_int64(st, 1, contact_id);
    int64_t ids[64];
    size_t n = 0;
    while (n < 64 && crm_sql_step(st) == CRM_SQL_ROW)
        ids[n++] = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n; i++) {
        pl_deal d;
        /* older than what the deal saw last (a back-dated log, a replay): not news */
        if ((rc = pl_deal_get(ctx, ids[i], &d)) == CRM_OK && at > d.last_activity_at)
            rc = pl_deal_touch(ctx, &d, at);
    }
    return rc;
}

/* ticketing plugin — the one timer handler: what happens later. Keys:
 *   sla:ID:METRIC:warning|breach  a clock's deadline approaching or reached
 *   close:ID                      a solved ticket closes (close_after)
 *   survey:ID                     the CSAT survey goes (survey_after)
 *   nps:CONTACT                   the contact's NPS survey goes (nps.after_solve)
 * Each handler recomputes from the history as of the timer's firing time,
 * so a timer left behind by a change does nothing wrong. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static int on_close(crm_plugin_ctx *ctx, int64_t id, int64_t at)
{
    tk_ticket t;
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK;
    if (rc != CRM_OK || strcmp(t.status, "solved"))
        return rc; /* reopened since */
    return tk_ticket_set_status(ctx, id, TK_CLOSED, at);
}

int tk_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *timer, void *ud)
{
    (void)ud;
    long long id = 0;
    char metric[32] = "", kind[16] = "";
    const char *k = timer->key;
    if (sscanf(k, "sla:%lld:%31[a-z_]:%15[a-z]", &id, metric, kind) == 3)
        return tk_clocks_fire(ctx, id, tk_metric_parse(metric), !strcmp(kind, "breach"),
                              timer->fired_at);
    if (sscanf(k, "close:%lld", &id) == 1)
        return on_close(ctx, id, timer->fired_at);
    if (sscanf(k, "survey:%lld", &id) == 1)
        return tk_survey_send(ctx, id);
    if (sscanf(k, "nps:%lld", &id) == 1)
        return tk_nps_send(ctx, id, timer->fired_at);
    crm_log(ctx, CRM_LOG_WARN, "unknown timer '%s' ignored", k);
    return CRM_OK;
}

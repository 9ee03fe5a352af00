/* ticketing plugin — satisfaction: a CSAT survey queued through the outbox
 * survey_after a solve (once per ticket: the outbox's idempotency key and
 * the ticket's survey_at), and the answers `crm ticket rate` records. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

int tk_survey_schedule(crm_plugin_ctx *ctx, int64_t id, int64_t solved_at)
{
    char key[64], payload[64];
    if (tk_scalar(ctx, 0, "SELECT survey_at FROM ticketing_tickets WHERE id = ?1", 1, id))
        return CRM_OK; /* asked already: a reopened and solved again ticket is not asked twice */
    snprintf(key, sizeof key, "survey:%lld", (long long)id);
    snprintf(payload, sizeof payload, "{\"ticket_id\": %lld}", (long long)id);
    return crm_schedule(ctx, key, solved_at + TK(ctx)->survey_after, payload);
}

int tk_survey_send(crm_plugin_ctx *ctx, int64_t id)
{
    tk_ticket t;
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK;
    if (rc != CRM_OK || tk_scalar(ctx, 0, "SELECT survey_at FROM ticketing_tickets WHERE id = ?1",
                                  1, id))
        return rc;
    if (strcmp(t.status, "solved") && strcmp(t.status, "closed"))
        return CRM_OK; /* reopened meanwhile: the next solve asks */
    int64_t msg = 0;
#ifdef crm_message_queue_json /* the SDK has the outbox (1.3: messages) */
    if (CRM_API_HAS(ctx, message_queue_json)) {
        json_t *o = json_object(), *d = json_object();
        char key[64];
        snprintf(key, sizeof key, "ticketing:csat:%lld", (long long)id);
        json_t *tk = json_object();
        json_object_set_new(tk, "number", json_integer(id));
        json_object_set_new(tk, "subject", json_string(t.subject));
        json_object_set_new(d, "ticket", tk);
        /* the answer route of `crm serve` (the CSAT link of the issue) */
        char url[96];
        snprintf(url, sizeof url, "/v1/tickets/%lld/csat", (long long)id);
        json_object_set_new(d, "survey_url", json_string(url));
        json_object_set_new(o, "contact_id", json_integer(t.contact_id));
        json_object_set_new(o, "template", json_string(TK(ctx)->survey_template));
        /* a survey is a service message: a contact who withdrew that consent
         * is not asked (the outbox suppresses it, with its reason) */
        json_object_set_new(o, "purpose", json_string("service"));
        json_object_set_new(o, "key", json_string(key));
        json_object_set_new(o, "data", d);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s)
            return CRM_ENOMEM;
        rc = crm_message_queue_json(ctx, s, &msg);
        free(s);
        /* an installation without the survey template still records it */
        if (rc == CRM_ENOTFOUND) {
            crm_log(ctx, CRM_LOG_WARN, "ticket %lld: %s: survey recorded, not sent",
                    (long long)id, crm_last_error(ctx));
            msg = 0;
            rc = CRM_OK;
        }
        if (rc != CRM_OK)
            return rc;
    } else
#endif
    {
        crm_log(ctx, CRM_LOG_WARN, "ticket %lld: no outbox in this crm (SDK messages): survey "
                "recorded, not sent", (long long)id);
    }
    rc = tk_run(ctx, "UPDATE ticketing_tickets SET survey_at = ?2, survey_message = ?3 WHERE id = ?1",
                3, id, crm_now(ctx), msg);
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "message_id", msg ? json_integer(msg) : json_null());
        rc = tk_emit(ctx, "ticket.survey_queued", &t, x);
    }
    return rc;
}

int tk_rate(crm_plugin_ctx *ctx, int64_t id, int64_t score, const char *comment)
{
    tk_ticket t;
    if (score < 1 || score > 5) {
        crm_set_error(ctx, "score: %lld is not between 1 and 5", (long long)score);
        return CRM_EINVAL;
    }
    int rc = tk_ticket_load(ctx, id, &t);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = tk_prep(ctx,
                           "UPDATE ticketing_tickets SET csat_score = ?2, csat_at = ?3,"
                           " csat_comment = ?4 WHERE id = ?1",
                           3, id, score, crm_now(ctx));
    if (!st)
        return tk_fail_db(ctx, "recording the rating");
    if (comment)
        crm_sql_bind_text(st, 4, comment);
    else
        crm_sql_bind_null(st, 4);
    rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "recording the rating") : CRM_OK;
    crm_sql_finalize(st);
    if (rc == CRM_OK) {
        json_t *x = json_object();
        json_object_set_new(x, "score", json_integer(score));
        rc = tk_emit(ctx, "ticket.rated", &t, x);
    }
    return rc;
}

int tk_cmd_rate(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t id;
    crm_value score;
    int rc = tk_arg_id(ctx, args, 0, &id);
    if (rc != CRM_OK)
        return rc;
    crm_args_option(args, "score", &score);
    if (score.i < 1 || score.i > 5) {
        crm_set_error(ctx, "--score: %lld is not between 1 and 5", (long long)score.i);
        return CRM_EUSAGE;
    }
    if ((rc = crm_begin(ctx)) != CRM_OK)
        return rc;
    rc = tk_rate(ctx, id, score.i, tk_opt_text(args, "comment"));
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "ticket %lld rated %lld/5\n", (long long)id, (long long)score.i);
    return rc;
}

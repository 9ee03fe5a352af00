/* ticketing plugin — NPS: a 0-10 "would you recommend us" survey per
 * contact, at most once per `nps.every`, `nps.after_solve` after one of the
 * contact's tickets is solved (one timer per contact, nps:CONTACT, moved by
 * each solve), queued through the outbox with the configured purpose
 * (marketing by default: the outbox sends it only with the contact's
 * granted consent); `crm nps rate CONTACT --score N` records the answers. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

/* The contact's latest survey time (0: never asked). */
static int64_t last_survey(crm_plugin_ctx *ctx, int64_t contact)
{
    return tk_scalar(ctx, 0, "SELECT max(sent_at) FROM ticketing_nps_surveys WHERE"
                             " contact_id = ?1", 1, contact);
}

static int arm(crm_plugin_ctx *ctx, int64_t contact, int64_t due)
{
    char key[48], payload[64];
    snprintf(key, sizeof key, "nps:%lld", (long long)contact);
    snprintf(payload, sizeof payload, "{\"contact_id\": %lld}", (long long)contact);
    return crm_schedule(ctx, key, due, payload);
}

int tk_nps_schedule(crm_plugin_ctx *ctx, int64_t contact, int64_t at)
{
    const tk_state *S = TK(ctx);
    if (!S->nps_every)
        return CRM_OK;
    int64_t due = at + S->nps_after_solve, last = last_survey(ctx, contact);
    if (last && last + S->nps_every > due)
        due = last + S->nps_every; /* once per period: the next one waits */
    return arm(ctx, contact, due);
}

/* Queues the survey message; *msg = its id (0 when this crm has no outbox
 * or the template is missing: recorded unsent, with a warning). */
static int queue(crm_plugin_ctx *ctx, int64_t contact, int64_t *msg)
{
    *msg = 0;
#ifdef crm_message_queue_json
    if (CRM_API_HAS(ctx, message_queue_json)) {
        char key[64], url[64];
        /* the contact's Nth survey: a retried timer (another fired_at) queues it once */
        int64_t nth = 1 + tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_nps_surveys WHERE"
                                            " contact_id = ?1", 1, contact);
        snprintf(key, sizeof key, "ticketing:nps:%lld:%lld", (long long)contact, (long long)nth);
        snprintf(url, sizeof url, "/v1/contacts/%lld/nps", (long long)contact);
        json_t *o = json_object(), *d = json_object();
        json_object_set_new(d, "survey_url", json_string(url));
        json_object_set_new(o, "contact_id", json_integer(contact));
        json_object_set_new(o, "template", json_string(TK(ctx)->nps_template));
        json_object_set_new(o, "purpose", json_string(TK(ctx)->nps_purpose));
        json_object_set_new(o, "key", json_string(key));
        json_object_set_new(o, "data", d);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s)
            return CRM_ENOMEM;
        int rc = crm_message_queue_json(ctx, s, msg);
        free(s);
        if (rc == CRM_ENOTFOUND) { /* the template: the contact was checked */
            crm_log(ctx, CRM_LOG_WARN, "contact %lld: %s: NPS survey recorded, not sent",
                    (long long)contact, crm_last_error(ctx));
            *msg = 0;
            rc = CRM_OK;
        }
        return rc;
    }
#endif
    crm_log(ctx, CRM_LOG_WARN, "contact %lld: no outbox in this crm (SDK messages): NPS survey "
            "recorded, not sent", (long long)contact);
    return CRM_OK;
}

int tk_nps_send(crm_plugin_ctx *ctx, int64_t contact, int64_t at)
{
    const tk_state *S = TK(ctx);
    if (!S->nps_every)
        return CRM_OK; /* switched off since it was scheduled */
    if (!tk_scalar(ctx, 0, "SELECT count(*) FROM contacts WHERE id = ?1", 1, contact))
        return CRM_OK; /* erased meanwhile */
    int64_t last = last_survey(ctx, contact);
    if (last && last + S->nps_every > at)
        return arm(ctx, contact, last + S->nps_every); /* early (every lengthened): wait */
    /* only a contact the helpdesk served since the last survey is asked */
    if (!tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE contact_id = ?1 AND"
                           " solved_at IS NOT NULL AND solved_at > ?2", 2, contact, last))
        return CRM_OK;
    int64_t msg = 0;
    int rc = queue(ctx, contact, &msg);
    if (rc == CRM_OK)
        rc = tk_run(ctx, "INSERT INTO ticketing_nps_surveys (contact_id, sent_at, message_id)"
                         " VALUES (?1, ?2, CASE WHEN ?3 > 0 THEN ?3 END)", 3, contact, at, msg);
    if (rc != CRM_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "dataver", json_integer(1));
    json_object_set_new(o, "contact_id", json_integer(contact));
    json_object_set_new(o, "message_id", msg ? json_integer(msg) : json_null());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return CRM_ENOMEM;
    rc = crm_emit_event(ctx, "nps.survey_queued", s);
    free(s);
    return rc;
}

/* Inserts one answer (the contact's latest survey at or before `at`, if any). */
static int record(crm_plugin_ctx *ctx, int64_t contact, int64_t score, const char *comment,
                  int64_t at)
{
    crm_stmt *st = tk_prep(ctx,
                           "INSERT INTO ticketing_nps (contact_id, survey_id, score, comment,"
                           " answered_at) VALUES (?1, (SELECT max(id) FROM ticketing_nps_surveys"
                           " WHERE contact_id = ?1 AND sent_at <= ?3), ?2, ?4, ?3)",
                           3, contact, score, at);
    if (!st)
        return tk_fail_db(ctx, "recording the NPS answer");
    if (comment)
        crm_sql_bind_text(st, 4, comment);
    else
        crm_sql_bind_null(st, 4);
    int rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "recording the NPS answer") : CRM_OK;
    crm_sql_finalize(st);
    if (rc != CRM_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "dataver", json_integer(1));
    json_object_set_new(o, "contact_id", json_integer(contact));
    json_object_set_new(o, "score", json_integer(score));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return CRM_ENOMEM;
    rc = crm_emit_event(ctx, "nps.answered", s);
    free(s);
    return rc;
}

/* promoter 9-10, passive 7-8, detractor 0-6 */
static const char *category(int64_t score)
{
    return score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor";
}

int tk_nps_answer(crm_plugin_ctx *ctx, int64_t contact, int64_t score, const char *comment)
{
    if (score < 0 || score > 10) {
        crm_set_error(ctx, "score: %lld is not between 0 and 10", (long long)score);
        return CRM_EINVAL;
    }
    if (!tk_scalar(ctx, 0, "SELECT count(*) FROM contacts WHERE id = ?1", 1, contact)) {
        crm_set_error(ctx, "no contact %lld (see `crm contact list`)", (long long)contact);
        return CRM_ENOTFOUND;
    }
    return record(ctx, contact, score, comment, crm_now(ctx));
}

int tk_cmd_nps_rate(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value score;
    const char *arg = crm_args_get(args, 0);
    char *end = NULL;
    long long contact = arg ? strtoll(arg, &end, 10) : 0;
    if (!arg || !*arg || *end || contact <= 0) {
        crm_set_error(ctx, "expected a contact id (a positive number), got '%s'", arg ? arg : "");
        return CRM_EUSAGE;
    }
    crm_args_option(args, "score", &score);
    if (score.i < 0 || score.i > 10) {
        crm_set_error(ctx, "--score: %lld is not between 0 and 10", (long long)score.i);
        return CRM_EUSAGE;
    }
    int rc = crm_begin(ctx);
    if (rc != CRM_OK)
        return rc;
    rc = tk_nps_answer(ctx, contact, score.i, tk_opt_text(args, "comment"));
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "contact %lld: NPS %lld/10 (%s)\n", contact,
                (long long)score.i, category(score.i));
    return rc;
}

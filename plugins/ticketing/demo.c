/* ticketing plugin — `crm demo`: agents, tickets over two years with their
 * conversations (some answered late enough to breach), CSAT answers, NPS
 * surveys and answers (once per 90 days per contact at most), a few
 * complaints and 50 knowledge-base articles, all through the same paths
 * as the commands; then the headline. Deterministic (a fixed LCG seed). */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

#define DEMO_TICKETS 1000 /* 5,000 took 13 s in the sanitizer build (10 s budget) */
#define DEMO_ARTICLES 50

static uint32_t next(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xffffffu;
}

static const char *const subjects[] = {
    "Remboursement de ma commande",  "Colis non reçu",        "Facture en double",
    "Problème de connexion",         "Changer mon adresse",   "Produit défectueux",
    "Délai de livraison",            "Code promo refusé",     "Annuler mon abonnement",
    "Question sur la garantie",
};
static const char *const tags[] = {"billing", "shipping", "billing", "technical", "account",
                                   "technical", "shipping", "billing", "account", "technical"};
static const char *const prios[] = {"low", "normal", "normal", "normal", "high", "urgent"};

static int articles(crm_plugin_ctx *ctx)
{
    int rc = CRM_OK;
    for (int i = 0; rc == CRM_OK && i < DEMO_ARTICLES; i++) {
        char title[128], body[512];
        int k = i % 10;
        snprintf(title, sizeof title, "%s (guide %d)", subjects[k], i + 1);
        snprintf(body, sizeof body, "# %s\n\nÉtapes pour résoudre : vérifiez votre espace client, "
                 "puis contactez le service si le problème persiste. Mots-clés : %s.",
                 subjects[k], tags[k]);
        crm_stmt *st = tk_prep(ctx, "INSERT INTO ticketing_kb (title, body, tags, status,"
                                    " created_at, updated_at) VALUES (?2, ?3, ?4, 'published',"
                                    " ?1, ?1)", 1, crm_now(ctx));
        if (!st)
            return tk_fail_db(ctx, "demo articles");
        crm_sql_bind_text(st, 2, title);
        crm_sql_bind_text(st, 3, body);
        crm_sql_bind_text(st, 4, tags[k]);
        rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "demo articles") : CRM_OK;
        crm_sql_finalize(st);
        if (rc == CRM_OK)
            rc = tk_run(ctx, "INSERT INTO ticketing_kb_fts (rowid, title, body, tags) SELECT id,"
                             " title, body, tags FROM ticketing_kb WHERE id = ?1",
                        1, crm_sql_last_insert_id(ctx));
    }
    return rc;
}

/* A CSAT answer for one ticket in three (0: none), mostly satisfied. */
static int64_t csat(uint32_t *seed)
{
    if (next(seed) % 3)
        return 0;
    return next(seed) % 10 < 7 ? 4 + next(seed) % 2 : 1 + next(seed) % 3;
}

/* An NPS score for one solve in four (-1: none), mostly promoters. */
static int64_t nps_score(uint32_t *seed)
{
    if (next(seed) % 4)
        return -1;
    uint32_t r = next(seed) % 10;
    return r < 5 ? 9 + next(seed) % 2 : r < 8 ? 7 + next(seed) % 2 : next(seed) % 7;
}

/* The contact was asked a week after the solve (when not asked in the 90
 * days before) and answered the next day; the timer is not left to fire
 * again for the past. */
static int nps_story(crm_plugin_ctx *ctx, uint32_t *seed, int64_t contact, int64_t solved)
{
    char key[48];
    snprintf(key, sizeof key, "nps:%lld", (long long)contact);
    int rc = crm_cancel(ctx, key, NULL);
    int64_t score = nps_score(seed), asked = solved + 7 * 86400;
    if (rc != CRM_OK || score < 0 ||
        tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_nps_surveys WHERE contact_id = ?1 AND"
                          " sent_at > ?2", 2, contact, asked - 90 * 86400))
        return rc;
    rc = tk_run(ctx, "INSERT INTO ticketing_nps_surveys (contact_id, sent_at) VALUES (?1, ?2)", 2,
                contact, asked);
    if (rc == CRM_OK)
        rc = tk_run(ctx, "INSERT INTO ticketing_nps (contact_id, survey_id, score, answered_at)"
                         " VALUES (?1, ?2, ?3, ?4)", 4, contact, crm_sql_last_insert_id(ctx),
                    score, asked + 86400);
    return rc;
}

/* One ticket's life, all in the past except the newest ones. */
static int one_ticket(crm_plugin_ctx *ctx, uint32_t *seed, int64_t contact, int64_t t0,
                      int64_t now)
{
    int k = (int)(next(seed) % 10);
    int complaint = next(seed) % 500 == 0;
    tk_open_req r = {contact, t0, subjects[k], "Bonjour, j'ai un souci avec ma commande.",
                     prios[next(seed) % 6], complaint ? "complaint" : "question", "email", NULL,
                     tags[k], NULL};
    int64_t id = 0, t = t0;
    TK(ctx)->batch = 1;
    int rc = tk_ticket_open(ctx, &r, &id);
    t += 600 + (int64_t)(next(seed) % (12 * 3600)); /* some replies are late: breaches */
    if (rc == CRM_OK && t < now)
        rc = tk_ticket_message(ctx, id, TK_AGENT, "Merci, nous regardons cela.", NULL, t);
    t += 3600 + (int64_t)(next(seed) % (24 * 3600));
    if (rc == CRM_OK && t < now && next(seed) % 3 == 0) {
        rc = tk_ticket_message(ctx, id, TK_CUSTOMER, "Toujours rien de mon côté.", NULL, t);
        t += 900 + (int64_t)(next(seed) % (8 * 3600));
        if (rc == CRM_OK && t < now)
            rc = tk_ticket_message(ctx, id, TK_AGENT, "C'est réglé, désolé du délai.", NULL, t);
    }
    t += 3600;
    if (rc == CRM_OK && t < now - 7 * 86400) {
        rc = tk_ticket_set_status(ctx, id, TK_SOLVED, t);
        if (rc == CRM_OK) /* asked already, in this story: no survey timer fires for the past */
            rc = tk_run(ctx, "UPDATE ticketing_tickets SET survey_at = ?2, csat_score = CASE"
                             " WHEN ?3 > 0 THEN ?3 END, csat_at = CASE WHEN ?3 > 0 THEN ?2 END"
                             " WHERE id = ?1",
                        3, id, t + 86400, csat(seed));
        if (rc == CRM_OK)
            rc = tk_ticket_set_status(ctx, id, TK_CLOSED, t + 4 * 86400);
        char key[64];
        snprintf(key, sizeof key, "survey:%lld", (long long)id);
        if (rc == CRM_OK)
            rc = crm_cancel(ctx, key, NULL);
        if (rc == CRM_OK)
            rc = nps_story(ctx, seed, contact, t);
    }
    TK(ctx)->batch = 0;
    return rc == CRM_OK ? tk_clocks_update(ctx, id, now) : rc;
}

static int generate(crm_plugin_ctx *ctx, void *ud)
{
    (void)ud;
    int64_t now = crm_now(ctx), span = 2 * 365 * 86400;
    int64_t ncontacts = tk_scalar(ctx, 0, "SELECT count(*) FROM contacts", 0);
    if (!ncontacts)
        return CRM_OK;
    static const char *const agents[] = {"alice", "bob", "chloe", "david"};
    int rc = CRM_OK;
    for (int i = 0; rc == CRM_OK && i < 4; i++) {
        crm_stmt *st = tk_prep(ctx, "INSERT OR IGNORE INTO ticketing_agents (name, team)"
                                    " VALUES (?1, ?2)", 0);
        if (!st)
            return tk_fail_db(ctx, "demo agents");
        crm_sql_bind_text(st, 1, agents[i]);
        if (TK(ctx)->nteams)
            crm_sql_bind_text(st, 2, TK(ctx)->teams[i % TK(ctx)->nteams].name);
        else
            crm_sql_bind_null(st, 2);
        rc = crm_sql_step(st) < 0 ? tk_fail_db(ctx, "demo agents") : CRM_OK;
        crm_sql_finalize(st);
    }
    uint32_t seed = 15;
    crm_stmt *st = NULL;
    if (rc == CRM_OK && crm_sql_prepare(ctx, "SELECT id FROM contacts ORDER BY id LIMIT 1"
                                             " OFFSET ?1", &st) != CRM_OK)
        return tk_fail_db(ctx, "demo contacts");
    for (int i = 0; rc == CRM_OK && i < DEMO_TICKETS; i++) {
        crm_sql_reset(st);
        crm_sql_bind_int64(st, 1, (int64_t)(next(&seed) % (uint32_t)ncontacts));
        int64_t contact = crm_sql_step(st) == CRM_SQL_ROW ? crm_sql_column_int64(st, 0) : 0;
        int64_t t0 = now - span + span * i / DEMO_TICKETS;
        if (contact)
            rc = one_ticket(ctx, &seed, contact, t0, now);
    }
    crm_sql_finalize(st);
    return rc == CRM_OK ? articles(ctx) : rc;
}

int tk_demo(crm_plugin_ctx *ctx, crm_command_io *io)
{
    int rc = tk_in_txn(ctx, generate, NULL);
    TK(ctx)->batch = 0;
    if (rc != CRM_OK)
        return rc;
    int64_t n = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets", 0);
    int64_t open = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE status NOT IN"
                                     " ('solved', 'closed')", 0);
    int64_t breached = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE breached"
                                         " = 1", 0);
    int64_t rated = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE csat_score"
                                      " IS NOT NULL", 0);
    int64_t happy = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE csat_score"
                                      " >= 4", 0);
    int64_t complaints = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_complaints", 0);
    int64_t nps_n = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_nps", 0);
    int64_t nps_net = tk_scalar(ctx, 0, "SELECT coalesce(sum(score >= 9) - sum(score <= 6), 0)"
                                        " FROM ticketing_nps", 0);
    double nps = nps_n ? 100.0 * (double)nps_net / (double)nps_n : 0.0;
    if (crm_io_json(io)) {
        json_t *o = json_object();
        json_object_set_new(o, "tickets", json_integer(n));
        json_object_set_new(o, "open", json_integer(open));
        json_object_set_new(o, "breached", json_integer(breached));
        json_object_set_new(o, "csat_answers", json_integer(rated));
        json_object_set_new(o, "complaints", json_integer(complaints));
        json_object_set_new(o, "nps", nps_n ? json_real(nps) : json_null());
        json_object_set_new(o, "nps_answers", json_integer(nps_n));
        json_object_set_new(o, "articles", json_integer(DEMO_ARTICLES));
        return tk_print_json(io, o);
    }
    fprintf(crm_io_out(io), "ticketing: %lld tickets (%lld open), %lld with an SLA breach, CSAT "
            "%.0f%% of %lld answers, NPS %+.0f of %lld answers, %lld complaints, %d articles -- "
            "try `crm ticket queue`\n",
            (long long)n, (long long)open, (long long)breached,
            rated ? 100.0 * (double)happy / (double)rated : 0.0, (long long)rated, nps,
            (long long)nps_n, (long long)complaints, DEMO_ARTICLES);
    return CRM_OK;
}

/* ticketing plugin — its tables, created by numbered migrations (SQL shared
 * by SQLite and PostgreSQL, except the FTS5 index of the knowledge base,
 * which a PostgreSQL backend would map to a tsvector column). */
#include "tk_int.h"

static const struct {
    const char *name;
    const char *sql;
} steps[] = {
    {"tickets, history, clocks, agents",
     "CREATE TABLE ticketing_tickets ("
     " id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, subject TEXT NOT NULL,"
     " description TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL, priority TEXT NOT NULL,"
     " type TEXT NOT NULL, status TEXT NOT NULL, assignee TEXT, team TEXT,"
     " tags TEXT NOT NULL DEFAULT '', policy TEXT NOT NULL DEFAULT '',"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, solved_at INTEGER,"
     " closed_at INTEGER, due_override INTEGER,"
     " next_deadline INTEGER, breached INTEGER NOT NULL DEFAULT 0,"
     " csat_score INTEGER, csat_comment TEXT, csat_at INTEGER,"
     " survey_message INTEGER, survey_at INTEGER);"
     "CREATE INDEX ticketing_tickets_contact ON ticketing_tickets(contact_id);"
     "CREATE INDEX ticketing_tickets_queue ON ticketing_tickets(team, status, next_deadline);"
     /* every message and status change, in order: the clocks' only input */
     "CREATE TABLE ticketing_history ("
     " id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,"
     " at INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, author TEXT,"
     " interaction_id INTEGER);"
     "CREATE INDEX ticketing_history_ticket ON ticketing_history(ticket_id, at, id);"
     /* a cache of sla.c's result, per ticket and metric */
     "CREATE TABLE ticketing_clocks ("
     " ticket_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, metric TEXT NOT NULL,"
     " started_at INTEGER, target_at INTEGER, achieved_at INTEGER, elapsed INTEGER NOT NULL,"
     " remaining INTEGER, breached INTEGER NOT NULL, breaches INTEGER NOT NULL,"
     " paused INTEGER NOT NULL, running INTEGER NOT NULL, PRIMARY KEY (ticket_id, metric));"
     /* one row per warning or breach event sent: exactly once per clock cycle */
     "CREATE TABLE ticketing_notices ("
     " ticket_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, metric TEXT NOT NULL,"
     " cycle INTEGER NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL,"
     " PRIMARY KEY (ticket_id, metric, cycle, kind));"
     "CREATE TABLE ticketing_agents ("
     " name TEXT PRIMARY KEY, team TEXT, skills TEXT NOT NULL DEFAULT '', calendar TEXT,"
     " capacity INTEGER NOT NULL DEFAULT 0, last_assigned_at INTEGER NOT NULL DEFAULT 0,"
     " assigned INTEGER NOT NULL DEFAULT 0);"},
    {"complaints",
     "CREATE TABLE ticketing_complaints ("
     " ticket_id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, received_at INTEGER NOT NULL,"
     " acknowledged_at INTEGER, level INTEGER NOT NULL DEFAULT 1, level1_due INTEGER NOT NULL,"
     " level1_answered_at INTEGER, level2_at INTEGER, level2_due INTEGER,"
     " level2_answered_at INTEGER, outcome TEXT, mediator TEXT);"},
    {"knowledge base",
     "CREATE TABLE ticketing_kb ("
     " id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,"
     " tags TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'published',"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE VIRTUAL TABLE ticketing_kb_fts USING fts5(title, body, tags,"
     " tokenize = 'unicode61 remove_diacritics 2');"},
    /* routing counts each agent's open tickets */
    {"agent load index",
     "CREATE INDEX ticketing_tickets_assignee ON ticketing_tickets(assignee, status);"},
    /* NPS: each survey asked (once per period per contact) and each answer */
    {"nps surveys and answers",
     "CREATE TABLE ticketing_nps_surveys ("
     " id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, sent_at INTEGER NOT NULL,"
     " message_id INTEGER);"
     "CREATE INDEX ticketing_nps_surveys_contact ON ticketing_nps_surveys(contact_id, sent_at);"
     "CREATE TABLE ticketing_nps ("
     " id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, survey_id INTEGER,"
     " score INTEGER NOT NULL, comment TEXT, answered_at INTEGER NOT NULL);"
     "CREATE INDEX ticketing_nps_contact ON ticketing_nps(contact_id);"
     "CREATE INDEX ticketing_nps_at ON ticketing_nps(answered_at);"},
};

int tk_schema_register(crm_plugin_ctx *ctx)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof steps / sizeof steps[0]; i++)
        rc = crm_register_migration(ctx, (int)i + 1, steps[i].name, steps[i].sql);
    return rc;
}

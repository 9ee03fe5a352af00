/* journeys plugin — its tables, created by numbered migrations.
 *
 * journeys_entries: one row per (journey, contact, entry): the durable
 * progress. `step` is the next step to run, `base_at` the due time of the
 * last step run (waits count from it), `next_at` when the timer e:ID fires.
 * UNIQUE(journey, trigger_event_id): a replayed trigger enters nobody twice.
 * order_id: the order whose event met the goal (conversions, revenue).
 * journeys_effects: one row per step that ran, UNIQUE(entry_id, step): the
 * idempotency key of (journey, contact, entry, step); it commits with the
 * timer's completion, so a crash re-runs the step at most until commit. */
#include "jrn_int.h"

static const char *const migration1 =
    "CREATE TABLE journeys_entries("
    " id INTEGER PRIMARY KEY, journey TEXT NOT NULL, contact_id INTEGER NOT NULL,"
    " entry_no INTEGER NOT NULL, profile TEXT NOT NULL DEFAULT '',"
    " trigger_event_id INTEGER NOT NULL, facts TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('active','completed','exited')),"
    " exit_reason TEXT, step INTEGER NOT NULL DEFAULT 0,"
    " entered_at INTEGER NOT NULL, base_at INTEGER NOT NULL, next_at INTEGER,"
    " ended_at INTEGER, order_id INTEGER,"
    " UNIQUE(journey, trigger_event_id), UNIQUE(journey, contact_id, entry_no));"
    "CREATE INDEX journeys_entries_active ON journeys_entries(journey, status, contact_id);"
    "CREATE INDEX journeys_entries_contact ON journeys_entries(contact_id, status);"
    "CREATE TABLE journeys_effects("
    " id INTEGER PRIMARY KEY, entry_id INTEGER NOT NULL REFERENCES journeys_entries(id)"
    "  ON DELETE CASCADE, contact_id INTEGER NOT NULL, step INTEGER NOT NULL,"
    " kind TEXT NOT NULL, due_at INTEGER NOT NULL, done_at INTEGER NOT NULL,"
    " detail TEXT NOT NULL, UNIQUE(entry_id, step));"
    "CREATE TABLE journeys_paused(journey TEXT PRIMARY KEY, paused_at INTEGER NOT NULL);";

int jrn_schema_register(crm_plugin_ctx *ctx)
{
    return crm_register_migration(ctx, 1, "entries, effects, paused journeys", migration1);
}

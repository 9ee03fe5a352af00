/* The kernel's own tables, as numbered migrations. Never edit a migration
 * that has shipped: append a new one. */
#include "schema.h"

/* Enumerations are checked with OR chains, not IN lists: SQLite builds an
 * ephemeral index for a constant IN list on every row written. */
static const crm_migration kernel_migrations[] = {
    {1, "core entities",
     "CREATE TABLE users("
     " id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE,"
     " role TEXT NOT NULL CHECK(role='admin' OR role='manager' OR role='agent' OR role='viewer'),"
     " created_at INTEGER NOT NULL);"

     "CREATE TABLE companies("
     " id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, name TEXT NOT NULL,"
     " name_key TEXT NOT NULL, domain TEXT, phone TEXT, street TEXT,"
     " postal_code TEXT, city TEXT, country TEXT,"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE INDEX companies_name_key ON companies(name_key);"

     "CREATE TABLE contacts("
     " id INTEGER PRIMARY KEY, external_id TEXT UNIQUE,"
     " first_name TEXT, last_name TEXT, email TEXT, phone TEXT,"
     " company_id INTEGER REFERENCES companies(id) ON DELETE SET NULL,"
     " street TEXT, postal_code TEXT, city TEXT, country TEXT, birth_date TEXT,"
     " lifecycle_stage TEXT NOT NULL DEFAULT 'lead' CHECK(lifecycle_stage='subscriber'"
     "  OR lifecycle_stage='lead' OR lifecycle_stage='prospect' OR lifecycle_stage='customer'"
     "  OR lifecycle_stage='evangelist' OR lifecycle_stage='inactive'),"
     " owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL, source TEXT,"
     " name_key TEXT NOT NULL DEFAULT '',"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE UNIQUE INDEX contacts_email ON contacts(email) WHERE email IS NOT NULL;"
     "CREATE INDEX contacts_phone ON contacts(phone) WHERE phone IS NOT NULL;"
     "CREATE INDEX contacts_name_key ON contacts(name_key);"
     "CREATE INDEX contacts_company ON contacts(company_id);"

     "CREATE TABLE contact_tags("
     " contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
     " tag TEXT NOT NULL, PRIMARY KEY(contact_id, tag)) WITHOUT ROWID;"
     "CREATE INDEX contact_tags_tag ON contact_tags(tag);"

     /* Custom values of every entity; the owner deletes them with the record. */
     "CREATE TABLE custom_values("
     " entity TEXT NOT NULL, entity_id INTEGER NOT NULL, name TEXT NOT NULL,"
     " value TEXT NOT NULL, PRIMARY KEY(entity, entity_id, name)) WITHOUT ROWID;"

     "CREATE TABLE products("
     " id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
     " price INTEGER NOT NULL, currency TEXT NOT NULL, created_at INTEGER NOT NULL);"

     "CREATE TABLE orders("
     " id INTEGER PRIMARY KEY, external_id TEXT UNIQUE,"
     " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
     " placed_at INTEGER NOT NULL, total INTEGER NOT NULL, currency TEXT NOT NULL,"
     " status TEXT NOT NULL CHECK(status='placed' OR status='paid'"
     "  OR status='cancelled' OR status='refunded'),"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     /* Covering: per-contact aggregates (rules, RFM updates, segment
      * conditions) read only this index, never the wide order rows. */
     "CREATE INDEX orders_contact ON orders(contact_id, placed_at, status, total, currency);"
     "CREATE INDEX orders_placed ON orders(placed_at);"

     "CREATE TABLE order_lines("
     " id INTEGER PRIMARY KEY,"
     " order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,"
     " product_id INTEGER REFERENCES products(id), sku TEXT NOT NULL,"
     " quantity INTEGER NOT NULL CHECK(quantity > 0), unit_price INTEGER NOT NULL);"
     "CREATE INDEX order_lines_order ON order_lines(order_id);"

     "CREATE TABLE interactions("
     " id INTEGER PRIMARY KEY,"
     " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
     " channel TEXT NOT NULL CHECK(channel='email' OR channel='sms'"
     "  OR channel='phone' OR channel='meeting' OR channel='note' OR channel='web'),"
     " direction TEXT NOT NULL CHECK(direction='in' OR direction='out' OR direction='none'),"
     " subject TEXT, body TEXT, occurred_at INTEGER NOT NULL,"
     " author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
     " external_id TEXT UNIQUE, created_at INTEGER NOT NULL);"
     "CREATE INDEX interactions_contact ON interactions(contact_id, occurred_at);"

     /* The GDPR record is append-only: the current state is the latest row. */
     "CREATE TABLE consents("
     " id INTEGER PRIMARY KEY,"
     " contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
     " channel TEXT NOT NULL, purpose TEXT NOT NULL,"
     " status TEXT NOT NULL CHECK(status='granted' OR status='withdrawn'),"
     " recorded_at INTEGER NOT NULL, source TEXT);"
     "CREATE INDEX consents_contact ON consents(contact_id, channel, purpose, recorded_at);"

     /* Transactional outbox: written with the change, dispatched after commit. */
     "CREATE TABLE events("
     " id INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL,"
     " source TEXT NOT NULL, depth INTEGER NOT NULL DEFAULT 0,"
     " created_at INTEGER NOT NULL);"},

    {2, "import journal and contact merges",
     /* One row per import run; counts are rewritten at each committed batch,
      * so a killed run shows what it had committed. */
     "CREATE TABLE import_journal("
     " id INTEGER PRIMARY KEY, entity TEXT NOT NULL, file TEXT NOT NULL, hash TEXT,"
     " n_read INTEGER NOT NULL DEFAULT 0, n_stored INTEGER NOT NULL DEFAULT 0,"
     " n_updated INTEGER NOT NULL DEFAULT 0, n_unchanged INTEGER NOT NULL DEFAULT 0,"
     " n_merged INTEGER NOT NULL DEFAULT 0, n_rejected INTEGER NOT NULL DEFAULT 0,"
     " status TEXT NOT NULL CHECK(status='running' OR status='done'"
     "  OR status='failed' OR status='undone'),"
     " first_event_id INTEGER NOT NULL DEFAULT 0, last_event_id INTEGER NOT NULL DEFAULT 0,"
     " started_at INTEGER NOT NULL, finished_at INTEGER);"
     "CREATE TABLE import_records("
     " import_id INTEGER NOT NULL REFERENCES import_journal(id) ON DELETE CASCADE,"
     " entity TEXT NOT NULL, record_id INTEGER NOT NULL,"
     " action TEXT NOT NULL CHECK(action='stored' OR action='updated' OR action='merged'),"
     " PRIMARY KEY(import_id, entity, record_id)) WITHOUT ROWID;"
     "CREATE INDEX import_records_record ON import_records(entity, record_id);"

     /* Merge history: OTHER's row and everything moved, so unmerge can restore. */
     "CREATE TABLE contact_merges("
     " id INTEGER PRIMARY KEY, keep_id INTEGER NOT NULL, other_id INTEGER NOT NULL,"
     " other_row TEXT NOT NULL, keep_before TEXT NOT NULL, keep_after TEXT NOT NULL,"
     " moved TEXT NOT NULL, created_at INTEGER NOT NULL, unmerged_at INTEGER);"
     "CREATE INDEX contact_merges_keep ON contact_merges(keep_id);"},

    {3, "import journal as id ranges",
     /* The records an import wrote, as ranges of consecutive ids with one
      * action: a fresh import writes one row per batch instead of one per
      * record. A record belongs to one range of its import (its first
      * action); stored ranges never overlap. Undo joins the ranges with
      * `id BETWEEN first_id AND last_id`; the primary key serves every such
      * lookup, so there is no index on (entity, first_id). */
     "CREATE TABLE import_ranges("
     " import_id INTEGER NOT NULL REFERENCES import_journal(id) ON DELETE CASCADE,"
     " entity TEXT NOT NULL,"
     " action TEXT NOT NULL CHECK(action='stored' OR action='updated' OR action='merged'),"
     " first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, CHECK(first_id <= last_id),"
     " PRIMARY KEY(import_id, entity, first_id)) WITHOUT ROWID;"
     /* Gaps and islands: within one import, entity and action, ids minus
      * their rank are constant along a run of consecutive ids. Window
      * functions and a derived table with an alias: PostgreSQL runs it too. */
     "INSERT INTO import_ranges(import_id, entity, action, first_id, last_id)"
     " SELECT import_id, entity, action, min(record_id), max(record_id) FROM ("
     "  SELECT import_id, entity, action, record_id, record_id - row_number() OVER ("
     "   PARTITION BY import_id, entity, action ORDER BY record_id) AS island"
     "  FROM import_records) AS runs"
     " GROUP BY import_id, entity, action, island;"
     "DROP TABLE import_records;"},

    {4, "data audits",
     /* One row per `crm audit`: the counts the next audit compares with. */
     "CREATE TABLE audits("
     " id INTEGER PRIMARY KEY, as_of INTEGER NOT NULL, contacts INTEGER NOT NULL,"
     " duplicates INTEGER NOT NULL, missing_required INTEGER NOT NULL,"
     " missing_recommended INTEGER NOT NULL, invalid INTEGER NOT NULL,"
     " no_consent INTEGER NOT NULL, inactive INTEGER NOT NULL,"
     " merged INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
     "CREATE INDEX audits_as_of ON audits(as_of);"},
    {5, "contact history",
     /* Changes of a contact's lifecycle stage, by an event (an order paid)
      * or by hand, written with their cause: the stage's story, for the
      * timeline and `contact show`. */
     "CREATE TABLE contact_history("
     " id INTEGER PRIMARY KEY,"
     " contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
     " field TEXT NOT NULL, old_value TEXT, new_value TEXT, reason TEXT,"
     " order_id INTEGER REFERENCES orders(id) ON DELETE SET NULL,"
     " changed_at INTEGER NOT NULL);"
     "CREATE INDEX contact_history_contact ON contact_history(contact_id, changed_at);"},

    {6, "import journal: interrupted runs, the process and the file's identity",
     /* A run records the process writing it (pid, its start time in clock
      * ticks since boot from /proc/PID/stat, the boot id and the host), so
      * the next command that opens the journal can tell a killed run from
      * a live one and mark it 'interrupted'. hash, lines_hash and options
      * (what shapes the outcome: --map, --format, --encoding...) identify
      * an input: an identical one short-circuits, and a re-run of an
      * interrupted one names it in `completes`. SQLite changes a CHECK only
      * by rebuilding the table; dropping import_journal would cascade into
      * import_ranges, so its rows wait in a copy. */
     "CREATE TABLE import_ranges_keep AS SELECT * FROM import_ranges;"
     "CREATE TABLE import_journal_new("
     " id INTEGER PRIMARY KEY, entity TEXT NOT NULL, file TEXT NOT NULL, hash TEXT,"
     " n_read INTEGER NOT NULL DEFAULT 0, n_stored INTEGER NOT NULL DEFAULT 0,"
     " n_updated INTEGER NOT NULL DEFAULT 0, n_unchanged INTEGER NOT NULL DEFAULT 0,"
     " n_merged INTEGER NOT NULL DEFAULT 0, n_rejected INTEGER NOT NULL DEFAULT 0,"
     " status TEXT NOT NULL CHECK(status='running' OR status='done'"
     "  OR status='failed' OR status='undone' OR status='interrupted'),"
     " first_event_id INTEGER NOT NULL DEFAULT 0, last_event_id INTEGER NOT NULL DEFAULT 0,"
     " started_at INTEGER NOT NULL, finished_at INTEGER,"
     " lines_hash TEXT, options TEXT, completes INTEGER,"
     " pid INTEGER, proc_start INTEGER, boot_id TEXT, host TEXT);"
     "INSERT INTO import_journal_new(id, entity, file, hash, n_read, n_stored, n_updated,"
     " n_unchanged, n_merged, n_rejected, status, first_event_id, last_event_id, started_at,"
     " finished_at) SELECT id, entity, file, hash, n_read, n_stored, n_updated, n_unchanged,"
     " n_merged, n_rejected, status, first_event_id, last_event_id, started_at, finished_at"
     " FROM import_journal;"
     "DROP TABLE import_journal;"
     "ALTER TABLE import_journal_new RENAME TO import_journal;"
     "INSERT INTO import_ranges SELECT * FROM import_ranges_keep;"
     "DROP TABLE import_ranges_keep;"
     "CREATE INDEX import_journal_input ON import_journal(entity, hash);"},
    {7, "events linked to their contact",
     /* The contact an event's payload names, so a contact's timeline finds
      * the plugins' events about it (segment.entered, churn.risk_raised)
      * without reading every payload. Only plugin events are indexed: the
      * kernel's are its own tables' rows, and bulk writes stay as cheap. */
     "ALTER TABLE events ADD COLUMN contact_id INTEGER;"
     "UPDATE events SET contact_id = json_extract(payload, '$.contact_id')"
     " WHERE json_valid(payload) AND json_type(payload, '$.contact_id') = 'integer';"
     "CREATE INDEX events_contact ON events(contact_id, created_at)"
     " WHERE contact_id IS NOT NULL AND source <> 'kernel';"},
    {8, "duplicate blocking keys",
     /* Adding or importing a contact looks its likely duplicates up instead
      * of scanning (crm_dedupe_match): same postal code and the same first or
      * last three letters of the last name (the scan's typo keys). Built-in
      * functions only, so any SQLite (and PostgreSQL) can maintain them.
      * Not covering: a block holds a few rows (2-3 on the demo's 100k), and
      * a narrow index costs less to keep up on every insert. */
     "CREATE INDEX contacts_block_head ON contacts(postal_code, lower(substr(last_name, 1, 3)))"
     " WHERE postal_code IS NOT NULL;"
     "CREATE INDEX contacts_block_tail ON contacts(postal_code, lower(substr(last_name, -3)))"
     " WHERE postal_code IS NOT NULL;"},

    {9, "durable timers and the worker's lease",
     /* due_at is the time asked for (lateness is measured from it); next_at
      * the next attempt, moved by backoff. version grows with each schedule
      * of a key, so a completion only touches the schedule it fired. */
     "CREATE TABLE timers("
     " id INTEGER PRIMARY KEY, owner TEXT NOT NULL, key TEXT NOT NULL,"
     " due_at INTEGER NOT NULL, next_at INTEGER NOT NULL,"
     " payload TEXT NOT NULL DEFAULT '{}', attempts INTEGER NOT NULL DEFAULT 0,"
     " state TEXT NOT NULL DEFAULT 'pending'"
     "  CHECK(state='pending' OR state='done' OR state='parked'),"
     " last_error TEXT, version INTEGER NOT NULL DEFAULT 1,"
     " created_at INTEGER NOT NULL, fired_at INTEGER, lateness INTEGER,"
     " UNIQUE(owner, key));"
     "CREATE INDEX timers_next ON timers(next_at, id) WHERE state = 'pending';"
     "CREATE TABLE worker_lease("
     " id INTEGER PRIMARY KEY CHECK(id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL,"
     " started_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"},
    {10, "tasks",
     /* The kernel's activities. contact_id is SET NULL, not CASCADE: a merge
      * or a plain delete must not drop someone's to-do silently; erasure
      * deletes a contact's tasks itself. overdue_notified_at makes
      * task.overdue fire once per task whoever runs the pass. */
     "CREATE TABLE tasks("
     " id INTEGER PRIMARY KEY, subject TEXT NOT NULL,"
     " kind TEXT NOT NULL CHECK(kind='call' OR kind='email' OR kind='meeting'"
     "  OR kind='todo' OR kind='follow_up'),"
     " due_at INTEGER NOT NULL,"
     " assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
     " contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,"
     " ref TEXT, notes TEXT,"
     " status TEXT NOT NULL DEFAULT 'open' CHECK(status='open' OR status='done'"
     "  OR status='cancelled'),"
     " done_at INTEGER, overdue_notified_at INTEGER,"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE INDEX tasks_open ON tasks(status, due_at);"
     "CREATE INDEX tasks_assignee ON tasks(assignee_id, status, due_at);"
     "CREATE INDEX tasks_contact ON tasks(contact_id, due_at);"},

    {11, "personal-data erasures",
     /* Proof that an erasure happened, kept after the person is gone: the
      * id only (no personal data), who ran it, why, and the detail of what
      * was erased and kept (JSON). */
     "CREATE TABLE erasures("
     " id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, erased_by TEXT NOT NULL,"
     " reason TEXT, erased_at INTEGER NOT NULL, detail TEXT NOT NULL);"
     "CREATE INDEX erasures_contact ON erasures(contact_id);"
     /* the reject file an import wrote, so an erasure can clean it */
     "ALTER TABLE import_journal ADD COLUMN rejects TEXT;"},

    {12, "contact phone types",
     /* The type libphonenumber gives the stored E.164 number (mobile,
      * fixed_line, voip, ...): sending an SMS needs a mobile, and a segment
      * can ask for one. crm_phone_type is the kernel's SQL function (see
      * kernel.c), so existing rows are typed here once. */
     "ALTER TABLE contacts ADD COLUMN phone_type TEXT;"
     "UPDATE contacts SET phone_type = crm_phone_type(phone) WHERE phone IS NOT NULL;"},
    {13, "done timers purged by age",
     /* crm_timer_purge deletes done rows older than timers.keep_done on every
      * worker pass: this keeps that a range read, not a scan of the table. */
     "CREATE INDEX timers_done ON timers(fired_at) WHERE state = 'done';"},

    {14, "outbound webhooks",
     /* An endpoint is known by its crm.yaml name, so its id (and its 410
      * state) survive edits of the file. A delivery is one event for one
      * endpoint (unique): webhook_id is what the receiver deduplicates on,
      * the same for every attempt; queued_at starts its 24 h of retries
      * (a replay restarts them). The payload is read from events at send
      * time, so nothing personal is copied here. */
     "CREATE TABLE webhook_endpoints("
     " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL,"
     " state TEXT NOT NULL DEFAULT 'active' CHECK(state='active' OR state='disabled'),"
     " disabled_at INTEGER, disabled_reason TEXT, created_at INTEGER NOT NULL);"
     "CREATE TABLE webhook_deliveries("
     " id INTEGER PRIMARY KEY,"
     " endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,"
     " event_id INTEGER NOT NULL, event_type TEXT NOT NULL, webhook_id TEXT NOT NULL UNIQUE,"
     " status TEXT NOT NULL DEFAULT 'pending' CHECK(status='pending' OR status='delivered'"
     "  OR status='failed' OR status='disabled'),"
     " attempts INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL,"
     " next_attempt_at INTEGER, last_attempt_at INTEGER, delivered_at INTEGER,"
     " last_status INTEGER, last_response TEXT,"
     " UNIQUE(endpoint_id, event_id));"
     "CREATE INDEX webhook_deliveries_status ON webhook_deliveries(status, endpoint_id);"},

    {15, "api tokens and idempotency keys",
     /* `crm serve`: only a token's generic hash is kept (the token is shown
      * once); prefix lets `crm token list` tell tokens apart. */
     "CREATE TABLE api_tokens("
     " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
     " prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
     " created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);"
     /* A POST's first response per (token, Idempotency-Key), written in the
      * request's own transaction so a retry returns it and creates nothing. */
     "CREATE TABLE api_idempotency("
     " token_id INTEGER NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL,"
     " path TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,"
     " created_at INTEGER NOT NULL, PRIMARY KEY(token_id, key));"},

    {16, "carts and tracked shop events",
     /* Carts as the shop reports them (cart.updated, checkout.started):
      * external_id is the shop's cart id. status moves open -> abandoned (no
      * update for CRM_CART_ABANDON_AFTER, by the timer cart:ID) and open|
      * abandoned -> converted (an order for it, order_id). Lines are replaced
      * whole by each newer update. tracked_events makes re-sending or
      * re-importing the same object a no-op: key is the object's "id" when
      * given, else a digest of its canonical text. */
     "CREATE TABLE carts("
     " id INTEGER PRIMARY KEY, external_id TEXT NOT NULL UNIQUE,"
     " contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
     " value INTEGER NOT NULL DEFAULT 0, currency TEXT NOT NULL, device TEXT,"
     " status TEXT NOT NULL DEFAULT 'open'"
     "  CHECK(status='open' OR status='abandoned' OR status='converted'),"
     " checkout_at INTEGER, abandoned_at INTEGER, converted_at INTEGER,"
     " order_id INTEGER REFERENCES orders(id) ON DELETE SET NULL,"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE INDEX carts_contact ON carts(contact_id, status, updated_at);"
     "CREATE TABLE cart_lines("
     " cart_id INTEGER NOT NULL REFERENCES carts(id) ON DELETE CASCADE,"
     " position INTEGER NOT NULL, sku TEXT NOT NULL, name TEXT,"
     " quantity INTEGER NOT NULL CHECK(quantity > 0), unit_price INTEGER NOT NULL,"
     " PRIMARY KEY(cart_id, position));"
     "CREATE TABLE tracked_events("
     " id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
     " contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,"
     " cart_id INTEGER REFERENCES carts(id) ON DELETE SET NULL,"
     " at INTEGER NOT NULL, created_at INTEGER NOT NULL);"
     "CREATE INDEX tracked_events_contact ON tracked_events(contact_id, at);"},
    {17, "message outbox",
     /* Every message queued, sent or stopped by a rule (core/messages/outbox.h).
      * idem_key makes queueing repeatable; the rendered content is kept as
      * sent, so a retry after a crash sends the same text under the same id.
      * A person's messages go with the person (erasure). */
     "CREATE TABLE messages("
     " id INTEGER PRIMARY KEY,"
     " contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
     " channel TEXT NOT NULL, purpose TEXT NOT NULL CHECK(purpose='transactional'"
     "  OR purpose='service' OR purpose='marketing'),"
     " template TEXT NOT NULL, source TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE,"
     " to_address TEXT, to_name TEXT, subject TEXT, body_text TEXT, body_html TEXT,"
     " status TEXT NOT NULL CHECK(status='queued' OR status='held' OR status='sent'"
     "  OR status='failed' OR status='suppressed'),"
     " reason TEXT, created_at INTEGER NOT NULL, scheduled_at INTEGER NOT NULL,"
     " sent_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, response TEXT);"
     "CREATE INDEX messages_contact ON messages(contact_id, created_at);"
     "CREATE INDEX messages_status ON messages(status, scheduled_at);"
     /* The kill switch: contact_id 0 pauses every message. */
     "CREATE TABLE message_pauses("
     " contact_id INTEGER PRIMARY KEY, paused_at INTEGER NOT NULL);"},
    {18, "a contact's events in order",
     /* "Did this contact order since entering?" (a journey's goal, checked
      * before every step) reads the contact's events after one id, kernel
      * ones included; without it the check reads every later event. */
     "CREATE INDEX events_contact_id ON events(contact_id, id) WHERE contact_id IS NOT NULL;"},
    {19, "board passwords and sessions",
     /* The web board: a user's Argon2id password string (libsodium's
      * crypto_pwhash_str, salt and parameters inside), and its login
      * sessions by the BLAKE2b hash of the cookie, never the cookie. */
     "ALTER TABLE users ADD COLUMN password_hash TEXT;"
     "CREATE TABLE board_sessions("
     " id INTEGER PRIMARY KEY,"
     " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     " hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
     "CREATE INDEX board_sessions_user ON board_sessions(user_id);"},
    {20, "bulk loads",
     /* A first import into an empty table drops the secondary indexes its
      * own look-ups do not use and builds them after the rows (a sort
      * instead of a random insert per row). Each dropped index is a row
      * here, with its definition, written in the transaction that dropped
      * it: after a kill -9 the next open rebuilds what is listed once the
      * import's process is gone (import/bulk.c). */
     "CREATE TABLE bulk_load_indexes("
     " name TEXT PRIMARY KEY, sql TEXT NOT NULL,"
     " import_id INTEGER NOT NULL);"},
    {21, "timers claimed for work after their commit",
     /* A message or webhook timer sends after its transaction commits, so
      * the write lock is not held over the network (crm_timer_defer_io).
      * Until the outcome is recorded the timer stays pending a lease ahead,
      * claimed by its process: the next firing process fires it at once if
      * that process is gone. */
     "ALTER TABLE timers ADD COLUMN claim_pid INTEGER;"
     "ALTER TABLE timers ADD COLUMN claim_host TEXT;"
     "CREATE INDEX timers_claimed ON timers(id) WHERE claim_pid IS NOT NULL;"},
    {22, "failed board logins",
     /* Each refused board login, by the user name as typed (case folded),
      * so password guessing is throttled (CRM_LOGIN_MAX_FAILURES per
      * CRM_LOGIN_WINDOW); a login that succeeds clears its name's rows. */
     "CREATE TABLE login_failures(key TEXT NOT NULL, at INTEGER NOT NULL);"
     "CREATE INDEX login_failures_key ON login_failures(key, at);"},
};

const crm_migration *crm_schema_kernel(size_t *n)
{
    *n = sizeof kernel_migrations / sizeof kernel_migrations[0];
    return kernel_migrations;
}

/* pipeline plugin — its tables, created by numbered migrations. Every table
 * holding a person's data carries contact_id so the privacy declarations
 * (privacy.c) reach it. */
#include "pl_int.h"

static const char *const migration1 =
    /* probability/category NULL = the stage's; close_date YYYY-MM-DD */
    "CREATE TABLE pipeline_deals("
    " id INTEGER PRIMARY KEY, title TEXT NOT NULL, pipeline TEXT NOT NULL, stage TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('open','won','lost')),"
    " amount INTEGER NOT NULL, currency TEXT NOT NULL, probability INTEGER, category TEXT,"
    " close_date TEXT, owner TEXT, contact_id INTEGER NOT NULL, company_id INTEGER,"
    " lost_reason TEXT, lost_note TEXT, stage_entered_at INTEGER NOT NULL,"
    " last_activity_at INTEGER NOT NULL, stalled INTEGER NOT NULL DEFAULT 0,"
    " closed_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX pipeline_deals_open ON pipeline_deals(pipeline, status, close_date);"
    "CREATE INDEX pipeline_deals_contact ON pipeline_deals(contact_id);"
    /* one row per change of a field: stage, status, amount, probability,
     * close_date, owner, category (from NULL on creation) */
    "CREATE TABLE pipeline_deal_history("
    " id INTEGER PRIMARY KEY, deal_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,"
    " field TEXT NOT NULL, from_value TEXT, to_value TEXT, at INTEGER NOT NULL,"
    " by TEXT NOT NULL);"
    "CREATE INDEX pipeline_deal_history_deal ON pipeline_deal_history(deal_id, field, at, id);"
    "CREATE INDEX pipeline_deal_history_contact ON pipeline_deal_history(contact_id);"
    "CREATE TABLE pipeline_leads("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, phone TEXT, company TEXT,"
    " source TEXT, notes TEXT,"
    " status TEXT NOT NULL CHECK(status IN ('new','qualified','disqualified','converted')),"
    " reason TEXT, score INTEGER, score_reasons TEXT, owner TEXT, contact_id INTEGER,"
    " deal_id INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE pipeline_quotes("
    " id INTEGER PRIMARY KEY, deal_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('draft','sent','accepted','declined','expired')),"
    " currency TEXT NOT NULL, discount_bp INTEGER NOT NULL, net INTEGER NOT NULL,"
    " vat INTEGER NOT NULL, gross INTEGER NOT NULL, valid_until INTEGER NOT NULL,"
    " sent_at INTEGER, message_id INTEGER, decided_at INTEGER, reason TEXT, order_id INTEGER,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE pipeline_quote_lines("
    " id INTEGER PRIMARY KEY, quote_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,"
    " sku TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price INTEGER NOT NULL,"
    " vat_bp INTEGER NOT NULL, net INTEGER NOT NULL);"
    /* the open pipeline as it was at taken_at (crm pipeline snapshot) */
    "CREATE TABLE pipeline_snapshots(id INTEGER PRIMARY KEY, taken_at INTEGER NOT NULL);"
    "CREATE TABLE pipeline_snapshot_deals("
    " snapshot_id INTEGER NOT NULL, deal_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,"
    " pipeline TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL,"
    " amount INTEGER NOT NULL, currency TEXT NOT NULL, close_date TEXT,"
    " PRIMARY KEY(snapshot_id, deal_id));"
    /* round-robin assignment: the index of the next configured user */
    "CREATE TABLE pipeline_assign(what TEXT PRIMARY KEY, next INTEGER NOT NULL);";

/* The board's per-stage sums read the first index alone (covering): without
 * it the won and lost columns scanned every deal of the pipeline; the
 * forecast's "won in the period" scanned every won deal without the second
 * (bench_pipeline.sh, 1M deals). */
static const char *const migration2 =
    "CREATE INDEX pipeline_deals_board ON pipeline_deals(pipeline, stage, currency, status,"
    " amount, stalled);"
    "CREATE INDEX pipeline_deals_closed ON pipeline_deals(pipeline, status, closed_at);";

/* The board's columns kept as running totals: summing them from the deals
 * read the covering index's every row, 1M deals in 0.3 s (bench_pipeline.sh);
 * the triggers keep them in the transaction of each write, whatever the
 * writer (a command, the API, the demo, an erasure). */
static const char *const migration3 =
    "CREATE TABLE pipeline_board_totals("
    " pipeline TEXT NOT NULL, stage TEXT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,"
    " deals INTEGER NOT NULL, amount INTEGER NOT NULL, stalled INTEGER NOT NULL,"
    " PRIMARY KEY(pipeline, stage, currency, status)) WITHOUT ROWID;"
    "INSERT INTO pipeline_board_totals"
    " SELECT pipeline, stage, currency, status, count(*), sum(amount), sum(stalled)"
    " FROM pipeline_deals GROUP BY 1, 2, 3, 4;"
    "CREATE TRIGGER pipeline_board_insert AFTER INSERT ON pipeline_deals BEGIN"
    " INSERT INTO pipeline_board_totals VALUES(new.pipeline, new.stage, new.currency,"
    "  new.status, 1, new.amount, new.stalled)"
    " ON CONFLICT DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount,"
    "  stalled = stalled + excluded.stalled;"
    " END;"
    "CREATE TRIGGER pipeline_board_delete AFTER DELETE ON pipeline_deals BEGIN"
    " UPDATE pipeline_board_totals SET deals = deals - 1, amount = amount - old.amount,"
    "  stalled = stalled - old.stalled WHERE pipeline = old.pipeline AND stage = old.stage"
    "  AND currency = old.currency AND status = old.status;"
    " END;"
    "CREATE TRIGGER pipeline_board_update AFTER UPDATE OF pipeline, stage, currency, status,"
    " amount, stalled ON pipeline_deals BEGIN"
    " UPDATE pipeline_board_totals SET deals = deals - 1, amount = amount - old.amount,"
    "  stalled = stalled - old.stalled WHERE pipeline = old.pipeline AND stage = old.stage"
    "  AND currency = old.currency AND status = old.status;"
    " INSERT INTO pipeline_board_totals VALUES(new.pipeline, new.stage, new.currency,"
    "  new.status, 1, new.amount, new.stalled)"
    " ON CONFLICT DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount,"
    "  stalled = stalled + excluded.stalled;"
    " END;";

int pl_schema_register(crm_plugin_ctx *ctx)
{
    int rc = crm_register_migration(ctx, 1, "pipeline deals, history, leads, quotes, snapshots",
                                    migration1);
    if (rc == CRM_OK)
        rc = crm_register_migration(ctx, 2, "pipeline board and closed-deal indexes", migration2);
    return rc == CRM_OK ? crm_register_migration(ctx, 3, "pipeline board running totals",
                                                 migration3) : rc;
}

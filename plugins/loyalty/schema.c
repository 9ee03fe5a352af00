/* loyalty plugin — its tables, created by numbered migrations.
 *
 * The ledger is double entry with lots: an operation (one idempotency key,
 * UNIQUE) writes entries; an earning is a lot; every spend, expiry,
 * reversal, clawback and adjustment is an entry linked to the lot it draws
 * from (lot_id NULL: a clawback to a negative balance, or a future_earnings
 * debt). A lot's `remaining` is the sum of its entries, kept beside them so
 * FIFO draws read one index; `crm loyalty check` proves the two agree. */
#include "loy_int.h"

static const char *const migration1 =
    "CREATE TABLE loyalty_members("
    " contact_id INTEGER PRIMARY KEY, joined_at INTEGER NOT NULL,"
    " tier INTEGER NOT NULL DEFAULT 0, tier_since INTEGER NOT NULL,"
    " grace_until INTEGER, referral_code TEXT NOT NULL UNIQUE);"
    "CREATE TABLE loyalty_ops("
    " id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    " contact_id INTEGER NOT NULL, points INTEGER NOT NULL, order_id INTEGER,"
    " reason TEXT, policy TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX loyalty_ops_contact ON loyalty_ops(contact_id, at);"
    "CREATE INDEX loyalty_ops_order ON loyalty_ops(order_id);"
    "CREATE TABLE loyalty_lots("
    " id INTEGER PRIMARY KEY, op_id INTEGER NOT NULL REFERENCES loyalty_ops(id),"
    " contact_id INTEGER NOT NULL, points INTEGER NOT NULL CHECK(points > 0),"
    " remaining INTEGER NOT NULL, order_id INTEGER, earned_at INTEGER NOT NULL,"
    " pending_until INTEGER NOT NULL, approved_at INTEGER, expires_at INTEGER,"
    " expired_at INTEGER);"
    "CREATE INDEX loyalty_lots_fifo ON loyalty_lots(contact_id, expires_at, id);"
    "CREATE INDEX loyalty_lots_order ON loyalty_lots(order_id);"
    "CREATE TABLE loyalty_entries("
    " id INTEGER PRIMARY KEY, op_id INTEGER NOT NULL REFERENCES loyalty_ops(id),"
    " contact_id INTEGER NOT NULL, lot_id INTEGER REFERENCES loyalty_lots(id),"
    " kind TEXT NOT NULL CHECK(kind IN ('earn','spend','expire','reverse','adjust',"
    "  'clawback','debt','settle')),"
    " points INTEGER NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX loyalty_entries_contact ON loyalty_entries(contact_id, kind, lot_id);"
    "CREATE INDEX loyalty_entries_lot ON loyalty_entries(lot_id);"
    "CREATE TABLE loyalty_redemptions("
    " id INTEGER PRIMARY KEY, op_id INTEGER NOT NULL REFERENCES loyalty_ops(id),"
    " contact_id INTEGER NOT NULL, reward TEXT NOT NULL, kind TEXT NOT NULL,"
    " cost INTEGER NOT NULL, value INTEGER NOT NULL, cause TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX loyalty_redemptions_reward ON loyalty_redemptions(reward, contact_id);"
    "CREATE TABLE loyalty_vouchers("
    " code TEXT PRIMARY KEY, redemption_id INTEGER NOT NULL REFERENCES loyalty_redemptions(id),"
    " contact_id INTEGER NOT NULL, value INTEGER NOT NULL, currency TEXT NOT NULL,"
    " expires_at INTEGER, used_order_id INTEGER, used_at INTEGER);"
    "CREATE TABLE loyalty_referrals("
    " id INTEGER PRIMARY KEY, referrer_id INTEGER NOT NULL, contact_id INTEGER NOT NULL UNIQUE,"
    " code TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('pending','rewarded','refused')),"
    " reason TEXT, order_id INTEGER, decided_at INTEGER);"
    "CREATE INDEX loyalty_referrals_referrer ON loyalty_referrals(referrer_id, decided_at);"
    "CREATE TABLE loyalty_warnings("
    " lot_id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, points INTEGER NOT NULL,"
    " at INTEGER NOT NULL, message_id INTEGER, note TEXT);"
    "CREATE TABLE loyalty_order_refunds("
    " order_id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL,"
    " refunded INTEGER NOT NULL, total INTEGER NOT NULL);";

int loy_schema_register(crm_plugin_ctx *ctx)
{
    int rc = crm_register_migration(ctx, 1, "loyalty ledger, tiers, rewards, referrals",
                                    migration1);
    /* a member's refunds, subtracted from its spend at every tier update */
    return rc == CRM_OK ? crm_register_migration(ctx, 2, "loyalty refunds by contact",
                                                 "CREATE INDEX loyalty_order_refunds_contact"
                                                 " ON loyalty_order_refunds(contact_id);")
                        : rc;
}

/* segmentation plugin — its tables, created by numbered migrations. */
#include "seg_int.h"

static const char *const migration1 =
    "CREATE TABLE segmentation_refreshes("
    " id INTEGER PRIMARY KEY, as_of INTEGER NOT NULL, window_days INTEGER NOT NULL,"
    " currency TEXT NOT NULL, contacts INTEGER NOT NULL, skipped_orders INTEGER NOT NULL);"
    "CREATE TABLE segmentation_cuts("
    " refresh_id INTEGER NOT NULL REFERENCES segmentation_refreshes(id) ON DELETE CASCADE,"
    " metric TEXT NOT NULL, score INTEGER NOT NULL, value INTEGER NOT NULL,"
    " PRIMARY KEY(refresh_id, metric, score));"
    "CREATE TABLE segmentation_rfm("
    " contact_id INTEGER PRIMARY KEY, recency_days INTEGER NOT NULL,"
    " frequency INTEGER NOT NULL, monetary INTEGER NOT NULL, last_order_at INTEGER NOT NULL,"
    " r INTEGER NOT NULL, f INTEGER NOT NULL, m INTEGER NOT NULL, segment TEXT,"
    " as_of INTEGER NOT NULL, refresh_id INTEGER NOT NULL, UNIQUE(segment, contact_id));"
    "CREATE TABLE segmentation_members("
    " id INTEGER PRIMARY KEY, segment TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('rfm','rule','static')),"
    " contact_id INTEGER NOT NULL, entered_at INTEGER NOT NULL, left_at INTEGER,"
    /* superseded by migration 2 (written when the authorizer refused
     * CREATE INDEX): the table is rebuilt there with a partial index */
    " UNIQUE(segment, left_at, contact_id, id), UNIQUE(contact_id, left_at, id));"
    "CREATE TABLE segmentation_churn("
    " contact_id INTEGER PRIMARY KEY, score INTEGER NOT NULL, level INTEGER NOT NULL,"
    " reasons TEXT NOT NULL, computed_at INTEGER NOT NULL);";

/* One open membership per (segment, contact), enforced by a partial unique
 * index; the history and per-contact lookups get their own partial indexes.
 * The table is rebuilt to drop migration 1's workaround constraints. */
static const char *const migration2 =
    "CREATE TABLE segmentation_members_v2("
    " id INTEGER PRIMARY KEY, segment TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('rfm','rule','static')),"
    " contact_id INTEGER NOT NULL, entered_at INTEGER NOT NULL, left_at INTEGER);"
    "INSERT INTO segmentation_members_v2(id, segment, kind, contact_id, entered_at, left_at)"
    " SELECT id, segment, kind, contact_id, entered_at, left_at FROM segmentation_members;"
    "DROP TABLE segmentation_members;"
    "ALTER TABLE segmentation_members_v2 RENAME TO segmentation_members;"
    "CREATE UNIQUE INDEX segmentation_members_open ON segmentation_members(segment, contact_id)"
    " WHERE left_at IS NULL;"
    "CREATE INDEX segmentation_members_contact ON segmentation_members(contact_id)"
    " WHERE left_at IS NULL;"
    "CREATE INDEX segmentation_members_history ON segmentation_members(segment, id);";

/* When each rule or Lua segment was last evaluated over every contact, and
 * every churn refresh, so an empty answer says whether it was ever
 * computed and as of when. */
static const char *const migration3 =
    "CREATE TABLE segmentation_segment_refreshes("
    " segment TEXT PRIMARY KEY, as_of INTEGER NOT NULL, members INTEGER NOT NULL);"
    "CREATE TABLE segmentation_churn_refreshes("
    " id INTEGER PRIMARY KEY, as_of INTEGER NOT NULL, contacts INTEGER NOT NULL,"
    " raised INTEGER NOT NULL);";

int seg_schema_register(crm_plugin_ctx *ctx)
{
    int rc = crm_register_migration(ctx, 1, "segmentation tables", migration1);
    if (rc == CRM_OK)
        rc =
            crm_register_migration(ctx, 2, "one open membership: partial unique index", migration2);
    if (rc == CRM_OK)
        rc = crm_register_migration(ctx, 3, "when rule segments and churn were last refreshed",
                                    migration3);
    return rc;
}

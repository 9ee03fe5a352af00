/* loyalty plugin — the ledger in the database: operations (one idempotency
 * key each), lots, entries linked to the lots they draw from (FIFO, soonest
 * expiry first), reversals with the clawback policy, approval and expiry of
 * lots, expiry warnings through the outbox. Callers hold a transaction. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

/* Emits `type` with a payload packed by jansson (fmt as json_pack). */
static int emit(crm_plugin_ctx *ctx, const char *type, json_t *payload)
{
    char *s = payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(payload);
    if (!s) {
        crm_set_error(ctx, "out of memory building %s", type);
        return CRM_ENOMEM;
    }
    int rc = crm_emit_event(ctx, type, s);
    free(s);
    return rc;
}

/* A referral code from the contact id: the id keeps it unique, the mixed
 * tail keeps it from being guessed from a neighbour's. */
static void referral_code(int64_t cid, char *buf, size_t size)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    uint64_t x = (uint64_t)cid * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    char tail[5];
    for (int i = 0; i < 4; i++, x >>= 5)
        tail[i] = alphabet[x & 31];
    tail[4] = 0;
    snprintf(buf, size, "R%lld%s", (long long)cid, tail);
}

int loy_member_ensure(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    if (loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_members WHERE contact_id = ?1", 1, cid))
        return CRM_OK;
    char code[32];
    referral_code(cid, code, sizeof code);
    static const char sql[] = "INSERT INTO loyalty_members(contact_id, joined_at, tier,"
                              " tier_since, referral_code) VALUES(?1, ?2, 0, ?2, ?3)";
    crm_stmt *st = loy_kept(ctx, sql, 2, cid, at);
    if (!st)
        return loy_fail_db(ctx, "adding the member");
    crm_sql_bind_text(st, 3, code);
    int rc = crm_sql_step(st);
    loy_cached_done(ctx, sql, st);
    return rc < 0 ? loy_fail_db(ctx, "adding the member") : CRM_OK;
}

int loy_op_exists(crm_plugin_ctx *ctx, const char *key, int64_t *op_id)
{
    static const char sql[] = "SELECT id FROM loyalty_ops WHERE key = ?1";
    crm_stmt *st = loy_kept(ctx, sql, 0);
    int64_t id = 0;
    if (st) {
        crm_sql_bind_text(st, 1, key);
        if (crm_sql_step(st) == CRM_SQL_ROW)
            id = crm_sql_column_int64(st, 0);
        loy_cached_done(ctx, sql, st);
    }
    if (op_id)
        *op_id = id;
    return id != 0;
}

/* Inserts operation `key`; *id its row. */
static int op_insert(crm_plugin_ctx *ctx, const char *key, const char *kind, int64_t cid,
                     int64_t points, int64_t order_id, const char *reason, const char *policy,
                     int64_t at, int64_t *id)
{
    static const char sql[] = "INSERT INTO loyalty_ops(contact_id, points, at, order_id, key,"
                              " kind, reason, policy) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    crm_stmt *st = loy_kept(ctx, sql, 3, cid, points, at);
    if (!st)
        return loy_fail_db(ctx, "recording the operation");
    if (order_id)
        crm_sql_bind_int64(st, 4, order_id);
    else
        crm_sql_bind_null(st, 4);
    crm_sql_bind_text(st, 5, key);
    crm_sql_bind_text(st, 6, kind);
    if (reason)
        crm_sql_bind_text(st, 7, reason);
    else
        crm_sql_bind_null(st, 7);
    if (policy)
        crm_sql_bind_text(st, 8, policy);
    else
        crm_sql_bind_null(st, 8);
    int rc = crm_sql_step(st);
    loy_cached_done(ctx, sql, st);
    if (rc < 0)
        return loy_fail_db(ctx, "recording the operation");
    *id = crm_sql_last_insert_id(ctx);
    return CRM_OK;
}

/* One entry of operation op; a lot's entry moves its remaining with it. */
static int entry(crm_plugin_ctx *ctx, int64_t op, int64_t cid, int64_t lot, const char *kind,
                 int64_t points, int64_t at)
{
    static const char sql[] = "INSERT INTO loyalty_entries(op_id, contact_id, points, at,"
                              " lot_id, kind) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
    crm_stmt *st = loy_kept(ctx, sql, 4, op, cid, points, at);
    if (!st)
        return loy_fail_db(ctx, "writing a ledger entry");
    if (lot)
        crm_sql_bind_int64(st, 5, lot);
    else
        crm_sql_bind_null(st, 5);
    crm_sql_bind_text(st, 6, kind);
    int rc = crm_sql_step(st);
    loy_cached_done(ctx, sql, st);
    if (rc < 0)
        return loy_fail_db(ctx, "writing a ledger entry");
    if (lot && strcmp(kind, "earn") != 0)
        return loy_run(ctx, "UPDATE loyalty_lots SET remaining = remaining + ?2 WHERE id = ?1", 2,
                       lot, points);
    return CRM_OK;
}

/* The future_earnings debt outstanding (points owed, >= 0). */
static int64_t debt_of(crm_plugin_ctx *ctx, int64_t cid)
{
    return -loy_scalar(ctx, 0,
                       "SELECT sum(points) FROM loyalty_entries WHERE contact_id = ?1 AND"
                       " kind = 'debt'",
                       1, cid);
}

static int schedule_lot(crm_plugin_ctx *ctx, const char *what, int64_t lot, int64_t due)
{
    char key[48];
    snprintf(key, sizeof key, "%s:%lld", what, (long long)lot);
    return crm_schedule(ctx, key, due, NULL);
}

/* The lot's timers: approval, the expiry warning, the expiry. */
static int schedule_lot_timers(crm_plugin_ctx *ctx, int64_t lot, int64_t at,
                               int64_t pending_until, int64_t expires_at)
{
    int rc = CRM_OK;
    if (pending_until > at)
        rc = schedule_lot(ctx, "approve", lot, pending_until);
    if (rc == CRM_OK && expires_at && PROG(ctx)->warn_before > 0 &&
        expires_at - PROG(ctx)->warn_before > at)
        rc = schedule_lot(ctx, "warn", lot, expires_at - PROG(ctx)->warn_before);
    if (rc == CRM_OK && expires_at)
        rc = schedule_lot(ctx, "expire", lot, expires_at);
    return rc;
}

int loy_earn(crm_plugin_ctx *ctx, int64_t cid, int64_t points, const char *key, const char *kind,
             const char *reason, int64_t order_id, int64_t at, int64_t pending_until,
             int64_t expires_at, int *done)
{
    int64_t op, lot;
    *done = 0;
    if (loy_op_exists(ctx, key, NULL))
        return CRM_OK;
    int rc = loy_member_ensure(ctx, cid, at);
    if (rc == CRM_OK)
        rc = op_insert(ctx, key, kind, cid, points, order_id, reason, NULL, at, &op);
    if (rc != CRM_OK)
        return rc;
    static const char sql[] = "INSERT INTO loyalty_lots(op_id, contact_id, points, remaining,"
                              " earned_at, pending_until, approved_at, order_id, expires_at)"
                              " VALUES(?1, ?2, ?3, ?3, ?4, ?5, CASE WHEN ?5 <= ?4 THEN ?4 END,"
                              " ?6, ?7)";
    crm_stmt *st = loy_kept(ctx, sql, 5, op, cid, points, at, pending_until);
    if (!st)
        return loy_fail_db(ctx, "adding the lot");
    if (order_id)
        crm_sql_bind_int64(st, 6, order_id);
    else
        crm_sql_bind_null(st, 6);
    if (expires_at)
        crm_sql_bind_int64(st, 7, expires_at);
    else
        crm_sql_bind_null(st, 7);
    rc = crm_sql_step(st);
    loy_cached_done(ctx, sql, st);
    if (rc < 0)
        return loy_fail_db(ctx, "adding the lot");
    lot = crm_sql_last_insert_id(ctx);
    rc = entry(ctx, op, cid, lot, "earn", points, at);
    /* future_earnings: what a reversal could not take back comes out of this lot */
    int64_t debt = debt_of(ctx, cid), settle = debt < points ? debt : points;
    if (rc == CRM_OK && settle > 0)
        rc = entry(ctx, op, cid, lot, "settle", -settle, at);
    if (rc == CRM_OK && settle > 0)
        rc = entry(ctx, op, cid, 0, "debt", settle, at);
    if (rc == CRM_OK)
        rc = schedule_lot_timers(ctx, lot, at, pending_until, expires_at);
    if (rc == CRM_OK)
        rc = emit(ctx, "loyalty.points_earned",
                  json_pack("{sI sI sI sI sb}", "contact_id", (json_int_t)cid, "lot_id",
                            (json_int_t)lot, "points", (json_int_t)points, "order_id",
                            (json_int_t)order_id, "pending", pending_until > at));
    *done = rc == CRM_OK;
    return rc;
}

/* Lots a draw may take from, in FIFO order, copied out of the statement. */
typedef struct lot_set {
    int64_t *id, *remaining;
    size_t n;
} lot_set;

static void lot_set_free(lot_set *s)
{
    free(s->id);
    free(s->remaining);
    memset(s, 0, sizeof *s);
}

static int lot_set_load(crm_plugin_ctx *ctx, crm_stmt *st, lot_set *s)
{
    size_t cap = 0;
    int step;
    if (!st)
        return loy_fail_db(ctx, "reading the lots");
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        if (s->n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *a = realloc(s->id, cap * sizeof *a), *b = a ? realloc(s->remaining, cap * sizeof *b) : NULL;
            if (a)
                s->id = a;
            if (!a || !b) {
                crm_sql_finalize(st);
                crm_set_error(ctx, "out of memory reading the lots");
                return CRM_ENOMEM;
            }
            s->remaining = b;
        }
        s->id[s->n] = crm_sql_column_int64(st, 0);
        s->remaining[s->n++] = crm_sql_column_int64(st, 1);
    }
    crm_sql_finalize(st);
    return step < 0 ? loy_fail_db(ctx, "reading the lots") : CRM_OK;
}

/* Writes take[i] of lot i as `kind` entries of op (negative points). */
static int draw_entries(crm_plugin_ctx *ctx, int64_t op, int64_t cid, const lot_set *s,
                        const int64_t *take, const char *kind, int64_t at)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < s->n; i++)
        if (take[i] > 0)
            rc = entry(ctx, op, cid, s->id[i], kind, -take[i], at);
    return rc;
}

int loy_draw(crm_plugin_ctx *ctx, int64_t cid, int64_t points, const char *key, const char *kind,
             const char *reason, int64_t at, int64_t *op_id)
{
    int64_t op = 0;
    if (loy_op_exists(ctx, key, &op)) {
        if (op_id)
            *op_id = op;
        return CRM_OK;
    }
    loy_balance b;
    int rc = loy_balance_get(ctx, cid, &b);
    if (rc == CRM_OK && b.approved < points) {
        crm_set_error(ctx, "the approved balance is %lld %s, %lld needed",
                      (long long)b.approved, PROG(ctx)->point_name, (long long)points);
        return CRM_EINVAL;
    }
    lot_set s = {0};
    if (rc == CRM_OK)
        rc = lot_set_load(ctx,
                          loy_prep(ctx,
                                   "SELECT id, remaining FROM loyalty_lots WHERE contact_id = ?1"
                                   " AND remaining > 0 AND approved_at IS NOT NULL AND"
                                   " (expires_at IS NULL OR expires_at > ?2)"
                                   " ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END,"
                                   " expires_at, id",
                                   2, cid, at),
                          &s);
    int64_t *take = rc == CRM_OK ? calloc(s.n + 1, sizeof *take) : NULL;
    if (rc == CRM_OK && !take)
        rc = CRM_ENOMEM;
    if (rc == CRM_OK && loy_fifo_take(s.remaining, s.n, points, take) < points) {
        crm_set_error(ctx, "the lots hold fewer than %lld approved %s", (long long)points,
                      PROG(ctx)->point_name);
        rc = CRM_EINVAL;
    }
    if (rc == CRM_OK)
        rc = op_insert(ctx, key, kind, cid, -points, 0, reason, NULL, at, &op);
    if (rc == CRM_OK)
        rc = draw_entries(ctx, op, cid, &s, take, kind, at);
    free(take);
    lot_set_free(&s);
    if (rc == CRM_OK && op_id)
        *op_id = op;
    return rc;
}

int loy_reverse_order(crm_plugin_ctx *ctx, int64_t order_id, int64_t refunded, int64_t total,
                      const char *key, int64_t at)
{
    if (loy_op_exists(ctx, key, NULL))
        return CRM_OK;
    int64_t cid = loy_scalar(ctx, 0, "SELECT contact_id FROM loyalty_lots WHERE order_id = ?1",
                             1, order_id);
    int64_t earned = loy_scalar(ctx, 0, "SELECT sum(points) FROM loyalty_lots WHERE"
                                        " order_id = ?1", 1, order_id);
    int64_t already = -loy_scalar(ctx, 0, "SELECT sum(points) FROM loyalty_ops WHERE"
                                          " order_id = ?1 AND kind = 'reverse'", 1, order_id);
    int64_t need = loy_reversal_target(earned, refunded, total) - already;
    if (!cid || need <= 0)
        return CRM_OK; /* nothing earned, or already reversed this far */
    lot_set s = {0};
    int rc = lot_set_load(ctx,
                          loy_prep(ctx,
                                   "SELECT id, remaining FROM loyalty_lots WHERE order_id = ?1"
                                   " AND remaining > 0 ORDER BY id",
                                   1, order_id),
                          &s);
    int64_t *take = rc == CRM_OK ? calloc(s.n + 1, sizeof *take) : NULL;
    if (rc == CRM_OK && !take)
        rc = CRM_ENOMEM;
    int64_t got = rc == CRM_OK ? loy_fifo_take(s.remaining, s.n, need, take) : 0;
    int64_t short_by = need - got, op = 0;
    const char *policy = !short_by ? NULL
                         : PROG(ctx)->clawback == LOY_FUTURE_EARNINGS ? "future_earnings"
                                                                      : "negative_balance";
    if (rc == CRM_OK)
        rc = op_insert(ctx, key, "reverse", cid, -need, order_id, "order refunded or cancelled",
                       policy, at, &op);
    if (rc == CRM_OK)
        rc = draw_entries(ctx, op, cid, &s, take, "reverse", at);
    /* the points already spent: a negative balance now, or a debt on what comes */
    if (rc == CRM_OK && short_by)
        rc = entry(ctx, op, cid, 0,
                   PROG(ctx)->clawback == LOY_FUTURE_EARNINGS ? "debt" : "clawback", -short_by,
                   at);
    free(take);
    lot_set_free(&s);
    if (rc == CRM_OK)
        rc = emit(ctx, "loyalty.points_reversed",
                  json_pack("{sI sI sI sI ss?}", "contact_id", (json_int_t)cid, "order_id",
                            (json_int_t)order_id, "points", (json_int_t)need, "clawed_back",
                            (json_int_t)short_by, "policy", policy));
    return rc;
}

int loy_approve_lot(crm_plugin_ctx *ctx, int64_t lot, int64_t at)
{
    int64_t cid = loy_scalar(ctx, 0, "SELECT contact_id FROM loyalty_lots WHERE id = ?1 AND"
                                     " approved_at IS NULL", 1, lot);
    if (!cid)
        return CRM_OK; /* approved already (or erased) */
    int64_t order = loy_scalar(ctx, 0, "SELECT order_id FROM loyalty_lots WHERE id = ?1", 1, lot);
    int64_t left = loy_scalar(ctx, 0, "SELECT remaining FROM loyalty_lots WHERE id = ?1", 1, lot);
    int rc = loy_run(ctx, "UPDATE loyalty_lots SET approved_at = ?2 WHERE id = ?1", 2, lot, at);
    if (rc == CRM_OK)
        rc = emit(ctx, "loyalty.points_approved",
                  json_pack("{sI sI sI}", "contact_id", (json_int_t)cid, "lot_id",
                            (json_int_t)lot, "points", (json_int_t)left));
    if (rc == CRM_OK && PROG(ctx)->qualify_on_points)
        rc = loy_tier_update(ctx, cid, at);
    if (rc == CRM_OK && order && left > 0)
        rc = loy_referral_on_approved(ctx, cid, order, at);
    return rc;
}

int loy_expire_lot(crm_plugin_ctx *ctx, int64_t lot, int64_t at)
{
    int64_t cid = loy_scalar(ctx, 0, "SELECT contact_id FROM loyalty_lots WHERE id = ?1 AND"
                                     " expired_at IS NULL", 1, lot);
    if (!cid)
        return CRM_OK;
    int64_t left = loy_scalar(ctx, 0, "SELECT remaining FROM loyalty_lots WHERE id = ?1", 1, lot);
    char key[48];
    snprintf(key, sizeof key, "expire:%lld", (long long)lot);
    int64_t op = 0;
    int rc = CRM_OK;
    if (left > 0 && !loy_op_exists(ctx, key, NULL)) {
        rc = op_insert(ctx, key, "expire", cid, -left, 0, "lot expired", NULL, at, &op);
        if (rc == CRM_OK)
            rc = entry(ctx, op, cid, lot, "expire", -left, at);
    }
    if (rc == CRM_OK)
        rc = loy_run(ctx, "UPDATE loyalty_lots SET expired_at = ?2 WHERE id = ?1", 2, lot, at);
    if (rc == CRM_OK && left > 0)
        rc = emit(ctx, "loyalty.points_expired",
                  json_pack("{sI sI sI}", "contact_id", (json_int_t)cid, "lot_id",
                            (json_int_t)lot, "points", (json_int_t)left));
    return rc;
}

/* Queues the warning message when the host has the outbox (SDK 1.3:
 * messages); *msg its id, 0 with a note otherwise. */
static int queue_warning(crm_plugin_ctx *ctx, int64_t cid, int64_t lot, int64_t points,
                         int64_t expires_at, int64_t *msg, char *note, size_t size)
{
    *msg = 0;
#ifdef crm_message_queue_json
    if (CRM_API_HAS(ctx, message_queue_json)) {
        char when[40], key[64];
        loy_time(ctx, expires_at, when, sizeof when);
        snprintf(key, sizeof key, "loyalty:warn:%lld", (long long)lot);
        json_t *j = json_pack("{sI ss ss ss s{sI ss ss}}", "contact_id", (json_int_t)cid,
                              "template", "loyalty_expiry", "purpose", "service", "key", key,
                              "data", "points", (json_int_t)points, "expires_at", when,
                              "point_name", PROG(ctx)->point_name);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        int rc = s ? crm_message_queue_json(ctx, s, msg) : CRM_ENOMEM;
        free(s);
        if (rc == CRM_ENOMEM)
            return rc;
        if (rc != CRM_OK) /* no template or address: the warning is still recorded */
            snprintf(note, size, "not queued: %s", crm_last_error(ctx));
        return CRM_OK;
    }
#else
    (void)cid, (void)lot, (void)points, (void)expires_at;
#endif
    snprintf(note, size, "no outbox in this crm (SDK 1.3: messages)");
    return CRM_OK;
}

int loy_warn_lot(crm_plugin_ctx *ctx, int64_t lot, int64_t at)
{
    int64_t cid = loy_scalar(ctx, 0, "SELECT contact_id FROM loyalty_lots WHERE id = ?1 AND"
                                     " expired_at IS NULL AND remaining > 0", 1, lot);
    if (!cid || loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_warnings WHERE lot_id = ?1", 1, lot))
        return CRM_OK;
    int64_t left = loy_scalar(ctx, 0, "SELECT remaining FROM loyalty_lots WHERE id = ?1", 1, lot);
    int64_t exp = loy_scalar(ctx, 0, "SELECT expires_at FROM loyalty_lots WHERE id = ?1", 1, lot);
    int64_t msg = 0;
    char note[256] = "";
    int rc = queue_warning(ctx, cid, lot, left, exp, &msg, note, sizeof note);
    crm_stmt *st = rc == CRM_OK ? loy_prep(ctx,
                                           "INSERT INTO loyalty_warnings(lot_id, contact_id,"
                                           " points, at, message_id, note)"
                                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                                           4, lot, cid, left, at)
                                : NULL;
    if (rc == CRM_OK && !st)
        return loy_fail_db(ctx, "recording the warning");
    if (st) {
        if (msg)
            crm_sql_bind_int64(st, 5, msg);
        else
            crm_sql_bind_null(st, 5);
        if (note[0])
            crm_sql_bind_text(st, 6, note);
        else
            crm_sql_bind_null(st, 6);
        rc = crm_sql_step(st) < 0 ? loy_fail_db(ctx, "recording the warning") : CRM_OK;
        crm_sql_finalize(st);
    }
    if (rc == CRM_OK)
        rc = emit(ctx, "loyalty.points_expiring",
                  json_pack("{sI sI sI sI}", "contact_id", (json_int_t)cid, "lot_id",
                            (json_int_t)lot, "points", (json_int_t)left, "expires_at",
                            (json_int_t)exp));
    return rc;
}

/* Runs fn on every lot the query (?1 = at) lists, ids copied first. */
static int each_lot(crm_plugin_ctx *ctx, const char *sql, int64_t at,
                    int (*fn)(crm_plugin_ctx *, int64_t, int64_t))
{
    lot_set s = {0};
    int rc = lot_set_load(ctx, loy_prep(ctx, sql, 1, at), &s);
    for (size_t i = 0; rc == CRM_OK && i < s.n; i++)
        rc = fn(ctx, s.id[i], at);
    lot_set_free(&s);
    return rc;
}

int loy_sweep(crm_plugin_ctx *ctx, int64_t at)
{
    int rc = each_lot(ctx, "SELECT id, 0 FROM loyalty_lots WHERE approved_at IS NULL AND"
                           " pending_until <= ?1 ORDER BY id", at, loy_approve_lot);
    if (rc == CRM_OK)
        rc = each_lot(ctx, "SELECT id, 0 FROM loyalty_lots WHERE expired_at IS NULL AND"
                           " expires_at <= ?1 ORDER BY id", at, loy_expire_lot);
    return rc;
}

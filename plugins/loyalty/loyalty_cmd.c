/* loyalty plugin — `crm loyalty <verb>`: the option tables are in
 * loyalty.c; each handler reads its parsed arguments, runs in one
 * transaction when it writes, and prints a line or one JSON value. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

/* Runs fn(ctx, ud) in one transaction: all of it, or nothing. */
static int in_tx(crm_plugin_ctx *ctx, int (*fn)(crm_plugin_ctx *, void *), void *ud)
{
    int rc = crm_begin(ctx);
    if (rc != CRM_OK)
        return rc;
    rc = fn(ctx, ud);
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    return rc;
}

static int need_program(crm_plugin_ctx *ctx)
{
    if (LOY(ctx)->configured)
        return CRM_OK;
    crm_set_error(ctx, "no loyalty program is configured (add loyalty.programs to crm.yaml)");
    return CRM_EINVAL;
}

/* ---- balance ------------------------------------------------------------------ */

static json_t *balance_json(crm_plugin_ctx *ctx, int64_t cid, const loy_balance *b)
{
    const loy_program *p = PROG(ctx);
    int64_t now = crm_now(ctx), value = loy_tier_value(ctx, cid, now);
    size_t tier = loy_tier_of(ctx, cid);
    int64_t grace = loy_scalar(ctx, 0, "SELECT grace_until FROM loyalty_members WHERE"
                                       " contact_id = ?1", 1, cid);
    char buf[64];
    json_t *j = json_pack("{sI sI sI sI sI sI sI sI ss sb}", "contact_id", (json_int_t)cid,
                          "approved", (json_int_t)b->approved, "pending", (json_int_t)b->pending,
                          "spent", (json_int_t)b->spent, "expired", (json_int_t)b->expired,
                          "reversed", (json_int_t)b->reversed, "lifetime",
                          (json_int_t)b->lifetime, "debt", (json_int_t)b->debt, "tier",
                          p->levels[tier].name, "vip", loy_is_vip(ctx, cid, now));
    json_object_set_new(j, "tier_value", json_integer(value));
    json_object_set_new(j, "qualify_on", json_string(p->qualify_on_points ? "points" : "spent"));
    /* the projection: what keeps the tier, what reaches the next one */
    int64_t keep = p->levels[tier].min - value;
    json_object_set_new(j, "needed_to_keep", json_integer(keep > 0 ? keep : 0));
    json_object_set_new(j, "grace_until", grace ? json_string(loy_time(ctx, grace, buf, sizeof buf))
                                                : json_null());
    if (tier + 1 < p->nlevels) {
        json_object_set_new(j, "next_tier", json_string(p->levels[tier + 1].name));
        json_object_set_new(j, "needed_for_next", json_integer(p->levels[tier + 1].min - value));
    } else {
        json_object_set_new(j, "next_tier", json_null());
        json_object_set_new(j, "needed_for_next", json_null());
    }
    crm_stmt *st = loy_prep(ctx, "SELECT referral_code FROM loyalty_members WHERE contact_id = ?1",
                            1, cid);
    if (st && crm_sql_step(st) == CRM_SQL_ROW)
        json_object_set_new(j, "referral_code", json_string(crm_sql_column_text(st, 0)));
    crm_sql_finalize(st);
    return j;
}

static const char *amount_text(crm_plugin_ctx *ctx, int64_t v, char *buf, size_t size)
{
    if (PROG(ctx)->qualify_on_points)
        snprintf(buf, size, "%lld %s", (long long)v, PROG(ctx)->point_name);
    else
        loy_money(ctx, v, buf, size);
    return buf;
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static void print_balance(crm_plugin_ctx *ctx, FILE *out, json_t *j)
{
    const char *name = PROG(ctx)->point_name;
    char a[64], b[64];
    fprintf(out, "approved %lld %s, pending %lld, spent %lld, expired %lld, reversed %lld, "
            "lifetime %lld", (long long)json_integer_value(json_object_get(j, "approved")), name,
            (long long)json_integer_value(json_object_get(j, "pending")),
            (long long)json_integer_value(json_object_get(j, "spent")),
            (long long)json_integer_value(json_object_get(j, "expired")),
            (long long)json_integer_value(json_object_get(j, "reversed")),
            (long long)json_integer_value(json_object_get(j, "lifetime")));
    if (json_integer_value(json_object_get(j, "debt")))
        fprintf(out, ", owed %lld", (long long)json_integer_value(json_object_get(j, "debt")));
    fprintf(out, "\ntier %s%s (%s over the window)", json_string_value(json_object_get(j, "tier")),
            json_is_true(json_object_get(j, "vip")) ? ", VIP club" : "",
            amount_text(ctx, json_integer_value(json_object_get(j, "tier_value")), a, sizeof a));
    int64_t keep = json_integer_value(json_object_get(j, "needed_to_keep"));
    if (keep > 0)
        fprintf(out, "; %s more to keep it (grace until %s)", amount_text(ctx, keep, b, sizeof b),
                or_dash(json_string_value(json_object_get(j, "grace_until"))));
    if (json_is_string(json_object_get(j, "next_tier")))
        fprintf(out, "; %s more to reach %s",
                amount_text(ctx, json_integer_value(json_object_get(j, "needed_for_next")), b,
                            sizeof b),
                json_string_value(json_object_get(j, "next_tier")));
    fprintf(out, "\nreferral code %s\n",
            or_dash(json_string_value(json_object_get(j, "referral_code"))));
}

int loy_cmd_balance(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t cid = loy_resolve_contact(ctx, crm_args_get(args, 0));
    loy_balance b;
    if (!cid)
        return CRM_ENOTFOUND;
    int rc = need_program(ctx);
    if (rc == CRM_OK)
        rc = loy_balance_get(ctx, cid, &b);
    if (rc != CRM_OK)
        return rc;
    json_t *j = balance_json(ctx, cid, &b);
    if (crm_io_json(io)) {
        loy_print_json(io, j);
        return CRM_OK;
    }
    print_balance(ctx, crm_io_out(io), j);
    json_decref(j);
    return CRM_OK;
}

/* ---- the card, as data (GET /v1/contacts/{id}/loyalty) ------------------------------ */

/* The ledger's entries of the contact, oldest first, times as epoch seconds. */
static int history_json(crm_plugin_ctx *ctx, int64_t cid, json_t *arr)
{
    crm_stmt *st = loy_prep(ctx,
                            "SELECT e.at, e.kind, e.points, o.reason, o.key FROM loyalty_entries e"
                            " JOIN loyalty_ops o ON o.id = e.op_id WHERE e.contact_id = ?1"
                            " ORDER BY e.at, e.id",
                            1, cid);
    if (!st)
        return loy_fail_db(ctx, "reading the history");
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW)
        json_array_append_new(arr, json_pack("{sI ss sI ss? ss}", "at",
                                             (json_int_t)crm_sql_column_int64(st, 0), "kind",
                                             crm_sql_column_text(st, 1), "points",
                                             (json_int_t)crm_sql_column_int64(st, 2), "reason",
                                             crm_sql_column_text(st, 3), "key",
                                             crm_sql_column_text(st, 4)));
    crm_sql_finalize(st);
    return step < 0 ? loy_fail_db(ctx, "reading the history") : CRM_OK;
}

int loy_card_json(crm_plugin_ctx *ctx, int64_t cid, json_t **out)
{
    loy_balance b;
    int rc = need_program(ctx);
    if (rc == CRM_OK)
        rc = loy_balance_get(ctx, cid, &b);
    if (rc != CRM_OK)
        return rc;
    json_t *j = balance_json(ctx, cid, &b), *hist = json_array();
    if ((rc = history_json(ctx, cid, hist)) != CRM_OK) {
        json_decref(j), json_decref(hist);
        return rc;
    }
    int64_t grace = loy_scalar(ctx, 0, "SELECT grace_until FROM loyalty_members WHERE"
                                       " contact_id = ?1", 1, cid);
    json_object_set_new(j, "program", json_string(PROG(ctx)->name));
    json_object_set_new(j, "point_name", json_string(PROG(ctx)->point_name));
    json_object_set_new(j, "member", json_boolean(loy_scalar(ctx, 0, "SELECT 1 FROM"
                                                             " loyalty_members WHERE contact_id"
                                                             " = ?1", 1, cid)));
    json_object_set_new(j, "balance", json_integer(b.approved));
    json_object_set_new(j, "grace_until", grace ? json_integer(grace) : json_null());
    json_object_set_new(j, "history", hist);
    *out = j;
    return CRM_OK;
}

/* ---- history ------------------------------------------------------------------- */

int loy_cmd_history(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t cid = loy_resolve_contact(ctx, crm_args_get(args, 0));
    if (!cid)
        return CRM_ENOTFOUND;
    crm_stmt *st = loy_prep(ctx,
                            "SELECT e.id, e.kind, e.points, e.at, e.lot_id, o.key, o.reason,"
                            " l.expires_at, l.approved_at, o.policy FROM loyalty_entries e"
                            " JOIN loyalty_ops o ON o.id = e.op_id"
                            " LEFT JOIN loyalty_lots l ON l.id = e.lot_id"
                            " WHERE e.contact_id = ?1 ORDER BY e.at, e.id",
                            1, cid);
    if (!st)
        return loy_fail_db(ctx, "reading the history");
    json_t *arr = json_array();
    FILE *out = crm_io_out(io);
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        char when[40], exp[40] = "";
        loy_time(ctx, crm_sql_column_int64(st, 3), when, sizeof when);
        if (crm_sql_column_type(st, 7) != CRM_SQL_NULL)
            loy_time(ctx, crm_sql_column_int64(st, 7), exp, sizeof exp);
        const char *kind = crm_sql_column_text(st, 1), *key = crm_sql_column_text(st, 5);
        const char *reason = crm_sql_column_text(st, 6), *policy = crm_sql_column_text(st, 9);
        int64_t lot = crm_sql_column_type(st, 4) == CRM_SQL_NULL ? 0 : crm_sql_column_int64(st, 4);
        if (crm_io_json(io)) {
            json_t *e = json_pack("{sI ss sI ss ss}", "id", (json_int_t)crm_sql_column_int64(st, 0),
                                  "kind", kind, "points", (json_int_t)crm_sql_column_int64(st, 2),
                                  "at", when, "key", key);
            json_object_set_new(e, "lot_id", lot ? json_integer(lot) : json_null());
            json_object_set_new(e, "reason", reason ? json_string(reason) : json_null());
            json_object_set_new(e, "lot_expires_at", exp[0] ? json_string(exp) : json_null());
            json_object_set_new(e, "policy", policy ? json_string(policy) : json_null());
            json_array_append_new(arr, e);
        } else {
            fprintf(out, "%s  %-8s %+7lld  lot %-5s %s%s%s%s%s\n", when, kind,
                    (long long)crm_sql_column_int64(st, 2), lot ? "" : "-", key,
                    reason ? "  " : "", reason ? reason : "", policy ? "  policy " : "",
                    policy ? policy : "");
            if (lot)
                fprintf(out, "%*slot %lld%s%s\n", 2, "", (long long)lot, exp[0] ? " expires " : "",
                        exp);
        }
    }
    crm_sql_finalize(st);
    if (step < 0) {
        json_decref(arr);
        return loy_fail_db(ctx, "reading the history");
    }
    if (crm_io_json(io))
        loy_print_json(io, arr);
    else
        json_decref(arr);
    return CRM_OK;
}

/* ---- earn, adjust ------------------------------------------------------------------ */

typedef struct manual {
    int64_t cid, points, at;
    const char *reason, *key, *kind;
} manual;

static int manual_run(crm_plugin_ctx *ctx, void *ud)
{
    manual *m = ud;
    int done;
    if (m->points > 0) {
        int64_t exp = PROG(ctx)->expire_after ? m->at + PROG(ctx)->expire_after : 0;
        int rc = loy_earn(ctx, m->cid, m->points, m->key, m->kind, m->reason, 0, m->at, m->at, exp,
                          &done);
        return rc == CRM_OK ? loy_tier_update(ctx, m->cid, m->at) : rc;
    }
    return loy_draw(ctx, m->cid, -m->points, m->key, "adjust", m->reason, m->at, NULL);
}

static int manual_cmd(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                      const char *kind)
{
    manual m = {loy_resolve_contact(ctx, crm_args_get(args, 0)), loy_opt_int(args, "points", 0),
                crm_now(ctx), loy_opt(args, "reason"), loy_opt(args, "key"), kind};
    if (!m.cid)
        return CRM_ENOTFOUND;
    if (m.points == 0 || (m.points < 0 && !strcmp(kind, "earn"))) {
        crm_set_error(ctx, "--points: expected a %s number of points, not %lld",
                      strcmp(kind, "earn") ? "non-zero" : "positive", (long long)m.points);
        return CRM_EUSAGE;
    }
    int rc = need_program(ctx);
    int existed = rc == CRM_OK && loy_op_exists(ctx, m.key, NULL);
    if (rc == CRM_OK && !existed)
        rc = in_tx(ctx, manual_run, &m);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), crm_io_json(io) ? "{\"key\":\"%s\",\"replayed\":%s}\n"
                                                : "%s%s\n",
                crm_io_json(io) ? m.key : existed ? "already recorded: " : "recorded: ",
                crm_io_json(io) ? (existed ? "true" : "false") : m.key);
    return rc;
}

int loy_cmd_earn(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return manual_cmd(ctx, io, args, "earn");
}

int loy_cmd_adjust(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return manual_cmd(ctx, io, args, "adjust");
}

/* ---- redeem ---------------------------------------------------------------------------- */

typedef struct redeem_req {
    int64_t cid, at, rid;
    const char *reward;
    char key[128];
} redeem_req;

static int redeem_run(crm_plugin_ctx *ctx, void *ud)
{
    redeem_req *r = ud;
    return loy_redeem(ctx, r->cid, r->reward, r->key, r->at, &r->rid);
}

int loy_cmd_redeem(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    redeem_req r = {loy_resolve_contact(ctx, crm_args_get(args, 0)), crm_now(ctx), 0,
                    crm_args_get(args, 1), ""};
    if (!r.cid)
        return CRM_ENOTFOUND;
    const char *key = loy_opt(args, "key");
    int rc = need_program(ctx);
    if (rc != CRM_OK)
        return rc;
    /* without --key each call is a new redemption: the key counts them */
    if (key)
        snprintf(r.key, sizeof r.key, "redeem:%s", key);
    else
        snprintf(r.key, sizeof r.key, "redeem:%lld:%s:%lld", (long long)r.cid, r.reward,
                 (long long)loy_scalar(ctx, 0, "SELECT count(*) + 1 FROM loyalty_redemptions"
                                               " WHERE contact_id = ?1", 1, r.cid));
    rc = in_tx(ctx, redeem_run, &r);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = loy_prep(ctx,
                            "SELECT r.reward, r.kind, r.cost, r.value, v.code, v.expires_at,"
                            " r.cause FROM loyalty_redemptions r LEFT JOIN loyalty_vouchers v"
                            " ON v.redemption_id = r.id WHERE r.id = ?1",
                            1, r.rid);
    if (!st || crm_sql_step(st) != CRM_SQL_ROW) {
        crm_sql_finalize(st);
        return loy_fail_db(ctx, "reading the redemption");
    }
    char exp[40] = "", money[64];
    if (crm_sql_column_type(st, 5) != CRM_SQL_NULL)
        loy_time(ctx, crm_sql_column_int64(st, 5), exp, sizeof exp);
    const char *code = crm_sql_column_text(st, 4), *cause = crm_sql_column_text(st, 6);
    loy_money(ctx, crm_sql_column_int64(st, 3), money, sizeof money);
    if (crm_io_json(io)) {
        json_t *j = json_pack("{sI ss ss sI}", "redemption_id", (json_int_t)r.rid, "reward",
                              crm_sql_column_text(st, 0), "kind", crm_sql_column_text(st, 1),
                              "cost", (json_int_t)crm_sql_column_int64(st, 2));
        json_object_set_new(j, "value", json_integer(crm_sql_column_int64(st, 3)));
        json_object_set_new(j, "code", code ? json_string(code) : json_null());
        json_object_set_new(j, "expires_at", exp[0] ? json_string(exp) : json_null());
        json_object_set_new(j, "cause", cause ? json_string(cause) : json_null());
        loy_print_json(io, j);
    } else {
        fprintf(crm_io_out(io), "redeemed %s (%s) for %lld %s", crm_sql_column_text(st, 0),
                crm_sql_column_text(st, 1), (long long)crm_sql_column_int64(st, 2),
                PROG(ctx)->point_name);
        if (code)
            fprintf(crm_io_out(io), ": voucher %s worth %s%s%s", code, money,
                    exp[0] ? ", valid until " : "", exp);
        if (cause)
            fprintf(crm_io_out(io), ": %s donated to %s", money, cause);
        fputc('\n', crm_io_out(io));
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

/* ---- refund (partial) ------------------------------------------------------------------- */

typedef struct refund_req {
    int64_t order, amount, at, cum, total, cid;
    char key[128];
} refund_req;

static int refund_run(crm_plugin_ctx *ctx, void *ud)
{
    refund_req *r = ud;
    int rc = loy_run(ctx, "DELETE FROM loyalty_order_refunds WHERE order_id = ?1", 1, r->order);
    if (rc == CRM_OK)
        rc = loy_run(ctx, "INSERT INTO loyalty_order_refunds(order_id, contact_id, refunded,"
                          " total) VALUES(?1, ?2, ?3, ?4)", 4, r->order, r->cid, r->cum, r->total);
    if (rc == CRM_OK)
        rc = loy_reverse_order(ctx, r->order, r->cum, r->total, r->key, r->at);
    if (rc == CRM_OK)
        rc = loy_tier_update(ctx, r->cid, r->at);
    return rc;
}

int loy_cmd_refund(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value amount;
    refund_req r = {strtoll(crm_args_get(args, 0), NULL, 10), 0, crm_now(ctx), 0, 0, 0, ""};
    int rc = need_program(ctx);
    if (rc != CRM_OK)
        return rc;
    r.cid = loy_scalar(ctx, 0, "SELECT contact_id FROM orders WHERE id = ?1", 1, r.order);
    r.total = loy_scalar(ctx, 0, "SELECT total FROM orders WHERE id = ?1", 1, r.order);
    if (!r.cid) {
        crm_set_error(ctx, "no order %s (give the order's id, see crm order list)",
                      crm_args_get(args, 0));
        return CRM_ENOTFOUND;
    }
    crm_args_option(args, "amount", &amount);
    if (amount.i <= 0 || strcmp(amount.currency, PROG(ctx)->currency) != 0) {
        crm_set_error(ctx, "--amount: expected a positive amount in %s", PROG(ctx)->currency);
        return CRM_EUSAGE;
    }
    int64_t before = loy_scalar(ctx, 0, "SELECT refunded FROM loyalty_order_refunds WHERE"
                                        " order_id = ?1", 1, r.order);
    r.cum = before + amount.i > r.total ? r.total : before + amount.i;
    const char *key = loy_opt(args, "key");
    if (key) /* the key names the refund: replayed, its first amount stands */
        snprintf(r.key, sizeof r.key, "refund:%s", key);
    else
        snprintf(r.key, sizeof r.key, "refund:%lld:%lld", (long long)r.order, (long long)r.cum);
    int existed = loy_op_exists(ctx, r.key, NULL);
    if (!existed)
        rc = in_tx(ctx, refund_run, &r);
    if (rc == CRM_OK) {
        char m[64], t[64];
        fprintf(crm_io_out(io), "%s order %lld: %s of %s refunded\n",
                existed ? "already recorded:" : "reversed", (long long)r.order,
                loy_money(ctx, r.cum, m, sizeof m), loy_money(ctx, r.total, t, sizeof t));
    }
    return rc;
}

/* ---- check, report, rewards ------------------------------------------------------------ */

int loy_cmd_check(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    int64_t problems = 0;
    int rc = loy_check(ctx, crm_io_out(io), &problems);
    if (rc != CRM_OK)
        return rc;
    int64_t lots = loy_scalar(ctx, 0, "SELECT count(*) FROM loyalty_lots", 0);
    int64_t entries = loy_scalar(ctx, 0, "SELECT count(*) FROM loyalty_entries", 0);
    if (problems) {
        crm_set_error(ctx, "the ledger breaks %lld invariant rows (see above)",
                      (long long)problems);
        return CRM_EINVAL;
    }
    fprintf(crm_io_out(io), "ledger ok: %lld lots, %lld entries\n", (long long)lots,
            (long long)entries);
    return CRM_OK;
}

int loy_cmd_report(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    json_t *j = NULL;
    int rc = need_program(ctx);
    if (rc == CRM_OK)
        rc = loy_report_json(ctx, crm_now(ctx), &j);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io)) {
        loy_print_json(io, j);
        return CRM_OK;
    }
    FILE *out = crm_io_out(io);
    const char *k;
    json_t *v;
    fprintf(out, "members per tier:");
    json_object_foreach(json_object_get(j, "members_per_tier"), k, v)
        fprintf(out, " %s %lld", k, (long long)json_integer_value(v));
    fprintf(out, "\nliability %s (%lld %s), breakage %s\n",
            json_string_value(json_object_get(j, "liability_text")),
            (long long)json_integer_value(json_object_get(j, "outstanding_points")),
            PROG(ctx)->point_name, json_string_value(json_object_get(j, "breakage_text")));
    size_t i;
    fprintf(out, "month    earned spent expired\n");
    json_array_foreach(json_object_get(j, "months"), i, v)
        fprintf(out, "%s %6lld %5lld %7lld\n", json_string_value(json_object_get(v, "month")),
                (long long)json_integer_value(json_object_get(v, "earned")),
                (long long)json_integer_value(json_object_get(v, "spent")),
                (long long)json_integer_value(json_object_get(v, "expired")));
    json_array_foreach(json_object_get(j, "redemptions"), i, v)
        fprintf(out, "reward %s: %lld redeemed\n", json_string_value(json_object_get(v, "reward")),
                (long long)json_integer_value(json_object_get(v, "count")));
    json_array_foreach(json_object_get(j, "donations"), i, v)
        fprintf(out, "cause %s: %s\n", json_string_value(json_object_get(v, "cause")),
                json_string_value(json_object_get(v, "amount_text")));
    fprintf(out, "repurchase rate: members %s, non-members %s\n",
            json_string_value(json_object_get(j, "repurchase_members_text")),
            json_string_value(json_object_get(j, "repurchase_non_members_text")));
    json_decref(j);
    return CRM_OK;
}

int loy_cmd_rewards(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    json_t *arr = json_array();
    for (size_t i = 0; i < PROG(ctx)->nrewards; i++) {
        const loy_reward *r = &PROG(ctx)->rewards[i];
        int64_t used = 0;
        crm_stmt *st = NULL;
        if (crm_sql_prepare(ctx, "SELECT count(*) FROM loyalty_redemptions WHERE reward = ?1",
                            &st) == CRM_OK) {
            crm_sql_bind_text(st, 1, r->name);
            if (crm_sql_step(st) == CRM_SQL_ROW)
                used = crm_sql_column_int64(st, 0);
            crm_sql_finalize(st);
        }
        json_t *e = json_pack("{ss ss sI sI sb}", "name", r->name, "kind", loy_kind_name(r->kind),
                              "cost", (json_int_t)r->cost, "redeemed", (json_int_t)used, "vip",
                              r->vip_only);
        json_object_set_new(e, "stock_left", r->stock < 0 ? json_null()
                                                          : json_integer(r->stock - used));
        json_array_append_new(arr, e);
        char stock[32] = "";
        if (r->stock >= 0)
            snprintf(stock, sizeof stock, ", %lld left", (long long)(r->stock - used));
        if (!crm_io_json(io))
            fprintf(crm_io_out(io), "%-12s %-13s %6lld %s  %lld redeemed%s%s\n", r->name,
                    loy_kind_name(r->kind), (long long)r->cost, PROG(ctx)->point_name,
                    (long long)used, stock, r->vip_only ? "  VIP only" : "");
    }
    if (crm_io_json(io))
        loy_print_json(io, arr);
    else
        json_decref(arr);
    return CRM_OK;
}

/* ---- referrals ---------------------------------------------------------------------------- */

typedef struct refer_req {
    int64_t cid, at, id;
    const char *code;
} refer_req;

static int refer_run(crm_plugin_ctx *ctx, void *ud)
{
    refer_req *r = ud;
    return loy_referral_add(ctx, r->cid, r->code, r->at, &r->id);
}

int loy_cmd_refer(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    refer_req r = {loy_resolve_contact(ctx, crm_args_get(args, 0)), crm_now(ctx), 0,
                   loy_opt(args, "code")};
    if (!r.cid)
        return CRM_ENOTFOUND;
    int rc = need_program(ctx);
    if (rc == CRM_OK)
        rc = in_tx(ctx, refer_run, &r);
    if (rc == CRM_OK) {
        int64_t refused = loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_referrals WHERE id = ?1 AND"
                                             " status = 'refused'", 1, r.id);
        fprintf(crm_io_out(io), "referral %lld recorded%s\n", (long long)r.id,
                refused ? ": refused (self_referral)"
                        : ": both sides earn after the first paid order's return window");
    }
    return rc;
}

int loy_cmd_referrals(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int suspicious = loy_flag(args, "suspicious");
    crm_stmt *st = loy_prep(ctx,
                            "SELECT id, referrer_id, contact_id, code, status, reason, order_id,"
                            " created_at FROM loyalty_referrals WHERE ?1 = 0 OR status = 'refused'"
                            " ORDER BY id",
                            1, (int64_t)suspicious);
    if (!st)
        return loy_fail_db(ctx, "reading the referrals");
    json_t *arr = json_array();
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        const char *reason = crm_sql_column_text(st, 5);
        json_t *e = json_pack("{sI sI sI ss ss}", "id", (json_int_t)crm_sql_column_int64(st, 0),
                              "referrer_id", (json_int_t)crm_sql_column_int64(st, 1), "contact_id",
                              (json_int_t)crm_sql_column_int64(st, 2), "code",
                              crm_sql_column_text(st, 3), "status", crm_sql_column_text(st, 4));
        json_object_set_new(e, "reason", reason ? json_string(reason) : json_null());
        json_object_set_new(e, "order_id", crm_sql_column_type(st, 6) == CRM_SQL_NULL
                                               ? json_null()
                                               : json_integer(crm_sql_column_int64(st, 6)));
        if (!crm_io_json(io))
            fprintf(crm_io_out(io), "%lld  referrer %lld -> contact %lld  %s%s%s\n",
                    (long long)crm_sql_column_int64(st, 0), (long long)crm_sql_column_int64(st, 1),
                    (long long)crm_sql_column_int64(st, 2), crm_sql_column_text(st, 4),
                    reason ? ": " : "", reason ? reason : "");
        json_array_append_new(arr, e);
    }
    crm_sql_finalize(st);
    if (crm_io_json(io))
        loy_print_json(io, arr);
    else
        json_decref(arr);
    return step < 0 ? loy_fail_db(ctx, "reading the referrals") : CRM_OK;
}

int loy_cmd_vip(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    int64_t now = crm_now(ctx);
    crm_stmt *st = loy_prep(ctx, "SELECT DISTINCT contact_id FROM orders WHERE status = 'paid'"
                                 " ORDER BY contact_id", 0);
    if (!st)
        return loy_fail_db(ctx, "reading the customers");
    json_t *arr = json_array();
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t cid = crm_sql_column_int64(st, 0);
        if (loy_is_vip(ctx, cid, now))
            json_array_append_new(arr, json_integer(cid));
    }
    crm_sql_finalize(st);
    if (step < 0) {
        json_decref(arr);
        return loy_fail_db(ctx, "reading the customers");
    }
    if (crm_io_json(io)) {
        loy_print_json(io, arr);
        return CRM_OK;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        fprintf(crm_io_out(io), "%lld\n", (long long)json_integer_value(v));
    json_decref(arr);
    return CRM_OK;
}

static int join_run(crm_plugin_ctx *ctx, void *ud)
{
    return loy_member_ensure(ctx, *(int64_t *)ud, crm_now(ctx));
}

int loy_cmd_join(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t cid = loy_resolve_contact(ctx, crm_args_get(args, 0));
    if (!cid)
        return CRM_ENOTFOUND;
    int rc = need_program(ctx);
    int was = loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_members WHERE contact_id = ?1", 1, cid);
    if (rc == CRM_OK && !was)
        rc = in_tx(ctx, join_run, &cid);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "contact %lld %s\n", (long long)cid,
                was ? "is already a member" : "joined the program");
    return rc;
}

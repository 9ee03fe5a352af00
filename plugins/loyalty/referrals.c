/* loyalty plugin — referrals: each member's code, a referee recorded with
 * it, and at the approval of the referee's order (after its return window)
 * the fraud checks, each refusal recorded with its reason, before both
 * sides earn. The same-person check compares the two contacts the kernel
 * returns (contact_get_json): email with dots and +tags folded, phone,
 * street and postal code. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

/* loyalty.referral_rewarded, or loyalty.referral_refused with the reason. */
static int emit_decision(crm_plugin_ctx *ctx, int64_t rid, int64_t referrer, int64_t cid,
                         const char *why)
{
    json_t *j = json_pack("{sI sI sI ss?}", "referral_id", (json_int_t)rid, "referrer_id",
                          (json_int_t)referrer, "contact_id", (json_int_t)cid, "reason", why);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    int rc = s ? crm_emit_event(ctx, why ? "loyalty.referral_refused" : "loyalty.referral_rewarded",
                                s)
               : CRM_ENOMEM;
    free(s);
    return rc;
}

int loy_referral_add(crm_plugin_ctx *ctx, int64_t referee, const char *code, int64_t at,
                     int64_t *id)
{
    char up[64];
    size_t i = 0;
    for (; code[i] && i + 1 < sizeof up; i++)
        up[i] = (char)toupper((unsigned char)code[i]);
    up[i] = 0;
    crm_stmt *st = NULL;
    int64_t referrer = 0;
    if (crm_sql_prepare(ctx, "SELECT contact_id FROM loyalty_members WHERE referral_code = ?1",
                        &st) == CRM_OK) {
        crm_sql_bind_text(st, 1, up);
        if (crm_sql_step(st) == CRM_SQL_ROW)
            referrer = crm_sql_column_int64(st, 0);
        crm_sql_finalize(st);
    }
    if (!referrer) {
        crm_set_error(ctx, "no member has referral code '%s' (see crm loyalty balance)", code);
        return CRM_ENOTFOUND;
    }
    if (loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_referrals WHERE contact_id = ?1", 1, referee)) {
        crm_set_error(ctx, "contact %lld was already referred", (long long)referee);
        return CRM_EEXISTS;
    }
    int self = referrer == referee;
    st = loy_prep(ctx,
                  "INSERT INTO loyalty_referrals(referrer_id, contact_id, created_at, code, status,"
                  " reason, decided_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  3, referrer, referee, at);
    if (!st)
        return loy_fail_db(ctx, "recording the referral");
    crm_sql_bind_text(st, 4, up);
    crm_sql_bind_text(st, 5, self ? "refused" : "pending");
    if (self) {
        crm_sql_bind_text(st, 6, "self_referral");
        crm_sql_bind_int64(st, 7, at);
    } else {
        crm_sql_bind_null(st, 6);
        crm_sql_bind_null(st, 7);
    }
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return loy_fail_db(ctx, "recording the referral");
    *id = crm_sql_last_insert_id(ctx);
    return self ? emit_decision(ctx, *id, referrer, referee, "self_referral") : CRM_OK;
}

/* Field `key` of a contact's JSON, lower-cased, "" when absent. */
static void field(crm_plugin_ctx *ctx, const char *json, const char *key, char *buf, size_t size)
{
    if (!json || crm_json_get_string(ctx, json, key, buf, size) != CRM_OK)
        buf[0] = 0;
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* An email's mailbox as a provider delivers it: dots and "+tag" dropped
 * from the local part (a.b+x@ and ab@ reach the same person). */
static void fold_email(const char *in, char *out, size_t size)
{
    const char *at = strchr(in, '@');
    size_t n = 0;
    int tag = 0;
    for (const char *p = in; *p && n + 1 < size; p++) {
        if (at && p < at) {
            if (*p == '+')
                tag = 1;
            if (tag || *p == '.')
                continue;
        }
        out[n++] = *p;
    }
    out[n] = 0;
}

/* Why two contacts look like one person ("same_email", "same_phone",
 * "same_address"), or NULL. */
static const char *same_person(crm_plugin_ctx *ctx, int64_t a, int64_t b)
{
    char *ja = NULL, *jb = NULL;
    const char *why = NULL;
    if (crm_contact_get_json(ctx, a, &ja) != CRM_OK || crm_contact_get_json(ctx, b, &jb) != CRM_OK)
        goto cleanup;
    char x[256], y[256], fx[256], fy[256];
    field(ctx, ja, "email", x, sizeof x);
    field(ctx, jb, "email", y, sizeof y);
    fold_email(x, fx, sizeof fx);
    fold_email(y, fy, sizeof fy);
    if (fx[0] && !strcmp(fx, fy)) {
        why = "same_email";
        goto cleanup;
    }
    field(ctx, ja, "phone", x, sizeof x);
    field(ctx, jb, "phone", y, sizeof y);
    if (x[0] && !strcmp(x, y)) {
        why = "same_phone";
        goto cleanup;
    }
    field(ctx, ja, "street", x, sizeof x);
    field(ctx, jb, "street", y, sizeof y);
    field(ctx, ja, "postal_code", fx, sizeof fx);
    field(ctx, jb, "postal_code", fy, sizeof fy);
    if (x[0] && !strcmp(x, y) && !strcmp(fx, fy))
        why = "same_address";
cleanup:
    crm_free(ctx, ja);
    crm_free(ctx, jb);
    return why;
}

/* The first failed fraud check, or NULL. */
static const char *fraud(crm_plugin_ctx *ctx, int64_t referrer, int64_t referee, int64_t order,
                         int64_t at)
{
    if (referrer == referee)
        return "self_referral";
    if (loy_scalar(ctx, 0,
                   "SELECT count(*) FROM orders o, orders t WHERE t.id = ?2 AND"
                   " o.contact_id = ?1 AND o.status IN ('paid', 'refunded') AND o.id <> t.id AND"
                   " (o.placed_at < t.placed_at OR (o.placed_at = t.placed_at AND o.id < t.id))",
                   2, referee, order) > 0)
        return "not_first_order";
    const char *same = same_person(ctx, referrer, referee);
    if (same)
        return same;
    if (PROG(ctx)->referral_per_week > 0 &&
        loy_scalar(ctx, 0,
                   "SELECT count(*) FROM loyalty_referrals WHERE referrer_id = ?1 AND"
                   " status = 'rewarded' AND decided_at > ?2",
                   2, referrer, at - 7 * (int64_t)LOY_DAY) >= PROG(ctx)->referral_per_week)
        return "max_per_week";
    return NULL;
}

static int reward_side(crm_plugin_ctx *ctx, int64_t rid, int64_t cid, int64_t points,
                       const char *side, int64_t at)
{
    if (points <= 0)
        return CRM_OK;
    char key[64];
    int done;
    snprintf(key, sizeof key, "referral:%lld:%s", (long long)rid, side);
    int64_t exp = PROG(ctx)->expire_after ? at + PROG(ctx)->expire_after : 0;
    return loy_earn(ctx, cid, points, key, "referral", side, 0, at, at, exp, &done);
}

int loy_referral_on_approved(crm_plugin_ctx *ctx, int64_t cid, int64_t order_id, int64_t at)
{
    int64_t rid = loy_scalar(ctx, 0, "SELECT id FROM loyalty_referrals WHERE contact_id = ?1 AND"
                                     " status = 'pending'", 1, cid);
    if (!rid)
        return CRM_OK;
    if (!loy_scalar(ctx, 0, "SELECT 1 FROM orders WHERE id = ?1 AND status = 'paid'", 1,
                    order_id))
        return CRM_OK; /* refunded meanwhile: the referral waits */
    int64_t referrer = loy_scalar(ctx, 0, "SELECT referrer_id FROM loyalty_referrals WHERE"
                                          " id = ?1", 1, rid);
    const char *why = fraud(ctx, referrer, cid, order_id, at);
    crm_stmt *st = loy_prep(ctx,
                            "UPDATE loyalty_referrals SET status = ?3, reason = ?4,"
                            " order_id = ?2, decided_at = ?5 WHERE id = ?1",
                            2, rid, order_id);
    if (!st)
        return loy_fail_db(ctx, "deciding the referral");
    crm_sql_bind_text(st, 3, why ? "refused" : "rewarded");
    if (why)
        crm_sql_bind_text(st, 4, why);
    else
        crm_sql_bind_null(st, 4);
    crm_sql_bind_int64(st, 5, at);
    int rc = crm_sql_step(st) < 0 ? loy_fail_db(ctx, "deciding the referral") : CRM_OK;
    crm_sql_finalize(st);
    if (rc == CRM_OK && !why)
        rc = reward_side(ctx, rid, referrer, PROG(ctx)->referrer_points, "referrer", at);
    if (rc == CRM_OK && !why)
        rc = reward_side(ctx, rid, cid, PROG(ctx)->referee_points, "referee", at);
    return rc == CRM_OK ? emit_decision(ctx, rid, referrer, cid, why) : rc;
}

/* loyalty plugin — its HTTP routes (SDK 1.4 register_route): a contact's
 * loyalty card and redeeming points, thin glue over loyalty_cmd.c, book.c
 * and rewards.c. The redemption runs inside the transaction `crm serve`
 * opened for the request, at the request's clock. */
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"
#include "crm/http_json.h"

/* The {id} path parameter as an existing contact's id. */
static int contact_param(crm_plugin_ctx *ctx, crm_http_exchange *x, int64_t *cid)
{
    int64_t id = 0;
    int rc = crm_http_id_param(x, "id", "contact", &id);
    if (rc != CRM_OK)
        return rc;
    *cid = loy_scalar(ctx, 0, "SELECT id FROM contacts WHERE id = ?1", 1, id);
    if (!*cid)
        return crm_http_error(x, CRM_ENOTFOUND, "id", "no contact %lld", (long long)id);
    return CRM_OK;
}

/* The card, or the plugin's refusal (no program configured: 422). */
static int card(crm_plugin_ctx *ctx, crm_http_exchange *x, int64_t cid, json_t **out)
{
    int rc = loy_card_json(ctx, cid, out);
    return rc == CRM_OK ? rc : crm_http_error(x, rc, NULL, "%s", crm_last_error(ctx));
}

static int get_card(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    int64_t cid;
    json_t *out = NULL;
    int rc = contact_param(ctx, x, &cid);
    if (rc == CRM_OK)
        rc = card(ctx, x, cid, &out);
    return rc == CRM_OK ? crm_http_reply_json(x, 200, out) : rc;
}

/* ---- POST /v1/contacts/{id}/loyalty/redeem ------------------------------------------ */

/* What to redeem: a catalogue reward ({"reward"}), or points with a reason
 * ({"points", "reason"}). */
typedef struct redeem_body {
    const char *reward, *reason;
    int64_t points;
} redeem_body;

static int read_body(crm_http_exchange *x, json_t *o, redeem_body *r)
{
    static const char *const known[] = {"reward", "points", "reason", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key))
            i++;
        if (!known[i])
            return crm_http_error(x, CRM_EUSAGE, key, "unknown member '%s' in the request body",
                                  key);
        if (strcmp(key, "points") ? !json_is_string(v) : !json_is_integer(v))
            return crm_http_error(x, CRM_EUSAGE, key, "%s: expected %s", key,
                                  strcmp(key, "points") ? "a string" : "an integer");
    }
    r->reward = json_string_value(json_object_get(o, "reward"));
    r->reason = json_string_value(json_object_get(o, "reason"));
    r->points = json_integer_value(json_object_get(o, "points"));
    if (!r->reward == !json_object_get(o, "points"))
        return crm_http_error(x, CRM_EUSAGE, r->reward ? "points" : "reward",
                              "give either reward (a catalogue reward) or points and reason");
    if (!r->reward && r->points <= 0)
        return crm_http_error(x, CRM_EUSAGE, "points", "points: %lld is not a positive number",
                              (long long)r->points);
    if (!r->reward && (!r->reason || !*r->reason))
        return crm_http_error(x, CRM_EUSAGE, "reason", "reason: required with points");
    return CRM_OK;
}

/* Draws the points (or the reward's cost) FIFO under a new operation key; a
 * short balance or an ineligible reward is the plugin's refusal (422). */
static int redeem(crm_plugin_ctx *ctx, crm_http_exchange *x, int64_t cid, const redeem_body *r,
                  json_t **what)
{
    char key[96];
    int64_t at = crm_now(ctx), id = 0;
    snprintf(key, sizeof key, "api:redeem:%lld:%lld", (long long)cid,
             (long long)loy_scalar(ctx, 0, "SELECT coalesce(max(id), 0) + 1 FROM loyalty_ops", 0));
    int rc = CRM_OK;
    if (!r->reward &&
        !loy_scalar(ctx, 0, "SELECT 1 FROM loyalty_members WHERE contact_id = ?1", 1, cid)) {
        crm_set_error(ctx, "contact %lld is not a member yet (no points earned)", (long long)cid);
        rc = CRM_EINVAL;
    }
    if (rc == CRM_OK)
        rc = r->reward ? loy_redeem(ctx, cid, r->reward, key, at, &id)
                       : loy_draw(ctx, cid, r->points, key, "spend", r->reason, at, &id);
    if (rc != CRM_OK)
        return crm_http_error(x, rc == CRM_ENOTFOUND ? CRM_EINVAL : rc,
                              rc == CRM_ENOTFOUND ? "reward" : r->reward ? "reward" : "points",
                              "%s", crm_last_error(ctx));
    *what = r->reward ? json_pack("{ss sI sI}", "reward", r->reward, "redemption_id",
                                  (json_int_t)id, "points", (json_int_t)loy_find_reward(ctx,
                                                                                  r->reward)->cost)
                      : json_pack("{sI ss sI}", "points", (json_int_t)r->points, "reason",
                                  r->reason, "op_id", (json_int_t)id);
    json_object_set_new(*what, "key", json_string(key));
    json_object_set_new(*what, "at", json_integer(at));
    return CRM_OK;
}

static int post_redeem(crm_plugin_ctx *ctx, crm_http_exchange *x, void *ud)
{
    (void)ud;
    int64_t cid;
    redeem_body r = {0};
    const char *text = crm_http_body(x);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL, *what = NULL, *out = NULL;
    int rc = contact_param(ctx, x, &cid);
    if (rc == CRM_OK && !json_is_object(o))
        rc = crm_http_error(x, CRM_EUSAGE, NULL, "expected a JSON object body");
    if (rc == CRM_OK && !LOY(ctx)->configured)
        rc = card(ctx, x, cid, &out); /* refused: no program */
    if (rc == CRM_OK)
        rc = read_body(x, o, &r);
    if (rc == CRM_OK)
        rc = redeem(ctx, x, cid, &r, &what);
    json_decref(o); /* after redeem: r's strings are o's */
    if (rc == CRM_OK)
        rc = card(ctx, x, cid, &out);
    if (rc != CRM_OK) {
        json_decref(what);
        return rc;
    }
    json_object_set_new(out, "redeemed", what);
    return crm_http_reply_json(x, 201, out);
}

/* ---- registration ---------------------------------------------------------------- */

#define CARD_SCHEMA                                                                            \
    "{\"type\":\"object\",\"required\":[\"contact_id\",\"program\",\"tier\",\"balance\","      \
    "\"history\"],\"properties\":{\"contact_id\":{\"type\":\"integer\"},"                      \
    "\"program\":{\"type\":\"string\"},\"point_name\":{\"type\":\"string\"},"                  \
    "\"member\":{\"type\":\"boolean\"},\"tier\":{\"type\":\"string\"},"                        \
    "\"vip\":{\"type\":\"boolean\"},\"balance\":{\"type\":\"integer\",\"description\":"        \
    "\"approved points\"},\"approved\":{\"type\":\"integer\"},\"pending\":{\"type\":"          \
    "\"integer\"},\"spent\":{\"type\":\"integer\"},\"expired\":{\"type\":\"integer\"},"        \
    "\"reversed\":{\"type\":\"integer\"},\"lifetime\":{\"type\":\"integer\"},"                 \
    "\"debt\":{\"type\":\"integer\"},\"tier_value\":{\"type\":\"integer\"},"                   \
    "\"next_tier\":{\"type\":[\"string\",\"null\"]},\"grace_until\":{\"type\":[\"integer\","   \
    "\"null\"]},\"referral_code\":{\"type\":\"string\"},\"history\":{\"type\":\"array\","      \
    "\"items\":{\"type\":\"object\",\"properties\":{\"at\":{\"type\":\"integer\"},"            \
    "\"kind\":{\"type\":\"string\"},\"points\":{\"type\":\"integer\"},"                        \
    "\"reason\":{\"type\":[\"string\",\"null\"]},\"key\":{\"type\":\"string\"}}}}}}"

static const crm_route_spec routes[] = {
    {"GET", "/v1/contacts/{id}/loyalty", "*", get_card,
     "the contact's loyalty card: balance, tier, VIP, the ledger's history", NULL, CARD_SCHEMA,
     200},
    {"POST", "/v1/contacts/{id}/loyalty/redeem", "manager,admin", post_redeem,
     "redeem points with a reason ({points, reason}) or a catalogue reward ({reward}); answers "
     "the card with \"redeemed\"",
     "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
     "\"points\":{\"type\":\"integer\",\"minimum\":1},\"reason\":{\"type\":\"string\"},"
     "\"reward\":{\"type\":\"string\"}}}",
     CARD_SCHEMA, 201},
};

int loy_routes_register(crm_plugin_ctx *ctx)
{
    if (!CRM_API_HAS(ctx, register_route))
        return CRM_OK; /* an older crm: the plugin works without its routes */
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = crm_register_route(ctx, &routes[i], NULL);
    return rc;
}

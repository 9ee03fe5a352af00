/* loyalty plugin — its crm.yaml section: the declared schema (checked by the
 * host with file:line:column) read into the state at start, with the
 * plugin's own checks pointing at the node (crm_config_error). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "loy_int.h"

#define END {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0}

static const crm_config_field point_fields[] = {
    {"name", CRM_CONFIG_STRING, 0, "points", "what the points are called", NULL, 0, 0, 0},
    {"value", CRM_CONFIG_MONEY, 0, "0.01", "what one point is worth (liability)", NULL, 0, 0, 0},
    END,
};
static const crm_config_field earn_fields[] = {
    {"on", CRM_CONFIG_STRING, 0, NULL, "the event that earns: order.paid", NULL, 0, 0, 0},
    {"per", CRM_CONFIG_MONEY, 0, NULL, "order.paid: points per this amount paid", NULL, 0, 0, 0},
    {"points", CRM_CONFIG_INT, 0, NULL, "points per `per`, or per event", NULL, 0, 0, 1000000},
    {"lua", CRM_CONFIG_STRING, 0, NULL, "a score rule (rules: name or FILE:FN) on order.paid",
     NULL, 0, 0, 0},
    END,
};
static const crm_config_field level_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the tier's name", NULL, 0, 0, 0},
    {"min", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "amount (\"500 EUR\") or points to "
     "qualify", NULL, 0, 0, 0},
    {"multiplier", CRM_CONFIG_STRING, 0, "1", "earning multiplier while held (\"1.25\")", NULL, 0,
     0, 0},
    END,
};
static const crm_config_field tier_fields[] = {
    {"qualify_on", CRM_CONFIG_STRING, 0, "spent", "spent | points", NULL, 0, 0, 0},
    {"window", CRM_CONFIG_STRING, 0, "rolling_12_months", "rolling_12_months | calendar_year | "
     "anniversary", NULL, 0, 0, 0},
    {"grace", CRM_CONFIG_DURATION, 0, "30d", "time below a tier's minimum before a downgrade",
     NULL, 0, 0, 0},
    {"downgrade", CRM_CONFIG_STRING, 0, "one_down", "one_down | to_qualified", NULL, 0, 0, 0},
    {"levels", CRM_CONFIG_LIST, 0, NULL, "ascending tiers, the first is the floor", level_fields,
     CRM_CONFIG_MAP, 0, 0},
    END,
};
static const crm_config_field vip_fields[] = {
    {"top_percent", CRM_CONFIG_INT, 0, "0", "the top N % of customers by spend; 0 = no club",
     NULL, 0, 0, 100},
    {"window", CRM_CONFIG_STRING, 0, "rolling_12_months", "the spend window", NULL, 0, 0, 0},
    END,
};
static const crm_config_field reward_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the reward's name", NULL, 0, 0, 0},
    {"kind", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "voucher | free_product | "
     "free_shipping | experience | education | donation", NULL, 0, 0, 0},
    {"cost", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "points", NULL, 0, 1, 100000000},
    {"value", CRM_CONFIG_MONEY, 0, NULL, "voucher amount, or donation per redemption", NULL, 0, 0,
     0},
    {"valid_for", CRM_CONFIG_DURATION, 0, NULL, "voucher validity", NULL, 0, 0, 0},
    {"stock", CRM_CONFIG_INT, 0, NULL, "redemptions available; absent = unlimited", NULL, 0, 0,
     100000000},
    {"limit", CRM_CONFIG_INT, 0, "0", "most redemptions per contact; 0 = no limit", NULL, 0, 0,
     100000},
    {"tiers", CRM_CONFIG_LIST, 0, NULL, "the tiers that may redeem; absent = all", NULL,
     CRM_CONFIG_STRING, 0, 0},
    {"vip", CRM_CONFIG_BOOL, 0, "false", "only VIP club members", NULL, 0, 0, 0},
    {"cause", CRM_CONFIG_STRING, 0, NULL, "donation: the cause", NULL, 0, 0, 0},
    {"sku", CRM_CONFIG_STRING, 0, NULL, "free_product: the product", NULL, 0, 0, 0},
    END,
};
static const crm_config_field referral_fields[] = {
    {"referrer_points", CRM_CONFIG_INT, 0, "0", "points to the referrer", NULL, 0, 0, 1000000},
    {"referee_points", CRM_CONFIG_INT, 0, "0", "points to the referee", NULL, 0, 0, 1000000},
    {"max_per_week", CRM_CONFIG_INT, 0, "5", "rewarded referrals per referrer per 7 days", NULL,
     0, 0, 10000},
    END,
};
static const crm_config_field program_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the program's name", NULL, 0, 0, 0},
    {"point", CRM_CONFIG_MAP, 0, NULL, "the point's name and value", point_fields, 0, 0, 0},
    {"auto_enrol", CRM_CONFIG_BOOL, 0, "true", "a paying customer joins by their first paid order;"
     " false: only after crm loyalty join", NULL, 0, 0, 0},
    {"earn", CRM_CONFIG_LIST, 0, NULL, "earn rules", earn_fields, CRM_CONFIG_MAP, 0, 0},
    {"pending", CRM_CONFIG_DURATION, 0, "14d", "order points stay pending this long", NULL, 0, 0,
     0},
    {"expire_after", CRM_CONFIG_DURATION, 0, "365d", "a lot expires this long after earning; 0d "
     "= never", NULL, 0, 0, 0},
    {"warn_before", CRM_CONFIG_DURATION, 0, "30d", "expiry warning this long before; 0d = none",
     NULL, 0, 0, 0},
    {"clawback", CRM_CONFIG_STRING, 0, "negative_balance", "negative_balance | future_earnings",
     NULL, 0, 0, 0},
    {"tiers", CRM_CONFIG_MAP, 0, NULL, "tiers", tier_fields, 0, 0, 0},
    {"vip_club", CRM_CONFIG_MAP, 0, NULL, "the VIP club by rank", vip_fields, 0, 0, 0},
    {"rewards", CRM_CONFIG_LIST, 0, NULL, "the catalogue", reward_fields, CRM_CONFIG_MAP, 0, 0},
    {"referral", CRM_CONFIG_MAP, 0, NULL, "referral rewards", referral_fields, 0, 0, 0},
    END,
};

const crm_config_field loy_config_schema[] = {
    {"programs", CRM_CONFIG_LIST, 0, NULL, "loyalty programs (one today)", program_fields,
     CRM_CONFIG_MAP, 0, 0},
    END,
};

/* ---- tables of names ---------------------------------------------------------- */

typedef struct name_value {
    const char *name;
    int value;
} name_value;

static const name_value windows[] = {{"rolling_12_months", LOY_ROLLING_12_MONTHS},
                                     {"calendar_year", LOY_CALENDAR_YEAR},
                                     {"anniversary", LOY_ANNIVERSARY},
                                     {NULL, 0}};
static const name_value downgrades[] = {
    {"one_down", LOY_ONE_DOWN}, {"to_qualified", LOY_TO_QUALIFIED}, {NULL, 0}};
static const name_value clawbacks[] = {{"negative_balance", LOY_NEGATIVE_BALANCE},
                                       {"future_earnings", LOY_FUTURE_EARNINGS},
                                       {NULL, 0}};
static const name_value qualify[] = {{"spent", 0}, {"points", 1}, {NULL, 0}};
static const name_value kinds[] = {
    {"voucher", LOY_VOUCHER},       {"free_product", LOY_FREE_PRODUCT},
    {"free_shipping", LOY_FREE_SHIPPING}, {"experience", LOY_EXPERIENCE},
    {"education", LOY_EDUCATION},   {"donation", LOY_DONATION},
    {NULL, 0}};

const char *loy_kind_name(loy_reward_kind k)
{
    for (const name_value *n = kinds; n->name; n++)
        if (n->value == (int)k)
            return n->name;
    return "?";
}

/* Reads the word `key` of `map` into *out through `table`; absent keeps *out. */
static int word_of(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key,
                   const name_value *table, int *out)
{
    crm_value v;
    if (!map || crm_config_value(ctx, map, key, &v) != CRM_OK || !v.given || !v.text)
        return CRM_OK;
    char expected[160] = "";
    for (const name_value *n = table; n->name; n++) {
        if (!strcmp(n->name, v.text)) {
            *out = n->value;
            return CRM_OK;
        }
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s",
                 n == table ? "" : " | ", n->name);
    }
    return crm_config_error(ctx, crm_config_child(ctx, map, key), "'%s' is not one of %s", v.text,
                            expected);
}

/* A duration in seconds (calendar days or h/m/s); business days are refused:
 * the ledger counts calendar time. Absent keeps *out. */
static int duration_of(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key,
                       int64_t *out)
{
    crm_value v;
    if (!map || crm_config_value(ctx, map, key, &v) != CRM_OK || !v.given)
        return CRM_OK;
    if (v.unit == CRM_DURATION_BUSINESS_DAYS)
        return crm_config_error(ctx, crm_config_child(ctx, map, key),
                                "'%s': business days are not supported here (write e.g. 14d)",
                                v.text ? v.text : "");
    *out = v.unit == CRM_DURATION_DAYS ? v.i * LOY_DAY : v.i;
    return CRM_OK;
}

static int int_of(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key, int64_t *out)
{
    crm_value v;
    if (map && crm_config_value(ctx, map, key, &v) == CRM_OK && v.given)
        *out = v.i;
    return CRM_OK;
}

static void text_of(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key, char *buf,
                    size_t size)
{
    crm_value v;
    if (map && crm_config_value(ctx, map, key, &v) == CRM_OK && v.given && v.text)
        snprintf(buf, size, "%s", v.text);
}

/* Decimals of a currency, from the host's money format of one minor unit. */
static int currency_decimals(crm_plugin_ctx *ctx, const char *cur)
{
    char buf[64];
    if (crm_format_money(ctx, 1, cur, buf, sizeof buf) != CRM_OK)
        return 2;
    const char *dot = strchr(buf, '.');
    int d = 0;
    while (dot && isdigit((unsigned char)dot[1 + d]))
        d++;
    return d;
}

/* "1.25" -> 1250 thousandths; -1 when not a plain positive decimal. */
static int64_t parse_milli(const char *s)
{
    int64_t whole = 0, frac = 0, scale = 1000;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p) && whole < 1000000)
        whole = whole * 10 + (*p++ - '0');
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
    return *p ? -1 : whole * 1000 + frac;
}

/* "500 EUR", "500.00", "1500" into minor units of `cur` (money: digits and
 * an optional code that must be the program's currency) or whole points. */
static int64_t parse_min(crm_plugin_ctx *ctx, const char *s, int money, const char *cur)
{
    char num[32] = "", code[8] = "";
    if (sscanf(s, "%31s %7s", num, code) < 1)
        return -1;
    if (!money)
        return code[0] ? -1 : (parse_milli(num) >= 0 && !strchr(num, '.') ? parse_milli(num) / 1000 : -1);
    if (code[0] && strcmp(code, cur) != 0)
        return -1;
    int d = currency_decimals(ctx, cur);
    int64_t milli = parse_milli(num), f = 1;
    for (int i = 0; i < d; i++)
        f *= 10;
    if (milli < 0)
        return -1;
    return milli * f / 1000;
}

/* ---- the parts of a program ------------------------------------------------------ */

static int read_earn(crm_plugin_ctx *ctx, loy_program *p, const crm_config_node *list)
{
    for (size_t i = 0; i < crm_config_count(ctx, list); i++) {
        const crm_config_node *r = crm_config_item(ctx, list, i);
        char on[64] = "", lua[256] = "";
        int64_t points = 0;
        crm_value per;
        text_of(ctx, r, "on", on, sizeof on);
        text_of(ctx, r, "lua", lua, sizeof lua);
        int_of(ctx, r, "points", &points);
        int has_per = crm_config_value(ctx, r, "per", &per) == CRM_OK && per.given;
        if (lua[0]) {
            if (p->nlua == LOY_MAX_LUA)
                return crm_config_error(ctx, r, "at most %d lua rules", LOY_MAX_LUA);
            snprintf(p->lua[p->nlua++], sizeof p->lua[0], "%s", lua);
        } else if (!strcmp(on, "order.paid") && has_per) {
            if (per.i <= 0 || strcmp(per.currency, p->currency) != 0)
                return crm_config_error(ctx, crm_config_child(ctx, r, "per"),
                                        "expected a positive amount in %s", p->currency);
            p->earn_per = per.i;
            p->earn_points = points;
        } else if (!strcmp(on, "order.paid")) {
            p->order_points = points;
        } else if (!on[0]) {
            return crm_config_error(ctx, r, "an earn rule needs `on` (order.paid) or `lua`");
        } else {
            /* birthday, review, profile: events the kernel does not raise yet */
            crm_log(ctx, CRM_LOG_INFO, "earn rule on %s: no such event is raised yet; "
                    "use crm loyalty earn", on);
        }
    }
    return CRM_OK;
}

static int read_levels(crm_plugin_ctx *ctx, loy_program *p, const crm_config_node *list)
{
    size_t n = crm_config_count(ctx, list);
    if (n > LOY_MAX_LEVELS)
        return crm_config_error(ctx, list, "at most %d levels", LOY_MAX_LEVELS);
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *l = crm_config_item(ctx, list, i);
        loy_level *lv = &p->levels[i];
        char min[64] = "", mult[32] = "1";
        text_of(ctx, l, "name", lv->name, sizeof lv->name);
        text_of(ctx, l, "min", min, sizeof min);
        text_of(ctx, l, "multiplier", mult, sizeof mult);
        lv->min = parse_min(ctx, min, !p->qualify_on_points, p->currency);
        if (lv->min < 0)
            return crm_config_error(ctx, crm_config_child(ctx, l, "min"),
                                    p->qualify_on_points ? "'%s' is not a whole number of points"
                                                         : "'%s' is not an amount in %s",
                                    min, p->currency);
        if (i > 0 && lv->min <= p->levels[i - 1].min)
            return crm_config_error(ctx, crm_config_child(ctx, l, "min"),
                                    "levels must ascend (above %s's)", p->levels[i - 1].name);
        lv->mult_milli = parse_milli(mult);
        if (lv->mult_milli <= 0 || lv->mult_milli > 100000)
            return crm_config_error(ctx, crm_config_child(ctx, l, "multiplier"),
                                    "'%s' is not a multiplier such as 1.25", mult);
    }
    p->nlevels = n;
    return CRM_OK;
}

static int read_tiers(crm_plugin_ctx *ctx, loy_program *p, const crm_config_node *t)
{
    int q = 0, w = LOY_ROLLING_12_MONTHS, d = LOY_ONE_DOWN;
    int rc = word_of(ctx, t, "qualify_on", qualify, &q);
    if (rc == CRM_OK)
        rc = word_of(ctx, t, "window", windows, &w);
    if (rc == CRM_OK)
        rc = word_of(ctx, t, "downgrade", downgrades, &d);
    if (rc == CRM_OK)
        rc = duration_of(ctx, t, "grace", &p->grace);
    p->qualify_on_points = q;
    p->window = (loy_window)w;
    p->downgrade = (loy_downgrade)d;
    if (rc == CRM_OK && t)
        rc = read_levels(ctx, p, crm_config_child(ctx, t, "levels"));
    if (rc == CRM_OK && !p->nlevels) { /* one implicit floor */
        snprintf(p->levels[0].name, sizeof p->levels[0].name, "member");
        p->levels[0].mult_milli = 1000;
        p->nlevels = 1;
    }
    return rc;
}

static int read_reward(crm_plugin_ctx *ctx, loy_program *p, const crm_config_node *r,
                       loy_reward *rw)
{
    int kind = 0, rc = word_of(ctx, r, "kind", kinds, &kind);
    crm_value v;
    rw->kind = (loy_reward_kind)kind;
    rw->stock = -1;
    text_of(ctx, r, "name", rw->name, sizeof rw->name);
    text_of(ctx, r, "cause", rw->cause, sizeof rw->cause);
    text_of(ctx, r, "sku", rw->sku, sizeof rw->sku);
    int_of(ctx, r, "cost", &rw->cost);
    int_of(ctx, r, "stock", &rw->stock);
    int_of(ctx, r, "limit", &rw->per_contact);
    if (crm_config_value(ctx, r, "vip", &v) == CRM_OK)
        rw->vip_only = v.given && v.i;
    if (rc == CRM_OK)
        rc = duration_of(ctx, r, "valid_for", &rw->valid_for);
    if (rc == CRM_OK && crm_config_value(ctx, r, "value", &v) == CRM_OK && v.given) {
        if (strcmp(v.currency, p->currency) != 0)
            return crm_config_error(ctx, crm_config_child(ctx, r, "value"),
                                    "expected an amount in %s", p->currency);
        rw->value = v.i;
    }
    if (rc == CRM_OK && (rw->kind == LOY_VOUCHER || rw->kind == LOY_DONATION) && rw->value <= 0)
        return crm_config_error(ctx, r, "a %s needs a value", loy_kind_name(rw->kind));
    if (rc == CRM_OK && rw->kind == LOY_DONATION && !rw->cause[0])
        return crm_config_error(ctx, r, "a donation needs a cause");
    const crm_config_node *tiers = crm_config_child(ctx, r, "tiers");
    for (size_t i = 0; rc == CRM_OK && i < crm_config_count(ctx, tiers); i++) {
        const crm_config_node *t = crm_config_item(ctx, tiers, i);
        int idx = -1;
        if (crm_config_value(ctx, t, NULL, &v) == CRM_OK && v.text)
            for (size_t l = 0; l < p->nlevels; l++)
                if (!strcmp(p->levels[l].name, v.text))
                    idx = (int)l;
        if (idx < 0)
            return crm_config_error(ctx, t, "'%s' is not a tier of tiers.levels",
                                    v.text ? v.text : "");
        rw->tier_mask |= 1u << idx;
    }
    return rc;
}

static int read_rewards(crm_plugin_ctx *ctx, loy_program *p, const crm_config_node *list)
{
    size_t n = crm_config_count(ctx, list);
    if (n > LOY_MAX_REWARDS)
        return crm_config_error(ctx, list, "at most %d rewards", LOY_MAX_REWARDS);
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n; i++) {
        const crm_config_node *r = crm_config_item(ctx, list, i);
        rc = read_reward(ctx, p, r, &p->rewards[i]);
        for (size_t j = 0; rc == CRM_OK && j < i; j++)
            if (!strcmp(p->rewards[j].name, p->rewards[i].name))
                rc = crm_config_error(ctx, crm_config_child(ctx, r, "name"),
                                      "reward '%s' is declared twice", p->rewards[i].name);
    }
    p->nrewards = n;
    return rc;
}

static int read_program(crm_plugin_ctx *ctx, loy_program *p, const crm_config_node *n)
{
    const crm_config_node *point = crm_config_child(ctx, n, "point");
    crm_value v;
    const char *cur = crm_locale(ctx, "currency");
    snprintf(p->currency, sizeof p->currency, "%s", cur ? cur : "EUR");
    snprintf(p->point_name, sizeof p->point_name, "points");
    p->point_value = 1;
    p->pending = 14 * LOY_DAY;
    p->expire_after = 365 * LOY_DAY;
    p->warn_before = 30 * LOY_DAY;
    p->grace = 30 * LOY_DAY;
    p->referral_per_week = 5;
    text_of(ctx, n, "name", p->name, sizeof p->name);
    text_of(ctx, point, "name", p->point_name, sizeof p->point_name);
    if (point && crm_config_value(ctx, point, "value", &v) == CRM_OK && v.given) {
        snprintf(p->currency, sizeof p->currency, "%s", v.currency);
        p->point_value = v.i;
    }
    p->auto_enrol = 1;
    if (n && crm_config_value(ctx, n, "auto_enrol", &v) == CRM_OK && v.given)
        p->auto_enrol = (int)v.i;
    int claw = 0;
    int rc = read_earn(ctx, p, crm_config_child(ctx, n, "earn"));
    if (rc == CRM_OK)
        rc = duration_of(ctx, n, "pending", &p->pending);
    if (rc == CRM_OK)
        rc = duration_of(ctx, n, "expire_after", &p->expire_after);
    if (rc == CRM_OK)
        rc = duration_of(ctx, n, "warn_before", &p->warn_before);
    if (rc == CRM_OK)
        rc = word_of(ctx, n, "clawback", clawbacks, &claw);
    p->clawback = (loy_clawback)claw;
    if (rc == CRM_OK)
        rc = read_tiers(ctx, p, crm_config_child(ctx, n, "tiers"));
    const crm_config_node *vip = crm_config_child(ctx, n, "vip_club");
    int vw = LOY_ROLLING_12_MONTHS;
    if (rc == CRM_OK)
        rc = word_of(ctx, vip, "window", windows, &vw);
    int_of(ctx, vip, "top_percent", &p->vip_percent);
    p->vip_window = (loy_window)vw;
    if (rc == CRM_OK)
        rc = read_rewards(ctx, p, crm_config_child(ctx, n, "rewards"));
    const crm_config_node *ref = crm_config_child(ctx, n, "referral");
    int_of(ctx, ref, "referrer_points", &p->referrer_points);
    int_of(ctx, ref, "referee_points", &p->referee_points);
    int_of(ctx, ref, "max_per_week", &p->referral_per_week);
    return rc;
}

int loy_config_load(crm_plugin_ctx *ctx)
{
    loy_state *s = LOY(ctx);
    memset(&s->p, 0, sizeof s->p);
    s->configured = 0;
    const crm_config_node *list = crm_config_child(ctx, NULL, "programs");
    size_t n = crm_config_count(ctx, list);
    if (n > 1)
        return crm_config_error(ctx, crm_config_item(ctx, list, 1),
                                "one program per installation today (this is the second)");
    int rc = read_program(ctx, &s->p, n ? crm_config_item(ctx, list, 0) : NULL);
    s->configured = rc == CRM_OK && n == 1;
    return rc;
}

const loy_reward *loy_find_reward(crm_plugin_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < PROG(ctx)->nrewards; i++)
        if (!strcmp(PROG(ctx)->rewards[i].name, name))
            return &PROG(ctx)->rewards[i];
    return NULL;
}

int loy_level_index(crm_plugin_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < PROG(ctx)->nlevels; i++)
        if (!strcmp(PROG(ctx)->levels[i].name, name))
            return (int)i;
    return -1;
}

/* segmentation plugin — crm.yaml segmentation.* read into the state at start,
 * and the lookups by slug in the RFM grid and the rule segments. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seg_int.h"

static const char *const default_grid_text =
    "Champions: R5 F4-5; Loyal: R3-4 F4-5; Potential Loyalists: R4-5 F2-3; New: R5 F1; "
    "Promising: R4 F1; Need Attention: R3 F3; About to Sleep: R3 F1-2; At Risk: R1-2 F3-4; "
    "Can't Lose Them: R1-2 F5; Hibernating: R1-2 F1-2";

char *seg_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* Splits "a; b; c" in place, calling fn on each non-empty trimmed item. */
static int each_item(char *text, int (*fn)(crm_plugin_ctx *, char *, void *), crm_plugin_ctx *ctx,
                     void *ud)
{
    char *save = NULL;
    for (char *it = strtok_r(text, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
        char *t = seg_trim(it);
        if (*t && fn(ctx, t, ud) != CRM_OK)
            return CRM_ECONFIG;
    }
    return CRM_OK;
}

/* "Name: R5 F4-5" */
static int grid_item(crm_plugin_ctx *ctx, char *item, void *ud)
{
    (void)ud;
    char *colon = strrchr(item, ':');
    if (!colon || SEG(ctx)->grid.n >= sizeof SEG(ctx)->cells / sizeof SEG(ctx)->cells[0])
        goto bad;
    *colon = 0;
    char *name = seg_trim(item), *spec = seg_trim(colon + 1);
    seg_grid_cell *c = &SEG(ctx)->cells[SEG(ctx)->grid.n];
    char rs[16], fs[16];
    if (sscanf(spec, "R%15s F%15s", rs, fs) != 2 || seg_parse_range(rs, &c->r_lo, &c->r_hi) ||
        seg_parse_range(fs, &c->f_lo, &c->f_hi) || !*name)
        goto bad;
    snprintf(c->name, sizeof c->name, "%s", name);
    seg_slugify(name, c->slug, sizeof c->slug);
    SEG(ctx)->grid.n++;
    return CRM_OK;
bad:
    crm_set_error(ctx,
                  "segmentation.rfm.grid: cannot read \"%s\" (expected \"Name: R<lo>-<hi> "
                  "F<lo>-<hi>\" items separated by ';', e.g. \"Champions: R5 F4-5\")",
                  item);
    return CRM_ECONFIG;
}

/* Refuses a rule segment without a name, or named as a grid cell or an
 * earlier rule. */
static int rule_name_check(crm_plugin_ctx *ctx, const seg_rule *r)
{
    if (!r->slug[0]) {
        crm_set_error(ctx, "segmentation.segments: a segment needs a name");
        return CRM_ECONFIG;
    }
    for (size_t i = 0; i < SEG(ctx)->grid.n; i++)
        if (!strcmp(SEG(ctx)->cells[i].slug, r->slug)) {
            crm_set_error(ctx, "segmentation.segments: \"%s\" is already an RFM grid segment; "
                               "choose another name", r->name);
            return CRM_ECONFIG;
        }
    for (size_t i = 0; i < SEG(ctx)->nrules; i++)
        if (!strcmp(SEG(ctx)->rules[i].slug, r->slug)) {
            crm_set_error(ctx, "segmentation.segments: \"%s\" is declared twice", r->name);
            return CRM_ECONFIG;
        }
    return CRM_OK;
}

/* r->text is "lua: RULE" or "lua: FILE:FN". */
static int rule_lua(crm_plugin_ctx *ctx, seg_rule *r)
{
    r->is_lua = 1;
    snprintf(r->lua_spec, sizeof r->lua_spec, "%s", seg_trim(r->text + 4));
    if (!r->lua_spec[0]) {
        crm_set_error(ctx, "segmentation.segments: segment \"%s\": expected \"lua: RULE\" or "
                           "\"lua: FILE:FUNCTION\"", r->name);
        return CRM_ECONFIG;
    }
    if (!CRM_API_HAS(ctx, call_rule)) {
        crm_set_error(ctx, "segmentation.segments: segment \"%s\" is a Lua rule, but this "
                           "crm's plugin API has no call_rule (ABI 1.1 or later needed)",
                      r->name);
        return CRM_ECONFIG;
    }
    return CRM_OK;
}

/* "Name: condition" or "Name: static" */
static int rule_item(crm_plugin_ctx *ctx, char *item, void *ud)
{
    (void)ud;
    char *colon = strchr(item, ':');
    if (!colon || SEG(ctx)->nrules >= SEG_MAX_RULES) {
        crm_set_error(ctx, "segmentation.segments: cannot read \"%s\" (expected \"Name: "
                           "condition\" or \"Name: static\" items separated by ';')", item);
        return CRM_ECONFIG;
    }
    *colon = 0;
    seg_rule *r = &SEG(ctx)->rules[SEG(ctx)->nrules];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", seg_trim(item));
    seg_slugify(r->name, r->slug, sizeof r->slug);
    snprintf(r->text, sizeof r->text, "%s", seg_trim(colon + 1));
    if (rule_name_check(ctx, r) != CRM_OK)
        return CRM_ECONFIG;
    if (!strcasecmp(r->text, "static")) {
        r->is_static = 1;
    } else if (!strncasecmp(r->text, "lua:", 4)) {
        if (rule_lua(ctx, r) != CRM_OK)
            return CRM_ECONFIG;
    } else {
        char err[512];
        if (seg_cond_compile(r->text, &r->cond, err, sizeof err)) {
            crm_set_error(ctx, "segmentation.segments: segment \"%s\": %s", r->name, err);
            return CRM_ECONFIG;
        }
    }
    SEG(ctx)->nrules++;
    return CRM_OK;
}

/* "name: channel match points cap" */
static int signal_item(crm_plugin_ctx *ctx, char *item, void *ud)
{
    (void)ud;
    seg_churn_config *c = &SEG(ctx)->churn;
    char name[48], chan[16], match[64];
    long long pts, cap;
    if (c->nsignals >= SEG_CHURN_MAX_SIGNALS ||
        sscanf(item, "%47[^:]: %15s %63s %lld %lld", name, chan, match, &pts, &cap) != 5) {
        crm_set_error(ctx, "segmentation.churn.signals: cannot read \"%s\" (expected \"name: "
                           "channel text points cap\", e.g. \"returns_page: web /returns 10 20\")",
                      item);
        return CRM_ECONFIG;
    }
    seg_churn_signal *s = &c->signals[c->nsignals++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", seg_trim(name));
    snprintf(s->channel, sizeof s->channel, "%s", strcmp(chan, "any") ? chan : "");
    snprintf(s->match, sizeof s->match, "%s", match);
    s->points = pts;
    s->cap = cap;
    return CRM_OK;
}

static int get_int(crm_plugin_ctx *ctx, const char *key, int64_t *out)
{
    int rc = crm_config_get_int(ctx, key, out);
    if (rc != CRM_OK)
        crm_set_error(ctx, "segmentation.%s: %s", key, crm_last_error(ctx));
    return rc;
}

/* rfm.window_days, rfm.currency (else locale.currency), rfm.grid. */
static int load_rfm(crm_plugin_ctx *ctx, char *buf, size_t size)
{
    const char *s = NULL;
    int rc;
    if ((rc = get_int(ctx, "rfm.window_days", &SEG(ctx)->window_days)) != CRM_OK)
        return rc;
    if (SEG(ctx)->window_days < 0) {
        crm_set_error(ctx, "segmentation.rfm.window_days: expected 0 (all history) or a "
                           "number of days, got %lld", (long long)SEG(ctx)->window_days);
        return CRM_ECONFIG;
    }
    crm_config_get_string(ctx, "rfm.currency", &s);
    if ((!s || !*s) && CRM_API_HAS(ctx, locale))
        s = crm_locale(ctx, "currency"); /* crm.yaml locale.currency */
    snprintf(SEG(ctx)->currency, sizeof SEG(ctx)->currency, "%s", s ? s : "");
    for (char *p = SEG(ctx)->currency; *p; p++)
        *p = (char)toupper((unsigned char)*p);

    s = NULL;
    crm_config_get_string(ctx, "rfm.grid", &s);
    snprintf(buf, size, "%s", s && *s ? s : default_grid_text);
    SEG(ctx)->grid.cells = SEG(ctx)->cells;
    SEG(ctx)->grid.n = 0;
    return each_item(buf, grid_item, ctx, NULL);
}

/* segments: the rule, Lua and static segments. */
static int load_segments(crm_plugin_ctx *ctx, char *buf, size_t size)
{
    const char *s = NULL;
    free(SEG(ctx)->rules);
    SEG(ctx)->nrules = 0;
    if (!(SEG(ctx)->rules = calloc(SEG_MAX_RULES, sizeof *SEG(ctx)->rules)))
        return CRM_ENOMEM;
    crm_config_get_string(ctx, "segments", &s);
    snprintf(buf, size, "%s", s ? s : "");
    return each_item(buf, rule_item, ctx, NULL);
}

/* churn.levels: "40,70" (ascending). */
static int load_levels(crm_plugin_ctx *ctx, char *buf, size_t size)
{
    seg_churn_config *c = &SEG(ctx)->churn;
    const char *s = NULL;
    crm_config_get_string(ctx, "churn.levels", &s);
    if (!s || !*s)
        return CRM_OK;
    c->nlevels = 0;
    snprintf(buf, size, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char *end;
        long long v = strtoll(t, &end, 10);
        if (*end || c->nlevels >= SEG_CHURN_MAX_LEVELS ||
            (c->nlevels && v <= c->levels[c->nlevels - 1])) {
            crm_set_error(ctx, "segmentation.churn.levels: expected up to %d ascending "
                               "whole numbers separated by commas, got \"%s\"",
                          SEG_CHURN_MAX_LEVELS, s);
            return CRM_ECONFIG;
        }
        c->levels[c->nlevels++] = v;
    }
    return CRM_OK;
}

/* churn.*: points, signals, the Lua override, levels. */
static int load_churn(crm_plugin_ctx *ctx, char *buf, size_t size)
{
    const char *s = NULL;
    int rc;
    seg_churn_config *c = &SEG(ctx)->churn;
    seg_churn_config_default(c);
    if ((rc = get_int(ctx, "churn.points_per_week", &c->inactivity_points_per_week)) ||
        (rc = get_int(ctx, "churn.inactivity_cap", &c->inactivity_cap)) ||
        (rc = get_int(ctx, "churn.default_cycle_days", &c->default_cycle_days)) ||
        (rc = get_int(ctx, "churn.low_engagement_points", &c->low_engagement_points)) ||
        (rc = get_int(ctx, "churn.min_emails", &c->min_emails)) ||
        (rc = get_int(ctx, "churn.min_engagement_pct", &c->min_engagement_pct)) ||
        (rc = get_int(ctx, "churn.window_days", &c->window_days)))
        return rc;
    crm_config_get_string(ctx, "churn.signals", &s);
    if (s) {
        c->nsignals = 0;
        snprintf(buf, size, "%s", s);
        if ((rc = each_item(buf, signal_item, ctx, NULL)) != CRM_OK)
            return rc;
    }
    s = NULL;
    crm_config_get_string(ctx, "churn.rule", &s);
    snprintf(buf, size, "%s", s ? s : "");
    snprintf(SEG(ctx)->churn_rule, sizeof SEG(ctx)->churn_rule, "%s", seg_trim(buf));
    if (SEG(ctx)->churn_rule[0] && !CRM_API_HAS(ctx, call_rule)) {
        crm_set_error(ctx, "segmentation.churn.rule: this crm's plugin API has no call_rule "
                           "(ABI 1.1 or later needed)");
        return CRM_ECONFIG;
    }
    return load_levels(ctx, buf, size);
}

int seg_config_load(crm_plugin_ctx *ctx)
{
    char buf[8192];
    int rc;
    if ((rc = load_rfm(ctx, buf, sizeof buf)) != CRM_OK)
        return rc;
    if ((rc = load_segments(ctx, buf, sizeof buf)) != CRM_OK)
        return rc;
    return load_churn(ctx, buf, sizeof buf);
}

/* ---- lookups ------------------------------------------------------------ */

const char *seg_slug_of(crm_plugin_ctx *ctx, const seg_rfm_row *row)
{
    int i = seg_grid_match(&SEG(ctx)->grid, row->r, row->f);
    return i < 0 ? NULL : SEG(ctx)->cells[i].slug;
}

const char *seg_grid_name(crm_plugin_ctx *ctx, const char *slug)
{
    for (size_t i = 0; slug && i < SEG(ctx)->grid.n; i++)
        if (!strcmp(SEG(ctx)->cells[i].slug, slug))
            return SEG(ctx)->cells[i].name;
    for (size_t i = 0; slug && i < SEG(ctx)->nrules; i++)
        if (!strcmp(SEG(ctx)->rules[i].slug, slug))
            return SEG(ctx)->rules[i].name;
    return slug;
}

seg_rule *seg_find_rule(crm_plugin_ctx *ctx, const char *name)
{
    char slug[SEG_NAME_MAX];
    seg_slugify(name, slug, sizeof slug);
    for (size_t i = 0; i < SEG(ctx)->nrules; i++)
        if (!strcmp(SEG(ctx)->rules[i].slug, slug))
            return &SEG(ctx)->rules[i];
    return NULL;
}

void seg_known_segments(crm_plugin_ctx *ctx, char *buf, size_t size, int rfm_only)
{
    size_t len = 0;
    size_t n = SEG(ctx)->grid.n + (rfm_only ? 0 : SEG(ctx)->nrules);
    buf[0] = 0;
    for (size_t k = 0; k < n && len < size; k++) {
        const char *slug =
            k < SEG(ctx)->grid.n ? SEG(ctx)->cells[k].slug : SEG(ctx)->rules[k - SEG(ctx)->grid.n].slug;
        int w = snprintf(buf + len, size - len, "%s%s", k ? ", " : "", slug);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

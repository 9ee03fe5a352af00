/* segmentation plugin — its crm.yaml section: the declared schema (real YAML
 * lists and maps, checked by the host with file:line:column) read into the
 * state at start, with the plugin's own checks pointing at the node
 * (crm_config_error), and the lookups by slug in the grid and the rules. */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

char *seg_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* ---- the schema ------------------------------------------------------------ */

static const crm_config_field grid_cell_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the segment's display name", NULL, 0,
     0, 0},
    {"r_min", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "lowest R score (1-5)", NULL, 0, 1, 5},
    {"r_max", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "highest R score (1-5)", NULL, 0, 1, 5},
    {"f_min", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "lowest F score (1-5)", NULL, 0, 1, 5},
    {"f_max", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "highest F score (1-5)", NULL, 0, 1, 5},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field rfm_fields[] = {
    {"window_days", CRM_CONFIG_INT, 0, "365", "days of orders RFM looks back on; 0 = all history",
     NULL, 0, 0, 100000},
    {"currency", CRM_CONFIG_STRING, 0, "", "ISO 4217 code RFM sums; empty = locale.currency",
     NULL, 0, 0, 0},
    {"grid", CRM_CONFIG_LIST, 0, NULL, "the R x F cells, first match wins; absent = default grid",
     grid_cell_fields, CRM_CONFIG_MAP, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field segment_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the segment's name (its slug is the "
     "lower-case name with _)", NULL, 0, 0, 0},
    {"where", CRM_CONFIG_STRING, 0, NULL, "a condition: frequency >= 3 and tag = vip", NULL, 0, 0,
     0},
    {"lua", CRM_CONFIG_STRING, 0, NULL, "a Lua predicate: a rules: name or FILE:FUNCTION", NULL,
     0, 0, 0},
    {"static", CRM_CONFIG_BOOL, 0, NULL, "true: a list filled by crm segment add|remove", NULL, 0,
     0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field signal_fields[] = {
    {"name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the reason's code: signal:NAME", NULL,
     0, 0, 0},
    {"channel", CRM_CONFIG_STRING, 0, "any", "interaction channel, or any", NULL, 0, 0, 0},
    {"match", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "text the subject contains "
     "(case-insensitive)", NULL, 0, 0, 0},
    {"points", CRM_CONFIG_INT, CRM_CONFIG_REQUIRED, NULL, "points per occurrence in the window",
     NULL, 0, 0, 1000},
    {"cap", CRM_CONFIG_INT, 0, "0", "most points from the signal; 0 = no cap", NULL, 0, 0, 1000},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

static const crm_config_field churn_fields[] = {
    {"points_per_week", CRM_CONFIG_INT, 0, "5", "points per week past the usual purchase cycle",
     NULL, 0, 0, 1000},
    {"inactivity_cap", CRM_CONFIG_INT, 0, "50", "most inactivity points", NULL, 0, 0, 1000},
    {"default_cycle_days", CRM_CONFIG_INT, 0, "60", "cycle of a contact with fewer than two "
     "orders", NULL, 0, 1, 100000},
    {"low_engagement_points", CRM_CONFIG_INT, 0, "20", "points for emails without opens or "
     "clicks", NULL, 0, 0, 1000},
    {"min_emails", CRM_CONFIG_INT, 0, "3", "emails needed before engagement counts", NULL, 0, 0,
     100000},
    {"min_engagement_pct", CRM_CONFIG_INT, 0, "10", "opens+clicks under this share of emails is "
     "low", NULL, 0, 0, 100},
    {"window_days", CRM_CONFIG_INT, 0, "90", "days engagement and signals look back on", NULL, 0,
     1, 100000},
    {"signals", CRM_CONFIG_LIST, 0, NULL, "behaviour signals from interactions; absent = "
     "returns_page and cancel_page", signal_fields, CRM_CONFIG_MAP, 0, 0},
    {"rule", CRM_CONFIG_STRING, 0, "", "Lua score override: a rules: name or FILE:FUNCTION "
     "returning score, reasons", NULL, 0, 0, 0},
    {"levels", CRM_CONFIG_LIST, 0, NULL, "ascending scores; crossing one emits "
     "churn.risk_raised; absent = [40, 70]", NULL, CRM_CONFIG_INT, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

const crm_config_field seg_config_schema[] = {
    {"rfm", CRM_CONFIG_MAP, 0, NULL, "RFM scoring", rfm_fields, 0, 0, 0},
    {"segments", CRM_CONFIG_LIST, 0, NULL, "rule, Lua and static segments, in evaluation order",
     segment_fields, CRM_CONFIG_MAP, 0, 0},
    {"churn", CRM_CONFIG_MAP, 0, NULL, "churn risk points", churn_fields, 0, 0, 0},
    {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0},
};

/* ---- reading ---------------------------------------------------------------- */

/* The scalar `key` of map node `map` (NULL when the map is absent: the
 * field's default from `fields`). CRM_OK with *out; CRM_ENOTFOUND when
 * absent without default; another error with the host's message. */
static int value_of(crm_plugin_ctx *ctx, const crm_config_node *map,
                    const crm_config_field *fields, const char *key, crm_value *out)
{
    if (map)
        return crm_config_value(ctx, map, key, out);
    memset(out, 0, sizeof *out);
    for (const crm_config_field *f = fields; f->name; f++)
        if (!strcmp(f->name, key) && f->default_value) {
            out->given = 1;
            out->text = f->default_value;
            out->i = strtoll(f->default_value, NULL, 10);
            return CRM_OK;
        }
    return CRM_ENOTFOUND;
}

static int int_of(crm_plugin_ctx *ctx, const crm_config_node *map, const crm_config_field *fields,
                  const char *key, int64_t *out)
{
    crm_value v;
    int rc = value_of(ctx, map, fields, key, &v);
    if (rc == CRM_OK)
        *out = v.i;
    return rc;
}

/* A string key into buf ("" when absent); 1 when it was written. */
static int text_of(crm_plugin_ctx *ctx, const crm_config_node *map,
                   const crm_config_field *fields, const char *key, char *buf, size_t size)
{
    crm_value v;
    buf[0] = 0;
    if (value_of(ctx, map, fields, key, &v) != CRM_OK || !v.text)
        return 0;
    snprintf(buf, size, "%s", v.text);
    return 1;
}

/* rfm.grid: a list of {name, r_min, r_max, f_min, f_max}. */
static int load_grid(crm_plugin_ctx *ctx, const crm_config_node *list)
{
    seg_state *S = SEG(ctx);
    S->grid.cells = S->cells;
    S->grid.n = 0;
    if (!list) {
        const seg_grid *d = seg_grid_default();
        memcpy(S->cells, d->cells, d->n * sizeof *d->cells);
        S->grid.n = d->n;
        return CRM_OK;
    }
    size_t n = crm_config_count(ctx, list);
    if (!n)
        return crm_config_error(ctx, list, "expected at least one cell (leave the key out for "
                                           "the default grid)");
    if (n > sizeof S->cells / sizeof S->cells[0])
        return crm_config_error(ctx, list, "at most %zu cells",
                                sizeof S->cells / sizeof S->cells[0]);
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *it = crm_config_item(ctx, list, i);
        seg_grid_cell *c = &S->cells[i];
        int64_t v[4];
        static const char *const k[4] = {"r_min", "r_max", "f_min", "f_max"};
        for (int j = 0; j < 4; j++)
            if (int_of(ctx, it, grid_cell_fields, k[j], &v[j]) != CRM_OK)
                return CRM_ECONFIG;
        if (v[0] > v[1] || v[2] > v[3])
            return crm_config_error(ctx, it, "r_min must not exceed r_max, nor f_min f_max");
        c->r_lo = (int)v[0], c->r_hi = (int)v[1], c->f_lo = (int)v[2], c->f_hi = (int)v[3];
        text_of(ctx, it, grid_cell_fields, "name", c->name, sizeof c->name);
        seg_slugify(c->name, c->slug, sizeof c->slug);
        if (!c->slug[0])
            return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                    "a cell needs a name");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(S->cells[j].slug, c->slug))
                return crm_config_error(ctx, crm_config_child(ctx, it, "name"),
                                        "\"%s\" is declared twice", c->name);
        S->grid.n++;
    }
    return CRM_OK;
}

/* rfm: window_days, currency (else locale.currency), grid. */
static int load_rfm(crm_plugin_ctx *ctx)
{
    seg_state *S = SEG(ctx);
    const crm_config_node *rfm = crm_config_child(ctx, NULL, "rfm");
    if (int_of(ctx, rfm, rfm_fields, "window_days", &S->window_days) != CRM_OK)
        return CRM_ECONFIG;
    text_of(ctx, rfm, rfm_fields, "currency", S->currency, sizeof S->currency);
    if (!S->currency[0] && CRM_API_HAS(ctx, locale)) {
        const char *l = crm_locale(ctx, "currency"); /* crm.yaml locale.currency */
        snprintf(S->currency, sizeof S->currency, "%s", l ? l : "");
    }
    for (char *p = S->currency; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return load_grid(ctx, rfm ? crm_config_child(ctx, rfm, "grid") : NULL);
}

/* Refuses a segment named as a grid cell or an earlier segment. */
static int rule_name_check(crm_plugin_ctx *ctx, const crm_config_node *name, const seg_rule *r)
{
    seg_state *S = SEG(ctx);
    if (!r->slug[0])
        return crm_config_error(ctx, name, "a segment needs a name");
    for (size_t i = 0; i < S->grid.n; i++)
        if (!strcmp(S->cells[i].slug, r->slug))
            return crm_config_error(ctx, name, "\"%s\" is already an RFM grid segment; choose "
                                               "another name", r->name);
    for (size_t i = 0; i < S->nrules; i++)
        if (!strcmp(S->rules[i].slug, r->slug))
            return crm_config_error(ctx, name, "\"%s\" is declared twice", r->name);
    return CRM_OK;
}

/* One item of segments: {name, where | lua | static: true}. */
static int load_rule(crm_plugin_ctx *ctx, const crm_config_node *it, seg_rule *r)
{
    crm_value st;
    memset(r, 0, sizeof *r);
    text_of(ctx, it, segment_fields, "name", r->name, sizeof r->name);
    seg_slugify(r->name, r->slug, sizeof r->slug);
    if (rule_name_check(ctx, crm_config_child(ctx, it, "name"), r) != CRM_OK)
        return CRM_ECONFIG;
    int has_where = text_of(ctx, it, segment_fields, "where", r->text, sizeof r->text);
    int has_lua = text_of(ctx, it, segment_fields, "lua", r->lua_spec, sizeof r->lua_spec);
    r->is_static = value_of(ctx, it, segment_fields, "static", &st) == CRM_OK && st.i;
    if (has_where + has_lua + r->is_static != 1)
        return crm_config_error(ctx, it, "segment \"%s\": give exactly one of where: "
                                         "CONDITION, lua: RULE or static: true", r->name);
    if (r->is_static) {
        snprintf(r->text, sizeof r->text, "static");
        return CRM_OK;
    }
    if (has_lua) {
        r->is_lua = 1;
        snprintf(r->text, sizeof r->text, "lua: %s", r->lua_spec);
        if (!CRM_API_HAS(ctx, call_rule))
            return crm_config_error(ctx, crm_config_child(ctx, it, "lua"),
                                    "a Lua segment needs a crm whose plugin API has call_rule");
        return CRM_OK;
    }
    char err[512];
    if (seg_cond_compile(r->text, &r->cond, err, sizeof err))
        return crm_config_error(ctx, crm_config_child(ctx, it, "where"), "%s", err);
    return CRM_OK;
}

/* segments: the rule, Lua and static segments, in order. */
static int load_segments(crm_plugin_ctx *ctx)
{
    seg_state *S = SEG(ctx);
    const crm_config_node *list = crm_config_child(ctx, NULL, "segments");
    size_t n = crm_config_count(ctx, list);
    free(S->rules);
    S->rules = NULL;
    S->nrules = 0;
    if (n > SEG_MAX_RULES)
        return crm_config_error(ctx, list, "at most %d segments", SEG_MAX_RULES);
    if (n && !(S->rules = calloc(n, sizeof *S->rules)))
        return CRM_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (load_rule(ctx, crm_config_item(ctx, list, i), &S->rules[i]) != CRM_OK)
            return CRM_ECONFIG;
        S->nrules++;
    }
    return CRM_OK;
}

/* churn.signals: a list of {name, channel, match, points, cap}. */
static int load_signals(crm_plugin_ctx *ctx, const crm_config_node *list)
{
    seg_churn_config *c = &SEG(ctx)->churn;
    if (!list)
        return CRM_OK; /* the defaults of seg_churn_config_default */
    size_t n = crm_config_count(ctx, list);
    if (n > SEG_CHURN_MAX_SIGNALS)
        return crm_config_error(ctx, list, "at most %d signals", SEG_CHURN_MAX_SIGNALS);
    c->nsignals = 0;
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *it = crm_config_item(ctx, list, i);
        seg_churn_signal *s = &c->signals[c->nsignals];
        memset(s, 0, sizeof *s);
        text_of(ctx, it, signal_fields, "name", s->name, sizeof s->name);
        text_of(ctx, it, signal_fields, "channel", s->channel, sizeof s->channel);
        if (!strcmp(s->channel, "any"))
            s->channel[0] = 0;
        text_of(ctx, it, signal_fields, "match", s->match, sizeof s->match);
        if (!s->name[0] || !s->match[0])
            return crm_config_error(ctx, it, "a signal needs a name and a match text");
        if (int_of(ctx, it, signal_fields, "points", &s->points) != CRM_OK ||
            int_of(ctx, it, signal_fields, "cap", &s->cap) != CRM_OK)
            return CRM_ECONFIG;
        c->nsignals++;
    }
    return CRM_OK;
}

/* churn.levels: a list of ascending whole numbers. */
static int load_levels(crm_plugin_ctx *ctx, const crm_config_node *list)
{
    seg_churn_config *c = &SEG(ctx)->churn;
    if (!list)
        return CRM_OK;
    size_t n = crm_config_count(ctx, list);
    if (n > SEG_CHURN_MAX_LEVELS)
        return crm_config_error(ctx, list, "at most %d levels", SEG_CHURN_MAX_LEVELS);
    c->nlevels = 0;
    for (size_t i = 0; i < n; i++) {
        const crm_config_node *it = crm_config_item(ctx, list, i);
        crm_value v;
        if (crm_config_value(ctx, it, NULL, &v) != CRM_OK)
            return CRM_ECONFIG;
        if (c->nlevels && v.i <= c->levels[c->nlevels - 1])
            return crm_config_error(ctx, it, "levels must ascend: %lld after %lld",
                                    (long long)v.i, (long long)c->levels[c->nlevels - 1]);
        c->levels[c->nlevels++] = v.i;
    }
    return CRM_OK;
}

/* churn: points, signals, the Lua override, levels. */
static int load_churn(crm_plugin_ctx *ctx)
{
    seg_state *S = SEG(ctx);
    seg_churn_config *c = &S->churn;
    const crm_config_node *ch = crm_config_child(ctx, NULL, "churn");
    static const struct {
        const char *key;
        size_t off;
    } ints[] = {
        {"points_per_week", offsetof(seg_churn_config, inactivity_points_per_week)},
        {"inactivity_cap", offsetof(seg_churn_config, inactivity_cap)},
        {"default_cycle_days", offsetof(seg_churn_config, default_cycle_days)},
        {"low_engagement_points", offsetof(seg_churn_config, low_engagement_points)},
        {"min_emails", offsetof(seg_churn_config, min_emails)},
        {"min_engagement_pct", offsetof(seg_churn_config, min_engagement_pct)},
        {"window_days", offsetof(seg_churn_config, window_days)},
    };
    seg_churn_config_default(c);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (int_of(ctx, ch, churn_fields, ints[i].key,
                   (int64_t *)(void *)((char *)c + ints[i].off)) != CRM_OK)
            return CRM_ECONFIG;
    text_of(ctx, ch, churn_fields, "rule", S->churn_rule, sizeof S->churn_rule);
    if (S->churn_rule[0] && !CRM_API_HAS(ctx, call_rule))
        return crm_config_error(ctx, crm_config_child(ctx, ch, "rule"),
                                "this crm's plugin API has no call_rule");
    if (load_signals(ctx, ch ? crm_config_child(ctx, ch, "signals") : NULL) != CRM_OK)
        return CRM_ECONFIG;
    return load_levels(ctx, ch ? crm_config_child(ctx, ch, "levels") : NULL);
}

int seg_config_load(crm_plugin_ctx *ctx)
{
    int rc;
    if ((rc = load_rfm(ctx)) != CRM_OK)
        return rc;
    if ((rc = load_segments(ctx)) != CRM_OK)
        return rc;
    return load_churn(ctx);
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

/* segmentation plugin — RFM scores, rule segments, churn risk, metrics.
 *
 * Built against sdk/include only. The computation lives in rfm.c, churn.c and
 * cond.c (no SDK there); this file reads the kernel's tables through the host
 * SQL API, keeps its own segmentation_* tables, registers the top-level
 * commands `crm rfm|segment|churn ...` and `crm metrics` (SDK 1.1 nouns; the
 * older `crm segmentation rfm|segment|churn|metrics ...` stay as aliases),
 * evaluates Lua predicate segments and the churn override through the host's
 * rule engine (rule_each over all contacts on SDK 1.2 hosts, call_rule for
 * one contact), and follows order.*, contact.*, interaction.* and
 * consent.* events with durable subscriptions. */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stdint.h>

#include "crm/plugin.h"

#include "churn.h"
#include "cond.h"
#include "rfm.h"

#define MAX_RULES 64

typedef struct rule_segment {
    char name[SEG_NAME_MAX];
    char slug[SEG_NAME_MAX];
    int is_static;
    int is_lua;          /* "Name: lua: RULE" or "Name: lua: FILE:FN" */
    char text[1024];
    char lua_spec[512];  /* the rule name or FILE:FN */
    seg_cond cond;
} rule_segment;

/* One process loads a plugin once: the state is file-level. */
static struct {
    int64_t window_days;
    char currency[8]; /* "" = the most common among qualifying orders */
    seg_grid_cell cells[32];
    seg_grid grid;
    rule_segment *rules;
    size_t nrules;
    seg_churn_config churn;
    char churn_rule[512]; /* Lua score override ("" = points only) */
    seg_rfm_cuts cuts; /* of the latest refresh, cached */
    int64_t cuts_refresh;  /* its id; 0 = not loaded */
    int64_t cuts_window;
    char cuts_currency[8];
    /* statements the refresh and the event handlers run many times: prepared
     * once, reset before each use, finalized in stop */
    crm_stmt *st_enter, *st_leave, *st_upsert, *st_delete;
} S;

/* The statement in *slot, prepared on first use and reset; NULL on failure. */
static crm_stmt *cached(crm_plugin_ctx *ctx, crm_stmt **slot, const char *sql)
{
    if (!*slot && crm_sql_prepare(ctx, sql, slot) != CRM_OK) {
        *slot = NULL;
        return NULL;
    }
    crm_sql_reset(*slot);
    return *slot;
}

static void finalize_cached(void)
{
    crm_sql_finalize(S.st_enter);
    crm_sql_finalize(S.st_leave);
    crm_sql_finalize(S.st_upsert);
    crm_sql_finalize(S.st_delete);
    S.st_enter = S.st_leave = S.st_upsert = S.st_delete = NULL;
}

/* ---- small SQL helpers -------------------------------------------------------- */

/* Prepares `sql` and binds the int64 arguments (n of them) to ?1..?n. */
static crm_stmt *prep(crm_plugin_ctx *ctx, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return NULL;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
    va_end(ap);
    return st;
}

/* Runs a statement returning no rows; the int64 arguments bind ?1..?n. */
static int run(crm_plugin_ctx *ctx, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    int rc = crm_sql_prepare(ctx, sql, &st);
    if (rc != CRM_OK)
        return rc;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
    va_end(ap);
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? rc : CRM_OK;
}

/* The first column of the first row as an integer (dflt when no row). */
static int64_t scalar(crm_plugin_ctx *ctx, int64_t dflt, const char *sql, int n, ...)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return dflt;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        crm_sql_bind_int64(st, i + 1, va_arg(ap, int64_t));
    va_end(ap);
    int64_t v = dflt;
    if (crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_type(st, 0) != CRM_SQL_NULL)
        v = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return v;
}

static int fail_db(crm_plugin_ctx *ctx, const char *what)
{
    crm_set_error(ctx, "%s: %s", what, crm_last_error(ctx));
    return CRM_EDB;
}

/* Human output: dates as ISO 8601 UTC, money as major units with the
 * currency; JSON output keeps epoch seconds and integer minor units. */
static const char *fmt_day(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "%lld", (long long)t);
    return buf;
}

static int currency_decimals(const char *cur)
{
    static const char *const none[] = {"JPY", "KRW", "ISK", "CLP", "VND", NULL};
    for (int i = 0; cur && none[i]; i++)
        if (!strcmp(cur, none[i]))
            return 0;
    return 2;
}

static const char *fmt_money(int64_t minor, const char *cur, char *buf, size_t size)
{
    int d = currency_decimals(cur);
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (d == 0)
        snprintf(buf, size, "%s%llu %s", minor < 0 ? "-" : "", (unsigned long long)mag, cur);
    else
        snprintf(buf, size, "%s%llu.%02llu %s", minor < 0 ? "-" : "",
                 (unsigned long long)(mag / 100), (unsigned long long)(mag % 100), cur);
    return buf;
}

/* The reasons column (a JSON array of {text}) as "text; text". */
static void print_reason_texts(FILE *out, const char *reasons_json)
{
    json_t *arr = json_loads(reasons_json ? reasons_json : "[]", 0, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *text = json_string_value(json_object_get(r, "text"));
        fprintf(out, "%s%s", i ? "; " : "", text ? text : "");
    }
    json_decref(arr);
}

static void print_json(crm_command_io *io, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fprintf(crm_io_out(io), "%s\n", s);
        free(s);
    }
    json_decref(j);
}

/* ---- configuration ---------------------------------------------------------- */

static const char *const default_grid_text =
    "Champions: R5 F4-5; Loyal: R3-4 F4-5; Potential Loyalists: R4-5 F2-3; New: R5 F1; "
    "Promising: R4 F1; Need Attention: R3 F3; About to Sleep: R3 F1-2; At Risk: R1-2 F3-4; "
    "Can't Lose Them: R1-2 F5; Hibernating: R1-2 F1-2";

static char *trim(char *s)
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
        char *t = trim(it);
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
    if (!colon || S.grid.n >= sizeof S.cells / sizeof S.cells[0])
        goto bad;
    *colon = 0;
    char *name = trim(item), *spec = trim(colon + 1);
    seg_grid_cell *c = &S.cells[S.grid.n];
    char rs[16], fs[16];
    if (sscanf(spec, "R%15s F%15s", rs, fs) != 2 || seg_parse_range(rs, &c->r_lo, &c->r_hi) ||
        seg_parse_range(fs, &c->f_lo, &c->f_hi) || !*name)
        goto bad;
    snprintf(c->name, sizeof c->name, "%s", name);
    seg_slugify(name, c->slug, sizeof c->slug);
    S.grid.n++;
    return CRM_OK;
bad:
    crm_set_error(ctx,
                  "segmentation.rfm.grid: cannot read \"%s\" (expected \"Name: R<lo>-<hi> "
                  "F<lo>-<hi>\" items separated by ';', e.g. \"Champions: R5 F4-5\")",
                  item);
    return CRM_ECONFIG;
}

/* "Name: condition" or "Name: static" */
static int rule_item(crm_plugin_ctx *ctx, char *item, void *ud)
{
    (void)ud;
    char *colon = strchr(item, ':');
    if (!colon || S.nrules >= MAX_RULES) {
        crm_set_error(ctx, "segmentation.segments: cannot read \"%s\" (expected \"Name: "
                           "condition\" or \"Name: static\" items separated by ';')", item);
        return CRM_ECONFIG;
    }
    *colon = 0;
    rule_segment *r = &S.rules[S.nrules];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", trim(item));
    seg_slugify(r->name, r->slug, sizeof r->slug);
    snprintf(r->text, sizeof r->text, "%s", trim(colon + 1));
    if (!r->slug[0]) {
        crm_set_error(ctx, "segmentation.segments: a segment needs a name");
        return CRM_ECONFIG;
    }
    for (size_t i = 0; i < S.grid.n; i++)
        if (!strcmp(S.cells[i].slug, r->slug)) {
            crm_set_error(ctx, "segmentation.segments: \"%s\" is already an RFM grid segment; "
                               "choose another name", r->name);
            return CRM_ECONFIG;
        }
    for (size_t i = 0; i < S.nrules; i++)
        if (!strcmp(S.rules[i].slug, r->slug)) {
            crm_set_error(ctx, "segmentation.segments: \"%s\" is declared twice", r->name);
            return CRM_ECONFIG;
        }
    if (!strcasecmp(r->text, "static")) {
        r->is_static = 1;
    } else if (!strncasecmp(r->text, "lua:", 4)) {
        r->is_lua = 1;
        snprintf(r->lua_spec, sizeof r->lua_spec, "%s", trim(r->text + 4));
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
    } else {
        char err[512];
        if (seg_cond_compile(r->text, &r->cond, err, sizeof err)) {
            crm_set_error(ctx, "segmentation.segments: segment \"%s\": %s", r->name, err);
            return CRM_ECONFIG;
        }
    }
    S.nrules++;
    return CRM_OK;
}

/* "name: channel match points cap" */
static int signal_item(crm_plugin_ctx *ctx, char *item, void *ud)
{
    (void)ud;
    seg_churn_config *c = &S.churn;
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
    snprintf(s->name, sizeof s->name, "%s", trim(name));
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

static int load_config(crm_plugin_ctx *ctx)
{
    const char *s = NULL;
    char buf[8192];
    int rc;
    if ((rc = get_int(ctx, "rfm.window_days", &S.window_days)) != CRM_OK)
        return rc;
    if (S.window_days < 0) {
        crm_set_error(ctx, "segmentation.rfm.window_days: expected 0 (all history) or a "
                           "number of days, got %lld", (long long)S.window_days);
        return CRM_ECONFIG;
    }
    crm_config_get_string(ctx, "rfm.currency", &s);
    if ((!s || !*s) && CRM_API_HAS(ctx, locale))
        s = crm_locale(ctx, "currency"); /* crm.yaml locale.currency */
    snprintf(S.currency, sizeof S.currency, "%s", s ? s : "");
    for (char *p = S.currency; *p; p++)
        *p = (char)toupper((unsigned char)*p);

    s = NULL;
    crm_config_get_string(ctx, "rfm.grid", &s);
    snprintf(buf, sizeof buf, "%s", s && *s ? s : default_grid_text);
    S.grid.cells = S.cells;
    S.grid.n = 0;
    if ((rc = each_item(buf, grid_item, ctx, NULL)) != CRM_OK)
        return rc;

    free(S.rules);
    S.nrules = 0;
    if (!(S.rules = calloc(MAX_RULES, sizeof *S.rules)))
        return CRM_ENOMEM;
    s = NULL;
    crm_config_get_string(ctx, "segments", &s);
    snprintf(buf, sizeof buf, "%s", s ? s : "");
    if ((rc = each_item(buf, rule_item, ctx, NULL)) != CRM_OK)
        return rc;

    seg_churn_config *c = &S.churn;
    seg_churn_config_default(c);
    if ((rc = get_int(ctx, "churn.points_per_week", &c->inactivity_points_per_week)) ||
        (rc = get_int(ctx, "churn.inactivity_cap", &c->inactivity_cap)) ||
        (rc = get_int(ctx, "churn.default_cycle_days", &c->default_cycle_days)) ||
        (rc = get_int(ctx, "churn.low_engagement_points", &c->low_engagement_points)) ||
        (rc = get_int(ctx, "churn.min_emails", &c->min_emails)) ||
        (rc = get_int(ctx, "churn.min_engagement_pct", &c->min_engagement_pct)) ||
        (rc = get_int(ctx, "churn.window_days", &c->window_days)))
        return rc;
    s = NULL;
    crm_config_get_string(ctx, "churn.signals", &s);
    if (s) {
        c->nsignals = 0;
        snprintf(buf, sizeof buf, "%s", s);
        if ((rc = each_item(buf, signal_item, ctx, NULL)) != CRM_OK)
            return rc;
    }
    s = NULL;
    crm_config_get_string(ctx, "churn.rule", &s);
    snprintf(buf, sizeof buf, "%s", s ? s : "");
    snprintf(S.churn_rule, sizeof S.churn_rule, "%s", trim(buf));
    if (S.churn_rule[0] && !CRM_API_HAS(ctx, call_rule)) {
        crm_set_error(ctx, "segmentation.churn.rule: this crm's plugin API has no call_rule "
                           "(ABI 1.1 or later needed)");
        return CRM_ECONFIG;
    }
    s = NULL;
    crm_config_get_string(ctx, "churn.levels", &s);
    if (s && *s) {
        c->nlevels = 0;
        snprintf(buf, sizeof buf, "%s", s);
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
    }
    return CRM_OK;
}

/* ---- RFM: one ordered scan, aggregation in C ------------------------------------ */

typedef struct rfm_set {
    seg_rfm_row *rows;
    size_t n, cap;
    int64_t skipped_orders; /* qualifying but in another currency */
    char currency[8];
} rfm_set;

/* The configured currency, or the most common one among qualifying orders. */
static void pick_currency(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, char *out)
{
    if (S.currency[0]) {
        snprintf(out, 8, "%s", S.currency);
        return;
    }
    snprintf(out, 8, "EUR");
    crm_stmt *st = prep(ctx,
                        "SELECT currency FROM orders WHERE status IN ('placed','paid') AND "
                        "placed_at < ?1 AND placed_at >= ?2 GROUP BY currency "
                        "ORDER BY count(*) DESC, currency LIMIT 1",
                        2, as_of, start);
    if (st && crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_text(st, 0))
        snprintf(out, 8, "%s", crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
}

/* One contact's qualifying orders (the incremental path: the contact's
 * index orders_contact serves it). */
static int rfm_load_one(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, int64_t only,
                        rfm_set *set)
{
    crm_stmt *st = prep(ctx,
                        "SELECT placed_at, total, currency FROM orders"
                        " WHERE contact_id = ?3 AND status IN ('placed','paid') AND"
                        " placed_at < ?1 AND placed_at >= ?2",
                        3, as_of, start, only);
    if (!st)
        return fail_db(ctx, "reading orders");
    seg_rfm_row row = {.contact_id = only};
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        const char *cur = crm_sql_column_text(st, 2);
        if (!cur || strcmp(cur, set->currency) != 0) {
            set->skipped_orders++;
            continue;
        }
        int64_t at = crm_sql_column_int64(st, 0);
        if (row.frequency == 0 || at > row.last_at)
            row.last_at = at;
        row.frequency++;
        row.monetary += crm_sql_column_int64(st, 1);
    }
    crm_sql_finalize(st);
    if (rc < 0)
        return fail_db(ctx, "reading orders");
    if (row.frequency == 0)
        return CRM_OK;
    if (!(set->rows = malloc(sizeof *set->rows)))
        return CRM_ENOMEM;
    set->rows[0] = row;
    set->n = set->cap = 1;
    return CRM_OK;
}

/* Every contact's qualifying orders: one sequential scan of the orders table
 * (no ORDER BY: walking the contact index costs a random row lookup per order,
 * ~10x slower), aggregated in C into an array indexed by contact id (ids are
 * dense integer keys), then compacted in id order. The unary + keeps the
 * planner off the placed_at index for the same reason (valid SQL in
 * PostgreSQL too). */
static int rfm_load_all(crm_plugin_ctx *ctx, int64_t as_of, int64_t start, rfm_set *set)
{
    int64_t max_id = scalar(ctx, 0, "SELECT max(id) FROM contacts", 0);
    size_t cap = (size_t)(max_id > 0 ? max_id : 0) + 1;
    seg_rfm_row *acc = calloc(cap, sizeof *acc);
    crm_stmt *st = acc ? prep(ctx,
                              "SELECT contact_id, placed_at, total, currency FROM orders"
                              " WHERE status IN ('placed','paid') AND +placed_at < ?1 AND"
                              " +placed_at >= ?2",
                              2, as_of, start)
                       : NULL;
    if (!st) {
        free(acc);
        return acc ? fail_db(ctx, "reading orders") : CRM_ENOMEM;
    }
    int rc;
    const char *want = set->currency;
    size_t scored = 0;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t cid = crm_sql_column_int64(st, 0);
        const char *cur = crm_sql_column_text(st, 3);
        if (!cur || strcmp(cur, want) != 0) {
            set->skipped_orders++;
            continue;
        }
        if (cid <= 0)
            continue;
        if ((size_t)cid >= cap) { /* a contact added since max(id) was read */
            size_t ncap = (size_t)cid * 2;
            seg_rfm_row *grown = realloc(acc, ncap * sizeof *grown);
            if (!grown) {
                rc = CRM_ENOMEM;
                break;
            }
            memset(grown + cap, 0, (ncap - cap) * sizeof *grown);
            acc = grown;
            cap = ncap;
        }
        seg_rfm_row *r = &acc[cid];
        int64_t at = crm_sql_column_int64(st, 1);
        if (r->frequency == 0) {
            r->contact_id = cid;
            r->last_at = at;
            scored++;
        } else if (at > r->last_at) {
            r->last_at = at;
        }
        r->frequency++;
        r->monetary += crm_sql_column_int64(st, 2);
    }
    crm_sql_finalize(st);
    if (rc < 0) {
        free(acc);
        if (rc == CRM_ENOMEM) {
            crm_set_error(ctx, "out of memory loading orders");
            return CRM_ENOMEM;
        }
        return fail_db(ctx, "reading orders");
    }
    set->rows = malloc((scored ? scored : 1) * sizeof *set->rows);
    if (!set->rows) {
        free(acc);
        return CRM_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        if (acc[i].frequency)
            set->rows[set->n++] = acc[i];
    set->cap = scored;
    free(acc);
    return CRM_OK;
}

/* Loads the metrics of every contact with a qualifying order as of `as_of`
 * (contact_id > 0: only that contact). Rows come out sorted by contact id. */
static int rfm_load(crm_plugin_ctx *ctx, int64_t as_of, int64_t window_days, const char *currency,
                    int64_t only, rfm_set *set)
{
    memset(set, 0, sizeof *set);
    int64_t start = seg_rfm_window_start(as_of, window_days);
    if (currency)
        snprintf(set->currency, sizeof set->currency, "%s", currency);
    else
        pick_currency(ctx, as_of, start, set->currency);
    int rc = only > 0 ? rfm_load_one(ctx, as_of, start, only, set) : rfm_load_all(ctx, as_of, start, set);
    if (rc != CRM_OK)
        return rc;
    for (size_t i = 0; i < set->n; i++)
        set->rows[i].recency_days = seg_rfm_recency_days(set->rows[i].last_at, as_of);
    return CRM_OK;
}

static const char *slug_of(const seg_rfm_row *row)
{
    int i = seg_grid_match(&S.grid, row->r, row->f);
    return i < 0 ? NULL : S.cells[i].slug;
}

static const char *grid_name(const char *slug)
{
    for (size_t i = 0; slug && i < S.grid.n; i++)
        if (!strcmp(S.cells[i].slug, slug))
            return S.cells[i].name;
    for (size_t i = 0; slug && i < S.nrules; i++)
        if (!strcmp(S.rules[i].slug, slug))
            return S.rules[i].name;
    return slug;
}

/* ---- membership --------------------------------------------------------------- */

static int emit_membership(crm_plugin_ctx *ctx, const char *type, const char *slug,
                           const char *kind, int64_t contact_id, int64_t at)
{
    json_t *p = json_pack("{sIsssssssI}", "contact_id", (json_int_t)contact_id, "segment", slug,
                          "name", grid_name(slug), "kind", kind, "at", (json_int_t)at);
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    if (!s)
        return CRM_ENOMEM;
    int rc = crm_emit_event(ctx, type, s);
    free(s);
    return rc;
}

/* Opens (enter) or closes (leave) contact's membership of `slug`. */
static int member_enter(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t cid,
                        int64_t at)
{
    crm_stmt *st = cached(ctx, &S.st_enter,
                          "INSERT INTO segmentation_members(segment, kind, contact_id, entered_at)"
                          " VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return fail_db(ctx, "recording a membership");
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_text(st, 2, kind);
    crm_sql_bind_int64(st, 3, cid);
    crm_sql_bind_int64(st, 4, at);
    int rc = crm_sql_step(st);
    crm_sql_reset(st);
    if (rc < 0)
        return fail_db(ctx, "recording a membership");
    return emit_membership(ctx, "segment.entered", slug, kind, cid, at);
}

static int member_leave(crm_plugin_ctx *ctx, const char *slug, const char *kind, int64_t cid,
                        int64_t at)
{
    crm_stmt *st = cached(ctx, &S.st_leave,
                          "UPDATE segmentation_members SET left_at = ?3 WHERE segment = ?1 AND"
                          " contact_id = ?2 AND left_at IS NULL");
    if (!st)
        return fail_db(ctx, "closing a membership");
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_int64(st, 2, cid);
    crm_sql_bind_int64(st, 3, at);
    int rc = crm_sql_step(st);
    crm_sql_reset(st);
    if (rc < 0)
        return fail_db(ctx, "closing a membership");
    return emit_membership(ctx, "segment.left", slug, kind, cid, at);
}

/* The contact's open RFM segment into buf ("" when none). */
static void current_rfm_segment(crm_plugin_ctx *ctx, int64_t cid, char *buf, size_t size)
{
    buf[0] = 0;
    crm_stmt *st = prep(ctx,
                        "SELECT segment FROM segmentation_members WHERE contact_id = ?1 AND"
                        " kind = 'rfm' AND left_at IS NULL",
                        1, cid);
    if (st && crm_sql_step(st) == CRM_SQL_ROW && crm_sql_column_text(st, 0))
        snprintf(buf, size, "%s", crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
}

/* Moves the contact's RFM membership to `slug` (NULL: none). */
static int rfm_move(crm_plugin_ctx *ctx, int64_t cid, const char *old, const char *slug,
                    int64_t at)
{
    int rc = CRM_OK;
    if (old && old[0] && (!slug || strcmp(old, slug)))
        rc = member_leave(ctx, old, "rfm", cid, at);
    if (rc == CRM_OK && slug && (!old || !old[0] || strcmp(old, slug)))
        rc = member_enter(ctx, slug, "rfm", cid, at);
    return rc;
}

/* ---- RFM refresh ---------------------------------------------------------------- */

static int store_row(crm_stmt *ins, const seg_rfm_row *r, const char *slug, int64_t as_of,
                     int64_t refresh)
{
    crm_sql_reset(ins);
    crm_sql_bind_int64(ins, 1, r->contact_id);
    crm_sql_bind_int64(ins, 2, r->recency_days);
    crm_sql_bind_int64(ins, 3, r->frequency);
    crm_sql_bind_int64(ins, 4, r->monetary);
    crm_sql_bind_int64(ins, 5, r->last_at);
    crm_sql_bind_int64(ins, 6, r->r);
    crm_sql_bind_int64(ins, 7, r->f);
    crm_sql_bind_int64(ins, 8, r->m);
    if (slug)
        crm_sql_bind_text(ins, 9, slug);
    else
        crm_sql_bind_null(ins, 9);
    crm_sql_bind_int64(ins, 10, as_of);
    crm_sql_bind_int64(ins, 11, refresh);
    int rc = crm_sql_step(ins);
    crm_sql_reset(ins);
    return rc < 0 ? rc : CRM_OK;
}

static const char *const upsert_sql =
    "INSERT INTO segmentation_rfm(contact_id, recency_days, frequency, monetary, last_order_at,"
    " r, f, m, segment, as_of, refresh_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT(contact_id) DO UPDATE SET recency_days = excluded.recency_days,"
    " frequency = excluded.frequency, monetary = excluded.monetary,"
    " last_order_at = excluded.last_order_at, r = excluded.r, f = excluded.f, m = excluded.m,"
    " segment = excluded.segment, as_of = excluded.as_of, refresh_id = excluded.refresh_id";

/* One stored row that differs from the computation: row `idx` of the set
 * (SIZE_MAX: the contact is no longer scored) and the index of its stored
 * segment in the refresh's slug table (0 = none). */
typedef struct rfm_change {
    size_t idx;
    int64_t cid;
    uint32_t old;
} rfm_change;

typedef struct rfm_diff {
    rfm_change *v;
    size_t n, cap;
    char (*slugs)[SEG_NAME_MAX]; /* [0] = "" (no segment), then each stored slug seen */
    size_t nslugs, capslugs;
} rfm_diff;

static int diff_push(rfm_diff *d, size_t idx, int64_t cid, uint32_t old)
{
    if (d->n == d->cap) {
        size_t c = d->cap ? d->cap * 2 : 1024;
        rfm_change *nv = realloc(d->v, c * sizeof *nv);
        if (!nv)
            return CRM_ENOMEM;
        d->v = nv;
        d->cap = c;
    }
    d->v[d->n++] = (rfm_change){idx, cid, old};
    return CRM_OK;
}

/* The index of slug `text` (NULL = none) in d's slug table, added when new;
 * UINT32_MAX when out of memory. */
static uint32_t diff_slug(rfm_diff *d, const char *text)
{
    if (!text || !*text)
        return 0;
    for (size_t i = 1; i < d->nslugs; i++)
        if (!strcmp(d->slugs[i], text))
            return (uint32_t)i;
    if (d->nslugs == d->capslugs) {
        size_t c = d->capslugs * 2;
        char(*ns)[SEG_NAME_MAX] = realloc(d->slugs, c * sizeof *ns);
        if (!ns)
            return UINT32_MAX;
        d->slugs = ns;
        d->capslugs = c;
    }
    snprintf(d->slugs[d->nslugs], SEG_NAME_MAX, "%s", text);
    return (uint32_t)d->nslugs++;
}

/* Compares the computed rows (sorted by contact id) with segmentation_rfm in
 * one walk of both, in memory: only rows that differ (values, scores or
 * segment), new ones and vanished ones become changes. The stored segment is
 * the contact's open RFM membership (both are written together, here and in
 * rfm_update_contact), so the membership diff needs no read of
 * segmentation_members. */
static int rfm_diff_stored(crm_plugin_ctx *ctx, const rfm_set *set, rfm_diff *d)
{
    memset(d, 0, sizeof *d);
    d->capslugs = 16;
    if (!(d->slugs = calloc(d->capslugs, sizeof *d->slugs)))
        return CRM_ENOMEM;
    d->nslugs = 1;
    crm_stmt *st = prep(ctx,
                        "SELECT contact_id, recency_days, frequency, monetary, last_order_at,"
                        " r, f, m, segment FROM segmentation_rfm ORDER BY contact_id",
                        0);
    if (!st)
        return fail_db(ctx, "reading stored RFM scores");
    size_t i = 0;
    int rc, oom = 0;
    while (!oom && (rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t cid = crm_sql_column_int64(st, 0);
        for (; !oom && i < set->n && set->rows[i].contact_id < cid; i++)
            oom = diff_push(d, i, set->rows[i].contact_id, 0) != CRM_OK; /* new */
        if (oom)
            break;
        const char *stored = crm_sql_column_text(st, 8);
        if (i < set->n && set->rows[i].contact_id == cid) {
            const seg_rfm_row *r = &set->rows[i];
            const char *slug = slug_of(r);
            int same = crm_sql_column_int64(st, 1) == r->recency_days &&
                       crm_sql_column_int64(st, 2) == r->frequency &&
                       crm_sql_column_int64(st, 3) == r->monetary &&
                       crm_sql_column_int64(st, 4) == r->last_at &&
                       crm_sql_column_int64(st, 5) == r->r && crm_sql_column_int64(st, 6) == r->f &&
                       crm_sql_column_int64(st, 7) == r->m &&
                       (slug && stored ? !strcmp(slug, stored) : !slug && !stored);
            if (!same) {
                uint32_t old = diff_slug(d, stored);
                oom = old == UINT32_MAX || diff_push(d, i, cid, old) != CRM_OK;
            }
            i++;
        } else { /* stored, no longer scored */
            uint32_t old = diff_slug(d, stored);
            oom = old == UINT32_MAX || diff_push(d, SIZE_MAX, cid, old) != CRM_OK;
        }
    }
    for (; !oom && i < set->n; i++)
        oom = diff_push(d, i, set->rows[i].contact_id, 0) != CRM_OK;
    crm_sql_finalize(st);
    if (oom) {
        crm_set_error(ctx, "out of memory comparing RFM scores");
        return CRM_ENOMEM;
    }
    return rc < 0 ? fail_db(ctx, "reading stored RFM scores") : CRM_OK;
}

static void rfm_diff_free(rfm_diff *d)
{
    free(d->v);
    free(d->slugs);
}

static int rfm_refresh(crm_plugin_ctx *ctx, int64_t as_of, int64_t *scored, int64_t *skipped,
                       int64_t *changed, char *currency_out)
{
    rfm_set set;
    seg_rfm_cuts cuts;
    rfm_diff d;
    memset(&d, 0, sizeof d);
    int rc = rfm_load(ctx, as_of, S.window_days, NULL, 0, &set);
    if (rc != CRM_OK)
        return rc;
    if (seg_rfm_score(set.rows, set.n, &cuts)) {
        free(set.rows);
        crm_set_error(ctx, "out of memory scoring %zu contacts", set.n);
        return CRM_ENOMEM;
    }
    crm_stmt *st = NULL;
    if ((rc = crm_begin(ctx)) != CRM_OK) {
        free(set.rows);
        return fail_db(ctx, "starting the refresh");
    }
    /* read inside the transaction: no event handler changes rows between the
     * comparison and the writes */
    if ((rc = rfm_diff_stored(ctx, &set, &d)) != CRM_OK)
        goto out;
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_refreshes(as_of, window_days, currency,"
                        " contacts, skipped_orders) VALUES (?1, ?2, ?3, ?4, ?5)",
                        &st) != CRM_OK)
        goto db;
    crm_sql_bind_int64(st, 1, as_of);
    crm_sql_bind_int64(st, 2, S.window_days);
    crm_sql_bind_text(st, 3, set.currency);
    crm_sql_bind_int64(st, 4, (int64_t)set.n);
    crm_sql_bind_int64(st, 5, set.skipped_orders);
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    st = NULL;
    if (rc < 0)
        goto db;
    int64_t refresh = crm_sql_last_insert_id(ctx);
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_cuts(refresh_id, metric, score, value)"
                        " VALUES (?1, ?2, ?3, ?4)",
                        &st) != CRM_OK)
        goto db;
    for (int s = 2; s <= SEG_SCORES; s++) {
        const char *names[3] = {"recency_days", "frequency", "monetary"};
        const int64_t *vals[3] = {cuts.recency, cuts.frequency, cuts.monetary};
        const unsigned char *has[3] = {cuts.has_recency, cuts.has_frequency, cuts.has_monetary};
        for (int k = 0; k < 3; k++) {
            if (!has[k][s])
                continue;
            crm_sql_reset(st);
            crm_sql_bind_int64(st, 1, refresh);
            crm_sql_bind_text(st, 2, names[k]);
            crm_sql_bind_int64(st, 3, s);
            crm_sql_bind_int64(st, 4, vals[k][s]);
            if (crm_sql_step(st) < 0)
                goto db;
        }
    }
    crm_sql_finalize(st);
    st = NULL;
    /* only what changed: scores (upsert or delete) and memberships */
    crm_stmt *ins = cached(ctx, &S.st_upsert, upsert_sql);
    crm_stmt *del = cached(ctx, &S.st_delete, "DELETE FROM segmentation_rfm WHERE contact_id = ?1");
    if (!ins || !del)
        goto db;
    for (size_t c = 0; c < d.n; c++) {
        const rfm_change *ch = &d.v[c];
        const char *slug = ch->idx == SIZE_MAX ? NULL : slug_of(&set.rows[ch->idx]);
        if (ch->idx != SIZE_MAX) {
            if (store_row(ins, &set.rows[ch->idx], slug, as_of, refresh) != CRM_OK)
                goto db;
        } else {
            crm_sql_reset(del);
            crm_sql_bind_int64(del, 1, ch->cid);
            rc = crm_sql_step(del);
            crm_sql_reset(del);
            if (rc < 0)
                goto db;
        }
        if ((rc = rfm_move(ctx, ch->cid, d.slugs[ch->old], slug, as_of)) != CRM_OK)
            goto out;
    }
    if ((rc = crm_commit(ctx)) != CRM_OK)
        goto db;
    S.cuts = cuts;
    S.cuts_refresh = refresh;
    S.cuts_window = S.window_days;
    snprintf(S.cuts_currency, sizeof S.cuts_currency, "%s", set.currency);
    if (scored)
        *scored = (int64_t)set.n;
    if (skipped)
        *skipped = set.skipped_orders;
    if (changed)
        *changed = (int64_t)d.n;
    if (currency_out)
        snprintf(currency_out, 8, "%s", set.currency);
    free(set.rows);
    rfm_diff_free(&d);
    return CRM_OK;
db:
    rc = fail_db(ctx, "refreshing RFM scores");
out:
    crm_sql_finalize(st);
    crm_rollback(ctx);
    free(set.rows);
    rfm_diff_free(&d);
    return rc;
}

/* Loads the latest refresh's cut points into S (cached). 0 when there is none. */
static int load_cuts(crm_plugin_ctx *ctx)
{
    int64_t id = scalar(ctx, 0, "SELECT max(id) FROM segmentation_refreshes", 0);
    if (id == 0)
        return 0;
    if (id == S.cuts_refresh)
        return 1;
    memset(&S.cuts, 0, sizeof S.cuts);
    crm_stmt *st = prep(ctx, "SELECT window_days, currency, contacts FROM segmentation_refreshes"
                             " WHERE id = ?1", 1, id);
    if (st && crm_sql_step(st) == CRM_SQL_ROW) {
        S.cuts_window = crm_sql_column_int64(st, 0);
        snprintf(S.cuts_currency, sizeof S.cuts_currency, "%s", crm_sql_column_text(st, 1));
        S.cuts.n = crm_sql_column_int64(st, 2);
    }
    crm_sql_finalize(st);
    st = prep(ctx, "SELECT metric, score, value FROM segmentation_cuts WHERE refresh_id = ?1", 1,
              id);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        const char *m = crm_sql_column_text(st, 0);
        int s = (int)crm_sql_column_int64(st, 1);
        int64_t v = crm_sql_column_int64(st, 2);
        if (s < 2 || s > SEG_SCORES || !m)
            continue;
        if (!strcmp(m, "recency_days"))
            S.cuts.recency[s] = v, S.cuts.has_recency[s] = 1;
        else if (!strcmp(m, "frequency"))
            S.cuts.frequency[s] = v, S.cuts.has_frequency[s] = 1;
        else if (!strcmp(m, "monetary"))
            S.cuts.monetary[s] = v, S.cuts.has_monetary[s] = 1;
    }
    crm_sql_finalize(st);
    S.cuts_refresh = id;
    return 1;
}

/* Re-scores one contact as of `at` against the stored cut points and moves
 * its RFM membership. Nothing happens before the first refresh. */
static int rfm_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    if (!load_cuts(ctx))
        return CRM_OK;
    rfm_set set;
    int rc = rfm_load(ctx, at, S.cuts_window, S.cuts_currency, cid, &set);
    if (rc != CRM_OK)
        return rc;
    char old[SEG_NAME_MAX];
    current_rfm_segment(ctx, cid, old, sizeof old);
    if (set.n == 0) {
        crm_stmt *del = cached(ctx, &S.st_delete,
                               "DELETE FROM segmentation_rfm WHERE contact_id = ?1");
        if (!del)
            rc = fail_db(ctx, "updating RFM scores");
        if (rc == CRM_OK) {
            crm_sql_bind_int64(del, 1, cid);
            rc = crm_sql_step(del);
            crm_sql_reset(del);
            rc = rc < 0 ? fail_db(ctx, "updating RFM scores") : CRM_OK;
        }
        if (rc == CRM_OK)
            rc = rfm_move(ctx, cid, old, NULL, at);
        free(set.rows);
        return rc;
    }
    seg_rfm_row *r = &set.rows[0];
    seg_rfm_score_with_cuts(&S.cuts, r);
    const char *slug = slug_of(r);
    crm_stmt *ins = cached(ctx, &S.st_upsert, upsert_sql);
    if (!ins || store_row(ins, r, slug, at, S.cuts_refresh) != CRM_OK)
        rc = fail_db(ctx, "updating RFM scores");
    if (rc == CRM_OK)
        rc = rfm_move(ctx, cid, old, slug, at);
    free(set.rows);
    return rc;
}

/* ---- rule segments ------------------------------------------------------------- */

static rule_segment *find_rule(const char *name)
{
    char slug[SEG_NAME_MAX];
    seg_slugify(name, slug, sizeof slug);
    for (size_t i = 0; i < S.nrules; i++)
        if (!strcmp(S.rules[i].slug, slug))
            return &S.rules[i];
    return NULL;
}

typedef struct idlist {
    int64_t *v;
    size_t n, cap;
} idlist;

static int idlist_push(idlist *l, int64_t id)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 256;
        int64_t *nv = realloc(l->v, c * sizeof *nv);
        if (!nv)
            return CRM_ENOMEM;
        l->v = nv;
        l->cap = c;
    }
    l->v[l->n++] = id;
    return CRM_OK;
}

/* Ids from a query whose first column is a contact id, in the order given. */
static int collect(crm_plugin_ctx *ctx, const char *sql, const char *text1, int64_t as_of,
                   idlist *out)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, sql, &st) != CRM_OK)
        return fail_db(ctx, "evaluating a segment");
    crm_sql_bind_int64(st, 1, as_of);
    if (text1)
        crm_sql_bind_text(st, 2, text1);
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW)
        if (idlist_push(out, crm_sql_column_int64(st, 0)) != CRM_OK) {
            rc = CRM_ENOMEM;
            break;
        }
    crm_sql_finalize(st);
    return rc < 0 ? fail_db(ctx, "evaluating a segment") : CRM_OK;
}

static int current_members(crm_plugin_ctx *ctx, const char *slug, idlist *out)
{
    return collect(ctx,
                   "SELECT contact_id FROM segmentation_members WHERE ?1 = ?1 AND segment = ?2"
                   " AND left_at IS NULL ORDER BY contact_id",
                   slug, 0, out);
}

static int matching(crm_plugin_ctx *ctx, const seg_cond *cond, int64_t as_of, idlist *out)
{
    char sql[9000];
    snprintf(sql, sizeof sql,
             "SELECT c.id FROM contacts c LEFT JOIN segmentation_rfm r ON r.contact_id = c.id"
             " WHERE %s ORDER BY c.id",
             cond->sql);
    return collect(ctx, sql, NULL, as_of, out);
}

/* Walks two sorted id lists: entering = in `want` only, leaving = in `have` only. */
static void diff_lists(const idlist *want, const idlist *have, idlist *enter, idlist *leave)
{
    size_t i = 0, j = 0;
    while (i < want->n || j < have->n) {
        int64_t a = i < want->n ? want->v[i] : INT64_MAX, b = j < have->n ? have->v[j] : INT64_MAX;
        if (a == b)
            i++, j++;
        else if (a < b)
            idlist_push(enter, a), i++;
        else
            idlist_push(leave, b), j++;
    }
}

static int lua_matching(crm_plugin_ctx *ctx, const char *spec, idlist *out);

static int rule_refresh(crm_plugin_ctx *ctx, rule_segment *rs, int64_t as_of, int64_t *nin,
                        int64_t *nout)
{
    idlist want = {0}, have = {0}, enter = {0}, leave = {0};
    int rc = rs->is_lua ? lua_matching(ctx, rs->lua_spec, &want)
                        : matching(ctx, &rs->cond, as_of, &want);
    if (rc == CRM_OK)
        rc = current_members(ctx, rs->slug, &have);
    if (rc == CRM_OK) {
        diff_lists(&want, &have, &enter, &leave);
        for (size_t i = 0; rc == CRM_OK && i < leave.n; i++)
            rc = member_leave(ctx, rs->slug, "rule", leave.v[i], as_of);
        for (size_t i = 0; rc == CRM_OK && i < enter.n; i++)
            rc = member_enter(ctx, rs->slug, "rule", enter.v[i], as_of);
    }
    if (nin)
        *nin = (int64_t)enter.n;
    if (nout)
        *nout = (int64_t)leave.n;
    free(want.v), free(have.v), free(enter.v), free(leave.v);
    return rc;
}

/* Evaluates `sql_expr` for one contact: 1, 0, or a negative error. */
static int eval_for(crm_plugin_ctx *ctx, const char *sql_expr, int64_t cid, int64_t as_of)
{
    char sql[9000];
    snprintf(sql, sizeof sql,
             "SELECT CASE WHEN %s THEN 1 ELSE 0 END FROM contacts c LEFT JOIN segmentation_rfm r"
             " ON r.contact_id = c.id WHERE c.id = ?2",
             sql_expr);
    crm_stmt *st = prep(ctx, sql, 2, as_of, cid);
    if (!st)
        return fail_db(ctx, "evaluating a segment");
    int rc = crm_sql_step(st);
    int v = rc == CRM_SQL_ROW ? (int)crm_sql_column_int64(st, 0) : 0;
    crm_sql_finalize(st);
    return rc < 0 ? fail_db(ctx, "evaluating a segment") : v;
}

/* Evaluates Lua rule `spec` for one contact through the host's rule engine
 * (sandboxed, with crm.yaml's limits): 1 when it holds (any result but
 * false or nil), 0 when not, or a negative error with the rule's message and
 * cause. *reasons (may be NULL) gets the rule's reasons array. */
static int lua_holds(crm_plugin_ctx *ctx, const char *spec, int64_t cid, json_t **reasons)
{
    char *res = NULL, *err = NULL, *cause = NULL;
    if (reasons)
        *reasons = NULL;
    int rc = crm_call_rule(ctx, spec, cid, &res, &err, &cause);
    if (rc != CRM_OK) {
        /* the engine's message names the rule, file:line, contact and cause */
        crm_set_error(ctx, "%s", err ? err : crm_last_error(ctx));
        crm_free(ctx, res);
        crm_free(ctx, err);
        crm_free(ctx, cause);
        return rc < 0 ? rc : CRM_ESCRIPT;
    }
    json_t *o = json_loads(res, 0, NULL);
    crm_free(ctx, res);
    json_t *v = json_object_get(o, "result");
    int yes = v && !json_is_false(v) && !json_is_null(v);
    if (reasons)
        *reasons = json_incref(json_object_get(o, "reasons"));
    json_decref(o);
    return yes;
}

/* What rule_each's callback collects for lua_matching. */
typedef struct lua_scan {
    idlist *out;
    int64_t evaluated, failed;
    int64_t by_cause[4]; /* memory, instructions, blocked, runtime */
    char first[768];     /* the first failure's message */
} lua_scan;

static int lua_scan_row(void *ud, int64_t cid, const char *result, const char *error,
                        const char *cause)
{
    lua_scan *ls = ud;
    ls->evaluated++;
    if (!result) {
        static const char *const causes[4] = {"memory", "instructions", "blocked", "runtime"};
        for (int k = 0; k < 4; k++)
            if (cause && !strcmp(cause, causes[k]))
                ls->by_cause[k]++;
        if (!ls->failed++)
            snprintf(ls->first, sizeof ls->first, "%s", error ? error : "");
        return CRM_OK;
    }
    /* holds: any result but false or null (as lua_holds) */
    if (strcmp(result, "false") != 0 && strcmp(result, "null") != 0)
        return idlist_push(ls->out, cid);
    return CRM_OK;
}

/* Contacts for which Lua rule `spec` holds, in id order. SDK 1.2 hosts
 * evaluate it over every contact in one scan (rule_each); older ones once per
 * contact (call_rule). A rule failing for any contact fails the whole
 * evaluation (a membership is never decided from a failed rule): the message
 * counts the failures by cause and quotes the first. */
static int lua_matching(crm_plugin_ctx *ctx, const char *spec, idlist *out)
{
    if (!CRM_API_HAS(ctx, rule_each) || !CRM_API_AT_LEAST(ctx, 1, 2)) {
        idlist all = {0};
        int rc = collect(ctx, "SELECT id FROM contacts WHERE ?1 = ?1 ORDER BY id", NULL, 0, &all);
        for (size_t i = 0; rc == CRM_OK && i < all.n; i++) {
            int v = lua_holds(ctx, spec, all.v[i], NULL);
            if (v < 0)
                rc = v;
            else if (v && idlist_push(out, all.v[i]) != CRM_OK)
                rc = CRM_ENOMEM;
        }
        free(all.v);
        return rc;
    }
    lua_scan ls = {.out = out};
    int rc = crm_rule_each(ctx, spec, NULL, lua_scan_row, &ls);
    if (rc == CRM_ENOMEM) {
        crm_set_error(ctx, "out of memory evaluating %s", spec);
        return rc;
    }
    if (rc != CRM_OK && !ls.failed)
        return rc; /* unknown rule, bad spec...: the host's message stands */
    if (ls.failed) {
        char causes[160] = "";
        static const char *const names[4] = {"memory", "instructions", "blocked", "runtime"};
        size_t len = 0;
        for (int k = 0; k < 4; k++)
            if (ls.by_cause[k])
                len += (size_t)snprintf(causes + len, sizeof causes - len, "%s%s: %lld",
                                        len ? ", " : "", names[k], (long long)ls.by_cause[k]);
        crm_set_error(ctx, "Lua rule %s failed for %lld of %lld contacts evaluated (%s)%s; "
                           "first: %s",
                      spec, (long long)ls.failed, (long long)ls.evaluated, causes,
                      rc == CRM_ESCRIPT ? ", stopped at lua.max_failures" : "", ls.first);
        return CRM_ESCRIPT;
    }
    return CRM_OK;
}

/* Whether rule segment rs holds for one contact: 1, 0 or a negative error. */
static int segment_holds(crm_plugin_ctx *ctx, const rule_segment *rs, int64_t cid, int64_t as_of)
{
    return rs->is_lua ? lua_holds(ctx, rs->lua_spec, cid, NULL)
                      : eval_for(ctx, rs->cond.sql, cid, as_of);
}

static int is_member(crm_plugin_ctx *ctx, const char *slug, int64_t cid)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "SELECT 1 FROM segmentation_members WHERE segment = ?1 AND contact_id = ?2"
                        " AND left_at IS NULL",
                        &st) != CRM_OK)
        return 0;
    crm_sql_bind_text(st, 1, slug);
    crm_sql_bind_int64(st, 2, cid);
    int v = crm_sql_step(st) == CRM_SQL_ROW;
    crm_sql_finalize(st);
    return v;
}

/* Re-evaluates every rule segment for one contact, in declaration order. */
static int rules_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at)
{
    for (size_t i = 0; i < S.nrules; i++) {
        rule_segment *rs = &S.rules[i];
        if (rs->is_static)
            continue;
        int want = segment_holds(ctx, rs, cid, at);
        if (want < 0)
            return want;
        int have = is_member(ctx, rs->slug, cid);
        int rc = CRM_OK;
        if (want && !have)
            rc = member_enter(ctx, rs->slug, "rule", cid, at);
        else if (!want && have)
            rc = member_leave(ctx, rs->slug, "rule", cid, at);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- churn ----------------------------------------------------------------------- */

/* churn.rule: the Lua score function replaces the points score; its reasons
 * (strings) become the score's reasons (code "rule", no points of their own). */
static int churn_override(crm_plugin_ctx *ctx, int64_t cid, seg_churn_result *res)
{
    char *out = NULL, *err = NULL, *cause = NULL;
    int rc = crm_call_rule(ctx, S.churn_rule, cid, &out, &err, &cause);
    if (rc != CRM_OK) {
        crm_set_error(ctx, "segmentation.churn.rule: %s", err ? err : crm_last_error(ctx));
        crm_free(ctx, out);
        crm_free(ctx, err);
        crm_free(ctx, cause);
        return rc < 0 ? rc : CRM_ESCRIPT;
    }
    json_t *o = json_loads(out, 0, NULL);
    crm_free(ctx, out);
    json_t *v = json_object_get(o, "result");
    if (!json_is_number(v)) {
        json_decref(o);
        crm_set_error(ctx, "churn rule %s: contact %lld: expected a number (and a list of "
                           "reasons)", S.churn_rule, (long long)cid);
        return CRM_ESCRIPT;
    }
    double score = json_number_value(v);
    res->score = (int64_t)(score < 0 ? score - 0.5 : score + 0.5);
    res->level = seg_churn_level(&S.churn, res->score);
    res->nreasons = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "reasons"), i, r) {
        if (res->nreasons >= SEG_CHURN_MAX_REASONS || !json_is_string(r))
            continue;
        seg_churn_reason *x = &res->reasons[res->nreasons++];
        snprintf(x->code, sizeof x->code, "rule");
        x->points = 0;
        snprintf(x->text, sizeof x->text, "%s", json_string_value(r));
    }
    json_decref(o);
    return CRM_OK;
}

static int churn_compute(crm_plugin_ctx *ctx, int64_t cid, int64_t as_of, seg_churn_result *res,
                         int64_t *ltv)
{
    seg_churn_input in;
    memset(&in, 0, sizeof in);
    *ltv = 0;
    crm_stmt *st = prep(ctx,
                        "SELECT placed_at, total, currency FROM orders WHERE contact_id = ?1 AND"
                        " status IN ('placed','paid') AND placed_at < ?2 ORDER BY placed_at",
                        2, cid, as_of);
    if (!st)
        return fail_db(ctx, "reading orders");
    int64_t prev = 0, gaps[512];
    size_t ng = 0;
    const char *cur = S.cuts_currency[0] ? S.cuts_currency : (S.currency[0] ? S.currency : NULL);
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        int64_t at = crm_sql_column_int64(st, 0);
        const char *c = crm_sql_column_text(st, 2);
        if (!cur || (c && !strcmp(c, cur)))
            *ltv += crm_sql_column_int64(st, 1);
        if (in.orders > 0 && ng < sizeof gaps / sizeof gaps[0])
            gaps[ng++] = (at - prev) / SEG_DAY_SECONDS;
        prev = at;
        in.orders++;
    }
    crm_sql_finalize(st);
    if (in.orders > 0)
        in.days_since_last = seg_rfm_recency_days(prev, as_of);
    in.cycle_days = seg_median(gaps, ng);
    int64_t start = as_of - S.churn.window_days * SEG_DAY_SECONDS;
    in.emails_sent = scalar(ctx, 0,
                            "SELECT count(*) FROM interactions WHERE contact_id = ?1 AND"
                            " channel = 'email' AND direction = 'out' AND occurred_at < ?2 AND"
                            " occurred_at >= ?3",
                            3, cid, as_of, start);
    in.emails_engaged = scalar(ctx, 0,
                               "SELECT count(*) FROM interactions WHERE contact_id = ?1 AND"
                               " channel = 'email' AND occurred_at < ?2 AND occurred_at >= ?3 AND"
                               " (direction = 'in' OR lower(subject) LIKE 'open%' OR"
                               " lower(subject) LIKE 'click%')",
                               3, cid, as_of, start);
    if (S.churn.nsignals) {
        st = prep(ctx,
                  "SELECT channel, subject FROM interactions WHERE contact_id = ?1 AND"
                  " occurred_at < ?2 AND occurred_at >= ?3",
                  3, cid, as_of, start);
        while (st && crm_sql_step(st) == CRM_SQL_ROW)
            for (size_t i = 0; i < S.churn.nsignals; i++)
                if (seg_churn_signal_matches(&S.churn.signals[i], crm_sql_column_text(st, 0),
                                             crm_sql_column_text(st, 1)))
                    in.signal_counts[i]++;
        crm_sql_finalize(st);
    }
    seg_churn_score(&S.churn, &in, res);
    return S.churn_rule[0] ? churn_override(ctx, cid, res) : CRM_OK;
}

static json_t *reasons_json(const seg_churn_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nreasons; i++)
        json_array_append_new(a, json_pack("{sssIss}", "code", r->reasons[i].code, "points",
                                           (json_int_t)r->reasons[i].points, "text",
                                           r->reasons[i].text));
    return a;
}

/* Computes, stores, and emits churn.risk_raised when the level went up. */
static int churn_update_contact(crm_plugin_ctx *ctx, int64_t cid, int64_t at, int *raised)
{
    seg_churn_result res;
    int64_t ltv;
    int rc = churn_compute(ctx, cid, at, &res, &ltv);
    if (rc != CRM_OK)
        return rc;
    int64_t old_level = scalar(ctx, 0, "SELECT level FROM segmentation_churn WHERE contact_id = ?1",
                               1, cid);
    json_t *reasons = reasons_json(&res);
    char *rj = json_dumps(reasons, JSON_COMPACT | JSON_PRESERVE_ORDER);
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "INSERT INTO segmentation_churn(contact_id, score, level, reasons,"
                        " computed_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(contact_id) DO"
                        " UPDATE SET score = excluded.score, level = excluded.level,"
                        " reasons = excluded.reasons, computed_at = excluded.computed_at",
                        &st) != CRM_OK) {
        free(rj);
        json_decref(reasons);
        return fail_db(ctx, "storing a churn score");
    }
    crm_sql_bind_int64(st, 1, cid);
    crm_sql_bind_int64(st, 2, res.score);
    crm_sql_bind_int64(st, 3, res.level);
    crm_sql_bind_text(st, 4, rj ? rj : "[]");
    crm_sql_bind_int64(st, 5, at);
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    free(rj);
    if (rc < 0) {
        json_decref(reasons);
        return fail_db(ctx, "storing a churn score");
    }
    rc = CRM_OK;
    if (res.level > old_level) {
        json_t *p = json_pack("{sIsIsIsIsO}", "contact_id", (json_int_t)cid, "score",
                              (json_int_t)res.score, "level", (json_int_t)res.level,
                              "lifetime_value", (json_int_t)ltv, "reasons", reasons);
        char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(p);
        rc = s ? crm_emit_event(ctx, "churn.risk_raised", s) : CRM_ENOMEM;
        free(s);
        if (raised)
            (*raised)++;
    }
    json_decref(reasons);
    return rc;
}

/* ---- commands ---------------------------------------------------------------------- */

static int usage(crm_plugin_ctx *ctx, const char *text)
{
    int noun = (int)strcspn(text, " ");
    crm_set_error(ctx, "usage: crm %s (see crm %.*s --help)", text, noun, text);
    return CRM_EUSAGE;
}

/* The value of option `name` in argv (NULL when absent). */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

/* The n-th positional argument after argv[0] (options and their values skipped). */
static const char *positional(int argc, char **argv, int n)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            if (strcmp(argv[i], "--fresh") && strcmp(argv[i], "--dry-run"))
                i++;
            continue;
        }
        if (n-- == 0)
            return argv[i];
    }
    return NULL;
}

/* A contact by id, external_id or email; 0 when not found (error set). */
static int64_t resolve_contact(crm_plugin_ctx *ctx, const char *ref)
{
    char *end;
    long long id = strtoll(ref, &end, 10);
    int64_t found = 0;
    if (!*end && id > 0)
        found = scalar(ctx, 0, "SELECT id FROM contacts WHERE id = ?1", 1, (int64_t)id);
    if (!found) {
        crm_stmt *st = NULL;
        if (crm_sql_prepare(ctx, "SELECT id FROM contacts WHERE external_id = ?1 OR email = ?1",
                            &st) == CRM_OK) {
            crm_sql_bind_text(st, 1, strncmp(ref, "ext:", 4) ? ref : ref + 4);
            if (crm_sql_step(st) == CRM_SQL_ROW)
                found = crm_sql_column_int64(st, 0);
            crm_sql_finalize(st);
        }
    }
    if (!found)
        crm_set_error(ctx, "no contact \"%s\" (give an id, external id or email; see crm contact "
                           "list)", ref);
    return found;
}

static int cmd_rfm(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0);
    FILE *out = crm_io_out(io);
    int json = crm_io_json(io);
    int64_t as_of = crm_now(ctx);
    if (!sub)
        return usage(ctx, "rfm refresh|list|show|grid");
    if (!strcmp(sub, "refresh")) {
        int64_t n = 0, skipped = 0, changed = 0;
        char cur[8] = "";
        int rc = rfm_refresh(ctx, as_of, &n, &skipped, &changed, cur);
        if (rc != CRM_OK)
            return rc;
        if (json)
            print_json(io, json_pack("{sIsIsIsssIsI}", "as_of", (json_int_t)as_of, "contacts",
                                     (json_int_t)n, "window_days", (json_int_t)S.window_days,
                                     "currency", cur, "skipped_orders", (json_int_t)skipped,
                                     "changed", (json_int_t)changed));
        else
        {
            char day[32];
            fprintf(out, "scored %lld contacts as of %s (window %lld days, %s), %lld changed\n",
                    (long long)n, fmt_day(as_of, day, sizeof day), (long long)S.window_days, cur,
                    (long long)changed);
        }
        if (skipped)
            crm_log(ctx, CRM_LOG_WARN,
                    "%lld qualifying orders in another currency than %s were left out",
                    (long long)skipped, cur);
        return CRM_OK;
    }
    if (!strcmp(sub, "list")) {
        const char *seg = opt(argc, argv, "--segment");
        rfm_set set = {0};
        if (has_flag(argc, argv, "--fresh")) {
            /* computed from the orders as of now, nothing stored */
            int rc = rfm_load(ctx, as_of, S.window_days, NULL, 0, &set);
            if (rc != CRM_OK)
                return rc;
            if (seg_rfm_score(set.rows, set.n, NULL)) {
                free(set.rows);
                return CRM_ENOMEM;
            }
        } else {
            crm_stmt *st = prep(ctx, "SELECT contact_id, recency_days, frequency, monetary, r, f,"
                                     " m, last_order_at FROM segmentation_rfm ORDER BY contact_id", 0);
            while (st && crm_sql_step(st) == CRM_SQL_ROW) {
                if (set.n == set.cap) {
                    set.cap = set.cap ? set.cap * 2 : 1024;
                    seg_rfm_row *nr = realloc(set.rows, set.cap * sizeof *nr);
                    if (!nr) {
                        crm_sql_finalize(st);
                        free(set.rows);
                        return CRM_ENOMEM;
                    }
                    set.rows = nr;
                }
                seg_rfm_row *r = &set.rows[set.n++];
                r->contact_id = crm_sql_column_int64(st, 0);
                r->recency_days = crm_sql_column_int64(st, 1);
                r->frequency = crm_sql_column_int64(st, 2);
                r->monetary = crm_sql_column_int64(st, 3);
                r->r = (int)crm_sql_column_int64(st, 4);
                r->f = (int)crm_sql_column_int64(st, 5);
                r->m = (int)crm_sql_column_int64(st, 6);
                r->last_at = crm_sql_column_int64(st, 7);
            }
            crm_sql_finalize(st);
        }
        crm_stmt *ext = NULL;
        crm_sql_prepare(ctx, "SELECT external_id FROM contacts WHERE id = ?1", &ext);
        if (!json)
            fprintf(out, "%-10s %-16s %8s %6s %12s  R F M  %s\n", "contact", "external_id",
                    "recency", "freq", "monetary", "segment");
        for (size_t i = 0; i < set.n; i++) {
            seg_rfm_row *r = &set.rows[i];
            const char *slug = slug_of(r);
            if (seg && (!slug || strcmp(slug, seg)))
                continue;
            const char *x = NULL;
            if (ext) {
                crm_sql_reset(ext);
                crm_sql_bind_int64(ext, 1, r->contact_id);
                if (crm_sql_step(ext) == CRM_SQL_ROW)
                    x = crm_sql_column_text(ext, 0);
            }
            if (json)
                print_json(io, json_pack("{sIss?sIsIsIsisisiss?ss?}", "contact_id",
                                         (json_int_t)r->contact_id, "external_id", x,
                                         "recency_days", (json_int_t)r->recency_days, "frequency",
                                         (json_int_t)r->frequency, "monetary",
                                         (json_int_t)r->monetary, "r", r->r, "f", r->f, "m", r->m,
                                         "segment", slug, "segment_name",
                                         slug ? grid_name(slug) : NULL));
            else
                fprintf(out, "%-10lld %-16s %8lld %6lld %12lld  %d %d %d  %s\n",
                        (long long)r->contact_id, x ? x : "", (long long)r->recency_days,
                        (long long)r->frequency, (long long)r->monetary, r->r, r->f, r->m,
                        slug ? grid_name(slug) : "-");
        }
        crm_sql_finalize(ext);
        free(set.rows);
        return CRM_OK;
    }
    if (!strcmp(sub, "show")) {
        const char *ref = positional(argc, argv, 1);
        if (!ref)
            return usage(ctx, "rfm show CONTACT");
        int64_t cid = resolve_contact(ctx, ref);
        if (!cid)
            return CRM_ENOTFOUND;
        int have_cuts = load_cuts(ctx);
        /* a refresh leaves rows it found unchanged alone: such a row (an older
         * refresh_id) holds as of the latest refresh */
        crm_stmt *st = prep(ctx, "SELECT x.recency_days, x.frequency, x.monetary, x.r, x.f, x.m,"
                                 " x.segment, CASE WHEN x.refresh_id < l.id THEN l.as_of ELSE"
                                 " x.as_of END FROM segmentation_rfm x LEFT JOIN"
                                 " segmentation_refreshes l ON l.id = (SELECT max(id) FROM"
                                 " segmentation_refreshes) WHERE x.contact_id = ?1", 1, cid);
        if (!st || crm_sql_step(st) != CRM_SQL_ROW) {
            crm_sql_finalize(st);
            crm_set_error(ctx, "contact %lld is not scored: no qualifying order (placed or paid, "
                               "in the window) as of the last refresh; run crm rfm refresh",
                          (long long)cid);
            return CRM_ENOTFOUND;
        }
        int64_t rd = crm_sql_column_int64(st, 0), fr = crm_sql_column_int64(st, 1),
                mo = crm_sql_column_int64(st, 2), as = crm_sql_column_int64(st, 7);
        int r = (int)crm_sql_column_int64(st, 3), f = (int)crm_sql_column_int64(st, 4),
            m = (int)crm_sql_column_int64(st, 5);
        char slug[SEG_NAME_MAX] = "";
        if (crm_sql_column_text(st, 6))
            snprintf(slug, sizeof slug, "%s", crm_sql_column_text(st, 6));
        crm_sql_finalize(st);
        if (json) {
            json_t *cuts = json_object();
            if (have_cuts) {
                json_t *a = json_array(), *b = json_array(), *c = json_array();
                for (int s = 2; s <= 5; s++) {
                    json_array_append_new(a, S.cuts.has_recency[s] ? json_integer(S.cuts.recency[s]) : json_null());
                    json_array_append_new(b, S.cuts.has_frequency[s] ? json_integer(S.cuts.frequency[s]) : json_null());
                    json_array_append_new(c, S.cuts.has_monetary[s] ? json_integer(S.cuts.monetary[s]) : json_null());
                }
                json_object_set_new(cuts, "recency_days_max", a);
                json_object_set_new(cuts, "frequency_min", b);
                json_object_set_new(cuts, "monetary_min", c);
            }
            print_json(io, json_pack("{sIsIsIsIsisisisssssIso}", "contact_id", (json_int_t)cid,
                                     "recency_days", (json_int_t)rd, "frequency", (json_int_t)fr,
                                     "monetary", (json_int_t)mo, "r", r, "f", f, "m", m,
                                     "segment", slug, "segment_name", grid_name(slug), "as_of",
                                     (json_int_t)as, "cuts_for_scores_2_to_5", cuts));
            return CRM_OK;
        }
        char day[32];
        fprintf(out, "contact %lld as of %s\n", (long long)cid, fmt_day(as, day, sizeof day));
        fprintf(out, "  recency   %lld days -> R%d\n", (long long)rd, r);
        fprintf(out, "  frequency %lld orders -> F%d\n", (long long)fr, f);
        fprintf(out, "  monetary  %lld (minor units) -> M%d\n", (long long)mo, m);
        if (have_cuts) {
            fprintf(out, "  cut points (score: R needs at most days / F, M need at least):\n");
            for (int s = 2; s <= 5; s++)
                fprintf(out, "    %d: R<=%lld F>=%lld M>=%lld\n", s,
                        (long long)S.cuts.recency[s], (long long)S.cuts.frequency[s],
                        (long long)S.cuts.monetary[s]);
        }
        fprintf(out, "  segment   %s (R%d F%d, first matching grid cell)\n",
                slug[0] ? grid_name(slug) : "-", r, f);
        return CRM_OK;
    }
    if (!strcmp(sub, "grid")) {
        int64_t cells[6][6] = {{0}}, total = 0, revenue = 0;
        int64_t *seg_n = calloc(S.grid.n + 1, sizeof *seg_n), *seg_rev = calloc(S.grid.n + 1, sizeof *seg_rev);
        if (!seg_n || !seg_rev) {
            free(seg_n), free(seg_rev);
            return CRM_ENOMEM;
        }
        crm_stmt *st = prep(ctx, "SELECT r, f, monetary FROM segmentation_rfm", 0);
        while (st && crm_sql_step(st) == CRM_SQL_ROW) {
            int r = (int)crm_sql_column_int64(st, 0), f = (int)crm_sql_column_int64(st, 1);
            int64_t mo = crm_sql_column_int64(st, 2);
            if (r < 1 || r > 5 || f < 1 || f > 5)
                continue;
            cells[r][f]++;
            total++;
            revenue += mo;
            int k = seg_grid_match(&S.grid, r, f);
            k = k < 0 ? (int)S.grid.n : k;
            seg_n[k]++;
            seg_rev[k] += mo;
        }
        crm_sql_finalize(st);
        if (json) {
            json_t *m = json_array(), *segs = json_array();
            for (int r = 5; r >= 1; r--) {
                json_t *row = json_array();
                for (int f = 1; f <= 5; f++)
                    json_array_append_new(row, json_integer(cells[r][f]));
                json_array_append_new(m, row);
            }
            for (size_t k = 0; k < S.grid.n; k++)
                json_array_append_new(
                    segs, json_pack("{sssssIsfsIsf}", "segment", S.cells[k].slug, "name",
                                    S.cells[k].name, "customers", (json_int_t)seg_n[k],
                                    "customer_share", total ? (double)seg_n[k] / total : 0.0,
                                    "revenue", (json_int_t)seg_rev[k], "revenue_share",
                                    revenue ? (double)seg_rev[k] / revenue : 0.0));
            print_json(io, json_pack("{sososIsI}", "matrix_r5_to_r1_by_f1_to_f5", m, "segments",
                                     segs, "customers", (json_int_t)total, "revenue",
                                     (json_int_t)revenue));
        } else {
            fprintf(out, "      F1      F2      F3      F4      F5\n");
            for (int r = 5; r >= 1; r--) {
                fprintf(out, "R%d", r);
                for (int f = 1; f <= 5; f++)
                    fprintf(out, " %7lld", (long long)cells[r][f]);
                fprintf(out, "\n");
            }
            fprintf(out, "\n%-22s %10s %9s %9s\n", "segment", "customers", "share", "revenue");
            for (size_t k = 0; k < S.grid.n; k++)
                fprintf(out, "%-22s %10lld %8.1f%% %8.1f%%\n", S.cells[k].name, (long long)seg_n[k],
                        total ? 100.0 * seg_n[k] / total : 0.0,
                        revenue ? 100.0 * seg_rev[k] / revenue : 0.0);
        }
        free(seg_n), free(seg_rev);
        return CRM_OK;
    }
    return usage(ctx, "rfm refresh|list [--segment SLUG] [--fresh]|show CONTACT|grid");
}

static void print_ids(crm_command_io *io, const char *label, const idlist *l)
{
    FILE *out = crm_io_out(io);
    for (size_t i = 0; i < l->n; i++) {
        if (crm_io_json(io))
            print_json(io, json_pack("{sssI}", "change", label, "contact_id", (json_int_t)l->v[i]));
        else
            fprintf(out, "%s %lld\n", label, (long long)l->v[i]);
    }
}

/* True when a --rule argument names a Lua rule: FILE.lua:FUNCTION, or a
 * word that is not a readable file (a rule name from crm.yaml rules:). */
static int is_lua_spec(const char *arg)
{
    const char *colon = strrchr(arg, ':');
    if (colon && colon - arg > 4 && !strncmp(colon - 4, ".lua", 4))
        return 1;
    FILE *f = fopen(arg, "rb");
    if (f) {
        fclose(f);
        return 0;
    }
    return !strchr(arg, '/') && !strchr(arg, '.') && !colon;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 8192);
    size_t n = buf ? fread(buf, 1, 8191, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

static int cmd_segment(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0), *name = positional(argc, argv, 1);
    FILE *out = crm_io_out(io);
    int json = crm_io_json(io);
    int64_t as_of = crm_now(ctx);
    if (!sub)
        return usage(ctx, "segment list|members|refresh|explain|diff|add|remove");
    if (!strcmp(sub, "list")) {
        crm_stmt *st = prep(ctx, "SELECT segment, kind, count(*) FROM segmentation_members WHERE"
                                 " left_at IS NULL GROUP BY segment, kind", 0);
        char slugs[128][SEG_NAME_MAX];
        int64_t counts[128];
        size_t n = 0;
        while (st && crm_sql_step(st) == CRM_SQL_ROW && n < 128) {
            snprintf(slugs[n], SEG_NAME_MAX, "%s", crm_sql_column_text(st, 0));
            counts[n++] = crm_sql_column_int64(st, 2);
        }
        crm_sql_finalize(st);
        for (size_t k = 0; k < S.grid.n + S.nrules; k++) {
            const char *slug = k < S.grid.n ? S.cells[k].slug : S.rules[k - S.grid.n].slug;
            const rule_segment *rk = k < S.grid.n ? NULL : &S.rules[k - S.grid.n];
            const char *kind = !rk ? "rfm" : rk->is_static ? "static" : rk->is_lua ? "lua" : "rule";
            int64_t c = 0;
            for (size_t i = 0; i < n; i++)
                if (!strcmp(slugs[i], slug))
                    c = counts[i];
            if (json)
                print_json(io, json_pack("{sssssssI}", "segment", slug, "name", grid_name(slug),
                                         "kind", kind, "members", (json_int_t)c));
            else
                fprintf(out, "%-24s %-7s %10lld  %s\n", slug, kind, (long long)c, grid_name(slug));
        }
        return CRM_OK;
    }
    if (!strcmp(sub, "members")) {
        if (!name)
            return usage(ctx, "segment members NAME");
        char slug[SEG_NAME_MAX];
        seg_slugify(name, slug, sizeof slug);
        crm_stmt *st = NULL;
        if (crm_sql_prepare(ctx, "SELECT m.contact_id, c.external_id, m.entered_at FROM"
                                 " segmentation_members m LEFT JOIN contacts c ON c.id ="
                                 " m.contact_id WHERE m.segment = ?1 AND m.left_at IS NULL"
                                 " ORDER BY m.contact_id", &st) != CRM_OK)
            return fail_db(ctx, "listing members");
        crm_sql_bind_text(st, 1, slug);
        while (crm_sql_step(st) == CRM_SQL_ROW) {
            const char *x = crm_sql_column_text(st, 1);
            if (json)
                print_json(io, json_pack("{sIss?sI}", "contact_id",
                                         (json_int_t)crm_sql_column_int64(st, 0), "external_id",
                                         x, "entered_at", (json_int_t)crm_sql_column_int64(st, 2)));
            else
                fprintf(out, "%lld\t%s\t%lld\n", (long long)crm_sql_column_int64(st, 0), x ? x : "",
                        (long long)crm_sql_column_int64(st, 2));
        }
        crm_sql_finalize(st);
        return CRM_OK;
    }
    if (!strcmp(sub, "history")) {
        if (!name)
            return usage(ctx, "segment history NAME");
        char slug[SEG_NAME_MAX];
        seg_slugify(name, slug, sizeof slug);
        crm_stmt *st = NULL;
        if (crm_sql_prepare(ctx, "SELECT contact_id, entered_at, left_at FROM segmentation_members"
                                 " WHERE segment = ?1 ORDER BY id", &st) != CRM_OK)
            return fail_db(ctx, "reading history");
        crm_sql_bind_text(st, 1, slug);
        while (crm_sql_step(st) == CRM_SQL_ROW) {
            json_t *left = crm_sql_column_type(st, 2) == CRM_SQL_NULL ? json_null() : json_integer(crm_sql_column_int64(st, 2));
            if (json)
                print_json(io, json_pack("{sIsIso}", "contact_id", (json_int_t)crm_sql_column_int64(st, 0),
                                         "entered_at", (json_int_t)crm_sql_column_int64(st, 1), "left_at", left));
            else {
                fprintf(out, "%lld\t%lld\t%s\n", (long long)crm_sql_column_int64(st, 0),
                        (long long)crm_sql_column_int64(st, 1), crm_sql_column_text(st, 2) ? crm_sql_column_text(st, 2) : "-");
                json_decref(left);
            }
        }
        crm_sql_finalize(st);
        return CRM_OK;
    }
    if (!strcmp(sub, "refresh")) {
        int rc = crm_begin(ctx);
        for (size_t i = 0; rc == CRM_OK && i < S.nrules; i++) {
            rule_segment *rs = &S.rules[i];
            if (rs->is_static || (name && !find_rule(name)))
                continue;
            if (name && find_rule(name) != rs)
                continue;
            int64_t in = 0, left = 0;
            rc = rule_refresh(ctx, rs, as_of, &in, &left);
            if (rc == CRM_OK) {
                if (json)
                    print_json(io, json_pack("{sssIsI}", "segment", rs->slug, "entered",
                                             (json_int_t)in, "left", (json_int_t)left));
                else
                    fprintf(out, "%s: %lld entered, %lld left\n", rs->slug, (long long)in,
                            (long long)left);
            }
        }
        if (name && !find_rule(name) && rc == CRM_OK) {
            crm_rollback(ctx);
            crm_set_error(ctx, "no rule segment \"%s\" in crm.yaml segmentation.segments (RFM "
                               "segments are refreshed by crm rfm refresh)", name);
            return CRM_ENOTFOUND;
        }
        if (rc == CRM_OK)
            rc = crm_commit(ctx);
        else
            crm_rollback(ctx);
        return rc;
    }
    if (!strcmp(sub, "explain") || !strcmp(sub, "diff")) {
        rule_segment *rs = name ? find_rule(name) : NULL;
        if (!name)
            return usage(ctx, "segment explain NAME --contact ID | segment diff NAME --rule FILE");
        if (!rs && strcmp(sub, "diff")) {
            crm_set_error(ctx, "no rule segment \"%s\" (see crm segment list)", name);
            return CRM_ENOTFOUND;
        }
        seg_cond alt, *cond = rs ? &rs->cond : NULL;
        if (!strcmp(sub, "diff")) {
            const char *file = opt(argc, argv, "--rule"), *where = opt(argc, argv, "--where");
            const char *lua = file && is_lua_spec(file) ? file : NULL;
            char *text = lua ? NULL : file ? read_file(file) : where ? strdup(where) : NULL;
            if (!text && !lua) {
                if (file)
                    crm_set_error(ctx, "cannot read rule file %s (give a condition file, a Lua "
                                       "FILE.lua:FUNCTION or a rule name from crm.yaml rules:)",
                                  file);
                return file ? CRM_EIO
                            : usage(ctx, "segment diff NAME --rule FILE|FILE.lua:FN|RULE "
                                         "(or --where COND)");
            }
            if (lua && !CRM_API_HAS(ctx, call_rule)) {
                crm_set_error(ctx, "Lua rules need a crm whose plugin API has call_rule (1.1)");
                return CRM_EPLUGIN;
            }
            if (text) {
                char err[512];
                int bad = seg_cond_compile(trim(text), &alt, err, sizeof err);
                free(text);
                if (bad) {
                    crm_set_error(ctx, "%s", err);
                    return CRM_EINVAL;
                }
                cond = &alt;
            }
            char slug[SEG_NAME_MAX];
            seg_slugify(name, slug, sizeof slug);
            idlist want = {0}, have = {0}, enter = {0}, leave = {0};
            /* read-only: nothing is written, no event emitted */
            int rc = lua ? lua_matching(ctx, lua, &want) : matching(ctx, cond, as_of, &want);
            if (rc == CRM_OK)
                rc = current_members(ctx, slug, &have);
            if (rc == CRM_OK) {
                diff_lists(&want, &have, &enter, &leave);
                print_ids(io, "enter", &enter);
                print_ids(io, "leave", &leave);
                if (!json)
                    fprintf(out, "%zu would enter, %zu would leave, %zu stay (nothing changed)\n",
                            enter.n, leave.n, want.n - enter.n);
            }
            free(want.v), free(have.v), free(enter.v), free(leave.v);
            return rc;
        }
        const char *ref = opt(argc, argv, "--contact");
        if (!ref)
            return usage(ctx, "segment explain NAME --contact ID");
        int64_t cid = resolve_contact(ctx, ref);
        if (!cid)
            return CRM_ENOTFOUND;
        if (rs->is_static) {
            fprintf(out, "%s is a static list: contact %lld is %sa member\n", rs->name,
                    (long long)cid, is_member(ctx, rs->slug, cid) ? "" : "not ");
            return CRM_OK;
        }
        if (rs->is_lua) {
            json_t *reasons = NULL;
            int v = lua_holds(ctx, rs->lua_spec, cid, &reasons);
            if (v < 0)
                return v;
            if (json) {
                print_json(io, json_pack("{sssIsbsbssso}", "segment", rs->slug, "contact_id",
                                         (json_int_t)cid, "matches", v == 1, "member",
                                         is_member(ctx, rs->slug, cid), "rule", rs->lua_spec,
                                         "reasons",
                                         reasons ? json_incref(reasons) : json_array()));
            } else {
                fprintf(out, "%s: contact %lld %s (Lua rule %s)\n", rs->name, (long long)cid,
                        v == 1 ? "matches" : "does not match", rs->lua_spec);
                size_t i;
                json_t *r;
                json_array_foreach(reasons, i, r) fprintf(out, "  - %s\n", json_string_value(r));
            }
            json_decref(reasons);
            return CRM_OK;
        }
        int all = eval_for(ctx, cond->sql, cid, as_of);
        if (all < 0)
            return all;
        json_t *terms = json_array();
        for (size_t i = 0; i < cond->nterms; i++) {
            int v = eval_for(ctx, cond->term_sql[i], cid, as_of);
            if (json)
                json_array_append_new(terms, json_pack("{sssb}", "condition", cond->term_text[i], "held", v == 1));
            else
                fprintf(out, "  [%s] %s\n", v == 1 ? "x" : " ", cond->term_text[i]);
        }
        if (json)
            print_json(io, json_pack("{sssIsbsbso}", "segment", rs->slug, "contact_id",
                                     (json_int_t)cid, "matches", all == 1, "member",
                                     is_member(ctx, rs->slug, cid), "conditions", terms));
        else {
            json_decref(terms);
            fprintf(out, "%s: contact %lld %s (%s)\n", rs->name, (long long)cid,
                    all == 1 ? "matches" : "does not match", rs->text);
        }
        return CRM_OK;
    }
    if (!strcmp(sub, "add") || !strcmp(sub, "remove")) {
        rule_segment *rs = name ? find_rule(name) : NULL;
        if (!name || !positional(argc, argv, 2))
            return usage(ctx, "segment add|remove NAME CONTACT...");
        if (!rs || !rs->is_static) {
            crm_set_error(ctx, "\"%s\" is not a static segment; declare it in crm.yaml as "
                               "segmentation.segments: \"%s: static\"", name, name);
            return CRM_EINVAL;
        }
        int rc = crm_begin(ctx), changed = 0;
        for (int k = 2; rc == CRM_OK && positional(argc, argv, k); k++) {
            int64_t cid = resolve_contact(ctx, positional(argc, argv, k));
            if (!cid) {
                rc = CRM_ENOTFOUND;
                break;
            }
            int have = is_member(ctx, rs->slug, cid);
            if (sub[0] == 'a' && !have)
                rc = member_enter(ctx, rs->slug, "static", cid, as_of), changed++;
            else if (sub[0] == 'r' && have)
                rc = member_leave(ctx, rs->slug, "static", cid, as_of), changed++;
        }
        if (rc == CRM_OK)
            rc = crm_commit(ctx);
        else
            crm_rollback(ctx);
        if (rc == CRM_OK && !json)
            fprintf(out, "%d contact%s %s\n", changed, changed == 1 ? "" : "s",
                    sub[0] == 'a' ? "added" : "removed");
        return rc;
    }
    return usage(ctx, "segment list|members NAME|history NAME|refresh [NAME]|explain NAME "
                      "--contact ID|diff NAME --rule FILE|add NAME CONTACT...|remove NAME CONTACT...");
}

static int cmd_churn(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0);
    FILE *out = crm_io_out(io);
    int json = crm_io_json(io);
    int64_t as_of = crm_now(ctx);
    load_cuts(ctx);
    if (!sub)
        return usage(ctx, "churn refresh|list|show");
    if (!strcmp(sub, "refresh")) {
        idlist ids = {0};
        int rc = collect(ctx, "SELECT DISTINCT contact_id FROM orders WHERE placed_at < ?1"
                              " ORDER BY contact_id", NULL, as_of, &ids);
        int raised = 0;
        if (rc == CRM_OK)
            rc = crm_begin(ctx);
        for (size_t i = 0; rc == CRM_OK && i < ids.n; i++)
            rc = churn_update_contact(ctx, ids.v[i], as_of, &raised);
        if (rc == CRM_OK)
            rc = crm_commit(ctx);
        else
            crm_rollback(ctx);
        if (rc == CRM_OK && !json)
            fprintf(out, "scored %zu contacts, %d raised\n", ids.n, raised);
        free(ids.v);
        return rc;
    }
    if (!strcmp(sub, "list")) {
        const char *min = opt(argc, argv, "--min-score");
        crm_stmt *st = prep(ctx, "SELECT contact_id, score, level, reasons FROM segmentation_churn"
                                 " WHERE score >= ?1 ORDER BY score DESC, contact_id", 1,
                            (int64_t)(min ? atoll(min) : 1));
        while (st && crm_sql_step(st) == CRM_SQL_ROW) {
            const char *rj = crm_sql_column_text(st, 3);
            if (json) {
                json_t *reasons = json_loads(rj ? rj : "[]", 0, NULL);
                print_json(io, json_pack("{sIsIsIso}", "contact_id", (json_int_t)crm_sql_column_int64(st, 0),
                                         "score", (json_int_t)crm_sql_column_int64(st, 1), "level",
                                         (json_int_t)crm_sql_column_int64(st, 2), "reasons",
                                         reasons ? reasons : json_array()));
            } else {
                fprintf(out, "%-8lld %5lld  ", (long long)crm_sql_column_int64(st, 0),
                        (long long)crm_sql_column_int64(st, 1));
                print_reason_texts(out, rj);
                fputc('\n', out);
            }
        }
        crm_sql_finalize(st);
        return CRM_OK;
    }
    if (!strcmp(sub, "show")) {
        const char *ref = positional(argc, argv, 1);
        if (!ref)
            return usage(ctx, "churn show CONTACT");
        int64_t cid = resolve_contact(ctx, ref), ltv;
        if (!cid)
            return CRM_ENOTFOUND;
        seg_churn_result res;
        int rc = churn_compute(ctx, cid, as_of, &res, &ltv);
        if (rc != CRM_OK)
            return rc;
        if (json)
            print_json(io, json_pack("{sIsIsisIso}", "contact_id", (json_int_t)cid, "score",
                                     (json_int_t)res.score, "level", res.level, "lifetime_value",
                                     (json_int_t)ltv, "reasons", reasons_json(&res)));
        else {
            char money[48];
            fprintf(out, "contact %lld: churn score %lld (level %d), lifetime value %s\n",
                    (long long)cid, (long long)res.score, res.level,
                    fmt_money(ltv, S.currency[0] ? S.currency : "EUR", money, sizeof money));
            for (size_t i = 0; i < res.nreasons; i++)
                fprintf(out, "  +%-4lld %s\n", (long long)res.reasons[i].points, res.reasons[i].text);
        }
        return CRM_OK;
    }
    return usage(ctx, "churn refresh|list [--min-score S]|show CONTACT");
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static int cmd_metrics(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    int64_t as_of = crm_now(ctx);
    const char *pd = opt(argc, argv, "--period-days");
    int64_t period = pd ? atoll(pd) : 90;
    if (period <= 0)
        return usage(ctx, "metrics [--period-days N]");
    char cur[8];
    if (S.currency[0])
        snprintf(cur, sizeof cur, "%s", S.currency);
    else
        pick_currency(ctx, as_of, INT64_MIN, cur);
    /* one unordered scan of the orders (as rfm_load_all: no ORDER BY, no
     * index walk), aggregated per contact in an array indexed by contact id */
    typedef struct {
        int64_t money;
        int64_t n;
        unsigned char cur, prior;
    } cacc;
    int64_t max_id = scalar(ctx, 0, "SELECT max(id) FROM contacts", 0);
    size_t cap = (size_t)(max_id > 0 ? max_id : 0) + 1;
    cacc *acc = calloc(cap, sizeof *acc);
    crm_stmt *st = acc ? prep(ctx,
                              "SELECT contact_id, placed_at, total, currency FROM orders"
                              " WHERE status IN ('placed','paid') AND +placed_at < ?1",
                              1, as_of)
                       : NULL;
    if (!st) {
        free(acc);
        if (!acc)
            crm_set_error(ctx, "out of memory");
        return acc ? fail_db(ctx, "reading orders") : CRM_ENOMEM;
    }
    int64_t customers = 0, active = 0, repeat = 0, orders = 0, revenue = 0, prior = 0, churned = 0;
    int64_t p1 = as_of - period * SEG_DAY_SECONDS, p0 = as_of - 2 * period * SEG_DAY_SECONDS;
    idlist rev = {0};
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t id = crm_sql_column_int64(st, 0);
        if (id < 0)
            continue;
        if ((size_t)id >= cap) { /* a contact added since max(id) was read */
            size_t ncap = (size_t)id * 2;
            cacc *grown = realloc(acc, ncap * sizeof *grown);
            if (!grown) {
                rc = CRM_ENOMEM;
                break;
            }
            memset(grown + cap, 0, (ncap - cap) * sizeof *grown);
            acc = grown;
            cap = ncap;
        }
        cacc *c = &acc[id];
        int64_t at = crm_sql_column_int64(st, 1);
        const char *code = crm_sql_column_text(st, 3);
        c->n++;
        orders++;
        if (code && !strcmp(code, cur)) {
            int64_t total = crm_sql_column_int64(st, 2);
            c->money += total;
            revenue += total;
        }
        c->cur |= at >= p1;
        c->prior |= at >= p0 && at < p1;
    }
    crm_sql_finalize(st);
    for (size_t i = 0; rc == CRM_SQL_DONE && i < cap; i++) {
        const cacc *c = &acc[i];
        if (!c->n)
            continue;
        customers++;
        repeat += c->n >= 2;
        active += c->cur;
        prior += c->prior;
        churned += c->prior && !c->cur;
        if (idlist_push(&rev, c->money) != CRM_OK)
            rc = CRM_ENOMEM;
    }
    free(acc);
    if (rc == CRM_ENOMEM) {
        free(rev.v);
        crm_set_error(ctx, "out of memory computing metrics");
        return rc;
    }
    if (rc < 0) {
        free(rev.v);
        return fail_db(ctx, "reading orders");
    }
    qsort(rev.v, rev.n, sizeof *rev.v, cmp_desc);
    size_t top = (rev.n + 4) / 5;
    int64_t top_rev = 0;
    for (size_t i = 0; i < top; i++)
        top_rev += rev.v[i];
    free(rev.v);
    /* Money stays in integer minor units (rounded half up); only ratios are
     * floating point. */
    int64_t aov = orders ? (revenue + orders / 2) / orders : 0,
            ltv = customers ? (revenue + customers / 2) / customers : 0;
    double rr = customers ? (double)repeat / customers : 0,
           freq = customers ? (double)orders / customers : 0,
           churn = prior ? (double)churned / prior : 0,
           pareto = revenue ? (double)top_rev / revenue : 0;
    if (crm_io_json(io))
        print_json(io, json_pack("{sIsIsIsssIsIsfsIsfsIsfsfsI}", "as_of", (json_int_t)as_of,
                                 "customers", (json_int_t)customers, "active_customers",
                                 (json_int_t)active, "currency", cur, "period_days", (json_int_t)period,
                                 "orders", (json_int_t)orders, "repurchase_rate", rr,
                                 "average_order_value", (json_int_t)aov, "purchase_frequency", freq,
                                 "historic_ltv", (json_int_t)ltv, "churn_rate", churn,
                                 "top20_revenue_share", pareto, "revenue", (json_int_t)revenue));
    else {
        FILE *out = crm_io_out(io);
        char day[32], money[48];
        fprintf(out, "as of %s, period %lld days, %s\n", fmt_day(as_of, day, sizeof day),
                (long long)period, cur);
        fprintf(out, "customers            %lld\n", (long long)customers);
        fprintf(out, "active customers     %lld (ordered in the period)\n", (long long)active);
        fprintf(out, "repurchase rate      %.1f%%\n", 100 * rr);
        fprintf(out, "average order value  %s\n", fmt_money(aov, cur, money, sizeof money));
        fprintf(out, "purchase frequency   %.2f orders per customer\n", freq);
        fprintf(out, "historic LTV         %s\n", fmt_money(ltv, cur, money, sizeof money));
        fprintf(out, "churn rate           %.1f%% (active in the previous period, not in this one)\n", 100 * churn);
        fprintf(out, "top 20%% revenue      %.1f%%\n", 100 * pareto);
    }
    return CRM_OK;
}

/* ---- events ------------------------------------------------------------------------ */

static int64_t payload_contact(const crm_plugin_event *ev)
{
    json_t *p = json_loads(crm_event_payload(ev), 0, NULL);
    json_t *c = p ? json_object_get(p, "contact_id") : NULL;
    int64_t id = json_is_integer(c) ? json_integer_value(c) : 0;
    json_decref(p);
    return id;
}

static int on_order(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    int64_t cid = payload_contact(ev), at = crm_now(ctx);
    if (cid <= 0)
        return CRM_OK;
    int rc = rfm_update_contact(ctx, cid, at);
    if (rc == CRM_OK)
        rc = rules_update_contact(ctx, cid, at);
    return rc;
}

static int on_contact(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    int64_t cid = payload_contact(ev), at = crm_now(ctx);
    if (cid <= 0)
        return CRM_OK;
    const char *type = crm_event_type(ev);
    if (!strcmp(type, "contact.deleted") || !strcmp(type, "contact.merged")) {
        idlist segs = {0};
        crm_stmt *st = prep(ctx, "SELECT segment, kind FROM segmentation_members WHERE"
                                 " contact_id = ?1 AND left_at IS NULL", 1, cid);
        char names[64][SEG_NAME_MAX], kinds[64][8];
        size_t n = 0;
        while (st && crm_sql_step(st) == CRM_SQL_ROW && n < 64) {
            snprintf(names[n], SEG_NAME_MAX, "%s", crm_sql_column_text(st, 0));
            snprintf(kinds[n++], 8, "%s", crm_sql_column_text(st, 1));
        }
        crm_sql_finalize(st);
        free(segs.v);
        int rc = CRM_OK;
        for (size_t i = 0; rc == CRM_OK && i < n; i++)
            rc = member_leave(ctx, names[i], kinds[i], cid, at);
        if (rc == CRM_OK)
            rc = run(ctx, "DELETE FROM segmentation_rfm WHERE contact_id = ?1", 1, cid);
        if (rc == CRM_OK)
            rc = run(ctx, "DELETE FROM segmentation_churn WHERE contact_id = ?1", 1, cid);
        return rc;
    }
    return rules_update_contact(ctx, cid, at);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

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

/* `crm <noun> <verb> ...` runs the same code as `crm segmentation <noun> <verb>`:
 * argv gets the noun in front. */
static int shifted(crm_command_fn fn, const char *noun, crm_plugin_ctx *ctx, crm_command_io *io,
                   int argc, char **argv)
{
    char **v = calloc((size_t)argc + 2, sizeof *v);
    if (!v) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    v[0] = (char *)noun;
    memcpy(v + 1, argv, (size_t)argc * sizeof *v);
    int rc = fn(ctx, io, argc + 1, v);
    free(v);
    return rc;
}

static int cmd_rfm(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv);
static int cmd_segment(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv);
static int cmd_churn(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv);

static int noun_rfm(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    return shifted(cmd_rfm, "rfm", ctx, io, argc, argv);
}

static int noun_segment(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    return shifted(cmd_segment, "segment", ctx, io, argc, argv);
}

static int noun_churn(crm_plugin_ctx *ctx, crm_command_io *io, int argc, char **argv)
{
    return shifted(cmd_churn, "churn", ctx, io, argc, argv);
}

static const struct {
    const char *noun, *verb, *usage, *summary;
    crm_command_fn fn;
} nouns[] = {
    {"rfm", "refresh", NULL, "recompute every RFM score as of T, store the cut points", noun_rfm},
    {"rfm", "list", "[--segment SLUG] [--fresh]", "one line (or JSON object) per scored contact",
     noun_rfm},
    {"rfm", "show", "CONTACT", "one contact's metrics, scores, cut points and segment", noun_rfm},
    {"rfm", "grid", NULL, "the 5x5 R x F matrix, each segment's share of customers and revenue",
     noun_rfm},
    {"segment", "list", NULL, "every segment (rfm, rule, lua, static) with its member count",
     noun_segment},
    {"segment", "members", "NAME", "the current members of a segment", noun_segment},
    {"segment", "history", "NAME", "every membership with entered_at and left_at",
     noun_segment},
    {"segment", "refresh", "[NAME]", "re-evaluate rule and Lua segments as of T", noun_segment},
    {"segment", "explain", "NAME --contact CONTACT", "which conditions held (or the Lua reasons)",
     noun_segment},
    {"segment", "diff", "NAME --rule FILE|FILE.lua:FN|RULE (or --where COND)",
     "dry run of a changed rule: who would enter and leave; changes nothing", noun_segment},
    {"segment", "add", "NAME CONTACT...", "add contacts to a static segment", noun_segment},
    {"segment", "remove", "NAME CONTACT...", "remove contacts from a static segment",
     noun_segment},
    {"churn", "refresh", NULL, "score every contact with orders; emits churn.risk_raised",
     noun_churn},
    {"churn", "list", "[--min-score S]", "stored churn scores with their reasons", noun_churn},
    {"churn", "show", "CONTACT", "one contact's churn score, computed now, with its reasons",
     noun_churn},
};

static int seg_init(crm_plugin_ctx *ctx, const crm_host_api *api)
{
    (void)api;
    static const struct {
        const char *key;
        crm_config_type type;
        const char *def, *desc;
    } keys[] = {
        {"rfm.window_days", CRM_CONFIG_INT, "365", "days of orders RFM looks back on; 0 = all history"},
        {"rfm.currency", CRM_CONFIG_STRING, "", "ISO 4217 code RFM sums; empty = crm.yaml locale.currency"},
        {"rfm.grid", CRM_CONFIG_STRING, "", "\"Name: R<lo>-<hi> F<lo>-<hi>; ...\", first match wins; empty = default grid"},
        {"segments", CRM_CONFIG_STRING, "", "\"Name: condition; Name: lua: RULE|FILE:FN; Name: static; ...\""},
        {"churn.points_per_week", CRM_CONFIG_INT, "5", "points per week past the usual purchase cycle"},
        {"churn.inactivity_cap", CRM_CONFIG_INT, "50", "most inactivity points"},
        {"churn.default_cycle_days", CRM_CONFIG_INT, "60", "cycle of a contact with fewer than two orders"},
        {"churn.low_engagement_points", CRM_CONFIG_INT, "20", "points for emails without opens or clicks"},
        {"churn.min_emails", CRM_CONFIG_INT, "3", "emails needed before engagement counts"},
        {"churn.min_engagement_pct", CRM_CONFIG_INT, "10", "opens+clicks under this share of emails is low"},
        {"churn.window_days", CRM_CONFIG_INT, "90", "days engagement and signals look back on"},
        {"churn.signals", CRM_CONFIG_STRING, "returns_page: web /returns 10 20; cancel_page: web /cancel 25 25",
         "\"name: channel text points cap; ...\" behaviour signals from interactions"},
        {"churn.levels", CRM_CONFIG_STRING, "40,70", "ascending scores; crossing one emits churn.risk_raised"},
        {"churn.rule", CRM_CONFIG_STRING, "", "Lua score override: a rules: name or FILE:FUNCTION returning score, reasons"},
    };
    int rc = crm_register_migration(ctx, 1, "segmentation tables", migration1);
    if (rc == CRM_OK)
        rc = crm_register_migration(ctx, 2, "one open membership: partial unique index", migration2);
    /* SDK 1.1: top-level nouns; the `crm segmentation <verb>` forms stay as aliases */
    for (size_t i = 0; rc == CRM_OK && CRM_API_HAS(ctx, register_noun_command) &&
                       i < sizeof nouns / sizeof nouns[0]; i++)
        rc = crm_register_noun_command(ctx, nouns[i].noun, nouns[i].verb, nouns[i].usage,
                                       nouns[i].summary, nouns[i].fn);
    if (rc == CRM_OK && CRM_API_HAS(ctx, register_noun_command))
        rc = crm_register_noun_command(ctx, "metrics", NULL, "[--period-days N]",
                                       "portfolio metrics: customers, repurchase, AOV, LTV, "
                                       "churn, Pareto", cmd_metrics);
    for (size_t i = 0; rc == CRM_OK && i < sizeof keys / sizeof keys[0]; i++)
        rc = crm_declare_config_key(ctx, keys[i].key, keys[i].type, keys[i].def, keys[i].desc);
    if (rc == CRM_OK)
        rc = crm_register_command(ctx, "rfm", "refresh|list [--segment SLUG] [--fresh]|show CONTACT|grid",
                                  "RFM scores: recompute, list, explain one contact, the R x F grid", cmd_rfm);
    if (rc == CRM_OK)
        rc = crm_register_command(ctx, "segment",
                                  "list|members NAME|history NAME|refresh [NAME]|explain NAME --contact ID|"
                                  "diff NAME --rule FILE|add NAME CONTACT...|remove NAME CONTACT...",
                                  "rule and static segments with their membership history", cmd_segment);
    if (rc == CRM_OK)
        rc = crm_register_command(ctx, "churn", "refresh|list [--min-score S]|show CONTACT",
                                  "churn risk points with their reasons", cmd_churn);
    if (rc == CRM_OK)
        rc = crm_register_command(ctx, "metrics", "[--period-days N]",
                                  "portfolio metrics: customers, repurchase, AOV, LTV, churn, Pareto",
                                  cmd_metrics);
    static const char *const order_events[] = {"order.placed", "order.paid", "order.cancelled",
                                               "order.refunded"};
    for (size_t i = 0; rc == CRM_OK && i < 4; i++)
        rc = crm_subscribe(ctx, order_events[i], 1, on_order, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "contact.*", 1, on_contact, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "interaction.*", 1, on_contact, NULL);
    if (rc == CRM_OK)
        rc = crm_subscribe(ctx, "consent.*", 1, on_contact, NULL);
    if (rc != CRM_OK && !crm_last_error(ctx)[0])
        crm_set_error(ctx, "registration failed");
    return rc;
}

static int seg_start(crm_plugin_ctx *ctx)
{
    S.cuts_refresh = 0;
    return load_config(ctx);
}

static void seg_stop(crm_plugin_ctx *ctx)
{
    (void)ctx;
    finalize_cached();
}

static void seg_fini(crm_plugin_ctx *ctx)
{
    (void)ctx;
    free(S.rules);
    S.rules = NULL;
    S.nrules = 0;
}

static const crm_plugin_descriptor descriptor = {
    CRM_PLUGIN_DESCRIPTOR_HEADER,
    .name = "segmentation",
    .version = "0.2.0",
    .description = "RFM scores, rule segments with history, churn risk and portfolio metrics",
    .requires = NULL,
    .init = seg_init,
    .start = seg_start,
    .stop = seg_stop,
    .fini = seg_fini,
};

CRM_PLUGIN_EXPORT const crm_plugin_descriptor *crm_plugin_query(void)
{
    return &descriptor;
}

/* pipeline plugin — `crm demo`: two years of B2B selling on the demo's
 * companies. Each deal quotes products in bulk, walks its pipeline's stages
 * with a few days to weeks between moves, and is won, lost for a configured
 * reason or still open; the history is written at the story's times
 * (pl_state.story_at), through the same functions as the commands; a won
 * deal's quote is accepted, which places its kernel order. What the
 * timers would have done meanwhile is done at the demo's clock: quotes past
 * their validity expire, idle open deals are flagged stalled with a task for
 * their owner. A few web leads wait to be qualified. Then the headline:
 * open pipeline, weighted, won and lost, win rate. Deterministic (an LCG). */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

#define DEMO_DEALS 3000 /* at most two per contact of a company */
#define DEMO_LEADS 24
#define DAY 86400

static uint32_t next(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xffffffu;
}

static const char *const offers[] = {"équipement boutique", "réassort annuel",
                                     "ouverture second magasin", "contrat cadre",
                                     "rénovation showroom", "commande saisonnière"};

/* A contact of a company, who gets deals. */
typedef struct demo_row {
    int64_t contact, company;
    char name[160];
} demo_row;

typedef struct demo_tally {
    int64_t deals, won, lost, open, stalled, quotes, accepted, expired, leads;
} demo_tally;

/* ---- the story of one deal -------------------------------------------------- */

/* Bulk lines of 1 to 3 of the nproducts products; the deal's amount is
 * their net. */
static int pick_lines(crm_plugin_ctx *ctx, uint32_t *seed, int64_t nproducts, pl_quote *q)
{
    crm_stmt *st = pl_prep(ctx, "SELECT sku, price FROM products ORDER BY id LIMIT 1 OFFSET ?1");
    if (!st)
        return pl_fail_db(ctx, "demo products");
    q->nlines = 1 + next(seed) % 3;
    for (size_t i = 0; i < q->nlines; i++) {
        crm_sql_reset(st);
        crm_sql_bind_int64(st, 1, (int64_t)(next(seed) % (uint32_t)nproducts));
        if (crm_sql_step(st) != CRM_SQL_ROW) {
            crm_sql_finalize(st);
            return pl_fail_db(ctx, "demo products");
        }
        pl_quote_line *l = &q->lines[i];
        snprintf(l->sku, sizeof l->sku, "%s", crm_sql_column_text(st, 0));
        l->unit_price = crm_sql_column_int64(st, 1);
        l->quantity = 10 + next(seed) % 110;
        l->vat_bp = PL(ctx)->default_vat_bp;
    }
    crm_sql_finalize(st);
    pl_quote_totals t;
    if (pl_quote_compute(q->lines, q->nlines, 0, &t))
        return CRM_EINVAL;
    q->net = t.net, q->vat = t.vat, q->gross = t.gross;
    return CRM_OK;
}

/* The quote the customer receives when the deal reaches its second stage. */
static int make_quote(crm_plugin_ctx *ctx, const pl_deal *d, pl_quote *q, demo_tally *n)
{
    q->deal_id = d->id;
    q->contact_id = d->contact_id;
    q->created_at = pl_now(ctx);
    snprintf(q->currency, sizeof q->currency, "%s", d->currency);
    int rc = crm_calendar_add(ctx, PL(ctx)->calendar[0] ? PL(ctx)->calendar : NULL,
                              q->created_at, PL(ctx)->valid_for, &q->valid_until);
    if (rc == CRM_OK)
        rc = pl_quote_insert(ctx, q);
    n->quotes += rc == CRM_OK;
    return rc;
}

/* A quote past its validity at the story's time expires (as its timer
 * would have) and the customer gets a fresh one on the same lines. */
static int renew_quote(crm_plugin_ctx *ctx, const pl_deal *d, pl_quote *q, demo_tally *n)
{
    if (!q->id || q->valid_until > PL(ctx)->story_at)
        return CRM_OK;
    int rc = pl_quote_expire_fire(ctx, q->id);
    n->expired += rc == CRM_OK;
    q->id = 0;
    return rc == CRM_OK ? make_quote(ctx, d, q, n) : rc;
}

/* Lost for one of the configured reasons; its quote declined for it. */
static int lose(crm_plugin_ctx *ctx, const pl_pipeline *p, pl_deal *d, pl_quote *q,
                uint32_t *seed)
{
    size_t nr = PL(ctx)->nreasons;
    const char *reason = nr ? PL(ctx)->reasons[next(seed) % nr] : NULL;
    int rc = CRM_OK;
    if (q->id)
        rc = pl_quote_set_status(ctx, q, "declined", reason);
    if (rc == CRM_OK && q->id)
        rc = pl_quote_cancel_timers(ctx, q);
    return rc == CRM_OK ? pl_deal_set_stage(ctx, d, p->lost, reason, NULL) : rc;
}

/* Walks d from its first stage: each move a few days to weeks later, one
 * in five lost at each step, won past the last open stage; stops at the
 * demo's clock with the deal open where it is. */
static int walk(crm_plugin_ctx *ctx, const pl_pipeline *p, pl_deal *d, pl_quote *q,
                uint32_t *seed, int64_t now, demo_tally *n)
{
    int rc = CRM_OK;
    for (size_t si = 0; rc == CRM_OK;) {
        int64_t at = PL(ctx)->story_at + (int64_t)(4 + next(seed) % 37) * DAY +
                     (int64_t)(next(seed) % DAY);
        if (at >= now)
            return CRM_OK;
        PL(ctx)->story_at = at;
        rc = renew_quote(ctx, d, q, n);
        if (rc != CRM_OK)
            return rc;
        if (next(seed) % 5 == 0) {
            n->lost++;
            return lose(ctx, p, d, q, seed);
        }
        size_t to = si + 1;
        while (to == p->won || to == p->lost)
            to++;
        if (to >= p->nstages) { /* signed: the accepted quote wins it, with its order */
            n->won++;
            n->accepted += q->id != 0;
            return q->id ? pl_quote_accept(ctx, q)
                         : pl_deal_set_stage(ctx, d, p->won, NULL, NULL);
        }
        rc = pl_deal_set_stage(ctx, d, to, NULL, NULL);
        if (rc == CRM_OK && to == 1)
            rc = make_quote(ctx, d, q, n);
        si = to;
    }
    return rc;
}

/* What the timers would have fired by now, fired at the demo's clock. */
static int catch_up(crm_plugin_ctx *ctx, const pl_deal *d, const pl_quote *q, int64_t now,
                    demo_tally *n)
{
    int rc = CRM_OK;
    if (q->id && q->valid_until <= now && !strcmp(q->status, "draft")) {
        rc = pl_quote_expire_fire(ctx, q->id);
        n->expired += rc == CRM_OK;
    }
    const pl_pipeline *p = pl_pipeline_find(ctx, d->pipeline);
    int si = p ? pl_stage_index(p, d->stage) : -1;
    if (rc != CRM_OK || si < 0 || strcmp(d->status, "open") || !p->stages[si].rot_amount)
        return rc;
    int64_t due = 0;
    rc = crm_calendar_add(ctx, PL(ctx)->calendar[0] ? PL(ctx)->calendar : NULL,
                          d->last_activity_at, p->stages[si].rot_text, &due);
    if (rc == CRM_OK && due <= now && !d->stalled) {
        rc = pl_deal_rot_fire(ctx, d->id);
        n->stalled += rc == CRM_OK;
    }
    return rc;
}

static int one_deal(crm_plugin_ctx *ctx, uint32_t *seed, const demo_row *row, const char *owner,
                    int64_t t0, int64_t now, int64_t nproducts, demo_tally *n)
{
    /* one deal in five goes to the second pipeline (the shipped partnerships) */
    const pl_pipeline *p = &PL(ctx)->pipelines[PL(ctx)->npipelines > 1 && next(seed) % 5 == 0];
    pl_deal d = {.contact_id = row->contact, .company_id = row->company,
                 .probability_override = -1, .category_override = -1};
    pl_quote q = {0};
    int rc = pick_lines(ctx, seed, nproducts, &q);
    if (rc != CRM_OK)
        return rc;
    snprintf(d.title, sizeof d.title, "%s — %s", row->name, offers[next(seed) % 6]);
    snprintf(d.pipeline, sizeof d.pipeline, "%s", p->name);
    snprintf(d.stage, sizeof d.stage, "%s", p->stages[0].name);
    snprintf(d.currency, sizeof d.currency, "%s", p->currency);
    snprintf(d.owner, sizeof d.owner, "%s", owner);
    d.amount = q.net;
    PL(ctx)->story_at = t0;
    pl_date_of(ctx, t0 + (int64_t)(45 + next(seed) % 90) * DAY, d.close_date, sizeof d.close_date);
    rc = pl_deal_insert(ctx, &d);
    if (rc == CRM_OK)
        rc = walk(ctx, p, &d, &q, seed, now, n);
    PL(ctx)->story_at = 0;
    /* accepting a quote moved the deal and the quote through their own copies */
    if (rc == CRM_OK)
        rc = pl_deal_get(ctx, d.id, &d);
    if (rc == CRM_OK && q.id)
        rc = pl_quote_get(ctx, q.id, &q);
    if (rc == CRM_OK)
        rc = catch_up(ctx, &d, &q, now, n);
    n->deals += rc == CRM_OK;
    n->open += rc == CRM_OK && !strcmp(d.status, "open");
    return rc;
}

/* ---- the data set --------------------------------------------------------------- */

/* The agents own the deals in turn (by email, as `--owner` takes it). */
static int owners(crm_plugin_ctx *ctx, char (*buf)[128], size_t cap, size_t *n)
{
    crm_stmt *st = pl_prep(ctx, "SELECT email FROM users WHERE email IS NOT NULL ORDER BY id");
    if (!st)
        return pl_fail_db(ctx, "demo agents");
    for (*n = 0; *n < cap && crm_sql_step(st) == CRM_SQL_ROW; (*n)++)
        snprintf(buf[*n], sizeof buf[0], "%s", crm_sql_column_text(st, 0));
    crm_sql_finalize(st);
    return CRM_OK;
}

static int deals(crm_plugin_ctx *ctx, int64_t now, demo_tally *n)
{
    char who[8][128];
    size_t nwho = 0;
    int rc = owners(ctx, who, 8, &nwho);
    crm_stmt *st = rc == CRM_OK ? pl_prep(ctx, "SELECT c.id, c.company_id, m.name FROM contacts c"
                                               " JOIN companies m ON m.id = c.company_id"
                                               " ORDER BY c.id LIMIT ?1")
                                : NULL;
    /* one row per contact; a contact gets a second deal when there are few */
    if (!st)
        return rc == CRM_OK ? pl_fail_db(ctx, "demo contacts") : rc;
    crm_sql_bind_int64(st, 1, DEMO_DEALS);
    /* read first: the deals' writes must not run under an open read of contacts */
    demo_row *rows = calloc(DEMO_DEALS, sizeof *rows);
    size_t nrows = 0;
    while (rows && nrows < DEMO_DEALS && crm_sql_step(st) == CRM_SQL_ROW) {
        rows[nrows].contact = crm_sql_column_int64(st, 0);
        rows[nrows].company = crm_sql_column_int64(st, 1);
        snprintf(rows[nrows++].name, sizeof rows[0].name, "%s", crm_sql_column_text(st, 2));
    }
    crm_sql_finalize(st);
    if (!rows)
        return CRM_ENOMEM;
    uint32_t seed = 42;
    int64_t span = 2 * 365 * DAY;
    int64_t nproducts = pl_scalar(ctx, 0, "SELECT count(*) FROM products", 0);
    size_t ndeals = !nproducts ? 0 : nrows * 2 < DEMO_DEALS ? nrows * 2 : DEMO_DEALS;
    for (size_t i = 0; rc == CRM_OK && i < ndeals; i++) {
        size_t r = (i * 7919) % nrows; /* a prime stride: a contact's two deals years apart */
        rc = one_deal(ctx, &seed, &rows[r], nwho ? who[i % nwho] : "",
                      now - span + span * (int64_t)i / (int64_t)ndeals, now, nproducts, n);
    }
    free(rows);
    return rc;
}

/* Web leads of the last weeks: new, qualified or disqualified. */
static int leads(crm_plugin_ctx *ctx, int64_t now, demo_tally *n)
{
    static const char *const first[] = {"Camille", "Louis", "Inès", "Hugo", "Léa", "Nathan"};
    static const char *const shops[] = {"Épicerie", "Librairie", "Fleuriste", "Atelier"};
    static const char *const towns[] = {"Nantes", "Lille", "Rennes", "Dijon", "Annecy"};
    static const char *const status[] = {"new", "new", "qualified", "disqualified"};
    uint32_t seed = 7;
    int rc = CRM_OK;
    for (int i = 0; rc == CRM_OK && i < DEMO_LEADS; i++) {
        char name[64], company[96], email[128];
        const char *st_text = status[next(&seed) % 4];
        snprintf(name, sizeof name, "%s Lead%02d", first[i % 6], i + 1);
        snprintf(company, sizeof company, "%s de %s", shops[i % 4], towns[i % 5]);
        snprintf(email, sizeof email, "lead%02d@prospect-demo.fr", i + 1);
        int64_t at = now - (int64_t)(1 + next(&seed) % 45) * DAY;
        crm_stmt *st = pl_prep(ctx, "INSERT INTO pipeline_leads(name, email, company, source,"
                                    " status, reason, created_at, updated_at)"
                                    " VALUES(?1, ?2, ?3, 'web form', ?4, ?5, ?6, ?6)");
        if (!st)
            return pl_fail_db(ctx, "demo leads");
        crm_sql_bind_text(st, 1, name);
        crm_sql_bind_text(st, 2, email);
        crm_sql_bind_text(st, 3, company);
        crm_sql_bind_text(st, 4, st_text);
        if (!strcmp(st_text, "disqualified"))
            crm_sql_bind_text(st, 5, "no_budget");
        else
            crm_sql_bind_null(st, 5);
        crm_sql_bind_int64(st, 6, at);
        rc = crm_sql_step(st) < 0 ? pl_fail_db(ctx, "demo leads") : CRM_OK;
        crm_sql_finalize(st);
        n->leads += rc == CRM_OK;
    }
    return rc;
}

static int generate(crm_plugin_ctx *ctx, void *ud)
{
    demo_tally *n = ud;
    int64_t now = crm_now(ctx);
    int rc = deals(ctx, now, n);
    return rc == CRM_OK ? leads(ctx, now, n) : rc;
}

/* ---- the headline ------------------------------------------------------------------ */

/* The open deals of the first pipeline: count, amount and expected value. */
static int open_figures(crm_plugin_ctx *ctx, const pl_pipeline *p, int64_t *amount,
                        int64_t *weighted)
{
    crm_stmt *st = pl_prep(ctx, "SELECT " PL_DEAL_COLS " FROM pipeline_deals WHERE pipeline = ?1"
                                " AND status = 'open' AND currency = ?2");
    if (!st)
        return pl_fail_db(ctx, "demo headline");
    crm_sql_bind_text(st, 1, p->name);
    crm_sql_bind_text(st, 2, p->currency);
    int step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        pl_deal d;
        pl_deal_read(st, &d);
        *amount += d.amount;
        *weighted += pl_expected(d.amount, pl_deal_probability(ctx, &d));
    }
    crm_sql_finalize(st);
    return step < 0 ? pl_fail_db(ctx, "demo headline") : CRM_OK;
}

#define FORECAST_DAYS 90

/* The forecast total of the next FORECAST_DAYS: what `crm pipeline forecast
 * --from today --to +89 days` prints as TOTAL. */
static int next_quarter(crm_plugin_ctx *ctx, const pl_pipeline *p, json_t **total)
{
    int64_t now = crm_now(ctx);
    json_t *f = NULL;
    int rc = pl_forecast_json(ctx, p, now, now + (FORECAST_DAYS - 1) * DAY, "all", NULL, &f);
    if (rc != CRM_OK)
        return rc;
    *total = json_incref(json_object_get(f, "total"));
    json_object_set(*total, "from", json_object_get(f, "from"));
    json_object_set(*total, "to", json_object_get(f, "to"));
    json_decref(f);
    return *total ? CRM_OK : CRM_ENOMEM;
}

static void print_forecast(crm_plugin_ctx *ctx, FILE *out, const pl_pipeline *p, json_t *f)
{
    char w[48], c[48], b[48];
    pl_money(ctx, json_integer_value(json_object_get(f, "weighted")), p->currency, w, sizeof w);
    pl_money(ctx, json_integer_value(json_object_get(f, "commit")), p->currency, c, sizeof c);
    pl_money(ctx, json_integer_value(json_object_get(f, "best_case")), p->currency, b, sizeof b);
    fprintf(out, "  forecast %s..%s: %lld deals closing, %s weighted (commit %s, best case %s)"
                 " -- crm pipeline forecast\n",
            json_string_value(json_object_get(f, "from")),
            json_string_value(json_object_get(f, "to")),
            (long long)json_integer_value(json_object_get(f, "count")), w, c, b);
}

static int headline(crm_plugin_ctx *ctx, crm_command_io *io, const demo_tally *n)
{
    const pl_pipeline *p = &PL(ctx)->pipelines[0];
    int64_t amount = 0, weighted = 0;
    json_t *forecast = NULL;
    int rc = open_figures(ctx, p, &amount, &weighted);
    if (rc == CRM_OK)
        rc = next_quarter(ctx, p, &forecast);
    if (rc != CRM_OK)
        return rc;
    int64_t closed = n->won + n->lost;
    if (crm_io_json(io))
        return pl_print_json(
            ctx, io,
            json_pack("{sI sI sI sI sI sI sI sI sI s{ss sI sI ss} so}", "deals",
                      (json_int_t)n->deals,
                      "open", (json_int_t)n->open, "won", (json_int_t)n->won, "lost",
                      (json_int_t)n->lost, "stalled", (json_int_t)n->stalled, "quotes",
                      (json_int_t)n->quotes, "quotes_accepted", (json_int_t)n->accepted,
                      "quotes_expired", (json_int_t)n->expired, "leads",
                      (json_int_t)n->leads, "open_pipeline", "pipeline", p->name, "amount",
                      (json_int_t)amount, "weighted", (json_int_t)weighted, "currency",
                      p->currency, "forecast", forecast));
    char a[48], w[48];
    pl_money(ctx, amount, p->currency, a, sizeof a);
    pl_money(ctx, weighted, p->currency, w, sizeof w);
    fprintf(crm_io_out(io),
            "pipeline: %lld deals over two years, %lld won and %lld lost (win rate %lld %%), "
            "%lld open; %s open in %s, %s weighted; %lld stalled with a task for their owner; "
            "%lld quotes (%lld accepted, each with its order; %lld expired); %lld leads -- try "
            "`crm pipeline board`\n",
            (long long)n->deals, (long long)n->won, (long long)n->lost,
            (long long)(closed ? (100 * n->won + closed / 2) / closed : 0), (long long)n->open, a,
            p->name, w, (long long)n->stalled, (long long)n->quotes, (long long)n->accepted,
            (long long)n->expired,
            (long long)n->leads);
    print_forecast(ctx, crm_io_out(io), p, forecast);
    json_decref(forecast);
    return CRM_OK;
}

int pl_demo(crm_plugin_ctx *ctx, crm_command_io *io)
{
    if (!PL(ctx)->npipelines)
        return CRM_OK;
    demo_tally n = {0};
    int rc = pl_in_tx(ctx, generate, &n);
    PL(ctx)->story_at = 0;
    return rc == CRM_OK ? headline(ctx, io, &n) : rc;
}

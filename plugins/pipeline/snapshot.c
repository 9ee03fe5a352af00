/* pipeline plugin — snapshots of the open pipeline and their diff.
 *
 * `crm pipeline snapshot` copies every open deal (stage, status, amount,
 * currency, close date, contact_id for privacy.c) into pipeline_snapshot_deals
 * under one pipeline_snapshots row taken now (--as-of). The worker takes one
 * every week through the timer "snapshot:weekly", due at the next Monday
 * 00:00 UTC; its handler takes the snapshot and schedules the following
 * Monday after the moment it runs, so a `crm tick` late by weeks takes one,
 * not one per missed week. The timer is armed by the first deal added and
 * by `crm pipeline snapshot`, whenever none is pending.
 *
 * `crm pipeline diff --from DATE --to DATE` compares the snapshot nearest at
 * or before the end of each date (A, B), deals of one pipeline:
 *   new        in B, not in A;          amount: B's
 *   won, lost  in A, not in B, with that status at B's time; amount: A's
 *   slipped    in both, close date later in B; pulled_in: earlier (both set)
 *   amount_up, amount_down  in both; amount: the sum of the changes
 *   forward, back  in both, stage of a higher (lower) configured order
 * Amounts in the pipeline's currency; a deal in another currency is
 * counted but its amount reported apart (foreign), never added. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

#define SNAP_KEY "snapshot:weekly"
#define WEEK (7 * 86400LL)
#define MONDAY0 (4 * 86400LL) /* 1970-01-05, the first Monday of the epoch */

/* The first Monday 00:00 UTC strictly after t. */
static int64_t next_monday(int64_t t)
{
    int64_t k = (t - MONDAY0) / WEEK;
    if (t - MONDAY0 < 0 && (t - MONDAY0) % WEEK)
        k--;
    return MONDAY0 + (k + 1) * WEEK;
}

int pl_snapshot_arm(crm_plugin_ctx *ctx)
{
    if (pl_scalar(ctx, 0, "SELECT count(*) FROM timers WHERE owner = 'pipeline' AND key = '"
                          SNAP_KEY "' AND state = 'pending'", 0))
        return CRM_OK;
    return crm_schedule(ctx, SNAP_KEY, next_monday(pl_now(ctx)), NULL);
}

/* Takes the snapshot at `at`; its id and deal count into *id, *n. */
static int take(crm_plugin_ctx *ctx, int64_t at, int64_t *id, int64_t *n)
{
    int rc = pl_run(ctx, "INSERT INTO pipeline_snapshots(taken_at) VALUES(?1)", 1, at);
    if (rc != CRM_OK)
        return pl_fail_db(ctx, "cannot record the snapshot");
    *id = crm_sql_last_insert_id(ctx);
    rc = pl_run(ctx, "INSERT INTO pipeline_snapshot_deals(snapshot_id, deal_id, contact_id,"
                     " pipeline, stage, status, amount, currency, close_date)"
                     " SELECT ?1, id, contact_id, pipeline, stage, status, amount, currency,"
                     " close_date FROM pipeline_deals WHERE status = 'open'", 1, *id);
    if (rc != CRM_OK)
        return pl_fail_db(ctx, "cannot record the snapshot's deals");
    *n = pl_scalar(ctx, 0, "SELECT count(*) FROM pipeline_snapshot_deals WHERE snapshot_id = ?1",
                   1, *id);
    return CRM_OK;
}

int pl_snapshot_fire(crm_plugin_ctx *ctx, int64_t unused)
{
    (void)unused;
    int64_t id = 0, n = 0, now = pl_now(ctx);
    int rc = take(ctx, now, &id, &n);
    return rc == CRM_OK ? crm_schedule(ctx, SNAP_KEY, next_monday(now), NULL) : rc;
}

typedef struct snap_job {
    int64_t id, n, at;
} snap_job;

static int snap_body(crm_plugin_ctx *ctx, void *ud)
{
    snap_job *j = ud;
    int rc = take(ctx, j->at, &j->id, &j->n);
    return rc == CRM_OK ? pl_snapshot_arm(ctx) : rc;
}

int pl_cmd_snapshot(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    snap_job j = {.at = pl_now(ctx)};
    int rc = pl_in_tx(ctx, snap_body, &j);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io)) {
        char at[40];
        pl_time_of(ctx, j.at, at, sizeof at);
        return pl_print_json(ctx, io, json_pack("{sI ss sI}", "id", (json_int_t)j.id, "taken_at",
                                                at, "deals", (json_int_t)j.n));
    }
    fprintf(crm_io_out(io), "%lld\n", (long long)j.id);
    return CRM_OK;
}

/* ---- diff -------------------------------------------------------------------------- */

enum { C_NEW, C_WON, C_LOST, C_SLIPPED, C_PULLED, C_UP, C_DOWN, C_FORWARD, C_BACK, C_N };
static const char *const cat_names[C_N] = {"new",       "won",       "lost",
                                           "slipped",   "pulled_in", "amount_up",
                                           "amount_down", "stage_forward", "stage_back"};

typedef struct snap_row {
    int64_t deal_id, amount;
    char stage[PL_NAME], currency[4], close_date[16];
} snap_row;

typedef struct snap {
    int64_t id, taken_at;
    snap_row *r;
    size_t n;
} snap;

typedef struct diff_cat {
    int64_t count, amount, foreign;
    json_t *deals;
} diff_cat;

/* The latest snapshot taken at or before t; CRM_ENOTFOUND (message) when none. */
static int snap_find(crm_plugin_ctx *ctx, int64_t t, const char *what, const char *date, snap *s)
{
    s->id = pl_scalar(ctx, 0, "SELECT id FROM pipeline_snapshots WHERE taken_at <= ?1"
                              " ORDER BY taken_at DESC, id DESC LIMIT 1", 1, t);
    if (!s->id) {
        crm_set_error(ctx, "%s %s: no snapshot taken on or before that day (crm pipeline "
                      "snapshot takes one)", what, date);
        return CRM_ENOTFOUND;
    }
    s->taken_at = pl_scalar(ctx, 0, "SELECT taken_at FROM pipeline_snapshots WHERE id = ?1", 1,
                            s->id);
    return CRM_OK;
}

static int snap_load(crm_plugin_ctx *ctx, const pl_pipeline *p, snap *s)
{
    size_t cap = (size_t)pl_scalar(ctx, 0, "SELECT count(*) FROM pipeline_snapshot_deals WHERE"
                                           " snapshot_id = ?1", 1, s->id);
    s->r = calloc(cap ? cap : 1, sizeof *s->r);
    crm_stmt *st = pl_prep(ctx, "SELECT deal_id, amount, stage, currency, close_date FROM"
                                " pipeline_snapshot_deals WHERE snapshot_id = ?1 AND pipeline = ?2"
                                " ORDER BY deal_id");
    if (!s->r || !st) {
        crm_sql_finalize(st);
        return s->r ? pl_fail_db(ctx, "cannot read the snapshot") : CRM_ENOMEM;
    }
    crm_sql_bind_int64(st, 1, s->id);
    crm_sql_bind_text(st, 2, p->name);
    while (s->n < cap && crm_sql_step(st) == CRM_SQL_ROW) {
        snap_row *r = &s->r[s->n++];
        r->deal_id = crm_sql_column_int64(st, 0);
        r->amount = crm_sql_column_int64(st, 1);
        const char *t;
        snprintf(r->stage, sizeof r->stage, "%s", (t = crm_sql_column_text(st, 2)) ? t : "");
        snprintf(r->currency, sizeof r->currency, "%s", (t = crm_sql_column_text(st, 3)) ? t : "");
        snprintf(r->close_date, sizeof r->close_date, "%s",
                 (t = crm_sql_column_text(st, 4)) ? t : "");
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

static const snap_row *snap_get(const snap *s, int64_t deal_id)
{
    size_t lo = 0, hi = s->n; /* rows by deal_id */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->r[mid].deal_id == deal_id)
            return &s->r[mid];
        if (s->r[mid].deal_id < deal_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void add(diff_cat *c, const pl_pipeline *p, const snap_row *r, int64_t amount)
{
    c->count++;
    if (!strcmp(r->currency, p->currency))
        c->amount += amount;
    else
        c->foreign++;
    json_array_append_new(c->deals, json_integer(r->deal_id));
}

/* The deal's status at t from its history ("" when none recorded). */
static void status_at(crm_plugin_ctx *ctx, int64_t deal_id, int64_t t, char *buf, size_t size)
{
    buf[0] = 0;
    crm_stmt *st = pl_prep(ctx, "SELECT to_value FROM pipeline_deal_history WHERE deal_id = ?1"
                                " AND field = 'status' AND at <= ?2 ORDER BY at DESC, id DESC"
                                " LIMIT 1");
    if (!st)
        return;
    crm_sql_bind_int64(st, 1, deal_id);
    crm_sql_bind_int64(st, 2, t);
    if (crm_sql_step(st) == CRM_SQL_ROW) {
        const char *v = crm_sql_column_text(st, 0);
        snprintf(buf, size, "%s", v ? v : "");
    }
    crm_sql_finalize(st);
}

static void compare(crm_plugin_ctx *ctx, const pl_pipeline *p, const snap *a, const snap *b,
                    diff_cat *c)
{
    for (size_t i = 0; i < b->n; i++) {
        const snap_row *rb = &b->r[i], *ra = snap_get(a, rb->deal_id);
        if (!ra) {
            add(&c[C_NEW], p, rb, rb->amount);
            continue;
        }
        int cd = ra->close_date[0] && rb->close_date[0] ? strcmp(rb->close_date, ra->close_date)
                                                        : 0;
        if (cd > 0)
            add(&c[C_SLIPPED], p, rb, rb->amount);
        else if (cd < 0)
            add(&c[C_PULLED], p, rb, rb->amount);
        if (rb->amount != ra->amount)
            add(&c[rb->amount > ra->amount ? C_UP : C_DOWN], p, rb, rb->amount - ra->amount);
        int sa = pl_stage_index(p, ra->stage), sb = pl_stage_index(p, rb->stage);
        if (sa >= 0 && sb >= 0 && sa != sb)
            add(&c[sb > sa ? C_FORWARD : C_BACK], p, rb, rb->amount);
    }
    for (size_t i = 0; i < a->n; i++) {
        const snap_row *ra = &a->r[i];
        if (snap_get(b, ra->deal_id))
            continue;
        char st[8];
        status_at(ctx, ra->deal_id, b->taken_at, st, sizeof st);
        if (!strcmp(st, "won"))
            add(&c[C_WON], p, ra, ra->amount);
        else if (!strcmp(st, "lost"))
            add(&c[C_LOST], p, ra, ra->amount);
    }
}

static int print_diff(crm_plugin_ctx *ctx, crm_command_io *io, const pl_pipeline *p,
                      const snap *a, const snap *b, diff_cat *c)
{
    char ta[40], tb[40];
    pl_time_of(ctx, a->taken_at, ta, sizeof ta);
    pl_time_of(ctx, b->taken_at, tb, sizeof tb);
    if (crm_io_json(io)) {
        json_t *cats = json_object();
        for (int k = 0; k < C_N; k++) {
            json_object_set_new(cats, cat_names[k],
                                json_pack("{sI sI sI sO}", "count", (json_int_t)c[k].count,
                                          "amount", (json_int_t)c[k].amount, "foreign",
                                          (json_int_t)c[k].foreign, "deals", c[k].deals));
        }
        return pl_print_json(ctx, io, json_pack("{ss ss s{sI ss} s{sI ss} so}", "pipeline",
                                                p->name, "currency", p->currency, "from", "id",
                                                (json_int_t)a->id, "taken_at", ta, "to", "id",
                                                (json_int_t)b->id, "taken_at", tb, "categories",
                                                cats));
    }
    FILE *out = crm_io_out(io);
    fprintf(out, "diff %s: snapshot %lld (%s) to %lld (%s)\n", p->name, (long long)a->id, ta,
            (long long)b->id, tb);
    for (int k = 0; k < C_N; k++) {
        char money[64], ids[256] = "";
        pl_money(ctx, c[k].amount, p->currency, money, sizeof money);
        size_t len = 0;
        for (size_t i = 0; i < json_array_size(c[k].deals) && len + 24 < sizeof ids; i++)
            len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%lld", i ? " " : "",
                                    (long long)json_integer_value(json_array_get(c[k].deals, i)));
        fprintf(out, "  %-14s %5lld  %20s", cat_names[k], (long long)c[k].count, money);
        if (c[k].foreign)
            fprintf(out, "  (+%lld in other currencies)", (long long)c[k].foreign);
        fprintf(out, ids[0] ? "  deals %s\n" : "\n", ids);
    }
    return CRM_OK;
}

int pl_cmd_diff(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const pl_pipeline *p = pl_pipeline_find(ctx, pl_opt_text(args, "pipeline"));
    if (!p) {
        crm_set_error(ctx, "--pipeline: no pipeline \"%s\"", pl_opt_text(args, "pipeline"));
        return CRM_EINVAL;
    }
    crm_value vf = {0}, vt = {0};
    crm_args_option(args, "from", &vf);
    crm_args_option(args, "to", &vt);
    char from[16], to[16];
    pl_date_of(ctx, vf.i, from, sizeof from);
    pl_date_of(ctx, vt.i, to, sizeof to);
    if (vt.i < vf.i) {
        crm_set_error(ctx, "--to %s is before --from %s", to, from);
        return CRM_EUSAGE;
    }
    snap a = {0}, b = {0};
    diff_cat c[C_N] = {{0}};
    int rc = snap_find(ctx, vf.i + 86399, "--from", from, &a);
    if (rc == CRM_OK)
        rc = snap_find(ctx, vt.i + 86399, "--to", to, &b);
    if (rc == CRM_OK)
        rc = snap_load(ctx, p, &a);
    if (rc == CRM_OK)
        rc = snap_load(ctx, p, &b);
    for (int k = 0; k < C_N; k++)
        if (!(c[k].deals = json_array()))
            rc = CRM_ENOMEM;
    if (rc == CRM_OK) {
        compare(ctx, p, &a, &b, c);
        rc = print_diff(ctx, io, p, &a, &b, c);
    }
    for (int k = 0; k < C_N; k++)
        json_decref(c[k].deals);
    free(a.r);
    free(b.r);
    return rc;
}

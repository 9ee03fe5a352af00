/* pipeline plugin — crm pipeline stats: how deals flowed through the stages,
 * read from the history (pipeline_deal_history, fields stage, status and
 * lost_reason; deal.c records a stage row on creation and on every move,
 * win, loss and reopening).
 *
 * For each open stage S, over the deals that entered S in the period (a
 * stage row to S at in [from, to]; the creation is an entry):
 *   entered     those deals (each counted once);
 *   advanced    those with a later stage row, after their first entry in the
 *               period and at or before the period's end, to a stage of a
 *               higher configured order that is not the lost stage (won
 *               counts; skipping stages counts);
 *   conversion  advanced / entered, in percent;
 *   won, lost   those whose status is now won, lost; win rate won / (won +
 *               lost) in percent, calibration = win rate - S's configured
 *               probability, in points (null while none is closed);
 *   median time in S: per deal, every visit of S summed as `crm deal show`
 *               does (the open visit counted to now); the median of those
 *               sums
 *               (see median()).
 * And the period's outcomes: status rows to won, to lost, and the lost ones
 * by reason (lost_reason rows; a loss by `deal move ID lost` has none:
 * "(none)"). Without --from/--to the period is all time. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

typedef struct visit {
    int stage; /* index in the pipeline, -1 for a stage no longer configured */
    int64_t start, end;
} visit;

typedef struct stage_acc {
    int64_t entered, advanced, won, lost;
    int64_t *times;
    size_t ntimes, cap;
} stage_acc;

typedef struct stats {
    const pl_pipeline *p;
    int64_t t0, t1, now;
    stage_acc st[PL_MAX_STAGES];
    int64_t won, lost;
    char reasons[PL_MAX_REASONS + 1][PL_NAME];
    int64_t reason_n[PL_MAX_REASONS + 1];
    size_t nreasons;
    /* the deal being read */
    visit *v;
    size_t nv, vcap;
    char status[8];
} stats;

static int push_time(stage_acc *a, int64_t t)
{
    if (a->ntimes == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        int64_t *n = realloc(a->times, cap * sizeof *n);
        if (!n)
            return CRM_ENOMEM;
        a->times = n;
        a->cap = cap;
    }
    a->times[a->ntimes++] = t;
    return CRM_OK;
}

static size_t count_reason(stats *s, const char *reason)
{
    size_t i = 0;
    while (i < s->nreasons && strcmp(s->reasons[i], reason))
        i++;
    if (i == s->nreasons) {
        if (s->nreasons == PL_MAX_REASONS + 1)
            i = PL_MAX_REASONS; /* more reasons than configured: pooled in the last */
        else
            snprintf(s->reasons[s->nreasons++], PL_NAME, "%s", reason);
    }
    s->reason_n[i]++;
    return i;
}

static int in_period(const stats *s, int64_t at)
{
    return at >= s->t0 && at <= s->t1;
}

/* The deal whose visits are in s->v is complete: adds it to the stages. */
static int end_deal(stats *s)
{
    const pl_pipeline *p = s->p;
    int rc = CRM_OK;
    for (size_t si = 0; rc == CRM_OK && si < p->nstages; si++) {
        if (si == p->won || si == p->lost)
            continue;
        size_t first = s->nv;
        int64_t sum = 0;
        for (size_t i = 0; i < s->nv; i++) {
            if (s->v[i].stage != (int)si)
                continue;
            if (first == s->nv && in_period(s, s->v[i].start))
                first = i;
            sum += s->v[i].end > s->v[i].start ? s->v[i].end - s->v[i].start : 0;
        }
        if (first == s->nv)
            continue;
        stage_acc *a = &s->st[si];
        a->entered++;
        for (size_t i = first + 1; i < s->nv; i++) {
            int to = s->v[i].stage;
            if (s->v[i].start <= s->t1 && to > (int)si && (size_t)to != p->lost) {
                a->advanced++;
                break;
            }
        }
        a->won += !strcmp(s->status, "won");
        a->lost += !strcmp(s->status, "lost");
        rc = push_time(a, sum);
    }
    s->nv = 0;
    s->status[0] = 0;
    return rc;
}

static int add_visit(stats *s, const char *stage, int64_t at)
{
    if (s->nv)
        s->v[s->nv - 1].end = at;
    if (s->nv == s->vcap) {
        size_t cap = s->vcap ? s->vcap * 2 : 16;
        visit *n = realloc(s->v, cap * sizeof *n);
        if (!n)
            return CRM_ENOMEM;
        s->v = n;
        s->vcap = cap;
    }
    s->v[s->nv++] = (visit){pl_stage_index(s->p, stage), at, s->now};
    return CRM_OK;
}

/* One scan of the pipeline's history, deal by deal in the order of events. */
static int scan(crm_plugin_ctx *ctx, stats *s)
{
    crm_stmt *st = pl_prep(ctx, "SELECT h.deal_id, h.field, h.to_value, h.at"
                                " FROM pipeline_deal_history h JOIN pipeline_deals d"
                                " ON d.id = h.deal_id WHERE d.pipeline = ?1"
                                " AND h.field IN ('stage', 'status', 'lost_reason')"
                                " ORDER BY h.deal_id, h.at, h.id");
    if (!st)
        return pl_fail_db(ctx, "cannot read the deals' history");
    crm_sql_bind_text(st, 1, s->p->name);
    int64_t deal = 0;
    int rc = CRM_OK, step;
    while (rc == CRM_OK && (step = crm_sql_step(st)) == CRM_SQL_ROW) {
        int64_t id = crm_sql_column_int64(st, 0), at = crm_sql_column_int64(st, 3);
        const char *field = crm_sql_column_text(st, 1), *to = crm_sql_column_text(st, 2);
        if (!to)
            to = "";
        if (id != deal && deal)
            rc = end_deal(s);
        deal = id;
        if (rc != CRM_OK)
            break;
        if (!strcmp(field, "stage")) {
            rc = add_visit(s, to, at);
        } else if (!strcmp(field, "status")) {
            snprintf(s->status, sizeof s->status, "%s", to);
            if (in_period(s, at) && !strcmp(to, "won"))
                s->won++;
            if (in_period(s, at) && !strcmp(to, "lost"))
                s->lost++;
        } else if (in_period(s, at)) {
            count_reason(s, to);
        }
    }
    if (rc == CRM_OK && step < 0)
        rc = pl_fail_db(ctx, "cannot read the deals' history");
    crm_sql_finalize(st);
    if (rc == CRM_OK && deal)
        rc = end_deal(s);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median of n sums: the middle one, or the mean of the two middle ones
 * rounded down for an even count; -1 when n is 0. */
static int64_t median(int64_t *v, size_t n)
{
    if (!n)
        return -1;
    qsort(v, n, sizeof *v, cmp_i64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A percentage to one decimal, half away from zero (x100 then /10). */
static double pct(int64_t num, int64_t den)
{
    int64_t tenths = (num * 2000 / den + 1) / 2; /* num, den >= 0 */
    return (double)tenths / 10.0;
}

/* The lost ones without a lost_reason row. */
static void fill_unreasoned(stats *s)
{
    int64_t reasoned = 0;
    for (size_t i = 0; i < s->nreasons; i++)
        reasoned += s->reason_n[i];
    if (s->lost > reasoned)
        s->reason_n[count_reason(s, "(none)")] += s->lost - reasoned - 1;
}

static json_t *stage_json(const stats *s, size_t si, int64_t med)
{
    const stage_acc *a = &s->st[si];
    const pl_stage *g = &s->p->stages[si];
    json_t *o = json_pack("{ss si sI sI sI sI}", "stage", g->name, "probability", g->probability,
                          "entered", (json_int_t)a->entered, "advanced",
                          (json_int_t)a->advanced, "won", (json_int_t)a->won, "lost",
                          (json_int_t)a->lost);
    if (!o)
        return NULL;
    json_object_set_new(o, "conversion",
                        a->entered ? json_real(pct(a->advanced, a->entered)) : json_null());
    int64_t closed = a->won + a->lost;
    double rate = closed ? pct(a->won, closed) : 0;
    json_object_set_new(o, "win_rate", closed ? json_real(rate) : json_null());
    json_object_set_new(o, "calibration",
                        closed ? json_real(rate - g->probability) : json_null());
    json_object_set_new(o, "median_time_in_stage", med >= 0 ? json_integer(med) : json_null());
    return o;
}

static void print_rate(FILE *out, int have, double v, const char *fmt)
{
    if (have)
        fprintf(out, fmt, v);
    else
        fprintf(out, "%9s", "-");
}

static int print_stats(crm_plugin_ctx *ctx, crm_command_io *io, stats *s, const char *from,
                       const char *to)
{
    const pl_pipeline *p = s->p;
    FILE *out = crm_io_out(io);
    int json = crm_io_json(io);
    json_t *stages = json_array(), *reasons = json_object();
    if (!stages || !reasons) {
        json_decref(stages);
        json_decref(reasons);
        return CRM_ENOMEM;
    }
    if (!json) {
        fprintf(out, "stats %s, %s to %s\n", p->name, from[0] ? from : "the start",
                to[0] ? to : "now");
        fprintf(out, "  %-16s %7s %8s %9s %5s %5s %9s %9s %12s\n", "stage", "entered",
                "advanced", "conv %", "won", "lost", "win %", "calib", "median time");
    }
    for (size_t si = 0; si < p->nstages; si++) {
        if (si == p->won || si == p->lost)
            continue;
        stage_acc *a = &s->st[si];
        int64_t med = median(a->times, a->ntimes);
        json_array_append_new(stages, stage_json(s, si, med));
        if (json)
            continue;
        int64_t closed = a->won + a->lost;
        fprintf(out, "  %-16s %7lld %8lld ", p->stages[si].name, (long long)a->entered,
                (long long)a->advanced);
        print_rate(out, a->entered > 0, a->entered ? pct(a->advanced, a->entered) : 0, "%9.1f");
        fprintf(out, " %5lld %5lld ", (long long)a->won, (long long)a->lost);
        double rate = closed ? pct(a->won, closed) : 0;
        print_rate(out, closed > 0, rate, "%9.1f");
        fputc(' ', out);
        print_rate(out, closed > 0, rate - p->stages[si].probability, "%+9.1f");
        if (med >= 0)
            fprintf(out, " %11llds\n", (long long)med);
        else
            fprintf(out, " %12s\n", "-");
    }
    for (size_t i = 0; i < s->nreasons; i++)
        json_object_set_new(reasons, s->reasons[i], json_integer(s->reason_n[i]));
    if (json)
        return pl_print_json(ctx, io, json_pack("{ss so so so sI sI so}", "pipeline", p->name,
                                                "from", from[0] ? json_string(from) : json_null(),
                                                "to", to[0] ? json_string(to) : json_null(),
                                                "stages", stages, "won", (json_int_t)s->won,
                                                "lost", (json_int_t)s->lost, "lost_reasons",
                                                reasons));
    fprintf(out, "  won %lld, lost %lld", (long long)s->won, (long long)s->lost);
    for (size_t i = 0; i < s->nreasons; i++)
        fprintf(out, "%s%s %lld", i ? ", " : ": ", s->reasons[i], (long long)s->reason_n[i]);
    fputc('\n', out);
    json_decref(stages);
    json_decref(reasons);
    return CRM_OK;
}

int pl_cmd_stats(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const pl_pipeline *p = pl_pipeline_find(ctx, pl_opt_text(args, "pipeline"));
    if (!p) {
        crm_set_error(ctx, "--pipeline: no pipeline \"%s\"", pl_opt_text(args, "pipeline"));
        return CRM_EINVAL;
    }
    crm_value vf = {0}, vt = {0};
    crm_args_option(args, "from", &vf);
    crm_args_option(args, "to", &vt);
    stats *s = calloc(1, sizeof *s);
    if (!s)
        return CRM_ENOMEM;
    s->p = p;
    s->now = crm_now(ctx);
    s->t0 = vf.given ? vf.i : INT64_MIN;
    s->t1 = vt.given ? vt.i + 86399 : INT64_MAX;
    char from[16] = "", to[16] = "";
    if (vf.given)
        pl_date_of(ctx, vf.i, from, sizeof from);
    if (vt.given)
        pl_date_of(ctx, vt.i, to, sizeof to);
    int rc = CRM_OK;
    if (vf.given && vt.given && vt.i < vf.i) {
        crm_set_error(ctx, "--to %s is before --from %s", to, from);
        rc = CRM_EUSAGE;
    }
    if (rc == CRM_OK)
        rc = scan(ctx, s);
    if (rc == CRM_OK) {
        fill_unreasoned(s);
        rc = print_stats(ctx, io, s, from, to);
    }
    for (size_t i = 0; i < PL_MAX_STAGES; i++)
        free(s->st[i].times);
    free(s->v);
    free(s);
    return rc;
}

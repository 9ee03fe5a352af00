/* ticketing plugin — crm helpdesk report: tickets opened and solved in a
 * period, median first reply and resolution in business seconds (from the
 * stored clocks, themselves a function of the history), breach rate per
 * clock, CSAT (share of 4-5 answers), NPS (promoters 9-10 minus detractors
 * 0-6, in % of the answers of the period) and the open backlog's median age;
 * `--by team|agent|priority` repeats the ticket figures per group (NPS is a
 * contact's answer, not a ticket's: it stays a whole-period figure). */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

/* --by NAME -> the ticket column it groups on */
static const struct {
    const char *name, *column;
} dims[] = {
    {"team", "team"},
    {"agent", "assignee"},
    {"priority", "priority"},
};

/* The figures of one slice of tickets (all of them, or one group). */
typedef struct slice {
    int64_t opened, solved, fr, res, rated, happy, backlog, age;
    int64_t clocks[TK_NMETRIC], breached[TK_NMETRIC];
} slice;

/* A query of the report: ?1 from, ?2 to (or now), ?3 the group (NULL for
 * all); `%s` in fmt takes the group condition on alias t. */
typedef struct rq {
    crm_plugin_ctx *ctx;
    int64_t from, to, now;
    const char *column; /* NULL: no grouping */
    const char *group;
} rq;

static crm_stmt *prep(const rq *q, const char *fmt, int64_t a2)
{
    char cond[96], sql[1024];
    if (q->column)
        snprintf(cond, sizeof cond, " AND coalesce(t.%s, '') = ?3", q->column);
    else
        snprintf(cond, sizeof cond, " AND ?3 IS NULL");
    snprintf(sql, sizeof sql, fmt, cond);
    crm_stmt *st = tk_prep(q->ctx, sql, 2, q->from, a2);
    if (st && q->column)
        crm_sql_bind_text(st, 3, q->group);
    else if (st)
        crm_sql_bind_null(st, 3);
    return st;
}

static int64_t count(const rq *q, const char *fmt)
{
    crm_stmt *st = prep(q, fmt, q->to);
    int64_t n = st && crm_sql_step(st) == CRM_SQL_ROW ? crm_sql_column_int64(st, 0) : 0;
    crm_sql_finalize(st);
    return n;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median of the query's first column; -1 when none. */
static int64_t median(const rq *q, const char *fmt, int64_t a2)
{
    crm_stmt *st = prep(q, fmt, a2);
    int64_t *v = NULL, m = -1;
    size_t n = 0, cap = 0;
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            int64_t *p = realloc(v, cap * sizeof *p);
            if (!p)
                break;
            v = p;
        }
        v[n++] = crm_sql_column_int64(st, 0);
    }
    crm_sql_finalize(st);
    if (n) {
        qsort(v, n, sizeof *v, cmp64);
        m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    free(v);
    return m;
}

#define IN " t.created_at >= ?1 AND t.created_at < ?2"
#define OPEN " t.status NOT IN ('solved', 'closed')"
#define CLOCKS "FROM ticketing_clocks c JOIN ticketing_tickets t ON t.id = c.ticket_id WHERE"

static void fill(const rq *q, slice *s)
{
    memset(s, 0, sizeof *s);
    s->opened = count(q, "SELECT count(*) FROM ticketing_tickets t WHERE" IN "%s");
    s->solved = count(q, "SELECT count(*) FROM ticketing_tickets t WHERE t.solved_at >= ?1 AND"
                         " t.solved_at < ?2%s");
    s->fr = median(q, "SELECT c.elapsed " CLOCKS " c.metric = 'first_reply' AND c.achieved_at"
                      " IS NOT NULL AND" IN "%s", q->to);
    s->res = median(q, "SELECT c.elapsed " CLOCKS " c.metric = 'resolution' AND c.achieved_at"
                       " IS NOT NULL AND" IN "%s", q->to);
    s->rated = count(q, "SELECT count(*) FROM ticketing_tickets t WHERE t.csat_score IS NOT"
                        " NULL AND" IN "%s");
    s->happy = count(q, "SELECT count(*) FROM ticketing_tickets t WHERE t.csat_score >= 4 AND"
                        IN "%s");
    s->backlog = count(q, "SELECT count(*) FROM ticketing_tickets t WHERE" OPEN
                          " AND ?1 = ?1 AND ?2 = ?2%s");
    s->age = median(q, "SELECT ?2 - t.created_at FROM ticketing_tickets t WHERE" OPEN
                       " AND ?1 = ?1%s", q->now);
    for (int m = 0; m < TK_NMETRIC; m++) {
        crm_stmt *st = prep(q, "SELECT count(*), coalesce(sum(c.breaches > 0), 0) " CLOCKS
                               " c.metric = ?4 AND c.started_at IS NOT NULL AND" IN "%s", q->to);
        if (st) {
            crm_sql_bind_text(st, 4, tk_metric_name(m));
            if (crm_sql_step(st) == CRM_SQL_ROW)
                s->clocks[m] = crm_sql_column_int64(st, 0),
                s->breached[m] = crm_sql_column_int64(st, 1);
        }
        crm_sql_finalize(st);
    }
}

static double pct(int64_t part, int64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static json_t *seconds_or_null(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static void slice_json(const slice *s, json_t *o)
{
    json_t *br = json_object();
    json_object_set_new(o, "opened", json_integer(s->opened));
    json_object_set_new(o, "solved", json_integer(s->solved));
    json_object_set_new(o, "median_first_reply_seconds", seconds_or_null(s->fr));
    json_object_set_new(o, "median_resolution_seconds", seconds_or_null(s->res));
    for (int m = 0; m < TK_NMETRIC; m++)
        json_object_set_new(br, tk_metric_name(m), json_real(pct(s->breached[m], s->clocks[m])));
    json_object_set_new(o, "breach_rate_pct", br);
    json_object_set_new(o, "csat_pct", s->rated ? json_real(pct(s->happy, s->rated)) : json_null());
    json_object_set_new(o, "csat_answers", json_integer(s->rated));
    json_object_set_new(o, "backlog", json_integer(s->backlog));
    json_object_set_new(o, "backlog_median_age_seconds", seconds_or_null(s->age));
}

static void slice_text(const slice *s, FILE *out, const char *indent)
{
    fprintf(out, "%sopened %lld, solved %lld\n%smedian first reply %llds, median resolution "
                 "%llds (business time)\n",
            indent, (long long)s->opened, (long long)s->solved, indent, (long long)s->fr,
            (long long)s->res);
    for (int m = 0; m < TK_NMETRIC; m++)
        fprintf(out, "%sbreach rate %-12s %5.1f%% (%lld of %lld)\n", indent, tk_metric_name(m),
                pct(s->breached[m], s->clocks[m]), (long long)s->breached[m],
                (long long)s->clocks[m]);
    fprintf(out, "%sCSAT %.1f%% satisfied (4-5) of %lld answers\n%sbacklog %lld open, median "
                 "age %lldh\n", indent, pct(s->happy, s->rated), (long long)s->rated, indent,
            (long long)s->backlog, (long long)(s->age < 0 ? 0 : s->age / 3600));
}

/* NPS of the answers given in the period: promoters (9-10) minus detractors (0-6), in %. */
static void nps(const rq *q, json_t *o, FILE *out)
{
    crm_stmt *st = tk_prep(q->ctx, "SELECT count(*), coalesce(sum(score >= 9), 0),"
                                   " coalesce(sum(score <= 6), 0) FROM ticketing_nps WHERE"
                                   " answered_at >= ?1 AND answered_at < ?2", 2, q->from, q->to);
    int64_t n = 0, pro = 0, det = 0;
    if (st && crm_sql_step(st) == CRM_SQL_ROW)
        n = crm_sql_column_int64(st, 0), pro = crm_sql_column_int64(st, 1),
        det = crm_sql_column_int64(st, 2);
    crm_sql_finalize(st);
    double score = pct(pro, n) - pct(det, n);
    json_object_set_new(o, "nps", n ? json_real(score) : json_null());
    json_object_set_new(o, "nps_answers", json_integer(n));
    json_object_set_new(o, "nps_promoters", json_integer(pro));
    json_object_set_new(o, "nps_detractors", json_integer(det));
    if (out && n)
        fprintf(out, "NPS %+.1f (%lld promoters, %lld detractors of %lld answers)\n", score,
                (long long)pro, (long long)det, (long long)n);
    else if (out)
        fprintf(out, "NPS - (no answers)\n");
}

/* The groups of --by: every value the column takes on a ticket of the
 * period or of the backlog, "" for none, in order. */
static int groups(const rq *q, const char *label, json_t *arr, FILE *out)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT DISTINCT coalesce(t.%s, '') FROM ticketing_tickets t WHERE"
                              IN " OR (t.solved_at >= ?1 AND t.solved_at < ?2) OR" OPEN
                              " ORDER BY 1", q->column);
    crm_stmt *st = tk_prep(q->ctx, sql, 2, q->from, q->to);
    if (!st)
        return tk_fail_db(q->ctx, "listing the report's groups");
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        char g[TK_NAME_MAX];
        tk_col_text(st, 0, g, sizeof g);
        rq gq = *q;
        gq.group = g;
        slice s;
        fill(&gq, &s);
        json_t *o = json_object();
        json_object_set_new(o, label, g[0] ? json_string(g) : json_null());
        slice_json(&s, o);
        json_array_append_new(arr, o);
        if (out) {
            fprintf(out, "\n%s %s\n", label, g[0] ? g : "(none)");
            slice_text(&s, out, "  ");
        }
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

int tk_cmd_report(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value f, t;
    int64_t now = crm_now(ctx);
    crm_args_option(args, "from", &f);
    crm_args_option(args, "to", &t);
    rq q = {ctx, f.given ? f.i : INT64_MIN, t.given ? t.i : now + 1, now, NULL, NULL};
    const char *by = tk_opt_text(args, "by");
    size_t d = 0;
    while (by && d < sizeof dims / sizeof dims[0] && strcmp(dims[d].name, by))
        d++;
    if (by && d == sizeof dims / sizeof dims[0]) {
        crm_set_error(ctx, "--by: '%s' is not team, agent or priority", by);
        return CRM_EUSAGE;
    }
    FILE *out = crm_io_json(io) ? NULL : crm_io_out(io);
    slice all;
    fill(&q, &all);
    json_t *o = json_object();
    slice_json(&all, o);
    if (out)
        slice_text(&all, out, "");
    nps(&q, o, out);
    int rc = CRM_OK;
    if (by) {
        json_t *arr = json_array();
        q.column = dims[d].column;
        json_object_set_new(o, "by", json_string(by));
        rc = groups(&q, by, arr, out);
        json_object_set_new(o, "groups", arr);
    }
    if (rc == CRM_OK && !out)
        return tk_print_json(io, o);
    json_decref(o);
    return rc;
}

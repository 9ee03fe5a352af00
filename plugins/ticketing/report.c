/* ticketing plugin — crm helpdesk report: tickets opened and solved in a
 * period, median first reply and resolution in business seconds (from the
 * stored clocks, themselves a function of the history), breach rate per
 * clock, CSAT (share of 4-5 answers), NPS (promoters 9-10 minus detractors
 * 0-6, in % of the answers of the period) and the open backlog's median age;
 * `--by team|agent|priority` repeats the figures per group (an NPS answer
 * counts for the contact's latest ticket solved before it was asked). */
#include <stddef.h>
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
    char name[TK_NAME_MAX]; /* the group's value ("" for none, or for all) */
    int64_t opened, solved, fr, res, rated, happy, backlog, age;
    int64_t nps_n, nps_pro, nps_det; /* --by: the answers attributed to the group */
    int64_t clocks[TK_NMETRIC], breached[TK_NMETRIC];
} slice;

/* The slices found so far, in the order first seen (sorted at the end). */
typedef struct slices {
    slice *v;
    size_t n, cap;
} slices;

/* A report: ?1 from, ?2 to (or now for the backlog's age); every query is
 * grouped on `key` (the --by column, or '' for one slice of everything),
 * so each figure is one pass over the tickets whatever the number of groups. */
typedef struct rq {
    crm_plugin_ctx *ctx;
    int64_t from, to, now;
    const char *column; /* NULL: no grouping */
} rq;

static slice *slice_of(slices *ss, const char *name)
{
    for (size_t i = 0; i < ss->n; i++)
        if (!strcmp(ss->v[i].name, name))
            return &ss->v[i];
    if (ss->n == ss->cap) {
        size_t cap = ss->cap ? 2 * ss->cap : 8;
        slice *p = realloc(ss->v, cap * sizeof *p);
        if (!p)
            return NULL;
        ss->v = p, ss->cap = cap;
    }
    slice *s = &ss->v[ss->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->fr = s->res = s->age = -1;
    return s;
}

/* Prepares fmt with its one `%s` replaced by the group key on alias t. */
static crm_stmt *prep(const rq *q, const char *fmt, int64_t a2)
{
    char key[64], sql[1024];
    if (q->column)
        snprintf(key, sizeof key, "coalesce(t.%s, '')", q->column);
    else
        snprintf(key, sizeof key, "''");
    snprintf(sql, sizeof sql, fmt, key);
    return tk_prep(q->ctx, sql, 2, q->from, a2);
}

/* Runs a grouped query (column 0 the key) and hands each row to fn. */
static int each(const rq *q, slices *ss, const char *fmt, int64_t a2,
                void (*fn)(slice *s, crm_stmt *st))
{
    crm_stmt *st = prep(q, fmt, a2);
    if (!st)
        return tk_fail_db(q->ctx, "the helpdesk report");
    int rc = CRM_OK, step;
    while ((step = crm_sql_step(st)) == CRM_SQL_ROW) {
        char name[TK_NAME_MAX];
        tk_col_text(st, 0, name, sizeof name);
        slice *s = slice_of(ss, name);
        if (!s) {
            rc = CRM_ENOMEM;
            break;
        }
        fn(s, st);
    }
    if (rc == CRM_OK && step < 0)
        rc = tk_fail_db(q->ctx, "the helpdesk report");
    crm_sql_finalize(st);
    return rc;
}

#define COL(i) crm_sql_column_int64(st, (i))
static void on_opened(slice *s, crm_stmt *st)
{
    s->opened = COL(1), s->rated = COL(2), s->happy = COL(3);
}
static void on_solved(slice *s, crm_stmt *st)
{
    s->solved = COL(1);
}
static void on_backlog(slice *s, crm_stmt *st)
{
    s->backlog = COL(1);
}
static void on_clocks(slice *s, crm_stmt *st)
{
    int m = tk_metric_parse(crm_sql_column_text(st, 1));
    if (m >= 0)
        s->clocks[m] = COL(2), s->breached[m] = COL(3);
}
static void on_nps(slice *s, crm_stmt *st)
{
    s->nps_n = COL(1), s->nps_pro = COL(2), s->nps_det = COL(3);
}
#undef COL

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t median_of(int64_t *v, size_t n)
{
    if (!n)
        return -1;
    qsort(v, n, sizeof *v, cmp64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Medians per group of the query's second column (ordered by key), into
 * the field at offset `off` of each slice. */
static int medians(const rq *q, slices *ss, const char *fmt, int64_t a2, size_t off)
{
    crm_stmt *st = prep(q, fmt, a2);
    if (!st)
        return tk_fail_db(q->ctx, "the helpdesk report");
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    char cur[TK_NAME_MAX] = "";
    int rc = CRM_OK, step, any = 0;
    for (;;) {
        step = crm_sql_step(st);
        char name[TK_NAME_MAX] = "";
        if (step == CRM_SQL_ROW)
            tk_col_text(st, 0, name, sizeof name);
        if (any && (step != CRM_SQL_ROW || strcmp(name, cur))) { /* a group ends */
            slice *s = slice_of(ss, cur);
            if (!s) {
                rc = CRM_ENOMEM;
                break;
            }
            *(int64_t *)((char *)s + off) = median_of(v, n);
            n = 0;
        }
        if (step != CRM_SQL_ROW)
            break;
        snprintf(cur, sizeof cur, "%s", name);
        any = 1;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            int64_t *p = realloc(v, cap * sizeof *p);
            if (!p) {
                rc = CRM_ENOMEM;
                break;
            }
            v = p;
        }
        v[n++] = crm_sql_column_int64(st, 1);
    }
    if (rc == CRM_OK && step < 0)
        rc = tk_fail_db(q->ctx, "the helpdesk report");
    free(v);
    crm_sql_finalize(st);
    return rc;
}

#define IN " t.created_at >= ?1 AND t.created_at < ?2"
#define OPEN " t.status NOT IN ('solved', 'closed')"
#define CLOCKS "FROM ticketing_clocks c JOIN ticketing_tickets t ON t.id = c.ticket_id WHERE"

static int by_name(const void *a, const void *b)
{
    return strcmp(((const slice *)a)->name, ((const slice *)b)->name);
}

/* Every figure of every slice: a handful of grouped passes. */
static int fill(const rq *q, slices *ss)
{
    int rc = each(q, ss, "SELECT %s, count(*), count(t.csat_score), coalesce(sum(t.csat_score"
                         " >= 4), 0) FROM ticketing_tickets t WHERE" IN " GROUP BY 1", q->to,
                  on_opened);
    if (rc == CRM_OK)
        rc = each(q, ss, "SELECT %s, count(*) FROM ticketing_tickets t WHERE t.solved_at >= ?1"
                         " AND t.solved_at < ?2 GROUP BY 1", q->to, on_solved);
    if (rc == CRM_OK)
        rc = each(q, ss, "SELECT %s, count(*) FROM ticketing_tickets t WHERE" OPEN
                         " AND ?1 = ?1 AND ?2 = ?2 GROUP BY 1", q->to, on_backlog);
    if (rc == CRM_OK)
        rc = each(q, ss, "SELECT %s, c.metric, count(*), coalesce(sum(c.breaches > 0), 0) "
                         CLOCKS " c.started_at IS NOT NULL AND" IN " GROUP BY 1, 2", q->to,
                  on_clocks);
    if (rc == CRM_OK)
        rc = medians(q, ss, "SELECT %s, c.elapsed " CLOCKS " c.metric = 'first_reply' AND"
                            " c.achieved_at IS NOT NULL AND" IN " ORDER BY 1", q->to,
                     offsetof(slice, fr));
    if (rc == CRM_OK)
        rc = medians(q, ss, "SELECT %s, c.elapsed " CLOCKS " c.metric = 'resolution' AND"
                            " c.achieved_at IS NOT NULL AND" IN " ORDER BY 1", q->to,
                     offsetof(slice, res));
    if (rc == CRM_OK)
        rc = medians(q, ss, "SELECT %s, ?2 - t.created_at FROM ticketing_tickets t WHERE" OPEN
                            " AND ?1 = ?1 ORDER BY 1", q->now, offsetof(slice, age));
    /* an answer belongs to the contact's latest ticket solved before it was
     * asked (or answered, without a survey): that ticket's team, agent, priority */
    if (rc == CRM_OK && q->column)
        rc = each(q, ss, "SELECT %s, count(*), coalesce(sum(n.score >= 9), 0),"
                         " coalesce(sum(n.score <= 6), 0) FROM ticketing_nps n JOIN"
                         " ticketing_tickets t ON t.id = (SELECT x.id FROM ticketing_tickets x"
                         " WHERE x.contact_id = n.contact_id AND x.solved_at <= coalesce((SELECT"
                         " v.sent_at FROM ticketing_nps_surveys v WHERE v.id = n.survey_id),"
                         " n.answered_at) ORDER BY x.solved_at DESC, x.id DESC LIMIT 1) WHERE"
                         " n.answered_at >= ?1 AND n.answered_at < ?2 GROUP BY 1", q->to, on_nps);
    if (rc == CRM_OK && ss->n)
        qsort(ss->v, ss->n, sizeof *ss->v, by_name);
    return rc;
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

static double nps_of(int64_t pro, int64_t det, int64_t n)
{
    return pct(pro, n) - pct(det, n);
}

/* A group's NPS members (the whole report's come from nps()). */
static void group_nps(const slice *s, json_t *o, FILE *out)
{
    double v = nps_of(s->nps_pro, s->nps_det, s->nps_n);
    json_object_set_new(o, "nps", s->nps_n ? json_real(v) : json_null());
    json_object_set_new(o, "nps_answers", json_integer(s->nps_n));
    json_object_set_new(o, "nps_promoters", json_integer(s->nps_pro));
    json_object_set_new(o, "nps_detractors", json_integer(s->nps_det));
    if (out && s->nps_n)
        fprintf(out, "  NPS %+.1f (%lld promoters, %lld detractors of %lld answers)\n", v,
                (long long)s->nps_pro, (long long)s->nps_det, (long long)s->nps_n);
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
    double score = nps_of(pro, det, n);
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

/* The groups of --by: every value the column takes on a ticket opened or
 * solved in the period, open now, or owning an NPS answer of the period;
 * "" (none) first, then in order. */
static int groups(const rq *q, const char *label, json_t *arr, FILE *out)
{
    slices ss = {NULL, 0, 0};
    int rc = fill(q, &ss);
    for (size_t i = 0; rc == CRM_OK && i < ss.n; i++) {
        const slice *s = &ss.v[i];
        json_t *o = json_object();
        json_object_set_new(o, label, s->name[0] ? json_string(s->name) : json_null());
        slice_json(s, o);
        if (out) {
            fprintf(out, "\n%s %s\n", label, s->name[0] ? s->name : "(none)");
            slice_text(s, out, "  ");
        }
        group_nps(s, o, out);
        json_array_append_new(arr, o);
    }
    free(ss.v);
    return rc;
}

int tk_cmd_report(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value f, t;
    int64_t now = crm_now(ctx);
    crm_args_option(args, "from", &f);
    crm_args_option(args, "to", &t);
    rq q = {ctx, f.given ? f.i : INT64_MIN, t.given ? t.i : now + 1, now, NULL};
    const char *by = tk_opt_text(args, "by");
    size_t d = 0;
    while (by && d < sizeof dims / sizeof dims[0] && strcmp(dims[d].name, by))
        d++;
    if (by && d == sizeof dims / sizeof dims[0]) {
        crm_set_error(ctx, "--by: '%s' is not team, agent or priority", by);
        return CRM_EUSAGE;
    }
    FILE *out = crm_io_json(io) ? NULL : crm_io_out(io);
    slices all = {NULL, 0, 0};
    int rc = slice_of(&all, "") ? fill(&q, &all) : CRM_ENOMEM;
    if (rc != CRM_OK) {
        free(all.v);
        return rc;
    }
    json_t *o = json_object();
    slice_json(&all.v[0], o);
    if (out)
        slice_text(&all.v[0], out, "");
    free(all.v);
    nps(&q, o, out);
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

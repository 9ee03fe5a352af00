/* ticketing plugin — crm helpdesk report: tickets opened and solved in a
 * period, median first reply and resolution in business seconds (from the
 * stored clocks, themselves a function of the history), breach rate per
 * clock, CSAT (share of 4-5 answers) and the open backlog's median age. */
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median of the query's first column (?1 from, ?2 to); -1 when none. */
static int64_t median(crm_plugin_ctx *ctx, const char *sql, int64_t from, int64_t to)
{
    crm_stmt *st = tk_prep(ctx, sql, 2, from, to);
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

int tk_cmd_report(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value f, t;
    int64_t now = crm_now(ctx);
    crm_args_option(args, "from", &f);
    crm_args_option(args, "to", &t);
    int64_t from = f.given ? f.i : INT64_MIN, to = t.given ? t.i : now + 1;
#define IN "created_at >= ?1 AND created_at < ?2"
    int64_t opened = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE " IN, 2,
                               from, to);
    int64_t solved = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE solved_at"
                                       " >= ?1 AND solved_at < ?2", 2, from, to);
    int64_t fr = median(ctx, "SELECT c.elapsed FROM ticketing_clocks c JOIN ticketing_tickets t"
                             " ON t.id = c.ticket_id WHERE c.metric = 'first_reply' AND"
                             " c.achieved_at IS NOT NULL AND t." IN, from, to);
    int64_t res = median(ctx, "SELECT c.elapsed FROM ticketing_clocks c JOIN ticketing_tickets t"
                              " ON t.id = c.ticket_id WHERE c.metric = 'resolution' AND"
                              " c.achieved_at IS NOT NULL AND t." IN, from, to);
    int64_t rated = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE csat_score"
                                      " IS NOT NULL AND " IN, 2, from, to);
    int64_t happy = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE csat_score"
                                      " >= 4 AND " IN, 2, from, to);
    int64_t backlog = tk_scalar(ctx, 0, "SELECT count(*) FROM ticketing_tickets WHERE status NOT"
                                        " IN ('solved', 'closed')", 0);
    int64_t age = median(ctx, "SELECT ?2 - created_at FROM ticketing_tickets WHERE status NOT IN"
                              " ('solved', 'closed') AND ?1 = ?1", from, now);
    json_t *o = json_object(), *br = json_object();
    json_object_set_new(o, "opened", json_integer(opened));
    json_object_set_new(o, "solved", json_integer(solved));
    json_object_set_new(o, "median_first_reply_seconds", fr < 0 ? json_null() : json_integer(fr));
    json_object_set_new(o, "median_resolution_seconds", res < 0 ? json_null() : json_integer(res));
    FILE *out = crm_io_out(io);
    if (!crm_io_json(io))
        fprintf(out, "opened %lld, solved %lld\nmedian first reply %llds, median resolution "
                     "%llds (business time)\n",
                (long long)opened, (long long)solved, (long long)fr, (long long)res);
    for (int m = 0; m < TK_NMETRIC; m++) {
        crm_stmt *st = tk_prep(ctx, "SELECT count(*), coalesce(sum(c.breaches > 0), 0) FROM"
                                    " ticketing_clocks c JOIN ticketing_tickets t ON t.id ="
                                    " c.ticket_id WHERE c.metric = ?3 AND c.started_at IS NOT"
                                    " NULL AND t." IN, 2, from, to);
        int64_t n = 0, b = 0;
        if (st) {
            crm_sql_bind_text(st, 3, tk_metric_name(m));
            if (crm_sql_step(st) == CRM_SQL_ROW)
                n = crm_sql_column_int64(st, 0), b = crm_sql_column_int64(st, 1);
        }
        crm_sql_finalize(st);
        double rate = n ? 100.0 * (double)b / (double)n : 0.0;
        json_object_set_new(br, tk_metric_name(m), json_real(rate));
        if (!crm_io_json(io))
            fprintf(out, "breach rate %-12s %5.1f%% (%lld of %lld)\n", tk_metric_name(m), rate,
                    (long long)b, (long long)n);
    }
    json_object_set_new(o, "breach_rate_pct", br);
    double csat = rated ? 100.0 * (double)happy / (double)rated : 0.0;
    json_object_set_new(o, "csat_pct", rated ? json_real(csat) : json_null());
    json_object_set_new(o, "csat_answers", json_integer(rated));
    json_object_set_new(o, "backlog", json_integer(backlog));
    json_object_set_new(o, "backlog_median_age_seconds", age < 0 ? json_null() : json_integer(age));
    if (crm_io_json(io))
        return tk_print_json(io, o);
    fprintf(out, "CSAT %.1f%% satisfied (4-5) of %lld answers\nbacklog %lld open, median age "
                 "%lldh\n", csat, (long long)rated, (long long)backlog,
            (long long)(age < 0 ? 0 : age / 3600));
    json_decref(o);
    return CRM_OK;
#undef IN
}

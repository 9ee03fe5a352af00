/* segmentation plugin — crm rfm refresh|list|show|grid. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

static int rfm_refresh_cmd(crm_plugin_ctx *ctx, crm_command_io *io, int64_t as_of)
{
    int64_t n = 0, skipped = 0, changed = 0;
    char cur[8] = "";
    int rc = seg_rfm_refresh(ctx, as_of, &n, &skipped, &changed, cur);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io))
        seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIsIsssIsI}", "as_of", (json_int_t)as_of, "contacts",
                                     (json_int_t)n, "window_days", (json_int_t)SEG(ctx)->window_days,
                                     "currency", cur, "skipped_orders", (json_int_t)skipped,
                                     "changed", (json_int_t)changed), seg_iso_as_of));
    else {
        char day[32];
        fprintf(crm_io_out(io),
                "scored %lld contacts as of %s (window %lld days, %s), %lld changed\n",
                (long long)n, seg_fmt_day(ctx, as_of, day, sizeof day), (long long)SEG(ctx)->window_days,
                cur, (long long)changed);
    }
    if (skipped)
        crm_log(ctx, CRM_LOG_WARN,
                "%lld qualifying orders in another currency than %s were left out",
                (long long)skipped, cur);
    return CRM_OK;
}

/* The stored scores, in contact id order. */
static int load_stored(crm_plugin_ctx *ctx, seg_rfm_set *set)
{
    crm_stmt *st = seg_prep(ctx, "SELECT contact_id, recency_days, frequency, monetary, r, f,"
                                 " m, last_order_at FROM segmentation_rfm ORDER BY contact_id", 0);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        if (set->n == set->cap) {
            set->cap = set->cap ? set->cap * 2 : 1024;
            seg_rfm_row *nr = realloc(set->rows, set->cap * sizeof *nr);
            if (!nr) {
                crm_sql_finalize(st);
                free(set->rows);
                return CRM_ENOMEM;
            }
            set->rows = nr;
        }
        seg_rfm_row *r = &set->rows[set->n++];
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
    return CRM_OK;
}

/* Computed from the orders as of now, nothing stored. */
static int load_fresh(crm_plugin_ctx *ctx, int64_t as_of, seg_rfm_set *set)
{
    int rc = seg_rfm_load(ctx, as_of, SEG(ctx)->window_days, NULL, 0, set);
    if (rc != CRM_OK)
        return rc;
    if (seg_rfm_score(set->rows, set->n, NULL)) {
        free(set->rows);
        return CRM_ENOMEM;
    }
    return CRM_OK;
}

/* The contact's external id through ext (NULL when none or ext is NULL). */
static const char *external_id(crm_stmt *ext, int64_t cid)
{
    if (!ext)
        return NULL;
    crm_sql_reset(ext);
    crm_sql_bind_int64(ext, 1, cid);
    return crm_sql_step(ext) == CRM_SQL_ROW ? crm_sql_column_text(ext, 0) : NULL;
}

static void print_list_row(crm_plugin_ctx *ctx, crm_command_io *io, const seg_rfm_row *r,
                           const char *x, const char *slug, const char *cur)
{
    char money[48];
    if (crm_io_json(io))
        seg_print_json(io, json_pack("{sIss?sIsIsIsisisiss?ss?}", "contact_id",
                                     (json_int_t)r->contact_id, "external_id", x,
                                     "recency_days", (json_int_t)r->recency_days, "frequency",
                                     (json_int_t)r->frequency, "monetary",
                                     (json_int_t)r->monetary, "r", r->r, "f", r->f, "m", r->m,
                                     "segment", slug, "segment_name",
                                     slug ? seg_grid_name(ctx, slug) : NULL));
    else
        fprintf(crm_io_out(io), "%-10lld %-16s %8lld %6lld %16s  %d %d %d  %s\n",
                (long long)r->contact_id, x ? x : "", (long long)r->recency_days,
                (long long)r->frequency, seg_fmt_money(ctx, r->monetary, cur, money, sizeof money),
                r->r, r->f, r->m, slug ? seg_grid_name(ctx, slug) : "-");
}

/* rfm list --segment takes a grid segment by slug or name; anything else
 * is refused with the known ones. */
static int rfm_segment_arg(crm_plugin_ctx *ctx, const char *arg, char *slug, size_t size)
{
    seg_slugify(arg, slug, size);
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        if (!strcmp(SEG(ctx)->cells[k].slug, slug))
            return CRM_OK;
    char known[2048];
    seg_known_segments(ctx, known, sizeof known, 1);
    crm_set_error(ctx, "no RFM segment \"%s\"; the RFM grid has: %s (see crm rfm grid%s)", arg,
                  known, seg_find_rule(ctx, arg) ? "; for a rule segment use crm segment members" : "");
    return CRM_ENOTFOUND;
}

/* Stored scores say what they hold: as of which refresh, or that there is
 * none yet and how to make one. */
static void rfm_list_note(crm_plugin_ctx *ctx, crm_command_io *io, int fresh, size_t shown,
                          int64_t as_of)
{
    char day[32];
    int64_t at = 0;
    if (fresh)
        seg_note(io, shown, "computed as of %s (not stored)", seg_fmt_day(ctx, as_of, day, sizeof day));
    else if (!seg_last_rfm_refresh(ctx, &at))
        seg_note(io, 0, "no RFM scores yet: run crm rfm refresh (--as-of DATE) to compute them");
    else
        seg_note(io, shown,
                 "RFM scores as of %s (crm rfm refresh recomputes them; order events "
                 "keep each contact current)",
                 seg_fmt_day(ctx, at, day, sizeof day));
}

static int rfm_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args, int64_t as_of)
{
    const char *seg_arg = seg_opt(args, "segment");
    char seg[SEG_NAME_MAX];
    int fresh = seg_has_flag(args, "fresh");
    if (seg_arg && rfm_segment_arg(ctx, seg_arg, seg, sizeof seg) != CRM_OK)
        return CRM_ENOTFOUND;
    seg_rfm_set set = {0};
    int rc = fresh ? load_fresh(ctx, as_of, &set) : load_stored(ctx, &set);
    if (rc != CRM_OK)
        return rc;
    const char *cur = fresh ? set.currency : seg_load_cuts(ctx) ? SEG(ctx)->cuts_currency : "";
    crm_stmt *ext = NULL;
    crm_sql_prepare(ctx, "SELECT external_id FROM contacts WHERE id = ?1", &ext);
    if (!crm_io_json(io))
        fprintf(crm_io_out(io), "%-10s %-16s %8s %6s %16s  R F M  %s\n", "contact", "external_id",
                "recency", "freq", "monetary", "segment");
    size_t shown = 0;
    for (size_t i = 0; i < set.n; i++) {
        seg_rfm_row *r = &set.rows[i];
        const char *slug = seg_slug_of(ctx, r);
        if (seg_arg && (!slug || strcmp(slug, seg)))
            continue;
        print_list_row(ctx, io, r, external_id(ext, r->contact_id), slug, cur);
        shown++;
    }
    crm_sql_finalize(ext);
    free(set.rows);
    rfm_list_note(ctx, io, fresh, shown, as_of);
    return CRM_OK;
}

/* One contact's stored scores, as rfm show prints them. */
typedef struct rfm_shown {
    int64_t recency_days, frequency, monetary, as_of;
    int r, f, m;
    char slug[SEG_NAME_MAX];
} rfm_shown;

/* A refresh leaves rows it found unchanged alone: such a row (an older
 * refresh_id) holds as of the latest refresh. */
static int read_shown(crm_plugin_ctx *ctx, int64_t cid, rfm_shown *x)
{
    crm_stmt *st = seg_prep(ctx, "SELECT x.recency_days, x.frequency, x.monetary, x.r, x.f, x.m,"
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
    x->recency_days = crm_sql_column_int64(st, 0);
    x->frequency = crm_sql_column_int64(st, 1);
    x->monetary = crm_sql_column_int64(st, 2);
    x->as_of = crm_sql_column_int64(st, 7);
    x->r = (int)crm_sql_column_int64(st, 3);
    x->f = (int)crm_sql_column_int64(st, 4);
    x->m = (int)crm_sql_column_int64(st, 5);
    x->slug[0] = 0;
    if (crm_sql_column_text(st, 6))
        snprintf(x->slug, sizeof x->slug, "%s", crm_sql_column_text(st, 6));
    crm_sql_finalize(st);
    return CRM_OK;
}

/* The cached cut points for scores 2..5 as JSON arrays (empty without a refresh). */
static json_t *cuts_json(crm_plugin_ctx *ctx, int have_cuts)
{
    json_t *cuts = json_object();
    if (!have_cuts)
        return cuts;
    const seg_rfm_cuts *k = &SEG(ctx)->cuts;
    json_t *a = json_array(), *b = json_array(), *c = json_array();
    for (int s = 2; s <= 5; s++) {
        json_array_append_new(a, k->has_recency[s] ? json_integer(k->recency[s]) : json_null());
        json_array_append_new(b, k->has_frequency[s] ? json_integer(k->frequency[s]) : json_null());
        json_array_append_new(c, k->has_monetary[s] ? json_integer(k->monetary[s]) : json_null());
    }
    json_object_set_new(cuts, "recency_days_max", a);
    json_object_set_new(cuts, "frequency_min", b);
    json_object_set_new(cuts, "monetary_min", c);
    return cuts;
}

static void print_shown(crm_plugin_ctx *ctx, FILE *out, int64_t cid, const rfm_shown *x,
                        int have_cuts)
{
    char day[32], money[48];
    const char *cur = have_cuts ? SEG(ctx)->cuts_currency : "";
    fprintf(out, "contact %lld as of %s\n", (long long)cid, seg_fmt_day(ctx, x->as_of, day, sizeof day));
    fprintf(out, "  recency   %lld days -> R%d\n", (long long)x->recency_days, x->r);
    fprintf(out, "  frequency %lld orders -> F%d\n", (long long)x->frequency, x->f);
    fprintf(out, "  monetary  %s -> M%d\n",
            seg_fmt_money(ctx, x->monetary, cur, money, sizeof money), x->m);
    if (have_cuts) {
        fprintf(out, "  cut points (score: R needs at most days / F, M need at least):\n");
        for (int s = 2; s <= 5; s++)
            fprintf(out, "    %d: R<=%lld F>=%lld M>=%s\n", s, (long long)SEG(ctx)->cuts.recency[s],
                    (long long)SEG(ctx)->cuts.frequency[s],
                    seg_fmt_money(ctx, SEG(ctx)->cuts.monetary[s], cur, money, sizeof money));
    }
    fprintf(out, "  segment   %s (R%d F%d, first matching grid cell)\n",
            x->slug[0] ? seg_grid_name(ctx, x->slug) : "-", x->r, x->f);
}

static int rfm_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const char *ref = seg_arg(args, 0);
    if (!ref)
        return seg_usage(ctx, "rfm show CONTACT");
    int64_t cid = seg_resolve_contact(ctx, ref);
    if (!cid)
        return CRM_ENOTFOUND;
    int have_cuts = seg_load_cuts(ctx);
    rfm_shown x;
    int rc = read_shown(ctx, cid, &x);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io)) {
        json_t *cuts = cuts_json(ctx, have_cuts);
        seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIsIsIsisisisssssIso}", "contact_id", (json_int_t)cid,
                                     "recency_days", (json_int_t)x.recency_days, "frequency",
                                     (json_int_t)x.frequency, "monetary", (json_int_t)x.monetary,
                                     "r", x.r, "f", x.f, "m", x.m, "segment", x.slug,
                                     "segment_name", seg_grid_name(ctx, x.slug), "as_of",
                                     (json_int_t)x.as_of, "cuts_for_scores_2_to_5", cuts), seg_iso_as_of));
        return CRM_OK;
    }
    print_shown(ctx, crm_io_out(io), cid, &x, have_cuts);
    return CRM_OK;
}

/* The stored scores counted by (R, F) cell and by grid segment (index
 * grid.n: no segment). */
typedef struct rfm_counts {
    int64_t cells[6][6], total, revenue;
    int64_t *seg_n, *seg_rev;
} rfm_counts;

static int count_grid(crm_plugin_ctx *ctx, rfm_counts *g)
{
    memset(g, 0, sizeof *g);
    g->seg_n = calloc(SEG(ctx)->grid.n + 1, sizeof *g->seg_n);
    g->seg_rev = calloc(SEG(ctx)->grid.n + 1, sizeof *g->seg_rev);
    if (!g->seg_n || !g->seg_rev) {
        free(g->seg_n), free(g->seg_rev);
        return CRM_ENOMEM;
    }
    crm_stmt *st = seg_prep(ctx, "SELECT r, f, monetary FROM segmentation_rfm", 0);
    while (st && crm_sql_step(st) == CRM_SQL_ROW) {
        int r = (int)crm_sql_column_int64(st, 0), f = (int)crm_sql_column_int64(st, 1);
        int64_t mo = crm_sql_column_int64(st, 2);
        if (r < 1 || r > 5 || f < 1 || f > 5)
            continue;
        g->cells[r][f]++;
        g->total++;
        g->revenue += mo;
        int k = seg_grid_match(&SEG(ctx)->grid, r, f);
        k = k < 0 ? (int)SEG(ctx)->grid.n : k;
        g->seg_n[k]++;
        g->seg_rev[k] += mo;
    }
    crm_sql_finalize(st);
    return CRM_OK;
}

static void print_grid_json(crm_plugin_ctx *ctx, crm_command_io *io, const rfm_counts *g)
{
    json_t *m = json_array(), *segs = json_array();
    for (int r = 5; r >= 1; r--) {
        json_t *row = json_array();
        for (int f = 1; f <= 5; f++)
            json_array_append_new(row, json_integer(g->cells[r][f]));
        json_array_append_new(m, row);
    }
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        json_array_append_new(
            segs, json_pack("{sssssIsfsIsf}", "segment", SEG(ctx)->cells[k].slug, "name",
                            SEG(ctx)->cells[k].name, "customers", (json_int_t)g->seg_n[k],
                            "customer_share", g->total ? (double)g->seg_n[k] / g->total : 0.0,
                            "revenue", (json_int_t)g->seg_rev[k], "revenue_share",
                            g->revenue ? (double)g->seg_rev[k] / g->revenue : 0.0));
    seg_print_json(io, json_pack("{sososIsI}", "matrix_r5_to_r1_by_f1_to_f5", m, "segments",
                                 segs, "customers", (json_int_t)g->total, "revenue",
                                 (json_int_t)g->revenue));
}

static void print_grid_text(crm_plugin_ctx *ctx, FILE *out, const rfm_counts *g)
{
    fprintf(out, "      F1      F2      F3      F4      F5\n");
    for (int r = 5; r >= 1; r--) {
        fprintf(out, "R%d", r);
        for (int f = 1; f <= 5; f++)
            fprintf(out, " %7lld", (long long)g->cells[r][f]);
        fprintf(out, "\n");
    }
    fprintf(out, "\n%-22s %10s %9s %9s\n", "segment", "customers", "share", "revenue");
    for (size_t k = 0; k < SEG(ctx)->grid.n; k++)
        fprintf(out, "%-22s %10lld %8.1f%% %8.1f%%\n", SEG(ctx)->cells[k].name,
                (long long)g->seg_n[k], g->total ? 100.0 * g->seg_n[k] / g->total : 0.0,
                g->revenue ? 100.0 * g->seg_rev[k] / g->revenue : 0.0);
}

static int rfm_grid(crm_plugin_ctx *ctx, crm_command_io *io)
{
    rfm_counts g;
    if (count_grid(ctx, &g) != CRM_OK)
        return CRM_ENOMEM;
    if (crm_io_json(io))
        print_grid_json(ctx, io, &g);
    else
        print_grid_text(ctx, crm_io_out(io), &g);
    free(g.seg_n), free(g.seg_rev);
    rfm_list_note(ctx, io, 0, 1, 0);
    return CRM_OK;
}

/* ---- the commands (option tables in segmentation.c) ---------------------- */

int seg_cmd_rfm_refresh(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    return rfm_refresh_cmd(ctx, io, crm_now(ctx));
}

int seg_cmd_rfm_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return rfm_list(ctx, io, args, crm_now(ctx));
}

int seg_cmd_rfm_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return rfm_show(ctx, io, args);
}

int seg_cmd_rfm_grid(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    return rfm_grid(ctx, io);
}

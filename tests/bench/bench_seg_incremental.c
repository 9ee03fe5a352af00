/* Incremental segmentation benchmark (never run by ctest):
 *   bench_seg_incremental CONFIG DB [N]
 * Opens the kernel on DB twice: once with the plugins CONFIG enables (the
 * segmentation plugin: its durable order.* handler re-scores the contact
 * against the stored cut points and re-evaluates its rule and Lua segments
 * right after the order commits), once without plugins (the baseline: the
 * same order write and commit). Adds N orders (status placed, one event
 * each) for random scored contacts in each mode and prints the median and
 * p90 of each, and their difference: the time from committing one order to
 * the contact's updated scores and memberships. Run `crm rfm refresh` on DB
 * first, or the handler has no cut points to score against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "model.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int64_t scalar(crm_kernel *k, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Adds n orders; fills t[] with microseconds per crm_order_add (write,
 * commit and, with plugins, the synchronous handlers). */
static int run(const char *config, const char *db, int plugins, int n, double *t)
{
    crm_open_opts o = {.config_path = config, .db_path = db, .no_plugins = !plugins};
    crm_kernel *k = NULL;
    crm_err err = {0};
    if (crm_kernel_open(&k, &o, &err) != CRM_OK) {
        fprintf(stderr, "bench_seg_incremental: %s\n", err.msg);
        return 1;
    }
    int64_t max_id = scalar(k, "SELECT max(id) FROM contacts");
    srand(42 + plugins);
    for (int i = 0; i < n; i++) {
        crm_order ord = {0};
        ord.contact_id = 1 + (int64_t)(((uint64_t)rand() * 2654435761u) % (uint64_t)max_id);
        ord.placed_at = k->now - 86400;
        ord.total = 1000 + i;
        ord.currency = strdup("EUR");
        ord.status = strdup("placed");
        int64_t id;
        double t0 = now_us();
        int rc = crm_order_add(k, &ord, &id, &err);
        t[i] = now_us() - t0;
        crm_order_clear(&ord);
        if (rc == CRM_ENOTFOUND || rc == CRM_EINVAL) { /* a merged or deleted contact */
            i--;
            continue;
        }
        if (rc != CRM_OK) {
            fprintf(stderr, "bench_seg_incremental: order add: %s\n", err.msg);
            crm_kernel_close(k);
            return 1;
        }
    }
    crm_kernel_close(k);
    qsort(t, (size_t)n, sizeof *t, cmp);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_seg_incremental CONFIG DB [N]\n");
        return 2;
    }
    int n = argc > 3 ? atoi(argv[3]) : 200;
    if (n < 1)
        n = 1;
    double *with = calloc((size_t)n, sizeof *with), *base = calloc((size_t)n, sizeof *base);
    if (!with || !base || run(argv[1], argv[2], 0, n, base) || run(argv[1], argv[2], 1, n, with))
        return 1;
    double mw = with[n / 2], mb = base[n / 2];
    printf("incremental: %d orders, median order add %.0f us with the plugin, %.0f us without "
           "(p90 %.0f / %.0f us): handler (scores + memberships) %.0f us median\n",
           n, mw, mb, with[n * 9 / 10], base[n * 9 / 10], mw - mb);
    free(with);
    free(base);
    return 0;
}

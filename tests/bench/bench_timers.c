/* Benchmark: durable timers.
 *
 * 1. Throughput: schedule N timers (default 1M) in transactions of 10000,
 *    then fire them all with one crm_timer_fire_due pass (what `crm tick`
 *    runs) through a durable no-op handler; against a bare loop over the
 *    same rows in the same run: INSERT each row of an identical table in
 *    transactions of 10000, then DELETE each by id in transactions of 512
 *    (the firing's batch). Reports rows/s and the ratios (goal >= 0.3x).
 *    The bare rows are then inserted again and deleted in (due, id) order,
 *    as the firing goes: with scattered due times the table pages a batch
 *    writes are then as many as the firing's, which the id-order loop hides.
 * 2. Latency: the worker loop of `crm run` (crm_worker_run) on its own
 *    connection in a thread; another connection schedules L timers (default
 *    10000) spread over the next 20 seconds; the handler records how long
 *    after its due time it started. Reports the median and p99 (goals 50 ms
 *    and 250 ms).
 *
 *   bench_timers [N [L]]     (the database is a file in $TMPDIR, WAL;
 *                             BENCH_SCATTER=1: due times scattered, see due_of)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "time/timer.h"
#include "time/worker.h"

/* Due times: SPREAD timers per second, in scheduling order (as timers are
 * scheduled by activity over time). BENCH_SCATTER=1 scatters them over an
 * hour instead (i % 3600: every batch touches every part of the due index). */
static int SPREAD = 1000;
static bool scatter;
static int64_t due_of(int i) { return scatter ? i % 3600 : i / SPREAD; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: the machine may be shared, and wall time
 * then measures the other load as much as this code. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int noop(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    (void)k, (void)t, (void)err;
    (*(int64_t *)ud)++;
    return CRM_OK;
}

static void die(const char *what, const crm_err *err)
{
    fprintf(stderr, "bench_timers: %s: %s\n", what, err->msg);
    exit(1);
}

static crm_kernel *open_db(const char *path, bool fresh)
{
    crm_kernel *k;
    crm_err err = {0};
    crm_open_opts o = {.db_path = path, .create = true, .no_plugins = true};
    if (fresh) {
        char name[600];
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "%s%s", path, sfx[i]);
            unlink(name);
        }
    }
    if (crm_kernel_open(&k, &o, &err) != CRM_OK)
        die("open", &err);
    return k;
}

static void exec_or_die(crm_kernel *k, const char *sql)
{
    crm_err err = {0};
    if (crm_store_exec(k->store, sql, &err) != CRM_OK)
        die(sql, &err);
}

/* The bare loop's rows: INSERT each in transactions of 10000. */
static void bare_insert(sqlite3 *db, sqlite3_stmt *ins, int n)
{
    const int64_t due = 1790000000;
    char key[32];
    for (int i = 0; i < n; i++) {
        if (i % 10000 == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        snprintf(key, sizeof key, "k%d", i);
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 2, due + due_of(i));
        sqlite3_bind_int64(ins, 3, due);
        if (sqlite3_step(ins) != SQLITE_DONE)
            exit(1);
        sqlite3_reset(ins);
        if (i % 10000 == 9999 || i == n - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
}

static int by_due(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    int64_t dx = due_of(x), dy = due_of(y);
    return dx != dy ? (dx > dy) - (dx < dy) : (x > y) - (x < y);
}

/* DELETE each row by id in transactions of CRM_TIMER_BATCH (the firing's),
 * in id order or in (due, id) order as the firing goes. The ids restart
 * from 1: the table is emptied between passes. */
static void bare_delete(sqlite3 *db, sqlite3_stmt *del, int n, bool due_order)
{
    int *order = malloc((size_t)n * sizeof *order);
    if (!order)
        exit(1);
    for (int i = 0; i < n; i++)
        order[i] = i;
    if (due_order)
        qsort(order, (size_t)n, sizeof *order, by_due);
    for (int i = 0; i < n; i++) {
        if (i % CRM_TIMER_BATCH == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_int64(del, 1, order[i] + 1);
        if (sqlite3_step(del) != SQLITE_DONE || sqlite3_changes(db) != 1)
            exit(1);
        sqlite3_reset(del);
        if (i % CRM_TIMER_BATCH == CRM_TIMER_BATCH - 1 || i == n - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    free(order);
}

static void throughput(const char *path, int n)
{
    crm_kernel *k = open_db(path, true);
    crm_err err = {0};
    int64_t calls = 0;
    if (crm_timer_register(k, "bench", noop, &calls, &err) != CRM_OK)
        die("register", &err);
    const int64_t due = 1790000000;
    char key[32];
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < n; i++) {
        if (i % 10000 == 0 && crm_kernel_begin(k, &err) != CRM_OK)
            die("begin", &err);
        snprintf(key, sizeof key, "k%d", i);
        if (crm_timer_schedule(k, "bench", key, due + due_of(i), NULL, NULL, &err) != CRM_OK)
            die("schedule", &err);
        if ((i % 10000 == 9999 || i == n - 1) && crm_kernel_commit(k, &err) != CRM_OK)
            die("commit", &err);
    }
    double t1 = now_s(), c1 = cpu_s();
    crm_timer_stats st = {0};
    if (crm_timer_fire_due(k, due + 7200, NULL, &st, &err) != CRM_OK)
        die("fire", &err);
    double t2 = now_s(), c2 = cpu_s();
    if (st.fired != n || calls != n) {
        fprintf(stderr, "bench_timers: fired %lld of %d\n", (long long)st.fired, n);
        exit(1);
    }

    /* the bare loop: the same rows, the same table shape */
    exec_or_die(k, "CREATE TABLE bare(id INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
                   " key TEXT NOT NULL, due_at INTEGER NOT NULL, next_at INTEGER NOT NULL,"
                   " payload TEXT NOT NULL DEFAULT '{}', attempts INTEGER NOT NULL DEFAULT 0,"
                   " state TEXT NOT NULL DEFAULT 'pending', last_error TEXT,"
                   " version INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL,"
                   " fired_at INTEGER, lateness INTEGER, claim_pid INTEGER, claim_host TEXT,"
                   " UNIQUE(owner, key))");
    sqlite3 *db = crm_store_db(k->store);
    sqlite3_stmt *ins, *del;
    sqlite3_prepare_v2(db,
                       "INSERT INTO bare(owner, key, due_at, next_at, created_at)"
                       " VALUES('bench', ?1, ?2, ?2, ?3)",
                       -1, &ins, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM bare WHERE id = ?1", -1, &del, NULL);
    double b0 = now_s(), d0 = cpu_s();
    bare_insert(db, ins, n);
    double b1 = now_s(), d1 = cpu_s();
    bare_delete(db, del, n, false);
    double b2 = now_s(), d2 = cpu_s();
    /* the same rows again, deleted in the order they come due: with scattered
     * due times each batch then writes as many table pages as the firing */
    bare_insert(db, ins, n);
    double b3 = now_s();
    bare_delete(db, del, n, true);
    double b4 = now_s();
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    double sched = n / (t1 - t0), fire = n / (t2 - t1), both = n / (t2 - t0);
    double bins = n / (b1 - b0), bdel = n / (b2 - b1), bboth = n / (b2 - b0);
    printf("timers: %d scheduled in %.2f s (%.0f/s), fired in %.2f s (%.0f/s), "
           "together %.0f/s\n", n, t1 - t0, sched, t2 - t1, fire, both);
    printf("bare:   %d inserted in %.2f s (%.0f/s), deleted in %.2f s (%.0f/s), "
           "together %.0f/s\n", n, b1 - b0, bins, b2 - b1, bdel, bboth);
    printf("ratio:  fire/delete %.2fx, schedule/insert %.2fx, schedule+fire / insert+delete "
           "%.2fx (goal >= 0.3x)\n", fire / bdel, sched / bins, both / bboth);
    printf("bare, deleted in due order: %.2f s (%.0f/s); fire/delete-in-due-order %.2fx, "
           "schedule+fire / insert+delete-in-due-order %.2fx\n", b4 - b3, n / (b4 - b3),
           fire / (n / (b4 - b3)), both / (n / (b1 - b0 + b4 - b3)));
    printf("cpu:    timers schedule %.2f s, fire %.2f s; bare insert %.2f s, delete %.2f s; "
           "ratios (rows per CPU second) fire/delete %.2fx, together %.2fx\n",
           c1 - c0, c2 - c1, d1 - d0, d2 - d1, (d2 - d1) / (c2 - c1), (d2 - d0) / (c2 - c0));
    crm_kernel_close(k);
}

/* ---- latency under the worker ---------------------------------------------- */

typedef struct lat_run {
    crm_kernel *k;
    volatile int stop;
    int64_t *lat;
    volatile int64_t n;
    int rc;
    crm_err err;
} lat_run;

static int record(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    (void)k, (void)err;
    lat_run *r = ud;
    r->lat[r->n] = wall_ms() - t->due_at * 1000;
    r->n = r->n + 1;
    return CRM_OK;
}

static void *worker(void *arg)
{
    lat_run *r = arg;
    r->rc = crm_worker_run(r->k, &r->stop, NULL, &r->err);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void latency(const char *path, int n)
{
    crm_kernel *w = open_db(path, true);
    crm_kernel *s = open_db(path, false);
    lat_run r = {.k = w, .lat = calloc((size_t)n, sizeof(int64_t))};
    crm_err err = {0};
    if (crm_timer_register(w, "lat", record, &r, &err) != CRM_OK)
        die("register", &err);
    pthread_t th;
    pthread_create(&th, NULL, worker, &r);
    int64_t base = wall_ms() / 1000 + 2;
    const int spread = 20;
    char key[32];
    if (crm_kernel_begin(s, &err) != CRM_OK)
        die("begin", &err);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "l%d", i);
        if (crm_timer_schedule(s, "lat", key, base + (int64_t)i * spread / n, NULL, NULL, &err))
            die("schedule", &err);
    }
    if (crm_kernel_commit(s, &err) != CRM_OK)
        die("commit", &err);
    while (r.n < n && wall_ms() < (base + spread + 10) * 1000) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    r.stop = 1;
    pthread_join(th, NULL);
    if (r.rc != CRM_OK)
        die("worker", &r.err);
    int64_t got = r.n;
    qsort(r.lat, (size_t)got, sizeof *r.lat, cmp);
    printf("worker: %lld of %d timers fired over %d s; latency from due time to handler start: "
           "median %lld ms, p99 %lld ms, max %lld ms (goals < 50 ms, < 250 ms)\n",
           (long long)got, n, spread, got ? (long long)r.lat[got / 2] : -1LL,
           got ? (long long)r.lat[got * 99 / 100] : -1LL, got ? (long long)r.lat[got - 1] : -1LL);
    free(r.lat);
    crm_kernel_close(s);
    crm_kernel_close(w);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    int l = argc > 2 ? atoi(argv[2]) : 10000;
    scatter = getenv("BENCH_SCATTER") != NULL;
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/bench_timers_%d.db", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (n > 0)
        throughput(path, n);
    if (l > 0)
        latency(path, l);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char name[600];
        snprintf(name, sizeof name, "%s%s", path, sfx[i]);
        unlink(name);
    }
    return 0;
}

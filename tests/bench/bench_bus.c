/* Benchmark: events emitted and dispatched per second through the bus, to 1
 * and to 10 subscribers, in memory and durable, against a plain
 * function-pointer loop over the same payloads (parsed, then handed to the
 * same handlers), measured in the same run.
 *
 * Two ways of committing the events:
 * - one command transaction per event (begin, emit, commit), each dispatched
 *   at its commit: a delivery batch holds one event, so every subscriber
 *   gets one delivery transaction (plus a cursor write for durable ones) per
 *   event;
 * - bulk: BULK events per command transaction, as import and demo commit;
 *   each subscriber gets them in delivery batches (one transaction and, for
 *   durable ones, one cursor write per batch of up to 512 events).
 * The database is a file (WAL).
 *
 *   bench_bus [N]     (default 20000 events per case)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "events.h"
#include "kernel.h"

#define BULK 1000  /* events per command transaction in the bulk cases */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The work every handler does, in both loops: read one payload field. */
static int h_sum(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    *(int64_t *)ud += json_integer_value(json_object_get(ev->json, "contact_id"));
    return CRM_OK;
}

static char **make_payloads(int n)
{
    char **p = calloc((size_t)n, sizeof *p);
    for (int i = 0; p && i < n; i++) {
        p[i] = malloc(48);
        if (p[i])
            snprintf(p[i], 48, "{\"contact_id\":%d,\"dataver\":1}", i + 1);
    }
    return p;
}

static double bench_loop(char **payloads, int n, int subs, int64_t *sum)
{
    crm_bus_handler fns[10];
    for (int s = 0; s < subs; s++)
        fns[s] = h_sum;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        crm_event ev = {.id = i + 1, .type = "contact.created", .payload = payloads[i]};
        ev.json = json_loads(payloads[i], 0, NULL);
        for (int s = 0; s < subs; s++)
            fns[s](NULL, &ev, sum, NULL);
        json_decref(ev.json);
    }
    return n / (now_s() - t0);
}

static crm_kernel *open_bus(const char *path, crm_err *err)
{
    crm_kernel *k = NULL;
    crm_open_opts o = {.db_path = path, .create = true, .no_plugins = true};
    unlink(path);
    if (crm_kernel_open(&k, &o, err) != CRM_OK)
        return NULL;
    if (!k->bus && crm_bus_open(k, err) != CRM_OK) {
        crm_kernel_close(k);
        return NULL;
    }
    return k;
}

/* Emits payloads[0, n) in one command transaction (dispatched at commit). */
static int emit_some(crm_kernel *k, char **payloads, int n, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    for (int i = 0; rc == CRM_OK && i < n; i++)
        rc = crm_event_emit(k, "contact.created", json_loads(payloads[i], 0, NULL), NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

/* Events per second through the bus; -1 on error (printed). */
static double bench_bus(const char *path, char **payloads, int n, int subs, bool durable,
                        int per_tx, int64_t *sum)
{
    crm_err err = {0};
    double rate = -1;
    crm_kernel *k = open_bus(path, &err);
    for (int s = 0; k && s < subs && err.code == CRM_OK; s++) {
        char name[32];
        snprintf(name, sizeof name, "bench.%d", s);
        crm_bus_subscribe(k, name, "contact.*", durable, h_sum, sum, "bench", &err);
    }
    if (!k || err.code != CRM_OK)
        goto done;
    double t0 = now_s();
    for (int i = 0; i < n; i += per_tx)
        if (emit_some(k, payloads + i, n - i < per_tx ? n - i : per_tx, &err) != CRM_OK)
            goto done;
    rate = n / (now_s() - t0);
done:
    if (err.code != CRM_OK)
        fprintf(stderr, "bench_bus: %s\n", err.msg);
    if (k)
        crm_bus_close(k);
    crm_kernel_close(k);
    return rate;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    char path[] = "/tmp/crm-bench-bus-XXXXXX";
    if (n <= 0 || !mkdtemp(path))
        return 2;
    char db[sizeof path + 16];
    snprintf(db, sizeof db, "%s/bus.db", path);
    char **payloads = make_payloads(n);
    if (!payloads)
        return 3;
    int64_t expected = (int64_t)n * (n + 1) / 2;
    int rc = 0;
    printf("bus benchmark: %d events per case\n\n", n);
    printf("%-40s %6s %14s %14s %10s\n", "case", "subs", "bus ev/s", "loop ev/s", "loop/bus");
    const int subs[] = {1, 10};
    const int per_tx[] = {1, BULK};
    for (int c = 0; c < 2; c++)
        for (int d = 0; d < 2; d++)
            for (int s = 0; s < 2; s++) {
                int64_t bsum = 0, lsum = 0;
                double bus = bench_bus(db, payloads, n, subs[s], d == 1, per_tx[c], &bsum);
                double loop = bench_loop(payloads, n, subs[s], &lsum);
                if (bus < 0 || bsum != expected * subs[s] || lsum != expected * subs[s]) {
                    fprintf(stderr, "bench_bus: wrong result for %d subscribers\n", subs[s]);
                    rc = 1;
                }
                char name[64];
                snprintf(name, sizeof name, "%s, %s", d ? "durable" : "in memory",
                         c ? "1000 events per commit" : "1 event per commit");
                printf("%-40s %6d %14.0f %14.0f %9.0fx\n", name, subs[s], bus, loop,
                       loop / bus);
            }
    for (int i = 0; i < n; i++)
        free(payloads[i]);
    free(payloads);
    unlink(db);
    char wal[sizeof db + 8];
    snprintf(wal, sizeof wal, "%s-wal", db);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", db);
    unlink(wal);
    rmdir(path);
    return rc;
}

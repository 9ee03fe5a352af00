/* Benchmark: contact writes through the kernel (validation, normalisation,
 * duplicate check, event row) against a bare prepared INSERT of the same
 * rows, both in one transaction, measured in the same run.
 *
 *   bench_kernel [N]     (default 20000)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "model.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const first[] = {"JEAN", "élodie", "François", "marie-claire", "Søren"};
static const char *const last[] = {"dupont", "MARTIN", "de la Fontaine", "Núñez", "Müller"};

static void make_row(int i, char *fn, char *ln, char *email, char *phone)
{
    sprintf(fn, "%s", first[i % 5]);
    sprintf(ln, "%s", last[(i / 5) % 5]);
    sprintf(email, " User.%d@Example.FR ", i);
    sprintf(phone, "06 %02d %02d %02d %02d", (i / 1000000) % 100, (i / 10000) % 100,
            (i / 100) % 100, i % 100);
}

static crm_kernel *open_kernel(const char *path)
{
    crm_kernel *k = NULL;
    crm_err err = {0};
    crm_open_opts o = {.db_path = path, .create = true, .no_plugins = true};
    unlink(path);
    if (crm_kernel_open(&k, &o, &err) != CRM_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(3);
    }
    return k;
}

static double bench_kernel(const char *path, int n, bool batch)
{
    crm_kernel *k = open_kernel(path);
    crm_err err = {0};
    char fn[64], ln[64], email[64], phone[64];
    double t0 = now_s();
    if (batch)
        crm_kernel_begin_batch(k, &err);
    else
        crm_kernel_begin(k, &err);
    for (int i = 0; i < n; i++) {
        make_row(i, fn, ln, email, phone);
        crm_contact c = {.first_name = strdup(fn), .last_name = strdup(ln),
                         .email = strdup(email), .phone = strdup(phone)};
        int64_t id;
        if (crm_contact_add(k, &c, &id, &err) != CRM_OK) {
            fprintf(stderr, "row %d: %s\n", i, err.msg);
            exit(3);
        }
        crm_contact_clear(&c);
    }
    crm_kernel_commit(k, &err);
    double t = now_s() - t0;
    crm_kernel_close(k);
    return t;
}

static double bench_bare(const char *path, int n)
{
    crm_kernel *k = open_kernel(path);
    sqlite3 *db = crm_store_db(k->store);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO contacts(first_name, last_name, email, phone, created_at, "
                       "updated_at) VALUES(?,?,?,?,?,?)",
                       -1, &st, NULL);
    char fn[64], ln[64], email[64], phone[64];
    double t0 = now_s();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        make_row(i, fn, ln, email, phone);
        sqlite3_bind_text(st, 1, fn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ln, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, phone, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, 0);
        sqlite3_bind_int64(st, 6, 0);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double t = now_s() - t0;
    sqlite3_finalize(st);
    crm_kernel_close(k);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    char path[] = "/tmp/crm-bench-kernel.db";
    double bare = bench_bare(path, n);
    double nested = bench_kernel(path, n, false);
    double batch = bench_kernel(path, n, true);
    printf("contact writes, %d rows in one transaction\n", n);
    printf("  bare prepared INSERT             : %9.0f rows/s\n", n / bare);
    printf("  crm_contact_add, savepoint each  : %9.0f rows/s  %.2fx of bare\n", n / nested,
           bare / nested);
    printf("  crm_contact_add, batch mode      : %9.0f rows/s  %.2fx of bare (goal >= 0.5x)\n",
           n / batch, bare / batch);
    unlink(path);
    return 0;
}

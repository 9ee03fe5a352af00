/* The queueing half of tests/bench/bench_smtp.sh (never run by ctest):
 *
 *   bench_smtp_queue CRM_YAML N OUT.tsv [BATCH]
 *
 * Queues N emails (template `note`, contact 1, keys bench-1..N, payload
 * {"n": i}) through crm_outbox_queue, BATCH (default 100) per transaction,
 * and writes one line per message to OUT.tsv: its id and the wall-clock
 * instant (epoch seconds, microseconds) its transaction committed — the
 * earliest a worker can see it, so the script's queue→delivery latency
 * starts there. Prints the queueing rate against, in the same run and over
 * the same N messages, rendering alone (the compiled template against a
 * context built once) and the context read from the database plus the
 * rendering (what queueing adds on top: the rules and the insert). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "kernel.h"
#include "messages/message_data.h"
#include "messages/outbox.h"
#include "messages/template.h"

static double wall(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Queues messages first..last (1-based) in one transaction; ids[] gets them. */
static int queue_batch(crm_kernel *k, long first, long last, int64_t *ids, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    k->now = (int64_t)time(NULL);
    for (long i = first; rc == CRM_OK && i <= last; i++) {
        char key[32];
        snprintf(key, sizeof key, "bench-%ld", i);
        json_t *data = json_pack("{s:I}", "n", (json_int_t)i);
        crm_outbox_req r = {.contact_id = 1, .template = "note", .channel = "email",
                            .key = key, .data = data, .source = "bench"};
        bool created = false;
        rc = data ? crm_outbox_queue(k, &r, &ids[i - first], &created, err)
                  : crm_err_set(err, CRM_ENOMEM, "out of memory");
        json_decref(data);
        if (rc == CRM_OK && !created)
            rc = crm_err_set(err, CRM_EEXISTS, "%s was queued before: use a fresh database", key);
    }
    if (rc == CRM_OK)
        return crm_kernel_commit(k, err);
    crm_kernel_rollback(k);
    return rc;
}

/* Renders message i of n: the context built once (with_data false) or read
 * from the database for each message, as queueing does. */
static int render_n(crm_kernel *k, long n, bool with_data, crm_err *err)
{
    char dir[4096];
    crm_template *t = NULL;
    int rc = crm_template_load(crm_templates_dir(k->cfg, dir, sizeof dir), "note", &t, err);
    json_t *base = NULL;
    if (rc == CRM_OK && !with_data)
        rc = crm_message_data(k, 1, NULL, &base, err);
    size_t bytes = 0;
    for (long i = 1; rc == CRM_OK && i <= n; i++) {
        json_t *payload = json_pack("{s:I}", "n", (json_int_t)i), *data = NULL;
        if (!payload)
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
        else if (with_data)
            rc = crm_message_data(k, 1, payload, &data, err);
        else if (!(data = json_deep_copy(base)) || json_object_update(data, payload) != 0)
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
        crm_rendered r = {0};
        if (rc == CRM_OK)
            rc = crm_template_render(t, "email", data, &r, err);
        if (rc == CRM_OK)
            bytes += strlen(r.subject) + strlen(r.text) + (r.html ? strlen(r.html) : 0);
        crm_rendered_clear(&r);
        json_decref(payload);
        json_decref(data);
    }
    json_decref(base);
    crm_template_free(t);
    if (rc == CRM_OK && bytes == 0)
        rc = crm_err_set(err, CRM_EINVAL, "the template rendered nothing");
    return rc;
}

static int time_render(crm_kernel *k, long n, bool with_data, double *rate, crm_err *err)
{
    double t0 = wall();
    int rc = render_n(k, n, with_data, err);
    *rate = (double)n / (wall() - t0);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_smtp_queue CRM_YAML N OUT.tsv [BATCH]\n");
        return 2;
    }
    long n = atol(argv[2]), batch = argc > 4 ? atol(argv[4]) : 100;
    if (n < 1 || batch < 1) {
        fprintf(stderr, "bench_smtp_queue: N and BATCH must be positive\n");
        return 2;
    }
    FILE *out = fopen(argv[3], "w");
    if (!out) {
        perror(argv[3]);
        return 1;
    }
    crm_err err = {0};
    crm_kernel *k = NULL;
    crm_open_opts o = {.config_path = argv[1]};
    if (crm_kernel_open(&k, &o, &err) != CRM_OK) {
        fprintf(stderr, "bench_smtp_queue: %s\n", err.msg);
        fclose(out);
        return 1;
    }
    int64_t *ids = calloc((size_t)batch, sizeof *ids);
    int rc = ids ? CRM_OK : crm_err_set(&err, CRM_ENOMEM, "out of memory");
    double render_rate = 0, data_rate = 0;
    if (rc == CRM_OK)
        rc = time_render(k, n, false, &render_rate, &err);
    if (rc == CRM_OK)
        rc = time_render(k, n, true, &data_rate, &err);
    double t0 = wall();
    for (long first = 1; rc == CRM_OK && first <= n; first += batch) {
        long last = first + batch - 1 < n ? first + batch - 1 : n;
        rc = queue_batch(k, first, last, ids, &err);
        double at = wall();
        for (long i = 0; rc == CRM_OK && i <= last - first; i++)
            fprintf(out, "%lld\t%.6f\n", (long long)ids[i], at);
    }
    double t = wall() - t0;
    if (rc == CRM_OK) {
        double rate = (double)n / t;
        printf("render alone (context built once): %8.0f messages/s\n", render_rate);
        printf("context from the database + render: %7.0f messages/s (%.2fx render alone)\n",
               data_rate, data_rate / render_rate);
        printf("queued %ld emails in %.2f s:     %8.0f messages/s (%.2fx render alone;"
               " render + context + rules + insert, %ld per transaction)\n",
               n, t, rate, rate / render_rate, batch);
    }
    else
        fprintf(stderr, "bench_smtp_queue: %s\n", err.msg);
    free(ids);
    fclose(out);
    crm_kernel_close(k);
    return rc == CRM_OK ? 0 : 1;
}

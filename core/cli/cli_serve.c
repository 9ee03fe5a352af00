/* crm serve: the REST API (core/http/), with the worker's duties on a
 * thread of its own unless --no-worker. SIGTERM/SIGINT stop accepting, let
 * requests in flight finish, stop the worker and exit 0. */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "http/server.h"
#include "time/worker.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct worker_run {
    crm_kernel *k;
    crm_err err;
    int rc;
} worker_run;

static void *worker_main(void *ud)
{
    worker_run *w = ud;
    w->rc = crm_worker_run(w->k, &stop_flag, NULL, &w->err);
    if (w->rc != CRM_OK)
        fprintf(stderr, "crm serve: the worker stopped (the API goes on): %s\n", w->err.msg);
    return NULL;
}

static int int_opt(const crm_args *a, const char *name, int64_t def, int64_t min, int64_t max,
                   int64_t *out, crm_err *err)
{
    int rc = crm_args_int(a, name, def, out, err);
    if (rc == CRM_OK && (*out < min || *out > max))
        rc = crm_err_set(err, CRM_EUSAGE, "--%s must be %lld..%lld", name, (long long)min,
                         (long long)max);
    return rc;
}

static int cmd_serve(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t threads, timeout, max_body;
    int rc = int_opt(a, "threads", 4, 1, 64, &threads, err);
    if (rc == CRM_OK)
        rc = int_opt(a, "timeout", 30, 1, 3600, &timeout, err);
    if (rc == CRM_OK)
        rc = int_opt(a, "max-body", 1 << 20, 1024, 64 << 20, &max_body, err);
    if (rc != CRM_OK)
        return rc;
    /* both keep process-wide state: initialise before the threads start */
    if (sodium_init() < 0)
        return crm_err_set(err, CRM_EINTERNAL, "libsodium failed to initialise");
    json_object_seed(0);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *listen = crm_args_get(a, "listen");
    crm_http_opts o = {listen ? listen : "127.0.0.1:8080", (int)threads, (int)timeout,
                       (size_t)max_body, &cli->open};
    crm_http_server *s = NULL;
    rc = crm_http_start(&s, &o, err);
    if (rc != CRM_OK)
        return rc;
    worker_run w = {cli->k, {0}, CRM_OK};
    pthread_t worker;
    bool with_worker = !crm_args_flag(a, "no-worker");
    if (with_worker && pthread_create(&worker, NULL, worker_main, &w) != 0) {
        with_worker = false;
        fprintf(stderr, "crm serve: cannot start the worker thread; serving without it\n");
    }
    while (!stop_flag)
        usleep(100 * 1000);
    crm_http_stop(s);
    if (with_worker)
        pthread_join(worker, NULL);
    if (!cli->quiet)
        fprintf(stderr, "crm serve: stopped\n");
    return CRM_OK;
}

static const crm_opt serve_opts[] = {
    {"listen", CRM_OPT_VALUE, "HOST:PORT", "address to listen on (default 127.0.0.1:8080; "
                                           "port 0 picks a free one, printed at start)"},
    {"threads", CRM_OPT_VALUE, "N", "request threads, each with its own database connection "
                                    "(default 4)"},
    {"timeout", CRM_OPT_VALUE, "SECONDS", "close a connection idle this long (default 30)"},
    {"max-body", CRM_OPT_VALUE, "BYTES", "refuse larger request bodies with 413 (default 1 MiB)"},
    {"no-worker", CRM_OPT_FLAG, NULL, "do not deliver events and fire timers (crm run does)"},
    {NULL, 0, NULL, NULL},
};

const crm_command crm_cli_serve_cmds[] = {
    {"serve", NULL, cmd_serve, CRM_CMD_NEEDS_KERNEL | CRM_CMD_WRITES, 0, 0, NULL,
     "serve the REST API (see README: crm serve); also runs the worker", serve_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

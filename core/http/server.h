/* `crm serve`: the libmicrohttpd server around the route registry.
 *
 * A pool of kernels (one SQLite connection each, WAL: readers never wait for
 * the writer; writes serialise on BEGIN IMMEDIATE with the store's busy
 * timeout) serves a pool of MHD threads; a request borrows one kernel for its
 * duration. Writes run in one transaction with their Idempotency-Key row. */
#ifndef CRM_CORE_HTTP_SERVER_H
#define CRM_CORE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel.h"

typedef struct crm_http_opts {
    const char *listen;      /* "127.0.0.1:8080"; port 0 picks a free one */
    int threads;             /* MHD pool threads = kernels in the pool */
    int timeout;             /* seconds a connection may stay idle */
    size_t max_body;         /* bytes; a larger body gets 413 */
    const crm_open_opts *open; /* how to open each pool kernel */
} crm_http_opts;

typedef struct crm_http_server crm_http_server;

/* Opens the pool's kernels and starts listening. On success prints
 * "crm serve: listening on http://HOST:PORT" to stdout (the port chosen when
 * 0 was asked). */
int crm_http_start(crm_http_server **out, const crm_http_opts *o, crm_err *err);

/* Stops accepting, lets requests in flight finish, closes the pool. NULL ok. */
void crm_http_stop(crm_http_server *s);

#endif

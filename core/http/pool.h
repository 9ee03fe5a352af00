/* A fixed set of kernels shared by the server's threads: a request borrows
 * one, so each thread works on its own SQLite connection. */
#ifndef CRM_CORE_HTTP_POOL_H
#define CRM_CORE_HTTP_POOL_H

#include "kernel.h"

typedef struct crm_kernel_pool crm_kernel_pool;

/* Opens n kernels with opts (n >= 1). */
int crm_pool_open(crm_kernel_pool **out, int n, const crm_open_opts *opts, crm_err *err);
/* Waits for a free kernel and returns it. */
crm_kernel *crm_pool_acquire(crm_kernel_pool *p);
/* Gives k back (a transaction left open is rolled back). */
void crm_pool_release(crm_kernel_pool *p, crm_kernel *k);
/* Closes every kernel; none may be borrowed. NULL ok. */
void crm_pool_close(crm_kernel_pool *p);

#endif

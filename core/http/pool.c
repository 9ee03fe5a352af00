/* The kernel pool (see pool.h): a stack of free kernels under a mutex. */
#include <pthread.h>
#include <stdlib.h>

#include "http/pool.h"

struct crm_kernel_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    crm_kernel **all, **free;
    int n, n_free;
};

int crm_pool_open(crm_kernel_pool **out, int n, const crm_open_opts *opts, crm_err *err)
{
    crm_kernel_pool *p = calloc(1, sizeof *p);
    if (p) {
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->freed, NULL);
    }
    if (!p || !(p->all = calloc((size_t)n, sizeof *p->all)) ||
        !(p->free = calloc((size_t)n, sizeof *p->free))) {
        crm_pool_close(p);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    for (; p->n < n; p->n++) {
        int rc = crm_kernel_open(&p->all[p->n], opts, err);
        if (rc != CRM_OK) {
            crm_pool_close(p);
            return rc;
        }
        p->free[p->n_free++] = p->all[p->n];
    }
    *out = p;
    return CRM_OK;
}

crm_kernel *crm_pool_acquire(crm_kernel_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->n_free == 0)
        pthread_cond_wait(&p->freed, &p->mu);
    crm_kernel *k = p->free[--p->n_free];
    pthread_mutex_unlock(&p->mu);
    return k;
}

void crm_pool_release(crm_kernel_pool *p, crm_kernel *k)
{
    while (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    pthread_mutex_lock(&p->mu);
    p->free[p->n_free++] = k;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void crm_pool_close(crm_kernel_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        crm_kernel_close(p->all[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->freed);
    free(p->all);
    free(p->free);
    free(p);
}

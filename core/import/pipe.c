/* The reader thread and the hand-over of batches to the writer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

struct imp_pipe {
    imp_pipe_cfg cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    imp_batch bufs[2];
    imp_batch *fill;   /* the reader's (reader thread only) */
    imp_batch *full;   /* handed over, waiting for the writer; NULL when none */
    imp_batch *spare;  /* given back by the writer; NULL when in use */
    bool done;         /* the reader returned; rc and err say how */
    atomic_bool stop;  /* the writer gave up: the reader stops at its next row */
    int rc;
    crm_err err;
};

/* Reader side: hands the filled batch over and takes the spare one.
 * Returns false when the writer asked to stop. */
static bool hand_over(imp_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->fill->consumed = p->cfg.src ? p->cfg.src->consumed : 0;
    while (p->full && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    if (!p->stop) {
        p->full = p->fill;
        pthread_cond_broadcast(&p->cv);
        while (!p->spare && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        p->fill = p->spare;
        p->spare = NULL;
    }
    bool go_on = !p->stop;
    pthread_mutex_unlock(&p->mu);
    return go_on;
}

static int on_row(void *ud, imp_row *row)
{
    imp_pipe *p = ud;
    if (atomic_load_explicit(&p->stop, memory_order_relaxed))
        return 1; /* not a full batch of wasted work after the writer failed */
    crm_err e = {0};
    void *prep = NULL;
    int code = 0;
    const char *error = row->error;
    if (error)
        code = row->error_code ? row->error_code : CRM_EINVAL;
    else if (p->cfg.prepare && (code = p->cfg.prepare(p->cfg.prepare_ud, row, &prep, &e)) != 0)
        error = e.msg[0] ? e.msg : crm_err_name(code);
    if (imp_batch_keep(p->fill, row, prep, code, error) != CRM_OK)
        return crm_err_set(&p->err, CRM_ENOMEM, "out of memory keeping a row");
    if (p->fill->n < p->cfg.batch_size)
        return CRM_OK;
    return hand_over(p) ? CRM_OK : 1;
}

static void *reader(void *ud)
{
    imp_pipe *p = ud;
    int rc = p->cfg.read(p->cfg.read_ud, on_row, p, &p->err);
    if (rc == CRM_OK && p->fill->n)
        hand_over(p); /* the last, short batch */
    pthread_mutex_lock(&p->mu);
    p->rc = p->stop ? CRM_OK : rc;
    p->done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int imp_pipe_start(imp_pipe **out, const imp_pipe_cfg *cfg, crm_err *err)
{
    imp_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    p->cfg = *cfg;
    p->bufs[0].release = p->bufs[1].release = cfg->release;
    p->fill = &p->bufs[0];
    p->spare = &p->bufs[1];
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, reader, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return crm_err_set(err, CRM_EINTERNAL, "cannot start the import's reader thread");
    }
    *out = p;
    return CRM_OK;
}

imp_batch *imp_pipe_next(imp_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->full && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    imp_batch *b = p->full;
    p->full = NULL;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return b;
}

void imp_pipe_recycle(imp_pipe *p, imp_batch *b)
{
    imp_batch_clear(b);
    pthread_mutex_lock(&p->mu);
    p->spare = b;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int imp_pipe_finish(imp_pipe *p, crm_err *err)
{
    pthread_mutex_lock(&p->mu);
    p->stop = !p->done;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    int rc = p->rc;
    if (rc != CRM_OK && err)
        *err = p->err;
    imp_batch_free(&p->bufs[0]);
    imp_batch_free(&p->bufs[1]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    return rc;
}

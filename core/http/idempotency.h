/* Idempotency-Key: a POST retried with the same key (per token) gets the
 * first response back and creates nothing. The row is written in the
 * request's transaction, so it exists exactly when the effect committed. */
#ifndef CRM_CORE_HTTP_IDEMPOTENCY_H
#define CRM_CORE_HTTP_IDEMPOTENCY_H

#include <jansson.h>

#include "kernel.h"

#define CRM_IDEMPOTENCY_KEY_MAX 200

/* Looks the key up: CRM_OK with *status and *body (caller frees) when a
 * response is stored, CRM_ENOTFOUND when not, CRM_EINVAL when the key was
 * used for another method or path. */
int crm_idem_find(crm_kernel *k, int64_t token_id, const char *key, const char *method,
                  const char *path, int *status, json_t **body, crm_err *err);

/* Stores the response for the key (inside the request's transaction). */
int crm_idem_store(crm_kernel *k, int64_t token_id, const char *key, const char *method,
                   const char *path, int status, const json_t *body, crm_err *err);

#endif

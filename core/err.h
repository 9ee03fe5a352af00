/* Error reporting inside the kernel.
 *
 * A crm_err is a caller-owned buffer: functions that fail fill it with one
 * sentence saying what went wrong and where, and return the matching code. */
#ifndef CRM_CORE_ERR_H
#define CRM_CORE_ERR_H

#include <stddef.h>
#include "crm/error.h"

typedef struct crm_err {
    int code;        /* last code set, CRM_OK when none */
    char msg[1024];  /* NUL-terminated message, "" when none */
} crm_err;

/* Sets err (when not NULL) to code and the formatted message; returns code
 * so callers can write `return crm_err_set(err, CRM_EINVAL, "...")`. */
int crm_err_set(crm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with the formatted text and ": ";
 * returns err->code. Use it to add context while unwinding. */
int crm_err_prefix(crm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to CRM_OK with an empty message. */
void crm_err_clear(crm_err *err);

/* Maps a result code to the CLI's exit status: 0 ok, 1 refused or bad data,
 * 2 bad usage, 3 internal failure. */
int crm_err_exit_code(int code);

/* A short stable name for a code ("invalid", "not_found", ...), for JSON. */
const char *crm_err_name(int code);

#endif

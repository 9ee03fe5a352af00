/* A C face on libphonenumber (C++), so the kernel stays C: one number in,
 * its E.164 form, region and type out. Used by core/hygiene/phone.c. */
#ifndef CRM_CORE_HYGIENE_PHONE_LIB_H
#define CRM_CORE_HYGIENE_PHONE_LIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_phonelib_number {
    char e164[24];    /* "+33612345678" */
    char region[4];   /* ISO alpha-2 of the number ("FR"; "001" for non-geographic), or "" */
    const char *type; /* static: see crm_phonelib_type */
} crm_phonelib_number;

/* Parses `in` (digits and punctuation as typed; letters already refused by
 * the caller) read with `country` (ISO alpha-2, any case, NULL or "" for
 * none: then only "+..." numbers parse). Fills *out and returns NULL when the
 * number is valid (a range assigned in its country), else returns a static
 * reason ("too short", "not a range in use", ...) and, when the country of
 * the number is known, its alpha-2 in out->region (the rest unset).
 * Thread-safe (libphonenumber's util is a thread-safe singleton). */
const char *crm_phonelib_parse(const char *in, const char *country, crm_phonelib_number *out);

/* The type of a stored E.164 number: "mobile", "fixed_line",
 * "fixed_line_or_mobile" (countries such as the US where the ranges do not
 * tell), "toll_free", "premium_rate", "shared_cost", "voip", "personal",
 * "pager", "uan", "voicemail", or "unknown" (also for NULL or unparsable). */
const char *crm_phonelib_type(const char *e164);

#ifdef __cplusplus
}
#endif

#endif

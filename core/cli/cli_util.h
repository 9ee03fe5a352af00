/* Helpers shared by the entity command groups (company, order, interaction,
 * consent, user): required options, references, dates, paging. Private to
 * core/cli. */
#ifndef CRM_CORE_CLI_UTIL_H
#define CRM_CORE_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* The VALUE option `opt` in *out; CRM_EUSAGE "missing --opt METAVAR: hint"
 * when absent or empty. */
int crm_cli_need(const crm_args *a, const char *opt, const char *hint, const char **out,
                 crm_err *err);

/* Resolves a contact reference (id, email, ext:ID); a miss says how to find one. */
int crm_cli_contact(crm_cli *cli, const char *ref, int64_t *id, crm_err *err);

/* Parses the date option `opt` (ISO 8601, UTC unless an offset is given) into
 * *out; absent leaves 0. CRM_EINVAL naming the option on a bad date. */
int crm_cli_time_opt(const crm_args *a, const char *opt, int64_t *out, crm_err *err);

/* --limit N (default def, 0 = all) and --page N (from 1) as limit/offset. */
int crm_cli_paging(const crm_args *a, int64_t def, int64_t *limit, int64_t *offset,
                   crm_err *err);

/* The options choosing a contact set, for contact listings (cli_sets.c). */
#define CRM_CLI_CONTACT_SET_OPTS                                                            \
    {"segment", CRM_OPT_VALUE, "NAME",                                                      \
     "only current members of segment NAME (from a plugin: crm segment list)"},            \
    {"consent", CRM_OPT_VALUE, "CHANNEL:PURPOSE",                                           \
     "only contacts whose consent stands granted (as of --as-of), e.g. email:newsletter"}

/* Resolves --segment NAME (through the plugins' contact set providers) and
 * --consent CHANNEL:PURPOSE (granted as of the kernel's clock) into contact
 * sets named in sets[0..1] (the rest left alone). CRM_OK when neither is
 * given. A bad --consent is CRM_EUSAGE, an unknown segment CRM_ENOTFOUND. */
int crm_cli_contact_sets(crm_cli *cli, const crm_args *a, const char *sets[2], crm_err *err);

/* How people read a time: t (UTC epoch seconds) as ISO 8601 with its offset
 * in locale.timezone (the default calendar's zone), "2026-03-29T09:00:00+02:00";
 * "-" for 0 (unset). Returns buf (at least CRM_CLI_TIME_SIZE bytes). --json
 * keeps the machine form instead. */
#define CRM_CLI_TIME_SIZE 40
const char *crm_cli_time(crm_cli *cli, int64_t t, char *buf, size_t size);

/* The same for a JSON member holding a model time (UTC ISO "...Z" or epoch
 * seconds); "-" when null or absent, the text itself when it is no time. */
const char *crm_cli_time_of(crm_cli *cli, json_t *obj, const char *key, char *buf, size_t size);

/* Human text of a JSON scalar member ("-" when null or absent). */
const char *crm_cli_str(json_t *obj, const char *key);

#endif

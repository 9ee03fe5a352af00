/* Host API, helpers: errors, logging, command output, the locale, money as
 * the kernel prints it, the clock. Every failing host call leaves its
 * message in the plugin's error buffer (crm_plug_fail). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"
#include "hygiene.h"
#include "api.h"

int crm_plug_fail(crm_plugin_ctx *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    return code;
}

int crm_plug_nomem(crm_plugin_ctx *p) { return crm_plug_fail(p, CRM_ENOMEM, "out of memory"); }

/* ---- command io, utilities -------------------------------------------------------------- */

FILE *crm_plug_api_io_out(crm_command_io *io) { return io->out ? io->out : stdout; }
int crm_plug_api_io_json(crm_command_io *io) { return io->json; }

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static int log_threshold(void)
{
    static const char *const env_names[] = {"error", "warn", "info", "debug"};
    const char *env = getenv("CRM_LOG");
    for (int i = 0; env && i < 4; i++)
        if (strcmp(env, env_names[i]) == 0)
            return i;
    return CRM_LOG_WARN;
}

void crm_plug_api_log(crm_plugin_ctx *p, crm_log_level level, const char *fmt, ...)
{
    if ((int)level > log_threshold() || (int)level < 0)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "crm: plugin %s: %s: %s\n", p->name, level_names[level], msg);
}

/* Formats into a copy first: the arguments may be crm_last_error(ctx). */
void crm_plug_api_set_error(crm_plugin_ctx *p, const char *fmt, ...)
{
    char msg[sizeof p->error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(p->error, msg, sizeof msg);
}

const char *crm_plug_api_last_error(crm_plugin_ctx *p) { return p->error; }

const char *crm_plug_api_locale(crm_plugin_ctx *p, const char *key)
{
    const crm_config *cfg = p->host->k->cfg;
    if (!key || !cfg)
        return NULL;
    if (strcmp(key, "country") == 0)
        return cfg->country;
    if (strcmp(key, "currency") == 0)
        return cfg->currency;
    if (strcmp(key, "timezone") == 0)
        return cfg->timezone;
    return NULL;
}

/* ---- SDK 1.3 (seg): money as the kernel prints it --------------------------------------- */

int crm_plug_api_format_money(crm_plugin_ctx *p, int64_t minor, const char *currency, char *buf,
                              size_t size)
{
    if (!buf || !size)
        return crm_plug_fail(p, CRM_EUSAGE, "format_money: expected a buffer");
    int d = crm_currency_decimals(currency);
    int n;
    if (d < 0) {
        n = snprintf(buf, size, "%lld (minor units) %s", (long long)minor,
                     currency ? currency : "");
        crm_plug_fail(p, CRM_EINVAL,
                      "format_money: '%s' is not an ISO 4217 code (three upper-case letters)",
                      currency ? currency : "(null)");
        return n >= 0 && (size_t)n < size ? CRM_EINVAL : CRM_ENOMEM;
    }
    char text[96]; /* the CLI's own money text, so plugins print like the kernel */
    crm_cli_money(minor, currency, text, sizeof text);
    n = snprintf(buf, size, "%s", text);
    if (n < 0 || (size_t)n >= size)
        return crm_plug_fail(p, CRM_ENOMEM, "format_money: %zu bytes are too few for '%s'", size,
                             text);
    return CRM_OK;
}

int64_t crm_plug_api_now(crm_plugin_ctx *p) { return p->host->k->now; }
void crm_plug_api_free(void *ptr) { free(ptr); }
const char *crm_plug_api_plugin_name(crm_plugin_ctx *p) { return p->name; }

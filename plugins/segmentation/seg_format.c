/* segmentation plugin — output formatting shared by the commands. Human
 * output: dates as ISO 8601 UTC, money as the host formats it (major units
 * with the currency's decimals);
 * JSON output keeps epoch seconds and integer minor units. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seg_int.h"

const char *seg_fmt_day(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "%lld", (long long)t);
    return buf;
}

/* The host owns the currency table (SDK 1.3): decimals are never guessed
 * here. An older host gets the minor units, which are at least exact. */
const char *seg_fmt_money(crm_plugin_ctx *ctx, int64_t minor, const char *cur, char *buf,
                          size_t size)
{
    const char *code = cur && *cur ? cur : "";
    if (!CRM_API_HAS(ctx, format_money) ||
        (crm_format_money(ctx, minor, code, buf, size) != CRM_OK && !*buf))
        snprintf(buf, size, "%lld (minor units) %s", (long long)minor, code);
    return buf;
}

void seg_print_reason_texts(FILE *out, const char *reasons_json)
{
    json_t *arr = json_loads(reasons_json ? reasons_json : "[]", 0, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *text = json_string_value(json_object_get(r, "text"));
        fprintf(out, "%s%s", i ? "; " : "", text ? text : "");
    }
    json_decref(arr);
}

void seg_print_json(crm_command_io *io, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fprintf(crm_io_out(io), "%s\n", s);
        free(s);
    }
    json_decref(j);
}

void seg_note(crm_command_io *io, size_t shown, const char *fmt, ...)
{
    if (io && crm_io_json(io) && shown)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* segmentation plugin — output formatting shared by the commands, through
 * the host's helpers: times as ISO 8601 in locale.timezone (crm_format_time),
 * money with the kernel's currency table (crm_format_money). JSON keeps
 * epoch seconds (with an _iso twin) and integer minor units. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

const char *seg_fmt_day(crm_plugin_ctx *ctx, int64_t t, char *buf, size_t size)
{
    /* the host's clock formatting: ISO 8601 in locale.timezone, with its offset */
    if (crm_format_time(ctx, t, NULL, buf, size) != CRM_OK)
        snprintf(buf, size, "%lld", (long long)t);
    return buf;
}

/* The host owns the currency table: decimals are never guessed here. */
const char *seg_fmt_money(crm_plugin_ctx *ctx, int64_t minor, const char *cur, char *buf,
                          size_t size)
{
    if (crm_format_money(ctx, minor, cur && *cur ? cur : "", buf, size) != CRM_OK && !*buf)
        snprintf(buf, size, "%lld (minor units) %s", (long long)minor, cur ? cur : "");
    return buf;
}

const char *const seg_iso_as_of[] = {"as_of", NULL};
const char *const seg_iso_entered_left[] = {"entered_at", "left_at", NULL};

json_t *seg_json_iso(crm_plugin_ctx *ctx, json_t *obj, const char *const *keys)
{
    for (size_t i = 0; obj && keys[i]; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        char name[64], iso[48];
        snprintf(name, sizeof name, "%s_iso", keys[i]);
        if (json_is_integer(v))
            json_object_set_new(obj, name,
                                json_string(seg_fmt_day(ctx, json_integer_value(v), iso,
                                                        sizeof iso)));
        else if (json_is_null(v))
            json_object_set_new(obj, name, json_null());
    }
    return obj;
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

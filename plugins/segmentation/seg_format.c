/* segmentation plugin — output formatting shared by the commands. Human
 * output: dates as ISO 8601 UTC, money as major units with the currency;
 * JSON output keeps epoch seconds and integer minor units. */
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

static int currency_decimals(const char *cur)
{
    static const char *const none[] = {"JPY", "KRW", "ISK", "CLP", "VND", NULL};
    for (int i = 0; cur && none[i]; i++)
        if (!strcmp(cur, none[i]))
            return 0;
    return 2;
}

const char *seg_fmt_money(int64_t minor, const char *cur, char *buf, size_t size)
{
    int d = currency_decimals(cur);
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (d == 0)
        snprintf(buf, size, "%s%llu %s", minor < 0 ? "-" : "", (unsigned long long)mag, cur);
    else
        snprintf(buf, size, "%s%llu.%02llu %s", minor < 0 ? "-" : "",
                 (unsigned long long)(mag / 100), (unsigned long long)(mag % 100), cur);
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

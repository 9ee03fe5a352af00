/* Benchmark: business-time additions over a calendar with a lunch break,
 * Saturday mornings, French public holidays, an extra holiday and a closed
 * date, against bare loops of the same length in the same run.
 *
 *   bench_calendar [N]     (default 1000000)
 *
 * N additions, mixed 2h / 3bd / 45m, from random instants over 2026-2027
 * (seeded, so runs compare). The first pass also fills the calendar's
 * per-year cache; the next passes run on a warm cache, as a long-lived
 * process does. Baselines: N plain `t + seconds` additions and N gmtime_r
 * calls over the same instants. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "time/calendar.h"

static const char *const yaml =
    "locale: {country: FR, timezone: Europe/Paris}\n"
    "calendars:\n"
    "  support:\n"
    "    timezone: Europe/Paris\n"
    "    hours:\n"
    "      mon-fri: [\"08:00-12:30\", \"13:30-19:00\"]\n"
    "      sat: [\"09:00-12:00\"]\n"
    "    holidays: {country: FR, extra: [2026-12-24, 12-31], closed: [2026-08-14]}\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const crm_err *err)
{
    fprintf(stderr, "bench_calendar: %s: %s\n", what, err->msg);
    exit(1);
}

static double run_add(const crm_calendar *cal, const int64_t *t, const crm_duration *d, long n,
                      int64_t *sum)
{
    crm_err err = {0};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        int64_t out;
        if (crm_calendar_add(cal, t[i], &d[i % 3], &out, &err) != CRM_OK)
            die("add", &err);
        *sum += out;
    }
    return now_s() - t0;
}

static double run_add_text(const crm_calendar *cal, const int64_t *t, long n, int64_t *sum)
{
    static const char *const text[3] = {"2h", "3bd", "45m"};
    crm_err err = {0};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        int64_t out;
        if (crm_calendar_add_text(cal, t[i], text[i % 3], &out, &err) != CRM_OK)
            die("add_text", &err);
        *sum += out;
    }
    return now_s() - t0;
}

static double run_between(const crm_calendar *cal, const int64_t *t, long n, int64_t *sum)
{
    crm_err err = {0};
    double t0 = now_s();
    for (long i = 0; i + 1 < n; i++) {
        int64_t out;
        if (crm_calendar_between(cal, t[i], t[i] + (t[i + 1] % 864000), &out, &err) != CRM_OK)
            die("between", &err);
        *sum += out;
    }
    return now_s() - t0;
}

/* The same loop shape with the calendar replaced by plain addition; the
 * volatile read keeps the compiler from folding the loop away. */
static double run_plain(const int64_t *t, const crm_duration *d, long n, int64_t *sum)
{
    volatile int64_t secs[3] = {d[0].amount, d[1].amount * 86400, d[2].amount};
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        *sum += t[i] + secs[i % 3];
    return now_s() - t0;
}

static double run_gmtime(const int64_t *t, long n, int64_t *sum)
{
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        time_t tt = (time_t)t[i];
        struct tm tm;
        gmtime_r(&tt, &tm);
        *sum += tm.tm_hour + tm.tm_mday;
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n < 3)
        n = 3;
    crm_config *cfg = NULL;
    crm_err err = {0};
    if (crm_config_load_string(&cfg, yaml, "bench.yaml", &err) != CRM_OK)
        die("config", &err);
    const crm_calendar *cal = crm_calendar_find(cfg, "support");
    crm_duration d[3];
    if (crm_duration_parse("2h", &d[0], &err) != CRM_OK ||
        crm_duration_parse("3bd", &d[1], &err) != CRM_OK ||
        crm_duration_parse("45m", &d[2], &err) != CRM_OK)
        die("duration", &err);

    int64_t *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return 1;
    const int64_t from = 1767222000; /* 2026-01-01T00:00:00+01:00 */
    const int64_t span = 2 * 365 * 86400;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (long i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        t[i] = from + (int64_t)(x % (uint64_t)span);
    }

    int64_t sum = 0;
    double cold = run_add(cal, t, d, n, &sum);
    double warm = run_add(cal, t, d, n, &sum);
    double warm2 = run_add(cal, t, d, n, &sum);
    if (warm2 < warm)
        warm = warm2;
    double text = run_add_text(cal, t, n, &sum);
    double between = run_between(cal, t, n, &sum);
    double plain = run_plain(t, d, n, &sum);
    double gm = run_gmtime(t, n, &sum);

    double k = 1e9 / (double)n;
    printf("calendar additions over 2026-2027, %ld calls (2h / 3bd / 45m), Europe/Paris,\n"
           "lunch break, Saturday mornings, FR holidays + extra + closed:\n", n);
    printf("  crm_calendar_add, first pass (fills the cache)  %8.1f ns/call\n", cold * k);
    printf("  crm_calendar_add, warm cache                    %8.1f ns/call\n", warm * k);
    printf("  crm_calendar_add_text (parses the duration too) %8.1f ns/call\n", text * k);
    printf("  crm_calendar_between (spans up to 10 days)      %8.1f ns/call\n", between * k);
    printf("baselines, same instants:\n");
    printf("  t + seconds                                     %8.1f ns/call\n", plain * k);
    printf("  gmtime_r                                        %8.1f ns/call\n", gm * k);
    printf("warm add = %.0fx gmtime_r; goal < 2000 ns/call: %s\n", warm / gm,
           warm * k < 2000 ? "met" : "MISSED");
    printf("(checksum %lld)\n", (long long)sum);
    free(t);
    crm_config_free(cfg);
    return 0;
}

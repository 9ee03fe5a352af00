/* Business calendars: the zone reader against glibc, holidays against
 * tables written by hand from the official lists, business-time arithmetic
 * against hand-computed instants (DST both ways, lunch breaks, weekends,
 * year end, a leap day), and the crm.yaml section's errors with positions.
 *
 * Expected instants are written as local wall time plus the offset that
 * the zone has then (CET +1, CEST +2, EST -5, EDT -4) and converted with
 * glibc's timegm, never with the code under test. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "time/calendar.h"
#include "time/holidays.h"
#include "time/tz.h"

/* ---- helpers ------------------------------------------------------------- */

/* y-m-d h:mi read on a clock at UTC+off_h. */
static int64_t at(int y, int mo, int d, int h, int mi, int off_h)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi};
    return (int64_t)timegm(&tm) - off_h * 3600;
}

static char *iso(int64_t t)
{
    static char buf[4][32];
    static int k;
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    k = (k + 1) % 4;
    strftime(buf[k], sizeof buf[k], "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf[k];
}

#define assert_instant(expected, actual)                                                  \
    do {                                                                                  \
        int64_t e_ = (expected), a_ = (actual);                                           \
        if (e_ != a_)                                                                     \
            fail_msg("expected %s, got %s (line %d)", iso(e_), iso(a_), __LINE__);       \
    } while (0)

static crm_config *load(const char *yaml)
{
    crm_config *cfg = NULL;
    crm_err err = {0};
    if (crm_config_load_string(&cfg, yaml, "t.yaml", &err) != CRM_OK)
        fail_msg("config refused: %s", err.msg);
    return cfg;
}

static void load_fails(const char *yaml, const char *prefix, const char *needle)
{
    crm_config *cfg = NULL;
    crm_err err = {0};
    int rc = crm_config_load_string(&cfg, yaml, "t.yaml", &err);
    if (rc == CRM_OK)
        fail_msg("expected a refusal for:\n%s", yaml);
    assert_int_equal(rc, CRM_ECONFIG);
    assert_null(cfg);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", err.msg, prefix);
    if (needle && !strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static const char *calendars_yaml =
    "locale:\n"
    "  country: FR\n"
    "  timezone: Europe/Paris\n"
    "calendars:\n"
    "  support:\n"
    "    timezone: Europe/Paris\n"
    "    hours:\n"
    "      mon-fri: [\"08:00-12:30\", \"13:30-19:00\"]\n"
    "      sat: [\"09:00-12:00\"]\n"
    "    holidays: {country: FR, extra: [2026-12-24], closed: [2026-08-14]}\n"
    "  allday:\n"
    "    timezone: Europe/Paris\n"
    "    hours: {mon-sun: [\"00:00-24:00\"]}\n"
    "    holidays: {country: none}\n"
    "  night:\n"
    "    timezone: Europe/Paris\n"
    "    hours: {sun: [\"01:00-04:00\"]}\n"
    "    holidays: {country: none}\n"
    "  ny:\n"
    "    timezone: America/New_York\n"
    "    hours: {mon-fri: [\"09:00-17:00\"]}\n"
    "    holidays: {country: US}\n";

static crm_config *cfg;

static int setup(void **state)
{
    (void)state;
    cfg = load(calendars_yaml);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    crm_config_free(cfg);
    return 0;
}

static const crm_calendar *cal(const char *name)
{
    const crm_calendar *c = crm_calendar_find(cfg, name);
    if (!c)
        fail_msg("no calendar %s", name);
    return c;
}

static int64_t add(const char *name, int64_t t, const char *dur)
{
    int64_t out = 0;
    crm_err err = {0};
    if (crm_calendar_add_text(name ? cal(name) : NULL, t, dur, &out, &err) != CRM_OK)
        fail_msg("add %s: %s", dur, err.msg);
    return out;
}

static bool is_open(const char *name, int64_t t)
{
    bool open = false;
    crm_err err = {0};
    if (crm_calendar_is_open(cal(name), t, &open, &err) != CRM_OK)
        fail_msg("is_open: %s", err.msg);
    return open;
}

static int64_t between(const char *name, int64_t a, int64_t b)
{
    int64_t out = 0;
    crm_err err = {0};
    if (crm_calendar_between(cal(name), a, b, &out, &err) != CRM_OK)
        fail_msg("between: %s", err.msg);
    return out;
}

static int64_t next_open(const char *name, int64_t t)
{
    int64_t out = 0;
    crm_err err = {0};
    if (crm_calendar_next_open(cal(name), t, &out, &err) != CRM_OK)
        fail_msg("next_open: %s", err.msg);
    return out;
}

/* ---- the zone reader ----------------------------------------------------- */

static int32_t glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return (int32_t)tm.tm_gmtoff;
}

/* Every transition (and the second before it) and random instants from
 * 1900 to 2199 read the same offset as glibc's localtime on the same file. */
static void test_tz_matches_glibc(void **state)
{
    (void)state;
    static const char *const zones[] = {
        "Europe/Paris",    "America/New_York", "Australia/Sydney", "Asia/Kolkata",
        "Australia/Lord_Howe", "Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca",
        "Europe/London",   "Asia/Tehran",      "America/Santiago", "UTC",
        "Pacific/Apia",    "America/Nuuk",     "Europe/Dublin",    NULL};
    const int64_t lo = at(1900, 1, 1, 0, 0, 0), hi = at(2199, 12, 31, 0, 0, 0);
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    for (size_t z = 0; zones[z]; z++) {
        crm_tz *tz = NULL;
        crm_err err = {0};
        if (crm_tz_load(zones[z], &tz, &err) != CRM_OK)
            fail_msg("%s: %s", zones[z], err.msg);
        setenv("TZ", zones[z], 1);
        tzset();
        for (size_t i = 0; i < tz->n; i++)
            for (int64_t d = -1; d <= 0; d++) {
                int64_t t = tz->at[i] + d;
                if (t >= lo && t <= hi && crm_tz_offset(tz, t) != glibc_offset(t))
                    fail_msg("%s at %s: %d, glibc %d", zones[z], iso(t), crm_tz_offset(tz, t),
                             glibc_offset(t));
            }
        uint64_t x = 88172645463325252u;
        for (int i = 0; i < 4000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t t = lo + (int64_t)(x % (uint64_t)(hi - lo));
            if (crm_tz_offset(tz, t) != glibc_offset(t))
                fail_msg("%s at %s: %d, glibc %d", zones[z], iso(t), crm_tz_offset(tz, t),
                         glibc_offset(t));
        }
        crm_tz_free(tz);
    }
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

static void test_tz_from_local(void **state)
{
    (void)state;
    crm_tz *tz = NULL;
    crm_err err = {0};
    assert_int_equal(crm_tz_load("Europe/Paris", &tz, &err), CRM_OK);
    int64_t L = at(2026, 3, 1, 10, 0, 0); /* wall-clock seconds, read as if UTC */
    assert_instant(at(2026, 3, 1, 10, 0, 1), crm_tz_from_local(tz, L));
    /* 02:30 does not exist on 29 March: the gap ends at 01:00Z (03:00 CEST). */
    assert_instant(at(2026, 3, 29, 1, 0, 0), crm_tz_from_local(tz, at(2026, 3, 29, 2, 30, 0)));
    assert_instant(at(2026, 3, 29, 3, 0, 2), crm_tz_from_local(tz, at(2026, 3, 29, 3, 0, 0)));
    /* 02:30 happens twice on 25 October: the first one is CEST. */
    assert_instant(at(2026, 10, 25, 2, 30, 2), crm_tz_from_local(tz, at(2026, 10, 25, 2, 30, 0)));
    assert_instant(at(2026, 10, 25, 3, 0, 1), crm_tz_from_local(tz, at(2026, 10, 25, 3, 0, 0)));
    /* Any instant's reading maps back to the first instant with that reading. */
    uint64_t x = 2463534242u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t t = at(1970, 1, 1, 0, 0, 0) + (int64_t)(x % (uint64_t)(200LL * 366 * 86400));
        int64_t local = t + crm_tz_offset(tz, t), back = crm_tz_from_local(tz, local);
        assert_true(back <= t && t - back <= 3600);
        assert_true(back + crm_tz_offset(tz, back) == local);
    }
    crm_tz_free(tz);
}

static void test_tz_refusals(void **state)
{
    (void)state;
    crm_tz *tz = NULL;
    crm_err err = {0};
    assert_int_equal(crm_tz_load("Europe/Pariss", &tz, &err), CRM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "did you mean 'Europe/Paris'?"));
    assert_int_equal(crm_tz_load("../../etc/passwd", &tz, &err), CRM_ENOTFOUND);
    assert_int_equal(crm_tz_load("/etc/localtime", &tz, &err), CRM_ENOTFOUND);
    assert_int_equal(crm_tz_load("Europe", &tz, &err), CRM_ENOTFOUND);
    assert_int_equal(crm_tz_load("", &tz, &err), CRM_ENOTFOUND);
    assert_null(tz);
    static const unsigned char junk[] = "TZif2 but nothing else";
    assert_int_equal(crm_tz_parse("x", junk, sizeof junk, &tz, &err), CRM_EINVAL);
    assert_null(tz);
}

/* ---- holidays ------------------------------------------------------------ */

static void test_easter(void **state)
{
    (void)state;
    static const int known[][3] = {
        {1818, 3, 22}, {2000, 4, 23}, {2008, 3, 23}, {2011, 4, 24}, {2019, 4, 21},
        {2024, 3, 31}, {2025, 4, 20}, {2026, 4, 5},  {2027, 3, 28}, {2038, 4, 25},
        {2285, 3, 22}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        int m, d;
        crm_easter(known[i][0], &m, &d);
        if (m != known[i][1] || d != known[i][2])
            fail_msg("Easter %d: got %d-%d", known[i][0], m, d);
    }
}

/* The holidays of one country and year as "MM-DD" strings, in order. */
static void expect_holidays(const char *country, int year, const char *const *expected)
{
    crm_holiday h[CRM_HOLIDAYS_MAX];
    size_t n = crm_holidays_year(country, year, h), k = 0;
    while (expected[k])
        k++;
    for (size_t i = 0; i < n || i < k; i++) {
        char got[8] = "-";
        if (i < n) {
            time_t t = (time_t)(h[i].day * 86400);
            struct tm tm;
            gmtime_r(&t, &tm);
            if (tm.tm_year + 1900 != year)
                fail_msg("%s %d: a holiday of another year", country, year);
            strftime(got, sizeof got, "%m-%d", &tm);
        }
        if (i >= k || strcmp(got, expected[i]) != 0)
            fail_msg("%s %d holiday %zu: expected %s, got %s (%s)", country, year, i,
                     i < k ? expected[i] : "none", got, i < n ? h[i].name : "");
    }
}

static void test_holidays_2026_2027(void **state)
{
    (void)state;
    static const struct {
        const char *country;
        int year;
        const char *days[20];
    } table[] = {
        {"FR", 2026, {"01-01", "04-06", "05-01", "05-08", "05-14", "05-25", "07-14", "08-15",
                      "11-01", "11-11", "12-25"}},
        {"FR", 2027, {"01-01", "03-29", "05-01", "05-06", "05-08", "05-17", "07-14", "08-15",
                      "11-01", "11-11", "12-25"}},
        {"DE", 2026, {"01-01", "04-03", "04-06", "05-01", "05-14", "05-25", "10-03", "12-25",
                      "12-26"}},
        {"DE", 2027, {"01-01", "03-26", "03-29", "05-01", "05-06", "05-17", "10-03", "12-25",
                      "12-26"}},
        /* Boxing Day 2026 is a Saturday: substitute Monday 28. */
        {"GB", 2026, {"01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-26",
                      "12-28"}},
        /* Christmas 2027 on Saturday, Boxing Day on Sunday: Monday 27, Tuesday 28. */
        {"GB", 2027, {"01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-25", "12-26",
                      "12-27", "12-28"}},
        {"ES", 2026, {"01-01", "01-06", "04-03", "05-01", "08-15", "10-12", "11-01", "12-06",
                      "12-08", "12-25"}},
        {"ES", 2027, {"01-01", "01-06", "03-26", "05-01", "08-15", "10-12", "11-01", "12-06",
                      "12-08", "12-25"}},
        {"IT", 2026, {"01-01", "01-06", "04-05", "04-06", "04-25", "05-01", "06-02", "08-15",
                      "10-04", "11-01", "12-08", "12-25", "12-26"}},
        {"IT", 2027, {"01-01", "01-06", "03-28", "03-29", "04-25", "05-01", "06-02", "08-15",
                      "10-04", "11-01", "12-08", "12-25", "12-26"}},
        {"BE", 2026, {"01-01", "04-06", "05-01", "05-14", "05-25", "07-21", "08-15", "11-01",
                      "11-11", "12-25"}},
        {"BE", 2027, {"01-01", "03-29", "05-01", "05-06", "05-17", "07-21", "08-15", "11-01",
                      "11-11", "12-25"}},
        {"CH", 2026, {"01-01", "04-03", "04-06", "05-14", "05-25", "08-01", "12-25", "12-26"}},
        {"CH", 2027, {"01-01", "03-26", "03-29", "05-06", "05-17", "08-01", "12-25", "12-26"}},
        /* Independence Day 2026 is a Saturday: observed Friday 3 July. */
        {"US", 2026, {"01-01", "01-19", "02-16", "05-25", "06-19", "07-03", "07-04", "09-07",
                      "10-12", "11-11", "11-26", "12-25"}},
        /* Juneteenth on Saturday, Independence Day on Sunday, Christmas on
         * Saturday, and 1 January 2028 on Saturday: observed 31 December. */
        {"US", 2027, {"01-01", "01-18", "02-15", "05-31", "06-18", "06-19", "07-04", "07-05",
                      "09-06", "10-11", "11-11", "11-25", "12-24", "12-25", "12-31"}},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        expect_holidays(table[i].country, table[i].year, table[i].days);
}

static void test_holiday_moves_and_one_offs(void **state)
{
    (void)state;
    /* 2022: New Year on Saturday, the Jubilee moves, the State Funeral,
     * Christmas on Sunday with its substitute after Boxing Day. */
    static const char *const gb2022[] = {"01-01", "01-03", "04-15", "04-18", "05-02",
                                         "06-02", "06-03", "08-29", "09-19", "12-25",
                                         "12-26", "12-27", NULL};
    expect_holidays("GB", 2022, gb2022);
    static const char *const us2021_end[] = {"01-01", "01-18", "02-15", "05-31", "06-18",
                                             "06-19", "07-04", "07-05", "09-06", "10-11",
                                             "11-11", "11-25", "12-24", "12-25", "12-31",
                                             NULL};
    expect_holidays("US", 2021, us2021_end);
    crm_holiday h[CRM_HOLIDAYS_MAX];
    size_t n = crm_holidays_year("US", 2027, h);
    assert_string_equal(h[n - 1].name, "New Year's Day (observed)");
    n = crm_holidays_year("GB", 2027, h);
    assert_string_equal(h[n - 1].name, "Boxing Day (substitute day)");
    assert_int_equal(crm_holidays_year("NL", 2026, h), 0);
    assert_false(crm_holidays_known("NL"));
    n = crm_holidays_year("FR", 2026, h);
    assert_string_equal(h[1].name, "Easter Monday");
    assert_string_equal(h[4].name, "Ascension Day");
    assert_string_equal(h[5].name, "Whit Monday");
}

/* ---- durations ----------------------------------------------------------- */

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        crm_duration_unit unit;
        int64_t amount;
        const char *canonical;
    } ok[] = {
        {"90m", CRM_DUR_OPEN, 5400, "1h30m"}, {"2h", CRM_DUR_OPEN, 7200, "2h"},
        {"1h30m", CRM_DUR_OPEN, 5400, "1h30m"}, {"45s", CRM_DUR_OPEN, 45, "45s"},
        {"2h15m30s", CRM_DUR_OPEN, 8130, "2h15m30s"}, {"7d", CRM_DUR_DAYS, 7, "7d"},
        {"15bd", CRM_DUR_BDAYS, 15, "15bd"}, {"0h", CRM_DUR_OPEN, 0, "0s"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        crm_duration d;
        crm_err err = {0};
        if (crm_duration_parse(ok[i].text, &d, &err) != CRM_OK)
            fail_msg("%s: %s", ok[i].text, err.msg);
        assert_int_equal(d.unit, ok[i].unit);
        assert_int_equal(d.amount, ok[i].amount);
        char buf[32];
        crm_duration_format(&d, buf, sizeof buf);
        assert_string_equal(buf, ok[i].canonical);
    }
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "empty"},          {"90", "unit is missing"},      {"2x", "unknown unit"},
        {"h", "number must come first"}, {"-2h", "negative"}, {"1h1h", "largest first"},
        {"30m1h", "largest first"}, {"1d2h", "cannot be combined"}, {"3days", "unknown unit"},
        {"99999999999h", "ten years"}, {"3661d", "ten years"}, {"2 h", "unknown unit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crm_duration d;
        crm_err err = {0};
        assert_int_equal(crm_duration_parse(bad[i].text, &d, &err), CRM_EINVAL);
        if (!strstr(err.msg, bad[i].why) || !strstr(err.msg, "is not a duration"))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].why);
    }
}

/* ---- opening hours ------------------------------------------------------- */

static void test_is_open(void **state)
{
    (void)state;
    assert_true(is_open("support", at(2026, 3, 2, 8, 0, 1)));      /* Monday */
    assert_false(is_open("support", at(2026, 3, 2, 8, 0, 1) - 1));
    assert_true(is_open("support", at(2026, 3, 2, 12, 30, 1) - 1));
    assert_false(is_open("support", at(2026, 3, 2, 12, 30, 1)));   /* lunch */
    assert_true(is_open("support", at(2026, 3, 2, 13, 30, 1)));
    assert_false(is_open("support", at(2026, 3, 2, 19, 0, 1)));
    assert_true(is_open("support", at(2026, 3, 7, 10, 0, 1)));     /* Saturday morning */
    assert_false(is_open("support", at(2026, 3, 7, 12, 0, 1)));
    assert_false(is_open("support", at(2026, 3, 8, 10, 0, 1)));    /* Sunday */
    assert_false(is_open("support", at(2026, 5, 1, 10, 0, 2)));    /* Labour Day */
    assert_false(is_open("support", at(2026, 12, 24, 10, 0, 1)));  /* extra */
    assert_false(is_open("support", at(2026, 8, 14, 10, 0, 2)));   /* closed */
    assert_true(is_open("support", at(2026, 8, 13, 10, 0, 2)));
}

static void test_days_and_reasons(void **state)
{
    (void)state;
    crm_calendar_day d;
    crm_err err = {0};
    assert_int_equal(crm_calendar_day_get(cal("support"), 2026, 3, 2, &d, &err), CRM_OK);
    assert_null(d.closed);
    assert_int_equal(d.weekday, 0);
    assert_int_equal(d.n_open, 2);
    assert_instant(at(2026, 3, 2, 8, 0, 1), d.open[0].start);
    assert_instant(at(2026, 3, 2, 12, 30, 1), d.open[0].end);
    assert_instant(at(2026, 3, 2, 13, 30, 1), d.open[1].start);
    assert_instant(at(2026, 3, 2, 19, 0, 1), d.open[1].end);
    assert_int_equal(crm_calendar_day_get(cal("support"), 2026, 5, 1, &d, &err), CRM_OK);
    assert_string_equal(d.closed, "Labour Day");
    assert_int_equal(d.n_open, 0);
    assert_int_equal(crm_calendar_day_get(cal("support"), 2026, 12, 24, &d, &err), CRM_OK);
    assert_string_equal(d.closed, "extra holiday");
    assert_int_equal(crm_calendar_day_get(cal("support"), 2026, 8, 14, &d, &err), CRM_OK);
    assert_string_equal(d.closed, "closed");
    assert_int_equal(crm_calendar_day_get(cal("support"), 2026, 2, 29, &d, &err), CRM_EINVAL);
    assert_int_equal(crm_calendar_day_get(cal("support"), 2250, 1, 1, &d, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "outside the years"));
}

/* ---- adding open time ---------------------------------------------------- */

static void test_add_open_time(void **state)
{
    (void)state;
    /* The lunch break is skipped: 12:00 + 1h = 30 min, then 13:30 + 30 min. */
    assert_instant(at(2026, 3, 2, 14, 0, 1), add("support", at(2026, 3, 2, 12, 0, 1), "1h"));
    assert_instant(at(2026, 3, 2, 14, 0, 1), add("support", at(2026, 3, 2, 12, 0, 1), "60m"));
    /* Ending exactly at closing time gives the closing time. */
    assert_instant(at(2026, 3, 2, 19, 0, 1), add("support", at(2026, 3, 2, 18, 0, 1), "1h"));
    /* Friday evening into Saturday morning. */
    assert_instant(at(2026, 3, 7, 10, 0, 1), add("support", at(2026, 3, 6, 18, 0, 1), "2h"));
    /* Saturday 11:30 over Sunday: 30 min, then Monday 08:00 + 1h30. */
    assert_instant(at(2026, 3, 9, 9, 30, 1), add("support", at(2026, 3, 7, 11, 30, 1), "2h"));
    /* From a closed instant the count starts at the next opening. */
    assert_instant(at(2026, 3, 9, 8, 45, 1), add("support", at(2026, 3, 8, 15, 0, 1), "45m"));
    assert_instant(at(2026, 3, 2, 8, 0, 1) + 45 * 60 + 30,
                   add("support", at(2026, 3, 2, 7, 0, 1), "45m30s"));
    /* A week: Monday to Friday 10 h a day, Saturday 3 h. */
    int64_t mon = at(2026, 3, 2, 8, 0, 1);
    assert_instant(at(2026, 3, 5, 19, 0, 1), add("support", mon, "40h"));
    assert_instant(at(2026, 3, 6, 9, 0, 1), add("support", mon, "41h"));
    assert_instant(at(2026, 3, 7, 10, 0, 1), add("support", mon, "51h"));
    assert_instant(at(2026, 3, 7, 12, 0, 1), add("support", mon, "53h"));
    assert_instant(at(2026, 3, 9, 9, 0, 1), add("support", mon, "54h"));
    assert_instant(mon, add("support", mon, "0h"));
}

static void test_add_across_dst(void **state)
{
    (void)state;
    /* Friday 27 March 18:30 CET + 5h: 30 min, Saturday 3 h, Monday 30 at
     * 08:00 CEST + 1h30 -> 09:30 CEST, 07:30Z (not 08:30Z). */
    assert_instant(at(2026, 3, 30, 9, 30, 2), add("support", at(2026, 3, 27, 18, 30, 1), "5h"));
    /* Friday 23 October 18:30 CEST + 5h -> Monday 26 09:30 CET, 08:30Z. */
    assert_instant(at(2026, 10, 26, 9, 30, 1),
                   add("support", at(2026, 10, 23, 18, 30, 2), "5h"));
    /* Open round the clock: 3 open hours from 01:00 CET on 29 March are
     * three real hours, ending at 05:00 CEST (four hours on the wall). */
    assert_instant(at(2026, 3, 29, 5, 0, 2), add("allday", at(2026, 3, 29, 1, 0, 1), "3h"));
    /* A clock spanning the changes: Sunday 01:00-04:00 is 2 h on 29 March
     * and 4 h on 25 October. */
    assert_instant(at(2026, 4, 5, 1, 30, 2), add("night", at(2026, 3, 28, 12, 0, 1), "2h30m"));
    assert_instant(at(2026, 10, 25, 3, 30, 1),
                   add("night", at(2026, 10, 24, 12, 0, 2), "3h30m"));
    /* In New York, DST starts on 8 March. */
    assert_instant(at(2026, 3, 9, 10, 0, -4), add("ny", at(2026, 3, 6, 10, 0, -5), "1bd"));
}

static void test_add_year_end_and_leap_day(void **state)
{
    (void)state;
    /* Thursday 31 December 18:00 + 3h: 1 h, 1 January is a holiday, then
     * Saturday 2 January 09:00 + 2 h. */
    assert_instant(at(2027, 1, 2, 11, 0, 1), add("support", at(2026, 12, 31, 18, 0, 1), "3h"));
    /* 1bd: Saturday 2 January 18:00 is closed, so Monday 4 January 08:00. */
    assert_instant(at(2027, 1, 4, 8, 0, 1), add("support", at(2026, 12, 31, 18, 0, 1), "1bd"));
    /* Monday 28 February 2028 18:30 + 1h: 30 min, then Tuesday 29 08:30. */
    assert_instant(at(2028, 2, 29, 8, 30, 1), add("support", at(2028, 2, 28, 18, 30, 1), "1h"));
    assert_instant(at(2028, 2, 29, 10, 0, 1), add("support", at(2028, 2, 28, 10, 0, 1), "1bd"));
    assert_instant(at(2028, 3, 1, 10, 0, 1), add("support", at(2028, 2, 28, 10, 0, 1), "2d"));
    /* The US observe 4 July 2026 (a Saturday) on Friday 3 July. */
    assert_instant(at(2026, 7, 6, 9, 30, -4), add("ny", at(2026, 7, 2, 16, 30, -4), "1h"));
}

static void test_business_days(void **state)
{
    (void)state;
    assert_instant(at(2026, 3, 3, 10, 0, 1), add("support", at(2026, 3, 2, 10, 0, 1), "1bd"));
    /* Saturday is an open day of this calendar, Sunday is not. */
    assert_instant(at(2026, 3, 7, 10, 0, 1), add("support", at(2026, 3, 6, 10, 0, 1), "1bd"));
    assert_instant(at(2026, 3, 9, 10, 0, 1), add("support", at(2026, 3, 6, 10, 0, 1), "2bd"));
    assert_instant(at(2026, 3, 9, 10, 0, 1), add("support", at(2026, 3, 8, 10, 0, 1), "1bd"));
    /* 15 open days from Monday 2 March: Tuesday 3 to Thursday 19. */
    assert_instant(at(2026, 3, 19, 10, 0, 1), add("support", at(2026, 3, 2, 10, 0, 1), "15bd"));
    /* Landing on a closed instant moves to the next opening: Thursday
     * 7 May 18:00 + 1bd skips Friday 8 May (a holiday) to Saturday 18:00,
     * closed, so Monday 11 May 08:00. */
    assert_instant(at(2026, 5, 11, 8, 0, 2), add("support", at(2026, 5, 7, 18, 0, 2), "1bd"));
    /* Landing in the lunch break: the afternoon opening. */
    assert_instant(at(2026, 3, 3, 13, 30, 1), add("support", at(2026, 3, 2, 12, 45, 1), "1bd"));
    /* Across the spring change the wall-clock time is kept. */
    assert_instant(at(2026, 3, 30, 10, 0, 2), add("support", at(2026, 3, 27, 10, 0, 1), "2bd"));
    /* Calendar days keep the wall-clock time too; without a calendar they are 24 h. */
    assert_instant(at(2026, 4, 1, 10, 0, 2), add("support", at(2026, 3, 25, 10, 0, 1), "7d"));
    int64_t t = at(2026, 3, 25, 10, 0, 1);
    assert_instant(t + 7 * 86400, add(NULL, t, "7d"));
    assert_instant(t + 2 * 86400, add(NULL, t, "2bd"));
    assert_instant(t + 7200, add(NULL, t, "2h"));
}

static void test_next_open(void **state)
{
    (void)state;
    assert_instant(at(2026, 3, 9, 8, 0, 1), next_open("support", at(2026, 3, 8, 15, 0, 1)));
    assert_instant(at(2026, 3, 2, 10, 0, 1), next_open("support", at(2026, 3, 2, 10, 0, 1)));
    assert_instant(at(2026, 3, 2, 13, 30, 1), next_open("support", at(2026, 3, 2, 12, 30, 1)));
    /* Thursday 7 May after hours: Friday is a holiday, Saturday opens at 09:00. */
    assert_instant(at(2026, 5, 9, 9, 0, 2), next_open("support", at(2026, 5, 7, 19, 30, 2)));
    int64_t out;
    crm_err err = {0};
    assert_int_equal(crm_calendar_next_open(NULL, 42, &out, &err), CRM_OK);
    assert_int_equal(out, 42);
}

/* A whole year, against a count made here from the weekday and the
 * hand-written holiday dates. */
static void test_between(void **state)
{
    (void)state;
    int64_t a = at(2026, 3, 27, 18, 30, 1), b = at(2026, 3, 30, 9, 30, 2);
    assert_int_equal(between("support", a, b), 5 * 3600);
    assert_int_equal(between("support", b, a), -5 * 3600);
    assert_int_equal(between("support", a, a), 0);
    assert_int_equal(between("support", at(2026, 3, 2, 0, 0, 1), at(2026, 3, 9, 0, 0, 1)),
                     53 * 3600);
    assert_int_equal(between("support", at(2026, 12, 28, 0, 0, 1), at(2027, 1, 4, 0, 0, 1)),
                     43 * 3600);
    assert_int_equal(between("support", at(2026, 3, 2, 12, 0, 1), at(2026, 3, 2, 14, 0, 1)),
                     3600);
    static const char *const closed[] = {"01-01", "04-06", "05-01", "05-08", "05-14",
                                         "05-25", "07-14", "08-14", "08-15", "11-01",
                                         "11-11", "12-24", "12-25", NULL};
    int64_t expected = 0;
    for (int64_t t = at(2026, 1, 1, 12, 0, 0); t < at(2027, 1, 1, 0, 0, 0); t += 86400) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char md[8];
        strftime(md, sizeof md, "%m-%d", &tm);
        bool holiday = false;
        for (size_t i = 0; closed[i]; i++)
            holiday |= strcmp(md, closed[i]) == 0;
        if (!holiday)
            expected += tm.tm_wday == 0 ? 0 : tm.tm_wday == 6 ? 3 * 3600 : 10 * 3600;
    }
    assert_int_equal(between("support", at(2026, 1, 1, 0, 0, 1), at(2027, 1, 1, 0, 0, 1)),
                     expected);
    /* Round the clock, the spring day has 23 hours and the autumn one 25. */
    assert_int_equal(between("allday", at(2026, 3, 29, 0, 0, 1), at(2026, 3, 30, 0, 0, 2)),
                     23 * 3600);
    assert_int_equal(between("allday", at(2026, 10, 25, 0, 0, 2), at(2026, 10, 26, 0, 0, 1)),
                     25 * 3600);
    int64_t out;
    crm_err err = {0};
    assert_int_equal(crm_calendar_between(NULL, 10, 70, &out, &err), CRM_OK);
    assert_int_equal(out, 60);
}

static void test_dst_days(void **state)
{
    (void)state;
    crm_calendar_day d;
    crm_err err = {0};
    /* 01:00-04:00 on 29 March: 01:00-02:00 CET then 03:00-04:00 CEST, which
     * touch in UTC: 00:00Z-02:00Z. */
    assert_int_equal(crm_calendar_day_get(cal("night"), 2026, 3, 29, &d, &err), CRM_OK);
    assert_int_equal(d.n_open, 1);
    assert_instant(at(2026, 3, 29, 1, 0, 1), d.open[0].start);
    assert_instant(at(2026, 3, 29, 4, 0, 2), d.open[0].end);
    assert_int_equal(d.open[0].end - d.open[0].start, 2 * 3600);
    /* On 25 October 02:00-03:00 is read twice: 4 open hours. */
    assert_int_equal(crm_calendar_day_get(cal("night"), 2026, 10, 25, &d, &err), CRM_OK);
    assert_int_equal(d.n_open, 1);
    assert_instant(at(2026, 10, 25, 1, 0, 2), d.open[0].start);
    assert_instant(at(2026, 10, 25, 4, 0, 1), d.open[0].end);
    assert_int_equal(crm_calendar_day_get(cal("night"), 2026, 3, 22, &d, &err), CRM_OK);
    assert_int_equal(d.open[0].end - d.open[0].start, 3 * 3600);
    assert_int_equal(crm_calendar_day_get(cal("allday"), 2026, 3, 29, &d, &err), CRM_OK);
    assert_instant(at(2026, 3, 29, 0, 0, 1), d.open[0].start);
    assert_instant(at(2026, 3, 30, 0, 0, 2), d.open[0].end);
}

static void test_local_time_and_parsing(void **state)
{
    (void)state;
    const crm_calendar *c = cal("support");
    char buf[40];
    crm_calendar_format(c, at(2026, 3, 30, 9, 30, 2), buf, sizeof buf);
    assert_string_equal(buf, "2026-03-30T09:30:00+02:00");
    crm_calendar_format(cal("ny"), at(2026, 1, 5, 9, 0, -5), buf, sizeof buf);
    assert_string_equal(buf, "2026-01-05T09:00:00-05:00");
    crm_calendar_format(NULL, 0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00+00:00");
    crm_local_time lt;
    crm_calendar_local(c, at(2028, 2, 29, 23, 59, 1), &lt);
    assert_int_equal(lt.year, 2028);
    assert_int_equal(lt.month, 2);
    assert_int_equal(lt.day, 29);
    assert_int_equal(lt.hour, 23);
    assert_int_equal(lt.weekday, 1);
    assert_int_equal(lt.utc_offset, 3600);
    assert_instant(at(2026, 10, 25, 2, 30, 2), crm_calendar_from_local(c, 2026, 10, 25, 2, 30, 0));
    int64_t t;
    crm_err err = {0};
    assert_int_equal(crm_calendar_parse_time(c, "DATETIME", "2026-07-01T10:00", 0, &t, &err),
                     CRM_OK);
    assert_instant(at(2026, 7, 1, 10, 0, 2), t);
    assert_int_equal(crm_calendar_parse_time(c, "DATETIME", "2026-07-01", 0, &t, &err), CRM_OK);
    assert_instant(at(2026, 7, 1, 0, 0, 2), t);
    assert_int_equal(crm_calendar_parse_time(c, "DATETIME", "2026-07-01T10:00Z", 0, &t, &err),
                     CRM_OK);
    assert_instant(at(2026, 7, 1, 10, 0, 0), t);
    assert_int_equal(
        crm_calendar_parse_time(c, "DATETIME", "2026-07-01T10:00-04:00", 0, &t, &err), CRM_OK);
    assert_instant(at(2026, 7, 1, 10, 0, -4), t);
    assert_int_equal(crm_calendar_parse_time(c, "DATETIME", "now", 1234, &t, &err), CRM_OK);
    assert_int_equal(t, 1234);
    assert_int_equal(crm_calendar_parse_time(c, "DATETIME", "2026-13-01", 0, &t, &err),
                     CRM_EINVAL);
}

/* ---- configuration ------------------------------------------------------- */

static void test_default_calendar_follows_locale(void **state)
{
    (void)state;
    crm_config *c = load("locale:\n  country: BE\n  timezone: Europe/Brussels\n");
    const crm_calendar *d = crm_calendar_find(c, NULL);
    assert_non_null(d);
    assert_string_equal(crm_calendar_name(d), "default");
    assert_string_equal(crm_calendar_timezone(d), "Europe/Brussels");
    assert_string_equal(crm_calendar_country(d), "BE");
    assert_ptr_equal(crm_calendar_find(c, "default"), d);
    assert_null(crm_calendar_find(c, "support"));
    const crm_calendar_hours *h;
    assert_int_equal(crm_calendar_weekly(d, 0, &h), 1);
    assert_int_equal(h[0].start, 9 * 3600);
    assert_int_equal(h[0].end, 18 * 3600);
    assert_int_equal(crm_calendar_weekly(d, 5, &h), 0);
    crm_calendar_day day;
    crm_err err = {0};
    assert_int_equal(crm_calendar_day_get(d, 2026, 7, 21, &day, &err), CRM_OK);
    assert_string_equal(day.closed, "Belgian National Day");
    crm_config_free(c);
    /* A locale country without known holidays gives a calendar without them. */
    c = load("locale:\n  country: NL\n  timezone: Europe/Amsterdam\n");
    assert_string_equal(crm_calendar_country(crm_calendar_find(c, NULL)), "");
    crm_config_free(c);
    /* Built-in defaults and a user-defined `default`. */
    c = crm_config_defaults();
    assert_string_equal(crm_calendar_timezone(crm_calendar_find(c, NULL)), "Europe/Paris");
    crm_config_free(c);
    c = load("calendars:\n  default: {hours: {mon-sat: [\"10:00-19:00\"]}}\n"
             "  shop: {holidays: {extra: [12-24]}}\n");
    size_t n;
    const crm_calendar *const *all = crm_calendar_all(c, &n);
    assert_int_equal(n, 2);
    assert_string_equal(crm_calendar_name(all[0]), "default");
    assert_int_equal(crm_calendar_weekly(all[0], 5, &h), 1);
    assert_string_equal(crm_calendar_timezone(all[1]), "Europe/Paris");
    assert_string_equal(crm_calendar_country(all[1]), "FR");
    /* An every-year extra holiday. */
    assert_int_equal(crm_calendar_day_get(all[1], 2030, 12, 24, &day, &err), CRM_OK);
    assert_string_equal(day.closed, "extra holiday");
    crm_config_free(c);
}

static void test_hours_shapes(void **state)
{
    (void)state;
    crm_config *c = load("calendars:\n"
                         "  shifts:\n"
                         "    hours:\n"
                         "      fri-mon: 10:00-12:00\n"
                         "      tue: [\"14:00-18:00\", \"06:00-09:00\", \"09:00-10:00\"]\n"
                         "      wed: []\n");
    const crm_calendar *s = crm_calendar_find(c, "shifts");
    const crm_calendar_hours *h;
    for (int d = 0; d < 7; d++)
        assert_int_equal(crm_calendar_weekly(s, d, &h), d == 1 ? 2 : d == 2 || d == 3 ? 0 : 1);
    crm_calendar_weekly(s, 1, &h); /* sorted, touching intervals merged */
    assert_int_equal(h[0].start, 6 * 3600);
    assert_int_equal(h[0].end, 10 * 3600);
    assert_int_equal(h[1].start, 14 * 3600);
    crm_config_free(c);
}

static void test_config_errors(void **state)
{
    (void)state;
    load_fails("calendars:\n  support:\n    timezon: Europe/Paris\n",
               "t.yaml:3:5: unknown key 'timezon' in 'calendars.support'",
               "did you mean 'timezone'?");
    load_fails("calendars:\n  support:\n    timezone: Europe/Pariss\n",
               "t.yaml:3:5: calendars.support.timezone: unknown time zone 'Europe/Pariss'",
               "did you mean 'Europe/Paris'?");
    load_fails("locale:\n  timezone: Mars/Olympus\n",
               "t.yaml:2:3: locale.timezone: unknown time zone 'Mars/Olympus'", NULL);
    load_fails("calendars:\n  s:\n    hours:\n      mon: [\"8-12\"]\n",
               "t.yaml:4:13: calendars.s.hours.mon[0]: expected an interval HH:MM-HH:MM", NULL);
    load_fails("calendars:\n  s:\n    hours:\n      mon: [\"18:00-09:00\"]\n",
               "t.yaml:4:13: calendars.s.hours.mon[0]: '18:00-09:00' ends before it starts",
               NULL);
    load_fails("calendars:\n  s:\n    hours:\n      mon: [\"09:00-24:30\"]\n",
               "t.yaml:4:13: calendars.s.hours.mon[0]: expected an interval", NULL);
    load_fails("calendars:\n  s:\n    hours:\n      mon-fri: [\"08:00-12:30\", \"12:00-14:00\"]\n",
               "t.yaml:4:32: calendars.s.hours.mon-fri: '08:00-12:30' and '12:00-14:00' overlap",
               NULL);
    load_fails("calendars:\n  s:\n    hours:\n      mon-fri: [\"08:00-12:00\"]\n"
               "      wed: [\"13:00-14:00\"]\n",
               "t.yaml:5:7: calendars.s.hours: wed is already given by 'mon-fri' (line 4)",
               NULL);
    load_fails("calendars:\n  s:\n    hours:\n      monday: [\"08:00-12:00\"]\n",
               "t.yaml:4:7: calendars.s.hours: 'monday' is not a day", "mon-fri");
    load_fails("calendars:\n  s:\n    hours: {mon: []}\n",
               "t.yaml:3:5: calendars.s.hours: the calendar is never open", NULL);
    load_fails("calendars:\n  s:\n    holidays: {country: NL}\n",
               "t.yaml:3:16: calendars.s.holidays.country: no public holidays known for 'NL'",
               "BE, CH, DE, ES, FR, GB, IT, US");
    load_fails("calendars:\n  s:\n    holidays: {country: uk}\n",
               "t.yaml:3:16: calendars.s.holidays.country: unknown holiday country 'uk'",
               "did you mean 'GB'?");
    load_fails("calendars:\n  s:\n    holidays:\n      extra: [2026-02-30]\n",
               "t.yaml:4:15: calendars.s.holidays.extra[0]: expected a date YYYY-MM-DD", NULL);
    load_fails("calendars:\n  s:\n    holidays:\n      closed: [12-24]\n",
               "t.yaml:4:16: calendars.s.holidays.closed[0]: expected a date YYYY-MM-DD", NULL);
    load_fails("calendars:\n  s:\n    holidays:\n      extra: [2026-12-24, 2026-12-24]\n",
               "t.yaml:4:27: calendars.s.holidays.extra[1]: '2026-12-24' is listed twice", NULL);
    load_fails("calendars:\n  s:\n    holidays: {countries: FR}\n",
               "t.yaml:3:16: unknown key 'countries' in 'calendars.s.holidays'",
               "did you mean 'country'?");
    load_fails("calendars: [support]\n", "t.yaml:1:1: calendars: expected a map", NULL);
    load_fails("calendars:\n  Support: {}\n", "t.yaml:2:3: calendar name 'Support'", NULL);
}

/* ---- threads ------------------------------------------------------------- */

typedef struct worker {
    const crm_calendar *cal;
    int64_t sum;
    int rc;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    crm_duration d = {CRM_DUR_OPEN, 2 * 3600};
    for (int i = 0; i < 2000 && w->rc == CRM_OK; i++) {
        int64_t out;
        w->rc = crm_calendar_add(w->cal, at(2030, 1, 1, 0, 0, 0) + (int64_t)i * 86400 * 3, &d,
                                 &out, NULL);
        w->sum += out;
    }
    return NULL;
}

/* Four threads filling the same fresh cache get the results one thread gets. */
static void test_threads_share_a_calendar(void **state)
{
    (void)state;
    crm_config *c = load(calendars_yaml);
    worker w[4] = {{0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i].cal = crm_calendar_find(c, "support");
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    worker alone = {crm_calendar_find(cfg, "support"), 0, CRM_OK};
    work(&alone);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(w[i].rc, CRM_OK);
        assert_int_equal(w[i].sum, alone.sum);
    }
    crm_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_matches_glibc),
        cmocka_unit_test(test_tz_from_local),
        cmocka_unit_test(test_tz_refusals),
        cmocka_unit_test(test_easter),
        cmocka_unit_test(test_holidays_2026_2027),
        cmocka_unit_test(test_holiday_moves_and_one_offs),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_is_open),
        cmocka_unit_test(test_days_and_reasons),
        cmocka_unit_test(test_add_open_time),
        cmocka_unit_test(test_add_across_dst),
        cmocka_unit_test(test_add_year_end_and_leap_day),
        cmocka_unit_test(test_business_days),
        cmocka_unit_test(test_next_open),
        cmocka_unit_test(test_between),
        cmocka_unit_test(test_dst_days),
        cmocka_unit_test(test_local_time_and_parsing),
        cmocka_unit_test(test_default_calendar_follows_locale),
        cmocka_unit_test(test_hours_shapes),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_threads_share_a_calendar),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

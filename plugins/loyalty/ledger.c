/* loyalty plugin — the ledger's arithmetic (see ledger.h): integer
 * rounding, FIFO draws, proportional reversals, tier decisions and windows. */
#include "ledger.h"

#define DAY 86400

int loy_div_round(int64_t num, int64_t den, int64_t *out)
{
    if (den <= 0)
        return -1;
    /* |num| / den rounded half up, then the sign back: half away from zero */
    uint64_t a = num < 0 ? (uint64_t)0 - (uint64_t)num : (uint64_t)num;
    uint64_t q = a / (uint64_t)den, r = a % (uint64_t)den;
    if (r >= (uint64_t)den - r)
        q++;
    *out = num < 0 ? -(int64_t)q : (int64_t)q;
    return 0;
}

int loy_order_points(int64_t amount, int64_t per, int64_t points, int64_t mult_milli,
                     int64_t *out)
{
    int64_t num, den;
    if (per <= 0 || __builtin_mul_overflow(amount, points, &num) ||
        __builtin_mul_overflow(num, mult_milli, &num) || __builtin_mul_overflow(per, 1000, &den))
        return -1;
    return loy_div_round(num, den, out);
}

int64_t loy_fifo_take(const int64_t *remaining, size_t n, int64_t want, int64_t *take)
{
    int64_t got = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t = want - got;
        if (t > remaining[i])
            t = remaining[i];
        if (t < 0)
            t = 0;
        take[i] = t;
        got += t;
    }
    return got;
}

int64_t loy_reversal_target(int64_t points, int64_t refunded, int64_t total)
{
    if (total <= 0 || refunded >= total)
        return points;
    if (refunded <= 0)
        return 0;
    int64_t num, r;
    if (__builtin_mul_overflow(points, refunded, &num) || loy_div_round(num, total, &r) != 0)
        return points;
    return r < 0 ? 0 : r > points ? points : r;
}

size_t loy_tier_qualified(const int64_t *mins, size_t n, int64_t value)
{
    size_t q = 0;
    for (size_t i = 0; i < n; i++)
        if (mins[i] <= value)
            q = i;
    return q;
}

size_t loy_tier_decide(size_t current, size_t qualified, int64_t now, int64_t grace,
                       loy_downgrade policy, int64_t *grace_until)
{
    if (qualified >= current) {
        *grace_until = 0;
        return qualified;
    }
    if (!*grace_until) {
        *grace_until = now + grace;
        if (grace > 0)
            return current;
    }
    if (now < *grace_until)
        return current;
    size_t next = policy == LOY_TO_QUALIFIED ? qualified : current - 1;
    /* still above what the window supports: another grace before the next step */
    *grace_until = next > qualified ? now + grace : 0;
    return next;
}

int64_t loy_vip_size(int64_t n, int64_t percent)
{
    if (n <= 0 || percent <= 0)
        return 0;
    int64_t k = (n * percent + 99) / 100;
    return k < 1 ? 1 : k > n ? n : k;
}

/* ---- civil dates (proleptic Gregorian, UTC), after H. Hinnant's algorithms */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_day(int64_t t)
{
    return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

static int leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* joined's month and day in year y, at joined's time of day. */
static int64_t anniversary_in(int64_t joined, int64_t y)
{
    int64_t jy;
    int m, d;
    int64_t jd = floor_day(joined);
    civil_from_days(jd, &jy, &m, &d);
    if (m == 2 && d == 29 && !leap(y))
        d = 28;
    return days_from_civil(y, m, d) * DAY + (joined - jd * DAY);
}

int64_t loy_window_start(loy_window w, int64_t now, int64_t joined)
{
    int64_t y;
    int m, d;
    civil_from_days(floor_day(now), &y, &m, &d);
    switch (w) {
    case LOY_CALENDAR_YEAR:
        return days_from_civil(y, 1, 1) * DAY;
    case LOY_ANNIVERSARY: {
        int64_t a = anniversary_in(joined, y);
        return a <= now ? a : anniversary_in(joined, y - 1);
    }
    case LOY_ROLLING_12_MONTHS:
    default:
        return now - 365 * (int64_t)DAY;
    }
}

int64_t loy_window_end(loy_window w, int64_t now, int64_t joined)
{
    int64_t y;
    int m, d;
    civil_from_days(floor_day(now), &y, &m, &d);
    switch (w) {
    case LOY_CALENDAR_YEAR:
        return days_from_civil(y + 1, 1, 1) * DAY;
    case LOY_ANNIVERSARY: {
        int64_t a = anniversary_in(joined, y);
        return a > now ? a : anniversary_in(joined, y + 1);
    }
    case LOY_ROLLING_12_MONTHS:
    default:
        return 0;
    }
}

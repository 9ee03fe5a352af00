/* loyalty plugin — the ledger's arithmetic, pure (no SDK): testable alone.
 *
 * Points are whole numbers. Every rounding is half away from zero, in
 * integer arithmetic: money is minor units, multipliers are thousandths. */
#ifndef LOY_LEDGER_H
#define LOY_LEDGER_H

#include <stddef.h>
#include <stdint.h>

/* Tier downgrade policies (tiers.downgrade). */
typedef enum loy_downgrade { LOY_ONE_DOWN = 0, LOY_TO_QUALIFIED = 1 } loy_downgrade;

/* Tier windows (tiers.window, vip_club.window). */
typedef enum loy_window {
    LOY_ROLLING_12_MONTHS = 0,
    LOY_CALENDAR_YEAR = 1,
    LOY_ANNIVERSARY = 2
} loy_window;

/* num / den rounded half away from zero into *out. den > 0. Returns 0, or
 * -1 when den <= 0. */
int loy_div_round(int64_t num, int64_t den, int64_t *out);

/* The points an order of `amount` minor units earns under "per `per` minor
 * units, `points` points", times mult_milli / 1000 (the tier multiplier),
 * rounded half away from zero. Returns 0, or -1 on overflow or per <= 0. */
int loy_order_points(int64_t amount, int64_t per, int64_t points, int64_t mult_milli,
                     int64_t *out);

/* FIFO draw: takes up to `want` points from lots whose remaining points are
 * remaining[0..n) (already in consumption order: oldest expiry first),
 * writing each lot's share into take[0..n). Returns the points taken
 * (less than want when the lots do not hold enough). */
int64_t loy_fifo_take(const int64_t *remaining, size_t n, int64_t want, int64_t *take);

/* How many of a lot's `points` a cumulative refund of `refunded` out of an
 * order's `total` reverses: points * refunded / total rounded half away
 * from zero, within [0, points]. total <= 0 reverses everything. */
int64_t loy_reversal_target(int64_t points, int64_t refunded, int64_t total);

/* The highest level i of mins[0..n) (ascending) with mins[i] <= value; 0
 * when none (the first level is the floor). */
size_t loy_tier_qualified(const int64_t *mins, size_t n, int64_t value);

/* One tier decision. current and qualified are level indexes; *grace_until
 * is 0 when no downgrade is pending, else when it happens. A qualified tier
 * at or above the current one takes effect at once and clears the grace; a
 * lower one starts a grace of `grace` seconds, and once it is over moves
 * down by the policy (one level, or to the qualified level; a new grace
 * starts when one level down is still above the qualified level). Returns
 * the new level and updates *grace_until. */
size_t loy_tier_decide(size_t current, size_t qualified, int64_t now, int64_t grace,
                       loy_downgrade policy, int64_t *grace_until);

/* The number of members of a top-`percent` club among n ranked customers:
 * ceil(n * percent / 100), at least 1 when n > 0 and percent > 0. */
int64_t loy_vip_size(int64_t n, int64_t percent);

/* The start of the window containing `now` (UTC): rolling -> now - 365 days;
 * calendar_year -> 1 January 00:00 of now's year; anniversary -> the latest
 * anniversary of `joined` at or before now (29 February -> 28 February). */
int64_t loy_window_start(loy_window w, int64_t now, int64_t joined);

/* When the window containing `now` ends (the next boundary a tier timer
 * waits for): rolling -> never (0: the caller uses the oldest counted
 * order's 365th day); calendar_year -> next 1 January; anniversary -> the
 * next anniversary of `joined` after now. */
int64_t loy_window_end(loy_window w, int64_t now, int64_t joined);

#endif

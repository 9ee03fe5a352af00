/* segmentation plugin — churn risk as a points score with its reasons.
 *
 * Pure computation: the caller gathers a contact's facts (orders, email
 * engagement, behaviour signals) and the configured weights; this file turns
 * them into points, each with a reason a person can read. */
#ifndef SEG_CHURN_H
#define SEG_CHURN_H

#include <stddef.h>
#include <stdint.h>

#define SEG_CHURN_MAX_SIGNALS 16
#define SEG_CHURN_MAX_REASONS (SEG_CHURN_MAX_SIGNALS + 4)
#define SEG_CHURN_MAX_LEVELS 4

/* A behaviour signal: an interaction on `channel` ("" = any) whose subject
 * contains `match` (ASCII case-insensitive), e.g. a visit to /returns. */
typedef struct seg_churn_signal {
    char name[48];
    char channel[16];
    char match[64];
    int64_t points; /* per occurrence in the window */
    int64_t cap;    /* at most this many points from the signal; 0 = no cap */
} seg_churn_signal;

typedef struct seg_churn_config {
    /* Inactivity: points per whole week past the contact's usual purchase
     * cycle, capped. The cycle is the median gap between its orders, or
     * default_cycle_days when it has fewer than two. */
    int64_t inactivity_points_per_week; /* default 5 */
    int64_t inactivity_cap;             /* default 50 */
    int64_t default_cycle_days;         /* default 60 */
    /* Low engagement: at least min_emails emails sent in the window with
     * opens/clicks under min_engagement_pct percent of them. */
    int64_t low_engagement_points; /* default 20 */
    int64_t min_emails;            /* default 3 */
    int64_t min_engagement_pct;    /* default 10 */
    int64_t window_days;           /* engagement and signals look back; default 90 */
    seg_churn_signal signals[SEG_CHURN_MAX_SIGNALS];
    size_t nsignals;
    /* Risk levels: crossing levels[i] upwards raises churn.risk_raised. */
    int64_t levels[SEG_CHURN_MAX_LEVELS]; /* ascending; default {40, 70} */
    size_t nlevels;
} seg_churn_config;

/* The documented defaults, with two signals: returns_page, cancel_page. */
void seg_churn_config_default(seg_churn_config *cfg);

/* One contact's facts as of T. */
typedef struct seg_churn_input {
    int64_t orders;             /* qualifying orders, all history */
    int64_t days_since_last;    /* since the last one; ignored when orders == 0 */
    int64_t cycle_days;         /* median gap; <= 0 means unknown (use default) */
    int64_t emails_sent;        /* in the window */
    int64_t emails_engaged;     /* opens or clicks recorded in the window */
    int64_t signal_counts[SEG_CHURN_MAX_SIGNALS]; /* by config signal index */
} seg_churn_input;

typedef struct seg_churn_reason {
    char code[64];    /* "inactivity", "low_engagement", "signal:returns_page" */
    int64_t points;
    char text[160];   /* "9 weeks past the usual 30-day cycle" */
} seg_churn_reason;

typedef struct seg_churn_result {
    int64_t score;
    int level; /* how many configured levels the score reaches */
    seg_churn_reason reasons[SEG_CHURN_MAX_REASONS];
    size_t nreasons;
} seg_churn_result;

/* Scores one contact. Every point in `out->score` comes from one reason. */
void seg_churn_score(const seg_churn_config *cfg, const seg_churn_input *in,
                     seg_churn_result *out);

/* The number of levels `score` reaches. */
int seg_churn_level(const seg_churn_config *cfg, int64_t score);

/* Whether an interaction (channel, subject; subject may be NULL) is the
 * signal `sig`. */
int seg_churn_signal_matches(const seg_churn_signal *sig, const char *channel,
                             const char *subject);

/* The median of `n` gaps (sorted in place); 0 when n == 0. */
int64_t seg_median(int64_t *v, size_t n);

#endif

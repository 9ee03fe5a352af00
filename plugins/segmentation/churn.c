/* segmentation plugin — churn risk points and reasons. */
#include "churn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_signal(seg_churn_config *cfg, const char *name, const char *channel,
                       const char *match, int64_t points, int64_t cap)
{
    if (cfg->nsignals >= SEG_CHURN_MAX_SIGNALS)
        return;
    seg_churn_signal *s = &cfg->signals[cfg->nsignals++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->channel, sizeof s->channel, "%s", channel);
    snprintf(s->match, sizeof s->match, "%s", match);
    s->points = points;
    s->cap = cap;
}

void seg_churn_config_default(seg_churn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->inactivity_points_per_week = 5;
    cfg->inactivity_cap = 50;
    cfg->default_cycle_days = 60;
    cfg->low_engagement_points = 20;
    cfg->min_emails = 3;
    cfg->min_engagement_pct = 10;
    cfg->window_days = 90;
    add_signal(cfg, "returns_page", "web", "/returns", 10, 20);
    add_signal(cfg, "cancel_page", "web", "/cancel", 25, 25);
    cfg->levels[0] = 40;
    cfg->levels[1] = 70;
    cfg->nlevels = 2;
}

static seg_churn_reason *reason(seg_churn_result *out)
{
    if (out->nreasons >= SEG_CHURN_MAX_REASONS)
        return NULL;
    seg_churn_reason *r = &out->reasons[out->nreasons++];
    memset(r, 0, sizeof *r);
    return r;
}

int seg_churn_level(const seg_churn_config *cfg, int64_t score)
{
    int level = 0;
    for (size_t i = 0; i < cfg->nlevels; i++)
        if (score >= cfg->levels[i])
            level = (int)i + 1;
    return level;
}

void seg_churn_score(const seg_churn_config *cfg, const seg_churn_input *in,
                     seg_churn_result *out)
{
    memset(out, 0, sizeof *out);
    seg_churn_reason *r;

    if (in->orders > 0) {
        int64_t cycle = in->cycle_days > 0 ? in->cycle_days : cfg->default_cycle_days;
        int64_t over = in->days_since_last - cycle;
        int64_t weeks = over > 0 ? over / 7 : 0;
        int64_t pts = weeks * cfg->inactivity_points_per_week;
        if (cfg->inactivity_cap > 0 && pts > cfg->inactivity_cap)
            pts = cfg->inactivity_cap;
        if (pts > 0 && (r = reason(out))) {
            r->points = pts;
            snprintf(r->code, sizeof r->code, "inactivity");
            snprintf(r->text, sizeof r->text,
                     "%lld days since the last order: %lld week%s past the %s %lld-day cycle",
                     (long long)in->days_since_last, (long long)weeks, weeks == 1 ? "" : "s",
                     in->cycle_days > 0 ? "contact's usual" : "default", (long long)cycle);
            out->score += pts;
        }
    }

    if (in->emails_sent >= cfg->min_emails && in->emails_sent > 0 &&
        in->emails_engaged * 100 < in->emails_sent * cfg->min_engagement_pct &&
        cfg->low_engagement_points > 0 && (r = reason(out))) {
        r->points = cfg->low_engagement_points;
        snprintf(r->code, sizeof r->code, "low_engagement");
        snprintf(r->text, sizeof r->text,
                 "%lld email%s in %lld days with %lld open%s or click%s (under %lld%%)",
                 (long long)in->emails_sent, in->emails_sent == 1 ? "" : "s",
                 (long long)cfg->window_days, (long long)in->emails_engaged,
                 in->emails_engaged == 1 ? "" : "s", in->emails_engaged == 1 ? "" : "s",
                 (long long)cfg->min_engagement_pct);
        out->score += r->points;
    }

    for (size_t i = 0; i < cfg->nsignals; i++) {
        const seg_churn_signal *s = &cfg->signals[i];
        int64_t c = in->signal_counts[i];
        if (c <= 0 || s->points <= 0)
            continue;
        int64_t pts = c * s->points;
        if (s->cap > 0 && pts > s->cap)
            pts = s->cap;
        if (!(r = reason(out)))
            break;
        r->points = pts;
        snprintf(r->code, sizeof r->code, "signal:%s", s->name);
        snprintf(r->text, sizeof r->text, "%s: %lld time%s in %lld days (\"%s\")", s->name,
                 (long long)c, c == 1 ? "" : "s", (long long)cfg->window_days, s->match);
        out->score += pts;
    }
    out->level = seg_churn_level(cfg, out->score);
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 1;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

int seg_churn_signal_matches(const seg_churn_signal *sig, const char *channel,
                             const char *subject)
{
    if (sig->channel[0] && (!channel || strcmp(sig->channel, channel) != 0))
        return 0;
    return contains_ci(subject ? subject : "", sig->match);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t seg_median(int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

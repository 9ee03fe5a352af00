/* crm.yaml `timers:` -> crm_timer_config: how failed timers back off, when
 * they are parked, how long done rows are kept. Durations are wall-clock
 * time (timers name no calendar), so `bd` is refused. Every refusal points
 * at its node (FILE:LINE:COL: timers.KEY: ...). */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "timer.h"
#include "util.h"

#define DAY INT64_C(86400)
#define DASH " \xe2\x80\x94 " /* em dash, between a problem and its hint */

/* Today's behaviour before the section existed: 1m doubling, 5 attempts. */
static const int64_t default_backoff[] = {60, 120, 240, 480};

static void set_defaults(crm_timer_config *tc)
{
    memset(tc, 0, sizeof *tc);
    tc->n_backoff = sizeof default_backoff / sizeof default_backoff[0];
    memcpy(tc->backoff, default_backoff, sizeof default_backoff);
    tc->max_attempts = 5;
    tc->keep_done = 7 * DAY;
}

/* One wall-clock duration ("90s", "5m", "2h", "7d") into seconds. */
static int read_seconds(const crm_node *n, const char *path, bool zero_ok, int64_t *out,
                        crm_err *err)
{
    if (n->kind != CRM_NODE_SCALAR || n->is_null)
        return crm_node_expected(n, path, "a duration such as 5m, 2h or 7d", err);
    crm_duration d;
    crm_err derr = {0};
    if (crm_duration_parse(n->value, &d, &derr) != CRM_OK)
        return crm_node_error(n, path, err, "%s", derr.msg);
    if (d.unit == CRM_DUR_BDAYS)
        return crm_node_error(n, path, err,
                              "'%s': timers run on wall-clock time; use d, h, m or s, not bd",
                              n->value);
    *out = d.unit == CRM_DUR_DAYS ? d.amount * DAY : d.amount;
    if (*out == 0 && !zero_ok)
        return crm_node_error(n, path, err, "'%s': a retry delay must be longer than 0s",
                              n->value);
    return CRM_OK;
}

static int read_backoff(crm_timer_config *tc, const crm_node *n, const char *path, crm_err *err)
{
    if (n->kind != CRM_NODE_SEQ || n->n_items == 0 || n->n_items > CRM_TIMER_MAX_BACKOFF)
        return crm_node_expected(n, path, "a list of 1 to 16 delays, e.g. [1m, 5m, 30m, 2h, 12h]",
                                 err);
    for (size_t i = 0; i < n->n_items; i++) {
        int rc = read_seconds(n->items[i], path, false, &tc->backoff[i], err);
        if (rc != CRM_OK)
            return rc;
    }
    tc->n_backoff = n->n_items;
    return CRM_OK;
}

static int read_max_attempts(crm_timer_config *tc, const crm_node *n, const char *path,
                             crm_err *err)
{
    int rc = crm_node_int(n, path, &tc->max_attempts, err);
    if (rc == CRM_OK && (tc->max_attempts < 1 || tc->max_attempts > 1000))
        return crm_node_error(n, path, err, "expected 1 to 1000 attempts, got %lld",
                              (long long)tc->max_attempts);
    return rc;
}

static int read_keep_done(crm_timer_config *tc, const crm_node *n, const char *path,
                          crm_err *err)
{
    return read_seconds(n, path, true, &tc->keep_done, err);
}

typedef int (*key_reader)(crm_timer_config *, const crm_node *, const char *, crm_err *);
static const struct {
    const char *key;
    key_reader read;
} keys[] = {{"backoff", read_backoff},
            {"max_attempts", read_max_attempts},
            {"keep_done", read_keep_done}};
#define N_KEYS (sizeof keys / sizeof keys[0])

int crm_timer_config_load(crm_timer_config *tc, const crm_node *section, crm_err *err)
{
    set_defaults(tc);
    if (!section || (section->kind == CRM_NODE_SCALAR && section->is_null))
        return CRM_OK;
    if (section->kind != CRM_NODE_MAP)
        return crm_node_expected(section, "timers", "a map with backoff, max_attempts, keep_done",
                                 err);
    static const char *const names[] = {"backoff", "max_attempts", "keep_done", NULL};
    for (size_t i = 0; i < section->n_items; i++) {
        const crm_node *n = section->items[i];
        char path[96];
        snprintf(path, sizeof path, "timers.%s", n->key);
        size_t j = 0;
        while (j < N_KEYS && strcmp(keys[j].key, n->key) != 0)
            j++;
        if (j == N_KEYS) {
            const char *hint = crm_suggest(n->key, names);
            return hint ? crm_node_error(n, NULL, err,
                                         "unknown key '%s' in 'timers'" DASH "did you mean '%s'?",
                                         n->key, hint)
                        : crm_node_error(n, NULL, err,
                                         "unknown key '%s' in 'timers'" DASH
                                         "valid keys: backoff, max_attempts, keep_done",
                                         n->key);
        }
        int rc = keys[j].read(tc, n, path, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

int64_t crm_timer_backoff(const crm_timer_config *tc, int attempts)
{
    if (attempts < 1)
        attempts = 1;
    size_t i = (size_t)attempts - 1;
    return tc->backoff[i < tc->n_backoff ? i : tc->n_backoff - 1];
}

/* journeys plugin — the engine: contacts enter on their trigger event (one
 * durable subscription to every event), leave on their goal, and move
 * through their steps from the kernel timer e:ENTRY. Every step is run by
 * advance(), from entering and from the timer alike, so a step's due time is
 * computed from the configuration (entered_at + after, or the previous
 * step's due time + wait), never from when a tick happened to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jrn_int.h"

crm_stmt *jrn_prep(crm_plugin_ctx *ctx, const char *sql)
{
    crm_stmt *st = NULL;
    return crm_sql_prepare(ctx, sql, &st) == CRM_OK ? st : NULL;
}

int jrn_fail(crm_plugin_ctx *ctx, const char *what)
{
    crm_set_error(ctx, "journeys: %s: %s", what, crm_last_error(ctx));
    return CRM_EDB;
}

bool jrn_pattern_match(const char *pattern, const char *type)
{
    if (!pattern[0])
        return false;
    if (!strcmp(pattern, "*") || !strcmp(pattern, type))
        return true;
    size_t n = strlen(pattern);
    return n > 2 && !strcmp(pattern + n - 2, ".*") && !strncmp(pattern, type, n - 1);
}

static bool paused(crm_plugin_ctx *ctx, const char *journey)
{
    crm_stmt *st = jrn_prep(ctx, "SELECT 1 FROM journeys_paused WHERE journey = ?1");
    if (!st)
        return false;
    crm_sql_bind_text(st, 1, journey);
    bool p = crm_sql_step(st) == CRM_SQL_ROW;
    crm_sql_finalize(st);
    return p;
}

int jrn_schedule_entry(crm_plugin_ctx *ctx, int64_t entry_id, int64_t contact_id, int64_t due)
{
    char key[40], payload[64];
    snprintf(key, sizeof key, "e:%lld", (long long)entry_id);
    /* contact_id in the payload: erasing the person drops the timer */
    snprintf(payload, sizeof payload, "{\"contact_id\":%lld}", (long long)contact_id);
    return crm_schedule(ctx, key, due, payload);
}

int jrn_exit_entry(crm_plugin_ctx *ctx, int64_t entry_id, const char *reason, int64_t at,
                   int64_t order_id)
{
    crm_stmt *st = jrn_prep(ctx, "UPDATE journeys_entries SET status = 'exited', exit_reason = ?2,"
                                 " ended_at = ?3, next_at = NULL, order_id = ?4"
                                 " WHERE id = ?1 AND status = 'active'");
    if (!st)
        return jrn_fail(ctx, "exiting an entry");
    crm_sql_bind_int64(st, 1, entry_id);
    crm_sql_bind_text(st, 2, reason);
    crm_sql_bind_int64(st, 3, at);
    if (order_id > 0)
        crm_sql_bind_int64(st, 4, order_id);
    else
        crm_sql_bind_null(st, 4);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    char key[40];
    snprintf(key, sizeof key, "e:%lld", (long long)entry_id);
    return rc < 0 ? jrn_fail(ctx, "exiting an entry") : crm_cancel(ctx, key, NULL);
}

/* ---- the progress row ------------------------------------------------------- */

typedef struct entry {
    int64_t id, contact_id, entry_no, trigger_event_id, step, entered_at, base_at;
    char journey[JRN_NAME_MAX], profile[JRN_NAME_MAX], status[16];
    json_t *facts;
} entry;

static int load_entry(crm_plugin_ctx *ctx, int64_t id, entry *e)
{
    memset(e, 0, sizeof *e);
    crm_stmt *st = jrn_prep(ctx, "SELECT journey, contact_id, entry_no, profile, trigger_event_id,"
                                 " facts, status, step, entered_at, base_at"
                                 " FROM journeys_entries WHERE id = ?1");
    if (!st)
        return jrn_fail(ctx, "reading an entry");
    crm_sql_bind_int64(st, 1, id);
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW) {
        e->id = id;
        snprintf(e->journey, sizeof e->journey, "%s", crm_sql_column_text(st, 0));
        e->contact_id = crm_sql_column_int64(st, 1);
        e->entry_no = crm_sql_column_int64(st, 2);
        snprintf(e->profile, sizeof e->profile, "%s", crm_sql_column_text(st, 3));
        e->trigger_event_id = crm_sql_column_int64(st, 4);
        e->facts = json_loads(crm_sql_column_text(st, 5), 0, NULL);
        snprintf(e->status, sizeof e->status, "%s", crm_sql_column_text(st, 6));
        e->step = crm_sql_column_int64(st, 7);
        e->entered_at = crm_sql_column_int64(st, 8);
        e->base_at = crm_sql_column_int64(st, 9);
    }
    crm_sql_finalize(st);
    if (rc < 0)
        return jrn_fail(ctx, "reading an entry");
    if (!e->facts)
        e->facts = json_object();
    return rc == CRM_SQL_ROW ? CRM_OK : CRM_ENOTFOUND;
}

static int save_entry(crm_plugin_ctx *ctx, const entry *e, const char *status, int64_t next_at,
                      int64_t now)
{
    crm_stmt *st = jrn_prep(ctx, "UPDATE journeys_entries SET step = ?2, base_at = ?3,"
                                 " next_at = ?4, status = ?5, ended_at = ?6 WHERE id = ?1");
    if (!st)
        return jrn_fail(ctx, "saving an entry");
    crm_sql_bind_int64(st, 1, e->id);
    crm_sql_bind_int64(st, 2, e->step);
    crm_sql_bind_int64(st, 3, e->base_at);
    if (next_at)
        crm_sql_bind_int64(st, 4, next_at);
    else
        crm_sql_bind_null(st, 4);
    crm_sql_bind_text(st, 5, status);
    if (strcmp(status, "active"))
        crm_sql_bind_int64(st, 6, now);
    else
        crm_sql_bind_null(st, 6);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? jrn_fail(ctx, "saving an entry") : CRM_OK;
}

/* The goal: an event of the contact matching the goal pattern committed
 * after the trigger (by event id: a late order counts). *order_id gets the
 * event's order_id, if any. */
static bool goal_met(crm_plugin_ctx *ctx, const jrn_flow *f, const entry *e, int64_t *order_id)
{
    *order_id = 0;
    if (!f->goal[0])
        return false;
    crm_stmt *st = jrn_prep(ctx, "SELECT type, coalesce(json_extract(payload, '$.order_id'), 0)"
                                 " FROM events WHERE contact_id = ?2 AND id > ?1 ORDER BY id");
    if (!st)
        return false;
    crm_sql_bind_int64(st, 1, e->trigger_event_id);
    crm_sql_bind_int64(st, 2, e->contact_id);
    bool met = false;
    while (!met && crm_sql_step(st) == CRM_SQL_ROW)
        if ((met = jrn_pattern_match(f->goal, crm_sql_column_text(st, 0))))
            *order_id = crm_sql_column_int64(st, 1);
    crm_sql_finalize(st);
    return met;
}

static bool step_applies(const jrn_step *s, const entry *e)
{
    if (s->profile[0] && strcmp(s->profile, e->profile))
        return false;
    return jrn_cond_eval(s->cond, e->facts);
}

static int step_due(crm_plugin_ctx *ctx, const jrn_step *s, const entry *e, int64_t *due)
{
    int64_t from = s->timing == JRN_AT_AFTER ? e->entered_at : e->base_at;
    if (s->timing == JRN_AT_NOW) {
        *due = from;
        return CRM_OK;
    }
    if (!s->business) {
        *due = from + s->seconds;
        return CRM_OK;
    }
    int rc = crm_calendar_add(ctx, NULL, from, s->duration, due);
    return rc == CRM_OK ? CRM_OK : jrn_fail(ctx, "a business-time wait");
}

static bool effect_done(crm_plugin_ctx *ctx, int64_t entry_id, int64_t step)
{
    crm_stmt *st = jrn_prep(ctx, "SELECT 1 FROM journeys_effects WHERE entry_id=?1 AND step=?2");
    if (!st)
        return false;
    crm_sql_bind_int64(st, 1, entry_id);
    crm_sql_bind_int64(st, 2, step);
    bool done = crm_sql_step(st) == CRM_SQL_ROW;
    crm_sql_finalize(st);
    return done;
}

static int record_effect(crm_plugin_ctx *ctx, const entry *e, const jrn_step *s, int64_t due,
                         int64_t now, const char *detail)
{
    crm_stmt *st = jrn_prep(ctx, "INSERT INTO journeys_effects(entry_id, contact_id, step, kind,"
                                 " due_at, done_at, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return jrn_fail(ctx, "recording a step");
    crm_sql_bind_int64(st, 1, e->id);
    crm_sql_bind_int64(st, 2, e->contact_id);
    crm_sql_bind_int64(st, 3, e->step);
    crm_sql_bind_text(st, 4, s->kind);
    crm_sql_bind_int64(st, 5, due);
    crm_sql_bind_int64(st, 6, now);
    crm_sql_bind_text(st, 7, detail ? detail : "{}");
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? jrn_fail(ctx, "recording a step") : CRM_OK;
}

/* Runs every step of the entry due by `now` (goal checked before each), then
 * schedules the next one or ends the entry. */
static int advance(crm_plugin_ctx *ctx, int64_t entry_id, int64_t now)
{
    entry e;
    int rc = load_entry(ctx, entry_id, &e);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK; /* erased or gone: nothing to do */
    const jrn_flow *f = rc == CRM_OK ? jrn_flow_find(ctx, e.journey) : NULL;
    if (rc != CRM_OK || !f || strcmp(e.status, "active") || paused(ctx, e.journey)) {
        json_decref(e.facts);
        return rc; /* a journey removed from crm.yaml keeps its rows as they are */
    }
    int64_t order_id;
    while (rc == CRM_OK) {
        if (goal_met(ctx, f, &e, &order_id)) {
            rc = jrn_exit_entry(ctx, e.id, "goal", now, order_id);
            break;
        }
        if ((size_t)e.step >= f->n_steps) {
            rc = save_entry(ctx, &e, "completed", 0, now);
            break;
        }
        const jrn_step *s = &f->steps[e.step];
        if (!step_applies(s, &e)) {
            e.step++;
            continue;
        }
        int64_t due;
        rc = step_due(ctx, s, &e, &due);
        if (rc == CRM_OK && due > now) {
            rc = save_entry(ctx, &e, "active", due, now);
            if (rc == CRM_OK)
                rc = jrn_schedule_entry(ctx, e.id, e.contact_id, due);
            break;
        }
        char *detail = NULL;
        if (rc == CRM_OK && !effect_done(ctx, e.id, e.step) && strcmp(s->kind, "wait"))
            rc = jrn_step_run(ctx, f, (size_t)e.step, e.id, e.contact_id, e.entry_no, e.facts,
                              &detail);
        if (rc == CRM_OK && !effect_done(ctx, e.id, e.step))
            rc = record_effect(ctx, &e, s, due, now, detail);
        free(detail);
        e.base_at = due;
        e.step++;
    }
    json_decref(e.facts);
    return rc;
}

int jrn_on_timer(crm_plugin_ctx *ctx, const crm_timer_info *t, void *ud)
{
    (void)ud;
    char *end = NULL;
    long long id = strncmp(t->key, "e:", 2) ? 0 : strtoll(t->key + 2, &end, 10);
    if (id <= 0 || !end || *end) {
        crm_set_error(ctx, "journeys: timer %s names no entry", t->key);
        return CRM_EINVAL;
    }
    return advance(ctx, id, t->fired_at);
}

/* ---- entering ------------------------------------------------------------------ */

/* The trigger's payload plus the contact's aggregates: orders (placed or
 * paid), ltv (their total, minor units), profile once chosen. */
static json_t *entry_facts(crm_plugin_ctx *ctx, const json_t *payload, int64_t contact_id)
{
    json_t *facts = json_deep_copy(payload);
    crm_stmt *st = jrn_prep(ctx, "SELECT count(*), coalesce(sum(total), 0) FROM orders"
                                 " WHERE contact_id = ?1 AND status IN ('placed', 'paid')");
    if (st) {
        crm_sql_bind_int64(st, 1, contact_id);
        if (crm_sql_step(st) == CRM_SQL_ROW) {
            json_object_set_new(facts, "orders", json_integer(crm_sql_column_int64(st, 0)));
            json_object_set_new(facts, "ltv", json_integer(crm_sql_column_int64(st, 1)));
        }
        crm_sql_finalize(st);
    }
    return facts;
}

/* May the contact enter (again)? Never two active entries of one journey. */
static int may_enter(crm_plugin_ctx *ctx, const jrn_flow *f, int64_t contact_id, int64_t at,
                     int64_t *entry_no, bool *ok)
{
    crm_stmt *st = jrn_prep(ctx, "SELECT entry_no, status, entered_at FROM journeys_entries"
                                 " WHERE journey = ?1 AND contact_id = ?2"
                                 " ORDER BY entry_no DESC LIMIT 1");
    if (!st)
        return jrn_fail(ctx, "reading entries");
    crm_sql_bind_text(st, 1, f->name);
    crm_sql_bind_int64(st, 2, contact_id);
    int rc = crm_sql_step(st);
    *ok = true;
    *entry_no = 1;
    if (rc == CRM_SQL_ROW) {
        *entry_no = crm_sql_column_int64(st, 0) + 1;
        bool active = !strcmp(crm_sql_column_text(st, 1), "active");
        int64_t last = crm_sql_column_int64(st, 2);
        *ok = !active && strcmp(f->reentry, "never") &&
              (strcmp(f->reentry, "after") || at >= last + f->reentry_after);
    }
    crm_sql_finalize(st);
    return rc < 0 ? jrn_fail(ctx, "reading entries") : CRM_OK;
}

static const char *choose_profile(const jrn_flow *f, const json_t *facts)
{
    for (size_t i = 0; i < f->n_profiles; i++)
        if (jrn_cond_eval(f->profiles[i].cond, facts))
            return f->profiles[i].name;
    return "";
}

static int insert_entry(crm_plugin_ctx *ctx, const jrn_flow *f, int64_t contact_id,
                        int64_t entry_no, const char *profile, int64_t event_id,
                        const json_t *facts, int64_t at, int64_t *id)
{
    char *text = json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS);
    crm_stmt *st = text ? jrn_prep(ctx, "INSERT INTO journeys_entries(journey, contact_id,"
                                        " entry_no, profile, trigger_event_id, facts, status,"
                                        " entered_at, base_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
                                        " 'active', ?7, ?7) ON CONFLICT DO NOTHING")
                        : NULL;
    *id = 0;
    if (!st) {
        free(text);
        return jrn_fail(ctx, "entering a journey");
    }
    crm_sql_bind_text(st, 1, f->name);
    crm_sql_bind_int64(st, 2, contact_id);
    crm_sql_bind_int64(st, 3, entry_no);
    crm_sql_bind_text(st, 4, profile);
    crm_sql_bind_int64(st, 5, event_id);
    crm_sql_bind_text(st, 6, text);
    crm_sql_bind_int64(st, 7, at);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    free(text);
    if (rc < 0)
        return jrn_fail(ctx, "entering a journey");
    st = jrn_prep(ctx, "SELECT id FROM journeys_entries WHERE journey = ?1 AND"
                       " trigger_event_id = ?2 AND entry_no = ?3");
    if (!st)
        return jrn_fail(ctx, "entering a journey");
    crm_sql_bind_text(st, 1, f->name);
    crm_sql_bind_int64(st, 2, event_id);
    crm_sql_bind_int64(st, 3, entry_no);
    if (crm_sql_step(st) == CRM_SQL_ROW)
        *id = crm_sql_column_int64(st, 0);
    crm_sql_finalize(st);
    return CRM_OK;
}

static int enter(crm_plugin_ctx *ctx, const jrn_flow *f, int64_t contact_id, int64_t event_id,
                 const json_t *payload, int64_t at, int64_t now)
{
    json_t *facts = entry_facts(ctx, payload, contact_id);
    int64_t entry_no, id = 0;
    bool ok = false;
    int rc = jrn_cond_eval(f->trigger_if, facts) ? may_enter(ctx, f, contact_id, at, &entry_no, &ok)
                                                 : CRM_OK;
    if (rc == CRM_OK && ok) {
        const char *profile = choose_profile(f, facts);
        json_object_set_new(facts, "profile", json_string(profile));
        rc = insert_entry(ctx, f, contact_id, entry_no, profile, event_id, facts, at, &id);
    }
    json_decref(facts);
    if (rc == CRM_OK && id) {
        char payload_text[160];
        snprintf(payload_text, sizeof payload_text,
                 "{\"journey\":\"%s\",\"contact_id\":%lld,\"entry_id\":%lld}", f->name,
                 (long long)contact_id, (long long)id);
        rc = crm_emit_event(ctx, "journey.entered", payload_text);
        if (rc == CRM_OK)
            rc = advance(ctx, id, now > at ? now : at);
    }
    return rc;
}

/* Exits the contact's active entries of flows whose goal is `type`. */
static int goal_exits(crm_plugin_ctx *ctx, const char *type, int64_t contact_id, int64_t order_id,
                      int64_t now)
{
    jrn_state *S = JRN(ctx);
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < S->n_flows; i++) {
        if (!jrn_pattern_match(S->flows[i].goal, type))
            continue;
        crm_stmt *st = jrn_prep(ctx, "SELECT id FROM journeys_entries WHERE journey = ?1"
                                     " AND contact_id = ?2 AND status = 'active'");
        if (!st)
            return jrn_fail(ctx, "reading entries");
        crm_sql_bind_text(st, 1, S->flows[i].name);
        crm_sql_bind_int64(st, 2, contact_id);
        int64_t ids[64];
        size_t n = 0;
        while (n < 64 && crm_sql_step(st) == CRM_SQL_ROW)
            ids[n++] = crm_sql_column_int64(st, 0);
        crm_sql_finalize(st);
        for (size_t j = 0; rc == CRM_OK && j < n; j++)
            rc = jrn_exit_entry(ctx, ids[j], "goal", now, order_id);
    }
    return rc;
}

int jrn_on_event(crm_plugin_ctx *ctx, const crm_plugin_event *ev, void *ud)
{
    (void)ud;
    const char *type = crm_event_type(ev);
    json_t *payload = json_loads(crm_event_payload(ev), 0, NULL);
    json_int_t contact_id = json_integer_value(json_object_get(payload, "contact_id"));
    json_t *at_v = json_object_get(payload, "at");
    int64_t now = crm_now(ctx);
    int64_t at = json_is_integer(at_v) ? json_integer_value(at_v) : crm_event_created_at(ev);
    int rc = CRM_OK;
    if (contact_id > 0)
        rc = goal_exits(ctx, type, contact_id,
                        json_integer_value(json_object_get(payload, "order_id")), now);
    jrn_state *S = JRN(ctx);
    for (size_t i = 0; rc == CRM_OK && contact_id > 0 && i < S->n_flows; i++)
        if (jrn_pattern_match(S->flows[i].trigger, type) && !paused(ctx, S->flows[i].name))
            rc = enter(ctx, &S->flows[i], contact_id, crm_event_id(ev), payload, at, now);
    json_decref(payload);
    return rc;
}

/* journeys plugin — what each step kind does, as a table. Every effect goes
 * through the host API (the outbox, tasks, contacts, events), inside the
 * timer's (or the entering event's) transaction, and returns a JSON detail
 * recorded with the step in journeys_effects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jrn_int.h"

typedef struct step_call {
    const jrn_flow *f;
    const jrn_step *s;
    size_t index;
    int64_t entry_id, contact_id, entry_no;
    const json_t *facts;
    json_t *detail; /* filled by the step */
} step_call;

typedef int (*step_fn)(crm_plugin_ctx *ctx, step_call *c);

static int host_fail(crm_plugin_ctx *ctx, const jrn_step *s)
{
    crm_set_error(ctx, "journeys: step %s '%s': %s", s->kind, s->arg, crm_last_error(ctx));
    return CRM_EPLUGIN;
}

/* checkout_url: journeys.cart_url with {ref} replaced by the shop's cart id. */
static void checkout_url(crm_plugin_ctx *ctx, const json_t *facts, json_t *data)
{
    const char *url = JRN(ctx)->cart_url, *ref = json_string_value(json_object_get(facts, "cart"));
    const char *at = url[0] && ref ? strstr(url, "{ref}") : NULL;
    if (!at)
        return;
    char buf[JRN_TEXT_MAX * 2];
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - url), url, ref, at + 5);
    json_object_set_new(data, "checkout_url", json_string(buf));
}

/* send: through the outbox (its consent, quiet hours, caps) with the
 * idempotency key of (journey, contact, entry, step). */
static int do_send(crm_plugin_ctx *ctx, step_call *c)
{
    char key[160];
    snprintf(key, sizeof key, "journeys:%s:%lld:%lld:%zu", c->f->name, (long long)c->contact_id,
             (long long)c->entry_no, c->index);
    json_t *req = json_pack("{sIssssss}", "contact_id", (json_int_t)c->contact_id, "template",
                            c->s->arg, "purpose", c->s->purpose[0] ? c->s->purpose : "marketing",
                            "key", key);
    if (c->s->channel[0])
        json_object_set_new(req, "channel", json_string(c->s->channel));
    json_t *data = json_pack("{sO}", "trigger", c->facts), *cart = json_object_get(c->facts, "cart_id");
    if (json_is_integer(cart)) /* the kernel then shows the cart as it is at sending */
        json_object_set(data, "cart_id", cart);
    checkout_url(ctx, c->facts, data);
    json_object_set_new(req, "data", data);
    json_object_set_new(c->detail, "template", json_string(c->s->arg));
    json_object_set_new(c->detail, "key", json_string(key));
    int rc = CRM_OK;
#ifdef crm_message_queue_json /* SDK 1.3: messages */
    if (CRM_API_HAS(ctx, message_queue_json)) {
        char *text = json_dumps(req, JSON_COMPACT);
        int64_t id = 0;
        rc = text ? crm_message_queue_json(ctx, text, &id) : CRM_ENOMEM;
        free(text);
        json_object_set_new(c->detail, "message_id", json_integer(id));
        json_decref(req);
        return rc == CRM_OK ? CRM_OK : host_fail(ctx, c->s);
    }
#endif
    /* no outbox in this crm: the send is recorded as due, and announced */
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    rc = text ? crm_emit_event(ctx, "journey.message_due", text) : CRM_ENOMEM;
    free(text);
    json_object_set_new(c->detail, "outbox", json_false());
    return rc == CRM_OK ? CRM_OK : host_fail(ctx, c->s);
}

/* The task's assignee: a user, the contact's owner ("owner"), or the next
 * of a team ("team:a@x,b@y") in round-robin over the journey's past tasks. */
static void pick_assignee(crm_plugin_ctx *ctx, step_call *c, char *out, size_t size)
{
    const char *a = c->s->assignee;
    out[0] = 0;
    if (!strcmp(a, "owner")) {
        char *json = NULL;
        if (crm_contact_get_json(ctx, c->contact_id, &json) == CRM_OK) {
            json_t *o = json_loads(json, 0, NULL);
            const char *owner = json_string_value(json_object_get(o, "owner"));
            snprintf(out, size, "%s", owner ? owner : "");
            json_decref(o);
        }
        crm_free(ctx, json);
        return;
    }
    if (strncmp(a, "team:", 5)) {
        snprintf(out, size, "%s", a);
        return;
    }
    int64_t done = 0;
    crm_stmt *st = jrn_prep(ctx, "SELECT count(*) FROM journeys_effects f JOIN journeys_entries e"
                                 " ON e.id = f.entry_id WHERE e.journey = ?1 AND f.kind = 'task'");
    if (st) {
        crm_sql_bind_text(st, 1, c->f->name);
        if (crm_sql_step(st) == CRM_SQL_ROW)
            done = crm_sql_column_int64(st, 0);
        crm_sql_finalize(st);
    }
    char team[JRN_NAME_MAX];
    snprintf(team, sizeof team, "%s", a + 5);
    size_t n = 1;
    for (const char *p = team; *p; p++)
        n += *p == ',';
    size_t pick = (size_t)(done % (int64_t)n), i = 0;
    for (char *tok = strtok(team, ","); tok; tok = strtok(NULL, ","), i++)
        if (i == pick)
            snprintf(out, size, "%s", tok);
}

static int do_task(crm_plugin_ctx *ctx, step_call *c)
{
    char assignee[JRN_NAME_MAX], ref[48];
    pick_assignee(ctx, c, assignee, sizeof assignee);
    snprintf(ref, sizeof ref, "journey:%lld", (long long)c->entry_id);
    json_t *req = json_pack("{sssIsIssss}", "subject", c->s->arg, "due_at", (json_int_t)crm_now(ctx),
                            "contact_id", (json_int_t)c->contact_id, "kind",
                            c->s->task_kind[0] ? c->s->task_kind : "call", "ref", ref);
    if (assignee[0])
        json_object_set_new(req, "assignee", json_string(assignee));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int64_t id = 0;
    int rc = text ? crm_task_add_json(ctx, text, &id) : CRM_ENOMEM;
    free(text);
    json_object_set_new(c->detail, "task_id", json_integer(id));
    json_object_set_new(c->detail, "assignee", assignee[0] ? json_string(assignee) : json_null());
    return rc == CRM_OK ? CRM_OK : host_fail(ctx, c->s);
}

/* tag_add / tag_remove: the contact's tags replaced through the kernel. */
static int change_tag(crm_plugin_ctx *ctx, step_call *c, bool add)
{
    char *json = NULL;
    int rc = crm_contact_get_json(ctx, c->contact_id, &json);
    json_t *o = rc == CRM_OK ? json_loads(json, 0, NULL) : NULL;
    crm_free(ctx, json);
    json_t *tags = json_array(), *old = json_object_get(o, "tags");
    size_t i;
    json_t *t;
    bool had = false;
    json_array_foreach(old, i, t) {
        bool same = json_is_string(t) && !strcmp(json_string_value(t), c->s->arg);
        had |= same;
        if (!same || add)
            json_array_append(tags, t);
    }
    if (add && !had)
        json_array_append_new(tags, json_string(c->s->arg));
    json_decref(o);
    json_t *req = json_pack("{so}", "tags", tags);
    char *text = rc == CRM_OK && (add != had) ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (text)
        rc = crm_contact_update_json(ctx, c->contact_id, text);
    free(text);
    json_object_set_new(c->detail, "tag", json_string(c->s->arg));
    json_object_set_new(c->detail, "changed", json_boolean(add != had));
    return rc == CRM_OK ? CRM_OK : host_fail(ctx, c->s);
}

static int do_tag_add(crm_plugin_ctx *ctx, step_call *c) { return change_tag(ctx, c, true); }
static int do_tag_remove(crm_plugin_ctx *ctx, step_call *c) { return change_tag(ctx, c, false); }

static int do_emit(crm_plugin_ctx *ctx, step_call *c)
{
    json_t *p = json_pack("{sssIsIsO}", "journey", c->f->name, "contact_id",
                          (json_int_t)c->contact_id, "entry_id", (json_int_t)c->entry_id,
                          "trigger", c->facts);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    int rc = text ? crm_emit_event(ctx, c->s->arg, text) : CRM_ENOMEM;
    free(text);
    json_object_set_new(c->detail, "event", json_string(c->s->arg));
    return rc == CRM_OK ? CRM_OK : host_fail(ctx, c->s);
}

static const struct {
    const char *kind;
    step_fn fn;
} table[] = {
    {"send", do_send},       {"task", do_task}, {"tag_add", do_tag_add},
    {"tag_remove", do_tag_remove}, {"emit", do_emit},
};

int jrn_step_run(crm_plugin_ctx *ctx, const jrn_flow *f, size_t i, int64_t entry_id,
                 int64_t contact_id, int64_t entry_no, const json_t *facts, char **detail)
{
    step_call c = {f, &f->steps[i], i, entry_id, contact_id, entry_no, facts, json_object()};
    int rc = CRM_EINVAL;
    crm_set_error(ctx, "journeys: unknown step kind %s", c.s->kind);
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        if (!strcmp(table[k].kind, c.s->kind))
            rc = table[k].fn(ctx, &c);
    *detail = rc == CRM_OK ? json_dumps(c.detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(c.detail);
    return rc;
}

/* journeys plugin — its crm.yaml section: the declared schema (checked by
 * the host with file:line:column), read into the state at start, with the
 * plugin's own checks (step kinds, conditions, re-entry) pointing at the node. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jrn_int.h"

#define FIELD(name, type, flags, def, desc) {name, type, flags, def, desc, NULL, 0, 0, 0}
#define END {NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0}

static const crm_config_field step_fields[] = {
    FIELD("after", CRM_CONFIG_DURATION, 0, NULL, "run this long after entering (3h, 2d, 2bd)"),
    FIELD("wait", CRM_CONFIG_DURATION, 0, NULL, "run this long after the previous step ran"),
    FIELD("profile", CRM_CONFIG_STRING, 0, NULL, "run only for entries of this profile"),
    FIELD("if", CRM_CONFIG_STRING, 0, NULL, "run only when this condition holds (a branch)"),
    FIELD("send", CRM_CONFIG_STRING, 0, NULL, "queue this template through the outbox"),
    FIELD("channel", CRM_CONFIG_STRING, 0, NULL, "send: email or sms (default: the template's)"),
    FIELD("purpose", CRM_CONFIG_STRING, 0, "marketing", "send: transactional|service|marketing"),
    FIELD("task", CRM_CONFIG_STRING, 0, NULL, "create a task with this subject"),
    FIELD("assignee", CRM_CONFIG_STRING, 0, NULL, "task: a user, 'owner', or team:a@x,b@y"),
    FIELD("task_kind", CRM_CONFIG_STRING, 0, "call", "task: call|email|meeting|todo|follow_up"),
    FIELD("tag_add", CRM_CONFIG_STRING, 0, NULL, "add this tag to the contact"),
    FIELD("tag_remove", CRM_CONFIG_STRING, 0, NULL, "remove this tag from the contact"),
    FIELD("emit", CRM_CONFIG_STRING, 0, NULL, "emit this event (e.g. journey.retarget)"),
    END,
};

static const crm_config_field profile_fields[] = {
    FIELD("name", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "the profile's name"),
    FIELD("if", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "condition at entry, first wins"),
    END,
};

static const crm_config_field trigger_fields[] = {
    FIELD("event", CRM_CONFIG_STRING, CRM_CONFIG_REQUIRED, NULL, "event pattern that enters"),
    FIELD("if", CRM_CONFIG_STRING, 0, NULL, "condition on the payload and the contact"),
    END,
};

static const crm_config_field flow_fields[] = {
    {"trigger", CRM_CONFIG_MAP, CRM_CONFIG_REQUIRED, NULL, "what enters a contact",
     trigger_fields, 0, 0, 0},
    FIELD("goal", CRM_CONFIG_STRING, 0, NULL, "event pattern of the contact that exits"),
    FIELD("reentry", CRM_CONFIG_STRING, 0, "always", "never | always | after Nd"),
    {"priority", CRM_CONFIG_INT, 0, "0", "higher wins a frequency cap", NULL, 0, 0, 100},
    {"profiles", CRM_CONFIG_LIST, 0, NULL, "named conditions at entry, first match wins",
     profile_fields, CRM_CONFIG_MAP, 0, 0},
    {"steps", CRM_CONFIG_LIST, CRM_CONFIG_REQUIRED, NULL, "the steps, in order", step_fields,
     CRM_CONFIG_MAP, 0, 0},
    END,
};

const crm_config_field jrn_config_schema[] = {
    FIELD("cart_url", CRM_CONFIG_STRING, 0, NULL,
          "the shop's page of a cart, {ref} replaced by the shop's cart id (checkout_url)"),
    {"flows", CRM_CONFIG_DICT, 0, NULL, "the journeys by name", flow_fields, CRM_CONFIG_MAP, 0,
     0},
    END,
};

/* A string key into buf ("" when absent). */
static void text_of(crm_plugin_ctx *ctx, const crm_config_node *map, const char *key, char *buf,
                    size_t size)
{
    crm_value v;
    buf[0] = 0;
    if (map && crm_config_value(ctx, map, key, &v) == CRM_OK && v.text)
        snprintf(buf, size, "%s", v.text);
}

static int check_cond(crm_plugin_ctx *ctx, const crm_config_node *map, const char *cond)
{
    char err[160];
    if (jrn_cond_check(cond, err, sizeof err) == 0)
        return CRM_OK;
    return crm_config_error(ctx, crm_config_child(ctx, map, "if"), "%s", err);
}

static const char *const kinds[] = {"send", "task", "tag_add", "tag_remove", "emit"};

static int load_timing(crm_plugin_ctx *ctx, const crm_config_node *it, jrn_step *s)
{
    static const struct {
        const char *key;
        jrn_timing timing;
    } timings[] = {{"after", JRN_AT_AFTER}, {"wait", JRN_AT_WAIT}};
    for (size_t i = 0; i < 2; i++) {
        crm_value v;
        if (crm_config_value(ctx, it, timings[i].key, &v) != CRM_OK || !v.given)
            continue;
        if (s->timing != JRN_AT_NOW)
            return crm_config_error(ctx, it, "give `after` or `wait`, not both");
        s->timing = timings[i].timing;
        snprintf(s->duration, sizeof s->duration, "%s", v.text ? v.text : "");
        s->business = v.unit == CRM_DURATION_BUSINESS_DAYS;
        s->seconds = v.unit == CRM_DURATION_DAYS ? v.i * 86400 : v.unit == 0 ? v.i : 0;
    }
    return CRM_OK;
}

static int load_step(crm_plugin_ctx *ctx, const crm_config_node *it, jrn_step *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char arg[JRN_TEXT_MAX];
        text_of(ctx, it, kinds[i], arg, sizeof arg);
        if (!arg[0])
            continue;
        if (s->kind[0])
            return crm_config_error(ctx, it, "one action per step (%s and %s given)", s->kind,
                                    kinds[i]);
        snprintf(s->kind, sizeof s->kind, "%s", kinds[i]);
        snprintf(s->arg, sizeof s->arg, "%s", arg);
    }
    int rc = load_timing(ctx, it, s);
    if (rc != CRM_OK)
        return rc;
    if (!s->kind[0] && s->timing == JRN_AT_NOW)
        return crm_config_error(ctx, it, "a step needs an action (send, task, tag_add, "
                                         "tag_remove, emit) or a wait");
    if (!s->kind[0])
        snprintf(s->kind, sizeof s->kind, "wait");
    text_of(ctx, it, "channel", s->channel, sizeof s->channel);
    text_of(ctx, it, "purpose", s->purpose, sizeof s->purpose);
    text_of(ctx, it, "assignee", s->assignee, sizeof s->assignee);
    text_of(ctx, it, "task_kind", s->task_kind, sizeof s->task_kind);
    text_of(ctx, it, "profile", s->profile, sizeof s->profile);
    text_of(ctx, it, "if", s->cond, sizeof s->cond);
    return check_cond(ctx, it, s->cond);
}

static int load_reentry(crm_plugin_ctx *ctx, const crm_config_node *flow, jrn_flow *f)
{
    char text[32];
    text_of(ctx, flow, "reentry", text, sizeof text);
    if (!strcmp(text, "never") || !strcmp(text, "always") || !text[0]) {
        snprintf(f->reentry, sizeof f->reentry, "%s", text[0] ? text : "always");
        return CRM_OK;
    }
    char *end;
    long long days = strtoll(text + (strncmp(text, "after ", 6) ? 0 : 6), &end, 10);
    if (days > 0 && !strcmp(end, "d")) {
        snprintf(f->reentry, sizeof f->reentry, "after");
        f->reentry_after = days * 86400;
        return CRM_OK;
    }
    return crm_config_error(ctx, crm_config_child(ctx, flow, "reentry"),
                            "'%s': expected never, always or after Nd (e.g. after 30d)", text);
}

static int load_list(crm_plugin_ctx *ctx, const crm_config_node *list, size_t elem, void **out,
                     size_t *n)
{
    *n = crm_config_count(ctx, list);
    *out = *n ? calloc(*n, elem) : NULL;
    if (*n && !*out) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    return CRM_OK;
}

static int load_flow(crm_plugin_ctx *ctx, const crm_config_node *node, jrn_flow *f)
{
    snprintf(f->name, sizeof f->name, "%s", crm_config_key(ctx, node));
    const crm_config_node *trig = crm_config_child(ctx, node, "trigger");
    text_of(ctx, trig, "event", f->trigger, sizeof f->trigger);
    text_of(ctx, trig, "if", f->trigger_if, sizeof f->trigger_if);
    text_of(ctx, node, "goal", f->goal, sizeof f->goal);
    crm_value v;
    if (crm_config_value(ctx, node, "priority", &v) == CRM_OK)
        f->priority = v.i;
    int rc = check_cond(ctx, trig, f->trigger_if);
    if (rc == CRM_OK)
        rc = load_reentry(ctx, node, f);
    const crm_config_node *profiles = crm_config_child(ctx, node, "profiles");
    if (rc == CRM_OK)
        rc = load_list(ctx, profiles, sizeof *f->profiles, (void **)&f->profiles, &f->n_profiles);
    for (size_t i = 0; rc == CRM_OK && i < f->n_profiles; i++) {
        const crm_config_node *it = crm_config_item(ctx, profiles, i);
        text_of(ctx, it, "name", f->profiles[i].name, sizeof f->profiles[i].name);
        text_of(ctx, it, "if", f->profiles[i].cond, sizeof f->profiles[i].cond);
        rc = check_cond(ctx, it, f->profiles[i].cond);
    }
    const crm_config_node *steps = crm_config_child(ctx, node, "steps");
    if (rc == CRM_OK)
        rc = load_list(ctx, steps, sizeof *f->steps, (void **)&f->steps, &f->n_steps);
    for (size_t i = 0; rc == CRM_OK && i < f->n_steps; i++)
        rc = load_step(ctx, crm_config_item(ctx, steps, i), &f->steps[i]);
    return rc;
}

int jrn_config_load(crm_plugin_ctx *ctx)
{
    jrn_state *S = JRN(ctx);
    jrn_config_free(S);
    const crm_config_node *url = crm_config_child(ctx, NULL, "cart_url");
    crm_value v;
    S->cart_url[0] = 0;
    if (url && crm_config_value(ctx, url, NULL, &v) == CRM_OK && v.text)
        snprintf(S->cart_url, sizeof S->cart_url, "%s", v.text);
    if (S->cart_url[0] && !strstr(S->cart_url, "{ref}"))
        return crm_config_error(ctx, url,
                                "'%s' has no {ref} (where the cart's id goes)", S->cart_url);
    const crm_config_node *flows = crm_config_child(ctx, NULL, "flows");
    int rc = load_list(ctx, flows, sizeof *S->flows, (void **)&S->flows, &S->n_flows);
    for (size_t i = 0; rc == CRM_OK && i < S->n_flows; i++)
        rc = load_flow(ctx, crm_config_item(ctx, flows, i), &S->flows[i]);
    return rc;
}

void jrn_config_free(jrn_state *s)
{
    for (size_t i = 0; s && i < s->n_flows; i++) {
        free(s->flows[i].profiles);
        free(s->flows[i].steps);
    }
    if (s) {
        free(s->flows);
        s->flows = NULL;
        s->n_flows = 0;
    }
}

const jrn_flow *jrn_flow_find(crm_plugin_ctx *ctx, const char *name)
{
    jrn_state *S = JRN(ctx);
    for (size_t i = 0; name && i < S->n_flows; i++)
        if (!strcmp(S->flows[i].name, name))
            return &S->flows[i];
    return NULL;
}

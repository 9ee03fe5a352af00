/* crm.yaml messages.quiet_hours and messages.caps -> rules (quiet.h). Every
 * refusal points at the node that caused it. */
#include "messages/quiet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DASH " \xe2\x80\x94 "

static const char *const purposes[] = {"transactional", "service", "marketing", NULL};
static const char *const capped_purposes[] = {"service", "marketing", NULL};
static const char *const channels[] = {"email", "sms", NULL};
static const char *const rule_keys[] = {"allowed", "holidays", NULL};

static int nomem(crm_err *err)
{
    return crm_err_set(err, CRM_ENOMEM, "out of memory while reading messages settings");
}

static int not_one_of(const crm_node *n, const char *path, const char *what,
                      const char *const *names, crm_err *err)
{
    const char *hint = crm_suggest(n->key, names);
    char list[96] = "";
    for (size_t i = 0; names[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 names[i]);
    if (hint)
        return crm_node_error(n, path, err, "unknown %s '%s'" DASH "did you mean '%s'?", what,
                              n->key, hint);
    return crm_node_error(n, path, err, "unknown %s '%s'" DASH "expected %s", what, n->key,
                          list);
}

static int need_map(const crm_node *n, const char *path, const char *what, crm_err *err)
{
    if (n->kind == CRM_NODE_MAP || (n->kind == CRM_NODE_SCALAR && n->is_null))
        return CRM_OK;
    return crm_node_error(n, path, err, "expected %s", what);
}

/* ---- quiet hours --------------------------------------------------------- */

static int read_quiet_rule(const crm_node *n, const char *path, crm_quiet_rule *r,
                           crm_err *err)
{
    if (n->kind != CRM_NODE_MAP)
        return crm_node_error(n, path, err, "expected {allowed: {mon-sat: [\"08:00-20:00\"]}, "
                                            "holidays: closed}");
    char kpath[256];
    for (size_t i = 0; i < n->n_items; i++)
        if (!crm_str_in(n->items[i]->key, rule_keys))
            return not_one_of(n->items[i], path, "key", rule_keys, err);
    const crm_node *allowed = crm_node_get(n, "allowed");
    if (!allowed)
        return crm_node_error(n, path, err, "'allowed' is required (the hours a message may "
                                            "go out, in the contact's zone)");
    snprintf(kpath, sizeof kpath, "%s.allowed", path);
    int rc = crm_calendar_hours_parse(allowed, kpath, r->hours, r->n_hours,
                                      "the channel", err);
    if (rc != CRM_OK)
        return rc;
    const crm_node *h = crm_node_get(n, "holidays");
    snprintf(kpath, sizeof kpath, "%s.holidays", path);
    if (h && (h->kind != CRM_NODE_SCALAR ||
              (strcmp(h->value, "closed") != 0 && strcmp(h->value, "open") != 0)))
        return crm_node_error(h, kpath, err, "expected closed or open (public holidays of the "
                                             "contact's country)");
    r->holidays_closed = h && strcmp(h->value, "closed") == 0;
    return CRM_OK;
}

/* Marketing SMS Monday to Saturday 08:00-20:00, never on a public holiday. */
static void default_quiet(crm_quiet_rule *r)
{
    *r = (crm_quiet_rule){.purpose = "marketing", .channel = "sms", .holidays_closed = true};
    for (int d = 0; d < 6; d++) {
        r->hours[d][0] = (crm_calendar_hours){8 * 3600, 20 * 3600};
        r->n_hours[d] = 1;
    }
}

static size_t count_pairs(const crm_node *n)
{
    size_t total = 0;
    for (size_t i = 0; n->kind == CRM_NODE_MAP && i < n->n_items; i++)
        total += n->items[i]->kind == CRM_NODE_MAP ? n->items[i]->n_items : 0;
    return total;
}

int crm_quiet_config(const crm_node *n, crm_quiet_rule **out, size_t *count, crm_err *err)
{
    if (out)
        *out = NULL;
    if (count)
        *count = 0;
    const char *path = "messages.quiet_hours";
    if (n && n->kind == CRM_NODE_SCALAR && n->is_null)
        n = NULL; /* `quiet_hours:` written empty: the defaults, as when absent */
    size_t total = n ? count_pairs(n) : 1;
    crm_quiet_rule *rules = calloc(total ? total : 1, sizeof *rules);
    if (!rules)
        return nomem(err);
    size_t got = 0;
    int rc = CRM_OK;
    if (!n)
        default_quiet(&rules[got++]);
    else
        rc = need_map(n, path, "a map of purpose: {channel: {allowed, holidays}}", err);
    for (size_t i = 0; rc == CRM_OK && n && n->kind == CRM_NODE_MAP && i < n->n_items; i++) {
        const crm_node *p = n->items[i];
        char ppath[128];
        snprintf(ppath, sizeof ppath, "%s.%s", path, p->key);
        if (!crm_str_in(p->key, purposes))
            rc = not_one_of(p, path, "purpose", purposes, err);
        else
            rc = need_map(p, ppath, "a map of channel: {allowed, holidays}", err);
        for (size_t j = 0; rc == CRM_OK && p->kind == CRM_NODE_MAP && j < p->n_items; j++) {
            const crm_node *c = p->items[j];
            char cpath[160];
            snprintf(cpath, sizeof cpath, "%s.%s", ppath, c->key);
            if (!crm_str_in(c->key, channels)) {
                rc = not_one_of(c, ppath, "channel", channels, err);
                break;
            }
            crm_quiet_rule *r = &rules[got++];
            snprintf(r->purpose, sizeof r->purpose, "%s", p->key);
            snprintf(r->channel, sizeof r->channel, "%s", c->key);
            rc = read_quiet_rule(c, cpath, r, err);
        }
    }
    if (rc != CRM_OK || !out) {
        free(rules);
        return rc;
    }
    *out = rules;
    *count = got;
    return CRM_OK;
}

/* ---- caps ---------------------------------------------------------------- */

static int read_cap(const crm_node *c, const char *path, crm_cap *cap, crm_err *err)
{
    crm_duration d;
    crm_err derr = {0};
    if (c->kind != CRM_NODE_SCALAR || c->is_null ||
        crm_duration_parse(c->value, &d, &derr) != CRM_OK || d.unit == CRM_DUR_BDAYS)
        return crm_node_error(c, path, err, "expected a duration such as 16h, 90m or 2d%s%s",
                              derr.msg[0] ? DASH : "", derr.msg);
    cap->seconds = d.unit == CRM_DUR_DAYS ? d.amount * 86400 : d.amount;
    if (cap->seconds <= 0)
        return crm_node_error(c, path, err, "a cap is longer than 0s (leave the channel out "
                                            "to cap nothing)");
    return CRM_OK;
}

int crm_caps_config(const crm_node *n, crm_cap **out, size_t *count, crm_err *err)
{
    if (out)
        *out = NULL;
    if (count)
        *count = 0;
    const char *path = "messages.caps";
    if (n && n->kind == CRM_NODE_SCALAR && n->is_null)
        n = NULL;
    size_t total = n ? count_pairs(n) : 2;
    crm_cap *caps = calloc(total ? total : 1, sizeof *caps);
    if (!caps)
        return nomem(err);
    size_t got = 0;
    int rc = CRM_OK;
    if (!n) {
        caps[got++] = (crm_cap){"marketing", "email", 16 * 3600};
        caps[got++] = (crm_cap){"marketing", "sms", 24 * 3600};
    } else {
        rc = need_map(n, path, "a map of purpose: {channel: duration}", err);
    }
    for (size_t i = 0; rc == CRM_OK && n && n->kind == CRM_NODE_MAP && i < n->n_items; i++) {
        const crm_node *p = n->items[i];
        char ppath[128];
        snprintf(ppath, sizeof ppath, "%s.%s", path, p->key);
        if (strcmp(p->key, "transactional") == 0)
            rc = crm_node_error(p, path, err, "transactional messages are never capped "
                                              "(a receipt or a password reset must go out)");
        else if (!crm_str_in(p->key, capped_purposes))
            rc = not_one_of(p, path, "purpose", capped_purposes, err);
        else
            rc = need_map(p, ppath, "a map of channel: duration ({email: 16h})", err);
        for (size_t j = 0; rc == CRM_OK && p->kind == CRM_NODE_MAP && j < p->n_items; j++) {
            const crm_node *c = p->items[j];
            char cpath[160];
            snprintf(cpath, sizeof cpath, "%s.%s", ppath, c->key);
            if (!crm_str_in(c->key, channels)) {
                rc = not_one_of(c, ppath, "channel", channels, err);
                break;
            }
            crm_cap *cap = &caps[got++];
            snprintf(cap->purpose, sizeof cap->purpose, "%s", p->key);
            snprintf(cap->channel, sizeof cap->channel, "%s", c->key);
            rc = read_cap(c, cpath, cap, err);
        }
    }
    if (rc != CRM_OK || !out) {
        free(caps);
        return rc;
    }
    *out = caps;
    *count = got;
    return CRM_OK;
}

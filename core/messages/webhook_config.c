/* crm.yaml `webhooks:`: a list of endpoints, checked with positions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "messages/driver_int.h"
#include "messages/webhook.h"
#include "util.h"

static const char *const keys[] = {"url", "events", "secret_env", "timeout", "name", NULL};

static int check_keys(const crm_node *item, const char *path, crm_err *err)
{
    for (size_t i = 0; i < item->n_items; i++) {
        const crm_node *c = item->items[i];
        if (crm_str_in(c->key, keys))
            continue;
        const char *s = crm_suggest(c->key, keys);
        char p[200];
        snprintf(p, sizeof p, "%s.%s", path, c->key);
        return crm_node_error(c, p, err, "unknown key '%s'%s%s%s (known: url, events, "
                              "secret_env, timeout, name)", c->key, s ? ", did you mean '" : "",
                              s ? s : "", s ? "'?" : "");
    }
    return CRM_OK;
}

/* http(s)://HOST[...], HOST non-empty, nothing a header or a log line would
 * misread (spaces, controls). */
static bool url_ok(const char *u)
{
    size_t skip = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
    if (!skip || !u[skip] || strchr("/:?#", u[skip]))
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    /* a port, when given, is digits: "host:/x" is a typo, not port 80 */
    const char *host = u + skip, *end = host + strcspn(host, "/?#");
    const char *colon = memchr(host, ':', (size_t)(end - host));
    if (colon && *host != '[') {
        if (colon + 1 == end)
            return false;
        for (const char *p = colon + 1; p < end; p++)
            if (!isdigit((unsigned char)*p))
                return false;
    }
    return true;
}

static bool env_name_ok(const char *s)
{
    if (!*s || isdigit((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static int read_events(const crm_node *item, const char *path, crm_webhook_cfg *w,
                       crm_err *err)
{
    const crm_node *ev = crm_node_get(item, "events");
    char p[200];
    snprintf(p, sizeof p, "%s.events", path);
    if (!ev)
        return crm_node_error(item, path, err, "missing key `events` (a list of event "
                              "patterns: [\"order.*\", \"deal.won\"])");
    if (ev->kind != CRM_NODE_SEQ || ev->n_items == 0)
        return crm_node_expected(ev, p, "a non-empty list of event patterns "
                                 "([\"order.*\", \"deal.won\"])", err);
    for (size_t i = 0; i < ev->n_items; i++) {
        const crm_node *e = ev->items[i];
        if (e->kind != CRM_NODE_SCALAR || e->is_null || !crm_bus_pattern_valid(e->value))
            return crm_node_expected(e, p, "an event pattern (\"order.placed\", \"order.*\" "
                                     "or \"*\")", err);
    }
    if (w) {
        w->events = calloc(ev->n_items + 1, sizeof *w->events);
        if (!w->events)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
        for (size_t i = 0; i < ev->n_items; i++)
            w->events[i] = ev->items[i]->value;
        w->n_events = ev->n_items;
    }
    return CRM_OK;
}

static int read_item(const crm_node *item, const char *path, crm_webhook_cfg *w, crm_err *err)
{
    if (item->kind != CRM_NODE_MAP)
        return crm_node_expected(item, path, "a map {url, events, secret_env}", err);
    int rc = check_keys(item, path, err);
    const char *url = NULL, *senv = NULL, *name = NULL;
    long timeout = 0;
    char p[200];
    if (rc == CRM_OK)
        rc = crm_drv_string(item, path, "url", true, &url, err);
    if (rc == CRM_OK && !url_ok(url)) {
        snprintf(p, sizeof p, "%s.url", path);
        rc = crm_node_expected(crm_node_get(item, "url"), p,
                               "an http:// or https:// URL with a host", err);
    }
    if (rc == CRM_OK)
        rc = crm_drv_string(item, path, "secret_env", true, &senv, err);
    if (rc == CRM_OK && !env_name_ok(senv)) {
        snprintf(p, sizeof p, "%s.secret_env", path);
        rc = crm_node_expected(crm_node_get(item, "secret_env"), p,
                               "an environment variable name (CRM_WEBHOOK_SECRET)", err);
    }
    if (rc == CRM_OK)
        rc = crm_drv_string(item, path, "name", false, &name, err);
    if (rc == CRM_OK)
        rc = crm_drv_millis(item, path, "timeout", 10000, &timeout, err);
    if (rc == CRM_OK)
        rc = read_events(item, path, w, err);
    if (rc == CRM_OK && w)
        *w = (crm_webhook_cfg){.name = name ? name : url, .url = url, .events = w->events,
                               .n_events = w->n_events, .secret_env = senv,
                               .timeout_ms = timeout, .node = item};
    return rc;
}

static int check_distinct(const crm_node *n, crm_err *err)
{
    for (size_t i = 0; i < n->n_items; i++)
        for (size_t j = 0; j < i; j++) {
            const crm_node *a = crm_node_get(n->items[i], "name");
            const crm_node *b = crm_node_get(n->items[j], "name");
            const char *na = a ? a->value : crm_node_get(n->items[i], "url")->value;
            const char *nb = b ? b->value : crm_node_get(n->items[j], "url")->value;
            if (strcmp(na, nb) == 0) {
                char p[64];
                snprintf(p, sizeof p, "webhooks[%zu]", i);
                return crm_node_error(a ? a : n->items[i], p, err,
                                      "endpoint '%s' is declared twice (also webhooks[%zu]): "
                                      "give each a distinct `name`", na, j);
            }
        }
    return CRM_OK;
}

void crm_webhook_cfg_free(crm_webhook_cfg *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].events);
    free(v);
}

int crm_webhook_config(const crm_node *n, crm_webhook_cfg **out, size_t *n_out, crm_err *err)
{
    if (out) {
        *out = NULL;
        *n_out = 0;
    }
    if (!n || (n->kind == CRM_NODE_SCALAR && n->is_null))
        return CRM_OK;
    if (n->kind != CRM_NODE_SEQ)
        return crm_node_expected(n, "webhooks", "a list of {url, events, secret_env}", err);
    crm_webhook_cfg *v = out ? calloc(n->n_items + 1, sizeof *v) : NULL;
    if (out && !v)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < n->n_items; i++) {
        char path[64];
        snprintf(path, sizeof path, "webhooks[%zu]", i);
        rc = read_item(n->items[i], path, v ? &v[i] : NULL, err);
    }
    if (rc == CRM_OK)
        rc = check_distinct(n, err);
    if (rc != CRM_OK || !out) {
        crm_webhook_cfg_free(v, n->n_items);
        return rc;
    }
    *out = v;
    *n_out = n->n_items;
    return CRM_OK;
}

/* Contact sets named by plugins (SDK 1.3 register_contact_set): the kernel
 * knows no segments, so `--segment NAME` is resolved here by asking each
 * provider in load order. A provider runs with its plugin's rights; the ids
 * it hands over are collected in memory, sorted and made unique. */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "internal.h"

typedef struct id_sink {
    int64_t *v;
    size_t n, cap;
    int failed; /* out of memory */
} id_sink;

static int sink_add(void *ud, int64_t id)
{
    id_sink *s = ud;
    if (CRM_ARRAY_RESERVE(s->v, s->cap, s->n + 1) != CRM_OK) {
        s->failed = 1;
        return CRM_ENOMEM;
    }
    s->v[s->n++] = id;
    return CRM_OK;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t sort_unique(int64_t *v, size_t n)
{
    if (n < 2)
        return n;
    qsort(v, n, sizeof *v, cmp_id);
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[w - 1])
            v[w++] = v[i];
    return w;
}

/* One provider's answer: CRM_OK with the ids in s, or its error code. */
static int ask(crm_plugin_ctx *p, const char *name, id_sink *s)
{
    plug_frame f;
    p->error[0] = '\0';
    crm_plug_enter(p, &f);
    int rc = p->set_fn(p, name, sink_add, s, p->set_ud);
    crm_plug_leave(p, &f);
    if (rc == CRM_OK && s->failed)
        rc = crm_plug_fail(p, CRM_ENOMEM, "out of memory collecting the set's contacts");
    return rc;
}

int crm_plugin_host_contact_set(crm_kernel *k, const char *name, int64_t **ids, size_t *n,
                                crm_err *err)
{
    *ids = NULL;
    *n = 0;
    crm_plugin_host *h = k->plugins;
    char why[1024] = "";
    size_t len = 0, providers = 0;
    for (size_t i = 0; h && i < h->n_order; i++) {
        crm_plugin_ctx *p = h->order[i];
        if (!p->set_fn || p->state != PLUG_STARTED)
            continue;
        providers++;
        id_sink s = {0};
        int rc = ask(p, name, &s);
        if (rc == CRM_OK) {
            *n = sort_unique(s.v, s.n);
            *ids = s.v;
            return CRM_OK;
        }
        free(s.v);
        const char *msg = p->error[0] ? p->error : crm_err_name(rc);
        if (rc != CRM_ENOTFOUND)
            return crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "--segment %s: plugin %s: %s",
                               name, p->name, msg);
        int w = snprintf(why + len, sizeof why - len, "%s%s: %s", len ? "; " : "", p->name, msg);
        if (w > 0 && (size_t)w < sizeof why - len)
            len += (size_t)w;
    }
    if (!providers)
        return crm_err_set(err, CRM_EPLUGIN,
                           "--segment %s: no loaded plugin provides segments; enable one in "
                           "crm.yaml (plugins: [segmentation])", name);
    return crm_err_set(err, CRM_ENOTFOUND, "--segment %s: %s", name, why);
}

/* Host API, configuration: the values of the keys a plugin declared with
 * declare_config_key (crm.yaml, else the declared default). */
#include <stdio.h>

#include "api.h"

/* ---- configuration ------------------------------------------------------------------ */

/* The node giving key's value (from crm.yaml, else the default in *tmp), or
 * NULL when neither. */
static const crm_node *config_node(crm_plugin_ctx *p, const char *key, crm_config_type type,
                                   crm_node *tmp, int *rc)
{
    const plug_key *k = crm_plug_key(p, key);
    *rc = CRM_OK;
    if (!k || k->type != type) {
        *rc = crm_plug_fail(p, k ? CRM_EUSAGE : CRM_ENOTFOUND,
                            "config key '%s' %s", key,
                            k ? "is declared with another type" : "was not declared");
        return NULL;
    }
    const crm_node *sec = crm_config_section(p->host->k->cfg, p->name);
    const crm_node *n = sec && sec->kind == CRM_NODE_MAP ? crm_node_path(sec, key) : NULL;
    if (n && !(n->kind == CRM_NODE_SCALAR && n->is_null))
        return n;
    if (!k->def)
        return NULL;
    *tmp = (crm_node){.kind = CRM_NODE_SCALAR, .value = k->def, .file = "default"};
    return tmp;
}

static int config_fail(crm_plugin_ctx *p, const crm_err *e)
{
    return crm_plug_fail(p, e->code, "%s", e->msg);
}

int crm_plug_api_config_get_string(crm_plugin_ctx *p, const char *key, const char **out)
{
    crm_node tmp;
    int rc;
    crm_err e = {0};
    char path[256];
    *out = NULL;
    const crm_node *n = config_node(p, key, CRM_CONFIG_STRING, &tmp, &rc);
    snprintf(path, sizeof path, "%s.%s", p->name, key);
    if (n && crm_node_string(n, path, out, &e) != CRM_OK)
        return config_fail(p, &e);
    return rc;
}

int crm_plug_api_config_get_int(crm_plugin_ctx *p, const char *key, int64_t *out)
{
    crm_node tmp;
    int rc;
    crm_err e = {0};
    char path[256];
    *out = 0;
    const crm_node *n = config_node(p, key, CRM_CONFIG_INT, &tmp, &rc);
    snprintf(path, sizeof path, "%s.%s", p->name, key);
    if (n && crm_node_int(n, path, out, &e) != CRM_OK)
        return config_fail(p, &e);
    return rc;
}

int crm_plug_api_config_get_bool(crm_plugin_ctx *p, const char *key, int *out)
{
    crm_node tmp;
    int rc;
    crm_err e = {0};
    char path[256];
    bool b = false;
    *out = 0;
    const crm_node *n = config_node(p, key, CRM_CONFIG_BOOL, &tmp, &rc);
    snprintf(path, sizeof path, "%s.%s", p->name, key);
    if (n && crm_node_bool(n, path, &b, &e) != CRM_OK)
        return config_fail(p, &e);
    *out = b;
    return rc;
}

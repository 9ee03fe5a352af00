/* Host API, kernel writes plugins need (SDK 1.3: sdkwrites): orders through
 * crm_order_add (validation, currency, events, lifecycle; all or nothing)
 * and users read as JSON, the host acting on the plugin's behalf. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "api.h"

static int str_member(json_t *v, const char *what, char **out, crm_err *e)
{
    if (json_is_null(v))
        return CRM_OK;
    if (!json_is_string(v))
        return crm_err_set(e, CRM_EINVAL, "%s: expected a string", what);
    free(*out);
    *out = strdup(json_string_value(v));
    return *out ? CRM_OK : crm_err_set(e, CRM_ENOMEM, "out of memory");
}

static int int_member(json_t *v, const char *what, int64_t *out, crm_err *e)
{
    if (json_is_null(v))
        return CRM_OK;
    if (!json_is_integer(v))
        return crm_err_set(e, CRM_EINVAL, "%s: expected an integer", what);
    *out = json_integer_value(v);
    return CRM_OK;
}

static int line_from_json(json_t *l, size_t i, crm_order_line *line, crm_err *e)
{
    char what[64];
    if (!json_is_object(l))
        return crm_err_set(e, CRM_EINVAL, "lines[%zu]: expected an object", i);
    const char *key;
    json_t *v;
    json_object_foreach(l, key, v) {
        snprintf(what, sizeof what, "lines[%zu].%s", i, key);
        int rc = !strcmp(key, "sku")                ? str_member(v, what, &line->sku, e)
                 : !strcmp(key, "quantity")         ? int_member(v, what, &line->quantity, e)
                 : !strcmp(key, "unit_price_minor") ? int_member(v, what, &line->unit_price, e)
                 : crm_err_set(e, CRM_EINVAL,
                               "%s: unknown field (expected sku, quantity, unit_price_minor)",
                               what);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

static int lines_from_json(json_t *v, crm_order *o, crm_err *e)
{
    if (!json_is_array(v))
        return crm_err_set(e, CRM_EINVAL, "lines: expected an array");
    size_t n = json_array_size(v);
    if (n && !(o->lines = calloc(n, sizeof *o->lines)))
        return crm_err_set(e, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        o->n_lines = i + 1; /* crm_order_clear frees what was filled */
        int rc = line_from_json(json_array_get(v, i), i, &o->lines[i], e);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* Member names follow crm_order_to_json's minor-unit members (total_minor,
 * unit_price_minor); placed_at is epoch seconds (0: now). */
static int order_member(crm_order *o, const char *key, json_t *v, crm_err *e)
{
    if (!strcmp(key, "contact_id"))
        return int_member(v, key, &o->contact_id, e);
    if (!strcmp(key, "external_id"))
        return str_member(v, key, &o->external_id, e);
    if (!strcmp(key, "placed_at"))
        return int_member(v, key, &o->placed_at, e);
    if (!strcmp(key, "total_minor"))
        return int_member(v, key, &o->total, e);
    if (!strcmp(key, "currency"))
        return str_member(v, key, &o->currency, e);
    if (!strcmp(key, "status"))
        return str_member(v, key, &o->status, e);
    if (!strcmp(key, "lines"))
        return lines_from_json(v, o, e);
    return crm_err_set(e, CRM_EINVAL,
                       "unknown order field '%s' (expected contact_id, external_id, placed_at, "
                       "total_minor, currency, status, lines)",
                       key);
}

static int order_from_json(const char *text, crm_order *o, crm_err *e)
{
    json_error_t je;
    json_t *obj = json_loads(text ? text : "", 0, &je);
    int rc = json_is_object(obj)
                 ? CRM_OK
                 : crm_err_set(e, CRM_EINVAL, "expected a JSON object: %s", je.text);
    const char *key;
    json_t *v;
    if (rc == CRM_OK) {
        json_object_foreach(obj, key, v) {
            if ((rc = order_member(o, key, v, e)) != CRM_OK)
                break;
        }
    }
    json_decref(obj);
    return rc;
}

int crm_plugw_order_add_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (id)
        *id = 0;
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_order o = {0};
    int64_t got = 0;
    int rc = order_from_json(json, &o, &e);
    if (rc == CRM_OK && o.contact_id <= 0)
        rc = crm_err_set(&e, CRM_EINVAL, "contact_id: is required");
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_order_add(p->host->k, &o, &got, &e);
    p->host->trusted--;
    crm_order_clear(&o);
    if (id && rc == CRM_OK)
        *id = got;
    return crm_plug_host_result(p, rc, &e);
}

static int user_collect(json_t *u, void *ud)
{
    json_t *arr = ud;
    json_t *copy = json_pack("{sOsOsOsO}", "id", json_object_get(u, "id"), "name",
                             json_object_get(u, "name"), "email", json_object_get(u, "email"),
                             "role", json_object_get(u, "role"));
    return copy && json_array_append_new(arr, copy) == 0 ? 0 : 1;
}

static int users_json(crm_plugin_ctx *p, json_t **out, crm_err *e)
{
    *out = json_array();
    if (!*out)
        return crm_err_set(e, CRM_ENOMEM, "out of memory");
    p->host->trusted++;
    int rc = crm_user_list(p->host->k, user_collect, *out, e);
    p->host->trusted--;
    if (rc > 0) /* the collector stopped: out of memory */
        rc = crm_err_set(e, CRM_ENOMEM, "out of memory");
    return rc;
}

static int dump(crm_plugin_ctx *p, json_t *v, char **json)
{
    *json = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    return *json ? CRM_OK : crm_plug_nomem(p);
}

int crm_plugw_user_list_json(crm_plugin_ctx *p, char **json)
{
    *json = NULL;
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    json_t *arr = NULL;
    int rc = users_json(p, &arr, &e);
    if (rc == CRM_OK)
        rc = dump(p, arr, json);
    json_decref(arr);
    return rc == CRM_OK ? CRM_OK : crm_plug_host_result(p, rc, &e);
}

int crm_plugw_user_find_json(crm_plugin_ctx *p, const char *ref, char **json)
{
    *json = NULL;
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    int64_t id = 0;
    json_t *arr = NULL;
    int rc = ref && *ref ? CRM_OK : crm_err_set(&e, CRM_EUSAGE, "user: expected an id, email or name");
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_user_resolve(p->host->k, ref, &id, &e);
    p->host->trusted--;
    if (rc == CRM_OK)
        rc = users_json(p, &arr, &e);
    size_t i;
    json_t *u;
    json_array_foreach(rc == CRM_OK ? arr : NULL, i, u) {
        if (json_integer_value(json_object_get(u, "id")) == id) {
            rc = dump(p, u, json);
            break;
        }
    }
    json_decref(arr);
    return rc == CRM_OK ? CRM_OK : crm_plug_host_result(p, rc, &e);
}

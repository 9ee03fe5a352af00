/* SDK 1.3: the data slot, the table handed to plugins, and the host's
 * formatting helpers (times in a zone from the tz database, reading event
 * payloads with jansson) so no plugin hand-rolls them. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk13.h"
#include "time/civil.h"
#include "time/tz.h"
#include "util.h"

/* ---- the table, the state ---------------------------------------------------------- */

static const crm_host_api *table_override;

void crm_plugin_host_set_table(const crm_host_api *api) { table_override = api; }

const crm_host_api *crm_plug_table(void)
{
    return table_override ? table_override : &crm_plug_api;
}

plug_ext *crm_plug13_ext(crm_plugin_ctx *p)
{
    if (!p->ext)
        p->ext = calloc(1, sizeof *p->ext);
    return p->ext;
}

void crm_plug13_free(crm_plugin_ctx *p)
{
    plug_ext *x = p->ext;
    if (!x)
        return;
    for (size_t i = 0; i < x->n_nodes; i++)
        free(x->nodes[i].path);
    for (size_t i = 0; i < x->n_zones; i++)
        crm_tz_free(x->zones[i]);
    free(x->nodes);
    free(x->zones);
    free(x);
    p->ext = NULL;
}

void crm_plug13_set_data(crm_plugin_ctx *p, void *data)
{
    plug_ext *x = crm_plug13_ext(p);
    if (x)
        x->data = data;
    else
        crm_plug_fail(p, CRM_ENOMEM, "set_data: out of memory");
}

void *crm_plug13_get_data(crm_plugin_ctx *p) { return p->ext ? p->ext->data : NULL; }

/* ---- times ----------------------------------------------------------------------------- */

/* Zone `name`, loaded once per plugin and kept until the kernel closes. */
static int zone(crm_plugin_ctx *p, const char *name, const crm_tz **out)
{
    plug_ext *x = crm_plug13_ext(p);
    if (!x)
        return crm_plug_fail(p, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->n_zones; i++)
        if (strcmp(x->zones[i]->name, name) == 0)
            return *out = x->zones[i], CRM_OK;
    crm_tz **slot = CRM_ARRAY_APPEND(x->zones, x->n_zones);
    if (!slot)
        return crm_plug_fail(p, CRM_ENOMEM, "out of memory");
    crm_tz *tz = NULL;
    crm_err e = {0};
    int rc = crm_tz_load(name, &tz, &e);
    if (rc != CRM_OK) {
        x->n_zones--; /* the slot stays allocated, unused */
        return crm_plug_fail(p, rc, "format_time: %s", e.msg);
    }
    *slot = tz;
    *out = tz;
    return CRM_OK;
}

int crm_plug13_format_time(crm_plugin_ctx *p, int64_t t, const char *zone_name, char *buf,
                           size_t size)
{
    if (!buf || size < 32)
        return crm_plug_fail(p, CRM_EUSAGE, "format_time: buf needs at least 32 bytes");
    buf[0] = '\0';
    const crm_config *cfg = p->host->k->cfg;
    const char *name = zone_name ? zone_name : cfg && cfg->timezone ? cfg->timezone : "UTC";
    const crm_tz *tz;
    int rc = zone(p, name, &tz);
    if (rc != CRM_OK)
        return rc;
    /* about +-292 billion years fit int64 seconds; ISO 8601 wants 4-digit years */
    if (t < INT64_C(-62135596800) || t > INT64_C(253402300799))
        return crm_plug_fail(p, CRM_EINVAL, "format_time: %lld is outside years 1 to 9999",
                             (long long)t);
    int32_t off = crm_tz_offset(tz, t);
    int64_t local = t + off, days = crm_floor_div(local, 86400), secs = local - days * 86400;
    int y, m, d;
    crm_civil_from_days(days, &y, &m, &d);
    int32_t a = off < 0 ? -off : off;
    char extra[4] = "";
    if (a % 60) /* local mean times before standard time */
        snprintf(extra, sizeof extra, ":%02d", (int)(a % 60));
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d%s", y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), off < 0 ? '-' : '+', (int)(a / 3600),
             (int)(a / 60 % 60), extra);
    return CRM_OK;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* The member at dotted `path` of the object text ("order.id"; a number
 * indexes an array: "lines.0.sku"), with its document in *doc (decref it);
 * NULL with the error set when there is none. */
static json_t *member(crm_plugin_ctx *p, const char *json, const char *path, json_t **doc,
                      int *rc)
{
    json_error_t je;
    *doc = json ? json_loads(json, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(*doc)) {
        *rc = crm_plug_fail(p, CRM_EINVAL, "json: not a JSON object%s%s", json ? ": " : "",
                            json && !*doc ? je.text : "");
        return NULL;
    }
    json_t *v = *doc;
    const char *s = path ? path : "";
    while (v) {
        size_t len = strcspn(s, ".");
        char key[256];
        if (len == 0 || len >= sizeof key || !(json_is_object(v) || json_is_array(v))) {
            v = NULL;
            break;
        }
        memcpy(key, s, len);
        key[len] = '\0';
        if (json_is_object(v))
            v = json_object_get(v, key);
        else if (strspn(key, "0123456789") == len && len < 10)
            v = json_array_get(v, strtoul(key, NULL, 10));
        else
            v = NULL;
        if (!s[len])
            break;
        s += len + 1;
    }
    if (!v || json_is_null(v)) {
        *rc = crm_plug_fail(p, CRM_ENOTFOUND, "json: no member '%s'", path ? path : "");
        return NULL;
    }
    *rc = CRM_OK;
    return v;
}

static const char *kind_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    default: return "a boolean";
    }
}

int crm_plug13_json_get_int(crm_plugin_ctx *p, const char *json, const char *path, int64_t *out)
{
    json_t *doc;
    int rc;
    *out = 0;
    json_t *v = member(p, json, path, &doc, &rc);
    if (v && !json_is_integer(v))
        rc = crm_plug_fail(p, CRM_EINVAL, "json: member '%s' is %s, not an integer", path,
                           kind_name(v));
    else if (v)
        *out = json_integer_value(v);
    json_decref(doc);
    return rc;
}

int crm_plug13_json_get_string(crm_plugin_ctx *p, const char *json, const char *path, char *buf,
                               size_t size)
{
    json_t *doc;
    int rc;
    if (buf && size)
        buf[0] = '\0';
    json_t *v = member(p, json, path, &doc, &rc);
    if (v && !json_is_string(v))
        rc = crm_plug_fail(p, CRM_EINVAL, "json: member '%s' is %s, not a string", path,
                           kind_name(v));
    else if (v && (!buf || json_string_length(v) >= size))
        rc = crm_plug_fail(p, CRM_EUSAGE, "json: member '%s' needs a buffer of %zu bytes", path,
                           json_string_length(v) + 1);
    else if (v)
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
    json_decref(doc);
    return rc;
}

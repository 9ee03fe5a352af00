/* Host API, kernel entities: contacts, interactions and consents written
 * through the model (validated, normalised, emitting events), the host
 * acting on the plugin's behalf. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"
#include "api.h"

int crm_plug_api_contact_get_json(crm_plugin_ctx *p, int64_t id, char **json)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_contact c = {0};
    *json = NULL;
    p->host->trusted++;
    int rc = crm_contact_get(p->host->k, id, &c, &e);
    p->host->trusted--;
    if (rc != CRM_OK)
        return crm_plug_host_result(p, rc, &e);
    json_t *o = crm_contact_to_json(&c);
    *json = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    crm_contact_clear(&c);
    return *json ? CRM_OK : crm_plug_nomem(p);
}

/* Fills c from a JSON object of contact fields. Read-only fields of the
 * contact's own JSON (id, created_at, updated_at, phone_type: derived from
 * phone) are ignored so a plugin may send back what it read. */
static int contact_set(crm_contact *c, const char *key, json_t *v, crm_err *e)
{
    static const char *const ignored[] = {"id",         "created_at", "updated_at",
                                          "company_id", "phone_type", NULL};
    if (crm_str_in(key, ignored))
        return CRM_OK;
    if (strcmp(key, "tags") == 0 && json_is_array(v)) {
        if (!c->tags && !(c->tags = calloc(1, sizeof *c->tags)))
            return crm_err_set(e, CRM_ENOMEM, "out of memory");
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) {
            if (!json_is_string(t) || crm_contact_add_tag(c, json_string_value(t)) != CRM_OK)
                return crm_err_set(e, CRM_EINVAL, "tags: expected an array of strings");
        }
        return CRM_OK;
    }
    if (strcmp(key, "custom") == 0 && json_is_object(v)) {
        const char *name;
        json_t *cv;
        json_object_foreach(v, name, cv) {
            if (!json_is_string(cv))
                return crm_err_set(e, CRM_EINVAL, "custom.%s: expected a string", name);
            if (crm_contact_set_custom(c, name, json_string_value(cv)) != CRM_OK)
                return crm_err_set(e, CRM_ENOMEM, "out of memory");
        }
        return CRM_OK;
    }
    char **field = crm_contact_field_ptr(c, key);
    if (!field)
        return crm_err_set(e, CRM_EINVAL, "unknown contact field '%s'", key);
    if (!json_is_string(v) && !json_is_null(v))
        return crm_err_set(e, CRM_EINVAL, "contact field '%s': expected a string or null", key);
    free(*field);
    *field = strdup(json_is_string(v) ? json_string_value(v) : "");
    return *field ? CRM_OK : crm_err_set(e, CRM_ENOMEM, "out of memory");
}

static int contact_from_json(const char *text, crm_contact *c, crm_err *e)
{
    json_error_t je;
    json_t *o = json_loads(text ? text : "", 0, &je);
    int rc = json_is_object(o) ? CRM_OK
                               : crm_err_set(e, CRM_EINVAL, "expected a JSON object: %s", je.text);
    const char *key;
    json_t *v;
    if (rc == CRM_OK) {
        json_object_foreach(o, key, v) {
            if ((rc = contact_set(c, key, v, e)) != CRM_OK)
                break;
        }
    }
    json_decref(o);
    return rc;
}

int crm_plug_api_contact_add_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_contact c = {0};
    int64_t got = 0;
    int rc = contact_from_json(json, &c, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_contact_add(p->host->k, &c, &got, &e);
    p->host->trusted--;
    crm_contact_clear(&c);
    if (id)
        *id = got;
    return crm_plug_host_result(p, rc, &e);
}

int crm_plug_api_contact_update_json(crm_plugin_ctx *p, int64_t id, const char *json)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_contact c = {0};
    int rc = contact_from_json(json, &c, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_contact_update(p->host->k, id, &c, &e);
    p->host->trusted--;
    crm_contact_clear(&c);
    return crm_plug_host_result(p, rc, &e);
}

/* A JSON object's members mapped onto struct fields, as data. */
typedef struct json_field {
    const char *name;
    size_t offset;
    bool is_int;
} json_field;

static int fields_from_json(const char *text, const json_field *fields, void *out, crm_err *e)
{
    json_error_t je;
    json_t *o = json_loads(text ? text : "", 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return crm_err_set(e, CRM_EINVAL, "expected a JSON object: %s", je.text);
    }
    const char *key;
    json_t *v;
    int rc = CRM_OK;
    json_object_foreach(o, key, v) {
        const json_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        char *slot = (char *)out + (f->name ? f->offset : 0);
        if (!f->name)
            rc = crm_err_set(e, CRM_EINVAL, "unknown field '%s'", key);
        else if (f->is_int && json_is_integer(v))
            *(int64_t *)(void *)slot = json_integer_value(v);
        else if (!f->is_int && json_is_string(v))
            rc = (*(char **)(void *)slot = strdup(json_string_value(v)))
                     ? CRM_OK
                     : crm_err_set(e, CRM_ENOMEM, "out of memory");
        else if (!json_is_null(v))
            rc = crm_err_set(e, CRM_EINVAL, "field '%s': expected %s", key,
                             f->is_int ? "an integer" : "a string");
        if (rc != CRM_OK)
            break;
    }
    json_decref(o);
    return rc;
}

#define JF_STR(type, name) {#name, offsetof(type, name), false}
#define JF_INT(type, name) {#name, offsetof(type, name), true}

static const json_field interaction_fields[] = {
    JF_INT(crm_interaction, contact_id), JF_STR(crm_interaction, channel),
    JF_STR(crm_interaction, direction),  JF_STR(crm_interaction, subject),
    JF_STR(crm_interaction, body),       JF_INT(crm_interaction, occurred_at),
    JF_STR(crm_interaction, author),     JF_STR(crm_interaction, external_id),
    {NULL, 0, false},
};

static const json_field consent_fields[] = {
    JF_INT(crm_consent, contact_id), JF_STR(crm_consent, channel),     JF_STR(crm_consent, purpose),
    JF_STR(crm_consent, status),     JF_INT(crm_consent, recorded_at), JF_STR(crm_consent, source),
    {NULL, 0, false},
};

int crm_plug_api_interaction_log_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_interaction it = {0};
    int64_t got = 0;
    int rc = fields_from_json(json, interaction_fields, &it, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_interaction_log(p->host->k, &it, &got, &e);
    p->host->trusted--;
    crm_interaction_clear(&it);
    if (id)
        *id = got;
    return crm_plug_host_result(p, rc, &e);
}

int crm_plug_api_consent_record_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    crm_consent c = {0};
    int64_t got = 0;
    int rc = fields_from_json(json, consent_fields, &c, &e);
    p->host->trusted++;
    if (rc == CRM_OK)
        rc = crm_consent_record(p->host->k, &c, &got, &e);
    p->host->trusted--;
    crm_consent_clear(&c);
    if (id)
        *id = got;
    return crm_plug_host_result(p, rc, &e);
}

/* Host API, events: a plugin emits its own entities' events on the bus and
 * reads the events its handlers receive. */
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "events.h"
#include "util.h"
#include "api.h"

/* ---- events --------------------------------------------------------------------------- */

static const char *const kernel_entities[] = {
    "contact", "company", "order", "product", "interaction", "consent", "user", "task", NULL,
};

static int emit_checked(crm_plugin_ctx *p, const char *type, json_t *payload, crm_err *e)
{
    crm_kernel *k = p->host->k;
    bool own_txn = crm_store_depth(k->store) == 0;
    int rc = own_txn ? crm_kernel_begin(k, e) : CRM_OK;
    if (rc != CRM_OK) {
        json_decref(payload);
        return rc;
    }
    rc = crm_event_emit(k, type, payload, NULL, e);
    if (own_txn && rc == CRM_OK)
        rc = crm_kernel_commit(k, e);
    else if (own_txn)
        crm_kernel_rollback(k);
    return rc;
}

int crm_plug_api_emit_event(crm_plugin_ctx *p, const char *type, const char *payload_json)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    char entity[32] = ""; /* longer than any kernel entity: then it is none of them */
    size_t len = type ? strcspn(type, ".") : 0;
    if (type && len < sizeof entity)
        snprintf(entity, sizeof entity, "%.*s", (int)len, type);
    if (crm_str_in(entity, kernel_entities))
        return crm_plug_fail(p, CRM_EDENIED,
                             "emit_event '%s': %s.* events are the kernel's; name your "
                             "own entity",
                             type, entity);
    json_error_t je;
    json_t *payload = json_loads(payload_json ? payload_json : "{}", 0, &je);
    if (!json_is_object(payload)) {
        json_decref(payload);
        return crm_plug_fail(p, CRM_EINVAL, "emit_event '%s': payload is not a JSON object",
                             type ? type : "(null)");
    }
    crm_err e = {0};
    p->host->trusted++;
    int rc = emit_checked(p, type, payload, &e);
    p->host->trusted--;
    return crm_plug_host_result(p, rc, &e);
}

static const crm_event *ev_of(const crm_plugin_event *v) { return v->ev; }
int64_t crm_plug_api_event_id(const crm_plugin_event *v) { return ev_of(v)->id; }
const char *crm_plug_api_event_type(const crm_plugin_event *v) { return ev_of(v)->type; }
const char *crm_plug_api_event_payload(const crm_plugin_event *v) { return ev_of(v)->payload; }
const char *crm_plug_api_event_source(const crm_plugin_event *v) { return ev_of(v)->source; }
int64_t crm_plug_api_event_created_at(const crm_plugin_event *v) { return ev_of(v)->created_at; }

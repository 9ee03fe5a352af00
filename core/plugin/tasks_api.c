/* SDK 1.3 tasks: a plugin adds, completes and lists kernel tasks (a deal's
 * follow-up, a ticket's call back) through the kernel's model, so they are
 * validated and emit their events like `crm task`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "plugin/tasks_api.h"

static int no_db(crm_plugin_ctx *p)
{
    return p->host->k->store ? CRM_OK
                             : crm_plug_fail(p, CRM_EBUSY, "no database during init: use task "
                                                           "calls from start on");
}

static int result(crm_plugin_ctx *p, int rc, const crm_err *e)
{
    return rc == CRM_OK ? CRM_OK : crm_plug_fail(p, rc, "%s", e->msg);
}

static json_t *object_of(crm_plugin_ctx *p, const char *text, bool allow_null, int *rc)
{
    *rc = CRM_OK;
    if (!text && allow_null)
        return json_object();
    json_error_t je;
    json_t *o = json_loads(text ? text : "", 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        *rc = crm_plug_fail(p, CRM_EINVAL, "expected a JSON object: %s", je.text);
        return NULL;
    }
    return o;
}

/* Member `key` as a copied string (absent or null leaves *dst NULL). */
static int take_string(crm_plugin_ctx *p, json_t *o, const char *key, char **dst)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return CRM_OK;
    if (!json_is_string(v))
        return crm_plug_fail(p, CRM_EINVAL, "field '%s': expected a string", key);
    return (*dst = strdup(json_string_value(v))) ? CRM_OK
                                                  : crm_plug_fail(p, CRM_ENOMEM, "out of memory");
}

static int take_int(crm_plugin_ctx *p, json_t *o, const char *key, int64_t *dst)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return CRM_OK;
    if (!json_is_integer(v))
        return crm_plug_fail(p, CRM_EINVAL, "field '%s': expected an integer", key);
    *dst = json_integer_value(v);
    return CRM_OK;
}

static int check_keys(crm_plugin_ctx *p, json_t *o, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        (void)v;
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i])
            return crm_plug_fail(p, CRM_EINVAL, "unknown field '%s'", key);
    }
    return CRM_OK;
}

int crm_plugtask_add_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    static const char *const known[] = {"subject", "kind",  "due_at", "contact_id",
                                        "assignee", "ref", "notes",  NULL};
    if (id)
        *id = 0;
    int rc = no_db(p);
    json_t *o = rc == CRM_OK ? object_of(p, json, false, &rc) : NULL;
    crm_task t = {0};
    if (rc == CRM_OK)
        rc = check_keys(p, o, known);
    if (rc == CRM_OK)
        rc = take_string(p, o, "subject", &t.subject);
    if (rc == CRM_OK)
        rc = take_string(p, o, "kind", &t.kind);
    if (rc == CRM_OK)
        rc = take_int(p, o, "due_at", &t.due_at);
    if (rc == CRM_OK)
        rc = take_int(p, o, "contact_id", &t.contact_id);
    if (rc == CRM_OK)
        rc = take_string(p, o, "assignee", &t.assignee);
    if (rc == CRM_OK)
        rc = take_string(p, o, "ref", &t.ref);
    if (rc == CRM_OK)
        rc = take_string(p, o, "notes", &t.notes);
    json_decref(o);
    if (rc == CRM_OK) {
        crm_err e = {0};
        int64_t got = 0;
        p->host->trusted++;
        rc = result(p, crm_task_add(p->host->k, &t, &got, &e), &e);
        p->host->trusted--;
        if (id)
            *id = got;
    }
    crm_task_clear(&t);
    return rc;
}

int crm_plugtask_complete(crm_plugin_ctx *p, int64_t id)
{
    int rc = no_db(p);
    if (rc != CRM_OK)
        return rc;
    crm_err e = {0};
    p->host->trusted++;
    rc = result(p, crm_task_complete(p->host->k, id, &e), &e);
    p->host->trusted--;
    return rc;
}

static int collect_one(const crm_task *t, void *ud)
{
    return json_array_append_new(ud, crm_task_to_json(t)) == 0 ? 0 : CRM_ENOMEM;
}

int crm_plugtask_list_json(crm_plugin_ctx *p, const char *filter_json, char **out_json)
{
    static const char *const known[] = {"status", "contact_id", "assignee", "ref", "overdue",
                                        NULL};
    if (out_json)
        *out_json = NULL;
    int rc = no_db(p);
    json_t *o = rc == CRM_OK ? object_of(p, filter_json, true, &rc) : NULL;
    crm_task_filter f = {.status = "open"};
    char *status = NULL, *assignee = NULL, *ref = NULL;
    crm_err e = {0};
    if (rc == CRM_OK)
        rc = check_keys(p, o, known);
    if (rc == CRM_OK)
        rc = take_string(p, o, "status", &status);
    if (rc == CRM_OK)
        rc = take_int(p, o, "contact_id", &f.contact_id);
    if (rc == CRM_OK)
        rc = take_string(p, o, "assignee", &assignee);
    if (rc == CRM_OK)
        rc = take_string(p, o, "ref", &ref);
    json_t *overdue = o ? json_object_get(o, "overdue") : NULL;
    if (rc == CRM_OK && overdue && !json_is_boolean(overdue))
        rc = crm_plug_fail(p, CRM_EINVAL, "field 'overdue': expected true or false");
    if (rc == CRM_OK && json_is_true(overdue))
        f.overdue_at = p->host->k->now;
    if (rc == CRM_OK && status) {
        if (strcmp(status, "all") == 0)
            f.status = NULL;
        else if (strcmp(status, "open") == 0 || strcmp(status, "done") == 0 ||
                 strcmp(status, "cancelled") == 0)
            f.status = status;
        else
            rc = crm_plug_fail(p, CRM_EINVAL,
                               "field 'status': '%s' is not open, done, cancelled or all", status);
    }
    p->host->trusted++;
    if (rc == CRM_OK && assignee &&
        (rc = crm_user_resolve(p->host->k, assignee, &f.assignee_id, &e)) != CRM_OK)
        rc = result(p, rc, &e);
    f.ref = ref;
    json_t *array = json_array();
    if (rc == CRM_OK)
        rc = result(p, crm_task_list(p->host->k, &f, collect_one, array, &e), &e);
    p->host->trusted--;
    if (rc == CRM_OK && out_json && !(*out_json = json_dumps(array, JSON_COMPACT)))
        rc = crm_plug_fail(p, CRM_ENOMEM, "out of memory");
    json_decref(array);
    json_decref(o);
    free(status);
    free(assignee);
    free(ref);
    return rc;
}

/* `crm contact export-data`: everything held about one person, the kernel's
 * and each plugin's, as one JSON document (GDPR articles 15 and 20). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model/model_util.h"
#include "privacy/privacy.h"
#include "privacy/privacy_int.h"

json_t *crm_privacy_row_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    for (int c = 0; c < sqlite3_column_count(st); c++) {
        json_t *v;
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(st, c)); break;
        case SQLITE_FLOAT: v = json_real(sqlite3_column_double(st, c)); break;
        case SQLITE_NULL: v = json_null(); break;
        default: v = json_string((const char *)sqlite3_column_text(st, c)); break;
        }
        json_object_set_new(o, sqlite3_column_name(st, c), v ? v : json_null());
    }
    return o;
}

int crm_privacy_rows(crm_kernel *k, const char *sql, int64_t id, json_t *array, crm_err *err)
{
    sqlite3 *db = crm_store_db(k->store);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return crm_store_error(k->store, "cannot read personal data", err);
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++)
        sqlite3_bind_int64(st, i, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(array, crm_privacy_row_json(st));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot read personal data", err);
}

static int push_json(json_t *item, void *ud)
{
    json_array_append(ud, item);
    return 0;
}

static int push_order(const crm_order *o, void *ud)
{
    json_array_append_new(ud, crm_order_to_json(o));
    return 0;
}

static int push_task(const crm_task *t, void *ud)
{
    json_array_append_new(ud, crm_task_to_json(t));
    return 0;
}

static int interactions(crm_kernel *k, int64_t id, json_t *out, crm_err *err)
{
    json_t *ids = json_array();
    int rc = crm_privacy_rows(k, "SELECT id FROM interactions WHERE contact_id=? ORDER BY "
                                 "occurred_at, id", id, ids, err);
    size_t i;
    json_t *row;
    json_array_foreach(ids, i, row) {
        if (rc != CRM_OK)
            break;
        crm_interaction it;
        rc = crm_interaction_get(k, json_integer_value(json_object_get(row, "id")), &it, err);
        if (rc == CRM_OK)
            json_array_append_new(out, crm_interaction_to_json(&it));
        crm_interaction_clear(&it);
    }
    json_decref(ids);
    return rc;
}

/* One plugin's part: {"tables": {NAME: [rows]}, "data": its export callback's value}. */
static int plugin_part(crm_kernel *k, crm_plugin_ctx *p, int64_t id, json_t **out, crm_err *err)
{
    plug_privacy *pv = p->privacy;
    json_t *part = json_object(), *tables = json_object();
    json_object_set_new(part, "tables", tables);
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < pv->n_tables; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" WHERE \"%s\"=?", pv->tables[i].table,
                 pv->tables[i].column);
        json_t *rows = json_array();
        json_object_set_new(tables, pv->tables[i].table, rows);
        rc = crm_privacy_rows(k, sql, id, rows, err);
    }
    if (rc == CRM_OK && pv->export_fn) {
        char *text = NULL;
        plug_frame f;
        p->error[0] = '\0';
        crm_plug_enter(p, &f);
        int prc = pv->export_fn(p, id, &text, pv->ud);
        crm_plug_leave(p, &f);
        json_error_t je;
        json_t *v = prc == CRM_OK && text ? json_loads(text, JSON_DECODE_ANY, &je) : NULL;
        free(text);
        if (prc != CRM_OK)
            rc = crm_err_set(err, CRM_EPLUGIN, "plugin '%s': export failed: %s",
                             p->name, p->error[0] ? p->error : "no message");
        else if (!v)
            rc = crm_err_set(err, CRM_EPLUGIN, "plugin '%s': its export is not JSON", p->name);
        else
            json_object_set_new(part, "data", v);
    }
    if (rc == CRM_OK)
        *out = part;
    else
        json_decref(part);
    return rc;
}

int crm_privacy_export(crm_kernel *k, int64_t id, json_t **out, crm_err *err)
{
    *out = NULL;
    crm_contact c;
    int rc = crm_contact_get(k, id, &c, err);
    if (rc != CRM_OK)
        return rc;
    json_t *doc = json_object();
    json_object_set_new(doc, "exported_at", crm_json_time(k->now));
    json_object_set_new(doc, "contact", crm_contact_to_json(&c));
    crm_contact_clear(&c);
    json_t *consents = json_array(), *inter = json_array(), *orders = json_array(),
           *tasks = json_array(), *history = json_array(), *merges = json_array(),
           *events = json_array(), *plugins = json_object(), *messages = json_array();
    json_object_set_new(doc, "consents", consents);
    json_object_set_new(doc, "interactions", inter);
    json_object_set_new(doc, "orders", orders);
    json_object_set_new(doc, "tasks", tasks);
    json_object_set_new(doc, "contact_history", history);
    json_object_set_new(doc, "merges", merges);
    json_object_set_new(doc, "events", events);
    json_t *carts = json_array();
    json_object_set_new(doc, "carts", carts);
    json_object_set_new(doc, "messages", messages);
    json_object_set_new(doc, "plugins", plugins);
    rc = crm_consent_list(k, id, true, push_json, consents, err);
    if (rc == CRM_OK)
        rc = interactions(k, id, inter, err);
    if (rc == CRM_OK)
        rc = crm_order_list(k, id, NULL, 0, 0, push_order, orders, err);
    crm_task_filter tf = {.contact_id = id};
    if (rc == CRM_OK)
        rc = crm_task_list(k, &tf, push_task, tasks, err);
    if (rc == CRM_OK)
        rc = crm_contact_history(k, id, push_json, history, err);
    if (rc == CRM_OK)
        rc = crm_privacy_rows(k, "SELECT * FROM contact_merges WHERE keep_id=?1 OR other_id=?1"
                                 " ORDER BY id", id, merges, err);
    if (rc == CRM_OK)
        rc = crm_privacy_rows(k, CRM_PRIVACY_EVENTS_SQL, id, events, err);
    if (rc == CRM_OK) /* with their lines as JSON text, one row per cart */
        rc = crm_privacy_rows(k, "SELECT c.*, (SELECT json_group_array(json_object('sku', sku,"
                                 " 'name', name, 'quantity', quantity, 'unit_price', unit_price))"
                                 " FROM cart_lines WHERE cart_id = c.id) AS lines"
                                 " FROM carts c WHERE contact_id=? ORDER BY id", id, carts, err);
    if (rc == CRM_OK) /* the outbox: what was sent to the person, or kept from them */
        rc = crm_privacy_rows(k, "SELECT id, channel, purpose, template, status, reason,"
                                 " to_address, subject, body_text, body_html, created_at,"
                                 " scheduled_at, sent_at FROM messages WHERE contact_id=?"
                                 " ORDER BY id", id, messages, err);
    /* payloads as objects, not as text inside the document */
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        json_t *p = json_loads(json_string_value(json_object_get(ev, "payload")), 0, NULL);
        if (p)
            json_object_set_new(ev, "payload", p);
    }
    crm_plugin_host *h = k->plugins;
    for (size_t n = 0; rc == CRM_OK && h && n < h->n_order; n++) {
        crm_plugin_ctx *p = h->order[n];
        json_t *part = NULL;
        if (p->privacy && (rc = plugin_part(k, p, id, &part, err)) == CRM_OK)
            json_object_set_new(plugins, p->name, part);
    }
    if (rc == CRM_OK)
        *out = doc;
    else
        json_decref(doc);
    return rc;
}

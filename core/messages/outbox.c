/* The outbox's queue path (outbox.h): a request becomes a stored message. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "messages/message_data.h"
#include "messages/outbox.h"
#include "messages/outbox_int.h"
#include "store.h"
#include "time/timer.h"
#include "util.h"

const char *const crm_message_purposes[] = {"transactional", "service", "marketing", NULL};
const char *const crm_message_statuses[] = {"queued", "held", "sent", "failed", "suppressed",
                                            NULL};

crm_outbox *crm_outbox_state(crm_kernel *k)
{
    if (!k->outbox)
        k->outbox = calloc(1, sizeof *k->outbox);
    return k->outbox;
}

void crm_outbox_close(crm_kernel *k)
{
    crm_outbox *o = k->outbox;
    if (!o)
        return;
    for (size_t i = 0; i < o->n_templates; i++)
        crm_template_free(o->templates[i]);
    free(o->templates);
    for (size_t i = 0; i < o->n_drivers; i++)
        crm_driver_close(o->drivers[i].d);
    free(o->drivers);
    free(o->quiet);
    free(o->caps);
    for (size_t i = 0; i < o->n_cals; i++)
        crm_calendar_free(o->cals[i].cal);
    free(o->cals);
    free(o);
    k->outbox = NULL;
}

int crm_outbox_template(crm_kernel *k, const char *name, const crm_template **out,
                        crm_err *err)
{
    crm_outbox *o = crm_outbox_state(k);
    if (!o)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_templates; i++)
        if (strcmp(crm_template_name(o->templates[i]), name) == 0) {
            *out = o->templates[i];
            return CRM_OK;
        }
    char dir[4096];
    crm_template *t;
    int rc = crm_template_load(crm_templates_dir(k->cfg, dir, sizeof dir), name, &t, err);
    if (rc != CRM_OK)
        return rc;
    crm_template **slot = CRM_ARRAY_APPEND(o->templates, o->n_templates);
    if (!slot) {
        crm_template_free(t);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    *slot = t;
    *out = t;
    return CRM_OK;
}

int crm_outbox_emit(crm_kernel *k, const char *verb, int64_t id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT contact_id, channel, purpose, template, status, reason, source"
                  " FROM messages WHERE id=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return crm_store_error(k->store, "cannot read the message", err);
    }
    const char *reason = (const char *)sqlite3_column_text(st, 5);
    json_t *p = json_pack("{sIsIssssssssss*ss}", "message_id", (json_int_t)id, "contact_id",
                          (json_int_t)sqlite3_column_int64(st, 0), "channel",
                          (const char *)sqlite3_column_text(st, 1), "purpose",
                          (const char *)sqlite3_column_text(st, 2), "template",
                          (const char *)sqlite3_column_text(st, 3), "status",
                          (const char *)sqlite3_column_text(st, 4), "reason", reason, "source",
                          (const char *)sqlite3_column_text(st, 6));
    sqlite3_reset(st);
    if (!p)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    char type[32];
    snprintf(type, sizeof type, "message.%s", verb);
    return crm_event_emit(k, type, p, NULL, err);
}

/* A key derived from what makes the message what it is, so the same plugin
 * queueing the same template for the same person and data twice sends once. */
static int derive_key(const crm_outbox_req *r, const char *channel, const char *purpose,
                      char *key, size_t size, crm_err *err)
{
    char *data = r->data ? json_dumps(r->data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (r->data && !data)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    crypto_generichash_state h;
    unsigned char out[16];
    char cid[24];
    snprintf(cid, sizeof cid, "%lld", (long long)r->contact_id);
    const char *parts[] = {r->source, r->template, cid, channel, purpose, data ? data : "{}"};
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        crypto_generichash_update(&h, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    crypto_generichash_final(&h, out, sizeof out);
    free(data);
    char hex[2 * sizeof out + 1];
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    snprintf(key, size, "auto:%s", hex);
    return CRM_OK;
}

static int find_key(crm_kernel *k, const char *key, int64_t *id, crm_err *err)
{
    *id = 0;
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT id FROM messages WHERE idem_key=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot look the key up", err);
}

/* The channel: the one asked for (the template must have it), else the
 * template's first the contact has an address for, else its first. */
static int pick_channel(crm_kernel *k, const crm_outbox_req *r, const crm_template *t,
                        const char **channel, char **address, char **name, crm_err *err)
{
    const char *buf[4];
    const char *const *chs = crm_template_channels(t, buf, 4);
    if (r->channel) {
        if (!crm_template_has_channel(t, r->channel))
            return crm_err_set(err, CRM_EINVAL, "field 'channel': template %s has no %s version",
                               crm_template_name(t), r->channel);
        *channel = strcmp(r->channel, "email") == 0 ? "email" : "sms";
        return crm_outbox_address(k, r->contact_id, *channel, address, name, err);
    }
    for (size_t i = 0; chs[i]; i++) {
        free(*address);
        free(*name);
        *address = *name = NULL;
        int rc = crm_outbox_address(k, r->contact_id, chs[i], address, name, err);
        if (rc != CRM_OK)
            return rc;
        *channel = chs[i];
        if (*address)
            return CRM_OK;
    }
    *channel = chs[0];
    return CRM_OK;
}

typedef struct new_msg {
    const crm_outbox_req *r;
    const char *channel, *purpose, *key, *status, *reason, *address, *name;
    const crm_rendered *content;
    int64_t scheduled_at;
} new_msg;

static int insert(crm_kernel *k, const new_msg *m, int64_t *id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO messages(contact_id, channel, purpose, template, source, idem_key,"
        " to_address, to_name, subject, body_text, body_html, status, reason, created_at,"
        " scheduled_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", err);
    if (!st)
        return err->code;
    const char *text[] = {m->channel, m->purpose, m->r->template, m->r->source, m->key,
                          m->address, m->name, m->content->subject, m->content->text,
                          m->content->html, m->status, *m->reason ? m->reason : NULL};
    sqlite3_bind_int64(st, 1, m->r->contact_id);
    for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++)
        sqlite3_bind_text(st, i + 2, text[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 14, k->now);
    sqlite3_bind_int64(st, 15, m->scheduled_at);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot store the message", err);
    *id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    return CRM_OK;
}

static int check_req(const crm_outbox_req *r, crm_err *err)
{
    if (r->contact_id <= 0)
        return crm_err_set(err, CRM_EINVAL, "field 'contact_id': expected a contact id");
    if (!r->template || !*r->template)
        return crm_err_set(err, CRM_EINVAL, "field 'template': expected a template name");
    if (r->channel && strcmp(r->channel, "email") != 0 && strcmp(r->channel, "sms") != 0)
        return crm_err_set(err, CRM_EINVAL, "field 'channel': '%s' is not email or sms",
                           r->channel);
    if (r->purpose && !crm_str_in(r->purpose, crm_message_purposes))
        return crm_err_set(err, CRM_EINVAL,
                           "field 'purpose': '%s' is not transactional, service or marketing",
                           r->purpose);
    if (r->key && (!*r->key || strlen(r->key) > CRM_MESSAGE_MAX_KEY))
        return crm_err_set(err, CRM_EINVAL, "field 'key': expected 1 to %d bytes",
                           CRM_MESSAGE_MAX_KEY);
    if (r->data && !json_is_object(r->data))
        return crm_err_set(err, CRM_EINVAL, "field 'data': expected an object");
    return CRM_OK;
}

/* The message's timer: delivery is the worker's, at scheduled_at. */
int crm_outbox_schedule(crm_kernel *k, int64_t id, int64_t at, crm_err *err)
{
    char key[40];
    snprintf(key, sizeof key, "message:%lld", (long long)id);
    return crm_timer_schedule(k, "kernel", key, at, NULL, NULL, err);
}

static int queue_in_txn(crm_kernel *k, const crm_outbox_req *r, int64_t *id, bool *created,
                        crm_err *err)
{
    const char *purpose = r->purpose ? r->purpose : "transactional";
    const crm_template *t;
    int rc = crm_outbox_template(k, r->template, &t, err);
    const char *channel = NULL;
    char *address = NULL, *name = NULL, key[CRM_MESSAGE_MAX_KEY + 8];
    json_t *data = NULL;
    crm_rendered content = {0};
    if (rc == CRM_OK)
        rc = pick_channel(k, r, t, &channel, &address, &name, err);
    if (rc == CRM_OK && r->key)
        snprintf(key, sizeof key, "%s", r->key);
    else if (rc == CRM_OK)
        rc = derive_key(r, channel, purpose, key, sizeof key, err);
    if (rc == CRM_OK)
        rc = find_key(k, key, id, err);
    if (rc == CRM_OK && *id) /* asked before: the first message stands */
        goto cleanup;
    if (rc == CRM_OK)
        rc = crm_message_data(k, r->contact_id, r->data, &data, err);
    if (rc == CRM_OK)
        rc = crm_template_render(t, channel, data, &content, err);
    const char *status = "queued";
    char reason[160] = "";
    outbox_msg facts = {0, r->contact_id, channel, purpose, address};
    int64_t at = r->at > k->now ? r->at : k->now; /* quiet hours may move it later */
    if (rc == CRM_OK)
        rc = crm_outbox_rules(k, &facts, &at, &status, reason, sizeof reason, err);
    new_msg m = {r, channel, purpose, key, status, reason, address, name, &content, at};
    if (rc == CRM_OK)
        rc = insert(k, &m, id, err);
    if (rc == CRM_OK)
        *created = true;
    if (rc == CRM_OK && strcmp(status, "queued") == 0)
        rc = crm_outbox_schedule(k, *id, m.scheduled_at, err);
    if (rc == CRM_OK)
        rc = crm_outbox_emit(k, strcmp(status, "suppressed") == 0 ? "suppressed" : "queued", *id,
                             err);
cleanup:
    crm_rendered_clear(&content);
    json_decref(data);
    free(address);
    free(name);
    return rc;
}

int crm_outbox_queue(crm_kernel *k, const crm_outbox_req *r, int64_t *id, bool *created,
                     crm_err *err)
{
    int64_t got = 0;
    bool made = false;
    int rc = check_req(r, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = queue_in_txn(k, r, &got, &made, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (id)
        *id = rc == CRM_OK ? got : 0;
    if (created)
        *created = rc == CRM_OK && made;
    return rc;
}

static int member_string(json_t *o, const char *key, const char **out, crm_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return CRM_OK;
    if (!json_is_string(v))
        return crm_err_set(err, CRM_EINVAL, "field '%s': expected a string", key);
    *out = json_string_value(v);
    return CRM_OK;
}

static int member_int(json_t *o, const char *key, int64_t *out, crm_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return CRM_OK;
    if (!json_is_integer(v))
        return crm_err_set(err, CRM_EINVAL, "field '%s': expected an integer", key);
    *out = json_integer_value(v);
    return CRM_OK;
}

int crm_outbox_queue_json(crm_kernel *k, const char *json, const char *source, int64_t *id,
                          crm_err *err)
{
    static const char *const known[] = {"contact_id", "template", "channel", "purpose",
                                        "key",        "at",       "data",    NULL};
    if (id)
        *id = 0;
    json_error_t je;
    json_t *o = json_loads(json ? json : "", 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return crm_err_set(err, CRM_EINVAL, "expected a JSON object: %s", je.text);
    }
    int rc = CRM_OK;
    const char *name;
    json_t *v;
    json_object_foreach(o, name, v) {
        if (!crm_str_in(name, known)) {
            rc = crm_err_set(err, CRM_EINVAL, "unknown field '%s' (known: contact_id, template, "
                             "channel, purpose, key, at, data)", name);
            break;
        }
    }
    crm_outbox_req r = {.source = source};
    if (rc == CRM_OK && !json_object_get(o, "contact_id"))
        rc = crm_err_set(err, CRM_EINVAL, "field 'contact_id' is required");
    if (rc == CRM_OK)
        rc = member_int(o, "contact_id", &r.contact_id, err);
    if (rc == CRM_OK)
        rc = member_string(o, "template", &r.template, err);
    if (rc == CRM_OK)
        rc = member_string(o, "channel", &r.channel, err);
    if (rc == CRM_OK)
        rc = member_string(o, "purpose", &r.purpose, err);
    if (rc == CRM_OK)
        rc = member_string(o, "key", &r.key, err);
    if (rc == CRM_OK)
        rc = member_int(o, "at", &r.at, err);
    r.data = json_object_get(o, "data");
    if (r.data && json_is_null(r.data))
        r.data = NULL;
    if (rc == CRM_OK)
        rc = crm_outbox_queue(k, &r, id, NULL, err);
    json_decref(o);
    return rc;
}

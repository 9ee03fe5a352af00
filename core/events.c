#include "events.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int crm_event_name_valid(const char *type)
{
    if (!type)
        return 0;
    const char *dot = strchr(type, '.');
    if (!dot || dot == type || !dot[1] || strchr(dot + 1, '.'))
        return 0;
    for (const char *p = type; *p; p++)
        if (p != dot && !(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    return 1;
}

/* Kernel payloads are small flat objects of ids and plain words; formatting
 * them directly is several times cheaper than json_dumps, which showed in
 * bulk-write profiles. Produces exactly json_dumps' compact, key-sorted text,
 * or returns false so the caller falls back to it. */
static bool plain_string(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool append_value(json_t *v, char *buf, size_t size, size_t *len)
{
    int n;
    if (json_is_integer(v))
        n = snprintf(buf + *len, size - *len, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v) && plain_string(json_string_value(v)))
        n = snprintf(buf + *len, size - *len, "\"%s\"", json_string_value(v));
    else if (json_is_boolean(v) || json_is_null(v))
        n = snprintf(buf + *len, size - *len, "%s",
                     json_is_null(v) ? "null" : json_is_true(v) ? "true" : "false");
    else
        return false;
    if (n < 0 || (size_t)n >= size - *len)
        return false;
    *len += (size_t)n;
    return true;
}

static bool flat_payload_text(json_t *obj, char *buf, size_t size)
{
    const char *keys[16];
    size_t n = 0, len = 0;
    const char *key;
    json_t *v;
    if (json_object_size(obj) > sizeof keys / sizeof keys[0])
        return false;
    json_object_foreach(obj, key, v) {
        if (!plain_string(key))
            return false;
        keys[n++] = key;
    }
    qsort(keys, n, sizeof keys[0], cmp_keys);
    buf[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + len, size - len, "%s\"%s\":", i ? "," : "", keys[i]);
        if (w < 0 || (size_t)w >= size - len)
            return false;
        len += (size_t)w;
        if (!append_value(json_object_get(obj, keys[i]), buf, size, &len))
            return false;
    }
    if (len + 2 > size)
        return false;
    buf[len++] = '}';
    buf[len] = '\0';
    return true;
}

static int check_emit(crm_kernel *k, const char *type, crm_err *err)
{
    if (!crm_event_name_valid(type))
        return crm_err_set(err, CRM_EUSAGE, "invalid event name '%s' (expected entity.verb)",
                           type ? type : "(null)");
    if (crm_store_depth(k->store) == 0)
        return crm_err_set(err, CRM_EUSAGE, "event %s emitted outside a transaction", type);
    return CRM_OK;
}

/* The payload's top-level integer "contact_id" (0 when none), read from the
 * text the kernel formats: compact, keys sorted, flat. */
static int64_t text_contact_id(const char *payload)
{
    const char *p = strstr(payload, "\"contact_id\":");
    /* a key: right after the opening brace or a comma, not inside a string */
    if (!p || p == payload || (p[-1] != '{' && p[-1] != ','))
        return 0;
    p += strlen("\"contact_id\":");
    int64_t v = 0;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9' && v < INT64_MAX / 10; p++)
        v = v * 10 + (*p - '0');
    return v;
}

/* contact_id (0: none) links the event to its contact for the timeline. */
static int insert_event(crm_kernel *k, const char *type, const char *payload, int64_t contact_id,
                        int64_t *id_out, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "INSERT INTO events(type, payload, source, depth, created_at,"
                                      " contact_id) VALUES(?,?,?,?,?,?)",
                                      err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, payload, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->actor ? k->actor : "kernel", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, k->event_depth);
    sqlite3_bind_int64(st, 5, k->now);
    if (contact_id > 0)
        sqlite3_bind_int64(st, 6, contact_id);
    else
        sqlite3_bind_null(st, 6);
    int rc = CRM_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot record event", err);
    else if (id_out)
        *id_out = sqlite3_last_insert_rowid(crm_store_db(k->store));
    sqlite3_reset(st);
    return rc;
}

int crm_event_emit(crm_kernel *k, const char *type, json_t *payload, int64_t *id_out,
                   crm_err *err)
{
    char *text = NULL;
    int rc = check_emit(k, type, err);
    if (rc == CRM_OK && !json_object_get(payload, "dataver"))
        json_object_set_new(payload, "dataver", json_integer(CRM_EVENT_DATAVER));
    char flat[512];
    const char *payload_text = flat;
    if (rc == CRM_OK && !flat_payload_text(payload, flat, sizeof flat))
        payload_text = text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    if (rc == CRM_OK && !payload_text)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    json_t *cid = json_object_get(payload, "contact_id");
    if (rc == CRM_OK)
        rc = insert_event(k, type, payload_text, json_is_integer(cid) ? json_integer_value(cid) : 0,
                          id_out, err);
    free(text);
    json_decref(payload);
    return rc;
}

int crm_event_emit_text(crm_kernel *k, const char *type, const char *payload, int64_t *id_out,
                        crm_err *err)
{
    int rc = check_emit(k, type, err);
    return rc == CRM_OK ? insert_event(k, type, payload, text_contact_id(payload), id_out, err)
                        : rc;
}

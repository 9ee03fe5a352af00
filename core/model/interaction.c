/* Interactions: the shared history of every exchange with a contact. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

static const char *const channels[] = {"email", "sms", "phone", "meeting", "note", "web", NULL};
static const char *const directions[] = {"in", "out", "none", NULL};

void crm_interaction_clear(crm_interaction *i)
{
    free(i->channel);
    free(i->direction);
    free(i->subject);
    free(i->body);
    free(i->author);
    free(i->external_id);
    memset(i, 0, sizeof *i);
}

/* A body keeps its line breaks (crm_clean_text would fold them): only the
 * ends are trimmed and the UTF-8 checked. Empty becomes NULL. */
static int clean_body(char **body, crm_err *err)
{
    if (!*body)
        return CRM_OK;
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)*body;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(*body);
    for (utf8proc_ssize_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, len - i, &cp);
        if (n <= 0)
            return crm_hygiene_reject(err, "body", *body, "is not valid UTF-8");
        i += n;
    }
    char *start = *body + strspn(*body, " \t\r\n");
    size_t keep = strlen(start);
    while (keep && strchr(" \t\r\n", start[keep - 1]))
        keep--;
    memmove(*body, start, keep);
    (*body)[keep] = '\0';
    if (!keep) {
        free(*body);
        *body = NULL;
    }
    return CRM_OK;
}

static int normalise_word(const char *field, char **v, const char *const *allowed,
                          const char *expected, crm_err *err)
{
    int rc = crm_clean_optional(field, v, err);
    if (rc != CRM_OK || !*v)
        return rc;
    crm_str_lower_ascii(*v);
    return crm_str_in(*v, allowed) ? CRM_OK
                                   : crm_hygiene_reject(err, field, *v, "is not %s", expected);
}

static int normalise(crm_kernel *k, crm_interaction *i, crm_err *err)
{
    int rc = normalise_word("channel", &i->channel, channels,
                            "a channel (expected email, sms, phone, meeting, note or web)", err);
    if (rc == CRM_OK && !i->channel)
        rc = crm_err_set(err, CRM_EINVAL,
                         "channel: is required (email, sms, phone, meeting, note or web)");
    if (rc == CRM_OK)
        rc = normalise_word("direction", &i->direction, directions,
                            "a direction (expected in, out or none)", err);
    if (rc == CRM_OK && !i->direction)
        i->direction = strdup(strcmp(i->channel, "note") == 0 ? "none" : "out");
    if (rc == CRM_OK && !i->direction)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        rc = crm_clean_optional("subject", &i->subject, err);
    if (rc == CRM_OK)
        rc = clean_body(&i->body, err);
    if (rc == CRM_OK)
        rc = crm_clean_optional("author", &i->author, err);
    if (rc == CRM_OK)
        rc = crm_clean_optional("external_id", &i->external_id, err);
    if (rc == CRM_OK && i->occurred_at < 0)
        rc = crm_err_set(err, CRM_EINVAL, "occurred_at: must be a date after 1970");
    if (rc == CRM_OK && !i->occurred_at)
        i->occurred_at = k->now;
    return rc;
}

static int check_refs(crm_kernel *k, const crm_interaction *i, int64_t *author_id, int64_t *dup,
                      crm_err *err)
{
    int64_t found;
    *author_id = 0;
    int rc =
        crm_query_id(k, "SELECT id FROM contacts WHERE id=?", NULL, i->contact_id, &found, err);
    if (rc == CRM_OK && !found)
        return crm_err_set(err, CRM_ENOTFOUND,
                           "contact: no contact with id %lld (add the contact first)",
                           (long long)i->contact_id);
    if (rc == CRM_OK && i->author && crm_user_resolve(k, i->author, author_id, err) != CRM_OK)
        return crm_err_prefix(err, "author");
    if (rc == CRM_OK && i->external_id)
        rc = crm_query_id(k, "SELECT id FROM interactions WHERE external_id=?", i->external_id, 0,
                          dup, err);
    if (rc == CRM_OK && *dup)
        return crm_err_set(err, CRM_EEXISTS, "external_id: '%s' is already interaction %lld",
                           i->external_id, (long long)*dup);
    return rc;
}

static int insert(crm_kernel *k, crm_interaction *i, int64_t author_id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO interactions(contact_id, channel, direction, subject, body, occurred_at, "
        "author_id, external_id, created_at) VALUES(?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, i->contact_id);
    crm_bind_text(st, 2, i->channel);
    crm_bind_text(st, 3, i->direction);
    crm_bind_text(st, 4, i->subject);
    crm_bind_text(st, 5, i->body);
    sqlite3_bind_int64(st, 6, i->occurred_at);
    crm_bind_id(st, 7, author_id);
    crm_bind_text(st, 8, i->external_id);
    sqlite3_bind_int64(st, 9, k->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return crm_store_error(k->store, "cannot store interaction", err);
    i->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    i->created_at = k->now;
    return CRM_OK;
}

int crm_interaction_log(crm_kernel *k, crm_interaction *i, int64_t *id_out, crm_err *err)
{
    if (id_out)
        *id_out = 0;
    int64_t author_id = 0, dup = 0;
    int rc = normalise(k, i, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = check_refs(k, i, &author_id, &dup, err);
    if (rc == CRM_OK)
        rc = insert(k, i, author_id, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "interaction.logged",
                            json_pack("{sIsIsssI}", "interaction_id", (json_int_t)i->id,
                                      "contact_id", (json_int_t)i->contact_id, "channel",
                                      i->channel, "occurred_at", (json_int_t)i->occurred_at),
                            NULL, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (id_out)
        *id_out = rc == CRM_OK ? i->id : dup;
    return rc;
}

int crm_interaction_get(crm_kernel *k, int64_t id, crm_interaction *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT i.id, i.contact_id, i.channel, i.direction, i.subject, i.body, i.occurred_at, "
        "coalesce(u.email, u.name), i.external_id, i.created_at "
        "FROM interactions i LEFT JOIN users u ON u.id = i.author_id WHERE i.id=?",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->contact_id = sqlite3_column_int64(st, 1);
        out->channel = crm_column_strdup(st, 2);
        out->direction = crm_column_strdup(st, 3);
        out->subject = crm_column_strdup(st, 4);
        out->body = crm_column_strdup(st, 5);
        out->occurred_at = sqlite3_column_int64(st, 6);
        out->author = crm_column_strdup(st, 7);
        out->external_id = crm_column_strdup(st, 8);
        out->created_at = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return CRM_OK;
    return rc == SQLITE_DONE
               ? crm_err_set(err, CRM_ENOTFOUND, "no interaction with id %lld", (long long)id)
               : crm_store_error(k->store, "cannot read interaction", err);
}

static json_t *opt_string(const char *s) { return s ? json_string(s) : json_null(); }

json_t *crm_interaction_to_json(const crm_interaction *i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(i->id));
    json_object_set_new(o, "contact_id", json_integer(i->contact_id));
    json_object_set_new(o, "channel", opt_string(i->channel));
    json_object_set_new(o, "direction", opt_string(i->direction));
    json_object_set_new(o, "subject", opt_string(i->subject));
    json_object_set_new(o, "body", opt_string(i->body));
    json_object_set_new(o, "occurred_at", crm_json_time(i->occurred_at));
    json_object_set_new(o, "author", opt_string(i->author));
    json_object_set_new(o, "external_id", opt_string(i->external_id));
    json_object_set_new(o, "created_at", crm_json_time(i->created_at));
    return o;
}

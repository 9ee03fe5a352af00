/* Consents (GDPR): an append-only record per contact, channel and purpose;
 * the current state is the latest record of each pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

static const char *const consent_statuses[] = {"granted", "withdrawn", NULL};

void crm_consent_clear(crm_consent *c)
{
    free(c->channel);
    free(c->purpose);
    free(c->status);
    free(c->source);
    memset(c, 0, sizeof *c);
}

/* Channel and purpose are lower-case words: letters, digits, '_' and '-'. */
static int normalise_word(const char *field, char **v, crm_err *err)
{
    int rc = crm_clean_optional(field, v, err);
    if (rc != CRM_OK)
        return rc;
    if (!*v)
        return crm_err_set(err, CRM_EINVAL, "%s: is required", field);
    crm_str_lower_ascii(*v);
    if (strspn(*v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(*v))
        return crm_hygiene_reject(err, field, *v,
                                  "is not a single lower-case word (e.g. email, marketing)");
    return CRM_OK;
}

/* The channel or purpose must be one crm.yaml lists under `consents:`, so a
 * typo never records a consent nothing will ever look up. */
static int known_word(const char *field, const char *v, char *const *known, size_t n,
                      const char *key, crm_err *err)
{
    const char *names[64];
    size_t m = 0;
    char list[512] = "";
    for (size_t i = 0, at = 0; i < n; i++) {
        if (strcmp(known[i], v) == 0)
            return CRM_OK;
        if (m < 63)
            names[m++] = known[i];
        if (at < sizeof list)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", known[i]);
    }
    names[m] = NULL;
    const char *near = crm_suggest(v, names);
    if (near)
        return crm_hygiene_reject(err, field, v,
                                  "is not a consent %s of crm.yaml (%s) \xe2\x80\x94 did you "
                                  "mean '%s'?",
                                  field, list, near);
    return crm_hygiene_reject(err, field, v,
                              "is not a consent %s of crm.yaml (%s); add it to consents.%s to "
                              "record it",
                              field, n ? list : "none configured", key);
}

static int normalise(crm_kernel *k, crm_consent *c, crm_err *err)
{
    const crm_consent_config *cc = &k->cfg->consents;
    int rc = normalise_word("channel", &c->channel, err);
    if (rc == CRM_OK)
        rc = known_word("channel", c->channel, cc->channels, cc->n_channels, "channels", err);
    if (rc == CRM_OK)
        rc = normalise_word("purpose", &c->purpose, err);
    if (rc == CRM_OK)
        rc = known_word("purpose", c->purpose, cc->purposes, cc->n_purposes, "purposes", err);
    if (rc == CRM_OK)
        rc = normalise_word("status", &c->status, err);
    if (rc == CRM_OK && !crm_str_in(c->status, consent_statuses))
        rc = crm_hygiene_reject(err, "status", c->status,
                                "is not a consent status (expected granted or withdrawn)");
    if (rc == CRM_OK)
        rc = crm_clean_optional("source", &c->source, err);
    if (rc == CRM_OK && c->recorded_at < 0)
        rc = crm_err_set(err, CRM_EINVAL, "recorded_at: must be a date after 1970");
    if (rc == CRM_OK && !c->recorded_at)
        c->recorded_at = k->now;
    return rc;
}

static int contact_exists(crm_kernel *k, int64_t id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT 1 FROM contacts WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return CRM_OK;
    return rc == SQLITE_DONE
               ? crm_err_set(err, CRM_ENOTFOUND, "contact: no contact with id %lld", (long long)id)
               : crm_store_error(k->store, "lookup failed", err);
}

static int insert(crm_kernel *k, crm_consent *c, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO consents(contact_id, channel, purpose, status, recorded_at, source) "
        "VALUES(?,?,?,?,?,?)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, c->contact_id);
    crm_bind_text(st, 2, c->channel);
    crm_bind_text(st, 3, c->purpose);
    crm_bind_text(st, 4, c->status);
    sqlite3_bind_int64(st, 5, c->recorded_at);
    crm_bind_text(st, 6, c->source);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return crm_store_error(k->store, "cannot record consent", err);
    c->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    return CRM_OK;
}

/* The record in force for c's pair at c->recorded_at (the latest at or
 * before it): its id, status and time in *prev. Not found: prev->id = 0. */
static int state_at(crm_kernel *k, const crm_consent *c, crm_consent *prev, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT id, status, recorded_at FROM consents WHERE contact_id=? AND channel=? AND "
        "purpose=? AND recorded_at <= ? ORDER BY recorded_at DESC, id DESC LIMIT 1",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, c->contact_id);
    crm_bind_text(st, 2, c->channel);
    crm_bind_text(st, 3, c->purpose);
    sqlite3_bind_int64(st, 4, c->recorded_at);
    int step = sqlite3_step(st);
    prev->id = 0;
    if (step == SQLITE_ROW) {
        prev->id = sqlite3_column_int64(st, 0);
        prev->status = strdup((const char *)sqlite3_column_text(st, 1));
        prev->recorded_at = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot read consents", err);
    if (step == SQLITE_ROW && !prev->status)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    return CRM_OK;
}

int crm_consent_record(crm_kernel *k, crm_consent *c, int64_t *id_out, crm_err *err)
{
    if (id_out)
        *id_out = 0;
    c->unchanged = false;
    c->since = 0;
    int rc = normalise(k, c, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = contact_exists(k, c->contact_id, err);
    crm_consent prev = {0};
    if (rc == CRM_OK)
        rc = state_at(k, c, &prev, err);
    if (rc == CRM_OK && prev.id && strcmp(prev.status, c->status) == 0) {
        /* A second grant or withdrawal changes nothing: no record, no event. */
        c->unchanged = true;
        c->since = prev.recorded_at;
        c->id = prev.id;
        crm_consent_clear(&prev);
        rc = crm_kernel_commit(k, err);  /* nothing was written */
        if (rc == CRM_OK && id_out)
            *id_out = c->id;
        return rc;
    }
    crm_consent_clear(&prev);
    if (rc == CRM_OK)
        rc = insert(k, c, err);
    if (rc == CRM_OK) {
        char type[32];
        snprintf(type, sizeof type, "consent.%s", c->status);
        rc = crm_event_emit(k, type,
                            json_pack("{sIssss}", "contact_id", (json_int_t)c->contact_id,
                                      "channel", c->channel, "purpose", c->purpose),
                            NULL, err);
    }
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    rc = crm_kernel_commit(k, err);
    if (rc == CRM_OK && id_out)
        *id_out = c->id;
    return rc;
}

#define SELECT_CONSENT                                                                             \
    "SELECT id, contact_id, channel, purpose, status, recorded_at, source FROM consents c "

/* Latest per pair: by recorded_at, then id (two records in the same second). */
static const char current_sql[] = SELECT_CONSENT
    "WHERE contact_id=? AND id = (SELECT c2.id FROM consents c2 "
    "WHERE c2.contact_id=c.contact_id AND c2.channel=c.channel AND c2.purpose=c.purpose "
    "ORDER BY c2.recorded_at DESC, c2.id DESC LIMIT 1) ORDER BY channel, purpose";
static const char history_sql[] = SELECT_CONSENT "WHERE contact_id=? ORDER BY recorded_at, id";

static json_t *row_json(sqlite3_stmt *st)
{
    const char *source = (const char *)sqlite3_column_text(st, 6);
    return json_pack("{sIsIsssssssoso}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                     "contact_id", (json_int_t)sqlite3_column_int64(st, 1), "channel",
                     (const char *)sqlite3_column_text(st, 2), "purpose",
                     (const char *)sqlite3_column_text(st, 3), "status",
                     (const char *)sqlite3_column_text(st, 4), "recorded_at",
                     crm_json_time(sqlite3_column_int64(st, 5)), "source",
                     source ? json_string(source) : json_null());
}

/* The callbacks only get JSON, so stepping the statement while they run is
 * safe unless they write; rows are copied into an array first to allow that. */
int crm_consent_list(crm_kernel *k, int64_t contact_id, bool history,
                     int (*fn)(json_t *item, void *ud), void *ud, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, history ? history_sql : current_sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, contact_id);
    return crm_stmt_json_each(k, st, row_json, "consents", fn, ud, err);
}

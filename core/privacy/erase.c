#define _GNU_SOURCE /* strcasestr */
/* `crm contact erase`: the right to erasure (GDPR article 17), in one
 * transaction across the kernel and every plugin. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "events.h"
#include "model.h"
#include "model/model_util.h"
#include "privacy/privacy.h"
#include "privacy/privacy_int.h"

/* Payload members that carry a person's identity rather than ids. */
static const char *const personal_keys[] = {
    "first_name", "last_name", "name", "full_name", "email", "phone", "mobile",
    "street", "postal_code", "city", "birth_date", "address", NULL,
};

typedef struct person {
    const char *values[5]; /* email, phone, first, last, "first last": the strings to scrub */
    size_t n;
} person;

static bool is_personal_text(const person *who, const char *s)
{
    for (size_t i = 0; i < who->n; i++)
        if (strcasestr(s, who->values[i]))
            return true;
    return false;
}

/* Removes personal members and nulls any string mentioning the person, at
 * any depth. Returns whether anything changed. */
static bool scrub(json_t *v, const person *who)
{
    bool changed = false;
    if (json_is_object(v)) {
        const char *key;
        json_t *m;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, m) {
            bool drop = false;
            for (size_t i = 0; personal_keys[i] && !drop; i++)
                drop = strcmp(key, personal_keys[i]) == 0;
            if (drop) {
                json_object_del(v, key);
                changed = true;
            } else if (json_is_string(m) && is_personal_text(who, json_string_value(m))) {
                json_object_set_new(v, key, json_null());
                changed = true;
            } else {
                changed |= scrub(m, who);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            if (json_is_string(m) && is_personal_text(who, json_string_value(m))) {
                json_array_set_new(v, i, json_null());
                changed = true;
            } else {
                changed |= scrub(m, who);
            }
        }
    }
    return changed;
}

typedef struct ev_row {
    int64_t id;
    char *payload;
} ev_row;

/* Events naming the person by id, or whose text mentions them. */
static int scrub_events(crm_kernel *k, int64_t id, const person *who, int64_t *n_changed,
                        crm_err *err)
{
    sqlite3 *db = crm_store_db(k->store);
    char sql[1024];
    size_t len = (size_t)snprintf(sql, sizeof sql,
                                  "SELECT id, payload FROM events WHERE"
                                  " json_extract(payload, '$.contact_id') = ?1"
                                  " OR json_extract(payload, '$.keep_id') = ?1"
                                  " OR json_extract(payload, '$.other_id') = ?1");
    for (size_t i = 0; i < who->n; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len,
                                " OR instr(lower(payload), lower(?%zu)) > 0", i + 2);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return crm_store_error(k->store, "cannot read events", err);
    sqlite3_bind_int64(st, 1, id);
    for (size_t i = 0; i < who->n; i++)
        sqlite3_bind_text(st, (int)i + 2, who->values[i], -1, SQLITE_STATIC);
    ev_row *rows = NULL;
    size_t n = 0;
    int rc = CRM_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ev_row *grown = realloc(rows, (n + 1) * sizeof *grown);
        if (!grown) {
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
            break;
        }
        rows = grown;
        rows[n].id = sqlite3_column_int64(st, 0);
        rows[n++].payload = crm_column_strdup(st, 1);
    }
    if (rc == CRM_OK && step != SQLITE_DONE)
        rc = crm_store_error(k->store, "cannot read events", err);
    sqlite3_finalize(st);
    for (size_t i = 0; rc == CRM_OK && i < n; i++) {
        json_t *p = rows[i].payload ? json_loads(rows[i].payload, 0, NULL) : NULL;
        /* a payload that is not JSON cannot be taken apart: it goes whole */
        char *fresh = NULL;
        if (!p)
            fresh = strdup("{}");
        else if (scrub(p, who))
            fresh = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(p);
        if (!fresh)
            continue;
        sqlite3_stmt *up = crm_store_stmt(k->store, "UPDATE events SET payload=? WHERE id=?", err);
        if (!up) {
            free(fresh);
            rc = err ? err->code : CRM_EDB;
            break;
        }
        crm_bind_text(up, 1, fresh);
        sqlite3_bind_int64(up, 2, rows[i].id);
        if (sqlite3_step(up) != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot rewrite an event", err);
        sqlite3_reset(up);
        free(fresh);
        (*n_changed)++;
    }
    for (size_t i = 0; i < n; i++)
        free(rows[i].payload);
    free(rows);
    return rc;
}

/* Reject files the import journal names, cleaned into FILE.erase-tmp before
 * commit (a failure aborts the erasure) and renamed over FILE after it. */
typedef struct reject_files {
    char **paths;
    size_t n;
} reject_files;

static bool line_mentions(const char *line, size_t len, const person *who)
{
    char buf[8192];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    return is_personal_text(who, buf);
}

static int clean_file(const char *path, const person *who, int64_t *removed, bool *changed,
                      crm_err *err)
{
    *changed = false;
    FILE *in = fopen(path, "rb");
    if (!in)
        return CRM_OK; /* gone since: nothing to clean */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.erase-tmp", path);
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        fclose(in);
        return crm_err_set(err, CRM_EIO, "cannot clean reject file %s: %s", path,
                           strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    /* a reject row is one line: the import writes rows with embedded line
     * breaks quoted, and a row naming the person goes whole */
    while ((len = getline(&line, &cap, in)) > 0) {
        if (line_mentions(line, (size_t)len, who)) {
            (*removed)++;
            *changed = true;
        } else {
            fwrite(line, 1, (size_t)len, out);
        }
    }
    free(line);
    fclose(in);
    int ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = fclose(out) == 0 && ok;
    if (!ok || !*changed) {
        unlink(tmp);
        return ok ? CRM_OK
                  : crm_err_set(err, CRM_EIO, "cannot clean reject file %s: %s", path,
                                strerror(errno));
    }
    return CRM_OK;
}

static int clean_rejects(crm_kernel *k, const person *who, reject_files *rf, json_t *erased,
                         crm_err *err)
{
    if (!who->n)
        return CRM_OK;
    json_t *paths = json_array();
    int rc = crm_privacy_rows(k, "SELECT DISTINCT rejects FROM import_journal"
                                 " WHERE rejects IS NOT NULL", 0, paths, err);
    int64_t removed = 0;
    size_t i;
    json_t *row;
    json_array_foreach(paths, i, row) {
        const char *path = json_string_value(json_object_get(row, "rejects"));
        bool changed = false;
        if (rc != CRM_OK || !path)
            continue;
        rc = clean_file(path, who, &removed, &changed, err);
        char **grown = changed ? realloc(rf->paths, (rf->n + 1) * sizeof *grown) : NULL;
        if (changed && grown) {
            rf->paths = grown;
            rf->paths[rf->n++] = strdup(path);
        } else if (changed) {
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
        }
    }
    json_decref(paths);
    json_object_set_new(erased, "reject_rows", json_integer(removed));
    json_object_set_new(erased, "reject_files", json_integer((json_int_t)rf->n));
    return rc;
}

static void finish_rejects(reject_files *rf, bool commit)
{
    for (size_t i = 0; i < rf->n; i++) {
        char tmp[4200];
        if (!rf->paths[i])
            continue;
        snprintf(tmp, sizeof tmp, "%s.erase-tmp", rf->paths[i]);
        if (!commit || rename(tmp, rf->paths[i]) != 0)
            unlink(tmp);
        free(rf->paths[i]);
    }
    free(rf->paths);
}

static int exec_count(crm_kernel *k, const char *sql, int64_t id, int64_t *changes, crm_err *err)
{
    int rc = crm_exec_id(k, sql, id, err);
    if (rc == CRM_OK && changes)
        *changes = sqlite3_changes(crm_store_db(k->store));
    return rc;
}

/* Each plugin's declared rows and callback, dependents first. */
static int erase_plugins(crm_kernel *k, int64_t id, json_t *erased, crm_err *err)
{
    crm_plugin_host *h = k->plugins;
    int rc = CRM_OK;
    for (size_t n = h ? h->n_order : 0; rc == CRM_OK && n-- > 0;) {
        crm_plugin_ctx *p = h->order[n];
        plug_privacy *pv = p->privacy;
        if (!pv)
            continue;
        for (size_t i = 0; rc == CRM_OK && i < pv->n_tables; i++) {
            char sql[256];
            int64_t count = 0;
            snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE \"%s\"=?", pv->tables[i].table,
                     pv->tables[i].column);
            rc = exec_count(k, sql, id, &count, err);
            json_object_set_new(erased, pv->tables[i].table, json_integer(count));
        }
        if (rc == CRM_OK && pv->erase_fn) {
            plug_frame f;
            p->error[0] = '\0';
            crm_plug_enter(p, &f);
            int prc = pv->erase_fn(p, id, pv->ud);
            crm_plug_leave(p, &f);
            if (prc != CRM_OK)
                rc = crm_err_set(err, CRM_EPLUGIN,
                                 "plugin '%s': erasure failed, nothing was erased: %s", p->name,
                                 p->error[0] ? p->error : "no message");
        }
    }
    return rc;
}

static const char *who_erases(void)
{
    const char *u = getenv("CRM_USER");
    if (u && *u)
        return u;
    struct passwd *pw = getpwuid(geteuid());
    return pw && pw->pw_name ? pw->pw_name : "unknown";
}

static int erase_all(crm_kernel *k, int64_t id, const char *reason, const person *who,
                     reject_files *rf, json_t *rec, crm_err *err)
{
    json_t *erased = json_object(), *kept = json_object();
    json_object_set_new(rec, "erased", erased);
    json_object_set_new(rec, "kept", kept);
    int rc = erase_plugins(k, id, erased, err);
    static const struct {
        const char *name, *sql;
    } kernel[] = {
        {"tasks", "DELETE FROM tasks WHERE contact_id=?"},
        {"interactions", "DELETE FROM interactions WHERE contact_id=?"},
        {"tracked_events", "DELETE FROM tracked_events WHERE contact_id=?"},
        {"carts", "DELETE FROM carts WHERE contact_id=?"},
        /* the outbox keeps addresses and rendered texts: they go too */
        {"messages", "DELETE FROM messages WHERE contact_id=?"},
        {"message_pauses", "DELETE FROM message_pauses WHERE contact_id=?"},
        {"consents", "DELETE FROM consents WHERE contact_id=?"},
        {"tags", "DELETE FROM contact_tags WHERE contact_id=?"},
        {"custom_values", "DELETE FROM custom_values WHERE entity='contact' AND entity_id=?"},
        {"contact_history", "DELETE FROM contact_history WHERE contact_id=?"},
        /* a merge's snapshots are copies of the person's rows */
        {"merges", "DELETE FROM contact_merges WHERE keep_id=?1 OR other_id=?1"},
        /* pending follow-ups about the person would act on someone gone */
        {"timers", "DELETE FROM timers WHERE json_extract(payload, '$.contact_id') = ?1"},
    };
    for (size_t i = 0; rc == CRM_OK && i < sizeof kernel / sizeof kernel[0]; i++) {
        int64_t count = 0;
        rc = exec_count(k, kernel[i].sql, id, &count, err);
        json_object_set_new(erased, kernel[i].name, json_integer(count));
    }
    int64_t events = 0, orders = 0;
    if (rc == CRM_OK)
        rc = scrub_events(k, id, who, &events, err);
    json_object_set_new(erased, "event_payloads", json_integer(events));
    if (rc == CRM_OK)
        rc = clean_rejects(k, who, rf, erased, err);
    if (rc == CRM_OK)
        rc = crm_query_id(k, "SELECT count(*) FROM orders WHERE contact_id=?", NULL, id, &orders,
                          err);
    if (rc == CRM_OK && orders) {
        /* accounting keeps the orders; their customer becomes an empty shell */
        rc = crm_exec_id(k,
                         "UPDATE contacts SET external_id=NULL, first_name=NULL, last_name=NULL,"
                         " email=NULL, phone=NULL, company_id=NULL, street=NULL,"
                         " postal_code=NULL, city=NULL, country=NULL, birth_date=NULL,"
                         " lifecycle_stage='inactive', owner_id=NULL, source='erased',"
                         " name_key='' WHERE id=?",
                         id, err);
        json_object_set_new(kept, "orders", json_integer(orders));
        json_object_set_new(kept, "why", json_string("accounting: orders and their lines are "
                                                     "kept, the contact row emptied to its id"));
    } else if (rc == CRM_OK) {
        rc = crm_exec_id(k, "DELETE FROM contacts WHERE id=?", id, err);
    }
    json_object_set_new(erased, "contact", json_string(orders ? "anonymised" : "deleted"));
    char *kept_text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    sqlite3_stmt *st = NULL;
    if (rc == CRM_OK && !kept_text)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK &&
        !(st = crm_store_stmt(k->store,
                              "INSERT INTO erasures(contact_id, erased_by, reason, erased_at,"
                              " detail) VALUES(?,?,?,?,?)",
                              err)))
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        sqlite3_bind_int64(st, 1, id);
        crm_bind_text(st, 2, who_erases());
        crm_bind_text(st, 3, reason);
        sqlite3_bind_int64(st, 4, k->now);
        crm_bind_text(st, 5, kept_text);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = crm_store_error(k->store, "cannot record the erasure", err);
        sqlite3_reset(st);
    }
    free(kept_text);
    if (rc == CRM_OK) {
        int64_t eid = sqlite3_last_insert_rowid(crm_store_db(k->store));
        json_object_set_new(rec, "erasure_id", json_integer(eid));
        rc = crm_event_emit(k, "contact.erased",
                            json_pack("{sIsI}", "contact_id", (json_int_t)id, "erasure_id",
                                      (json_int_t)eid),
                            NULL, err);
    }
    return rc;
}

int crm_privacy_erase(crm_kernel *k, int64_t id, const char *reason, json_t **record,
                      crm_err *err)
{
    if (record)
        *record = NULL;
    int64_t done = 0;
    int rc = crm_query_id(k, "SELECT id FROM erasures WHERE contact_id=? ORDER BY id DESC", NULL,
                          id, &done, err);
    if (rc == CRM_OK && done)
        return crm_err_set(err, CRM_EINVAL,
                           "contact %lld was already erased (erasure %lld); only its orders "
                           "remain, anonymised", (long long)id, (long long)done);
    crm_contact c;
    rc = crm_contact_get(k, id, &c, err);
    if (rc != CRM_OK)
        return rc;
    char full[512] = "";
    person who = {{0}, 0};
    if (c.email)
        who.values[who.n++] = c.email;
    if (c.phone)
        who.values[who.n++] = c.phone;
    if (c.first_name && c.last_name) {
        snprintf(full, sizeof full, "%s %s", c.first_name, c.last_name);
        who.values[who.n++] = full;
    }
    /* single names too short to be told from other text are left to the keys */
    if (c.first_name && strlen(c.first_name) >= 4)
        who.values[who.n++] = c.first_name;
    if (c.last_name && strlen(c.last_name) >= 4)
        who.values[who.n++] = c.last_name;
    json_t *rec = json_pack("{sIsssssI}", "contact_id", (json_int_t)id, "erased_by",
                            who_erases(), "reason", reason ? reason : "", "erased_at",
                            (json_int_t)k->now);
    /* freed pages are zeroed, so the deleted text leaves the file */
    rc = crm_store_exec(k->store, "PRAGMA secure_delete=ON", err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    reject_files rf = {0};
    if (rc == CRM_OK) {
        rc = erase_all(k, id, reason, &who, &rf, rec, err);
        if (rc == CRM_OK)
            rc = crm_kernel_commit(k, err);
        else
            crm_kernel_rollback(k);
    }
    finish_rejects(&rf, rc == CRM_OK);
    crm_contact_clear(&c);
    /* the WAL still holds the old pages until a checkpoint copies it back */
    if (rc == CRM_OK && crm_store_depth(k->store) == 0)
        sqlite3_wal_checkpoint_v2(crm_store_db(k->store), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                                  NULL);
    if (rc == CRM_OK && record)
        *record = rec;
    else
        json_decref(rec);
    return rc;
}

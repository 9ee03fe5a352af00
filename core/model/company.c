/* Companies: the organisations contacts belong to. Same write pattern as
 * contacts: normalise -> begin -> refuse duplicates -> write -> event -> commit. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

/* The text fields of crm_company, in column order. */
#define FIELD(name)                                                                                \
    {                                                                                              \
#name, offsetof(crm_company, name)                                                         \
    }
static const struct {
    const char *name;
    size_t offset;
} company_fields[] = {
    FIELD(external_id), FIELD(name),        FIELD(domain), FIELD(phone),
    FIELD(street),      FIELD(postal_code), FIELD(city),   FIELD(country),
};
#undef FIELD
#define N_FIELDS (sizeof company_fields / sizeof company_fields[0])

static char **field_ptr(crm_company *c, size_t i)
{
    return (char **)((char *)c + company_fields[i].offset);
}

static char **field_named(crm_company *c, const char *name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(company_fields[i].name, name) == 0)
            return field_ptr(c, i);
    return NULL;
}

void crm_company_clear(crm_company *c)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        free(*field_ptr(c, i));
    crm_kv_free(c->custom, c->n_custom);
    memset(c, 0, sizeof *c);
}

/* ---- normalisation -------------------------------------------------------- */

typedef int (*company_rule)(crm_kernel *k, crm_company *c, const char *field, char **v,
                            crm_err *err);

static int rule_country(crm_kernel *k, crm_company *c, const char *field, char **v, crm_err *err)
{
    char *out = NULL;
    int rc = crm_normalise_country(field, *v, &out, err);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

/* A bare host name: "https://www.Acme.fr/" -> "acme.fr". */
static int rule_domain(crm_kernel *k, crm_company *c, const char *field, char **v, crm_err *err)
{
    static const char *const prefixes[] = {"https://", "http://", "www."};
    crm_str_lower_ascii(*v);
    char *s = *v;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            s += strlen(prefixes[i]);
    s[strcspn(s, "/")] = '\0';
    if (!*s || strchr(s, ' ') || !strchr(s, '.') || s[0] == '.' || s[strlen(s) - 1] == '.')
        return crm_hygiene_reject(err, field, *v, "is not a domain name (expected e.g. acme.fr)");
    memmove(*v, s, strlen(s) + 1);
    return CRM_OK;
}

static int rule_phone(crm_kernel *k, crm_company *c, const char *field, char **v, crm_err *err)
{
    return crm_model_phone(k, c->country, field, v, err);
}

static int rule_postal(crm_kernel *k, crm_company *c, const char *field, char **v, crm_err *err)
{
    return crm_model_postal(k, c->country, field, v, err);
}

/* Country first: phone and postal code are read with it. */
static const struct {
    const char *field;
    company_rule rule;
} company_rules[] = {
    {"country", rule_country},
    {"domain", rule_domain},
    {"phone", rule_phone},
    {"postal_code", rule_postal},
};

static int normalise(crm_kernel *k, crm_company *c, bool is_update, crm_err *err)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < N_FIELDS; i++)
        rc = crm_clean_optional(company_fields[i].name, field_ptr(c, i), err);
    for (size_t i = 0; rc == CRM_OK && i < sizeof company_rules / sizeof company_rules[0]; i++) {
        char **v = field_named(c, company_rules[i].field);
        if (*v)
            rc = company_rules[i].rule(k, c, company_rules[i].field, v, err);
    }
    if (rc == CRM_OK && !c->name)
        rc = crm_err_set(err, CRM_EINVAL, "name: is required (give the company's name)");
    if (rc == CRM_OK)
        rc = crm_custom_validate(k, CRM_ENTITY_COMPANY, c->custom, c->n_custom, is_update, err);
    return rc;
}

/* ---- duplicates ----------------------------------------------------------- */

/* Refuses a second company with the same folded name or external id; *dup
 * gets the existing id. */
static int refuse_duplicate(crm_kernel *k, const crm_company *c, const char *key, int64_t self,
                            int64_t *dup, crm_err *err)
{
    int rc =
        crm_query_id(k, "SELECT id FROM companies WHERE name_key=? AND id<>? ORDER BY id LIMIT 1",
                     key, self, dup, err);
    if (rc == CRM_OK && *dup)
        return crm_err_set(err, CRM_EEXISTS,
                           "name: company '%s' already exists as id %lld (update that one, or "
                           "choose another name)",
                           c->name, (long long)*dup);
    if (rc == CRM_OK && c->external_id)
        rc = crm_query_id(k, "SELECT id FROM companies WHERE external_id=? AND id<>?",
                          c->external_id, self, dup, err);
    if (rc == CRM_OK && *dup)
        return crm_err_set(err, CRM_EEXISTS, "external_id: '%s' is already used by company %lld",
                           c->external_id, (long long)*dup);
    return rc;
}

/* ---- writing ---------------------------------------------------------------- */

/* Columns bound by bind_company, in this order (1..10). */
#define COMPANY_COLUMNS                                                                            \
    "external_id, name, domain, phone, street, postal_code, city, country, name_key, "             \
    "updated_at"

static void bind_company(sqlite3_stmt *st, const crm_company *c, const char *key, int64_t now)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        crm_bind_text(st, (int)i + 1, *field_ptr((crm_company *)c, i));
    crm_bind_text(st, 9, key);
    sqlite3_bind_int64(st, 10, now);
}

static int step_done(crm_kernel *k, sqlite3_stmt *st, const char *what, crm_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, what, err);
}

static int insert_company(crm_kernel *k, crm_company *c, const char *key, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "INSERT INTO companies(" COMPANY_COLUMNS
                                      ", created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                                      err);
    if (!st)
        return err ? err->code : CRM_EDB;
    bind_company(st, c, key, k->now);
    sqlite3_bind_int64(st, 11, k->now);
    int rc = step_done(k, st, "cannot store company", err);
    if (rc != CRM_OK)
        return rc;
    c->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    c->created_at = c->updated_at = k->now;
    return crm_custom_store(k, CRM_ENTITY_COMPANY, c->id, c->custom, c->n_custom, err);
}

static json_t *id_payload(int64_t id) { return json_pack("{sI}", "company_id", (json_int_t)id); }

static int fold_name(const crm_company *c, char **key, crm_err *err)
{
    *key = crm_fold_key(c->name);
    if (!*key || !**key) {
        free(*key);
        *key = NULL;
        return crm_err_set(err, CRM_EINVAL, "name: '%s' is not a usable company name", c->name);
    }
    return CRM_OK;
}

int crm_company_add(crm_kernel *k, crm_company *c, int64_t *id_out, crm_err *err)
{
    if (id_out)
        *id_out = 0;
    char *key = NULL;
    int64_t dup = 0;
    int rc = normalise(k, c, false, err);
    if (rc == CRM_OK)
        rc = fold_name(c, &key, err);
    if (rc == CRM_OK)
        rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        goto done;
    rc = refuse_duplicate(k, c, key, 0, &dup, err);
    if (rc == CRM_OK)
        rc = insert_company(k, c, key, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "company.created", id_payload(c->id), NULL, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
done:
    free(key);
    if (id_out)
        *id_out = rc == CRM_OK ? c->id : dup;
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

#define SELECT_COMPANY                                                                             \
    "SELECT id, external_id, name, domain, phone, street, postal_code, city, country, "            \
    "created_at, updated_at FROM companies "

static int read_row(crm_kernel *k, sqlite3_stmt *st, crm_company *c, crm_err *err)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    for (size_t i = 0; i < N_FIELDS; i++)
        *field_ptr(c, i) = crm_column_strdup(st, (int)i + 1);
    c->created_at = sqlite3_column_int64(st, 9);
    c->updated_at = sqlite3_column_int64(st, 10);
    return crm_custom_load(k, CRM_ENTITY_COMPANY, c->id, &c->custom, &c->n_custom, err);
}

int crm_company_get(crm_kernel *k, int64_t id, crm_company *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = crm_store_stmt(k->store, SELECT_COMPANY "WHERE id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE
                   ? crm_err_set(err, CRM_ENOTFOUND,
                                 "no company with id %lld (see `crm company list`)", (long long)id)
                   : crm_store_error(k->store, "cannot read company", err);
    }
    rc = read_row(k, st, out, err);
    sqlite3_reset(st);
    if (rc != CRM_OK)
        crm_company_clear(out);
    return rc;
}

int crm_company_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    static const crm_ref_rule rules[] = {
        {CRM_REF_ID, "SELECT id FROM companies WHERE id=?"},
        {CRM_REF_EXTERNAL, "SELECT id FROM companies WHERE external_id=?"},
        {CRM_REF_TEXT, "SELECT id FROM companies WHERE name_key=? ORDER BY id LIMIT 1"},
    };
    char *key = crm_fold_key(ref ? ref : "");
    bool digits_or_ext =
        ref && (strncmp(ref, "ext:", 4) == 0 || strspn(ref, "0123456789") == strlen(ref));
    int rc = crm_resolve_ref(k, "company", digits_or_ext ? ref : key, rules,
                             sizeof rules / sizeof rules[0], id, err);
    free(key);
    return rc;
}

int crm_company_ensure(crm_kernel *k, const char *name, int64_t *id, crm_err *err)
{
    *id = 0;
    char *key = crm_fold_key(name);
    if (!key || !*key) {
        free(key);
        return crm_err_set(err, CRM_EINVAL, "company: '%s' is not a usable company name", name);
    }
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT id FROM companies WHERE name_key=? ORDER BY id LIMIT 1", err);
    int rc = st ? CRM_OK : (err ? err->code : CRM_EDB);
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    free(key);
    if (rc != CRM_OK || *id)
        return rc;
    crm_company c = {0};
    c.name = strdup(name);
    rc = crm_company_add(k, &c, id, err);
    crm_company_clear(&c);
    return rc;
}

/* ---- update, delete ------------------------------------------------------------ */

/* Overlays the set fields of `changes` on `cur` (NULL = keep, "" = clear) and
 * lists the names of the fields that changed. */
static int overlay(crm_company *cur, const crm_company *changes, json_t *changed)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *src = *field_ptr((crm_company *)changes, i);
        char **dst = field_ptr(cur, i);
        if (!src || crm_str_equal(*dst, src))
            continue;
        char *fresh = *src ? strdup(src) : NULL;
        if (*src && !fresh)
            return CRM_ENOMEM;
        crm_str_replace(dst, fresh);
        json_array_append_new(changed, json_string(company_fields[i].name));
    }
    for (size_t i = 0; i < changes->n_custom; i++) {
        char name[200];
        snprintf(name, sizeof name, "custom.%s", changes->custom[i].key);
        json_array_append_new(changed, json_string(name));
    }
    return CRM_OK;
}

static int update_row(crm_kernel *k, int64_t id, const crm_company *c, crm_err *err)
{
    char *key = NULL;
    int64_t dup = 0;
    int rc = fold_name(c, &key, err);
    if (rc == CRM_OK)
        rc = refuse_duplicate(k, c, key, id, &dup, err);
    sqlite3_stmt *st = NULL;
    if (rc == CRM_OK)
        st = crm_store_stmt(
            k->store,
            "UPDATE companies SET (" COMPANY_COLUMNS ") = (?,?,?,?,?,?,?,?,?,?) WHERE id=?", err);
    if (rc == CRM_OK && !st)
        rc = err ? err->code : CRM_EDB;
    if (rc == CRM_OK) {
        bind_company(st, c, key, k->now);
        sqlite3_bind_int64(st, 11, id);
        rc = step_done(k, st, "cannot update company", err);
    }
    free(key);
    return rc;
}

static int apply_update(crm_kernel *k, int64_t id, crm_company *changes, crm_err *err)
{
    crm_company cur = {0};
    json_t *changed = json_array();
    int rc = crm_company_get(k, id, &cur, err);
    if (rc == CRM_OK) {
        /* Stored custom values were checked when written; only changes are. */
        crm_kv_free(cur.custom, cur.n_custom);
        cur.custom = NULL;
        cur.n_custom = 0;
        rc = overlay(&cur, changes, changed);
    }
    if (rc == CRM_OK)
        rc = normalise(k, &cur, true, err);
    if (rc == CRM_OK)
        rc = crm_custom_validate(k, CRM_ENTITY_COMPANY, changes->custom, changes->n_custom, true,
                                 err);
    if (rc == CRM_OK)
        rc = update_row(k, id, &cur, err);
    if (rc == CRM_OK)
        rc = crm_custom_store(k, CRM_ENTITY_COMPANY, id, changes->custom, changes->n_custom, err);
    if (rc == CRM_OK) {
        json_t *p = id_payload(id);
        json_object_set(p, "changed", changed);
        rc = crm_event_emit(k, "company.updated", p, NULL, err);
    }
    json_decref(changed);
    crm_company_clear(&cur);
    return rc;
}

int crm_company_update(crm_kernel *k, int64_t id, crm_company *changes, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = apply_update(k, id, changes, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

int crm_company_delete(crm_kernel *k, int64_t id, crm_err *err)
{
    /* Contacts are unlinked explicitly: the FK's SET NULL would skip updated_at. */
    static const char *const steps[] = {
        "UPDATE contacts SET company_id=NULL WHERE company_id=?",
        "DELETE FROM custom_values WHERE entity='company' AND entity_id=?",
        "DELETE FROM companies WHERE id=?",
    };
    crm_company cur;
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    rc = crm_company_get(k, id, &cur, err);
    if (rc == CRM_OK)
        crm_company_clear(&cur);
    for (size_t i = 0; rc == CRM_OK && i < sizeof steps / sizeof steps[0]; i++)
        rc = crm_exec_id(k, steps[i], id, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "company.deleted", id_payload(id), NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

/* ---- JSON and listing ------------------------------------------------------------ */

json_t *crm_company_to_json(const crm_company *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *v = *field_ptr((crm_company *)c, i);
        json_object_set_new(o, company_fields[i].name, v ? json_string(v) : json_null());
    }
    json_t *custom = json_object();
    for (size_t i = 0; i < c->n_custom; i++)
        json_object_set_new(custom, c->custom[i].key, json_string(c->custom[i].value));
    json_object_set_new(o, "custom", custom);
    json_object_set_new(o, "created_at", crm_json_time(c->created_at));
    json_object_set_new(o, "updated_at", crm_json_time(c->updated_at));
    return o;
}

typedef struct list_ctx {
    crm_kernel *k;
    int (*fn)(const crm_company *c, void *ud);
    void *ud;
    crm_err *err;
} list_ctx;

static int list_row(sqlite3_stmt *st, void *ud)
{
    list_ctx *ctx = ud;
    crm_company c;
    int rc = read_row(ctx->k, st, &c, ctx->err);
    if (rc == CRM_OK)
        rc = ctx->fn(&c, ctx->ud) ? 1 : CRM_OK;
    crm_company_clear(&c);
    return rc;
}

int crm_company_list(crm_kernel *k, const char *name_like, int64_t limit, int64_t offset,
                     int (*fn)(const crm_company *c, void *ud), void *ud, crm_err *err)
{
    crm_sql q;
    crm_sql_init(&q, SELECT_COMPANY);
    char *folded = name_like && *name_like ? crm_fold_key(name_like) : NULL;
    if (folded)
        crm_sql_where(&q, "name_key LIKE '%' || ? || '%'", folded);
    crm_sql_page(&q, "id", limit, offset);
    list_ctx ctx = {k, fn, ud, err};
    int rc = crm_sql_each(k, &q, list_row, &ctx, err);
    free(folded);
    crm_sql_free(&q);
    return rc;
}

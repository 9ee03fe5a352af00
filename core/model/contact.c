/* Contacts: validated, normalised, de-duplicated at entry. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe/dedupe.h"
#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

#define FIELD(name)                                                                                \
    {                                                                                              \
#name, offsetof(crm_contact, name)                                                         \
    }
const crm_contact_field crm_contact_fields[] = {
    FIELD(external_id), FIELD(first_name),      FIELD(last_name),   FIELD(email),  FIELD(phone),
    FIELD(company),     FIELD(street),          FIELD(postal_code), FIELD(city),   FIELD(country),
    FIELD(birth_date),  FIELD(lifecycle_stage), FIELD(owner),       FIELD(source), {NULL, 0},
};
#undef FIELD

static const char *const lifecycle_stages[] = {
    "subscriber", "lead", "prospect", "customer", "evangelist", "inactive", NULL,
};

char **crm_contact_field_ptr(crm_contact *c, const char *name)
{
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return (char **)((char *)c + f->offset);
    return NULL;
}

void crm_contact_clear(crm_contact *c)
{
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++)
        free(*(char **)((char *)c + f->offset));
    crm_strv_free(c->tags, c->n_tags);
    crm_kv_free(c->custom, c->n_custom);
    memset(c, 0, sizeof *c);
}

int crm_contact_add_tag(crm_contact *c, const char *tag)
{
    return crm_strv_push(&c->tags, &c->n_tags, tag);
}

int crm_contact_set_custom(crm_contact *c, const char *name, const char *value)
{
    return crm_kv_set(&c->custom, &c->n_custom, name, value);
}

/* ---- normalisation -------------------------------------------------------- */

typedef int (*field_rule)(const crm_kernel *k, crm_contact *c, const char *field, char **value,
                          crm_err *err);

static int rule_name(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    if (!k->cfg->hygiene.normalise_names)
        return CRM_OK;
    char *out = NULL;
    int rc = crm_normalise_name(field, *v, &out, err);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

static int rule_email(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    if (!k->cfg->hygiene.validate_email) {
        if (k->cfg->hygiene.normalise_email)
            crm_str_lower_ascii(*v);
        return CRM_OK;
    }
    char *out = NULL;
    int rc = crm_normalise_email(field, *v, &out, err);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

static int rule_phone(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    return crm_model_phone_typed(k, c->country, field, v, c->phone_type, sizeof c->phone_type,
                                 err);
}

static int rule_postal(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    return crm_model_postal(k, c->country, field, v, err);
}

static int rule_country(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    char *out = NULL;
    int rc = crm_normalise_country(field, *v, &out, err);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

static int rule_birth_date(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    char *out = NULL;
    int rc = crm_normalise_date(field, *v, k->now, &out, err);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

static int rule_lifecycle(const crm_kernel *k, crm_contact *c, const char *field, char **v, crm_err *err)
{
    crm_str_lower_ascii(*v);
    if (crm_str_in(*v, lifecycle_stages))
        return CRM_OK;
    return crm_err_set(err, CRM_EINVAL,
                       "%s: '%s' is not a lifecycle stage (expected subscriber, lead, prospect, "
                       "customer, evangelist or inactive)",
                       field, *v);
}

/* Order matters: country first, since phone and postal code are read with it. */
#define RULE(name, fn)                                                                             \
    {                                                                                              \
#name, offsetof(crm_contact, name), fn                                                     \
    }
static const struct {
    const char *field;
    size_t offset;
    field_rule rule;
} contact_rules[] = {
    RULE(country, rule_country),       RULE(first_name, rule_name),
    RULE(last_name, rule_name),        RULE(email, rule_email),
    RULE(phone, rule_phone),           RULE(postal_code, rule_postal),
    RULE(birth_date, rule_birth_date), RULE(lifecycle_stage, rule_lifecycle),
    /* A city is cased like a name, so PARIS and Paris rows of one person agree. */
    RULE(city, rule_name),
};
#undef RULE

static int clean_all_text(crm_contact *c, crm_err *err)
{
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        char **v = (char **)((char *)c + f->offset);
        int rc = crm_clean_optional(f->name, v, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

static int clean_tags(crm_contact *c, crm_err *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->n_tags; i++) {
        int rc = crm_clean_optional("tags", &c->tags[i], err);
        if (rc != CRM_OK)
            return rc;
        if (!c->tags[i] || crm_strv_contains(c->tags, kept, c->tags[i])) {
            free(c->tags[i]);
            continue;
        }
        c->tags[kept++] = c->tags[i];
    }
    c->n_tags = kept;
    return CRM_OK;
}

static int check_required(const crm_kernel *k, crm_contact *c, crm_err *err)
{
    const crm_hygiene_config *h = &k->cfg->hygiene;
    for (size_t i = 0; i < h->n_required; i++) {
        char **v = crm_contact_field_ptr(c, h->required[i]);
        if (v && !*v)
            return crm_err_set(err, CRM_EINVAL, "%s: is required (hygiene.required in crm.yaml)",
                               h->required[i]);
    }
    if (!c->first_name && !c->last_name && !c->email && !c->phone)
        return crm_err_set(err, CRM_EINVAL,
                           "contact: needs at least a name, an email or a phone number");
    return CRM_OK;
}

int crm_contact_normalise(crm_kernel *k, crm_contact *c, bool is_update, crm_err *err)
{
    int rc = crm_contact_normalise_fields(k, c, is_update, err);
    return rc == CRM_OK ? crm_contact_validate(k, c, err) : rc;
}

int crm_contact_validate(crm_kernel *k, const crm_contact *c, crm_err *err)
{
    const crm_validators *v = k->validators;
    return v && v->contact ? v->contact(k, c, err) : CRM_OK;
}

int crm_contact_normalise_fields(const crm_kernel *k, crm_contact *c, bool is_update,
                                 crm_err *err)
{
    c->phone_type[0] = '\0'; /* the phone may have changed: rule_phone sets it again */
    int rc = clean_all_text(c, err);
    if (rc == CRM_OK)
        rc = clean_tags(c, err);
    for (size_t i = 0; rc == CRM_OK && i < sizeof contact_rules / sizeof contact_rules[0]; i++) {
        char **v = (char **)((char *)c + contact_rules[i].offset);
        if (*v && **v)
            rc = contact_rules[i].rule(k, c, contact_rules[i].field, v, err);
    }
    if (rc == CRM_OK)
        rc = crm_custom_validate(k, CRM_ENTITY_CONTACT, c->custom, c->n_custom, is_update, err);
    if (rc == CRM_OK && !is_update)
        rc = check_required(k, c, err);
    return rc;
}

/* ---- duplicates ----------------------------------------------------------- */

/* A new contact scoring min_score against a stored one is that person again
 * (hygiene.duplicates.refuse_on_add): the same rules as `contact duplicates`.
 * Called after refuse_duplicate found neither its email nor its phone. */
static int refuse_lookalike(crm_kernel *k, const crm_contact *c, unsigned flags, int64_t *dup,
                            crm_err *err)
{
    crm_dup_pair p;
    int rc = crm_dedupe_match(k, c, 0, -1, CRM_DEDUPE_KEYS_CHECKED, &p, err);
    if (rc != CRM_OK || !p.a)
        return rc;
    *dup = p.a;
    if (flags & CRM_CONTACT_IMPORTING)
        return crm_err_set(err, CRM_EEXISTS,
                           "contact: looks like contact %lld (duplicate score %d: %s): "
                           "--merge-duplicates merges such rows into the contact",
                           (long long)p.a, p.score, p.reasons);
    return crm_err_set(err, CRM_EEXISTS,
                       "contact: looks like contact %lld (duplicate score %d: %s): update that "
                       "contact (crm contact update %lld), merge the two, or pass "
                       "--allow-duplicate to add it anyway",
                       (long long)p.a, p.score, p.reasons, (long long)p.a);
}

static int refuse_duplicate(crm_kernel *k, const crm_contact *c, int64_t self, bool email_checked,
                            int64_t *dup, crm_err *err)
{
    static const struct {
        const char *field;
        const char *sql;
        bool always; /* email is unique whatever the switch says */
    } keys[] = {
        {"email", "SELECT id FROM contacts WHERE email=? AND id<>? LIMIT 1", true},
        {"phone", "SELECT id FROM contacts WHERE phone=? AND id<>? LIMIT 1", false},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *value = *crm_contact_field_ptr((crm_contact *)c, keys[i].field);
        if (!value || (!keys[i].always && !k->cfg->hygiene.refuse_duplicates) ||
            (i == 0 && email_checked))
            continue;
        int rc = crm_query_id(k, keys[i].sql, value, self, dup, err);
        if (rc != CRM_OK)
            return rc;
        if (*dup)
            return crm_err_set(err, CRM_EEXISTS,
                               "%s: '%s' already belongs to contact %lld: update that contact "
                               "(crm contact update %lld) or merge the two",
                               keys[i].field, value, (long long)*dup, (long long)*dup);
    }
    return CRM_OK;
}

/* ---- writing ---------------------------------------------------------------- */

static int resolve_links(crm_kernel *k, crm_contact *c, int64_t *owner_id, crm_err *err)
{
    *owner_id = 0;
    c->company_id = 0;
    if (c->company) {
        int rc = crm_company_ensure(k, c->company, &c->company_id, err);
        if (rc != CRM_OK)
            return rc;
    }
    if (c->owner) {
        int rc = crm_user_resolve(k, c->owner, owner_id, err);
        if (rc != CRM_OK)
            return crm_err_prefix(err, "owner");
    }
    return CRM_OK;
}

static char *name_key(const crm_contact *c)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s %s", c->first_name ? c->first_name : "",
             c->last_name ? c->last_name : "");
    char *key = crm_fold_key(buf);
    return key ? key : strdup("");
}

static int write_tags(crm_kernel *k, int64_t id, const crm_contact *c, bool replace, crm_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (replace && crm_exec_id(k, "DELETE FROM contact_tags WHERE contact_id=?", id, err) != CRM_OK)
        return crm_err_prefix(err, "cannot write tags");
    for (size_t i = 0; i < c->n_tags; i++) {
        st = crm_store_stmt(k->store, "INSERT INTO contact_tags(contact_id, tag) VALUES(?,?)", err);
        if (!st)
            return err ? err->code : CRM_EDB;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, c->tags[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return crm_store_error(k->store, "cannot write tags", err);
    }
    return CRM_OK;
}

/* Binds the columns shared by INSERT and UPDATE, in this order. */
#define CONTACT_COLUMNS                                                                            \
    "external_id, first_name, last_name, email, phone, company_id, street, postal_code, "          \
    "city, country, birth_date, lifecycle_stage, owner_id, source, name_key, updated_at, "         \
    "phone_type"

static void bind_contact(sqlite3_stmt *st, const crm_contact *c, int64_t owner_id, const char *key,
                         int64_t now)
{
    crm_bind_text(st, 1, c->external_id);
    crm_bind_text(st, 2, c->first_name);
    crm_bind_text(st, 3, c->last_name);
    crm_bind_text(st, 4, c->email);
    crm_bind_text(st, 5, c->phone);
    crm_bind_id(st, 6, c->company_id);
    crm_bind_text(st, 7, c->street);
    crm_bind_text(st, 8, c->postal_code);
    crm_bind_text(st, 9, c->city);
    crm_bind_text(st, 10, c->country);
    crm_bind_text(st, 11, c->birth_date);
    crm_bind_text(st, 12, c->lifecycle_stage ? c->lifecycle_stage : "lead");
    crm_bind_id(st, 13, owner_id);
    crm_bind_text(st, 14, c->source);
    crm_bind_text(st, 15, key);
    sqlite3_bind_int64(st, 16, now);
    /* A phone kept as typed (hygiene off, not E.164) types as "unknown". */
    crm_bind_text(st, 17, !c->phone ? NULL : *c->phone_type ? c->phone_type : crm_phone_type(c->phone));
}

static int insert_contact(crm_kernel *k, crm_contact *c, crm_err *err)
{
    int64_t owner_id;
    int rc = resolve_links(k, c, &owner_id, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "INSERT INTO contacts(" CONTACT_COLUMNS ", created_at) "
                                      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                      err);
    if (!st)
        return err ? err->code : CRM_EDB;
    char *key = name_key(c);
    bind_contact(st, c, owner_id, key, k->now);
    sqlite3_bind_int64(st, 18, k->now);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(key);
    if (rc != SQLITE_DONE)
        return crm_store_error(k->store, "cannot store contact", err);
    c->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    c->created_at = c->updated_at = k->now;
    rc = write_tags(k, c->id, c, false, err);
    if (rc == CRM_OK)
        rc = crm_custom_store(k, CRM_ENTITY_CONTACT, c->id, c->custom, c->n_custom, err);
    return rc;
}

static json_t *id_payload(int64_t id) { return json_pack("{sI}", "contact_id", (json_int_t)id); }

int crm_contact_add(crm_kernel *k, crm_contact *c, int64_t *id_out, crm_err *err)
{
    if (id_out)
        *id_out = 0;
    int rc = crm_contact_normalise(k, c, false, err);
    return rc == CRM_OK ? crm_contact_add_normalised(k, c, id_out, err) : rc;
}

int crm_contact_add_normalised(crm_kernel *k, crm_contact *c, int64_t *id_out, crm_err *err)
{
    return crm_contact_add_flags(k, c, CRM_CONTACT_NORMALISED, id_out, err);
}

int crm_contact_add_flags(crm_kernel *k, crm_contact *c, unsigned flags, int64_t *id_out,
                          crm_err *err)
{
    if (id_out)
        *id_out = 0;
    int rc = flags & CRM_CONTACT_NORMALISED ? CRM_OK : crm_contact_normalise(k, c, false, err);
    if (rc != CRM_OK)
        return rc;
    rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    int64_t dup = 0;
    if (flags & CRM_CONTACT_ALLOW_DUPLICATE && c->email) /* email stays unique whatever */
        rc = crm_query_id(k, "SELECT id FROM contacts WHERE email=? AND id<>? LIMIT 1",
                          c->email, 0, &dup, err);
    else if (!(flags & CRM_CONTACT_ALLOW_DUPLICATE))
        rc = refuse_duplicate(k, c, 0, flags & CRM_CONTACT_EMAIL_CHECKED, &dup, err);
    if (rc == CRM_OK && dup)
        rc = crm_err_set(err, CRM_EEXISTS,
                         "email: '%s' already belongs to contact %lld: update that contact "
                         "(crm contact update %lld) or merge the two",
                         c->email, (long long)dup, (long long)dup);
    if (rc == CRM_OK && !dup && !(flags & CRM_CONTACT_ALLOW_DUPLICATE) &&
        k->cfg->hygiene.refuse_duplicates)
        rc = refuse_lookalike(k, c, flags, &dup, err);
    if (rc == CRM_OK)
        rc = insert_contact(k, c, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "contact.created", id_payload(c->id), NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        if (id_out && dup)
            *id_out = dup;
        return rc;
    }
    rc = crm_kernel_commit(k, err);
    if (rc == CRM_OK && id_out)
        *id_out = c->id;
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

#define SELECT_CONTACT                                                                             \
    "SELECT c.id, c.external_id, c.first_name, c.last_name, c.email, c.phone, co.name, "           \
    "c.street, c.postal_code, c.city, c.country, c.birth_date, c.lifecycle_stage, "                \
    "u.email, c.source, c.company_id, c.created_at, c.updated_at, c.phone_type "                   \
    "FROM contacts c LEFT JOIN companies co ON co.id = c.company_id "                              \
    "LEFT JOIN users u ON u.id = c.owner_id "

static const char *const row_fields[] = {
    "external_id", "first_name", "last_name", "email",      "phone",           "company", "street",
    "postal_code", "city",       "country",   "birth_date", "lifecycle_stage", "owner",   "source",
};

static int load_tags(crm_kernel *k, crm_contact *c, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT tag FROM contact_tags WHERE contact_id=? ORDER BY tag", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, c->id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (crm_contact_add_tag(c, (const char *)sqlite3_column_text(st, 0)) != CRM_OK)
            break;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot read tags", err);
}

static int read_contact_row(crm_kernel *k, sqlite3_stmt *st, crm_contact *c, crm_err *err)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    for (size_t i = 0; i < sizeof row_fields / sizeof row_fields[0]; i++)
        *crm_contact_field_ptr(c, row_fields[i]) = crm_column_strdup(st, (int)i + 1);
    c->company_id = sqlite3_column_int64(st, 15);
    c->created_at = sqlite3_column_int64(st, 16);
    c->updated_at = sqlite3_column_int64(st, 17);
    const unsigned char *pt = sqlite3_column_text(st, 18);
    snprintf(c->phone_type, sizeof c->phone_type, "%s", pt ? (const char *)pt : "");
    int rc = load_tags(k, c, err);
    if (rc == CRM_OK)
        rc = crm_custom_load(k, CRM_ENTITY_CONTACT, c->id, &c->custom, &c->n_custom, err);
    return rc;
}

int crm_contact_get(crm_kernel *k, int64_t id, crm_contact *out, crm_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = crm_store_stmt(k->store, SELECT_CONTACT "WHERE c.id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE
                   ? crm_err_set(err, CRM_ENOTFOUND, "no contact with id %lld", (long long)id)
                   : crm_store_error(k->store, "cannot read contact", err);
    }
    /* Copy the row out before load_tags reuses the connection's statements. */
    rc = read_contact_row(k, st, out, err);
    sqlite3_reset(st);
    if (rc != CRM_OK)
        crm_contact_clear(out);
    return rc;
}

int crm_contact_resolve(crm_kernel *k, const char *ref, int64_t *id, crm_err *err)
{
    static const crm_ref_rule rules[] = {
        {CRM_REF_ID, "SELECT id FROM contacts WHERE id=?"},
        {CRM_REF_EXTERNAL, "SELECT id FROM contacts WHERE external_id=?"},
        {CRM_REF_TEXT, "SELECT id FROM contacts WHERE email=lower(trim(?))"},
    };
    return crm_resolve_ref(k, "contact", ref, rules, sizeof rules / sizeof rules[0], id, err);
}

/* ---- update, delete ------------------------------------------------------------ */

/* Overlays the set fields of `changes` on `cur` (NULL = keep, "" = clear). */
static int overlay(crm_contact *cur, crm_contact *changes)
{
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        char **src = (char **)((char *)changes + f->offset);
        char **dst = (char **)((char *)cur + f->offset);
        if (!*src)
            continue;
        free(*dst);
        *dst = **src ? strdup(*src) : NULL;
    }
    if (changes->tags) {
        crm_strv_free(cur->tags, cur->n_tags);
        cur->tags = NULL;
        cur->n_tags = 0;
        for (size_t i = 0; i < changes->n_tags; i++)
            if (crm_contact_add_tag(cur, changes->tags[i]) != CRM_OK)
                return CRM_ENOMEM;
    }
    return CRM_OK;
}

static json_t *changed_fields(const crm_contact *before, const crm_contact *after,
                              const crm_contact *changes)
{
    json_t *list = json_array();
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        const char *a = *(char **)((char *)before + f->offset);
        const char *b = *(char **)((char *)after + f->offset);
        if (!crm_str_equal(a, b))
            json_array_append_new(list, json_string(f->name));
    }
    if (changes->tags)
        json_array_append_new(list, json_string("tags"));
    for (size_t i = 0; i < changes->n_custom; i++) {
        char name[200];
        snprintf(name, sizeof name, "custom.%s", changes->custom[i].key);
        json_array_append_new(list, json_string(name));
    }
    return list;
}

static int update_row(crm_kernel *k, int64_t id, crm_contact *c, crm_err *err)
{
    int64_t owner_id;
    int rc = resolve_links(k, c, &owner_id, err);
    if (rc != CRM_OK)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "UPDATE contacts SET (" CONTACT_COLUMNS
                                      ") = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                                      "WHERE id=?",
                                      err);
    if (!st)
        return err ? err->code : CRM_EDB;
    char *key = name_key(c);
    bind_contact(st, c, owner_id, key, k->now);
    sqlite3_bind_int64(st, 18, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(key);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot update contact", err);
}

static int apply_update(crm_kernel *k, int64_t id, crm_contact *cur, crm_contact *changes,
                        crm_err *err)
{
    crm_contact before = {0};
    int rc = crm_contact_get(k, id, &before, err);
    if (rc == CRM_OK)
        rc = overlay(cur, changes);
    if (rc == CRM_OK)
        rc = crm_contact_normalise(k, cur, false, err);
    if (rc == CRM_OK)
        rc = crm_custom_validate(k, CRM_ENTITY_CONTACT, changes->custom, changes->n_custom, true,
                                 err);
    int64_t dup = 0;
    if (rc == CRM_OK)
        rc = refuse_duplicate(k, cur, id, false, &dup, err);
    if (rc == CRM_OK)
        rc = update_row(k, id, cur, err);
    if (rc == CRM_OK && changes->tags)
        rc = write_tags(k, id, cur, true, err);
    if (rc == CRM_OK)
        rc = crm_custom_store(k, CRM_ENTITY_CONTACT, id, changes->custom, changes->n_custom, err);
    if (rc == CRM_OK && !crm_str_equal(before.lifecycle_stage, cur->lifecycle_stage))
        rc = crm_contact_history_add(k, id, "lifecycle_stage", before.lifecycle_stage,
                                     cur->lifecycle_stage, "contact update", 0, err);
    if (rc == CRM_OK) {
        json_t *p = id_payload(id);
        json_object_set_new(p, "changed", changed_fields(&before, cur, changes));
        rc = crm_event_emit(k, "contact.updated", p, NULL, err);
    }
    crm_contact_clear(&before);
    return rc;
}

int crm_contact_update(crm_kernel *k, int64_t id, crm_contact *changes, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    crm_contact cur = {0};
    rc = crm_contact_get(k, id, &cur, err);
    if (rc == CRM_OK) {
        /* The stored custom values were valid already; only the changes are checked. */
        crm_kv_free(cur.custom, cur.n_custom);
        cur.custom = NULL;
        cur.n_custom = 0;
        rc = apply_update(k, id, &cur, changes, err);
    }
    crm_contact_clear(&cur);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

static int count_rows(crm_kernel *k, const char *sql, int64_t id, int64_t *n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CRM_OK : crm_store_error(k->store, "cannot count", err);
}

static int delete_rows(crm_kernel *k, int64_t id, bool force, crm_err *err)
{
    static const char *const history[] = {
        "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE contact_id=?)",
        ("DELETE FROM custom_values WHERE entity='order' AND entity_id IN "
         "(SELECT id FROM orders WHERE contact_id=?)"),
        "DELETE FROM orders WHERE contact_id=?",
        "DELETE FROM interactions WHERE contact_id=?",
    };
    int64_t n_orders = 0, n_inter = 0;
    int rc = count_rows(k, "SELECT count(*) FROM orders WHERE contact_id=?", id, &n_orders, err);
    if (rc == CRM_OK)
        rc = count_rows(k, "SELECT count(*) FROM interactions WHERE contact_id=?", id, &n_inter,
                        err);
    if (rc != CRM_OK)
        return rc;
    if ((n_orders || n_inter) && !force)
        return crm_err_set(err, CRM_EINVAL,
                           "contact %lld has %lld orders and %lld interactions: pass --force to "
                           "erase them too (GDPR erasure)",
                           (long long)id, (long long)n_orders, (long long)n_inter);
    for (size_t i = 0; rc == CRM_OK && i < sizeof history / sizeof history[0]; i++)
        rc = crm_exec_id(k, history[i], id, err);
    if (rc == CRM_OK)
        rc = crm_custom_delete(k, CRM_ENTITY_CONTACT, id, err);
    if (rc == CRM_OK)
        rc = crm_exec_id(k, "DELETE FROM contacts WHERE id=?", id, err);
    return rc;
}

int crm_contact_delete(crm_kernel *k, int64_t id, bool force, crm_err *err)
{
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    int64_t exists = 0;
    rc = count_rows(k, "SELECT count(*) FROM contacts WHERE id=?", id, &exists, err);
    if (rc == CRM_OK && !exists)
        rc = crm_err_set(err, CRM_ENOTFOUND, "no contact with id %lld", (long long)id);
    if (rc == CRM_OK)
        rc = delete_rows(k, id, force, err);
    if (rc == CRM_OK)
        rc = crm_event_emit(k, "contact.deleted", id_payload(id), NULL, err);
    if (rc != CRM_OK) {
        crm_kernel_rollback(k);
        return rc;
    }
    return crm_kernel_commit(k, err);
}

/* ---- JSON and listing ------------------------------------------------------------ */

json_t *crm_contact_to_json(const crm_contact *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        const char *v = *(char **)((char *)c + f->offset);
        json_object_set_new(o, f->name, v ? json_string(v) : json_null());
    }
    json_t *tags = json_array();
    for (size_t i = 0; i < c->n_tags; i++)
        json_array_append_new(tags, json_string(c->tags[i]));
    json_object_set_new(o, "tags", tags);
    json_t *custom = json_object();
    for (size_t i = 0; i < c->n_custom; i++)
        json_object_set_new(custom, c->custom[i].key, json_string(c->custom[i].value));
    json_object_set_new(o, "custom", custom);
    json_object_set_new(o, "phone_type", *c->phone_type ? json_string(c->phone_type) : json_null());
    json_object_set_new(o, "created_at", crm_json_time(c->created_at));
    json_object_set_new(o, "updated_at", crm_json_time(c->updated_at));
    return o;
}

static void add_filter(crm_sql *q, const char *value, const char *clause)
{
    if (value && *value)
        crm_sql_where(q, clause, value);
}

typedef struct list_ctx {
    crm_kernel *k;
    int (*fn)(const crm_contact *c, void *ud);
    void *ud;
    crm_err *err;
} list_ctx;

static int list_row(sqlite3_stmt *st, void *ud)
{
    list_ctx *ctx = ud;
    crm_contact c;
    int rc = read_contact_row(ctx->k, st, &c, ctx->err);
    if (rc == CRM_OK)
        rc = ctx->fn(&c, ctx->ud) ? 1 : CRM_OK;
    crm_contact_clear(&c);
    return rc;
}

int crm_contact_list(crm_kernel *k, const crm_contact_filter *f,
                     int (*fn)(const crm_contact *c, void *ud), void *ud, crm_err *err)
{
    crm_sql q;
    crm_sql_init(&q, SELECT_CONTACT);
    add_filter(&q, f->email, "c.email = lower(?)");
    add_filter(&q, f->city, "c.city = ? COLLATE NOCASE");
    add_filter(&q, f->postal_code, "c.postal_code LIKE ? || '%'");
    add_filter(&q, f->country, "c.country = upper(?)");
    add_filter(&q, f->company, "co.name = ? COLLATE NOCASE");
    add_filter(&q, f->source, "c.source = ?");
    add_filter(&q, f->lifecycle_stage, "c.lifecycle_stage = lower(?)");
    add_filter(&q, f->tag, "c.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)");
    for (size_t i = 0; i < sizeof f->sets / sizeof f->sets[0] && f->sets[i]; i++)
        add_filter(&q, f->sets[i],
                   "c.id IN (SELECT contact_id FROM temp.crm_contact_sets WHERE name = ?)");
    char *folded = f->name && *f->name ? crm_fold_key(f->name) : NULL;
    add_filter(&q, folded, "c.name_key LIKE '%' || ? || '%'");
    char after[24], since[24];
    snprintf(after, sizeof after, "%lld", (long long)f->after_id);
    snprintf(since, sizeof since, "%lld", (long long)f->updated_since);
    if (f->after_id > 0)
        crm_sql_where(&q, "c.id > CAST(? AS INTEGER)", after);
    if (f->updated_since > 0)
        crm_sql_where(&q, "c.updated_at >= CAST(? AS INTEGER)", since);
    crm_sql_page(&q, "c.id", f->limit, f->offset);
    list_ctx ctx = {k, fn, ud, err};
    int rc = crm_sql_each(k, &q, list_row, &ctx, err);
    free(folded);
    crm_sql_free(&q);
    return rc;
}

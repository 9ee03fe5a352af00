/* Import handler for contacts: stored, updated (same id, external_id or
 * normalised email), unchanged (a row without those keys: the same contact
 * by the duplicate rules, field for field), merged (--merge-duplicates) or
 * rejected. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe/dedupe.h"
#include "hygiene.h"
#include "import_int.h"
#include "model.h"
#include "model/model_util.h"

/* `id` is this database's contact id, as `crm export contacts` writes it. */
static const char *const contact_columns[] = {
    "id",     "external_id", "first_name", "last_name", "email",           "phone",
    "company", "street",     "postal_code", "city",     "country",         "birth_date",
    "source", "tags",        "lifecycle_stage", "owner", NULL,
};

static int split_tags(crm_contact *c, const char *tags)
{
    const char *p = tags;
    if (!c->tags && !(c->tags = calloc(1, sizeof *c->tags)))
        return CRM_ENOMEM;
    while (*p) {
        size_t len = strcspn(p, "|");
        char tag[256];
        snprintf(tag, sizeof tag, "%.*s", (int)(len < 255 ? len : 255), p);
        if (len && crm_contact_add_tag(c, tag) != CRM_OK)
            return CRM_ENOMEM;
        p += len + (p[len] == '|');
    }
    return CRM_OK;
}

/* An `id` column (as `crm export contacts` writes) names the stored contact. */
static int row_id(const imp_row *r, crm_contact *c, crm_err *err)
{
    const char *v = imp_get(r, "id");
    if (!v)
        return CRM_OK;
    char *end;
    errno = 0;
    long long id = strtoll(v, &end, 10);
    if (errno || *end || id <= 0)
        return crm_err_set(err, CRM_EINVAL, "id: '%s' is not a contact id (a positive integer)",
                           v);
    c->id = id;
    return CRM_OK;
}

static int from_row(const imp_ctx *ctx, const imp_row *r, crm_contact *c, crm_err *err)
{
    if (row_id(r, c, err) != CRM_OK)
        return err->code;
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        const char *v = imp_get(r, f->name);
        if (v && !(*crm_contact_field_ptr(c, f->name) = strdup(v)))
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    const char *tags = imp_get(r, "tags");
    if (tags && split_tags(c, tags) != CRM_OK)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        if (r->fields[i] && r->cells[i][0] && imp_is_custom(ctx, r->fields[i]) &&
            crm_contact_set_custom(c, r->fields[i], r->cells[i]) != CRM_OK)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
    return CRM_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool same_tags(crm_contact *a, crm_contact *b)
{
    if (a->n_tags != b->n_tags)
        return false;
    qsort(a->tags, a->n_tags, sizeof *a->tags, cmp_str);
    qsort(b->tags, b->n_tags, sizeof *b->tags, cmp_str);
    for (size_t i = 0; i < a->n_tags; i++)
        if (strcmp(a->tags[i], b->tags[i]) != 0)
            return false;
    return true;
}

static const char *custom_value(const crm_contact *c, const char *name)
{
    for (size_t i = 0; i < c->n_custom; i++)
        if (strcmp(c->custom[i].key, name) == 0)
            return c->custom[i].value;
    return NULL;
}

/* A company name matches when the folded names agree (the model reuses a company). */
static bool same_value(const char *field, const char *a, const char *b)
{
    if (crm_str_equal(a, b))
        return true;
    if (!a || !b || strcmp(field, "company") != 0)
        return false;
    char *fa = crm_fold_key(a), *fb = crm_fold_key(b);
    bool same = fa && fb && strcmp(fa, fb) == 0;
    free(fa);
    free(fb);
    return same;
}

/* Fills `changes` with what `row` would change on `cur`; `fill_only` keeps
 * cur's non-empty fields (merging into a duplicate). Returns the count. */
static int diff(crm_contact *cur, crm_contact *row, crm_contact *changes, bool fill_only)
{
    int n = 0;
    for (const crm_contact_field *f = crm_contact_fields; f->name; f++) {
        char *v = *crm_contact_field_ptr(row, f->name);
        char *have = *crm_contact_field_ptr(cur, f->name);
        if (!v || same_value(f->name, v, have) || (fill_only && have))
            continue;
        *crm_contact_field_ptr(changes, f->name) = strdup(v);
        n++;
    }
    if (row->tags && !same_tags(cur, row)) {
        changes->tags = calloc(1, sizeof *changes->tags);
        for (size_t i = 0; fill_only && i < cur->n_tags; i++)
            crm_contact_add_tag(changes, cur->tags[i]);
        for (size_t i = 0; i < row->n_tags; i++)
            if (!crm_strv_contains(changes->tags, changes->n_tags, row->tags[i]))
                crm_contact_add_tag(changes, row->tags[i]);
        n += !fill_only || changes->n_tags != cur->n_tags;
    }
    for (size_t i = 0; i < row->n_custom; i++) {
        const char *have = custom_value(cur, row->custom[i].key);
        if (crm_str_equal(have, row->custom[i].value) || (fill_only && have))
            continue;
        crm_contact_set_custom(changes, row->custom[i].key, row->custom[i].value);
        n++;
    }
    return n;
}

static int apply_changes(crm_kernel *k, int64_t id, crm_contact *row, bool fill_only,
                         int outcome, crm_err *err)
{
    crm_contact cur = {0}, changes = {0};
    int rc = crm_contact_get(k, id, &cur, err);
    int n = rc == CRM_OK ? diff(&cur, row, &changes, fill_only) : 0;
    if (rc == CRM_OK && n > 0)
        rc = crm_contact_update(k, id, &changes, err);
    crm_contact_clear(&cur);
    crm_contact_clear(&changes);
    if (rc != CRM_OK)
        return rc;
    return n > 0 || outcome == IMP_MERGED ? outcome : IMP_UNCHANGED;
}

/* The row's id is a contact of this database, with no other external_id. */
static int find_by_id(crm_kernel *k, const crm_contact *c, int64_t *id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT external_id FROM contacts WHERE id=?",
                                      err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, c->id);
    int rc = CRM_OK;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = crm_err_set(err, CRM_ENOTFOUND,
                         "id: no contact %lld in this database (the id column of an export "
                         "names contacts of the database it came from; drop the column to add "
                         "the rows as new contacts)",
                         (long long)c->id);
    } else {
        const char *ext = (const char *)sqlite3_column_text(st, 0);
        if (ext && c->external_id && strcmp(ext, c->external_id) != 0)
            rc = crm_err_set(err, CRM_EEXISTS,
                             "id: contact %lld has external_id '%s', not '%s'", (long long)c->id,
                             ext, c->external_id);
        else
            *id = c->id;
    }
    sqlite3_reset(st);
    return rc;
}

/* The stored contact this row is about: its id, else same external_id, else same email
 * (refusing an email that belongs to a contact with another external_id). */
static int find_existing(crm_kernel *k, const crm_contact *c, int64_t *id, crm_err *err)
{
    *id = 0;
    int rc = CRM_OK;
    if (c->id)
        return find_by_id(k, c, id, err);
    if (c->external_id)
        rc = imp_lookup(k, "SELECT id FROM contacts WHERE external_id=?", c->external_id, id,
                        err);
    if (rc != CRM_OK || *id || !c->email)
        return rc;
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "SELECT id, external_id FROM contacts WHERE email=?", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, c->email, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *ext = (const char *)sqlite3_column_text(st, 1);
        *id = sqlite3_column_int64(st, 0);
        if (ext && c->external_id && strcmp(ext, c->external_id) != 0)
            rc = crm_err_set(err, CRM_EEXISTS,
                             "email: '%s' belongs to contact %lld whose external_id is '%s', "
                             "not '%s'",
                             c->email, (long long)*id, ext, c->external_id);
    }
    sqlite3_reset(st);
    return rc;
}

/* A row without external_id or email has no key: the contact the duplicate
 * rules find for it is the same one when the row would change nothing on it,
 * so a re-imported file stores no copy. *id = -that id (0 when none). */
static int find_same(crm_kernel *k, crm_contact *c, int64_t *id, crm_err *err)
{
    crm_dup_pair p;
    int rc = crm_dedupe_match(k, c, 0, 0, 0, &p, err);
    if (rc != CRM_OK || !p.a)
        return rc;
    crm_contact cur = {0}, changes = {0};
    rc = crm_contact_get(k, p.a, &cur, err);
    if (rc == CRM_OK && diff(&cur, c, &changes, false) == 0)
        *id = -p.a;
    crm_contact_clear(&cur);
    crm_contact_clear(&changes);
    return rc;
}

static int add_or_merge(imp_ctx *ctx, crm_contact *c, int64_t *id, crm_err *err)
{
    crm_kernel *k = ctx->k;
    int rc = CRM_OK;
    if (ctx->o->merge_duplicates) {
        /* the duplicate rules of `contact duplicates`, at min_score */
        crm_dup_pair p;
        rc = crm_dedupe_match(k, c, 0, -1, 0, &p, err);
        if (rc != CRM_OK || p.a)
            return rc == CRM_OK ? (*id = p.a, apply_changes(k, p.a, c, true, IMP_MERGED, err))
                                : rc;
    }
    /* find_existing looked the email up in this row's transaction */
    rc = crm_contact_add_flags(k, c,
                               CRM_CONTACT_NORMALISED | CRM_CONTACT_IMPORTING |
                                   CRM_CONTACT_EMAIL_CHECKED,
                               id, err);
    if (rc == CRM_EEXISTS && ctx->o->merge_duplicates && *id) {
        crm_err_clear(err);
        return apply_changes(k, *id, c, true, IMP_MERGED, err);
    }
    return rc == CRM_OK ? IMP_STORED : rc;
}

/* Everything a row needs that reads no database: runs on the reader thread. */
static int prepare_contact(const imp_ctx *ctx, const imp_row *r, void **prep, crm_err *err)
{
    crm_contact *c = calloc(1, sizeof *c);
    int rc = c ? from_row(ctx, r, c, err) : crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        rc = crm_contact_normalise_fields(ctx->k, c, false, err);
    if (rc == CRM_OK) {
        *prep = c;
        return CRM_OK;
    }
    if (c)
        crm_contact_clear(c);
    free(c);
    return rc;
}

static void release_contact(void *prep)
{
    if (prep)
        crm_contact_clear(prep);
    free(prep);
}

static int apply_contact(imp_ctx *ctx, const imp_row *r, int64_t *id, crm_err *err)
{
    crm_contact *c = r->prep;
    void *own = NULL;
    int rc = c ? CRM_OK : prepare_contact(ctx, r, &own, err);
    if (!c)
        c = own;
    /* the kernel's validators hook (the Lua rules): here on the writer
     * thread, never in prepare, as a Lua state is not thread-safe */
    if (rc == CRM_OK)
        rc = crm_contact_validate(ctx->k, c, err);
    if (rc == CRM_OK)
        rc = find_existing(ctx->k, c, id, err);
    if (rc == CRM_OK && !*id && !c->external_id && !c->email)
        rc = find_same(ctx->k, c, id, err);
    if (rc == CRM_OK && *id < 0) {
        *id = -*id;
        rc = IMP_UNCHANGED;
    } else if (rc == CRM_OK) {
        rc = *id ? apply_changes(ctx->k, *id, c, false, IMP_UPDATED, err)
                 : add_or_merge(ctx, c, id, err);
    }
    release_contact(own);
    return rc;
}

const imp_entity imp_contacts = {"contacts", "contact", contact_columns, CRM_ENTITY_CONTACT,
                                 apply_contact, prepare_contact, release_contact};

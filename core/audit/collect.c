/* The audit's reading half: each finding from the base, the safe merges,
 * and the `audits` record that gives the next audit its deltas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "dedupe/dedupe.h"
#include "events.h"
#include "hygiene.h"
#include "util.h"

/* ---- duplicates and merge-safe --------------------------------------------------- */

typedef struct pairs {
    crm_dup_pair *v;
    size_t n, cap;
    crm_audit_finding *f; /* when set, pairs are only counted there */
} pairs;

static int on_pair(const crm_dup_pair *p, void *ud)
{
    pairs *ps = ud;
    if (ps->f) {
        crm_audit_note(ps->f, p->a, p->b, p->reasons);
        return 0;
    }
    if (CRM_ARRAY_RESERVE(ps->v, ps->cap, ps->n + 1) != CRM_OK)
        return 1; /* ps->n < pairs found: reported as out of memory */
    ps->v[ps->n++] = *p;
    return 0;
}

static int add_merge(crm_audit_report *r, int64_t merge_id, int64_t keep, int64_t other)
{
    crm_audit_merge *m = CRM_ARRAY_APPEND(r->merges, r->n_merges);
    if (!m)
        return CRM_ENOMEM;
    *m = (crm_audit_merge){merge_id, keep, other};
    return CRM_OK;
}

/* One candidate pair, read as it is now: an earlier merge of this run may
 * have absorbed one side or filled the other's fields. */
static int try_merge(crm_kernel *k, const crm_dup_pair *p, crm_audit_report *r, crm_err *err)
{
    crm_contact a, b;
    int rc = crm_contact_get(k, p->a, &a, err);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK;
    if (rc != CRM_OK)
        return rc;
    rc = crm_contact_get(k, p->b, &b, err);
    if (rc != CRM_OK) {
        crm_contact_clear(&a);
        return rc == CRM_ENOTFOUND ? CRM_OK : rc;
    }
    char why[320];
    if (!crm_audit_shares_key(&a, &b)) {
        rc = CRM_OK;
    } else if (crm_audit_conflict(&a, &b, why, sizeof why)) {
        crm_audit_note(&r->refused, p->a, p->b, why);
    } else {
        int64_t merge_id = 0;
        crm_err merr = {0};
        rc = crm_contact_merge(k, p->a, p->b, NULL, 0, &merge_id, &merr);
        if (rc == CRM_OK)
            rc = add_merge(r, merge_id, p->a, p->b);
        else if (rc == CRM_EINVAL) { /* the merge itself refused: leave the pair, say why */
            snprintf(why, sizeof why, "merge refused: %s", merr.msg);
            crm_audit_note(&r->refused, p->a, p->b, why);
            rc = CRM_OK;
        }
        else
            crm_err_set(err, rc, "%s", merr.msg);
        if (rc == CRM_ENOMEM)
            crm_err_set(err, rc, "out of memory");
    }
    crm_contact_clear(&a);
    crm_contact_clear(&b);
    return rc;
}

static int merge_safe(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    pairs ps = {0};
    crm_dedupe_stats st;
    int rc = crm_dedupe_scan(k, -1, on_pair, &ps, &st, err);
    if (rc == CRM_OK && (int64_t)ps.n < st.pairs)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory listing duplicate pairs");
    r->fixed = true;
    for (size_t i = 0; rc == CRM_OK && i < ps.n; i++)
        rc = try_merge(k, &ps.v[i], r, err);
    free(ps.v);
    return rc;
}

static int find_duplicates(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    pairs ps = {.f = &r->f[CRM_AUDIT_DUPLICATES]};
    crm_dedupe_stats st;
    int rc = crm_dedupe_scan(k, -1, on_pair, &ps, &st, err);
    if (rc == CRM_OK) {
        /* The threshold the scan used, as crm.yaml gives it. */
        const crm_node *m = k->cfg->root
                                ? crm_node_path(k->cfg->root, "hygiene.duplicates.min_score")
                                : NULL;
        int64_t v = 80;
        if (m && crm_node_int(m, "hygiene.duplicates.min_score", &v, err) != CRM_OK)
            return CRM_ECONFIG;
        r->min_score = (int)v;
    }
    return rc;
}

/* ---- missing fields ---------------------------------------------------------------- */

/* The SQL test for "contact c lacks built-in field f" (names come from the
 * config's closed list, never from input). */
static void missing_expr(const char *field, char *buf, size_t size)
{
    if (strcmp(field, "company") == 0)
        snprintf(buf, size, "c.company_id IS NULL");
    else
        snprintf(buf, size, "(c.%s IS NULL OR c.%s = '')", field, field);
}

static bool has_field(const crm_audit_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return true;
    return false;
}

static int add_field(crm_audit_report *r, const char *name, bool required)
{
    if (has_field(r, name))
        return CRM_OK; /* required and recommended: required wins */
    crm_audit_field *f = CRM_ARRAY_APPEND(r->fields, r->n_fields);
    if (!f)
        return CRM_ENOMEM;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->required = required;
    return CRM_OK;
}

static int list_fields(const crm_kernel *k, crm_audit_report *r)
{
    const crm_hygiene_config *h = &k->cfg->hygiene;
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < h->n_required; i++)
        rc = add_field(r, h->required[i], true);
    for (size_t i = 0; rc == CRM_OK && i < k->cfg->n_custom[CRM_ENTITY_CONTACT]; i++) {
        const crm_custom_field *cf = &k->cfg->custom[CRM_ENTITY_CONTACT][i];
        char name[72];
        snprintf(name, sizeof name, "custom.%s", cf->name);
        if (cf->required)
            rc = add_field(r, name, true);
    }
    for (size_t i = 0; rc == CRM_OK && i < h->n_recommended; i++)
        rc = add_field(r, h->recommended[i], false);
    return rc;
}

static void append(char *buf, size_t size, const char *s)
{
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", len ? ", " : "", s);
}

static int find_missing(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    if (list_fields(k, r) != CRM_OK)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (!r->n_fields)
        return CRM_OK;
    /* One pass: a 0/1 column per field. Custom names are bound, not spliced. */
    size_t cap = 256 + r->n_fields * 160;
    char *sql = malloc(cap), expr[160];
    if (!sql)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    snprintf(sql, cap, "SELECT c.id");
    int n_bind = 0;
    for (size_t i = 0; i < r->n_fields; i++) {
        if (strncmp(r->fields[i].name, "custom.", 7) == 0)
            snprintf(expr, sizeof expr,
                     "NOT EXISTS(SELECT 1 FROM custom_values v WHERE v.entity = 'contact' AND "
                     "v.entity_id = c.id AND v.name = ?%d AND v.value <> '')",
                     ++n_bind);
        else
            missing_expr(r->fields[i].name, expr, sizeof expr);
        size_t len = strlen(sql);
        snprintf(sql + len, cap - len, ", %s", expr);
    }
    size_t len = strlen(sql);
    snprintf(sql + len, cap - len, " FROM contacts c ORDER BY c.id");
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    free(sql);
    if (!st)
        return err->code;
    for (size_t i = 0, b = 0; i < r->n_fields; i++)
        if (strncmp(r->fields[i].name, "custom.", 7) == 0)
            sqlite3_bind_text(st, (int)++b, r->fields[i].name + 7, -1, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        char req[256] = "", rec[256] = "";
        for (size_t i = 0; i < r->n_fields; i++) {
            if (!sqlite3_column_int(st, (int)i + 1))
                continue;
            crm_audit_field *f = &r->fields[i];
            crm_audit_note(&f->missing, id, 0, NULL);
            append(f->required ? req : rec, sizeof req, f->name);
        }
        if (req[0])
            crm_audit_note(&r->f[CRM_AUDIT_MISSING_REQUIRED], id, 0, req);
        if (rec[0])
            crm_audit_note(&r->f[CRM_AUDIT_MISSING_RECOMMENDED], id, 0, rec);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot read contacts", err);
}

/* ---- invalid values ------------------------------------------------------------------ */

typedef struct invalid_ctx {
    crm_kernel *k;
    crm_audit_finding *f;
    int rc;
} invalid_ctx;

/* Re-validates a copy of the stored contact with today's rules. */
static int check_contact(const crm_contact *c, void *ud)
{
    invalid_ctx *x = ud;
    crm_contact copy = {0};
    int rc = CRM_OK;
    for (const crm_contact_field *f = crm_contact_fields; rc == CRM_OK && f->name; f++) {
        const char *v = *(char *const *)((const char *)c + f->offset);
        /* owner is a reference checked at write time, not a value rule */
        if (v && strcmp(f->name, "owner") != 0 &&
            !(*crm_contact_field_ptr(&copy, f->name) = strdup(v)))
            rc = CRM_ENOMEM;
    }
    for (size_t i = 0; rc == CRM_OK && i < c->n_custom; i++)
        rc = crm_contact_set_custom(&copy, c->custom[i].key, c->custom[i].value);
    for (size_t i = 0; rc == CRM_OK && i < c->n_tags; i++)
        rc = crm_contact_add_tag(&copy, c->tags[i]); /* validators read them */
    copy.id = c->id;
    copy.company_id = c->company_id;
    copy.created_at = c->created_at;
    copy.updated_at = c->updated_at;
    crm_err e = {0};
    if (rc == CRM_OK && crm_contact_normalise(x->k, &copy, true, &e) != CRM_OK) {
        if (e.code == CRM_ENOMEM)
            rc = CRM_ENOMEM;
        else
            crm_audit_note(x->f, c->id, 0, e.msg);
    }
    crm_contact_clear(&copy);
    x->rc = rc;
    return rc != CRM_OK;
}

/* A stage the lifecycle rule would have moved: data older than the rule. */
static int note_behind(int64_t id, const char *from, const char *to, int64_t order_id, void *ud)
{
    char why[160];
    snprintf(why, sizeof why,
             "lifecycle_stage: '%s' although order #%lld is paid (lifecycle.on_first_paid_order: "
             "%s; crm audit --fix stages)",
             from, (long long)order_id, to);
    crm_audit_note(ud, id, 0, why);
    return 0;
}

static int note_staged(int64_t id, const char *from, const char *to, int64_t order_id, void *ud)
{
    char what[160];
    snprintf(what, sizeof what, "%s -> %s (order #%lld paid)", from, to, (long long)order_id);
    crm_audit_note(ud, id, 0, what);
    return 0;
}

static int find_invalid(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    crm_contact_filter all = {0};
    invalid_ctx x = {k, &r->f[CRM_AUDIT_INVALID], CRM_OK};
    int rc = crm_contact_list(k, &all, check_contact, &x, err);
    if (rc == CRM_OK && x.rc != CRM_OK)
        rc = crm_err_set(err, x.rc, "out of memory re-validating contacts");
    if (rc == CRM_OK)
        rc = crm_lifecycle_behind(k, false, note_behind, &r->f[CRM_AUDIT_INVALID], err);
    return rc;
}

/* ---- consent, activity ----------------------------------------------------------- */

static int find_no_consent(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT c.id FROM contacts c WHERE NOT EXISTS(SELECT 1 FROM consents s"
        " WHERE s.contact_id = c.id AND s.recorded_at <= ?) ORDER BY c.id",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, k->now);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        crm_audit_note(&r->f[CRM_AUDIT_NO_CONSENT], sqlite3_column_int64(st, 0), 0, NULL);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot read consents", err);
}

static int find_inactive(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    r->inactive_months = k->cfg->hygiene.inactive_months;
    r->inactive_before = crm_audit_months_before(k->now, r->inactive_months);
    /* Activity after the audit's clock does not count (--as-of in the past). */
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT c.id, c.created_at,"
        " (SELECT max(o.placed_at) FROM orders o WHERE o.contact_id = c.id AND o.placed_at <= ?1),"
        " (SELECT max(i.occurred_at) FROM interactions i"
        "   WHERE i.contact_id = c.id AND i.occurred_at <= ?1)"
        " FROM contacts c ORDER BY c.id",
        err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, k->now);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        bool has_order = sqlite3_column_type(st, 2) != SQLITE_NULL;
        bool has_inter = sqlite3_column_type(st, 3) != SQLITE_NULL;
        int64_t order = sqlite3_column_int64(st, 2), inter = sqlite3_column_int64(st, 3);
        int64_t last = has_order && (!has_inter || order >= inter) ? order
                       : has_inter                                 ? inter
                                                                   : sqlite3_column_int64(st, 1);
        if (last >= r->inactive_before)
            continue;
        crm_audit_finding *f = &r->f[CRM_AUDIT_INACTIVE];
        size_t kept = f->n_examples;
        crm_audit_note(f, sqlite3_column_int64(st, 0), 0,
                       has_order || has_inter ? "" : " (created; no order or interaction)");
        if (f->n_examples > kept)
            f->examples[kept].at = last;
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot read activity", err);
}

/* ---- the record ------------------------------------------------------------------ */

static int count_contacts(crm_kernel *k, int64_t *n, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, "SELECT count(*) FROM contacts", err);
    if (!st)
        return err->code;
    int step = sqlite3_step(st);
    *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? CRM_OK : crm_store_error(k->store, "cannot count contacts", err);
}

#define AUDIT_COLUMNS \
    "duplicates, missing_required, missing_recommended, invalid, no_consent, inactive"

static int read_previous(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store,
                                      "SELECT id, as_of, contacts, " AUDIT_COLUMNS
                                      " FROM audits WHERE as_of <= ?"
                                      " ORDER BY as_of DESC, id DESC LIMIT 1",
                                      err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, k->now);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        r->prev_id = sqlite3_column_int64(st, 0);
        r->prev_as_of = sqlite3_column_int64(st, 1);
        r->prev_contacts = sqlite3_column_int64(st, 2);
        for (int i = 0; i < CRM_AUDIT_N; i++)
            r->prev[i] = sqlite3_column_int64(st, 3 + i);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot read the previous audit", err);
}

static int record(crm_kernel *k, crm_audit_report *r, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO audits(as_of, contacts, " AUDIT_COLUMNS ", merged, created_at)"
        " VALUES(?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return err->code;
    int i = 1;
    sqlite3_bind_int64(st, i++, r->as_of);
    sqlite3_bind_int64(st, i++, r->contacts);
    for (int kind = 0; kind < CRM_AUDIT_N; kind++)
        sqlite3_bind_int64(st, i++, r->f[kind].count);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)r->n_merges);
    sqlite3_bind_int64(st, i++, k->now);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return crm_store_error(k->store, "cannot record the audit", err);
    r->id = sqlite3_last_insert_rowid(crm_store_db(k->store));
    json_t *payload = json_pack("{sI}", "audit_id", (json_int_t)r->id);
    for (int kind = 0; payload && kind < CRM_AUDIT_N; kind++)
        json_object_set_new(payload, crm_audit_keys[kind], json_integer(r->f[kind].count));
    json_object_set_new(payload, "merged", json_integer((json_int_t)r->n_merges));
    return crm_event_emit(k, "audit.recorded", payload, NULL, err);
}

int crm_audit_run(crm_kernel *k, const crm_audit_opts *o, crm_audit_report *r, crm_err *err)
{
    memset(r, 0, sizeof *r);
    r->as_of = k->now;
    int rc = crm_kernel_begin(k, err);
    if (rc != CRM_OK)
        return rc;
    if (o && o->fix_merge_safe)
        rc = merge_safe(k, r, err);
    if (rc == CRM_OK && o && o->fix_stages) {
        r->fixed_stages = true;
        rc = crm_lifecycle_behind(k, true, note_staged, &r->staged, err);
    }
    if (rc == CRM_OK)
        rc = count_contacts(k, &r->contacts, err);
    if (rc == CRM_OK)
        rc = find_duplicates(k, r, err);
    if (rc == CRM_OK)
        rc = find_missing(k, r, err);
    if (rc == CRM_OK)
        rc = find_invalid(k, r, err);
    if (rc == CRM_OK)
        rc = find_no_consent(k, r, err);
    if (rc == CRM_OK)
        rc = find_inactive(k, r, err);
    if (rc == CRM_OK)
        rc = read_previous(k, r, err);
    if (rc == CRM_OK)
        rc = record(k, r, err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    return rc;
}

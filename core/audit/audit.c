/* The audit's pure half: examples, month arithmetic, the merge-safety rule
 * and the JSON report. No database here, so tests check it alone. */
#include "audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"
#include "time/civil.h"

const char *const crm_audit_keys[CRM_AUDIT_N] = {
    "duplicates", "missing_required", "missing_recommended",
    "invalid",    "no_consent",       "inactive",
};

void crm_audit_note(crm_audit_finding *f, int64_t a, int64_t b, const char *detail)
{
    f->count++;
    if (f->n_examples >= CRM_AUDIT_EXAMPLES)
        return;
    crm_audit_example *e = &f->examples[f->n_examples++];
    e->a = a;
    e->b = b;
    e->at = 0;
    snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
}

int64_t crm_audit_months_before(int64_t t, int64_t months)
{
    int64_t days = crm_floor_div(t, CRM_DAY), secs = t - days * CRM_DAY;
    int y, m, d;
    crm_civil_from_days(days, &y, &m, &d);
    int64_t index = (int64_t)y * 12 + (m - 1) - months; /* months since year 0 */
    int64_t ny = crm_floor_div(index, 12);
    int nm = (int)(index - ny * 12) + 1;
    int last = crm_month_days(ny, nm);
    return crm_civil_days(ny, nm, d > last ? last : d) * CRM_DAY + secs;
}

static bool set(const char *s)
{
    return s && *s;
}

bool crm_audit_shares_key(const crm_contact *a, const crm_contact *b)
{
    return (set(a->email) && set(b->email) && strcmp(a->email, b->email) == 0) ||
           (set(a->phone) && set(b->phone) && strcmp(a->phone, b->phone) == 0);
}

/* Equal after case folding and accent stripping ("Élodie" = "ELODIE"). */
static bool same_folded(const char *a, const char *b)
{
    char *fa = crm_fold_key(a), *fb = crm_fold_key(b);
    bool same = fa && fb ? strcmp(fa, fb) == 0 : strcmp(a, b) == 0;
    free(fa);
    free(fb);
    return same;
}

static bool differ(const char *field, const char *a, const char *b, bool folded, char *why,
                   size_t size)
{
    if (!set(a) || !set(b) || (folded ? same_folded(a, b) : strcmp(a, b) == 0))
        return false;
    snprintf(why, size, "%s: '%s' / '%s'", field, a, b);
    return true;
}

bool crm_audit_conflict(const crm_contact *a, const crm_contact *b, char *why, size_t size)
{
    /* Names, places and the company are typed by people: "PARIS" is Paris. */
    static const struct {
        const char *name;
        size_t offset;
        bool folded;
    } fields[] = {
#define F(n, fold) {#n, offsetof(crm_contact, n), fold}
        F(external_id, false), F(first_name, true), F(last_name, true), F(email, false),
        F(phone, false),       F(company, true),    F(street, true),    F(postal_code, false),
        F(city, true),         F(country, false),   F(birth_date, false),
#undef F
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *va = *(char *const *)((const char *)a + fields[i].offset);
        const char *vb = *(char *const *)((const char *)b + fields[i].offset);
        if (differ(fields[i].name, va, vb, fields[i].folded, why, size))
            return true;
    }
    for (size_t i = 0; i < a->n_custom; i++)
        for (size_t j = 0; j < b->n_custom; j++) {
            if (strcmp(a->custom[i].key, b->custom[j].key) != 0)
                continue;
            char field[96];
            snprintf(field, sizeof field, "custom.%s", a->custom[i].key);
            if (differ(field, a->custom[i].value, b->custom[j].value, false, why, size))
                return true;
        }
    if (size)
        why[0] = '\0';
    return false;
}

/* ---- JSON ------------------------------------------------------------------------- */

static json_t *examples_json(const crm_audit_finding *f, crm_audit_kind kind)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < f->n_examples; i++) {
        const crm_audit_example *e = &f->examples[i];
        json_t *o = e->b ? json_pack("{sIsIss}", "a", (json_int_t)e->a, "b", (json_int_t)e->b,
                                     "reasons", e->detail)
                         : json_pack("{sI}", "id", (json_int_t)e->a);
        char text[sizeof e->detail + 32];
        if (kind == CRM_AUDIT_INACTIVE) { /* "2024-03-14T14:19:18Z (created; ...)" */
            crm_format_datetime(e->at, text, sizeof text);
            strncat(text, e->detail, sizeof text - strlen(text) - 1);
        } else {
            snprintf(text, sizeof text, "%s", e->detail);
        }
        if (o && !e->b && text[0])
            json_object_set_new(o, kind == CRM_AUDIT_INACTIVE ? "last_activity"
                                   : kind == CRM_AUDIT_INVALID ? "reason"
                                                               : "fields",
                                json_string(text));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *finding_json(const crm_audit_report *r, crm_audit_kind kind)
{
    const crm_audit_finding *f = &r->f[kind];
    json_t *o = json_pack("{sIso}", "count", (json_int_t)f->count, "examples",
                          examples_json(f, kind));
    if (o && r->prev_id)
        json_object_set_new(o, "change", json_integer(f->count - r->prev[kind]));
    return o;
}

static json_t *fields_json(const crm_audit_report *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n_fields; i++) {
        const crm_audit_field *fd = &r->fields[i];
        json_t *ids = json_array();
        for (size_t j = 0; ids && j < fd->missing.n_examples; j++)
            json_array_append_new(ids, json_integer(fd->missing.examples[j].a));
        json_array_append_new(arr, json_pack("{sssssIso}", "field", fd->name, "level",
                                             fd->required ? "required" : "recommended",
                                             "missing", (json_int_t)fd->missing.count,
                                             "examples", ids));
    }
    return arr;
}

json_t *crm_audit_to_json(const crm_audit_report *r)
{
    char as_of[32], before[32];
    crm_format_datetime(r->as_of, as_of, sizeof as_of);
    crm_format_datetime(r->inactive_before, before, sizeof before);
    json_t *o = json_pack("{sIsssI}", "id", (json_int_t)r->id, "as_of", as_of, "contacts",
                          (json_int_t)r->contacts);
    if (!o)
        return NULL;
    for (int k = 0; k < CRM_AUDIT_N; k++)
        json_object_set_new(o, crm_audit_keys[k], finding_json(r, (crm_audit_kind)k));
    json_object_set_new(json_object_get(o, "duplicates"), "min_score",
                        json_integer(r->min_score));
    json_object_set_new(json_object_get(o, "inactive"), "months",
                        json_integer(r->inactive_months));
    json_object_set_new(json_object_get(o, "inactive"), "before", json_string(before));
    json_object_set_new(o, "fields", fields_json(r));
    if (r->prev_id) {
        char prev[32];
        crm_format_datetime(r->prev_as_of, prev, sizeof prev);
        json_t *p = json_pack("{sIsssI}", "id", (json_int_t)r->prev_id, "as_of", prev,
                              "contacts", (json_int_t)r->prev_contacts);
        for (int k = 0; p && k < CRM_AUDIT_N; k++)
            json_object_set_new(p, crm_audit_keys[k], json_integer(r->prev[k]));
        json_object_set_new(o, "previous", p);
    } else {
        json_object_set_new(o, "previous", json_null());
    }
    if (r->fixed) {
        json_t *m = json_array();
        for (size_t i = 0; m && i < r->n_merges; i++)
            json_array_append_new(m, json_pack("{sIsIsI}", "merge_id",
                                               (json_int_t)r->merges[i].merge_id, "keep_id",
                                               (json_int_t)r->merges[i].keep_id, "other_id",
                                               (json_int_t)r->merges[i].other_id));
        json_t *kept = json_array();
        for (size_t i = 0; kept && i < r->refused.n_examples; i++)
            json_array_append_new(kept, json_pack("{sIsIss}", "a",
                                                  (json_int_t)r->refused.examples[i].a, "b",
                                                  (json_int_t)r->refused.examples[i].b,
                                                  "reason", r->refused.examples[i].detail));
        json_object_set_new(o, "fix",
                            json_pack("{sssIsosIso}", "mode", "merge-safe", "merged",
                                      (json_int_t)r->n_merges, "merges", m, "unmerged",
                                      (json_int_t)r->refused.count, "unmerged_examples", kept));
    }
    if (r->fixed_stages) {
        json_t *m = json_array();
        for (size_t i = 0; m && i < r->staged.n_examples; i++)
            json_array_append_new(m, json_pack("{sIss}", "contact_id",
                                               (json_int_t)r->staged.examples[i].a, "change",
                                               r->staged.examples[i].detail));
        json_object_set_new(o, "fix_stages",
                            json_pack("{sIso}", "moved", (json_int_t)r->staged.count,
                                      "examples", m));
    }
    return o;
}

void crm_audit_report_free(crm_audit_report *r)
{
    free(r->fields);
    free(r->merges);
    memset(r, 0, sizeof *r);
}

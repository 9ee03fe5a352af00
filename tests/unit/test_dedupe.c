/* Unit tests for core/dedupe: reasons and scores of each criterion,
 * configured weights, merge moving every kind of record with history,
 * unmerge and its refusals. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe/dedupe.h"
#include "kernel.h"
#include "model.h"

typedef struct fx {
    char *dir;
    crm_kernel *k;
} fx;

static int open_with(void **state, const char *yaml)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    char db[4200];
    snprintf(db, sizeof db, "%s/crm.db", f->dir);
    char *cfg = crm_test_write_file(f->dir, "crm.yaml", yaml);
    crm_open_opts o = {.config_path = cfg, .db_path = db, .create = true};
    crm_err err = {0};
    if (crm_kernel_open(&f->k, &o, &err) != CRM_OK)
        fail_msg("open: %s", err.msg);
    free(cfg);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return open_with(state, "database: crm.db\n"
                            "hygiene:\n  duplicates:\n    refuse_on_add: false\n"
                            "custom_fields:\n  contact:\n    - {name: card, type: text}\n");
}

static int setup_weights(void **state)
{
    return open_with(state, "database: crm.db\n"
                            "hygiene:\n  duplicates:\n    refuse_on_add: false\n"
                            "    min_score: 50\n    weights: {phone: 10, name: 50}\n");
}

static int teardown(void **state)
{
    fx *f = *state;
    crm_kernel_close(f->k);
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int64_t add(fx *f, const char *first, const char *last, const char *email,
                   const char *phone, const char *postal, const char *birth)
{
    crm_contact c = {0};
    c.first_name = first ? strdup(first) : NULL;
    c.last_name = last ? strdup(last) : NULL;
    c.email = email ? strdup(email) : NULL;
    c.phone = phone ? strdup(phone) : NULL;
    c.postal_code = postal ? strdup(postal) : NULL;
    c.birth_date = birth ? strdup(birth) : NULL;
    if (postal)
        c.country = strdup("FR");
    int64_t id = 0;
    crm_err err = {0};
    if (crm_contact_add(f->k, &c, &id, &err) != CRM_OK)
        fail_msg("add: %s", err.msg);
    crm_contact_clear(&c);
    return id;
}

static int64_t count(fx *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(crm_store_db(f->k->store), sql, -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static crm_dup_pair score(fx *f, int64_t a, int64_t b)
{
    crm_dup_pair p;
    crm_err err = {0};
    if (crm_dedupe_score(f->k, a, b, &p, &err) != CRM_OK)
        fail_msg("score: %s", err.msg);
    return p;
}

static void expect(fx *f, int64_t a, int64_t b, int want, const char *reason)
{
    crm_dup_pair p = score(f, a, b);
    if (p.score != want || (reason && !strstr(p.reasons, reason)))
        fail_msg("pair %lld/%lld: score %d '%s', expected %d with '%s'", (long long)a,
                 (long long)b, p.score, p.reasons, want, reason ? reason : "");
}

typedef struct got_t {
    crm_dup_pair p[64];
    int n;
} got_t;

static int collect(const crm_dup_pair *p, void *ud)
{
    got_t *got = ud;
    if (got->n < 64)
        got->p[got->n++] = *p;
    return 0;
}

static int counter(const crm_dup_pair *p, void *ud)
{
    (void)p;
    (*(int *)ud)++;
    return 0;
}

static void test_reasons_and_scores(void **state)
{
    fx *f = *state;
    int64_t a = add(f, "Jean", "Dupont", "jean.dupont@example.com", "0612345678", "75001", NULL);
    int64_t b = add(f, "JEAN", "dupont", NULL, "06 12 34 56 78", NULL, NULL);
    int64_t c = add(f, "Dupont", "Jean", NULL, NULL, "75001", NULL);
    int64_t d = add(f, "Jean", "Dupond", NULL, NULL, "75001", NULL);
    int64_t e = add(f, "Élodie", "Martin", "jean.dupont@other.org", NULL, NULL, NULL);
    int64_t g = add(f, "Paul", "Durand", NULL, "0612345678", NULL, NULL);
    int64_t h = add(f, "Jean", "Dupont", NULL, NULL, "75001", "1980-01-02");
    int64_t i = add(f, "Jean", "Dupont", NULL, NULL, "75001", "1990-05-06");
    expect(f, a, b, 100, "same phone +33612345678");              /* 60 + 45 */
    expect(f, a, b, 100, "same name");
    expect(f, a, c, 85, "first and last swapped");                /* 45 + 40 */
    expect(f, a, d, 80, "similar names");                         /* 40 + 40 */
    expect(f, a, d, 80, "same postal code 75001");
    expect(f, a, e, 40, "same email local part");
    expect(f, a, g, 60, "same phone");                            /* household */
    expect(f, h, i, 45, "different birth dates");                 /* 45 + 40 - 40 */
    /* the scan lists the pairs at or above the threshold, best first */
    crm_dedupe_stats st;
    crm_err err = {0};
    got_t got = {.n = 0};
    assert_int_equal(crm_dedupe_scan(f->k, -1, collect, &got, &st, &err), CRM_OK);
    assert_int_equal(st.contacts, 8);
    assert_true(got.n >= 3);
    assert_int_equal(got.p[0].score, 100);
    for (int j = 1; j < got.n; j++)
        assert_true(got.p[j - 1].score >= got.p[j].score);
    for (int j = 0; j < got.n; j++) {
        assert_true(got.p[j].score >= 80);
        assert_false(got.p[j].a == a && got.p[j].b == g); /* 60: below */
    }
}

static void test_configured_weights(void **state)
{
    fx *f = *state;
    int64_t a = add(f, "Ann", "Lee", NULL, "0612345678", NULL, NULL);
    int64_t b = add(f, "Ann", "Lee", NULL, "0612345678", NULL, NULL);
    expect(f, a, b, 60, "same phone"); /* 10 + 50 */
    int n = 0;
    crm_err err = {0};
    assert_int_equal(crm_dedupe_scan(f->k, -1, counter, &n, NULL, &err), CRM_OK);
    assert_int_equal(n, 1); /* min_score 50 */
    n = 0;
    assert_int_equal(crm_dedupe_scan(f->k, 61, counter, &n, NULL, &err), CRM_OK);
    assert_int_equal(n, 0); /* --min-score overrides */
}

static void test_unknown_weight(void **state)
{
    (void)state;
    fx *f = NULL;
    void *st = NULL;
    open_with(&st, "database: crm.db\nhygiene:\n  duplicates:\n    weights: {phnoe: 10}\n");
    f = st;
    crm_err err = {0};
    int n = 0;
    assert_int_equal(crm_dedupe_scan(f->k, -1, counter, &n, NULL, &err), CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "phnoe"));
    assert_non_null(strstr(err.msg, "phone"));
    teardown(&st);
}

/* ---- merge --------------------------------------------------------------------------- */

static void seed_records(fx *f, int64_t id, const char *tag, const char *ext)
{
    crm_err err = {0};
    crm_order o = {.contact_id = id, .placed_at = 1700000000, .total = 1234};
    o.external_id = strdup(ext);
    assert_int_equal(crm_order_add(f->k, &o, NULL, &err), CRM_OK);
    crm_order_clear(&o);
    crm_interaction in = {.contact_id = id, .channel = strdup("note"), .body = strdup("hello")};
    assert_int_equal(crm_interaction_log(f->k, &in, NULL, &err), CRM_OK);
    crm_interaction_clear(&in);
    crm_consent cs = {.contact_id = id, .channel = strdup("email"),
                      .purpose = strdup("newsletter"), .status = strdup("granted")};
    assert_int_equal(crm_consent_record(f->k, &cs, NULL, &err), CRM_OK);
    crm_consent_clear(&cs);
    crm_contact ch = {0};
    crm_contact_add_tag(&ch, tag);
    crm_contact_set_custom(&ch, "card", ext);
    assert_int_equal(crm_contact_update(f->k, id, &ch, &err), CRM_OK);
    crm_contact_clear(&ch);
}

static void test_merge_unmerge(void **state)
{
    fx *f = *state;
    int64_t keep = add(f, "Jean", "Dupont", NULL, "0612345678", "75001", NULL);
    int64_t other = add(f, "Jean", "Dupont", "jean@example.com", NULL, "75001", "1980-01-02");
    seed_records(f, other, "vip", "O-1");
    crm_contact t = {0};
    crm_contact_add_tag(&t, "news");
    crm_err err = {0};
    assert_int_equal(crm_contact_update(f->k, keep, &t, &err), CRM_OK);
    crm_contact_clear(&t);
    int64_t before_events = count(f, "SELECT count(*) FROM events WHERE type='contact.merged'");

    int64_t mid = 0;
    assert_int_equal(crm_contact_merge(f->k, keep, other, NULL, 0, &mid, &err), CRM_OK);
    assert_true(mid > 0);
    char q[512];
    snprintf(q, sizeof q, "SELECT count(*) FROM contacts WHERE id=%lld", (long long)other);
    assert_int_equal(count(f, q), 0);
    const char *moved_checks[] = {"orders", "interactions", "consents"};
    for (int i = 0; i < 3; i++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM %s WHERE contact_id=%lld", moved_checks[i],
                 (long long)keep);
        assert_int_equal(count(f, q), 1);
    }
    snprintf(q, sizeof q, "SELECT count(*) FROM contact_tags WHERE contact_id=%lld",
             (long long)keep);
    assert_int_equal(count(f, q), 2);
    snprintf(q, sizeof q, "SELECT count(*) FROM custom_values WHERE entity_id=%lld AND "
                          "name='card' AND value='O-1'", (long long)keep);
    assert_int_equal(count(f, q), 1);
    crm_contact k = {0};
    assert_int_equal(crm_contact_get(f->k, keep, &k, &err), CRM_OK);
    assert_string_equal(k.email, "jean@example.com");  /* filled */
    assert_string_equal(k.phone, "+33612345678");      /* kept */
    assert_string_equal(k.birth_date, "1980-01-02");
    crm_contact_clear(&k);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE type='contact.merged'"),
                     before_events + 1);
    snprintf(q, sizeof q, "SELECT count(*) FROM events WHERE type='contact.merged' AND "
                          "json_extract(payload,'$.merge_id')=%lld AND "
                          "json_extract(payload,'$.keep_id')=%lld AND "
                          "json_extract(payload,'$.other_id')=%lld",
             (long long)mid, (long long)keep, (long long)other);
    assert_int_equal(count(f, q), 1);
    snprintf(q, sizeof q, "SELECT count(*) FROM contact_merges WHERE keep_id=%lld AND "
                          "json_extract(other_row,'$.email')='jean@example.com' AND "
                          "json_array_length(moved,'$.orders')=1",
             (long long)keep);
    assert_int_equal(count(f, q), 1);

    assert_int_equal(crm_contact_unmerge(f->k, mid, &err), CRM_OK);
    snprintf(q, sizeof q, "SELECT count(*) FROM contacts WHERE id=%lld AND "
                          "email='jean@example.com'", (long long)other);
    assert_int_equal(count(f, q), 1);
    for (int i = 0; i < 3; i++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM %s WHERE contact_id=%lld", moved_checks[i],
                 (long long)other);
        assert_int_equal(count(f, q), 1);
    }
    snprintf(q, sizeof q, "SELECT count(*) FROM contact_tags WHERE contact_id=%lld",
             (long long)keep);
    assert_int_equal(count(f, q), 1);
    snprintf(q, sizeof q, "SELECT email IS NULL FROM contacts WHERE id=%lld", (long long)keep);
    assert_int_equal(count(f, q), 1);
    snprintf(q, sizeof q, "SELECT count(*) FROM custom_values WHERE entity_id=%lld",
             (long long)other);
    assert_int_equal(count(f, q), 1);
    assert_int_equal(crm_contact_unmerge(f->k, mid, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "already undone"));
}

static void test_merge_prefer_and_refusals(void **state)
{
    fx *f = *state;
    int64_t keep = add(f, "Ann", "Lee", "ann@old.com", NULL, NULL, NULL);
    int64_t other = add(f, "Ann", "Lee", "ann@new.com", NULL, NULL, NULL);
    crm_err err = {0};
    int64_t mid = 0;
    const char *bad[] = {"other:emial"};
    assert_int_equal(crm_contact_merge(f->k, keep, other, bad, 1, &mid, &err), CRM_EUSAGE);
    assert_int_equal(crm_contact_merge(f->k, keep, keep, NULL, 0, &mid, &err), CRM_EUSAGE);
    const char *prefer[] = {"other:email"};
    assert_int_equal(crm_contact_merge(f->k, keep, other, prefer, 1, &mid, &err), CRM_OK);
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM contacts WHERE id=%lld AND email='ann@new.com'",
             (long long)keep);
    assert_int_equal(count(f, q), 1);
    /* KEEP changed since: unmerge refused */
    crm_contact ch = {0};
    ch.city = strdup("Lyon");
    assert_int_equal(crm_contact_update(f->k, keep, &ch, &err), CRM_OK);
    crm_contact_clear(&ch);
    assert_int_equal(crm_contact_unmerge(f->k, mid, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "changed since the merge"));
    assert_int_equal(crm_contact_unmerge(f->k, 999, &err), CRM_ENOTFOUND);
}

static void test_merge_chain_refused(void **state)
{
    fx *f = *state;
    int64_t a = add(f, "A", "One", NULL, NULL, NULL, NULL);
    int64_t b = add(f, "B", "Two", NULL, NULL, NULL, NULL);
    int64_t c = add(f, "C", "Three", NULL, NULL, NULL, NULL);
    crm_err err = {0};
    int64_t m1, m2;
    assert_int_equal(crm_contact_merge(f->k, a, b, NULL, 0, &m1, &err), CRM_OK);
    assert_int_equal(crm_contact_merge(f->k, a, c, NULL, 0, &m2, &err), CRM_OK);
    assert_int_equal(crm_contact_unmerge(f->k, m1, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "merged again later"));
    assert_int_equal(crm_contact_unmerge(f->k, m2, &err), CRM_OK);
    assert_int_equal(crm_contact_unmerge(f->k, m1, &err), CRM_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 3);
}


/* ---- one contact against the base (crm_dedupe_match) -------------------------------- */

/* The scan's best pair involving `id`: the other contact, its score. */
static void scan_best(fx *f, int64_t id, int min_score, int64_t *other, int *score)
{
    got_t got = {.n = 0};
    crm_err err = {0};
    assert_int_equal(crm_dedupe_scan(f->k, min_score, collect, &got, NULL, &err), CRM_OK);
    *other = 0;
    *score = 0;
    for (int j = 0; j < got.n; j++) {
        const crm_dup_pair *p = &got.p[j];
        int64_t o = p->a == id ? p->b : p->b == id ? p->a : 0;
        if (o && (p->score > *score || (p->score == *score && o < *other))) {
            *other = o;
            *score = p->score;
        }
    }
}

/* Indexed lookups find, for every stored contact, the pair the full scan
 * finds best for it: same other contact, same score (an independent path:
 * the scan compares every pair of every block in memory). */
static void test_match_agrees_with_scan(void **state)
{
    fx *f = *state;
    add(f, "Jean", "Dupont", "jean.dupont@example.com", "0612345678", "75001", NULL);
    add(f, "JEAN", "dupont", NULL, "06 12 34 56 78", NULL, NULL);
    add(f, "Dupont", "Jean", NULL, NULL, "75001", NULL);   /* swapped */
    add(f, "Jean", "Dupond", NULL, NULL, "75001", NULL);   /* typo at the end */
    add(f, "Jean", "Xupont", NULL, NULL, "75001", NULL);   /* typo at the start */
    add(f, "Jean", "Dupont", "jdupont@example.com", NULL, "75002", NULL); /* other postal code */
    add(f, "Élodie", "Martin", "jean.dupont@other.org", NULL, NULL, NULL);
    add(f, "Jean", "Dupont", "jean.dupont@other.org.uk", NULL, NULL, NULL); /* name + local */
    add(f, "Paul", "Durand", NULL, "0612345678", NULL, NULL);
    add(f, "Marie", "Curie", NULL, NULL, "69001", "1967-11-07");
    add(f, "Marie", "Curie", NULL, NULL, "69001", "1967-11-07");
    add(f, "Pierre", "Curie", NULL, NULL, "69001", NULL);
    int64_t n = count(f, "SELECT count(*) FROM contacts"), found = 0;
    for (int min = 0; min <= 100; min += 40)
        for (int64_t id = 1; id <= n; id++) {
            crm_contact c;
            crm_err err = {0};
            assert_int_equal(crm_contact_get(f->k, id, &c, &err), CRM_OK);
            crm_dup_pair p;
            assert_int_equal(crm_dedupe_match(f->k, &c, id, min ? min : 1, 0, &p, &err), CRM_OK);
            crm_contact_clear(&c);
            int64_t other;
            int sc;
            scan_best(f, id, min ? min : 1, &other, &sc);
            if (p.a != other || (other && p.score != sc))
                fail_msg("contact %lld at %d: match %lld (%d: %s), scan %lld (%d)", (long long)id,
                         min, (long long)p.a, p.score, p.reasons, (long long)other, sc);
            assert_int_equal(p.b, id);
            found += p.a != 0;
        }
    assert_true(found > 12); /* the data has pairs at every threshold but 100's few */
}

static int setup_refuse(void **state)
{
    return open_with(state, "database: crm.db\nlocale: {country: FR}\n"
                            "hygiene:\n  duplicates:\n    refuse_on_add: true\n");
}

static int add_rc(fx *f, unsigned flags, const char *first, const char *last, const char *postal,
                  int64_t *id, crm_err *err)
{
    crm_contact c = {0};
    c.first_name = strdup(first);
    c.last_name = strdup(last);
    c.postal_code = strdup(postal);
    int rc = crm_contact_add_flags(f->k, &c, flags, id, err);
    crm_contact_clear(&c);
    return rc;
}

/* refuse_on_add refuses by score, names the contact, the score and the
 * reasons; the flag adds anyway. */
static void test_refuse_by_score(void **state)
{
    fx *f = *state;
    int64_t a, id;
    crm_err err = {0};
    assert_int_equal(add_rc(f, 0, "Jean", "Dupont", "75001", &a, &err), CRM_OK);
    /* similar name (40) + postal code (40) = 80 >= min_score 80 */
    assert_int_equal(add_rc(f, 0, "Jean", "Dupond", "75001", &id, &err), CRM_EEXISTS);
    assert_int_equal(id, a);
    assert_non_null(strstr(err.msg, "looks like contact 1 (duplicate score 80"));
    assert_non_null(strstr(err.msg, "similar names"));
    assert_non_null(strstr(err.msg, "same postal code 75001"));
    assert_non_null(strstr(err.msg, "--allow-duplicate"));
    crm_err_clear(&err);
    /* swapped (45) + postal code (40) */
    assert_int_equal(add_rc(f, 0, "Dupont", "Jean", "75001", &id, &err), CRM_EEXISTS);
    assert_non_null(strstr(err.msg, "duplicate score 85"));
    crm_err_clear(&err);
    /* another postal code: the name alone (45) is below the threshold */
    assert_int_equal(add_rc(f, 0, "Jean", "Dupont", "69001", &id, &err), CRM_OK);
    assert_int_equal(add_rc(f, CRM_CONTACT_ALLOW_DUPLICATE, "Jean", "Dupond", "75001", &id, &err),
                     CRM_OK);
    assert_true(id > a);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reasons_and_scores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configured_weights, setup_weights, teardown),
        cmocka_unit_test(test_unknown_weight),
        cmocka_unit_test_setup_teardown(test_match_agrees_with_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_by_score, setup_refuse, teardown),
        cmocka_unit_test_setup_teardown(test_merge_unmerge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_prefer_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_chain_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

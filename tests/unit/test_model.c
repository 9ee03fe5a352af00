/* The kernel's data model: normalisation, duplicates, custom fields, update
 * and delete semantics, orders, timeline, consents, rollback and events. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "model.h"

static const char base_yaml[] =
    "database: t.db\n"
    "locale: {country: FR, currency: EUR}\n"
    "custom_fields:\n"
    "  contact:\n"
    "    - {name: shoe_size, type: integer}\n"
    "    - {name: store, type: enum, values: [paris, lyon]}\n"
    "    - {name: optin, type: date}\n"
    "    - {name: vip, type: boolean}\n";

typedef struct fixture {
    char *dir;
    crm_kernel *k;
} fixture;

static crm_kernel *open_with(fixture *f, const char *yaml)
{
    char *cfg = crm_test_write_file(f->dir, "crm.yaml", yaml);
    size_t len = strlen(f->dir) + 8;
    char *db = malloc(len);
    snprintf(db, len, "%s/t.db", f->dir);
    crm_open_opts o = {.db_path = db, .create = true, .config_path = cfg,
                       .as_of = "2025-06-01T12:00:00Z"};
    crm_err err = {0};
    crm_kernel *k = NULL;
    int rc = crm_kernel_open(&k, &o, &err);
    free(cfg);
    free(db);
    if (rc != CRM_OK)
        fail_msg("kernel open failed: %s", err.msg);
    return k;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    f->k = open_with(f, base_yaml);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    crm_kernel_close(f->k);
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static int64_t count(crm_kernel *k, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int64_t events_of(crm_kernel *k, const char *type)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE type='%s'", type);
    return count(k, sql);
}

/* The payload of the latest event of `type`, parsed. */
static json_t *last_payload(crm_kernel *k, const char *type)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT payload FROM events WHERE type='%s' ORDER BY id DESC LIMIT 1",
             type);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(crm_store_db(k->store), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    json_t *p = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    sqlite3_finalize(st);
    assert_non_null(p);
    return p;
}

static int64_t payload_int(json_t *p, const char *key)
{
    return json_integer_value(json_object_get(p, key));
}

static crm_contact person(const char *first, const char *last, const char *email,
                          const char *phone)
{
    crm_contact c = {0};
    c.first_name = first ? strdup(first) : NULL;
    c.last_name = last ? strdup(last) : NULL;
    c.email = email ? strdup(email) : NULL;
    c.phone = phone ? strdup(phone) : NULL;
    return c;
}

static int64_t add_person(crm_kernel *k, const char *first, const char *email)
{
    crm_contact c = person(first, "Test", email, NULL);
    int64_t id = 0;
    crm_err err = {0};
    int rc = crm_contact_add(k, &c, &id, &err);
    crm_contact_clear(&c);
    if (rc != CRM_OK)
        fail_msg("contact add: %s", err.msg);
    return id;
}

static int add_contact_rc(crm_kernel *k, crm_contact *c, int64_t *id, crm_err *err)
{
    int rc = crm_contact_add(k, c, id, err);
    crm_contact_clear(c);
    return rc;
}

/* ---- contacts ----------------------------------------------------------------- */

static void test_contact_normalised(void **state)
{
    fixture *f = *state;
    crm_contact c = person("  JEAN ", "DUPONT", " Jean.Dupont@Example.COM ", "06 12 34 56 78");
    int64_t id = 0;
    crm_err err = {0};
    assert_int_equal(crm_contact_add(f->k, &c, &id, &err), CRM_OK);
    crm_contact_clear(&c);
    crm_contact got;
    assert_int_equal(crm_contact_get(f->k, id, &got, &err), CRM_OK);
    assert_string_equal(got.first_name, "Jean");
    assert_string_equal(got.last_name, "Dupont");
    assert_string_equal(got.email, "jean.dupont@example.com");
    assert_string_equal(got.phone, "+33612345678");
    assert_string_equal(got.lifecycle_stage, "lead");
    crm_contact_clear(&got);
    assert_int_equal(events_of(f->k, "contact.created"), 1);
    json_t *p = last_payload(f->k, "contact.created");
    assert_int_equal(payload_int(p, "contact_id"), id);
    json_decref(p);
}

static void test_contact_duplicates(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t first = 0, id = 0;
    crm_contact c = person("Ana", NULL, "ana@example.com", "0612345678");
    assert_int_equal(add_contact_rc(f->k, &c, &first, &err), CRM_OK);

    c = person("Other", NULL, "ANA@example.com ", NULL);
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_EEXISTS);
    assert_int_equal(id, first);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)first);
    assert_non_null(strstr(err.msg, want));

    c = person("Other", NULL, "other@example.com", "+33 6 12 34 56 78");
    id = 0;
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_EEXISTS);
    assert_int_equal(id, first);
    assert_int_equal(count(f->k, "SELECT count(*) FROM contacts"), 1);
    assert_int_equal(events_of(f->k, "contact.created"), 1);
}

static int custom_rc(crm_kernel *k, const char *name, const char *value, crm_err *err)
{
    static int n;
    char email[64];
    snprintf(email, sizeof email, "c%d@example.com", ++n);
    crm_contact c = person("Custom", NULL, email, NULL);
    crm_contact_set_custom(&c, name, value);
    int64_t id;
    return add_contact_rc(k, &c, &id, err);
}

static void test_custom_fields_typed(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    static const struct {
        const char *name, *value;
        int rc;
    } cases[] = {
        {"shoe_size", "42", CRM_OK},       {"shoe_size", "forty", CRM_EINVAL},
        {"shoe_size", "4.5", CRM_EINVAL},  {"store", "paris", CRM_OK},
        {"store", "marseille", CRM_EINVAL}, {"optin", "2024-02-29", CRM_OK},
        {"optin", "2023-02-29", CRM_EINVAL}, {"vip", "yes", CRM_OK},
        {"vip", "maybe", CRM_EINVAL},      {"undeclared", "x", CRM_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = custom_rc(f->k, cases[i].name, cases[i].value, &err);
        if (rc != cases[i].rc)
            fail_msg("%s=%s: got %d (%s), want %d", cases[i].name, cases[i].value, rc, err.msg,
                     cases[i].rc);
        if (rc != CRM_OK)
            assert_non_null(strstr(err.msg, cases[i].name));
    }
    /* Accepted values are stored in canonical form. */
    int64_t id;
    assert_int_equal(crm_contact_resolve(f->k, "c8@example.com", &id, &err), CRM_OK);
    crm_contact got;
    assert_int_equal(crm_contact_get(f->k, id, &got, &err), CRM_OK);
    assert_int_equal(got.n_custom, 1);
    assert_string_equal(got.custom[0].value, "true");
    crm_contact_clear(&got);
}

static void test_required_fields(void **state)
{
    fixture *f = *state;
    crm_kernel_close(f->k);
    f->k = open_with(f, "database: t.db\nhygiene: {required: [email, city]}\n");
    crm_err err = {0};
    int64_t id;
    crm_contact c = person("No", "Email", NULL, NULL);
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "email"));
    c = person("Has", "Email", "has@example.com", NULL);
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "city"));
    c = person("Has", "Both", "has@example.com", NULL);
    c.city = strdup("Lyon");
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_OK);
    /* Nothing at all to identify a person is refused even without required fields. */
    crm_kernel_close(f->k);
    f->k = open_with(f, base_yaml);
    c = (crm_contact){0};
    c.city = strdup("Paris");
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_EINVAL);
}

static void test_contact_update(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    crm_contact c = person("Zoe", "Martin", "zoe@example.com", "0612345678");
    c.city = strdup("Paris");
    crm_contact_add_tag(&c, "a");
    crm_contact_add_tag(&c, "b");
    int64_t id;
    assert_int_equal(add_contact_rc(f->k, &c, &id, &err), CRM_OK);

    crm_contact ch = {0};
    ch.city = strdup("");          /* clears */
    ch.last_name = strdup("DURAND");
    crm_contact_add_tag(&ch, "c"); /* replaces a, b */
    assert_int_equal(crm_contact_update(f->k, id, &ch, &err), CRM_OK);
    crm_contact_clear(&ch);

    crm_contact got;
    assert_int_equal(crm_contact_get(f->k, id, &got, &err), CRM_OK);
    assert_null(got.city);
    assert_string_equal(got.last_name, "Durand");
    assert_string_equal(got.email, "zoe@example.com"); /* NULL left it alone */
    assert_int_equal(got.n_tags, 1);
    assert_string_equal(got.tags[0], "c");
    crm_contact_clear(&got);
    assert_int_equal(events_of(f->k, "contact.updated"), 1);
    json_t *p = last_payload(f->k, "contact.updated");
    json_t *changed = json_object_get(p, "changed");
    assert_true(json_array_size(changed) >= 3);
    json_decref(p);

    /* An update to another contact's email is refused and changes nothing. */
    int64_t other = add_person(f->k, "Other", "other@example.com");
    ch = (crm_contact){0};
    ch.email = strdup("zoe@example.com");
    assert_int_equal(crm_contact_update(f->k, other, &ch, &err), CRM_EEXISTS);
    crm_contact_clear(&ch);
    assert_int_equal(events_of(f->k, "contact.updated"), 1);
}

static int64_t add_order(crm_kernel *k, int64_t contact, int64_t total, int64_t at,
                         const char *status)
{
    crm_order o = {0};
    o.contact_id = contact;
    o.total = total;
    o.placed_at = at;
    o.status = status ? strdup(status) : NULL;
    int64_t id = 0;
    crm_err err = {0};
    int rc = crm_order_add(k, &o, &id, &err);
    crm_order_clear(&o);
    if (rc != CRM_OK)
        fail_msg("order add: %s", err.msg);
    return id;
}

static int64_t log_interaction(crm_kernel *k, int64_t contact, const char *channel, int64_t at)
{
    crm_interaction i = {0};
    i.contact_id = contact;
    i.channel = strdup(channel);
    i.subject = strdup("hello");
    i.occurred_at = at;
    int64_t id = 0;
    crm_err err = {0};
    int rc = crm_interaction_log(k, &i, &id, &err);
    crm_interaction_clear(&i);
    if (rc != CRM_OK)
        fail_msg("interaction log: %s", err.msg);
    return id;
}

static void test_contact_delete(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_person(f->k, "Del", "del@example.com");
    add_order(f->k, id, 1000, 1700000000, NULL);
    log_interaction(f->k, id, "email", 1700000000);
    assert_int_equal(crm_contact_delete(f->k, id, false, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "--force"));
    assert_int_equal(count(f->k, "SELECT count(*) FROM contacts"), 1);
    assert_int_equal(events_of(f->k, "contact.deleted"), 0);
    assert_int_equal(crm_contact_delete(f->k, id, true, &err), CRM_OK);
    assert_int_equal(count(f->k, "SELECT count(*) FROM contacts"), 0);
    assert_int_equal(count(f->k, "SELECT count(*) FROM orders"), 0);
    assert_int_equal(count(f->k, "SELECT count(*) FROM interactions"), 0);
    assert_int_equal(events_of(f->k, "contact.deleted"), 1);
    assert_int_equal(crm_contact_delete(f->k, id, true, &err), CRM_ENOTFOUND);
}

/* ---- companies ------------------------------------------------------------------ */

static int add_company(crm_kernel *k, const char *name, const char *domain, int64_t *id,
                       crm_err *err)
{
    crm_company c = {0};
    c.name = strdup(name);
    c.domain = domain ? strdup(domain) : NULL;
    int rc = crm_company_add(k, &c, id, err);
    crm_company_clear(&c);
    return rc;
}

static void test_company(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = 0, dup = 0;
    crm_company c = {0};
    c.name = strdup("  Élan   Vital SARL ");
    c.domain = strdup("https://www.Elan-Vital.FR/contact");
    c.phone = strdup("01 23 45 67 89");
    c.country = strdup("france");
    assert_int_equal(crm_company_add(f->k, &c, &id, &err), CRM_OK);
    crm_company_clear(&c);
    assert_int_equal(add_company(f->k, "ELAN vital sarl", NULL, &dup, &err), CRM_EEXISTS);
    assert_int_equal(dup, id);
    assert_int_equal(events_of(f->k, "company.created"), 1);

    crm_company got;
    assert_int_equal(crm_company_get(f->k, id, &got, &err), CRM_OK);
    assert_string_equal(got.name, "Élan Vital SARL");
    assert_string_equal(got.domain, "elan-vital.fr");
    assert_string_equal(got.phone, "+33123456789");
    assert_string_equal(got.country, "FR");
    crm_company_clear(&got);

    int64_t found;
    assert_int_equal(crm_company_resolve(f->k, "elan vital sarl", &found, &err), CRM_OK);
    assert_int_equal(found, id);

    /* Renaming onto another company's name is refused. */
    int64_t other;
    assert_int_equal(add_company(f->k, "Other Co", NULL, &other, &err), CRM_OK);
    crm_company ch = {0};
    ch.name = strdup("élan vital sarl");
    assert_int_equal(crm_company_update(f->k, other, &ch, &err), CRM_EEXISTS);
    crm_company_clear(&ch);
    ch.domain = strdup("other.example");
    assert_int_equal(crm_company_update(f->k, other, &ch, &err), CRM_OK);
    crm_company_clear(&ch);
    assert_int_equal(events_of(f->k, "company.updated"), 1);

    /* A contact naming the company links to it; deleting unlinks. */
    crm_contact p = person("Link", NULL, "link@example.com", NULL);
    p.company = strdup("Élan Vital sarl");
    int64_t cid;
    assert_int_equal(add_contact_rc(f->k, &p, &cid, &err), CRM_OK);
    assert_int_equal(count(f->k, "SELECT count(*) FROM companies"), 2);
    assert_int_equal(crm_company_delete(f->k, id, &err), CRM_OK);
    assert_int_equal(count(f->k, "SELECT count(*) FROM contacts WHERE company_id IS NULL"), 1);
    assert_int_equal(events_of(f->k, "company.deleted"), 1);
    assert_int_equal(crm_company_delete(f->k, id, &err), CRM_ENOTFOUND);
}

/* ---- orders ---------------------------------------------------------------------- */

static void set_lines(crm_order *o, size_t n, const char *const *skus, const int64_t *qty,
                      const int64_t *price)
{
    o->lines = calloc(n, sizeof *o->lines);
    o->n_lines = n;
    for (size_t i = 0; i < n; i++) {
        o->lines[i].sku = strdup(skus[i]);
        o->lines[i].quantity = qty[i];
        o->lines[i].unit_price = price[i];
    }
}

static void test_order_lines_and_total(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t contact = add_person(f->k, "Buyer", "buyer@example.com");
    static const char *const skus[] = {"TSHIRT-M", "MUG"};
    static const int64_t qty[] = {2, 1}, price[] = {1990, 850};

    crm_order o = {.contact_id = contact};
    set_lines(&o, 2, skus, qty, price);
    int64_t id = 0;
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_OK);
    crm_order_clear(&o);

    crm_order got;
    assert_int_equal(crm_order_get(f->k, id, &got, &err), CRM_OK);
    assert_int_equal(got.total, 2 * 1990 + 850);
    assert_string_equal(got.currency, "EUR");
    assert_string_equal(got.status, "placed");
    assert_int_equal(got.n_lines, 2);
    assert_string_equal(got.lines[0].sku, "TSHIRT-M");
    assert_int_equal(got.lines[1].unit_price, 850);
    assert_int_equal(got.placed_at, f->k->now);
    json_t *j = crm_order_to_json(&got);
    assert_string_equal(json_string_value(json_object_get(j, "total")), "48.30");
    json_decref(j);
    crm_order_clear(&got);

    json_t *p = last_payload(f->k, "order.placed");
    assert_int_equal(payload_int(p, "order_id"), id);
    assert_int_equal(payload_int(p, "contact_id"), contact);
    assert_int_equal(payload_int(p, "total"), 4830);
    assert_string_equal(json_string_value(json_object_get(p, "currency")), "EUR");
    assert_string_equal(json_string_value(json_object_get(p, "status")), "placed");
    json_decref(p);

    /* A total that disagrees with the lines is refused; nothing is written. */
    o = (crm_order){.contact_id = contact, .total = 5000};
    set_lines(&o, 2, skus, qty, price);
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "50.00 EUR"));
    assert_non_null(strstr(err.msg, "48.30 EUR"));
    crm_order_clear(&o);

    /* Bad quantity, currency, status, unknown contact. */
    static const int64_t zero[] = {0, 1};
    o = (crm_order){.contact_id = contact};
    set_lines(&o, 2, skus, zero, price);
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_EINVAL);
    crm_order_clear(&o);
    o = (crm_order){.contact_id = contact, .total = 100, .currency = strdup("euro")};
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_EINVAL);
    crm_order_clear(&o);
    o = (crm_order){.contact_id = contact, .total = 100, .status = strdup("shipped")};
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_EINVAL);
    crm_order_clear(&o);
    o = (crm_order){.contact_id = 9999, .total = 100};
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_ENOTFOUND);
    crm_order_clear(&o);
    assert_int_equal(count(f->k, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(events_of(f->k, "order.placed"), 1);

    /* JPY has no decimals; a paid order emits order.placed and order.paid. */
    o = (crm_order){.contact_id = contact, .total = 1500, .currency = strdup("jpy"),
                    .status = strdup("paid"), .external_id = strdup("SHOP-1")};
    assert_int_equal(crm_order_add(f->k, &o, &id, &err), CRM_OK);
    crm_order_clear(&o);
    assert_int_equal(events_of(f->k, "order.paid"), 1);
    o = (crm_order){.contact_id = contact, .total = 1500, .external_id = strdup("SHOP-1")};
    int64_t again = 0;
    assert_int_equal(crm_order_add(f->k, &o, &again, &err), CRM_EEXISTS);
    assert_int_equal(again, id);
    crm_order_clear(&o);
    assert_int_equal(crm_order_resolve(f->k, "ext:SHOP-1", &again, &err), CRM_OK);
    assert_int_equal(again, id);
}

static void test_order_status_transitions(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t contact = add_person(f->k, "Status", "status@example.com");
    int64_t id = add_order(f->k, contact, 1000, 0, NULL);
    static const struct {
        const char *to;
        int rc;
    } steps[] = {
        {"refunded", CRM_EINVAL}, /* not paid yet */
        {"placed", CRM_EINVAL},   /* already */
        {"shipped", CRM_EINVAL},  /* no such status */
        {"PAID", CRM_OK},
        {"paid", CRM_EINVAL},
        {"refunded", CRM_OK},
        {"cancelled", CRM_EINVAL}, /* refunded is final */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = crm_order_set_status(f->k, id, steps[i].to, &err);
        if (rc != steps[i].rc)
            fail_msg("step %zu -> %s: got %d (%s)", i, steps[i].to, rc, err.msg);
    }
    assert_int_equal(events_of(f->k, "order.paid"), 1);
    assert_int_equal(events_of(f->k, "order.refunded"), 1);
    json_t *p = last_payload(f->k, "order.refunded");
    assert_string_equal(json_string_value(json_object_get(p, "status")), "refunded");
    json_decref(p);

    int64_t other = add_order(f->k, contact, 500, 0, NULL);
    assert_int_equal(crm_order_set_status(f->k, other, "cancelled", &err), CRM_OK);
    assert_int_equal(crm_order_set_status(f->k, other, "paid", &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "cancelled"));
    assert_int_equal(events_of(f->k, "order.cancelled"), 1);
    assert_int_equal(crm_order_set_status(f->k, 424242, "paid", &err), CRM_ENOTFOUND);
}

/* ---- rollback ---------------------------------------------------------------------- */

static void test_failed_order_rolls_back(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t contact = add_person(f->k, "Rollback", "rb@example.com");
    /* Make the line insert fail: the order row is already written by then. */
    assert_int_equal(crm_store_exec(f->k->store,
                                    "CREATE TEMP TRIGGER boom BEFORE INSERT ON order_lines "
                                    "BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                    &err),
                     CRM_OK);
    int64_t orders = count(f->k, "SELECT count(*) FROM orders");
    int64_t events = count(f->k, "SELECT count(*) FROM events");
    static const char *const skus[] = {"X"};
    static const int64_t qty[] = {1}, price[] = {100};
    crm_order o = {.contact_id = contact};
    set_lines(&o, 1, skus, qty, price);
    int64_t id = 0;
    assert_int_not_equal(crm_order_add(f->k, &o, &id, &err), CRM_OK);
    crm_order_clear(&o);
    assert_int_equal(id, 0);
    assert_int_equal(count(f->k, "SELECT count(*) FROM orders"), orders);
    assert_int_equal(count(f->k, "SELECT count(*) FROM order_lines"), 0);
    assert_int_equal(count(f->k, "SELECT count(*) FROM events"), events);
    assert_int_equal(crm_store_depth(f->k->store), 0);

    /* Nested in a caller's transaction, only the inner call is undone. */
    assert_int_equal(crm_kernel_begin(f->k, &err), CRM_OK);
    int64_t kept = add_person(f->k, "Kept", "kept@example.com");
    o = (crm_order){.contact_id = contact};
    set_lines(&o, 1, skus, qty, price);
    assert_int_not_equal(crm_order_add(f->k, &o, &id, &err), CRM_OK);
    crm_order_clear(&o);
    assert_int_equal(crm_kernel_commit(f->k, &err), CRM_OK);
    assert_true(kept > 0);
    assert_int_equal(count(f->k, "SELECT count(*) FROM contacts"), 2);
    assert_int_equal(count(f->k, "SELECT count(*) FROM orders"), orders);
    assert_int_equal(count(f->k, "SELECT count(*) FROM events"), events + 1);
}

/* ---- timeline ------------------------------------------------------------------------ */

typedef struct seen {
    char kind[8][16];
    int64_t id[8];
    int64_t at[8];
    int n;
} seen;

static int collect(json_t *item, void *ud)
{
    seen *s = ud;
    if (s->n >= 8)
        return 1;
    snprintf(s->kind[s->n], sizeof s->kind[0], "%s",
             json_string_value(json_object_get(item, "kind")));
    s->id[s->n] = json_integer_value(json_object_get(json_object_get(item, "record"), "id"));
    s->at[s->n] = json_integer_value(json_object_get(item, "at_epoch"));
    assert_non_null(json_string_value(json_object_get(item, "at")));
    s->n++;
    return 0;
}

static void test_timeline_order(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t c = add_person(f->k, "Time", "time@example.com");
    int64_t other = add_person(f->k, "Other", "other-t@example.com");
    const int64_t t0 = 1700000000;
    int64_t o2 = add_order(f->k, c, 100, t0 + 20, NULL);
    int64_t i1 = log_interaction(f->k, c, "email", t0 + 10);
    int64_t o1 = add_order(f->k, c, 100, t0, NULL);
    int64_t i3 = log_interaction(f->k, c, "phone", t0 + 20); /* tie with o2 */
    int64_t i2 = log_interaction(f->k, c, "note", t0 + 20);
    log_interaction(f->k, other, "sms", t0 + 5);              /* not this contact */

    seen s = {0};
    assert_int_equal(crm_timeline(f->k, c, collect, &s, &err), CRM_OK);
    assert_int_equal(s.n, 5);
    static const char *const kinds[] = {"order", "interaction", "interaction", "interaction",
                                        "order"};
    const int64_t ids[] = {o1, i1, i3, i2, o2};
    for (int n = 0; n < 5; n++) {
        assert_string_equal(s.kind[n], kinds[n]);
        assert_int_equal(s.id[n], ids[n]);
        if (n)
            assert_true(s.at[n] >= s.at[n - 1]);
    }
    /* fn returning nonzero stops early. */
    seen stop = {.n = 8};
    assert_int_equal(crm_timeline(f->k, c, collect, &stop, &err), CRM_OK);
    assert_int_equal(events_of(f->k, "interaction.logged"), 4);
    json_t *p = last_payload(f->k, "interaction.logged");
    assert_string_equal(json_string_value(json_object_get(p, "channel")), "sms");
    assert_int_equal(payload_int(p, "contact_id"), other);
    json_decref(p);
}

static void test_interaction_validation(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t c = add_person(f->k, "Inter", "inter@example.com");
    int64_t id;
    crm_interaction i = {.contact_id = c, .channel = strdup("fax")};
    assert_int_equal(crm_interaction_log(f->k, &i, &id, &err), CRM_EINVAL);
    crm_interaction_clear(&i);
    i = (crm_interaction){.contact_id = c, .channel = strdup("NOTE"),
                          .body = strdup("  line one\nline two  ")};
    assert_int_equal(crm_interaction_log(f->k, &i, &id, &err), CRM_OK);
    crm_interaction_clear(&i);
    i = (crm_interaction){.contact_id = c, .channel = strdup("email"),
                          .author = strdup("nobody@example.com")};
    assert_int_equal(crm_interaction_log(f->k, &i, &id, &err), CRM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "author"));
    crm_interaction_clear(&i);
    int64_t uid;
    assert_int_equal(crm_user_add(f->k, "Agent Smith", "smith@example.com", "agent", &uid, &err),
                     CRM_OK);
    i = (crm_interaction){.contact_id = c, .channel = strdup("email"), .direction = strdup("in"),
                          .author = strdup("smith@example.com")};
    assert_int_equal(crm_interaction_log(f->k, &i, &id, &err), CRM_OK);
    crm_interaction_clear(&i);
    assert_int_equal(count(f->k, "SELECT count(*) FROM interactions WHERE direction='none' AND "
                                 "body='line one\nline two'"),
                     1);
    assert_int_equal(count(f->k, "SELECT count(*) FROM interactions WHERE author_id IS NOT NULL"),
                     1);
}

/* ---- consents ---------------------------------------------------------------------- */

static void consent(crm_kernel *k, int64_t c, const char *channel, const char *purpose,
                    const char *status, int64_t at)
{
    crm_consent r = {.contact_id = c, .recorded_at = at};
    r.channel = strdup(channel);
    r.purpose = strdup(purpose);
    r.status = strdup(status);
    r.source = strdup("web form");
    crm_err err = {0};
    int64_t id;
    int rc = crm_consent_record(k, &r, &id, &err);
    crm_consent_clear(&r);
    if (rc != CRM_OK)
        fail_msg("consent: %s", err.msg);
}

typedef struct states {
    char text[8][64];
    int n;
} states;

static int collect_state(json_t *item, void *ud)
{
    states *s = ud;
    if (s->n < 8)
        snprintf(s->text[s->n++], sizeof s->text[0], "%s/%s=%s",
                 json_string_value(json_object_get(item, "channel")),
                 json_string_value(json_object_get(item, "purpose")),
                 json_string_value(json_object_get(item, "status")));
    return 0;
}

static void test_consent_current_and_history(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t c = add_person(f->k, "Consent", "consent@example.com");
    const int64_t t0 = 1700000000;
    consent(f->k, c, "email", "marketing", "granted", t0);
    consent(f->k, c, "sms", "marketing", "granted", t0 + 5);
    consent(f->k, c, "EMAIL", "Marketing", "withdrawn", t0 + 10);
    consent(f->k, c, "email", "newsletter", "granted", t0 + 10);
    consent(f->k, c, "sms", "marketing", "withdrawn", t0 + 5); /* same second: later id wins */

    states now = {0};
    assert_int_equal(crm_consent_list(f->k, c, false, collect_state, &now, &err), CRM_OK);
    assert_int_equal(now.n, 3);
    assert_string_equal(now.text[0], "email/marketing=withdrawn");
    assert_string_equal(now.text[1], "email/newsletter=granted");
    assert_string_equal(now.text[2], "sms/marketing=withdrawn");

    states all = {0};
    assert_int_equal(crm_consent_list(f->k, c, true, collect_state, &all, &err), CRM_OK);
    assert_int_equal(all.n, 5);
    assert_string_equal(all.text[0], "email/marketing=granted");

    assert_int_equal(events_of(f->k, "consent.granted"), 3);
    assert_int_equal(events_of(f->k, "consent.withdrawn"), 2);
    json_t *p = last_payload(f->k, "consent.withdrawn");
    assert_int_equal(payload_int(p, "contact_id"), c);
    assert_string_equal(json_string_value(json_object_get(p, "channel")), "sms");
    assert_string_equal(json_string_value(json_object_get(p, "purpose")), "marketing");
    json_decref(p);

    crm_consent bad = {.contact_id = c, .channel = strdup("e mail"), .purpose = strdup("x"),
                       .status = strdup("granted")};
    int64_t id;
    assert_int_equal(crm_consent_record(f->k, &bad, &id, &err), CRM_EINVAL);
    crm_consent_clear(&bad);
    bad = (crm_consent){.contact_id = 999, .channel = strdup("email"),
                        .purpose = strdup("newsletter"),
                        .status = strdup("granted")};
    assert_int_equal(crm_consent_record(f->k, &bad, &id, &err), CRM_ENOTFOUND);
    crm_consent_clear(&bad);
    assert_int_equal(count(f->k, "SELECT count(*) FROM consents"), 5);
}

/* Channels and purposes come from crm.yaml `consents:` (defaults: email, sms,
 * phone, post; newsletter, offers, marketing, profiling); a repeated grant or
 * withdrawal changes nothing and emits nothing. */
static void test_consent_lists_and_repeats(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t c = add_person(f->k, "Repeat", "repeat@example.com");
    const crm_consent_config *cc = &f->k->cfg->consents;
    assert_int_equal(cc->n_channels, 4);
    assert_string_equal(cc->channels[3], "post");
    assert_int_equal(cc->n_purposes, 4);
    assert_string_equal(cc->purposes[1], "offers");
    int64_t before = count(f->k, "SELECT count(*) FROM events");
    crm_consent bad = {.contact_id = c, .channel = strdup("pigeon"),
                       .purpose = strdup("newsletter"), .status = strdup("granted")};
    int64_t id = -1;
    assert_int_equal(crm_consent_record(f->k, &bad, &id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "channel: 'pigeon' is not a consent channel"));
    assert_non_null(strstr(err.msg, "(email, sms, phone, post)"));
    crm_consent_clear(&bad);
    bad = (crm_consent){.contact_id = c, .channel = strdup("email"),
                        .purpose = strdup("newsleter"), .status = strdup("granted")};
    crm_err_clear(&err);
    assert_int_equal(crm_consent_record(f->k, &bad, &id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "did you mean 'newsletter'?"));
    crm_consent_clear(&bad);
    assert_int_equal(count(f->k, "SELECT count(*) FROM events"), before);

    const int64_t t0 = 1700000000;
    struct {
        const char *status;
        int64_t at;
        bool unchanged;
    } steps[] = {
        {"granted", t0, false},        {"granted", t0 + 10, true},   /* repeated grant */
        {"withdrawn", t0 + 20, false}, {"withdrawn", t0 + 30, true}, /* second withdrawal */
        {"granted", t0 + 5, true},     /* in force at t0 + 5: granted (t0) */
        {"withdrawn", t0 + 5, false},  /* changes the history between t0 + 5 and t0 + 20 */
    };
    int64_t records = 0, first_id = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        crm_consent r = {.contact_id = c, .channel = strdup("email"),
                         .purpose = strdup("newsletter"), .status = strdup(steps[i].status),
                         .recorded_at = steps[i].at};
        assert_int_equal(crm_consent_record(f->k, &r, &id, &err), CRM_OK);
        if (r.unchanged != steps[i].unchanged)
            fail_msg("step %zu: unchanged %d", i, r.unchanged);
        if (!r.unchanged)
            records++;
        if (i == 0)
            first_id = id;
        if (i == 1) {
            assert_int_equal(id, first_id);  /* the record in force */
            assert_int_equal(r.since, t0);
        }
        crm_consent_clear(&r);
    }
    assert_int_equal(records, 3);
    assert_int_equal(count(f->k, "SELECT count(*) FROM consents WHERE channel='email' AND "
                                 "purpose='newsletter'"),
                     records);
    assert_int_equal(count(f->k, "SELECT count(*) FROM events"), before + records);
}

/* A configured list replaces the default one. */
static void test_consent_configured_lists(void **state)
{
    (void)state;
    crm_config *cfg = NULL;
    crm_err err = {0};
    assert_int_equal(crm_config_load_string(&cfg,
                                            "consents:\n  channels: [email, pigeon]\n"
                                            "  purposes: [news]\n",
                                            "t.yaml", &err),
                     CRM_OK);
    assert_int_equal(cfg->consents.n_channels, 2);
    assert_string_equal(cfg->consents.channels[1], "pigeon");
    assert_int_equal(cfg->consents.n_purposes, 1);
    crm_config_free(cfg);
    assert_int_equal(crm_config_load_string(&cfg, "consents:\n  channels: [e-mail]\n", "t.yaml",
                                            &err),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "t.yaml:2:14: consents.channels[0]"));
}

/* ---- products, users -------------------------------------------------------------- */

static void test_product_upsert(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    crm_product p = {.sku = strdup("MUG"), .name = strdup("Mug"), .price = 850};
    int64_t id = 0, again = 0;
    assert_int_equal(crm_product_upsert(f->k, &p, &id, &err), CRM_OK);
    crm_product_clear(&p);
    p = (crm_product){.sku = strdup("MUG"), .price = 900};
    assert_int_equal(crm_product_upsert(f->k, &p, &again, &err), CRM_OK);
    crm_product_clear(&p);
    assert_int_equal(again, id);
    assert_int_equal(count(f->k, "SELECT price FROM products WHERE name='Mug'"), 900);
    assert_int_equal(events_of(f->k, "product.created"), 1);
    assert_int_equal(events_of(f->k, "product.updated"), 1);
    p = (crm_product){.sku = strdup("NEW"), .price = 1};
    assert_int_equal(crm_product_upsert(f->k, &p, &again, &err), CRM_EINVAL);
    crm_product_clear(&p);
}

static int count_users(json_t *u, void *ud)
{
    (*(int *)ud)++;
    assert_non_null(json_string_value(json_object_get(u, "role")));
    return 0;
}

static void test_users(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id;
    assert_int_equal(crm_user_add(f->k, "Ann", "ann@example.com", "manager", &id, &err), CRM_OK);
    assert_int_equal(crm_user_add(f->k, "Bob", "bob@example.com", "boss", &id, &err), CRM_EINVAL);
    assert_int_equal(crm_user_add(f->k, "Ann 2", "ANN@example.com", NULL, &id, &err),
                     CRM_EEXISTS);
    int n = 0;
    assert_int_equal(crm_user_list(f->k, count_users, &n, &err), CRM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(events_of(f->k, "user.created"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contact_normalised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_fields_typed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_company, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_lines_and_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_status_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_order_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeline_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interaction_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_current_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_lists_and_repeats, setup, teardown),
        cmocka_unit_test(test_consent_configured_lists),
        cmocka_unit_test_setup_teardown(test_product_upsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the segmentation plugin's condition compiler (condition.c):
 * its operator and field tables, literals containing operators, and the
 * compiled SQL run on a small SQLite database against members worked out
 * by hand, the way the plugin runs it (contacts c LEFT JOIN segmentation_rfm
 * r, ?1 the as-of instant). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "condition.h"

#define ASOF 1717200000 /* 2024-06-01 */

static sqlite3 *db;

static int setup(void **state)
{
    (void)state;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return -1;
    const char *schema =
        "CREATE TABLE contacts(id INTEGER PRIMARY KEY, lifecycle_stage TEXT, country TEXT,"
        " city TEXT, source TEXT);"
        "CREATE TABLE segmentation_rfm(contact_id INTEGER, recency_days INTEGER,"
        " frequency INTEGER, monetary INTEGER, r INTEGER, f INTEGER, m INTEGER, segment TEXT);"
        "CREATE TABLE contact_tags(contact_id INTEGER, tag TEXT);"
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, contact_id INTEGER, status TEXT,"
        " placed_at INTEGER);"
        "CREATE TABLE interactions(contact_id INTEGER, occurred_at INTEGER);"
        "CREATE TABLE segmentation_churn(contact_id INTEGER, score INTEGER);"
        "CREATE TABLE segmentation_members(contact_id INTEGER, segment TEXT, left_at INTEGER);"
        "CREATE TABLE custom_values(entity TEXT, entity_id INTEGER, name TEXT, value TEXT);"
        "CREATE TABLE consents(id INTEGER PRIMARY KEY, contact_id INTEGER, channel TEXT,"
        " purpose TEXT, status TEXT, recorded_at INTEGER);"
        /* 1: a loyal French customer; 2: tag 'a != b', Lyon; 3: nothing */
        "INSERT INTO contacts VALUES(1,'customer','FR','Paris','web'),"
        " (2,'lead','FR','Lyon','fair'),(3,'lead','DE','Berlin','web');"
        "INSERT INTO segmentation_rfm VALUES(1,10,5,60000,5,5,5,'champions'),"
        " (2,200,1,1000,1,1,1,'hibernating');"
        "INSERT INTO contact_tags VALUES(1,'vip'),(2,'a != b'),(2,'it''s');"
        "INSERT INTO orders(contact_id,status,placed_at) VALUES(1,'paid',1717200000-86400*5),"
        " (1,'paid',1717200000-86400*40),(1,'cancelled',1717200000-86400*2),"
        " (2,'placed',1717200000-86400*200),(1,'paid',1717200000+86400);"
        "INSERT INTO interactions VALUES(3,1717200000-3600),(3,1717200000-86400*20);"
        "INSERT INTO segmentation_churn VALUES(2,75),(3,10);"
        "INSERT INTO segmentation_members VALUES(1,'press',NULL),(2,'press',1700000000);"
        "INSERT INTO custom_values VALUES('contact',1,'shoe_size','43'),"
        " ('contact',2,'shoe_size','9'),('contact',3,'colour','x >= y');"
        "INSERT INTO consents(contact_id,channel,purpose,status,recorded_at) VALUES"
        " (1,'email','newsletter','granted',1600000000),"
        " (1,'email','newsletter','withdrawn',1717200000+10),"
        " (2,'email','newsletter','granted',1600000000),"
        " (2,'email','newsletter','withdrawn',1700000000);";
    return sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sqlite3_close(db);
    return 0;
}

/* The ids the condition selects, as "1,3" ("" for none; "ERR" when the SQL fails). */
static void members(const char *text, char *out, size_t size)
{
    seg_cond c;
    char err[512];
    out[0] = 0;
    assert_int_equal(seg_cond_compile(text, &c, err, sizeof err), 0);
    char sql[9000];
    snprintf(sql, sizeof sql,
             "SELECT c.id FROM contacts c LEFT JOIN segmentation_rfm r ON r.contact_id = c.id"
             " WHERE %s ORDER BY c.id", c.sql);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, size, "ERR %s", sqlite3_errmsg(db));
        return;
    }
    sqlite3_bind_int64(st, 1, ASOF);
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s%lld", n ? "," : "", (long long)sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
}

static void expect(const char *text, const char *want)
{
    char got[256];
    members(text, got, sizeof got);
    if (strcmp(got, want))
        fail_msg("%s: expected {%s}, got {%s}", text, want, got);
}

/* Every row of the operator table: its spelling compiles to its SQL, and
 * selects what the comparison means (frequency 5, 1 and NULL). */
static void test_operator_table(void **state)
{
    (void)state;
    size_t n;
    const seg_cond_op *ops = seg_cond_ops(&n);
    assert_int_equal(n, 6);
    static const struct {
        const char *op, *sql, *want; /* frequency OP 1 */
    } rows[] = {{">=", ">=", "1,2"}, {"<=", "<=", "2"}, {"!=", "<>", "1"},
                {"=", "=", "2"},     {">", ">", "1"},   {"<", "<", ""}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int found = 0;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(ops[k].text, rows[i].op)) {
                assert_string_equal(ops[k].sql, rows[i].sql);
                found = 1;
            }
        assert_true(found);
        char text[64], sqlop[16];
        snprintf(text, sizeof text, "frequency %s 1", rows[i].op);
        expect(text, rows[i].want);
        seg_cond c;
        char err[256];
        assert_int_equal(seg_cond_compile(text, &c, err, sizeof err), 0);
        snprintf(sqlop, sizeof sqlop, " %s 1", rows[i].sql);
        assert_non_null(strstr(c.sql, sqlop));
    }
    /* longest first: ">=" is one operator, not ">" then "=" */
    for (size_t k = 0; k < n; k++)
        for (size_t j = k + 1; j < n; j++)
            assert_false(strlen(ops[j].text) > strlen(ops[k].text) &&
                         !strncmp(ops[j].text, ops[k].text, strlen(ops[k].text)));
}

/* A quoted value keeps the operators it contains: nothing rewrites it. */
static void test_literals_with_operators(void **state)
{
    (void)state;
    seg_cond c;
    char err[256];
    assert_int_equal(seg_cond_compile("tag = 'a != b'", &c, err, sizeof err), 0);
    assert_non_null(strstr(c.sql, "t.tag = 'a != b'"));
    assert_null(strstr(c.sql, "a <> b"));
    expect("tag = 'a != b'", "2");
    expect("tag != 'a != b'", "1,3");
    expect("tag = \"it's\"", "2");                  /* a quote inside is doubled in SQL */
    expect("custom.colour = 'x >= y'", "3");
    expect("city = 'Lyon' or city = 'a = b and c'", "2");
    expect("city = 'Paris and Lyon' or tag = 'a != b'", "2"); /* `and` inside: no split */
    assert_int_equal(seg_cond_compile("tag = 'never closed", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "unterminated"));
}

/* Every row of the field table, against members worked out by hand. */
static void test_field_table(void **state)
{
    (void)state;
    static const struct {
        const char *field, *text, *want;
    } rows[] = {
        {"recency_days", "recency_days < 30", "1"},
        {"frequency", "frequency >= 2", "1"},
        {"monetary", "monetary >= 50000", "1"},
        {"r", "r = 1", "2"},
        {"f", "f = 5", "1"},
        {"m", "m <= 1", "2"},
        {"rfm_segment", "rfm_segment = champions", "1"},
        {"orders_", "orders_30d >= 1", "1"},              /* 5 days ago; not the cancelled one */
        {"interactions_", "interactions_7d = 1", "3"},    /* the 20-day-old one is out */
        {"days_since_last_order", "days_since_last_order = 5", "1"}, /* not the future order */
        {"churn_score", "churn_score >= 50", "2"},
        {"tag", "tag = vip", "1"},
        {"segment", "segment = press", "1"},              /* 2 left it */
        {"custom.", "custom.shoe_size > 10", "1"},        /* numbers compare as numbers */
        {"consent.", "consent.email.newsletter = granted", "1"}, /* withdrawn after as-of */
        {"lifecycle_stage", "lifecycle_stage = lead", "2,3"},
        {"country", "country != FR", "3"},
        {"city", "city = Berlin", "3"},
        {"source", "source = web", "1,3"},
    };
    size_t n = seg_cond_field_count();
    assert_int_equal(n, sizeof rows / sizeof rows[0]);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(seg_cond_field_name(i), rows[i].field);
        expect(rows[i].text, rows[i].want);
    }
    assert_null(seg_cond_field_name(n));
}

static void test_precedence_and_errors(void **state)
{
    (void)state;
    expect("tag = vip or country = DE and source = web", "1,3");
    expect("(tag = vip or country = DE) and source = fair", "");
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"frequency >> 3", "expected a value"},
        {"frequency ~ 3", "expected an operator"},
        {"frequency >= many", "whole number"},
        {"tag > vip", "takes = or != only"},
        {"consent.email.newsletter = maybe", "granted or withdrawn"},
        {"colour = red", "unknown field \"colour\""},
        {"orders_0d > 1", "unknown field"},
        {"tag = vip and", "expected a field name"},
        {"(tag = vip", "expected ')'"},
        {"tag = vip vip", "expected 'and', 'or' or the end"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seg_cond c;
        char err[1024];
        assert_int_equal(seg_cond_compile(bad[i].text, &c, err, sizeof err), -1);
        if (!strstr(err, bad[i].msg))
            fail_msg("%s: expected \"%s\" in: %s", bad[i].text, bad[i].msg, err);
        assert_non_null(strstr(err, "at character"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operator_table),
        cmocka_unit_test(test_literals_with_operators),
        cmocka_unit_test(test_field_table),
        cmocka_unit_test(test_precedence_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

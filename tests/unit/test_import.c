/* Unit tests for core/import: CSV dialects, mapping, every rejection
 * reason, the accounting identity, idempotent re-import, dry run, batches,
 * undo, orders with lines, JSON Lines, and the export round trip. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "import/import.h"
#include "kernel.h"
#include "model.h"

typedef struct fx {
    char *dir;
    crm_kernel *k;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    char db[4200];
    snprintf(db, sizeof db, "%s/crm.db", f->dir);
    unsetenv("CRM_CONFIG");
    char *cfg = crm_test_write_file(f->dir, "crm.yaml",
                                    "database: crm.db\n"
                                    "custom_fields:\n"
                                    "  contact:\n"
                                    "    - {name: loyalty_card, type: text}\n");
    crm_open_opts o = {.config_path = cfg, .db_path = db, .create = true,
                       .as_of = "2025-06-01T12:00:00Z"};
    crm_err err = {0};
    if (crm_kernel_open(&f->k, &o, &err) != CRM_OK)
        fail_msg("open: %s", err.msg);
    free(cfg);
    *state = f;
    return 0;
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

static char *text_of(fx *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(crm_store_db(f->k->store), sql, -1, &st, NULL),
                     SQLITE_OK);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void check_identity(const crm_import_report *r)
{
    assert_int_equal(r->read, r->stored + r->updated + r->unchanged + r->merged + r->rejected);
}

static crm_import_report run_opts(fx *f, crm_import_opts *o)
{
    crm_import_report r;
    crm_err err = {0};
    if (crm_import_run(f->k, o, &r, &err) != CRM_OK)
        fail_msg("import %s: %s", o->path, err.msg);
    check_identity(&r);
    return r;
}

static crm_import_report run(fx *f, const char *entity, const char *name, const char *text)
{
    char *path = crm_test_write_file(f->dir, name, text);
    crm_import_opts o = {.entity = entity, .path = path};
    crm_import_report r = run_opts(f, &o);
    free(path);
    return r;
}

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* ---- CSV dialects ---------------------------------------------------------- */

static void test_quoting(void **state)
{
    fx *f = *state;
    crm_import_report r = run(f, "contacts", "q.csv",
                              "external_id,first_name,last_name,email,street\r\n"
                              "A1,\"Jean, Paul\",Dupont,jp@example.com,\"1 rue \"\"Haute\"\"\"\r\n"
                              "A2,Marie,\"Du\nPont\",marie@example.com,\"line1\r\nline2\"\r\n"
                              "A3,Luc,Martin,not-an-email,x\r\n"
                              "A4,Eve,Roux,eve@example.com,\r\n");
    assert_int_equal(r.read, 4);
    assert_int_equal(r.stored, 3);
    assert_int_equal(r.rejected, 1);
    char *street = text_of(f, "SELECT street FROM contacts WHERE external_id='A1'");
    assert_string_equal(street, "1 rue \"Haute\"");
    free(street);
    char *first = text_of(f, "SELECT first_name FROM contacts WHERE external_id='A1'");
    assert_string_equal(first, "Jean, Paul");
    free(first);
    /* A3 starts on line 6: A2 spans lines 3-5. */
    const char *rej = read_all(r.rejects_path);
    assert_non_null(rej);
    assert_non_null(strstr(rej, "A3,Luc,Martin,not-an-email,x,6,"));
    assert_non_null(strstr(rej, "email: 'not-an-email'"));
}

/* A quote never closed swallowed the rest of the file into one stored cell. */
static void test_unterminated_quote(void **state)
{
    fx *f = *state;
    char *path = crm_test_write_file(f->dir, "uq.csv",
                                     "first_name,email\n"
                                     "Ann,ann@example.com\n"
                                     "\"Bob,bob@example.com\n"
                                     "Cy,cy@example.com\n");
    crm_import_opts o = {.entity = "contacts", .path = path};
    crm_import_report r;
    crm_err err = {0};
    assert_int_equal(crm_import_run(f->k, &o, &r, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "line 3 is never closed"));
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 0);
    free(path);
}

static void test_bom_semicolon_tab(void **state)
{
    fx *f = *state;
    crm_import_report r = run(f, "contacts", "semi.csv",
                              "\xEF\xBB\xBF" "External ID;First Name;LAST_NAME;E-mail\n"
                              "S1;Ana;Lopez;ana@example.com\n"
                              "S2;Bo;Ek;bo@example.com\n");
    assert_int_equal(r.stored, 2);
    assert_string_equal(r.unknown, "");
    r = run(f, "contacts", "tab.csv",
            "external_id\tfirst_name\tlast_name\temail\n"
            "T1\tCarl\tTab\tcarl@example.com\n");
    assert_int_equal(r.stored, 1);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE external_id='S1' AND "
                              "email='ana@example.com' AND first_name='Ana'"),
                     1);
}

static void test_mapping_unknown(void **state)
{
    fx *f = *state;
    char *path = crm_test_write_file(f->dir, "map.csv",
                                     "Prénom,Nom,Courriel,Carte,Shoe size\n"
                                     "élodie,MARTIN,elodie@example.com,C-77,42\n");
    const char *map[] = {"prenom=first_name", "Nom=last_name", "courriel=email",
                         "carte=loyalty_card"};
    crm_import_opts o = {.entity = "contacts", .path = path, .map = map, .n_map = 4};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.stored, 1);
    assert_string_equal(r.unknown, "Shoe size");
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE first_name='Élodie' AND "
                              "last_name='Martin'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM custom_values WHERE name='loyalty_card' "
                              "AND value='C-77'"),
                     1);
    /* a --map target that is no field is a usage error */
    const char *bad[] = {"x=nonsense"};
    o.map = bad;
    o.n_map = 1;
    crm_import_report r2;
    crm_err err = {0};
    assert_int_equal(crm_import_run(f->k, &o, &r2, &err), CRM_EUSAGE);
    assert_non_null(strstr(err.msg, "nonsense"));
    free(path);
}

/* ---- rejections and the identity ---------------------------------------------- */

static const struct {
    const char *row;
    const char *reason;
} contact_rejects[] = {
    {"R1,Jo,Doe,jo@@example.com,,,", "email: 'jo@@example.com'"},
    {"R2,Jo,Doe,,12,,", "phone: '12'"},
    {"R3,Jo,Doe,,,ABCDE,FR", "postal_code: 'ABCDE'"},
    {"R4,Jo,Doe,,,,Atlantis", "country: 'Atlantis'"},
    {"R5,,,,,,", "needs at least a name, an email or a phone"},
    {"R6,Jo,Doe,dup@example.com,,,", "email: 'dup@example.com' belongs to contact"},
    {"R7,Jo,Doe,,+33612345678,,", "phone: '+33612345678' already belongs to contact"},
    {"R8,Jo,Doe,,,,,extra", "cells but the header has"},
};

static void test_every_rejection(void **state)
{
    fx *f = *state;
    run(f, "contacts", "seed.csv",
        "external_id,email,phone\nX1,dup@example.com,\nX2,,0612345678\n");
    char text[4096] = "external_id,first_name,last_name,email,phone,postal_code,country\n";
    size_t n = sizeof contact_rejects / sizeof contact_rejects[0];
    for (size_t i = 0; i < n; i++) {
        strcat(text, contact_rejects[i].row);
        strcat(text, "\n");
    }
    strcat(text, "OK1,Good,Row,good@example.com,,75001,FR\n");
    crm_import_report r = run(f, "contacts", "bad.csv", text);
    assert_int_equal(r.read, (int64_t)n + 1);
    assert_int_equal(r.rejected, (int64_t)n);
    assert_int_equal(r.stored, 1);
    const char *rej = read_all(r.rejects_path);
    assert_non_null(rej);
    assert_non_null(strstr(rej, "external_id,first_name,last_name,email,phone,postal_code,"
                                "country,line,reason\n"));
    for (size_t i = 0; i < n; i++)
        if (!strstr(rej, contact_rejects[i].reason))
            fail_msg("reject file lacks '%s':\n%s", contact_rejects[i].reason, rej);
}

static void test_reimport_idempotent(void **state)
{
    fx *f = *state;
    const char *csv = "external_id,first_name,last_name,email,tags,loyalty_card\n"
                      "I1,ann,LEE,Ann@Example.com,vip|news,K1\n"
                      "I2,Bob,Ray,bob@example.com,,\n"
                      ",Cy,Noext,cy@example.com,,\n"
                      "I4,Bad,Row,bad@,,\n";
    crm_import_report r = run(f, "contacts", "re.csv", csv);
    assert_int_equal(r.stored, 3);
    assert_int_equal(r.rejected, 1);
    int64_t events = count(f, "SELECT count(*) FROM events");
    r = run(f, "contacts", "re.csv", csv);
    assert_int_equal(r.read, 4);
    assert_int_equal(r.unchanged, 3);
    assert_int_equal(r.stored + r.updated + r.merged, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 3);
    assert_int_equal(count(f, "SELECT count(*) FROM events"), events);
    /* one changed cell is one update */
    r = run(f, "contacts", "re2.csv",
            "external_id,first_name,last_name,email\nI2,Bob,Ray,bob@example.org\n");
    assert_int_equal(r.updated, 1);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE email='bob@example.org'"), 1);
    /* matched by email when no external_id */
    r = run(f, "contacts", "re3.csv", "email,city\nCY@example.com,Lyon\n");
    assert_int_equal(r.updated, 1);
}

static void test_dry_run(void **state)
{
    fx *f = *state;
    char *path = crm_test_write_file(f->dir, "dry.csv",
                                     "external_id,first_name,email\n"
                                     "D1,Al,al@example.com\nD2,Bea,bea@\nD3,Cid,cid@example.com\n");
    crm_import_opts o = {.entity = "contacts", .path = path, .dry_run = true};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.stored, 2);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(r.id, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM import_journal"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM events"), 0);
    free(path);
}

static void test_batches_and_journal(void **state)
{
    fx *f = *state;
    char *text = malloc(200000);
    strcpy(text, "external_id,first_name,email\n");
    size_t len = strlen(text);
    for (int i = 0; i < 2500; i++)
        len += (size_t)snprintf(text + len, 200000 - len, "B%d,Name,b%d@example.com\n", i, i);
    char *path = crm_test_write_file(f->dir, "big.csv", text);
    free(text);
    crm_import_opts o = {.entity = "contacts", .path = path, .batch_size = 100};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.stored, 2500);
    assert_int_equal(count(f, "SELECT count(*) FROM import_journal WHERE status='done' AND "
                              "n_read=2500 AND n_stored=2500 AND hash LIKE 'fnv1a64:%'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM import_records"), 2500);
    free(path);
}

/* A row that fails after writing (here: its tag insert, after its contact
 * insert succeeded) spoils its batch-mode transaction: the batch is re-run
 * record by record, so the other rows of that batch are stored, the bad row
 * is rejected, and nothing is counted twice or lost. */
static void test_batch_fallback(void **state)
{
    fx *f = *state;
    char *text = malloc(100000);
    strcpy(text, "external_id,first_name,email,tags\n");
    size_t len = strlen(text);
    for (int i = 0; i < 250; i++)
        len += (size_t)snprintf(text + len, 100000 - len, "F%d,Name,f%d@example.com,%s\n", i, i,
                                i == 137 ? "boom" : i == 12 ? "Bad Email" : "vip");
    /* row 12 is refused before writing (no fallback for that); row 137 after */
    char *bad = strstr(text, "f12@example.com");
    memcpy(bad, "f12@@xample.com", 15);
    char *path = crm_test_write_file(f->dir, "fallback.csv", text);
    free(text);
    crm_err err = {0};
    assert_int_equal(crm_store_exec(f->k->store,
                                    "CREATE TEMP TRIGGER boom AFTER INSERT ON contact_tags "
                                    "WHEN NEW.tag = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                    &err),
                     CRM_OK);
    crm_import_opts o = {.entity = "contacts", .path = path, .batch_size = 100};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.read, 250);
    assert_int_equal(r.stored, 248);
    assert_int_equal(r.rejected, 2);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 248);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE external_id='F137'"), 0);
    /* the rest of row 137's batch (rows 100..199) is there, each once */
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE CAST(substr(external_id, 2)"
                              " AS INTEGER) BETWEEN 100 AND 199"),
                     99);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_tags"), 248);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE type='contact.created'"), 248);
    assert_int_equal(count(f, "SELECT count(*) FROM import_records"), 248);
    assert_int_equal(count(f, "SELECT count(*) FROM import_journal WHERE status='done' AND "
                              "n_read=250 AND n_stored=248 AND n_rejected=2"),
                     1);
    /* the reject file has each rejected row once, with its reason */
    char *rej = read_all(r.rejects_path);
    assert_non_null(rej);
    assert_non_null(strstr(rej, "F12,"));
    assert_non_null(strstr(rej, "F137,"));
    assert_non_null(strstr(rej, "boom"));
    assert_null(strstr(strstr(rej, "F137,") + 1, "F137,"));
    int lines = 0;
    for (const char *p = rej; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3); /* header + 2 */
    /* a re-run changes nothing and still accounts for every row */
    assert_int_equal(crm_store_exec(f->k->store, "DROP TRIGGER temp.boom", &err), CRM_OK);
    r = run_opts(f, &o);
    assert_int_equal(r.unchanged, 248);
    assert_int_equal(r.stored, 1); /* F137, now that its tag can be written */
    assert_int_equal(r.rejected, 1);
    free(path);
}

static void test_undo(void **state)
{
    fx *f = *state;
    crm_import_report r = run(f, "contacts", "u.csv",
                              "external_id,first_name,email\nU1,Al,al@example.com\n"
                              "U2,Bo,bo@example.com\n");
    crm_err err = {0};
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 0);
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "already undone"));

    /* refused: the import updated a record */
    r = run(f, "contacts", "u2.csv", "external_id,first_name,email\nU1,Al,al@example.com\n");
    crm_import_report r2 = run(f, "contacts", "u3.csv",
                               "external_id,first_name,email\nU1,Alan,al@example.com\n"
                               "U3,Cy,cy@example.com\n");
    assert_int_equal(r2.updated, 1);
    assert_int_equal(crm_import_undo(f->k, r2.id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "updated existing record"));

    /* refused: changed since (r stored U1, r2 updated it) */
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "changed since the import"));

    /* refused: an order depends on an imported contact */
    crm_import_report r3 = run(f, "contacts", "u4.csv", "external_id,first_name\nU9,Zed\n");
    crm_order o = {.contact_id = 0, .placed_at = f->k->now, .total = 1000};
    assert_int_equal(crm_contact_resolve(f->k, "ext:U9", &o.contact_id, &err), CRM_OK);
    assert_int_equal(crm_order_add(f->k, &o, NULL, &err), CRM_OK);
    crm_order_clear(&o);
    assert_int_equal(crm_import_undo(f->k, r3.id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "has an order"));
}

/* ---- orders ----------------------------------------------------------------- */

static void test_orders(void **state)
{
    fx *f = *state;
    run(f, "contacts", "oc.csv",
        "external_id,first_name,email\nC1,Al,al@example.com\nC2,Bo,bo@example.com\n");
    const char *orders = "external_id,contact_external_id,contact_email,placed_at,total,"
                         "currency,status\n"
                         "O1,C1,,2025-01-02,\"12,50\",EUR,paid\n"
                         "O2,,bo@example.com,2025-01-03T10:00:00+02:00,1 234.56,eur,placed\n"
                         "O3,C404,,2025-01-03,1.00,EUR,placed\n"
                         "O4,C1,,yesterday,1.00,EUR,placed\n"
                         "O5,C1,,2025-01-03,abc,EUR,placed\n"
                         "O6,C1,,2025-01-03,1.00,EURO,placed\n"
                         "O7,C1,,2025-01-03,1.00,EUR,lost\n"
                         "O8,,,2025-01-03,1.00,EUR,placed\n"
                         "O9,C1,,2025-01-03,1.001,EUR,placed\n";
    crm_import_report r = run(f, "orders", "o.csv", orders);
    assert_int_equal(r.read, 9);
    assert_int_equal(r.stored, 2);
    assert_int_equal(r.rejected, 7);
    assert_int_equal(count(f, "SELECT total FROM orders WHERE external_id='O1'"), 1250);
    assert_int_equal(count(f, "SELECT total FROM orders WHERE external_id='O2'"), 123456);
    assert_int_equal(count(f, "SELECT placed_at FROM orders WHERE external_id='O2'"),
                     1735891200);
    const char *rej = read_all(r.rejects_path);
    const char *reasons[] = {"C404", "placed_at: 'yesterday'", "total: 'abc'",
                             "currency: 'EURO'", "lost", "contact_external_id: is required",
                             "total: '1.001'"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (!strstr(rej, reasons[i]))
            fail_msg("reject file lacks '%s':\n%s", reasons[i], rej);
    /* idempotent; a status change is an update */
    r = run(f, "orders", "o.csv", orders);
    assert_int_equal(r.unchanged, 2);
    r = run(f, "orders", "o2.csv",
            "external_id,contact_external_id,placed_at,total,currency,status\n"
            "O2,C2,2025-01-03T08:00:00Z,1234.56,EUR,paid\n");
    assert_int_equal(r.updated, 1);
    assert_int_equal(count(f, "SELECT count(*) FROM orders"), 2);
}

static void test_order_lines(void **state)
{
    fx *f = *state;
    run(f, "contacts", "lc.csv", "external_id,first_name\nC1,Al\n");
    char *lines = crm_test_write_file(f->dir, "lines.csv",
                                      "order_external_id,sku,quantity,unit_price\n"
                                      "L1,SKU-A,2,10.00\nL1,SKU-B,1,5.50\nL2,SKU-A,zero,1\n");
    char *path = crm_test_write_file(f->dir, "lo.csv",
                                     "external_id,contact_external_id,placed_at,total\n"
                                     "L1,C1,2025-02-01,25.50\nL2,C1,2025-02-01,1\n");
    crm_import_opts o = {.entity = "orders", .path = path, .lines_path = lines};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.stored, 1);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(count(f, "SELECT count(*) FROM order_lines"), 2);
    assert_non_null(strstr(read_all(r.rejects_path), "lines file line 4: quantity: 'zero'"));
    free(lines);
    free(path);
}

/* A lines file wider than the old 64-column map: imp_get read past it. */
static void test_order_lines_wide(void **state)
{
    fx *f = *state;
    run(f, "contacts", "wc.csv", "external_id,first_name\nC1,Al\n");
    char text[2048] = "";
    for (int i = 0; i < 70; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "extra%d,", i);
    strcat(text, "order_external_id,sku,quantity,unit_price\n");
    for (int i = 0; i < 70; i++)
        strcat(text, "x,");
    strcat(text, "W1,SKU-W,3,2.00\n");
    char *lines = crm_test_write_file(f->dir, "wide.csv", text);
    char *path = crm_test_write_file(f->dir, "wo.csv",
                                     "external_id,contact_external_id,placed_at\n"
                                     "W1,C1,2025-02-01\n");
    crm_import_opts o = {.entity = "orders", .path = path, .lines_path = lines};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.stored, 1);
    assert_int_equal(count(f, "SELECT quantity FROM order_lines WHERE sku='SKU-W'"), 3);
    free(lines);
    free(path);
}

/* ---- JSON Lines, merge ------------------------------------------------------------ */

static void test_jsonl(void **state)
{
    fx *f = *state;
    crm_import_report r = run(f, "contacts", "c.jsonl",
                              "{\"external_id\":\"J1\",\"first_name\":\"Ida\","
                              "\"tags\":[\"a\",\"b\"],\"email\":\"ida@example.com\"}\n"
                              "\n"
                              "{not json}\n"
                              "{\"external_id\":\"J2\",\"email\":\"x@\"}\n");
    assert_int_equal(r.read, 3);
    assert_int_equal(r.stored, 1);
    assert_int_equal(r.rejected, 2);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_tags"), 2);
    const char *rej = read_all(r.rejects_path);
    assert_non_null(strstr(rej, "\"line\":3"));
    assert_non_null(strstr(rej, "\"line\":4"));
}

static void test_merge_duplicates(void **state)
{
    fx *f = *state;
    run(f, "contacts", "m1.csv",
        "external_id,first_name,last_name,phone,postal_code,country\n"
        "M1,Jean,Dupont,0612345678,75001,FR\n");
    char *path = crm_test_write_file(f->dir, "m2.csv",
                                     "external_id,first_name,last_name,phone,email,postal_code,"
                                     "country\n"
                                     "M2,jean,DUPONT,,jd@example.com,75001,FR\n"
                                     "M3,J,D,06 12 34 56 78,,,FR\n");
    crm_import_opts o = {.entity = "contacts", .path = path, .merge_duplicates = true};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.merged, 2);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE email='jd@example.com'"), 1);
    free(path);
}

/* ---- formula injection round trip ---------------------------------------------------- */

static void test_formula_rule(void **state)
{
    (void)state;
    const char *danger[] = {"=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "  =x",
                            "\x01=x", " \t@x", "'=x", "''+x"};
    const char *safe[] = {"-12.50", "+33612345678", "12", "a=b", "O'Neil", "'quoted", "", "1,5"};
    for (size_t i = 0; i < sizeof danger / sizeof danger[0]; i++)
        if (!crm_cell_needs_quote(danger[i]))
            fail_msg("'%s' not neutralised", danger[i]);
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (crm_cell_needs_quote(safe[i]))
            fail_msg("'%s' neutralised", safe[i]);
    /* every value survives export then import unchanged */
    const char *all[] = {"=1+1", "'=1+1", "''=1", "'plain", " =x", "-5", "x"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s%s", crm_cell_needs_quote(all[i]) ? "'" : "", all[i]);
        assert_string_equal(crm_cell_unneutralise(buf), all[i]);
    }
}

static void test_export_roundtrip(void **state)
{
    fx *f = *state;
    run(f, "contacts", "in.csv",
        "external_id,first_name,last_name,email,street,city,tags,source,loyalty_card\n"
        "E1,Ann,\"=HYPERLINK(\"\"http://x\"\")\",ann@example.com,\"a, \"\"b\"\"\nc\",@SUM,"
        "\"vip|+1\",-cmd,''=x\n"
        "E2,Bob,Ray,bob@example.com,,,,,\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/out.csv", f->dir);
    FILE *out = fopen(path, "w");
    crm_export_opts eo = {.entity = "contacts", .format = CRM_EXPORT_CSV};
    int64_t n = 0;
    crm_err err = {0};
    assert_int_equal(crm_export_run(f->k, &eo, out, &n, &err), CRM_OK);
    fclose(out);
    assert_int_equal(n, 2);
    const char *text = read_all(path);
    assert_non_null(strstr(text, "\"'=HYPERLINK(\"\"http://x\"\")\""));
    assert_non_null(strstr(text, "'@SUM"));
    assert_non_null(strstr(text, "'-cmd"));
    assert_non_null(strstr(text, "''=x"));
    /* re-importing the export changes nothing */
    crm_import_opts o = {.entity = "contacts", .path = path};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.unchanged, 2);
    assert_int_equal(r.rejected, 0);
    /* the JSON Lines export too */
    snprintf(path, sizeof path, "%s/out.jsonl", f->dir);
    out = fopen(path, "w");
    eo.format = CRM_EXPORT_JSONL;
    assert_int_equal(crm_export_run(f->k, &eo, out, &n, &err), CRM_OK);
    fclose(out);
    r = run_opts(f, &o);
    assert_int_equal(r.unchanged, 2);
}

/* ---- vCard -------------------------------------------------------------------------- */

static void test_vcard(void **state)
{
    fx *f = *state;
    crm_import_report r = run(f, "contacts", "in.vcf",
                              "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:V1\r\n"
                              "N:Lefèvre;Anne-Sophie;;;\r\nFN:Anne-Sophie Lefèvre\r\n"
                              "item1.EMAIL;TYPE=INTERNET:anne@example.com\r\n"
                              "TEL;TYPE=CELL:06 12 34 56 78\r\n"
                              "ADR;TYPE=HOME:;;12 rue de la Paix\\, bât. B;Paris;;75002;FR\r\n"
                              "ORG:Acme;Sales\r\nBDAY:1985-04-12\r\n"
                              "CATEGORIES:vip,news\r\nNOTE:long note folded over\r\n"
                              "  two lines\r\nEND:VCARD\r\n"
                              "BEGIN:VCARD\nVERSION:4.0\nFN:Bob Stone\n"
                              "TEL;VALUE=uri:tel:+33698765432\nEMAIL:bob@exa\n mple.com\n"
                              "END:VCARD\n"
                              "BEGIN:VCARD\nVERSION:4.0\nFN:Bad Mail\nEMAIL:bad@@x\nEND:VCARD\n");
    assert_int_equal(r.read, 3);
    assert_int_equal(r.stored, 2);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE external_id='V1' AND "
                              "first_name='Anne-Sophie' AND last_name='Lefèvre' AND "
                              "phone='+33612345678' AND postal_code='75002' AND city='Paris' "
                              "AND street='12 rue de la Paix, bât. B' AND "
                              "birth_date='1985-04-12'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE first_name='Bob' AND "
                              "last_name='Stone' AND email='bob@example.com'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_tags"), 2);
    assert_non_null(strstr(read_all(r.rejects_path), "\"line\":22"));
    /* round trip: export as vCard 4.0, re-import: nothing changes */
    int64_t id = 0;
    crm_err err = {0};
    assert_int_equal(crm_contact_resolve(f->k, "ext:V1", &id, &err), CRM_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/out.vcf", f->dir);
    FILE *out = fopen(path, "w");
    assert_int_equal(crm_export_vcard(f->k, id, out, &err), CRM_OK);
    fclose(out);
    const char *text = read_all(path);
    assert_non_null(strstr(text, "VERSION:4.0\r\n"));
    assert_non_null(strstr(text, "ADR:;;12 rue de la Paix\\, bât. B;Paris;;75002;FR\r\n"));
    assert_non_null(strstr(text, "CATEGORIES:news,vip\r\n"));
    crm_import_opts o = {.entity = "contacts", .path = path};
    r = run_opts(f, &o);
    assert_int_equal(r.unchanged, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom_semicolon_tab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_rejection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reimport_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_and_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_lines_wide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_duplicates, setup, teardown),
        cmocka_unit_test(test_formula_rule),
        cmocka_unit_test_setup_teardown(test_export_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vcard, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/import: CSV dialects, mapping, every rejection
 * reason, the accounting identity, idempotent re-import, dry run, batches,
 * undo, orders with lines, JSON Lines, and the export round trip. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export/export.h"
#include "import/import.h"
#include "import/import_int.h"
#include "kernel.h"
#include "model.h"
#include "schema.h"
#include "store.h"

typedef struct fx {
    char *dir;
    crm_kernel *k;
} fx;

/* Opens the kernel on f->dir/crm.db (created, or upgraded, by the open). */
static int open_kernel(fx *f)
{
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
    return 0;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    *state = f;
    return open_kernel(f);
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

/* Contacts not covered by import `id`'s ranges, plus ids its ranges cover
 * that are no contact: 0 when the journal says exactly what was written. */
static int64_t uncovered(fx *f, int64_t id)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM "
             "import_ranges r WHERE r.import_id=%lld AND c.id BETWEEN r.first_id AND r.last_id))"
             " + (SELECT coalesce(sum(last_id - first_id + 1), 0) FROM import_ranges "
             "WHERE import_id=%lld) - (SELECT count(*) FROM contacts c WHERE EXISTS (SELECT 1 "
             "FROM import_ranges r WHERE r.import_id=%lld AND c.id BETWEEN r.first_id AND "
             "r.last_id))",
             (long long)id, (long long)id, (long long)id);
    return count(f, sql);
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
    int64_t first = r.id;
    /* the identical file short-circuits: not read, nothing written, not even
     * a journal row, and the first run's reject file stays */
    r = run(f, "contacts", "re.csv", csv);
    assert_int_equal(r.already_id, first);
    assert_int_equal(r.already_at, 1748779200); /* the run's --as-of, 2025-06-01T12:00Z */
    assert_int_equal(r.id, 0);
    assert_int_equal(r.read, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM import_journal"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM events"), events);
    char rej_path[4200];
    snprintf(rej_path, sizeof rej_path, "%s/re.rejects.csv", f->dir);
    assert_non_null(strstr(read_all(rej_path), "I4,Bad,Row"));
    /* another option is another input */
    char *path = crm_test_write_file(f->dir, "re.csv", csv);
    const char *map[] = {"loyalty_card=-"};
    crm_import_opts o = {.entity = "contacts", .path = path, .map = map, .n_map = 1,
                         .dry_run = true};
    r = run_opts(f, &o);
    assert_int_equal(r.already_id, 0);
    assert_int_equal(r.read, 4);
    /* --force reads it again */
    o = (crm_import_opts){.entity = "contacts", .path = path, .force = true};
    r = run_opts(f, &o);
    free(path);
    assert_int_equal(r.already_id, 0);
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
    /* the journal covers exactly the stored records, one range per batch at most */
    assert_int_equal(count(f, "SELECT sum(last_id - first_id + 1) FROM import_ranges"), 2500);
    assert_int_equal(uncovered(f, r.id), 0);
    assert_true(count(f, "SELECT count(*) FROM import_ranges") <= 25);
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
    assert_int_equal(count(f, "SELECT sum(last_id - first_id + 1) FROM import_ranges"), 248);
    assert_int_equal(uncovered(f, r.id), 0);
    assert_true(count(f, "SELECT count(*) FROM import_ranges") <= 3);
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
    o.force = true; /* the same file: the journal would short-circuit it */
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

/* The journal stays exact when batches are re-run record by record: rows
 * that fail after writing (first, middle and last of their batch, and the
 * file's last row), updates of older records among new ones. The stored
 * ranges cover exactly the new contacts, the updated ranges exactly the
 * updated ones, and a rolled-back batch leaves no range behind. */
static void test_journal_ranges_rerun(void **state)
{
    fx *f = *state;
    run(f, "contacts", "old.csv", "external_id,first_name\nE0,Old\nE1,Old\nE2,Old\nE3,Old\n"
                                  "E4,Old\n");
    char text[4096] = "external_id,first_name,tags\n";
    for (int i = 0, e = 0; i < 40; i++) {
        snprintf(text + strlen(text), sizeof text - strlen(text), "N%d,New,%s\n", i,
                 i == 0 || i == 9 || i == 15 || i == 39 ? "boom" : "vip");
        if (i % 8 == 3)
            snprintf(text + strlen(text), sizeof text - strlen(text), "E%d,Changed,\n", e++);
    }
    char *path = crm_test_write_file(f->dir, "rerun.csv", text);
    crm_err err = {0};
    assert_int_equal(crm_store_exec(f->k->store,
                                    "CREATE TEMP TRIGGER boom AFTER INSERT ON contact_tags "
                                    "WHEN NEW.tag = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                    &err),
                     CRM_OK);
    crm_import_opts o = {.entity = "contacts", .path = path, .batch_size = 10};
    crm_import_report r = run_opts(f, &o);
    assert_int_equal(r.stored, 36);
    assert_int_equal(r.updated, 5);
    assert_int_equal(r.rejected, 4);
    char sql[1024];
    /* ids each action's ranges cover, and the contacts behind them */
    static const struct {
        const char *action, *like;
        int64_t n;
    } want[] = {{"stored", "N%", 36}, {"updated", "E%", 5}};
    for (size_t i = 0; i < 2; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(sum(last_id - first_id + 1), 0) FROM import_ranges "
                 "WHERE import_id=%lld AND action='%s'", (long long)r.id, want[i].action);
        assert_int_equal(count(f, sql), want[i].n);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM contacts c WHERE external_id LIKE '%s' AND EXISTS "
                 "(SELECT 1 FROM import_ranges r WHERE r.import_id=%lld AND r.action='%s' "
                 "AND c.id BETWEEN r.first_id AND r.last_id)",
                 want[i].like, (long long)r.id, want[i].action);
        assert_int_equal(count(f, sql), want[i].n);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE external_id LIKE 'N%'"), 36);
    /* the failed rows are nowhere, and one batch re-run did not split the ranges per row */
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE external_id IN "
                              "('N0','N9','N15','N39')"),
                     0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM import_ranges WHERE import_id=%lld",
             (long long)r.id);
    assert_true(count(f, sql) <= 15);
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "it updated existing record 1:"));
    free(path);
}

/* A batch that fails for good (here: its reject cannot be written) is
 * rolled back with the ids it had noted: the failed run's journal covers
 * exactly the batches it committed. */
static void test_journal_failed_batch(void **state)
{
    fx *f = *state;
    char text[2048] = "external_id,email\n";
    for (int i = 0; i < 25; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "X%d,x%d@%s\n", i, i,
                 i == 15 ? "" : "example.com");
    char *path = crm_test_write_file(f->dir, "fails.csv", text);
    char rejects[4200];
    snprintf(rejects, sizeof rejects, "%s/no/such/dir/rejects.csv", f->dir);
    crm_import_opts o = {.entity = "contacts", .path = path, .batch_size = 10,
                         .rejects_path = rejects};
    crm_import_report r;
    crm_err err = {0};
    assert_int_equal(crm_import_run(f->k, &o, &r, &err), CRM_EIO);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM import_journal WHERE status='failed'"), 1);
    /* the journal counts what was committed, not the rolled-back batch */
    assert_int_equal(count(f, "SELECT n_read FROM import_journal"), 10);
    assert_int_equal(count(f, "SELECT n_stored FROM import_journal"), 10);
    assert_int_equal(uncovered(f, r.id), 0);
    /* what was committed can still be undone */
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 0);
    free(path);
}

/* The UTF-8 check against the Unicode table of well-formed sequences,
 * byte by byte across feeds, with the position of the first bad one. */
static void test_utf8_check(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        bool ok;
        int64_t line, col;
    } cases[] = {
        {"plain ascii\n", true, 0, 0},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true, 0, 0},
        {"ab\ncaf\xe9 x", false, 2, 4},       /* windows-1252 é */
        {"\xc0\xaf", false, 1, 1},            /* overlong '/' */
        {"x\xe0\x80\xaf", false, 1, 2},      /* overlong, 3 bytes */
        {"\xed\xa0\x80", false, 1, 1},       /* a surrogate */
        {"\xf4\x90\x80\x80", false, 1, 1},  /* past U+10FFFF */
        {"\xe2\x82", false, 1, 1},            /* cut at the end */
        {"\xef\xbb\xbfok", true, 0, 0},      /* a BOM is UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imp_utf8 u;
        imp_utf8_init(&u);
        const char *b = cases[i].bytes;
        bool ok = true;
        for (size_t j = 0; b[j]; j++) /* one byte per feed: sequences cross feeds */
            ok = imp_utf8_feed(&u, b + j, 1) && ok;
        ok = imp_utf8_end(&u) && ok;
        if (ok != cases[i].ok)
            fail_msg("case %zu: %s", i, ok ? "accepted" : "refused");
        if (!ok && (u.line != cases[i].line || u.col != cases[i].col))
            fail_msg("case %zu: at %lld:%lld", i, (long long)u.line, (long long)u.col);
    }
    imp_codec c;
    crm_err err = {0};
    assert_int_equal(imp_codec_open(&c, "CP1252", &err), CRM_OK);
    char out[64];
    size_t bad = 0;
    assert_int_equal(imp_codec_to_utf8(&c, "\x80 \x9c\xe9", out, &bad), 0);
    assert_string_equal(out, "\xe2\x82\xac \xc5\x93\xc3\xa9");
    assert_int_equal(imp_codec_to_utf8(&c, "a\x81", out, &bad), -1);
    assert_int_equal(bad, 1);
    imp_codec_from_utf8(&c, "\xe2\x82\xac \xc5\x93\xc3\xa9 \xe2\x98\x83", out, sizeof out);
    assert_string_equal(out, "\x80 \x9c\xe9 ?");
    assert_int_equal(imp_codec_open(&c, "ebcdic", &err), CRM_EUSAGE);
}

/* A run's process as the journal judges it: alive (this one), gone when
 * its pid is free, a zombie, reused (another start time) or from another
 * boot; unknown (so alive) on another host. */
static void test_proc_gone(void **state)
{
    (void)state;
    imp_proc me;
    imp_proc_self(&me);
    assert_true(me.pid == (int64_t)getpid());
    assert_true(me.start > 0);
    assert_false(imp_proc_gone(&me));
    imp_proc p = me;
    p.start = me.start + 1;
    assert_true(imp_proc_gone(&p));
    p = me;
    snprintf(p.boot_id, sizeof p.boot_id, "00000000-0000-0000-0000-000000000000");
    assert_true(imp_proc_gone(&p));
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    siginfo_t info;
    assert_int_equal(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
    p = me;
    p.pid = child;
    p.start = -1;
    assert_true(imp_proc_gone(&p)); /* exited, not yet waited for */
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_true(imp_proc_gone(&p));
    snprintf(p.host, sizeof p.host, "another-host.invalid");
    assert_false(imp_proc_gone(&p));
}

/* A 'running' journal row whose process is gone becomes 'interrupted' with
 * the counts it had committed when the journal is next opened; one whose
 * process lives stays running; re-running the input names the import it
 * completes. */
static void test_journal_interrupted(void **state)
{
    fx *f = *state;
    char *path = crm_test_write_file(f->dir, "int.csv", "external_id,first_name\nQ1,A\nQ2,B\n");
    crm_import_opts o = {.entity = "contacts", .path = path};
    crm_import_report r = run_opts(f, &o);
    int64_t dead_id = r.id;
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    imp_proc me;
    imp_proc_self(&me);
    char sql[512];
    /* as a killed run leaves it: 'running', one batch's counts committed */
    snprintf(sql, sizeof sql,
             "UPDATE import_journal SET status='running', finished_at=NULL, n_read=1,"
             " n_stored=1, pid=%lld WHERE id=%lld", (long long)child, (long long)dead_id);
    crm_err err = {0};
    assert_int_equal(crm_store_exec(f->k->store, sql, &err), CRM_OK);
    /* a live run (this process) on another input */
    snprintf(sql, sizeof sql,
             "INSERT INTO import_journal(entity, file, status, started_at, pid, proc_start,"
             " boot_id, host) VALUES('contacts', 'live.csv', 'running', 0, %lld, %lld, '%s', '%s')",
             (long long)me.pid, (long long)me.start, me.boot_id, me.host);
    assert_int_equal(crm_store_exec(f->k->store, sql, &err), CRM_OK);
    assert_int_equal(imp_journal_reap(f->k, &err), CRM_OK);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM import_journal WHERE id=%lld AND "
             "status='interrupted' AND n_read=1 AND n_stored=1", (long long)dead_id);
    assert_int_equal(count(f, sql), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM import_journal WHERE file='live.csv' AND "
                              "status='running'"), 1);
    r = run_opts(f, &o); /* no 'done' run of this input any more: it is read */
    assert_int_equal(r.completes, dead_id);
    assert_int_equal(r.unchanged, 2);
    snprintf(sql, sizeof sql, "SELECT completes FROM import_journal WHERE id=%lld",
             (long long)r.id);
    assert_int_equal(count(f, sql), dead_id);
    /* once completed, the input is imported: the next run short-circuits */
    r = run_opts(f, &o);
    assert_true(r.already_id > dead_id);
    assert_int_equal(r.completes, 0);
    free(path);
}

/* A record written by several rows of one import keeps its first action,
 * as with one journal row per record: a contact the import created and
 * then updated is still "stored" (the import can be undone), in the same
 * batch or a later one; an existing record updated twice, out of order,
 * does not trip the journal. */
static void test_journal_first_action_wins(void **state)
{
    fx *f = *state;
    const char *twice = "external_id,first_name\nT1,A\nT2,A\nT1,B\nT2,B\nT3,A\n";
    for (size_t batch = 1; batch <= 1000; batch += 999) {
        char *path = crm_test_write_file(f->dir, "twice.csv", twice);
        crm_import_opts o = {.entity = "contacts", .path = path, .batch_size = batch};
        crm_import_report r = run_opts(f, &o);
        free(path);
        assert_int_equal(r.stored, 3);
        assert_int_equal(r.updated, 2);
        assert_int_equal(uncovered(f, r.id), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM import_ranges WHERE action<>'stored'"),
                         0);
        crm_err err = {0};
        if (crm_import_undo(f->k, r.id, &err) != CRM_OK)
            fail_msg("undo (batch %zu): %s", batch, err.msg);
        assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 0);
    }
    run(f, "contacts", "e.csv", "external_id,first_name\nE1,A\nE2,A\nE3,A\n");
    crm_import_report r = run(f, "contacts", "upd.csv",
                              "external_id,first_name\nE1,B\nE3,B\nE1,C\nE2,B\nE3,C\n");
    assert_int_equal(r.updated, 5);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM contacts c WHERE EXISTS (SELECT 1 FROM "
             "import_ranges r WHERE r.import_id=%lld AND r.action='updated' AND c.id BETWEEN "
             "r.first_id AND r.last_id)", (long long)r.id);
    assert_int_equal(count(f, sql), 3);
    crm_err err = {0};
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "it updated existing record"));
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 3);
}

/* A database at kernel schema 2 journaled one import_records row per
 * record: opening it moves them to ranges (consecutive ids of one action
 * become one range), drops the old table, and undo works on the result. */
static int setup_v2(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    *state = f;
    char db[4200];
    snprintf(db, sizeof db, "%s/crm.db", f->dir);
    crm_store *s = NULL;
    crm_err err = {0};
    size_t n = 0;
    const crm_migration *m = crm_schema_kernel(&n);
    if (crm_store_open(&s, db, &err) != CRM_OK ||
        crm_store_migrate(s, "kernel", m, 2, NULL, &err) != CRM_OK ||
        crm_store_exec(s,
                       "INSERT INTO contacts(id, first_name, created_at, updated_at) VALUES"
                       " (1,'a',0,0),(2,'b',0,0),(3,'c',0,0),(4,'d',0,0),(5,'e',0,0),"
                       " (6,'f',0,0),(7,'g',0,0),(8,'h',0,0);"
                       "INSERT INTO contact_tags VALUES(2,'vip'),(7,'vip');"
                       "INSERT INTO import_journal(id, entity, file, status, started_at)"
                       " VALUES(1,'contacts','a.csv','done',0),(2,'contacts','b.csv','done',0);"
                       "INSERT INTO import_records VALUES(1,'contact',1,'stored'),"
                       " (1,'contact',2,'stored'),(1,'contact',3,'stored'),"
                       " (1,'contact',5,'stored'),(2,'contact',6,'updated'),"
                       " (2,'contact',7,'stored'),(2,'contact',8,'stored')",
                       &err) != CRM_OK)
        fail_msg("v2 database: %s", err.msg);
    crm_store_close(s);
    return open_kernel(f);
}

static void test_migrate_records_to_ranges(void **state)
{
    fx *f = *state;
    crm_err err = {0};
    assert_true(crm_store_schema_version(f->k->store, "kernel", &err) >= 3);
    assert_int_equal(count(f, "SELECT count(*) FROM sqlite_master WHERE name='import_records'"),
                     0);
    char *ranges = text_of(f, "SELECT group_concat(x, ' ') FROM (SELECT import_id || ':' || "
                              "action || ':' || first_id || '-' || last_id AS x FROM "
                              "import_ranges ORDER BY import_id, first_id)");
    assert_string_equal(ranges, "1:stored:1-3 1:stored:5-5 2:updated:6-6 2:stored:7-8");
    free(ranges);
    assert_int_equal(crm_import_undo(f->k, 2, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "it updated existing record 6:"));
    assert_int_equal(crm_import_undo(f->k, 1, &err), CRM_OK);
    char *left = text_of(f, "SELECT group_concat(id) FROM (SELECT id FROM contacts ORDER BY id)");
    assert_string_equal(left, "4,6,7,8");
    free(left);
    assert_int_equal(count(f, "SELECT count(*) FROM contact_tags"), 1);
    assert_int_equal(count(f, "SELECT json_extract(payload, '$.deleted') FROM events "
                              "WHERE type='import.undone'"),
                     4);
    /* an import after the upgrade journals and undoes as usual */
    crm_import_report r = run(f, "contacts", "after.csv", "external_id,first_name\nA1,x\nA2,y\n");
    assert_int_equal(r.stored, 2);
    assert_int_equal(crm_import_undo(f->k, r.id, &err), CRM_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 4);
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
    char *opath = crm_test_write_file(f->dir, "o.csv", orders);
    crm_import_opts again = {.entity = "orders", .path = opath, .force = true};
    r = run_opts(f, &again);
    free(opath);
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
    assert_non_null(strstr(text, "'@sum")); /* the city is cased like a name */
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

/* ---- order lines: merge join and staging ------------------------------------------ */

/* A kernel of its own in a fresh directory, so that one test can import the
 * same data from scratch several ways. */
static fx lines_kernel(void)
{
    fx g = {.dir = crm_test_tmpdir()};
    char db[4200];
    snprintf(db, sizeof db, "%s/crm.db", g.dir);
    char *cfg = crm_test_write_file(g.dir, "crm.yaml", "database: crm.db\n");
    crm_open_opts o = {.config_path = cfg, .db_path = db, .create = true,
                       .as_of = "2025-06-01T12:00:00Z"};
    crm_err err = {0};
    if (crm_kernel_open(&g.k, &o, &err) != CRM_OK)
        fail_msg("open: %s", err.msg);
    free(cfg);
    return g;
}

static void lines_kernel_close(fx *g)
{
    crm_kernel_close(g->k);
    crm_test_rmdir(g->dir);
    free(g->dir);
}

/* The lines were staged (the scratch database is attached) rather than merged. */
static bool lines_staged(fx *g)
{
    return count(g, "SELECT count(*) FROM pragma_database_list WHERE name='crm_import'") == 1;
}

/* Every stored order with its lines, in a stable order. */
static char *lines_snapshot(fx *g)
{
    return text_of(g, "SELECT group_concat(x, ' | ') FROM (SELECT o.external_id || ',' || "
                      "o.contact_id || ',' || o.total || ',' || o.currency || ',' || o.status "
                      "|| ',' || coalesce(l.sku, '-') || ',' || coalesce(l.quantity, '-') || "
                      "',' || coalesce(l.unit_price, '-') AS x FROM orders o LEFT JOIN "
                      "order_lines l ON l.order_id = o.id ORDER BY o.external_id, l.id)");
}

/* `text` with its last row moved before its first data row (after the
 * header line): unsorted, but each order's lines keep their order. */
static char *rotate_rows(const char *text)
{
    size_t len = strlen(text), head = (size_t)(strchr(text, '\n') - text) + 1;
    size_t last = len - 1;
    while (last > head && text[last - 1] != '\n')
        last--;
    char *out = malloc(len + 1);
    memcpy(out, text, head);
    memcpy(out + head, text + last, len - last);
    memcpy(out + head + len - last, text + head, last - head);
    out[len] = '\0';
    return out;
}

/* The data rows of `text` (after its header line) in reverse order. */
static char *reverse_rows(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len + 2), *copy = strdup(text);
    const char *nl = strchr(text, '\n');
    size_t head = (size_t)(nl - text) + 1, at = head;
    memcpy(out, text, head);
    for (char *end = copy + len; end > copy + head;) {
        char *start = end - 1;
        while (start > copy + head && start[-1] != '\n')
            start--;
        memcpy(out + at, start, (size_t)(end - start));
        at += (size_t)(end - start);
        end = start;
    }
    out[at] = '\0';
    free(copy);
    return out;
}

/* BOM, CRLF, ';', a quoted ';' in a cell; sorted by order key. Orphans: the
 * empty key, A00 (before the first order), B045 (between two), Z99 (after
 * the last). B04's lines belong to an order refused for its contact. */
static const char lines_text[] =
    "\xEF\xBB\xBForder_external_id;sku;quantity;unit_price\r\n"
    ";ORPHAN-E;1;1\r\n"              /* line 2 */
    "A00;ORPHAN-A;1;1\r\n"           /* 3 */
    "B01;S1;2;1.50\r\n"              /* 4 */
    "B01;\"S;2\";1;2\r\n"            /* 5 */
    "B04;X1;1;1\r\n"                 /* 6 */
    "B04;X2;1;1\r\n"                 /* 7 */
    "B045;ORPHAN-M;1;1\r\n"          /* 8 */
    "B05;S5;1;4\r\n"                 /* 9 */
    "B06;S6;zero;1\r\n"              /* 10 */
    "B06;S6b;1;1\r\n"                /* 11 */
    "B07;S7;3;1\r\n"                 /* 12 */
    "B08;S8;1;3.00\r\n"              /* 13 */
    "Z99;ORPHAN-Z;1;1\r\n";          /* 14 */

static const char lines_orders[] = "external_id,contact_external_id,placed_at,total\n"
                                   "B01,C1,2025-02-01,\n"
                                   "B02,C1,2025-02-01,7.00\n"
                                   "B03,C1,2025-02-01,\n"
                                   "B04,C404,2025-02-01,\n"
                                   "B05,C2,2025-02-01,\n"
                                   "B06,C2,2025-02-01,\n"
                                   "B07,C2,2025-02-01,\n"
                                   "B08,C1,2025-02-01,3.00\n";

/* Imports lines_orders with lines_text, either as they are (sorted: the
 * merge) or with the lines (one moved) or the orders (reversed) out of
 * order (staging). Returns the
 * snapshot of what was stored; checks what every way must give. */
static char *lines_case(int how)
{
    fx g = lines_kernel();
    run(&g, "contacts", "c.csv", "external_id,first_name\nC1,Al\nC2,Bo\n");
    char *ltext = how == 1 ? rotate_rows(lines_text) : strdup(lines_text);
    char *otext = how == 2 ? reverse_rows(lines_orders) : strdup(lines_orders);
    char *lines = crm_test_write_file(g.dir, "l.csv", ltext);
    char *path = crm_test_write_file(g.dir, "o.csv", otext);
    crm_import_opts o = {.entity = "orders", .path = path, .lines_path = lines};
    crm_import_report r = run_opts(&g, &o);
    assert_int_equal(lines_staged(&g), how != 0);
    assert_int_equal(r.read, 8);
    assert_int_equal(r.stored, 5);
    assert_int_equal(r.rejected, 3);
    /* the bad line names its line; the refused orders' lines went nowhere */
    const char *rej = read_all(r.rejects_path);
    assert_non_null(strstr(rej, how == 1 ? "lines file line 11: quantity: 'zero'"
                                         : "lines file line 10: quantity: 'zero'"));
    assert_non_null(strstr(rej, "total: is required (no lines for this order)"));
    assert_non_null(strstr(rej, "'C404' matches no contact"));
    assert_int_equal(count(&g, "SELECT count(*) FROM order_lines"), 5);
    assert_int_equal(count(&g, "SELECT count(*) FROM order_lines l JOIN orders o ON "
                               "o.id = l.order_id WHERE o.external_id = 'B05'"), 1);
    assert_int_equal(count(&g, "SELECT count(*) FROM order_lines l JOIN orders o ON "
                               "o.id = l.order_id WHERE o.external_id = 'B07' AND l.sku='S7'"),
                     1);
    assert_int_equal(count(&g, "SELECT count(*) FROM order_lines WHERE sku LIKE 'X%' OR "
                               "sku LIKE 'S6%' OR sku LIKE 'ORPHAN%'"), 0);
    /* the orphans, each once, with the line they are on */
    char rpath[4200];
    snprintf(rpath, sizeof rpath, "%s/l.rejects.csv", g.dir);
    const char *orphans = read_all(rpath);
    assert_non_null(orphans);
    /* as the lines file has them: BOM, ';', CRLF */
    assert_memory_equal(orphans, "\xEF\xBB\xBForder_external_id;sku;quantity;unit_price;line;"
                                 "reason\r\n", 55);
    assert_non_null(strstr(orphans, how == 1 ? "\nB045;ORPHAN-M;1;1;9;" : "\nB045;ORPHAN-M;1;1;8;"));
    assert_non_null(strstr(orphans, "'B045' matches no order in the orders file\r\n"));
    assert_non_null(strstr(orphans, how == 1 ? "\n;ORPHAN-E;1;1;3;order_external_id: is required"
                                             : "\n;ORPHAN-E;1;1;2;order_external_id: is required"));
    assert_non_null(strstr(orphans, "\nA00;ORPHAN-A;1;1;"));
    assert_non_null(strstr(orphans, "\nZ99;ORPHAN-Z;1;1;"));
    int n = 0;
    for (const char *p = orphans; *p; p++)
        n += *p == '\n';
    assert_int_equal(n, 5); /* header + 4: B04's lines are not orphans */
    /* a run without orphans leaves no stale reject file behind */
    free(ltext);
    ltext = strdup("order_external_id,sku,quantity,unit_price\nB01,S1,2,1.50\nB01,S;2,1,2\n");
    free(crm_test_write_file(g.dir, "l.csv", ltext));
    r = run_opts(&g, &o);
    assert_int_equal(r.unchanged, 5);
    assert_null(fopen(rpath, "r"));
    char *snap = lines_snapshot(&g);
    free(ltext);
    free(otext);
    free(lines);
    free(path);
    lines_kernel_close(&g);
    return snap;
}

/* The merge (both files sorted) and staging (lines, or orders, unsorted)
 * store the same orders and lines, reject the same, report the same
 * orphans. */
static void test_lines_merge_vs_staging(void **state)
{
    (void)state;
    char *merged = lines_case(0), *staged_lines = lines_case(1), *staged_orders = lines_case(2);
    assert_non_null(merged);
    assert_string_equal(merged, staged_lines);
    assert_string_equal(merged, staged_orders);
    assert_non_null(strstr(merged, "B01,1,500,EUR,placed,S1,2,150 | B01,1,500,EUR,placed,S;2,1,200"));
    free(merged);
    free(staged_lines);
    free(staged_orders);
}

/* A batch whose fast run failed after writing is run again in safe mode:
 * the merge must hand the same lines again, and a re-run must store each
 * line exactly once. The failing order sits near the end of its batch so
 * that the re-run reaches far back. */
static void test_lines_batch_rerun(void **state)
{
    (void)state;
    for (int how = 0; how < 2; how++) {
        fx g = lines_kernel();
        run(&g, "contacts", "c.csv", "external_id,first_name\nC1,Al\n");
        size_t cap = 200000, lo = 0, ll = 0;
        char *otext = malloc(cap), *ltext = malloc(cap);
        lo = (size_t)snprintf(otext, cap, "external_id,contact_external_id,placed_at\n");
        ll = (size_t)snprintf(ltext, cap, "order_external_id,sku,quantity,unit_price\n");
        int total = 0;
        for (int i = 0; i < 250; i++) {
            lo += (size_t)snprintf(otext + lo, cap - lo, "R%03d,C1,2025-03-01\n", i);
            for (int j = 0; j <= i % 3; j++, total++)
                ll += (size_t)snprintf(ltext + ll, cap - ll, "R%03d,%s%d-%d,%d,1.25\n", i,
                                       i == 197 && j == 1 ? "BOOM" : "K", i, j, j + 1);
        }
        char *lines_sorted = ltext, *lines = NULL;
        if (how) /* staging: the same lines, unsorted */
            lines_sorted = rotate_rows(ltext);
        lines = crm_test_write_file(g.dir, "l.csv", lines_sorted);
        char *path = crm_test_write_file(g.dir, "o.csv", otext);
        crm_err err = {0};
        assert_int_equal(crm_store_exec(g.k->store,
                                        "CREATE TEMP TRIGGER boom AFTER INSERT ON order_lines "
                                        "WHEN NEW.sku LIKE 'BOOM%' BEGIN SELECT "
                                        "RAISE(ABORT, 'boom'); END",
                                        &err),
                         CRM_OK);
        crm_import_opts o = {.entity = "orders", .path = path, .lines_path = lines,
                             .batch_size = 100};
        crm_import_report r = run_opts(&g, &o);
        assert_int_equal(lines_staged(&g), how);
        assert_int_equal(r.stored, 249);
        assert_int_equal(r.rejected, 1);
        assert_non_null(strstr(read_all(r.rejects_path), "R197,"));
        assert_int_equal(count(&g, "SELECT count(*) FROM order_lines"), total - 3); /* R197's */
        assert_int_equal(count(&g, "SELECT count(*) FROM (SELECT order_id, sku FROM order_lines "
                                   "GROUP BY 1, 2 HAVING count(*) > 1)"), 0);
        assert_int_equal(count(&g, "SELECT count(*) FROM orders o WHERE total <> (SELECT "
                                   "sum(quantity * unit_price) FROM order_lines l WHERE "
                                   "l.order_id = o.id)"), 0);
        /* the re-run stores R197 now, and each line once */
        assert_int_equal(crm_store_exec(g.k->store, "DROP TRIGGER temp.boom", &err), CRM_OK);
        o.force = true;
        r = run_opts(&g, &o);
        assert_int_equal(r.stored, 1);
        assert_int_equal(r.unchanged, 249);
        assert_int_equal(count(&g, "SELECT count(*) FROM order_lines"), total);
        assert_int_equal(count(&g, "SELECT count(*) FROM (SELECT order_id, sku FROM order_lines "
                                   "GROUP BY 1, 2 HAVING count(*) > 1)"), 0);
        if (how)
            free(lines_sorted);
        free(otext);
        free(ltext);
        free(lines);
        free(path);
        lines_kernel_close(&g);
    }
}

/* ---- the kernel's validators hook ---------------------------------------------- */

/* A validator installed on k->validators in place of the Lua engine's: the
 * import runs whatever the kernel has installed, as the model does (not the
 * engine directly), on the writer thread — the one calling crm_import_run —
 * never on the reader thread. */
static struct {
    pthread_t writer;
    int calls, off_thread;
} hook;

static int refuse_blocked(crm_kernel *k, const crm_contact *c, crm_err *err)
{
    (void)k;
    hook.calls++;
    if (!pthread_equal(pthread_self(), hook.writer))
        hook.off_thread++;
    if (c->last_name && strcmp(c->last_name, "Blocked") == 0)
        return crm_err_set(err, CRM_EINVAL, "last name is blocked (rule hook_test)");
    return CRM_OK;
}

static void test_validator_hook(void **state)
{
    fx *f = *state;
    static const crm_validators validators = {.contact = refuse_blocked};
    const crm_validators *installed = f->k->validators;
    f->k->validators = &validators;
    hook.writer = pthread_self();
    hook.calls = hook.off_thread = 0;
    /* enough rows for several batches, so the reader thread runs ahead */
    size_t cap = 64 * 1024, len = 0, rows = 600, blocked = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "external_id,first_name,last_name\n");
    for (size_t i = 0; i < rows; i++) {
        bool block = i % 7 == 3;
        blocked += block;
        len += (size_t)snprintf(text + len, cap - len, "H%zu,Ann,%s\n", i,
                                block ? "Blocked" : "Open");
    }
    char *path = crm_test_write_file(f->dir, "hook.csv", text);
    crm_import_opts o = {.entity = "contacts", .path = path, .batch_size = 32};
    crm_import_report r = run_opts(f, &o);
    f->k->validators = installed;
    assert_int_equal(hook.calls, (int)rows);
    assert_int_equal(hook.off_thread, 0);
    assert_int_equal(r.rejected, (int64_t)blocked);
    assert_int_equal(r.stored, (int64_t)(rows - blocked));
    assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE last_name='Blocked'"), 0);
    assert_non_null(strstr(read_all(r.rejects_path), "last name is blocked (rule hook_test)"));
    free(path);
    free(text);
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
        cmocka_unit_test_setup_teardown(test_journal_ranges_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_failed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_first_action_wins, setup, teardown),
        cmocka_unit_test(test_proc_gone),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test_setup_teardown(test_journal_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_records_to_ranges, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_lines_wide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_duplicates, setup, teardown),
        cmocka_unit_test(test_formula_rule),
        cmocka_unit_test_setup_teardown(test_export_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vcard, setup, teardown),
        cmocka_unit_test(test_lines_merge_vs_staging),
        cmocka_unit_test(test_lines_batch_rerun),
        cmocka_unit_test_setup_teardown(test_validator_hook, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* crm import contacts|companies|orders|interactions FILE, import list, import undo ID */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "hygiene.h"
#include "table.h"
#include "import/import.h"

static const struct {
    const char *name;
    crm_import_format format;
} formats[] = {{"csv", CRM_IMPORT_CSV}, {"jsonl", CRM_IMPORT_JSONL}, {"vcard", CRM_IMPORT_VCARD}};

static int parse_format(const char *v, crm_import_format *out, crm_err *err)
{
    *out = CRM_IMPORT_AUTO;
    for (size_t i = 0; v && i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(v, formats[i].name) == 0) {
            *out = formats[i].format;
            return CRM_OK;
        }
    return v ? crm_err_set(err, CRM_EUSAGE, "--format '%s': expected csv, jsonl or vcard", v)
             : CRM_OK;
}

/* An identical input was already imported: nothing read, nothing written. */
static void print_already(crm_cli *cli, const crm_import_opts *o, const crm_import_report *r)
{
    char at[32];
    crm_format_datetime(r->already_at, at, sizeof at);
    if (cli->json) {
        crm_cli_print_json(cli, json_pack("{snsssssIsssb}", "id", "entity", o->entity, "file",
                                          o->path, "already_imported", (json_int_t)r->already_id,
                                          "imported_at", at, "dry_run", o->dry_run));
        return;
    }
    fprintf(cli->out, "%s already imported as #%lld on %s; --force to read it again\n", o->path,
            (long long)r->already_id, at);
}

static void print_report(crm_cli *cli, const crm_import_opts *o, const crm_import_report *r)
{
    if (r->already_id) {
        print_already(cli, o, r);
        return;
    }
    if (cli->json) {
        json_t *j = json_pack("{sIsssssbsIsIsIsIsIsIsf}", "id", (json_int_t)r->id, "entity",
                              o->entity, "file", o->path, "dry_run", o->dry_run, "read",
                              (json_int_t)r->read, "stored", (json_int_t)r->stored, "updated",
                              (json_int_t)r->updated, "unchanged", (json_int_t)r->unchanged,
                              "merged", (json_int_t)r->merged, "rejected",
                              (json_int_t)r->rejected, "seconds", r->seconds);
        json_object_set_new(j, "rejects", *r->rejects_path ? json_string(r->rejects_path)
                                                          : json_null());
        json_object_set_new(j, "unknown_columns", json_string(r->unknown));
        json_object_set_new(j, "completes", r->completes ? json_integer(r->completes)
                                                         : json_null());
        if (o->lines_path) {
            json_object_set_new(j, "orphan_lines", json_integer(r->orphan_lines));
            json_object_set_new(j, "lines_rejects", *r->lines_rejects_path
                                                        ? json_string(r->lines_rejects_path)
                                                        : json_null());
        }
        crm_cli_print_json(cli, j);
        if (r->completes && !cli->quiet)
            fprintf(stderr, "completes interrupted import #%lld\n", (long long)r->completes);
        return;
    }
    fprintf(cli->out,
            "%s %s: read %lld, stored %lld, updated %lld, unchanged %lld, merged %lld, "
            "rejected %lld\n",
            o->dry_run ? "dry run of" : "import", o->entity, (long long)r->read,
            (long long)r->stored, (long long)r->updated, (long long)r->unchanged,
            (long long)r->merged, (long long)r->rejected);
    if (cli->quiet)
        return;
    if (r->id)
        fprintf(stderr, "journaled as import %lld (undo: crm import undo %lld)\n",
                (long long)r->id, (long long)r->id);
    if (r->completes)
        fprintf(stderr, "completes interrupted import #%lld\n", (long long)r->completes);
    if (r->read && !o->dry_run && r->stored + r->updated + r->merged == 0)
        fprintf(stderr, "nothing changed: %s\n",
                r->rejected ? "the valid rows match what is stored, the others were rejected"
                            : "every row matches what is stored");
    if (*r->unknown)
        fprintf(stderr, "unknown columns (ignored; map them with --map COLUMN=FIELD): %s\n",
                r->unknown);
    if (*r->rejects_path)
        fprintf(stderr, "rejected rows, with line and reason: %s\n", r->rejects_path);
    if (r->orphan_lines)
        fprintf(stderr, "%lld order lines match no order row (not imported), with line and "
                "reason: %s\n", (long long)r->orphan_lines, r->lines_rejects_path);
    if (o->dry_run)
        fprintf(stderr, "dry run: nothing was written\n");
}

/* The README's rule for commands that process many records: any refused
 * record (a rejected row, an order line matching no order) makes the exit
 * status 1, after the others were processed and the counts printed. */
static int refused_rows(const crm_import_opts *o, const crm_import_report *r, crm_err *err)
{
    if (!r->rejected && !r->orphan_lines)
        return CRM_OK;
    char rows[256] = "", lines[256] = "";
    if (r->rejected)
        snprintf(rows, sizeof rows, "%lld of %lld rows %s rejected (see %s)",
                 (long long)r->rejected, (long long)r->read, o->dry_run ? "would be" : "were",
                 r->rejects_path);
    if (r->orphan_lines)
        snprintf(lines, sizeof lines, "%s%lld order lines match no order (see %s)",
                 r->rejected ? "; " : "", (long long)r->orphan_lines, r->lines_rejects_path);
    return crm_err_set(err, CRM_EINVAL, "%s%s%s: fix them and import those rows again",
                       o->dry_run ? "dry run: " : "", rows, lines);
}

static int cmd_import(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char **map;
    int n_map = crm_args_list(a, "map", &map);
    int64_t batch;
    crm_import_opts o = {
        .entity = cli->cmd->verb,
        .path = a->pos[0],
        .lines_path = crm_args_get(a, "lines"),
        .rejects_path = crm_args_get(a, "rejects"),
        .map = map,
        .n_map = (size_t)n_map,
        .dry_run = crm_args_flag(a, "dry-run"),
        .merge_duplicates = crm_args_flag(a, "merge-duplicates"),
        .force = crm_args_flag(a, "force"),
        .encoding = crm_args_get(a, "encoding"),
        .progress = !cli->quiet && !cli->json && isatty(2),
    };
    int rc = parse_format(crm_args_get(a, "format"), &o.format, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "batch", CRM_IMPORT_BATCH_DEFAULT, &batch, err);
    if (rc == CRM_OK && batch < 1)
        rc = crm_err_set(err, CRM_EUSAGE, "--batch must be at least 1");
    if (rc != CRM_OK)
        return rc;
    o.batch_size = (size_t)batch;
    crm_import_report r;
    rc = crm_import_run(cli->k, &o, &r, err);
    if (rc != CRM_OK)
        return rc;
    print_report(cli, &o, &r);
    return refused_rows(&o, &r, err);
}

static int cmd_undo(crm_cli *cli, const crm_args *a, crm_err *err)
{
    char *end;
    errno = 0;
    long long id = strtoll(a->pos[0], &end, 10);
    if (*end || errno || id <= 0)
        return crm_err_set(err, CRM_EUSAGE, "'%s' is not an import id (see crm import list)",
                           a->pos[0]);
    int rc = crm_import_undo(cli->k, id, err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sIsb}", "id", (json_int_t)id, "undone", 1));
    else if (rc == CRM_OK)
        fprintf(cli->out, "import %lld undone\n", id);
    return rc;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
} list_out;

static const crm_table_col list_cols[] = {
    {"ID", 0, true},     {"ENTITY", 0, false},  {"STATUS", 0, false},
    {"READ", 0, true},   {"STORED", 0, true},   {"UPDATED", 0, true},
    {"REJECTED", 0, true}, {"COMPLETES", 0, false}, {"FILE", 60, false},
};

static int list_one(void *json, void *ud)
{
    list_out *lo = ud;
    json_t *o = json;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, json_incref(o));
        return 0;
    }
    static const char *const counts[] = {"id", "read", "stored", "updated", "rejected"};
    char num[5][24];
    for (int i = 0; i < 5; i++)
        snprintf(num[i], sizeof num[i], "%lld",
                 (long long)json_integer_value(json_object_get(o, counts[i])));
    json_t *completes = json_object_get(o, "completes");
    char done[24] = "";
    if (json_is_integer(completes))
        snprintf(done, sizeof done, "#%lld", (long long)json_integer_value(completes));
    const char *cells[] = {num[0], crm_cli_str(o, "entity"), crm_cli_str(o, "status"), num[1],
                           num[2], num[3], num[4], done, crm_cli_str(o, "file")};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : -1;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    list_out lo = {cli, NULL};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 9)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    int rc = crm_import_list(cli->k, list_one, &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    return rc;
}

static const crm_opt import_opts[] = {
    {"format", CRM_OPT_VALUE, "FMT", "csv, jsonl or vcard (default: from the extension)"},
    {"encoding", CRM_OPT_VALUE, "ENC",
     "CSV: the file's encoding, utf-8 (default), windows-1252, latin1 or iso-8859-15; a file "
     "that is not UTF-8 is refused without it"},
    {"map", CRM_OPT_LIST, "COLUMN=FIELD", "read COLUMN as FIELD ('-' ignores it); repeatable"},
    {"rejects", CRM_OPT_VALUE, "PATH", "reject file (default FILE.rejects.csv next to FILE)"},
    {"dry-run", CRM_OPT_FLAG, NULL, "validate and report, write nothing"},
    {"merge-duplicates", CRM_OPT_FLAG, NULL,
     "contacts: fold a row into the contact it scores hygiene.duplicates.min_score against"},
    {"batch", CRM_OPT_VALUE, "N", "rows per transaction (default 50000)"},
    {"force", CRM_OPT_FLAG, NULL,
     "read the file even when the journal has it as imported (same bytes and options)"},
    {"lines", CRM_OPT_VALUE, "FILE",
     "orders: order lines (order_external_id, sku, quantity, unit_price); lines matching no "
     "order go to FILE.rejects.csv"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define IMPORT_SUMMARY(what)                                                                \
    "import " what " from CSV or JSON Lines; prints read = stored + updated + unchanged + " \
    "merged + rejected"

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_import_cmds[] = {
    {"import", "contacts", cmd_import, K | CRM_CMD_WRITES, 1, 1, "FILE",
     IMPORT_SUMMARY("contacts (also vCard .vcf)"), import_opts},
    {"import", "companies", cmd_import, K | CRM_CMD_WRITES, 1, 1, "FILE",
     IMPORT_SUMMARY("companies"), import_opts},
    {"import", "orders", cmd_import, K | CRM_CMD_WRITES, 1, 1, "FILE", IMPORT_SUMMARY("orders"),
     import_opts},
    {"import", "interactions", cmd_import, K | CRM_CMD_WRITES, 1, 1, "FILE",
     IMPORT_SUMMARY("interactions"), import_opts},
    {"import", "list", cmd_list, K, 0, 0, NULL,
     "list imports (the journal); a run whose process is gone shows as interrupted", no_opts},
    {"import", "undo", cmd_undo, K | CRM_CMD_WRITES, 1, 1, "ID",
     "delete what an import created (refused when it updated records or others depend on "
     "them)",
     no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

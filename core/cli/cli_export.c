/* crm export contacts|companies|orders|interactions, crm export contact ID --format vcard */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "export/export.h"
#include "model.h"

/* `-o FILE` arrives as two positional words (the parser knows only --long). */
static int output_path(const crm_args *a, int first, const char **path, crm_err *err)
{
    *path = crm_args_get(a, "output");
    for (int i = first; i < a->n_pos; i++) {
        if (strcmp(a->pos[i], "-o") != 0 || i + 1 >= a->n_pos)
            return crm_err_set(err, CRM_EUSAGE, "unexpected '%s' (use -o FILE or --output FILE)",
                               a->pos[i]);
        *path = a->pos[++i];
    }
    return CRM_OK;
}

static FILE *open_out(crm_cli *cli, const char *path, crm_err *err)
{
    if (!path || strcmp(path, "-") == 0)
        return cli->out;
    FILE *f = fopen(path, "w");
    if (!f)
        crm_err_set(err, CRM_EIO, "cannot write %s: %s", path, strerror(errno));
    return f;
}

static int close_out(crm_cli *cli, FILE *f, int rc, crm_err *err)
{
    if (f && f != cli->out && fclose(f) != 0 && rc == CRM_OK)
        rc = crm_err_set(err, CRM_EIO, "cannot finish writing the export");
    return rc;
}

static int cmd_export(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *fmt = crm_args_get(a, "format"), *path;
    crm_export_opts o = {
        .entity = cli->cmd->verb,
        .format = (fmt && strcmp(fmt, "jsonl") == 0) || (!fmt && cli->json) ? CRM_EXPORT_JSONL
                                                                             : CRM_EXPORT_CSV,
        .city = crm_args_get(a, "city"),
        .country = crm_args_get(a, "country"),
        .tag = crm_args_get(a, "tag"),
        .source = crm_args_get(a, "source"),
        .postal_code = crm_args_get(a, "postal-code"),
        .status = crm_args_get(a, "status"),
        .since = crm_args_get(a, "since"),
        .until = crm_args_get(a, "until"),
        .excel = crm_args_flag(a, "excel"),
    };
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "jsonl") != 0)
        return crm_err_set(err, CRM_EUSAGE, "--format '%s': expected csv or jsonl", fmt);
    if (fmt && cli->json && strcmp(fmt, "jsonl") != 0)
        return crm_err_set(err, CRM_EUSAGE, "--json exports JSON Lines: drop --format %s", fmt);
    int rc = output_path(a, 0, &path, err);
    if (rc == CRM_OK && strcmp(o.entity, "contacts") == 0)
        rc = crm_cli_contact_sets(cli, a, o.sets, err);
    FILE *f = rc == CRM_OK ? open_out(cli, path, err) : NULL;
    if (!f)
        return rc == CRM_OK ? err->code : rc;
    int64_t n = 0;
    rc = crm_export_run(cli->k, &o, f, &n, err);
    rc = close_out(cli, f, rc, err);
    if (rc == CRM_OK && !cli->quiet && f != cli->out)
        fprintf(stderr, "%lld %s written to %s\n", (long long)n, o.entity, path);
    return rc;
}

static int cmd_export_contact(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *fmt = crm_args_get(a, "format"), *path;
    if (fmt && strcmp(fmt, "vcard") != 0)
        return crm_err_set(err, CRM_EUSAGE,
                           "--format '%s': one contact exports as vcard (for CSV or JSON "
                           "Lines use `crm export contacts`)", fmt);
    if (fmt && cli->json)
        return crm_err_set(err, CRM_EUSAGE,
                           "--json exports the contact as JSON, --format vcard as a vCard: "
                           "choose one");
    int64_t id;
    int rc = crm_contact_resolve(cli->k, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = output_path(a, 1, &path, err);
    if (rc != CRM_OK)
        return rc;
    FILE *f = open_out(cli, path, err);
    if (!f)
        return err->code;
    if (cli->json) {
        /* the object `contact show --json` prints, written where -o says */
        crm_contact c;
        rc = crm_contact_get(cli->k, id, &c, err);
        if (rc == CRM_OK) {
            json_t *o = crm_contact_to_json(&c);
            crm_contact_clear(&c);
            int bad = json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0;
            if (bad || fputc('\n', f) == EOF)
                rc = crm_err_set(err, CRM_EIO, "cannot write the export");
            json_decref(o);
        }
    } else {
        rc = crm_export_vcard(cli->k, id, f, err);
    }
    return close_out(cli, f, rc, err);
}

#define COMMON_OPTS                                                                     \
    {"format", CRM_OPT_VALUE, "FMT", "csv (default) or jsonl (also --json)"},            \
    {"excel", CRM_OPT_FLAG, NULL,                                                        \
     "CSV for a French Excel: ';', UTF-8 BOM, CRLF, amounts with a decimal comma "       \
     "(crm import reads it back)"},                                                       \
    {"output", CRM_OPT_VALUE, "FILE", "write to FILE (also -o FILE); default stdout"}

static const crm_opt contact_opts[] = {
    COMMON_OPTS,
    {"city", CRM_OPT_VALUE, "CITY", "only this city"},
    {"country", CRM_OPT_VALUE, "CC", "only this country"},
    {"tag", CRM_OPT_VALUE, "TAG", "only contacts with this tag"},
    {"source", CRM_OPT_VALUE, "TEXT", "only this source"},
    {"postal-code", CRM_OPT_VALUE, "PREFIX", "postal code prefix"},
    CRM_CLI_CONTACT_SET_OPTS,
    {NULL, 0, NULL, NULL},
};
static const crm_opt order_opts[] = {
    COMMON_OPTS,
    {"status", CRM_OPT_VALUE, "STATUS", "placed|paid|cancelled|refunded"},
    {"since", CRM_OPT_VALUE, "DATE", "placed on or after DATE"},
    {"until", CRM_OPT_VALUE, "DATE", "placed before DATE"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt company_opts[] = {
    COMMON_OPTS,
    {"city", CRM_OPT_VALUE, "CITY", "only this city"},
    {"country", CRM_OPT_VALUE, "CC", "only this country"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt interaction_opts[] = {
    COMMON_OPTS,
    {"since", CRM_OPT_VALUE, "DATE", "occurred on or after DATE"},
    {"until", CRM_OPT_VALUE, "DATE", "occurred before DATE"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt vcard_opts[] = {
    {"format", CRM_OPT_VALUE, "FMT", "vcard (the default; --json exports the contact as JSON)"},
    {"output", CRM_OPT_VALUE, "FILE", "write to FILE (also -o FILE); default stdout"},
    {NULL, 0, NULL, NULL},
};

#define EXPORT_SUMMARY(what)                                                            \
    "export " what " as CSV (formula-safe, re-importable) or JSON Lines"

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_export_cmds[] = {
    {"export", "contacts", cmd_export, K, 0, 2, "[-o FILE]", EXPORT_SUMMARY("contacts"),
     contact_opts},
    {"export", "companies", cmd_export, K, 0, 2, "[-o FILE]", EXPORT_SUMMARY("companies"),
     company_opts},
    {"export", "orders", cmd_export, K, 0, 2, "[-o FILE]", EXPORT_SUMMARY("orders"), order_opts},
    {"export", "interactions", cmd_export, K, 0, 2, "[-o FILE]",
     EXPORT_SUMMARY("interactions"), interaction_opts},
    {"export", "contact", cmd_export_contact, K, 1, 3, "ID|EMAIL|ext:ID [-o FILE]",
     "export one contact as a vCard 4.0, or with --json as a JSON object", vcard_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

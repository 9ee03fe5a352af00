/* crm contact export-data|erase: the person's data handed over or erased
 * everywhere (core/privacy/). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "privacy/privacy.h"

/* FILE from -o FILE (the parser passes short options through as positionals)
 * or --output FILE. */
static int output_path(const crm_args *a, const char **path, crm_err *err)
{
    *path = crm_args_get(a, "output");
    if (a->n_pos == 1)
        return CRM_OK;
    if (a->n_pos == 3 && strcmp(a->pos[1], "-o") == 0 && !*path) {
        *path = a->pos[2];
        return CRM_OK;
    }
    return crm_err_set(err, CRM_EUSAGE, "unexpected '%s': usage is ID [-o FILE]", a->pos[1]);
}

/* Written beside the target and renamed, owner-only: it is personal data. */
static int write_file(const char *path, const char *text, crm_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return crm_err_set(err, CRM_EUSAGE, "-o: path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return crm_err_set(err, CRM_EIO, "cannot write %s: %s", path, strerror(errno));
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return crm_err_set(err, CRM_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return CRM_OK;
}

static int cmd_export(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *path;
    int64_t id;
    json_t *doc = NULL;
    int rc = output_path(a, &path, err);
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_privacy_export(cli->k, id, &doc, err);
    if (rc != CRM_OK)
        return rc;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (path)
        rc = write_file(path, text, err);
    else
        fprintf(cli->out, "%s\n", text);
    free(text);
    return rc;
}

static int cmd_erase(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    const char *reason = crm_args_get(a, "reason");
    json_t *rec = NULL;
    int rc = reason && *reason
                 ? CRM_OK
                 : crm_err_set(err, CRM_EUSAGE, "missing --reason TEXT: why the person is "
                                                "erased (kept in the erasure record)");
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_privacy_erase(cli->k, id, reason, &rec, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json) {
        crm_cli_print_json(cli, rec);
    } else {
        fprintf(cli->out, "%lld\n", (long long)json_integer_value(json_object_get(rec, "erasure_id")));
        if (!cli->quiet) {
            char *detail = json_dumps(json_object_get(rec, "erased"), JSON_COMPACT);
            fprintf(stderr, "contact %lld erased: %s\n", (long long)id, detail ? detail : "");
            free(detail);
        }
        json_decref(rec);
    }
    return CRM_OK;
}

static const crm_opt export_opts[] = {
    {"output", CRM_OPT_VALUE, "FILE", "write the document to FILE (mode 0600), also -o FILE"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt erase_opts[] = {
    {"reason", CRM_OPT_VALUE, "TEXT", "why (required; kept in the erasure record)"},
    {NULL, 0, NULL, NULL},
};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_privacy_cmds[] = {
    {"contact", "export-data", cmd_export, K, 1, 3, "ID|EMAIL [-o FILE]",
     "everything held about a person, kernel and plugins, as one JSON document", export_opts},
    {"contact", "erase", cmd_erase, K | CRM_CMD_WRITES, 1, 1, "ID|EMAIL",
     "erase a person everywhere in one transaction (orders kept, anonymised); prints the "
     "erasure id", erase_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

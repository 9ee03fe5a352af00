/* crm contact duplicates | merge | unmerge | merges */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"
#include "dedupe/dedupe.h"
#include "model.h"

typedef struct dup_out {
    crm_cli *cli;
    crm_table *table;
    int64_t limit, shown;
} dup_out;

static const crm_table_col dup_cols[] = {
    {"A", 0, true}, {"B", 0, true}, {"SCORE", 0, true}, {"REASONS", 0, false}};

static int print_pair(const crm_dup_pair *p, void *ud)
{
    dup_out *d = ud;
    if (d->limit && d->shown >= d->limit)
        return 1;
    d->shown++;
    if (d->cli->json)
        crm_cli_print_json(d->cli, json_pack("{sIsIsiss}", "a", (json_int_t)p->a, "b",
                                             (json_int_t)p->b, "score", p->score, "reasons",
                                             p->reasons));
    else {
        char a[24], b[24], score[8];
        snprintf(a, sizeof a, "%lld", (long long)p->a);
        snprintf(b, sizeof b, "%lld", (long long)p->b);
        snprintf(score, sizeof score, "%d", p->score);
        const char *cells[] = {a, b, score, p->reasons};
        return crm_table_row(d->table, cells) == CRM_OK ? 0 : -1;
    }
    return 0;
}

static int cmd_duplicates(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t min, limit;
    int rc = crm_args_int(a, "min-score", -1, &min, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "limit", 0, &limit, err);
    if (rc == CRM_OK && (min > 100 || limit < 0))
        rc = crm_err_set(err, CRM_EUSAGE, "--min-score is 0-100 and --limit >= 0");
    if (rc != CRM_OK)
        return rc;
    dup_out d = {cli, NULL, limit, 0};
    crm_dedupe_stats st;
    if (!cli->json && !(d.table = crm_table_new(cli->out, dup_cols, 4)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_dedupe_scan(cli->k, (int)min, print_pair, &d, &st, err);
    crm_table_end(d.table, rc == CRM_OK);
    if (rc == CRM_OK && !cli->quiet)
        fprintf(stderr,
                "%lld candidate pairs among %lld contacts (%lld comparisons, %.2f s%s)%s\n",
                (long long)st.pairs, (long long)st.contacts, (long long)st.comparisons,
                st.seconds, st.skipped_blocks ? ", some very common keys skipped" : "",
                st.pairs ? "; merge one with: crm contact merge KEEP OTHER" : "");
    return rc;
}

/* --prefer other:email,other:phone (commas and repetition both work). */
static int prefer_list(const crm_args *a, char ***out, size_t *n, char **buf)
{
    const char **vals;
    int nv = crm_args_list(a, "prefer", &vals);
    size_t len = 1;
    for (int i = 0; i < nv; i++)
        len += strlen(vals[i]) + 1;
    *buf = calloc(1, len);
    *out = calloc(len, sizeof **out);
    *n = 0;
    if (!*buf || !*out)
        return CRM_ENOMEM;
    char *p = *buf;
    for (int i = 0; i < nv; i++) {
        strcpy(p, vals[i]);
        for (char *tok = strtok(p, ","); tok; tok = strtok(NULL, ","))
            (*out)[(*n)++] = tok;
        p += strlen(vals[i]) + 1;
    }
    return CRM_OK;
}

static int cmd_merge(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t keep, other, merge_id = 0;
    char **prefer = NULL, *buf = NULL;
    size_t n = 0;
    int rc = crm_contact_resolve(cli->k, a->pos[0], &keep, err);
    if (rc == CRM_OK)
        rc = crm_contact_resolve(cli->k, a->pos[1], &other, err);
    if (rc == CRM_OK && prefer_list(a, &prefer, &n, &buf) != CRM_OK)
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        rc = crm_contact_merge(cli->k, keep, other, (const char *const *)prefer, n, &merge_id,
                               err);
    free(prefer);
    free(buf);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sIsIsI}", "merge_id", (json_int_t)merge_id, "keep_id",
                                          (json_int_t)keep, "other_id", (json_int_t)other));
    else if (rc == CRM_OK)
        fprintf(cli->out, "contact %lld merged into %lld (merge %lld; undo: crm contact "
                          "unmerge %lld)\n",
                (long long)other, (long long)keep, (long long)merge_id, (long long)merge_id);
    return rc;
}

static int cmd_unmerge(crm_cli *cli, const crm_args *a, crm_err *err)
{
    char *end;
    errno = 0;
    long long id = strtoll(a->pos[0], &end, 10);
    if (*end || errno || id <= 0)
        return crm_err_set(err, CRM_EUSAGE, "'%s' is not a merge id (see crm contact merges)",
                           a->pos[0]);
    int rc = crm_contact_unmerge(cli->k, id, err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sIsb}", "merge_id", (json_int_t)id, "unmerged", 1));
    else if (rc == CRM_OK)
        fprintf(cli->out, "merge %lld undone\n", id);
    return rc;
}

typedef struct merges_out {
    crm_cli *cli;
    crm_table *table;
} merges_out;

static const crm_table_col merge_cols[] = {
    {"MERGE", 0, true}, {"KEEP", 0, true}, {"OTHER", 0, true}, {"AT", 0, false},
    {"UNMERGED", 0, false}};

static int print_merge(void *json, void *ud)
{
    merges_out *mo = ud;
    json_t *o = json;
    if (mo->cli->json) {
        crm_cli_print_json(mo->cli, json_incref(o));
        return 0;
    }
    static const char *const ids[] = {"id", "keep_id", "other_id"};
    char num[3][24];
    for (int i = 0; i < 3; i++)
        snprintf(num[i], sizeof num[i], "%lld",
                 (long long)json_integer_value(json_object_get(o, ids[i])));
    const char *cells[] = {num[0], num[1], num[2],
                           json_string_value(json_object_get(o, "created_at")),
                           json_string_value(json_object_get(o, "unmerged_at"))};
    return crm_table_row(mo->table, cells) == CRM_OK ? 0 : -1;
}

static int cmd_merges(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id = 0;
    int rc = a->n_pos ? crm_contact_resolve(cli->k, a->pos[0], &id, err) : CRM_OK;
    merges_out mo = {cli, NULL};
    if (rc == CRM_OK && !cli->json && !(mo.table = crm_table_new(cli->out, merge_cols, 5)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        rc = crm_contact_merges(cli->k, id, print_merge, &mo, err);
    crm_table_end(mo.table, rc == CRM_OK);
    return rc;
}

static const crm_opt dup_opts[] = {
    {"min-score", CRM_OPT_VALUE, "S", "report pairs scoring at least S (default from crm.yaml)"},
    {"limit", CRM_OPT_VALUE, "N", "show at most N pairs (default all)"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt merge_opts[] = {
    {"prefer", CRM_OPT_LIST, "other:FIELD,...",
     "take OTHER's value for these fields even when KEEP has one"},
    {NULL, 0, NULL, NULL},
};
static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_dedupe_cmds[] = {
    {"contact", "duplicates", cmd_duplicates, K, 0, 0, NULL,
     "list likely duplicate pairs with a score and the reasons", dup_opts},
    {"contact", "merge", cmd_merge, K | CRM_CMD_WRITES, 2, 2, "KEEP OTHER",
     "merge OTHER into KEEP (records moved, empty fields filled, history kept)", merge_opts},
    {"contact", "unmerge", cmd_unmerge, K | CRM_CMD_WRITES, 1, 1, "MERGE_ID",
     "undo a merge: restore OTHER with its records", no_opts},
    {"contact", "merges", cmd_merges, K, 0, 1, "[ID]", "merge history (of one contact, or all)",
     no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

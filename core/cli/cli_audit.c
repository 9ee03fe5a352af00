/* crm audit [--fix merge-safe]: the quarterly data audit (core/audit). */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli.h"
#include "cli_util.h"
#include "hygiene.h"
#include "table.h"

static const char *const labels[CRM_AUDIT_N] = {
    "duplicate pairs",        "missing a required field", "missing a recommended field",
    "refused by today's rules", "no consent recorded",    "inactive",
};

/* "3, 8, 12" or "1 & 2, 4 & 5". */
static void example_ids(const crm_audit_finding *f, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < f->n_examples; i++) {
        size_t len = strlen(buf);
        if (f->examples[i].b)
            snprintf(buf + len, size - len, "%s%lld & %lld", i ? ", " : "",
                     (long long)f->examples[i].a, (long long)f->examples[i].b);
        else
            snprintf(buf + len, size - len, "%s%lld", i ? ", " : "",
                     (long long)f->examples[i].a);
    }
    if (f->count > (int64_t)f->n_examples)
        snprintf(buf + strlen(buf), size - strlen(buf), ", …");
}

static void print_fix(crm_cli *cli, const crm_audit_report *r)
{
    FILE *f = cli->out;
    fprintf(f, "merge-safe: merged %zu pair%s", r->n_merges, r->n_merges == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_merges; i++)
        fprintf(f, "%s%lld into %lld (merge %lld)", i ? ", " : ": ",
                (long long)r->merges[i].other_id, (long long)r->merges[i].keep_id,
                (long long)r->merges[i].merge_id);
    fprintf(f, "%s\n", r->n_merges ? "; undo one with `crm contact unmerge MERGE`" : "");
    if (r->refused.count) {
        fprintf(f, "left %lld pair%s sharing an email or phone unmerged:\n",
                (long long)r->refused.count, r->refused.count == 1 ? "" : "s");
        for (size_t i = 0; i < r->refused.n_examples; i++)
            fprintf(f, "  %lld & %lld  %s\n", (long long)r->refused.examples[i].a,
                    (long long)r->refused.examples[i].b, r->refused.examples[i].detail);
    }
    fputc('\n', f);
}

static int print_summary(crm_cli *cli, const crm_audit_report *r)
{
    static const crm_table_col with_prev[] = {
        {"FINDING", 0, false}, {"COUNT", 0, true}, {"CHANGE", 0, true}, {"EXAMPLES", 60, false}};
    static const crm_table_col first[] = {
        {"FINDING", 0, false}, {"COUNT", 0, true}, {"EXAMPLES", 60, false}};
    crm_table *t = r->prev_id ? crm_table_new(cli->out, with_prev, 4)
                              : crm_table_new(cli->out, first, 3);
    if (!t)
        return CRM_ENOMEM;
    int rc = CRM_OK;
    for (int k = 0; rc == CRM_OK && k < CRM_AUDIT_N; k++) {
        char label[96], count[24], change[24], ex[256];
        if (k == CRM_AUDIT_DUPLICATES)
            snprintf(label, sizeof label, "%s (score >= %d)", labels[k], r->min_score);
        else if (k == CRM_AUDIT_INACTIVE)
            snprintf(label, sizeof label, "%s %lld months", labels[k],
                     (long long)r->inactive_months);
        else
            snprintf(label, sizeof label, "%s", labels[k]);
        snprintf(count, sizeof count, "%lld", (long long)r->f[k].count);
        snprintf(change, sizeof change, "%+lld", (long long)(r->f[k].count - r->prev[k]));
        example_ids(&r->f[k], ex, sizeof ex);
        const char *cells_prev[] = {label, count, change, ex};
        const char *cells_first[] = {label, count, ex};
        rc = crm_table_row(t, r->prev_id ? cells_prev : cells_first);
    }
    crm_table_end(t, true);
    return rc;
}

/* The examples of one finding with their detail: "  17  email: '...' ...". */
static void print_details(crm_cli *cli, const char *title, const crm_audit_finding *f,
                          const char *prefix)
{
    if (!f->n_examples)
        return;
    fprintf(cli->out, "\n%s:\n", title);
    for (size_t i = 0; i < f->n_examples; i++) {
        const crm_audit_example *e = &f->examples[i];
        char ids[64];
        if (e->b)
            snprintf(ids, sizeof ids, "%lld & %lld", (long long)e->a, (long long)e->b);
        else
            snprintf(ids, sizeof ids, "%lld", (long long)e->a);
        char when[40] = "";
        if (e->at)
            crm_cli_time(cli, e->at, when, sizeof when);
        fprintf(cli->out, "  %-15s %s%s%s\n", ids, prefix, when, e->detail);
    }
}

static int print_text(crm_cli *cli, const crm_audit_report *r)
{
    FILE *f = cli->out;
    char as_of[40];
    crm_cli_time(cli, r->as_of, as_of, sizeof as_of);
    if (r->fixed)
        print_fix(cli, r);
    if (r->fixed_stages) {
        fprintf(f, "stages: moved %lld contact%s up by the lifecycle rule",
                (long long)r->staged.count, r->staged.count == 1 ? "" : "s");
        for (size_t i = 0; i < r->staged.n_examples; i++)
            fprintf(f, "%s%lld %s", i ? ", " : ": ", (long long)r->staged.examples[i].a,
                    r->staged.examples[i].detail);
        fprintf(f, "%s\n\n", r->staged.count > (int64_t)r->staged.n_examples ? ", …" : "");
    }
    fprintf(f, "audit #%lld as of %s: %lld contact%s", (long long)r->id, as_of,
            (long long)r->contacts, r->contacts == 1 ? "" : "s");
    if (r->prev_id) {
        char prev[40];
        crm_cli_time(cli, r->prev_as_of, prev, sizeof prev);
        fprintf(f, " (%+lld since audit #%lld of %s)", (long long)(r->contacts - r->prev_contacts),
                (long long)r->prev_id, prev);
    } else {
        fprintf(f, " (the first audit: the next one shows the changes)");
    }
    fputs("\n\n", f);
    int rc = print_summary(cli, r);
    if (rc != CRM_OK)
        return rc;
    print_details(cli, "duplicate pairs", &r->f[CRM_AUDIT_DUPLICATES], "");
    if (r->n_fields) {
        fprintf(f, "\nmissing fields:\n");
        for (size_t i = 0; i < r->n_fields; i++) {
            char ex[256];
            example_ids(&r->fields[i].missing, ex, sizeof ex);
            fprintf(f, "  %-24s %-11s %6lld  %s\n", r->fields[i].name,
                    r->fields[i].required ? "required" : "recommended",
                    (long long)r->fields[i].missing.count, ex);
        }
    }
    print_details(cli, "values refused by today's rules", &r->f[CRM_AUDIT_INVALID], "");
    print_details(cli, "inactive contacts (last activity)", &r->f[CRM_AUDIT_INACTIVE], "");
    if (!r->fixed && r->f[CRM_AUDIT_DUPLICATES].count)
        fprintf(f, "\nmerge the pairs that share an email or phone and conflict nowhere: "
                   "crm audit --fix merge-safe\n");
    return CRM_OK;
}

static int cmd_audit(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *fix = crm_args_get(a, "fix");
    crm_audit_opts o = {0};
    for (const char *p = fix; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == 10 && strncmp(p, "merge-safe", len) == 0)
            o.fix_merge_safe = true;
        else if (len == 6 && strncmp(p, "stages", len) == 0)
            o.fix_stages = true;
        else
            return crm_err_set(err, CRM_EUSAGE,
                               "--fix '%.*s': expected merge-safe (merges duplicate pairs "
                               "sharing an email or phone with no conflicting field) or stages "
                               "(moves contacts with a paid order up to "
                               "lifecycle.on_first_paid_order), or both: merge-safe,stages",
                               (int)len, p);
        p += len + (p[len] == ',');
    }
    crm_audit_report r;
    int rc = crm_audit_run(cli->k, &o, &r, err);
    if (rc == CRM_OK && cli->json) {
        json_t *j = crm_audit_to_json(&r);
        if (j)
            crm_cli_print_json(cli, j);
        else
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    } else if (rc == CRM_OK && print_text(cli, &r) != CRM_OK) {
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    crm_audit_report_free(&r);
    return rc;
}

static const crm_opt audit_opts[] = {
    {"fix", CRM_OPT_VALUE, "merge-safe,stages",
     "before auditing, merge-safe: merge the duplicate pairs that share an email or phone and "
     "conflict on no field (undo with crm contact unmerge); stages: move the contacts the "
     "lifecycle rule predates (a paid order, still a lead) up to lifecycle.on_first_paid_order; "
     "merge-safe,stages: both"},
    {NULL, 0, NULL, NULL},
};

const crm_command crm_cli_audit_cmds[] = {
    {"audit", NULL, cmd_audit, CRM_CMD_NEEDS_KERNEL | CRM_CMD_WRITES, 0, 0, NULL,
     "the data audit: duplicates, missing and refused values, consent, inactivity, and the "
     "change since the last audit (recorded)",
     audit_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

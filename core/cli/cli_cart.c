/* crm cart list|show, crm import events FILE (JSON Lines of tracked objects, cart.h) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "cli.h"
#include "cli_util.h"
#include "hygiene.h"
#include "table.h"
#include "util.h"

/* ---- crm import events ---------------------------------------------------- */

typedef struct events_report {
    int64_t read, stored, duplicates, rejected;
} events_report;

/* One line: parsed and applied in its own savepoint, so a refused line
 * leaves nothing while the others stand. */
static void import_line(crm_cli *cli, const char *path, int64_t lineno, const char *text,
                        events_report *r)
{
    crm_err e = {0};
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    crm_track_result out = {0};
    int rc = obj ? crm_track_apply_json(cli->k, obj, &out, &e)
                 : crm_err_set(&e, CRM_EINVAL, "not JSON (column %d: %s)", jerr.column,
                               jerr.text);
    json_decref(obj);
    if (rc != CRM_OK) {
        r->rejected++;
        fprintf(stderr, "%s:%lld: %s\n", path, (long long)lineno, e.msg);
    } else if (out.outcome == CRM_TRACK_DUPLICATE)
        r->duplicates++;
    else
        r->stored++;
}

static bool blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

static int read_events(crm_cli *cli, const char *path, FILE *f, events_report *r, crm_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t lineno = 0;
    int rc = crm_kernel_begin(cli->k, err);
    while (rc == CRM_OK && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (blank(line))
            continue;
        r->read++;
        import_line(cli, path, lineno, line, r);
    }
    free(line);
    if (rc == CRM_OK && ferror(f)) {
        crm_kernel_rollback(cli->k);
        return crm_err_set(err, CRM_EIO, "%s: read error after line %lld", path,
                           (long long)lineno);
    }
    return rc == CRM_OK ? crm_kernel_commit(cli->k, err) : rc;
}

static int cmd_import_events(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *path = a->pos[0];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return crm_err_set(err, CRM_EIO, "%s: %s", path, strerror(errno));
    events_report r = {0};
    int rc = read_events(cli, path, f, &r, err);
    if (f != stdin)
        fclose(f);
    if (rc != CRM_OK)
        return rc;
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sssIsIsIsI}", "file", path, "read",
                                          (json_int_t)r.read, "stored", (json_int_t)r.stored,
                                          "duplicates", (json_int_t)r.duplicates, "rejected",
                                          (json_int_t)r.rejected));
    else
        fprintf(cli->out, "import events: read %lld, stored %lld, already imported %lld, "
                          "rejected %lld\n",
                (long long)r.read, (long long)r.stored, (long long)r.duplicates,
                (long long)r.rejected);
    if (r.rejected)
        return crm_err_set(err, CRM_EINVAL, "%lld of %lld events were rejected (line and reason "
                                            "above): fix them and import the file again",
                           (long long)r.rejected, (long long)r.read);
    return CRM_OK;
}

/* ---- crm cart list|show ----------------------------------------------------- */

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    json_t *cart;
    int rc = crm_cart_resolve(cli->k, a->pos[0], &id, err);
    if (rc == CRM_ENOTFOUND)
        return crm_err_set(err, rc, "no cart matches '%s' (give an id or the shop's cart id; "
                                    "see `crm cart list`)", a->pos[0]);
    if (rc == CRM_OK)
        rc = crm_cart_get_json(cli->k, id, &cart, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json) {
        crm_cli_print_json(cli, cart);
        return CRM_OK;
    }
    json_t *lines = json_incref(json_object_get(cart, "lines"));
    json_object_del(cart, "lines");
    json_object_del(cart, "value_minor");
    crm_cli_print_object(cli, cart);
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
        fprintf(cli->out, "%-16s %s x %lld @ %s\n", i == 0 ? "lines" : "", crm_cli_str(l, "sku"),
                (long long)json_integer_value(json_object_get(l, "quantity")),
                crm_cli_str(l, "unit_price"));
    json_decref(lines);
    return CRM_OK;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
    int64_t count;
} list_out;

static const crm_table_col list_cols[] = {
    {"ID", 0, true},      {"CART", 24, false},   {"CONTACT", 0, true}, {"STATUS", 0, false},
    {"VALUE", 0, true},   {"DEVICE", 0, false},  {"UPDATED", 0, false},
};

static int list_one(json_t *cart, void *ud)
{
    list_out *lo = ud;
    lo->count++;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, json_incref(cart));
        return 0;
    }
    char id[24], contact[24], value[64], updated[CRM_CLI_TIME_SIZE];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(cart, "id")));
    snprintf(contact, sizeof contact, "%lld",
             (long long)json_integer_value(json_object_get(cart, "contact_id")));
    snprintf(value, sizeof value, "%s %s", crm_cli_str(cart, "value"),
             crm_cli_str(cart, "currency"));
    const char *cells[] = {id,    crm_cli_str(cart, "cart"),   contact,
                           crm_cli_str(cart, "status"),        value,
                           crm_cli_str(cart, "device"),        crm_cli_time_of(lo->cli, cart, "updated_at", updated, sizeof updated)};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : -1;
}

static const char *const statuses[] = {"open", "abandoned", "converted", NULL};

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_cart_filter f = {.status = crm_args_get(a, "status")};
    const char *ref = crm_args_get(a, "contact");
    int rc = crm_cli_paging(a, 50, &f.limit, &f.offset, err);
    if (rc == CRM_OK && ref)
        rc = crm_cli_contact(cli, ref, &f.contact_id, err);
    if (rc == CRM_OK && f.status && !crm_str_in(f.status, statuses))
        rc = crm_err_set(err, CRM_EUSAGE, "--status '%s': expected open, abandoned or converted",
                         f.status);
    if (rc != CRM_OK)
        return rc;
    list_out lo = {cli, NULL, 0};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 7)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_cart_list(cli->k, &f, list_one, &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld cart%s%s\n", (long long)lo.count, lo.count == 1 ? "" : "s",
                f.limit && lo.count == f.limit ? " (more with --page)" : "");
    return rc;
}

static const crm_opt list_opts[] = {
    {"contact", CRM_OPT_VALUE, "REF", "only this contact's carts"},
    {"status", CRM_OPT_VALUE, "STATUS", "open, abandoned or converted"},
    {"limit", CRM_OPT_VALUE, "N", "carts per page (default 50, 0 = all)"},
    {"page", CRM_OPT_VALUE, "N", "page number, from 1"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_cart_cmds[] = {
    {"cart", "list", cmd_list, K, 0, 0, NULL,
     "list carts the shop reported, most recently updated first", list_opts},
    {"cart", "show", cmd_show, K, 1, 1, "ID|CART_ID", "show one cart with its lines", no_opts},
    {"import", "events", cmd_import_events, K | CRM_CMD_WRITES, 1, 1, "FILE",
     "import tracked shop events (JSON Lines: cart.updated, checkout.started, page.viewed, "
     "email.opened|clicked); an event already imported is skipped",
     no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

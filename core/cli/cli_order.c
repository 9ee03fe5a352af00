/* crm order add|list|show|set-status */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"
#include "cli_util.h"
#include "hygiene.h"
#include "model.h"

/* The currency the amounts on the line are written in, upper-cased, with its decimals. */
static int order_currency(crm_cli *cli, const crm_args *a, crm_order *o, int *decimals,
                          crm_err *err)
{
    const char *given = crm_args_get(a, "currency");
    char code[8] = "";
    snprintf(code, sizeof code, "%s", given ? given : cli->k->cfg->currency);
    for (char *p = code; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    *decimals = crm_currency_decimals(code);
    if (*decimals < 0 || strlen(given ? given : code) != 3)
        return crm_err_set(err, CRM_EINVAL,
                           "--currency: '%s' is not an ISO 4217 code (expected e.g. EUR, USD)",
                           given ? given : code);
    o->currency = strdup(code);
    return o->currency ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

/* "SKU:QTY:UNIT_PRICE"; split at the last two colons so a SKU may hold one. */
static int parse_line(const char *text, int decimals, crm_order_line *l, crm_err *err)
{
    const char *price = strrchr(text, ':');
    const char *qty = price ? price : text;
    while (qty > text && qty[-1] != ':')
        qty--;
    if (!price || qty == text || qty - 1 == text)
        return crm_err_set(err, CRM_EUSAGE, "--line '%s': expected SKU:QTY:UNIT_PRICE "
                                            "(e.g. TSHIRT-M:2:19.90)", text);
    char qbuf[32];
    snprintf(qbuf, sizeof qbuf, "%.*s", (int)(price - qty), qty);
    char *end;
    errno = 0;
    long long q = strtoll(qbuf, &end, 10);
    if (!*qbuf || *end || errno || q <= 0 || (size_t)(price - qty) >= sizeof qbuf)
        return crm_err_set(err, CRM_EINVAL, "--line '%s': quantity '%s' must be a whole number "
                                            "of at least 1", text, qbuf);
    int rc = crm_parse_money("--line unit price", price + 1, decimals, &l->unit_price, err);
    if (rc != CRM_OK)
        return rc;
    l->quantity = q;
    l->sku = strndup(text, (size_t)(qty - 1 - text));
    return l->sku ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

static int parse_lines(const crm_args *a, int decimals, crm_order *o, crm_err *err)
{
    const char **lines;
    int n = crm_args_list(a, "line", &lines);
    if (n > 0 && !(o->lines = calloc((size_t)n, sizeof *o->lines)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int rc = parse_line(lines[i], decimals, &o->lines[i], err);
        o->n_lines = (size_t)i + 1; /* so crm_order_clear frees what was parsed */
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

static int dup_opt(const crm_args *a, const char *opt, char **dst, crm_err *err)
{
    const char *v = crm_args_get(a, opt);
    if (v && !(*dst = strdup(v)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    return CRM_OK;
}

static bool has_lines(const crm_args *a)
{
    const char **lines;
    return crm_args_list(a, "line", &lines) > 0;
}

static int order_from_args(crm_cli *cli, const crm_args *a, crm_order *o, crm_err *err)
{
    const char *ref, *total = crm_args_get(a, "total");
    int decimals = 2;
    int rc = crm_cli_need(a, "contact", "the contact's id, email or ext:ID", &ref, err);
    if (rc == CRM_OK && !total && !has_lines(a))
        rc = crm_err_set(err, CRM_EUSAGE, "give --total AMOUNT, or the lines with --line "
                                          "SKU:QTY:UNIT_PRICE");
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, ref, &o->contact_id, err);
    if (rc == CRM_OK)
        rc = order_currency(cli, a, o, &decimals, err);
    if (rc == CRM_OK && total)
        rc = crm_parse_money("--total", total, decimals, &o->total, err);
    if (rc == CRM_OK && total && o->total == 0 && has_lines(a))
        rc = crm_err_set(err, CRM_EINVAL, "--total: 0 with lines; leave --total out to use "
                                          "the sum of the lines");
    if (rc == CRM_OK)
        rc = parse_lines(a, decimals, o, err);
    if (rc == CRM_OK)
        rc = crm_cli_time_opt(a, "placed-at", &o->placed_at, err);
    if (rc == CRM_OK)
        rc = dup_opt(a, "status", &o->status, err);
    if (rc == CRM_OK)
        rc = dup_opt(a, "external-id", &o->external_id, err);
    if (rc == CRM_OK)
        rc = dup_opt(a, "cart", &o->cart_id, err);
    return rc;
}

static int cmd_add(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_order o = {0};
    int64_t id = 0;
    int rc = order_from_args(cli, a, &o, err);
    if (rc == CRM_OK)
        rc = crm_order_add(cli->k, &o, &id, err);
    crm_order_clear(&o);
    if (rc != CRM_OK)
        return rc;
    crm_cli_print_id(cli, id);
    return CRM_OK;
}

static int resolve(crm_cli *cli, const char *ref, int64_t *id, crm_err *err)
{
    int rc = crm_order_resolve(cli->k, ref, id, err);
    if (rc == CRM_ENOTFOUND)
        return crm_err_set(err, rc, "no order matches '%s' (give an id or ext:ID; see "
                                    "`crm order list`)", ref);
    return rc;
}

static void print_lines(crm_cli *cli, json_t *lines, const char *currency)
{
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        long long qty = (long long)json_integer_value(json_object_get(l, "quantity"));
        char price[64];
        crm_cli_money(json_integer_value(json_object_get(l, "unit_price_minor")), currency, price,
                      sizeof price);
        fprintf(cli->out, "%-16s %s x %lld @ %s\n", i == 0 ? "lines" : "",
                crm_cli_str(l, "sku"), qty, price);
    }
}

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    crm_order o;
    int rc = resolve(cli, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_order_get(cli->k, id, &o, err);
    if (rc != CRM_OK)
        return rc;
    json_t *obj = crm_order_to_json(&o);
    crm_order_clear(&o);
    if (cli->json) {
        crm_cli_print_json(cli, obj);
        return CRM_OK;
    }
    /* Text shows money in major units with its currency; JSON keeps both. */
    char total[64], currency[8];
    snprintf(currency, sizeof currency, "%s", crm_cli_str(obj, "currency"));
    crm_cli_money(json_integer_value(json_object_get(obj, "total_minor")), currency, total,
                  sizeof total);
    json_object_set_new(obj, "total", json_string(total));
    json_t *lines = json_incref(json_object_get(obj, "lines"));
    json_object_del(obj, "lines");
    json_object_del(obj, "total_minor");
    json_object_del(obj, "currency");
    crm_cli_print_object(cli, obj);
    print_lines(cli, lines, currency);
    json_decref(lines);
    return CRM_OK;
}

static int cmd_set_status(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    crm_order o = {0};
    int rc = resolve(cli, a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_order_set_status(cli->k, id, a->pos[1], err);
    if (rc == CRM_OK)
        rc = crm_order_get(cli->k, id, &o, err);
    if (rc == CRM_OK && cli->json)
        crm_cli_print_json(cli, json_pack("{sIss}", "id", (json_int_t)id, "status", o.status));
    else if (rc == CRM_OK && !cli->quiet)
        fprintf(cli->out, "order %lld is now %s\n", (long long)id, o.status);
    crm_order_clear(&o);
    return rc;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
    int64_t count;
} list_out;

static const crm_table_col list_cols[] = {
    {"ID", 0, true},      {"PLACED", 0, false}, {"CONTACT", 0, true},
    {"STATUS", 0, false}, {"TOTAL", 0, true},
};

static int list_one(const crm_order *o, void *ud)
{
    list_out *lo = ud;
    lo->count++;
    json_t *obj = crm_order_to_json(o);
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, obj);
        return 0;
    }
    char id[24], contact[24], total[64];
    snprintf(id, sizeof id, "%lld", (long long)o->id);
    snprintf(contact, sizeof contact, "%lld", (long long)o->contact_id);
    crm_cli_money(o->total, o->currency, total, sizeof total);
    char placed[CRM_CLI_TIME_SIZE];
    const char *cells[] = {id, crm_cli_time_of(lo->cli, obj, "placed_at", placed, sizeof placed),
                           contact, o->status, total};
    int rc = crm_table_row(lo->table, cells);
    json_decref(obj);
    return rc == CRM_OK ? 0 : -1;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t limit, offset, contact_id = 0;
    const char *ref = crm_args_get(a, "contact");
    int rc = crm_cli_paging(a, 50, &limit, &offset, err);
    if (rc == CRM_OK && ref)
        rc = crm_cli_contact(cli, ref, &contact_id, err);
    if (rc != CRM_OK)
        return rc;
    list_out lo = {cli, NULL, 0};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, list_cols, 5)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_order_list(cli->k, contact_id, crm_args_get(a, "status"), limit, offset, list_one,
                        &lo, err);
    crm_table_end(lo.table, rc == CRM_OK);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld order%s%s\n", (long long)lo.count, lo.count == 1 ? "" : "s",
                limit && lo.count == limit ? " (more with --page)" : "");
    return rc;
}

static const crm_opt add_opts[] = {
    {"contact", CRM_OPT_VALUE, "REF", "the buyer: contact id, email or ext:ID (required)"},
    {"total", CRM_OPT_VALUE, "AMOUNT", "total in major units (\"12,50\"); default: sum of lines"},
    {"currency", CRM_OPT_VALUE, "CODE", "ISO 4217 code (default: locale.currency)"},
    {"status", CRM_OPT_VALUE, "STATUS", "placed (default), paid, cancelled or refunded"},
    {"placed-at", CRM_OPT_VALUE, "DATE", "when it was placed, ISO 8601 (default: now)"},
    {"external-id", CRM_OPT_VALUE, "ID", "identifier in the shop (unique: re-import is refused)"},
    {"line", CRM_OPT_LIST, "SKU:QTY:UNIT_PRICE", "an order line (repeatable)"},
    {"cart", CRM_OPT_VALUE, "CART_ID",
     "the shop's cart this order converts (default: the contact's open carts)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt list_opts[] = {
    {"contact", CRM_OPT_VALUE, "REF", "only this contact's orders"},
    {"status", CRM_OPT_VALUE, "STATUS", "only orders in this status"},
    {"limit", CRM_OPT_VALUE, "N", "orders per page (default 50, 0 = all)"},
    {"page", CRM_OPT_VALUE, "N", "page number, from 1"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_order_cmds[] = {
    {"order", "add", cmd_add, K | CRM_CMD_WRITES, 0, 0, NULL,
     "record an order for a contact; prints its id", add_opts},
    {"order", "list", cmd_list, K, 0, 0, NULL, "list orders, newest first", list_opts},
    {"order", "show", cmd_show, K, 1, 1, "ID|ext:ID", "show one order with its lines", no_opts},
    {"order", "set-status", cmd_set_status, K | CRM_CMD_WRITES, 2, 2, "ID|ext:ID STATUS",
     "move an order to paid, cancelled or refunded", no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

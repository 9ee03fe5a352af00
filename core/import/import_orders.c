/* Import handler for orders (their lines from a separate file: lines.c),
 * plus the small handlers for companies and interactions. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hygiene.h"
#include "import_int.h"
#include "model.h"
#include "model/model_util.h"

static const char *const order_columns[] = {
    "external_id", "contact_external_id", "contact_email", "placed_at", "total",
    "currency",    "status", NULL,
};

/* The contact an order or interaction row names. */
static int row_contact(imp_ctx *ctx, const imp_row *r, int64_t *cid, crm_err *err)
{
    const char *ext = imp_get(r, "contact_external_id");
    const char *email = imp_get(r, "contact_email");
    *cid = 0;
    if (!ext && !email)
        return crm_err_set(err, CRM_EINVAL,
                           "contact_external_id: is required (or contact_email)");
    int rc = ext ? imp_lookup(ctx->k, "SELECT id FROM contacts WHERE external_id=?", ext, cid,
                              err)
                 : imp_lookup(ctx->k, "SELECT id FROM contacts WHERE email=lower(trim(?))",
                              email, cid, err);
    if (rc == CRM_OK && !*cid)
        rc = crm_err_set(err, CRM_EINVAL, "%s: '%s' matches no contact (import contacts first)",
                         ext ? "contact_external_id" : "contact_email", ext ? ext : email);
    return rc;
}

/* The fields of an order row: everything but its contact, which needs the
 * database. Runs on the reader thread. */
static int parse_order(const imp_ctx *ctx, const imp_row *r, crm_order *o, crm_err *err)
{
    const char *placed = imp_get(r, "placed_at"), *total = imp_get(r, "total");
    const char *cur = imp_get(r, "currency"), *status = imp_get(r, "status");
    const char *ext = imp_get(r, "external_id");
    int rc = CRM_OK;
    if (ext && !(o->external_id = strdup(ext)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK && !placed)
        rc = crm_err_set(err, CRM_EINVAL, "placed_at: is required (ISO 8601 date or date-time)");
    if (rc == CRM_OK)
        rc = crm_parse_datetime("placed_at", placed, &o->placed_at, err);
    if (rc == CRM_OK && !(o->currency = strdup(cur ? cur : ctx->k->cfg->currency)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK) {
        for (char *p = o->currency; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (crm_currency_decimals(o->currency) < 0)
            rc = crm_hygiene_reject(err, "currency", cur, "is not an ISO 4217 code (EUR, USD...)");
    }
    if (rc == CRM_OK && total)
        rc = crm_parse_money("total", total, crm_currency_decimals(o->currency), &o->total, err);
    else if (rc == CRM_OK && !ctx->have_lines)
        rc = crm_err_set(err, CRM_EINVAL, "total: is required (decimal amount, e.g. 12.50)");
    if (rc == CRM_OK && status && !(o->status = strdup(status)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK && o->status)
        crm_str_lower_ascii(o->status);
    return rc;
}

static void release_order(void *prep)
{
    if (prep)
        crm_order_clear(prep);
    free(prep);
}

static int prepare_order(const imp_ctx *ctx, const imp_row *r, void **prep, crm_err *err)
{
    crm_order *o = calloc(1, sizeof *o);
    int rc = o ? parse_order(ctx, r, o, err) : crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        *prep = o;
    else
        release_order(o);
    return rc;
}

/* ---- orders --------------------------------------------------------------------- */

/* An order already stored: unchanged when equal; a status change is applied
 * through the model's transitions; anything else is refused. */
static int compare_order(imp_ctx *ctx, int64_t id, crm_order *o, crm_err *err)
{
    crm_order cur = {0};
    int rc = crm_order_get(ctx->k, id, &cur, err);
    if (rc != CRM_OK)
        return rc;
    const char *status = o->status ? o->status : "placed";
    if (cur.contact_id != o->contact_id || cur.placed_at != o->placed_at ||
        (o->total && cur.total != o->total) || !crm_str_equal(cur.currency, o->currency))
        rc = crm_err_set(err, CRM_EEXISTS,
                         "external_id: order '%s' is already stored (id %lld) with another "
                         "contact, date, total or currency; import does not rewrite orders",
                         o->external_id, (long long)id);
    else if (strcmp(cur.status, status) != 0)
        rc = crm_order_set_status(ctx->k, id, status, err) == CRM_OK ? IMP_UPDATED : err->code;
    else
        rc = IMP_UNCHANGED;
    crm_order_clear(&cur);
    return rc;
}

static int apply_order(imp_ctx *ctx, const imp_row *r, int64_t *id, crm_err *err)
{
    crm_order *o = r->prep;
    void *own = NULL;
    /* claimed first: a refused order's lines must not pass to the next one */
    int rc = imp_lines_claim(ctx, imp_get(r, "external_id"), err);
    if (rc == CRM_OK && !o && (rc = prepare_order(ctx, r, &own, err)) == CRM_OK)
        o = own;
    if (rc == CRM_OK)
        rc = row_contact(ctx, r, &o->contact_id, err);
    if (rc == CRM_OK && o->external_id)
        rc = imp_lookup(ctx->k, "SELECT id FROM orders WHERE external_id=?", o->external_id, id,
                        err);
    if (rc == CRM_OK && *id)
        rc = compare_order(ctx, *id, o, err);
    else if (rc == CRM_OK) {
        rc = imp_lines_fill(ctx, o, err);
        if (rc == CRM_OK)
            rc = crm_order_add(ctx->k, o, id, err);
        if (rc == CRM_OK)
            rc = IMP_STORED;
    }
    release_order(own);
    return rc;
}

const imp_entity imp_orders = {"orders", "order", order_columns, CRM_ENTITY_ORDER, apply_order,
                               prepare_order, release_order};

/* ---- companies ----------------------------------------------------------------- */

static const char *const company_columns[] = {
    "external_id", "name", "domain", "phone", "street", "postal_code", "city", "country", NULL,
};

#define COMPANY_FIELD(f) {#f, offsetof(crm_company, f)}
static const struct {
    const char *name;
    size_t off;
} company_fields[] = {
    COMPANY_FIELD(external_id), COMPANY_FIELD(name),        COMPANY_FIELD(domain),
    COMPANY_FIELD(phone),       COMPANY_FIELD(street),      COMPANY_FIELD(postal_code),
    COMPANY_FIELD(city),        COMPANY_FIELD(country),
};
#define N_COMPANY (sizeof company_fields / sizeof company_fields[0])

static char **cfield(crm_company *c, size_t i)
{
    return (char **)((char *)c + company_fields[i].off);
}

static int company_existing(imp_ctx *ctx, const crm_company *c, int64_t *id, crm_err *err)
{
    int rc = CRM_OK;
    *id = 0;
    if (c->external_id)
        rc = imp_lookup(ctx->k, "SELECT id FROM companies WHERE external_id=?", c->external_id,
                        id, err);
    if (rc != CRM_OK || *id || !c->name)
        return rc;
    char *key = crm_fold_key(c->name);
    rc = key ? imp_lookup(ctx->k, "SELECT id FROM companies WHERE name_key=?", key, id, err)
             : CRM_OK;
    free(key);
    return rc;
}

/* Updates the fields the row sets that differ; unchanged when none. */
static int company_update(imp_ctx *ctx, int64_t id, crm_company *row, crm_err *err)
{
    crm_company cur = {0}, changes = {0};
    int rc = crm_company_get(ctx->k, id, &cur, err), n = 0;
    for (size_t i = 0; rc == CRM_OK && i < N_COMPANY; i++) {
        const char *v = *cfield(row, i);
        if (!v || crm_str_equal(v, *cfield(&cur, i)) || strcmp(company_fields[i].name, "name") == 0)
            continue;
        *cfield(&changes, i) = strdup(v);
        n++;
    }
    if (rc == CRM_OK && n)
        rc = crm_company_update(ctx->k, id, &changes, err);
    crm_company_clear(&cur);
    crm_company_clear(&changes);
    return rc != CRM_OK ? rc : n ? IMP_UPDATED : IMP_UNCHANGED;
}

static int apply_company(imp_ctx *ctx, const imp_row *r, int64_t *id, crm_err *err)
{
    crm_company c = {0};
    int rc = CRM_OK;
    for (size_t i = 0; i < N_COMPANY; i++) {
        const char *v = imp_get(r, company_fields[i].name);
        if (v && !(*cfield(&c, i) = strdup(v)))
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == CRM_OK && i < r->n; i++)
        if (r->fields[i] && r->cells[i][0] && imp_is_custom(ctx, r->fields[i]))
            rc = crm_kv_set(&c.custom, &c.n_custom, r->fields[i], r->cells[i]);
    if (rc == CRM_OK)
        rc = company_existing(ctx, &c, id, err);
    if (rc == CRM_OK && *id)
        rc = company_update(ctx, *id, &c, err);
    else if (rc == CRM_OK)
        rc = crm_company_add(ctx->k, &c, id, err) == CRM_OK ? IMP_STORED : err->code;
    crm_company_clear(&c);
    return rc;
}

const imp_entity imp_companies = {"companies", "company", company_columns, CRM_ENTITY_COMPANY,
                                  apply_company, NULL, NULL};

/* ---- interactions --------------------------------------------------------------- */

static const char *const interaction_columns[] = {
    "external_id", "contact_external_id", "contact_email", "channel", "direction",
    "subject",     "body",                "occurred_at",   "author",  NULL,
};

static int dup_field(char **dst, const char *v, crm_err *err)
{
    if (v && !(*dst = strdup(v)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    return CRM_OK;
}

static int apply_interaction(imp_ctx *ctx, const imp_row *r, int64_t *id, crm_err *err)
{
    crm_interaction i = {0};
    const char *ext = imp_get(r, "external_id"), *at = imp_get(r, "occurred_at");
    int rc = ext ? imp_lookup(ctx->k, "SELECT id FROM interactions WHERE external_id=?", ext,
                              id, err)
                 : CRM_OK;
    if (rc == CRM_OK && *id)
        return IMP_UNCHANGED; /* interactions are history: never rewritten */
    if (rc == CRM_OK)
        rc = row_contact(ctx, r, &i.contact_id, err);
    if (rc == CRM_OK && at)
        rc = crm_parse_datetime("occurred_at", at, &i.occurred_at, err);
    static const char *const names[] = {"channel", "direction", "subject", "body", "author",
                                        "external_id"};
    char **slots[] = {&i.channel, &i.direction, &i.subject, &i.body, &i.author, &i.external_id};
    for (size_t f = 0; rc == CRM_OK && f < 6; f++)
        rc = dup_field(slots[f], imp_get(r, names[f]), err);
    if (rc == CRM_OK)
        rc = crm_interaction_log(ctx->k, &i, id, err) == CRM_OK ? IMP_STORED : err->code;
    crm_interaction_clear(&i);
    return rc;
}

const imp_entity imp_interactions = {"interactions", "interaction", interaction_columns,
                                     CRM_ENTITY_INTERACTION, apply_interaction, NULL, NULL};

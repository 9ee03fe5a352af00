/* `crm demo` into a database: every record goes through the model's write
 * functions, exactly like a command or an import, inside batched
 * transactions (the model calls nest as savepoints) so it is fast. A record
 * the kernel refuses (EINVAL, EEXISTS) rolls back alone and is counted by
 * reason; anything else is a real failure and stops the run. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct loader {
    crm_kernel *k;
    const crm_demo *g;
    crm_demo_stats *st;
    int batch, pending;  /* records written in the open transaction */
    int64_t *contact_ids;  /* contact index -> id (0: refused) */
} loader;

/* ---- transactions and refusals ------------------------------------------------- */

static int tick(loader *l, crm_err *err)
{
    if (++l->pending < l->batch)
        return CRM_OK;
    l->pending = 0;
    int rc = crm_kernel_commit(l->k, err);
    return rc == CRM_OK ? crm_kernel_begin_batch(l->k, err) : rc;
}

/* "email: 'x' is not..." -> "invalid email"; "duplicate email" for EEXISTS. */
static void count_refusal(crm_demo_stats *st, int code, const char *msg)
{
    char reason[48];
    size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz_.0123456789 ");
    const char *colon = msg[n] == ':' && n > 0 && n < 24 ? msg + n : NULL;
    snprintf(reason, sizeof reason, "%s %.*s", code == CRM_EEXISTS ? "duplicate" : "invalid",
             colon ? (int)n : 6, colon ? msg : "record");
    st->refused++;
    for (int i = 0; i < st->n_reasons; i++)
        if (!strcmp(st->reasons[i].reason, reason)) {
            st->reasons[i].count++;
            return;
        }
    if (st->n_reasons == CRM_DEMO_MAX_REASONS)
        return;
    snprintf(st->reasons[st->n_reasons].reason, sizeof st->reasons[0].reason, "%s", reason);
    st->reasons[st->n_reasons++].count = 1;
}

/* A refusal is data, not a failure: clear it and go on. */
static bool refused(crm_demo_stats *st, int rc, crm_err *err)
{
    if (rc != CRM_EINVAL && rc != CRM_EEXISTS)
        return false;
    count_refusal(st, rc, err->msg);
    crm_err_clear(err);
    return true;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* ---- reference data ------------------------------------------------------------- */

static int store_users(loader *l, crm_err *err)
{
    for (size_t i = 0; i < crm_demo_users_n; i++) {
        const crm_demo_user *u = &crm_demo_users[i];
        int rc = crm_user_add(l->k, u->name, u->email, u->role, NULL, err);
        if (rc != CRM_OK)
            return crm_err_prefix(err, "demo user %s", u->email);
        l->st->users++;
    }
    return CRM_OK;
}

static int store_products(loader *l, crm_err *err)
{
    for (size_t i = 0; i < crm_demo_products_n; i++) {
        crm_product p = {0};
        p.sku = strdup(crm_demo_products[i].sku);
        p.name = strdup(crm_demo_products[i].name);
        p.currency = strdup("EUR");
        p.price = crm_demo_products[i].price;
        int rc = crm_product_upsert(l->k, &p, NULL, err);
        crm_product_clear(&p);
        if (rc != CRM_OK)
            return crm_err_prefix(err, "demo product %s", crm_demo_products[i].sku);
        l->st->products++;
    }
    return CRM_OK;
}

static int store_companies(loader *l, crm_err *err)
{
    for (int64_t i = 0; i < l->g->n_companies; i++) {
        crm_demo_company d;
        crm_demo_make_company(l->g, i, &d);
        crm_company c = {
            .external_id = strdup(d.external_id), .name = strdup(d.name),
            .domain = strdup(d.domain), .phone = strdup(d.phone),
            .street = strdup(d.street), .postal_code = strdup(d.postal_code),
            .city = strdup(d.city), .country = strdup(d.country),
        };
        int rc = crm_company_add(l->k, &c, NULL, err);
        crm_company_clear(&c);
        if (rc == CRM_OK)
            l->st->companies++;
        else if (!refused(l->st, rc, err))
            return crm_err_prefix(err, "demo company %s", d.external_id);
        if ((rc = tick(l, err)) != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

/* ---- contacts and what hangs off them ------------------------------------------------ */

static int fill_contact(const crm_demo_contact *d, crm_contact *c)
{
    const char *src[] = {d->external_id, d->first_name, d->last_name, d->email,
                         d->phone, d->company_name, d->street, d->postal_code,
                         d->city, d->country, d->birth_date, d->stage,
                         d->owner, d->source};
    char **dst[] = {&c->external_id, &c->first_name, &c->last_name, &c->email,
                    &c->phone, &c->company, &c->street, &c->postal_code,
                    &c->city, &c->country, &c->birth_date, &c->lifecycle_stage,
                    &c->owner, &c->source};
    for (size_t i = 0; i < sizeof src / sizeof *src; i++)
        *dst[i] = dup_or_null(src[i]);
    for (int i = 0; i < d->n_tags; i++)
        if (crm_contact_add_tag(c, d->tags[i]) != CRM_OK)
            return CRM_ENOMEM;
    return CRM_OK;
}

/* True when the kernel stored something else than what was generated. */
static bool was_normalised(const crm_demo_contact *d, const crm_contact *c)
{
    const char *before[] = {d->first_name, d->last_name, d->email, d->phone,
                            d->street, d->postal_code, d->city, d->country};
    const char *after[] = {c->first_name, c->last_name, c->email, c->phone,
                           c->street, c->postal_code, c->city, c->country};
    for (size_t i = 0; i < sizeof before / sizeof *before; i++)
        if (strcmp(before[i], after[i] ? after[i] : "") != 0)
            return true;
    return false;
}

static int store_interactions(loader *l, const crm_demo_contact *d, int64_t id, crm_err *err)
{
    crm_demo_interaction its[CRM_DEMO_MAX_INTERACTIONS];
    int n = crm_demo_interactions(l->g, d, its);
    for (int i = 0; i < n; i++) {
        char ext[16];
        crm_demo_format_id(ext, sizeof ext, 'I', l->st->interactions, 9);
        crm_interaction it = {
            .contact_id = id, .channel = strdup(its[i].channel),
            .direction = strdup(its[i].direction), .subject = strdup(its[i].subject),
            .body = strdup(its[i].body), .occurred_at = its[i].occurred_at,
            .author = dup_or_null(its[i].author), .external_id = strdup(ext),
        };
        int rc = crm_interaction_log(l->k, &it, NULL, err);
        crm_interaction_clear(&it);
        if (rc == CRM_OK)
            l->st->interactions++;
        else if (!refused(l->st, rc, err))
            return crm_err_prefix(err, "demo interaction %s", ext);
    }
    return CRM_OK;
}

static int store_consents(loader *l, const crm_demo_contact *d, int64_t id, crm_err *err)
{
    crm_demo_consent cs[CRM_DEMO_MAX_CONSENTS];
    int n = crm_demo_consents(l->g, d, cs);
    for (int i = 0; i < n; i++) {
        crm_consent c = {
            .contact_id = id, .channel = strdup(cs[i].channel),
            .purpose = strdup(cs[i].purpose), .status = strdup(cs[i].status),
            .recorded_at = cs[i].recorded_at, .source = strdup(cs[i].source),
        };
        int rc = crm_consent_record(l->k, &c, NULL, err);
        crm_consent_clear(&c);
        if (rc == CRM_OK)
            l->st->consents++;
        else if (!refused(l->st, rc, err))
            return crm_err_prefix(err, "demo consent of %s", d->external_id);
    }
    return CRM_OK;
}

static int store_contact(loader *l, int64_t index, crm_err *err)
{
    crm_demo_contact d;
    crm_demo_make_contact(l->g, index, &d);
    crm_contact c = {0};
    int64_t id = 0;
    int rc = fill_contact(&d, &c);
    if (rc != CRM_OK) {
        crm_contact_clear(&c);
        return crm_err_set(err, rc, "out of memory");
    }
    rc = crm_contact_add(l->k, &c, &id, err);
    bool changed = rc == CRM_OK && was_normalised(&d, &c);
    crm_contact_clear(&c);
    if (rc != CRM_OK)
        return refused(l->st, rc, err) ? CRM_OK
                                       : crm_err_prefix(err, "demo contact %s", d.external_id);
    l->contact_ids[index] = id;
    l->st->contacts++;
    l->st->normalised += changed;
    rc = store_interactions(l, &d, id, err);
    return rc == CRM_OK ? store_consents(l, &d, id, err) : rc;
}

/* ---- orders ---------------------------------------------------------------------------- */

static int store_order(loader *l, int64_t index, crm_err *err)
{
    crm_demo_order d;
    crm_demo_make_order(l->g, index, &d);
    int64_t contact_id = l->contact_ids[d.contact];
    if (!contact_id) {
        l->st->orders_skipped++;  /* its buyer was refused */
        return CRM_OK;
    }
    crm_order_line lines[CRM_DEMO_MAX_LINES];
    for (int i = 0; i < d.n_lines; i++)
        lines[i] = (crm_order_line){strdup(d.lines[i].sku), d.lines[i].quantity,
                                    d.lines[i].unit_price};
    crm_order o = {
        .external_id = strdup(d.external_id), .contact_id = contact_id,
        .placed_at = d.placed_at, .total = d.total, .currency = strdup("EUR"),
        .status = strdup(d.status), .lines = lines, .n_lines = (size_t)d.n_lines,
    };
    int rc = crm_order_add(l->k, &o, NULL, err);
    for (int i = 0; i < d.n_lines; i++)
        free(lines[i].sku);
    o.lines = NULL;  /* on the stack */
    o.n_lines = 0;
    crm_order_clear(&o);
    if (rc == CRM_OK) {
        l->st->orders++;
        if (!strcmp(d.status, "paid"))
            l->st->revenue += d.total;
    } else if (!refused(l->st, rc, err)) {
        return crm_err_prefix(err, "demo order %s", d.external_id);
    }
    return CRM_OK;
}

static int store_all(loader *l, crm_err *err)
{
    int rc = store_users(l, err);
    if (rc == CRM_OK)
        rc = store_products(l, err);
    if (rc == CRM_OK)
        rc = store_companies(l, err);
    for (int64_t i = 0; rc == CRM_OK && i < l->g->n_contacts; i++)
        if ((rc = store_contact(l, i, err)) == CRM_OK)
            rc = tick(l, err);
    for (int64_t i = 0; rc == CRM_OK && i < l->g->n_orders; i++)
        if ((rc = store_order(l, i, err)) == CRM_OK)
            rc = tick(l, err);
    return rc;
}

int crm_demo_store(crm_kernel *k, const crm_demo *g, int batch, crm_demo_stats *st,
                   crm_err *err)
{
    loader l = {k, g, st, batch > 0 ? batch : 1, 0, NULL};
    l.contact_ids = calloc((size_t)(g->n_contacts > 0 ? g->n_contacts : 1), sizeof(int64_t));
    if (!l.contact_ids)
        return crm_err_set(err, CRM_ENOMEM, "out of memory for %lld contact ids",
                           (long long)g->n_contacts);
    /* Batch mode: generated records are refused before any write, so no
     * per-record savepoint is needed; anything else fails the whole run. */
    int rc = crm_kernel_begin_batch(k, err);
    if (rc == CRM_OK) {
        rc = store_all(&l, err);
        if (rc == CRM_OK)
            rc = crm_kernel_commit(k, err);
        else
            crm_kernel_rollback(k);
    }
    free(l.contact_ids);
    return rc;
}

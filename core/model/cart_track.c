/* crm_track_apply_json: validates one tracked shop object (cart.h) and
 * applies it by type through a table: carts for the cart types, inbound
 * interactions for page views and email engagement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "cart_int.h"
#include "events.h"
#include "hygiene.h"
#include "model.h"
#include "model_util.h"

const char *const crm_track_members[] = {"type",  "contact_id", "email", "cart_id",
                                         "value", "currency",   "device", "lines",
                                         "url",   "subject",    "at",     "id",
                                         NULL};
static const char *const devices[] = {"desktop", "mobile", "tablet", NULL};

typedef struct track_in {
    const json_t *obj;
    const char *type;
    int64_t contact_id;
    int64_t cart_id; /* the kernel's, once stored (cart types) */
    int64_t at;
    char cart_ref[128];
    char currency[8];
} track_in;

typedef int (*track_fn)(crm_kernel *k, track_in *in, crm_err *err);

static int check_members(const json_t *obj, crm_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (!crm_str_in(key, crm_track_members))
            return crm_err_set(err, CRM_EINVAL,
                               "%s: unknown member (expected type, contact_id or email, cart_id, "
                               "value, currency, device, lines, url, subject, at, id)",
                               key);
    }
    return CRM_OK;
}

static const char *opt_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

static int need_string(const json_t *obj, const char *name, crm_err *err)
{
    json_t *v = json_object_get(obj, name);
    return !v || json_is_string(v) ? CRM_OK
                                   : crm_err_set(err, CRM_EINVAL, "%s: must be a string", name);
}

/* "at": ISO 8601 text or epoch seconds; absent = now. */
static int parse_at(crm_kernel *k, const json_t *obj, int64_t *at, crm_err *err)
{
    json_t *v = json_object_get(obj, "at");
    *at = k->now;
    if (!v)
        return CRM_OK;
    if (json_is_integer(v))
        *at = json_integer_value(v);
    else if (json_is_string(v)) {
        int rc = crm_parse_datetime("at", json_string_value(v), at, err);
        if (rc != CRM_OK)
            return rc;
    } else
        return crm_err_set(err, CRM_EINVAL, "at: expected ISO 8601 text or epoch seconds");
    return *at > 0 ? CRM_OK : crm_err_set(err, CRM_EINVAL, "at: must be after 1970");
}

/* The contact: contact_id (must exist) or email (found, else created). */
static int resolve_contact(crm_kernel *k, const json_t *obj, int64_t *id, crm_err *err)
{
    json_t *cid = json_object_get(obj, "contact_id");
    const char *email = opt_str(obj, "email");
    int rc = need_string(obj, "email", err);
    if (rc != CRM_OK)
        return rc;
    if (cid && (!json_is_integer(cid) || json_integer_value(cid) <= 0))
        return crm_err_set(err, CRM_EINVAL, "contact_id: must be a positive integer");
    if (cid) {
        rc = crm_query_id(k, "SELECT id FROM contacts WHERE id=?", NULL, json_integer_value(cid),
                          id, err);
        if (rc == CRM_OK && !*id)
            rc = crm_err_set(err, CRM_ENOTFOUND, "contact_id: no contact with id %lld",
                             (long long)json_integer_value(cid));
        return rc;
    }
    if (!email)
        return crm_err_set(err, CRM_EINVAL, "contact_id or email: one is required");
    char *norm = NULL;
    rc = crm_normalise_email("email", email, &norm, err);
    if (rc == CRM_OK)
        rc = crm_query_id(k, "SELECT id FROM contacts WHERE email=?", norm, 0, id, err);
    if (rc == CRM_OK && !*id) {
        crm_contact c = {.email = norm, .source = strdup("shop")};
        norm = NULL;
        rc = c.source ? crm_contact_add(k, &c, id, err) : crm_err_set(err, CRM_ENOMEM, "oom");
        crm_contact_clear(&c);
    }
    free(norm);
    return rc;
}

/* Money: integer minor units, or a decimal string in major units. */
static int parse_amount(const char *field, const json_t *v, int decimals, int64_t *out,
                        crm_err *err)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return CRM_OK;
    }
    if (json_is_string(v))
        return crm_parse_money(field, json_string_value(v), decimals, out, err);
    return crm_err_set(err, CRM_EINVAL,
                       "%s: expected minor units as an integer or a decimal string (\"249.90\")",
                       field);
}

static int parse_line(const json_t *l, size_t i, int decimals, crm_cart_line *out, crm_err *err)
{
    char field[48];
    snprintf(field, sizeof field, "lines[%zu]", i);
    json_t *q = json_object_get(l, "quantity"), *p = json_object_get(l, "unit_price");
    out->sku = opt_str(l, "sku");
    out->name = opt_str(l, "name");
    if (!json_is_object(l) || !out->sku || !*out->sku)
        return crm_err_set(err, CRM_EINVAL, "%s: expected {\"sku\", \"quantity\", "
                                            "\"unit_price\"} with a non-empty sku", field);
    if (!json_is_integer(q) || json_integer_value(q) <= 0)
        return crm_err_set(err, CRM_EINVAL, "%s.quantity: must be a whole number of at least 1",
                           field);
    out->quantity = json_integer_value(q);
    snprintf(field, sizeof field, "lines[%zu].unit_price", i);
    return p ? parse_amount(field, p, decimals, &out->unit_price, err)
             : crm_err_set(err, CRM_EINVAL, "%s: is required", field);
}

static int parse_cart(crm_kernel *k, track_in *in, crm_cart_update *u, crm_err *err)
{
    const json_t *obj = in->obj;
    const char *cur = opt_str(obj, "currency"), *dev = opt_str(obj, "device");
    int rc = need_string(obj, "currency", err);
    if (rc == CRM_OK)
        rc = need_string(obj, "device", err);
    if (rc != CRM_OK)
        return rc;
    snprintf(in->currency, sizeof in->currency, "%s", cur ? cur : k->cfg->currency);
    for (char *p = in->currency; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    int decimals = crm_currency_decimals(in->currency);
    if (decimals < 0 || (cur && strlen(cur) != 3))
        return crm_err_set(err, CRM_EINVAL, "currency: '%s' is not an ISO 4217 code",
                           cur ? cur : in->currency);
    if (dev && !crm_str_in(dev, devices))
        return crm_err_set(err, CRM_EINVAL, "device: '%s' (expected desktop, mobile or tablet)",
                           dev);
    json_t *lines = json_object_get(obj, "lines");
    if (lines && !json_is_array(lines))
        return crm_err_set(err, CRM_EINVAL, "lines: must be an array");
    *u = (crm_cart_update){.cart_ref = in->cart_ref, .contact_id = in->contact_id,
                           .currency = in->currency, .device = dev, .at = in->at,
                           .checkout = strcmp(in->type, "checkout.started") == 0};
    u->n_lines = json_array_size(lines);
    if (u->n_lines && !(u->lines = calloc(u->n_lines, sizeof *u->lines)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    int64_t sum = 0;
    for (size_t i = 0; rc == CRM_OK && i < u->n_lines; i++) {
        rc = parse_line(json_array_get(lines, i), i, decimals, &u->lines[i], err);
        sum += rc == CRM_OK ? u->lines[i].quantity * u->lines[i].unit_price : 0;
    }
    json_t *value = json_object_get(obj, "value");
    u->value = sum;
    if (rc == CRM_OK && value)
        rc = parse_amount("value", value, decimals, &u->value, err);
    u->keep_value = u->checkout && !u->n_lines && !value;
    if (rc == CRM_OK && u->value < 0)
        rc = crm_err_set(err, CRM_EINVAL, "value: must not be negative");
    return rc;
}

static int apply_cart(crm_kernel *k, track_in *in, crm_err *err)
{
    json_t *c = json_object_get(in->obj, "cart_id");
    if (json_is_integer(c))
        snprintf(in->cart_ref, sizeof in->cart_ref, "%lld", (long long)json_integer_value(c));
    else if (json_is_string(c) && *json_string_value(c) &&
             strlen(json_string_value(c)) < sizeof in->cart_ref)
        snprintf(in->cart_ref, sizeof in->cart_ref, "%s", json_string_value(c));
    else
        return crm_err_set(err, CRM_EINVAL, "cart_id: is required for %s (text or integer, up "
                                            "to %zu characters)", in->type,
                           sizeof in->cart_ref - 1);
    crm_cart_update u = {0}; /* parse_cart may refuse before it fills u */
    int rc = parse_cart(k, in, &u, err);
    if (rc == CRM_OK)
        rc = crm_cart_apply_update(k, &u, &in->cart_id, err);
    free(u.lines);
    return rc;
}

/* page.viewed, email.opened, email.clicked: an inbound interaction. */
static int apply_engagement(crm_kernel *k, track_in *in, crm_err *err)
{
    int rc = need_string(in->obj, "url", err);
    if (rc == CRM_OK)
        rc = need_string(in->obj, "subject", err);
    if (rc != CRM_OK)
        return rc;
    const char *url = opt_str(in->obj, "url"), *subject = opt_str(in->obj, "subject");
    bool web = strcmp(in->type, "page.viewed") == 0;
    char text[512];
    snprintf(text, sizeof text, "%s%s%s", in->type, subject ? ": " : "", subject ? subject : "");
    crm_interaction i = {.contact_id = in->contact_id, .channel = strdup(web ? "web" : "email"),
                         .direction = strdup("in"), .subject = strdup(text),
                         .body = url ? strdup(url) : NULL, .occurred_at = in->at};
    int64_t id = 0;
    rc = crm_interaction_log(k, &i, &id, err);
    crm_interaction_clear(&i);
    if (rc != CRM_OK)
        return rc;
    json_t *p = json_pack("{sIsIsI}", "contact_id", (json_int_t)in->contact_id, "interaction_id",
                          (json_int_t)id, "at", (json_int_t)in->at);
    json_object_set_new(p, "url", url ? json_string(url) : json_null());
    return crm_event_emit(k, in->type, p, NULL, err);
}

static const struct {
    const char *type;
    track_fn fn;
} kinds[] = {
    {"cart.updated", apply_cart},       {"checkout.started", apply_cart},
    {"page.viewed", apply_engagement},  {"email.opened", apply_engagement},
    {"email.clicked", apply_engagement},
};

static track_fn find_kind(const char *type)
{
    for (size_t i = 0; type && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].type, type) == 0)
            return kinds[i].fn;
    return NULL;
}

/* "id:<shop id>" when the object has one, else a digest of its canonical text. */
static int idempotency_key(const json_t *obj, char *key, size_t n, crm_err *err)
{
    json_t *id = json_object_get(obj, "id");
    if (json_is_string(id) && *json_string_value(id) && strlen(json_string_value(id)) < 200) {
        snprintf(key, n, "id:%s", json_string_value(id));
        return CRM_OK;
    }
    if (json_is_integer(id)) {
        snprintf(key, n, "id:%lld", (long long)json_integer_value(id));
        return CRM_OK;
    }
    if (id)
        return crm_err_set(err, CRM_EINVAL, "id: must be text (up to 199 bytes) or an integer");
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    free(text);
    snprintf(key, n, "fnv1a64:%016llx", (unsigned long long)h);
    return CRM_OK;
}

/* Records the key (checked absent in this transaction by already_applied). */
static int record_key(crm_kernel *k, const char *key, const track_in *in, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "INSERT INTO tracked_events(key, type, contact_id, cart_id, at, created_at)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, key);
    crm_bind_text(st, 2, in->type);
    sqlite3_bind_int64(st, 3, in->contact_id);
    if (in->cart_id)
        sqlite3_bind_int64(st, 4, in->cart_id);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, in->at);
    sqlite3_bind_int64(st, 6, k->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK
                             : crm_store_error(k->store, "cannot record tracked event", err);
}

/* Whether key was applied before; if so, where (into res). */
static int already_applied(crm_kernel *k, const char *key, bool *dup, crm_track_result *res,
                           crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT contact_id, cart_id FROM tracked_events WHERE key=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    crm_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    *dup = rc == SQLITE_ROW;
    if (*dup) {
        res->contact_id = sqlite3_column_int64(st, 0);
        res->cart_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CRM_OK
               : crm_store_error(k->store, "cannot read tracked events", err);
}

static int apply(crm_kernel *k, track_in *in, track_fn fn, const char *key, crm_err *err)
{
    int rc = resolve_contact(k, in->obj, &in->contact_id, err);
    if (rc == CRM_OK)
        rc = fn(k, in, err);
    if (rc == CRM_OK)
        rc = record_key(k, key, in, err);
    return rc;
}

int crm_track_apply_json(crm_kernel *k, const json_t *obj, crm_track_result *res,
                         crm_err *err)
{
    crm_track_result local;
    if (!res)
        res = &local;
    *res = (crm_track_result){CRM_TRACK_STORED, 0, 0};
    if (!json_is_object(obj))
        return crm_err_set(err, CRM_EINVAL, "expected a JSON object with a \"type\"");
    track_in in = {.obj = obj, .type = opt_str(obj, "type")};
    track_fn fn = find_kind(in.type);
    char key[256];
    int rc = check_members(obj, err);
    if (rc == CRM_OK && !fn)
        rc = crm_err_set(err, CRM_EINVAL, "type: '%s' (expected cart.updated, checkout.started, "
                                          "page.viewed, email.opened or email.clicked)",
                         in.type ? in.type : "(missing)");
    if (rc == CRM_OK)
        rc = parse_at(k, obj, &in.at, err);
    if (rc == CRM_OK)
        rc = idempotency_key(obj, key, sizeof key, err);
    if (rc != CRM_OK)
        return rc;
    if ((rc = crm_kernel_begin(k, err)) != CRM_OK)
        return rc;
    bool dup = false;
    rc = already_applied(k, key, &dup, res, err);
    if (rc == CRM_OK && !dup) {
        rc = apply(k, &in, fn, key, err);
        res->contact_id = in.contact_id, res->cart_id = in.cart_id;
    }
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, err);
    else
        crm_kernel_rollback(k);
    if (rc == CRM_OK && dup)
        res->outcome = CRM_TRACK_DUPLICATE;
    return rc;
}

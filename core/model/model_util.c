#include "model_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hygiene.h"

bool crm_str_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

int crm_str_replace(char **dst, char *fresh)
{
    free(*dst);
    *dst = fresh;
    return CRM_OK;
}

void crm_str_lower_ascii(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

int crm_kv_set(crm_kv **kv, size_t *n, const char *key, const char *value)
{
    char *v = strdup(value ? value : "");
    if (!v)
        return CRM_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*kv)[i].key, key) == 0) {
            free((*kv)[i].value);
            (*kv)[i].value = v;
            return CRM_OK;
        }
    }
    char *k = strdup(key);
    crm_kv *slot = k ? CRM_ARRAY_APPEND(*kv, *n) : NULL;
    if (!slot) {
        free(v);
        free(k);
        return CRM_ENOMEM;
    }
    slot->key = k;
    slot->value = v;
    return CRM_OK;
}

int crm_clean_optional(const char *field, char **value, crm_err *err)
{
    if (!*value)
        return CRM_OK;
    char *out = NULL;
    int rc = crm_clean_text(field, *value, &out, err);
    if (rc != CRM_OK)
        return rc;
    free(*value);
    if (!*out) {
        free(out);
        out = NULL;
    }
    *value = out;
    return CRM_OK;
}

static const char *or_default_country(const crm_kernel *k, const char *country)
{
    return country && *country ? country : k->cfg->country;
}

int crm_model_phone_typed(const crm_kernel *k, const char *country, const char *field, char **v,
                          char *type, size_t size, crm_err *err)
{
    if (type && size)
        *type = '\0';
    if (!k->cfg->hygiene.validate_phone && !k->cfg->hygiene.normalise_phone)
        return CRM_OK;
    char *out = NULL;
    const char *t = NULL;
    int rc = crm_normalise_phone_typed(field, *v, or_default_country(k, country), &out, &t, err);
    if (rc != CRM_OK && !k->cfg->hygiene.validate_phone) {
        crm_err_clear(err);
        return CRM_OK; /* normalise when we can, keep as typed when we cannot */
    }
    if (rc == CRM_OK && type && size)
        snprintf(type, size, "%s", t);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

int crm_model_phone(const crm_kernel *k, const char *country, const char *field, char **v, crm_err *err)
{
    return crm_model_phone_typed(k, country, field, v, NULL, 0, err);
}

int crm_model_postal(const crm_kernel *k, const char *country, const char *field, char **v, crm_err *err)
{
    if (!k->cfg->hygiene.validate_postal_code)
        return CRM_OK;
    char *out = NULL;
    int rc = crm_normalise_postal_code(field, *v, or_default_country(k, country), &out, err);
    return rc == CRM_OK ? crm_str_replace(v, out) : rc;
}

void crm_bind_id(sqlite3_stmt *st, int idx, int64_t id)
{
    if (id > 0)
        sqlite3_bind_int64(st, idx, id);
    else
        sqlite3_bind_null(st, idx);
}

int crm_query_id(crm_kernel *k, const char *sql, const char *text, int64_t num, int64_t *found,
                 crm_err *err)
{
    *found = 0;
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    if (text) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_int64(st, 2, num);
    } else {
        sqlite3_bind_int64(st, 1, num);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *found = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                 : crm_store_error(k->store, "lookup failed", err);
}

int crm_exec_id(crm_kernel *k, const char *sql, int64_t id, crm_err *err)
{
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "database write failed", err);
}

json_t *crm_json_time(int64_t t)
{
    if (!t)
        return json_null();
    char buf[32];
    crm_format_datetime(t, buf, sizeof buf);
    return json_string(buf);
}

static crm_ref_kind ref_kind(const char *ref)
{
    if (strncmp(ref, "ext:", 4) == 0)
        return CRM_REF_EXTERNAL;
    const char *p = ref;
    while (isdigit((unsigned char)*p))
        p++;
    return p != ref && !*p ? CRM_REF_ID : CRM_REF_TEXT;
}

int crm_resolve_ref(crm_kernel *k, const char *what, const char *ref, const crm_ref_rule *rules,
                    size_t n, int64_t *id, crm_err *err)
{
    *id = 0;
    if (!ref || !*ref)
        return crm_err_set(err, CRM_EUSAGE, "no %s given", what);
    crm_ref_kind kind = ref_kind(ref);
    const char *value = kind == CRM_REF_EXTERNAL ? ref + 4 : ref;
    for (size_t i = 0; i < n; i++) {
        if (rules[i].kind != kind)
            continue;
        sqlite3_stmt *st = crm_store_stmt(k->store, rules[i].sql, err);
        if (!st)
            return err ? err->code : CRM_EDB;
        sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return crm_store_error(k->store, "lookup failed", err);
        if (*id)
            return CRM_OK;
    }
    return crm_err_set(err, CRM_ENOTFOUND, "no %s matches '%s'", what, ref);
}

static void sql_append(crm_sql *q, const char *s)
{
    size_t add = strlen(s);
    if (CRM_ARRAY_RESERVE(q->text, q->cap, q->len + add + 1) != CRM_OK)
        return; /* crm_sql_each reports the truncated text as a failure */
    memcpy(q->text + q->len, s, add + 1);
    q->len += add;
}

void crm_sql_init(crm_sql *q, const char *select)
{
    memset(q, 0, sizeof *q);
    sql_append(q, select);
}

void crm_sql_where(crm_sql *q, const char *clause, const char *value)
{
    if (q->n_params >= (int)(sizeof q->params / sizeof q->params[0]))
        return;
    sql_append(q, q->n_where++ ? " AND (" : " WHERE (");
    sql_append(q, clause);
    sql_append(q, ")");
    q->params[q->n_params++] = value;
}

void crm_sql_page(crm_sql *q, const char *order_by, int64_t limit, int64_t offset)
{
    char buf[96];
    sql_append(q, " ORDER BY ");
    sql_append(q, order_by);
    if (limit > 0) {
        snprintf(buf, sizeof buf, " LIMIT %lld OFFSET %lld", (long long)limit,
                 (long long)(offset > 0 ? offset : 0));
        sql_append(q, buf);
    }
}

int crm_sql_each(crm_kernel *k, crm_sql *q, int (*row)(sqlite3_stmt *st, void *ud), void *ud,
                 crm_err *err)
{
    if (!q->text)
        return crm_err_set(err, CRM_ENOMEM, "out of memory building a query");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(crm_store_db(k->store), q->text, -1, &st, NULL) != SQLITE_OK)
        return crm_store_error(k->store, "cannot prepare query", err);
    for (int i = 0; i < q->n_params; i++)
        sqlite3_bind_text(st, i + 1, q->params[i], -1, SQLITE_STATIC);
    int rc, result = CRM_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        result = row(st, ud);
        if (result != CRM_OK)
            break;
    }
    if (result == CRM_OK && rc != SQLITE_DONE)
        result = crm_store_error(k->store, "query failed", err);
    sqlite3_finalize(st);
    return result > 0 ? CRM_OK : result;
}

void crm_sql_free(crm_sql *q)
{
    free(q->text);
    memset(q, 0, sizeof *q);
}

int crm_stmt_json_each(crm_kernel *k, sqlite3_stmt *st, json_t *(*to_json)(sqlite3_stmt *st),
                       const char *what, int (*fn)(json_t *item, void *ud), void *ud,
                       crm_err *err)
{
    json_t *rows = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(rows, to_json(st));
    sqlite3_reset(st);
    char msg[128];
    snprintf(msg, sizeof msg, "cannot read %s", what);
    int result = rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, msg, err);
    size_t i;
    json_t *item;
    json_array_foreach(rows, i, item) {
        if (result != CRM_OK || fn(item, ud))
            break;
    }
    json_decref(rows);
    return result;
}

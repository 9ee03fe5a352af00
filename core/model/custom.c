/* Custom field values: declared per entity in crm.yaml, stored as text in
 * custom_values, checked by type on every write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hygiene.h"
#include "model.h"
#include "util.h"

void crm_kv_free(crm_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static int replace_value(char **value, char *fresh)
{
    if (!fresh)
        return CRM_ENOMEM;
    free(*value);
    *value = fresh;
    return CRM_OK;
}

static int check_integer(const char *path, char **value, crm_err *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(*value, &end, 10);
    if (end == *value || *end || errno == ERANGE)
        return crm_err_set(err, CRM_EINVAL, "%s: '%s' is not an integer", path, *value);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return replace_value(value, strdup(buf));
}

static int check_decimal(const char *path, char **value, crm_err *err)
{
    /* Decimals keep up to 6 places exactly: parsed as scaled integers. */
    int64_t scaled;
    if (crm_parse_money(path, *value, 6, &scaled, err) != CRM_OK)
        return crm_err_set(err, CRM_EINVAL, "%s: '%s' is not a decimal number", path, *value);
    char buf[48];
    crm_format_money(scaled, 6, buf, sizeof buf);
    /* Trim trailing zeros for a canonical form: "12.500000" -> "12.5". */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    return replace_value(value, strdup(buf));
}

static int check_boolean(const char *path, char **value, crm_err *err)
{
    static const char *const yes[] = {"true", "yes", "1", "on", "oui", NULL};
    static const char *const no[] = {"false", "no", "0", "off", "non", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(*value, yes[i]) == 0)
            return replace_value(value, strdup("true"));
    for (int i = 0; no[i]; i++)
        if (strcasecmp(*value, no[i]) == 0)
            return replace_value(value, strdup("false"));
    return crm_err_set(err, CRM_EINVAL, "%s: '%s' is not a boolean (expected true or false)", path,
                       *value);
}

static int check_enum(const crm_custom_field *f, const char *path, char **value, crm_err *err)
{
    for (size_t i = 0; i < f->n_enum; i++)
        if (strcmp(*value, f->enum_values[i]) == 0)
            return CRM_OK;
    char list[512] = "";
    for (size_t i = 0; i < f->n_enum; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, f->enum_values[i], sizeof list - strlen(list) - 1);
    }
    return crm_err_set(err, CRM_EINVAL, "%s: '%s' is not one of the allowed values (%s)", path,
                       *value, list);
}

static int check_value(const crm_kernel *k, const crm_custom_field *f, char **value, crm_err *err)
{
    char path[160];
    snprintf(path, sizeof path, "custom.%s", f->name);
    char *clean = NULL;
    int rc = crm_clean_text(path, *value, &clean, err);
    if (rc != CRM_OK)
        return rc;
    replace_value(value, clean);
    if (!**value)
        return CRM_OK; /* "" removes the value */
    switch (f->type) {
    case CRM_FIELD_TEXT:
        return CRM_OK;
    case CRM_FIELD_INTEGER:
        return check_integer(path, value, err);
    case CRM_FIELD_DECIMAL:
        return check_decimal(path, value, err);
    case CRM_FIELD_DATE:
        rc = crm_normalise_date(path, *value, 0, &clean, err);
        return rc == CRM_OK ? replace_value(value, clean) : rc;
    case CRM_FIELD_BOOLEAN:
        return check_boolean(path, value, err);
    case CRM_FIELD_ENUM:
        return check_enum(f, path, value, err);
    }
    return crm_err_set(err, CRM_EINTERNAL, "%s: unknown field type", path);
}

static bool has_value(const crm_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, name) == 0 && kv[i].value && *kv[i].value)
            return true;
    return false;
}

int crm_custom_validate(const crm_kernel *k, crm_entity e, crm_kv *kv, size_t n, bool is_update,
                        crm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const crm_custom_field *f = crm_config_custom_field(k->cfg, e, kv[i].key);
        if (!f)
            return crm_err_set(err, CRM_EINVAL,
                               "custom.%s: no such custom field for %s (declare it under "
                               "custom_fields.%s in crm.yaml)",
                               kv[i].key, crm_entity_name(e), crm_entity_name(e));
        int rc = check_value(k, f, &kv[i].value, err);
        if (rc != CRM_OK)
            return rc;
    }
    if (is_update)
        return CRM_OK;
    for (size_t i = 0; i < k->cfg->n_custom[e]; i++) {
        const crm_custom_field *f = &k->cfg->custom[e][i];
        if (f->required && !has_value(kv, n, f->name))
            return crm_err_set(err, CRM_EINVAL, "custom.%s: is required for every %s", f->name,
                               crm_entity_name(e));
    }
    return CRM_OK;
}

int crm_custom_store(crm_kernel *k, crm_entity e, int64_t id, const crm_kv *kv, size_t n,
                     crm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        bool clear = !kv[i].value || !*kv[i].value;
        sqlite3_stmt *st = crm_store_stmt(
            k->store,
            clear ? "DELETE FROM custom_values WHERE entity=? AND entity_id=? AND name=?"
                  : "INSERT INTO custom_values(entity, entity_id, name, value) VALUES(?,?,?,?)"
                    " ON CONFLICT(entity, entity_id, name) DO UPDATE SET value=excluded.value",
            err);
        if (!st)
            return err ? err->code : CRM_EDB;
        sqlite3_bind_text(st, 1, crm_entity_name(e), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_text(st, 3, kv[i].key, -1, SQLITE_STATIC);
        if (!clear)
            sqlite3_bind_text(st, 4, kv[i].value, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return crm_store_error(k->store, "cannot store custom value", err);
    }
    return CRM_OK;
}

int crm_custom_load(crm_kernel *k, crm_entity e, int64_t id, crm_kv **kv, size_t *n, crm_err *err)
{
    *kv = NULL;
    *n = 0;
    sqlite3_stmt *st = crm_store_stmt(
        k->store,
        "SELECT name, value FROM custom_values WHERE entity=? AND entity_id=? ORDER BY name", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, crm_entity_name(e), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        crm_kv *slot = CRM_ARRAY_APPEND(*kv, *n);
        if (!slot) {
            sqlite3_reset(st);
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
        }
        slot->key = crm_column_strdup(st, 0);
        slot->value = crm_column_strdup(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK : crm_store_error(k->store, "cannot load custom values", err);
}

int crm_custom_delete(crm_kernel *k, crm_entity e, int64_t id, crm_err *err)
{
    sqlite3_stmt *st =
        crm_store_stmt(k->store, "DELETE FROM custom_values WHERE entity=? AND entity_id=?", err);
    if (!st)
        return err ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, crm_entity_name(e), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CRM_OK
                             : crm_store_error(k->store, "cannot delete custom values", err);
}

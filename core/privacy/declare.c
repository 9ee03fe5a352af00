/* Plugins' personal-data declarations, and the start-time check that no
 * plugin keeps per-contact rows the erasure would not reach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/privacy.h"

static bool ident_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static plug_privacy *state(crm_plugin_ctx *p)
{
    if (!p->privacy)
        p->privacy = calloc(1, sizeof *p->privacy);
    return p->privacy;
}

/* A refusal during init refuses the plugin (as every registration does). */
static int refuse_reg(crm_plugin_ctx *p, int code, const char *what)
{
    crm_plug_fail(p, code, "%s", what);
    if (p->state == PLUG_INITING && !p->reg_error[0])
        snprintf(p->reg_error, sizeof p->reg_error, "%s", p->error);
    return code;
}

int crm_privacy_declare_table(crm_plugin_ctx *p, const char *table, const char *column)
{
    char msg[512];
    if (p->state != PLUG_INITING)
        return crm_plug_fail(p, CRM_EDENIED, "declare_personal_data: the registry is frozen "
                                             "after init: declare in the plugin's init callback");
    size_t n = strlen(p->name);
    if (!ident_ok(table) || strncmp(table, p->name, n) != 0 || table[n] != '_') {
        snprintf(msg, sizeof msg, "declare_personal_data: '%s' is not one of the plugin's "
                 "tables (expected %s_<name>)", table ? table : "(null)", p->name);
        return refuse_reg(p, CRM_EUSAGE, msg);
    }
    if (!ident_ok(column)) {
        snprintf(msg, sizeof msg, "declare_personal_data: '%s' is not a column name",
                 column ? column : "(null)");
        return refuse_reg(p, CRM_EUSAGE, msg);
    }
    plug_privacy *pv = state(p);
    plug_privacy_table *grown =
        pv ? realloc(pv->tables, (pv->n_tables + 1) * sizeof *grown) : NULL;
    if (!grown)
        return refuse_reg(p, CRM_ENOMEM, "declare_personal_data: out of memory");
    pv->tables = grown;
    plug_privacy_table *t = &grown[pv->n_tables];
    t->table = strdup(table);
    t->column = strdup(column);
    if (!t->table || !t->column) {
        free(t->table);
        free(t->column);
        return refuse_reg(p, CRM_ENOMEM, "declare_personal_data: out of memory");
    }
    pv->n_tables++;
    return CRM_OK;
}

int crm_privacy_declare_callbacks(crm_plugin_ctx *p, crm_personal_export_fn export_fn,
                                  crm_personal_erase_fn erase_fn, void *ud)
{
    if (p->state != PLUG_INITING)
        return crm_plug_fail(p, CRM_EDENIED, "declare_personal_callbacks: the registry is "
                                             "frozen after init: declare in init");
    if (!export_fn && !erase_fn)
        return refuse_reg(p, CRM_EUSAGE, "declare_personal_callbacks: give export_fn, "
                                         "erase_fn or both");
    plug_privacy *pv = state(p);
    if (!pv)
        return refuse_reg(p, CRM_ENOMEM, "declare_personal_callbacks: out of memory");
    if (pv->callbacks)
        return refuse_reg(p, CRM_EEXISTS, "declare_personal_callbacks: declared twice");
    pv->callbacks = true;
    pv->export_fn = export_fn;
    pv->erase_fn = erase_fn;
    pv->ud = ud;
    return CRM_OK;
}

void crm_privacy_plugin_free(crm_plugin_ctx *p)
{
    plug_privacy *pv = p->privacy;
    if (!pv)
        return;
    for (size_t i = 0; i < pv->n_tables; i++) {
        free(pv->tables[i].table);
        free(pv->tables[i].column);
    }
    free(pv->tables);
    free(pv);
    p->privacy = NULL;
}

static const plug_privacy_table *declared(const crm_plugin_ctx *p, const char *table)
{
    for (size_t i = 0; p->privacy && i < p->privacy->n_tables; i++)
        if (strcmp(p->privacy->tables[i].table, table) == 0)
            return &p->privacy->tables[i];
    return NULL;
}

static int has_column(sqlite3 *db, const char *table, const char *column, bool *found)
{
    sqlite3_stmt *st;
    *found = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name=?", -1, &st,
                           NULL) != SQLITE_OK)
        return CRM_EDB;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK : CRM_EDB;
}

int crm_privacy_check_plugin(crm_plugin_ctx *p, crm_err *err)
{
    sqlite3 *db = crm_store_db(p->host->k->store);
    char pattern[160];
    snprintf(pattern, sizeof pattern, "%s\\_%%", p->name);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type='table'"
                           " AND name LIKE ? ESCAPE '\\' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return crm_err_set(err, CRM_EDB, "cannot read the schema: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
    int rc = CRM_OK, step;
    bool callbacks = p->privacy && p->privacy->callbacks;
    while (rc == CRM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(st, 0);
        bool found;
        rc = has_column(db, table, "contact_id", &found);
        if (rc == CRM_OK && found && !declared(p, table) && !callbacks)
            rc = crm_err_set(err, CRM_EPLUGIN,
                             "plugin '%s' (%s): table %s has a contact_id column but the plugin "
                             "declares no personal data, so export and erasure would miss it: "
                             "call declare_personal_data(ctx, \"%s\", \"contact_id\") (or "
                             "declare_personal_callbacks) in init",
                             p->name, p->file, table, table);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; rc == CRM_OK && p->privacy && i < p->privacy->n_tables; i++) {
        const plug_privacy_table *t = &p->privacy->tables[i];
        bool found;
        rc = has_column(db, t->table, t->column, &found);
        if (rc == CRM_OK && !found)
            rc = crm_err_set(err, CRM_EPLUGIN,
                             "plugin '%s' (%s): declare_personal_data names %s.%s, which its "
                             "migrations do not create",
                             p->name, p->file, t->table, t->column);
    }
    if (rc == CRM_EDB)
        return crm_err_set(err, CRM_EDB, "cannot read the schema: %s", sqlite3_errmsg(db));
    return rc;
}

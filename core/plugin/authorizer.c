/* The SQLite authorizer that confines plugin code.
 *
 * It is installed on the host's connection while plugins are loaded and is
 * consulted when a statement is prepared. It only enforces while plugin code
 * runs (host->running set) and the host is not acting on the plugin's behalf
 * (host->trusted == 0, e.g. inside contact_update_json, which writes kernel
 * tables after validating). Rules for plugin P:
 *   - writes (INSERT, UPDATE, DELETE, CREATE/DROP/ALTER of tables, indexes,
 *     triggers, views): only P_* tables. CREATE [UNIQUE] INDEX ... ON P_x
 *     (partial ones too) is allowed: SQLite reports it as CREATE_INDEX with
 *     the table's name, then as REINDEX of the new index when it fills it
 *     from existing rows; REINDEX is allowed for that index or an index
 *     named P_*;
 *   - reads: P_* tables, kernel tables (anything not owned by a plugin) and
 *     the tables of plugins P requires;
 *   - no PRAGMA, ATTACH, DETACH, transaction statements (use the host API),
 *     temporary objects; of virtual tables only an FTS5 index named P_*
 *     (its shadow tables P_x_data ... are then P's own tables too).
 * A refusal is remembered in host->denial, naming the plugin and the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "internal.h"

typedef enum rule {
    ALLOW,
    DENY,
    READ_A1,   /* arg1 is a table read */
    WRITE_A1,  /* arg1 is a table (or view) written */
    WRITE_A2,  /* arg2 is the table written (indexes, triggers, ALTER) */
    INDEX,     /* CREATE INDEX: arg1 the index, arg2 its table (remembered) */
    REINDEX,   /* arg1 an index: the one just created, or named P_* */
    TXN,       /* transaction control: only the host's migrations */
    PRAGMA,    /* only the read-only ones SQLite's own FTS5 runs on its tables */
    VTABLE     /* CREATE/DROP VIRTUAL TABLE: arg1 the table, arg2 the module: fts5 on P_* */
} rule;

static const struct {
    int action;
    rule rule;
    const char *what;
} rules[] = {
    {SQLITE_SELECT, ALLOW, "select"},
    {SQLITE_FUNCTION, ALLOW, "call a function"},
    {SQLITE_RECURSIVE, ALLOW, "recurse"},
    {SQLITE_READ, READ_A1, "read"},
    {SQLITE_INSERT, WRITE_A1, "write"},
    {SQLITE_UPDATE, WRITE_A1, "write"},
    {SQLITE_DELETE, WRITE_A1, "write"},
    {SQLITE_CREATE_TABLE, WRITE_A1, "create"},
    {SQLITE_DROP_TABLE, WRITE_A1, "drop"},
    {SQLITE_CREATE_VIEW, WRITE_A1, "create"},
    {SQLITE_DROP_VIEW, WRITE_A1, "drop"},
    {SQLITE_CREATE_INDEX, INDEX, "index"},
    {SQLITE_DROP_INDEX, WRITE_A2, "drop an index of"},
    {SQLITE_CREATE_TRIGGER, WRITE_A2, "add a trigger to"},
    {SQLITE_DROP_TRIGGER, WRITE_A2, "drop a trigger of"},
    {SQLITE_ALTER_TABLE, WRITE_A2, "alter"},
    {SQLITE_TRANSACTION, TXN, "control transactions (use crm_begin/crm_commit)"},
    {SQLITE_SAVEPOINT, TXN, "control transactions (use crm_begin/crm_commit)"},
    {SQLITE_PRAGMA, PRAGMA, "run PRAGMA"},
    {SQLITE_ATTACH, DENY, "attach a database"},
    {SQLITE_DETACH, DENY, "detach a database"},
    {SQLITE_ANALYZE, DENY, "run ANALYZE"},
    {SQLITE_REINDEX, REINDEX, "reindex"},
    {SQLITE_CREATE_VTABLE, VTABLE, "create a virtual table"},
    {SQLITE_DROP_VTABLE, VTABLE, "drop a virtual table"},
};

static bool has_prefix(const char *table, const char *name)
{
    size_t n = strlen(name);
    return table && strncmp(table, name, n) == 0 && table[n] == '_';
}

static bool is_schema_table(const char *table)
{
    return table && strncmp(table, "sqlite_", 7) == 0;
}

/* The plugin owning `table` (longest matching owner prefix), or NULL. */
static const char *owner_of(const crm_plugin_host *h, const char *table)
{
    const char *best = NULL;
    for (size_t i = 0; i < h->n_owners; i++)
        if (has_prefix(table, h->owners[i]) && (!best || strlen(h->owners[i]) > strlen(best)))
            best = h->owners[i];
    return best;
}

static bool may_read(const crm_plugin_host *h, const crm_plugin_ctx *p, const char *table)
{
    const char *owner = owner_of(h, table);
    if (!owner || strcmp(owner, p->name) == 0 || is_schema_table(table))
        return true;
    for (size_t i = 0; i < p->n_deps; i++)
        if (strcmp(p->deps[i]->name, owner) == 0)
            return true;
    return false;
}

static bool may_write(const crm_plugin_host *h, const crm_plugin_ctx *p, const char *table)
{
    if (!table)
        return false;
    if (strcmp(table, "sqlite_master") == 0 || strcmp(table, "sqlite_temp_master") == 0)
        return true; /* the schema row of DDL that is itself checked */
    if (h->migrating && strcmp(table, "schema_migrations") == 0)
        return true;
    const char *owner = owner_of(h, table);
    return owner && strcmp(owner, p->name) == 0;
}

static int deny(crm_plugin_host *h, const char *fmt, const char *what, const char *table)
{
    const crm_plugin_ctx *p = h->running;
    char reason[384];
    snprintf(reason, sizeof reason, fmt, what, table ? table : "");
    snprintf(h->denial, sizeof h->denial, "plugin '%s' may not %s", p->name, reason);
    return SQLITE_DENY;
}

static int check(crm_plugin_host *h, int action, const char *a1, const char *a2)
{
    const crm_plugin_ctx *p = h->running;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (rules[i].action != action)
            continue;
        const char *what = rules[i].what;
        switch (rules[i].rule) {
        case ALLOW:
            return SQLITE_OK;
        case READ_A1:
            return may_read(h, p, a1)
                       ? SQLITE_OK
                       : deny(h, "%s table '%s': it belongs to a plugin this one does not require",
                              what, a1);
        case WRITE_A1:
        case WRITE_A2: {
            const char *t = rules[i].rule == WRITE_A1 ? a1 : a2;
            return may_write(h, p, t)
                       ? SQLITE_OK
                       : deny(h, "%s table '%s': a plugin writes only its own tables "
                                 "(kernel entities go through the host API)",
                              what, t);
        }
        case INDEX:
            if (!may_write(h, p, a2))
                return deny(h, "%s table '%s': a plugin writes only its own tables "
                               "(kernel entities go through the host API)",
                            what, a2);
            snprintf(h->new_index, sizeof h->new_index, "%s", a1 ? a1 : "");
            return SQLITE_OK;
        case REINDEX:
            if (a1 && ((h->new_index[0] && strcmp(a1, h->new_index) == 0) ||
                       (owner_of(h, a1) && strcmp(owner_of(h, a1), p->name) == 0)))
                return SQLITE_OK;
            return deny(h, "%s '%s': only an index of its own tables", what, a1);
        case PRAGMA:
            /* fts5 reads data_version to notice other connections' writes
             * to its index; reading it (no value: a2 NULL) changes nothing */
            if (a1 && (!strcmp(a1, "data_version") || !strcmp(a1, "page_size")) && !a2)
                return SQLITE_OK;
            return deny(h, "%s %s", what, a1);
        case VTABLE:
            /* full-text search is the one module a plugin needs: its index
             * is a table of its own like any other */
            if (a2 && strcmp(a2, "fts5") == 0 && may_write(h, p, a1))
                return SQLITE_OK;
            return deny(h, "%s '%s' (only an fts5 table named after the plugin)", what, a1);
        case TXN:
            return h->migrating ? SQLITE_OK : deny(h, "%s%s", what, NULL);
        case DENY:
            return deny(h, "%s%s", what, NULL);
        }
    }
    return deny(h, "%s%s", "run this statement (action not allowed to plugins)", NULL);
}

static int authorize(void *ud, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    crm_plugin_host *h = ud;
    (void)db;
    (void)trigger;
    if (!h->running || h->trusted > 0)
        return SQLITE_OK;
    /* Temporary objects: a plugin has no business with them. */
    if (action == SQLITE_CREATE_TEMP_TABLE || action == SQLITE_CREATE_TEMP_INDEX ||
        action == SQLITE_CREATE_TEMP_TRIGGER || action == SQLITE_CREATE_TEMP_VIEW ||
        action == SQLITE_DROP_TEMP_TABLE || action == SQLITE_DROP_TEMP_INDEX ||
        action == SQLITE_DROP_TEMP_TRIGGER || action == SQLITE_DROP_TEMP_VIEW)
        return deny(h, "%s%s", "create or drop temporary objects", NULL);
    return check(h, action, a1, a2);
}

void crm_plug_authorizer_install(crm_plugin_host *h)
{
    sqlite3_set_authorizer(crm_store_db(h->k->store), authorize, h);
    h->authorizer_on = true;
}

void crm_plug_authorizer_remove(crm_plugin_host *h)
{
    if (h->authorizer_on)
        sqlite3_set_authorizer(crm_store_db(h->k->store), NULL, NULL);
    h->authorizer_on = false;
}

/* ---- owners ------------------------------------------------------------------ */

static const char *const kernel_owners[] = {"kernel", "bus", "lua", NULL};

static int add_owner(crm_plugin_host *h, const char *name)
{
    if (crm_str_in(name, kernel_owners) || crm_strv_contains(h->owners, h->n_owners, name))
        return CRM_OK;
    return crm_strv_push(&h->owners, &h->n_owners, name);
}

int crm_plug_load_owners(crm_plugin_host *h, crm_err *err)
{
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < h->n_all; i++)
        rc = add_owner(h, h->all[i]->name);
    sqlite3_stmt *st = NULL;
    if (rc == CRM_OK &&
        sqlite3_prepare_v2(crm_store_db(h->k->store),
                           "SELECT DISTINCT owner FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK)
        return crm_store_error(h->k->store, "cannot read plugin owners", err);
    while (rc == CRM_OK && st && sqlite3_step(st) == SQLITE_ROW)
        rc = add_owner(h, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == CRM_OK ? CRM_OK : crm_err_set(err, rc, "out of memory");
}

/* ---- static check of migration SQL ---------------------------------------------- */

/* Reads the next word or quoted identifier of sql at *pos into buf (lower-
 * cased when unquoted); skips spaces, comments and string literals. Returns
 * false at the end. Punctuation comes back as one-character words. */
static bool next_word(const char *sql, size_t *pos, char *buf, size_t size)
{
    size_t i = *pos, n = 0;
    for (;;) {
        while (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r')
            i++;
        if (sql[i] == '-' && sql[i + 1] == '-')
            while (sql[i] && sql[i] != '\n')
                i++;
        else if (sql[i] == '/' && sql[i + 1] == '*') {
            const char *end = strstr(sql + i + 2, "*/");
            i = end ? (size_t)(end - sql) + 2 : strlen(sql);
        } else if (sql[i] == '\'') {
            for (i++; sql[i] && !(sql[i] == '\'' && sql[i + 1] != '\''); i += sql[i] == '\'' ? 2 : 1)
                ;
            i += sql[i] != '\0';
        } else
            break;
    }
    if (!sql[i])
        return false;
    char close = sql[i] == '"' ? '"' : sql[i] == '`' ? '`' : sql[i] == '[' ? ']' : 0;
    if (close) {
        for (i++; sql[i] && sql[i] != close; i++)
            if (n + 1 < size)
                buf[n++] = sql[i];
        i += sql[i] != '\0';
    } else if ((sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z') ||
               (sql[i] >= '0' && sql[i] <= '9') || sql[i] == '_') {
        for (; (sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z') ||
               (sql[i] >= '0' && sql[i] <= '9') || sql[i] == '_';
             i++)
            if (n + 1 < size)
                buf[n++] = (char)(sql[i] >= 'A' && sql[i] <= 'Z' ? sql[i] + 32 : sql[i]);
    } else {
        buf[n++] = sql[i++];
    }
    buf[n] = '\0';
    *pos = i;
    return true;
}

/* After "create [temp] table|view", the object's name (skipping IF NOT EXISTS
 * and a schema qualifier). */
static void object_name(const char *sql, size_t *pos, char *name, size_t size)
{
    char w[128];
    size_t save = *pos;
    name[0] = '\0';
    while (next_word(sql, pos, w, sizeof w)) {
        if (strcmp(w, "if") == 0 || strcmp(w, "not") == 0 || strcmp(w, "exists") == 0)
            continue;
        snprintf(name, size, "%s", w);
        save = *pos;
        if (next_word(sql, pos, w, sizeof w) && strcmp(w, ".") == 0 &&
            next_word(sql, pos, w, sizeof w)) {
            snprintf(name, size, "%s", w);
            return;
        }
        *pos = save;
        return;
    }
}

bool crm_plug_sql_tables_ok(const char *plugin, const char *sql, char *bad, size_t size)
{
    char w[128], prev[128] = "", prev2[128] = "";
    size_t pos = 0;
    while (next_word(sql, &pos, w, sizeof w)) {
        bool creates = (strcmp(w, "table") == 0 || strcmp(w, "view") == 0) &&
                       (strcmp(prev, "create") == 0 ||
                        (strcmp(prev2, "create") == 0 &&
                         (strcmp(prev, "temp") == 0 || strcmp(prev, "temporary") == 0)));
        snprintf(prev2, sizeof prev2, "%s", prev);
        snprintf(prev, sizeof prev, "%s", w);
        if (!creates)
            continue;
        char name[128];
        object_name(sql, &pos, name, sizeof name);
        if (!has_prefix(name, plugin)) {
            snprintf(bad, size, "%s", name);
            return false;
        }
    }
    return true;
}

/* Host API, SQL and transactions: statements on the host's connection with
 * the plugin's rights (the authorizer checks them), and the kernel's
 * transactions, which the host opens on the plugin's behalf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

struct crm_stmt {
    const crm_host_api *api;  /* struct crm_handle_head */
    crm_plugin_ctx *ctx;
    sqlite3_stmt *st;
};

/* ---- SQL ------------------------------------------------------------------------------ */

/* Plugins' init runs before the database is opened (a refused start writes
 * nothing), so data calls made there are refused rather than crash. */
bool crm_plug_no_db(crm_plugin_ctx *p)
{
    if (p->host->k->store)
        return false;
    crm_plug_fail(p, CRM_EBUSY,
                  "no database during init" DASH "use SQL and entity calls from start on");
    return true;
}

sqlite3 *crm_plug_db(crm_plugin_ctx *p) { return crm_store_db(p->host->k->store); }

/* The authorizer's refusal when there was one, else SQLite's message. */
int crm_plug_sql_fail(crm_plugin_ctx *p, const char *what)
{
    crm_plugin_host *h = p->host;
    if (h->denial[0]) {
        crm_plug_fail(p, CRM_EDENIED, "%s", h->denial);
        fprintf(stderr, "crm: denied: %s\n", h->denial);
        return CRM_EDENIED;
    }
    int ext = sqlite3_extended_errcode(crm_plug_db(p));
    /* a constraint refuses the data (exit 1); only the database failing is CRM_EDB */
    bool constraint = (ext & 0xff) == SQLITE_CONSTRAINT;
    p->constraint = p->constraint || constraint;
    int code = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                   ? CRM_EEXISTS
               : constraint               ? CRM_EINVAL
               : (ext & 0xff) == SQLITE_BUSY ? CRM_EBUSY
                                             : CRM_EDB;
    return crm_plug_fail(p, code, "%s: %s", what, sqlite3_errmsg(crm_plug_db(p)));
}

bool crm_plug_only_space(const char *s)
{
    for (; s && *s; s++)
        if (!strchr(" \t\r\n;", *s))
            return false;
    return true;
}

int crm_plug_api_sql_prepare(crm_plugin_ctx *p, const char *sql, crm_stmt **out)
{
    *out = NULL;
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return crm_plug_nomem(p);
    plug_frame f;
    const char *tail = NULL;
    crm_plug_enter(p, &f);
    p->host->denial[0] = '\0';
    int rc = sqlite3_prepare_v2(crm_plug_db(p), sql, -1, &s->st, &tail);
    rc = rc == SQLITE_OK ? CRM_OK : crm_plug_sql_fail(p, "cannot prepare SQL");
    crm_plug_leave(p, &f);
    if (rc == CRM_OK && !crm_plug_only_space(tail))
        rc = crm_plug_fail(p, CRM_EUSAGE, "sql_prepare takes one statement: use sql_exec");
    if (rc == CRM_OK && !s->st)
        rc = crm_plug_fail(p, CRM_EUSAGE, "sql_prepare: no statement in '%s'", sql);
    if (rc != CRM_OK) {
        sqlite3_finalize(s->st);
        free(s);
        return rc;
    }
    s->api = p->api;
    s->ctx = p;
    *out = s;
    return CRM_OK;
}

static int bind_result(crm_stmt *s, int rc)
{
    return rc == SQLITE_OK ? CRM_OK : crm_plug_sql_fail(s->ctx, "cannot bind");
}

int crm_plug_api_bind_int64(crm_stmt *s, int idx, int64_t v)
{
    return bind_result(s, sqlite3_bind_int64(s->st, idx, v));
}

int crm_plug_api_bind_text(crm_stmt *s, int idx, const char *v)
{
    return bind_result(s, v ? sqlite3_bind_text(s->st, idx, v, -1, SQLITE_TRANSIENT)
                            : sqlite3_bind_null(s->st, idx));
}

int crm_plug_api_bind_null(crm_stmt *s, int idx)
{
    return bind_result(s, sqlite3_bind_null(s->st, idx));
}

int crm_plug_api_step(crm_stmt *s)
{
    plug_frame f;
    crm_plug_enter(s->ctx, &f);
    s->ctx->host->denial[0] = '\0';
    int rc = sqlite3_step(s->st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        rc = crm_plug_sql_fail(s->ctx, "SQL failed");
    crm_plug_leave(s->ctx, &f);
    return rc == SQLITE_ROW ? CRM_SQL_ROW : rc == SQLITE_DONE ? CRM_SQL_DONE : rc;
}

int crm_plug_api_reset(crm_stmt *s)
{
    sqlite3_reset(s->st);
    return CRM_OK;
}

int crm_plug_api_column_count(crm_stmt *s) { return sqlite3_column_count(s->st); }
int64_t crm_plug_api_column_int64(crm_stmt *s, int c) { return sqlite3_column_int64(s->st, c); }
int crm_plug_api_column_type(crm_stmt *s, int c) { return sqlite3_column_type(s->st, c); }

const char *crm_plug_api_column_text(crm_stmt *s, int c)
{
    return (const char *)sqlite3_column_text(s->st, c);
}

void crm_plug_api_finalize(crm_stmt *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->st);
    free(s);
}

int crm_plug_api_exec(crm_plugin_ctx *p, const char *sql)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    plug_frame f;
    crm_plug_enter(p, &f);
    p->host->denial[0] = '\0';
    int rc = sqlite3_exec(crm_plug_db(p), sql, NULL, NULL, NULL);
    rc = rc == SQLITE_OK ? CRM_OK : crm_plug_sql_fail(p, "SQL failed");
    crm_plug_leave(p, &f);
    return rc;
}

int64_t crm_plug_api_last_insert_id(crm_plugin_ctx *p)
{
    return crm_plug_no_db(p) ? 0 : sqlite3_last_insert_rowid(crm_plug_db(p));
}

/* ---- transactions and kernel calls: the host acts on the plugin's behalf ------------ */

int crm_plug_host_result(crm_plugin_ctx *p, int rc, const crm_err *e)
{
    return rc == CRM_OK ? CRM_OK : crm_plug_fail(p, rc, "%s", e->msg);
}

int crm_plug_api_begin(crm_plugin_ctx *p)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    p->host->trusted++;
    int rc = crm_kernel_begin(p->host->k, &e);
    p->host->trusted--;
    return crm_plug_host_result(p, rc, &e);
}

int crm_plug_api_commit(crm_plugin_ctx *p)
{
    if (crm_plug_no_db(p))
        return CRM_EBUSY;
    crm_err e = {0};
    p->host->trusted++;
    int rc = crm_kernel_commit(p->host->k, &e);
    p->host->trusted--;
    return crm_plug_host_result(p, rc, &e);
}

void crm_plug_api_rollback(crm_plugin_ctx *p)
{
    if (!p->host->k->store)
        return;
    p->host->trusted++;
    crm_kernel_rollback(p->host->k);
    p->host->trusted--;
}

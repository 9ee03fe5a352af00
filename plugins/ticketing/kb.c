/* ticketing plugin — the knowledge base: articles in ticketing_kb, indexed
 * by an FTS5 table (unicode61, diacritics removed: "eleve" finds "élève"),
 * searched ranked by bm25 (title weighted over body and tags); `crm ticket
 * suggest` searches with the words of a ticket's subject and description. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tk_int.h"

static int index_article(crm_plugin_ctx *ctx, int64_t id, const char *title, const char *body,
                         const char *tags)
{
    int rc = tk_run(ctx, "DELETE FROM ticketing_kb_fts WHERE rowid = ?1", 1, id);
    crm_stmt *st = rc == CRM_OK ? tk_prep(ctx, "INSERT INTO ticketing_kb_fts (rowid, title, body,"
                                               " tags) VALUES (?1, ?2, ?3, ?4)", 1, id)
                                : NULL;
    if (!st)
        return tk_fail_db(ctx, "indexing the article");
    crm_sql_bind_text(st, 2, title);
    crm_sql_bind_text(st, 3, body);
    crm_sql_bind_text(st, 4, tags);
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? tk_fail_db(ctx, "indexing the article") : CRM_OK;
}

static int check_status(crm_plugin_ctx *ctx, const char *s)
{
    if (s && strcmp(s, "draft") && strcmp(s, "published")) {
        crm_set_error(ctx, "--status: '%s' is not draft or published", s);
        return CRM_EUSAGE;
    }
    return CRM_OK;
}

typedef struct kb_req {
    int64_t id;
    const char *title, *body, *tags, *status;
} kb_req;

static int kb_write(crm_plugin_ctx *ctx, void *ud)
{
    kb_req *r = ud;
    int64_t now = crm_now(ctx);
    crm_stmt *st;
    if (!r->id)
        st = tk_prep(ctx, "INSERT INTO ticketing_kb (title, body, tags, status, created_at,"
                          " updated_at) VALUES (?2, ?3, ?4, ?5, ?1, ?1)", 1, now);
    else
        st = tk_prep(ctx, "UPDATE ticketing_kb SET title = coalesce(?2, title), body ="
                          " coalesce(?3, body), tags = coalesce(?4, tags), status ="
                          " coalesce(?5, status), updated_at = ?1 WHERE id = ?6", 1, now);
    if (!st)
        return tk_fail_db(ctx, "writing the article");
    const char *v[] = {r->title, r->body, r->tags, r->status};
    for (int i = 0; i < 4; i++)
        if (v[i])
            crm_sql_bind_text(st, 2 + i, v[i]);
        else
            crm_sql_bind_null(st, 2 + i);
    if (r->id)
        crm_sql_bind_int64(st, 6, r->id);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return tk_fail_db(ctx, "writing the article");
    if (!r->id)
        r->id = crm_sql_last_insert_id(ctx);
    st = tk_prep(ctx, "SELECT title, body, tags FROM ticketing_kb WHERE id = ?1", 1, r->id);
    if (!st || crm_sql_step(st) != CRM_SQL_ROW) {
        crm_sql_finalize(st);
        crm_set_error(ctx, "no article %lld (see crm kb search)", (long long)r->id);
        return CRM_ENOTFOUND;
    }
    rc = index_article(ctx, r->id, crm_sql_column_text(st, 0), crm_sql_column_text(st, 1),
                       crm_sql_column_text(st, 2));
    crm_sql_finalize(st);
    return rc;
}

int tk_cmd_kb_add(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    kb_req r = {0, tk_opt_text(args, "title"), tk_opt_text(args, "body"), tk_opt_text(args, "tags"),
                tk_opt_text(args, "status")};
    if (!r.tags)
        r.tags = "";
    if (!r.status)
        r.status = "published";
    int rc = check_status(ctx, r.status);
    if (rc == CRM_OK)
        rc = tk_in_txn(ctx, kb_write, &r);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "%lld\n", (long long)r.id);
    return rc;
}

int tk_cmd_kb_update(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    kb_req r = {0, tk_opt_text(args, "title"), tk_opt_text(args, "body"), tk_opt_text(args, "tags"),
                tk_opt_text(args, "status")};
    int rc = tk_arg_id(ctx, args, 0, &r.id);
    if (rc == CRM_OK)
        rc = check_status(ctx, r.status);
    if (rc == CRM_OK && !tk_scalar(ctx, 0, "SELECT id FROM ticketing_kb WHERE id = ?1", 1, r.id)) {
        crm_set_error(ctx, "no article %lld (see crm kb search)", (long long)r.id);
        rc = CRM_ENOTFOUND;
    }
    if (rc == CRM_OK)
        rc = tk_in_txn(ctx, kb_write, &r);
    if (rc == CRM_OK)
        fprintf(crm_io_out(io), "article %lld updated\n", (long long)r.id);
    return rc;
}

int tk_cmd_kb_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t id;
    int rc = tk_arg_id(ctx, args, 0, &id);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = tk_prep(ctx, "SELECT title, body, tags, status, updated_at FROM ticketing_kb"
                                " WHERE id = ?1", 1, id);
    if (!st || crm_sql_step(st) != CRM_SQL_ROW) {
        crm_sql_finalize(st);
        crm_set_error(ctx, "no article %lld (see crm kb search)", (long long)id);
        return CRM_ENOTFOUND;
    }
    if (crm_io_json(io)) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(id));
        json_object_set_new(o, "title", json_string(crm_sql_column_text(st, 0)));
        json_object_set_new(o, "body", json_string(crm_sql_column_text(st, 1)));
        json_object_set_new(o, "tags", json_string(crm_sql_column_text(st, 2)));
        json_object_set_new(o, "status", json_string(crm_sql_column_text(st, 3)));
        tk_json_time(ctx, o, "updated_at", crm_sql_column_int64(st, 4));
        rc = tk_print_json(io, o);
    } else {
        fprintf(crm_io_out(io), "# %s\n[%s] tags: %s\n\n%s\n", crm_sql_column_text(st, 0),
                crm_sql_column_text(st, 3), crm_sql_column_text(st, 2), crm_sql_column_text(st, 1));
    }
    crm_sql_finalize(st);
    return rc;
}

/* The words of text as an FTS5 OR query of quoted terms (no operator of
 * the user's text reaches the query parser). */
static void to_query(const char *text, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && len + 8 < size;) {
        while (*p && !(isalnum(*p) || *p >= 0x80))
            p++;
        const unsigned char *w = p;
        while (*p && (isalnum(*p) || *p >= 0x80))
            p++;
        size_t n = (size_t)(p - w);
        if (n < 3 || len + n + 8 >= size)
            continue; /* short words ("le", "a") only add noise */
        len += (size_t)snprintf(out + len, size - len, "%s\"%.*s\"", len ? " OR " : "", (int)n, w);
    }
}

static int search(crm_plugin_ctx *ctx, crm_command_io *io, const char *text, int64_t limit)
{
    char q[2048];
    to_query(text, q, sizeof q);
    if (!q[0]) {
        crm_set_error(ctx, "nothing to search for in '%s'", text);
        return CRM_EUSAGE;
    }
    crm_stmt *st = tk_prep(ctx,
                           "SELECT k.id, k.title, bm25(ticketing_kb_fts, 5.0, 1.0, 2.0) AS score"
                           " FROM ticketing_kb_fts f JOIN ticketing_kb k ON k.id = f.rowid"
                           " WHERE ticketing_kb_fts MATCH ?2 AND k.status = 'published'"
                           " ORDER BY score, k.id LIMIT ?1",
                           1, limit);
    if (!st)
        return tk_fail_db(ctx, "searching the knowledge base");
    crm_sql_bind_text(st, 2, q);
    int rc;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        if (crm_io_json(io)) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(crm_sql_column_int64(st, 0)));
            json_object_set_new(o, "title", json_string(crm_sql_column_text(st, 1)));
            tk_print_json(io, o);
        } else {
            fprintf(crm_io_out(io), "%-6lld %s\n", (long long)crm_sql_column_int64(st, 0),
                    crm_sql_column_text(st, 1));
        }
    }
    crm_sql_finalize(st);
    return rc < 0 ? tk_fail_db(ctx, "searching the knowledge base") : CRM_OK;
}

int tk_cmd_kb_search(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    crm_value lim;
    crm_args_option(args, "limit", &lim);
    return search(ctx, io, crm_args_get(args, 0), lim.given ? lim.i : 10);
}

int tk_cmd_suggest(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    int64_t id;
    int rc = tk_arg_id(ctx, args, 0, &id);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = tk_prep(ctx, "SELECT subject || ' ' || description FROM ticketing_tickets"
                                " WHERE id = ?1", 1, id);
    if (!st || crm_sql_step(st) != CRM_SQL_ROW) {
        crm_sql_finalize(st);
        crm_set_error(ctx, "no ticket %lld (see crm ticket list)", (long long)id);
        return CRM_ENOTFOUND;
    }
    char text[2048];
    tk_col_text(st, 0, text, sizeof text);
    crm_sql_finalize(st);
    return search(ctx, io, text, 5);
}

/* segmentation plugin — crm segment list|members|history|refresh|explain|
 * diff|add|remove. */
#include <stdlib.h>
#include <string.h>

#include "seg_int.h"

/* "rfm", "static", "lua" or "rule" for segment k of the grid, then the rules. */
static const char *segment_kind(crm_plugin_ctx *ctx, size_t k)
{
    const seg_rule *rk = k < SEG(ctx)->grid.n ? NULL : &SEG(ctx)->rules[k - SEG(ctx)->grid.n];
    return !rk ? "rfm" : rk->is_static ? "static" : rk->is_lua ? "lua" : "rule";
}

/* Open members of one segment (a prepared count reused per segment). */
static int64_t member_count(crm_stmt *st, const char *slug)
{
    if (!st)
        return 0;
    crm_sql_reset(st);
    crm_sql_bind_text(st, 1, slug);
    return crm_sql_step(st) == CRM_SQL_ROW ? crm_sql_column_int64(st, 0) : 0;
}

static int segment_list(crm_plugin_ctx *ctx, crm_command_io *io)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "SELECT count(*) FROM segmentation_members WHERE segment = ?1 AND"
                        " left_at IS NULL",
                        &st) != CRM_OK)
        return seg_fail_db(ctx, "counting members");
    size_t n = SEG(ctx)->grid.n + SEG(ctx)->nrules, never = 0;
    if (!crm_io_json(io))
        fprintf(crm_io_out(io), "%-24s %-7s %10s  %-20s  %s\n", "segment", "kind", "members",
                "refreshed as of", "name");
    for (size_t k = 0; k < n; k++) {
        const char *slug =
            k < SEG(ctx)->grid.n ? SEG(ctx)->cells[k].slug : SEG(ctx)->rules[k - SEG(ctx)->grid.n].slug;
        const char *kind = segment_kind(ctx, k);
        int64_t c = member_count(st, slug), at = 0;
        int refreshed = seg_segment_refreshed(ctx, slug, kind, &at);
        /* members without a recorded refresh: filled by events, or by a
         * refresh older than its record (migration 3) */
        int unrecorded = !refreshed && strcmp(kind, "static") && c > 0;
        never += !refreshed && strcmp(kind, "static") && !c;
        char day[32];
        if (crm_io_json(io))
            seg_print_json(io,
                           json_pack("{sssssssIso}", "segment", slug, "name", seg_grid_name(ctx, slug),
                                     "kind", kind, "members", (json_int_t)c, "refreshed_as_of",
                                     refreshed ? json_integer(at) : json_null()));
        else
            fprintf(crm_io_out(io), "%-24s %-7s %10lld  %-20s  %s\n", slug, kind, (long long)c,
                    refreshed                ? seg_fmt_day(ctx, at, day, sizeof day)
                    : unrecorded             ? "not recorded"
                    : strcmp(kind, "static") ? "never"
                                             : "-",
                    seg_grid_name(ctx, slug));
    }
    crm_sql_finalize(st);
    if (never)
        seg_note(io, 0,
                 "%zu segment%s never refreshed: crm rfm refresh fills the RFM segments, "
                 "crm segment refresh the rule and Lua ones (events keep them current "
                 "afterwards)",
                 never, never == 1 ? " was" : "s were");
    return CRM_OK;
}

/* A segment named on the command line: declared (RFM cell, rule, Lua or
 * static), or one no longer declared that still has rows in the table
 * (kind NULL). Anything else is refused with the known segments. */
typedef struct segment_ref {
    char slug[SEG_NAME_MAX];
    const char *kind;
} segment_ref;

static int segment_arg(crm_plugin_ctx *ctx, const char *name, int open_only, segment_ref *ref)
{
    seg_slugify(name, ref->slug, sizeof ref->slug);
    ref->kind = NULL;
    for (size_t k = 0; k < SEG(ctx)->grid.n + SEG(ctx)->nrules; k++) {
        const char *slug =
            k < SEG(ctx)->grid.n ? SEG(ctx)->cells[k].slug : SEG(ctx)->rules[k - SEG(ctx)->grid.n].slug;
        if (!strcmp(slug, ref->slug)) {
            ref->kind = segment_kind(ctx, k);
            return CRM_OK;
        }
    }
    crm_stmt *st = NULL;
    int rows = 0;
    if (crm_sql_prepare(ctx,
                        open_only ? "SELECT 1 FROM segmentation_members WHERE segment = ?1"
                                    " AND left_at IS NULL LIMIT 1"
                                  : "SELECT 1 FROM segmentation_members WHERE segment = ?1"
                                    " LIMIT 1",
                        &st) == CRM_OK) {
        crm_sql_bind_text(st, 1, ref->slug);
        rows = crm_sql_step(st) == CRM_SQL_ROW;
        crm_sql_finalize(st);
    }
    if (rows)
        return CRM_OK;
    char known[4096];
    seg_known_segments(ctx, known, sizeof known, 0);
    crm_set_error(ctx,
                  "no segment \"%s\"; known segments: %s (see crm segment list; declare "
                  "new ones in crm.yaml segmentation.segments)",
                  name, known);
    return CRM_ENOTFOUND;
}

/* What `segment members` holds: as of which refresh, or never refreshed. */
static void members_note(crm_plugin_ctx *ctx, crm_command_io *io, const segment_ref *ref,
                         size_t shown)
{
    char day[32];
    int64_t at = 0;
    if (!ref->kind) {
        seg_note(io, shown,
                 "%s is no longer declared in crm.yaml: these memberships are left "
                 "over",
                 ref->slug);
        return;
    }
    if (!strcmp(ref->kind, "static")) {
        if (!shown)
            seg_note(io, 0, "%s is a static list with no members: crm segment add %s CONTACT...",
                     ref->slug, ref->slug);
        return;
    }
    const char *how = !strcmp(ref->kind, "rfm") ? "crm rfm refresh" : "crm segment refresh";
    const char *sp = strcmp(ref->kind, "rfm") ? " " : "",
               *name = strcmp(ref->kind, "rfm") ? ref->slug : "";
    if (!seg_segment_refreshed(ctx, ref->slug, ref->kind, &at) && shown)
        seg_note(io, shown,
                 "%s: %zu member%s, kept current by events; no full refresh is recorded (%s%s%s "
                 "re-evaluates every contact)",
                 ref->slug, shown, shown == 1 ? "" : "s", how, sp, name);
    else if (seg_segment_refreshed(ctx, ref->slug, ref->kind, &at))
        seg_note(io, shown,
                 "%s: %zu member%s as of %s (%s%s%s recomputes; events keep it "
                 "current)",
                 ref->slug, shown, shown == 1 ? "" : "s", seg_fmt_day(ctx, at, day, sizeof day), how,
                 strcmp(ref->kind, "rfm") ? " " : "", strcmp(ref->kind, "rfm") ? ref->slug : "");
    else
        seg_note(io, shown, "%s has never been refreshed: run %s%s%s (--as-of DATE) to fill it",
                 ref->slug, how, strcmp(ref->kind, "rfm") ? " " : "",
                 strcmp(ref->kind, "rfm") ? ref->slug : "");
}

static int segment_members(crm_plugin_ctx *ctx, crm_command_io *io, const char *name)
{
    if (!name)
        return seg_usage(ctx, "segment members NAME");
    segment_ref ref;
    int rc = segment_arg(ctx, name, 1, &ref);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, "SELECT m.contact_id, c.external_id, m.entered_at FROM"
                             " segmentation_members m LEFT JOIN contacts c ON c.id ="
                             " m.contact_id WHERE m.segment = ?1 AND m.left_at IS NULL"
                             " ORDER BY m.contact_id", &st) != CRM_OK)
        return seg_fail_db(ctx, "listing members");
    crm_sql_bind_text(st, 1, ref.slug);
    size_t shown = 0;
    char day[48];
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW) {
        const char *x = crm_sql_column_text(st, 1);
        int64_t at = crm_sql_column_int64(st, 2);
        if (crm_io_json(io))
            seg_print_json(io, seg_json_iso(ctx, json_pack("{sIss?sI}", "contact_id",
                                         (json_int_t)crm_sql_column_int64(st, 0), "external_id", x,
                                         "entered_at", (json_int_t)at), seg_iso_entered_left));
        else
            fprintf(crm_io_out(io), "%lld\t%s\t%s\n", (long long)crm_sql_column_int64(st, 0),
                    x ? x : "", seg_fmt_day(ctx, at, day, sizeof day));
        shown++;
    }
    crm_sql_finalize(st);
    if (rc < 0)
        return seg_fail_db(ctx, "listing members");
    members_note(ctx, io, &ref, shown);
    return CRM_OK;
}

int seg_contact_set(crm_plugin_ctx *ctx, const char *name, crm_contact_sink add, void *sink,
                    void *ud)
{
    (void)ud;
    segment_ref ref;
    int rc = segment_arg(ctx, name, 1, &ref);
    if (rc != CRM_OK)
        return rc;
    seg_idlist ids = {0};
    rc = seg_current_members(ctx, ref.slug, &ids);
    for (size_t i = 0; rc == CRM_OK && i < ids.n; i++)
        rc = add(sink, ids.v[i]);
    if (rc == CRM_OK)
        members_note(ctx, NULL, &ref, ids.n);
    free(ids.v);
    return rc;
}

static int segment_history(crm_plugin_ctx *ctx, crm_command_io *io, const char *name)
{
    if (!name)
        return seg_usage(ctx, "segment history NAME");
    segment_ref ref;
    int rc = segment_arg(ctx, name, 0, &ref);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, "SELECT contact_id, entered_at, left_at FROM segmentation_members"
                             " WHERE segment = ?1 ORDER BY id", &st) != CRM_OK)
        return seg_fail_db(ctx, "reading history");
    crm_sql_bind_text(st, 1, ref.slug);
    size_t shown = 0;
    char day[48], day2[48];
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        int open = crm_sql_column_type(st, 2) == CRM_SQL_NULL;
        int64_t in = crm_sql_column_int64(st, 1), out = crm_sql_column_int64(st, 2);
        if (crm_io_json(io))
            seg_print_json(io, seg_json_iso(ctx, json_pack("{sIsIso}", "contact_id",
                                         (json_int_t)crm_sql_column_int64(st, 0), "entered_at",
                                         (json_int_t)in, "left_at",
                                         open ? json_null() : json_integer(out)),
                                         seg_iso_entered_left));
        else
            fprintf(crm_io_out(io), "%lld\t%s\t%s\n", (long long)crm_sql_column_int64(st, 0),
                    seg_fmt_day(ctx, in, day, sizeof day),
                    open ? "-" : seg_fmt_day(ctx, out, day2, sizeof day2));
        shown++;
    }
    crm_sql_finalize(st);
    if (!shown)
        members_note(ctx, io, &ref, 0);
    return CRM_OK;
}

/* The slugs of the rule and Lua segments, as "a, b" into buf. */
static void rule_names(crm_plugin_ctx *ctx, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < SEG(ctx)->nrules && len < size; i++) {
        if (SEG(ctx)->rules[i].is_static)
            continue;
        int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", SEG(ctx)->rules[i].slug);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* Re-evaluates the rule and Lua segments (or the one named) in one
 * transaction; prints only once it committed. */
static int segment_refresh(crm_plugin_ctx *ctx, crm_command_io *io, const char *name, int64_t as_of)
{
    seg_rule *only = name ? seg_find_rule(ctx, name) : NULL;
    char known[4096];
    rule_names(ctx, known, sizeof known);
    if (name && (!only || only->is_static)) {
        crm_set_error(ctx,
                      "no rule or Lua segment \"%s\"%s; refreshable segments: %s (RFM "
                      "segments are refreshed by crm rfm refresh; static lists change with "
                      "crm segment add|remove)",
                      name, only ? " (it is a static list)" : "", known[0] ? known : "none");
        return CRM_ENOTFOUND;
    }
    int64_t *counts = calloc(SEG(ctx)->nrules * 3 + 1, sizeof *counts);
    if (!counts) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    int rc = crm_begin(ctx);
    for (size_t i = 0; rc == CRM_OK && i < SEG(ctx)->nrules; i++) {
        seg_rule *rs = &SEG(ctx)->rules[i];
        if (rs->is_static || (only && only != rs))
            continue;
        rc = seg_rule_refresh(ctx, rs, as_of, &counts[3 * i], &counts[3 * i + 1]);
        counts[3 * i + 2] = 1;
    }
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    size_t done = 0;
    for (size_t i = 0; rc == CRM_OK && i < SEG(ctx)->nrules; i++) {
        const seg_rule *rs = &SEG(ctx)->rules[i];
        if (!counts[3 * i + 2])
            continue;
        done++;
        if (crm_io_json(io))
            seg_print_json(
                io, seg_json_iso(ctx, json_pack("{sssssIsIsI}", "segment", rs->slug, "kind",
                              rs->is_lua ? "lua" : "rule", "entered", (json_int_t)counts[3 * i],
                              "left", (json_int_t)counts[3 * i + 1], "as_of", (json_int_t)as_of),
                              seg_iso_as_of));
        else
            fprintf(crm_io_out(io), "%s: %lld entered, %lld left\n", rs->slug,
                    (long long)counts[3 * i], (long long)counts[3 * i + 1]);
    }
    free(counts);
    if (rc == CRM_OK && !done)
        seg_note(io, 0,
                 "no rule or Lua segment is declared (crm.yaml segmentation.segments); "
                 "RFM segments are refreshed by crm rfm refresh");
    return rc;
}

/* ---- diff --------------------------------------------------------------- */

static void print_ids(FILE *out, const char *label, const seg_idlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        fprintf(out, "%s %lld\n", label, (long long)l->v[i]);
}

static json_t *ids_json(const seg_idlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_integer(l->v[i]));
    return a;
}

/* True when a --rule argument names a Lua rule: FILE.lua:FUNCTION, or a
 * word that is not a readable file (a rule name from crm.yaml rules:). */
static int is_lua_spec(const char *arg)
{
    const char *colon = strrchr(arg, ':');
    if (colon && colon - arg > 4 && !strncmp(colon - 4, ".lua", 4))
        return 1;
    FILE *f = fopen(arg, "rb");
    if (f) {
        fclose(f);
        return 0;
    }
    return !strchr(arg, '/') && !strchr(arg, '.') && !colon;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 8192);
    size_t n = buf ? fread(buf, 1, 8191, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

/* The changed rule of `segment diff --rule|--where`: *lua gets a Lua spec,
 * or *cond the condition file or --where text compiled into alt. Neither
 * given is a usage error. */
static int diff_rule(crm_plugin_ctx *ctx, const crm_command_args *args, seg_cond *alt,
                     const seg_cond **cond, const char **lua)
{
    const char *file = seg_opt(args, "rule"), *where = seg_opt(args, "where");
    *lua = file && is_lua_spec(file) ? file : NULL;
    char *text = *lua ? NULL : file ? read_file(file) : where ? strdup(where) : NULL;
    if (!text && !*lua) {
        if (file)
            crm_set_error(ctx, "cannot read rule file %s (give a condition file, a Lua "
                               "FILE.lua:FUNCTION or a rule name from crm.yaml rules:)",
                          file);
        return file ? CRM_EIO
                    : seg_usage(ctx, "segment diff NAME --rule FILE|FILE.lua:FN|RULE "
                                     "(or --where COND)");
    }
    if (*lua && !CRM_API_HAS(ctx, call_rule)) {
        crm_set_error(ctx, "Lua rules need a crm whose plugin API has call_rule (1.1)");
        return CRM_EPLUGIN;
    }
    if (text) {
        char err[512];
        int bad = seg_cond_compile(seg_trim(text), alt, err, sizeof err);
        free(text);
        if (bad) {
            crm_set_error(ctx, "%s", err);
            return CRM_EINVAL;
        }
        *cond = alt;
    }
    return CRM_OK;
}

/* Dry run of a changed rule: who would enter and leave. Read-only: nothing
 * is written, no event emitted. */
static int segment_diff(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                        const char *name, const seg_rule *rs, int64_t as_of)
{
    seg_cond alt;
    const seg_cond *cond = rs ? &rs->cond : NULL;
    const char *lua = NULL;
    int rc = diff_rule(ctx, args, &alt, &cond, &lua);
    if (rc != CRM_OK)
        return rc;
    char slug[SEG_NAME_MAX];
    seg_slugify(name, slug, sizeof slug);
    seg_idlist want = {0}, have = {0}, enter = {0}, leave = {0};
    rc = lua ? seg_lua_matching(ctx, lua, &want) : seg_matching(ctx, cond, as_of, &want);
    if (rc == CRM_OK)
        rc = seg_current_members(ctx, slug, &have);
    if (rc == CRM_OK) {
        seg_diff_lists(&want, &have, &enter, &leave);
        if (crm_io_json(io)) {
            seg_print_json(io, json_pack("{sssososIsb}", "segment", slug, "enter", ids_json(&enter),
                                         "leave", ids_json(&leave), "stay",
                                         (json_int_t)(want.n - enter.n), "changed", 0));
        } else {
            print_ids(crm_io_out(io), "enter", &enter);
            print_ids(crm_io_out(io), "leave", &leave);
            fprintf(crm_io_out(io),
                    "%zu would enter, %zu would leave, %zu stay (nothing changed)\n", enter.n,
                    leave.n, want.n - enter.n);
        }
    }
    free(want.v), free(have.v), free(enter.v), free(leave.v);
    return rc;
}

/* ---- explain ------------------------------------------------------------ */

static int explain_lua(crm_plugin_ctx *ctx, crm_command_io *io, const seg_rule *rs, int64_t cid)
{
    json_t *reasons = NULL;
    int v = seg_lua_holds(ctx, rs->lua_spec, cid, &reasons);
    if (v < 0)
        return v;
    if (crm_io_json(io)) {
        seg_print_json(io, json_pack("{sssIsbsbssso}", "segment", rs->slug, "contact_id",
                                     (json_int_t)cid, "matches", v == 1, "member",
                                     seg_is_member(ctx, rs->slug, cid), "rule", rs->lua_spec,
                                     "reasons", reasons ? json_incref(reasons) : json_array()));
    } else {
        FILE *out = crm_io_out(io);
        fprintf(out, "%s: contact %lld %s (Lua rule %s)\n", rs->name, (long long)cid,
                v == 1 ? "matches" : "does not match", rs->lua_spec);
        size_t i;
        json_t *r;
        json_array_foreach(reasons, i, r) fprintf(out, "  - %s\n", json_string_value(r));
    }
    json_decref(reasons);
    return CRM_OK;
}

/* The condition as a whole, then each of its terms. */
static int explain_cond(crm_plugin_ctx *ctx, crm_command_io *io, const seg_rule *rs,
                        int64_t cid, int64_t as_of)
{
    const seg_cond *cond = &rs->cond;
    int json = crm_io_json(io);
    FILE *out = crm_io_out(io);
    int all = seg_eval_for(ctx, cond->sql, cid, as_of);
    if (all < 0)
        return all;
    json_t *terms = json_array();
    for (size_t i = 0; i < cond->nterms; i++) {
        int v = seg_eval_for(ctx, cond->term_sql[i], cid, as_of);
        if (json)
            json_array_append_new(terms, json_pack("{sssb}", "condition", cond->term_text[i],
                                                   "held", v == 1));
        else
            fprintf(out, "  [%s] %s\n", v == 1 ? "x" : " ", cond->term_text[i]);
    }
    if (json)
        seg_print_json(io, json_pack("{sssIsbsbso}", "segment", rs->slug, "contact_id",
                                     (json_int_t)cid, "matches", all == 1, "member",
                                     seg_is_member(ctx, rs->slug, cid), "conditions", terms));
    else {
        json_decref(terms);
        fprintf(out, "%s: contact %lld %s (%s)\n", rs->name, (long long)cid,
                all == 1 ? "matches" : "does not match", rs->text);
    }
    return CRM_OK;
}

static int segment_explain(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                           const seg_rule *rs, int64_t as_of)
{
    const char *ref = seg_opt(args, "contact");
    if (!ref)
        return seg_usage(ctx, "segment explain NAME --contact ID");
    int64_t cid = seg_resolve_contact(ctx, ref);
    if (!cid)
        return CRM_ENOTFOUND;
    if (rs->is_static) {
        int member = seg_is_member(ctx, rs->slug, cid);
        if (crm_io_json(io))
            seg_print_json(io, json_pack("{sssIsbsbss}", "segment", rs->slug, "contact_id",
                                         (json_int_t)cid, "matches", member, "member", member,
                                         "kind", "static"));
        else
            fprintf(crm_io_out(io), "%s is a static list: contact %lld is %sa member\n", rs->name,
                    (long long)cid, member ? "" : "not ");
        return CRM_OK;
    }
    if (rs->is_lua)
        return explain_lua(ctx, io, rs, cid);
    return explain_cond(ctx, io, rs, cid, as_of);
}

/* explain needs a declared rule segment; diff may name a new one. */
static int segment_explain_or_diff(crm_plugin_ctx *ctx, crm_command_io *io,
                                   const crm_command_args *args, const char *sub,
                                   const char *name, int64_t as_of)
{
    seg_rule *rs = name ? seg_find_rule(ctx, name) : NULL;
    if (!name)
        return seg_usage(ctx, "segment explain NAME --contact ID | segment diff NAME --rule FILE");
    if (!rs && strcmp(sub, "diff")) {
        char known[4096];
        seg_known_segments(ctx, known, sizeof known, 0);
        crm_set_error(ctx,
                      "no rule, Lua or static segment \"%s\"; known segments: %s (an RFM "
                      "segment is explained by crm rfm show CONTACT)",
                      name, known);
        return CRM_ENOTFOUND;
    }
    if (!strcmp(sub, "diff"))
        return segment_diff(ctx, io, args, name, rs, as_of);
    return segment_explain(ctx, io, args, rs, as_of);
}

/* ---- static segments ---------------------------------------------------- */

static int segment_add_remove(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                              const char *sub, const char *name, int64_t as_of)
{
    seg_rule *rs = name ? seg_find_rule(ctx, name) : NULL;
    if (!name || !seg_arg(args, 1))
        return seg_usage(ctx, "segment add|remove NAME CONTACT...");
    if (!rs || !rs->is_static) {
        crm_set_error(ctx, "\"%s\" is not a static segment; declare it in crm.yaml as "
                           "segmentation.segments: - {name: %s, static: true}", name, name);
        return CRM_EINVAL;
    }
    int rc = crm_begin(ctx), changed = 0;
    for (int k = 2; rc == CRM_OK && seg_arg(args, k - 1); k++) {
        int64_t cid = seg_resolve_contact(ctx, seg_arg(args, k - 1));
        if (!cid) {
            rc = CRM_ENOTFOUND;
            break;
        }
        int have = seg_is_member(ctx, rs->slug, cid);
        if (sub[0] == 'a' && !have)
            rc = seg_member_enter(ctx, rs->slug, "static", cid, as_of), changed++;
        else if (sub[0] == 'r' && have)
            rc = seg_member_leave(ctx, rs->slug, "static", cid, as_of), changed++;
    }
    if (rc == CRM_OK)
        rc = crm_commit(ctx);
    else
        crm_rollback(ctx);
    if (rc == CRM_OK && crm_io_json(io))
        seg_print_json(io, json_pack("{sssi}", "segment", rs->slug,
                                     sub[0] == 'a' ? "added" : "removed", changed));
    else if (rc == CRM_OK)
        fprintf(crm_io_out(io), "%d contact%s %s\n", changed, changed == 1 ? "" : "s",
                sub[0] == 'a' ? "added" : "removed");
    return rc;
}

/* ---- as data, for the HTTP routes ------------------------------------------ */

/* The segment's size after each change of its memberships (the last
 * `points` of them), from the stored entered_at/left_at intervals. */
static json_t *size_history(crm_plugin_ctx *ctx, const char *slug, int64_t points)
{
    crm_stmt *st = NULL;
    json_t *all = json_array();
    if (crm_sql_prepare(ctx, "SELECT at, sum(d) FROM (SELECT entered_at AS at, 1 AS d FROM"
                             " segmentation_members WHERE segment = ?1 UNION ALL SELECT"
                             " left_at, -1 FROM segmentation_members WHERE segment = ?1 AND"
                             " left_at IS NOT NULL) GROUP BY at ORDER BY at", &st) != CRM_OK) {
        json_decref(all);
        return NULL;
    }
    crm_sql_bind_text(st, 1, slug);
    int64_t size = 0;
    while (crm_sql_step(st) == CRM_SQL_ROW) {
        size += crm_sql_column_int64(st, 1);
        json_array_append_new(all, json_pack("{sIsI}", "at",
                                             (json_int_t)crm_sql_column_int64(st, 0), "size",
                                             (json_int_t)size));
    }
    crm_sql_finalize(st);
    while ((int64_t)json_array_size(all) > points)
        json_array_remove(all, 0);
    return all;
}

int seg_segments_json(crm_plugin_ctx *ctx, int64_t points, json_t **out)
{
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx,
                        "SELECT count(*) FROM segmentation_members WHERE segment = ?1 AND"
                        " left_at IS NULL",
                        &st) != CRM_OK)
        return seg_fail_db(ctx, "counting members");
    json_t *items = json_array();
    int rc = CRM_OK;
    for (size_t k = 0; rc == CRM_OK && k < SEG(ctx)->grid.n + SEG(ctx)->nrules; k++) {
        const char *slug = k < SEG(ctx)->grid.n ? SEG(ctx)->cells[k].slug
                                                : SEG(ctx)->rules[k - SEG(ctx)->grid.n].slug;
        const char *kind = segment_kind(ctx, k);
        int64_t at = 0, size = member_count(st, slug);
        int refreshed = seg_segment_refreshed(ctx, slug, kind, &at);
        json_t *hist = size_history(ctx, slug, points);
        if (!hist)
            rc = seg_fail_db(ctx, "reading a segment's history");
        else
            json_array_append_new(
                items, json_pack("{ss ss ss sI so so}", "name", slug, "label",
                                 seg_grid_name(ctx, slug), "kind", kind, "size", (json_int_t)size,
                                 "refreshed_as_of", refreshed ? json_integer(at) : json_null(),
                                 "history", hist));
    }
    crm_sql_finalize(st);
    if (rc != CRM_OK) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{so}", "items", items);
    return *out ? CRM_OK : CRM_ENOMEM;
}

int seg_segment_members_json(crm_plugin_ctx *ctx, const char *name, int64_t after, int64_t limit,
                             json_t **out)
{
    segment_ref ref;
    int rc = segment_arg(ctx, name, 1, &ref);
    if (rc != CRM_OK)
        return rc;
    crm_stmt *st = NULL;
    if (crm_sql_prepare(ctx, "SELECT m.contact_id, c.first_name, c.last_name, c.email,"
                             " m.entered_at FROM segmentation_members m LEFT JOIN contacts c"
                             " ON c.id = m.contact_id WHERE m.segment = ?1 AND m.left_at IS NULL"
                             " AND m.contact_id > ?2 ORDER BY m.contact_id LIMIT ?3", &st) != CRM_OK)
        return seg_fail_db(ctx, "listing members");
    crm_sql_bind_text(st, 1, ref.slug);
    crm_sql_bind_int64(st, 2, after);
    crm_sql_bind_int64(st, 3, limit + 1); /* one more: is there a next page? */
    json_t *items = json_array();
    int64_t last = 0;
    while ((rc = crm_sql_step(st)) == CRM_SQL_ROW && (int64_t)json_array_size(items) < limit) {
        last = crm_sql_column_int64(st, 0);
        json_array_append_new(items, json_pack("{sI ss? ss? ss? sI}", "id", (json_int_t)last,
                                               "first_name", crm_sql_column_text(st, 1),
                                               "last_name", crm_sql_column_text(st, 2), "email",
                                               crm_sql_column_text(st, 3), "entered_at",
                                               (json_int_t)crm_sql_column_int64(st, 4)));
    }
    int more = rc == CRM_SQL_ROW;
    crm_sql_finalize(st);
    if (rc < 0) {
        json_decref(items);
        return seg_fail_db(ctx, "listing members");
    }
    *out = json_pack("{ss so so}", "segment", ref.slug, "items", items, "next_cursor",
                     more ? json_integer(last) : json_null());
    return *out ? CRM_OK : CRM_ENOMEM;
}

/* ---- the commands (option tables in segmentation.c) ---------------------- */

int seg_cmd_segment_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    (void)args;
    return segment_list(ctx, io);
}

int seg_cmd_segment_members(crm_plugin_ctx *ctx, crm_command_io *io,
                            const crm_command_args *args)
{
    return segment_members(ctx, io, seg_arg(args, 0));
}

int seg_cmd_segment_history(crm_plugin_ctx *ctx, crm_command_io *io,
                            const crm_command_args *args)
{
    return segment_history(ctx, io, seg_arg(args, 0));
}

int seg_cmd_segment_refresh(crm_plugin_ctx *ctx, crm_command_io *io,
                            const crm_command_args *args)
{
    return segment_refresh(ctx, io, seg_arg(args, 0), crm_now(ctx));
}

int seg_cmd_segment_explain(crm_plugin_ctx *ctx, crm_command_io *io,
                            const crm_command_args *args)
{
    return segment_explain_or_diff(ctx, io, args, "explain", seg_arg(args, 0), crm_now(ctx));
}

int seg_cmd_segment_diff(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return segment_explain_or_diff(ctx, io, args, "diff", seg_arg(args, 0), crm_now(ctx));
}

int seg_cmd_segment_add(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return segment_add_remove(ctx, io, args, "add", seg_arg(args, 0), crm_now(ctx));
}

int seg_cmd_segment_remove(crm_plugin_ctx *ctx, crm_command_io *io,
                           const crm_command_args *args)
{
    return segment_add_remove(ctx, io, args, "remove", seg_arg(args, 0), crm_now(ctx));
}

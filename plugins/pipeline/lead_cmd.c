/* pipeline plugin — crm lead add|list|show|qualify|disqualify|convert.
 * A lead is a prospect not yet in the contacts; converting it creates the
 * contact (and its company) through the kernel's validated path, or links
 * the contact that already has its email or phone, and opens a deal. Each
 * write is one transaction with its events. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pl_int.h"

typedef struct pl_lead {
    int64_t id, contact_id, deal_id, created_at, updated_at;
    char name[256], email[256], phone[64], company[256], source[128], notes[1024];
    char status[16], reason[256], owner[128];
    int has_score;
    int64_t score;
    char score_reasons[1024]; /* JSON array */
} pl_lead;

#define LEAD_COLS                                                                                \
    "id, name, email, phone, company, source, notes, status, reason, owner, contact_id,"       \
    " deal_id, created_at, updated_at, score, score_reasons"

static void text_col(crm_stmt *st, int c, char *buf, size_t size)
{
    const char *t = crm_sql_column_text(st, c);
    snprintf(buf, size, "%s", t ? t : "");
}

static int64_t int_col(crm_stmt *st, int c)
{
    return crm_sql_column_type(st, c) == CRM_SQL_NULL ? 0 : crm_sql_column_int64(st, c);
}

static void read_row(crm_stmt *st, pl_lead *l)
{
    memset(l, 0, sizeof *l);
    l->id = int_col(st, 0);
    text_col(st, 1, l->name, sizeof l->name);
    text_col(st, 2, l->email, sizeof l->email);
    text_col(st, 3, l->phone, sizeof l->phone);
    text_col(st, 4, l->company, sizeof l->company);
    text_col(st, 5, l->source, sizeof l->source);
    text_col(st, 6, l->notes, sizeof l->notes);
    text_col(st, 7, l->status, sizeof l->status);
    text_col(st, 8, l->reason, sizeof l->reason);
    text_col(st, 9, l->owner, sizeof l->owner);
    l->contact_id = int_col(st, 10);
    l->deal_id = int_col(st, 11);
    l->created_at = int_col(st, 12);
    l->updated_at = int_col(st, 13);
    l->has_score = crm_sql_column_type(st, 14) != CRM_SQL_NULL;
    l->score = int_col(st, 14);
    text_col(st, 15, l->score_reasons, sizeof l->score_reasons);
}

static int lead_get(crm_plugin_ctx *ctx, const char *text, pl_lead *l)
{
    int64_t id = pl_parse_id(ctx, text, "lead");
    if (!id)
        return CRM_EUSAGE;
    crm_stmt *st = pl_prep(ctx, "SELECT " LEAD_COLS " FROM pipeline_leads WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot read the lead");
    crm_sql_bind_int64(st, 1, id);
    int rc = crm_sql_step(st);
    if (rc == CRM_SQL_ROW)
        read_row(st, l);
    crm_sql_finalize(st);
    if (rc == CRM_SQL_ROW)
        return CRM_OK;
    if (rc < 0)
        return pl_fail_db(ctx, "cannot read the lead");
    crm_set_error(ctx, "no lead %lld", (long long)id);
    return CRM_ENOTFOUND;
}

/* A text or JSON null when empty. */
static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *lead_json(crm_plugin_ctx *ctx, const pl_lead *l)
{
    char created[40], updated[40];
    pl_time_of(ctx, l->created_at, created, sizeof created);
    pl_time_of(ctx, l->updated_at, updated, sizeof updated);
    json_t *o = json_pack("{sI ss ss}", "id", (json_int_t)l->id, "name", l->name, "status",
                          l->status);
    if (!o)
        return NULL;
    json_object_set_new(o, "email", str_or_null(l->email));
    json_object_set_new(o, "phone", str_or_null(l->phone));
    json_object_set_new(o, "company", str_or_null(l->company));
    json_object_set_new(o, "source", str_or_null(l->source));
    json_object_set_new(o, "notes", str_or_null(l->notes));
    json_object_set_new(o, "reason", str_or_null(l->reason));
    json_object_set_new(o, "owner", str_or_null(l->owner));
    json_object_set_new(o, "contact_id", l->contact_id ? json_integer(l->contact_id) : json_null());
    json_object_set_new(o, "deal_id", l->deal_id ? json_integer(l->deal_id) : json_null());
    json_object_set_new(o, "score", l->has_score ? json_integer(l->score) : json_null());
    json_t *why = l->has_score ? json_loads(l->score_reasons, 0, NULL) : NULL;
    json_object_set_new(o, "score_reasons", json_is_array(why) ? why : json_array());
    if (why && !json_is_array(why))
        json_decref(why);
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "updated_at", json_string(updated));
    return o;
}

static int no_memory(crm_plugin_ctx *ctx)
{
    crm_set_error(ctx, "out of memory");
    return CRM_ENOMEM;
}

/* The lead as the rules see it: its fields, times as epoch seconds. */
static json_t *lead_record(const pl_lead *l)
{
    json_t *o = json_pack("{sI ss ss sI sI}", "id", (json_int_t)l->id, "name", l->name, "status",
                          l->status, "created_at", (json_int_t)l->created_at, "updated_at",
                          (json_int_t)l->updated_at);
    const char *keys[] = {"email", "phone", "company", "source", "notes", "owner"};
    const char *vals[] = {l->email, l->phone, l->company, l->source, l->notes, l->owner};
    for (size_t i = 0; o && i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i][0])
            json_object_set_new(o, keys[i], json_string(vals[i]));
    return o;
}

/* Recomputes l's score (pipeline.lead_score_rule) and stores it. */
static int rescore(crm_plugin_ctx *ctx, pl_lead *l)
{
    json_t *rec = lead_record(l);
    if (!rec)
        return no_memory(ctx);
    pl_score sc;
    int rc = pl_lead_score(ctx, rec, &sc);
    json_decref(rec);
    if (rc != CRM_OK || (!sc.given && !l->has_score))
        return rc;
    l->has_score = sc.given;
    l->score = sc.value;
    snprintf(l->score_reasons, sizeof l->score_reasons, "%s", sc.given ? sc.reasons : "");
    crm_stmt *st = pl_prep(ctx, "UPDATE pipeline_leads SET score = ?2, score_reasons = ?3"
                                " WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot store the lead's score");
    crm_sql_bind_int64(st, 1, l->id);
    if (sc.given) {
        crm_sql_bind_int64(st, 2, sc.value);
        crm_sql_bind_text(st, 3, sc.reasons);
    } else {
        crm_sql_bind_null(st, 2);
        crm_sql_bind_null(st, 3);
    }
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot store the lead's score") : CRM_OK;
}

/* lead.* events carry lead_id, and contact_id once there is one (timeline). */
static int emit_lead(crm_plugin_ctx *ctx, const pl_lead *l, const char *type)
{
    json_t *p = json_pack("{sI ss}", "lead_id", (json_int_t)l->id, "status", l->status);
    if (p && l->contact_id)
        json_object_set_new(p, "contact_id", json_integer(l->contact_id));
    if (p && l->deal_id)
        json_object_set_new(p, "deal_id", json_integer(l->deal_id));
    return pl_emit(ctx, type, p);
}

/* ---- add ----------------------------------------------------------------------- */

typedef struct lead_job {
    const crm_command_args *args;
    pl_lead l;
    int linked;         /* convert: 1 when an existing contact was linked */
    char why[512];      /* convert: the kernel's reason for the link */
} lead_job;

static void opt_copy(const crm_command_args *a, const char *name, char *buf, size_t size)
{
    const char *v = pl_opt_text(a, name);
    snprintf(buf, size, "%s", v ? v : "");
}

static int bind_text_or_null(crm_stmt *st, int i, const char *v)
{
    return *v ? crm_sql_bind_text(st, i, v) : crm_sql_bind_null(st, i);
}

/* The text fields `lead add` and `lead update` set, by option name. */
static const struct {
    const char *opt;
    size_t off, size;
} lead_fields[] = {
    {"name", offsetof(pl_lead, name), sizeof ((pl_lead *)0)->name},
    {"email", offsetof(pl_lead, email), sizeof ((pl_lead *)0)->email},
    {"phone", offsetof(pl_lead, phone), sizeof ((pl_lead *)0)->phone},
    {"company", offsetof(pl_lead, company), sizeof ((pl_lead *)0)->company},
    {"source", offsetof(pl_lead, source), sizeof ((pl_lead *)0)->source},
    {"notes", offsetof(pl_lead, notes), sizeof ((pl_lead *)0)->notes},
    {"owner", offsetof(pl_lead, owner), sizeof ((pl_lead *)0)->owner},
};

static int check_name(crm_plugin_ctx *ctx, const pl_lead *l)
{
    if (l->name[0] && strspn(l->name, " \t") != strlen(l->name))
        return CRM_OK;
    crm_set_error(ctx, "--name: a lead needs a name");
    return CRM_EINVAL;
}

static int add_body(crm_plugin_ctx *ctx, void *ud)
{
    lead_job *j = ud;
    pl_lead *l = &j->l;
    for (size_t i = 0; i < sizeof lead_fields / sizeof lead_fields[0]; i++)
        opt_copy(j->args, lead_fields[i].opt, (char *)l + lead_fields[i].off,
                 lead_fields[i].size);
    if (check_name(ctx, l) != CRM_OK)
        return CRM_EINVAL;
    l->created_at = l->updated_at = crm_now(ctx);
    snprintf(l->status, sizeof l->status, "new");
    if (!l->owner[0]) {
        json_t *rec = lead_record(l);
        if (!rec)
            return no_memory(ctx);
        int rc = pl_assign_owner(ctx, "lead", rec, l->owner, sizeof l->owner);
        json_decref(rec);
        if (rc != CRM_OK)
            return rc;
    }
    crm_stmt *st = pl_prep(ctx, "INSERT INTO pipeline_leads(name, email, phone, company, source,"
                                " notes, status, owner, created_at, updated_at)"
                                " VALUES(?1,?2,?3,?4,?5,?6,'new',?7,?8,?8)");
    if (!st)
        return pl_fail_db(ctx, "cannot store the lead");
    const char *vals[] = {l->name, l->email, l->phone, l->company, l->source, l->notes, l->owner};
    for (int i = 0; i < 7; i++)
        bind_text_or_null(st, i + 1, vals[i]);
    crm_sql_bind_int64(st, 8, l->created_at);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return pl_fail_db(ctx, "cannot store the lead");
    l->id = crm_sql_last_insert_id(ctx);
    rc = rescore(ctx, l);
    return rc == CRM_OK ? emit_lead(ctx, l, "lead.created") : rc;
}

static int run_job(crm_plugin_ctx *ctx, const crm_command_args *args,
                   int (*body)(crm_plugin_ctx *, void *), lead_job **out)
{
    lead_job *j = calloc(1, sizeof *j);
    if (!j) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    j->args = args;
    int rc = pl_in_tx(ctx, body, j);
    if (rc != CRM_OK) {
        free(j);
        return rc;
    }
    *out = j;
    return CRM_OK;
}

int pl_cmd_lead_add(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    lead_job *j = NULL;
    int rc = run_job(ctx, args, add_body, &j);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io))
        rc = pl_print_json(ctx, io, lead_json(ctx, &j->l));
    else
        fprintf(crm_io_out(io), "%lld\n", (long long)j->l.id);
    free(j);
    return rc;
}

/* ---- list, show ------------------------------------------------------------------ */

static const char *const lead_statuses[] = {"new", "qualified", "disqualified", "converted"};

static const char *score_text(const pl_lead *l, char *buf, size_t size)
{
    if (l->has_score)
        snprintf(buf, size, "%lld", (long long)l->score);
    else
        snprintf(buf, size, "-");
    return buf;
}

int pl_cmd_lead_list(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    const char *status = pl_opt_text(args, "status");
    int known = !status;
    for (size_t i = 0; status && i < sizeof lead_statuses / sizeof lead_statuses[0]; i++)
        known |= !strcmp(status, lead_statuses[i]);
    if (!known) {
        crm_set_error(ctx, "--status: \"%s\" is not new, qualified, disqualified or converted",
                      status);
        return CRM_EUSAGE;
    }
    const char *sort = pl_opt_text(args, "sort");
    if (sort && strcmp(sort, "id") && strcmp(sort, "score")) {
        crm_set_error(ctx, "--sort: \"%s\" is not id or score", sort);
        return CRM_EUSAGE;
    }
    crm_stmt *st = pl_prep(ctx, sort && !strcmp(sort, "score")
                                    ? "SELECT " LEAD_COLS " FROM pipeline_leads"
                                      " WHERE ?1 IS NULL OR status = ?1"
                                      " ORDER BY score IS NULL, score DESC, id"
                                    : "SELECT " LEAD_COLS " FROM pipeline_leads"
                                      " WHERE ?1 IS NULL OR status = ?1 ORDER BY id");
    if (!st)
        return pl_fail_db(ctx, "cannot list the leads");
    if (status)
        crm_sql_bind_text(st, 1, status);
    else
        crm_sql_bind_null(st, 1);
    int rc = CRM_OK;
    pl_lead l;
    char score[24];
    while (rc == CRM_OK && crm_sql_step(st) == CRM_SQL_ROW) {
        read_row(st, &l);
        if (crm_io_json(io))
            rc = pl_print_json(ctx, io, lead_json(ctx, &l));
        else
            fprintf(crm_io_out(io), "%4lld  %-12s  %5s  %-30s  %s\n", (long long)l.id,
                    l.status, score_text(&l, score, sizeof score), l.name,
                    l.email[0] ? l.email : l.phone);
    }
    crm_sql_finalize(st);
    return rc;
}

/* "  score    72: opened the quote, a company email" */
static void print_score(FILE *out, const pl_lead *l)
{
    fprintf(out, "  score    %lld", (long long)l->score);
    json_t *why = json_loads(l->score_reasons, 0, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(why, i, r)
        fprintf(out, "%s%s", i ? ", " : ": ", json_is_string(r) ? json_string_value(r) : "?");
    json_decref(why);
    fputc('\n', out);
}

int pl_cmd_lead_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    pl_lead l;
    int rc = lead_get(ctx, crm_args_get(args, 0), &l);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io))
        return pl_print_json(ctx, io, lead_json(ctx, &l));
    FILE *out = crm_io_out(io);
    fprintf(out, "lead %lld: %s (%s)\n", (long long)l.id, l.name, l.status);
    const char *labels[] = {"email", "phone", "company", "source", "notes", "reason", "owner"};
    const char *vals[] = {l.email, l.phone, l.company, l.source, l.notes, l.reason, l.owner};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (vals[i][0])
            fprintf(out, "  %-8s %s\n", labels[i], vals[i]);
    if (l.contact_id)
        fprintf(out, "  contact  %lld, deal %lld\n", (long long)l.contact_id, (long long)l.deal_id);
    if (l.has_score)
        print_score(out, &l);
    return CRM_OK;
}

/* ---- qualify, disqualify ---------------------------------------------------------- */

static int set_status(crm_plugin_ctx *ctx, pl_lead *l, const char *status, const char *reason)
{
    snprintf(l->status, sizeof l->status, "%s", status);
    snprintf(l->reason, sizeof l->reason, "%s", reason ? reason : "");
    l->updated_at = crm_now(ctx);
    crm_stmt *st = pl_prep(ctx, "UPDATE pipeline_leads SET status = ?2, reason = ?3,"
                                " updated_at = ?4, contact_id = ?5, deal_id = ?6 WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot update the lead");
    crm_sql_bind_int64(st, 1, l->id);
    crm_sql_bind_text(st, 2, l->status);
    bind_text_or_null(st, 3, l->reason);
    crm_sql_bind_int64(st, 4, l->updated_at);
    if (l->contact_id)
        crm_sql_bind_int64(st, 5, l->contact_id);
    else
        crm_sql_bind_null(st, 5);
    if (l->deal_id)
        crm_sql_bind_int64(st, 6, l->deal_id);
    else
        crm_sql_bind_null(st, 6);
    int rc = crm_sql_step(st);
    crm_sql_finalize(st);
    return rc < 0 ? pl_fail_db(ctx, "cannot update the lead") : rescore(ctx, l);
}

/* Refuses a lead already converted (or already in `to`). */
static int check_from(crm_plugin_ctx *ctx, const pl_lead *l, const char *to)
{
    if (!strcmp(l->status, "converted")) {
        crm_set_error(ctx, "lead %lld is converted (contact %lld): work on deal %lld", (long long)l->id,
                      (long long)l->contact_id, (long long)l->deal_id);
        return CRM_EINVAL;
    }
    if (!strcmp(l->status, to)) {
        crm_set_error(ctx, "lead %lld is already %s", (long long)l->id, to);
        return CRM_EINVAL;
    }
    return CRM_OK;
}

static int qualify_body(crm_plugin_ctx *ctx, void *ud)
{
    lead_job *j = ud;
    int rc = lead_get(ctx, crm_args_get(j->args, 0), &j->l);
    if (rc == CRM_OK)
        rc = check_from(ctx, &j->l, "qualified");
    if (rc == CRM_OK)
        rc = set_status(ctx, &j->l, "qualified", NULL);
    return rc == CRM_OK ? emit_lead(ctx, &j->l, "lead.qualified") : rc;
}

static int disqualify_body(crm_plugin_ctx *ctx, void *ud)
{
    lead_job *j = ud;
    int rc = lead_get(ctx, crm_args_get(j->args, 0), &j->l);
    if (rc == CRM_OK)
        rc = check_from(ctx, &j->l, "disqualified");
    if (rc == CRM_OK)
        rc = set_status(ctx, &j->l, "disqualified", pl_opt_text(j->args, "reason"));
    return rc == CRM_OK ? emit_lead(ctx, &j->l, "lead.disqualified") : rc;
}

/* ---- update ---------------------------------------------------------------------- */

static int update_body(crm_plugin_ctx *ctx, void *ud)
{
    lead_job *j = ud;
    pl_lead *l = &j->l;
    int rc = lead_get(ctx, crm_args_get(j->args, 0), l);
    if (rc == CRM_OK && !strcmp(l->status, "converted")) {
        crm_set_error(ctx, "lead %lld is converted: update contact %lld instead",
                      (long long)l->id, (long long)l->contact_id);
        rc = CRM_EINVAL;
    }
    int given = 0;
    for (size_t i = 0; rc == CRM_OK && i < sizeof lead_fields / sizeof lead_fields[0]; i++)
        if (pl_opt_text(j->args, lead_fields[i].opt)) {
            opt_copy(j->args, lead_fields[i].opt, (char *)l + lead_fields[i].off,
                     lead_fields[i].size);
            given++;
        }
    if (rc == CRM_OK && !given) {
        crm_set_error(ctx, "nothing to change: give --name, --email, --phone, --company, "
                      "--source, --notes or --owner");
        rc = CRM_EUSAGE;
    }
    if (rc == CRM_OK)
        rc = check_name(ctx, l);
    if (rc != CRM_OK)
        return rc;
    l->updated_at = crm_now(ctx);
    crm_stmt *st = pl_prep(ctx, "UPDATE pipeline_leads SET name = ?2, email = ?3, phone = ?4,"
                                " company = ?5, source = ?6, notes = ?7, owner = ?8,"
                                " updated_at = ?9 WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot update the lead");
    crm_sql_bind_int64(st, 1, l->id);
    const char *vals[] = {l->name, l->email, l->phone, l->company, l->source, l->notes, l->owner};
    for (int i = 0; i < 7; i++)
        bind_text_or_null(st, i + 2, vals[i]);
    crm_sql_bind_int64(st, 9, l->updated_at);
    rc = crm_sql_step(st);
    crm_sql_finalize(st);
    if (rc < 0)
        return pl_fail_db(ctx, "cannot update the lead");
    rc = rescore(ctx, l);
    return rc == CRM_OK ? emit_lead(ctx, l, "lead.updated") : rc;
}

static int print_status(crm_plugin_ctx *ctx, crm_command_io *io, lead_job *j)
{
    int rc = CRM_OK;
    if (crm_io_json(io))
        rc = pl_print_json(ctx, io, lead_json(ctx, &j->l));
    else
        fprintf(crm_io_out(io), "lead %lld %s\n", (long long)j->l.id, j->l.status);
    free(j);
    return rc;
}

int pl_cmd_lead_update(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    lead_job *j = NULL;
    int rc = run_job(ctx, args, update_body, &j);
    return rc == CRM_OK ? print_status(ctx, io, j) : rc;
}

int pl_cmd_lead_qualify(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    lead_job *j = NULL;
    int rc = run_job(ctx, args, qualify_body, &j);
    return rc == CRM_OK ? print_status(ctx, io, j) : rc;
}

int pl_cmd_lead_disqualify(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    lead_job *j = NULL;
    int rc = run_job(ctx, args, disqualify_body, &j);
    return rc == CRM_OK ? print_status(ctx, io, j) : rc;
}

/* ---- convert ---------------------------------------------------------------------- */

/* The contact fields of the lead: the name's first word is the first name,
 * the rest the last name; the company is created by the kernel when new. */
static char *contact_fields(const pl_lead *l)
{
    char first[256], *last = NULL;
    snprintf(first, sizeof first, "%s", l->name + strspn(l->name, " \t"));
    char *sp = strchr(first, ' ');
    if (sp) {
        *sp = 0;
        last = sp + 1 + strspn(sp + 1, " ");
    }
    json_t *o = json_pack("{ss}", "first_name", first);
    if (!o)
        return NULL;
    if (last && *last)
        json_object_set_new(o, "last_name", json_string(last));
    const char *keys[] = {"email", "phone", "company", "source"};
    const char *vals[] = {l->email, l->phone, l->company, l->source[0] ? l->source : "lead"};
    for (size_t i = 0; i < 4; i++)
        if (vals[i][0])
            json_object_set_new(o, keys[i], json_string(vals[i]));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* 1 when contact `id`, which the kernel named as a duplicate, has the lead's
 * email or phone (why says which); 0 for a mere lookalike (same name, ...),
 * which is not linked. */
static int same_person(crm_plugin_ctx *ctx, const pl_lead *l, int64_t id, char *why, size_t size)
{
    crm_stmt *st = pl_prep(ctx, "SELECT email, phone FROM contacts WHERE id = ?1");
    if (!st)
        return 0;
    crm_sql_bind_int64(st, 1, id);
    int same = 0;
    if (crm_sql_step(st) == CRM_SQL_ROW) {
        const char *email = crm_sql_column_text(st, 0), *phone = crm_sql_column_text(st, 1);
        if (l->email[0] && email && !strcasecmp(email, l->email)) {
            snprintf(why, size, "same email %s", email);
            same = 1;
        } else if (pl_same_phone(l->phone, phone)) {
            snprintf(why, size, "same phone %s", phone);
            same = 1;
        }
    }
    crm_sql_finalize(st);
    return same;
}

/* Creates the lead's contact, or links the one that has its email or phone
 * (the kernel refuses the duplicate and names it: the lead is linked there
 * instead, and j->why keeps the kernel's reason). */
static int find_or_add_contact(crm_plugin_ctx *ctx, lead_job *j)
{
    char *fields = contact_fields(&j->l);
    if (!fields) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    int64_t id = 0;
    int rc = crm_contact_add_json(ctx, fields, &id);
    free(fields);
    if (rc == CRM_EEXISTS && id > 0 && same_person(ctx, &j->l, id, j->why, sizeof j->why)) {
        j->linked = 1;
        rc = CRM_OK;
    } else if (rc != CRM_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", crm_last_error(ctx));
        crm_set_error(ctx, "lead %lld: the contact was refused: %s (crm lead show %lld)",
                      (long long)j->l.id, why, (long long)j->l.id);
        return rc;
    }
    j->l.contact_id = id;
    return CRM_OK;
}

/* The deal of the converted lead, in the pipeline's first stage. */
static int add_deal(crm_plugin_ctx *ctx, lead_job *j)
{
    const crm_command_args *a = j->args;
    const pl_pipeline *p = pl_pipeline_find(ctx, pl_opt_text(a, "pipeline"));
    if (!p) {
        crm_set_error(ctx, "--pipeline: no pipeline \"%s\"", pl_opt_text(a, "pipeline"));
        return CRM_EINVAL;
    }
    pl_deal d;
    memset(&d, 0, sizeof d);
    d.probability_override = d.category_override = -1;
    snprintf(d.pipeline, sizeof d.pipeline, "%s", p->name);
    snprintf(d.stage, sizeof d.stage, "%s", p->stages[0].name);
    const char *title = pl_opt_text(a, "deal-title");
    snprintf(d.title, sizeof d.title, "%s", title ? title : j->l.company[0] ? j->l.company
                                                                             : j->l.name);
    crm_value v;
    if (crm_args_option(a, "amount", &v) == CRM_OK && v.given)
        d.amount = v.i;
    snprintf(d.currency, sizeof d.currency, "%s", p->currency);
    snprintf(d.owner, sizeof d.owner, "%s", j->l.owner);
    d.contact_id = j->l.contact_id;
    d.company_id = pl_scalar(ctx, 0, "SELECT company_id FROM contacts WHERE id = ?1", 1,
                             d.contact_id);
    int rc = pl_deal_insert(ctx, &d);
    j->l.deal_id = d.id;
    return rc;
}

static int convert_body(crm_plugin_ctx *ctx, void *ud)
{
    lead_job *j = ud;
    int rc = lead_get(ctx, crm_args_get(j->args, 0), &j->l);
    if (rc == CRM_OK)
        rc = check_from(ctx, &j->l, "converted");
    if (rc == CRM_OK && !strcmp(j->l.status, "disqualified")) {
        crm_set_error(ctx, "lead %lld is disqualified (%s): crm lead qualify %lld first",
                      (long long)j->l.id, j->l.reason, (long long)j->l.id);
        rc = CRM_EINVAL;
    }
    if (rc == CRM_OK)
        rc = find_or_add_contact(ctx, j);
    if (rc == CRM_OK)
        rc = add_deal(ctx, j);
    if (rc == CRM_OK)
        rc = set_status(ctx, &j->l, "converted", NULL);
    return rc == CRM_OK ? emit_lead(ctx, &j->l, "lead.converted") : rc;
}

int pl_cmd_lead_convert(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    lead_job *j = NULL;
    int rc = run_job(ctx, args, convert_body, &j);
    if (rc != CRM_OK)
        return rc;
    if (crm_io_json(io)) {
        json_t *o = lead_json(ctx, &j->l);
        if (o) {
            json_object_set_new(o, "linked", json_boolean(j->linked));
            json_object_set_new(o, "link_reason", str_or_null(j->why));
        }
        rc = pl_print_json(ctx, io, o);
    } else if (j->linked) {
        fprintf(crm_io_out(io), "lead %lld converted: linked to existing contact %lld (%s), "
                "deal %lld\n", (long long)j->l.id, (long long)j->l.contact_id, j->why,
                (long long)j->l.deal_id);
    } else {
        fprintf(crm_io_out(io), "lead %lld converted: contact %lld created, deal %lld\n",
                (long long)j->l.id, (long long)j->l.contact_id, (long long)j->l.deal_id);
    }
    free(j);
    return rc;
}

/* ---- erase ------------------------------------------------------------------------ */

/* A person who is only a lead (never converted) asks to be forgotten: the
 * row goes; lead.erased keeps no personal data. A converted lead is the
 * contact's: `crm contact erase` deletes it with everything else. */
static int erase_body(crm_plugin_ctx *ctx, void *ud)
{
    lead_job *j = ud;
    int rc = lead_get(ctx, crm_args_get(j->args, 0), &j->l);
    if (rc == CRM_OK && j->l.contact_id) {
        crm_set_error(ctx, "lead %lld is contact %lld's: crm contact erase %lld --reason R",
                      (long long)j->l.id, (long long)j->l.contact_id, (long long)j->l.contact_id);
        rc = CRM_EINVAL;
    }
    if (rc == CRM_OK)
        rc = pl_run(ctx, "DELETE FROM pipeline_leads WHERE id = ?1", 1, j->l.id);
    if (rc != CRM_OK)
        return rc;
    return pl_emit(ctx, "lead.erased", json_pack("{sI ss}", "lead_id", (json_int_t)j->l.id,
                                                 "reason", pl_opt_text(j->args, "reason")));
}

int pl_cmd_lead_erase(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    lead_job *j = NULL;
    int rc = run_job(ctx, args, erase_body, &j);
    if (rc != CRM_OK)
        return rc;
    fprintf(crm_io_out(io), "lead %lld erased\n", (long long)j->l.id);
    free(j);
    return CRM_OK;
}

/* crm task add|show|list|done|cancel|reassign|overdue. Dates given without an
 * offset, "today" and printed times are in the default calendar's zone
 * (locale.timezone). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "model.h"
#include "table.h"
#include "time/calendar.h"

static const crm_calendar *zone(crm_cli *cli) { return crm_calendar_find(cli->k->cfg, NULL); }

static int parse_id(const char *text, int64_t *id, crm_err *err)
{
    /* set on every path: -O2 cannot see that crm_err_set returns an error,
     * and callers' "id may be used uninitialized" fails the -Werror build */
    *id = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || v <= 0)
        return crm_err_set(err, CRM_EUSAGE, "'%s' is not a task id (see crm task list)", text);
    *id = v;
    return CRM_OK;
}

static int dup_opt(const crm_args *a, const char *opt, char **dst, crm_err *err)
{
    const char *v = crm_args_get(a, opt);
    if (v && !(*dst = strdup(v)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    return CRM_OK;
}

/* JSON keeps UTC ISO and epoch; people read the local wall clock. */
static void localise(crm_cli *cli, json_t *o, const char *key, int64_t t)
{
    if (!t)
        return;
    char buf[40];
    crm_calendar_format(zone(cli), t, buf, sizeof buf);
    json_object_set_new(o, key, json_string(buf));
}

static int print_task(crm_cli *cli, int64_t id, crm_err *err)
{
    crm_task t;
    int rc = crm_task_get(cli->k, id, &t, err);
    if (rc != CRM_OK)
        return rc;
    json_t *o = crm_task_to_json(&t);
    if (cli->json) {
        crm_cli_print_json(cli, o);
    } else {
        json_object_del(o, "due_at_epoch");
        localise(cli, o, "due_at", t.due_at);
        localise(cli, o, "done_at", t.done_at);
        localise(cli, o, "overdue_notified_at", t.overdue_notified_at);
        localise(cli, o, "created_at", t.created_at);
        localise(cli, o, "updated_at", t.updated_at);
        crm_cli_print_object(cli, o);
    }
    crm_task_clear(&t);
    return CRM_OK;
}

static int cmd_add(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_task t = {0};
    const char *subject, *due, *contact = crm_args_get(a, "contact");
    int64_t id = 0;
    int rc = crm_cli_need(a, "subject", "what is to be done", &subject, err);
    if (rc == CRM_OK)
        rc = crm_cli_need(a, "due", "when, e.g. 2026-03-27T14:00 (locale.timezone)", &due, err);
    if (rc == CRM_OK)
        rc = crm_calendar_parse_time(zone(cli), "--due", due, cli->k->now, &t.due_at, err);
    if (rc == CRM_OK && contact)
        rc = crm_cli_contact(cli, contact, &t.contact_id, err);
    if (rc == CRM_OK && !(t.subject = strdup(subject)))
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (rc == CRM_OK)
        rc = dup_opt(a, "kind", &t.kind, err);
    if (rc == CRM_OK)
        rc = dup_opt(a, "assignee", &t.assignee, err);
    if (rc == CRM_OK)
        rc = dup_opt(a, "ref", &t.ref, err);
    if (rc == CRM_OK)
        rc = dup_opt(a, "notes", &t.notes, err);
    if (rc == CRM_OK)
        rc = crm_task_add(cli->k, &t, &id, err);
    crm_task_clear(&t);
    if (rc == CRM_OK)
        crm_cli_print_id(cli, id);
    return rc;
}

static int cmd_show(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = parse_id(a->pos[0], &id, err);
    return rc == CRM_OK ? print_task(cli, id, err) : rc;
}

static int cmd_done(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = parse_id(a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_task_complete(cli->k, id, err);
    return rc == CRM_OK && !cli->quiet ? print_task(cli, id, err) : rc;
}

static int cmd_cancel(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    int rc = parse_id(a->pos[0], &id, err);
    if (rc == CRM_OK)
        rc = crm_task_cancel(cli->k, id, err);
    return rc == CRM_OK && !cli->quiet ? print_task(cli, id, err) : rc;
}

static int cmd_reassign(crm_cli *cli, const crm_args *a, crm_err *err)
{
    int64_t id;
    const char *to = crm_args_get(a, "to");
    int rc = parse_id(a->pos[0], &id, err);
    if (rc == CRM_OK && !to)
        rc = crm_err_set(err, CRM_EUSAGE, "missing --to USER: the new assignee (\"\" for nobody)");
    if (rc == CRM_OK)
        rc = crm_task_reassign(cli->k, id, to, err);
    return rc == CRM_OK && !cli->quiet ? print_task(cli, id, err) : rc;
}

typedef struct list_out {
    crm_cli *cli;
    crm_table *table;
    int64_t count;
} list_out;

static int list_one(const crm_task *t, void *ud)
{
    list_out *lo = ud;
    lo->count++;
    if (lo->cli->json) {
        crm_cli_print_json(lo->cli, crm_task_to_json(t));
        return 0;
    }
    char id[24], due[40], contact[24];
    snprintf(id, sizeof id, "%lld", (long long)t->id);
    crm_calendar_format(zone(lo->cli), t->due_at, due, sizeof due);
    snprintf(contact, sizeof contact, "%lld", (long long)t->contact_id);
    const char *cells[] = {id,        due,         t->kind,    t->status,
                           t->assignee, t->contact_id ? contact : NULL, t->ref, t->subject};
    return crm_table_row(lo->table, cells) == CRM_OK ? 0 : CRM_ENOMEM;
}

/* --due today|tomorrow|DATE: that local day [midnight, next midnight).
 * Day arithmetic on the local date, so a 23- or 25-hour day is whole. */
static int due_day(crm_cli *cli, const char *text, int64_t *from, int64_t *to, crm_err *err)
{
    const crm_calendar *cal = zone(cli);
    int64_t t = cli->k->now;
    int shift = strcmp(text, "tomorrow") == 0 ? 1 : 0;
    int rc = CRM_OK;
    if (!shift && strcmp(text, "today") != 0)
        rc = crm_calendar_parse_time(cal, "--due", text, cli->k->now, &t, err);
    if (rc != CRM_OK)
        return rc;
    crm_local_time lt;
    crm_calendar_local(cal, t, &lt);
    *from = crm_calendar_from_local(cal, lt.year, lt.month, lt.day + shift, 0, 0, 0);
    *to = crm_calendar_from_local(cal, lt.year, lt.month, lt.day + shift + 1, 0, 0, 0);
    return CRM_OK;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_task_filter f = {0};
    const char *assignee = crm_args_get(a, "assignee"), *contact = crm_args_get(a, "contact");
    const char *due = crm_args_get(a, "due"), *status = crm_args_get(a, "status");
    int rc = CRM_OK;
    if (assignee && crm_user_resolve(cli->k, assignee, &f.assignee_id, err) != CRM_OK)
        rc = crm_err_prefix(err, "--assignee");
    if (rc == CRM_OK && contact)
        rc = crm_cli_contact(cli, contact, &f.contact_id, err);
    if (rc == CRM_OK && due)
        rc = due_day(cli, due, &f.due_from, &f.due_to, err);
    f.status = status ? status : "open";
    if (rc == CRM_OK && strcmp(f.status, "all") == 0)
        f.status = NULL;
    else if (rc == CRM_OK && strcmp(f.status, "open") != 0 && strcmp(f.status, "done") != 0 &&
             strcmp(f.status, "cancelled") != 0)
        rc = crm_err_set(err, CRM_EUSAGE,
                         "--status: '%s' is not open, done, cancelled or all", f.status);
    if (rc == CRM_OK && crm_args_flag(a, "overdue"))
        f.overdue_at = cli->k->now;
    if (rc != CRM_OK)
        return rc;
    static const crm_table_col cols[] = {{"ID", 0, true},     {"DUE", 0, false},
                                         {"KIND", 0, false},  {"STATUS", 0, false},
                                         {"ASSIGNEE", 30, false}, {"CONTACT", 0, true},
                                         {"REF", 20, false},  {"SUBJECT", 60, false}};
    list_out lo = {cli, NULL, 0};
    if (!cli->json && !(lo.table = crm_table_new(cli->out, cols, 8)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    rc = crm_task_list(cli->k, &f, list_one, &lo, err);
    if (rc != CRM_OK && err && !err->msg[0]) /* list_one's own failure */
        rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    crm_table_end(lo.table, false);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld task%s\n", (long long)lo.count, lo.count == 1 ? "" : "s");
    return rc;
}

static int cmd_overdue(crm_cli *cli, const crm_args *a, crm_err *err)
{
    (void)a;
    int64_t n = 0;
    int rc = crm_task_overdue_pass(cli->k, cli->k->now, &n, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json)
        crm_cli_print_json(cli, json_pack("{sI}", "notified", (json_int_t)n));
    else
        fprintf(cli->out, "%lld\n", (long long)n);
    return CRM_OK;
}

static const crm_opt add_opts[] = {
    {"subject", CRM_OPT_VALUE, "TEXT", "what is to be done (required)"},
    {"due", CRM_OPT_VALUE, "DATETIME",
     "when, ISO 8601; without an offset, in locale.timezone (required)"},
    {"kind", CRM_OPT_VALUE, "KIND", "call, email, meeting, todo or follow_up (default todo)"},
    {"contact", CRM_OPT_VALUE, "REF", "the contact it concerns: id, email or ext:ID"},
    {"assignee", CRM_OPT_VALUE, "USER", "who does it: user id or email"},
    {"ref", CRM_OPT_VALUE, "KIND:ID", "a plugin record it belongs to, e.g. deal:12"},
    {"notes", CRM_OPT_VALUE, "TEXT", "free text"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt list_opts[] = {
    {"assignee", CRM_OPT_VALUE, "USER", "only this user's tasks"},
    {"contact", CRM_OPT_VALUE, "REF", "only this contact's tasks"},
    {"overdue", CRM_OPT_FLAG, NULL, "only open tasks due before now (--as-of)"},
    {"due", CRM_OPT_VALUE, "DAY", "only tasks due that local day: today, tomorrow or a date"},
    {"status", CRM_OPT_VALUE, "STATUS", "open (default), done, cancelled or all"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt reassign_opts[] = {
    {"to", CRM_OPT_VALUE, "USER", "the new assignee: user id or email, \"\" for nobody"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt no_opts[] = {{NULL, 0, NULL, NULL}};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_task_cmds[] = {
    {"task", "add", cmd_add, K | CRM_CMD_WRITES, 0, 0, NULL, "add a task; prints its id",
     add_opts},
    {"task", "show", cmd_show, K, 1, 1, "ID", "show one task", no_opts},
    {"task", "list", cmd_list, K, 0, 0, NULL,
     "tasks by due time (open ones unless --status)", list_opts},
    {"task", "done", cmd_done, K | CRM_CMD_WRITES, 1, 1, "ID", "mark an open task done",
     no_opts},
    {"task", "cancel", cmd_cancel, K | CRM_CMD_WRITES, 1, 1, "ID", "cancel an open task",
     no_opts},
    {"task", "reassign", cmd_reassign, K | CRM_CMD_WRITES, 1, 1, "ID",
     "give an open task to another user", reassign_opts},
    {"task", "overdue", cmd_overdue, K | CRM_CMD_WRITES, 0, 0, NULL,
     "emit task.overdue once for each open task due before now (--as-of); prints how many",
     no_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

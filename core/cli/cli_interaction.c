/* crm interaction log|list, crm timeline CONTACT (the 360° view). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"
#include "cli_util.h"
#include "model.h"

/* Options copied as-is into the struct: option name -> member. */
static const struct {
    const char *opt;
    size_t offset;
} text_opts[] = {
    {"channel", offsetof(crm_interaction, channel)},
    {"direction", offsetof(crm_interaction, direction)},
    {"subject", offsetof(crm_interaction, subject)},
    {"body", offsetof(crm_interaction, body)},
    {"author", offsetof(crm_interaction, author)},
    {"external-id", offsetof(crm_interaction, external_id)},
};

static int interaction_from_args(crm_cli *cli, const crm_args *a, crm_interaction *i,
                                 crm_err *err)
{
    const char *ref, *channel;
    int rc = crm_cli_need(a, "contact", "the contact's id, email or ext:ID", &ref, err);
    if (rc == CRM_OK)
        rc = crm_cli_need(a, "channel", "email, sms, phone, meeting, note or web", &channel, err);
    if (rc == CRM_OK)
        rc = crm_cli_contact(cli, ref, &i->contact_id, err);
    if (rc == CRM_OK)
        rc = crm_cli_time_opt(a, "at", &i->occurred_at, err);
    for (size_t n = 0; rc == CRM_OK && n < sizeof text_opts / sizeof text_opts[0]; n++) {
        const char *v = crm_args_get(a, text_opts[n].opt);
        char **dst = (char **)((char *)i + text_opts[n].offset);
        if (v && !(*dst = strdup(v)))
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return rc;
}

static int cmd_log(crm_cli *cli, const crm_args *a, crm_err *err)
{
    crm_interaction i = {0};
    int64_t id = 0;
    int rc = interaction_from_args(cli, a, &i, err);
    if (rc == CRM_OK)
        rc = crm_interaction_log(cli->k, &i, &id, err);
    crm_interaction_clear(&i);
    if (rc != CRM_OK)
        return rc;
    crm_cli_print_id(cli, id);
    return CRM_OK;
}

/* ---- human lines ------------------------------------------------------------ */

/* "#12 paid 120.00 EUR (2 lines)" */
static void order_summary(json_t *o, char *buf, size_t size)
{
    size_t n = json_array_size(json_object_get(o, "lines"));
    char total[64];
    crm_cli_money(json_integer_value(json_object_get(o, "total_minor")), crm_cli_str(o, "currency"),
                  total, sizeof total);
    snprintf(buf, size, "#%lld %s %s", (long long)json_integer_value(json_object_get(o, "id")),
             crm_cli_str(o, "status"), total);
    if (n)
        snprintf(buf + strlen(buf), size - strlen(buf), " (%zu line%s)", n, n == 1 ? "" : "s");
}

/* "#5 email in: Subject" — the body's first line when there is no subject. */
static void interaction_summary(json_t *i, char *buf, size_t size)
{
    const char *text = json_string_value(json_object_get(i, "subject"));
    if (!text)
        text = json_string_value(json_object_get(i, "body"));
    int len = text ? (int)strcspn(text, "\n") : 0;
    if (len > 120) /* cut on a character boundary, not inside a UTF-8 sequence */
        for (len = 120; len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80; len--)
            ;
    long long id = (long long)json_integer_value(json_object_get(i, "id"));
    snprintf(buf, size, "#%lld %s %s%s%.*s", id, crm_cli_str(i, "channel"),
             crm_cli_str(i, "direction"), text ? ": " : "", len, text ? text : "");
    const char *author = json_string_value(json_object_get(i, "author"));
    if (author)
        snprintf(buf + strlen(buf), size - strlen(buf), " [%s]", author);
}

/* "#7 email/newsletter granted (web form)" */
static void consent_summary(json_t *c, char *buf, size_t size)
{
    const char *source = json_string_value(json_object_get(c, "source"));
    snprintf(buf, size, "#%lld %s/%s %s", (long long)json_integer_value(json_object_get(c, "id")),
             crm_cli_str(c, "channel"), crm_cli_str(c, "purpose"), crm_cli_str(c, "status"));
    if (source)
        snprintf(buf + strlen(buf), size - strlen(buf), " (%s)", source);
}

/* A plugin's event, labelled by its entity ("segment", "churn"): the verb
 * and what its payload says (segments by name, a churn alert with its
 * score and reasons, anything else as compact JSON). */
static void event_summary(json_t *e, char *label, size_t lsize, char *buf, size_t size)
{
    const char *type = crm_cli_str(e, "type"), *dot = strchr(type, '.');
    json_t *p = json_object_get(e, "payload");
    snprintf(label, lsize, "%.*s", dot ? (int)(dot - type) : (int)strlen(type), type);
    const char *verb = dot ? dot + 1 : type;
    if (!strncmp(type, "segment.", 8)) {
        snprintf(buf, size, "%s %s (%s)", verb, crm_cli_str(p, "name"), crm_cli_str(p, "kind"));
    } else if (!strcmp(type, "churn.risk_raised")) {
        snprintf(buf, size, "risk raised: score %lld, level %lld",
                 (long long)json_integer_value(json_object_get(p, "score")),
                 (long long)json_integer_value(json_object_get(p, "level")));
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(p, "reasons"), i, r)
        {
            const char *text = json_string_value(json_object_get(r, "text"));
            if (text)
                snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "; " : " — ", text);
        }
    } else {
        char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
        snprintf(buf, size, "%s %s", verb, text ? text : "");
        free(text);
    }
    snprintf(buf + strlen(buf), size - strlen(buf), " [%s]", crm_cli_str(e, "source"));
}

static void print_item(crm_cli *cli, json_t *item)
{
    char summary[1024], label[32];
    json_t *record = json_object_get(item, "record");
    const char *kind = crm_cli_str(item, "kind");
    snprintf(label, sizeof label, "%s", kind);
    if (strcmp(kind, "order") == 0)
        order_summary(record, summary, sizeof summary);
    else if (strcmp(kind, "task") == 0)
        snprintf(summary, sizeof summary, "#%lld %s %s: %s",
                 (long long)json_integer_value(json_object_get(record, "id")),
                 crm_cli_str(record, "kind"), crm_cli_str(record, "status"),
                 crm_cli_str(record, "subject"));
    else if (strcmp(kind, "stage") == 0)
        snprintf(summary, sizeof summary, "%s -> %s (%s)", crm_cli_str(record, "from"),
                 crm_cli_str(record, "to"), crm_cli_str(record, "reason"));
    else if (strcmp(kind, "consent") == 0)
        consent_summary(record, summary, sizeof summary);
    else if (strcmp(kind, "message") == 0)
        snprintf(summary, sizeof summary, "#%lld %s %s %s: %s%s%s",
                 (long long)json_integer_value(json_object_get(record, "id")),
                 crm_cli_str(record, "channel"), crm_cli_str(record, "purpose"),
                 crm_cli_str(record, "template"), crm_cli_str(record, "status"),
                 json_is_string(json_object_get(record, "reason")) ? " \xe2\x80\x94 " : "",
                 json_is_string(json_object_get(record, "reason"))
                     ? crm_cli_str(record, "reason") : "");
    else if (strcmp(kind, "event") == 0)
        event_summary(record, label, sizeof label, summary, sizeof summary);
    else
        interaction_summary(record, summary, sizeof summary);
    char at[CRM_CLI_TIME_SIZE];
    fprintf(cli->out, "%s  %-11s %s\n", crm_cli_time_of(cli, item, "at", at, sizeof at), label,
            summary);
}

/* The timeline's header: who it is about. Text: "Jean Dupont (contact 42)
 * jean@example.fr +33612345678 Paris, customer"; JSON: a first line
 * {"kind": "contact", "record": <the contact>}. */
static int print_header(crm_cli *cli, int64_t id, crm_err *err)
{
    crm_contact c;
    int rc = crm_contact_get(cli->k, id, &c, err);
    if (rc != CRM_OK)
        return rc;
    if (cli->json) {
        crm_cli_print_json(cli, json_pack("{ssso}", "kind", "contact", "record",
                                          crm_contact_to_json(&c)));
    } else {
        char name[256];
        snprintf(name, sizeof name, "%s%s%s", c.first_name ? c.first_name : "",
                 c.first_name && c.last_name ? " " : "", c.last_name ? c.last_name : "");
        fprintf(cli->out, "%s (contact %lld)", name[0] ? name : "(no name)", (long long)id);
        const char *parts[] = {c.email, c.phone, c.company, c.city};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            if (parts[i])
                fprintf(cli->out, " %s", parts[i]);
        fprintf(cli->out, ", %s\n", c.lifecycle_stage ? c.lifecycle_stage : "lead");
    }
    crm_contact_clear(&c);
    return CRM_OK;
}

typedef struct timeline_out {
    crm_cli *cli;
    const char *only_kind;  /* NULL = every item */
    int64_t count;
} timeline_out;

static int timeline_one(json_t *item, void *ud)
{
    timeline_out *to = ud;
    if (to->only_kind && strcmp(crm_cli_str(item, "kind"), to->only_kind) != 0)
        return 0;
    to->count++;
    if (!to->cli->json)
        print_item(to->cli, item);
    else if (to->only_kind)
        crm_cli_print_json(to->cli, json_incref(json_object_get(item, "record")));
    else
        crm_cli_print_json(to->cli, json_incref(item));
    return 0;
}

/* o NULL: everything, without a header (interaction list). */
static int run_timeline(crm_cli *cli, const char *ref, const char *only_kind,
                        const crm_timeline_opts *o, crm_err *err)
{
    int64_t contact_id;
    int rc = crm_cli_contact(cli, ref, &contact_id, err);
    if (rc == CRM_OK && o)
        rc = print_header(cli, contact_id, err);
    if (rc != CRM_OK)
        return rc;
    timeline_out to = {cli, only_kind, 0};
    rc = crm_timeline_query(cli->k, contact_id, o, timeline_one, &to, err);
    if (rc == CRM_OK && !cli->json && !cli->quiet)
        fprintf(stderr, "%lld item%s%s\n", (long long)to.count, to.count == 1 ? "" : "s",
                o && o->limit && to.count == o->limit ? " (the latest; --limit 0 shows all)"
                                                      : "");
    return rc;
}

static int cmd_list(crm_cli *cli, const crm_args *a, crm_err *err)
{
    const char *ref;
    int rc = crm_cli_need(a, "contact", "the contact's id, email or ext:ID", &ref, err);
    return rc == CRM_OK ? run_timeline(cli, ref, "interaction", NULL, err) : rc;
}

static int cmd_timeline(crm_cli *cli, const crm_args *a, crm_err *err)
{
    /* --as-of shows the timeline as it stood then: nothing after it */
    crm_timeline_opts o = {.until = cli->k->as_of_set ? cli->k->now : 0};
    int rc = crm_cli_time_opt(a, "since", &o.since, err);
    const char *limit = crm_args_get(a, "limit");
    if (rc == CRM_OK && limit) {
        char *end;
        long long n = strtoll(limit, &end, 10);
        if (*end || end == limit || n < 0)
            return crm_err_set(err, CRM_EUSAGE, "--limit '%s': expected a number of items "
                                                "(0 = all)", limit);
        o.limit = n;
    }
    return rc == CRM_OK ? run_timeline(cli, a->pos[0], NULL, &o, err) : rc;
}

static const crm_opt log_opts[] = {
    {"contact", CRM_OPT_VALUE, "REF", "contact id, email or ext:ID (required)"},
    {"channel", CRM_OPT_VALUE, "CHANNEL", "email, sms, phone, meeting, note or web (required)"},
    {"direction", CRM_OPT_VALUE, "DIR", "in, out or none (default: none for notes, else out)"},
    {"subject", CRM_OPT_VALUE, "TEXT", "subject or title"},
    {"body", CRM_OPT_VALUE, "TEXT", "content (line breaks kept)"},
    {"at", CRM_OPT_VALUE, "DATE", "when it happened, ISO 8601 (default: now)"},
    {"author", CRM_OPT_VALUE, "USER", "the agent: user id or email"},
    {"external-id", CRM_OPT_VALUE, "ID", "identifier in the source system (unique)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt list_opts[] = {
    {"contact", CRM_OPT_VALUE, "REF", "contact id, email or ext:ID (required)"},
    {NULL, 0, NULL, NULL},
};

static const crm_opt timeline_opts[] = {
    {"since", CRM_OPT_VALUE, "DATE", "only items on or after DATE (ISO 8601)"},
    {"limit", CRM_OPT_VALUE, "N", "only the latest N items, still oldest first (0 = all)"},
    {NULL, 0, NULL, NULL},
};

#define K CRM_CMD_NEEDS_KERNEL
const crm_command crm_cli_interaction_cmds[] = {
    {"interaction", "log", cmd_log, K | CRM_CMD_WRITES, 0, 0, NULL,
     "log an exchange with a contact; prints its id", log_opts},
    {"interaction", "list", cmd_list, K, 0, 0, NULL, "a contact's interactions, oldest first",
     list_opts},
    {"timeline", NULL, cmd_timeline, K, 1, 1, "CONTACT",
     "who the contact is, then its interactions, orders, consents, tasks and plugin events (segment "
     "entries and exits, churn alerts) in time order (the 360° view)",
     timeline_opts},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* pipeline plugin — crm quote add|show|send|accept|decline. Each write is
 * one transaction with its events and timers: a refused command leaves the
 * database as it was. */
#include <stdlib.h>
#include <string.h>

#include "pl_int.h"

/* The number of decimals of `currency`, read from the host's money format
 * (one currency table for the whole program): 1 minor unit is "0.01 EUR". */
static int currency_decimals(crm_plugin_ctx *ctx, const char *currency)
{
    char buf[48];
    pl_money(ctx, 1, currency, buf, sizeof buf);
    const char *dot = strchr(buf, '.');
    return dot ? (int)strspn(dot + 1, "0123456789") : 0;
}

/* Prefixes the host's message with `what`, keeping the host's code (a
 * refusal stays a refusal: exit 1, not an internal error). */
static int fail_keep(crm_plugin_ctx *ctx, int rc, const char *what)
{
    char why[512];
    snprintf(why, sizeof why, "%s", crm_last_error(ctx));
    crm_set_error(ctx, "%s: %s", what, why);
    return rc;
}

static int quote_arg(crm_plugin_ctx *ctx, const char *text, pl_quote *q)
{
    int64_t id = pl_parse_id(ctx, text, "quote");
    return id ? pl_quote_get(ctx, id, q) : CRM_EUSAGE;
}

/* ---- add ------------------------------------------------------------------------ */

typedef struct add_job {
    const crm_command_args *args;
    pl_quote q;
} add_job;

static int parse_line(crm_plugin_ctx *ctx, const char *text, int decimals, pl_quote *q)
{
    char err[320];
    if (q->nlines == PL_QUOTE_MAX_LINES) {
        crm_set_error(ctx, "a quote has at most %d lines", PL_QUOTE_MAX_LINES);
        return CRM_EINVAL;
    }
    if (pl_quote_line_parse(text, decimals, PL(ctx)->default_vat_bp, &q->lines[q->nlines], err,
                            sizeof err)) {
        crm_set_error(ctx, "--line: %s", err);
        return CRM_EINVAL;
    }
    q->nlines++;
    return CRM_OK;
}

/* The lines: --line, then each further argument. */
static int parse_lines(crm_plugin_ctx *ctx, const crm_command_args *a, int decimals, pl_quote *q)
{
    int rc = parse_line(ctx, pl_opt_text(a, "line"), decimals, q);
    for (int i = 0; rc == CRM_OK && i < crm_args_count(a); i++)
        rc = parse_line(ctx, crm_args_get(a, i), decimals, q);
    return rc;
}

static int parse_discount(crm_plugin_ctx *ctx, const crm_command_args *a, pl_quote *q)
{
    const char *t = pl_opt_text(a, "discount");
    q->discount_bp = 0;
    if (t && (pl_parse_decimal(t, 2, &q->discount_bp) || q->discount_bp < 0 ||
              q->discount_bp > 10000)) {
        crm_set_error(ctx, "--discount: \"%s\" is not a percentage 0-100 with at most 2 decimals",
                      t);
        return CRM_EINVAL;
    }
    return CRM_OK;
}

/* The deal the quote is for: it must exist and be open. */
static int quote_deal(crm_plugin_ctx *ctx, const crm_command_args *a, pl_deal *d)
{
    int64_t id = pl_parse_id(ctx, pl_opt_text(a, "deal"), "--deal");
    if (!id)
        return CRM_EUSAGE;
    int rc = pl_deal_get(ctx, id, d);
    if (rc == CRM_OK && strcmp(d->status, "open")) {
        crm_set_error(ctx, "deal %lld is %s: quote an open deal (crm deal reopen %lld)",
                      (long long)id, d->status, (long long)id);
        return CRM_EINVAL;
    }
    return rc;
}

static int add_fields(crm_plugin_ctx *ctx, const crm_command_args *a, pl_quote *q)
{
    pl_deal d;
    int rc = quote_deal(ctx, a, &d);
    if (rc != CRM_OK)
        return rc;
    q->deal_id = d.id;
    q->contact_id = d.contact_id;
    snprintf(q->currency, sizeof q->currency, "%s", d.currency);
    if ((rc = parse_discount(ctx, a, q)) != CRM_OK ||
        (rc = parse_lines(ctx, a, currency_decimals(ctx, q->currency), q)) != CRM_OK)
        return rc;
    pl_quote_totals t;
    if (pl_quote_compute(q->lines, q->nlines, q->discount_bp, &t)) {
        crm_set_error(ctx, "--line: more than %d VAT rates, or an amount too large",
                      PL_QUOTE_MAX_RATES);
        return CRM_EINVAL;
    }
    q->net = t.net, q->vat = t.vat, q->gross = t.gross;
    q->created_at = crm_now(ctx);
    const char *valid = pl_opt_text(a, "valid-for");
    rc = crm_calendar_add(ctx, PL(ctx)->calendar[0] ? PL(ctx)->calendar : NULL, q->created_at,
                          valid ? valid : PL(ctx)->valid_for, &q->valid_until);
    if (rc != CRM_OK)
        return fail_keep(ctx, rc, valid ? "--valid-for" : "pipeline.quotes.valid_for");
    return CRM_OK;
}

static int add_body(crm_plugin_ctx *ctx, void *ud)
{
    add_job *j = ud;
    int rc = add_fields(ctx, j->args, &j->q);
    return rc == CRM_OK ? pl_quote_insert(ctx, &j->q) : rc;
}

int pl_cmd_quote_add(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    add_job *j = calloc(1, sizeof *j); /* the lines make it large for the stack */
    if (!j) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    j->args = args;
    int rc = pl_in_tx(ctx, add_body, j);
    if (rc == CRM_OK && crm_io_json(io))
        rc = pl_print_json(ctx, io, pl_quote_json(ctx, &j->q));
    else if (rc == CRM_OK)
        fprintf(crm_io_out(io), "%lld\n", (long long)j->q.id);
    free(j);
    return rc;
}

/* ---- show ----------------------------------------------------------------------- */

static void print_quote(crm_plugin_ctx *ctx, FILE *out, const pl_quote *q)
{
    char number[24], m[48], until[40];
    pl_quote_number(q, number, sizeof number);
    pl_date_of(ctx, q->valid_until, until, sizeof until);
    fprintf(out, "quote %s (id %lld), deal %lld: %s, valid until %s\n", number, (long long)q->id,
            (long long)q->deal_id, q->status, until);
    for (size_t i = 0; i < q->nlines; i++) {
        const pl_quote_line *l = &q->lines[i];
        pl_money(ctx, l->unit_price, q->currency, m, sizeof m);
        fprintf(out, "  %-16s %6lld x %s", l->sku, (long long)l->quantity, m);
        pl_money(ctx, l->net, q->currency, m, sizeof m);
        fprintf(out, "  VAT %lld.%02lld %%  net %s\n", (long long)(l->vat_bp / 100),
                (long long)(l->vat_bp % 100), m);
    }
    if (q->discount_bp)
        fprintf(out, "  discount %lld.%02lld %% (in the line nets)\n",
                (long long)(q->discount_bp / 100), (long long)(q->discount_bp % 100));
    pl_money(ctx, q->net, q->currency, m, sizeof m);
    fprintf(out, "  net   %s\n", m);
    pl_money(ctx, q->vat, q->currency, m, sizeof m);
    fprintf(out, "  VAT   %s\n", m);
    pl_money(ctx, q->gross, q->currency, m, sizeof m);
    fprintf(out, "  gross %s\n", m);
}

int pl_cmd_quote_show(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    pl_quote *q = calloc(1, sizeof *q);
    if (!q) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    int rc = quote_arg(ctx, crm_args_get(args, 0), q);
    if (rc == CRM_OK && crm_io_json(io))
        rc = pl_print_json(ctx, io, pl_quote_json(ctx, q));
    else if (rc == CRM_OK)
        print_quote(ctx, crm_io_out(io), q);
    free(q);
    return rc;
}

/* ---- send, accept, decline ------------------------------------------------------ */

typedef struct verb_job {
    const crm_command_args *args;
    int (*apply)(crm_plugin_ctx *ctx, struct verb_job *j);
    pl_quote q;
} verb_job;

/* The quote is still waiting for an answer (draft or sent). */
static int check_open(crm_plugin_ctx *ctx, const pl_quote *q, const char *verb)
{
    if (!strcmp(q->status, "draft") || !strcmp(q->status, "sent"))
        return CRM_OK;
    crm_set_error(ctx, "quote %lld is %s: it cannot be %s", (long long)q->id, q->status, verb);
    return CRM_EINVAL;
}

/* The message's template data: {"quote": {number, total, net, vat, valid_until}}. */
static json_t *message_data(crm_plugin_ctx *ctx, const pl_quote *q)
{
    char number[24], total[48], net[48], vat[48], until[16];
    pl_quote_number(q, number, sizeof number);
    pl_money(ctx, q->gross, q->currency, total, sizeof total);
    pl_money(ctx, q->net, q->currency, net, sizeof net);
    pl_money(ctx, q->vat, q->currency, vat, sizeof vat);
    pl_date_of(ctx, q->valid_until, until, sizeof until);
    return json_pack("{s{ss ss ss ss ss sI}}", "quote", "number", number, "total", total, "net",
                     net, "vat", vat, "valid_until", until, "id", (json_int_t)q->id);
}

/* A message the outbox suppressed (no address, paused...) is not a sent
 * quote: refused with the outbox's reason, so the rollback keeps it draft. */
static int check_queued(crm_plugin_ctx *ctx, const pl_quote *q)
{
    crm_stmt *st = pl_prep(ctx, "SELECT status, reason FROM messages WHERE id = ?1");
    if (!st)
        return pl_fail_db(ctx, "cannot read the queued message");
    crm_sql_bind_int64(st, 1, q->message_id);
    int rc = CRM_OK;
    if (crm_sql_step(st) == CRM_SQL_ROW && !strcmp(crm_sql_column_text(st, 0), "suppressed")) {
        const char *why = crm_sql_column_text(st, 1);
        crm_set_error(ctx, "quote not sent: the outbox suppressed its message (%s)",
                      why ? why : "no reason given");
        rc = CRM_EINVAL;
    }
    crm_sql_finalize(st);
    return rc;
}

static int queue_message(crm_plugin_ctx *ctx, pl_quote *q)
{
    char key[48];
    snprintf(key, sizeof key, "pipeline:quote:%lld", (long long)q->id);
    json_t *m = json_pack("{sI ss ss ss so}", "contact_id", (json_int_t)q->contact_id, "template",
                          "quote", "purpose", "transactional", "key", key, "data",
                          message_data(ctx, q));
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    int rc = s ? crm_message_queue_json(ctx, s, &q->message_id) : CRM_ENOMEM;
    free(s);
    return rc == CRM_OK ? check_queued(ctx, q) : fail_keep(ctx, rc, "quote not sent");
}

static int apply_send(crm_plugin_ctx *ctx, verb_job *j)
{
    pl_quote *q = &j->q;
    if (strcmp(q->status, "draft")) {
        crm_set_error(ctx, "quote %lld is %s: only a draft is sent", (long long)q->id, q->status);
        return CRM_EINVAL;
    }
    if (!CRM_API_HAS(ctx, message_queue_json)) {
        crm_set_error(ctx, "this crm has no message outbox (SDK 1.3: messages)");
        return CRM_EPLUGIN;
    }
    int rc = queue_message(ctx, q);
    if (rc != CRM_OK)
        return rc;
    q->sent_at = crm_now(ctx);
    snprintf(q->status, sizeof q->status, "sent");
    if ((rc = pl_run(ctx, "UPDATE pipeline_quotes SET status = 'sent', sent_at = ?2,"
                          " message_id = ?3 WHERE id = ?1", 3, q->id, q->sent_at,
                     q->message_id)) != CRM_OK)
        return pl_fail_db(ctx, "cannot update the quote");
    int64_t due = 0;
    rc = crm_calendar_add(ctx, PL(ctx)->calendar[0] ? PL(ctx)->calendar : NULL, q->sent_at,
                          PL(ctx)->follow_up_after, &due);
    if (rc != CRM_OK)
        return fail_keep(ctx, rc, "pipeline.quotes.follow_up_after");
    if ((rc = pl_quote_schedule(ctx, q, PL_QUOTE_FOLLOW, due)) != CRM_OK)
        return rc;
    pl_deal d;
    if ((rc = pl_deal_get(ctx, q->deal_id, &d)) == CRM_OK)
        rc = pl_deal_touch(ctx, &d, pl_now(ctx)); /* sending a quote is activity on the deal */
    return rc == CRM_OK ? pl_quote_emit(ctx, q, "quote.sent") : rc;
}

/* The kernel order of an accepted quote: one line per quote line at its net
 * (the discount applied); quantity x unit price when the net divides by the
 * quantity, else quantity 1 at the line's net, so the lines sum to the
 * quote's net exactly. The order's total is the net (VAT is not revenue). */
static int add_order(crm_plugin_ctx *ctx, pl_quote *q)
{
    char ext[48];
    snprintf(ext, sizeof ext, "pipeline-quote-%lld", (long long)q->id);
    json_t *lines = json_array();
    for (size_t i = 0; lines && i < q->nlines; i++) {
        const pl_quote_line *l = &q->lines[i];
        int whole = l->net % l->quantity == 0;
        json_array_append_new(lines, json_pack("{ss sI sI}", "sku", l->sku, "quantity",
                                               (json_int_t)(whole ? l->quantity : 1),
                                               "unit_price_minor",
                                               (json_int_t)(whole ? l->net / l->quantity
                                                                  : l->net)));
    }
    json_t *o = json_pack("{sI ss ss ss sI so}", "contact_id", (json_int_t)q->contact_id,
                          "external_id", ext, "currency", q->currency, "status", "placed",
                          "placed_at", (json_int_t)pl_now(ctx), "lines", lines);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int rc = s ? crm_order_add_json(ctx, s, &q->order_id) : CRM_ENOMEM;
    free(s);
    return rc == CRM_OK ? CRM_OK : fail_keep(ctx, rc, "cannot create the order");
}

int pl_quote_accept(crm_plugin_ctx *ctx, pl_quote *q)
{
    pl_deal d;
    memset(&d, 0, sizeof d);
    int rc = check_open(ctx, q, "accepted");
    if (rc == CRM_OK)
        rc = pl_deal_get(ctx, q->deal_id, &d);
    if (rc == CRM_OK)
        rc = add_order(ctx, q);
    if (rc == CRM_OK)
        rc = pl_quote_set_status(ctx, q, "accepted", NULL);
    if (rc == CRM_OK)
        rc = pl_quote_cancel_timers(ctx, q);
    if (rc == CRM_OK)
        rc = pl_quote_emit(ctx, q, "quote.accepted");
    if (rc == CRM_OK && !strcmp(d.status, "open")) { /* accepting the quote wins the deal */
        const pl_pipeline *p = pl_pipeline_find(ctx, d.pipeline);
        rc = p ? pl_deal_set_stage(ctx, &d, p->won, NULL, NULL) : CRM_ECONFIG;
    }
    return rc;
}

static int apply_accept(crm_plugin_ctx *ctx, verb_job *j) { return pl_quote_accept(ctx, &j->q); }

static int apply_decline(crm_plugin_ctx *ctx, verb_job *j)
{
    pl_quote *q = &j->q;
    int rc = check_open(ctx, q, "declined");
    if (rc == CRM_OK)
        rc = pl_quote_set_status(ctx, q, "declined", pl_opt_text(j->args, "reason"));
    if (rc == CRM_OK)
        rc = pl_quote_cancel_timers(ctx, q);
    return rc == CRM_OK ? pl_quote_emit(ctx, q, "quote.declined") : rc;
}

static int verb_body(crm_plugin_ctx *ctx, void *ud)
{
    verb_job *j = ud;
    int rc = quote_arg(ctx, crm_args_get(j->args, 0), &j->q);
    return rc == CRM_OK ? j->apply(ctx, j) : rc;
}

static int run_verb(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args,
                    int (*apply)(crm_plugin_ctx *, verb_job *))
{
    verb_job *j = calloc(1, sizeof *j);
    if (!j) {
        crm_set_error(ctx, "out of memory");
        return CRM_ENOMEM;
    }
    j->args = args, j->apply = apply;
    int rc = pl_in_tx(ctx, verb_body, j);
    if (rc == CRM_OK && crm_io_json(io))
        rc = pl_print_json(ctx, io, pl_quote_json(ctx, &j->q));
    else if (rc == CRM_OK)
        fprintf(crm_io_out(io), "quote %lld %s\n", (long long)j->q.id, j->q.status);
    free(j);
    return rc;
}

int pl_cmd_quote_send(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return run_verb(ctx, io, args, apply_send);
}

int pl_cmd_quote_accept(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return run_verb(ctx, io, args, apply_accept);
}

int pl_cmd_quote_decline(crm_plugin_ctx *ctx, crm_command_io *io, const crm_command_args *args)
{
    return run_verb(ctx, io, args, apply_decline);
}

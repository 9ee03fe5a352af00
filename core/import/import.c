/* The import driver: one run from the options to the report — the input's
 * identity and the journal, the reader thread's batches written in
 * transactions, this run's reject file and progress. What the parts call
 * back into (entities, formats, lookups, reject writers) is helpers.c's;
 * entity handlers live in import_<entity>.c, the journal and undo in
 * journal.c. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "import_int.h"
#include "mapping.h"
#include "pipe.h"

typedef struct run {
    imp_ctx c;
    crm_import_report *r;
    crm_err *err;
    imp_source src;               /* the reader thread's until it is joined */
    crm_import_format fmt;
    imp_journal journal;
    imp_input in;                 /* the input's identity for the journal */
    imp_codec codec;              /* the input's encoding */
    char hash[32], lines_hash[32], options[2048];
    size_t batch_size;
    bool bulk;                    /* a bulk load: indexes dropped (bulk.c) */
    int64_t lines;                /* the input's line ends (a regular file), else 0 */
    imp_mapper wmap, rmap;        /* the writer's and the reader's */
    char rmap_unknown[512];       /* unknown columns, listed by the reader */
    int64_t consumed;             /* input bytes behind the batch being written */
    /* reject file */
    FILE *rejects;
    size_t rej_n;
    /* progress */
    double t0, last_draw;
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- reject file ------------------------------------------------------------ */

static int open_rejects(run *R, const imp_row *row)
{
    R->rejects = fopen(R->r->rejects_path, "w");
    if (!R->rejects)
        return crm_err_set(R->err, CRM_EIO, "cannot write the reject file %s: %s",
                           R->r->rejects_path, strerror(errno));
    if (R->fmt != CRM_IMPORT_CSV)
        return CRM_OK;
    R->rej_n = row->n;
    if (R->src.header_raw)
        imp_reject_raw_header(R->rejects, &R->src);
    else
        imp_reject_csv_header(R->rejects, row->names, row->n);
    return CRM_OK;
}

static void reject_json(run *R, const imp_row *row, const char *reason)
{
    json_t *o = json_pack("{sIss}", "line", (json_int_t)row->line, "reason", reason);
    json_t *orig = row->raw ? json_loads(row->raw, 0, NULL) : NULL;
    if (!orig && row->raw)
        orig = json_string(row->raw);
    if (!orig) {
        orig = json_object();
        for (size_t i = 0; i < row->n; i++)
            json_object_set_new(orig, row->names[i], json_string(row->cells[i]));
    }
    json_object_set_new(o, "row", orig);
    json_dumpf(o, R->rejects, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', R->rejects);
    json_decref(o);
}

static int write_reject(run *R, const imp_row *row, const char *reason)
{
    if (!R->rejects && open_rejects(R, row) != CRM_OK)
        return R->err->code;
    if (R->fmt != CRM_IMPORT_CSV) {
        reject_json(R, row, reason);
        return CRM_OK;
    }
    if (row->raw && R->src.header_raw)
        imp_reject_raw_row(R->rejects, &R->src, row, R->rej_n, reason);
    else
        imp_reject_csv_row(R->rejects, row, R->rej_n, reason);
    return CRM_OK;
}

/* ---- rows ---------------------------------------------------------------- */

static void draw_progress(run *R, bool final)
{
    double t = now_s();
    if (!R->c.o->progress || (!final && t - R->last_draw < 0.2))
        return;
    R->last_draw = t;
    double rate = R->r->read / (t - R->t0 > 1e-3 ? t - R->t0 : 1e-3);
    char eta[32] = "";
    if (R->src.size > 0 && R->consumed > 0 && !final) {
        double left = (t - R->t0) * (double)(R->src.size - R->consumed) / R->consumed;
        snprintf(eta, sizeof eta, "  %3d%%  ETA %ds",
                 (int)(100.0 * R->consumed / R->src.size), (int)left);
    }
    fprintf(stderr, "\r%s: %lld rows  %.0f rows/s%s   %s", R->c.ent->name,
            (long long)R->r->read, rate, eta, final ? "\n" : "");
    fflush(stderr);
}

static bool is_fatal(int code)
{
    return code == CRM_ENOMEM || code == CRM_EIO || code == CRM_EBUSY || code == CRM_EINTERNAL;
}

static int count_outcome(run *R, int outcome)
{
    crm_import_report *r = R->r;
    int64_t *slot[] = {NULL, &r->stored, &r->updated, &r->unchanged, &r->merged};
    if (outcome < IMP_STORED || outcome > IMP_MERGED)
        return crm_err_set(R->err, CRM_EINTERNAL, "import handler returned %d", outcome);
    (*slot[outcome])++;
    return CRM_OK;
}

/* One row in its own transaction level: in batch mode that costs nothing,
 * in safe mode it is a savepoint, so a row is written whole or not at all. */
static int apply_row(run *R, imp_row *row)
{
    crm_kernel *k = R->c.k;
    R->r->read++;
    imp_map_row(&R->wmap, row);
    crm_err e = {0};
    int64_t id = 0;
    int rc = crm_kernel_begin(k, R->err);
    if (rc != CRM_OK)
        return rc;
    int out = row->error ? crm_err_set(&e, row->error_code ? row->error_code : CRM_EINVAL, "%s",
                                       row->error)
                         : R->c.ent->apply(&R->c, row, &id, &e);
    if (out >= 0) {
        rc = count_outcome(R, out);
        if (rc == CRM_OK)
            rc = imp_journal_record(&R->journal, id, out, R->err);
        if (rc == CRM_OK)
            return crm_kernel_commit(k, R->err);
        crm_kernel_rollback(k);
        return rc;
    }
    crm_kernel_rollback(k);
    if (is_fatal(out)) {
        *R->err = e;
        return out;
    }
    R->r->rejected++;
    return write_reject(R, row, e.msg[0] ? e.msg : crm_err_name(out));
}

/* ---- batches ------------------------------------------------------------------ */

/* Applies the batch's rows in the open transaction. In batch mode it stops
 * at the first row whose failure left writes behind (the batch is lost). */
static int apply_batch(run *R, const imp_batch *b)
{
    char *names[IMP_MAX_COLS], *cells[IMP_MAX_COLS];
    for (size_t i = 0; i < b->n; i++) {
        imp_row row;
        imp_batch_row(b, i, names, cells, &row);
        int rc = apply_row(R, &row);
        if (rc != CRM_OK)
            return rc;
        if (crm_store_batch_failed(R->c.k->store))
            return CRM_OK;
        draw_progress(R, false);
    }
    return CRM_OK;
}

/* Where the reject file stood before a batch, to take the batch's rows back. */
typedef struct rej_mark {
    bool open;
    long pos;
} rej_mark;

static rej_mark rejects_mark(run *R)
{
    rej_mark m = {R->rejects != NULL, 0};
    if (m.open)
        m.pos = ftell(R->rejects);
    return m;
}

static int rejects_rewind(run *R, rej_mark m)
{
    if (!R->rejects)
        return CRM_OK;
    if (!m.open) {
        fclose(R->rejects); /* reopened (truncated) by the next reject */
        R->rejects = NULL;
        return CRM_OK;
    }
    if (fflush(R->rejects) != 0 || ftruncate(fileno(R->rejects), m.pos) != 0 ||
        fseek(R->rejects, m.pos, SEEK_SET) != 0)
        return crm_err_set(R->err, CRM_EIO, "cannot rewrite the reject file %s: %s",
                           R->r->rejects_path, strerror(errno));
    return CRM_OK;
}

/* Writes the buffered rows: one transaction in batch mode (no savepoint per
 * record). When a row failed after writing, that transaction is rolled back
 * and the same rows run again in safe mode, a savepoint per row, so every
 * row still gets its own outcome and nothing is counted twice. A dry run
 * stays in its single safe-mode transaction. */
static int flush_batch(run *R, imp_batch *b)
{
    crm_kernel *k = R->c.k;
    R->consumed = b->consumed;
    if (R->c.o->dry_run)
        return apply_batch(R, b);
    crm_import_report saved = *R->r;
    rej_mark mark = rejects_mark(R);
    int rc = crm_kernel_begin_batch(k, R->err);
    if (rc == CRM_OK)
        rc = apply_batch(R, b);
    if (rc == CRM_OK && crm_store_batch_failed(k->store)) {
        crm_kernel_rollback(k);
        imp_journal_discard(&R->journal);
        *R->r = saved;
        imp_batch_drop_preps(b); /* the first run consumed them */
        rc = rejects_rewind(R, mark);
        if (rc == CRM_OK)
            rc = crm_kernel_begin(k, R->err);
        if (rc == CRM_OK)
            rc = apply_batch(R, b);
    }
    if (rc == CRM_OK) /* counts only: the status and the hash are finish()'s */
        rc = imp_journal_update(&R->journal, R->r, NULL, NULL, R->err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, R->err);
    else if (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    if (rc != CRM_OK) { /* the batch is gone: so are its counts and rejected rows */
        imp_journal_discard(&R->journal);
        *R->r = saved;
        rejects_rewind(R, mark);
    }
    return rc;
}

/* Reader thread, per row: maps the columns, then the entity's prepare. */
static int prepare_row(void *ud, imp_row *row, void **prep, crm_err *err)
{
    run *R = ud;
    imp_map_row(&R->rmap, row);
    return R->c.ent->prepare ? R->c.ent->prepare(&R->c, row, prep, err) : CRM_OK;
}

static int read_all(void *ud, imp_row_fn fn, void *fn_ud, crm_err *err)
{
    run *R = ud;
    return imp_reader_for(R->fmt)(&R->src, fn, fn_ud, err);
}

/* Writes the batches the reader thread fills, in file order; a reader
 * error (a malformed file) ends the run after the batches before it. */
static int write_all(run *R)
{
    imp_pipe_cfg cfg = {.batch_size = R->batch_size, .read = read_all, .read_ud = R,
                        .prepare = prepare_row, .prepare_ud = R,
                        .release = R->c.ent->release, .src = &R->src};
    imp_pipe *p;
    int rc = imp_pipe_start(&p, &cfg, R->err);
    if (rc != CRM_OK)
        return rc;
    imp_batch *b;
    while (rc == CRM_OK && (b = imp_pipe_next(p))) {
        rc = flush_batch(R, b);
        imp_pipe_recycle(p, b);
    }
    int read_rc = imp_pipe_finish(p, rc == CRM_OK ? R->err : NULL);
    return rc != CRM_OK ? rc : read_rc;
}

/* ---- the run ----------------------------------------------------------------- */

static void default_rejects(const crm_import_opts *o, crm_import_format f, char *out, size_t n)
{
    if (o->rejects_path)
        snprintf(out, n, "%s", o->rejects_path);
    else
        imp_rejects_path(o->path, f == CRM_IMPORT_CSV ? "csv" : "jsonl", out, n);
}

/* The hash the journal keeps: the one taken before reading, else (a pipe)
 * what the reader saw. */
static const char *final_hash(run *R)
{
    if (!R->in.hash)
        snprintf(R->hash, sizeof R->hash, "fnv1a64:%016llx", (unsigned long long)R->src.hash);
    return R->hash;
}

/* After writing: closes the journal ("done", or "failed" after an error:
 * committed batches stay). */
static int finish(run *R, int rc)
{
    crm_kernel *k = R->c.k;
    if (R->c.o->dry_run) {
        crm_kernel_rollback(k);
        return rc;
    }
    if (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    if (rc == CRM_OK) {
        rc = crm_kernel_begin(k, R->err);
        if (rc == CRM_OK)
            rc = imp_journal_update(&R->journal, R->r, final_hash(R), "done", R->err);
        if (rc == CRM_OK)
            return crm_kernel_commit(k, R->err);
        crm_kernel_rollback(k);
    }
    imp_journal_discard(&R->journal);
    if (R->journal.id && crm_kernel_begin(k, NULL) == CRM_OK) {
        crm_err ignore = {0};
        if (imp_journal_update(&R->journal, R->r, final_hash(R), "failed", &ignore) == CRM_OK)
            crm_kernel_commit(k, NULL);
        else
            crm_kernel_rollback(k);
    }
    return rc;
}

/* The rows, with the bus held: subscribers catch up once, after the load
 * (and after the indexes a first load dropped are back). */
static int load(run *R)
{
    crm_kernel *k = R->c.k;
    int rc = CRM_OK;
    if (!R->c.o->dry_run)
        rc = imp_bulk_begin(k, R->c.ent, R->journal.id, R->lines, &R->bulk, R->err);
    crm_bus_hold(k, true);
    if (rc == CRM_OK)
        rc = write_all(R);
    if (R->bulk) {
        if (crm_store_depth(k->store) > 0)
            crm_kernel_rollback(k); /* the failed batch, before the rebuild commits */
        crm_err e = {0};
        int brc = imp_bulk_end(k, R->journal.id, &e);
        if (brc != CRM_OK && rc == CRM_OK) {
            *R->err = e;
            rc = brc;
        }
    }
    return rc;
}

static void release_bus(run *R)
{
    crm_bus_hold(R->c.k, false);
    crm_err e = {0};
    if (crm_bus_dispatch(R->c.k, &e) != CRM_OK)
        fprintf(stderr, "crm: event dispatch stopped: %s\n", e.msg);
}

static const char *const format_names[] = {"auto", "csv", "jsonl", "vcard"};

/* The input's identity: the file's hash (a regular file only: a pipe is not
 * read twice), the lines file's, and the options that shape the outcome. */
static int identify(run *R, const crm_import_opts *o, crm_import_format fmt, bool regular)
{
    uint64_t h;
    int rc = CRM_OK;
    if (regular &&
        (rc = imp_scan_file(R->src.f, o->path, &R->codec, &h, &R->lines, R->err)) == CRM_OK) {
        snprintf(R->hash, sizeof R->hash, "fnv1a64:%016llx", (unsigned long long)h);
        R->in.hash = R->hash;
    }
    if (rc == CRM_OK && o->lines_path) {
        FILE *f = fopen(o->lines_path, "rb");
        if (!f)
            return crm_err_set(R->err, CRM_EIO, "cannot read %s: %s", o->lines_path,
                               strerror(errno));
        rc = imp_scan_file(f, o->lines_path, &R->codec, &h, NULL, R->err);
        fclose(f);
        snprintf(R->lines_hash, sizeof R->lines_hash, "fnv1a64:%016llx", (unsigned long long)h);
        R->in.lines_hash = R->lines_hash;
    }
    size_t len = (size_t)snprintf(R->options, sizeof R->options, "format=%s%s",
                                  format_names[fmt], o->merge_duplicates ? ";merge" : "");
    if (R->codec.single && len < sizeof R->options)
        len += (size_t)snprintf(R->options + len, sizeof R->options - len, ";encoding=%s",
                                R->codec.name);
    for (size_t i = 0; i < o->n_map && len < sizeof R->options; i++)
        len += (size_t)snprintf(R->options + len, sizeof R->options - len, ";map=%s", o->map[i]);
    if (len >= sizeof R->options)
        R->in.hash = NULL; /* too many options to compare: never short-circuit */
    R->in.options = R->options;
    return rc;
}

static int prepare(run *R, const crm_import_opts *o, crm_import_format fmt)
{
    R->src.f = fopen(o->path, "rb");
    if (!R->src.f)
        return crm_err_set(R->err, CRM_EIO, "cannot read %s: %s", o->path, strerror(errno));
    struct stat sb;
    bool regular = fstat(fileno(R->src.f), &sb) == 0 && S_ISREG(sb.st_mode);
    if (regular)
        R->src.size = (int64_t)sb.st_size;
    R->src.codec = &R->codec;
    R->src.path = o->path;
    R->src.keep_raw = fmt == CRM_IMPORT_CSV;
    R->src.check_utf8 = !regular && !R->codec.single;
    int rc = imp_journal_reap(R->c.k, R->err);
    if (rc == CRM_OK)
        rc = identify(R, o, fmt, regular);
    if (rc == CRM_OK && !o->force)
        rc = imp_journal_find(R->c.k, R->c.ent, &R->in, "done", &R->r->already_id,
                              &R->r->already_at, R->err);
    if (rc != CRM_OK || R->r->already_id)
        return rc; /* an identical input: not read again, nothing written */
    default_rejects(o, fmt, R->r->rejects_path, sizeof R->r->rejects_path);
    if (!o->rejects_path)
        unlink(R->r->rejects_path); /* a stale reject file from an earlier run would mislead */
    rc = imp_check_map(&R->c, R->err);
    if (rc == CRM_OK && o->lines_path)
        rc = imp_load_lines(&R->c, o->lines_path, R->batch_size, R->err);
    int64_t at;
    if (rc == CRM_OK && !o->dry_run)
        rc = imp_journal_find(R->c.k, R->c.ent, &R->in, "interrupted", &R->r->completes, &at,
                              R->err);
    if (rc == CRM_OK && !o->dry_run)
        rc = imp_journal_start(&R->journal, R->c.k, R->c.ent, o->path, &R->in, R->r->completes,
                               R->err);
    R->r->id = R->journal.id;
    return rc;
}

int crm_import_run(crm_kernel *k, const crm_import_opts *o, crm_import_report *r,
                   crm_err *err)
{
    memset(r, 0, sizeof *r);
    run R = {.c = {.k = k, .o = o, .ent = imp_find_entity(o->entity)}, .r = r, .err = err,
             .batch_size = o->batch_size ? o->batch_size : CRM_IMPORT_BATCH_DEFAULT,
             .t0 = now_s()};
    /* The reader maps every row before the writer sees it: its list of
     * unknown columns is the report's, taken once it is joined. */
    R.wmap = (imp_mapper){.c = &R.c};
    R.rmap = (imp_mapper){.c = &R.c, .unknown = R.rmap_unknown,
                          .unknown_size = sizeof R.rmap_unknown};
    if (!R.c.ent)
        return crm_err_set(err, CRM_EUSAGE,
                           "cannot import '%s': expected contacts, companies, orders or "
                           "interactions", o->entity ? o->entity : "");
    if (o->lines_path && R.c.ent != &imp_orders)
        return crm_err_set(err, CRM_EUSAGE, "--lines applies to orders only");
    crm_import_format fmt = R.fmt = imp_pick_format(o);
    int rc = imp_codec_open(&R.codec, o->encoding ? o->encoding : "utf-8", err);
    if (rc != CRM_OK)
        return rc;
    if (R.codec.single && fmt != CRM_IMPORT_CSV)
        return crm_err_set(err, CRM_EUSAGE, "--encoding %s applies to CSV files: JSON Lines and "
                           "vCard files are UTF-8", R.codec.name);
    R.c.codec = &R.codec;
    /* Checkpoint the WAL every ~64 MiB rather than every 4 MiB: the import
     * rewrites the same index pages batch after batch, and each checkpoint
     * copies them back and syncs. The default comes back at the end. */
    sqlite3_wal_autocheckpoint(crm_store_db(k->store), 16384);
    /* A larger page cache for the run: at ten million orders the indexes
     * keyed by contact and date take random inserts, and with 64 MiB each
     * one missed the cache (3M orders with lines: 79 s with 64 MiB, 67 s
     * with 256 MiB, peak 124 -> 336 MB). Pages are allocated as used, so a
     * small import stays small. */
    crm_store_cache(k->store, 4 * CRM_STORE_CACHE_KIB, NULL);
    rc = prepare(&R, o, fmt);
    if (rc == CRM_OK && o->dry_run && !r->already_id)
        rc = crm_kernel_begin(k, err);
    if (rc == CRM_OK && !r->already_id)
        rc = finish(&R, load(&R));
    release_bus(&R);
    snprintf(r->unknown, sizeof r->unknown, "%s", R.rmap_unknown);
    sqlite3_wal_autocheckpoint(crm_store_db(k->store), 1000);
    crm_store_cache(k->store, CRM_STORE_CACHE_KIB, NULL);
    draw_progress(&R, true);
    r->seconds = now_s() - R.t0;
    if (R.rejects)
        fclose(R.rejects);
    else
        r->rejects_path[0] = '\0';
    if (R.src.f)
        fclose(R.src.f);
    free(R.src.header_raw);
    const char *orphans_path = NULL;
    r->orphan_lines = imp_lines_orphans(&R.c, &orphans_path);
    snprintf(r->lines_rejects_path, sizeof r->lines_rejects_path, "%s",
             orphans_path ? orphans_path : "");
    imp_mapper_free(&R.wmap);
    imp_mapper_free(&R.rmap);
    imp_lines_free(&R.c);
    return rc;
}

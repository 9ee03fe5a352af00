/* The import driver: column mapping, batches, reject file and progress.
 * Entity handlers live in import_<entity>.c, the journal and undo in
 * journal.c. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export/export.h"
#include "hygiene.h"
#include "import_int.h"
#include "model.h"
#include "model/model_util.h"

#define MAX_COLS 512
#define NAME_CACHE 64

static const imp_entity *const entities[] = {&imp_contacts, &imp_companies, &imp_orders,
                                             &imp_interactions};

/* The rows of the current batch, kept so that a batch whose fast run failed
 * can be re-run record by record. Strings live in one arena; rows keep
 * offsets into it. Bounded by the batch size: memory stays flat. */
typedef struct brow {
    int64_t line;
    size_t n;
    size_t cells;      /* index in offs of the first cell (names follow unless shared) */
    size_t raw, error; /* arena offsets, NONE when absent */
    char **names;      /* the reader's stable names (CSV header), or NULL: copied */
} brow;

#define NONE ((size_t)-1)

typedef struct batch {
    char **header;     /* a copy of the reader's stable names (they die with the reader) */
    size_t n_header;
    char *const *header_of;  /* the reader's array it copies */
    brow *rows;
    size_t n, cap;
    size_t *offs;
    size_t n_offs, cap_offs;
    char *arena;
    size_t used, cap_arena;
} batch;

typedef struct run {
    imp_ctx c;
    crm_import_report *r;
    crm_err *err;
    imp_source src;
    crm_import_format fmt;
    imp_journal journal;
    size_t batch_size;
    batch b;
    /* mapping cache: column name -> field (NULL = ignored) */
    char *cache_name[NAME_CACHE];
    const char *cache_field[NAME_CACHE];
    size_t n_cache;
    const char *fields[MAX_COLS];
    char **fields_of;             /* the names array fields[] was computed for */
    size_t fields_n;
    /* reject file */
    FILE *rejects;
    char **rej_header;
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

/* ---- column mapping ------------------------------------------------------ */

/* Folded name without spaces: "First Name", "first_name", "FIRSTNAME" agree. */
static void compact_key(const char *name, char *out, size_t size)
{
    char *f = crm_fold_key(name);
    size_t n = 0;
    for (const char *p = f ? f : name; *p && n + 1 < size; p++)
        if (*p != ' ' && *p != '_' && *p != '-')
            out[n++] = (char)tolower((unsigned char)*p);
    out[n] = '\0';
    free(f);
}

bool imp_is_custom(const imp_ctx *c, const char *field)
{
    return c->ent->custom >= 0 &&
           crm_config_custom_field(c->k->cfg, (crm_entity)c->ent->custom, field) != NULL;
}

/* The entity's field named exactly or loosely `name`: canonical first, then custom. */
static const char *find_field(const imp_ctx *c, const char *name, bool loose)
{
    char want[256], have[256];
    compact_key(name, want, sizeof want);
    for (const char *const *col = c->ent->columns; *col; col++) {
        compact_key(*col, have, sizeof have);
        if (loose ? strcmp(want, have) == 0 : strcmp(name, *col) == 0)
            return *col;
    }
    if (c->ent->custom < 0)
        return NULL;
    const crm_config *cfg = c->k->cfg;
    for (size_t i = 0; i < cfg->n_custom[c->ent->custom]; i++) {
        const char *cname = cfg->custom[c->ent->custom][i].name;
        compact_key(cname, have, sizeof have);
        if (loose ? strcmp(want, have) == 0 : strcmp(name, cname) == 0)
            return cname;
    }
    return NULL;
}

static void note_unknown(run *R, const char *name)
{
    char *u = R->r->unknown;
    size_t len = strlen(u);
    if (strlen(name) + len + 3 >= sizeof R->r->unknown)
        return;
    snprintf(u + len, sizeof R->r->unknown - len, "%s%s", len ? ", " : "", name);
}

/* A --map entry for column `name`: 1 and *field when found. */
static int mapped(run *R, const char *name, const char **field)
{
    char want[256], col[256];
    compact_key(name, want, sizeof want);
    for (size_t i = 0; i < R->c.o->n_map; i++) {
        const char *m = R->c.o->map[i], *eq = strchr(m, '=');
        char left[256];
        snprintf(left, sizeof left, "%.*s", (int)(eq - m), m);
        compact_key(left, col, sizeof col);
        if (strcmp(col, want) == 0) {
            *field = strcmp(eq + 1, "-") == 0 ? NULL : find_field(&R->c, eq + 1, false);
            return 1;
        }
    }
    return 0;
}

static const char *map_name(run *R, const char *name)
{
    for (size_t i = 0; i < R->n_cache; i++)
        if (strcmp(R->cache_name[i], name) == 0)
            return R->cache_field[i];
    const char *field = NULL;
    if (!mapped(R, name, &field)) {
        field = find_field(&R->c, name, true);
        if (!field)
            note_unknown(R, name);
    }
    if (R->n_cache < NAME_CACHE && (R->cache_name[R->n_cache] = strdup(name)))
        R->cache_field[R->n_cache++] = field;
    return field;
}

/* Checks every --map target up front: a typo is a usage error, not 10,000 rejects. */
static int check_map(const imp_ctx *c, crm_err *err)
{
    for (size_t i = 0; i < c->o->n_map; i++) {
        const char *m = c->o->map[i], *eq = strchr(m, '=');
        if (!eq || eq == m)
            return crm_err_set(err, CRM_EUSAGE, "--map '%s': expected COLUMN=FIELD", m);
        if (strcmp(eq + 1, "-") != 0 && !find_field(c, eq + 1, false))
            return crm_err_set(err, CRM_EUSAGE,
                               "--map '%s': '%s' is not a field of %s (use one of the "
                               "canonical columns, a custom field, or '-' to ignore)",
                               m, eq + 1, c->ent->name);
    }
    return CRM_OK;
}

/* ---- reject file ------------------------------------------------------------ */

static int open_rejects(run *R, const imp_row *row)
{
    R->rejects = fopen(R->r->rejects_path, "w");
    if (!R->rejects)
        return crm_err_set(R->err, CRM_EIO, "cannot write the reject file %s: %s",
                           R->r->rejects_path, strerror(errno));
    if (row->raw || R->fmt == CRM_IMPORT_VCARD)
        return CRM_OK;
    /* CSV: the input's header plus line and reason. */
    R->rej_n = row->n;
    for (size_t i = 0; i < row->n; i++)
        crm_csv_put(R->rejects, row->names[i], i == 0);
    crm_csv_put(R->rejects, "line", row->n == 0);
    crm_csv_put(R->rejects, "reason", false);
    fputc('\n', R->rejects);
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
    if (row->raw || R->fmt == CRM_IMPORT_VCARD) {
        reject_json(R, row, reason);
        return CRM_OK;
    }
    size_t n = R->rej_n > row->n ? R->rej_n : row->n;
    for (size_t i = 0; i < n; i++)
        crm_csv_put(R->rejects, i < row->n ? row->cells[i] : NULL, i == 0);
    char line[32];
    snprintf(line, sizeof line, "%lld", (long long)row->line);
    crm_csv_put(R->rejects, line, n == 0);
    crm_csv_put(R->rejects, reason, false);
    fputc('\n', R->rejects);
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
    if (R->src.size > 0 && R->src.consumed > 0 && !final) {
        double left = (t - R->t0) * (double)(R->src.size - R->src.consumed) / R->src.consumed;
        snprintf(eta, sizeof eta, "  %3d%%  ETA %ds",
                 (int)(100.0 * R->src.consumed / R->src.size), (int)left);
    }
    fprintf(stderr, "\r%s: %lld rows  %.0f rows/s%s   %s", R->c.ent->name,
            (long long)R->r->read, rate, eta, final ? "\n" : "");
    fflush(stderr);
}

static void map_row(run *R, imp_row *row)
{
    /* CSV rows share the header: map it once. */
    if (!row->names_stable || row->names != R->fields_of || row->n != R->fields_n) {
        for (size_t i = 0; i < row->n && i < MAX_COLS; i++)
            R->fields[i] = map_name(R, row->names[i]);
        R->fields_of = row->names_stable ? row->names : NULL;
        R->fields_n = row->n;
    }
    row->fields = R->fields;
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
    map_row(R, row);
    crm_err e = {0};
    int64_t id = 0;
    int rc = crm_kernel_begin(k, R->err);
    if (rc != CRM_OK)
        return rc;
    int out = row->error ? crm_err_set(&e, CRM_EINVAL, "%s", row->error)
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

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return CRM_OK;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return CRM_ENOMEM;
    *p = q;
    *cap = n;
    return CRM_OK;
}

static size_t put_str(batch *b, const char *str)
{
    size_t len = strlen(str) + 1, at = b->used;
    if (grow((void **)&b->arena, &b->cap_arena, b->used + len, 1) != CRM_OK)
        return NONE;
    memcpy(b->arena + at, str, len);
    b->used += len;
    return at;
}

/* The batch's copy of a reader's stable names: the CSV header, once. */
static char **stable_names(batch *b, const imp_row *row)
{
    if (!row->names_stable || (b->header_of && b->header_of != row->names))
        return NULL;
    if (!b->header_of) {
        if (!(b->header = calloc(row->n ? row->n : 1, sizeof *b->header)))
            return NULL;
        b->header_of = row->names;
        for (size_t i = 0; i < row->n; i++, b->n_header++)
            if (!(b->header[i] = strdup(row->names[i])))
                return NULL;
    }
    return row->n == b->n_header ? b->header : NULL;
}

/* Copies the reader's row (its strings are only borrowed) into the batch. */
static int keep_row(batch *b, const imp_row *row)
{
    char **shared = stable_names(b, row);
    size_t per = shared ? row->n : 2 * row->n;
    if (grow((void **)&b->rows, &b->cap, b->n + 1, sizeof *b->rows) != CRM_OK ||
        grow((void **)&b->offs, &b->cap_offs, b->n_offs + per, sizeof *b->offs) != CRM_OK)
        return CRM_ENOMEM;
    brow *br = &b->rows[b->n];
    *br = (brow){.line = row->line, .n = row->n, .cells = b->n_offs, .raw = NONE,
                 .error = NONE, .names = shared};
    for (size_t i = 0; i < row->n; i++)
        if ((b->offs[b->n_offs + i] = put_str(b, row->cells[i])) == NONE)
            return CRM_ENOMEM;
    for (size_t i = 0; !shared && i < row->n; i++)
        if ((b->offs[b->n_offs + row->n + i] = put_str(b, row->names[i])) == NONE)
            return CRM_ENOMEM;
    if ((row->raw && (br->raw = put_str(b, row->raw)) == NONE) ||
        (row->error && (br->error = put_str(b, row->error)) == NONE))
        return CRM_ENOMEM;
    b->n_offs += per;
    b->n++;
    return CRM_OK;
}

static void batch_clear(batch *b)
{
    b->n = b->n_offs = b->used = 0;
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n_header; i++)
        free(b->header[i]);
    free(b->header);
    free(b->rows);
    free(b->offs);
    free(b->arena);
    memset(b, 0, sizeof *b);
}

/* Applies the batch's rows in the open transaction. In batch mode it stops
 * at the first row whose failure left writes behind (the batch is lost). */
static int apply_batch(run *R)
{
    batch *b = &R->b;
    char *names[MAX_COLS], *cells[MAX_COLS];
    for (size_t i = 0; i < b->n; i++) {
        const brow *br = &b->rows[i];
        for (size_t j = 0; j < br->n; j++) {
            cells[j] = b->arena + b->offs[br->cells + j];
            if (!br->names)
                names[j] = b->arena + b->offs[br->cells + br->n + j];
        }
        imp_row row = {.line = br->line, .n = br->n, .names = br->names ? br->names : names,
                       .cells = cells, .names_stable = br->names != NULL,
                       .raw = br->raw == NONE ? NULL : b->arena + br->raw,
                       .error = br->error == NONE ? NULL : b->arena + br->error};
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
static int flush_batch(run *R)
{
    crm_kernel *k = R->c.k;
    if (!R->b.n)
        return CRM_OK;
    if (R->c.o->dry_run) {
        int rc = apply_batch(R);
        batch_clear(&R->b);
        return rc;
    }
    crm_import_report saved = *R->r;
    rej_mark mark = rejects_mark(R);
    int rc = crm_kernel_begin_batch(k, R->err);
    if (rc == CRM_OK)
        rc = apply_batch(R);
    if (rc == CRM_OK && crm_store_batch_failed(k->store)) {
        crm_kernel_rollback(k);
        *R->r = saved;
        rc = rejects_rewind(R, mark);
        if (rc == CRM_OK)
            rc = crm_kernel_begin(k, R->err);
        if (rc == CRM_OK)
            rc = apply_batch(R);
    }
    if (rc == CRM_OK)
        rc = imp_journal_update(&R->journal, R->r, R->src.hash, NULL, R->err);
    if (rc == CRM_OK)
        rc = crm_kernel_commit(k, R->err);
    else if (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    batch_clear(&R->b);
    return rc;
}

static int on_row(void *ud, imp_row *row)
{
    run *R = ud;
    if (keep_row(&R->b, row) != CRM_OK)
        return crm_err_set(R->err, CRM_ENOMEM, "out of memory");
    return R->b.n >= R->batch_size ? flush_batch(R) : CRM_OK;
}

/* ---- the run ----------------------------------------------------------------- */

static crm_import_format pick_format(const crm_import_opts *o)
{
    if (o->format != CRM_IMPORT_AUTO)
        return o->format;
    const char *dot = strrchr(o->path, '.');
    if (dot && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0))
        return CRM_IMPORT_JSONL;
    if (dot && (strcasecmp(dot, ".vcf") == 0 || strcasecmp(dot, ".vcard") == 0))
        return CRM_IMPORT_VCARD;
    return CRM_IMPORT_CSV;
}

static void default_rejects(const crm_import_opts *o, crm_import_format f, char *out, size_t n)
{
    if (o->rejects_path) {
        snprintf(out, n, "%s", o->rejects_path);
        return;
    }
    const char *slash = strrchr(o->path, '/'), *dot = strrchr(o->path, '.');
    int stem = dot && (!slash || dot > slash) ? (int)(dot - o->path) : (int)strlen(o->path);
    snprintf(out, n, "%.*s.rejects.%s", stem, o->path, f == CRM_IMPORT_CSV ? "csv" : "jsonl");
}

const imp_entity *imp_find_entity(const char *name)
{
    for (size_t i = 0; name && i < sizeof entities / sizeof entities[0]; i++) {
        size_t len = strlen(entities[i]->name);
        /* "contacts" and "contact" both work */
        if (strcmp(name, entities[i]->name) == 0 ||
            (strncmp(name, entities[i]->name, len - 1) == 0 && !name[len - 1]))
            return entities[i];
    }
    return NULL;
}

static int read_all(run *R, crm_import_format fmt)
{
    switch (fmt) {
    case CRM_IMPORT_JSONL: return imp_read_jsonl(&R->src, on_row, R, R->err);
    case CRM_IMPORT_VCARD: return imp_read_vcard(&R->src, on_row, R, R->err);
    default: return imp_read_csv(&R->src, on_row, R, R->err);
    }
}

/* After reading: flushes the last batch and closes the journal ("done", or
 * "failed" after an error: committed batches stay). */
static int finish(run *R, int rc)
{
    crm_kernel *k = R->c.k;
    if (rc == CRM_OK)
        rc = flush_batch(R);
    if (R->c.o->dry_run) {
        crm_kernel_rollback(k);
        return rc;
    }
    if (crm_store_depth(k->store) > 0)
        crm_kernel_rollback(k);
    if (rc == CRM_OK) {
        rc = crm_kernel_begin(k, R->err);
        if (rc == CRM_OK)
            rc = imp_journal_update(&R->journal, R->r, R->src.hash, "done", R->err);
        if (rc == CRM_OK)
            return crm_kernel_commit(k, R->err);
        crm_kernel_rollback(k);
    }
    if (R->journal.id && crm_kernel_begin(k, NULL) == CRM_OK) {
        crm_err ignore = {0};
        if (imp_journal_update(&R->journal, R->r, R->src.hash, "failed", &ignore) == CRM_OK)
            crm_kernel_commit(k, NULL);
        else
            crm_kernel_rollback(k);
    }
    return rc;
}

static int prepare(run *R, const crm_import_opts *o, crm_import_format fmt)
{
    R->src.f = fopen(o->path, "rb");
    if (!R->src.f)
        return crm_err_set(R->err, CRM_EIO, "cannot read %s: %s", o->path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(R->src.f), &sb) == 0 && S_ISREG(sb.st_mode))
        R->src.size = (int64_t)sb.st_size;
    default_rejects(o, fmt, R->r->rejects_path, sizeof R->r->rejects_path);
    if (!o->rejects_path)
        unlink(R->r->rejects_path); /* a stale reject file from an earlier run would mislead */
    int rc = check_map(&R->c, R->err);
    if (rc == CRM_OK && o->lines_path)
        rc = imp_load_lines(&R->c, o->lines_path, R->err);
    if (rc == CRM_OK && !o->dry_run)
        rc = imp_journal_start(&R->journal, R->c.k, R->c.ent, o->path, R->err);
    R->r->id = R->journal.id;
    return rc;
}

int crm_import_run(crm_kernel *k, const crm_import_opts *o, crm_import_report *r,
                   crm_err *err)
{
    memset(r, 0, sizeof *r);
    run R = {.c = {.k = k, .o = o, .ent = imp_find_entity(o->entity)}, .r = r, .err = err,
             .batch_size = o->batch_size ? o->batch_size : 1000, .t0 = now_s()};
    if (!R.c.ent)
        return crm_err_set(err, CRM_EUSAGE,
                           "cannot import '%s': expected contacts, companies, orders or "
                           "interactions", o->entity ? o->entity : "");
    if (o->lines_path && R.c.ent != &imp_orders)
        return crm_err_set(err, CRM_EUSAGE, "--lines applies to orders only");
    crm_import_format fmt = R.fmt = pick_format(o);
    /* Checkpoint the WAL every ~64 MiB rather than every 4 MiB: the import
     * rewrites the same index pages batch after batch, and each checkpoint
     * copies them back and syncs. The default comes back at the end. */
    sqlite3_wal_autocheckpoint(crm_store_db(k->store), 16384);
    int rc = prepare(&R, o, fmt);
    if (rc == CRM_OK && o->dry_run)
        rc = crm_kernel_begin(k, err);
    if (rc == CRM_OK)
        rc = finish(&R, read_all(&R, fmt));
    sqlite3_wal_autocheckpoint(crm_store_db(k->store), 1000);
    draw_progress(&R, true);
    r->seconds = now_s() - R.t0;
    if (R.rejects)
        fclose(R.rejects);
    else
        r->rejects_path[0] = '\0';
    if (R.src.f)
        fclose(R.src.f);
    for (size_t i = 0; i < R.n_cache; i++)
        free(R.cache_name[i]);
    batch_free(&R.b);
    return rc;
}

/* ---- lookups ------------------------------------------------------------- */

int imp_lookup(crm_kernel *k, const char *sql, const char *value, int64_t *id, crm_err *err)
{
    *id = 0;
    sqlite3_stmt *st = crm_store_stmt(k->store, sql, err);
    if (!st)
        return err && err->code ? err->code : CRM_EDB;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CRM_OK
                                                : crm_store_error(k->store, "lookup failed", err);
}

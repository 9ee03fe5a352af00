/* Import readers: CSV through libcsv (streamed in chunks) and JSON Lines. */
#include <csv.h>
#include <jansson.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "import_int.h"
#include "util.h"

#define CHUNK (64 * 1024)
#define MAX_CELLS 512

static void hash_bytes(imp_source *src, const char *p, size_t n)
{
    uint64_t h = src->hash ? src->hash : 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    src->hash = h;
    src->consumed += (int64_t)n;
}

int imp_scan_file(FILE *f, const char *path, const imp_codec *codec, uint64_t *hash,
                  int64_t *lines, crm_err *err)
{
    int64_t n_lines = 0;
    imp_source src = {.f = f};
    bool single = codec && codec->single;
    imp_utf8 u;
    imp_utf8_init(&u);
    char *buf = malloc(CHUNK);
    if (!buf)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    size_t got;
    bool valid = true;
    while ((got = fread(buf, 1, CHUNK, f)) > 0) {
        if (single && src.consumed == 0 && got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            free(buf);
            return crm_err_set(err, CRM_EINVAL,
                               "%s starts with a UTF-8 byte order mark: it is UTF-8, not %s; "
                               "import it without --encoding", path, codec->name);
        }
        hash_bytes(&src, buf, got);
        for (const char *p = buf; (p = memchr(p, '\n', got - (size_t)(p - buf))); p++)
            n_lines++;
        if (!single && valid)
            valid = imp_utf8_feed(&u, buf, got);
    }
    free(buf);
    if (ferror(f) || fseek(f, 0, SEEK_SET) != 0)
        return crm_err_set(err, CRM_EIO, "cannot read %s: %s", path, strerror(errno));
    if (!single && !(valid && imp_utf8_end(&u)))
        return imp_utf8_refuse(&u, path, true, err);
    *hash = src.consumed ? src.hash : 14695981039346656037ULL;
    if (lines)
        *lines = n_lines;
    return CRM_OK;
}

/* ---- CSV -------------------------------------------------------------------- */

typedef struct csv_state {
    imp_source *src;
    imp_row_fn fn;
    void *ud;
    char *arena;            /* the current record's cells, NUL-separated */
    size_t used, cap;
    size_t offs[MAX_CELLS];
    size_t n;
    bool overflow;          /* more than MAX_CELLS cells */
    char **header;
    size_t n_header;
    int64_t line;           /* physical line where the next record starts */
    int64_t nl;             /* newlines inside the current record's cells */
    int stop;
    char *raw;              /* the current record's bytes as read, line end included */
    size_t raw_len, raw_cap, rec_len;
    char *conv;             /* cells converted from src->codec */
    size_t conv_cap;
    imp_utf8 utf8;          /* src->check_utf8: the check as bytes come */
    char fatal[512];        /* why the reader stopped (st->stop), for err */
} csv_state;

/* libcsv trims spaces around unquoted cells by default: keep them, they
 * matter for the formula rule and the model trims anyway. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void on_cell(void *s, size_t len, void *data)
{
    csv_state *st = data;
    if (st->stop)
        return;
    if (st->n >= MAX_CELLS) {
        st->overflow = true;
        return;
    }
    if (CRM_ARRAY_RESERVE(st->arena, st->cap, st->used + len + 1) != CRM_OK) {
        st->stop = CRM_ENOMEM;
        return;
    }
    if (len)
        memcpy(st->arena + st->used, s, len);
    st->arena[st->used + len] = '\0';
    for (size_t i = 0; i < len; i++)
        st->nl += ((const char *)s)[i] == '\n';
    st->offs[st->n++] = st->used;
    st->used += len + 1;
}

static int take_header(csv_state *st, char **cells)
{
    st->header = calloc(st->n ? st->n : 1, sizeof *st->header);
    if (!st->header)
        return CRM_ENOMEM;
    for (size_t i = 0; i < st->n; i++)
        if (!(st->header[i] = strdup(cells[i])))
            return CRM_ENOMEM;
    st->n_header = st->n;
    return CRM_OK;
}

/* Converts the record's cells from src->codec to UTF-8 (in st->conv); the
 * first undefined byte makes `reason`. */
static int convert_cells(csv_state *st, char **cells, char *reason, size_t size)
{
    const imp_codec *codec = st->src->codec;
    if (CRM_ARRAY_RESERVE(st->conv, st->conv_cap, 3 * st->used + 1) != CRM_OK)
        return CRM_ENOMEM;
    size_t off = 0;
    for (size_t i = 0; i < st->n; i++) {
        size_t bad = 0;
        char *out = st->conv + off;
        if (imp_codec_to_utf8(codec, cells[i], out, &bad) != 0 && !*reason)
            snprintf(reason, size, "%s%s%zu: byte 0x%02X at character %zu is not a %s character",
                     st->header && i < st->n_header ? st->header[i] : "", 
                     st->header && i < st->n_header ? ": column " : "column ", i + 1,
                     (unsigned char)cells[i][bad], bad + 1, codec->name);
        cells[i] = out;
        off += strlen(out) + 1;
    }
    return CRM_OK;
}

/* The header line as read, for the import's reject file. */
static int keep_header_raw(csv_state *st)
{
    imp_source *src = st->src;
    if (!src->keep_raw || src->header_raw)
        return CRM_OK;
    if (!(src->header_raw = malloc(st->rec_len + 1)))
        return CRM_ENOMEM;
    memcpy(src->header_raw, st->raw, st->rec_len);
    src->header_raw[st->rec_len] = '\0';
    src->header_raw_len = st->rec_len;
    return CRM_OK;
}

static void emit_record(csv_state *st, int64_t line)
{
    char *cells[MAX_CELLS];
    for (size_t i = 0; i < st->n; i++)
        cells[i] = st->arena + st->offs[i];
    char reason[300] = "";
    if (st->src->codec && st->src->codec->single &&
        (st->stop = convert_cells(st, cells, reason, sizeof reason)) != 0)
        return;
    if (!st->header) {
        if ((st->stop = take_header(st, cells)) == 0)
            st->stop = keep_header_raw(st);
        return;
    }
    size_t n = st->n;
    if (st->overflow || n > st->n_header) {
        snprintf(reason, sizeof reason, "row: %zu%s cells but the header has %zu columns",
                 n, st->overflow ? "+" : "", st->n_header);
        n = n > st->n_header ? st->n_header : n;
    }
    for (size_t i = 0; i < n; i++)
        crm_cell_unneutralise(cells[i]);
    /* A short row's missing cells are empty: every row has the header's
     * width, so a header's mapping and the reject files' columns hold. */
    char empty[1] = "";
    for (; n < st->n_header; n++)
        cells[n] = empty;
    bool raw = st->src->keep_raw;
    imp_row row = {.line = line, .n = n, .names = st->header, .cells = cells,
                   .error = *reason ? reason : NULL, .names_stable = true,
                   .raw = raw ? st->raw : NULL, .raw_len = raw ? st->rec_len : 0,
                   .raw_cells = st->n + st->overflow};
    if (raw)
        st->raw[st->rec_len] = '\0';
    st->stop = st->fn(st->ud, &row);
}

static void on_record(int c, void *data)
{
    csv_state *st = data;
    if (st->stop)
        return;
    if (st->n > 0) {
        int64_t start = st->line;
        st->line += st->nl;
        /* the line end that ended the record is the last byte fed (see feed) */
        st->rec_len = st->raw_len - (st->raw_len && (c == '\n' || c == '\r'));
        emit_record(st, start);
    }
    if (c == '\n')
        st->line++;
    st->n = 0;
    st->used = 0;
    st->nl = 0;
    st->raw_len = 0;
    st->overflow = false;
}

/* Parses a chunk one line end at a time: libcsv ends a record only on a line
 * end, so each call ends at most one, on its last byte, and the bytes fed
 * since the previous record are exactly this record's. Returns 0, or -1 on
 * a parse error. */
static int feed(struct csv_parser *p, csv_state *st, const char *data, size_t n)
{
    size_t at = 0;
    while (at < n && !st->stop) {
        size_t k = at;
        while (k < n && data[k] != '\n' && data[k] != '\r')
            k++;
        size_t seg = (k < n ? k + 1 : n) - at;
        if (CRM_ARRAY_RESERVE(st->raw, st->raw_cap, st->raw_len + seg + 1) != CRM_OK) {
            st->stop = CRM_ENOMEM;
            return 0;
        }
        memcpy(st->raw + st->raw_len, data + at, seg);
        st->raw_len += seg;
        if (csv_parse(p, data + at, seg, on_cell, on_record, st) != seg && !st->stop)
            return -1;
        at += seg;
    }
    return 0;
}

/* The first line end outside quotes: "\r\n", "\r" or "\n" (also when none). */
static void detect_eol(const char *p, size_t n, char *eol)
{
    bool quoted = false;
    strcpy(eol, "\n");
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && (p[i] == '\n' || p[i] == '\r')) {
            if (p[i] == '\r')
                strcpy(eol, i + 1 < n && p[i + 1] == '\n' ? "\r\n" : "\r");
            return;
        }
    }
}

/* The delimiter occurring most in the first line (outside quotes). */
static char detect_delim(const char *p, size_t n)
{
    size_t count[3] = {0};
    static const char cand[3] = {',', ';', '\t'};
    bool quoted = false;
    for (size_t i = 0; i < n && (quoted || (p[i] != '\n' && p[i] != '\r')); i++) {
        if (p[i] == '"')
            quoted = !quoted;
        for (int c = 0; c < 3 && !quoted; c++)
            count[c] += p[i] == cand[c];
    }
    int best = 0;
    for (int c = 1; c < 3; c++)
        if (count[c] > count[best])
            best = c;
    return cand[best];
}

/* A chunk's first steps, shared by both readers: the hash, the UTF-8 check
 * of an input not checked beforehand, and on the first chunk the BOM, the
 * delimiter and the line end. Returns the bytes to parse (or NULL: stop). */
static const char *chunk_start(csv_state *st, struct csv_parser *p, bool *first,
                               const char *buf, size_t *got)
{
    imp_source *src = st->src;
    hash_bytes(src, buf, *got);
    if (src->check_utf8 && !imp_utf8_feed(&st->utf8, buf, *got)) {
        crm_err e = {0};
        imp_utf8_refuse(&st->utf8, src->path ? src->path : "input", false, &e);
        snprintf(st->fatal, sizeof st->fatal, "%s", e.msg);
        st->stop = CRM_EINVAL;
        return NULL;
    }
    const char *data = buf;
    if (*first && *got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        *got -= 3;
        src->bom = true;
    }
    if (*first) {
        src->delim = detect_delim(data, *got);
        detect_eol(data, *got, src->eol);
        csv_set_delim(p, (unsigned char)src->delim);
        *first = false;
    }
    return data;
}

static void free_state(csv_state *st)
{
    for (size_t i = 0; i < st->n_header; i++)
        free(st->header[i]);
    free(st->header);
    free(st->arena);
    free(st->raw);
    free(st->conv);
}

/* The reader's error once it stopped: its own message when it has one. */
static int stop_error(const csv_state *st, crm_err *err)
{
    if (st->fatal[0])
        return crm_err_set(err, st->stop, "%s", st->fatal);
    if (st->stop == CRM_ENOMEM && !err->code)
        return crm_err_set(err, CRM_ENOMEM, "out of memory reading the CSV file");
    return st->stop;
}

int imp_read_csv(imp_source *src, imp_row_fn fn, void *ud, crm_err *err)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL | CSV_REPALL_NL) != 0)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    csv_set_space_func(&p, no_space);
    csv_state st = {.src = src, .fn = fn, .ud = ud, .line = 1};
    imp_utf8_init(&st.utf8);
    char *buf = malloc(CHUNK);
    int rc = buf ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
    bool first = true;
    size_t got;
    while (rc == CRM_OK && !st.stop && (got = fread(buf, 1, CHUNK, src->f)) > 0) {
        const char *data = chunk_start(&st, &p, &first, buf, &got);
        if (data && feed(&p, &st, data, got) != 0 && !st.stop)
            rc = crm_err_set(err, CRM_EINVAL, "CSV parse error near line %lld: %s",
                             (long long)st.line, csv_strerror(csv_error(&p)));
    }
    if (rc == CRM_OK && !st.stop && src->check_utf8 && !imp_utf8_end(&st.utf8))
        rc = imp_utf8_refuse(&st.utf8, src->path ? src->path : "input", false, err);
    if (rc == CRM_OK && ferror(src->f))
        rc = crm_err_set(err, CRM_EIO, "read error");
    if (rc == CRM_OK && !st.stop) {
        /* Strict at the end only: a quote never closed swallowed the rest of
         * the file into one cell; refuse it rather than store that cell. */
        csv_set_opts(&p, CSV_APPEND_NULL | CSV_REPALL_NL | CSV_STRICT | CSV_STRICT_FINI);
        if (csv_fini(&p, on_cell, on_record, &st) != 0 && !st.stop)
            rc = crm_err_set(err, CRM_EINVAL,
                             "CSV parse error: the quoted cell starting on line %lld is never "
                             "closed (a stray '\"'?): fix the file and import it again",
                             (long long)st.line);
    }
    if (rc == CRM_OK && st.stop) /* the parser's own allocations say nothing in err */
        rc = stop_error(&st, err);
    if (rc == CRM_OK && !st.header)
        rc = crm_err_set(err, CRM_EINVAL, "the file is empty: expected a header row");
    csv_free(&p);
    free(buf);
    free_state(&st);
    return rc;
}

/* ---- CSV, pull style ------------------------------------------------------------ */

/* The same parser and callbacks as imp_read_csv, but the caller asks for
 * rows one at a time: libcsv pushes a chunk's records into a queue that
 * imp_csv_next hands out. Memory stays bounded by one chunk's records. */
typedef struct qrow {
    int64_t line;
    size_t n, cell0;   /* cells: offs[cell0 .. cell0+n) into the queue arena */
    size_t error;      /* arena offset of the reader's reason, or SIZE_MAX */
    size_t raw, raw_len, raw_cells; /* the row's bytes (src->keep_raw), or SIZE_MAX */
} qrow;

struct imp_csv {
    struct csv_parser p;
    csv_state st;
    char *buf;
    bool first, done;
    qrow *rows;
    size_t n_rows, cap_rows, next;
    size_t *offs;
    size_t n_offs, cap_offs;
    char *arena;
    size_t used, cap_arena;
    char *cells[MAX_CELLS];   /* the row handed out last */
};

/* n bytes and a NUL. */
static size_t q_bytes(imp_csv *r, const char *s, size_t n)
{
    size_t at = r->used;
    if (CRM_ARRAY_RESERVE(r->arena, r->cap_arena, at + n + 1) != CRM_OK)
        return SIZE_MAX;
    memcpy(r->arena + at, s, n);
    r->arena[at + n] = '\0';
    r->used += n + 1;
    return at;
}

static size_t q_str(imp_csv *r, const char *s)
{
    return q_bytes(r, s, strlen(s));
}

/* imp_row_fn of the pull reader: copies the row into the queue. */
static int q_push(void *ud, imp_row *row)
{
    imp_csv *r = ud;
    if (CRM_ARRAY_RESERVE(r->rows, r->cap_rows, r->n_rows + 1) != CRM_OK ||
        CRM_ARRAY_RESERVE(r->offs, r->cap_offs, r->n_offs + row->n) != CRM_OK)
        return CRM_ENOMEM;
    qrow *q = &r->rows[r->n_rows];
    *q = (qrow){.line = row->line, .n = row->n, .cell0 = r->n_offs, .error = SIZE_MAX,
                .raw = SIZE_MAX, .raw_len = row->raw_len, .raw_cells = row->raw_cells};
    if (row->raw && (q->raw = q_bytes(r, row->raw, row->raw_len)) == SIZE_MAX)
        return CRM_ENOMEM;
    for (size_t i = 0; i < row->n; i++)
        if ((r->offs[r->n_offs + i] = q_str(r, row->cells[i])) == SIZE_MAX)
            return CRM_ENOMEM;
    if (row->error && (q->error = q_str(r, row->error)) == SIZE_MAX)
        return CRM_ENOMEM;
    r->n_offs += row->n;
    r->n_rows++;
    return 0;
}

int imp_csv_open(imp_csv **out, imp_source *src, crm_err *err)
{
    imp_csv *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r || !(r->buf = malloc(CHUNK)) || csv_init(&r->p, CSV_APPEND_NULL | CSV_REPALL_NL)) {
        if (r)
            free(r->buf);
        free(r);
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    csv_set_space_func(&r->p, no_space);
    r->st = (csv_state){.src = src, .fn = q_push, .ud = r, .line = 1};
    imp_utf8_init(&r->st.utf8);
    r->first = true;
    *out = r;
    return CRM_OK;
}

/* The end of the input: strict about a quote never closed, as imp_read_csv. */
static int q_fini(imp_csv *r, crm_err *err)
{
    r->done = true;
    if (ferror(r->st.src->f))
        return crm_err_set(err, CRM_EIO, "read error");
    csv_set_opts(&r->p, CSV_APPEND_NULL | CSV_REPALL_NL | CSV_STRICT | CSV_STRICT_FINI);
    if (csv_fini(&r->p, on_cell, on_record, &r->st) != 0 && !r->st.stop)
        return crm_err_set(err, CRM_EINVAL,
                           "CSV parse error: the quoted cell starting on line %lld is never "
                           "closed (a stray '\"'?): fix the file and import it again",
                           (long long)r->st.line);
    if (!r->st.stop && !r->st.header)
        return crm_err_set(err, CRM_EINVAL, "the file is empty: expected a header row");
    return CRM_OK;
}

/* Parses the next chunk into the emptied queue (the end of input at EOF). */
static int q_fill(imp_csv *r, crm_err *err)
{
    r->n_rows = r->next = r->n_offs = r->used = 0;
    imp_source *src = r->st.src;
    size_t got = fread(r->buf, 1, CHUNK, src->f);
    int rc = CRM_OK;
    if (got == 0)
        rc = q_fini(r, err);
    else {
        const char *data = chunk_start(&r->st, &r->p, &r->first, r->buf, &got);
        if (data && feed(&r->p, &r->st, data, got) != 0 && !r->st.stop)
            rc = crm_err_set(err, CRM_EINVAL, "CSV parse error near line %lld: %s",
                             (long long)r->st.line, csv_strerror(csv_error(&r->p)));
    }
    if (rc == CRM_OK && r->st.stop)
        rc = r->st.fatal[0] ? crm_err_set(err, r->st.stop, "%s", r->st.fatal)
                            : crm_err_set(err, r->st.stop, "out of memory");
    if (rc != CRM_OK)
        r->done = true;
    return rc;
}

int imp_csv_next(imp_csv *r, imp_row *row, crm_err *err)
{
    while (r->next == r->n_rows) {
        if (r->done)
            return 0;
        int rc = q_fill(r, err);
        if (rc != CRM_OK)
            return rc;
    }
    const qrow *q = &r->rows[r->next++];
    for (size_t i = 0; i < q->n; i++)
        r->cells[i] = r->arena + r->offs[q->cell0 + i];
    *row = (imp_row){.line = q->line, .n = q->n, .names = r->st.header, .cells = r->cells,
                     .error = q->error == SIZE_MAX ? NULL : r->arena + q->error,
                     .names_stable = true,
                     .raw = q->raw == SIZE_MAX ? NULL : r->arena + q->raw,
                     .raw_len = q->raw_len, .raw_cells = q->raw_cells};
    return 1;
}

void imp_csv_close(imp_csv *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    free_state(&r->st);
    free(r->buf);
    free(r->rows);
    free(r->offs);
    free(r->arena);
    free(r);
}

/* ---- JSON Lines ----------------------------------------------------------- */

/* Text of a JSON scalar, arrays joined with '|' (tags); NULL for null/objects. */
static char *json_cell(json_t *v)
{
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING: return strdup(json_string_value(v));
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    case JSON_REAL:
        snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
        return strdup(buf);
    case JSON_TRUE: return strdup("true");
    case JSON_FALSE: return strdup("false");
    case JSON_ARRAY: {
        size_t len = 1, i;
        json_t *item;
        json_array_foreach(v, i, item) len += json_is_string(item) ? json_string_length(item) + 1 : 0;
        char *out = calloc(1, len);
        json_array_foreach(v, i, item) {
            if (out && json_is_string(item)) {
                if (*out)
                    strcat(out, "|");
                strcat(out, json_string_value(item));
            }
        }
        return out;
    }
    default: return NULL;
    }
}

static int jsonl_row(imp_source *src, char *text, int64_t line, imp_row_fn fn, void *ud)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    char *names[MAX_CELLS], *cells[MAX_CELLS];
    char reason[300] = "";
    size_t n = 0;
    if (!json_is_object(obj)) {
        snprintf(reason, sizeof reason, "row: not a JSON object (%s)",
                 obj ? "another JSON value" : jerr.text);
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v) {
            char *cell = json_cell(v);
            if (!cell || n >= MAX_CELLS) {
                free(cell);
                continue;
            }
            names[n] = (char *)key;
            cells[n++] = cell; /* JSON is not a spreadsheet: no quote added, none removed */
        }
    }
    imp_row row = {.line = line, .n = n, .names = names, .cells = cells, .raw = text,
                   .raw_len = strlen(text), .error = *reason ? reason : NULL};
    int stop = fn(ud, &row);
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    json_decref(obj);
    (void)src;
    return stop;
}

int imp_read_jsonl(imp_source *src, imp_row_fn fn, void *ud, crm_err *err)
{
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t line = 0;
    int stop = 0;
    while (!stop && (len = getline(&text, &cap, src->f)) >= 0) {
        line++;
        hash_bytes(src, text, (size_t)len);
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        if (len == 0)
            continue;
        stop = jsonl_row(src, text, line, fn, ud);
    }
    free(text);
    if (!stop && ferror(src->f))
        return crm_err_set(err, CRM_EIO, "read error");
    return stop;
}

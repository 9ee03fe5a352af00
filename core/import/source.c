/* Import readers: CSV through libcsv (streamed in chunks) and JSON Lines. */
#include <csv.h>
#include <jansson.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "import_int.h"

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

int imp_scan_file(FILE *f, const char *path, uint64_t *hash, crm_err *err)
{
    imp_source src = {.f = f};
    char *buf = malloc(CHUNK);
    if (!buf)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    size_t got;
    while ((got = fread(buf, 1, CHUNK, f)) > 0)
        hash_bytes(&src, buf, got);
    free(buf);
    if (ferror(f) || fseek(f, 0, SEEK_SET) != 0)
        return crm_err_set(err, CRM_EIO, "cannot read %s: %s", path, strerror(errno));
    *hash = src.consumed ? src.hash : 14695981039346656037ULL;
    return CRM_OK;
}

const char *imp_get(const imp_row *r, const char *field)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->fields[i] && (r->fields[i] == field || strcmp(r->fields[i], field) == 0))
            return r->cells[i][0] ? r->cells[i] : NULL;
    return NULL;
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
    if (st->used + len + 1 > st->cap) {
        size_t cap = (st->used + len + 1) * 2;
        char *grown = realloc(st->arena, cap);
        if (!grown) {
            st->stop = CRM_ENOMEM;
            return;
        }
        st->arena = grown;
        st->cap = cap;
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

static void emit_record(csv_state *st, int64_t line)
{
    char *cells[MAX_CELLS];
    for (size_t i = 0; i < st->n; i++)
        cells[i] = st->arena + st->offs[i];
    if (!st->header) {
        st->stop = take_header(st, cells);
        return;
    }
    char reason[160] = "";
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
    imp_row row = {.line = line, .n = n, .names = st->header, .cells = cells,
                   .error = *reason ? reason : NULL, .names_stable = true};
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
        emit_record(st, start);
    }
    if (c == '\n')
        st->line++;
    st->n = 0;
    st->used = 0;
    st->nl = 0;
    st->overflow = false;
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

static void free_state(csv_state *st)
{
    for (size_t i = 0; i < st->n_header; i++)
        free(st->header[i]);
    free(st->header);
    free(st->arena);
}

int imp_read_csv(imp_source *src, imp_row_fn fn, void *ud, crm_err *err)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL | CSV_REPALL_NL) != 0)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    csv_set_space_func(&p, no_space);
    csv_state st = {.src = src, .fn = fn, .ud = ud, .line = 1};
    char *buf = malloc(CHUNK);
    int rc = buf ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
    bool first = true;
    size_t got;
    while (rc == CRM_OK && !st.stop && (got = fread(buf, 1, CHUNK, src->f)) > 0) {
        hash_bytes(src, buf, got);
        const char *data = buf;
        if (first && got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            data += 3;
            got -= 3;
        }
        if (first) {
            src->delim = detect_delim(data, got);
            csv_set_delim(&p, (unsigned char)src->delim);
            first = false;
        }
        if (csv_parse(&p, data, got, on_cell, on_record, &st) != got && !st.stop)
            rc = crm_err_set(err, CRM_EINVAL, "CSV parse error near line %lld: %s",
                             (long long)st.line, csv_strerror(csv_error(&p)));
    }
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
        rc = st.stop == CRM_ENOMEM && !err->code
                 ? crm_err_set(err, CRM_ENOMEM, "out of memory reading the CSV file")
                 : st.stop;
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

static size_t q_str(imp_csv *r, const char *s)
{
    size_t len = strlen(s) + 1, at = r->used;
    if (imp_grow((void **)&r->arena, &r->cap_arena, at + len, 1) != CRM_OK)
        return SIZE_MAX;
    memcpy(r->arena + at, s, len);
    r->used += len;
    return at;
}

/* imp_row_fn of the pull reader: copies the row into the queue. */
static int q_push(void *ud, imp_row *row)
{
    imp_csv *r = ud;
    if (imp_grow((void **)&r->rows, &r->cap_rows, r->n_rows + 1, sizeof *r->rows) != CRM_OK ||
        imp_grow((void **)&r->offs, &r->cap_offs, r->n_offs + row->n, sizeof *r->offs) != CRM_OK)
        return CRM_ENOMEM;
    qrow *q = &r->rows[r->n_rows];
    *q = (qrow){.line = row->line, .n = row->n, .cell0 = r->n_offs, .error = SIZE_MAX};
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
        hash_bytes(src, r->buf, got);
        const char *data = r->buf;
        if (r->first && got >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
            data += 3;
            got -= 3;
        }
        if (r->first) {
            src->delim = detect_delim(data, got);
            csv_set_delim(&r->p, (unsigned char)src->delim);
            r->first = false;
        }
        if (csv_parse(&r->p, data, got, on_cell, on_record, &r->st) != got && !r->st.stop)
            rc = crm_err_set(err, CRM_EINVAL, "CSV parse error near line %lld: %s",
                             (long long)r->st.line, csv_strerror(csv_error(&r->p)));
    }
    if (rc == CRM_OK && r->st.stop)
        rc = crm_err_set(err, r->st.stop, "out of memory");
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
                     .names_stable = true};
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
                   .error = *reason ? reason : NULL};
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

/* Reading a zone of the system tz database: the TZif file (RFC 8536), its
 * 64-bit data block, then its footer rule expanded to CRM_TZ_LAST_YEAR so
 * that every instant a calendar can meet is one binary search away. */
#include "tz.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil.h"
#include "config.h"
#include "tz_rule.h"
#include "util.h"

#define TZ_FILE_MAX (1 << 20)
#define TZ_OFF_LIMIT (26 * 3600) /* RFC 8536: offsets stay within a day or so */
#define TZ_FIRST_RULE_YEAR 1900

/* ---- the file ------------------------------------------------------------ */

typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

typedef struct header {
    char version;
    uint32_t isut, isstd, leap, time, type, chars;
} header;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static const unsigned char *take(cursor *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return NULL;
    const unsigned char *at = c->p;
    c->p += n;
    return at;
}

static bool read_header(cursor *c, header *h)
{
    const unsigned char *p = take(c, 44);
    if (!p || memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = (char)p[4];
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    return h->type > 0 && h->chars > 0 && (h->isut == 0 || h->isut == h->type) &&
           (h->isstd == 0 || h->isstd == h->type);
}

static size_t block_size(const header *h, size_t tsize)
{
    return (size_t)h->time * (tsize + 1) + (size_t)h->type * 6 + h->chars +
           (size_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

static int corrupt(const char *name, const char *why, crm_err *err)
{
    return crm_err_set(err, CRM_EINVAL, "time zone '%s': the tz database file is unusable (%s)",
                       name, why);
}

/* ---- building the table -------------------------------------------------- */

typedef struct table {
    int64_t *at;
    int32_t *off;
    size_t n, cap_at, cap_off;
} table;

static bool push(table *t, int64_t at, int32_t off)
{
    if (CRM_ARRAY_RESERVE(t->at, t->cap_at, t->n + 1) != CRM_OK ||
        CRM_ARRAY_RESERVE(t->off, t->cap_off, t->n + 1) != CRM_OK)
        return false;
    t->at[t->n] = at;
    t->off[t->n++] = off;
    return true;
}

static int32_t last_off(const table *t, int32_t off0)
{
    return t->n ? t->off[t->n - 1] : off0;
}

/* The file's transitions, dropping those that keep the offset (a change of
 * abbreviation or of the DST flag alone moves no clock). */
static int read_transitions(const char *name, cursor *c, const header *h, table *t,
                            int32_t *off0, crm_err *err)
{
    const unsigned char *times = take(c, (size_t)h->time * 8), *idx = take(c, h->time);
    const unsigned char *types = take(c, (size_t)h->type * 6);
    if (!times || !idx || !types ||
        !take(c, (size_t)h->chars + (size_t)h->leap * 12 + h->isstd + h->isut))
        return corrupt(name, "truncated", err);
    for (uint32_t j = 0; j < h->type; j++) {
        int32_t o = (int32_t)be32(types + 6 * j);
        if (o <= -TZ_OFF_LIMIT || o >= TZ_OFF_LIMIT)
            return corrupt(name, "an offset beyond a day", err);
    }
    *off0 = (int32_t)be32(types); /* RFC 8536: type 0 rules before the first transition */
    for (uint32_t i = 0; i < h->time; i++) {
        int64_t at = be64(times + 8 * i);
        if (idx[i] >= h->type)
            return corrupt(name, "a transition to an unknown type", err);
        if (i && at <= be64(times + 8 * (i - 1)))
            return corrupt(name, "transitions out of order", err);
        int32_t o = (int32_t)be32(types + 6 * idx[i]);
        if (o != last_off(t, *off0) && !push(t, at, o))
            return crm_err_set(err, CRM_ENOMEM, "out of memory reading time zone '%s'", name);
    }
    return CRM_OK;
}

/* Stable insertion of the rule's changes (nearly sorted already). */
static void sort_changes(int64_t *at, int32_t *off, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int64_t a = at[i];
        int32_t o = off[i];
        size_t j = i;
        for (; j > 0 && at[j - 1] > a; j--) {
            at[j] = at[j - 1];
            off[j] = off[j - 1];
        }
        at[j] = a;
        off[j] = o;
    }
}

/* Appends the footer rule's changes after the file's last transition. Two
 * changes at one instant (a rule with daylight time all year) keep the
 * later one. */
static int extend(const char *name, const crm_tz_rule *r, table *t, int32_t off0,
                  crm_err *err)
{
    if (!r->has_dst)
        return CRM_OK;
    int64_t last = t->n ? t->at[t->n - 1] : INT64_MIN;
    int from = TZ_FIRST_RULE_YEAR, d, m;
    if (t->n)
        crm_civil_from_days(crm_floor_div(last, CRM_DAY), &from, &m, &d);
    table gen = {0};
    int rc = CRM_OK;
    for (int y = from; y <= CRM_TZ_LAST_YEAR && rc == CRM_OK; y++)
        if (!push(&gen, crm_tz_rule_instant(&r->start, y, r->std_off), r->dst_off) ||
            !push(&gen, crm_tz_rule_instant(&r->end, y, r->dst_off), r->std_off))
            rc = CRM_ENOMEM;
    if (rc == CRM_OK)
        sort_changes(gen.at, gen.off, gen.n);
    for (size_t i = 0; i < gen.n && rc == CRM_OK; i++) {
        if (gen.at[i] <= last || (i + 1 < gen.n && gen.at[i + 1] == gen.at[i]))
            continue;
        if (gen.off[i] != last_off(t, off0) && !push(t, gen.at[i], gen.off[i]))
            rc = CRM_ENOMEM;
    }
    free(gen.at);
    free(gen.off);
    return rc == CRM_OK ? CRM_OK
                        : crm_err_set(err, rc, "out of memory reading time zone '%s'", name);
}

/* The POSIX TZ string between the two newlines that end a v2+ file. */
static int read_footer(const char *name, cursor *c, crm_tz_rule *r, crm_err *err)
{
    char text[256];
    size_t len = (size_t)(c->end - c->p);
    const unsigned char *nl = len > 1 && c->p[0] == '\n' ? memchr(c->p + 1, '\n', len - 1) : NULL;
    if (!nl || (size_t)(nl - c->p - 1) >= sizeof text)
        return corrupt(name, "no footer rule", err);
    memcpy(text, c->p + 1, (size_t)(nl - c->p - 1));
    text[nl - c->p - 1] = '\0';
    memset(r, 0, sizeof *r);
    if (text[0] && !crm_tz_rule_parse(text, r))
        return corrupt(name, "an unreadable footer rule", err);
    return CRM_OK;
}

static void set_bounds(crm_tz *tz)
{
    tz->min_off = tz->max_off = tz->off0;
    for (size_t i = 0; i < tz->n; i++) {
        if (tz->off[i] < tz->min_off)
            tz->min_off = tz->off[i];
        if (tz->off[i] > tz->max_off)
            tz->max_off = tz->off[i];
    }
}

int crm_tz_parse(const char *name, const unsigned char *buf, size_t len, crm_tz **out,
                 crm_err *err)
{
    cursor c = {buf, buf + len};
    header h;
    *out = NULL;
    if (!read_header(&c, &h))
        return corrupt(name, "not a TZif file", err);
    if (h.version < '2')
        return corrupt(name, "a version 1 file without 64-bit data", err);
    if (!take(&c, block_size(&h, 4)) || !read_header(&c, &h))
        return corrupt(name, "truncated", err);
    if (h.leap)
        return crm_err_set(err, CRM_EINVAL,
                           "time zone '%s' counts leap seconds (a right/ zone): use the "
                           "plain zone name", name);
    table t = {0};
    int32_t off0 = 0;
    crm_tz_rule rule;
    int rc = read_transitions(name, &c, &h, &t, &off0, err);
    if (rc == CRM_OK)
        rc = read_footer(name, &c, &rule, err);
    if (rc == CRM_OK)
        rc = extend(name, &rule, &t, off0, err);
    crm_tz *tz = rc == CRM_OK ? calloc(1, sizeof *tz) : NULL;
    if (tz && !(tz->name = strdup(name))) {
        free(tz);
        tz = NULL;
    }
    if (!tz) {
        free(t.at);
        free(t.off);
        return rc != CRM_OK ? rc : crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    tz->at = t.at;
    tz->off = t.off;
    tz->n = t.n;
    tz->off0 = off0;
    set_bounds(tz);
    *out = tz;
    return CRM_OK;
}

void crm_tz_free(crm_tz *tz)
{
    if (!tz)
        return;
    free(tz->name);
    free(tz->at);
    free(tz->off);
    free(tz);
}

/* ---- finding the file ---------------------------------------------------- */

static const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

/* Region/City[/More] of letters, digits and ._+-, no empty, "." or ".."
 * part: the name can only ever name a file inside the database. */
static bool plain_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 200 || name[0] == '/' || name[len - 1] == '/')
        return false;
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-/") !=
        len)
        return false;
    for (const char *p = name; *p;) {
        size_t part = strcspn(p, "/");
        if (part == 0 || (p[0] == '.' && (part == 1 || (part == 2 && p[1] == '.'))))
            return false;
        p += part + (p[part] == '/');
    }
    return true;
}

/* A name of the same region (directory) close to `name`, into hint. */
static void suggest(const char *name, char *hint, size_t size)
{
    hint[0] = '\0';
    const char *slash = strrchr(name, '/');
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%.*s", tz_dir(), slash ? (int)(slash - name) : 0, name);
    DIR *d = opendir(dir);
    if (!d)
        return;
    const char *names[512];
    char store[512][64];
    size_t n = 0;
    for (struct dirent *e; n < 511 && (e = readdir(d));)
        if (e->d_name[0] != '.' && strlen(e->d_name) < 64)
            names[n] = strcpy(store[n], e->d_name), n++;
    names[n] = NULL;
    closedir(d);
    const char *best = crm_suggest(slash ? slash + 1 : name, names);
    if (best)
        snprintf(hint, size, " \xe2\x80\x94 did you mean '%.*s%s%s'?",
                 slash ? (int)(slash - name) : 0, name, slash ? "/" : "", best);
}

static int not_found(const char *name, crm_err *err)
{
    char hint[160];
    suggest(name, hint, sizeof hint);
    if (!hint[0])
        snprintf(hint, sizeof hint, " (an IANA name such as Europe/Paris; the list is under %s)",
                 tz_dir());
    return crm_err_set(err, CRM_ENOTFOUND, "unknown time zone '%s'%s", name, hint);
}

static int read_zone_file(const char *name, unsigned char **buf, size_t *len, crm_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tz_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && access(tz_dir(), F_OK) != 0)
            return crm_err_set(err, CRM_ENOTFOUND,
                               "unknown time zone '%s': no tz database at %s (install the "
                               "tzdata package)", name, tz_dir());
        return not_found(name, err);
    }
    *buf = malloc(TZ_FILE_MAX);
    *len = *buf ? fread(*buf, 1, TZ_FILE_MAX, f) : 0;
    bool failed = ferror(f) != 0; /* a directory ("Europe") reads as an error */
    fclose(f);
    if (!*buf)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (failed || *len == 0) {
        free(*buf);
        *buf = NULL;
        return not_found(name, err);
    }
    return CRM_OK;
}

int crm_tz_load(const char *name, crm_tz **out, crm_err *err)
{
    *out = NULL;
    if (!name || !plain_name(name))
        return crm_err_set(err, CRM_ENOTFOUND,
                           "'%s' is not a time zone name (expected an IANA name such as "
                           "Europe/Paris)", name ? name : "");
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_zone_file(name, &buf, &len, err);
    if (rc != CRM_OK)
        return rc;
    rc = crm_tz_parse(name, buf, len, out, err);
    if (rc == CRM_EINVAL && len >= 4 && memcmp(buf, "TZif", 4) != 0)
        rc = not_found(name, err); /* a stray file of the directory, not a zone */
    free(buf);
    return rc;
}

/* ---- lookups ------------------------------------------------------------- */

/* How many transitions happen at or before t. */
static size_t upper(const crm_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int32_t crm_tz_offset(const crm_tz *tz, int64_t t)
{
    size_t k = upper(tz, t);
    return k ? tz->off[k - 1] : tz->off0;
}

void crm_tz_segment(const crm_tz *tz, int64_t t, int64_t *start, int64_t *end, int32_t *off)
{
    size_t k = upper(tz, t);
    *start = k ? tz->at[k - 1] : INT64_MIN;
    *end = k < tz->n ? tz->at[k] : INT64_MAX;
    *off = k ? tz->off[k - 1] : tz->off0;
}

int64_t crm_tz_from_local(const crm_tz *tz, int64_t local)
{
    /* No instant before local - max_off reads `local` or later. */
    int64_t t = local - tz->max_off;
    for (size_t k = upper(tz, t);; k++) {
        int32_t o = k ? tz->off[k - 1] : tz->off0;
        int64_t end = k < tz->n ? tz->at[k] : INT64_MAX;
        int64_t first = local - o > t ? local - o : t;
        if (first < end)
            return first;
        t = end;
    }
}

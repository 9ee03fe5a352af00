/* Free text, person names and comparison keys (utf8proc does the Unicode). */
#include "hygiene.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define SHOWN_MAX 64 /* bytes of a value quoted in a message */

/* Copies at most SHOWN_MAX bytes of value into buf, whole characters only,
 * so a message never carries broken UTF-8 or terminal control codes. */
static void shown_value(const char *value, char *buf, size_t size)
{
    size_t n = 0;
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)value;
    size_t len = strlen(value);
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        bool bad = k < 1 || cp < 0x20 || cp == 0x7f;
        size_t step = k < 1 ? 1 : (size_t)k;
        size_t need = bad ? 1 : step;
        if (n + need > SHOWN_MAX || n + need + 4 > size) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (bad)
            buf[n] = '?';
        else
            memcpy(buf + n, s + i, step);
        n += need;
        i += step;
    }
    buf[n] = '\0';
}

int crm_hygiene_reject(crm_err *err, const char *field, const char *value, const char *fmt,
                       ...)
{
    if (!err)
        return CRM_EINVAL;
    char shown[SHOWN_MAX + 8];
    shown_value(value ? value : "", shown, sizeof shown);
    char rule[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    return crm_err_set(err, CRM_EINVAL, "%s: '%s' %s", field ? field : "value", shown, rule);
}

/* White space for collapsing: Unicode separators plus control characters,
 * which have no business inside a name or a label. */
static bool is_space_cp(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
           c == UTF8PROC_CATEGORY_ZP || c == UTF8PROC_CATEGORY_CC;
}

/* In-place: trims and collapses white space of valid UTF-8 `s`. */
static void collapse_spaces(char *s)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    size_t len = strlen(s), i = 0, o = 0;
    bool pending = false;
    while (i < len) {
        utf8proc_int32_t cp = u[i];
        utf8proc_ssize_t k = 1;
        if (cp >= 0x80) /* ASCII needs no decoding: most text is ASCII */
            k = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k < 1)
            k = 1; /* cannot happen on validated input; never loop forever */
        if (cp < 0x80 ? (cp <= 0x20 || cp == 0x7f) : is_space_cp(cp)) {
            pending = o > 0;
        } else {
            if (pending)
                s[o++] = ' ';
            pending = false;
            memmove(s + o, s + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    s[o] = '\0';
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* ASCII is already NFC, and case folding it is tolower: most input is ASCII,
 * and this path skips utf8proc's per-code-point decomposition. */
static char *ascii_map(const char *in, utf8proc_option_t extra)
{
    char *d = strdup(in);
    if (d && (extra & UTF8PROC_CASEFOLD))
        for (char *p = d; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return d;
}

/* NFC of `in` as a malloc'd string, or NULL when in is not valid UTF-8. */
static char *nfc(const char *in, utf8proc_option_t extra)
{
    if (is_ascii(in))
        return ascii_map(in, extra);
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)in, 0, &dst,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          extra);
    if (r < 0)
        return NULL;
    return (char *)dst;
}

int crm_clean_text(const char *field, const char *in, char **out, crm_err *err)
{
    *out = NULL;
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    char *s = nfc(in, 0);
    if (!s)
        return crm_hygiene_reject(err, field, in, "is not valid UTF-8 text");
    collapse_spaces(s);
    if (!*s) {
        free(s);
        return crm_hygiene_reject(err, field, in, "is empty (only white space)");
    }
    *out = s;
    return CRM_OK;
}

/* ---- names ---------------------------------------------------------- */

/* Kept lower case when not the first word. */
static const char *const particles[] = {
    "de", "du", "des", "la", "le", "van", "von", "der", "den", "di", "da", "del", "dos", "y",
};

/* A word as code points, for case mapping. */
typedef struct {
    utf8proc_int32_t *cp;
    size_t n;
} word;

static bool is_upper(utf8proc_int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT;
}

static bool is_apostrophe(utf8proc_int32_t c)
{
    return c == '\'' || c == 0x2019;
}

/* Mixed case (both upper and lower letters) means the user chose it. */
static bool is_deliberate(const word *w)
{
    bool up = false, low = false;
    for (size_t i = 0; i < w->n; i++) {
        if (is_upper(w->cp[i]))
            up = true;
        else if (utf8proc_category(w->cp[i]) == UTF8PROC_CATEGORY_LL)
            low = true;
    }
    return up && low;
}

/* True when the lower-cased word equals the ASCII particle p. */
static bool word_is(const word *w, size_t from, size_t n, const char *p)
{
    if (strlen(p) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (utf8proc_tolower(w->cp[from + i]) != (unsigned char)p[i])
            return false;
    return true;
}

static bool is_particle(const word *w)
{
    for (size_t i = 0; i < sizeof particles / sizeof *particles; i++)
        if (word_is(w, 0, w->n, particles[i]))
            return true;
    return false;
}

/* Title case at the start of each hyphen/apostrophe segment, lower after. */
static void proper_case(word *w, size_t from)
{
    bool start = true;
    for (size_t i = from; i < w->n; i++) {
        utf8proc_int32_t c = w->cp[i];
        if (c == '-' || is_apostrophe(c) || c == 0x2010) {
            start = true;
            continue;
        }
        w->cp[i] = start ? utf8proc_totitle(c) : utf8proc_tolower(c);
        start = false;
    }
}

static void recase_word(word *w, bool first)
{
    if (is_deliberate(w))
        return;
    if (!first && is_particle(w)) {
        for (size_t i = 0; i < w->n; i++)
            w->cp[i] = utf8proc_tolower(w->cp[i]);
        return;
    }
    /* "d'Artagnan": the elided particle stays lower when not first. */
    if (!first && w->n > 2 && word_is(w, 0, 1, "d") && is_apostrophe(w->cp[1])) {
        w->cp[0] = 'd';
        proper_case(w, 2);
        return;
    }
    proper_case(w, 0);
}

/* Decodes valid UTF-8 into a malloc'd code point array (count in *n). */
static utf8proc_int32_t *decode(const char *s, size_t *n)
{
    size_t len = strlen(s);
    utf8proc_int32_t *cp = malloc((len + 1) * sizeof *cp);
    if (!cp)
        return NULL;
    size_t i = 0, k = 0;
    while (i < len) {
        utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i), &cp[k]);
        if (r < 1) {
            free(cp);
            return NULL;
        }
        i += (size_t)r;
        k++;
    }
    *n = k;
    return cp;
}

static char *encode(const utf8proc_int32_t *cp, size_t n)
{
    char *s = malloc(n * 4 + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)utf8proc_encode_char(cp[i], (utf8proc_uint8_t *)s + o);
    s[o] = '\0';
    return s;
}

int crm_normalise_name(const char *field, const char *in, char **out, crm_err *err)
{
    char *clean = NULL;
    utf8proc_int32_t *cp = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = crm_clean_text(field, in, &clean, err);
    if (rc)
        return rc;
    rc = CRM_ENOMEM;
    cp = decode(clean, &n);
    if (!cp)
        goto done;
    /* clean_text left single ' ' between words */
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && cp[i] != ' ')
            continue;
        word w = {cp + start, i - start};
        recase_word(&w, start == 0);
        start = i + 1;
    }
    *out = encode(cp, n);
    rc = *out ? CRM_OK : CRM_ENOMEM;
done:
    if (rc == CRM_ENOMEM)
        crm_err_set(err, rc, "%s: out of memory", field ? field : "value");
    free(cp);
    free(clean);
    return rc;
}

/* ---- fold key ------------------------------------------------------- */

char *crm_fold_key(const char *in)
{
    if (!in)
        return NULL;
    /* COMPAT also folds ligatures and full-width forms ("ﬁ" -> "fi"). */
    char *s = nfc(in, UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_COMPAT);
    if (!s)
        return NULL;
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    size_t len = strlen(s), i = 0, o = 0;
    bool pending = false;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k < 1)
            k = 1;
        utf8proc_category_t c = utf8proc_category(cp);
        bool keep = (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
                    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
        if (!keep) {
            pending = o > 0;
        } else {
            if (pending)
                s[o++] = ' ';
            pending = false;
            memmove(s + o, s + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    s[o] = '\0';
    return s;
}

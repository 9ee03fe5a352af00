/* Input encodings (`crm import ... --encoding windows-1252`) and the UTF-8
 * check of an input before anything is written.
 *
 * The encodings offered are single-byte and ASCII-compatible, so a CSV file
 * is parsed on its own bytes (delimiters, quotes and line ends are ASCII in
 * all of them) and each cell is converted afterwards: the reject file can
 * then give back the row exactly as it was read. iconv gives each byte's
 * character once, into a table; cells convert by lookup. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

static const struct {
    const char *name;   /* as the user may spell it */
    const char *canon;  /* as crm prints it and iconv knows it */
} encodings[] = {
    {"utf-8", "utf-8"},           {"utf8", "utf-8"},
    {"windows-1252", "windows-1252"}, {"cp1252", "windows-1252"},
    {"latin1", "iso-8859-1"},     {"iso-8859-1", "iso-8859-1"},
    {"latin9", "iso-8859-15"},    {"iso-8859-15", "iso-8859-15"},
};

int imp_codec_open(imp_codec *c, const char *name, crm_err *err)
{
    memset(c, 0, sizeof *c);
    const char *canon = NULL;
    for (size_t i = 0; name && i < sizeof encodings / sizeof encodings[0]; i++)
        if (strcasecmp(name, encodings[i].name) == 0)
            canon = encodings[i].canon;
    if (!canon)
        return crm_err_set(err, CRM_EUSAGE,
                           "--encoding '%s': expected utf-8, windows-1252, latin1 or "
                           "iso-8859-15", name ? name : "");
    snprintf(c->name, sizeof c->name, "%s", canon);
    if (strcmp(canon, "utf-8") == 0)
        return CRM_OK;
    iconv_t cd = iconv_open("UTF-8", canon);
    if (cd == (iconv_t)-1)
        return crm_err_set(err, CRM_EINTERNAL, "--encoding %s: this system's iconv lacks it (%s)",
                           canon, strerror(errno));
    for (int b = 0x80; b < 0x100; b++) {
        char in = (char)b, *pin = &in, *pout = c->utf8[b - 0x80];
        size_t nin = 1, nout = sizeof c->utf8[0] - 1;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &pin, &nin, &pout, &nout) != (size_t)-1 && nin == 0)
            c->len[b - 0x80] = (unsigned char)(sizeof c->utf8[0] - 1 - nout);
    }
    iconv_close(cd);
    c->single = true;
    return CRM_OK;
}

int imp_codec_to_utf8(const imp_codec *c, const char *in, char *out, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)in;
    char *o = out;
    int rc = 0;
    for (; *p; p++) {
        if (*p < 0x80) {
            *o++ = (char)*p;
            continue;
        }
        size_t n = c->len[*p - 0x80];
        if (!n) { /* a byte the encoding leaves undefined */
            if (!rc && bad)
                *bad = (size_t)(p - (const unsigned char *)in);
            rc = -1;
            *o++ = '?';
            continue;
        }
        memcpy(o, c->utf8[*p - 0x80], n);
        o += n;
    }
    *o = '\0';
    return rc;
}

size_t imp_codec_from_utf8(const imp_codec *c, const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < size;) {
        if (*p < 0x80 || !c->single) {
            out[o++] = (char)*p++;
            continue;
        }
        size_t n = 1;
        while (n < 4 && (p[n] & 0xC0) == 0x80)
            n++;
        int found = -1;
        for (int b = 0; b < 128 && found < 0; b++)
            if (c->len[b] == n && memcmp(c->utf8[b], p, n) == 0)
                found = b;
        out[o++] = found < 0 ? '?' : (char)(0x80 + found);
        p += n;
    }
    out[o] = '\0';
    return o;
}

/* ---- the UTF-8 check ------------------------------------------------------- */

void imp_utf8_init(imp_utf8 *u)
{
    memset(u, 0, sizeof *u);
    u->line = 1;
    u->col = 1;
}

/* Where a sequence starting with byte b may go on: the bounds of its first
 * continuation byte and how many follow (Unicode table 3-7); 0 = invalid. */
static int lead(unsigned char b, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        return 1;
    if (b == 0xE0)
        return *lo = 0xA0, 2;
    if (b == 0xED)
        return *hi = 0x9F, 2;
    if (b >= 0xE1 && b <= 0xEF)
        return 2;
    if (b == 0xF0)
        return *lo = 0x90, 3;
    if (b >= 0xF1 && b <= 0xF3)
        return 3;
    if (b == 0xF4)
        return *hi = 0x8F, 3;
    return 0;
}

bool imp_utf8_feed(imp_utf8 *u, const char *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n && !u->bad; i++) {
        unsigned char b = p[i];
        if (u->need) {
            if (b < u->lo || b > u->hi) {
                u->bad = true;
                break;
            }
            u->lo = 0x80;
            u->hi = 0xBF;
            u->seq[u->n_seq++] = b;
            if (--u->need == 0)
                u->col++;
            continue;
        }
        if (b < 0x80) {
            if (b == '\n') {
                u->line++;
                u->col = 1;
            } else {
                u->col++;
            }
            continue;
        }
        u->seq[0] = b;
        u->n_seq = 1;
        if (!(u->need = lead(b, &u->lo, &u->hi)))
            u->bad = true;
    }
    return !u->bad;
}

bool imp_utf8_end(imp_utf8 *u)
{
    if (u->need)
        u->bad = true;
    return !u->bad;
}

int imp_utf8_refuse(const imp_utf8 *u, const char *path, bool before, crm_err *err)
{
    imp_codec cp;
    char what[64] = "";
    if (imp_codec_open(&cp, "windows-1252", NULL) == CRM_OK && cp.len[u->seq[0] - 0x80]) {
        char ch[8] = "";
        memcpy(ch, cp.utf8[u->seq[0] - 0x80], cp.len[u->seq[0] - 0x80]);
        snprintf(what, sizeof what, " (in windows-1252: '%s')", ch);
    }
    return crm_err_set(err, CRM_EINVAL,
                       "%s:%lld:%lld: byte 0x%02X is not UTF-8%s: the file is in another "
                       "encoding, %s; a file saved by Excel or an older Windows program is "
                       "usually windows-1252: import it again with --encoding windows-1252 "
                       "(or latin1, iso-8859-15)",
                       path, (long long)u->line, (long long)u->col, u->seq[0], what,
                       before ? "nothing was imported"
                              : "only the batches read before it were imported (a pipe is "
                                "checked as it is read)");
}

/* RFC 5322 / MIME messages for the email drivers (file and smtp). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "messages/driver.h"

typedef struct sbuf {
    char *data;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

int crm_message_id_check(const char *id, crm_err *err)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > CRM_MESSAGE_MAX_ID)
        return crm_err_set(err, CRM_EINVAL, "message id: expected 1 to %d characters, got %zu",
                           CRM_MESSAGE_MAX_ID, n);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || (i == 0 && c == '.'))
            return crm_err_set(err, CRM_EINVAL,
                               "message id '%s': character %zu is not a letter, digit, '.', '_' "
                               "or '-'",
                               id, i + 1);
    }
    return CRM_OK;
}

/* A header value must not smuggle in another header. */
static int check_header(const char *field, const char *v, crm_err *err)
{
    if (v && strpbrk(v, "\r\n"))
        return crm_err_set(err, CRM_EINVAL, "email %s: a line break is not allowed in a header",
                           field);
    return CRM_OK;
}

int crm_mime_address(const char *mailbox, char *buf, size_t size, crm_err *err)
{
    const char *lt = mailbox ? strrchr(mailbox, '<') : NULL;
    const char *start = mailbox, *end;
    if (lt) {
        start = lt + 1;
        end = strchr(start, '>');
        if (!end)
            return crm_err_set(err, CRM_EINVAL, "address '%s': '<' without '>'", mailbox);
    } else {
        end = mailbox ? mailbox + strlen(mailbox) : NULL;
    }
    if (!mailbox)
        return crm_err_set(err, CRM_EINVAL, "address: missing");
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - start);
    if (n == 0 || !memchr(start, '@', n))
        return crm_err_set(err, CRM_EINVAL, "address '%s': expected name@domain", mailbox);
    if (n >= size)
        return crm_err_set(err, CRM_EINVAL, "address '%s': too long", mailbox);
    for (size_t i = 0; i < n; i++)
        if (start[i] == ' ' || start[i] == '<' || start[i] == '>' || start[i] == ',' ||
            (unsigned char)start[i] < 0x20)
            return crm_err_set(err, CRM_EINVAL, "address '%s': unexpected character '%c'",
                               mailbox, start[i]);
    memcpy(buf, start, n);
    buf[n] = '\0';
    return CRM_OK;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_chunk(sbuf *b, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {B64[(v >> 18) & 63], B64[(v >> 12) & 63],
                     i + 1 < n ? B64[(v >> 6) & 63] : '=', i + 2 < n ? B64[v & 63] : '='};
        sb_add(b, q, 4);
    }
}

/* RFC 2047 B encoding. Each encoded-word stays within 75 characters and
 * never splits a UTF-8 sequence (a decoder may decode words separately);
 * words are folded onto continuation lines. */
static void encoded_words(sbuf *b, const char *s)
{
    /* 52 base64 characters + 12 of "=?UTF-8?B??=": a word fits after
     * "Subject: " on a 78-character line. */
    const size_t max_raw = 39;
    size_t n = strlen(s), i = 0;
    bool first = true;
    while (i < n) {
        size_t take = n - i < max_raw ? n - i : max_raw;
        if (i + take < n)
            while (take > 0 && ((unsigned char)s[i + take] & 0xC0) == 0x80)
                take--;
        if (!first)
            sb_str(b, "\r\n ");
        sb_str(b, "=?UTF-8?B?");
        b64_chunk(b, (const unsigned char *)s + i, take);
        sb_str(b, "?=");
        first = false;
        i += take;
    }
}

/* An unstructured header (Subject): plain when ASCII, else encoded-words. */
static void header_text(sbuf *b, const char *name, const char *v)
{
    sb_fmt(b, "%s: ", name);
    if (is_ascii(v))
        sb_str(b, v);
    else
        encoded_words(b, v);
    sb_str(b, "\r\n");
}

/* A mailbox: `"Display Name" <addr>`, the name encoded when non-ASCII. */
static int header_mailbox(sbuf *b, const char *hname, const char *mailbox, const char *name,
                          crm_err *err)
{
    char addr[320];
    int rc = crm_mime_address(mailbox, addr, sizeof addr, err);
    if (rc != CRM_OK)
        return crm_err_prefix(err, "email %s", hname);
    char parsed[256] = "";
    if (!name) {
        const char *lt = strrchr(mailbox, '<');
        if (lt) {
            const char *s = mailbox, *e = lt;
            while (s < e && *s == ' ')
                s++;
            while (e > s && e[-1] == ' ')
                e--;
            if (e - s >= 2 && *s == '"' && e[-1] == '"') {
                s++;
                e--;
            }
            size_t n = (size_t)(e - s) < sizeof parsed - 1 ? (size_t)(e - s) : sizeof parsed - 1;
            memcpy(parsed, s, n);
            parsed[n] = '\0';
            if (n)
                name = parsed;
        }
    }
    sb_fmt(b, "%s: ", hname);
    if (name && *name) {
        if (!is_ascii(name)) {
            encoded_words(b, name);
        } else {
            sb_str(b, "\"");
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    sb_str(b, "\\");
                sb_add(b, p, 1);
            }
            sb_str(b, "\"");
        }
        sb_fmt(b, " <%s>\r\n", addr);
    } else {
        sb_fmt(b, "%s\r\n", addr);
    }
    return CRM_OK;
}

/* Quoted-printable (RFC 2045 6.7): lines of at most 76 characters, soft
 * breaks "=", the body's line ends made CRLF, trailing blanks encoded. */
static void qp_body(sbuf *b, const char *s)
{
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n') {
            sb_str(b, "\r\n");
            col = 0;
            continue;
        }
        char enc[4];
        size_t n;
        bool at_eol = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
        if ((*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !at_eol)) {
            enc[0] = (char)*p;
            n = 1;
        } else {
            snprintf(enc, sizeof enc, "=%02X", *p);
            n = 3;
        }
        if (col + n > 75) {
            sb_str(b, "=\r\n");
            col = 0;
        }
        sb_add(b, enc, n);
        col += n;
    }
    if (col > 0)
        sb_str(b, "\r\n");
}

static void b64_body(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i += 57) {
        b64_chunk(b, (const unsigned char *)s + i, n - i < 57 ? n - i : 57);
        sb_str(b, "\r\n");
    }
}

/* Quoted-printable reads well and stays small for Latin text; base64 wins
 * when more than a third of the bytes would be escaped (Cyrillic, CJK). */
static void body_part(sbuf *b, const char *type, const char *s)
{
    size_t high = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            high++;
    bool base64 = n > 0 && high * 3 > n;
    sb_fmt(b, "Content-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: %s\r\n\r\n", type,
           base64 ? "base64" : "quoted-printable");
    if (base64)
        b64_body(b, s);
    else
        qp_body(b, s);
}

static void rfc5322_date(sbuf *b, int64_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    /* Names spelled out: strftime's %a and %b follow the process locale. */
    sb_fmt(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int crm_mime_build(const crm_message *m, const char *from, char **out, size_t *len,
                   crm_err *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    const char *sender = m->from ? m->from : from;
    int rc;
    if (!sender || !*sender)
        return crm_err_set(err, CRM_EINVAL, "email from: missing (set the channel's `from`)");
    if (!m->to || !*m->to)
        return crm_err_set(err, CRM_EINVAL, "email to: missing");
    if ((rc = crm_message_id_check(m->id, err)) != CRM_OK)
        return rc;
    if ((rc = check_header("from", sender, err)) || (rc = check_header("to", m->to, err)) ||
        (rc = check_header("to name", m->to_name, err)) ||
        (rc = check_header("subject", m->subject, err)))
        return rc;
    char from_addr[320];
    if ((rc = crm_mime_address(sender, from_addr, sizeof from_addr, err)) != CRM_OK)
        return crm_err_prefix(err, "email from");

    sbuf b = {0};
    if ((rc = header_mailbox(&b, "From", sender, NULL, err)) != CRM_OK ||
        (rc = header_mailbox(&b, "To", m->to, m->to_name, err)) != CRM_OK) {
        free(b.data);
        return rc;
    }
    header_text(&b, "Subject", m->subject ? m->subject : "");
    rfc5322_date(&b, m->date);
    sb_fmt(&b, "Message-ID: <%s@%s>\r\n", m->id, strchr(from_addr, '@') + 1);
    sb_str(&b, "MIME-Version: 1.0\r\n");
    const char *text = m->text ? m->text : "";
    if (m->html) {
        /* The id makes the boundary unique to the message; "=_" cannot occur
         * in quoted-printable or base64 lines, so no body can contain it. */
        char boundary[CRM_MESSAGE_MAX_ID + 16];
        snprintf(boundary, sizeof boundary, "=_crm_%s", m->id);
        sb_fmt(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
        /* The CRLF before a delimiter belongs to the delimiter (RFC 2046
         * 5.1.1): without the extra one a body's last line end is lost. */
        sb_fmt(&b, "--%s\r\n", boundary);
        body_part(&b, "text/plain", text);
        sb_fmt(&b, "\r\n--%s\r\n", boundary);
        body_part(&b, "text/html", m->html);
        sb_fmt(&b, "\r\n--%s--\r\n", boundary);
    } else {
        body_part(&b, "text/plain", text);
    }
    if (b.oom) {
        free(b.data);
        return crm_err_set(err, CRM_ENOMEM, "email: out of memory building the message");
    }
    *out = b.data;
    if (len)
        *len = b.len;
    return CRM_OK;
}

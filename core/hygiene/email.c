/* Email addresses: a practical subset of RFC 5321/5322 (dot-atom local part,
 * host-name domain), not the full grammar: quoted local parts, comments and
 * address literals are refused because real contacts never need them. */
#include "hygiene.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define EMAIL_MAX 254
#define LOCAL_MAX 64
#define LABEL_MAX 63

static utf8proc_int32_t lower_cp(utf8proc_int32_t c, void *data)
{
    (void)data;
    return utf8proc_tolower(c);
}

/* Most addresses are ASCII: lower-case them without utf8proc's mapping.
 * Returns false (and leaves *out NULL) when s has a non-ASCII byte. */
static bool lower_ascii(const char *s, utf8proc_uint8_t **out)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p >= 0x80)
            return false;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d)
        return false;
    for (size_t i = 0; i <= n; i++)
        d[i] = (char)tolower((unsigned char)s[i]);
    *out = (utf8proc_uint8_t *)d;
    return true;
}

static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static const char *check_local(const char *s, size_t n)
{
    if (n == 0)
        return "nothing before '@'";
    if (n > LOCAL_MAX)
        return "part before '@' is longer than 64 characters";
    if (s[0] == '.' || s[n - 1] == '.')
        return "part before '@' starts or ends with a dot";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return "two dots in a row";
        } else if (c >= 0x80) {
            return "non-ASCII character before '@'";
        } else if (!is_atext(c)) {
            return "character not allowed before '@'";
        }
    }
    return NULL;
}

/* One domain label: ASCII letters, digits, '-', or any non-ASCII letter,
 * digit or mark (internationalised domains stay in UTF-8). */
static const char *check_label(const char *s, size_t n, bool *alpha)
{
    if (n == 0)
        return "empty label in domain";
    if (n > LABEL_MAX)
        return "domain label longer than 63 characters";
    if (s[0] == '-' || s[n - 1] == '-')
        return "domain label starts or ends with '-'";
    *alpha = true;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k < 1)
            return "invalid UTF-8 in domain";
        utf8proc_category_t c = utf8proc_category(cp);
        bool letter = (cp >= 'a' && cp <= 'z') ||
                      (cp >= 0x80 && c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME);
        bool other = cp == '-' || (cp >= '0' && cp <= '9') ||
                     (cp >= 0x80 && c == UTF8PROC_CATEGORY_ND);
        if (!letter && !other)
            return "character not allowed in domain";
        if (!letter)
            *alpha = false;
        i += (size_t)k;
    }
    return NULL;
}

static const char *check_domain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "nothing after '@'";
    if (!strchr(s, '.'))
        return "domain needs a dot";
    bool alpha = false;
    const char *label = s;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t len = dot ? (size_t)(dot - label) : strlen(label);
        const char *why = check_label(label, len, &alpha);
        if (why)
            return why;
        if (!dot)
            break;
        label = dot + 1;
    }
    /* label now is the TLD; punycode TLDs ("xn--p1ai") carry digits. */
    bool puny = strncmp(label, "xn--", 4) == 0;
    if (!puny && (!alpha || strlen(label) < 2))
        return "top-level domain must be at least 2 letters";
    return NULL;
}

static const char *check_email(char *s)
{
    if (strlen(s) > EMAIL_MAX)
        return "longer than 254 characters";
    if (strchr(s, ' '))
        return "contains a space";
    char *at = strchr(s, '@');
    if (!at)
        return "no '@'";
    if (strchr(at + 1, '@'))
        return "more than one '@'";
    const char *why = check_local(s, (size_t)(at - s));
    return why ? why : check_domain(at + 1);
}

int crm_normalise_email(const char *field, const char *in, char **out, crm_err *err)
{
    char *clean = NULL;
    utf8proc_uint8_t *low = NULL;
    *out = NULL;
    int rc = crm_clean_text(field, in, &clean, err);
    if (rc)
        return rc;
    utf8proc_ssize_t r = lower_ascii(clean, &low) ? 0 : utf8proc_map_custom((const utf8proc_uint8_t *)clean, 0, &low,
                                             UTF8PROC_NULLTERM | UTF8PROC_STABLE |
                                                 UTF8PROC_COMPOSE,
                                             lower_cp, NULL);
    if (r < 0) {
        rc = crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field ? field : "email");
        goto done;
    }
    const char *why = check_email((char *)low);
    if (why) {
        rc = crm_hygiene_reject(err, field, in, "is not a valid address (%s)", why);
        goto done;
    }
    *out = (char *)low;
    low = NULL;
done:
    free(low);
    free(clean);
    return rc;
}

/* Phone numbers to E.164. A table of the countries we know well enough to
 * check national lengths; everything else gets E.164's own bounds. This is
 * not libphonenumber: it checks shape and length, not number ranges. */
#include "hygiene.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E164_MIN 8  /* digits, country code included */
#define E164_MAX 15
#define DIGITS_MAX 20 /* beyond this, stop collecting: it is too long anyway */

typedef struct {
    const char *country; /* ISO alpha-2 */
    const char *calling; /* country calling code, digits */
    const char *trunk;   /* national trunk prefix, "" when none */
    int min, max;        /* national significant digits; 0 = E.164 bounds only */
} phone_rule;

/* NANP's trunk prefix is "1"; area codes never start with 0 or 1, so
 * stripping it is safe. Calling codes are prefix-free (ITU), so the first
 * match is the only one. */
static const phone_rule rules[] = {
    {"FR", "33", "0", 9, 9},   {"DE", "49", "0", 6, 11},  {"GB", "44", "0", 10, 10},
    {"US", "1", "1", 10, 10},  {"CA", "1", "1", 10, 10},  {"ES", "34", "", 9, 9},
    {"IT", "39", "", 6, 11},   {"BE", "32", "0", 8, 9},   {"CH", "41", "0", 9, 9},
    {"NL", "31", "0", 9, 9},   {"PT", "351", "", 9, 9},   {"LU", "352", "", 4, 11},
    {"IE", "353", "0", 7, 9},  {"AT", "43", "0", 0, 0},   {"DK", "45", "", 0, 0},
    {"SE", "46", "0", 0, 0},   {"NO", "47", "", 0, 0},    {"PL", "48", "", 0, 0},
    {"FI", "358", "0", 0, 0},  {"GR", "30", "", 0, 0},    {"CZ", "420", "", 0, 0},
    {"AU", "61", "0", 0, 0},   {"NZ", "64", "0", 0, 0},   {"JP", "81", "0", 0, 0},
    {"CN", "86", "0", 0, 0},   {"IN", "91", "0", 0, 0},   {"BR", "55", "0", 0, 0},
    {"MX", "52", "", 0, 0},    {"MA", "212", "0", 0, 0},  {"DZ", "213", "0", 0, 0},
    {"TN", "216", "", 0, 0},   {"SN", "221", "", 0, 0},   {"CI", "225", "", 0, 0},
    {"MC", "377", "", 0, 0},   {"RU", "7", "8", 0, 0},    {"TR", "90", "0", 0, 0},
    {"ZA", "27", "0", 0, 0},   {"IL", "972", "0", 0, 0},  {"AE", "971", "0", 0, 0},
};

static const phone_rule *rule_by_country(const char *cc)
{
    if (!cc)
        return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strlen(cc) == 2 && toupper((unsigned char)cc[0]) == rules[i].country[0] &&
            toupper((unsigned char)cc[1]) == rules[i].country[1])
            return &rules[i];
    return NULL;
}

static const phone_rule *rule_by_calling(const char *digits)
{
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strncmp(digits, rules[i].calling, strlen(rules[i].calling)) == 0)
            return &rules[i];
    return NULL;
}

/* The digits of a number, after syntax checks. */
typedef struct {
    char d[DIGITS_MAX + 2];
    size_t n;
    bool plus;       /* written with a leading '+' */
    bool paren_zero; /* "(0)" seen: a trunk prefix written after the country code */
    size_t zero_at;  /* digit index where "(0)" was */
} phone_digits;

static const char *scan(const char *s, phone_digits *p)
{
    int depth = 0;
    memset(p, 0, sizeof *p);
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c)) {
            if (p->n <= DIGITS_MAX)
                p->d[p->n++] = (char)c;
        } else if (c == '+') {
            if (p->plus || p->n > 0)
                return "has a '+' that is not at the start";
            p->plus = true;
        } else if (c == '(') {
            if (depth++)
                return "has nested parentheses";
            if (s[i + 1] == '0' && s[i + 2] == ')' && !p->paren_zero) {
                p->paren_zero = true;
                p->zero_at = p->n;
            }
        } else if (c == ')') {
            if (!depth--)
                return "has unbalanced parentheses";
        } else if (isalpha(c)) {
            return "contains letters (only digits, spaces, '+', '.', '-', '/' and parentheses "
                   "are allowed)";
        } else if (!strchr(" .-/\t", c)) {
            return "contains a character not allowed in a phone number (only digits, spaces, "
                   "'+', '.', '-', '/' and parentheses are allowed)";
        }
    }
    if (depth)
        return "has unbalanced parentheses";
    if (p->n == 0)
        return "has no digits";
    p->d[p->n] = '\0';
    return NULL;
}

static void drop_digit(phone_digits *p, size_t at)
{
    memmove(p->d + at, p->d + at + 1, p->n - at);
    p->n--;
}

/* Writes the length rule of r into buf, for messages. */
static void expected(const phone_rule *r, char *buf, size_t size)
{
    char count[32];
    if (r->min == r->max)
        snprintf(count, sizeof count, "%d", r->min);
    else
        snprintf(count, sizeof count, "%d to %d", r->min, r->max);
    snprintf(buf, size, "expected %s digits after the %s", count,
             *r->trunk ? "trunk prefix" : "country code");
}

/* Checks the national significant number nsn for r; writes E.164 to *out. */
static int finish(const char *field, const char *in, const phone_rule *r, const char *calling,
                  const char *nsn, char **out, crm_err *err)
{
    size_t n = strlen(nsn), total = strlen(calling) + n;
    char rule[96];
    if (r && r->min) {
        expected(r, rule, sizeof rule);
        if ((int)n < r->min)
            return crm_hygiene_reject(err, field, in, "is too short for %s (%s)", r->country,
                                      rule);
        if ((int)n > r->max)
            return crm_hygiene_reject(err, field, in, "is too long for %s (%s)", r->country,
                                      rule);
        if (!strcmp(r->calling, "1") && (nsn[0] < '2' || nsn[3] < '2'))
            return crm_hygiene_reject(err, field, in,
                                      "is not a valid %s number (area code and exchange "
                                      "cannot start with 0 or 1)",
                                      r->country);
    } else if (total < E164_MIN) {
        return crm_hygiene_reject(err, field, in,
                                  "is too short (an international number has 8 to 15 digits)");
    } else if (total > E164_MAX) {
        return crm_hygiene_reject(err, field, in,
                                  "is too long (an international number has 8 to 15 digits)");
    }
    *out = malloc(total + 2);
    if (!*out)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field ? field : "phone");
    snprintf(*out, total + 2, "+%s%s", calling, nsn);
    return CRM_OK;
}

static int international(const char *field, const char *in, phone_digits *p, size_t skip,
                         char **out, crm_err *err)
{
    const char *d = p->d + skip;
    if (*d == '0' || *d == '\0')
        return crm_hygiene_reject(err, field, in,
                                  "has no valid country code after the international prefix");
    if (p->paren_zero && p->zero_at >= skip && p->d[p->zero_at] == '0')
        drop_digit(p, p->zero_at);
    const phone_rule *r = rule_by_calling(d);
    if (!r)
        return finish(field, in, NULL, "", d, out, err);
    const char *nsn = d + strlen(r->calling);
    /* "+33 06..." is a common slip: where the trunk prefix is "0", no
     * national significant number starts with 0. */
    if (!strcmp(r->trunk, "0") && *nsn == '0')
        nsn++;
    return finish(field, in, r, r->calling, nsn, out, err);
}

int crm_normalise_phone(const char *field, const char *in, const char *default_country,
                        char **out, crm_err *err)
{
    phone_digits p;
    *out = NULL;
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    const char *why = scan(in, &p);
    if (why)
        return crm_hygiene_reject(err, field, in, "%s", why);
    if (p.n > DIGITS_MAX)
        return crm_hygiene_reject(err, field, in, "is too long (more than %d digits)",
                                  DIGITS_MAX);
    const phone_rule *r = rule_by_country(default_country);
    if (p.plus)
        return international(field, in, &p, 0, out, err);
    if (!strncmp(p.d, "00", 2))
        return international(field, in, &p, 2, out, err);
    if (r && !strcmp(r->calling, "1") && !strncmp(p.d, "011", 3))
        return international(field, in, &p, 3, out, err);
    if (!r && (!default_country || !*default_country))
        return crm_hygiene_reject(err, field, in,
                                  "has no international prefix and no default country is set "
                                  "(write it as +<country code> <number>)");
    if (!r)
        return crm_hygiene_reject(err, field, in,
                                  "has no international prefix and country '%.8s' has no phone "
                                  "rule (write it as +<country code> <number>)",
                                  default_country);
    const char *nsn = p.d;
    size_t t = strlen(r->trunk);
    if (t && !strncmp(nsn, r->trunk, t))
        nsn += t;
    return finish(field, in, r, r->calling, nsn, out, err);
}

/* Phone numbers to E.164: our syntax pass, then libphonenumber (through
 * phone_lib.cc) for every country's prefixes, lengths and number ranges. */
#include "hygiene.h"
#include "hygiene/phone_lib.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGITS_MAX 20 /* beyond this, stop collecting: it is too long anyway */

/* The digits of a number, after syntax checks. */
typedef struct {
    char d[DIGITS_MAX + 2];
    size_t n;
    bool plus;       /* written with a leading '+' */
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

int crm_normalise_phone_typed(const char *field, const char *in, const char *default_country,
                              char **out, const char **type, crm_err *err)
{
    phone_digits p;
    *out = NULL;
    if (type)
        *type = NULL;
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    /* Our own syntax pass first: libphonenumber would read letters as a
     * keypad ("1-800-FLOWERS") and drop trailing text, which hides typos. */
    const char *why = scan(in, &p);
    if (why)
        return crm_hygiene_reject(err, field, in, "%s", why);
    if (p.n > DIGITS_MAX)
        return crm_hygiene_reject(err, field, in, "is too long (more than %d digits)",
                                  DIGITS_MAX);
    bool intl = p.plus || !strncmp(p.d, "00", 2);
    if (!intl && (!default_country || !*default_country))
        return crm_hygiene_reject(err, field, in,
                                  "has no international prefix and no default country is set "
                                  "(write it as +<country code> <number>)");
    crm_phonelib_number n;
    why = crm_phonelib_parse(in, default_country, &n);
    if (why && !*n.region && !intl)
        return crm_hygiene_reject(err, field, in,
                                  "has no international prefix and '%.8s' is not a country "
                                  "libphonenumber knows (write it as +<country code> <number>)",
                                  default_country);
    if (why && *n.region && strcmp(n.region, "001"))
        return crm_hygiene_reject(err, field, in, "is not a valid %s number (%s)", n.region, why);
    if (why)
        return crm_hygiene_reject(err, field, in, "is not a valid number (%s)", why);
    *out = strdup(n.e164);
    if (!*out)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field ? field : "phone");
    if (type)
        *type = n.type;
    return CRM_OK;
}

int crm_normalise_phone(const char *field, const char *in, const char *default_country,
                        char **out, crm_err *err)
{
    return crm_normalise_phone_typed(field, in, default_country, out, NULL, err);
}

const char *crm_phone_type(const char *e164) { return crm_phonelib_type(e164); }

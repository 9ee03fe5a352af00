/* Money as integer minor units. Parsing is digit by digit with overflow
 * checks; no floating point anywhere, so "0.1 + 0.2" never bites. */
#include "hygiene.h"

#include <stdio.h>
#include <string.h>

#define DECIMALS_MAX 18

/* What a separator character is. */
typedef enum { SEP_NONE, SEP_DOT, SEP_COMMA, SEP_GROUP } sep_kind;

/* Length of a separator at s (0 when none): '.', ',', space, apostrophes,
 * and the no-break spaces French and Swiss formatting produce. */
static size_t sep_at(const char *s, sep_kind *kind)
{
    static const char *const group[] = {" ", "'", "\xc2\xa0", "\xe2\x80\xaf", "\xe2\x80\x89",
                                        "\xe2\x80\x99"};
    *kind = *s == '.' ? SEP_DOT : *s == ',' ? SEP_COMMA : SEP_NONE;
    if (*kind != SEP_NONE)
        return 1;
    for (size_t i = 0; i < sizeof group / sizeof *group; i++) {
        size_t n = strlen(group[i]);
        if (!strncmp(s, group[i], n)) {
            *kind = SEP_GROUP;
            return n;
        }
    }
    return 0;
}

typedef struct {
    int dots, commas;
    sep_kind last_mark; /* the last '.' or ',' seen */
} sep_count;

/* First pass: checks the characters and counts the marks. */
static const char *survey(const char *s, sep_count *c)
{
    memset(c, 0, sizeof *c);
    bool digit = false;
    while (*s) {
        sep_kind k;
        size_t n = sep_at(s, &k);
        if (*s >= '0' && *s <= '9') {
            digit = true;
            s++;
            continue;
        }
        if (!n)
            return "is not a number (only digits, one sign, '.', ',' and spaces are allowed)";
        c->dots += k == SEP_DOT;
        c->commas += k == SEP_COMMA;
        if (k != SEP_GROUP)
            c->last_mark = k;
        s += n;
    }
    return digit ? NULL : "is not a number (no digits)";
}

/* Which mark is the decimal one: the last when both kinds appear, the
 * only one when it appears once; a mark repeated is grouping. */
static sep_kind decimal_mark(const sep_count *c)
{
    if (c->dots && c->commas)
        return c->last_mark;
    if (c->dots == 1)
        return SEP_DOT;
    if (c->commas == 1)
        return SEP_COMMA;
    return SEP_NONE;
}

typedef struct {
    int64_t value;  /* accumulated digits */
    int frac;       /* digits after the decimal mark, -1 before it */
    int group;      /* digits since the last grouping separator, -1 when none */
} money_acc;

static const char *add_digit(money_acc *a, int d)
{
    if (a->value > (INT64_MAX - d) / 10)
        return "is too large";
    a->value = a->value * 10 + d;
    if (a->frac >= 0)
        a->frac++;
    if (a->group >= 0)
        a->group++;
    return NULL;
}

static const char *add_sep(money_acc *a, sep_kind k, sep_kind dec, bool digit_before)
{
    if (!digit_before)
        return "is not a number (a separator must follow a digit)";
    if (a->group >= 0 && a->group != 3)
        return "is not a number (thousands must be grouped by 3 digits)";
    if (k == dec) {
        if (a->frac >= 0)
            return "is not a number (more than one decimal mark)";
        a->frac = 0;
        a->group = -1;
        return NULL;
    }
    if (a->frac >= 0)
        return "is not a number (a thousands separator after the decimal mark)";
    a->group = 0;
    return NULL;
}

/* Second pass: reads the digits of s into a. */
static const char *accumulate(const char *s, sep_kind dec, money_acc *a)
{
    a->value = 0;
    a->frac = -1;
    a->group = -1;
    bool digit_before = false;
    while (*s) {
        const char *why;
        sep_kind k;
        size_t n = sep_at(s, &k);
        if (n) {
            why = add_sep(a, k, dec, digit_before);
            digit_before = false;
            s += n;
        } else {
            why = add_digit(a, *s - '0');
            digit_before = true;
            s++;
        }
        if (why)
            return why;
    }
    if (!digit_before)
        return "is not a number (it ends with a separator)";
    if (a->group >= 0 && a->group != 3)
        return "is not a number (thousands must be grouped by 3 digits)";
    return NULL;
}

/* Scales by 10^(decimals - frac), checking overflow. */
static const char *scale(int64_t *v, int frac, int decimals)
{
    for (int i = frac < 0 ? 0 : frac; i < decimals; i++) {
        if (*v > INT64_MAX / 10)
            return "is too large";
        *v *= 10;
    }
    return NULL;
}

int crm_parse_money(const char *field, const char *in, int decimals, int64_t *out,
                    crm_err *err)
{
    sep_count count;
    money_acc acc;
    *out = 0;
    if (decimals < 0 || decimals > DECIMALS_MAX)
        return crm_err_set(err, CRM_EUSAGE, "%s: %d decimals is out of range (0 to %d)",
                           field ? field : "amount", decimals, DECIMALS_MAX);
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    const char *s = in, *end = in + strlen(in);
    while (*s == ' ' || *s == '\t')
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char buf[128];
    if ((size_t)(end - s) >= sizeof buf)
        return crm_hygiene_reject(err, field, in, "is too long to be an amount");
    bool neg = *s == '-';
    s += *s == '-' || *s == '+';
    memcpy(buf, s, (size_t)(end - s));
    buf[end - s] = '\0';
    const char *why = survey(buf, &count);
    if (!why)
        why = accumulate(buf, decimal_mark(&count), &acc);
    if (!why && acc.frac > decimals)
        return crm_hygiene_reject(err, field, in,
                                  "has %d decimals, more than the %d allowed for this currency",
                                  acc.frac, decimals);
    if (!why)
        why = scale(&acc.value, acc.frac, decimals);
    if (why)
        return crm_hygiene_reject(err, field, in, "%s", why);
    *out = neg ? -acc.value : acc.value;
    return CRM_OK;
}

void crm_format_money(int64_t minor, int decimals, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    if (decimals < 0)
        decimals = 0;
    if (decimals > DECIMALS_MAX)
        decimals = DECIMALS_MAX;
    /* magnitude as unsigned so INT64_MIN does not overflow */
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t pow = 1;
    for (int i = 0; i < decimals; i++)
        pow *= 10;
    const char *sign = minor < 0 ? "-" : "";
    if (decimals == 0)
        snprintf(buf, size, "%s%llu", sign, (unsigned long long)mag);
    else
        snprintf(buf, size, "%s%llu.%0*llu", sign, (unsigned long long)(mag / pow), decimals,
                 (unsigned long long)(mag % pow));
}

int crm_currency_decimals(const char *code)
{
    /* ISO 4217 minor units that differ from 2. */
    static const struct {
        const char *codes;
        int decimals;
    } table[] = {
        {"BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF", 0},
        {"BHD IQD JOD KWD LYD OMR TND", 3},
        {"CLF UYW", 4},
    };
    if (!code || strlen(code) != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return -1;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        for (const char *p = table[i].codes; *p; p += p[3] ? 4 : 3)
            if (p[0] == code[0] && p[1] == code[1] && p[2] == code[2])
                return table[i].decimals; /* not strncmp: this runs per imported row */
    return 2;
}

/* pipeline plugin — money arithmetic (pure): expected values and quotes. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "money.h"

int64_t pl_div_round(int64_t num, int64_t den)
{
    /* C division truncates toward zero: add half the divisor away from zero */
    return num >= 0 ? (num + den / 2) / den : (num - den / 2) / den;
}

int64_t pl_expected(int64_t amount, int probability)
{
    return pl_div_round(amount * probability, 100);
}

int pl_parse_decimal(const char *text, int scale, int64_t *out)
{
    const char *p = text;
    int neg = 0, decimals = -1;
    int64_t v = 0;
    if (*p == '-')
        neg = 1, p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; *p; p++) {
        if (*p == '.' && decimals < 0) {
            decimals = 0;
            continue;
        }
        if (!isdigit((unsigned char)*p) || v > INT64_MAX / 100)
            return -1;
        if (decimals >= 0 && ++decimals > scale)
            return -1;
        v = v * 10 + (*p - '0');
    }
    for (int d = decimals < 0 ? 0 : decimals; d < scale; d++) {
        if (v > INT64_MAX / 10)
            return -1;
        v *= 10;
    }
    *out = neg ? -v : v;
    return 0;
}

int pl_quote_line_parse(const char *text, int decimals, int64_t default_vat_bp, pl_quote_line *l,
                        char *err, size_t errsize)
{
    char buf[256], *part[5] = {0};
    int n = 0;
    memset(l, 0, sizeof *l);
    snprintf(buf, sizeof buf, "%s", text);
    part[n++] = buf;
    for (char *p = buf; *p && n <= 4; p++)
        if (*p == ':') {
            *p = 0;
            part[n++] = p + 1; /* n reaches 5 on a fifth field: refused below */
        }
    if (n < 3 || n > 4 || !part[0][0]) {
        snprintf(err, errsize, "line \"%s\": expected SKU:QTY:UNIT_PRICE[:VAT%%]", text);
        return -1;
    }
    snprintf(l->sku, sizeof l->sku, "%s", part[0]);
    if (pl_parse_decimal(part[1], 0, &l->quantity) || l->quantity <= 0) {
        snprintf(err, errsize, "line \"%s\": quantity \"%s\" is not a positive whole number",
                 text, part[1]);
        return -1;
    }
    if (pl_parse_decimal(part[2], decimals, &l->unit_price) || l->unit_price < 0) {
        snprintf(err, errsize, "line \"%s\": unit price \"%s\" is not an amount with at most %d "
                 "decimals", text, part[2], decimals);
        return -1;
    }
    l->vat_bp = default_vat_bp;
    if (n == 4 && (pl_parse_decimal(part[3], 2, &l->vat_bp) || l->vat_bp < 0 ||
                   l->vat_bp > 10000)) {
        snprintf(err, errsize, "line \"%s\": VAT \"%s\" is not a percentage 0-100 with at most "
                 "2 decimals", text, part[3]);
        return -1;
    }
    return 0;
}

/* The slot of rate bp in t (inserted in ascending order), or -1 when full. */
static int rate_slot(pl_quote_totals *t, int64_t bp)
{
    size_t i = 0;
    while (i < t->nrates && t->rate_bp[i] < bp)
        i++;
    if (i < t->nrates && t->rate_bp[i] == bp)
        return (int)i;
    if (t->nrates == PL_QUOTE_MAX_RATES)
        return -1;
    memmove(&t->rate_bp[i + 1], &t->rate_bp[i], (t->nrates - i) * sizeof t->rate_bp[0]);
    memmove(&t->rate_net[i + 1], &t->rate_net[i], (t->nrates - i) * sizeof t->rate_net[0]);
    t->rate_bp[i] = bp;
    t->rate_net[i] = 0;
    t->nrates++;
    return (int)i;
}

int pl_quote_compute(pl_quote_line *lines, size_t n, int64_t discount_bp, pl_quote_totals *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        pl_quote_line *l = &lines[i];
        if (l->unit_price && l->quantity > INT64_MAX / 10000 / l->unit_price)
            return -1;
        /* the gross of the line times (100 % - discount), rounded once */
        l->net = pl_div_round(l->quantity * l->unit_price * (10000 - discount_bp), 10000);
        int s = rate_slot(t, l->vat_bp);
        if (s < 0)
            return -1;
        if (t->net > INT64_MAX - l->net)
            return -1;
        t->rate_net[s] += l->net;
        t->net += l->net;
    }
    for (size_t r = 0; r < t->nrates; r++) {
        if (t->rate_net[r] > INT64_MAX / 10000) /* the rate's product would overflow */
            return -1;
        t->rate_vat[r] = pl_div_round(t->rate_net[r] * t->rate_bp[r], 10000);
        t->vat += t->rate_vat[r];
    }
    t->gross = t->net + t->vat;
    return 0;
}

/* pipeline plugin — money arithmetic, pure (no SDK): every amount is in
 * integer minor units, every division rounds half away from zero. */
#ifndef PL_MONEY_H
#define PL_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* num / den rounded half away from zero (den > 0). */
int64_t pl_div_round(int64_t num, int64_t den);

/* A deal's expected value: amount x probability / 100, rounded half away
 * from zero to the minor unit. */
int64_t pl_expected(int64_t amount, int probability);

#define PL_QUOTE_MAX_LINES 64
#define PL_QUOTE_MAX_RATES 8

/* One quote line: quantity x unit price (minor units), VAT rate in basis
 * points (2000 = 20 %). net is computed. */
typedef struct pl_quote_line {
    char sku[64];
    int64_t quantity, unit_price;
    int64_t vat_bp;
    int64_t net;
} pl_quote_line;

typedef struct pl_quote_totals {
    int64_t net, vat, gross;
    size_t nrates;
    int64_t rate_bp[PL_QUOTE_MAX_RATES];  /* ascending */
    int64_t rate_net[PL_QUOTE_MAX_RATES]; /* the sum of that rate's line nets */
    int64_t rate_vat[PL_QUOTE_MAX_RATES]; /* rate x rate_net, rounded once */
} pl_quote_totals;

/* Computes each line's net (quantity x unit price less discount_bp basis
 * points, rounded half away from zero), the VAT per rate on the sum of
 * that rate's nets (rounded once per rate) and the totals. 0, or -1 when
 * there are more distinct rates than PL_QUOTE_MAX_RATES or an amount
 * overflows. */
int pl_quote_compute(pl_quote_line *lines, size_t n, int64_t discount_bp, pl_quote_totals *t);

/* Parses "SKU:QTY:UNIT_PRICE[:VAT%]" (price "12.50" with `decimals`
 * decimals, VAT "20" or "5.5"; absent: default_vat_bp) into *l. 0, or -1
 * with a message in err. */
int pl_quote_line_parse(const char *text, int decimals, int64_t default_vat_bp, pl_quote_line *l,
                        char *err, size_t errsize);

/* Parses a decimal "12.5" into units of 10^-scale ("12.5", 2 -> 1250). 0 or
 * -1 (not a number, too many decimals, overflow). */
int pl_parse_decimal(const char *text, int scale, int64_t *out);

#endif

/* Locale-styled money for messages (money_text.h). Data-driven: a row per
 * writing style, a row per currency symbol. */
#include <stdio.h>
#include <string.h>

#include "messages/money_text.h"
#include "hygiene.h"

typedef struct money_style {
    const char *countries; /* space-separated ISO codes */
    const char *decimal;
    const char *group;     /* UTF-8: a narrow no-break space for French */
    int symbol_first;      /* "€49.90" rather than "49,90 €" */
    const char *space;     /* between the amount and a trailing symbol */
} money_style;

static const money_style styles[] = {
    {"FR BE LU MC CH CA", ",", "\u202f", 0, "\u00a0"},
    {"DE AT ES IT PT NL", ",", ".", 0, "\u00a0"},
    {"US GB IE AU NZ", ".", ",", 1, ""},
};

static const struct {
    const char *code, *symbol;
} symbols[] = {
    {"EUR", "€"}, {"USD", "$"}, {"GBP", "£"}, {"CHF", "CHF"}, {"CAD", "$"}, {"JPY", "¥"},
};

static const money_style *style_of(const char *country)
{
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        const char *hit = country && strlen(country) == 2 ? strstr(styles[i].countries, country)
                                                          : NULL;
        if (hit)
            return &styles[i];
    }
    return &styles[0];
}

static const char *symbol_of(const char *currency)
{
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
        if (currency && strcmp(symbols[i].code, currency) == 0)
            return symbols[i].symbol;
    return currency ? currency : "";
}

void crm_money_text(const char *country, int64_t minor, const char *currency, char *buf,
                    size_t size)
{
    const money_style *s = style_of(country);
    int dec = currency ? crm_currency_decimals(currency) : 2;
    char plain[48];
    crm_format_money(minor, dec < 0 ? 2 : dec, plain, sizeof plain);
    const char *digits = plain + (plain[0] == '-');
    const char *mark = strchr(digits, '.');
    size_t n_int = mark ? (size_t)(mark - digits) : strlen(digits);
    char amount[128];
    size_t o = 0;
    for (size_t i = 0; i < n_int && o + 8 < sizeof amount; i++) {
        if (i && (n_int - i) % 3 == 0)
            o += (size_t)snprintf(amount + o, sizeof amount - o, "%s", s->group);
        amount[o++] = digits[i];
    }
    amount[o] = '\0';
    if (mark)
        snprintf(amount + o, sizeof amount - o, "%s%s", s->decimal, mark + 1);
    const char *sign = plain[0] == '-' ? "-" : "";
    const char *sym = symbol_of(currency);
    if (s->symbol_first)
        snprintf(buf, size, "%s%s%s", sign, sym, amount);
    else
        snprintf(buf, size, "%s%s%s%s", sign, amount, s->space, sym);
}

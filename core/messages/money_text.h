/* Money as a customer reads it in a message: "49,90 €" in France, "€49.90"
 * in Ireland, "$1,234.50" in the United States. The CLI's "49.90 EUR" is
 * for operators; a message speaks the locale's language. */
#ifndef CRM_CORE_MESSAGES_MONEY_TEXT_H
#define CRM_CORE_MESSAGES_MONEY_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Writes minor units of currency (ISO 4217) as written in country (ISO
 * 3166-1 alpha-2) into buf. Unknown countries use the French style, unknown
 * currencies their code as the symbol. Always terminates buf (size > 0). */
void crm_money_text(const char *country, int64_t minor, const char *currency, char *buf,
                    size_t size);

#endif

/* Data hygiene at entry: validation and normalisation of single values.
 *
 * Every function here is pure (no database, no globals): it takes a value,
 * returns a newly malloc'd normalised copy in *out (caller frees), or fails
 * with CRM_EINVAL and a message of the form
 *     "<field>: '<value>' <rule explained>"
 * e.g. "email: 'jean@@x.fr' is not a valid address (more than one '@')".
 * `field` is the name used in messages (the caller passes "email",
 * "phone", "custom.vat_number", ...). */
#ifndef CRM_CORE_HYGIENE_H
#define CRM_CORE_HYGIENE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Trims, collapses runs of white space (and control characters) to one
 * space, converts to Unicode NFC. Fails on invalid UTF-8 and on input that
 * is NULL, empty or only white space ("is empty"). */
int crm_clean_text(const char *field, const char *in, char **out, crm_err *err);

/* Person name in proper case: "JEAN DUPONT" -> "Jean Dupont",
 * "jean-pierre" -> "Jean-Pierre", "o'neil" -> "O'Neil", "ÉLODIE" -> "Élodie",
 * particles de, du, des, la, le, d', van, von, der, den, di, da, del, dos, y
 * kept lower case when not first ("jean de la fontaine" -> "Jean de la Fontaine",
 * "charles d'artagnan" -> "Charles d'Artagnan"); the first word is always
 * capitalised. The rule applies per word: a word that is all lower or all
 * upper case is recased, a mixed-case word that already looks deliberate
 * ("McDonald", "DiCaprio") is kept as typed. Also does crm_clean_text. */
int crm_normalise_name(const char *field, const char *in, char **out, crm_err *err);

/* Email: trims, lower-cases, checks syntax (one '@', local part 1–64 chars of
 * the dot-atom set without leading/trailing/double dots, domain of at least
 * two labels of letters/digits/hyphens not starting/ending with '-', TLD
 * alphabetic >= 2, total <= 254). Internationalised domains in UTF-8 are accepted. */
int crm_normalise_email(const char *field, const char *in, char **out, crm_err *err);

/* Phone to E.164 ("+33612345678") with libphonenumber (through
 * core/hygiene/phone_lib.cc), so every country's prefixes, lengths and number
 * ranges apply. Accepts digits, spaces, dots, dashes, '/', parentheses, a
 * leading "+", the international prefix of `default_country` ("00"; "011"
 * in US/CA), a "(0)" after the country code, or a national number read with
 * `default_country` (ISO alpha-2, any case). Letters are refused (no keypad
 * spelling), and a national number with no default country. A number must be
 * valid, not merely of a possible length: refusals read
 * "phone: '06 12' is not a valid FR number (too short)". */
int crm_normalise_phone(const char *field, const char *in, const char *default_country,
                        char **out, crm_err *err);

/* crm_normalise_phone, also setting *type (may be NULL) on success to the
 * number's type, a static string as crm_phone_type returns. */
int crm_normalise_phone_typed(const char *field, const char *in, const char *default_country,
                              char **out, const char **type, crm_err *err);

/* Type of a stored E.164 number: "mobile", "fixed_line",
 * "fixed_line_or_mobile" (US/CA ranges do not tell), "toll_free",
 * "premium_rate", "shared_cost", "voip", "personal", "pager", "uan",
 * "voicemail", or "unknown" (also NULL or not E.164). Static string. */
const char *crm_phone_type(const char *e164);

/* Postal code for `country` (alpha-2, any case; NULL or a country without a
 * rule gets the generic rule below). Spaces and '-' inside are ignored:
 * FR 5 digits, DE 5 digits, ES 5 digits (01–52 province), IT 5 digits,
 * US 5 or 5-4 digits, GB the UK postcode pattern (normalised upper case with
 * one space before the inward code, "sw1a1aa" -> "SW1A 1AA"), BE 4 digits,
 * CH 4 digits, NL "1234 AB", PT "1234-567", LU 4 digits (optional "L-",
 * dropped), AT 4 digits; unknown countries: 2–10 of ASCII letters, digits,
 * spaces, '-' (upper-cased, spaces collapsed). */
int crm_normalise_postal_code(const char *field, const char *in, const char *country,
                              char **out, crm_err *err);

/* Country: accepts alpha-2 in any case ("fr") or a common English/French name
 * ("France", "Deutschland", "Germany", "Royaume-Uni") and returns the upper-case
 * alpha-2 code; fails on anything else. */
int crm_normalise_country(const char *field, const char *in, char **out, crm_err *err);

/* Calendar date "YYYY-MM-DD" (also accepts "DD/MM/YYYY"), year 0001–9999,
 * checked for a real day (leap years) and, when not_after is nonzero, that
 * its midnight UTC is not after that epoch second (birth dates in the future
 * are refused). Output "YYYY-MM-DD". */
int crm_normalise_date(const char *field, const char *in, int64_t not_after, char **out,
                       crm_err *err);

/* Parses an ISO 8601 date or date-time ("2025-03-01", "2025-03-01T10:20:30",
 * "2025-03-01 10:20", optional fraction ".123" ignored, with optional "Z" or
 * "+02:00" / "+0200" / "+02") to UTC epoch seconds; no offset means UTC.
 * Independent of the process time zone. */
int crm_parse_datetime(const char *field, const char *in, int64_t *out, crm_err *err);

/* Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void crm_format_datetime(int64_t t, char *buf, size_t size);

/* Decimal amount in major units ("12.5", "1 234,56", "-3") to integer minor
 * units with `decimals` places (0–18; 2 for EUR); refuses more decimals than
 * that, and anything that is not a number. The decimal mark is '.' or ',':
 * when both appear the last one is the decimal mark; one that appears once
 * alone is the decimal mark ("1,234" is 1.234, refused with 2 decimals); one
 * that appears more than once is a thousands separator, as are spaces, no-break spaces and
 * apostrophes (each must be followed by exactly 3 digits). Never uses
 * floating point; refuses amounts that overflow int64. */
int crm_parse_money(const char *field, const char *in, int decimals, int64_t *out,
                    crm_err *err);

/* Formats minor units as a decimal string ("1234.50", "-0.05") into buf;
 * decimals outside 0–18 are clamped. */
void crm_format_money(int64_t minor, int decimals, char *buf, size_t size);

/* Number of decimals for an ISO 4217 code (JPY 0, KWD 3, default 2); -1 when
 * the code is not three upper-case letters. */
int crm_currency_decimals(const char *code);

/* Comparison key for names: case-folded, accents stripped, punctuation and
 * spaces collapsed to single spaces ("Élodie  DUPONT-Hervé" -> "elodie dupont herve").
 * Returns a malloc'd string or NULL on invalid UTF-8. */
char *crm_fold_key(const char *in);

/* Fills err (when not NULL) with "<field>: '<value>' <rule>", the rule being
 * formatted from fmt; the value is cut to 64 bytes on a character boundary
 * (then "..." is appended) and invalid UTF-8 or control characters show as
 * '?'. NULL field reads "value", NULL value "". Returns CRM_EINVAL. Shared by
 * the hygiene functions so every message has the same shape. */
int crm_hygiene_reject(crm_err *err, const char *field, const char *value, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

#endif

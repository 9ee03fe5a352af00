/* Postal codes per country and country names. Postal rules are shapes
 * ('9' a digit, 'A' a letter) matched on the code with spaces and '-'
 * removed, then re-formatted; a few countries add a check of their own. */
#include "hygiene.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COMPACT_MAX 16

typedef bool (*postal_check)(const char *compact);

typedef struct {
    const char *country;
    const char *shapes[2]; /* accepted compact shapes */
    int sep_at;            /* insert sep before this index (0: none)... */
    char sep;
    size_t sep_min_len;    /* ...only when the code is at least this long */
    const char *expect;    /* for messages */
    postal_check check;    /* extra rule, NULL when none */
} postal_rule;

static bool first_not_zero(const char *c)
{
    return c[0] != '0';
}

/* Spanish codes start with the province number, 01 to 52. */
static bool es_province(const char *c)
{
    int p = (c[0] - '0') * 10 + (c[1] - '0');
    return p >= 1 && p <= 52;
}

static const postal_rule postal_rules[] = {
    {"FR", {"99999"}, 0, 0, 0, "5 digits", NULL},
    {"DE", {"99999"}, 0, 0, 0, "5 digits", NULL},
    {"ES", {"99999"}, 0, 0, 0, "5 digits starting with a province number 01 to 52", es_province},
    {"IT", {"99999"}, 0, 0, 0, "5 digits", NULL},
    {"US", {"99999", "999999999"}, 5, '-', 9, "5 digits or ZIP+4 like 12345-6789", NULL},
    {"BE", {"9999"}, 0, 0, 0, "4 digits, 1000 to 9999", first_not_zero},
    {"CH", {"9999"}, 0, 0, 0, "4 digits, 1000 to 9999", first_not_zero},
    {"AT", {"9999"}, 0, 0, 0, "4 digits, 1000 to 9999", first_not_zero},
    {"LU", {"9999"}, 0, 0, 0, "4 digits, optionally after 'L-'", first_not_zero},
    {"NL", {"9999AA"}, 4, ' ', 6, "4 digits and 2 letters like 1234 AB", first_not_zero},
    {"PT", {"9999999"}, 4, '-', 7, "4 digits, '-' and 3 digits like 1234-567", first_not_zero},
};

static bool fits(const char *c, const char *shape)
{
    if (strlen(c) != strlen(shape))
        return false;
    for (; *c; c++, shape++)
        if (*shape == '9' ? !isdigit((unsigned char)*c) : !isupper((unsigned char)*c))
            return false;
    return true;
}

/* Upper-cases ASCII and drops spaces and '-'; false when anything else
 * than ASCII letters and digits is left or it is too long. */
static bool compact(const char *in, char *c)
{
    size_t n = 0;
    for (; *in; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch == ' ' || ch == '-' || ch == '\t')
            continue;
        if (!isalnum(ch) || ch >= 0x80 || n == COMPACT_MAX)
            return false;
        c[n++] = (char)toupper(ch);
    }
    c[n] = '\0';
    return true;
}

static char *format_code(const postal_rule *r, const char *c)
{
    size_t n = strlen(c);
    char *s = malloc(n + 2);
    if (!s)
        return NULL;
    if (r && r->sep_at && n >= r->sep_min_len)
        snprintf(s, n + 2, "%.*s%c%s", r->sep_at, c, r->sep, c + r->sep_at);
    else
        memcpy(s, c, n + 1);
    return s;
}

/* UK outward codes: A9, A99, AA9, AA99, A9A, AA9A; inward 9AA. */
static bool gb_valid(const char *c)
{
    static const char *const outward[] = {"A9", "A99", "AA9", "AA99", "A9A", "AA9A"};
    size_t n = strlen(c);
    if (!strcmp(c, "GIR0AA"))
        return true;
    if (n < 5 || n > 7 || !fits(c + n - 3, "9AA"))
        return false;
    char out[8];
    memcpy(out, c, n - 3);
    out[n - 3] = '\0';
    for (size_t i = 0; i < sizeof outward / sizeof *outward; i++)
        if (fits(out, outward[i]))
            return true;
    return false;
}

static int postal_gb(const char *field, const char *in, const char *c, char **out,
                     crm_err *err)
{
    if (!gb_valid(c))
        return crm_hygiene_reject(err, field, in,
                                  "is not a valid GB postcode (expected the UK pattern like "
                                  "SW1A 1AA)");
    size_t n = strlen(c);
    *out = malloc(n + 2);
    if (!*out)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field);
    snprintf(*out, n + 2, "%.*s %s", (int)(n - 3), c, c + n - 3);
    return CRM_OK;
}

/* Generic rule: 2-10 letters, digits, spaces, '-', spaces collapsed. */
static int postal_generic(const char *field, const char *in, char **out, crm_err *err)
{
    size_t n = strlen(in), o = 0, alnum = 0;
    char *s = malloc(n + 1);
    if (!s)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == ' ' || ch == '\t') {
            if (o && s[o - 1] != ' ')
                s[o++] = ' ';
            continue;
        }
        if ((!isalnum(ch) && ch != '-') || ch >= 0x80)
            goto bad;
        alnum += ch != '-';
        s[o++] = (char)toupper(ch);
    }
    if (o && s[o - 1] == ' ')
        o--;
    s[o] = '\0';
    if (o < 2 || o > 10 || alnum == 0)
        goto bad;
    *out = s;
    return CRM_OK;
bad:
    free(s);
    return crm_hygiene_reject(err, field, in,
                              "is not a valid postal code (expected 2 to 10 letters, digits, "
                              "spaces or '-')");
}

static const postal_rule *postal_rule_for(const char *cc)
{
    for (size_t i = 0; cc && i < sizeof postal_rules / sizeof *postal_rules; i++)
        if (!strcasecmp(cc, postal_rules[i].country))
            return &postal_rules[i];
    return NULL;
}

int crm_normalise_postal_code(const char *field, const char *in, const char *country,
                              char **out, crm_err *err)
{
    char c[COMPACT_MAX + 1];
    *out = NULL;
    if (!field)
        field = "postal_code";
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    bool gb = country && !strcasecmp(country, "GB");
    const postal_rule *r = postal_rule_for(country);
    if (!gb && !r)
        return postal_generic(field, in, out, err);
    bool ok = compact(in, c);
    if (ok && gb)
        return postal_gb(field, in, c, out, err);
    /* Luxembourg addresses often carry the "L-" country prefix. */
    if (ok && !strcmp(r->country, "LU") && c[0] == 'L')
        memmove(c, c + 1, strlen(c));
    ok = ok && (fits(c, r->shapes[0]) || (r->shapes[1] && fits(c, r->shapes[1])));
    ok = ok && (!r->check || r->check(c));
    if (!ok)
        return crm_hygiene_reject(err, field, in, "is not a valid %s postal code (expected %s)",
                                  r->country, r->expect);
    *out = format_code(r, c);
    return *out ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field);
}

/* ---- countries ------------------------------------------------------ */

/* ISO 3166-1 alpha-2, officially assigned codes. */
static const char iso_codes[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
    "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
    "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
    "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
    "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
    "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
    "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/* Names as fold keys (crm_fold_key form: lower case, no accents, single
 * spaces), English, French and native; '|' separates. */
static const struct {
    const char *code;
    const char *names;
} country_names[] = {
    {"FR", "france|french republic|republique francaise"},
    {"DE", "germany|allemagne|deutschland"},
    {"GB", "united kingdom|uk|great britain|royaume uni|angleterre|england|scotland|wales|"
           "ecosse|pays de galles|grande bretagne|britain"},
    {"US", "united states|united states of america|usa|etats unis|etats unis d amerique"},
    {"ES", "spain|espagne|espana"},
    {"IT", "italy|italie|italia"},
    {"BE", "belgium|belgique|belgie|belgien"},
    {"CH", "switzerland|suisse|schweiz|svizzera"},
    {"NL", "netherlands|the netherlands|pays bas|nederland|holland|hollande"},
    {"PT", "portugal"},
    {"LU", "luxembourg|luxemburg|letzebuerg"},
    {"AT", "austria|autriche|osterreich|oesterreich"},
    {"IE", "ireland|irlande|eire"},
    {"CA", "canada"},
    {"DK", "denmark|danemark|danmark"},
    {"SE", "sweden|suede|sverige"},
    {"NO", "norway|norvege|norge"},
    {"FI", "finland|finlande|suomi"},
    {"PL", "poland|pologne|polska"},
    {"CZ", "czech republic|czechia|republique tcheque|tchequie|cesko"},
    {"GR", "greece|grece|hellas"},
    {"RO", "romania|roumanie"},
    {"HU", "hungary|hongrie|magyarorszag"},
    {"MC", "monaco"},
    {"AD", "andorra|andorre"},
    {"MA", "morocco|maroc"},
    {"DZ", "algeria|algerie"},
    {"TN", "tunisia|tunisie"},
    {"SN", "senegal"},
    {"CI", "ivory coast|cote d ivoire"},
    {"JP", "japan|japon|nippon"},
    {"CN", "china|chine"},
    {"IN", "india|inde"},
    {"BR", "brazil|bresil|brasil"},
    {"MX", "mexico|mexique"},
    {"AU", "australia|australie"},
    {"NZ", "new zealand|nouvelle zelande"},
    {"RU", "russia|russie|russian federation"},
    {"TR", "turkey|turquie|turkiye"},
    {"ZA", "south africa|afrique du sud"},
    {"IL", "israel"},
    {"AE", "united arab emirates|emirats arabes unis|uae"},
};

static bool iso_known(const char *up)
{
    for (const char *p = iso_codes; *p; p += p[2] ? 3 : 2)
        if (p[0] == up[0] && p[1] == up[1])
            return true;
    return false;
}

/* True when key is one of the '|'-separated names. */
static bool names_match(const char *names, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = names; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !memcmp(p, key, n))
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static int country_out(const char *code, const char *field, char **out, crm_err *err)
{
    *out = malloc(3);
    if (!*out)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", field);
    memcpy(*out, code, 3);
    return CRM_OK;
}

int crm_normalise_country(const char *field, const char *in, char **out, crm_err *err)
{
    *out = NULL;
    if (!field)
        field = "country";
    if (!in || !*in)
        return crm_hygiene_reject(err, field, in, "is empty");
    char *key = crm_fold_key(in);
    if (!key)
        return crm_hygiene_reject(err, field, in, "is not valid UTF-8 text");
    int rc;
    if (strlen(key) == 2 && isalpha((unsigned char)key[0]) && isalpha((unsigned char)key[1])) {
        char up[3] = {(char)toupper((unsigned char)key[0]), (char)toupper((unsigned char)key[1])};
        if (iso_known(up)) {
            rc = country_out(up, field, out, err);
            goto done;
        }
    }
    for (size_t i = 0; i < sizeof country_names / sizeof *country_names; i++) {
        if (names_match(country_names[i].names, key)) {
            rc = country_out(country_names[i].code, field, out, err);
            goto done;
        }
    }
    rc = crm_hygiene_reject(err, field, in,
                            "is not a known country (expected an ISO 3166 alpha-2 code like "
                            "FR or a country name like France)");
done:
    free(key);
    return rc;
}

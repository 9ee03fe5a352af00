/* The demo generator: each record is a pure function of the seed, the clock,
 * the sizes and its index (see demo.h). Uniqueness that the kernel enforces
 * (email, phone, company name) is guaranteed by construction with keyed
 * bijections, so the only refusals are the dirty rows made on purpose. */
#include "demo.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define DAY 86400

/* ---- PRNG: splitmix64, one independent stream per record ---------------------- */

typedef struct rng {
    uint64_t s;
} rng;

enum { S_CONTACT = 1, S_KIND, S_DIRT, S_COMPANY, S_ORDER, S_INTERACTION, S_CONSENT, S_PERM };

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t next(rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

static rng stream(uint64_t seed, uint64_t kind, uint64_t index)
{
    rng r = {mix64(mix64(seed ^ (kind << 56)) + index * 0xd1342543de82ef95ULL)};
    return r;
}

/* Uniform in [0, n); multiply-shift, no modulo bias worth the name. */
static uint64_t below(rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= 0xffffffffULL)
        return ((next(r) >> 32) * n) >> 32;
    return next(r) % n;
}

static bool chance(rng *r, unsigned per_mille)
{
    return below(r, 1000) < per_mille;
}

static double unit(rng *r)
{
    return (double)(next(r) >> 11) * 0x1.0p-53;
}

/* Index drawn from integer weights (w ends with 0). */
static size_t weighted(rng *r, const unsigned *w)
{
    unsigned total = 0;
    for (const unsigned *p = w; *p; p++)
        total += *p;
    uint64_t x = below(r, total);
    size_t i = 0;
    for (; x >= w[i]; i++)
        x -= w[i];
    return i;
}

/* ---- keyed bijections ------------------------------------------------------ */

static uint64_t inverse_odd(uint64_t m)
{
    uint64_t inv = m;  /* Newton: correct to 3, 6, 12, 24, 48, 96 bits */
    for (int i = 0; i < 5; i++)
        inv *= 2 - m * inv;
    return inv;
}

void crm_demo_perm_init(crm_demo_perm *p, uint64_t n, uint64_t seed)
{
    int bits = 1;
    while (bits < 63 && (1ULL << bits) < n)
        bits++;
    p->n = n;
    p->mask = (1ULL << bits) - 1;
    p->shift = (bits + 1) / 2;
    for (int i = 0; i < 3; i++) {
        p->key[i] = mix64(seed + (uint64_t)i) & p->mask;
        p->mul[i] = mix64(seed ^ (0xa5a5ULL + (uint64_t)i)) | 1;
        p->inv[i] = inverse_odd(p->mul[i]);
    }
}

static uint64_t round_fwd(const crm_demo_perm *p, uint64_t x)
{
    for (int i = 0; i < 3; i++) {
        x = (x + p->key[i]) & p->mask;
        x = (x * p->mul[i]) & p->mask;
        x ^= x >> p->shift;
    }
    return x;
}

static uint64_t round_inv(const crm_demo_perm *p, uint64_t x)
{
    for (int i = 2; i >= 0; i--) {
        uint64_t y = x;
        for (int s = p->shift; s < 64; s += p->shift)
            x = y ^ (x >> p->shift);
        x = (x * p->inv[i]) & p->mask;
        x = (x - p->key[i]) & p->mask;
    }
    return x;
}

/* Cycle-walking keeps a bijection of [0, 2^bits) inside [0, n). */
uint64_t crm_demo_perm_fwd(const crm_demo_perm *p, uint64_t x)
{
    if (p->n <= 1)
        return 0;
    do
        x = round_fwd(p, x);
    while (x >= p->n);
    return x;
}

uint64_t crm_demo_perm_inv(const crm_demo_perm *p, uint64_t y)
{
    if (p->n <= 1)
        return 0;
    do
        y = round_inv(p, y);
    while (y >= p->n);
    return y;
}

/* ---- small string builders (no snprintf on the hot path) ------------------------ */

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static sb sb_on(char *buf, size_t cap)
{
    sb b = {buf, 0, cap};
    buf[0] = '\0';
    return b;
}

static void sb_puts(sb *b, const char *s)
{
    while (*s && b->n + 1 < b->cap)
        b->p[b->n++] = *s++;
    b->p[b->n] = '\0';
}

static void sb_putc(sb *b, char c)
{
    if (b->n + 1 < b->cap)
        b->p[b->n++] = c;
    b->p[b->n] = '\0';
}

/* Decimal, left-padded with zeros to `width`. */
static void sb_num(sb *b, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        sb_putc(b, tmp[--n]);
}

void crm_demo_format_id(char *buf, size_t cap, char prefix, int64_t index, int width)
{
    sb b = sb_on(buf, cap);
    sb_putc(&b, prefix);
    sb_num(&b, (uint64_t)index + 1, width);
}

/* ASCII folding of the Latin letters our tables use, for emails and domains:
 * lower case, accents dropped, ß ss, æ ae, œ oe, ø o, ł l; spaces and
 * apostrophes dropped. */
static const char latin1_fold[] = "aaaaaaaceeeeiiiidnooooo_ouuuuyts"
                                  "aaaaaaaceeeeiiiidnooooo_ouuuuyty";
static const char exta_fold[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkk"
                                "llllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuu"
                                "uuuuwwyyyzzzzzzs";
_Static_assert(sizeof exta_fold == 129, "one letter per code point U+0100..U+017F");

static void fold_cp(sb *b, unsigned cp)
{
    if (cp == 0xDF)
        sb_puts(b, "ss");
    else if (cp == 0xC6 || cp == 0xE6)
        sb_puts(b, "ae");
    else if (cp == 0x152 || cp == 0x153)
        sb_puts(b, "oe");
    else if (cp >= 0xC0 && cp <= 0xFF && latin1_fold[cp - 0xC0] != '_')
        sb_putc(b, latin1_fold[cp - 0xC0]);
    else if (cp >= 0x100 && cp < 0x100 + sizeof exta_fold - 1)
        sb_putc(b, exta_fold[cp - 0x100]);
}

static void sb_fold(sb *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p < 0x80) {
            unsigned char c = *p++;
            if (c >= 'A' && c <= 'Z')
                sb_putc(b, (char)(c - 'A' + 'a'));
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
                sb_putc(b, (char)c);
        } else if ((*p & 0xE0) == 0xC0 && p[1]) {
            fold_cp(b, ((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F));
            p += 2;
        } else {
            p++; /* other scripts: not in our tables */
        }
    }
}

/* Changes the case of s in place (ASCII, Latin-1, Latin Extended-A). */
static void recase(char *s, bool upper)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            if (upper && *p >= 'a' && *p <= 'z')
                *p = (unsigned char)(*p - 32);
            else if (!upper && *p >= 'A' && *p <= 'Z')
                *p = (unsigned char)(*p + 32);
            continue;
        }
        if ((*p & 0xE0) != 0xC0 || !p[1])
            continue;
        unsigned cp = ((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
        if (cp >= 0xC0 && cp <= 0xFE && cp != 0xD7 && cp != 0xF7 && cp != 0xDF)
            cp = upper ? (cp & ~0x20u) : (cp | 0x20u);
        else if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
            cp = upper ? (cp & ~1u) : (cp | 1u);
        else if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
            cp = upper ? cp - !(cp & 1u) : cp + (cp & 1u);  /* odd upper, even lower */
        p[0] = (unsigned char)(0xC0 | (cp >> 6));
        p[1] = (unsigned char)(0x80 | (cp & 0x3F));
        p++;
    }
}

/* ---- dates ------------------------------------------------------------------- */

/* Howard Hinnant's civil_from_days: proleptic Gregorian, no libc, no time zone. */
static void civil(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

size_t crm_demo_format_time(int64_t t, bool date_only, char *buf)
{
    int64_t days = floor_div(t, DAY), secs = t - days * DAY;
    int y, m, d;
    civil(days, &y, &m, &d);
    sb b = sb_on(buf, 24);
    sb_num(&b, (uint64_t)(y < 0 ? 0 : y), 4);
    sb_putc(&b, '-');
    sb_num(&b, (uint64_t)m, 2);
    sb_putc(&b, '-');
    sb_num(&b, (uint64_t)d, 2);
    if (date_only)
        return b.n;
    sb_putc(&b, 'T');
    sb_num(&b, (uint64_t)(secs / 3600), 2);
    sb_putc(&b, ':');
    sb_num(&b, (uint64_t)(secs / 60 % 60), 2);
    sb_putc(&b, ':');
    sb_num(&b, (uint64_t)(secs % 60), 2);
    sb_putc(&b, 'Z');
    return b.n;
}

/* A moment in the last `span` days before now, in shop hours (08:00-22:00 UTC). */
static int64_t recent_moment(const crm_demo *g, rng *r, int64_t span)
{
    int64_t today = floor_div(g->now, DAY) * DAY;
    int64_t t = today - (int64_t)below(r, (uint64_t)span) * DAY + 8 * 3600 +
                (int64_t)below(r, 14 * 3600);
    return t > g->now ? t - DAY : t;
}

/* ---- countries ---------------------------------------------------------------- */

typedef struct country_info {
    const char *code, *calling, *trunk, *tld, *name;
    unsigned share;      /* per mille of contacts */
    unsigned company_share;
    int postal_width;
    bool number_first;   /* "12 rue ..." vs "Hauptstraße 12" */
    const char *number_sep;
} country_info;

static const country_info countries[] = {
    {"FR", "33", "0", "fr", "France", 800, 820, 5, true, " "},
    {"BE", "32", "0", "be", "Belgique", 50, 50, 4, false, " "},
    {"CH", "41", "0", "ch", "Suisse", 40, 40, 4, false, " "},
    {"DE", "49", "0", "de", "Deutschland", 40, 40, 5, false, " "},
    {"ES", "34", "", "es", "España", 30, 20, 5, false, ", "},
    {"IT", "39", "", "it", "Italia", 20, 20, 5, false, ", "},
    {"GB", "44", "0", "co.uk", "United Kingdom", 20, 10, 0, true, " "},
};

static const country_info *country_of(const char *code)
{
    for (size_t i = 0; i < COUNT(countries); i++)
        if (strcmp(countries[i].code, code) == 0)
            return &countries[i];
    return &countries[0];
}

static const country_info *pick_country(rng *r, bool company)
{
    unsigned w[COUNT(countries) + 1] = {0};
    for (size_t i = 0; i < COUNT(countries); i++)
        w[i] = company ? countries[i].company_share : countries[i].share;
    return &countries[weighted(r, w)];
}

/* ---- setup --------------------------------------------------------------------- */

void crm_demo_init(crm_demo *g, uint64_t seed, int64_t n_contacts, int64_t n_orders,
                   int64_t now)
{
    memset(g, 0, sizeof *g);
    g->seed = seed;
    g->n_contacts = n_contacts;
    g->n_orders = n_orders;
    g->now = now;
    g->n_companies = n_contacts > 0 ? (n_contacts * 15 + 99) / 100 : 0;
    g->n_buyers = n_contacts > 0 ? (n_contacts * 65 + 99) / 100 : 0;
    uint64_t pairs = crm_demo_first_names_n * crm_demo_last_names_n;
    size_t n_trades;
    crm_demo_trades("fr", &n_trades);
    crm_demo_perm_init(&g->rank, (uint64_t)n_contacts, mix64(seed ^ S_PERM));
    crm_demo_perm_init(&g->names, pairs, mix64(seed ^ (S_PERM + 1)));
    crm_demo_perm_init(&g->phones, 10000000ULL, mix64(seed ^ (S_PERM + 2)));
    crm_demo_perm_init(&g->trades, n_trades * crm_demo_company_cores_n,
                       mix64(seed ^ (S_PERM + 3)));
    /* Weights accumulate within each country's run of rows. */
    g->n_cities = crm_demo_cities_n < CRM_DEMO_MAX_CITIES ? crm_demo_cities_n
                                                           : CRM_DEMO_MAX_CITIES;
    uint32_t sum = 0;
    for (size_t i = 0; i < g->n_cities; i++) {
        if (i == 0 || strcmp(crm_demo_cities[i].country, crm_demo_cities[i - 1].country) != 0)
            sum = 0;
        sum += (uint32_t)crm_demo_cities[i].weight;
        g->city_cum[i] = sum;
    }
}

/* ---- addresses ------------------------------------------------------------------- */

static size_t pick_city(const crm_demo *g, rng *r, const char *country)
{
    size_t first = 0, last = 0;
    while (first < g->n_cities && strcmp(crm_demo_cities[first].country, country) != 0)
        first++;
    for (last = first; last < g->n_cities && !strcmp(crm_demo_cities[last].country, country);)
        last++;
    if (first == last)
        return 0;
    uint64_t x = below(r, g->city_cum[last - 1]);
    size_t lo = first, hi = last - 1;
    while (lo < hi) {  /* first row whose cumulative weight exceeds x */
        size_t mid = (lo + hi) / 2;
        if (g->city_cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void postal_code(rng *r, const crm_demo_city *c, const country_info *ci, char *buf,
                        size_t cap)
{
    sb b = sb_on(buf, cap);
    if (!c->gb_out) {
        sb_num(&b, (uint64_t)(c->code + c->step * (int)below(r, (uint64_t)c->n_codes)),
               ci->postal_width);
        return;
    }
    size_t n_out = 1;
    for (const char *p = c->gb_out; *p; p++)
        n_out += *p == ' ';
    const char *p = c->gb_out;
    for (uint64_t k = below(r, n_out); k; p++)
        k -= *p == ' ';
    while (*p && *p != ' ')
        sb_putc(&b, *p++);
    static const char inward[] = "ABDEFGHJLNPQRSTUWXYZ";
    sb_putc(&b, ' ');
    sb_num(&b, below(r, 10), 1);
    sb_putc(&b, inward[below(r, sizeof inward - 1)]);
    sb_putc(&b, inward[below(r, sizeof inward - 1)]);
}

static void street(rng *r, const country_info *ci, char *buf, size_t cap)
{
    const char *const *streets = crm_demo_streets(ci->code);
    size_t n = 0;
    while (streets[n])
        n++;
    const char *name = streets[below(r, n)];
    /* House numbers: mostly small, a few long avenues. */
    uint64_t num = 1 + (chance(r, 800) ? below(r, 40) : below(r, 240));
    sb b = sb_on(buf, cap);
    if (ci->number_first) {
        sb_num(&b, num, 1);
        if (!strcmp(ci->code, "FR") && chance(r, 40))
            sb_puts(&b, chance(r, 700) ? " bis" : " ter");
        sb_putc(&b, ' ');
        sb_puts(&b, name);
    } else {
        sb_puts(&b, name);
        sb_puts(&b, ci->number_sep);
        sb_num(&b, num, 1);
    }
}

typedef struct address {
    char *street, *postal_code, *city, *country;
    size_t street_cap, postal_cap, city_cap, country_cap;
} address;

static void make_address(const crm_demo *g, rng *r, const country_info *ci, address *a)
{
    const crm_demo_city *c = &crm_demo_cities[pick_city(g, r, ci->code)];
    street(r, ci, a->street, a->street_cap);
    postal_code(r, c, ci, a->postal_code, a->postal_cap);
    sb b = sb_on(a->city, a->city_cap);
    sb_puts(&b, c->city);
    b = sb_on(a->country, a->country_cap);
    sb_puts(&b, ci->code);
}

/* ---- companies --------------------------------------------------------------------- */

typedef struct legal_form {
    const char *country, *lang, *forms[4];
} legal_form;

static const legal_form legal_forms[] = {
    {"FR", "fr", {"SARL", "SAS", "EURL", "& Fils"}},
    {"BE", "fr", {"SRL", "SA", "SRL", "SC"}},
    {"CH", "fr", {"Sàrl", "SA", "Sàrl", "SA"}},
    {"CH", "de", {"AG", "GmbH", "AG", "GmbH"}},
    {"DE", "de", {"GmbH", "KG", "GmbH & Co. KG", "e.K."}},
    {"ES", "es", {"S.L.", "S.A.", "S.L.", "S.L.U."}},
    {"IT", "it", {"S.r.l.", "S.p.A.", "S.r.l.", "S.n.c."}},
    {"GB", "en", {"Ltd", "& Sons Ltd", "Ltd", "LLP"}},
};

static const legal_form *legal_of(rng *r, const char *country)
{
    size_t first = 0, n = 0;
    for (size_t i = 0; i < COUNT(legal_forms); i++)
        if (!strcmp(legal_forms[i].country, country) && !n++)
            first = i;
    return &legal_forms[first + below(r, n ? n : 1)];
}

static void landline(rng *r, const country_info *ci, char *buf, size_t cap)
{
    /* {country, area and exchange prefixes, national significant digits}:
     * prefixes chosen so that any subscriber digits after them make a number
     * libphonenumber accepts (an allocated range), not merely a good length.
     * Italy's lengths vary with the area: 7 subscriber digits there. */
    static const struct {
        const char *country, *areas[5];
        int nsn;
    } lines[] = {
        {"FR", {"1", "2", "3", "47", "5"}, 9},         {"BE", {"25", "43", "93", "10", "65"}, 8},
        {"CH", {"22", "21", "44", "31", "61"}, 9},     {"DE", {"30", "89", "40", "221", "69"}, 10},
        {"ES", {"91", "93", "96", "95", "944"}, 9},    {"IT", {"06", "02", "081", "011", "055"}, 0},
        {"GB", {"207", "161", "1214", "1312", "1174"}, 10},
    };
    size_t i = 0;
    while (i + 1 < COUNT(lines) && strcmp(lines[i].country, ci->code) != 0)
        i++;
    const char *area = lines[i].areas[below(r, 5)];
    int digits = lines[i].nsn ? lines[i].nsn - (int)strlen(area) : 7;
    sb b = sb_on(buf, cap);
    sb_putc(&b, '+');
    sb_puts(&b, ci->calling);
    sb_puts(&b, area);
    uint64_t lim = 1;
    for (int k = 0; k < digits; k++)
        lim *= 10;
    sb_num(&b, below(r, lim), digits);
}

void crm_demo_make_company(const crm_demo *g, int64_t index, crm_demo_company *out)
{
    memset(out, 0, sizeof *out);
    rng r = stream(g->seed, S_COMPANY, (uint64_t)index);
    size_t n_trades;
    crm_demo_trades("fr", &n_trades);
    /* (trade, core) is a bijection of the index: names never collide. */
    uint64_t cap = g->trades.n, x = crm_demo_perm_fwd(&g->trades, (uint64_t)index % cap);
    uint64_t cycle = (uint64_t)index / cap;
    const country_info *ci = pick_country(&r, true);
    const legal_form *lf = legal_of(&r, ci->code);
    const char *core = crm_demo_company_cores[x / n_trades];
    /* "du Lac", "de la Gare": French places read as French whatever the country. */
    const char *lang = core[0] >= 'a' && core[0] <= 'z' ? "fr" : lf->lang;
    const char *trade = crm_demo_trades(lang, &n_trades)[x % n_trades];
    out->index = index;
    crm_demo_format_id(out->external_id, sizeof out->external_id, 'K', index, 7);
    sb b = sb_on(out->name, sizeof out->name);
    bool english = !strcmp(lang, "en");
    sb_puts(&b, english ? core : trade);
    sb_putc(&b, ' ');
    sb_puts(&b, english ? trade : core);
    if (cycle) {
        sb_putc(&b, ' ');
        sb_num(&b, cycle + 1, 1);
    }
    const char *form = lf->forms[below(&r, COUNT(lf->forms))];
    if (!strcmp(ci->code, "FR") && chance(&r, 250))
        form = ""; /* plenty of French shops show no legal form */
    if (*form) {
        sb_putc(&b, ' ');
        sb_puts(&b, form);
    }
    b = sb_on(out->domain, sizeof out->domain);
    sb_fold(&b, trade);
    sb_putc(&b, '-');
    sb_fold(&b, core);
    if (cycle)
        sb_num(&b, cycle + 1, 1);
    sb_putc(&b, '.');
    sb_puts(&b, ci->tld);
    landline(&r, ci, out->phone, sizeof out->phone);
    address a = {out->street, out->postal_code, out->city, out->country,
                 sizeof out->street, sizeof out->postal_code, sizeof out->city,
                 sizeof out->country};
    make_address(g, &r, ci, &a);
}

/* ---- contacts ---------------------------------------------------------------------- */

static const char *const fr_domains[] = {"gmail.com", "orange.fr", "free.fr", "hotmail.fr",
                                         "yahoo.fr", "laposte.net", "outlook.fr", "sfr.fr",
                                         "wanadoo.fr", "icloud.com", "proton.me"};
static const unsigned fr_domain_w[] = {30, 15, 10, 10, 6, 5, 5, 4, 4, 4, 2, 0};

static const char *personal_domain(rng *r, const char *country)
{
    static const struct {
        const char *country, *domains[4];
    } other[] = {
        {"BE", {"skynet.be", "telenet.be", "gmail.com", "hotmail.com"}},
        {"CH", {"bluewin.ch", "gmail.com", "gmx.ch", "hotmail.com"}},
        {"DE", {"gmx.de", "web.de", "t-online.de", "gmail.com"}},
        {"ES", {"gmail.com", "hotmail.es", "yahoo.es", "telefonica.net"}},
        {"IT", {"gmail.com", "libero.it", "virgilio.it", "hotmail.it"}},
        {"GB", {"gmail.com", "btinternet.com", "outlook.com", "yahoo.co.uk"}},
    };
    for (size_t i = 0; i < COUNT(other); i++)
        if (!strcmp(other[i].country, country))
            return other[i].domains[below(r, 4)];
    return fr_domains[weighted(r, fr_domain_w)];
}

/* first.last / first_last / first.last<yy>, plus "-<n>" past the first
 * cycle of name pairs: injective in (first, last, cycle). */
static void make_email(rng *r, crm_demo_contact *c, uint64_t cycle, const char *domain)
{
    sb b = sb_on(c->email, sizeof c->email);
    sb_fold(&b, c->first_name);
    unsigned style = (unsigned)below(r, 10);
    sb_putc(&b, style < 7 ? '.' : '_');
    sb_fold(&b, c->last_name);
    if (style == 9 && c->birth_date[0]) { /* "jean.martin85" */
        sb_putc(&b, c->birth_date[2]);
        sb_putc(&b, c->birth_date[3]);
    }
    if (cycle) {
        sb_putc(&b, '-');
        sb_num(&b, cycle + 1, 1);
    }
    sb_putc(&b, '@');
    sb_puts(&b, domain);
}

/* Mobile numbers, E.164: the 8-digit subscriber part is a bijection of the
 * contact index, so numbers never collide within a country. */
/* unique7 < 10^7 makes the number unique; the prefixes are mobile ranges
 * where any 7 (DE, IT: 8, zero-padded) digits after them are allocated, so
 * libphonenumber accepts every generated number as a mobile. */
static void mobile(rng *r, const country_info *ci, uint64_t unique7, char *buf, size_t cap)
{
    static const struct {
        const char *country, *prefixes[4];
        int digits;
    } mobiles[] = {
        {"FR", {"61", "75", "62", "64"}, 7},       {"BE", {"47", "48", "49", "46"}, 7},
        {"CH", {"76", "77", "78", "79"}, 7},       {"DE", {"151", "160", "170", "176"}, 8},
        {"ES", {"61", "62", "64", "71"}, 7},       {"IT", {"32", "33", "34", "38"}, 8},
        {"GB", {"740", "750", "771", "780"}, 7},
    };
    size_t i = 0;
    while (i + 1 < COUNT(mobiles) && strcmp(mobiles[i].country, ci->code) != 0)
        i++;
    sb b = sb_on(buf, cap);
    sb_putc(&b, '+');
    sb_puts(&b, ci->calling);
    sb_puts(&b, mobiles[i].prefixes[below(r, 4)]);
    sb_num(&b, unique7, mobiles[i].digits);
}

static void birth_date(const crm_demo *g, rng *r, char *buf)
{
    int64_t age_days = 18 * 365 + (int64_t)below(r, 67 * 365);
    crm_demo_format_time(g->now - age_days * DAY, true, buf);
}

static const char *const sources[] = {"web", "shop", "fair", "referral", "import"};
static const unsigned source_w[] = {40, 25, 8, 10, 17, 0};

static void add_tag(crm_demo_contact *c, const char *tag)
{
    if (c->n_tags < CRM_DEMO_MAX_TAGS)
        c->tags[c->n_tags++] = tag;
}

/* Stage, owner and tags follow the buyer rank: the best customers are VIPs
 * with an account manager; non-buyers are leads, subscribers, prospects. */
static void classify(const crm_demo *g, rng *r, crm_demo_contact *c)
{
    bool buyer = c->rank < g->n_buyers;
    int64_t top = g->n_buyers / 50 + 1;
    static const char *const lead_stages[] = {"lead", "subscriber", "prospect", "inactive"};
    static const unsigned lead_w[] = {45, 30, 20, 5, 0};
    if (!buyer)
        c->stage = lead_stages[weighted(r, lead_w)];
    else if (c->rank < top)
        c->stage = chance(r, 500) ? "evangelist" : "customer";
    else
        c->stage = c->rank > g->n_buyers * 3 / 4 && chance(r, 300) ? "inactive" : "customer";
    size_t n_agents = crm_demo_users_n > 2 ? crm_demo_users_n - 2 : 1;
    if (c->company >= 0 || c->rank < top || chance(r, 80))
        c->owner = crm_demo_users[1 + below(r, n_agents)].email;
    if (!strcmp(c->stage, "subscriber") || chance(r, 400))
        add_tag(c, "newsletter");
    if (buyer && c->rank < top)
        add_tag(c, "vip");
    if (c->company >= 0)
        add_tag(c, "b2b");
    if (buyer && chance(r, 250))
        add_tag(c, "loyalty");
    if (chance(r, 150))
        add_tag(c, "promo");
    if (!strcmp(c->source, "fair"))
        add_tag(c, "salon");
}

static void build_clean(const crm_demo *g, int64_t index, crm_demo_contact *c)
{
    memset(c, 0, sizeof *c);
    rng r = stream(g->seed, S_CONTACT, (uint64_t)index);
    c->index = index;
    c->rank = (int64_t)crm_demo_perm_fwd(&g->rank, (uint64_t)index);
    c->company = -1;
    crm_demo_format_id(c->external_id, sizeof c->external_id, 'C', index, 7);
    uint64_t pairs = g->names.n, x = crm_demo_perm_fwd(&g->names, (uint64_t)index % pairs);
    sb b = sb_on(c->first_name, sizeof c->first_name);
    sb_puts(&b, crm_demo_first_names[x % crm_demo_first_names_n]);
    b = sb_on(c->last_name, sizeof c->last_name);
    sb_puts(&b, crm_demo_last_names[x / crm_demo_first_names_n]);
    const country_info *ci = pick_country(&r, false);
    if (chance(&r, 800))
        birth_date(g, &r, c->birth_date);
    crm_demo_company co = {0};
    bool b2b = g->n_companies > 0 && chance(&r, 220);
    if (b2b) {
        c->company = (int64_t)below(&r, (uint64_t)g->n_companies);
        crm_demo_make_company(g, c->company, &co);
        b = sb_on(c->company_name, sizeof c->company_name);
        sb_puts(&b, co.name);
    }
    if (b2b || chance(&r, 950))
        make_email(&r, c, (uint64_t)index / pairs,
                   b2b && chance(&r, 700) ? co.domain : personal_domain(&r, ci->code));
    if (chance(&r, b2b ? 950 : 800))
        mobile(&r, ci, crm_demo_perm_fwd(&g->phones, (uint64_t)index), c->phone,
               sizeof c->phone);
    if (chance(&r, 920)) {
        address a = {c->street, c->postal_code, c->city, c->country,
                     sizeof c->street, sizeof c->postal_code, sizeof c->city,
                     sizeof c->country};
        make_address(g, &r, ci, &a);
    } else {
        b = sb_on(c->country, sizeof c->country);
        sb_puts(&b, ci->code);
    }
    c->source = sources[weighted(&r, source_w)];
    classify(g, &r, c);
}

/* ---- dirty, invalid and duplicate rows ------------------------------------------------- */

/* Non-buyers only, so no order ever points at a refused contact. */
static crm_demo_kind kind_of(const crm_demo *g, int64_t index, int64_t rank)
{
    rng r = stream(g->seed, S_KIND, (uint64_t)index);
    uint64_t u = below(&r, 1000);
    if (rank >= g->n_buyers && index > 0) {
        if (u < 45)
            return CRM_DEMO_INVALID;
        if (u < 75)
            return CRM_DEMO_DUPLICATE;
    }
    return u >= 900 && u < 950 ? CRM_DEMO_DIRTY : CRM_DEMO_CLEAN;
}

static void put(char *dst, size_t cap, const char *s)
{
    sb b = sb_on(dst, cap);
    sb_puts(&b, s);
}

/* The phone as typed by a person: national or international, grouped in
 * pairs, with dots, dashes or spaces. */
static void messy_phone(rng *r, crm_demo_contact *c)
{
    const country_info *ci = country_of(c->country);
    char e164[40];
    put(e164, sizeof e164, c->phone);
    const char *nsn = e164 + 1 + strlen(ci->calling);
    static const char seps[] = " .- ";
    char sep = seps[below(r, 4)];
    size_t len = strlen(nsn);
    sb b = sb_on(c->phone, sizeof c->phone);
    switch (below(r, 4)) {
    case 0: sb_puts(&b, "+"); sb_puts(&b, ci->calling); sb_putc(&b, ' '); break;
    case 1: sb_puts(&b, "00"); sb_puts(&b, ci->calling); sb_putc(&b, ' '); break;
    case 2:
        sb_puts(&b, "+"); sb_puts(&b, ci->calling);
        sb_puts(&b, *ci->trunk ? " (0)" : " ");
        break;
    default: sb_puts(&b, ci->trunk); break;
    }
    for (size_t i = 0; i < len; i++) { /* pairs from the right: 6 12 34 56 78 */
        if (i && i % 2 == len % 2)
            sb_putc(&b, sep);
        sb_putc(&b, nsn[i]);
    }
}

static void messy_email(rng *r, crm_demo_contact *c)
{
    if (chance(r, 500)) {
        char tmp[128];
        put(tmp, sizeof tmp, c->email);
        sb b = sb_on(c->email, sizeof c->email);
        sb_puts(&b, "  ");
        sb_puts(&b, tmp);
        sb_putc(&b, ' ');
        return;
    }
    /* "Jean.Martin@Gmail.com" */
    for (char *p = c->email; *p; p++)
        if ((p == c->email || p[-1] == '.' || p[-1] == '@') && *p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
}

static void make_dirty(rng *r, crm_demo_contact *c)
{
    unsigned what = (unsigned)below(r, 5), extra = (unsigned)below(r, 5);
    /* One or two kinds of mess; never the same twice (it would garble it). */
    for (int pass = 0; pass < (extra == what ? 1 : 2); pass++, what = extra) {
        if (what == 0 || (what == 1 && !c->email[0]) || (what == 2 && !c->phone[0])) {
            bool upper = chance(r, 600);
            recase(c->first_name, upper);
            recase(c->last_name, upper);
        } else if (what == 1) {
            messy_email(r, c);
        } else if (what == 2) {
            messy_phone(r, c);
        } else if (what == 3) {
            const country_info *ci = country_of(c->country);
            if (chance(r, 500))
                put(c->country, sizeof c->country, ci->name);
            else
                recase(c->country, false);
        } else if (c->city[0]) {
            char tmp[64];
            put(tmp, sizeof tmp, c->city);
            sb b = sb_on(c->city, sizeof c->city);
            sb_puts(&b, " ");
            sb_puts(&b, tmp);
            sb_puts(&b, "  ");
        }
    }
}

/* "jean.martin@@gmail.com", "jean.martin at gmail.com", "jean.martin@gmail",
 * "jean martin@gmail.com". */
static void broken_email(rng *r, crm_demo_contact *c)
{
    char orig[128];
    put(orig, sizeof orig, c->email[0] ? c->email : "contact@exemple.fr");
    char *at = strchr(orig, '@');
    *at = '\0';
    const char *local = orig, *domain = at + 1;
    sb b = sb_on(c->email, sizeof c->email);
    unsigned k = (unsigned)below(r, 4);
    if (k == 3) {
        for (const char *p = local; *p; p++)
            sb_putc(&b, *p == '.' || *p == '_' ? ' ' : *p);
    } else {
        sb_puts(&b, local);
    }
    sb_puts(&b, k == 0 ? "@@" : k == 1 ? " at " : "@");
    if (k == 2)
        *strrchr(at + 1, '.') = '\0';
    sb_puts(&b, domain);
}

static void make_invalid(rng *r, crm_demo_contact *c)
{
    switch (below(r, 4)) {
    case 0:
        broken_email(r, c);
        break;
    case 1: /* "7500", "750012": impossible postal codes */
        put(c->country, sizeof c->country, "FR");
        if (!c->city[0])
            put(c->city, sizeof c->city, "Paris");
        put(c->postal_code, sizeof c->postal_code, chance(r, 500) ? "7500" : "750012");
        break;
    case 2: { /* cut short or mistyped: refused in every country */
        const country_info *ci = country_of(c->country);
        sb b = sb_on(c->phone, sizeof c->phone);
        sb_puts(&b, ci->trunk);
        sb_puts(&b, chance(r, 500) ? "6 12 3" : "6 12 AB 34 56");
        break;
    }
    default: {
        static const char *const dates[] = {"1985-02-30", "31/04/1990", "1979-13-01"};
        put(c->birth_date, sizeof c->birth_date, dates[below(r, 3)]);
        break;
    }
    }
}

/* Copies the email of a recent valid contact (the same person signing up
 * twice, or a shared family address): the kernel refuses it. */
static bool make_duplicate(const crm_demo *g, rng *r, crm_demo_contact *c)
{
    for (int64_t j = c->index - 1; j >= 0 && j >= c->index - 8; j--) {
        crm_demo_kind k = kind_of(g, j, (int64_t)crm_demo_perm_fwd(&g->rank, (uint64_t)j));
        if (k != CRM_DEMO_CLEAN && k != CRM_DEMO_DIRTY)
            continue;
        crm_demo_contact orig;
        build_clean(g, j, &orig);
        if (!orig.email[0])
            continue;
        put(c->email, sizeof c->email, orig.email);
        if (chance(r, 500)) {
            put(c->first_name, sizeof c->first_name, orig.first_name);
            put(c->last_name, sizeof c->last_name, orig.last_name);
        }
        if (chance(r, 400))
            messy_email(r, c);
        return true;
    }
    return false;
}

void crm_demo_make_contact(const crm_demo *g, int64_t index, crm_demo_contact *out)
{
    build_clean(g, index, out);
    out->kind = kind_of(g, index, out->rank);
    rng r = stream(g->seed, S_DIRT, (uint64_t)index);
    if (out->kind == CRM_DEMO_DIRTY)
        make_dirty(&r, out);
    else if (out->kind == CRM_DEMO_INVALID)
        make_invalid(&r, out);
    else if (out->kind == CRM_DEMO_DUPLICATE && !make_duplicate(g, &r, out))
        out->kind = CRM_DEMO_CLEAN;
}

/* ---- orders ------------------------------------------------------------------------ */

/* Buyer rank from a density ~ 1/(t + c)^2 on t in [0, 1): a few heavy
 * buyers (the best gets ~20x the average), a median around a quarter of it.
 * Inverse CDF with +,-,*,/ only, so it is exact everywhere. */
static int64_t buyer_rank(const crm_demo *g, rng *r)
{
    const double c = 0.05, k = 1.0 / c - 1.0 / (1.0 + c);
    double t = 1.0 / (1.0 / c - unit(r) * k) - c;
    int64_t rank = (int64_t)(t * (double)g->n_buyers);
    return rank < 0 ? 0 : rank >= g->n_buyers ? g->n_buyers - 1 : rank;
}

static void order_lines(const crm_demo *g, rng *r, int64_t rank, crm_demo_order *o)
{
    static const unsigned n_lines_w[] = {600, 250, 100, 35, 15, 0};
    static const unsigned qty_w[] = {750, 150, 50, 30, 20, 0};
    bool wholesale = rank < g->n_buyers / 200 + 1;
    o->n_lines = 1 + (int)weighted(r, n_lines_w);
    o->total = 0;
    for (int i = 0; i < o->n_lines; i++) {
        uint64_t a = below(r, crm_demo_products_n), b = below(r, crm_demo_products_n);
        const crm_demo_product *p = &crm_demo_products[a < b ? a : b];
        int64_t qty = 1 + (int64_t)weighted(r, qty_w);
        if (wholesale)
            qty *= 2 + (int64_t)below(r, 9);
        int64_t price = p->price;
        if (chance(r, 100))
            price = price * (chance(r, 500) ? 90 : 80) / 100; /* promotion */
        o->lines[i].sku = p->sku;
        o->lines[i].quantity = qty;
        o->lines[i].unit_price = price;
        o->total += qty * price;
    }
}

void crm_demo_make_order(const crm_demo *g, int64_t index, crm_demo_order *o)
{
    memset(o, 0, sizeof *o);
    rng r = stream(g->seed, S_ORDER, (uint64_t)index);
    o->index = index;
    crm_demo_format_id(o->external_id, sizeof o->external_id, 'O', index, 8);
    int64_t rank = buyer_rank(g, &r);
    o->contact = (int64_t)crm_demo_perm_inv(&g->rank, (uint64_t)rank);
    /* Two years of history, busier lately (the shop grows). */
    uint64_t day = below(&r, 730);
    if (chance(&r, 300))
        day = below(&r, day + 1);
    int64_t today = floor_div(g->now, DAY) * DAY;
    o->placed_at = today - (int64_t)day * DAY + 7 * 3600 + (int64_t)below(&r, 16 * 3600);
    if (o->placed_at > g->now)
        o->placed_at -= DAY;
    order_lines(g, &r, rank, o);
    uint64_t u = below(&r, 1000);
    if (g->now - o->placed_at < 3 * DAY && u < 600)
        o->status = "placed";
    else
        o->status = u < 880 ? "paid" : u < 940 ? "cancelled" : "refunded";
}

/* ---- interactions -------------------------------------------------------------------- */

typedef struct itemplate {
    const char *channel, *direction, *subject, *body;
    bool authored;
    unsigned weight;
} itemplate;

static const itemplate itemplates[] = {
    {"email", "out", "Newsletter : les nouveautés de la saison",
     "Campagne newsletter, ouverte.", false, 140},
    {"email", "out", "Soldes d'hiver : -30 % sur le linge de maison",
     "Campagne promotionnelle, cliquée.", false, 70},
    {"email", "in", "Question sur ma commande",
     "Bonjour,\nJe n'ai pas encore reçu ma commande, pouvez-vous me dire où elle en est ?\n"
     "Merci", false, 50},
    {"email", "in", "Demande de facture", "Bonjour, pourriez-vous m'envoyer la facture "
     "\"au nom de la société\" ? Cordialement", false, 25},
    {"email", "out", "Réponse : suivi de livraison",
     "Colis remis au transporteur, livraison prévue sous 48 h.", true, 40},
    {"phone", "in", "Appel : suivi de livraison", "Client rassuré, colis en point relais.",
     true, 45},
    {"phone", "out", "Relance devis", "Devis envoyé le mois dernier, rappeler jeudi.", true,
     35},
    {"note", "none", "Préférences", "Préfère être contacté par email, pas de SMS.", true, 30},
    {"note", "none", "Client satisfait",
     "Très satisfait du \"Plaid en laine\", souhaite un devis pour 20 pièces, livraison "
     "groupée.", true, 20},
    {"sms", "out", "Votre colis est en route", "Suivi : https://suivi.example.fr/colis", false,
     40},
    {"meeting", "none", "Rendez-vous showroom", "Présentation de la collection printemps.",
     true, 10},
    {"web", "in", "Visite : page produit", "/produits/plaid-en-laine", false, 160},
    {"web", "in", "Visite : panier abandonné", "/panier", false, 60},
    {"web", "in", "Visite : page retours", "/aide/retours (returns page)", false, 40},
    {"web", "in", "Visite : page résiliation",
     "/compte/resiliation (cancellation page)", false, 20},
};

int crm_demo_interactions(const crm_demo *g, const crm_demo_contact *c,
                          crm_demo_interaction out[CRM_DEMO_MAX_INTERACTIONS])
{
    if (c->kind == CRM_DEMO_INVALID || c->kind == CRM_DEMO_DUPLICATE)
        return 0;
    rng r = stream(g->seed, S_INTERACTION, (uint64_t)c->index);
    int64_t n = (int64_t)below(&r, 3);
    if (c->rank < g->n_buyers)
        n += 1 + (int64_t)below(&r, c->rank < g->n_buyers / 10 ? 7 : 3);
    if (c->company >= 0)
        n += (int64_t)below(&r, 3);
    if (n > CRM_DEMO_MAX_INTERACTIONS)
        n = CRM_DEMO_MAX_INTERACTIONS;
    unsigned w[COUNT(itemplates) + 1] = {0};
    for (size_t i = 0; i < COUNT(itemplates); i++)
        w[i] = itemplates[i].weight;
    for (int64_t i = 0; i < n; i++) {
        const itemplate *t = &itemplates[weighted(&r, w)];
        crm_demo_interaction *it = &out[i];
        it->channel = t->channel;
        it->direction = t->direction;
        put(it->subject, sizeof it->subject, t->subject);
        put(it->body, sizeof it->body, t->body);
        it->occurred_at = recent_moment(g, &r, 730);
        it->author = !t->authored ? NULL
                     : c->owner   ? c->owner
                                  : crm_demo_users[1 + below(&r, crm_demo_users_n - 2)].email;
    }
    return (int)n;
}

/* ---- consents --------------------------------------------------------------------------- */

int crm_demo_consents(const crm_demo *g, const crm_demo_contact *c,
                      crm_demo_consent out[CRM_DEMO_MAX_CONSENTS])
{
    if (c->kind == CRM_DEMO_INVALID || c->kind == CRM_DEMO_DUPLICATE)
        return 0;
    rng r = stream(g->seed, S_CONSENT, (uint64_t)c->index);
    static const struct {
        const char *source, *where;
    } where[] = {{"web", "web form"}, {"shop", "shop"}, {"fair", "trade fair"},
                 {"referral", "web form"}, {"import", "import"}};
    const char *src = "web form";
    for (size_t i = 0; i < COUNT(where); i++)
        if (!strcmp(c->source, where[i].source))
            src = where[i].where;
    int n = 0;
    bool newsletter = false;
    for (int i = 0; i < c->n_tags; i++)
        newsletter |= !strcmp(c->tags[i], "newsletter");
    if (newsletter && c->email[0]) {
        int64_t at = recent_moment(g, &r, 700);
        out[n++] = (crm_demo_consent){"email", "newsletter", "granted", src, at};
        if (chance(&r, 120))
            out[n++] = (crm_demo_consent){"email", "newsletter", "withdrawn", "unsubscribe link",
                                          at + (int64_t)below(&r, (uint64_t)(g->now - at) + 1)};
    }
    if (c->phone[0] && chance(&r, 250))
        out[n++] = (crm_demo_consent){"sms", "marketing", "granted", src,
                                      recent_moment(g, &r, 700)};
    if (c->email[0] && chance(&r, 300))
        out[n++] = (crm_demo_consent){"email", "profiling",
                                      chance(&r, 800) ? "granted" : "withdrawn", src,
                                      recent_moment(g, &r, 700)};
    return n;
}

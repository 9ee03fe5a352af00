/* Public holidays as data: one row per holiday and country, one policy per
 * country for holidays falling on a weekend, one row per one-off day.
 *
 * Which days each country has (national or common days only; regional ones
 * go in a calendar's `extra:`):
 *   FR  the 11 jours fériés of the Code du travail (Alsace-Moselle's Good
 *       Friday and 26 December are regional)
 *   DE  the 9 nationwide Feiertage (Länder add their own)
 *   GB  the bank holidays of England and Wales, with substitute days
 *   ES  the fiestas nacionales (a region may move a Sunday one to Monday or
 *       swap some: not applied)
 *   IT  the festività nazionali, with San Francesco (4 October) from 2026
 *   BE  the 10 legal holidays (a replacement day for one on a Sunday is
 *       chosen per employer: not applied)
 *   CH  1 August (the only federal day) and the days kept by most cantons:
 *       New Year, Good Friday, Easter Monday, Ascension, Whit Monday,
 *       Christmas and St Stephen's Day
 *   US  the 11 federal holidays, with their observed days (a Saturday one on
 *       the Friday before, a Sunday one on the Monday after) */
#include "holidays.h"

#include <string.h>

#include "civil.h"

enum { MON, TUE, WED, THU, FRI, SAT, SUN };
enum { LAST = -1 };

typedef enum rule_kind {
    FIXED,   /* month/day */
    EASTER,  /* offset days from Easter Sunday */
    WEEKDAY  /* the n-th (LAST = last) `weekday` of `month` */
} rule_kind;

typedef struct rule {
    const char *country;
    rule_kind kind;
    int month, day;      /* FIXED: the date; EASTER: day = offset; WEEKDAY: day = n */
    int weekday;         /* WEEKDAY */
    const char *name;
    const char *moved;   /* name of the day it moves to off a weekend; NULL: it does not */
    int since, until;    /* years in force; 0 = open */
} rule;

#define GB_SUB(n) .name = n, .moved = n " (substitute day)"
#define US_OBS(n) .name = n, .moved = n " (observed)"

static const rule rules[] = {
    {"FR", FIXED, 1, 1, .name = "New Year's Day"},
    {"FR", EASTER, 0, 1, .name = "Easter Monday"},
    {"FR", FIXED, 5, 1, .name = "Labour Day"},
    {"FR", FIXED, 5, 8, .name = "Victory in Europe Day", .since = 1982},
    {"FR", EASTER, 0, 39, .name = "Ascension Day"},
    {"FR", EASTER, 0, 50, .name = "Whit Monday"},
    {"FR", FIXED, 7, 14, .name = "Bastille Day"},
    {"FR", FIXED, 8, 15, .name = "Assumption Day"},
    {"FR", FIXED, 11, 1, .name = "All Saints' Day"},
    {"FR", FIXED, 11, 11, .name = "Armistice Day"},
    {"FR", FIXED, 12, 25, .name = "Christmas Day"},

    {"DE", FIXED, 1, 1, .name = "New Year's Day"},
    {"DE", EASTER, 0, -2, .name = "Good Friday"},
    {"DE", EASTER, 0, 1, .name = "Easter Monday"},
    {"DE", FIXED, 5, 1, .name = "Labour Day"},
    {"DE", EASTER, 0, 39, .name = "Ascension Day"},
    {"DE", EASTER, 0, 50, .name = "Whit Monday"},
    {"DE", FIXED, 10, 3, .name = "German Unity Day", .since = 1990},
    {"DE", FIXED, 12, 25, .name = "Christmas Day"},
    {"DE", FIXED, 12, 26, .name = "Second Day of Christmas"},

    {"GB", FIXED, 1, 1, GB_SUB("New Year's Day"), .since = 1974},
    {"GB", EASTER, 0, -2, .name = "Good Friday"},
    {"GB", EASTER, 0, 1, .name = "Easter Monday"},
    {"GB", WEEKDAY, 5, 1, MON, .name = "Early May bank holiday", .since = 1978},
    {"GB", WEEKDAY, 5, LAST, MON, .name = "Spring bank holiday", .since = 1971},
    {"GB", WEEKDAY, 8, LAST, MON, .name = "Summer bank holiday", .since = 1971},
    {"GB", FIXED, 12, 25, GB_SUB("Christmas Day")},
    {"GB", FIXED, 12, 26, GB_SUB("Boxing Day")},

    {"ES", FIXED, 1, 1, .name = "New Year's Day"},
    {"ES", FIXED, 1, 6, .name = "Epiphany"},
    {"ES", EASTER, 0, -2, .name = "Good Friday"},
    {"ES", FIXED, 5, 1, .name = "Labour Day"},
    {"ES", FIXED, 8, 15, .name = "Assumption Day"},
    {"ES", FIXED, 10, 12, .name = "National Day of Spain"},
    {"ES", FIXED, 11, 1, .name = "All Saints' Day"},
    {"ES", FIXED, 12, 6, .name = "Constitution Day", .since = 1979},
    {"ES", FIXED, 12, 8, .name = "Immaculate Conception"},
    {"ES", FIXED, 12, 25, .name = "Christmas Day"},

    {"IT", FIXED, 1, 1, .name = "New Year's Day"},
    {"IT", FIXED, 1, 6, .name = "Epiphany"},
    {"IT", EASTER, 0, 0, .name = "Easter Sunday"},
    {"IT", EASTER, 0, 1, .name = "Easter Monday"},
    {"IT", FIXED, 4, 25, .name = "Liberation Day", .since = 1946},
    {"IT", FIXED, 5, 1, .name = "Labour Day"},
    {"IT", FIXED, 6, 2, .name = "Republic Day", .since = 2001},
    {"IT", FIXED, 8, 15, .name = "Assumption Day"},
    {"IT", FIXED, 10, 4, .name = "St Francis of Assisi", .since = 2026},
    {"IT", FIXED, 11, 1, .name = "All Saints' Day"},
    {"IT", FIXED, 12, 8, .name = "Immaculate Conception"},
    {"IT", FIXED, 12, 25, .name = "Christmas Day"},
    {"IT", FIXED, 12, 26, .name = "St Stephen's Day"},

    {"BE", FIXED, 1, 1, .name = "New Year's Day"},
    {"BE", EASTER, 0, 1, .name = "Easter Monday"},
    {"BE", FIXED, 5, 1, .name = "Labour Day"},
    {"BE", EASTER, 0, 39, .name = "Ascension Day"},
    {"BE", EASTER, 0, 50, .name = "Whit Monday"},
    {"BE", FIXED, 7, 21, .name = "Belgian National Day"},
    {"BE", FIXED, 8, 15, .name = "Assumption Day"},
    {"BE", FIXED, 11, 1, .name = "All Saints' Day"},
    {"BE", FIXED, 11, 11, .name = "Armistice Day"},
    {"BE", FIXED, 12, 25, .name = "Christmas Day"},

    {"CH", FIXED, 1, 1, .name = "New Year's Day"},
    {"CH", EASTER, 0, -2, .name = "Good Friday"},
    {"CH", EASTER, 0, 1, .name = "Easter Monday"},
    {"CH", EASTER, 0, 39, .name = "Ascension Day"},
    {"CH", EASTER, 0, 50, .name = "Whit Monday"},
    {"CH", FIXED, 8, 1, .name = "Swiss National Day"},
    {"CH", FIXED, 12, 25, .name = "Christmas Day"},
    {"CH", FIXED, 12, 26, .name = "St Stephen's Day"},

    {"US", FIXED, 1, 1, US_OBS("New Year's Day")},
    {"US", WEEKDAY, 1, 3, MON, .name = "Martin Luther King Jr. Day", .since = 1986},
    {"US", WEEKDAY, 2, 3, MON, .name = "Washington's Birthday", .since = 1971},
    {"US", WEEKDAY, 5, LAST, MON, .name = "Memorial Day", .since = 1971},
    {"US", FIXED, 6, 19, US_OBS("Juneteenth National Independence Day"), .since = 2021},
    {"US", FIXED, 7, 4, US_OBS("Independence Day")},
    {"US", WEEKDAY, 9, 1, MON, .name = "Labor Day"},
    {"US", WEEKDAY, 10, 2, MON, .name = "Columbus Day", .since = 1971},
    {"US", FIXED, 11, 11, US_OBS("Veterans Day"), .since = 1978},
    {"US", WEEKDAY, 11, 4, THU, .name = "Thanksgiving Day", .since = 1942},
    {"US", FIXED, 12, 25, US_OBS("Christmas Day")},
};

/* Days decreed for one year; `replaces` names the usual day it displaces. */
typedef struct one_off {
    const char *country;
    int year, month, day;
    const char *name, *replaces;
} one_off;

static const one_off one_offs[] = {
    {"GB", 2002, 6, 3, "Golden Jubilee bank holiday", NULL},
    {"GB", 2002, 6, 4, "Spring bank holiday", "Spring bank holiday"},
    {"GB", 2011, 4, 29, "Royal Wedding bank holiday", NULL},
    {"GB", 2012, 6, 4, "Spring bank holiday", "Spring bank holiday"},
    {"GB", 2012, 6, 5, "Diamond Jubilee bank holiday", NULL},
    {"GB", 2020, 5, 8, "Early May bank holiday (VE Day)", "Early May bank holiday"},
    {"GB", 2022, 6, 2, "Spring bank holiday", "Spring bank holiday"},
    {"GB", 2022, 6, 3, "Platinum Jubilee bank holiday", NULL},
    {"GB", 2022, 9, 19, "State Funeral of Queen Elizabeth II", NULL},
    {"GB", 2023, 5, 8, "Coronation of King Charles III", NULL},
    {"DE", 2017, 10, 31, "Reformation Day (500th anniversary)", NULL},
};

typedef enum move_policy {
    MOVE_NONE,
    MOVE_US, /* Saturday -> Friday before, Sunday -> Monday after */
    MOVE_GB  /* Saturday or Sunday -> the next weekday that is no holiday */
} move_policy;

static const struct {
    const char *code;
    move_policy move;
} countries[] = {
    {"BE", MOVE_NONE}, {"CH", MOVE_NONE}, {"DE", MOVE_NONE}, {"ES", MOVE_NONE},
    {"FR", MOVE_NONE}, {"GB", MOVE_GB},   {"IT", MOVE_NONE}, {"US", MOVE_US},
};
#define N_COUNTRIES (sizeof countries / sizeof countries[0])
#define N_RULES (sizeof rules / sizeof rules[0])
#define N_ONE_OFFS (sizeof one_offs / sizeof one_offs[0])

static int country_index(const char *code)
{
    for (size_t i = 0; code && i < N_COUNTRIES; i++)
        if (strcmp(countries[i].code, code) == 0)
            return (int)i;
    return -1;
}

bool crm_holidays_known(const char *country)
{
    return country_index(country) >= 0;
}

const char *crm_holidays_countries(void)
{
    return "BE, CH, DE, ES, FR, GB, IT, US";
}

void crm_easter(int year, int *month, int *day)
{
    /* The anonymous Gregorian algorithm (Meeus, Astronomical Algorithms). */
    int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    *month = (h + l - 7 * m + 114) / 31;
    *day = (h + l - 7 * m + 114) % 31 + 1;
}

/* ---- one year, before weekend moves -------------------------------------- */

typedef struct entry {
    int64_t day;
    const rule *rule; /* NULL for a one-off */
    const char *name;
} entry;

typedef struct list {
    entry e[3 * CRM_HOLIDAYS_MAX];
    size_t n;
} list;

static void add(list *l, int64_t day, const rule *r, const char *name)
{
    if (l->n < sizeof l->e / sizeof l->e[0])
        l->e[l->n++] = (entry){day, r, name};
}

static int64_t weekday_in_month(int year, int month, int n, int weekday)
{
    int64_t first = crm_civil_days(year, month, 1);
    if (n == LAST) {
        int64_t last = first + crm_month_days(year, month) - 1;
        return last - (crm_civil_weekday(last) - weekday + 7) % 7;
    }
    return first + (weekday - crm_civil_weekday(first) + 7) % 7 + 7 * (n - 1);
}

static int64_t rule_day(const rule *r, int year)
{
    int m, d;
    switch (r->kind) {
    case FIXED:
        return crm_civil_days(year, r->month, r->day);
    case EASTER:
        crm_easter(year, &m, &d);
        return crm_civil_days(year, m, d) + r->day;
    default:
        return weekday_in_month(year, r->month, r->day, r->weekday);
    }
}

static bool replaced(const char *country, int year, const char *name)
{
    for (size_t i = 0; i < N_ONE_OFFS; i++)
        if (one_offs[i].year == year && one_offs[i].replaces &&
            strcmp(one_offs[i].country, country) == 0 && strcmp(one_offs[i].replaces, name) == 0)
            return true;
    return false;
}

static void year_days(const char *country, int year, list *l)
{
    for (size_t i = 0; i < N_RULES; i++) {
        const rule *r = &rules[i];
        if (strcmp(r->country, country) != 0 || (r->since && year < r->since) ||
            (r->until && year > r->until) || replaced(country, year, r->name))
            continue;
        add(l, rule_day(r, year), r, r->name);
    }
    for (size_t i = 0; i < N_ONE_OFFS; i++)
        if (one_offs[i].year == year && strcmp(one_offs[i].country, country) == 0)
            add(l, crm_civil_days(year, one_offs[i].month, one_offs[i].day), NULL,
                one_offs[i].name);
}

static void sort(list *l)
{
    for (size_t i = 1; i < l->n; i++) /* stable: table order breaks ties */
        for (size_t j = i; j > 0 && l->e[j - 1].day > l->e[j].day; j--) {
            entry t = l->e[j];
            l->e[j] = l->e[j - 1];
            l->e[j - 1] = t;
        }
}

/* ---- weekend moves ------------------------------------------------------- */

static bool taken(const list *l, int64_t day)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].day == day)
            return true;
    return false;
}

/* Adds the observed or substitute days of weekend holidays. The list spans
 * three years, so a Saturday 1 January is observed on 31 December. */
static void add_moves(list *l, move_policy policy)
{
    size_t n = l->n;
    for (size_t i = 0; i < n; i++) {
        const entry e = l->e[i];
        int wd = crm_civil_weekday(e.day);
        if (!e.rule || !e.rule->moved || wd < SAT)
            continue;
        int64_t to = e.day;
        if (policy == MOVE_US)
            to += wd == SAT ? -1 : 1;
        else
            do
                to++;
            while (crm_civil_weekday(to) >= SAT || taken(l, to));
        add(l, to, NULL, e.rule->moved);
    }
}

size_t crm_holidays_year(const char *country, int year, crm_holiday out[CRM_HOLIDAYS_MAX])
{
    int c = country_index(country);
    if (c < 0)
        return 0;
    list l = {.n = 0};
    for (int y = year - 1; y <= year + 1; y++)
        year_days(countries[c].code, y, &l);
    sort(&l);
    if (countries[c].move != MOVE_NONE)
        add_moves(&l, countries[c].move);
    sort(&l);
    int64_t first = crm_civil_days(year, 1, 1), next = crm_civil_days(year + 1, 1, 1);
    size_t n = 0;
    for (size_t i = 0; i < l.n && n < CRM_HOLIDAYS_MAX; i++)
        if (l.e[i].day >= first && l.e[i].day < next)
            out[n++] = (crm_holiday){l.e[i].day, l.e[i].name};
    return n;
}

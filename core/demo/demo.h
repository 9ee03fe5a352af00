/* `crm demo`: a seeded, realistic data set (contacts, companies, orders,
 * interactions, consents, agents) written either through the kernel's model
 * (crm_demo_store) or as CSV files in the import format (crm_demo_write_csv).
 *
 * Every record is a pure function of (seed, now, sizes, its index): it is
 * generated on demand into fixed-size buffers, never kept, so memory stays
 * flat whatever the size and any record can be regenerated (a duplicate row
 * re-derives the email it copies, an order derives its buyer). The PRNG is
 * self-contained and only integer and IEEE +,-,*,/ arithmetic is used, so
 * the same seed and --as-of give the same bytes on every platform. */
#ifndef CRM_CORE_DEMO_H
#define CRM_CORE_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "kernel.h"

/* ---- data tables (names.c) --------------------------------------------- */

typedef struct crm_demo_city {
    const char *country;  /* ISO alpha-2 */
    const char *city;
    int code;             /* first postal code (numeric countries) */
    int n_codes;          /* codes code, code+step, ... (>= 1) */
    int step;
    const char *gb_out;   /* GB: space-separated outward codes, else NULL */
    int weight;           /* roughly the population, in thousands */
} crm_demo_city;

typedef struct crm_demo_product {
    const char *sku;
    const char *name;
    int64_t price;        /* EUR cents */
} crm_demo_product;

typedef struct crm_demo_user {
    const char *name;
    const char *email;
    const char *role;
} crm_demo_user;

/* A table and its length. */
#define CRM_DEMO_TABLE(type, name) \
    extern const type name[];      \
    extern const size_t name##_n

CRM_DEMO_TABLE(char *const, crm_demo_first_names);
CRM_DEMO_TABLE(char *const, crm_demo_last_names);
CRM_DEMO_TABLE(crm_demo_city, crm_demo_cities);
CRM_DEMO_TABLE(crm_demo_product, crm_demo_products);  /* sorted by price */
CRM_DEMO_TABLE(crm_demo_user, crm_demo_users);
CRM_DEMO_TABLE(char *const, crm_demo_company_cores);  /* family or place names */

/* Street name patterns per country ("rue de la République"); looked up by
 * country, NULL-terminated. */
const char *const *crm_demo_streets(const char *country);
/* Trade words of a language ("Boulangerie") by trade index; n in *n. */
const char *const *crm_demo_trades(const char *lang, size_t *n);

/* ---- the generator (generate.c) --------------------------------------------- */

/* A bijection of [0, n) keyed by the seed (cycle-walking over a power of two). */
typedef struct crm_demo_perm {
    uint64_t n, mask, key[3], mul[3], inv[3];
    int shift;
} crm_demo_perm;

#define CRM_DEMO_MAX_CITIES 512

typedef struct crm_demo {
    uint64_t seed;
    int64_t n_contacts, n_orders, n_companies, n_buyers;
    int64_t now;                   /* the clock: k->now, or the --as-of / wall clock */
    crm_demo_perm rank;            /* contact index -> buyer rank (0 = best customer) */
    crm_demo_perm names;           /* contact index -> (first, last) name pair */
    crm_demo_perm phones;          /* contact index -> unique 7-digit subscriber part */
    crm_demo_perm trades;          /* company index -> (trade, core) pair */
    uint32_t city_cum[CRM_DEMO_MAX_CITIES];  /* cumulative city weights */
    size_t n_cities;
} crm_demo;

typedef enum crm_demo_kind {
    CRM_DEMO_CLEAN,      /* stored as generated */
    CRM_DEMO_DIRTY,      /* case, spacing, phone format: the kernel normalises it */
    CRM_DEMO_INVALID,    /* bad email, postal code, phone or date: refused */
    CRM_DEMO_DUPLICATE   /* the email of an earlier contact: refused */
} crm_demo_kind;

#define CRM_DEMO_MAX_TAGS 6

typedef struct crm_demo_contact {
    int64_t index;                 /* 0-based; external id C<index+1> */
    int64_t rank;                  /* < n_buyers: buys; lower buys more */
    int64_t company;               /* company index, -1 when none */
    crm_demo_kind kind;
    char external_id[16];
    char first_name[64], last_name[64], email[128], phone[40];
    char company_name[128], street[128], postal_code[16], city[64], country[16];
    char birth_date[16];
    const char *source, *stage, *owner;  /* owner: an agent's email or NULL */
    const char *tags[CRM_DEMO_MAX_TAGS];
    int n_tags;
} crm_demo_contact;

typedef struct crm_demo_company {
    int64_t index;
    char external_id[16], name[128], domain[96], phone[40];
    char street[128], postal_code[16], city[64], country[4];
} crm_demo_company;

#define CRM_DEMO_MAX_LINES 5

typedef struct crm_demo_order {
    int64_t index;
    int64_t contact;               /* contact index */
    char external_id[16];
    int64_t placed_at, total;      /* total: EUR cents, the sum of the lines */
    const char *status;
    struct {
        const char *sku;
        int64_t quantity, unit_price;
    } lines[CRM_DEMO_MAX_LINES];
    int n_lines;
} crm_demo_order;

#define CRM_DEMO_MAX_INTERACTIONS 12

typedef struct crm_demo_interaction {
    const char *channel, *direction, *author;
    char subject[128], body[256];
    int64_t occurred_at;
} crm_demo_interaction;

#define CRM_DEMO_MAX_CONSENTS 4

typedef struct crm_demo_consent {
    const char *channel, *purpose, *status, *source;
    int64_t recorded_at;
} crm_demo_consent;

/* Prepares a generator for the sizes, seed and clock (no allocation). About
 * 15% as many companies as contacts; 65% of the contacts buy. */
void crm_demo_init(crm_demo *g, uint64_t seed, int64_t n_contacts, int64_t n_orders,
                   int64_t now);

void crm_demo_make_company(const crm_demo *g, int64_t index, crm_demo_company *out);
void crm_demo_make_contact(const crm_demo *g, int64_t index, crm_demo_contact *out);
void crm_demo_make_order(const crm_demo *g, int64_t index, crm_demo_order *out);
/* The interactions / consents of contact c (none for refused kinds); returns
 * how many were written to out. */
int crm_demo_interactions(const crm_demo *g, const crm_demo_contact *c,
                          crm_demo_interaction out[CRM_DEMO_MAX_INTERACTIONS]);
int crm_demo_consents(const crm_demo *g, const crm_demo_contact *c,
                      crm_demo_consent out[CRM_DEMO_MAX_CONSENTS]);

/* Bijection helpers (exposed for tests). */
void crm_demo_perm_init(crm_demo_perm *p, uint64_t n, uint64_t seed);
uint64_t crm_demo_perm_fwd(const crm_demo_perm *p, uint64_t x);
uint64_t crm_demo_perm_inv(const crm_demo_perm *p, uint64_t y);

/* External ids: prefix and index + 1, zero-padded to width ("C0000001"). */
void crm_demo_format_id(char *buf, size_t cap, char prefix, int64_t index, int width);

/* Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" (date_only: "YYYY-MM-DD")
 * into buf (>= 21 bytes); returns the length. */
size_t crm_demo_format_time(int64_t t, bool date_only, char *buf);

/* ---- outputs ---------------------------------------------------------------- */

/* Counts of a run, for the summary. */
#define CRM_DEMO_MAX_REASONS 16

typedef struct crm_demo_stats {
    int64_t contacts, normalised, refused, companies, users, products;
    int64_t orders, orders_skipped, revenue, interactions, consents;
    int64_t order_lines;           /* CSV only */
    int64_t carts, carts_abandoned, carts_recovered;  /* database only */
    struct {
        char reason[48];
        int64_t count;
    } reasons[CRM_DEMO_MAX_REASONS];
    int n_reasons;
    double seconds;
} crm_demo_stats;

/* Writes companies.csv, contacts.csv, interactions.csv, orders.csv and
 * order_lines.csv into dir (created when missing) in the import format.
 * Streams: memory does not grow with the sizes. CRM_EIO with the path. */
int crm_demo_write_csv(const crm_demo *g, const char *dir, crm_demo_stats *st, crm_err *err);

/* Stores the data set through the model (crm_user_add, crm_product_upsert,
 * crm_company_add, crm_contact_add, crm_interaction_log, crm_consent_record,
 * crm_order_add) in transactions of `batch` records. Refused records are
 * counted by reason in st; any other failure stops and is returned. */
int crm_demo_store(crm_kernel *k, const crm_demo *g, int batch, crm_demo_stats *st,
                   crm_err *err);

/* Shop visits on the stored data (carts.c): carts of one contact in 25 with
 * an email, through crm_track_apply_json; the worker run at g->now (carts
 * abandoned, journeys stepping); one abandoned cart in four bought by an
 * order naming it, then the worker again. Each step commits on its own. */
int crm_demo_store_carts(crm_kernel *k, const crm_demo *g, crm_demo_stats *st, crm_err *err);

#endif

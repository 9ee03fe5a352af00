/* Text tables for the CLI's human output, and money in major units.
 *
 * Columns are sized by display width, not bytes: an accented letter takes
 * one column, a CJK ideograph two (utf8proc's charwidth), so `Élodie` and
 * `日本` line up with `Jean`. A cell wider than its column's limit is cut on
 * a character boundary and ends with `…`. Private to core/cli. */
#ifndef CRM_CORE_CLI_TABLE_H
#define CRM_CORE_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct crm_table_col {
    const char *title;  /* header text ("EMAIL") */
    int max;            /* widest a cell may be, in display columns; 0 = no limit */
    bool right;         /* right-aligned: counts and amounts */
} crm_table_col;

typedef struct crm_table crm_table;

/* Rows held back to size the columns before the first line is printed; later
 * rows reuse those widths (cut with … when wider), so a list of any length
 * streams in bounded memory. */
#define CRM_TABLE_HOLD 1000

#define CRM_TABLE_MAX_COLS 32

/* A table of n columns (1 to CRM_TABLE_MAX_COLS; cols is borrowed for the
 * table's life) printing to out. NULL when out of memory or n is out of range. */
crm_table *crm_table_new(FILE *out, const crm_table_col *cols, int n);

/* Adds a row of n cells (NULL or "" prints "-"); copies them. CRM_OK or
 * CRM_ENOMEM. */
int crm_table_row(crm_table *t, const char *const *cells);

/* Prints the header (when nothing was printed yet) and the held rows, then
 * frees t. NULL is fine. `header_if_empty`: print the header of a table that
 * got no row. */
void crm_table_end(crm_table *t, bool header_if_empty);

/* Display width of UTF-8 text in terminal columns (invalid bytes count one). */
size_t crm_text_width(const char *s);

/* Copies s into out (size bytes) cut to at most max display columns, ending
 * with … when cut (max 0 = no cut); control characters become spaces.
 * Returns the width of what was written. */
size_t crm_text_fit(const char *s, size_t max, char *out, size_t size);

/* Money in major units with its currency, the decimals from the kernel's
 * currency table and thousands grouped by a space: 4990 EUR -> "49.90 EUR",
 * 1500 JPY -> "1 500 JPY", 1500 KWD -> "1.500 KWD". NULL currency: the
 * amount alone with 2 decimals. */
void crm_cli_money(int64_t minor, const char *currency, char *buf, size_t size);

#endif

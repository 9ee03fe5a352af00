/* Shared helpers for the cmocka unit tests. */
#ifndef CRM_TESTUTIL_H
#define CRM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); the caller
 * frees the string and may remove the directory with crm_test_rmdir. */
char *crm_test_tmpdir(void);

/* Removes a directory tree made by crm_test_tmpdir. */
void crm_test_rmdir(const char *dir);

/* Writes `text` to dir/name and returns the malloc'd full path. */
char *crm_test_write_file(const char *dir, const char *name, const char *text);

#endif

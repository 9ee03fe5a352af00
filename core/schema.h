/* The kernel's schema migrations (owner "kernel"). */
#ifndef CRM_CORE_SCHEMA_H
#define CRM_CORE_SCHEMA_H

#include <stddef.h>

#include "store.h"

/* The kernel's migrations in version order; *n receives their count. */
const crm_migration *crm_schema_kernel(size_t *n);

#endif

/* Personal data (GDPR articles 15, 17, 20): what each plugin declares it
 * keeps about a contact, and the kernel's export and erasure that reach the
 * kernel's records and every plugin's. */
#ifndef CRM_CORE_PRIVACY_PRIVACY_H
#define CRM_CORE_PRIVACY_PRIVACY_H

#include <jansson.h>
#include <stdint.h>

#include "kernel.h"
#include "plugin/internal.h"

typedef struct plug_privacy_table {
    char *table;
    char *column;
} plug_privacy_table;

/* A plugin's declarations (crm_plugin_ctx.privacy). */
typedef struct plug_privacy {
    plug_privacy_table *tables;
    size_t n_tables;
    bool callbacks;
    crm_personal_export_fn export_fn;
    crm_personal_erase_fn erase_fn;
    void *ud;
} plug_privacy;

/* The SDK entries (declare_personal_data, declare_personal_callbacks). */
int crm_privacy_declare_table(crm_plugin_ctx *p, const char *table, const char *column);
int crm_privacy_declare_callbacks(crm_plugin_ctx *p, crm_personal_export_fn export_fn,
                                  crm_personal_erase_fn erase_fn, void *ud);

/* Frees p's declarations (NULL is fine). */
void crm_privacy_plugin_free(crm_plugin_ctx *p);

/* After p's migrations: refuses (CRM_EPLUGIN naming the plugin, its file and
 * the table) a <plugin>_* table with a contact_id column that p left
 * undeclared, and a declared table or column that does not exist. */
int crm_privacy_check_plugin(crm_plugin_ctx *p, crm_err *err);

/* Everything held about contact_id as one JSON object (*out owned by the
 * caller): the contact, consents with their history, interactions, orders,
 * tasks, contact_history, merges, the events naming the person, the
 * erasures recorded, and "plugins": {NAME: part} for each plugin that
 * declared personal data. Reads only. CRM_ENOTFOUND when no such contact. */
int crm_privacy_export(crm_kernel *k, int64_t contact_id, json_t **out, crm_err *err);

/* Erases contact_id everywhere in one transaction (secure_delete on, the WAL
 * checkpointed after commit so freed pages leave the file): each plugin's
 * declared rows and erase callback, tasks, interactions, consents, tags,
 * custom values, contact_history, merge snapshots and timers whose payload
 * names the person; personal fields are
 * removed from the payloads of events naming the person (and the person's
 * name, email and phone from any payload text). Orders are kept for
 * accounting: the contact row then stays as an empty, anonymous shell (id
 * only) so they keep their customer reference; without orders it is
 * deleted. Writes an erasure record (who: $CRM_USER or the login name,
 * when: k->now, why: reason, kept: what was kept) and emits contact.erased
 * {contact_id, erasure_id}. *record (may be NULL) gets the record as JSON.
 * A contact erased before is refused (CRM_EINVAL naming the erasure). */
int crm_privacy_erase(crm_kernel *k, int64_t contact_id, const char *reason, json_t **record,
                      crm_err *err);

#endif

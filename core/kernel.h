/* The kernel: configuration, store, clock and the services built on them.
 * One crm_kernel per process (per command). */
#ifndef CRM_CORE_KERNEL_H
#define CRM_CORE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "store.h"

struct crm_bus;
struct crm_plugin_host;
struct crm_lua_engine;
struct crm_contact;
struct crm_kernel;

/* Checks the model runs before a write, after the configuration's hygiene
 * rules. An engine installs its table at kernel open (the Lua rule engine
 * its validator rules), so the model never calls the engine itself; with no
 * table installed a write is checked against the configuration only. */
typedef struct crm_validators {
    /* Runs before contact c is written (added or updated): CRM_EINVAL with
     * the message when it refuses, CRM_ESCRIPT when it fails to run. NULL:
     * nothing to run. */
    int (*contact)(struct crm_kernel *k, const struct crm_contact *c, crm_err *err);
} crm_validators;
struct crm_timers;
struct crm_outbox;

typedef struct crm_kernel {
    crm_config *cfg;
    crm_store *store;
    int64_t now;          /* --as-of when given, else the wall clock at open */
    bool as_of_set;
    const char *actor;    /* who writes: "kernel" or the running plugin's name */
    int event_depth;      /* cascade depth of the handler now running (0 = a command) */
    struct crm_bus *bus;                /* event dispatch (may be NULL) */
    struct crm_plugin_host *plugins;    /* loaded plugins (may be NULL) */
    struct crm_lua_engine *lua;         /* rule engine (may be NULL) */
    const crm_validators *validators;   /* installed by the rule engine (may be NULL) */
    struct crm_timers *timers;          /* timer handlers of this process (time/timer.h) */
    struct crm_outbox *outbox;          /* the outbox's caches (messages/outbox.h), lazily */
    struct crm_webhooks *webhooks;      /* outbound webhooks (messages/webhook.h; may be NULL) */
} crm_kernel;

typedef struct crm_open_opts {
    const char *config_path;  /* --config; NULL: $CRM_CONFIG, else ./crm.yaml if present */
    const char *db_path;      /* --db; NULL: $CRM_DB, else the config's database */
    const char *as_of;        /* --as-of date or date-time; NULL: now */
    bool create;              /* create the database when missing (init, demo) */
    bool no_plugins;          /* do not load plugins (e.g. `crm init --kernel-only`) */
} crm_open_opts;

/* Loads the configuration and the enabled plugins (found, ABI-checked,
 * inited, their settings validated) before touching the database, then opens
 * (or creates) it, applies pending kernel and plugin migrations (refusing a
 * database written by a newer crm) and starts the plugins, all in one
 * transaction when the schema changes. On failure nothing is left open,
 * nothing was written (a database file this call created is removed) and err
 * says what to do. */
int crm_kernel_open(crm_kernel **out, const crm_open_opts *opts, crm_err *err);

/* Stops plugins and closes everything. NULL is fine. */
void crm_kernel_close(crm_kernel *k);

/* Resolves the configuration path the way crm_kernel_open does; returns NULL
 * when no file is to be used (defaults). The string is static or from env. */
const char *crm_kernel_config_path(const char *given);

/* Begin/commit/rollback the command's write transaction (nesting allowed). */
int crm_kernel_begin(crm_kernel *k, crm_err *err);
/* Begins a bulk-write batch (see crm_store_begin_batch). */
int crm_kernel_begin_batch(crm_kernel *k, crm_err *err);
int crm_kernel_commit(crm_kernel *k, crm_err *err);
void crm_kernel_rollback(crm_kernel *k);

#endif

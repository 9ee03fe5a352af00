/* Private to the plugin host: host.c (loading, lifecycle, CLI and Lua
 * registries), api_*.c (the crm_host_api table and its entries),
 * authorizer.c and the SDK 1.3 files in core/plugin/. Nothing else includes this but the host's
 * own test (tests/plugins/test_plugin_host.c, for the truncated table). */
#ifndef CRM_CORE_PLUGIN_INTERNAL_H
#define CRM_CORE_PLUGIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host.h"
#include "store.h"

typedef enum plug_state {
    PLUG_OPENED,   /* dlopen'ed, descriptor checked */
    PLUG_INITING,  /* inside init: registration allowed */
    PLUG_INITED,   /* init returned CRM_OK */
    PLUG_STARTED,  /* start returned CRM_OK */
    PLUG_STOPPED
} plug_state;

typedef struct plug_sub {
    char *pattern;
    bool durable;
    crm_event_handler fn;
    void *ud;
    crm_plugin_ctx *ctx;
    char *bus_name;  /* "<plugin>.<pattern>" ("#2", ... for a repeated pattern) */
    bool subscribed; /* attached to the bus */
    bool from_start; /* durable, new cursor before the first event */
} plug_sub;

typedef struct plug_lua {
    char *name;
    crm_lua_fn fn;
    void *ud;
    char *help;
    crm_plugin_ctx *ctx;
} plug_lua;

typedef struct plug_key {
    char *key;  /* dotted, relative to the plugin's section */
    crm_config_type type;
    char *def;  /* textual default, NULL = none */
    char *description;
} plug_key;

struct crm_plugin_ctx {
    const crm_host_api *api;  /* must stay first: struct crm_handle_head */
    crm_plugin_host *host;
    char *name;
    char *file;
    void *dl;
    const crm_plugin_descriptor *desc;
    plug_state state;
    struct crm_plugin_ctx **deps;  /* required plugins, resolved */
    size_t n_deps;
    int mark;                      /* topological sort: 0 new, 1 on stack, 2 done */
    crm_migration *migrations;
    size_t n_migrations;
    plug_sub *subs;
    size_t n_subs;
    crm_plugin_command *commands;
    size_t n_commands;
    plug_lua *luas;
    size_t n_luas;
    plug_key *keys;
    size_t n_keys;
    crm_contact_set_fn set_fn;     /* 1.3: its contact set provider (NULL: none) */
    void *set_ud;
    char *set_summary;
    char reg_error[512];           /* first refused registration during init */
    char error[1024];              /* last error (set_error or a failed host call) */
    bool constraint;               /* a statement of the running command hit a constraint */
    crm_demo_fn demo;              /* register_demo (SDK 1.3), NULL when none */
    struct plug_ext *ext;          /* SDK 1.3 state (core/plugin/sdk13.h), NULL until used */
    crm_timer_fn timer_fn;         /* register_timer_handler (1.3: timers), NULL when none */
    void *timer_ud;
    bool timer_wired;              /* registered with the kernel's timers */
    struct plug_privacy *privacy;  /* personal-data declarations (core/privacy/), or NULL */
    struct plug_route **routes;    /* register_route (1.4: routes), api_http.c */
    size_t n_routes;
};

struct crm_plugin_host {
    crm_kernel *k;
    crm_plugin_ctx **all;     /* in crm.yaml order */
    size_t n_all;
    crm_plugin_ctx **order;   /* dependency order */
    size_t n_order;
    crm_lua_export *exports;
    size_t n_exports;
    crm_plugin_ctx *running;  /* plugin whose code runs now (authorizer) */
    int trusted;              /* > 0: the host writes on the running plugin's behalf */
    bool migrating;           /* running plugin's migrations (may record them) */
    bool authorizer_on;
    char **owners;            /* names whose <name>_* tables belong to a plugin */
    size_t n_owners;
    char denial[512];         /* the authorizer's last refusal */
    char new_index[128];      /* index the running plugin last created on its own table */
};

/* What a handler's `const crm_plugin_event *` points to. */
struct crm_event;
struct crm_plugin_event {
    const crm_host_api *api;  /* struct crm_handle_head */
    const struct crm_event *ev;
};

/* What a command's `crm_command_io *` points to. */
struct crm_command_io {
    const crm_host_api *api;  /* struct crm_handle_head */
    FILE *out;
    bool json;
};

/* Saved state around a call into plugin code. */
typedef struct plug_frame {
    crm_plugin_ctx *running;
    const char *actor;
    int trusted;
    bool migrating;
} plug_frame;

/* Marks p as running (k->actor = its name; authorizer enforced) until leave. */
void crm_plug_enter(crm_plugin_ctx *p, plug_frame *f);
void crm_plug_leave(crm_plugin_ctx *p, const plug_frame *f);

/* The host API table handed to plugins (api_table.c). */
extern const crm_host_api crm_plug_api;

/* Sets p->error from a format; returns code. */
int crm_plug_fail(crm_plugin_ctx *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Installs / removes the authorizer on the host's connection (authorizer.c). */
void crm_plug_authorizer_install(crm_plugin_host *h);
void crm_plug_authorizer_remove(crm_plugin_host *h);

/* Reads the plugin owners from schema_migrations and the loaded plugins. */
int crm_plug_load_owners(crm_plugin_host *h, crm_err *err);

/* The table names a migration's SQL creates that are not <plugin>_*: checks
 * CREATE TABLE / VIEW / INDEX ... ON / TRIGGER ... ON names. Returns the
 * first offending name in bad (size bytes) and false, or true when clean. */
bool crm_plug_sql_tables_ok(const char *plugin, const char *sql, char *bad, size_t size);

/* The plugin named `name` of the host, or NULL. */
crm_plugin_ctx *crm_plug_find(crm_plugin_host *h, const char *name);

/* Frees p's registered HTTP routes (api_http.c; free_registrations calls it). */
void crm_plug_routes_free(crm_plugin_ctx *p);

/* Declared key `key` of p, or NULL. */
const plug_key *crm_plug_key(const crm_plugin_ctx *p, const char *key);

#endif

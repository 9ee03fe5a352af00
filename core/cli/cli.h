/* The command-line front end: `crm <noun> <verb> [options]`.
 *
 * Commands are data: each group file (cli_contact.c, ...) defines a table
 * of crm_command rows with their options; commands.c lists the groups. The
 * dispatcher parses options from the row's spec, answers --help from it,
 * opens the kernel when asked and maps result codes to exit statuses:
 * 0 ok, 1 refused or bad data, 2 bad usage, 3 internal failure. */
#ifndef CRM_CORE_CLI_H
#define CRM_CORE_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "kernel.h"

typedef enum crm_opt_kind {
    CRM_OPT_FLAG,   /* --force */
    CRM_OPT_VALUE,  /* --email VALUE (last one wins) */
    CRM_OPT_LIST    /* --tag T, repeatable */
} crm_opt_kind;

typedef struct crm_opt {
    const char *name;     /* without the dashes: "first-name" */
    crm_opt_kind kind;
    const char *metavar;  /* "NAME" (NULL for flags) */
    const char *help;
} crm_opt;

#define CRM_ARGS_MAX_OPTS 48
#define CRM_ARGS_MAX_POS 16

typedef struct crm_args {
    const crm_opt *spec;
    int n_spec;
    const char *value[CRM_ARGS_MAX_OPTS];  /* VALUE options, NULL when absent */
    bool flag[CRM_ARGS_MAX_OPTS];
    const char **list[CRM_ARGS_MAX_OPTS];  /* LIST options (malloc'd arrays) */
    int n_list[CRM_ARGS_MAX_OPTS];
    const char *pos[CRM_ARGS_MAX_POS];
    int n_pos;
} crm_args;

/* Flags of a command row. */
enum {
    CRM_CMD_NEEDS_KERNEL = 1 << 0,  /* open the kernel (database) before running */
    CRM_CMD_CREATES_DB = 1 << 1,    /* may create the database */
    CRM_CMD_WRITES = 1 << 2,        /* documentation: the command writes data */
    CRM_CMD_NO_DATA = 1 << 3        /* needs the kernel (config, plugins, Lua) but no
                                       data: runs on a throwaway in-memory database */
};

typedef struct crm_cli crm_cli;
typedef struct crm_command crm_command;

/* A command's body: returns a result code (CRM_OK or CRM_E*), having printed
 * its output; on failure err says what went wrong and what to do. */
typedef int (*crm_cmd_fn)(crm_cli *cli, const crm_args *args, crm_err *err);

struct crm_command {
    const char *noun;      /* "contact"; for single-word commands, the word */
    const char *verb;      /* "add"; NULL for single-word commands ("init") */
    crm_cmd_fn fn;
    unsigned flags;
    int min_pos, max_pos;  /* positional arguments accepted */
    const char *usage;     /* positional part of the synopsis: "ID|EMAIL" */
    const char *summary;   /* one line */
    const crm_opt *opts;   /* ends with {NULL} */
};

struct crm_cli {
    crm_open_opts open;    /* from the global options */
    bool json;             /* --json */
    bool quiet;            /* --quiet */
    crm_kernel *k;         /* opened before commands with CRM_CMD_NEEDS_KERNEL */
    FILE *out;             /* stdout */
    const crm_command *cmd;
};

/* Groups of kernel commands, each ending with a row whose noun is NULL. */
extern const crm_command crm_cli_init_cmds[];
extern const crm_command crm_cli_contact_cmds[];
extern const crm_command crm_cli_company_cmds[];
extern const crm_command crm_cli_order_cmds[];
extern const crm_command crm_cli_cart_cmds[];
extern const crm_command crm_cli_interaction_cmds[];
extern const crm_command crm_cli_task_cmds[];
extern const crm_command crm_cli_privacy_cmds[];
extern const crm_command crm_cli_consent_cmds[];
extern const crm_command crm_cli_user_cmds[];
extern const crm_command crm_cli_demo_cmds[];
extern const crm_command crm_cli_plugin_cmds[];
extern const crm_command crm_cli_event_cmds[];
extern const crm_command crm_cli_rules_cmds[];
extern const crm_command crm_cli_import_cmds[];
extern const crm_command crm_cli_export_cmds[];
extern const crm_command crm_cli_dedupe_cmds[];
extern const crm_command crm_cli_calendar_cmds[];
extern const crm_command crm_cli_audit_cmds[];
extern const crm_command crm_cli_timer_cmds[];
extern const crm_command crm_cli_webhook_cmds[];
extern const crm_command crm_cli_channel_cmds[];
extern const crm_command crm_cli_token_cmds[];
extern const crm_command crm_cli_serve_cmds[];
extern const crm_command crm_cli_message_cmds[];
extern const crm_command crm_cli_template_cmds[];

/* All groups, NULL-terminated (commands.c). */
extern const crm_command *const crm_cli_groups[];

/* More help for a group, printed after `crm NOUN --help` (c NULL) and after
 * `crm NOUN VERB --help` (c that command): what the options alone cannot
 * say, generated from the tables the code runs on. */
typedef struct crm_cli_topic {
    const char *noun;
    void (*print)(FILE *f, const crm_command *c);
} crm_cli_topic;

/* Ends with a row whose noun is NULL (commands.c). */
extern const crm_cli_topic crm_cli_topics[];

/* `crm rules`: the Lua contact object, the --where fields, failure causes. */
void crm_cli_rules_topic(FILE *f, const crm_command *c);

/* True when `crm <noun> ...` is a kernel command (the plugin host refuses
 * plugin nouns that collide with one). */
bool crm_cli_kernel_noun(const char *noun);

/* Runs the CLI on argv (main calls this); returns the exit status. */
int crm_cli_main(int argc, char **argv);

/* Parses argv against spec; positional arguments go to pos. Returns CRM_OK or
 * CRM_EUSAGE ("unknown option --x for `crm contact add`; see --help"). */
int crm_args_parse(crm_args *a, const crm_opt *spec, int argc, char **argv, crm_err *err);
void crm_args_free(crm_args *a);
/* The VALUE option `name`, or NULL. */
const char *crm_args_get(const crm_args *a, const char *name);
bool crm_args_flag(const crm_args *a, const char *name);
/* The LIST option `name`: returns its count and sets *values. */
int crm_args_list(const crm_args *a, const char *name, const char ***values);
/* Parses the VALUE option `name` as an integer (def when absent). */
int crm_args_int(const crm_args *a, const char *name, int64_t def, int64_t *out, crm_err *err);

/* Prints a JSON value as one compact line to cli->out and frees it. */
void crm_cli_print_json(crm_cli *cli, json_t *value);

/* Prints the id of a record a command created: {"id":N} with --json, else N. */
void crm_cli_print_id(crm_cli *cli, int64_t id);

/* Prints a JSON object as "key: value" lines (human output) and frees it. */
void crm_cli_print_object(crm_cli *cli, json_t *obj);

#endif

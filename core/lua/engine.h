/* The Lua rule engine: business rules from crm.yaml `rules:` (or FILE:FN)
 * evaluated in one sandboxed Lua 5.4 state per kernel.
 *
 * Sandbox: lua_newstate with a counting allocator capped at lua.max_memory;
 * an instruction budget per call (lua.max_instructions) counted by a count
 * hook in ticks of CRM_LUA_TICK instructions, also inside coroutines; only
 * base (no dofile/loadfile/collectgarbage, text-only load), string (no dump;
 * rep and the pattern functions bounded), table, math, utf8, coroutine and
 * os.time/date/clock (time() and date(fmt) read the kernel clock, --as-of,
 * like crm.now()). `require` resolves only crm.* modules. Everything else
 * that exists in stock Lua raises a `blocked` error naming the function.
 *
 * Every call goes through lua_pcall with a traceback handler. A failure has a
 * cause (memory, instructions, blocked, runtime, syntax) and a message naming the
 * rule, the script file:line and the record. pcall inside a script cannot
 * swallow a memory or budget abort. The state stays usable afterwards.
 *
 * Scripts are re-read when their file changes (checked at most once per
 * reload interval, default 1 s); a version that fails to load leaves the
 * previous one active and the reason in crm_lua_script_error(). */
#ifndef CRM_CORE_LUA_ENGINE_H
#define CRM_CORE_LUA_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

struct crm_contact;
struct crm_event;

typedef struct crm_lua_engine crm_lua_engine;
typedef struct crm_lua_rule crm_lua_rule;

/* Instructions per hook tick: the budget is checked every CRM_LUA_TICK. */
#define CRM_LUA_TICK 1000
/* Largest string string.rep may build, and the largest subject and pattern
 * the pattern functions (find, match, gmatch, gsub) accept. */
#define CRM_LUA_MAX_REP (1 << 20)
#define CRM_LUA_MAX_SUBJECT (1 << 20)
#define CRM_LUA_MAX_PATTERN 256

typedef enum crm_lua_kind {
    CRM_LUA_ANY,        /* FILE:FN given directly: the result is shown as returned */
    CRM_LUA_PREDICATE,  /* true/false */
    CRM_LUA_SCORE,      /* number [, reasons] */
    CRM_LUA_VALIDATOR,  /* nil or an error message */
    CRM_LUA_HANDLER     /* setup function calling on(pattern, fn) */
} crm_lua_kind;

typedef enum crm_lua_cause {
    CRM_LUA_OK,
    CRM_LUA_MEMORY,
    CRM_LUA_INSTRUCTIONS,
    CRM_LUA_BLOCKED,
    CRM_LUA_RUNTIME,
    CRM_LUA_SYNTAX      /* the script does not compile: nothing of it ran */
} crm_lua_cause;
#define CRM_LUA_CAUSE_LAST CRM_LUA_SYNTAX

/* "memory", "instructions", "blocked", "runtime", "syntax" ("" for CRM_LUA_OK). */
const char *crm_lua_cause_name(crm_lua_cause c);
/* One line saying what the cause means ("" for CRM_LUA_OK). */
const char *crm_lua_cause_help(crm_lua_cause c);
const char *crm_lua_kind_name(crm_lua_kind k);

/* What one evaluation gave. JSON members are owned (crm_lua_outcome_clear). */
typedef struct crm_lua_outcome {
    crm_lua_cause cause;   /* CRM_LUA_OK when the rule ran */
    char error[1024];      /* "rule R: FILE:LINE: message (contact 42) [cause]" */
    json_t *result;        /* predicate: bool; score: number; validator: null|string */
    json_t *reasons;       /* array of strings (scores), [] otherwise */
    json_t *fields_read;   /* array of field names, in first-read order */
} crm_lua_outcome;

void crm_lua_outcome_clear(crm_lua_outcome *o);

/* Creates the engine for k (k->lua) with k->cfg's limits and rules, loads
 * validator and handler scripts, installs the validators on k->validators
 * (the model runs them) and subscribes handlers to the bus (when k->bus is
 * set). A script that fails to load does not fail the attach: the
 * rule reports the load error whenever it is used. */
int crm_lua_attach(crm_kernel *k, crm_err *err);

/* Frees k->lua (NULL-safe), sets it to NULL and removes its validators. */
void crm_lua_detach(crm_kernel *k);

/* Finds a configured rule by name, or loads FILE:FN (FILE relative to the
 * working directory, else to the scripts directory). The rule belongs to the
 * engine. CRM_ENOTFOUND / CRM_EUSAGE with a message. */
int crm_lua_rule_find(crm_lua_engine *e, const char *spec, crm_lua_rule **out, crm_err *err);

crm_lua_kind crm_lua_rule_kind(const crm_lua_rule *r);
const char *crm_lua_rule_name(const crm_lua_rule *r);

/* Evaluates r for contact `id` (read lazily from the database). Returns
 * CRM_OK when the rule ran, CRM_ESCRIPT when it failed (out->cause, out->error
 * and err say why), or CRM_ENOTFOUND for an unknown contact. */
int crm_lua_eval(crm_lua_engine *e, crm_lua_rule *r, int64_t id, crm_lua_outcome *out,
                 crm_err *err);

/* Evaluation over a batch: the contact is the current row of `row`, a
 * statement from crm_lua_contact_select() positioned on a row. Cheaper:
 * fields_read is not collected (NULL) and reasons is NULL when the rule gave
 * none. */
int crm_lua_eval_row(crm_lua_engine *e, crm_lua_rule *r, void *row, crm_lua_outcome *out,
                     crm_err *err);

/* Evaluates r with `arg` (a JSON object, as a Lua table) in place of a
 * contact: rules over records that are not contacts yet (a lead). */
int crm_lua_eval_json(crm_lua_engine *e, crm_lua_rule *r, const json_t *arg,
                      crm_lua_outcome *out, crm_err *err);

/* Around a loop of crm_lua_eval_row over many contacts in id order: the
 * contacts' order aggregates and tags are then read in one pass each (once
 * enough contacts asked) instead of one lookup per contact. The loop must
 * not write orders or tags between begin and end. */
void crm_lua_scan_begin(crm_lua_engine *e);
void crm_lua_scan_end(crm_lua_engine *e);

/* One name a contact answers in rules: a field (c.email) or a method
 * (c:has_tag(tag), named with its parameters). */
typedef struct crm_lua_field_doc {
    const char *name;   /* "email", "has_tag(tag)" */
    const char *type;   /* "text|nil", "integer", "boolean" ... */
    const char *help;   /* one line; may be "" */
    bool method;
} crm_lua_field_doc;

/* The i-th name of the contact object (the table its metatable is built
 * from, so documentation cannot drift from it); NULL past the end. */
const crm_lua_field_doc *crm_lua_contact_field(size_t i);

/* The SELECT (without WHERE/ORDER) whose rows crm_lua_eval_row reads:
 * joined, the aliases c, co (the company) and u (the owner) are there for a
 * WHERE; not joined, only c (the two names are read when a rule asks). */
const char *crm_lua_contact_select(bool joined);

/* The validator hook (k->validators->contact once attached): runs every
 * validator rule on c (before it is written).
 * CRM_EINVAL with the rule's message when one refuses, CRM_ESCRIPT when one
 * fails to run. */
int crm_lua_validate_contact(crm_kernel *k, const struct crm_contact *c, crm_err *err);

/* Runs the on() handlers of every handler rule matching ev->type (the bus
 * subscription calls this; tests may too). */
int crm_lua_dispatch(crm_kernel *k, const struct crm_event *ev, crm_err *err);

/* Loads `path` in the sandbox (running its top level) and reports syntax
 * errors and top-level failures with file:line in err. */
int crm_lua_check_file(crm_lua_engine *e, const char *path, crm_err *err);

/* Scans the text of `path` for uses of blocked functions (io.*, os.execute,
 * require "x", ...) outside comments and strings; calls fn for each with its
 * line. Returns how many, or -1 when the file cannot be read. */
int crm_lua_scan_blocked(const char *path, void (*fn)(int line, const char *what, void *ud),
                         void *ud);

/* The script files of the configured rules (NULL-terminated, owned by e). */
size_t crm_lua_configured_scripts(crm_lua_engine *e, const char **paths, size_t max);

/* Checks that configured rule `i` names a function of its script (loading
 * it); CRM_ENOTFOUND past the end. */
int crm_lua_check_rule(crm_lua_engine *e, size_t i, crm_err *err);

/* The last load error of a rule's script ("" when the active version loaded
 * cleanly). */
const char *crm_lua_script_error(const crm_lua_rule *r);

/* Tuning (tests, benchmarks): how often script files are checked for changes
 * (milliseconds; 0 = before every call), and whether the limits (memory cap,
 * instruction hook) are enforced. */
void crm_lua_set_reload_interval(crm_lua_engine *e, int64_t ms);
void crm_lua_set_limits(crm_lua_engine *e, bool on);

/* Messages from crm.log() go to this function (default: stderr). */
void crm_lua_set_log(crm_lua_engine *e, void (*fn)(const char *rule, const char *msg, void *ud),
                     void *ud);

#endif

/* The plugin host: search path, dlopen and descriptor checks, dependency
 * order, the init/validate/migrate/start lifecycle, and the registries the
 * CLI and the Lua engine read. The API table plugins call is api_table.c
 * (its entries in api_*.c); the SQLite authorizer is authorizer.c. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "cli/cli.h"
#include "sdk13.h"
#include "util.h"
#include "internal.h"
#include "timer_api.h"
#include "privacy/privacy.h"

#define DASH " \xe2\x80\x94 " /* em dash, between a problem and its hint */
#define MAX_DIRS 64

/* ---- search path ----------------------------------------------------------- */

typedef struct dir_list {
    char *dir[MAX_DIRS];
    size_t n;
} dir_list;

static void dirs_add(dir_list *d, const char *dir, size_t len)
{
    if (len == 0 || d->n >= MAX_DIRS)
        return;
    char *copy = strndup(dir, len);
    if (copy)
        d->dir[d->n++] = copy;
}

static void dirs_free(dir_list *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->dir[i]);
    d->n = 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Adds `rel` (e.g. "../lib/crm/plugins") taken from exe_dir, the directory
 * of this process's executable; false when that is unknown (NULL). */
static bool add_exe_relative(dir_list *d, const char *exe_dir, const char *rel)
{
    if (!exe_dir)
        return false;
    char dir[PATH_MAX], real[PATH_MAX];
    int len = snprintf(dir, sizeof dir, "%s/%s", exe_dir, rel);
    if (len <= 0 || (size_t)len >= sizeof dir)
        return true;
    /* listed even when absent: a "not found" message shows where it looked */
    const char *use = is_dir(dir) && realpath(dir, real) ? real : dir;
    dirs_add(d, use, strlen(use));
    return true;
}

/* $CRM_PLUGIN_PATH, plugin_path, then directories found from the running
 * executable rather than fixed at build time, so a copied build tree or a
 * moved installation still finds its own plugins: the build tree's plugins/
 * (crm is core/crm there) and <prefix>/lib/crm/plugins (crm is
 * <prefix>/bin/crm). Only without /proc/self/exe is the configured install
 * directory used. */
static void search_dirs(const crm_config *cfg, dir_list *d)
{
    const char *env = getenv("CRM_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        dirs_add(d, env, len);
        env = colon ? colon + 1 : NULL;
    }
    for (size_t i = 0; cfg && i < cfg->n_plugin_path; i++)
        dirs_add(d, cfg->plugin_path[i], strlen(cfg->plugin_path[i]));
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
    if (slash)
        *slash = '\0';
    const char *exe_dir = slash ? (slash == exe ? "/" : exe) : NULL;
    add_exe_relative(d, exe_dir, CRM_BUILD_PLUGIN_REL);
    if (!add_exe_relative(d, exe_dir, CRM_INSTALL_PLUGIN_REL))
        dirs_add(d, CRM_INSTALL_PLUGIN_DIR, strlen(CRM_INSTALL_PLUGIN_DIR));
}

int crm_plugin_locate(const crm_config *cfg, const char *name, char *path, size_t size,
                      crm_err *err)
{
    dir_list d = {.n = 0};
    search_dirs(cfg, &d);
    int rc = CRM_ENOTFOUND;
    for (size_t i = 0; i < d.n && rc == CRM_ENOTFOUND; i++) {
        snprintf(path, size, "%s/%s.so", d.dir[i], name);
        if (access(path, F_OK) != 0)
            continue;
        rc = access(path, R_OK) == 0
                 ? CRM_OK
                 : crm_err_set(err, CRM_EIO, "cannot read %s: %s", path, strerror(errno));
    }
    if (rc == CRM_ENOTFOUND) {
        char list[2048];
        crm_strv_join(d.dir, d.n, ", ", list, sizeof list);
        crm_err_set(err, rc, "%s.so not found in %s", name, list);
    }
    dirs_free(&d);
    return rc;
}

/* ---- small helpers ------------------------------------------------------------ */

crm_plugin_ctx *crm_plug_find(crm_plugin_host *h, const char *name)
{
    for (size_t i = 0; h && i < h->n_all; i++)
        if (strcmp(h->all[i]->name, name) == 0)
            return h->all[i];
    return NULL;
}

const plug_key *crm_plug_key(const crm_plugin_ctx *p, const char *key)
{
    for (size_t i = 0; i < p->n_keys; i++)
        if (strcmp(p->keys[i].key, key) == 0)
            return &p->keys[i];
    return NULL;
}

void crm_plug_enter(crm_plugin_ctx *p, plug_frame *f)
{
    crm_plugin_host *h = p->host;
    f->running = h->running;
    f->actor = h->k->actor;
    f->trusted = h->trusted;
    f->migrating = h->migrating;
    h->running = p;
    h->k->actor = p->name;
    h->trusted = 0;
    h->migrating = false;
    h->new_index[0] = '\0';
}

void crm_plug_leave(crm_plugin_ctx *p, const plug_frame *f)
{
    crm_plugin_host *h = p->host;
    h->running = f->running;
    h->k->actor = f->actor;
    h->trusted = f->trusted;
    h->migrating = f->migrating;
    h->new_index[0] = '\0';
}

/* The plugin's own message, or the code's name when it gave none. */
static const char *plugin_message(const crm_plugin_ctx *p, int rc)
{
    return p->error[0] ? p->error : crm_err_name(rc);
}

__attribute__((format(printf, 3, 4)))
static int refuse(crm_err *err, const crm_plugin_ctx *p, const char *fmt, ...)
{
    char reason[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return crm_err_set(err, CRM_EPLUGIN, "plugin '%s' (%s): %s", p->name, p->file, reason);
}

/* Compares dotted numeric versions ("1.10.0" > "1.9"); missing parts are 0. */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a += *a == '.';
        b += *b == '.';
    }
    return 0;
}

static bool version_valid(const char *v)
{
    if (!v || !*v)
        return false;
    for (const char *c = v; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c == '.' && c != v && c[1] && c[1] != '.')))
            return false;
    return true;
}

/* The kernel's subsystems and entities, reserved whether or not the CLI has
 * a command of that name (a plugin owns <name>_* tables and emits <name>.*
 * events). The CLI's nouns come from its own command table
 * (crm_cli_kernel_noun, checked first), so a new kernel command is reserved
 * the day it is added. */
static const char *const reserved_names[] = {
    "kernel", "bus", "lua", "sqlite", "schema", "contact", "company", "order", "product",
    "interaction", "consent", "user", "custom", "event", "events", "plugins", "help", NULL,
};

static bool name_valid(const char *name)
{
    return crm_plugin_name_valid(name) && !crm_str_in(name, reserved_names);
}

/* ---- opening one plugin --------------------------------------------------------- */

#define DESC_MIN_SIZE (offsetof(crm_plugin_descriptor, fini) + sizeof(void (*)(void)))

static int check_descriptor(crm_plugin_ctx *p, const crm_plugin_descriptor *d, crm_err *err)
{
    char detail[256];
    if (d->abi_major != CRM_PLUGIN_ABI_MAJOR) {
        snprintf(detail, sizeof detail,
                 "built for plugin ABI %u.%u but this crm provides ABI %d.%d" DASH
                 "rebuild it against this crm's SDK",
                 d->abi_major, d->abi_minor, CRM_PLUGIN_ABI_MAJOR, CRM_PLUGIN_ABI_MINOR);
        return refuse(err, p, "%s", detail);
    }
    if (d->struct_size < DESC_MIN_SIZE) {
        snprintf(detail, sizeof detail,
                 "descriptor struct too small: %zu bytes, ABI %d.0 needs at least %zu" DASH
                 "rebuild it with the SDK headers",
                 d->struct_size, CRM_PLUGIN_ABI_MAJOR, (size_t)DESC_MIN_SIZE);
        return refuse(err, p, "%s", detail);
    }
    if (!d->name || strcmp(d->name, p->name) != 0)
        return refuse(err, p, "its descriptor names it '%s': the file must be NAME.so",
                      d->name ? d->name : "(null)");
    if (crm_cli_kernel_noun(d->name))
        return refuse(err, p,
                      "'%s' is the kernel command `crm %s`: the plugin's commands could never "
                      "be reached" DASH "rename the plugin",
                      d->name, d->name);
    if (!name_valid(d->name))
        return refuse(err, p,
                      "'%s' is not a valid plugin name (a-z first, then a-z, 0-9 and _, "
                      "at most %d bytes; not reserved)",
                      d->name, CRM_PLUGIN_NAME_MAX);
    if (!version_valid(d->version))
        return refuse(err, p, "version '%s' is not dotted numbers like 1.2.0",
                      d->version ? d->version : "(null)");
    if (!d->init)
        return refuse(err, p, "%s", "its descriptor has no init callback");
    p->desc = d;
    return CRM_OK;
}

static int resolve_query(crm_plugin_ctx *p, crm_err *err)
{
    p->dl = dlopen(p->file, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl)
        return refuse(err, p, "cannot load: %s", dlerror());
    dlerror();
    union {
        void *obj;
        crm_plugin_query_fn fn;
    } sym = {.obj = dlsym(p->dl, "crm_plugin_query")};
    if (!sym.obj)
        return refuse(err, p, "%s",
                      "no crm_plugin_query symbol: not a crm plugin (export it with "
                      "CRM_PLUGIN_EXPORT)");
    const crm_plugin_descriptor *d = sym.fn();
    if (!d)
        return refuse(err, p, "%s", "crm_plugin_query returned NULL");
    return check_descriptor(p, d, err);
}

static int open_plugin(crm_plugin_host *h, const char *name, crm_err *err)
{
    char path[PATH_MAX];
    crm_plugin_ctx *p = calloc(1, sizeof *p);
    crm_plugin_ctx **slot = p ? CRM_ARRAY_APPEND(h->all, h->n_all) : NULL;
    if (!slot) {
        free(p);
        return crm_err_set(err, CRM_ENOMEM, "out of memory loading plugin %s", name);
    }
    *slot = p;
    p->api = crm_plug_table();
    p->host = h;
    p->name = strdup(name);
    crm_err le = {0};
    int rc = crm_plugin_locate(h->k->cfg, name, path, sizeof path, &le);
    p->file = strdup(rc == CRM_OK ? path : le.msg);
    if (!p->name || !p->file)
        return crm_err_set(err, CRM_ENOMEM, "out of memory loading plugin %s", name);
    if (rc == CRM_ENOTFOUND)
        return crm_err_set(err, CRM_EPLUGIN,
                           "plugin '%s' (%s.so): %s" DASH
                           "install it, or add its directory to CRM_PLUGIN_PATH or "
                           "plugin_path in crm.yaml",
                           name, name, p->file);
    if (rc != CRM_OK)
        return crm_err_set(err, CRM_EPLUGIN, "plugin '%s' (%s.so): %s", name, name, p->file);
    return resolve_query(p, err);
}

/* ---- dependencies ------------------------------------------------------------------ */

static int link_one(crm_plugin_host *h, crm_plugin_ctx *p, const crm_plugin_requirement *r,
                    crm_err *err)
{
    char detail[512];
    const char *min = r->min_version ? r->min_version : "0";
    crm_plugin_ctx *q = crm_plug_find(h, r->name);
    if (!q) {
        snprintf(detail, sizeof detail,
                 "requires plugin '%s' >= %s, which is missing" DASH
                 "install it and add it to plugins: in crm.yaml",
                 r->name, min);
        return refuse(err, p, "%s", detail);
    }
    if (version_cmp(q->desc->version, min) < 0) {
        snprintf(detail, sizeof detail,
                 "requires plugin '%s' >= %s, but %s is %s (%s) and too old" DASH "upgrade %s",
                 r->name, min, q->name, q->desc->version, q->file, q->name);
        return refuse(err, p, "%s", detail);
    }
    crm_plugin_ctx **dep = CRM_ARRAY_APPEND(p->deps, p->n_deps);
    if (!dep)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    *dep = q;
    return CRM_OK;
}

static int link_requirements(crm_plugin_host *h, crm_err *err)
{
    for (size_t i = 0; i < h->n_all; i++) {
        const crm_plugin_requirement *r = h->all[i]->desc->requires;
        for (; r && r->name; r++) {
            int rc = link_one(h, h->all[i], r, err);
            if (rc != CRM_OK)
                return rc;
        }
    }
    return CRM_OK;
}

static int cycle_error(crm_plugin_ctx **stack, size_t depth, crm_plugin_ctx *p, crm_err *err)
{
    char chain[512] = "";
    size_t start = 0;
    while (start < depth && stack[start] != p)
        start++;
    for (size_t i = start; i < depth; i++) {
        size_t len = strlen(chain);
        snprintf(chain + len, sizeof chain - len, "%s -> ", stack[i]->name);
    }
    size_t len = strlen(chain);
    snprintf(chain + len, sizeof chain - len, "%s", p->name);
    return refuse(err, p, "dependency cycle %s", chain);
}

/* Depth-first: a plugin comes after everything it requires. */
static int visit(crm_plugin_host *h, crm_plugin_ctx *p, crm_plugin_ctx **stack, size_t depth,
                 crm_err *err)
{
    if (p->mark == 2)
        return CRM_OK;
    if (p->mark == 1)
        return cycle_error(stack, depth, p, err);
    p->mark = 1;
    stack[depth] = p;
    for (size_t i = 0; i < p->n_deps; i++) {
        int rc = visit(h, p->deps[i], stack, depth + 1, err);
        if (rc != CRM_OK)
            return rc;
    }
    p->mark = 2;
    h->order[h->n_order++] = p;
    return CRM_OK;
}

static int sort_plugins(crm_plugin_host *h, crm_err *err)
{
    h->order = calloc(h->n_all + 1, sizeof *h->order);
    crm_plugin_ctx **stack = calloc(h->n_all + 1, sizeof *stack);
    int rc = h->order && stack ? CRM_OK : crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; rc == CRM_OK && i < h->n_all; i++)
        rc = visit(h, h->all[i], stack, 0, err);
    free(stack);
    return rc;
}

/* ---- lifecycle steps ------------------------------------------------------------------- */

static int init_plugin(crm_plugin_ctx *p, crm_err *err)
{
    plug_frame f;
    p->state = PLUG_INITING;
    crm_plug_enter(p, &f);
    int rc = p->desc->init(p, p->api);
    crm_plug_leave(p, &f);
    p->state = PLUG_INITED;  /* fini is owed from here on, success or not */
    if (rc == CRM_OK && p->reg_error[0])
        return refuse(err, p, "%s", p->reg_error);
    if (rc != CRM_OK)
        return refuse(err, p, "init failed: %s", plugin_message(p, rc));
    return CRM_OK;
}

/* The crm.yaml node of the declared key a message starts with
 * ("segmentation.rfm.grid: ..."), or NULL: a plugin checking its settings in
 * start names the key, and the host knows where it was written. */
static const crm_node *named_key_node(const crm_plugin_ctx *p, const char *msg)
{
    size_t len = strlen(p->name);
    if (strncmp(msg, p->name, len) != 0 || msg[len] != '.')
        return NULL;
    char key[256];
    size_t klen = strcspn(msg + len + 1, ": ");
    if (klen == 0 || klen >= sizeof key)
        return NULL;
    memcpy(key, msg + len + 1, klen);
    key[klen] = '\0';
    const crm_node *sec = crm_config_section(p->host->k->cfg, p->name);
    return crm_plug_key(p, key) && sec ? crm_node_path(sec, key) : NULL;
}

static int start_plugin(crm_plugin_ctx *p, crm_err *err)
{
    plug_frame f;
    p->error[0] = '\0';
    crm_plug_enter(p, &f);
    int rc = p->desc->start ? p->desc->start(p) : CRM_OK;
    crm_plug_leave(p, &f);
    if (rc == CRM_OK) {
        p->state = PLUG_STARTED;
        return CRM_OK;
    }
    const char *msg = plugin_message(p, rc);
    const crm_node *at = named_key_node(p, msg);
    if (at && at->file)
        return refuse(err, p, "%s:%d:%d: %s", at->file, at->line, at->column, msg);
    return refuse(err, p, "start failed: %s", msg);
}

static int migrate_plugin(crm_plugin_ctx *p, crm_err *err)
{
    if (p->n_migrations == 0)
        return CRM_OK;
    crm_plugin_host *h = p->host;
    plug_frame f;
    h->denial[0] = '\0';
    crm_plug_enter(p, &f);
    h->migrating = true;
    int rc = crm_store_migrate(h->k->store, p->name, p->migrations, p->n_migrations, NULL, err);
    crm_plug_leave(p, &f);
    if (rc == CRM_OK)
        return CRM_OK;
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", h->denial[0] ? h->denial : err->msg);
    return refuse(err, p, "migration failed: %s", detail);
}

/* ---- config sections ---------------------------------------------------------------- */

/* Names of the next segment of declared keys under `prefix` ("" = top). */
static size_t key_candidates(const crm_plugin_ctx *p, const char *prefix, const char **names,
                             char *buf, size_t size)
{
    size_t n = 0, used = 0, plen = strlen(prefix);
    for (size_t i = 0; i < p->n_keys && n < 63; i++) {
        const char *k = p->keys[i].key;
        if (plen && (strncmp(k, prefix, plen) != 0 || k[plen] != '.'))
            continue;
        const char *seg = k + (plen ? plen + 1 : 0);
        size_t len = strcspn(seg, ".");
        bool seen = false; /* rfm.window_days and rfm.bins both name rfm */
        for (size_t j = 0; !seen && j < n; j++)
            seen = strlen(names[j]) == len && strncmp(names[j], seg, len) == 0;
        if (seen)
            continue;
        if (used + len + 1 > size)
            break;
        memcpy(buf + used, seg, len);
        buf[used + len] = '\0';
        names[n++] = buf + used;
        used += len + 1;
    }
    names[n] = NULL;
    if (!plen)
        crm_plug13_schema_names(p, names, &n, 64);
    return n;
}

static int unknown_key(const crm_plugin_ctx *p, const crm_node *n, const char *prefix,
                       crm_err *err)
{
    const char *names[64];
    char buf[2048], section[256], list[1024] = "";
    size_t count = key_candidates(p, prefix, names, buf, sizeof buf);
    snprintf(section, sizeof section, "%s%s%s", p->name, *prefix ? "." : "", prefix);
    const char *hint = crm_suggest(n->key, names);
    if (hint)
        return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "did you mean '%s'?",
                              n->key, section, hint);
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    return crm_node_error(n, NULL, err, "unknown key '%s' in '%s'" DASH "%s%s", n->key, section,
                          count ? "valid keys: " : "plugin declares no settings", list);
}

static bool is_key_prefix(const crm_plugin_ctx *p, const char *prefix)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < p->n_keys; i++)
        if (strncmp(p->keys[i].key, prefix, len) == 0 && p->keys[i].key[len] == '.')
            return true;
    return false;
}

static int check_value(const crm_plugin_ctx *p, const plug_key *key, const crm_node *n,
                       crm_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s.%s", p->name, key->key);
    int64_t i;
    bool b;
    const char *s;
    switch (key->type) {
    case CRM_CONFIG_INT:
        return crm_node_int(n, path, &i, err);
    case CRM_CONFIG_BOOL:
        return crm_node_bool(n, path, &b, err);
    default:
        return crm_node_string(n, path, &s, err);
    }
}

static int check_map(crm_plugin_ctx *p, const crm_node *map, const char *prefix,
                     crm_err *err)
{
    for (size_t i = 0; i < map->n_items; i++) {
        const crm_node *n = map->items[i];
        char full[512];
        snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", n->key);
        const plug_key *key = crm_plug_key(p, full);
        int rc = CRM_OK;
        if (key)
            rc = check_value(p, key, n, err);
        else if (!*prefix && crm_plug13_schema_field(p, n->key))
            rc = crm_plug13_check_entry(p, n, err);
        else if (n->kind == CRM_NODE_MAP && is_key_prefix(p, full))
            rc = check_map(p, n, full, err);
        else
            rc = unknown_key(p, n, prefix, err);
        if (rc != CRM_OK)
            return rc;
    }
    return CRM_OK;
}

static int validate_section(crm_plugin_ctx *p, crm_err *err)
{
    const crm_node *sec = crm_config_section(p->host->k->cfg, p->name);
    if (!sec || (sec->kind == CRM_NODE_SCALAR && sec->is_null))
        return crm_plug13_check_section(p, NULL, err);
    if (sec->kind != CRM_NODE_MAP)
        return crm_node_expected(sec, p->name, "a map of the plugin's settings", err);
    int rc = check_map(p, sec, "", err);
    return rc == CRM_OK ? crm_plug13_check_section(p, sec, err) : rc;
}

static bool installed(const char *name, void *ud)
{
    char path[PATH_MAX];
    return crm_plugin_locate(ud, name, path, sizeof path, NULL) == CRM_OK;
}

static int validate_config(crm_plugin_host *h, crm_err *err)
{
    for (size_t i = 0; i < h->n_order; i++) {
        int rc = validate_section(h->order[i], err);
        if (rc != CRM_OK)
            return rc;
    }
    const char **claimed = calloc(h->n_all + 1, sizeof *claimed);
    if (!claimed)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->n_all; i++)
        claimed[i] = h->all[i]->name;
    int rc = crm_config_check_sections(h->k->cfg, claimed, installed, h->k->cfg, err);
    free(claimed);
    return rc;
}

/* ---- bus and Lua wiring ---------------------------------------------------------------- */

static int on_event(crm_kernel *k, const crm_event *ev, void *ud, crm_err *err)
{
    plug_sub *s = ud;
    crm_plugin_ctx *p = s->ctx;
    if (p->state != PLUG_STARTED) /* cannot happen: unsubscribed before stop */
        return crm_err_set(err, CRM_EINTERNAL, "plugin '%s' is stopped", p->name);
    struct crm_plugin_event view = {.api = p->api, .ev = ev};
    plug_frame f;
    p->error[0] = '\0';
    crm_plug_enter(p, &f);
    int rc = s->fn(p, &view, s->ud);
    crm_plug_leave(p, &f);
    if (rc != CRM_OK)
        return crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "plugin '%s' handler for %s: %s",
                           p->name, ev->type, plugin_message(p, rc));
    return CRM_OK;
}

static int subscribe_plugin(crm_plugin_ctx *p, crm_err *err)
{
    crm_kernel *k = p->host->k;
    for (size_t i = 0; k->bus && i < p->n_subs; i++) {
        plug_sub *s = &p->subs[i];
        int rc = s->from_start ? crm_bus_subscribe_from_start(k, s->bus_name, s->pattern,
                                                              on_event, s, p->name, err)
                               : crm_bus_subscribe(k, s->bus_name, s->pattern, s->durable,
                                                   on_event, s, p->name, err);
        if (rc != CRM_OK)
            return refuse(err, p, "cannot subscribe: %s", err->msg);
        s->subscribed = true;
    }
    return CRM_OK;
}

/* Detaches every subscription from the bus (durable cursors stay in the
 * database): no handler runs while plugins stop or after they are gone. */
static void unsubscribe_all(crm_plugin_host *h)
{
    for (size_t i = 0; i < h->n_all; i++)
        for (size_t j = 0; j < h->all[i]->n_subs; j++) {
            plug_sub *s = &h->all[i]->subs[j];
            if (s->subscribed)
                crm_bus_unsubscribe(h->k, s->bus_name, NULL);
            s->subscribed = false;
        }
    for (size_t i = 0; i < h->n_all; i++)
        crm_plugt_unwire(h->all[i]);
}

static int lua_call(void *ctx, void *ud, const char *args, char **result, char **error)
{
    plug_lua *l = ud;
    plug_frame f;
    crm_plug_enter(l->ctx, &f);
    int rc = l->fn(ctx, l->ud, args, result, error);
    crm_plug_leave(l->ctx, &f);
    return rc;
}

static int build_exports(crm_plugin_host *h, crm_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_order; i++)
        n += h->order[i]->n_luas;
    h->exports = n ? calloc(n, sizeof *h->exports) : NULL;
    if (n && !h->exports)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->n_order; i++)
        for (size_t j = 0; j < h->order[i]->n_luas; j++) {
            plug_lua *l = &h->order[i]->luas[j];
            h->exports[h->n_exports++] = (crm_lua_export){
                .plugin = l->ctx->name, .name = l->name, .fn = lua_call,
                .ctx = l->ctx, .ud = l, .help = l->help};
        }
    return CRM_OK;
}

/* ---- load and unload ------------------------------------------------------------------- */

static void free_registrations(crm_plugin_ctx *p)
{
    for (size_t i = 0; i < p->n_migrations; i++) {
        free((char *)p->migrations[i].name);
        free((char *)p->migrations[i].sql);
    }
    for (size_t i = 0; i < p->n_subs; i++) {
        free(p->subs[i].pattern);
        free(p->subs[i].bus_name);
    }
    for (size_t i = 0; i < p->n_commands; i++) {
        free(p->commands[i].noun);
        free(p->commands[i].verb);
        free(p->commands[i].usage);
        free(p->commands[i].summary);
    }
    for (size_t i = 0; i < p->n_luas; i++) {
        free(p->luas[i].name);
        free(p->luas[i].help);
    }
    for (size_t i = 0; i < p->n_keys; i++) {
        free(p->keys[i].key);
        free(p->keys[i].def);
        free(p->keys[i].description);
    }
    crm_plug13_free(p);
    crm_plug_routes_free(p);
    free(p->set_summary);
    crm_privacy_plugin_free(p);
    free(p->migrations);
    free(p->subs);
    free(p->commands);
    free(p->luas);
    free(p->keys);
}

static void call_void(crm_plugin_ctx *p, void (*fn)(crm_plugin_ctx *))
{
    plug_frame f;
    crm_plug_enter(p, &f);
    fn(p);
    crm_plug_leave(p, &f);
}

static void host_free(crm_plugin_host *h)
{
    unsubscribe_all(h);
    for (size_t i = h->n_order; i-- > 0;) {
        crm_plugin_ctx *p = h->order[i];
        if (p->state == PLUG_STARTED && p->desc->stop)
            call_void(p, p->desc->stop);
        if (p->state == PLUG_STARTED)
            p->state = PLUG_STOPPED;
    }
    for (size_t i = h->n_order; i-- > 0;) {
        crm_plugin_ctx *p = h->order[i];
        if (p->state >= PLUG_INITED && p->desc->fini)
            call_void(p, p->desc->fini);
    }
    crm_plug_authorizer_remove(h);
    for (size_t i = 0; i < h->n_all; i++) {
        crm_plugin_ctx *p = h->all[i];
        free_registrations(p);
        if (p->dl)
            dlclose(p->dl);
        free(p->deps);
        free(p->name);
        free(p->file);
        free(p);
    }
    for (size_t i = 0; i < h->n_owners; i++)
        free(h->owners[i]);
    free(h->owners);
    free(h->all);
    free(h->order);
    free(h->exports);
    free(h);
}

/* What needs no database: find, check and init every plugin, validate their
 * settings. A refusal here leaves no file created or changed. */
static int prepare_all(crm_plugin_host *h, crm_err *err)
{
    const crm_config *cfg = h->k->cfg;
    int rc = CRM_OK;
    for (size_t i = 0; rc == CRM_OK && i < cfg->n_plugins; i++)
        rc = open_plugin(h, cfg->plugins[i], err);
    if (rc == CRM_OK)
        rc = link_requirements(h, err);
    if (rc == CRM_OK)
        rc = sort_plugins(h, err);
    for (size_t i = 0; rc == CRM_OK && i < h->n_order; i++)
        rc = init_plugin(h->order[i], err);
    if (rc == CRM_OK)
        rc = validate_config(h, err);
    return rc;
}

/* The rest, on the open store: authorizer, migrations, start, wiring. */
static int start_all(crm_plugin_host *h, crm_err *err)
{
    int rc = crm_plug_load_owners(h, err);
    if (rc == CRM_OK)
        crm_plug_authorizer_install(h);
    for (size_t i = 0; rc == CRM_OK && i < h->n_order; i++)
        rc = migrate_plugin(h->order[i], err);
    for (size_t i = 0; rc == CRM_OK && i < h->n_order; i++)
        rc = crm_privacy_check_plugin(h->order[i], err);
    for (size_t i = 0; rc == CRM_OK && i < h->n_order; i++)
        rc = start_plugin(h->order[i], err);
    if (rc == CRM_OK)
        rc = build_exports(h, err);
    for (size_t i = 0; rc == CRM_OK && i < h->n_order; i++)
        rc = subscribe_plugin(h->order[i], err);
    for (size_t i = 0; rc == CRM_OK && i < h->n_order; i++)
        rc = crm_plugt_wire(h->order[i], err);
    return rc;
}

int crm_plugin_host_prepare(crm_kernel *k, crm_err *err)
{
    crm_plugin_host *h = calloc(1, sizeof *h);
    if (!h)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    h->k = k;
    int rc = prepare_all(h, err);
    if (rc != CRM_OK) {
        host_free(h);
        return rc;
    }
    k->plugins = h;
    return CRM_OK;
}

int crm_plugin_host_start(crm_kernel *k, crm_err *err)
{
    crm_plugin_host *h = k->plugins;
    if (!h)
        return CRM_OK;
    int rc = start_all(h, err);
    if (rc != CRM_OK) {
        host_free(h);
        k->plugins = NULL;
    }
    return rc;
}

int crm_plugin_host_load(crm_kernel *k, crm_err *err)
{
    int rc = crm_plugin_host_prepare(k, err);
    return rc == CRM_OK ? crm_plugin_host_start(k, err) : rc;
}

bool crm_plugin_host_pending(crm_kernel *k, crm_err *err)
{
    crm_plugin_host *h = k ? k->plugins : NULL;
    for (size_t i = 0; h && i < h->n_order; i++) {
        const crm_plugin_ctx *p = h->order[i];
        if (p->n_migrations == 0)
            continue;
        int v = crm_store_schema_version(k->store, p->name, err);
        if (v < 0 || v < p->migrations[p->n_migrations - 1].version)
            return true;
    }
    return false;
}

int crm_plugin_host_provider(const crm_config *cfg, const char *const *names, size_t n,
                             const char *noun, char *plugin, size_t size)
{
    crm_kernel k = {.cfg = (crm_config *)cfg, .actor = "kernel"};
    crm_plugin_host *h = calloc(1, sizeof *h);
    if (!h || !noun)
        return free(h), 0;
    h->k = &k;
    k.plugins = h;
    char failed[128] = "";
    int found = 0;
    if (!names) {
        names = (const char *const *)cfg->plugins;
        n = cfg->n_plugins;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], noun) == 0) {
            snprintf(plugin, size, "%s", noun);
            found = 1;
        }
        crm_err e = {0};
        if (open_plugin(h, names[i], &e) != CRM_OK && !failed[0])
            snprintf(failed, sizeof failed, "%s", names[i]);
    }
    /* registration only: dependencies and settings do not change the nouns;
     * host_free owes fini to what init was called on, in h->order */
    h->order = calloc(h->n_all + 1, sizeof *h->order);
    for (size_t i = 0; h->order && i < h->n_all; i++)
        h->order[h->n_order++] = h->all[i];
    for (size_t i = 0; !found && i < h->n_order; i++) {
        crm_plugin_ctx *p = h->all[i];
        crm_err e = {0};
        if (!p->desc)
            continue;
        if (init_plugin(p, &e) != CRM_OK && p->n_commands == 0 && !failed[0])
            snprintf(failed, sizeof failed, "%s", p->name);
        for (size_t j = 0; !found && j < p->n_commands; j++)
            if (p->commands[j].noun && strcmp(p->commands[j].noun, noun) == 0) {
                snprintf(plugin, size, "%s", p->name);
                found = 1;
            }
    }
    if (!found && failed[0]) {
        snprintf(plugin, size, "%s", failed);
        found = 2;
    }
    host_free(h);
    return found;
}

int crm_plugin_host_catch_up(crm_kernel *k, crm_err *err)
{
    if (!k || !k->plugins || !k->bus || k->plugins->n_order == 0)
        return CRM_OK;
    return crm_bus_dispatch(k, err);
}

void crm_plugin_host_unload(crm_kernel *k)
{
    if (!k || !k->plugins)
        return;
    host_free(k->plugins);
    k->plugins = NULL;
}

/* ---- registries ------------------------------------------------------------------------ */

size_t crm_plugin_host_lua_exports(crm_kernel *k, const crm_lua_export **out)
{
    crm_plugin_host *h = k ? k->plugins : NULL;
    if (out)
        *out = h ? h->exports : NULL;
    return h ? h->n_exports : 0;
}

bool crm_plugin_host_loaded(crm_kernel *k, const char *plugin)
{
    return k && crm_plug_find(k->plugins, plugin) != NULL;
}

size_t crm_plugin_host_commands(crm_kernel *k, const char *plugin,
                                const crm_plugin_command **out)
{
    crm_plugin_ctx *p = k ? crm_plug_find(k->plugins, plugin) : NULL;
    *out = p ? p->commands : NULL;
    return p ? p->n_commands : 0;
}

const crm_plugin_command *crm_plugin_host_find_command(crm_kernel *k, const char *plugin,
                                                       const char *verb)
{
    const crm_plugin_command *c;
    size_t n = crm_plugin_host_commands(k, plugin, &c);
    for (size_t i = 0; verb && i < n; i++)
        if (!c[i].noun && strcmp(c[i].verb, verb) == 0)
            return &c[i];
    return NULL;
}

const crm_plugin_command *crm_plugin_host_find_noun(crm_kernel *k, const char *noun,
                                                    const char *verb)
{
    crm_plugin_host *h = k ? k->plugins : NULL;
    for (size_t i = 0; h && noun && i < h->n_order; i++) {
        const crm_plugin_ctx *p = h->order[i];
        for (size_t j = 0; j < p->n_commands; j++) {
            const crm_plugin_command *c = &p->commands[j];
            if (!c->noun || strcmp(c->noun, noun) != 0)
                continue;
            if (!c->verb || (verb && strcmp(c->verb, verb) == 0))
                return c;
        }
    }
    return NULL;
}

size_t crm_plugin_host_noun_commands(crm_kernel *k, const char *noun,
                                     const crm_plugin_command **out, size_t max)
{
    crm_plugin_host *h = k ? k->plugins : NULL;
    size_t n = 0;
    for (size_t i = 0; h && i < h->n_order; i++) {
        const crm_plugin_ctx *p = h->order[i];
        for (size_t j = 0; j < p->n_commands; j++) {
            const crm_plugin_command *c = &p->commands[j];
            if (!c->noun || (noun && strcmp(c->noun, noun) != 0))
                continue;
            if (n < max)
                out[n] = c;
            n++;
        }
    }
    return n;
}

int crm_plugin_host_run_command(crm_kernel *k, const crm_plugin_command *c, int argc,
                                char **argv, bool json, FILE *out, crm_err *err)
{
    if (c->spec) /* SDK 1.3 option table: core/plugin/commands.c */
        return crm_plug13_run_table(k, c, argc, argv, json, out, err);
    crm_plugin_ctx *p = c->ctx;
    struct crm_command_io io = {.api = p->api, .out = out, .json = json};
    plug_frame f;
    p->error[0] = '\0';
    p->constraint = false;
    crm_plug_enter(p, &f);
    int rc = c->fn(p, &io, argc, argv);
    crm_plug_leave(p, &f);
    (void)k;
    /* plugins often report any failed statement as CRM_EDB: a constraint
     * behind it is still bad data (exit 1), not a failing database (3) */
    if (rc == CRM_EDB && p->constraint)
        rc = CRM_EINVAL;
    if (rc != CRM_OK)
        return crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "%s", plugin_message(p, rc));
    return CRM_OK;
}

int crm_plugin_host_run_demos(crm_kernel *k, bool json, json_t **out, crm_err *err)
{
    crm_plugin_host *h = k ? k->plugins : NULL;
    *out = json_object();
    if (!*out)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    for (size_t i = 0; h && i < h->n_order; i++) {
        crm_plugin_ctx *p = h->order[i];
        if (!p->demo || p->state != PLUG_STARTED)
            continue;
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (!mem)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
        struct crm_command_io io = {.api = p->api, .out = mem, .json = json};
        plug_frame f;
        p->error[0] = '\0';
        crm_plug_enter(p, &f);
        int rc = p->demo(p, &io);
        crm_plug_leave(p, &f);
        fclose(mem);
        if (rc == CRM_OK)
            json_object_set_new(*out, p->name, json_string(buf ? buf : ""));
        free(buf);
        if (rc != CRM_OK)
            return crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "plugin '%s' demo: %s", p->name,
                               plugin_message(p, rc));
    }
    return CRM_OK;
}

/* ---- describe (crm plugins) ---------------------------------------------------------------- */

static const char *const type_names[] = {"", "string", "int", "bool"};

static json_t *describe_requires(const crm_plugin_ctx *p)
{
    json_t *a = json_array();
    for (const crm_plugin_requirement *r = p->desc->requires; r && r->name; r++)
        json_array_append_new(a, json_pack("{ss ss?}", "name", r->name, "min_version",
                                           r->min_version));
    return a;
}

static json_t *describe_registrations(const crm_plugin_ctx *p, json_t *o)
{
    json_t *events = json_array(), *cmds = json_array(), *luas = json_array(),
           *keys = json_array();
    for (size_t i = 0; i < p->n_subs; i++)
        json_array_append_new(events, json_pack("{ss sb}", "pattern", p->subs[i].pattern,
                                                "durable", p->subs[i].durable));
    for (size_t i = 0; i < p->n_commands; i++) {
        const crm_plugin_command *c = &p->commands[i];
        json_t *cmd = c->noun ? json_pack("{ss so}", "noun", c->noun, "verb",
                                          c->verb ? json_string(c->verb) : json_null())
                              : json_pack("{ss}", "verb", c->verb);
        json_object_set_new(cmd, "usage", c->usage ? json_string(c->usage) : json_null());
        json_object_set_new(cmd, "summary", json_string(c->summary));
        json_t *options = crm_plug13_describe_options(c);
        if (options)
            json_object_set_new(cmd, "options", options);
        json_array_append_new(cmds, cmd);
    }
    for (size_t i = 0; i < p->n_luas; i++)
        json_array_append_new(luas, json_pack("{ss ss?}", "name", p->luas[i].name, "help",
                                              p->luas[i].help));
    for (size_t i = 0; i < p->n_keys; i++)
        json_array_append_new(keys, json_pack("{ss ss ss? ss?}", "key", p->keys[i].key, "type",
                                              type_names[p->keys[i].type], "default",
                                              p->keys[i].def, "description",
                                              p->keys[i].description));
    json_object_set_new(o, "events", events);
    json_object_set_new(o, "commands", cmds);
    json_object_set_new(o, "lua_functions", luas);
    json_object_set_new(o, "config", keys);
    json_t *schema = crm_plug13_describe_schema(p);
    if (schema)
        json_object_set_new(o, "config_schema", schema);
    if (p->set_fn) /* 1.3: seg */
        json_object_set_new(o, "contact_sets", json_string(p->set_summary));
    return o;
}

json_t *crm_plugin_host_describe(crm_kernel *k)
{
    json_t *list = json_array();
    crm_plugin_host *h = k ? k->plugins : NULL;
    for (size_t i = 0; h && i < h->n_order; i++) {
        const crm_plugin_ctx *p = h->order[i];
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", p->desc->abi_major, p->desc->abi_minor);
        json_t *o = json_pack("{ss ss ss ss ss? so}", "name", p->name, "version",
                              p->desc->version, "abi", abi, "file", p->file, "description",
                              p->desc->description, "requires", describe_requires(p));
        json_array_append_new(list, describe_registrations(p, o));
    }
    return list;
}

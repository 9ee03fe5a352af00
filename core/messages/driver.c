/* Channel drivers: choosing one from crm.yaml, and the `file` driver. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/driver_int.h"

struct crm_driver {
    const crm_driver_ops *ops;
    void *state;
};

static const crm_driver_ops *const drivers[] = {&crm_driver_file, &crm_driver_smtp,
                                                &crm_driver_http};
static const char *const driver_names[] = {"file", "smtp", "http", NULL};

int crm_drv_string(const crm_node *cfg, const char *path, const char *key, bool required,
                   const char **out, crm_err *err)
{
    *out = NULL;
    const crm_node *n = crm_node_get(cfg, key);
    if (!n || (n->kind == CRM_NODE_SCALAR && n->is_null)) {
        if (required)
            return crm_node_error(cfg, path, err, "missing key `%s`", key);
        return CRM_OK;
    }
    char p[256];
    snprintf(p, sizeof p, "%s.%s", path, key);
    return crm_node_string(n, p, out, err);
}

int crm_drv_millis(const crm_node *cfg, const char *path, const char *key, long def,
                   long *out, crm_err *err)
{
    *out = def;
    const crm_node *n = crm_node_get(cfg, key);
    if (!n)
        return CRM_OK;
    char p[256];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (n->kind != CRM_NODE_SCALAR || n->is_null)
        return crm_node_expected(n, p, "a duration (30, 30s or 500ms)", err);
    char *end;
    errno = 0;
    long v = strtol(n->value, &end, 10);
    long scale = 1000;
    if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (*end && strcmp(end, "s") != 0)
        end = NULL;
    if (!end || end == n->value || errno || v <= 0 || v > 3600L * 1000 / scale)
        return crm_node_expected(n, p, "a duration from 1ms to 3600s (30, 30s or 500ms)", err);
    *out = v * scale;
    return CRM_OK;
}

char *crm_drv_message_json(const crm_message *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *keys[] = {"id", "channel", "to", "subject", "text", "html"};
    const char *vals[] = {m->id, m->channel, m->to, m->subject, m->text, m->html};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (vals[i])
            json_object_set_new(o, keys[i], json_string(vals[i]));
    json_object_set_new(o, "date", json_integer(m->date));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* The driver cfg names, its keys checked; opened (state) or only checked. */
static int driver_setup(const crm_node *cfg, const char *channel, const char *path,
                        const char *base_dir, crm_driver **out, crm_err *err)
{
    if (!cfg || cfg->kind != CRM_NODE_MAP)
        return cfg ? crm_node_expected(cfg, path, "a map ({driver: file, dir: ...})", err)
                   : crm_err_set(err, CRM_ECONFIG, "%s: missing", path);
    const char *name = NULL;
    int rc = crm_drv_string(cfg, path, "driver", false, &name, err);
    if (rc != CRM_OK)
        return rc;
    const crm_driver_ops *ops = NULL;
    for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
        if (strcmp(drivers[i]->name, name ? name : "file") == 0)
            ops = drivers[i];
    if (!ops) {
        const char *s = crm_suggest(name, driver_names);
        char p[256];
        snprintf(p, sizeof p, "%s.driver", path);
        return crm_node_error(crm_node_get(cfg, "driver"), p, err,
                              "unknown driver '%s'%s%s%s (known: file, smtp, http)", name,
                              s ? ", did you mean '" : "", s ? s : "", s ? "'?" : "");
    }
    for (size_t i = 0; i < cfg->n_items; i++) {
        const char *k = cfg->items[i]->key;
        bool known = strcmp(k, "driver") == 0;
        for (size_t j = 0; !known && ops->keys[j]; j++)
            known = strcmp(k, ops->keys[j]) == 0;
        if (!known) {
            const char *s = crm_suggest(k, ops->keys);
            char p[256];
            snprintf(p, sizeof p, "%s.%s", path, k);
            return crm_node_error(cfg->items[i], p, err, "unknown key for the %s driver%s%s%s",
                                  ops->name, s ? ", did you mean '" : "", s ? s : "",
                                  s ? "'?" : "");
        }
    }
    if (!out)
        return ops->open(cfg, channel, path, base_dir, NULL, err);
    crm_driver *d = calloc(1, sizeof *d);
    if (!d)
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
    d->ops = ops;
    rc = ops->open(cfg, channel, path, base_dir, &d->state, err);
    if (rc != CRM_OK) {
        free(d);
        return rc;
    }
    *out = d;
    return CRM_OK;
}

int crm_driver_open(const crm_node *cfg, const char *channel, const char *path,
                    const char *base_dir, crm_driver **out, crm_err *err)
{
    *out = NULL;
    return driver_setup(cfg, channel, path, base_dir, out, err);
}

int crm_driver_check(const crm_node *cfg, const char *channel, const char *path, crm_err *err)
{
    return driver_setup(cfg, channel, path, ".", NULL, err);
}

const char *crm_driver_name(const crm_driver *d) { return d->ops->name; }

int crm_driver_send(crm_driver *d, const crm_message *m, crm_send_result *res, crm_err *err)
{
    crm_send_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    int rc = crm_message_id_check(m->id, err);
    if (rc == CRM_OK && (!m->to || !*m->to))
        rc = crm_err_set(err, CRM_EINVAL, "no recipient");
    if (rc == CRM_OK)
        rc = d->ops->send(d->state, m, res, err);
    if (rc != CRM_OK) {
        if (rc != CRM_EIO)
            res->transient = false;
        crm_err_prefix(err, "%s driver", d->ops->name);
    }
    return rc;
}

void crm_driver_close(crm_driver *d)
{
    if (!d)
        return;
    d->ops->close(d->state);
    free(d);
}

/* ---- file: one file per message in a spool directory ------------------- */

typedef struct file_state {
    char *dir;
    char *from;
} file_state;

static const char *const file_keys[] = {"dir", "from", NULL};

static int file_open(const crm_node *cfg, const char *channel, const char *path,
                     const char *base_dir, void **state, crm_err *err)
{
    (void)channel;
    const char *dir, *from;
    int rc = crm_drv_string(cfg, path, "dir", true, &dir, err);
    if (rc == CRM_OK)
        rc = crm_drv_string(cfg, path, "from", false, &from, err);
    if (rc != CRM_OK || !state)
        return rc;
    file_state *s = calloc(1, sizeof *s);
    size_t n = strlen(base_dir ? base_dir : ".") + strlen(dir) + 2;
    if (s)
        s->dir = malloc(n);
    if (!s || !s->dir || (from && !(s->from = strdup(from)))) {
        if (s)
            free(s->dir);
        free(s);
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
    }
    if (dir[0] == '/')
        snprintf(s->dir, n, "%s", dir);
    else
        snprintf(s->dir, n, "%s/%s", base_dir ? base_dir : ".", dir);
    *state = s;
    return CRM_OK;
}

/* Makes dir and its missing parents. */
static int mkdirs(const char *dir, crm_err *err)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return crm_err_set(err, CRM_EIO, "spool directory path too long");
    for (char *c = p + 1;; c++) {
        if (*c == '/' || *c == '\0') {
            char save = *c;
            *c = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return crm_err_set(err, CRM_EIO, "cannot create %s: %s", p, strerror(errno));
            *c = save;
            if (!save)
                break;
        }
    }
    return CRM_OK;
}

/* Written to a hidden temporary name, synced, then renamed: a reader of the
 * spool sees a whole message or none, and a retry with the same id replaces
 * the file instead of adding a second one. */
static int file_send(void *state, const crm_message *m, crm_send_result *res, crm_err *err)
{
    file_state *s = state;
    bool email = m->channel && strcmp(m->channel, "email") == 0;
    char *data = NULL;
    size_t len = 0;
    int rc;
    if (email) {
        rc = crm_mime_build(m, s->from, &data, &len, err);
        if (rc != CRM_OK)
            return rc;
    } else {
        data = crm_drv_message_json(m);
        if (!data)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
        len = strlen(data);
    }
    if ((rc = mkdirs(s->dir, err)) != CRM_OK) {
        free(data);
        res->transient = true;
        return rc;
    }
    char tmp[4400], final[4400];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", s->dir, m->id);
    snprintf(final, sizeof final, "%s/%s.%s", s->dir, m->id, email ? "eml" : "json");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    const char *what = "open";
    size_t off = 0;
    if (fd >= 0) {
        what = "write";
        while (off < len) {
            ssize_t w = write(fd, data + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (off == len)
            what = fsync(fd) == 0 ? NULL : "fsync";
        if (close(fd) != 0 && !what)
            what = "close";
        if (!what && rename(tmp, final) != 0)
            what = "rename";
    }
    if (!what) {
        /* The rename itself survives a crash only once the directory is synced. */
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            what = "fsync";
        if (dfd >= 0)
            close(dfd);
        if (what) {
            int e = errno;
            free(data);
            res->transient = true;
            return crm_err_set(err, CRM_EIO, "cannot fsync %s: %s", s->dir, strerror(e));
        }
    }
    int e = errno;
    free(data);
    if (what) {
        unlink(tmp);
        res->transient = true; /* a full disk or a permission fixed later */
        return crm_err_set(err, CRM_EIO, "cannot %s %s: %s", what,
                           strcmp(what, "rename") == 0 ? final : tmp, strerror(e));
    }
    snprintf(res->response, sizeof res->response, "%s", final);
    return CRM_OK;
}

static void file_close(void *state)
{
    file_state *s = state;
    if (!s)
        return;
    free(s->dir);
    free(s->from);
    free(s);
}

const crm_driver_ops crm_driver_file = {"file", file_keys, file_open, file_send, file_close};

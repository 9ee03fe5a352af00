/* Message templates: loading a template folder, checking it, rendering it
 * (see template.h for the layout). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "messages/template.h"
#include "model.h"
#include "util.h"

/* The files of a template, in channel order: the table the loader, the
 * renderer and the channel list share. */
typedef enum part { P_EMAIL_SUBJECT, P_EMAIL_TEXT, P_EMAIL_HTML, P_SMS, N_PARTS } part;

static const struct {
    const char *file;
    const char *channel;
    bool html;     /* escapes {{x}} */
    bool required; /* the channel needs it */
} parts[N_PARTS] = {
    [P_EMAIL_SUBJECT] = {"email.subject.mustache", "email", false, true},
    [P_EMAIL_TEXT] = {"email.text.mustache", "email", false, true},
    [P_EMAIL_HTML] = {"email.html.mustache", "email", true, false},
    [P_SMS] = {"sms.mustache", "sms", false, true},
};

static const char *const channel_order[] = {"email", "sms", NULL};

struct crm_template {
    char name[CRM_TEMPLATE_MAX_NAME + 1];
    crm_mustache *part[N_PARTS];
};

void crm_rendered_clear(crm_rendered *r)
{
    if (!r)
        return;
    free(r->subject);
    free(r->text);
    free(r->html);
    *r = (crm_rendered){0};
}

const char *crm_templates_dir(const crm_config *cfg, char *buf, size_t size)
{
    if (cfg->templates)
        return cfg->templates;
    snprintf(buf, size, "%s/templates", cfg->dir ? cfg->dir : ".");
    return buf;
}

/* Reads path whole into *text (NUL-terminated). CRM_ENOTFOUND when absent. */
static int read_file(const char *path, char **text, size_t *len, crm_err *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? CRM_ENOTFOUND
                               : crm_err_set(err, CRM_EIO, "cannot open %s: %s", path,
                                             strerror(errno));
    int rc = CRM_OK;
    size_t cap = 0, n = 0;
    char *b = NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = cap > CRM_MUSTACHE_MAX_SOURCE + 8192 ? NULL : realloc(b, cap);
            if (!nb) {
                rc = crm_err_set(err, CRM_EINVAL, "%s: larger than %u bytes or out of memory",
                                 path, CRM_MUSTACHE_MAX_SOURCE);
                goto cleanup;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, 4096, f);
        n += got;
        if (got < 4096)
            break;
    }
    if (ferror(f)) {
        rc = crm_err_set(err, CRM_EIO, "cannot read %s", path);
        goto cleanup;
    }
    b[n] = '\0';
    *text = b;
    *len = n;
    b = NULL;
cleanup:
    free(b);
    fclose(f);
    return rc;
}

/* Partials live in <dir>/partials/NAME.mustache. A name climbing out of it
 * (`..`) or absolute (`/`) is refused: a template must not read arbitrary
 * files of the server into a customer's message. */
static int load_partial(void *ud, const char *name, char **text, size_t *len, char **file,
                        crm_err *err)
{
    const char *dir = ud;
    if (name[0] == '/' || strstr(name, ".."))
        return crm_err_set(err, CRM_EINVAL,
                           "partial '%s': a partial name may not start with '/' nor hold '..' "
                           "(partials live in %s/partials)", name, dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/partials/%s.mustache", dir, name);
    int rc = read_file(path, text, len, err);
    if (rc == CRM_OK && !(*file = strdup(path))) {
        free(*text);
        *text = NULL;
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    return rc;
}

json_t *crm_template_shape(void)
{
    static const char *const more[] = {
        "contact.id", "contact.phone_type", "contact.tags[]", "contact.custom.*",
        "orders_count", "total_spent", "last_order.id", "last_order.total",
        "last_order.placed_at", "last_order.status",
    };
    const char *names[64];
    char full[32][48];
    size_t n = 0;
    for (const crm_contact_field *f = crm_contact_fields; f->name && n < 32; f++, n++) {
        snprintf(full[n], sizeof full[n], "contact.%s", f->name);
        names[n] = full[n];
    }
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        names[n++] = more[i];
    json_t *shape = NULL;
    crm_err e = {0};
    crm_mustache_shape_from_names(names, n, &shape, &e);
    return shape;
}

/* The shape of t: the kernel's data plus the names listed in <folder>/data. */
static int template_shape(const char *folder, json_t **shape, crm_err *err)
{
    *shape = crm_template_shape();
    if (!*shape)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    char path[4096], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/data", folder);
    int rc = read_file(path, &text, &len, err);
    if (rc == CRM_ENOTFOUND)
        return CRM_OK;
    if (rc != CRM_OK)
        return rc;
    char **names = NULL;
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && rc == CRM_OK;
         line = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *w = line + strspn(line, " \t\r");
        w[strcspn(w, " \t\r")] = '\0';
        if (*w)
            rc = crm_strv_push(&names, &n, w);
    }
    json_t *extra = NULL;
    if (rc == CRM_OK)
        rc = crm_mustache_shape_from_names((const char *const *)names, n, &extra, err);
    if (rc == CRM_OK) {
        const char *key;
        json_t *v;
        json_object_foreach(extra, key, v) {
            if (json_object_get(*shape, key)) {
                rc = crm_err_set(err, CRM_EINVAL, "%s: '%s' is a name every message has; "
                                 "a payload may not redefine it", path, key);
                break;
            }
        }
        if (rc == CRM_OK)
            json_object_update(*shape, extra);
    } else if (rc != CRM_ENOMEM) {
        crm_err_prefix(err, "%s", path);
    }
    json_decref(extra);
    crm_strv_free(names, n);
    free(text);
    return rc;
}

static int load_part(crm_template *t, const char *dir, const char *folder, part i,
                     const json_t *shape, crm_err *err)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", folder, parts[i].file);
    int rc = read_file(path, &text, &len, err);
    if (rc != CRM_OK)
        return rc;
    crm_mustache_opts o = {.file = path, .escape_html = parts[i].html, .load = load_partial,
                           .load_ud = (void *)dir};
    rc = crm_mustache_compile(text, len, &o, &t->part[i], err);
    free(text);
    if (rc != CRM_OK)
        return rc;
    crm_mustache_report report;
    rc = crm_mustache_check(t->part[i], shape, &report, err);
    crm_mustache_report_free(&report);
    return rc;
}

int crm_template_load(const char *dir, const char *name, crm_template **out, crm_err *err)
{
    *out = NULL;
    if (!crm_name_valid(name, CRM_NAME_WORD, CRM_TEMPLATE_MAX_NAME))
        return crm_err_set(err, CRM_EINVAL, "template name '%s': expected a-z, 0-9 and _ "
                           "(at most %d bytes)", name, CRM_TEMPLATE_MAX_NAME);
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/%s", dir, name);
    struct stat st;
    if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
        return crm_err_set(err, CRM_ENOTFOUND, "no template '%s' in %s (see crm template list)",
                           name, dir);
    crm_template *t = calloc(1, sizeof *t);
    json_t *shape = NULL;
    if (!t)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    snprintf(t->name, sizeof t->name, "%s", name);
    int rc = template_shape(folder, &shape, err);
    for (part i = 0; i < N_PARTS && rc == CRM_OK; i++) {
        rc = load_part(t, dir, folder, i, shape, err);
        if (rc == CRM_ENOTFOUND)
            rc = CRM_OK;
    }
    for (part i = 0; i < N_PARTS && rc == CRM_OK; i++) {
        const char *ch = parts[i].channel;
        if (parts[i].required && !t->part[i] && crm_template_has_channel(t, ch))
            rc = crm_err_set(err, CRM_EINVAL, "template %s: channel %s lacks %s/%s", name, ch,
                             folder, parts[i].file);
    }
    if (rc == CRM_OK && !crm_template_has_channel(t, "email") &&
        !crm_template_has_channel(t, "sms"))
        rc = crm_err_set(err, CRM_ENOTFOUND, "template %s: %s holds no %s, %s or %s", name,
                         folder, parts[P_EMAIL_SUBJECT].file, parts[P_EMAIL_TEXT].file,
                         parts[P_SMS].file);
    json_decref(shape);
    if (rc != CRM_OK) {
        crm_template_free(t);
        return rc;
    }
    *out = t;
    return CRM_OK;
}

void crm_template_free(crm_template *t)
{
    if (!t)
        return;
    for (part i = 0; i < N_PARTS; i++)
        crm_mustache_free(t->part[i]);
    free(t);
}

const char *crm_template_name(const crm_template *t) { return t->name; }

/* A channel is offered when any of its files exists (the loader refuses a
 * channel with a required file missing). */
bool crm_template_has_channel(const crm_template *t, const char *channel)
{
    for (part i = 0; i < N_PARTS; i++)
        if (t->part[i] && strcmp(parts[i].channel, channel) == 0)
            return true;
    return false;
}

const char *const *crm_template_channels(const crm_template *t, const char **buf, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; channel_order[i] && o + 1 < n; i++)
        if (crm_template_has_channel(t, channel_order[i]))
            buf[o++] = channel_order[i];
    buf[o] = NULL;
    return buf;
}

static int render_part(const crm_template *t, part i, const json_t *data, char **out,
                       crm_err *err)
{
    if (!t->part[i])
        return CRM_OK;
    crm_mustache_buf b = {0};
    int rc = crm_mustache_render(t->part[i], data, &b, err);
    if (rc == CRM_OK) {
        *out = b.data ? b.data : strdup("");
        b.data = NULL;
        if (!*out)
            rc = crm_err_set(err, CRM_ENOMEM, "out of memory");
    }
    crm_mustache_buf_free(&b);
    return rc;
}

int crm_template_render(const crm_template *t, const char *channel, const json_t *data,
                        crm_rendered *out, crm_err *err)
{
    *out = (crm_rendered){0};
    if (!crm_template_has_channel(t, channel))
        return crm_err_set(err, CRM_EINVAL, "template %s has no %s version", t->name, channel);
    int rc = CRM_OK;
    if (strcmp(channel, "email") == 0) {
        rc = render_part(t, P_EMAIL_SUBJECT, data, &out->subject, err);
        if (rc == CRM_OK)
            rc = render_part(t, P_EMAIL_TEXT, data, &out->text, err);
        if (rc == CRM_OK)
            rc = render_part(t, P_EMAIL_HTML, data, &out->html, err);
        if (rc == CRM_OK && out->subject) /* a subject is one line */
            out->subject[strcspn(out->subject, "\r\n")] = '\0';
    } else {
        rc = render_part(t, P_SMS, data, &out->text, err);
    }
    if (rc != CRM_OK)
        crm_rendered_clear(out);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int crm_template_each(const char *dir, int (*fn)(const char *name, void *ud), void *ud,
                      crm_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? CRM_OK
                               : crm_err_set(err, CRM_EIO, "cannot read %s: %s", dir,
                                             strerror(errno));
    char **names = NULL;
    size_t n = 0;
    int rc = CRM_OK;
    for (struct dirent *e; (e = readdir(d)) && rc == CRM_OK;) {
        if (crm_name_valid(e->d_name, CRM_NAME_WORD, CRM_TEMPLATE_MAX_NAME) &&
            strcmp(e->d_name, "partials") != 0)
            rc = crm_strv_push(&names, &n, e->d_name);
    }
    closedir(d);
    if (rc == CRM_OK && n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == CRM_OK; i++)
        rc = fn(names[i], ud);
    crm_strv_free(names, n);
    return rc == CRM_ENOMEM ? crm_err_set(err, rc, "out of memory") : rc;
}

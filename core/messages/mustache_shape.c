/* A data shape for crm_mustache_check from a list of dotted names. */
#include <stdio.h>
#include <string.h>

#include "messages/mustache.h"

static int bad(crm_err *err, const char *entry, const char *why)
{
    return crm_err_set(err, CRM_EINVAL, "data name '%s': %s", entry, why);
}

/* One segment of an entry: its name and whether it ends with "[]". */
typedef struct segment {
    char name[256];
    bool list;
} segment;

static int parse_segment(const char *entry, const char *p, size_t n, segment *sg, crm_err *err)
{
    if (n == 0 || n >= sizeof sg->name)
        return bad(err, entry, "write names joined by single dots (last_order.total)");
    memcpy(sg->name, p, n);
    sg->name[n] = '\0';
    sg->list = n > 2 && strcmp(sg->name + n - 2, "[]") == 0;
    if (sg->list)
        sg->name[n - 2] = '\0';
    if (strpbrk(sg->name, " \t\r\n[]{}*") && strcmp(sg->name, "*") != 0)
        return bad(err, entry, "a name holds no spaces, brackets or '*'; '[]' ends a list's name");
    return CRM_OK;
}

/* Whether an existing shape v fits a segment declared (list) or not. */
static bool fits(const json_t *v, bool list)
{
    return !v || json_is_null(v) || json_is_array(v) == list;
}

/* Sets cur[sg] for the last segment; `any` when ".*" followed it. */
static int declare_last(json_t *cur, const segment *sg, bool any)
{
    json_t *v = json_object_get(cur, sg->name);
    if (v && !any)
        return CRM_OK; /* declared already, maybe with more detail */
    json_t *nv = sg->list ? json_pack(any ? "[n]" : "[s]", "") : any ? json_null()
                                                                   : json_string("");
    return nv && json_object_set_new(cur, sg->name, nv) == 0 ? CRM_OK : CRM_ENOMEM;
}

/* The object an inner segment leads to (a list's item shape), created as
 * needed; *stop when it is of unknown shape (absorbs what follows). */
static int descend(json_t **cur, const segment *sg, bool *stop)
{
    json_t *v = json_object_get(*cur, sg->name);
    if (v && json_is_null(v)) {
        *stop = true;
        return CRM_OK;
    }
    if (!v || (!sg->list && !json_is_object(v))) {
        v = sg->list ? json_array() : json_object();
        if (!v || json_object_set_new(*cur, sg->name, v) != 0)
            return CRM_ENOMEM;
    }
    if (sg->list) {
        json_t *it = json_array_get(v, 0);
        if (it && json_is_null(it)) {
            *stop = true;
            return CRM_OK;
        }
        if (!json_is_object(it)) {
            it = json_object();
            int bad_set = json_array_size(v) ? json_array_set_new(v, 0, it)
                                             : json_array_append_new(v, it);
            if (!it || bad_set != 0)
                return CRM_ENOMEM;
        }
        v = it;
    }
    *cur = v;
    return CRM_OK;
}

/* Declares one entry ("orders[].total") in root. */
static int declare(json_t *root, const char *entry, crm_err *err)
{
    json_t *cur = root;
    const char *p = entry;
    for (bool first = true;; first = false) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        segment sg;
        int rc = parse_segment(entry, p, n, &sg, err);
        if (rc != CRM_OK)
            return rc;
        bool star = dot && strcmp(dot + 1, "*") == 0;
        if (strcmp(sg.name, "*") == 0)
            return bad(err, entry, first ? "'*' comes after a name: payload.*"
                                         : "'*' comes last: payload.*");
        if (!fits(json_object_get(cur, sg.name), sg.list))
            return bad(err, entry, sg.list ? "declared before as an object or a value"
                                           : "declared before as a list: add []");
        if (!dot || star)
            return declare_last(cur, &sg, star);
        bool stop = false;
        if ((rc = descend(&cur, &sg, &stop)) != CRM_OK || stop)
            return rc;
        p = dot + 1;
    }
}

int crm_mustache_shape_from_names(const char *const *names, size_t n, json_t **shape,
                                  crm_err *err)
{
    *shape = NULL;
    json_t *root = json_object();
    if (!root)
        return crm_err_set(err, CRM_ENOMEM, "out of memory building a data shape");
    for (size_t i = 0; i < n; i++) {
        int rc = declare(root, names[i], err);
        if (rc == CRM_ENOMEM)
            crm_err_set(err, rc, "out of memory building a data shape");
        if (rc != CRM_OK) {
            json_decref(root);
            return rc;
        }
    }
    *shape = root;
    return CRM_OK;
}

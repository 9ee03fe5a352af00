/* The kernel's route registry and path matching (see http.h). */
#include <stdio.h>
#include <string.h>

#include "http/http.h"

/* Every kernel table, in the order the OpenAPI document lists them. */
static const crm_http_route *const tables[] = {
    crm_http_contact_routes,
    crm_http_record_routes,
    crm_http_event_routes,
    crm_http_track_routes,
    crm_http_meta_routes,
};

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seg_len(const char *s) { return strcspn(s, "/"); }

bool crm_http_match(const char *pattern, const char *path, crm_http_req *rq)
{
    int n = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return false;
        p++, q++;
        size_t pl = seg_len(p), ql = seg_len(q);
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (ql == 0 || n >= CRM_HTTP_MAX_PARAMS || ql >= sizeof rq->values[0])
                return false;
            if (rq) {
                snprintf(rq->values[n], sizeof rq->values[n], "%.*s", (int)ql, q);
            }
            n++;
        } else if (pl != ql || strncmp(p, q, pl) != 0) {
            return false;
        }
        p += pl, q += ql;
    }
    if (*p || *q)
        return false;
    if (rq) {
        /* second pass: the parameter names, copied without braces */
        int i = 0;
        for (const char *s = strchr(pattern, '{'); s && i < n; s = strchr(s + 1, '{'), i++) {
            size_t len = strcspn(s + 1, "}");
            snprintf(rq->namebuf[i], sizeof rq->namebuf[i], "%.*s", (int)len, s + 1);
            rq->names[i] = rq->namebuf[i];
        }
        rq->n_params = n;
    }
    return true;
}

int crm_http_each_kernel_route(int (*fn)(const crm_http_route *r, void *ud), void *ud)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const crm_http_route *r = tables[t]; r->method; r++) {
            int rc = fn(r, ud);
            if (rc)
                return rc;
        }
    return 0;
}

const crm_http_route *crm_http_find_kernel(const char *method, const char *path,
                                           crm_http_req *rq, bool *path_known)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const crm_http_route *r = tables[t]; r->method; r++) {
            if (!crm_http_match(r->path, path, NULL))
                continue;
            *path_known = true;
            if (strcmp(r->method, method) == 0) {
                crm_http_match(r->path, path, rq);
                return r;
            }
        }
    return NULL;
}

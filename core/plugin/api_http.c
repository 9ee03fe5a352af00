/* SDK 1.3: http -- routes registered by plugins (see crm/plugin.h). */
#include "http/http.h"
#include "internal.h"

int crm_http_each_plugin_route(crm_kernel *k, int (*fn)(const crm_http_route *r, void *ud),
                               void *ud)
{
    (void)k, (void)fn, (void)ud;
    return 0;
}

const crm_http_route *crm_http_find_plugin(crm_kernel *k, const char *method, const char *path,
                                           crm_http_req *rq, bool *path_known)
{
    (void)k, (void)method, (void)path, (void)rq, (void)path_known;
    return NULL;
}

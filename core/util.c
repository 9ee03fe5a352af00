#include "util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

/* The array pointer is read and written through memcpy: the caller's T * is
 * not a void *, and this keeps the access defined for any T. */

int crm_array_reserve(void *arr_ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return CRM_OK;
    if (size == 0)
        return CRM_ENOMEM;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return CRM_ENOMEM;
        c *= 2;
    }
    if (c > SIZE_MAX / size)
        return CRM_ENOMEM;
    void *arr;
    memcpy(&arr, arr_ptr, sizeof arr);
    void *grown = realloc(arr, c * size);
    if (!grown)
        return CRM_ENOMEM;
    memcpy(arr_ptr, &grown, sizeof grown);
    *cap = c;
    return CRM_OK;
}

void *crm_array_append(void *arr_ptr, size_t *n, size_t size)
{
    if (size == 0 || *n >= SIZE_MAX / size - 1)
        return NULL;
    void *arr;
    memcpy(&arr, arr_ptr, sizeof arr);
    char *grown = realloc(arr, (*n + 1) * size);
    if (!grown)
        return NULL;
    memcpy(arr_ptr, &grown, sizeof grown);
    char *slot = grown + *n * size;
    memset(slot, 0, size);
    (*n)++;
    return slot;
}

static const struct {
    const char *first, *rest;
} name_sets[] = {
    [CRM_NAME_IDENT] = {"abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789_"},
    [CRM_NAME_SLUG] = {"abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789_-"},
    [CRM_NAME_WORD] = {"abcdefghijklmnopqrstuvwxyz0123456789_",
                       "abcdefghijklmnopqrstuvwxyz0123456789_"},
    [CRM_NAME_LUA] = {"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_",
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"},
};

bool crm_name_valid(const char *s, crm_name_kind kind, size_t max_len)
{
    if (!s || !*s || (unsigned)kind >= sizeof name_sets / sizeof name_sets[0])
        return false;
    size_t len = strlen(s);
    if (max_len && len > max_len)
        return false;
    return strchr(name_sets[kind].first, *s) && strspn(s + 1, name_sets[kind].rest) == len - 1;
}

bool crm_plugin_name_valid(const char *s)
{
    return crm_name_valid(s, CRM_NAME_IDENT, CRM_PLUGIN_NAME_MAX);
}

int crm_strv_push(char ***v, size_t *n, const char *s)
{
    char *copy = strdup(s ? s : "");
    char **slot = copy ? CRM_ARRAY_APPEND(*v, *n) : NULL;
    if (!slot) {
        free(copy);
        return CRM_ENOMEM;
    }
    *slot = copy;
    return CRM_OK;
}

void crm_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

bool crm_strv_contains(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (v[i] && strcmp(v[i], s) == 0)
            return true;
    return false;
}

long crm_strlist_find(const char *const *list, const char *s)
{
    for (long i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return i;
    return -1;
}

bool crm_str_in(const char *s, const char *const *list)
{
    return crm_strlist_find(list, s) >= 0;
}

static size_t join(const char *const *list, size_t n, const char *sep, char *buf, size_t size)
{
    size_t need = 0, seplen = strlen(sep);
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *parts[2] = {i ? sep : "", list[i]};
        size_t lens[2] = {i ? seplen : 0, strlen(list[i])};
        for (int p = 0; p < 2; p++) {
            if (need + 1 < size) {
                size_t room = size - 1 - need;
                size_t take = lens[p] < room ? lens[p] : room;
                memcpy(buf + need, parts[p], take);
                buf[need + take] = '\0';
            }
            need += lens[p];
        }
    }
    return need;
}

size_t crm_strlist_join(const char *const *list, const char *sep, char *buf, size_t size)
{
    size_t n = 0;
    while (list[n])
        n++;
    return join(list, n, sep, buf, size);
}

size_t crm_strv_join(char *const *v, size_t n, const char *sep, char *buf, size_t size)
{
    return join((const char *const *)v, n, sep, buf, size);
}

/* ---- processes ------------------------------------------------------------ */

void crm_host_name(char *buf, size_t size)
{
    if (gethostname(buf, size) != 0)
        snprintf(buf, size, "unknown");
    buf[size - 1] = '\0';
}

bool crm_pid_gone(int64_t pid, const char *host)
{
    char me[256];
    crm_host_name(me, sizeof me);
    return host && strcmp(me, host) == 0 && pid > 0 && pid <= INT_MAX &&
           kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Kernel utilities every subsystem needs the same way: growing arrays, checking
 * names, small string lists. One copy here instead of one per file, so a
 * fix (an overflow check, a name rule) lands everywhere at once.
 * Kernel only: plugins see sdk/include, never this header. */
#ifndef CRM_CORE_UTIL_H
#define CRM_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arrays -------------------------------------------------------------- */

/* Makes room for `need` elements of `size` bytes in the array *arr_ptr (a
 * pointer to any object pointer, e.g. &v for `T *v`) whose capacity is *cap:
 * when need > *cap the capacity doubles (from 8) until it fits and the array
 * is reallocated. New elements are not initialised. Returns CRM_OK, or
 * CRM_ENOMEM (also when the size would overflow) with *arr_ptr and *cap
 * unchanged. */
int crm_array_reserve(void *arr_ptr, size_t *cap, size_t need, size_t size);

/* Appends one zeroed element of `size` bytes to the array *arr_ptr of *n
 * elements whose allocation is exactly *n elements (no capacity kept: for
 * short lists in structs that have only a count). Returns the new element
 * and increments *n, or NULL (out of memory) with the array and *n
 * unchanged. */
void *crm_array_append(void *arr_ptr, size_t *n, size_t size);

/* The same for typed arrays: `arr` is a T * lvalue, `cap` / `n` size_t
 * lvalues. CRM_ARRAY_RESERVE evaluates to CRM_OK or CRM_ENOMEM,
 * CRM_ARRAY_APPEND to a T * slot (void *) or NULL. */
#define CRM_ARRAY_RESERVE(arr, cap, need) crm_array_reserve(&(arr), &(cap), (need), sizeof *(arr))
#define CRM_ARRAY_APPEND(arr, n) crm_array_append(&(arr), &(n), sizeof *(arr))

/* ---- names --------------------------------------------------------------- */

/* The shapes of names crm accepts from configuration and plugins. */
typedef enum crm_name_kind {
    CRM_NAME_IDENT, /* [a-z][a-z0-9_]*: fields, rules, segments: safe in SQL, Lua and the CLI */
    CRM_NAME_SLUG,  /* [a-z][a-z0-9_-]*: names only ever quoted (calendars) */
    CRM_NAME_WORD,  /* [a-z0-9_]+: consent channels and purposes */
    CRM_NAME_LUA    /* [A-Za-z_][A-Za-z0-9_]*: Lua identifiers */
} crm_name_kind;

/* True when s (NULL gives false) is a non-empty name of that kind, at most
 * max_len bytes long (0: no limit). */
bool crm_name_valid(const char *s, crm_name_kind kind, size_t max_len);

/* A plugin's name (crm.yaml's plugins:, a descriptor's .name): an IDENT of
 * at most CRM_PLUGIN_NAME_MAX bytes. It prefixes the plugin's file, tables,
 * events and section, so the config loader and the plugin host check it
 * with this one test (the host also refuses reserved names). */
#define CRM_PLUGIN_NAME_MAX 64
bool crm_plugin_name_valid(const char *s);

/* ---- processes ------------------------------------------------------------ */

/* This machine's name (gethostname; "unknown" when it fails), terminated. */
void crm_host_name(char *buf, size_t size);
/* True when process pid on `host` is known to be gone: it ran on this
 * machine and no longer exists. A process of another host cannot be checked
 * from here: false. */
bool crm_pid_gone(int64_t pid, const char *host);

/* ---- string lists -------------------------------------------------------- */

/* Counted lists of owned strings (char **v with size_t n). */

/* Appends a copy of s ("" for NULL). CRM_OK or CRM_ENOMEM. */
int crm_strv_push(char ***v, size_t *n, const char *s);
/* Frees the n strings and the array (NULL-safe). */
void crm_strv_free(char **v, size_t n);
/* True when one of the n strings equals s. */
bool crm_strv_contains(char *const *v, size_t n, const char *s);

/* NULL-terminated constant lists (const char *const list[] = {..., NULL}). */

/* Index of s in list, -1 when absent or s is NULL. */
long crm_strlist_find(const char *const *list, const char *s);
/* True when s is one of the list (false for NULL). */
bool crm_str_in(const char *s, const char *const *list);
/* Writes the list into buf joined by sep ("a, b, c"), truncated to fit
 * `size` (always terminated when size > 0). Returns the length the whole
 * text needs, like snprintf. */
size_t crm_strlist_join(const char *const *list, const char *sep, char *buf, size_t size);
/* The same for a counted list of n strings (crm_strv_*, or any char *v[]);
 * buf may be NULL when size is 0, to measure. */
size_t crm_strv_join(char *const *v, size_t n, const char *sep, char *buf, size_t size);

#endif

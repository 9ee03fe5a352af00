#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static int find_opt(const crm_args *a, const char *name, size_t len)
{
    for (int i = 0; i < a->n_spec; i++)
        if (strlen(a->spec[i].name) == len && strncmp(a->spec[i].name, name, len) == 0)
            return i;
    return -1;
}

static int push_list(crm_args *a, int i, const char *value)
{
    size_t n = (size_t)a->n_list[i];
    const char **slot = CRM_ARRAY_APPEND(a->list[i], n);
    if (!slot)
        return CRM_ENOMEM;
    *slot = value;
    a->n_list[i] = (int)n;
    return CRM_OK;
}

static int take_option(crm_args *a, int argc, char **argv, int *i, crm_err *err)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int o = find_opt(a, name, len);
    if (o < 0)
        return crm_err_set(err, CRM_EUSAGE, "unknown option --%.*s (see --help)", (int)len, name);
    const crm_opt *spec = &a->spec[o];
    if (spec->kind == CRM_OPT_FLAG) {
        if (eq)
            return crm_err_set(err, CRM_EUSAGE, "option --%s takes no value", spec->name);
        a->flag[o] = true;
        return CRM_OK;
    }
    const char *value = eq ? eq + 1 : NULL;
    if (!value) {
        if (*i + 1 >= argc)
            return crm_err_set(err, CRM_EUSAGE, "option --%s needs a value (%s)", spec->name,
                               spec->metavar ? spec->metavar : "VALUE");
        value = argv[++*i];
    }
    if (spec->kind == CRM_OPT_VALUE) {
        a->value[o] = value;
        return CRM_OK;
    }
    return push_list(a, o, value) == CRM_OK ? CRM_OK
                                            : crm_err_set(err, CRM_ENOMEM, "out of memory");
}

int crm_args_parse(crm_args *a, const crm_opt *spec, int argc, char **argv, crm_err *err)
{
    memset(a, 0, sizeof *a);
    a->spec = spec;
    while (spec && spec[a->n_spec].name && a->n_spec < CRM_ARGS_MAX_OPTS)
        a->n_spec++;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = true;
        } else if (!only_pos && strncmp(argv[i], "--", 2) == 0) {
            int rc = take_option(a, argc, argv, &i, err);
            if (rc != CRM_OK)
                return rc;
        } else if (a->n_pos < CRM_ARGS_MAX_POS) {
            a->pos[a->n_pos++] = argv[i];
        } else {
            return crm_err_set(err, CRM_EUSAGE, "too many arguments");
        }
    }
    return CRM_OK;
}

void crm_args_free(crm_args *a)
{
    for (int i = 0; i < CRM_ARGS_MAX_OPTS; i++)
        free((void *)a->list[i]);
    memset(a, 0, sizeof *a);
}

const char *crm_args_get(const crm_args *a, const char *name)
{
    int o = find_opt(a, name, strlen(name));
    return o >= 0 ? a->value[o] : NULL;
}

bool crm_args_flag(const crm_args *a, const char *name)
{
    int o = find_opt(a, name, strlen(name));
    return o >= 0 && a->flag[o];
}

int crm_args_list(const crm_args *a, const char *name, const char ***values)
{
    int o = find_opt(a, name, strlen(name));
    *values = o >= 0 ? a->list[o] : NULL;
    return o >= 0 ? a->n_list[o] : 0;
}

int crm_args_int(const crm_args *a, const char *name, int64_t def, int64_t *out, crm_err *err)
{
    const char *v = crm_args_get(a, name);
    *out = def;
    if (!v)
        return CRM_OK;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno)
        return crm_err_set(err, CRM_EUSAGE, "--%s: '%s' is not an integer", name, v);
    *out = n;
    return CRM_OK;
}

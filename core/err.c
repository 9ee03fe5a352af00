#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int crm_err_set(crm_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int crm_err_prefix(crm_err *err, const char *fmt, ...)
{
    if (!err)
        return CRM_EINTERNAL;
    char head[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
    return err->code;
}

void crm_err_clear(crm_err *err)
{
    if (!err)
        return;
    err->code = CRM_OK;
    err->msg[0] = '\0';
}

static const struct {
    int code;
    int exit_status;
    const char *name;
} code_table[] = {
    {CRM_OK, 0, "ok"},
    {CRM_EINVAL, 1, "invalid"},
    {CRM_ENOTFOUND, 1, "not_found"},
    {CRM_EEXISTS, 1, "exists"},
    {CRM_EUSAGE, 2, "usage"},
    {CRM_ECONFIG, 1, "config"},
    {CRM_EDB, 3, "database"},
    {CRM_ENOMEM, 3, "memory"},
    {CRM_EIO, 1, "io"},
    {CRM_EPLUGIN, 1, "plugin"},
    {CRM_ESCRIPT, 1, "script"},
    {CRM_EDENIED, 1, "denied"},
    {CRM_EBUSY, 3, "busy"},
    {CRM_EINTERNAL, 3, "internal"},
};

int crm_err_exit_code(int code)
{
    for (size_t i = 0; i < sizeof code_table / sizeof code_table[0]; i++)
        if (code_table[i].code == code)
            return code_table[i].exit_status;
    return 3;
}

const char *crm_err_name(int code)
{
    for (size_t i = 0; i < sizeof code_table / sizeof code_table[0]; i++)
        if (code_table[i].code == code)
            return code_table[i].name;
    return "internal";
}

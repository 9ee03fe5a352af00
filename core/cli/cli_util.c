#include "cli_util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hygiene.h"
#include "model.h"
#include "time/calendar.h"

int crm_cli_need(const crm_args *a, const char *opt, const char *hint, const char **out,
                 crm_err *err)
{
    *out = crm_args_get(a, opt);
    if (*out && **out)
        return CRM_OK;
    const char *metavar = "VALUE";
    for (int i = 0; i < a->n_spec; i++)
        if (strcmp(a->spec[i].name, opt) == 0 && a->spec[i].metavar)
            metavar = a->spec[i].metavar;
    return crm_err_set(err, CRM_EUSAGE, "missing --%s %s: %s", opt, metavar, hint);
}

int crm_cli_contact(crm_cli *cli, const char *ref, int64_t *id, crm_err *err)
{
    int rc = crm_contact_resolve(cli->k, ref, id, err);
    if (rc == CRM_ENOTFOUND)
        return crm_err_set(err, rc,
                           "no contact matches '%s' (give an id, an email or ext:ID; find it "
                           "with `crm contact list --name ...`)",
                           ref);
    return rc;
}

int crm_cli_time_opt(const crm_args *a, const char *opt, int64_t *out, crm_err *err)
{
    const char *v = crm_args_get(a, opt);
    if (!v)
        return CRM_OK;
    char field[48];
    snprintf(field, sizeof field, "--%s", opt);
    int rc = crm_parse_datetime(field, v, out, err);
    if (rc == CRM_OK && *out <= 0)
        rc = crm_err_set(err, CRM_EINVAL, "%s: '%s' is before 1970", field, v);
    return rc;
}

int crm_cli_paging(const crm_args *a, int64_t def, int64_t *limit, int64_t *offset,
                   crm_err *err)
{
    int64_t page = 1;
    int rc = crm_args_int(a, "limit", def, limit, err);
    if (rc == CRM_OK)
        rc = crm_args_int(a, "page", 1, &page, err);
    if (rc == CRM_OK && (*limit < 0 || page < 1))
        rc = crm_err_set(err, CRM_EUSAGE, "--limit must be >= 0 and --page >= 1");
    if (rc == CRM_OK && *limit > 0 && page - 1 > INT64_MAX / *limit)
        rc = crm_err_set(err, CRM_EUSAGE, "--page %lld is too large for --limit %lld",
                         (long long)page, (long long)*limit);
    if (rc == CRM_OK)
        *offset = (page - 1) * *limit;
    return rc;
}

const char *crm_cli_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "-";
}

const char *crm_cli_time(crm_cli *cli, int64_t t, char *buf, size_t size)
{
    if (!t) {
        snprintf(buf, size, "-");
        return buf;
    }
    crm_calendar_format(crm_calendar_find(cli->k->cfg, NULL), t, buf, size);
    return buf;
}

const char *crm_cli_time_of(crm_cli *cli, json_t *obj, const char *key, char *buf, size_t size)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return crm_cli_time(cli, (int64_t)json_integer_value(v), buf, size);
    const char *text = json_string_value(v);
    if (!text)
        return "-";
    int64_t t;
    crm_err e = {0};
    if (crm_parse_datetime(key, text, &t, &e) != CRM_OK)
        return text; /* not a time after all: show what is stored */
    return crm_cli_time(cli, t, buf, size);
}

/* --segment NAME and --consent CHANNEL:PURPOSE for the contact listings
 * (crm contact list, crm export contacts): a mailing list for a campaign is
 * a segment's members whose consent stands granted now. */
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "model.h"
#include "plugin/host.h"

/* A consent channel or purpose: a lower-case word (folded in place). */
static bool consent_word(char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", *s))
            return false;
    }
    return true;
}

/* A channel or purpose crm.yaml `consents:` does not list would select
 * nobody: refused, with the nearest listed word. */
static int listed(const char *spec, const char *what, const char *v, char *const *known, size_t n,
                  crm_err *err)
{
    const char *names[64];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(known[i], v))
            return CRM_OK;
        if (m < 63)
            names[m++] = known[i];
    }
    names[m] = NULL;
    char list[512] = "";
    for (size_t i = 0, at = 0; i < m && at < sizeof list; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", names[i]);
    const char *near = crm_suggest(v, names);
    return crm_err_set(err, CRM_EINVAL,
                       "--consent '%s': '%s' is not a consent %s of crm.yaml (%s)%s%s%s", spec, v,
                       what, m ? list : "none configured",
                       near ? " \xe2\x80\x94 did you mean '" : "", near ? near : "",
                       near ? "'?" : "");
}

static int consent_set(crm_cli *cli, const char *spec, crm_err *err)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec);
    char *colon = strchr(buf, ':');
    if (!colon || strlen(spec) >= sizeof buf)
        return crm_err_set(err, CRM_EUSAGE,
                           "--consent '%s': expected CHANNEL:PURPOSE, e.g. email:newsletter",
                           spec);
    *colon = '\0';
    if (!consent_word(buf) || !consent_word(colon + 1))
        return crm_err_set(err, CRM_EUSAGE,
                           "--consent '%s': channel and purpose are single words, e.g. "
                           "email:newsletter",
                           spec);
    const crm_consent_config *cc = &cli->k->cfg->consents;
    int rc = listed(spec, "channel", buf, cc->channels, cc->n_channels, err);
    if (rc == CRM_OK)
        rc = listed(spec, "purpose", colon + 1, cc->purposes, cc->n_purposes, err);
    if (rc != CRM_OK)
        return rc;
    return crm_contact_set_consent(cli->k, "consent", buf, colon + 1, cli->k->now, NULL, err);
}

int crm_cli_contact_sets(crm_cli *cli, const crm_args *a, const char *sets[2], crm_err *err)
{
    const char *segment = crm_args_get(a, "segment"), *consent = crm_args_get(a, "consent");
    size_t used = 0;
    int rc = CRM_OK;
    if (segment) {
        int64_t *ids = NULL;
        size_t n = 0;
        rc = crm_plugin_host_contact_set(cli->k, segment, &ids, &n, err);
        if (rc == CRM_OK)
            rc = crm_contact_set_ids(cli->k, "segment", ids, n, err);
        free(ids);
        if (rc == CRM_OK)
            sets[used++] = "segment";
    }
    if (rc == CRM_OK && consent) {
        rc = consent_set(cli, consent, err);
        if (rc == CRM_OK)
            sets[used++] = "consent";
    }
    return rc;
}

/* SDK 1.3 timers and calendars (timer_api.h). A plugin's timers are owned by
 * its name; the host writes the timers table on its behalf (trusted), and
 * the handler runs with the plugin's rights like an event handler. */
#include "timer_api.h"

#include <stdio.h>
#include <string.h>

#include "time/calendar.h"
#include "time/timer.h"

static int host_fail(crm_plugin_ctx *p, int rc, const crm_err *e)
{
    return rc == CRM_OK ? CRM_OK : crm_plug_fail(p, rc, "%s", e->msg);
}

static bool have_db(crm_plugin_ctx *p, const char *what)
{
    if (p->host->k->store)
        return true;
    crm_plug_fail(p, CRM_EBUSY, "%s: no database during init; schedule from start on", what);
    return false;
}

int crm_plugt_schedule(crm_plugin_ctx *p, const char *key, int64_t due_at, const char *payload)
{
    if (!have_db(p, "schedule"))
        return CRM_EBUSY;
    crm_err e = {0};
    p->host->trusted++;
    int rc = crm_timer_schedule(p->host->k, p->name, key, due_at, payload, NULL, &e);
    p->host->trusted--;
    return host_fail(p, rc, &e);
}

int crm_plugt_cancel(crm_plugin_ctx *p, const char *key, int *found)
{
    if (!have_db(p, "cancel"))
        return CRM_EBUSY;
    crm_err e = {0};
    bool f = false;
    p->host->trusted++;
    int rc = crm_timer_cancel(p->host->k, p->name, key, &f, &e);
    p->host->trusted--;
    if (found)
        *found = f;
    return host_fail(p, rc, &e);
}

/* A refusal during init also refuses the plugin (as plugin_api.c's
 * registrations do), even when init ignores the code. */
static int reg_refuse(crm_plugin_ctx *p, int code, const char *msg)
{
    crm_plug_fail(p, code, "register_timer_handler: %s", msg);
    if (p->state == PLUG_INITING && !p->reg_error[0])
        snprintf(p->reg_error, sizeof p->reg_error, "%s", p->error);
    return code;
}

int crm_plugt_register_handler(crm_plugin_ctx *p, crm_timer_fn fn, void *ud)
{
    if (p->state != PLUG_INITING)
        return crm_plug_fail(p, CRM_EDENIED, "register_timer_handler: the registry is frozen "
                             "after init — register in the plugin's init callback");
    if (!fn)
        return reg_refuse(p, CRM_EUSAGE, "no function");
    if (p->timer_fn)
        return reg_refuse(p, CRM_EEXISTS, "a plugin has one timer handler");
    p->timer_fn = fn;
    p->timer_ud = ud;
    return CRM_OK;
}

static int on_timer(crm_kernel *k, const crm_timer *t, void *ud, crm_err *err)
{
    (void)k;
    crm_plugin_ctx *p = ud;
    if (p->state != PLUG_STARTED)
        return crm_err_set(err, CRM_EINTERNAL, "plugin '%s' is stopped", p->name);
    crm_timer_info info = {sizeof info, t->id, t->key, t->due_at, t->fired_at, t->payload,
                           t->attempts};
    plug_frame f;
    p->error[0] = '\0';
    crm_plug_enter(p, &f);
    int rc = p->timer_fn(p, &info, p->timer_ud);
    crm_plug_leave(p, &f);
    if (rc != CRM_OK)
        return crm_err_set(err, rc < 0 ? rc : CRM_EPLUGIN, "plugin '%s' timer %s: %s", p->name,
                           t->key, p->error[0] ? p->error : crm_err_name(rc));
    return CRM_OK;
}

int crm_plugt_wire(crm_plugin_ctx *p, crm_err *err)
{
    if (!p->timer_fn || p->timer_wired || p->state != PLUG_STARTED)
        return CRM_OK;
    int rc = crm_timer_register(p->host->k, p->name, on_timer, p, err);
    if (rc != CRM_OK)
        return crm_err_prefix(err, "plugin '%s'", p->name);
    p->timer_wired = true;
    return CRM_OK;
}

void crm_plugt_unwire(crm_plugin_ctx *p)
{
    if (p && p->timer_wired) {
        crm_timer_unregister(p->host->k, p->name);
        p->timer_wired = false;
    }
}

static const crm_calendar *calendar_of(crm_plugin_ctx *p, const char *name)
{
    const crm_calendar *cal = crm_calendar_find(p->host->k->cfg, name);
    if (!cal)
        crm_plug_fail(p, CRM_ENOTFOUND, "no calendar '%s' in crm.yaml `calendars:`",
                      name ? name : "default");
    return cal;
}

int crm_plugt_calendar_add(crm_plugin_ctx *p, const char *calendar, int64_t t,
                           const char *duration, int64_t *out)
{
    const crm_calendar *cal = calendar_of(p, calendar);
    if (!cal)
        return CRM_ENOTFOUND;
    crm_err e = {0};
    int64_t v = 0;
    int rc = crm_calendar_add_text(cal, t, duration ? duration : "", &v, &e);
    if (rc == CRM_OK && out)
        *out = v;
    return host_fail(p, rc, &e);
}

int crm_plugt_calendar_is_open(crm_plugin_ctx *p, const char *calendar, int64_t t, int *open)
{
    const crm_calendar *cal = calendar_of(p, calendar);
    if (!cal)
        return CRM_ENOTFOUND;
    crm_err e = {0};
    bool o = false;
    int rc = crm_calendar_is_open(cal, t, &o, &e);
    if (rc == CRM_OK && open)
        *open = o;
    return host_fail(p, rc, &e);
}

int crm_plugt_calendar_next_open(crm_plugin_ctx *p, const char *calendar, int64_t t,
                                 int64_t *out)
{
    const crm_calendar *cal = calendar_of(p, calendar);
    if (!cal)
        return CRM_ENOTFOUND;
    crm_err e = {0};
    int64_t v = 0;
    int rc = crm_calendar_next_open(cal, t, &v, &e);
    if (rc == CRM_OK && out)
        *out = v;
    return host_fail(p, rc, &e);
}

int crm_plugt_calendar_between(crm_plugin_ctx *p, const char *calendar, int64_t from, int64_t to,
                               int64_t *out)
{
    const crm_calendar *cal = calendar_of(p, calendar);
    if (!cal)
        return CRM_ENOTFOUND;
    crm_err e = {0};
    int64_t v = 0;
    int rc = crm_calendar_between(cal, from, to, &v, &e);
    if (rc == CRM_OK && out)
        *out = v;
    return host_fail(p, rc, &e);
}

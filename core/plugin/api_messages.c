/* SDK 1.3 messages: a plugin queues a message through the kernel's outbox,
 * with the same rules (consent, address, pause) as `crm message send`. The
 * plugin's name is the message's source and part of a derived key. */
#include "messages/outbox.h"
#include "plugin/api_messages.h"

int crm_plugm_message_queue_json(crm_plugin_ctx *p, const char *json, int64_t *id)
{
    if (id)
        *id = 0;
    if (!p->host->k->store)
        return crm_plug_fail(p, CRM_EBUSY, "no database during init: queue messages from "
                                           "start on");
    crm_err e = {0};
    p->host->trusted++; /* the outbox writes kernel tables on the plugin's behalf */
    int rc = crm_outbox_queue_json(p->host->k, json, p->name, id, &e);
    p->host->trusted--;
    return rc == CRM_OK ? CRM_OK : crm_plug_fail(p, rc, "message_queue_json: %s", e.msg);
}

/* Inside the drivers: the table each one fills, shared config readers. */
#ifndef CRM_CORE_MESSAGES_DRIVER_INT_H
#define CRM_CORE_MESSAGES_DRIVER_INT_H

#include "messages/driver.h"

typedef struct crm_driver_ops {
    const char *name;
    const char *const *keys; /* keys the driver accepts besides `driver`, NULL-terminated */
    /* state NULL: check the map only (no environment, no allocation). */
    int (*open)(const crm_node *cfg, const char *channel, const char *path, const char *base_dir,
                void **state, crm_err *err);
    int (*send)(void *state, const crm_message *m, crm_send_result *res, crm_err *err);
    void (*close)(void *state);
} crm_driver_ops;

extern const crm_driver_ops crm_driver_file;
extern const crm_driver_ops crm_driver_smtp;
extern const crm_driver_ops crm_driver_http;

/* Key `key` of cfg as a string: *out = NULL (and CRM_OK) when absent and
 * not required. */
int crm_drv_string(const crm_node *cfg, const char *path, const char *key, bool required,
                   const char **out, crm_err *err);

/* A duration key in milliseconds: an integer of seconds, or "Ns" / "Nms". */
int crm_drv_millis(const crm_node *cfg, const char *path, const char *key, long def,
                   long *out, crm_err *err);

/* The message as the JSON the file (sms) and http drivers write:
 * {"id","channel","to","subject","text","html","date"}, absent fields left
 * out. malloc'd, or NULL when out of memory. */
char *crm_drv_message_json(const crm_message *m);

#endif

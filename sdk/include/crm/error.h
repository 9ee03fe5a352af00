/* crm SDK — result codes shared by the kernel and plugins.
 *
 * Every function that can fail returns CRM_OK (0) or one of the negative
 * codes below; the human-readable detail travels separately (an error
 * buffer or a host-allocated message), never encoded in the number.
 * Codes are part of the ABI: values never change, new ones are appended. */
#ifndef CRM_ERROR_H
#define CRM_ERROR_H

enum crm_result {
    CRM_OK = 0,
    CRM_EINVAL = -1,     /* bad data: validation failed, refused by a rule */
    CRM_ENOTFOUND = -2,  /* the record or file named does not exist */
    CRM_EEXISTS = -3,    /* would create a duplicate */
    CRM_EUSAGE = -4,     /* the caller used the API or CLI wrongly */
    CRM_ECONFIG = -5,    /* configuration is invalid */
    CRM_EDB = -6,        /* the database failed */
    CRM_ENOMEM = -7,     /* out of memory */
    CRM_EIO = -8,        /* a file could not be read or written */
    CRM_EPLUGIN = -9,    /* a plugin was refused or failed */
    CRM_ESCRIPT = -10,   /* a Lua rule failed */
    CRM_EDENIED = -11,   /* not allowed (authorizer, registration after init) */
    CRM_EBUSY = -12,     /* locked or in use */
    CRM_EINTERNAL = -13  /* a bug: please report it */
};

#endif

/* Message templates: a directory of Mustache files, one folder per template.
 *
 *   <messages.templates>/NAME/email.subject.mustache  the email's subject (one line)
 *   <messages.templates>/NAME/email.text.mustache     its text body
 *   <messages.templates>/NAME/email.html.mustache     its HTML alternative (optional)
 *   <messages.templates>/NAME/sms.mustache            the SMS text
 *   <messages.templates>/NAME/data                    payload names it reads (optional)
 *   <messages.templates>/partials/P.mustache          {{> P}} for every template
 *
 * A template offers the channels whose files exist: email needs a subject
 * and a text body. HTML files escape {{x}}, the others do not. Every file is
 * checked at load time against the data a message sees (crm_template_shape):
 * an unknown variable refuses the template with FILE:LINE:COLUMN, so a typo
 * never reaches a customer. `data` lists the payload names the template
 * expects, one per line in crm_mustache_shape_from_names syntax ("quote.*",
 * "points", "items[].name"; `#` starts a comment). */
#ifndef CRM_CORE_MESSAGES_TEMPLATE_H
#define CRM_CORE_MESSAGES_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "messages/mustache.h"

#define CRM_TEMPLATE_MAX_NAME 64

typedef struct crm_template crm_template;

/* One rendered message: malloc'd strings, NULL when the channel has none. */
typedef struct crm_rendered {
    char *subject;
    char *text;
    char *html;
} crm_rendered;

void crm_rendered_clear(crm_rendered *r);

/* The templates directory: crm.yaml messages.templates resolved against the
 * configuration's directory (default "<dir>/templates"). Borrowed from cfg
 * or a static buffer of buf. */
const char *crm_templates_dir(const crm_config *cfg, char *buf, size_t size);

/* Loads, compiles and checks template `name` from dir. CRM_ENOTFOUND when
 * there is no such folder (or it holds no channel), CRM_EINVAL for a bad
 * name, a syntax error or an unknown variable (FILE:LINE:COLUMN in err),
 * CRM_EIO, CRM_ENOMEM. */
int crm_template_load(const char *dir, const char *name, crm_template **out, crm_err *err);

void crm_template_free(crm_template *t);

const char *crm_template_name(const crm_template *t);

/* Whether t has the files of channel ("email", "sms"). */
bool crm_template_has_channel(const crm_template *t, const char *channel);

/* The channels t offers, in preference order (email first), NULL-terminated. */
const char *const *crm_template_channels(const crm_template *t, const char **buf, size_t n);

/* Renders t's channel files against data into out (cleared first). CRM_EINVAL
 * when t lacks the channel; the renderer's errors. */
int crm_template_render(const crm_template *t, const char *channel, const json_t *data,
                        crm_rendered *out, crm_err *err);

/* Calls fn with each template folder name of dir in name order (not
 * loaded). CRM_OK when dir does not exist (no templates). */
int crm_template_each(const char *dir, int (*fn)(const char *name, void *ud), void *ud,
                      crm_err *err);

/* The data every message sees, as a check shape (without the payload). */
json_t *crm_template_shape(void);

#endif

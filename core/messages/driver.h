/* Channel drivers: how a rendered message leaves the CRM.
 *
 * A driver is chosen per channel in crm.yaml `messages.channels` (`driver:
 * file|smtp|http` plus its own keys), opened once from that map, then sends
 * many messages. The outbox (not here) decides whether and when to send; a
 * driver only delivers, and says whether a failure is worth retrying.
 *
 * Delivery is at least once: a message retried after a crash keeps its id,
 * which every driver carries to the receiver (the spool file's name, the
 * Message-ID, the JSON `id` and `webhook-id`) so a copy can be dropped. */
#ifndef CRM_CORE_MESSAGES_DRIVER_H
#define CRM_CORE_MESSAGES_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

/* Longest message id: ids become file names and Message-ID local parts. */
#define CRM_MESSAGE_MAX_ID 128

/* One rendered message. Strings are UTF-8; NULL means absent. */
typedef struct crm_message {
    const char *id;       /* stable across retries: [A-Za-z0-9._-]{1,128} */
    const char *channel;  /* "email", "sms", "webhook", ... */
    const char *to;       /* an email address, a phone number, ... */
    const char *to_name;  /* display name for email, optional */
    const char *from;     /* "Name <addr>" or "addr"; NULL: the channel's `from` */
    const char *subject;  /* email */
    const char *text;     /* the text body (an SMS's whole content) */
    const char *html;     /* optional HTML alternative (email) */
    int64_t date;         /* epoch seconds: the Date header, the JSON `date` */
} crm_message;

/* What a send did, beyond its return code. */
typedef struct crm_send_result {
    bool transient;      /* on failure: retrying later may succeed */
    long status;         /* the peer's last status (SMTP reply, HTTP code), 0 if none */
    char response[256];  /* the peer's reply or where the file went, for the outbox */
} crm_send_result;

typedef struct crm_driver crm_driver;

/* Opens the driver named by `channel_cfg`'s `driver` key (default `file`)
 * for channel `channel` ("email", "sms"): `path` is the key path used in
 * error messages ("messages.channels.email"), `base_dir` resolves relative
 * paths (crm.yaml's directory). Checks every key of the map now, so a typo
 * fails at startup with file:line:column rather than at the first send.
 * Returns CRM_OK with *out set, CRM_ECONFIG (positioned), or CRM_ENOMEM. */
int crm_driver_open(const crm_node *channel_cfg, const char *channel, const char *path,
                    const char *base_dir, crm_driver **out, crm_err *err);

/* Checks channel_cfg as crm_driver_open does (driver name, keys, types,
 * values) without opening anything or reading the environment variables it
 * names: the configuration loader runs it, so a typo refuses every command
 * while a password missing from one shell does not. */
int crm_driver_check(const crm_node *channel_cfg, const char *channel, const char *path,
                     crm_err *err);

/* The driver's name ("file", "smtp", "http"). */
const char *crm_driver_name(const crm_driver *d);

/* Sends m. Returns CRM_OK (res->response says what the peer answered), or
 * CRM_EINVAL for a message the driver cannot carry (no recipient, a bad
 * id: permanent), or CRM_EIO when delivery failed; then err names the driver
 * and the cause, and res->transient says whether to retry (SMTP 4xx, HTTP
 * 408/429/5xx, connection failures and timeouts) or give up (SMTP 5xx, other
 * HTTP 4xx). res may be NULL. Not thread-safe on one driver. */
int crm_driver_send(crm_driver *d, const crm_message *m, crm_send_result *res, crm_err *err);

/* Closes d (NULL-safe). */
void crm_driver_close(crm_driver *d);

/* ---- the MIME builder (mime.c) ---------------------------------------- */

/* Builds m as an RFC 5322 message with CRLF line ends into *out (malloc'd,
 * NUL-terminated, *len bytes): From, To, Subject, Date, Message-ID
 * (`<ID@DOMAIN>`, DOMAIN from the sender's address), MIME-Version; non-ASCII
 * subjects and names as RFC 2047 UTF-8 encoded-words; a text body, or
 * multipart/alternative text + HTML when m->html is set; bodies in
 * quoted-printable, or base64 when mostly non-ASCII. `from` is used when
 * m->from is NULL. Refuses CR or LF in a header value, a missing sender or
 * recipient and a bad id (CRM_EINVAL naming the field); CRM_ENOMEM. */
int crm_mime_build(const crm_message *m, const char *from, char **out, size_t *len,
                   crm_err *err);

/* The address part of "Name <addr>" or "addr" into buf (NUL-terminated);
 * CRM_EINVAL when it is empty or does not fit. */
int crm_mime_address(const char *mailbox, char *buf, size_t size, crm_err *err);

/* Checks a message id (see crm_message.id); CRM_EINVAL naming it. */
int crm_message_id_check(const char *id, crm_err *err);

/* ---- Standard Webhooks signatures (webhook_sign.c) -------------------- */

/* Longest signature header value crm_webhook_sign writes, with its NUL. */
#define CRM_WEBHOOK_SIG_MAX 64

/* Signs a webhook per the Standard Webhooks specification: writes
 * "v1,<base64 HMAC-SHA256 of 'ID.TIMESTAMP.BODY'>" into sig (at least
 * CRM_WEBHOOK_SIG_MAX bytes). `secret` is "whsec_<base64 key>" (the prefix
 * is optional). Returns CRM_OK, or CRM_EINVAL when the secret is not valid
 * base64 or is empty, CRM_EINTERNAL when libsodium cannot start. */
int crm_webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                     size_t body_len, char sig[CRM_WEBHOOK_SIG_MAX], crm_err *err);

/* Checks a received `webhook-signature` header (space-separated list of
 * "v1,<sig>") against the payload, in constant time. Returns CRM_OK when
 * one matches, CRM_EDENIED when none does, or the errors of
 * crm_webhook_sign. */
int crm_webhook_verify(const char *secret, const char *id, int64_t timestamp, const char *body,
                       size_t body_len, const char *header, crm_err *err);

#endif

/* One signed webhook POST over libcurl, on a connection kept per endpoint. */
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/driver.h"
#include "messages/webhook.h"

struct crm_webhook_conn {
    CURL *curl; /* kept between posts: keep-alive to the same endpoint */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode init_rc;

static void init(void) { init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

void crm_webhook_conn_free(crm_webhook_conn *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c);
}

static int conn_get(crm_webhook_conn **conn, CURL **out, crm_err *err)
{
    pthread_once(&once, init);
    if (init_rc != CURLE_OK)
        return crm_err_set(err, CRM_EINTERNAL, "webhooks: libcurl failed to start: %s",
                           curl_easy_strerror(init_rc));
    if (!*conn && !(*conn = calloc(1, sizeof **conn)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    if (!(*conn)->curl && !((*conn)->curl = curl_easy_init()))
        return crm_err_set(err, CRM_ENOMEM, "out of memory starting a connection");
    curl_easy_reset((*conn)->curl);
    *out = (*conn)->curl;
    return CRM_OK;
}

/* Keeps the start of the reply body for the delivery's record. */
static size_t keep_start(char *data, size_t size, size_t nmemb, void *ud)
{
    char *buf = ud; /* 200 bytes */
    size_t have = strlen(buf), n = size * nmemb, room = 199 - have;
    size_t take = n < room ? n : room;
    memcpy(buf + have, data, take);
    buf[have + take] = '\0';
    return n;
}

static struct curl_slist *headers(const char *id, int64_t ts, const char *sig)
{
    char line[256];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    const char *fmt[] = {"webhook-id: %s", "webhook-timestamp: %" PRId64,
                         "webhook-signature: %s"};
    for (int i = 0; h && i < 3; i++) {
        if (i == 1)
            snprintf(line, sizeof line, fmt[i], ts);
        else
            snprintf(line, sizeof line, fmt[i], i == 0 ? id : sig);
        struct curl_slist *n = curl_slist_append(h, line);
        if (!n) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = n;
    }
    return h;
}

static bool transient_status(long code) { return code == 408 || code == 429 || code >= 500; }

int crm_webhook_post(crm_webhook_conn **conn, const char *url, long timeout_ms,
                     const char *secret, const char *webhook_id, int64_t timestamp,
                     const char *body, crm_webhook_result *res, crm_err *err)
{
    *res = (crm_webhook_result){0};
    size_t len = strlen(body);
    char sig[CRM_WEBHOOK_SIG_MAX];
    int rc = crm_webhook_sign(secret, webhook_id, timestamp, body, len, sig, err);
    CURL *c = NULL;
    if (rc == CRM_OK)
        rc = conn_get(conn, &c, err);
    if (rc != CRM_OK)
        return rc;
    struct curl_slist *h = headers(webhook_id, timestamp, sig);
    if (!h)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    char reply[200] = "", ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_start);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (cc != CURLE_OK) {
        /* no usable response: the receiver may or may not have it, so retry */
        res->transient = true;
        snprintf(res->response, sizeof res->response, "%s",
                 ebuf[0] ? ebuf : curl_easy_strerror(cc));
        return crm_err_set(err, CRM_EIO, "POST %s: %s", url, res->response);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    res->transient = transient_status(res->status);
    snprintf(res->response, sizeof res->response, "%ld %s", res->status, reply);
    return CRM_OK;
}

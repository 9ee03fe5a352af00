/* The network drivers, both on libcurl: `smtp` and `http`. */
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "messages/driver_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static int curl_ready(const char *path, crm_err *err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return crm_err_set(err, CRM_EINTERNAL, "%s: libcurl failed to start: %s", path,
                           curl_easy_strerror(curl_init_rc));
    return CRM_OK;
}

/* A connection that never came up or timed out may work later; a refusal
 * by the peer is judged on its status code by the caller. */
static bool curl_transient(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PARTIAL_FILE:
        return true;
    default:
        return false;
    }
}

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

/* ---- smtp -------------------------------------------------------------- */

typedef struct smtp_state {
    char *url;      /* smtp://host:port */
    char *from;
    char *user;
    char *password; /* read from the environment at open, never from crm.yaml */
    char *cafile;   /* a private CA for STARTTLS (an in-house relay); NULL: the system's */
    bool starttls;
    long timeout_ms;
} smtp_state;

static const char *const smtp_keys[] = {"host", "port", "starttls", "cafile", "user",
                                        "password_env", "from", "timeout", NULL};

static void smtp_close(void *state)
{
    smtp_state *s = state;
    if (!s)
        return;
    free(s->url);
    free(s->from);
    free(s->user);
    free(s->cafile);
    if (s->password) {
        memset(s->password, 0, strlen(s->password));
        free(s->password);
    }
    free(s);
}

static int smtp_open(const crm_node *cfg, const char *channel, const char *path,
                     const char *base_dir, void **state, crm_err *err)
{
    (void)channel;
    const char *host, *from, *user, *penv, *cafile;
    int64_t port = 25;
    bool starttls = false;
    long timeout_ms;
    int rc = crm_drv_string(cfg, path, "host", true, &host, err);
    if (rc == CRM_OK)
        rc = crm_drv_string(cfg, path, "from", true, &from, err);
    if (rc == CRM_OK)
        rc = crm_drv_string(cfg, path, "user", false, &user, err);
    if (rc == CRM_OK)
        rc = crm_drv_string(cfg, path, "password_env", false, &penv, err);
    if (rc == CRM_OK)
        rc = crm_drv_string(cfg, path, "cafile", false, &cafile, err);
    if (rc == CRM_OK)
        rc = crm_drv_millis(cfg, path, "timeout", 30000, &timeout_ms, err);
    char p[256];
    const crm_node *n;
    if (rc == CRM_OK && (n = crm_node_get(cfg, "port"))) {
        snprintf(p, sizeof p, "%s.port", path);
        rc = crm_node_int(n, p, &port, err);
        if (rc == CRM_OK && (port < 1 || port > 65535))
            rc = crm_node_expected(n, p, "a port from 1 to 65535", err);
    }
    if (rc == CRM_OK && (n = crm_node_get(cfg, "starttls"))) {
        snprintf(p, sizeof p, "%s.starttls", path);
        rc = crm_node_bool(n, p, &starttls, err);
    }
    if (rc != CRM_OK)
        return rc;
    char addr[320];
    if (crm_mime_address(from, addr, sizeof addr, err) != CRM_OK) {
        snprintf(p, sizeof p, "%s.from", path);
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return crm_node_error(crm_node_get(cfg, "from"), p, err, "%s", why);
    }
    if (strpbrk(host, "/:@ ")) {
        snprintf(p, sizeof p, "%s.host", path);
        return crm_node_expected(crm_node_get(cfg, "host"), p, "a host name or an IPv4 address",
                                 err);
    }
    if (cafile && !starttls) {
        snprintf(p, sizeof p, "%s.cafile", path);
        return crm_node_error(crm_node_get(cfg, "cafile"), p, err,
                              "a CA file is only used with `starttls: true`");
    }
    if (penv && !user) {
        snprintf(p, sizeof p, "%s.password_env", path);
        return crm_node_error(crm_node_get(cfg, "password_env"), p, err,
                              "a password needs a `user`");
    }
    if (!state)
        return CRM_OK;
    const char *password = NULL;
    if (penv) {
        password = getenv(penv);
        if (!password) {
            snprintf(p, sizeof p, "%s.password_env", path);
            return crm_node_error(crm_node_get(cfg, "password_env"), p, err,
                                  "environment variable %s is not set", penv);
        }
    }
    if ((rc = curl_ready(path, err)) != CRM_OK)
        return rc;
    char ca[4096] = "";
    if (cafile)
        snprintf(ca, sizeof ca, "%s%s%s", cafile[0] == '/' ? "" : (base_dir ? base_dir : "."),
                 cafile[0] == '/' ? "" : "/", cafile);
    smtp_state *s = calloc(1, sizeof *s);
    char url[512];
    snprintf(url, sizeof url, "smtp://%s:%" PRId64, host, port);
    if (!s || !(s->url = strdup(url)) || !(s->from = strdup(from)) ||
        (user && !(s->user = strdup(user))) || (password && !(s->password = strdup(password))) ||
        (cafile && !(s->cafile = strdup(ca)))) {
        smtp_close(s);
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
    }
    s->starttls = starttls;
    s->timeout_ms = timeout_ms;
    *state = s;
    return CRM_OK;
}

typedef struct reader {
    const char *data;
    size_t len, off;
} reader;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    reader *r = ud;
    size_t n = size * nitems;
    if (n > r->len - r->off)
        n = r->len - r->off;
    memcpy(buf, r->data + r->off, n);
    r->off += n;
    return n;
}

static int smtp_send(void *state, const crm_message *m, crm_send_result *res, crm_err *err)
{
    smtp_state *s = state;
    char *mime = NULL;
    size_t len = 0;
    int rc = crm_mime_build(m, s->from, &mime, &len, err);
    if (rc != CRM_OK)
        return rc;
    char from_addr[320], rcpt[320];
    if ((rc = crm_mime_address(m->from ? m->from : s->from, from_addr, sizeof from_addr, err)) ||
        (rc = crm_mime_address(m->to, rcpt, sizeof rcpt, err))) {
        free(mime);
        return rc;
    }
    CURL *c = curl_easy_init();
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    if (!c || !rcpts) {
        curl_easy_cleanup(c);
        curl_slist_free_all(rcpts);
        free(mime);
        res->transient = true;
        return crm_err_set(err, CRM_EIO, "out of memory starting a connection");
    }
    reader r = {mime, len, 0};
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (s->starttls)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (s->cafile)
        curl_easy_setopt(c, CURLOPT_CAINFO, s->cafile);
    if (s->user)
        curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
    if (s->password)
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(rcpts);
    free(mime);
    res->status = code;
    if (cc == CURLE_OK) {
        snprintf(res->response, sizeof res->response, "%ld accepted for %s", code, rcpt);
        return CRM_OK;
    }
    /* The server's reply decides: 4xx says "later", 5xx says "never". */
    if (code >= 400 && code < 500)
        res->transient = true;
    else if (code >= 500)
        res->transient = false;
    else
        res->transient = curl_transient(cc);
    snprintf(res->response, sizeof res->response, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
    if (code)
        return crm_err_set(err, CRM_EIO, "sending to %s via %s: server replied %ld (%s): %s",
                           rcpt, s->url, code, res->transient ? "will retry" : "permanent",
                           res->response);
    return crm_err_set(err, CRM_EIO, "sending to %s via %s: %s (%s)", rcpt, s->url,
                       res->response, res->transient ? "will retry" : "permanent");
}

const crm_driver_ops crm_driver_smtp = {"smtp", smtp_keys, smtp_open, smtp_send, smtp_close};

/* ---- http -------------------------------------------------------------- */

typedef struct http_state {
    char *url;
    char *secret; /* Standard Webhooks secret, read from `secret_env` at open */
    long timeout_ms;
} http_state;

static const char *const http_keys[] = {"url", "timeout", "secret_env", NULL};

static void http_close(void *state)
{
    http_state *s = state;
    if (!s)
        return;
    free(s->url);
    if (s->secret) {
        memset(s->secret, 0, strlen(s->secret));
        free(s->secret);
    }
    free(s);
}

static int http_open(const crm_node *cfg, const char *channel, const char *path,
                     const char *base_dir, void **state, crm_err *err)
{
    (void)channel;
    (void)base_dir;
    const char *url, *senv;
    long timeout_ms;
    int rc = crm_drv_string(cfg, path, "url", true, &url, err);
    if (rc == CRM_OK)
        rc = crm_drv_string(cfg, path, "secret_env", false, &senv, err);
    if (rc == CRM_OK)
        rc = crm_drv_millis(cfg, path, "timeout", 10000, &timeout_ms, err);
    if (rc != CRM_OK)
        return rc;
    char p[256];
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(p, sizeof p, "%s.url", path);
        return crm_node_expected(crm_node_get(cfg, "url"), p, "an http:// or https:// URL", err);
    }
    if (!state)
        return CRM_OK;
    const char *secret = NULL;
    if (senv) {
        snprintf(p, sizeof p, "%s.secret_env", path);
        secret = getenv(senv);
        if (!secret)
            return crm_node_error(crm_node_get(cfg, "secret_env"), p, err,
                                  "environment variable %s is not set", senv);
        char sig[CRM_WEBHOOK_SIG_MAX];
        crm_err e2;
        if (crm_webhook_sign(secret, "probe", 0, "", 0, sig, &e2) != CRM_OK)
            return crm_node_error(crm_node_get(cfg, "secret_env"), p, err, "%s: %s", senv,
                                  e2.msg);
    }
    if ((rc = curl_ready(path, err)) != CRM_OK)
        return rc;
    http_state *s = calloc(1, sizeof *s);
    if (!s || !(s->url = strdup(url)) || (secret && !(s->secret = dupstr(secret)))) {
        http_close(s);
        return crm_err_set(err, CRM_ENOMEM, "%s: out of memory", path);
    }
    s->timeout_ms = timeout_ms;
    *state = s;
    return CRM_OK;
}

typedef struct sink {
    char buf[200];
    size_t len;
} sink;

/* Keeps the start of the reply body for the outbox's record. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *k = ud;
    size_t n = size * nmemb, room = sizeof k->buf - 1 - k->len;
    size_t take = n < room ? n : room;
    memcpy(k->buf + k->len, data, take);
    k->len += take;
    k->buf[k->len] = '\0';
    return n;
}

static bool http_transient(long code) { return code == 408 || code == 429 || code >= 500; }

static int http_send(void *state, const crm_message *m, crm_send_result *res, crm_err *err)
{
    http_state *s = state;
    char *body = crm_drv_message_json(m);
    if (!body)
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    size_t len = strlen(body);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char line[256];
    bool oom = !h;
    if (s->secret && !oom) {
        /* The signed timestamp is the send time, not the message's date: a
         * receiver rejects signatures older than a few minutes. */
        int64_t ts = (int64_t)time(NULL);
        char sig[CRM_WEBHOOK_SIG_MAX];
        int rc = crm_webhook_sign(s->secret, m->id, ts, body, len, sig, err);
        if (rc != CRM_OK) {
            curl_slist_free_all(h);
            free(body);
            return rc;
        }
        snprintf(line, sizeof line, "webhook-id: %s", m->id);
        oom = oom || !(h = curl_slist_append(h, line));
        snprintf(line, sizeof line, "webhook-timestamp: %" PRId64, ts);
        oom = oom || !(h = curl_slist_append(h, line));
        snprintf(line, sizeof line, "webhook-signature: %s", sig);
        oom = oom || !(h = curl_slist_append(h, line));
    }
    CURL *c = oom ? NULL : curl_easy_init();
    if (!c) {
        curl_slist_free_all(h);
        free(body);
        res->transient = true;
        return crm_err_set(err, CRM_EIO, "out of memory starting a connection");
    }
    sink k = {.len = 0};
    k.buf[0] = '\0';
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(body);
    res->status = code;
    if (cc != CURLE_OK) {
        res->transient = curl_transient(cc);
        snprintf(res->response, sizeof res->response, "%s",
                 ebuf[0] ? ebuf : curl_easy_strerror(cc));
        return crm_err_set(err, CRM_EIO, "POST %s: %s", s->url, res->response);
    }
    snprintf(res->response, sizeof res->response, "%ld %s", code, k.buf);
    if (code >= 200 && code < 300)
        return CRM_OK;
    res->transient = http_transient(code);
    return crm_err_set(err, CRM_EIO, "POST %s: HTTP status %ld (%s)", s->url, code,
                       res->transient ? "will retry" : "permanent");
}

const crm_driver_ops crm_driver_http = {"http", http_keys, http_open, http_send, http_close};

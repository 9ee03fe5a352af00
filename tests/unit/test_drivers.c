/* The channel drivers against real components on 127.0.0.1: the file
 * driver's spool, an aiosmtpd server for smtp and a Python http.server sink
 * for http (both in tests/data/messages/, each decoding what it receives
 * with Python's own libraries). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "messages/driver.h"
#include "testutil.h"

#define SINK_SECRET "whsec_c2VjcmV0LWtleS1mb3ItdGhlLXRlc3RzLTEyMzQ1Njc4OTA="

typedef struct server {
    pid_t pid;
    int in;   /* its stdin: closing it stops the server */
    int port;
    char *dir; /* where it stores what it received */
} server;

/* Starts tests/data/messages/SCRIPT and reads the port it prints once it
 * listens (a blocking read: no polling, no sleep). */
static void server_start_args(server *s, const char *script, const char *a1, const char *a2,
                              const char *a3)
{
    s->dir = crm_test_tmpdir();
    int to_child[2], from_child[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(from_child), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/messages/%s", CRM_TEST_DATA, script);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[1]);
        close(from_child[0]);
        setenv("SINK_SECRET", SINK_SECRET, 1);
        /* Debian's python3-aiosmtpd belongs to the system interpreter, which
         * a python3 earlier in PATH (pyenv, a venv) may not see. */
        const char *py = getenv("CRM_TEST_PYTHON");
        if (!py)
            py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
        execlp(py, py, path, s->dir, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    s->in = to_child[1];
    char line[32] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(from_child[0], line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(from_child[0]);
    s->port = atoi(line);
    if (s->port <= 0)
        fail_msg("%s did not start (is python3-aiosmtpd installed?)", script);
}

static void server_start(server *s, const char *script)
{
    server_start_args(s, script, NULL, NULL, NULL);
}

static void server_stop(server *s)
{
    close(s->in);
    int st;
    waitpid(s->pid, &st, 0);
    crm_test_rmdir(s->dir);
    free(s->dir);
}

/* What the server stored as its n-th message/request. */
static json_t *received(const server *s, int n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d.json", s->dir, n);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s: %s", path, je.text);
    return j;
}

static bool exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static const char *js(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Opens the driver of `yaml` (one channel map under key `ch`). */
static int open_yaml(const char *yaml, const char *ch, const char *base, crm_driver **d,
                     crm_err *err, crm_node **tree)
{
    int rc = crm_node_parse(tree, yaml, strlen(yaml), "crm.yaml", err);
    if (rc != CRM_OK)
        fail_msg("yaml: %s", err->msg);
    char path[64];
    snprintf(path, sizeof path, "messages.channels.%s", ch);
    return crm_driver_open(crm_node_get(*tree, ch), ch, path, base, d, err);
}

/* A port nothing listens on: bound, then released. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- file --------------------------------------------------------------- */

static void test_file_spool(void **state)
{
    (void)state;
    char *base = crm_test_tmpdir();
    crm_err err = {0};
    crm_node *tree;
    crm_driver *email, *sms;
    const char *yaml = "email: {driver: file, dir: spool/email, from: \"Boutique <b@example.fr>\"}\n"
                       "sms: {dir: spool/sms}\n";
    assert_int_equal(open_yaml(yaml, "email", base, &email, &err, &tree), CRM_OK);
    assert_string_equal(crm_driver_name(email), "file");
    crm_node_free(tree);
    assert_int_equal(open_yaml(yaml, "sms", base, &sms, &err, &tree), CRM_OK);
    crm_node_free(tree);

    crm_message m = {.id = "m-1", .channel = "email", .to = "ana@example.fr",
                     .subject = "Merci Hélène", .text = "Bonjour\n", .date = 1700000000};
    crm_send_result res;
    assert_int_equal(crm_driver_send(email, &m, &res, &err), CRM_OK);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/spool/email", base);
    assert_true(exists(dir, "m-1.eml"));
    assert_false(exists(dir, ".m-1.tmp"));
    assert_non_null(strstr(res.response, "m-1.eml"));
    /* A retry of the same message replaces its file: still one message. */
    assert_int_equal(crm_driver_send(email, &m, &res, &err), CRM_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/m-1.eml", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "Message-ID: <m-1@example.fr>\r\n"));
    assert_non_null(strstr(buf, "Subject: =?UTF-8?B?"));

    crm_message s = {.id = "s-1", .channel = "sms", .to = "+33612345678",
                     .text = "Votre colis arrive", .date = 1700000000};
    assert_int_equal(crm_driver_send(sms, &s, &res, &err), CRM_OK);
    snprintf(path, sizeof path, "%s/spool/sms/s-1.json", base);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    assert_string_equal(js(j, "id"), "s-1");
    assert_string_equal(js(j, "to"), "+33612345678");
    assert_string_equal(js(j, "text"), "Votre colis arrive");
    assert_int_equal(json_integer_value(json_object_get(j, "date")), 1700000000);
    json_decref(j);

    /* A message without a recipient, or with an id that is a path: permanent. */
    s.to = NULL;
    assert_int_equal(crm_driver_send(sms, &s, &res, &err), CRM_EINVAL);
    assert_false(res.transient);
    assert_non_null(strstr(err.msg, "file driver"));
    s.to = "+33612345678";
    s.id = "../x";
    assert_int_equal(crm_driver_send(sms, &s, &res, &err), CRM_EINVAL);
    /* An email channel without a sender cannot build a message. */
    m.id = "m-2";
    crm_driver_close(email);
    assert_int_equal(open_yaml("email: {driver: file, dir: e}\n", "email", base, &email, &err,
                               &tree),
                     CRM_OK);
    crm_node_free(tree);
    assert_int_equal(crm_driver_send(email, &m, &res, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "from"));

    /* The spool cannot be created (a file is in the way): transient, named. */
    crm_driver_close(sms);
    free(crm_test_write_file(base, "blocker", "x"));
    assert_int_equal(open_yaml("sms: {driver: file, dir: blocker/sms}\n", "sms", base, &sms,
                               &err, &tree),
                     CRM_OK);
    crm_node_free(tree);
    s.id = "s-2";
    assert_int_equal(crm_driver_send(sms, &s, &res, &err), CRM_EIO);
    assert_true(res.transient);
    assert_non_null(strstr(err.msg, "file driver: cannot create"));

    crm_driver_close(email);
    crm_driver_close(sms);
    crm_test_rmdir(base);
    free(base);
}

/* Configuration mistakes are refused at open, with file:line:column. */
static void test_config_errors(void **state)
{
    (void)state;
    crm_err err = {0};
    crm_node *tree;
    crm_driver *d = NULL;
    assert_int_equal(open_yaml("email:\n  driver: smpt\n", "email", ".", &d, &err, &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "crm.yaml:2:"));
    assert_non_null(strstr(err.msg, "did you mean 'smtp'"));
    crm_node_free(tree);
    assert_int_equal(open_yaml("email:\n  driver: file\n  dri: x\n", "email", ".", &d, &err,
                               &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "crm.yaml:3:"));
    assert_non_null(strstr(err.msg, "messages.channels.email.dri"));
    crm_node_free(tree);
    assert_int_equal(open_yaml("email: {driver: file}\n", "email", ".", &d, &err, &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "`dir`"));
    crm_node_free(tree);
    unsetenv("CRM_TEST_NO_SUCH_PASSWORD");
    assert_int_equal(open_yaml("email:\n  driver: smtp\n  host: 127.0.0.1\n  from: a@b.fr\n"
                               "  user: u\n  password_env: CRM_TEST_NO_SUCH_PASSWORD\n",
                               "email", ".", &d, &err, &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "CRM_TEST_NO_SUCH_PASSWORD is not set"));
    assert_non_null(strstr(err.msg, "crm.yaml:6:"));
    crm_node_free(tree);
    assert_int_equal(open_yaml("email: {driver: smtp, host: h, from: a@b.fr, port: 70000}\n",
                               "email", ".", &d, &err, &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "port"));
    crm_node_free(tree);
    assert_int_equal(open_yaml("sms: {driver: http, url: ftp://x, timeout: 5s}\n", "sms", ".",
                               &d, &err, &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "messages.channels.sms.url"));
    crm_node_free(tree);
    assert_int_equal(open_yaml("sms: {driver: http, url: http://x, timeout: soon}\n", "sms",
                               ".", &d, &err, &tree),
                     CRM_ECONFIG);
    assert_non_null(strstr(err.msg, "timeout"));
    crm_node_free(tree);
    assert_null(d);
}

/* ---- smtp --------------------------------------------------------------- */

static crm_driver *smtp_driver_with(int port, const char *extra)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "email: {driver: smtp, host: 127.0.0.1, port: %d, timeout: 10s,"
             " from: \"Boutique Élysée <bonjour@example.fr>\"%s}\n",
             port, extra);
    crm_err err = {0};
    crm_node *tree;
    crm_driver *d;
    if (open_yaml(yaml, "email", ".", &d, &err, &tree) != CRM_OK)
        fail_msg("open: %s", err.msg);
    crm_node_free(tree);
    return d;
}

static crm_driver *smtp_driver(int port) { return smtp_driver_with(port, ", starttls: false"); }

static void test_smtp_end_to_end(void **state)
{
    (void)state;
    server s;
    server_start(&s, "smtp_sink.py");
    crm_driver *d = smtp_driver(s.port);
    const char *subject = "Votre commande n°1042 est expédiée, Hélène — à très vite !";
    /* A line of a lone dot would end the SMTP DATA: it must arrive intact. */
    const char *text = "Bonjour Hélène,\n.\n..deux points\nTotal : 49,90 €\n";
    const char *html = "<p>Bonjour <b>Hélène</b>,</p>\n<p>Total&nbsp;: 49,90&nbsp;€</p>\n";
    crm_message m = {.id = "msg-1042", .channel = "email", .to = "helene@example.fr",
                     .to_name = "Hélène Dupré", .subject = subject, .text = text,
                     .html = html, .date = 1700000000};
    crm_send_result res;
    crm_err err = {0};
    if (crm_driver_send(d, &m, &res, &err) != CRM_OK)
        fail_msg("send: %s", err.msg);
    assert_int_equal(res.status, 250);
    json_t *j = received(&s, 1);
    assert_string_equal(js(j, "mail_from"), "bonjour@example.fr");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "rcpt_tos"), 0)),
                        "helene@example.fr");
    assert_string_equal(js(j, "Subject"), subject);
    assert_string_equal(js(j, "from_name"), "Boutique Élysée");
    assert_string_equal(js(j, "to_name"), "Hélène Dupré");
    assert_string_equal(js(j, "Message-ID"), "<msg-1042@example.fr>");
    assert_string_equal(js(j, "Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
    assert_string_equal(js(j, "content_type"), "multipart/alternative");
    assert_string_equal(js(j, "plain"), text);
    assert_string_equal(js(j, "html"), html);
    assert_int_equal(json_array_size(json_object_get(j, "defects")), 0);
    json_decref(j);

    /* 451 at RCPT: try later. */
    m.id = "msg-busy";
    m.to = "busy@example.fr";
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_true(res.transient);
    assert_int_equal(res.status, 451);
    assert_non_null(strstr(err.msg, "smtp driver"));
    assert_non_null(strstr(err.msg, "451"));
    /* 550: never. */
    m.id = "msg-nobody";
    m.to = "nobody@example.fr";
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_false(res.transient);
    assert_int_equal(res.status, 550);
    assert_non_null(strstr(err.msg, "permanent"));
    crm_driver_close(d);
    server_stop(&s);

    /* No server at all: the connection fails, worth retrying. */
    d = smtp_driver(dead_port());
    m.to = "helene@example.fr";
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_true(res.transient);
    assert_non_null(strstr(err.msg, "smtp driver"));
    crm_driver_close(d);
}

/* AUTH with the password taken from the environment variable the config
 * names; a wrong password is refused by the server (535: permanent). */
static void test_smtp_auth(void **state)
{
    (void)state;
    setenv("SINK_SMTP_PASSWORD", "s3cret-pw", 1); /* the server's copy */
    server s;
    server_start_args(&s, "smtp_sink.py", "auth", NULL, NULL);
    setenv("CRM_TEST_SMTP_PASSWORD", "s3cret-pw", 1);
    crm_driver *d =
        smtp_driver_with(s.port, ", user: shop, password_env: CRM_TEST_SMTP_PASSWORD");
    crm_message m = {.id = "auth-1", .channel = "email", .to = "ana@example.fr",
                     .subject = "s", .text = "t\n", .date = 1};
    crm_send_result res;
    crm_err err = {0};
    if (crm_driver_send(d, &m, &res, &err) != CRM_OK)
        fail_msg("send: %s", err.msg);
    json_t *j = received(&s, 1);
    assert_string_equal(js(j, "login"), "shop");
    json_decref(j);
    crm_driver_close(d);

    /* The password is read at open: a different value now is a wrong one. */
    setenv("CRM_TEST_SMTP_PASSWORD", "wrong", 1);
    d = smtp_driver_with(s.port, ", user: shop, password_env: CRM_TEST_SMTP_PASSWORD");
    m.id = "auth-2";
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_int_equal(res.status / 100, 5);
    assert_false(res.transient);
    crm_driver_close(d);
    /* Without credentials the server refuses (530 authentication required). */
    d = smtp_driver(s.port);
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_int_equal(res.status / 100, 5);
    crm_driver_close(d);
    unsetenv("CRM_TEST_SMTP_PASSWORD");
    server_stop(&s);
}

/* STARTTLS against a server that requires it, trusting its certificate
 * through `cafile` (made here with openssl for 127.0.0.1). */
static void test_smtp_starttls(void **state)
{
    (void)state;
    char *dir = crm_test_tmpdir();
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s/key.pem' -out "
             "'%s/cert.pem' -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
             ">/dev/null 2>&1",
             dir, dir);
    assert_int_equal(system(cmd), 0);
    char cert[4200], key[4200];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    server s;
    server_start_args(&s, "smtp_sink.py", "starttls", cert, key);
    char extra[4400];
    snprintf(extra, sizeof extra, ", starttls: true, cafile: \"%s\"", cert);
    crm_driver *d = smtp_driver_with(s.port, extra);
    crm_message m = {.id = "tls-1", .channel = "email", .to = "ana@example.fr",
                     .subject = "Sécurisé", .text = "t\n", .date = 1};
    crm_send_result res;
    crm_err err = {0};
    if (crm_driver_send(d, &m, &res, &err) != CRM_OK)
        fail_msg("send: %s", err.msg);
    json_t *j = received(&s, 1);
    assert_true(json_is_true(json_object_get(j, "tls")));
    assert_string_equal(js(j, "Subject"), "Sécurisé");
    json_decref(j);
    crm_driver_close(d);
    /* Without STARTTLS the server refuses to take the mail. */
    d = smtp_driver(s.port);
    m.id = "tls-2";
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_int_equal(res.status / 100, 5);
    crm_driver_close(d);
    server_stop(&s);
    crm_test_rmdir(dir);
    free(dir);
}

/* ---- http --------------------------------------------------------------- */

static crm_driver *http_driver(int port, const char *path, const char *extra)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml, "sms: {driver: http, url: \"http://127.0.0.1:%d%s\"%s}\n", port,
             path, extra);
    crm_err err = {0};
    crm_node *tree;
    crm_driver *d;
    if (open_yaml(yaml, "sms", ".", &d, &err, &tree) != CRM_OK)
        fail_msg("open: %s", err.msg);
    crm_node_free(tree);
    return d;
}

static void test_http_signed(void **state)
{
    (void)state;
    server s;
    server_start(&s, "http_sink.py");
    setenv("CRM_TEST_HOOK_SECRET", SINK_SECRET, 1);
    crm_driver *d = http_driver(s.port, "/ok", ", timeout: 5s, secret_env: CRM_TEST_HOOK_SECRET");
    crm_message m = {.id = "evt-7", .channel = "sms", .to = "+33612345678",
                     .text = "Votre colis arrive à 14h", .date = 1700000000};
    crm_send_result res;
    crm_err err = {0};
    if (crm_driver_send(d, &m, &res, &err) != CRM_OK)
        fail_msg("send: %s", err.msg);
    assert_int_equal(res.status, 200);
    json_t *j = received(&s, 1);
    json_t *h = json_object_get(j, "headers");
    assert_string_equal(js(h, "content-type"), "application/json");
    assert_string_equal(js(h, "webhook-id"), "evt-7");
    assert_non_null(js(h, "webhook-timestamp"));
    assert_true(json_is_true(json_object_get(j, "sig_ok"))); /* Python's hmac agrees */
    /* Our own verifier agrees with what went over the wire. */
    const char *body = js(j, "body");
    assert_int_equal(crm_webhook_verify(SINK_SECRET, "evt-7", atoll(js(h, "webhook-timestamp")),
                                        body, strlen(body), js(h, "webhook-signature"), &err),
                     CRM_OK);
    json_error_t je;
    json_t *b = json_loads(body, 0, &je);
    assert_non_null(b);
    assert_string_equal(js(b, "id"), "evt-7");
    assert_string_equal(js(b, "to"), "+33612345678");
    assert_string_equal(js(b, "text"), "Votre colis arrive à 14h");
    json_decref(b);
    json_decref(j);
    crm_driver_close(d);
    unsetenv("CRM_TEST_HOOK_SECRET");

    /* Status codes: 5xx, 429 and 408 later; other 4xx (410 included) never. */
    static const struct { const char *path; long status; bool transient; } cases[] = {
        {"/status/503", 503, true}, {"/status/500", 500, true}, {"/status/429", 429, true},
        {"/status/408", 408, true}, {"/status/404", 404, false}, {"/status/410", 410, false},
        {"/status/400", 400, false}, {"/status/204", 204, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        d = http_driver(s.port, cases[i].path, "");
        int rc = crm_driver_send(d, &m, &res, &err);
        assert_int_equal(res.status, cases[i].status);
        if (cases[i].status == 204) {
            assert_int_equal(rc, CRM_OK);
        } else {
            assert_int_equal(rc, CRM_EIO);
            assert_int_equal(res.transient, cases[i].transient);
            assert_non_null(strstr(err.msg, "http driver"));
            char want[32];
            snprintf(want, sizeof want, "status %ld", cases[i].status);
            assert_non_null(strstr(err.msg, want));
        }
        /* Unsigned: no secret configured, no signature headers. */
        j = received(&s, (int)i + 2);
        assert_null(js(json_object_get(j, "headers"), "webhook-signature"));
        json_decref(j);
        crm_driver_close(d);
    }
    server_stop(&s);
}

/* A peer that accepts the connection and never answers: the timeout ends
 * the send, as a transient failure. */
static void test_http_timeout(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0); /* the kernel completes the handshake; nobody reads */
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    crm_driver *d = http_driver(ntohs(a.sin_port), "/hook", ", timeout: 300ms");
    crm_message m = {.id = "t-1", .channel = "sms", .to = "+33612345678", .text = "x"};
    crm_send_result res;
    crm_err err = {0};
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_true(res.transient);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(err.msg, "http driver"));
    assert_non_null(strstr(err.msg, "imed out"));
    crm_driver_close(d);
    close(fd);

    d = http_driver(dead_port(), "/hook", "");
    assert_int_equal(crm_driver_send(d, &m, &res, &err), CRM_EIO);
    assert_true(res.transient);
    crm_driver_close(d);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_spool),     cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_smtp_end_to_end), cmocka_unit_test(test_smtp_auth),
        cmocka_unit_test(test_smtp_starttls),   cmocka_unit_test(test_http_signed),
        cmocka_unit_test(test_http_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

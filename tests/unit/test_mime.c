/* The MIME builder: headers, encoded-words, bodies, checked against an
 * independent decoder (Python's email package) and by hand-computed bytes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/driver.h"
#include "testutil.h"

/* Python parses the message and reports what a mail client would show. */
static const char *const decoder =
    "import email, email.policy, json, sys\n"
    "raw = open(sys.argv[1], 'rb').read()\n"
    "m = email.message_from_bytes(raw, policy=email.policy.default)\n"
    "out = {'subject': str(m['Subject']), 'from_name': m['From'].addresses[0].display_name,\n"
    "       'from_addr': m['From'].addresses[0].addr_spec,\n"
    "       'to_name': m['To'].addresses[0].display_name,\n"
    "       'to_addr': m['To'].addresses[0].addr_spec,\n"
    "       'message_id': str(m['Message-ID']), 'date': str(m['Date']),\n"
    "       'type': m.get_content_type(), 'defects': [str(d) for d in m.defects]}\n"
    "for k in ('plain', 'html'):\n"
    "    p = m.get_body(preferencelist=(k,))\n"
    "    # CRLF is the wire form of a line end; compare texts with LF\n"
    "    out[k] = p.get_content().replace('\\r\\n', '\\n') if p is not None else None\n"
    "    out[k + '_cte'] = p['Content-Transfer-Encoding'] if p is not None else None\n"
    "    if p is not None: out['defects'] += [str(d) for d in p.defects]\n"
    "print(json.dumps(out))\n";

static json_t *python_decode(const char *mime, size_t len)
{
    char *dir = crm_test_tmpdir();
    char *script = crm_test_write_file(dir, "decode.py", decoder);
    char path[4096];
    snprintf(path, sizeof path, "%s/m.eml", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(mime, 1, len, f), len);
    fclose(f);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", script, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    json_error_t je;
    json_t *j = json_loadf(p, 0, &je);
    assert_int_equal(pclose(p), 0);
    if (!j)
        fail_msg("python decode output: %s", je.text);
    free(script);
    crm_test_rmdir(dir);
    free(dir);
    return j;
}

static const char *js(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void assert_lines_short(const char *mime)
{
    /* RFC 5322 2.1.1: at most 78 characters a line (998 is the hard limit). */
    const char *line = mime;
    for (const char *p = mime; *p; p++) {
        if (*p == '\n') {
            assert_int_equal(p[-1], '\r');
            if (p - 1 - line > 78)
                fail_msg("line too long (%d): %.*s", (int)(p - 1 - line), (int)(p - 1 - line),
                         line);
            line = p + 1;
        }
    }
}

static char *build_ok(const crm_message *m, const char *from, size_t *len)
{
    char *out = NULL;
    crm_err err = {0};
    int rc = crm_mime_build(m, from, &out, len, &err);
    if (rc != CRM_OK)
        fail_msg("build: %s", err.msg);
    assert_int_equal(strlen(out), *len);
    return out;
}

/* ASCII headers stay readable; Date and Message-ID have exact, hand-computed values. */
static void test_ascii_headers(void **state)
{
    (void)state;
    crm_message m = {.id = "msg-42", .channel = "email", .to = "ana@example.com",
                     .to_name = "Ana Smith", .subject = "Your order", .text = "Hello Ana\n",
                     .date = 1614265330};
    size_t len;
    char *out = build_ok(&m, "Shop <hello@shop.example>", &len);
    assert_non_null(strstr(out, "From: \"Shop\" <hello@shop.example>\r\n"));
    assert_non_null(strstr(out, "To: \"Ana Smith\" <ana@example.com>\r\n"));
    assert_non_null(strstr(out, "Subject: Your order\r\n"));
    /* 1614265330 = 2021-02-25 15:02:10 UTC, a Thursday. */
    assert_non_null(strstr(out, "Date: Thu, 25 Feb 2021 15:02:10 +0000\r\n"));
    assert_non_null(strstr(out, "Message-ID: <msg-42@shop.example>\r\n"));
    assert_non_null(strstr(out, "MIME-Version: 1.0\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nHello Ana\r\n"));
    assert_lines_short(out);
    json_t *j = python_decode(out, len);
    assert_string_equal(js(j, "subject"), "Your order");
    assert_string_equal(js(j, "plain"), "Hello Ana\n");
    assert_null(js(j, "html"));
    assert_int_equal(json_array_size(json_object_get(j, "defects")), 0);
    json_decref(j);
    free(out);
}

/* Non-ASCII subject and names become RFC 2047 encoded-words; a long one is
 * split into several words, none splitting a UTF-8 character. */
static void test_encoded_words(void **state)
{
    (void)state;
    const char *subject = "Votre commande est expédiée — merci, Hélène ! Ça arrive "
                          "bientôt chez vous à Saint-Étienne, après la fête";
    crm_message m = {.id = "a1", .channel = "email", .to = "helene@example.fr",
                     .to_name = "Hélène Dupré", .subject = subject, .text = "x",
                     .date = 0};
    size_t len;
    char *out = build_ok(&m, "Boutique Élysée <bonjour@example.fr>", &len);
    assert_null(strstr(out, "é")); /* no raw 8-bit byte in the headers */
    assert_non_null(strstr(out, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(out, "?=\r\n =?UTF-8?B?")); /* folded into several words */
    for (const char *p = out; (p = strstr(p, "=?UTF-8?B?")); p++) {
        const char *e = strstr(p + 10, "?=");
        assert_non_null(e);
        assert_true(e + 2 - p <= 75); /* RFC 2047 section 2 */
    }
    assert_lines_short(out);
    json_t *j = python_decode(out, len);
    assert_string_equal(js(j, "subject"), subject);
    assert_string_equal(js(j, "to_name"), "Hélène Dupré");
    assert_string_equal(js(j, "from_name"), "Boutique Élysée");
    assert_string_equal(js(j, "from_addr"), "bonjour@example.fr");
    assert_string_equal(js(j, "date"), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_int_equal(json_array_size(json_object_get(j, "defects")), 0);
    json_decref(j);
    free(out);
}

/* Quoted-printable: '=' escaped, long lines soft-broken at 76, trailing
 * blanks encoded, é as =C3=A9; Python gets the text back byte for byte. */
static void test_quoted_printable(void **state)
{
    (void)state;
    const char *text = "Bonjour Hélène,\n"
                       "Total = 49,90 € TTC   \n"
                       "Une très longue ligne qui dépasse largement soixante-seize caractères "
                       "pour vérifier les retours à la ligne doux du quoted-printable.\n"
                       "Fin.";
    crm_message m = {.id = "qp", .channel = "email", .to = "h@example.fr", .subject = "s",
                     .text = text};
    size_t len;
    char *out = build_ok(&m, "b@example.fr", &len);
    assert_non_null(strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n"));
    assert_non_null(strstr(out, "Bonjour H=C3=A9l=C3=A8ne,\r\n"));
    assert_non_null(strstr(out, "Total =3D 49,90 =E2=82=AC TTC  =20\r\n"));
    assert_non_null(strstr(out, "=\r\n")); /* a soft break */
    assert_lines_short(out);
    json_t *j = python_decode(out, len);
    /* The decoder ends the body with the CRLF the encoder adds. */
    char want[1024];
    snprintf(want, sizeof want, "%s\n", text);
    assert_string_equal(js(j, "plain"), want);
    json_decref(j);
    free(out);
}

/* Mostly non-Latin text goes as base64; text and HTML as multipart/alternative. */
static void test_base64_alternative(void **state)
{
    (void)state;
    const char *text = "Здравствуйте, Анна! Ваш заказ отправлен.\n";
    const char *html = "<p>Здравствуйте, <b>Анна</b>!</p>\n";
    crm_message m = {.id = "alt-1", .channel = "email", .to = "anna@example.ru",
                     .subject = "Заказ", .text = text, .html = html, .date = 86400};
    size_t len;
    char *out = build_ok(&m, "shop@example.ru", &len);
    assert_non_null(strstr(out, "Content-Type: multipart/alternative; boundary=\"=_crm_alt-1\""));
    assert_non_null(strstr(out, "Content-Transfer-Encoding: base64\r\n"));
    assert_non_null(strstr(out, "\r\n\r\n--=_crm_alt-1--\r\n"));
    assert_lines_short(out);
    json_t *j = python_decode(out, len);
    assert_string_equal(js(j, "type"), "multipart/alternative");
    assert_string_equal(js(j, "plain"), text);
    assert_string_equal(js(j, "html"), html);
    assert_string_equal(js(j, "plain_cte"), "base64");
    assert_string_equal(js(j, "subject"), "Заказ");
    assert_int_equal(json_array_size(json_object_get(j, "defects")), 0);
    json_decref(j);
    free(out);
}

/* A line break in a header would let a template add headers (Bcc:): refused. */
static void test_refusals(void **state)
{
    (void)state;
    char *out = NULL;
    crm_err err = {0};
    crm_message m = {.id = "r", .to = "a@example.com", .subject = "hi\r\nBcc: x@evil.example",
                     .text = "t"};
    assert_int_equal(crm_mime_build(&m, "b@example.com", &out, NULL, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "subject"));
    assert_null(out);
    m.subject = "ok";
    m.id = "../etc/passwd";
    assert_int_equal(crm_mime_build(&m, "b@example.com", &out, NULL, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "message id"));
    m.id = "r";
    assert_int_equal(crm_mime_build(&m, NULL, &out, NULL, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "from"));
    assert_int_equal(crm_mime_build(&m, "no-at-sign", &out, NULL, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "from"));
    m.to = "Ana <ana@example.com";
    assert_int_equal(crm_mime_build(&m, "b@example.com", &out, NULL, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "To"));
    char addr[64];
    assert_int_equal(crm_mime_address("\"Ana\" <ana@example.com>", addr, sizeof addr, &err),
                     CRM_OK);
    assert_string_equal(addr, "ana@example.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_headers),     cmocka_unit_test(test_encoded_words),
        cmocka_unit_test(test_quoted_printable),  cmocka_unit_test(test_base64_alternative),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The official Mustache specification's required modules, vendored in
 * tests/conformance/mustache/: every case is compiled (partials from its
 * `partials` object) and rendered with HTML escaping on, as the
 * specification expects, and must give `expected` byte for byte. A failing
 * case is printed with its file, name, template, expected and actual
 * output; the module's test fails when any case does. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/mustache.h"

#define SPEC_DIR CRM_SOURCE_DIR "/tests/conformance/mustache"

/* Partials of one case, from its JSON object. */
static int load_partial(void *ud, const char *name, char **text, size_t *len, char **file,
                        crm_err *err)
{
    const json_t *src = json_object_get((const json_t *)ud, name);
    if (!json_is_string(src))
        return CRM_ENOTFOUND;
    *len = json_string_length(src);
    if (!(*text = malloc(*len + 1)))
        return crm_err_set(err, CRM_ENOMEM, "out of memory");
    memcpy(*text, json_string_value(src), *len + 1);
    *file = NULL;
    return CRM_OK;
}

/* Runs one case; prints and returns false when it fails. */
static bool run_case(const char *module, const json_t *tc, crm_mustache_buf *out)
{
    const char *name = json_string_value(json_object_get(tc, "name"));
    const json_t *tpl = json_object_get(tc, "template");
    const char *expected = json_string_value(json_object_get(tc, "expected"));
    char file[256];
    snprintf(file, sizeof file, "%s.json: %s", module, name ? name : "?");
    if (!name || !json_is_string(tpl) || !expected) {
        fprintf(stderr, "FAIL %s: malformed case\n", file);
        return false;
    }
    crm_mustache_opts o = {.file = file, .escape_html = true, .load = load_partial,
                           .load_ud = json_object_get(tc, "partials")};
    crm_mustache *t = NULL;
    crm_err err = {0};
    bool ok = false;
    if (crm_mustache_compile(json_string_value(tpl), json_string_length(tpl), &o, &t, &err) !=
        CRM_OK) {
        fprintf(stderr, "FAIL %s: compile: %s\n", file, err.msg);
        return false;
    }
    if (crm_mustache_render(t, json_object_get(tc, "data"), out, &err) != CRM_OK)
        fprintf(stderr, "FAIL %s: render: %s\n", file, err.msg);
    else if (out->len != strlen(expected) || memcmp(out->data, expected, out->len) != 0)
        fprintf(stderr, "FAIL %s\n  template: %s\n  expected: [%s]\n  got:      [%s]\n", file,
                json_string_value(tpl), expected, out->data);
    else
        ok = true;
    crm_mustache_free(t);
    return ok;
}

static void run_module(const char *module)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", SPEC_DIR, module);
    json_error_t jerr;
    json_t *spec = json_load_file(path, 0, &jerr);
    if (!spec)
        fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    const json_t *tests = json_object_get(spec, "tests");
    assert_true(json_array_size(tests) > 0);
    crm_mustache_buf out = {0};
    size_t failed = 0, i;
    const json_t *tc;
    json_array_foreach(tests, i, tc) failed += !run_case(module, tc, &out);
    printf("%s.json: %zu of %zu cases pass\n", module, json_array_size(tests) - failed,
           json_array_size(tests));
    crm_mustache_buf_free(&out);
    json_decref(spec);
    assert_int_equal(failed, 0);
}

static void test_comments(void **state) { run_module("comments"); }
static void test_delimiters(void **state) { run_module("delimiters"); }
static void test_interpolation(void **state) { run_module("interpolation"); }
static void test_inverted(void **state) { run_module("inverted"); }
static void test_partials(void **state) { run_module("partials"); }
static void test_sections(void **state) { run_module("sections"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comments),     cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_interpolation), cmocka_unit_test(test_inverted),
        cmocka_unit_test(test_partials),     cmocka_unit_test(test_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

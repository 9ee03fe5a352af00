/* The Mustache engine beyond the specification's own cases: syntax errors
 * with their positions, escaping on and off, falsey values and fallbacks,
 * numbers, partial indentation, render bounds, buffer reuse, the list of
 * references, and the static check against a declared data shape. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/mustache.h"

/* Partials from a NULL-terminated list of name, source pairs; the file
 * shown in messages is "partials/NAME.mustache". */
static int load_pairs(void *ud, const char *name, char **text, size_t *len, char **file,
                      crm_err *err)
{
    const char *const *p = ud;
    for (; p && p[0]; p += 2) {
        if (strcmp(p[0], name) != 0)
            continue;
        *len = strlen(p[1]);
        *text = strdup(p[1]);
        size_t n = strlen(name) + sizeof "partials/.mustache";
        *file = malloc(n);
        if (!*text || !*file)
            return crm_err_set(err, CRM_ENOMEM, "out of memory");
        snprintf(*file, n, "partials/%s.mustache", name);
        return CRM_OK;
    }
    return CRM_ENOTFOUND;
}

static crm_mustache *compile_with(const char *src, bool escape, const char *const *partials)
{
    crm_mustache_opts o = {.file = "t.mustache", .escape_html = escape, .load = load_pairs,
                           .load_ud = (void *)partials};
    crm_mustache *t = NULL;
    crm_err err = {0};
    int rc = crm_mustache_compile(src, strlen(src), &o, &t, &err);
    if (rc != CRM_OK)
        fail_msg("compile %s: %s", src, err.msg);
    return t;
}

/* Renders src against the JSON text data; returns a malloc'd string. */
static char *render_with(const char *src, const char *data, bool escape,
                         const char *const *partials)
{
    crm_mustache *t = compile_with(src, escape, partials);
    json_error_t jerr;
    json_t *d = data ? json_loads(data, JSON_DECODE_ANY, &jerr) : NULL;
    if (data && !d)
        fail_msg("data %s: %s", data, jerr.text);
    crm_mustache_buf out = {0};
    crm_err err = {0};
    if (crm_mustache_render(t, d, &out, &err) != CRM_OK)
        fail_msg("render %s: %s", src, err.msg);
    char *s = strdup(out.data);
    crm_mustache_buf_free(&out);
    json_decref(d);
    crm_mustache_free(t);
    return s;
}

static void assert_renders(const char *src, const char *data, const char *expected)
{
    char *got = render_with(src, data, false, NULL);
    assert_string_equal(got, expected);
    free(got);
}

/* Compiling src fails with CRM_EINVAL and a message starting with where. */
static void assert_syntax_error(const char *src, const char *where, const char *fragment)
{
    crm_mustache_opts o = {.file = "t.mustache"};
    crm_mustache *t = NULL;
    crm_err err = {0};
    assert_int_equal(crm_mustache_compile(src, strlen(src), &o, &t, &err), CRM_EINVAL);
    assert_null(t);
    if (strncmp(err.msg, where, strlen(where)) != 0 || !strstr(err.msg, fragment))
        fail_msg("%s: wanted \"%s...%s\", got \"%s\"", src, where, fragment, err.msg);
}

/* ---- Syntax errors ------------------------------------------------------ */

static void test_errors_say_where(void **state)
{
    assert_syntax_error("Hi\n  {{#orders}}x", "t.mustache:2:3: ", "never closed: add {{/orders}}");
    assert_syntax_error("{{#a}}\n{{#b}}\n{{/a}}", "t.mustache:3:1: ",
                        "does not match the open section {{#b}} of line 2 column 1");
    assert_syntax_error("ok\n{{/a}}", "t.mustache:2:1: ", "closes no open section");
    assert_syntax_error("line\n\tab {{name", "t.mustache:2:5: ", "not closed: add '}}'");
    assert_syntax_error("{{{raw}}", "t.mustache:1:1: ", "not closed: add '}}}'");
    assert_syntax_error("a {{=<%=}}", "t.mustache:1:3: ", "bad set-delimiter tag");
    assert_syntax_error("{{= < % > =}}", "t.mustache:1:1: ", "bad set-delimiter tag");
    assert_syntax_error("{{=a= b=}}", "t.mustache:1:1: ", "bad set-delimiter tag");
    assert_syntax_error("{{=<% %>=}}\n<%name}}", "t.mustache:2:1: ", "not closed: add '%>'");
    assert_syntax_error("x {{ }}", "t.mustache:1:3: ", "empty tag");
    assert_syntax_error("{{first name}}", "t.mustache:1:1: ", "cannot contain spaces");
    assert_syntax_error("{{a..b}}", "t.mustache:1:1: ", "bad dotted name");
    /* 255 bytes is the longest name. */
    char long_name[300] = "x\n {{";
    memset(long_name + 5, 'a', 256);
    strcpy(long_name + 5 + 256, "}}");
    assert_syntax_error(long_name, "t.mustache:2:2: ", "name longer than 255 bytes");
    strcpy(long_name + 5 + 255, "}}");
    crm_mustache_free(compile_with(long_name, false, NULL));
    assert_syntax_error("{{#.a}}{{/.a}}", "t.mustache:1:1: ", "bad dotted name");
    assert_syntax_error("{{<layout}}{{/layout}}", "t.mustache:1:1: ", "inheritance");
    assert_syntax_error("{{$block}}{{/block}}", "t.mustache:1:1: ", "inheritance");
    assert_syntax_error("{{>*name}}", "t.mustache:1:1: ", "dynamic partial names");
    /* Columns count characters, not bytes: "é" and "€" are one each. */
    assert_syntax_error("é€ {{/x}}", "t.mustache:1:4: ", "closes no open section");
    /* A comment or a tag spanning lines moves the position on. */
    assert_syntax_error("{{!\n\n}}  {{^y}}", "t.mustache:3:5: ", "never closed: add {{/y}}");
}

static void test_error_in_partial_names_its_file(void **state)
{
    const char *const partials[] = {"footer", "ok\n{{#x}}", NULL};
    crm_mustache_opts o = {.file = "t.mustache", .load = load_pairs, .load_ud = (void *)partials};
    crm_mustache *t = NULL;
    crm_err err = {0};
    assert_int_equal(crm_mustache_compile("{{>footer}}", 11, &o, &t, &err), CRM_EINVAL);
    assert_string_equal(err.msg, "partials/footer.mustache:2:1: section {{#x}} is never closed: "
                                 "add {{/x}} where it ends");
}

static void test_nesting_bound(void **state)
{
    char src[64 * 12 + 64 * 12 + 1] = "";
    for (int i = 0; i < 65; i++)
        strcat(src, "{{#a}}");
    crm_mustache *t = NULL;
    crm_err err = {0};
    assert_int_equal(crm_mustache_compile(src, strlen(src), NULL, &t, &err), CRM_EINVAL);
    char where[64];
    snprintf(where, sizeof where, "template:1:%d: sections nest more than 64", 64 * 6 + 1);
    assert_non_null(strstr(err.msg, where));
}

/* ---- Rendering ---------------------------------------------------------- */

static void test_escaping_is_per_template(void **state)
{
    const char *src = "{{x}}|{{{x}}}|{{&x}}";
    const char *data = "{\"x\": \"<a href='u'>Tom & \\\"Jerry\\\"</a>\"}";
    char *html = render_with(src, data, true, NULL);
    char *text = render_with(src, data, false, NULL);
    assert_string_equal(html, "&lt;a href=&#39;u&#39;&gt;Tom &amp; &quot;Jerry&quot;&lt;/a&gt;"
                              "|<a href='u'>Tom & \"Jerry\"</a>|<a href='u'>Tom & \"Jerry\"</a>");
    assert_string_equal(text, "<a href='u'>Tom & \"Jerry\"</a>|<a href='u'>Tom & \"Jerry\"</a>"
                              "|<a href='u'>Tom & \"Jerry\"</a>");
    free(html);
    free(text);
}

static void test_falsey_values_and_fallbacks(void **state)
{
    const char *src = "Bonjour {{first_name}}{{^first_name}}client{{/first_name}},";
    assert_renders(src, "{\"first_name\": \"Léa\"}", "Bonjour Léa,");
    assert_renders(src, "{}", "Bonjour client,");
    assert_renders(src, "{\"first_name\": null}", "Bonjour client,");
    assert_renders(src, "{\"first_name\": \"\"}", "Bonjour client,");
    /* 0 is a value like any other: a count of zero still shows. */
    assert_renders("{{#n}}n={{n}}{{/n}}{{^n}}none{{/n}}", "{\"n\": 0}", "n=0");
    assert_renders("{{#o}}[{{k}}]{{/o}}{{^o}}none{{/o}}", "{\"o\": {}}", "[]");
    assert_renders("{{#l}}x{{/l}}{{^l}}empty{{/l}}", "{\"l\": []}", "empty");
}

static void test_values_as_text(void **state)
{
    assert_renders("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
                   "{\"a\": -42, \"b\": 0.1, \"c\": 3.14159, \"d\": 1e21, \"e\": true,"
                   " \"f\": false, \"g\": 9007199254740993}",
                   "-42 0.1 3.14159 1e+21 true false 9007199254740993");
    /* Lists and objects interpolate as nothing. */
    assert_renders("[{{l}}][{{o}}]", "{\"l\": [1], \"o\": {\"k\": 1}}", "[][]");
    /* No data at all is an empty context. */
    assert_renders("[{{x}}{{#x}}y{{/x}}{{^x}}z{{/x}}]", NULL, "[z]");
}

static void test_sections_over_orders(void **state)
{
    const char *src = "{{#orders}}\n"
                      "- {{number}}: {{total}}{{#first}} (first){{/first}}\n"
                      "{{/orders}}\n"
                      "{{^orders}}\n"
                      "No order yet, {{name}}.\n"
                      "{{/orders}}\n";
    assert_renders(src,
                   "{\"name\": \"Ann\", \"orders\": [{\"number\": \"A1\", \"total\": \"9,90 €\","
                   " \"first\": true}, {\"number\": \"A2\", \"total\": \"12,00 €\"}]}",
                   "- A1: 9,90 € (first)\n- A2: 12,00 €\n");
    assert_renders(src, "{\"name\": \"Ann\", \"orders\": []}", "No order yet, Ann.\n");
}

static void test_partial_indentation_accumulates(void **state)
{
    /* A standalone partial indents each of its lines; one nested in it adds
     * its own indentation; empty lines stay empty; an inline partial's
     * lines are not indented. */
    const char *const partials[] = {
        "outer", "<ul>\n  {{>inner}}\n\n</ul>\n",
        "inner", "{{#items}}\n<li>{{.}}</li>\n{{/items}}\n",
        "inline", "a\nb",
        NULL,
    };
    char *got = render_with("<div>\n  {{>outer}}\n</div>\n{{>inline}} {{>inline}}\n",
                            "{\"items\": [\"x\", \"y\"]}", false, partials);
    assert_string_equal(got, "<div>\n  <ul>\n    <li>x</li>\n    <li>y</li>\n\n  </ul>\n</div>\n"
                             "a\nb a\nb\n");
    free(got);
}

static void test_crlf_standalone_lines(void **state)
{
    assert_renders("a\r\n  {{#x}}  \r\nb\r\n{{/x}}\r\nc", "{\"x\": true}", "a\r\nb\r\nc");
}

static void test_self_including_partial_is_bounded(void **state)
{
    const char *const partials[] = {"loop", "x{{>loop}}", NULL};
    crm_mustache *t = compile_with("{{>loop}}", false, partials);
    crm_mustache_buf out = {0};
    crm_err err = {0};
    assert_int_equal(crm_mustache_render(t, NULL, &out, &err), CRM_EINVAL);
    assert_string_equal(err.msg, "partials/loop.mustache:1:2: sections and partials nest more than "
                                 "64 deep here: does a partial include itself outside a section "
                                 "that ends?");
    assert_int_equal(out.len, 0);
    crm_mustache_buf_free(&out);
    crm_mustache_free(t);
}

static void test_output_is_bounded(void **state)
{
    /* 2000^3 lines of 20 bytes would be 160 GB. */
    json_t *list = json_array();
    for (int i = 0; i < 2000; i++)
        json_array_append_new(list, json_integer(i));
    json_t *data = json_pack("{so}", "l", list);
    crm_mustache *t = compile_with("{{#l}}{{#l}}{{#l}}0123456789abcdefghi\n{{/l}}{{/l}}{{/l}}",
                                   false, NULL);
    crm_mustache_buf out = {0};
    crm_err err = {0};
    assert_int_equal(crm_mustache_render(t, data, &out, &err), CRM_EINVAL);
    assert_non_null(strstr(err.msg, "t.mustache:1:13: the message grows past the 64 MiB"));
    crm_mustache_buf_free(&out);
    crm_mustache_free(t);
    json_decref(data);
}

static void test_buffer_reused_across_renders(void **state)
{
    crm_mustache *t = compile_with("Hi {{name}}!", false, NULL);
    crm_mustache_buf out = {0};
    crm_err err = {0};
    const char *names[] = {"a very long name that makes the buffer grow", "Bo", ""};
    for (size_t i = 0; i < 3; i++) {
        json_t *d = json_pack("{ss}", "name", names[i]);
        assert_int_equal(crm_mustache_render(t, d, &out, &err), CRM_OK);
        char want[128];
        snprintf(want, sizeof want, "Hi %s!", names[i]);
        assert_string_equal(out.data, want);
        assert_int_equal(out.len, strlen(want));
        json_decref(d);
    }
    crm_mustache_buf_free(&out);
    crm_mustache_free(t);
}

/* ---- References --------------------------------------------------------- */

static void test_refs_list_every_name_with_its_position(void **state)
{
    const char *const partials[] = {"sig", "--\n  {{shop.name}}", NULL};
    crm_mustache *t = compile_with("Hi {{first_name}},\n{{#orders}}\n  {{{number}}}{{/orders}}"
                                   "{{^vip}}{{>sig}}{{/vip}}{{>nope}}{{! {{ignored}} }}",
                                   false, partials);
    size_t n;
    const crm_mustache_ref *r = crm_mustache_refs(t, &n);
    const struct {
        crm_mustache_ref_kind kind;
        const char *name, *file;
        unsigned line, column;
        bool missing;
    } want[] = {
        {CRM_MUSTACHE_VAR, "first_name", "t.mustache", 1, 4, false},
        {CRM_MUSTACHE_SECTION, "orders", "t.mustache", 2, 1, false},
        {CRM_MUSTACHE_VAR, "number", "t.mustache", 3, 3, false},
        {CRM_MUSTACHE_INVERTED, "vip", "t.mustache", 3, 26, false},
        {CRM_MUSTACHE_PARTIAL, "sig", "t.mustache", 3, 34, false},
        {CRM_MUSTACHE_PARTIAL, "nope", "t.mustache", 3, 50, true},
        {CRM_MUSTACHE_VAR, "shop.name", "partials/sig.mustache", 2, 3, false},
    };
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r[i].kind, want[i].kind);
        assert_string_equal(r[i].name, want[i].name);
        assert_string_equal(r[i].file, want[i].file);
        assert_int_equal(r[i].line, want[i].line);
        assert_int_equal(r[i].column, want[i].column);
        assert_int_equal(r[i].missing, want[i].missing);
    }
    assert_string_equal(crm_mustache_ref_kind_name(CRM_MUSTACHE_INVERTED), "inverted");
    crm_mustache_free(t);
}

/* ---- The static check --------------------------------------------------- */

static const char *const contact_shape =
    "{\"first_name\": \"text\", \"last_name\": \"text\", \"tier\": \"text\","
    " \"last_order\": {\"number\": \"text\", \"total\": \"money\"},"
    " \"orders\": [{\"number\": \"text\", \"total\": \"money\","
    "               \"lines\": [{\"product\": \"text\"}]}],"
    " \"tags\": [\"text\"], \"payload\": null}";

/* Checks src against contact_shape; returns the report (caller frees). */
static crm_mustache_report check(const char *src, const char *const *partials, int want_rc,
                                 crm_err *err)
{
    crm_mustache *t = compile_with(src, false, partials);
    json_t *shape = json_loads(contact_shape, 0, NULL);
    assert_non_null(shape);
    crm_mustache_report rep;
    assert_int_equal(crm_mustache_check(t, shape, &rep, err), want_rc);
    json_decref(shape);
    /* Messages are copied out: issues point at refs owned by t. */
    for (size_t i = 0; i < rep.count; i++)
        rep.items[i].ref = NULL;
    crm_mustache_free(t);
    return rep;
}

/* src (with partials) gives exactly the issues `want` lists, in order:
 * each "E message" (an error) or "W message" (a warning), NULL-terminated;
 * the check's result and err follow from them. */
static void expect(const char *src, const char *const *partials, const char *const *want)
{
    size_t n = 0, errors = 0;
    const char *first_error = NULL;
    for (; want[n]; n++) {
        if (want[n][0] == 'E' && !errors++)
            first_error = want[n] + 2;
    }
    crm_err err = {0};
    crm_mustache_report rep = check(src, partials, errors ? CRM_EINVAL : CRM_OK, &err);
    for (size_t i = 0; i < rep.count || i < n; i++) {
        if (i >= rep.count || i >= n)
            fail_msg("%s: issue %zu: wanted \"%s\", got \"%s\"", src, i, i < n ? want[i] : "-",
                     i < rep.count ? rep.items[i].message : "-");
        char got[600];
        snprintf(got, sizeof got, "%c %s",
                 rep.items[i].severity == CRM_MUSTACHE_ERROR ? 'E' : 'W', rep.items[i].message);
        assert_string_equal(got, want[i]);
    }
    assert_int_equal(rep.errors, errors);
    if (errors == 1) {
        assert_string_equal(err.msg, first_error);
    } else if (errors > 1) {
        char msg[700];
        snprintf(msg, sizeof msg, "%s (and %zu more errors)", first_error, errors - 1);
        assert_string_equal(err.msg, msg);
    }
    crm_mustache_report_free(&rep);
}

#define EXPECT(src, ...) expect(src, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define CLEAN(src) expect(src, NULL, (const char *const[]){NULL})

/* The error for an undeclared `name` at `where`, with `near` (or ""). */
static const char *undeclared(char *buf, size_t size, const char *where, const char *name,
                              const char *near)
{
    snprintf(buf, size, "E %s: {{%s}}: '%s' is not in the data this template sees%s: fix the "
             "name, declare it, or follow it with a fallback {{^%s}}...{{/%s}}", where, name,
             name, near, name, name);
    return buf;
}

static void test_check_declared_names_pass(void **state)
{
    CLEAN("Bonjour {{first_name}} {{last_name}} ({{tier}}),\n"
          "{{#last_order}}Dernière commande {{number}} : {{total}}{{/last_order}}\n"
          "{{last_order.total}}\n"
          "{{#orders}}{{number}} {{total}} {{first_name}}\n"
          "{{#lines}}{{product}} for {{last_name}}, order {{number}}{{/lines}}{{/orders}}\n"
          "{{#tags}}{{.}} {{/tags}}{{^tags}}no tags{{/tags}}\n"
          "{{payload.deal.title}}{{#payload.items}}{{anything}}{{/payload.items}}");
}

static void test_check_the_explicit_fallbacks(void **state)
{
    /* The fallback next to its variable, either side: nothing to say. */
    CLEAN("{{nickname}}{{^nickname}}client{{/nickname}}");
    CLEAN("{{^nickname}}client{{/nickname}}{{nickname}}");
    /* Inside a section of that name: no error; the section itself is
     * reported as a warning since the data never has it. */
    EXPECT("{{#nickname}}Hi {{nickname}}!{{/nickname}}",
           "W t.mustache:1:1: {{#nickname}}: 'nickname' is not in the data this template sees: "
           "its content never renders");
    EXPECT("{{#deal}}{{deal.title}}{{/deal}}",
           "W t.mustache:1:1: {{#deal}}: 'deal' is not in the data this template sees: its "
           "content never renders");
}

static void test_check_a_bare_unknown_name_is_an_error(void **state)
{
    char a[600], b[600];
    EXPECT("Bonjour\n  {{nickname}},", undeclared(a, sizeof a, "t.mustache:2:3", "nickname", ""));
    EXPECT("Bonjour {{frist_name}}", undeclared(a, sizeof a, "t.mustache:1:9", "frist_name",
                                                " (did you mean 'first_name'?)"));
    /* A fallback not right next to it does not count. */
    EXPECT("{{nickname}} {{^nickname}}client{{/nickname}}",
           undeclared(a, sizeof a, "t.mustache:1:1", "nickname", ""),
           "W t.mustache:1:14: {{^nickname}}: 'nickname' is not in the data this template "
           "sees: its content always renders");
    /* Neither does a fallback for another name. */
    EXPECT("{{nickname}}{{^first_name}}client{{/first_name}}",
           undeclared(a, sizeof a, "t.mustache:1:1", "nickname", ""));
    /* Every error is listed; err holds the first and the count. */
    EXPECT("{{a}}\n{{b}}", undeclared(a, sizeof a, "t.mustache:1:1", "a", ""),
           undeclared(b, sizeof b, "t.mustache:2:1", "b", ""));
}

static void test_check_members_and_lists(void **state)
{
    char a[600];
    EXPECT("{{last_order.totl}}",
           "E t.mustache:1:1: {{last_order.totl}}: 'last_order' has no 'totl' (did you mean "
           "'total'?): fix the name, declare it, or follow it with a fallback "
           "{{^last_order.totl}}...{{/last_order.totl}}");
    EXPECT("{{orders.total}}",
           "E t.mustache:1:1: {{orders.total}}: 'orders' is a list: take its items with "
           "{{#orders}}...{{/orders}} and name 'total' inside");
    EXPECT("{{first_name.x}}",
           "E t.mustache:1:1: {{first_name.x}}: 'first_name' is a value, it has no 'x'");
    EXPECT("{{orders}}", "E t.mustache:1:1: {{orders}} is a list and renders as nothing: write "
                         "{{#orders}}...{{/orders}} to show its items");
    EXPECT("x {{{last_order}}}", "E t.mustache:1:3: {{last_order}} is an object and renders as "
                                 "nothing: name one of its fields ({{last_order.number}})");
    EXPECT("{{#last_order}}{{.}}{{/last_order}}",
           "E t.mustache:1:16: {{.}} is an object and renders as nothing: name one of its "
           "fields ({{number}})");
    EXPECT("{{#orders.lines}}{{/orders.lines}}",
           "E t.mustache:1:1: {{#orders.lines}}: 'orders' is a list: take its items with "
           "{{#orders}}...{{/orders}} and name 'lines' inside");
    /* An item's names are known inside the list's section only. */
    EXPECT("{{#orders}}{{/orders}}{{product}}",
           undeclared(a, sizeof a, "t.mustache:1:23", "product", ""));
    /* A section over an undeclared name hides nothing it contains. */
    EXPECT("{{#deal}}{{title}}{{/deal}}",
           "W t.mustache:1:1: {{#deal}}: 'deal' is not in the data this template sees: its "
           "content never renders",
           undeclared(a, sizeof a, "t.mustache:1:10", "title", ""));
}

static void test_check_sections_over_unknown_names_warn(void **state)
{
    EXPECT("{{#vip}}VIP{{/vip}}\n{{^last_oder}}none{{/last_oder}}",
           "W t.mustache:1:1: {{#vip}}: 'vip' is not in the data this template sees: its "
           "content never renders",
           "W t.mustache:2:1: {{^last_oder}}: 'last_oder' is not in the data this template "
           "sees (did you mean 'last_order'?): its content always renders");
}

static void test_check_partials_in_their_callers_context(void **state)
{
    /* line is fine inside orders and wrong outside; tree includes itself;
     * each mistake is reported once, at its place in the partial. */
    const char *const partials[] = {
        "line", "{{number}}: {{total}} {{coupon}}",
        "tree", "{{#lines}}{{product}}{{>tree}}{{/lines}}",
        NULL,
    };
    char a[600], b[600], c[600];
    expect("{{#orders}}{{>line}}\n{{>tree}}{{/orders}}{{>line}}{{>footer}}", partials,
           (const char *const[]){
               undeclared(a, sizeof a, "partials/line.mustache:1:23", "coupon", ""),
               undeclared(b, sizeof b, "partials/line.mustache:1:1", "number", ""),
               undeclared(c, sizeof c, "partials/line.mustache:1:13", "total", ""),
               "E t.mustache:2:30: {{>footer}}: partial 'footer' not found: create it or fix "
               "the name",
               NULL});
}

static void test_shape_from_names(void **state)
{
    const char *const names[] = {"first_name", "last_order.total", "last_order.number",
                                 "orders[].number", "orders[].lines[].product", "tags[]",
                                 "payload.*", "payload.ignored", "first_name"};
    json_t *shape = NULL;
    crm_err err = {0};
    assert_int_equal(crm_mustache_shape_from_names(names, 9, &shape, &err), CRM_OK);
    json_t *want = json_loads("{\"first_name\": \"\", \"last_order\": {\"total\": \"\", "
                              "\"number\": \"\"}, \"orders\": [{\"number\": \"\", \"lines\": "
                              "[{\"product\": \"\"}]}], \"tags\": [\"\"], \"payload\": null}",
                              0, NULL);
    if (!json_equal(shape, want))
        fail_msg("shape: %s", json_dumps(shape, JSON_SORT_KEYS));
    json_decref(shape);
    json_decref(want);

    const struct {
        const char *a, *b, *fragment;
    } bad[] = {
        {"orders[]", "orders.total", "'orders.total': declared before as a list: add []"},
        {"tags", "tags[]", "'tags[]': declared before as an object or a value"},
        {"a..b", NULL, "'a..b': write names joined by single dots"},
        {"a b", NULL, "'a b': a name holds no spaces"},
        {"*", NULL, "'*': '*' comes after a name"},
        {"a.*.b", NULL, "'a.*.b': '*' comes last"},
        {"", NULL, "'': write names joined by single dots"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *list[] = {bad[i].a, bad[i].b};
        assert_int_equal(crm_mustache_shape_from_names(list, bad[i].b ? 2 : 1, &shape, &err),
                         CRM_EINVAL);
        assert_null(shape);
        if (!strstr(err.msg, bad[i].fragment))
            fail_msg("%s: got \"%s\"", bad[i].a, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_say_where),
        cmocka_unit_test(test_error_in_partial_names_its_file),
        cmocka_unit_test(test_nesting_bound),
        cmocka_unit_test(test_escaping_is_per_template),
        cmocka_unit_test(test_falsey_values_and_fallbacks),
        cmocka_unit_test(test_values_as_text),
        cmocka_unit_test(test_sections_over_orders),
        cmocka_unit_test(test_partial_indentation_accumulates),
        cmocka_unit_test(test_crlf_standalone_lines),
        cmocka_unit_test(test_self_including_partial_is_bounded),
        cmocka_unit_test(test_output_is_bounded),
        cmocka_unit_test(test_buffer_reused_across_renders),
        cmocka_unit_test(test_refs_list_every_name_with_its_position),
        cmocka_unit_test(test_check_declared_names_pass),
        cmocka_unit_test(test_check_the_explicit_fallbacks),
        cmocka_unit_test(test_check_a_bare_unknown_name_is_an_error),
        cmocka_unit_test(test_check_members_and_lists),
        cmocka_unit_test(test_check_sections_over_unknown_names_warn),
        cmocka_unit_test(test_check_partials_in_their_callers_context),
        cmocka_unit_test(test_shape_from_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

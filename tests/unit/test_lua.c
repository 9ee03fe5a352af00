/* The Lua rule engine: sandbox escapes and bombs, rule kinds, contacts as
 * lazy values, hot reload, --as-of, and the error report format. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "hygiene.h"
#include "kernel.h"
#include "lua/engine.h"
#include "lua/lua_int.h"
#include "model.h"

static const char *const config_text =
    "database: crm.db\n"
    "custom_fields:\n"
    "  contact:\n"
    "    - {name: segment, type: text}\n"
    "    - {name: seats, type: integer}\n"
    "lua:\n"
    "  max_memory: 16MiB\n"
    "  max_instructions: 2000000\n"
    "  max_failures: 3\n"
    "rules:\n"
    "  is_vip: {kind: predicate, script: rules.lua, function: is_vip}\n"
    "  churn: {kind: score, script: rules.lua, function: churn}\n"
    "  b2b_email: {kind: validator, script: checks.lua, function: b2b_email}\n"
    "  welcome: {kind: handler, script: handlers.lua, function: setup}\n";

static const char *const rules_lua =
    "function is_vip(c) return c:has_tag('vip') and c.total_spent >= 50000 end\n"
    "function churn(c)\n"
    "  local days = crm.days_since(c.last_order_at)\n"
    "  if days and days > 90 then return 30, {'no order for ' .. days .. ' days'} end\n"
    "  return 0, {}\n"
    "end\n"
    "function now(c) return crm.now() end\n"
    "function recent(c) return c:orders_since(120) end\n"
    "function custom(c) return c.custom.segment .. '/' .. c['custom.seats'] + 1 end\n"
    "function tags(c) return table.concat(c.tags, ',') end\n"
    "function typo(c) return c.emial end\n"
    "function keep(c) kept = c return true end\n"
    "function use_kept(c) return kept.email end\n"
    "function boom(c)\n  error('kaboom')\nend\n"
    "function upper(c) return ('abc'):upper() .. string.format('%d', 7) end\n"
    "function loaded(c) return load('return crm.now()')() == crm.now() end\n"
    "function load_io(c) return load('return io.open')() end\n"
    "function money(c) return crm.money.format(123450) .. '|' .. crm.money.parse('12,50 EUR')"
    " end\n"
    "function req(c) return require('crm.money').format(5, 'JPY') end\n"
    "function caught(c) local ok = pcall(function() return io.open('x') end) return ok end\n"
    "function patterns(c)\n"
    "  local a, b = ('hello world'):find('o w')\n"
    "  local m = ('key=value'):match('^(%w+)=(%w+)$')\n"
    "  local s, n = ('a,b,,c'):gsub(',', ';')\n"
    "  local t = {} for w in ('one two three'):gmatch('%a+') do t[#t+1] = w end\n"
    "  local f = ('THE (quick) fox'):find('%f[%a]%a+', 5)\n"
    "  local bal = ('x(a(b)c)y'):match('%b()')\n"
    "  return a .. b .. m .. s .. n .. table.concat(t, '+') .. f .. bal\n"
    "end\n"
    "function write(c) return crm.emit('rule.fired', {}) end\n"
    "function set_field(c) c.email = 'x' end\n"
    "function os_now(c) return os.time() end\n"
    "function os_day(c) return os.date('!%Y-%m-%d %H:%M') .. '|' .. os.date('!*t').year end\n"
    "function os_given(c) return os.date('!%Y-%m-%d', 86400) .. '|' .. os.time{year=2000,"
    " month=1, day=1, hour=12} end\n";

/* Each escape or bomb: the function, the cause it must end with, a fragment
 * of the message. */
static const char *const bombs_lua =
    "function io_open() return io.open('/etc/passwd') end\n"
    "function os_execute() return os.execute('true') end\n"
    "function require_os() return require 'os' end\n"
    "function bytecode() return load('\\27Lua\\84\\0') end\n"
    "function dump() return string.dump(print) end\n"
    "function string_meta() return getmetatable('').__index end\n"
    "function gc() return collectgarbage('count') end\n"
    "function dbg() return debug.getinfo(1) end\n"
    "function dofile_() return dofile('/etc/passwd') end\n"
    "function gc_meta() return setmetatable({}, {__gc = function() end}) end\n"
    "function loop() while true do end end\n"
    "function loop_pcall() while true do pcall(function() while true do end end) end end\n"
    "function loop_xpcall() while true do xpcall(function() while true do end end,\n"
    "  function() while true do end end) end end\n"
    "function loop_co() local co = coroutine.create(function() while true do end end)\n"
    "  return coroutine.resume(co) end\n"
    "function loop_wrap() return coroutine.wrap(function() while true do end end)() end\n"
    "function rep() return string.rep('x', 2^40) end\n"
    "function rep_method() return ('x'):rep(2^30) end\n"
    "function grow() local t = {} for i = 1, 1e9 do t[i] = {i} end end\n"
    "function grow_pcall() local t = {} pcall(function() for i = 1, 1e9 do t[i] = i end end)\n"
    "  return #t end\n"
    "function grow_string() local s = 'x' for i = 1, 40 do s = s .. s end return #s end\n"
    "function recurse() local function f(n) return 1 + f(n + 1) end return f(1) end\n"
    "function pattern() return string.rep('a', 30000):find('.-.-.-.-b') end\n"
    "function long_pattern() return ('x'):find(string.rep('a?', 200)) end\n";

static const struct {
    const char *fn;
    crm_lua_cause cause;
    const char *needle;
} bombs[] = {
    {"io_open", CRM_LUA_BLOCKED, "io.open is not available"},
    {"os_execute", CRM_LUA_BLOCKED, "os.execute is not available"},
    {"require_os", CRM_LUA_BLOCKED, "require \"os\""},
    {"bytecode", CRM_LUA_BLOCKED, "binary chunk"},
    {"dump", CRM_LUA_BLOCKED, "string.dump"},
    {"string_meta", CRM_LUA_BLOCKED, "getmetatable of a string"},
    {"gc", CRM_LUA_BLOCKED, "collectgarbage"},
    {"dbg", CRM_LUA_BLOCKED, "debug.getinfo"},
    {"dofile_", CRM_LUA_BLOCKED, "dofile"},
    {"gc_meta", CRM_LUA_BLOCKED, "__gc"},
    {"loop", CRM_LUA_INSTRUCTIONS, "instruction budget of 2000000 exceeded"},
    {"loop_pcall", CRM_LUA_INSTRUCTIONS, "instruction budget"},
    {"loop_xpcall", CRM_LUA_INSTRUCTIONS, "instruction budget"},
    {"loop_co", CRM_LUA_INSTRUCTIONS, "instruction budget"},
    {"loop_wrap", CRM_LUA_INSTRUCTIONS, "instruction budget"},
    {"rep", CRM_LUA_MEMORY, "string.rep"},
    {"rep_method", CRM_LUA_MEMORY, "string.rep"},
    {"grow", CRM_LUA_MEMORY, "memory limit of 16777216 bytes"},
    {"grow_pcall", CRM_LUA_MEMORY, "memory limit"},
    {"grow_string", CRM_LUA_MEMORY, ""},
    {"recurse", CRM_LUA_MEMORY, ""},
    {"pattern", CRM_LUA_INSTRUCTIONS, "pattern matching exceeded"},
    {"long_pattern", CRM_LUA_BLOCKED, "pattern of 400 bytes"},
};

static const char *const checks_lua =
    "-- company email required for B2B contacts\n"
    "local free = {['gmail.com'] = true, ['yahoo.fr'] = true}\n"
    "function b2b_email(c)\n"
    "  if not c:has_tag('b2b') then return nil end\n"
    "  local domain = c.email and c.email:match('@(.+)$')\n"
    "  if not domain or free[domain] then\n"
    "    return \"email: '\" .. tostring(c.email) .. \"' must be a company address for B2B\"\n"
    "  end\n"
    "end\n";

static const char *const handlers_lua =
    "function setup()\n"
    "  on('contact.created', function(ev)\n"
    "    crm.interaction.log{contact_id = ev.contact_id, channel = 'note',\n"
    "                        subject = 'Welcome!'}\n"
    "  end)\n"
    "end\n";

typedef struct fixture {
    char *dir;
    crm_kernel *k;
    char logged[2048];
} fixture;

static void capture_log(const char *rule, const char *msg, void *ud)
{
    fixture *f = ud;
    snprintf(f->logged, sizeof f->logged, "%s: %s", rule, msg);
}

static void write_script(fixture *f, const char *name, const char *text)
{
    char sub[64];
    snprintf(sub, sizeof sub, "scripts/%s", name);
    free(crm_test_write_file(f->dir, sub, text));
}

static crm_kernel *open_kernel(fixture *f, const char *as_of)
{
    char cfg[4200], db[4200];
    snprintf(cfg, sizeof cfg, "%s/crm.yaml", f->dir);
    snprintf(db, sizeof db, "%s/crm.db", f->dir);
    crm_open_opts o = {.config_path = cfg, .db_path = db, .as_of = as_of, .create = true,
                       .no_plugins = true};
    crm_err err = {0};
    crm_kernel *k = NULL;
    if (crm_kernel_open(&k, &o, &err) != CRM_OK)
        fail_msg("kernel open: %s", err.msg);
    crm_lua_set_log(k->lua, capture_log, f);
    return k;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = crm_test_tmpdir();
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/scripts", f->dir);
    mkdir(sub, 0700);
    free(crm_test_write_file(f->dir, "crm.yaml", config_text));
    write_script(f, "rules.lua", rules_lua);
    write_script(f, "bombs.lua", bombs_lua);
    write_script(f, "checks.lua", checks_lua);
    write_script(f, "handlers.lua", handlers_lua);
    f->k = open_kernel(f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    crm_kernel_close(f->k);
    crm_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int64_t add_contact(crm_kernel *k, const char *email, const char *tag, crm_err *err)
{
    crm_contact c = {0};
    c.first_name = strdup("Ann");
    c.email = strdup(email);
    if (tag)
        crm_contact_add_tag(&c, tag);
    int64_t id = 0;
    int rc = crm_contact_add(k, &c, &id, err);
    crm_contact_clear(&c);
    return rc == CRM_OK ? id : -rc;
}

static void add_order(crm_kernel *k, int64_t contact, const char *at, int64_t total)
{
    crm_order o = {0};
    o.contact_id = contact;
    o.total = total;
    o.status = strdup("paid");
    crm_err err = {0};
    assert_int_equal(crm_parse_datetime("at", at, &o.placed_at, &err), CRM_OK);
    if (crm_order_add(k, &o, NULL, &err) != CRM_OK)
        fail_msg("order: %s", err.msg);
    crm_order_clear(&o);
}

/* Evaluates spec on contact id; returns the rc, out filled. */
static int eval(crm_kernel *k, const char *spec, int64_t id, crm_lua_outcome *out)
{
    crm_lua_rule *r;
    crm_err err = {0};
    if (crm_lua_rule_find(k->lua, spec, &r, &err) != CRM_OK)
        fail_msg("rule %s: %s", spec, err.msg);
    return crm_lua_eval(k->lua, r, id, out, &err);
}

static json_t *eval_ok(crm_kernel *k, const char *spec, int64_t id)
{
    crm_lua_outcome o;
    if (eval(k, spec, id, &o) != CRM_OK)
        fail_msg("%s failed: %s", spec, o.error);
    json_t *r = json_incref(o.result);
    crm_lua_outcome_clear(&o);
    return r;
}

/* ---- sandbox ---------------------------------------------------------------- */

static void test_escapes_and_bombs(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "ann@acme.com", "vip", &err);
    assert_true(id > 0);
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "bombs.lua:%s", bombs[i].fn);
        crm_lua_outcome o;
        int rc = eval(f->k, spec, id, &o);
        if (rc != CRM_ESCRIPT || o.cause != bombs[i].cause || !strstr(o.error, bombs[i].needle))
            fail_msg("%s: rc %d cause %s: %s", bombs[i].fn, rc, crm_lua_cause_name(o.cause),
                     o.error);
        char cause[64];
        snprintf(cause, sizeof cause, "(cause: %s, contact %lld)",
                 crm_lua_cause_name(bombs[i].cause), (long long)id);
        if (!strstr(o.error, cause) || strncmp(o.error, "rule bombs.lua:", 15) != 0)
            fail_msg("%s: report format: %s", bombs[i].fn, o.error);
        crm_lua_outcome_clear(&o);
        /* The next rule runs normally. */
        json_t *r = eval_ok(f->k, "rules.lua:upper", id);
        assert_string_equal(json_string_value(r), "ABC7");
        json_decref(r);
    }
}

static void test_sandbox_allows(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "bob@acme.com", NULL, &err);
    json_t *r = eval_ok(f->k, "rules.lua:loaded", id);
    assert_true(json_is_true(r));
    json_decref(r);
    crm_lua_outcome o;
    assert_int_equal(eval(f->k, "rules.lua:load_io", id, &o), CRM_ESCRIPT);
    assert_int_equal(o.cause, CRM_LUA_BLOCKED);
    crm_lua_outcome_clear(&o);
    r = eval_ok(f->k, "rules.lua:money", id);
    assert_string_equal(json_string_value(r), "1234.50 EUR|1250");
    json_decref(r);
    r = eval_ok(f->k, "rules.lua:req", id);
    assert_string_equal(json_string_value(r), "5 JPY");
    json_decref(r);
    r = eval_ok(f->k, "rules.lua:caught", id);  /* a caught blocked error is fine */
    assert_true(json_is_false(r));
    json_decref(r);
    r = eval_ok(f->k, "rules.lua:patterns", id);
    assert_string_equal(json_string_value(r), "57keya;b;;c3one+two+three6(a(b)c)");
    json_decref(r);
    assert_int_equal(eval(f->k, "rules.lua:write", id, &o), CRM_ESCRIPT);
    assert_int_equal(o.cause, CRM_LUA_BLOCKED);
    assert_non_null(strstr(o.error, "crm.emit outside a handler rule"));
    crm_lua_outcome_clear(&o);
}

/* ---- contacts --------------------------------------------------------------- */

static void test_contact_fields(void **state)
{
    fixture *f = *state;
    crm_contact c = {0};
    c.email = strdup("cat@acme.com");
    crm_contact_add_tag(&c, "zeta");
    crm_contact_add_tag(&c, "alpha");
    crm_contact_set_custom(&c, "segment", "smb");
    crm_contact_set_custom(&c, "seats", "4");
    int64_t id;
    crm_err err = {0};
    assert_int_equal(crm_contact_add(f->k, &c, &id, &err), CRM_OK);
    crm_contact_clear(&c);

    crm_lua_outcome o;
    assert_int_equal(eval(f->k, "rules.lua:custom", id, &o), CRM_OK);
    assert_string_equal(json_string_value(o.result), "smb/5");
    assert_int_equal(json_array_size(o.fields_read), 2);
    assert_string_equal(json_string_value(json_array_get(o.fields_read, 0)), "custom.segment");
    assert_string_equal(json_string_value(json_array_get(o.fields_read, 1)), "custom.seats");
    crm_lua_outcome_clear(&o);

    json_t *r = eval_ok(f->k, "rules.lua:tags", id);
    assert_string_equal(json_string_value(r), "alpha,zeta");
    json_decref(r);

    assert_int_equal(eval(f->k, "rules.lua:typo", id, &o), CRM_ESCRIPT);
    assert_int_equal(o.cause, CRM_LUA_RUNTIME);
    assert_non_null(strstr(o.error, "contact has no field 'emial' (did you mean 'email'?)"));
    crm_lua_outcome_clear(&o);

    r = eval_ok(f->k, "rules.lua:keep", id);
    json_decref(r);
    assert_int_equal(eval(f->k, "rules.lua:use_kept", id, &o), CRM_ESCRIPT);
    assert_non_null(strstr(o.error, "contact used after its rule returned"));
    crm_lua_outcome_clear(&o);

    assert_int_equal(eval(f->k, "rules.lua:set_field", id, &o), CRM_ESCRIPT);
    assert_non_null(strstr(o.error, "read-only"));
    crm_lua_outcome_clear(&o);
}

/* ---- rule kinds ----------------------------------------------------------------- */

static void test_predicate_and_score(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "dan@acme.com", "vip", &err);
    add_order(f->k, id, "2020-01-10", 30000);
    add_order(f->k, id, "2020-02-10", 25000);
    crm_lua_outcome o;
    assert_int_equal(eval(f->k, "is_vip", id, &o), CRM_OK);
    assert_true(json_is_true(o.result));
    assert_string_equal(json_string_value(json_array_get(o.fields_read, 0)), "tags");
    assert_string_equal(json_string_value(json_array_get(o.fields_read, 1)), "total_spent");
    crm_lua_outcome_clear(&o);

    assert_int_equal(eval(f->k, "churn", id, &o), CRM_OK);
    assert_int_equal(json_integer_value(o.result), 30);
    assert_int_equal(json_array_size(o.reasons), 1);
    assert_non_null(strstr(json_string_value(json_array_get(o.reasons, 0)), "no order for"));
    crm_lua_outcome_clear(&o);

    assert_int_equal(eval(f->k, "rules.lua:boom", id, &o), CRM_ESCRIPT);
    char expect[256];
    snprintf(expect, sizeof expect,
             "rule rules.lua:boom: %s/scripts/rules.lua:15: kaboom (cause: runtime, contact %lld)",
             f->dir, (long long)id);
    if (!strstr(o.error, "rules.lua:15: kaboom (cause: runtime, contact"))
        fail_msg("report: %s (expected like %s)", o.error, expect);
    crm_lua_outcome_clear(&o);
}

static void test_validator(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t rc = add_contact(f->k, "eve@gmail.com", "b2b", &err);
    assert_int_equal(rc, -CRM_EINVAL);
    assert_non_null(strstr(err.msg, "email: 'eve@gmail.com' must be a company address for B2B"));
    assert_non_null(strstr(err.msg, "(rule b2b_email)"));
    crm_err_clear(&err);
    assert_true(add_contact(f->k, "eve@bigco.com", "b2b", &err) > 0);
    assert_true(add_contact(f->k, "eve@gmail.com", NULL, &err) > 0);
}

static int64_t count_interactions(crm_kernel *k, int64_t contact)
{
    crm_err err = {0};
    sqlite3_stmt *st = crm_store_stmt(
        k->store, "SELECT count(*) FROM interactions WHERE contact_id=? AND subject='Welcome!'",
        &err);
    sqlite3_bind_int64(st, 1, contact);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return n;
}

static void test_handler(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "fay@acme.com", NULL, &err);
    assert_true(id > 0);
    if (!f->k->bus) {  /* no bus: run the handlers directly */
        char payload[64];
        snprintf(payload, sizeof payload, "{\"contact_id\":%lld}", (long long)id);
        crm_event ev = {.id = 1, .type = "contact.created", .payload = payload};
        assert_int_equal(crm_lua_dispatch(f->k, &ev, &err), CRM_OK);
    }
    assert_int_equal(count_interactions(f->k, id), 1);
}

/* ---- reload, as-of ------------------------------------------------------------------ */

static void test_hot_reload(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "gus@acme.com", NULL, &err);
    crm_lua_set_reload_interval(f->k->lua, 0);
    write_script(f, "v.lua", "function v(c) return 1 end\n");
    json_t *r = eval_ok(f->k, "v.lua:v", id);
    assert_int_equal(json_integer_value(r), 1);
    json_decref(r);
    write_script(f, "v.lua", "function v(c) return 2 + 0 end\n");
    r = eval_ok(f->k, "v.lua:v", id);
    assert_int_equal(json_integer_value(r), 2);
    json_decref(r);
    write_script(f, "v.lua", "function v(c) return 3 +\n");  /* broken */
    r = eval_ok(f->k, "v.lua:v", id);
    assert_int_equal(json_integer_value(r), 2);  /* the previous version stays */
    json_decref(r);
    assert_non_null(strstr(f->logged, "previous version stays active"));
    crm_lua_rule *rule;
    assert_int_equal(crm_lua_rule_find(f->k->lua, "v.lua:v", &rule, &err), CRM_OK);
    assert_non_null(strstr(crm_lua_script_error(rule), "v.lua:2:"));
    write_script(f, "v.lua", "function v(c) return 4 end\n");
    r = eval_ok(f->k, "v.lua:v", id);
    assert_int_equal(json_integer_value(r), 4);
    json_decref(r);
    assert_string_equal(crm_lua_script_error(rule), "");
}

static void test_as_of(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "hal@acme.com", NULL, &err);
    add_order(f->k, id, "2024-01-01", 1000);
    add_order(f->k, id, "2024-03-01", 1000);
    add_order(f->k, id, "2024-06-01", 1000);
    crm_kernel_close(f->k);
    for (int round = 0; round < 2; round++) {
        f->k = open_kernel(f, "2024-04-01");
        json_t *now = eval_ok(f->k, "rules.lua:now", id);
        int64_t expect;
        assert_int_equal(crm_parse_datetime("d", "2024-04-01", &expect, &err), CRM_OK);
        assert_int_equal(json_integer_value(now), expect);
        json_decref(now);
        now = eval_ok(f->k, "rules.lua:os_now", id);  /* the stock idiom honours --as-of */
        assert_int_equal(json_integer_value(now), expect);
        json_decref(now);
        json_t *day = eval_ok(f->k, "rules.lua:os_day", id);
        assert_string_equal(json_string_value(day), "2024-04-01 00:00|2024");
        json_decref(day);
        /* with a time given, the stock functions: the epoch's day 1, and a
         * table converted in the process's zone (compared with mktime) */
        struct tm tm = {.tm_year = 100, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12,
                        .tm_isdst = -1};
        char want[64];
        snprintf(want, sizeof want, "1970-01-02|%lld", (long long)mktime(&tm));
        json_t *given = eval_ok(f->k, "rules.lua:os_given", id);
        assert_string_equal(json_string_value(given), want);
        json_decref(given);
        json_t *recent = eval_ok(f->k, "rules.lua:recent", id);
        assert_int_equal(json_integer_value(recent), 2);  /* June is in the future */
        json_decref(recent);
        crm_lua_outcome o;
        assert_int_equal(eval(f->k, "churn", id, &o), CRM_OK);
        assert_int_equal(json_integer_value(o.result), 0);
        crm_lua_outcome_clear(&o);
        crm_kernel_close(f->k);
    }
    f->k = open_kernel(f, "2025-01-01");
    crm_lua_outcome o;
    assert_int_equal(eval(f->k, "churn", id, &o), CRM_OK);
    assert_int_equal(json_integer_value(o.result), 30);
    crm_lua_outcome_clear(&o);
}

static void test_check_file(void **state)
{
    fixture *f = *state;
    write_script(f, "bad.lua", "x = = 1\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/scripts/bad.lua", f->dir);
    crm_err err = {0};
    assert_int_equal(crm_lua_check_file(f->k->lua, path, &err), CRM_ESCRIPT);
    assert_non_null(strstr(err.msg, "bad.lua:1:"));
    assert_non_null(strstr(err.msg, "(cause: syntax)"));
    /* a top level that compiles but fails is a runtime error */
    write_script(f, "top.lua", "error('at load')\n");
    snprintf(path, sizeof path, "%s/scripts/top.lua", f->dir);
    crm_err_clear(&err);
    assert_int_equal(crm_lua_check_file(f->k->lua, path, &err), CRM_ESCRIPT);
    assert_non_null(strstr(err.msg, "(cause: runtime)"));
    snprintf(path, sizeof path, "%s/scripts/bombs.lua", f->dir);
    crm_err_clear(&err);
    assert_int_equal(crm_lua_check_file(f->k->lua, path, &err), CRM_OK);
}

/* A rule whose script does not compile fails with cause syntax, naming the
 * file:line, the rule and the contact; one whose top level raises is runtime. */
static void test_syntax_cause(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "syd@acme.com", NULL, &err);
    write_script(f, "syn.lua", "function ok(c)\n  return c.id +\nend\n");
    crm_lua_outcome o;
    assert_int_equal(eval(f->k, "syn.lua:ok", id, &o), CRM_ESCRIPT);
    assert_int_equal(o.cause, CRM_LUA_SYNTAX);
    assert_string_equal(crm_lua_cause_name(o.cause), "syntax");
    char want[96];
    snprintf(want, sizeof want, "(cause: syntax, contact %lld)", (long long)id);
    if (!strstr(o.error, "syn.lua:3:") || !strstr(o.error, want) ||
        strncmp(o.error, "rule syn.lua:ok: cannot load ", 29) != 0)
        fail_msg("%s", o.error);
    crm_lua_outcome_clear(&o);
    /* the same again: the cause stays syntax while the file is broken */
    assert_int_equal(eval(f->k, "syn.lua:ok", id, &o), CRM_ESCRIPT);
    assert_int_equal(o.cause, CRM_LUA_SYNTAX);
    crm_lua_outcome_clear(&o);
    write_script(f, "top.lua", "local x = nil\nx.y = 1\nfunction ok(c) return true end\n");
    assert_int_equal(eval(f->k, "top.lua:ok", id, &o), CRM_ESCRIPT);
    assert_int_equal(o.cause, CRM_LUA_RUNTIME);
    crm_lua_outcome_clear(&o);
}

/* The contact object and its documentation (crm rules --help, README) come
 * from one table: every documented name answers on the object with its
 * documented type, and the object answers no undocumented name. */
static void test_contact_doc(void **state)
{
    fixture *f = *state;
    crm_err err = {0};
    int64_t id = add_contact(f->k, "doc@acme.com", "vip", &err);
    /* a script reading every documented name, built from the table */
    char script[8192] = "function all(c)\n  local bad = {}\n";
    size_t len = strlen(script), n = 0;
    const crm_lua_field_doc *d;
    for (; (d = crm_lua_contact_field(n)) != NULL; n++) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(d->name, "("), d->name);
        assert_true(d->type[0] != '\0');
        assert_int_equal(d->method, strchr(d->name, '(') != NULL);
        const char *want = strncmp(d->type, "text", 4) == 0      ? "string"
                           : strncmp(d->type, "integer", 7) == 0 ? "number"
                           : strcmp(d->type, "boolean") == 0     ? "boolean"
                                                                 : "table";
        if (d->method)
            len += (size_t)snprintf(script + len, sizeof script - len,
                                    "  if type(c:%s(%s)) ~= '%s' then bad[#bad+1] = '%s' end\n",
                                    name, strcmp(name, "has_tag") == 0 ? "'vip'" : "30", want,
                                    name);
        else /* nil allowed only where documented |nil */
            len += (size_t)snprintf(script + len, sizeof script - len,
                                    "  do local ok, v = pcall(function() return c.%s end)\n"
                                    "    if not ok or (type(v) ~= '%s' and not (v == nil and "
                                    "%s)) then bad[#bad+1] = '%s' end end\n",
                                    name, want, strstr(d->type, "|nil") ? "true" : "false", name);
    }
    snprintf(script + len, sizeof script - len,
             "  return table.concat(bad, ',')\nend\n"
             "function undocumented(c) return c.nickname end\n");
    write_script(f, "doc.lua", script);
    json_t *r = eval_ok(f->k, "doc.lua:all", id);
    assert_string_equal(json_string_value(r), "");
    json_decref(r);
    crm_lua_outcome o;
    assert_int_equal(eval(f->k, "doc.lua:undocumented", id, &o), CRM_ESCRIPT);
    assert_non_null(strstr(o.error, "contact has no field 'nickname'"));
    crm_lua_outcome_clear(&o);
    /* vice versa: every name the metatable's __index knows is in the table */
    lua_State *L = f->k->lua->L;
    int top = lua_gettop(L);
    assert_int_equal(luaL_getmetatable(L, "crm.contact"), LUA_TTABLE);
    assert_int_equal(lua_getfield(L, -1, "__index"), LUA_TFUNCTION);
    assert_non_null(lua_getupvalue(L, -1, 1));
    size_t known = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *key = lua_tostring(L, -2);
        bool found = false;
        for (size_t i = 0; (d = crm_lua_contact_field(i)) != NULL && !found; i++)
            found = strncmp(d->name, key, strlen(key)) == 0 &&
                    (d->name[strlen(key)] == '\0' || d->name[strlen(key)] == '(') &&
                    d->method == (lua_type(L, -1) == LUA_TFUNCTION);
        if (!found)
            fail_msg("the contact answers '%s', which the documentation table lacks", key);
        known++;
        lua_pop(L, 1);
    }
    assert_int_equal(known, n);
    lua_settop(L, top);
}

static void count_hit(int line, const char *what, void *ud)
{
    (void)line;
    (void)what;
    (*(int *)ud)++;
}

static void test_scan(void **state)
{
    fixture *f = *state;
    write_script(f, "scan.lua",
                 "-- io.open in a comment\nlocal s = 'os.execute in a string'\n"
                 "function a() return io.open('x') end\nfunction b() return os.time() end\n"
                 "function c() return os.getenv('HOME') end\nlocal m = require 'crm.money'\n"
                 "local t = {} t.io = 1\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/scripts/scan.lua", f->dir);
    int hits = 0;
    assert_int_equal(crm_lua_scan_blocked(path, count_hit, &hits), 2);
    assert_int_equal(hits, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escapes_and_bombs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_allows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predicate_and_score, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_cause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_doc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#!/usr/bin/env bash
# The SDK end to end: install the build into a temporary prefix, build
# sdk/template out of tree against it (CMake package and pkg-config), load it
# with a crm.yaml and check its handler, command, table, Lua function and
# listing.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
: "${CRM_SOURCE_DIR:?}" "${CRM_BUILD_DIR:?}" "${CRM_TEST_LIB:?}"
. "$CRM_TEST_LIB"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
prefix=$dir/prefix

# ---- install the SDK -------------------------------------------------------------
assert_exit 0 cmake --install "$CRM_BUILD_DIR" --prefix "$prefix"
for f in include/crm/plugin.h include/crm/error.h; do
    [ -f "$prefix/$f" ] && pass || fail "$f not installed"
done
pc=$(find "$prefix" -name crm-sdk.pc | head -1)
cfg=$(find "$prefix" -name crm-sdkConfig.cmake | head -1)
[ -n "$pc" ] && pass || fail "crm-sdk.pc not installed"
[ -n "$cfg" ] && pass || fail "crm-sdkConfig.cmake not installed"

# the packages' ABI version is the header's
hdr_major=$(sed -n 's/^#define CRM_PLUGIN_ABI_MAJOR \([0-9]*\).*/\1/p' "$CRM_SOURCE_DIR/sdk/include/crm/plugin.h")
hdr_minor=$(sed -n 's/^#define CRM_PLUGIN_ABI_MINOR \([0-9]*\).*/\1/p' "$CRM_SOURCE_DIR/sdk/include/crm/plugin.h")
abi="$hdr_major.$hdr_minor"
[ -n "$hdr_major" ] && [ -n "$hdr_minor" ] && pass || fail "no ABI defines in plugin.h"
run sh -c "PKG_CONFIG_PATH='$(dirname "$pc")' pkg-config --variable=abi_major crm-sdk"
assert_eq "$hdr_major" "$OUT" "crm-sdk.pc abi_major"
run sh -c "PKG_CONFIG_PATH='$(dirname "$pc")' pkg-config --variable=abi_minor crm-sdk"
assert_eq "$hdr_minor" "$OUT" "crm-sdk.pc abi_minor"
assert_contains "$(cat "$cfg")" "set(CRM_SDK_ABI_MAJOR $hdr_major)" "CMake package abi major"
assert_contains "$(cat "$cfg")" "set(CRM_SDK_ABI_MINOR $hdr_minor)" "CMake package abi minor"

# ---- build the template out of tree ---------------------------------------------------
cp -r "$CRM_SOURCE_DIR/sdk/template" "$dir/src"
assert_exit 0 cmake -S "$dir/src" -B "$dir/tb" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
assert_exit 0 cmake --build "$dir/tb"
so=$dir/tb/hello.so
[ -f "$so" ] && pass || fail "hello.so not built: $ERR"
# only the entry point is exported
run sh -c "nm -D --defined-only '$so' | awk '\$2 ~ /[TDB]/ {print \$3}'"
assert_eq "crm_plugin_query" "$OUT" "exported symbols"

# the same with pkg-config
mkdir -p "$dir/pc"
run sh -c "PKG_CONFIG_PATH='$(dirname "$pc")' pkg-config --cflags crm-sdk"
assert_contains "$OUT" "-fvisibility=hidden" "pkg-config cflags"
assert_exit 0 sh -c "cc -shared -fPIC $OUT -o '$dir/pc/hello.so' '$dir/src/hello.c'"

# ---- load it ------------------------------------------------------------------------
export CRM_PLUGIN_PATH=$dir/tb
cd "$dir"
cat >crm.yaml <<YAML
database: $dir/crm.db
plugins: [hello]
hello:
  greeting: Hello
YAML
assert_exit 0 "$CRM" init
assert_exit 0 "$CRM" contact add --first-name Ada --last-name Lovelace --email ada@example.org

# the migration made its table, recorded under the plugin's name
assert_eq 1 "$(sqlite3 "$dir/crm.db" "select count(*) from hello_greetings")" "rows"
assert_eq 1 "$(sqlite3 "$dir/crm.db" "select max(version) from schema_migrations where owner = 'hello'")" "migration"

# the handler ran, the command answers
assert_exit 0 "$CRM" hello greetings
assert_contains "$OUT" "contact 1" "greetings"
assert_contains "$OUT" "Hello" "greetings"
assert_exit 0 "$CRM" hello greetings --json
json_lines_valid "$OUT" && pass || fail "greetings --json: $OUT"
assert_eq "Hello" "$(json_get "$OUT" greeting)" "greeting"
# the structured schema: the plugin's own check points at crm.yaml
cp crm.yaml crm.yaml.ok
printf 'database: %s/crm.db\nplugins: [hello]\nhello:\n  greeting: ""\n' "$dir" >crm.yaml
assert_exit 1 "$CRM" hello greetings
assert_contains "$ERR" "crm.yaml:4:3: hello.greeting: the greeting cannot be empty" "config_error position"
printf 'database: %s/crm.db\nplugins: [hello]\nhello:\n  greting: Hi\n' "$dir" >crm.yaml
assert_exit 1 "$CRM" hello greetings
assert_contains "$ERR" "greeting" "unknown key: the nearest valid one"
mv crm.yaml.ok crm.yaml
assert_exit 0 "$CRM" hello --help
assert_contains "$OUT" "hello greetings" "plugin help"
assert_exit 2 "$CRM" hello nope
assert_contains "$ERR" "unknown command 'hello nope'" "unknown verb"
assert_exit 2 "$CRM" hello greetings extra
assert_contains "$ERR" "unexpected argument 'extra'" "usage error"
# its option table: parsed, refused and documented by the host
assert_exit 2 "$CRM" hello greetings --contct 1
assert_contains "$ERR" "did you mean --contact?" "option suggestion"
assert_exit 0 "$CRM" hello greetings --contact 2
assert_eq "" "$OUT" "filtered out"
assert_exit 0 "$CRM" hello greetings --contact 1
assert_contains "$OUT" "contact 1" "filtered in"
assert_exit 0 "$CRM" hello greetings --help
assert_contains "$OUT" "--contact ID" "option help"

# crm plugins lists it with its events, commands and Lua function
assert_exit 0 "$CRM" plugins --json
assert_eq "hello" "$(json_get "$OUT" name)" "name"
assert_eq "0.1.0" "$(json_get "$OUT" version)" "version"
assert_eq "$abi" "$(json_get "$OUT" abi)" "abi"
assert_eq "$so" "$(json_get "$OUT" file)" "file"
assert_eq "contact.created" "$(json_get "$OUT" events.0.pattern)" "events"
assert_eq "true" "$(json_get "$OUT" events.0.durable)" "durable"
assert_eq "greetings" "$(json_get "$OUT" commands.0.verb)" "commands"
assert_eq "greet" "$(json_get "$OUT" lua_functions.0.name)" "lua functions"
assert_eq "[]" "$(json_get "$OUT" requires)" "requires"
assert_exit 0 "$CRM" plugins
assert_contains "$OUT" "hello 0.1.0 (abi $abi)" "plugins"
assert_exit 0 "$CRM" --help
assert_contains "$OUT" "crm plugins" "--help"

# its HTTP route (SDK 1.4) under crm serve, and its OpenAPI entry with x-owner
. "$CRM_SOURCE_DIR/tests/cli/serve_lib.sh"
assert_exit 0 "$CRM" token create --name t --role viewer
token=$OUT
SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 1 --no-worker
run python3 - "$SERVE_URL" "$token" <<'PY'
import json, sys, urllib.request
url, token = sys.argv[1:3]
def get(path):
    rq = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(rq, timeout=20))
doc = get("/openapi.json")["paths"]["/v1/hello/greetings"]["get"]
print(json.dumps(get("/v1/hello/greetings")), doc["x-owner"])
PY
serve_stop
assert_eq '{"greeting": "Hello", "count": 1} hello' "$OUT" "the template's route"

# the installed crm finds it too; so does the pkg-config build
assert_exit 0 "$prefix/bin/crm" plugins --json
assert_eq "hello" "$(json_get "$OUT" name)" "installed crm"
CRM_PLUGIN_PATH=$dir/pc assert_exit 0 "$CRM" hello greetings
assert_contains "$OUT" "Hello" "pkg-config build"

# a wrong key in its section is refused with its position and a suggestion
cat >bad.yaml <<YAML
database: $dir/crm.db
plugins: [hello]
hello:
  greting: Hello
YAML
assert_exit 1 "$CRM" --config bad.yaml hello greetings
assert_contains "$ERR" "bad.yaml:4:3" "position"
assert_contains "$ERR" "did you mean 'greeting'?" "suggestion"

# a missing plugin refuses the command before touching data
cat >missing.yaml <<YAML
database: $dir/crm.db
plugins: [hello, nothere]
YAML
assert_exit 1 "$CRM" --config missing.yaml contact add --first-name Bob --email bob@example.org
assert_contains "$ERR" "plugin 'nothere' (nothere.so)" "missing plugin"
assert_eq 1 "$(sqlite3 "$dir/crm.db" "select count(*) from contacts")" "no write"

finish

#!/usr/bin/env bash
# SDK 1.3 through the real crm: a plugin command declared with an option
# table behaves like a kernel command (unknown option -> exit 2 naming it,
# --help from the table), structured config errors point into crm.yaml, and a
# plugin may not be named after a kernel command.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
: "${CRM_BUILD_DIR:?}" "${CRM_TEST_LIB:?}"
. "$CRM_TEST_LIB"

export CRM_PLUGIN_PATH=$CRM_BUILD_DIR/tests/plugins/so
if [ ! -f "$CRM_PLUGIN_PATH/table.so" ]; then
    echo "test plugins not built: skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
cat >crm.yaml <<YAML
database: $dir/crm.db
locale:
  timezone: Europe/Paris
plugins: [table]
table:
  pipelines:
    - name: sales
      stages:
        - {name: lead, probability: 10}
YAML
assert_exit 0 "$CRM" init

# the kernel's behaviour, which plugin commands now share
assert_exit 2 "$CRM" contact list --bogus
assert_exit 2 "$CRM" deal list --limit 1 --bogus
assert_contains "$ERR" "crm deal list: unknown option --bogus" "unknown option"
assert_contains "$ERR" "Run \`crm deal list --help\` for usage." "hint"
assert_eq "" "$OUT" "nothing printed"
assert_exit 2 "$CRM" deal list --limt 3
assert_contains "$ERR" "did you mean --limit?" "suggestion"
assert_exit 2 "$CRM" deal list
assert_contains "$ERR" "missing required option --limit N" "required"
assert_exit 2 "$CRM" deal list --limit many
assert_contains "$ERR" "--limit: 'many' is not an integer" "int"
assert_exit 2 "$CRM" deal list --limit 1 --min "1.234 EUR"
assert_contains "$ERR" "--min: " "money"
assert_exit 2 "$CRM" table stamp
assert_contains "$ERR" "expected EPOCH [ZONE]" "positional"

# parsed values reach the handler; global options are the CLI's
assert_exit 0 "$CRM" deal list --json --limit 2 --window 2h --min 15 --since 2026-03-29T12:00:00+02:00 x
assert_contains "$OUT" "limit=2 text=2" "int value"
assert_contains "$OUT" "window=7200s" "duration"
assert_contains "$OUT" "min=1500 EUR" "money in locale currency"
assert_contains "$OUT" "since=1774778400 " "date with offset"
assert_contains "$OUT" "arg x" "positional"
# --as-of drives a date given as "now"
assert_exit 0 "$CRM" --as-of 2026-01-02T03:04:05Z deal list --limit 1 --since now
assert_contains "$OUT" "since=1767323045 " "now = --as-of"

# --help from the same table
assert_exit 0 "$CRM" deal list --help
assert_contains "$OUT" "usage: crm deal list [NAME] [options]" "help synopsis"
assert_contains "$OUT" "--limit N" "help option"
assert_contains "$OUT" "how many deals (required)" "help required"
assert_contains "$OUT" "--window DURATION" "help metavar"
assert_exit 0 "$CRM" deal --help
assert_contains "$OUT" "deal list" "noun help"

# crm plugins --json shows the tables
assert_exit 0 "$CRM" plugins --json
assert_eq "limit" "$(json_get "$OUT" commands.1.options.0.name)" "option listed"
assert_eq "true" "$(json_get "$OUT" commands.1.options.0.required)" "required listed"
assert_eq "duration" "$(json_get "$OUT" commands.1.options.3.type)" "type listed"
assert_eq "probability" "$(json_get "$OUT" config_schema.0.fields.1.fields.1.key)" "schema listed"

# a refusal by the handler is exit 1
assert_exit 1 "$CRM" deal fail
assert_contains "$ERR" "refused on purpose" "handler error"

# structured config errors: file:line:column and the key path
cat >bad.yaml <<YAML
database: $dir/crm.db
plugins: [table]
table:
  pipelines:
    - name: sales
      stages:
        - {name: lead, probabilty: 10}
YAML
assert_exit 1 "$CRM" --config bad.yaml table pipelines
assert_contains "$ERR" "bad.yaml:7:24: unknown key 'probabilty' in 'table.pipelines[0].stages[0]'" "position"
assert_contains "$ERR" "did you mean 'probability'?" "config suggestion"

# a plugin named after a kernel command is refused before any data is touched
cat >rules.yaml <<YAML
database: $dir/crm.db
plugins: [rules]
YAML
assert_exit 1 "$CRM" --config rules.yaml contact add --first-name Bob --email bob@example.org
assert_contains "$ERR" "'rules' is the kernel command \`crm rules\`" "reserved name"
assert_eq 0 "$(sqlite3 "$dir/crm.db" "select count(*) from contacts")" "no write"

finish

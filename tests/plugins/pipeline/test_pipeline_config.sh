#!/usr/bin/env bash
# The pipeline plugin's configuration: errors point at file:line:col and
# leave no database; a configuration without the plugin has none of its
# commands or tables.
. "$(dirname "$0")/pl_common.sh"

bad_config() { # $1 = stages block
    cat >crm.yaml <<YAML
database: bad.db
plugins: [pipeline]
pipeline:
  pipelines:
    - name: b2b
      stages:
$1
YAML
}
bad_config '        - {name: a, probability: 10}
        - {name: w, probability: 100, won: true}
        - {name: w2, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:6:" "two won stages: position of stages"
assert_contains "$ERR" "exactly one won stage and one lost stage (it has 2 won, 1 lost)"
bad_config '        - {name: a, probability: 10, category: maybe}
        - {name: w, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:7:" "unknown category: its line"
assert_contains "$ERR" 'unknown category "maybe"'
bad_config '        - {name: a, probability: 10, rot_after: soon}
        - {name: w, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:7:" "bad duration: its line"
bad_config '        - {name: a, probability: 140}
        - {name: w, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:7:" "probability out of range: its line"
[ ! -s bad.db ] && pass || fail "a refused config wrote the database"

# ---- without the plugin: no commands, no tables -------------------------------------
mkdir bare && cd bare
printf 'database: bare.db\nplugins: []\n' >crm.yaml
assert_exit 0 "$CRM" init --quiet
assert_exit 2 "$CRM" deal list
assert_exit 2 "$CRM" pipeline forecast --from 2026-01-01 --to 2026-01-31
run python3 -c '
import sqlite3
print(sqlite3.connect("bare.db").execute("select count(*) from sqlite_master where name like \"pipeline_%\"").fetchone()[0])'
assert_eq 0 "$OUT" "no pipeline tables without the plugin"
finish

#!/usr/bin/env bash
# Privacy (issue 16): `crm contact export-data` carries a member's loyalty
# rows and the referrals they made; `crm contact erase` removes them and
# leaves another member's ledger intact; a config without the plugin has
# none of its commands or tables.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
contact a
contact b
assert_exit 0 "$CRM" --as-of "$(day 0)" loyalty earn ext:a --points 70 --reason welcome --key wa
assert_exit 0 "$CRM" --as-of "$(day 0)" loyalty earn ext:b --points 30 --reason welcome --key wb
a=$(sql "select id from contacts where external_id='a'")
b=$(sql "select id from contacts where external_id='b'")

assert_exit 0 "$CRM" contact export-data "$a"
run python3 -c '
import json,sys
d=json.loads(sys.argv[1])
print(sum(l["points"] for l in d["plugins"]["loyalty"]["tables"]["loyalty_lots"]))' "$OUT"
assert_eq 70 "$OUT" "export-data has the member's lots (70 points)"

assert_exit 0 "$CRM" contact erase "$a" --reason test
left=$(sql "select (select count(*) from loyalty_lots where contact_id=$a)+(select count(*) from loyalty_ops where contact_id=$a)+(select count(*) from loyalty_entries where contact_id=$a)+(select count(*) from loyalty_members where contact_id=$a)")
assert_eq 0 "$left" "erase removes the member's loyalty rows"
assert_eq 30 "$(sql "select sum(points) from loyalty_lots where contact_id=$b")" "another member's lots stay"
check erase

# ---- without the plugin: no commands, no tables
mkdir bare && cd bare
printf 'database: bare.db\nplugins: []\n' >crm.yaml
assert_exit 0 "$CRM" init --quiet
assert_exit 2 "$CRM" loyalty balance ext:a
assert_exit 2 "$CRM" loyalty report
assert_eq 0 "$(python3 -c 'import sqlite3; print(sqlite3.connect("bare.db").execute("select count(*) from sqlite_master where name like \"loyalty_%\"").fetchone()[0])')" "no loyalty tables without the plugin"
finish

#!/usr/bin/env bash
# crm import runs the Lua validator rules on every contact row, through the
# kernel's validators hook as contact add does: a refused row is rejected
# with the rule's message, the others are stored, and add and import refuse
# the same contacts.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-impval-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
mkdir scripts
cp "$SRC"/scripts/validators.lua scripts/
cat >crm.yaml <<'YAML'
database: crm.db
rules:
  b2b_company_email: {kind: validator, script: validators.lua, function: b2b_company_email}
YAML
assert_exit 0 "$CRM" init

# 200 rows over several batches (--batch 16), so the reader thread runs
# ahead of the writer: every 5th is a B2B contact with a webmail address.
python3 - <<'PY'
with open("c.csv", "w") as f:
    f.write("external_id,first_name,email,tags\n")
    for i in range(200):
        bad = i % 5 == 2
        f.write(f"V{i},Val,v{i}@{'gmail.com' if bad else 'acme.test'},{'b2b' if i % 5 < 3 else ''}\n")
PY
assert_exit 1 "$CRM" import contacts c.csv --batch 16 --json
assert_eq 40 "$(json_get "$OUT" rejected)" "rows refused by the validator"
assert_eq 160 "$(json_get "$OUT" stored)" "rows stored"
reasons=$(python3 -c 'import csv; print(len([r for r in csv.DictReader(open("c.rejects.csv")) if "is a webmail address" in r["reason"] and "(rule b2b_company_email)" in r["reason"]]))')
assert_eq 40 "$reasons" "reject reasons naming the rule"
stored_bad=$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("SELECT count(*) FROM contacts WHERE email LIKE \"%@gmail.com\"").fetchone()[0])')
assert_eq 0 "$stored_bad" "no refused contact stored"

# the same contact through contact add is refused by the same rule
assert_exit 1 "$CRM" contact add --first-name Val --email v2@gmail.com --tag b2b
assert_contains "$ERR" "(rule b2b_company_email)"

finish

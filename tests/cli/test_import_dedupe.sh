#!/usr/bin/env bash
# End to end: crm contact duplicates | merge | merges | unmerge after an import.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\nhygiene:\n  duplicates:\n    refuse_on_add: false\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

assert_exit 0 crm init
cat >"$dir/c.csv" <<'CSV'
external_id,first_name,last_name,email,phone,postal_code,country
A,Jean,Dupont,jean@example.com,0612345678,75001,FR
B,JEAN,DUPONT,,06 12 34 56 78,,FR
C,Marie,Curie,marie@example.com,,69001,FR
CSV
assert_exit 0 crm import contacts "$dir/c.csv" --quiet
assert_exit 0 crm contact duplicates --json
assert_eq 1 "$(line_count "$OUT")" "one pair"
assert_eq 100 "$(json_get "$OUT" score)" "score"
assert_contains "$(json_get "$OUT" reasons)" "same phone +33612345678"
assert_exit 2 crm contact duplicates --min-score 101
assert_exit 0 crm contact duplicates
assert_contains "$OUT" "same name"
assert_exit 0 crm contact merge ext:A ext:B --json
merge=$(json_get "$OUT" merge_id)
assert_exit 0 crm contact merges --json
assert_eq 2 "$(json_get "$OUT" other_id)" "history names OTHER"
assert_exit 1 crm contact show ext:B
assert_exit 0 crm contact duplicates --json
assert_eq 0 "$(line_count "$OUT")" "no pair left"
assert_exit 0 crm contact unmerge "$merge"
assert_exit 0 crm contact show ext:B
assert_exit 1 crm contact unmerge "$merge"
assert_contains "$ERR" "already undone"
assert_exit 2 crm contact unmerge 99999999999999999999
assert_exit 2 crm contact merge ext:A ext:B --prefer other:nope
finish

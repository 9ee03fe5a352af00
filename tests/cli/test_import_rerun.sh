#!/usr/bin/env bash
# End to end: re-importing a file is a no-op (cities cased like names, rows
# without a key matched by the duplicate rules, exports that round-trip).
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
assert_exit 0 crm init

# ---- a city is normalised like a name ----------------------------------------
cat >"$dir/city.csv" <<'CSV'
first_name,last_name,email,city
Jean,Dupont,jean@example.com,PARIS
Jean,Dupont,jean@example.com,Paris
Anne,Roux,anne@example.com,SAINT-ÉTIENNE
Luc,Mars,luc@example.com,bourg-la-reine
CSV
assert_exit 0 crm import contacts "$dir/city.csv" --json
assert_eq 3 "$(json_get "$OUT" stored)" "first run stores 3 contacts"
assert_eq 1 "$(json_get "$OUT" unchanged)" "the Paris row is the PARIS row"
assert_exit 0 crm contact show jean@example.com --json
assert_eq Paris "$(json_get "$OUT" city)" "PARIS cased like a name"
assert_exit 0 crm contact show anne@example.com --json
assert_eq "Saint-Étienne" "$(json_get "$OUT" city)" "accents and hyphens as names"
assert_exit 0 crm contact show luc@example.com --json
assert_eq "Bourg-La-Reine" "$(json_get "$OUT" city)" "hyphenated segments"
# --force: the journal's hash would skip an identical file; the rows are read again
assert_exit 0 crm import contacts "$dir/city.csv" --force --json
assert_eq 4 "$(json_get "$OUT" unchanged)" "second run: every row unchanged"
assert_eq 0 "$(json_get "$OUT" updated)" "second run: no city flipped"

# ---- rows without email, phone or external_id -------------------------------------
cat >"$dir/nokey.csv" <<'CSV'
first_name,last_name,street,postal_code,city
Paul,Verne,1 rue de la Paix,75002,Paris
Lise,Meyer,,67000,Strasbourg
Hugo,Blanc,,,
CSV
before=$(crm contact list --limit 0 --json | wc -l)
assert_exit 0 crm import contacts "$dir/nokey.csv" --json
assert_eq 3 "$(json_get "$OUT" stored)" "first run stores the keyless rows"
assert_exit 0 crm import contacts "$dir/nokey.csv" --force --json
assert_eq 3 "$(json_get "$OUT" unchanged)" "second run: every keyless row unchanged"
assert_eq 0 "$(json_get "$OUT" stored)" "second run stores no copy"
assert_eq "$((before + 3))" "$(crm contact list --limit 0 --json | wc -l)" "count unchanged by the re-run"

# ---- an export round-trips through its id column ----------------------------------
assert_exit 0 crm export contacts -o "$dir/export.csv"
assert_eq id "$(head -1 "$dir/export.csv" | cut -d, -f1)" "the export's first column is the id"
n=$(crm contact list --limit 0 --json | wc -l)
assert_exit 0 crm import contacts "$dir/export.csv" --json
assert_eq "$n" "$(json_get "$OUT" read)" "every exported row read"
assert_eq "$n" "$(json_get "$OUT" unchanged)" "re-importing the export: every row unchanged"
assert_eq "$n" "$(crm contact list --limit 0 --json | wc -l)" "no copy stored"
assert_exit 0 crm export contacts --format jsonl -o "$dir/export.jsonl"
assert_exit 0 crm import contacts "$dir/export.jsonl" --json
assert_eq "$n" "$(json_get "$OUT" unchanged)" "the JSON Lines export too"
# the id column matches the contact even when the row changes its email
id=$(crm contact show anne@example.com --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf 'id,email,city\n%s,anne.roux@example.com,Lyon\n' "$id" >"$dir/byid.csv"
assert_exit 0 crm import contacts "$dir/byid.csv" --json
assert_eq 1 "$(json_get "$OUT" updated)" "a row with an id updates that contact"
assert_exit 0 crm contact show "$id" --json
assert_eq anne.roux@example.com "$(json_get "$OUT" email)" "email changed through the id"
assert_eq "$n" "$(crm contact list --limit 0 --json | wc -l)" "still no copy"
printf 'id,email\n999999,ghost@example.com\nabc,x@example.com\n' >"$dir/badid.csv"
assert_exit 1 crm import contacts "$dir/badid.csv" --json
assert_eq 2 "$(json_get "$OUT" rejected)" "an unknown or malformed id is rejected"
assert_contains "$(cat "$dir/badid.rejects.csv")" "id: no contact 999999 in this database"
assert_contains "$(cat "$dir/badid.rejects.csv")" "id: 'abc' is not a contact id"

finish

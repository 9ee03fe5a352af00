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
assert_exit 0 crm import contacts "$dir/city.csv" --json
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
assert_exit 0 crm import contacts "$dir/nokey.csv" --json
assert_eq 3 "$(json_get "$OUT" unchanged)" "second run: every keyless row unchanged"
assert_eq 0 "$(json_get "$OUT" stored)" "second run stores no copy"
assert_eq "$((before + 3))" "$(crm contact list --limit 0 --json | wc -l)" "count unchanged by the re-run"

finish

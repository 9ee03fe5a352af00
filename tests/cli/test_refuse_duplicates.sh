#!/usr/bin/env bash
# End to end: hygiene.duplicates.refuse_on_add applies the duplicate score on
# `contact add` and on import; --allow-duplicate, --merge-duplicates.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
count() { crm contact list --limit 0 --json | wc -l; }
assert_exit 0 crm init

assert_exit 0 crm contact add --first-name Jean --last-name Dupont --postal-code 75001 \
    --email jean@example.com --json
jean=$(json_get "$OUT" id)
# same name (45) + same postal code (40): the default weights, independently
want=$((45 + 40))
assert_exit 1 crm contact add --first-name JEAN --last-name DUPONT --postal-code 75001 \
    --email j.dupont@work.example
assert_contains "$ERR" "looks like contact $jean (duplicate score $want: same name; same postal code 75001)"
assert_contains "$ERR" "--allow-duplicate"
# similar name (40) + postal code (40) = 80 = min_score: refused too
assert_exit 1 crm contact add --first-name Jean --last-name Dupond --postal-code 75001
assert_contains "$ERR" "duplicate score 80"
assert_contains "$ERR" "similar names"
assert_eq 1 "$(count)" "nothing stored by the refusals"
# another postal code: the name alone scores 45
assert_exit 0 crm contact add --first-name Jean --last-name Dupont --postal-code 69001
assert_exit 0 crm contact add --first-name JEAN --last-name DUPONT --postal-code 75001 \
    --allow-duplicate --json
allowed=$(json_get "$OUT" id)
assert_eq 3 "$(count)" "--allow-duplicate adds anyway"
# the scan scores the pair the refusal named the same
assert_exit 0 crm contact duplicates --json
assert_contains "$OUT" "\"a\":$jean,\"b\":$allowed,\"score\":$want" "the scan's score of the pair"
# a duplicate email is refused whatever the flag
assert_exit 1 crm contact add --email jean@example.com --allow-duplicate
assert_contains "$ERR" "already belongs to contact $jean"

# ---- import: rejected with the reason, or merged ------------------------------------
cat >"$dir/in.csv" <<'CSV'
first_name,last_name,postal_code,phone,email
Marie,Curie,69001,0611223344,marie@example.com
Marie,Curi,69001,,
Paul,Verne,13001,,paul@example.com
CSV
assert_exit 1 crm import contacts "$dir/in.csv" --json # a rejected row: exit 1
assert_eq 2 "$(json_get "$OUT" stored)" "stored"
assert_eq 1 "$(json_get "$OUT" rejected)" "the look-alike row is rejected"
assert_contains "$(cat "$dir/in.rejects.csv")" "looks like contact"
assert_contains "$(cat "$dir/in.rejects.csv")" "similar names"
assert_contains "$(cat "$dir/in.rejects.csv")" "--merge-duplicates merges such rows"
cat >"$dir/more.csv" <<'CSV'
first_name,last_name,postal_code,city,email
Marie,Curi,69001,Lyon,mcurie@lab.example
CSV
assert_exit 0 crm import contacts "$dir/more.csv" --merge-duplicates --json
assert_eq 1 "$(json_get "$OUT" merged)" "--merge-duplicates merges the row"
assert_eq 0 "$(json_get "$OUT" stored)" "and stores none"
assert_exit 0 crm contact show marie@example.com --json
assert_eq Lyon "$(json_get "$OUT" city)" "the merge fills the empty city"
assert_eq marie@example.com "$(json_get "$OUT" email)" "and keeps the existing email"

# refuse_on_add: false stores the look-alike
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\nhygiene:\n  duplicates:\n    refuse_on_add: false\n' >"$dir/crm.yaml"
assert_exit 0 crm contact add --first-name Jean --last-name Dupond --postal-code 75001
finish

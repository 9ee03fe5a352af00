#!/usr/bin/env bash
# Phones end to end through libphonenumber: stored E.164 and phone_type on
# contacts (add, update, import, a database typed by migration 30),
# companies' phones validated the same way, refusals naming field, value,
# country and reason, and nothing written by a refused command.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
rows() { sqlite3 "$dir/t.db" "$1"; }

assert_exit 0 crm init

# ---- contacts: E.164 and type, read with the contact's country ---------------
assert_exit 0 crm --json contact add --first-name Jean --phone "06 12 34 56 78"
jean=$(json_get "$OUT" id)
assert_exit 0 crm --json contact show "$jean"
assert_eq "+33612345678" "$(json_get "$OUT" phone)" "FR mobile stored as E.164"
assert_eq mobile "$(json_get "$OUT" phone_type)" "FR 06 is a mobile"
assert_exit 0 crm --json contact add --first-name Hans --country DE --phone "030 123456"
hans=$(json_get "$OUT" id)
assert_eq "+4930123456|fixed_line" "$(rows "select phone||'|'||phone_type from contacts where id=$hans")" \
    "DE number read with the contact's country"
assert_exit 0 crm --json contact add --first-name Box --phone "09 51 23 45 67"
assert_eq voip "$(rows "select phone_type from contacts where phone='+33951234567'")" "FR 09 is VoIP"

# an update that changes the phone retypes it; one that does not keeps it
assert_exit 0 crm contact update "$jean" --phone "01 42 68 53 00"
assert_eq "+33142685300|fixed_line" "$(rows "select phone||'|'||phone_type from contacts where id=$jean")" \
    "update retypes"
assert_exit 0 crm contact update "$jean" --city paris
assert_eq fixed_line "$(rows "select phone_type from contacts where id=$jean")" "other update keeps type"

# ---- refusals: field, value, country, reason; nothing written ------------------
before=$(rows "select count(*) from contacts; select count(*) from events;" | tr '\n' ' ')
assert_exit 1 crm contact add --first-name Court --phone "06 12"
assert_contains "$ERR" "phone: '06 12' is not a valid FR number (too short)"
assert_exit 1 crm contact add --first-name Libre --phone "05 00 00 00 00 00"
assert_contains "$ERR" "phone: '05 00 00 00 00 00' is not a valid FR number (too long)"
# the right length in no allocated range: the old length rule let it through
assert_exit 1 crm contact add --first-name Belge --country BE --phone "02 123 45 67"
assert_contains "$ERR" "phone: '02 123 45 67' is not a valid BE number (not a range in use)"
assert_exit 1 crm contact update "$jean" --phone "06 12 AB 56 78"
assert_contains "$ERR" "phone: '06 12 AB 56 78' contains letters"
assert_eq "$before" "$(rows "select count(*) from contacts; select count(*) from events;" | tr '\n' ' ')" \
    "refusals write nothing"
assert_eq "+33142685300" "$(rows "select phone from contacts where id=$jean")" "refused update keeps phone"

# ---- companies -----------------------------------------------------------------
assert_exit 0 crm --json company add --name "Acme" --phone "+41 44 668 18 00"
assert_eq "+41446681800" "$(rows "select phone from companies where name='Acme'")" "company E.164"
assert_exit 1 crm company add --name "Bad" --phone "06 12"
assert_contains "$ERR" "phone: '06 12' is not a valid FR number (too short)"

# ---- import: every row typed, a bad row named by line ----------------------------
cat >"$dir/c.csv" <<'CSV'
first_name,last_name,phone,country
Ana,Lopez,612 34 56 78,ES
Marco,Rossi,06 1234 5678,IT
Bob,Smith,(201) 555-0123,US
Nope,Nope,06 12,FR
CSV
assert_exit 1 crm import contacts "$dir/c.csv"
assert_contains "$(cat "$dir/c.rejects.csv")" "phone: '06 12' is not a valid FR number (too short)"
assert_eq "+34612345678|mobile
+390612345678|fixed_line
+12015550123|fixed_line_or_mobile" \
    "$(rows "select phone||'|'||phone_type from contacts where last_name in ('Lopez','Rossi','Smith') order by id")" \
    "imported rows typed"

# ---- the phone-type migration types the phones of an older database -----------------------
rows "ALTER TABLE contacts DROP COLUMN phone_type; DELETE FROM schema_migrations WHERE owner='kernel' AND name='contact phone types';"
assert_exit 0 crm contact list
assert_eq "fixed_line|fixed_line|mobile" \
    "$(rows "select group_concat(phone_type, '|') from (select phone_type from contacts where id in ($hans, $jean) or last_name='Lopez' order by id)" )" \
    "migration typed existing rows"
finish

#!/usr/bin/env bash
# Consents end to end: channels and purposes from crm.yaml `consents:` (an
# unknown one refused naming the known ones, with a suggestion), and a
# repeated grant or withdrawal that changes nothing (exit 0, no record, no
# event). Needs CRM and CRM_TEST_LIB; ctest sets both.
set -uo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-consent-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
rows() { sqlite3 "$dir/t.db" "$1"; }

assert_exit 0 crm init --quiet
assert_exit 0 crm contact add --first-name Ana --email ana@example.com

# The default lists: email, sms, phone, post; newsletter, offers, marketing, profiling.
assert_exit 1 crm consent grant --contact 1 --channel pigeon --purpose newsletter
assert_contains "$ERR" "channel: 'pigeon' is not a consent channel of crm.yaml (email, sms, phone, post)"
assert_contains "$ERR" "add it to consents.channels"
assert_exit 1 crm consent grant --contact 1 --channel emial --purpose newsletter
assert_contains "$ERR" "did you mean 'email'?"
assert_exit 1 crm consent grant --contact 1 --channel email --purpose offfers
assert_contains "$ERR" "(newsletter, offers, marketing, profiling)"
assert_contains "$ERR" "did you mean 'offers'?"
assert_eq 0 "$(rows 'SELECT count(*) FROM consents')" "nothing recorded"
assert_eq 0 "$(rows "SELECT count(*) FROM events WHERE type LIKE 'consent.%'")" "no event"
assert_exit 0 crm consent grant --help
assert_contains "$OUT" "consents.channels"

# A repeated grant and a second withdrawal change nothing.
assert_exit 0 crm consent grant --contact 1 --channel email --purpose newsletter --at 2025-01-01
assert_contains "$OUT" "consent granted: email/newsletter for contact 1"
assert_exit 0 crm consent grant --contact 1 --channel Email --purpose newsletter --at 2025-02-01
assert_contains "$OUT" "was already granted (since 2025-01-01T01:00:00+01:00): nothing changed"
assert_exit 0 crm consent withdraw --contact 1 --channel email --purpose newsletter --at 2025-03-01 --json
assert_eq true "$(json_get "$OUT" changed)"
assert_exit 0 crm consent withdraw --contact 1 --channel email --purpose newsletter --at 2025-04-01 --json
assert_eq false "$(json_get "$OUT" changed)" "second withdrawal"
assert_eq withdrawn "$(json_get "$OUT" status)"
assert_eq "2025-03-01T00:00:00Z" "$(json_get "$OUT" since)"
assert_exit 0 crm consent withdraw --contact 1 --channel email --purpose newsletter
assert_contains "$OUT" "was already withdrawn (since 2025-03-01T01:00:00+01:00): nothing changed"
assert_eq 2 "$(rows 'SELECT count(*) FROM consents')" "two records: the grant and the withdrawal"
assert_eq "consent.granted consent.withdrawn" \
  "$(rows "SELECT group_concat(type, ' ') FROM (SELECT type FROM events WHERE type LIKE 'consent.%' ORDER BY id)")" \
  "one event per change"
assert_exit 0 crm consent show 1 --history --json
assert_eq 2 "$(line_count "$OUT")" "history"

# Lists of your own replace the defaults; a bad name is refused at its position.
printf 'database: t.db\nconsents:\n  channels: [email, pigeon]\n  purposes: [club]\n' >"$dir/crm.yaml"
assert_exit 0 crm consent grant --contact 1 --channel pigeon --purpose club
assert_exit 1 crm consent grant --contact 1 --channel sms --purpose club
assert_contains "$ERR" "(email, pigeon)"
printf 'database: t.db\nconsents:\n  channels: [email, "Text Message"]\n' >"$dir/crm.yaml"
assert_exit 1 crm consent show 1
assert_contains "$ERR" "crm.yaml:3:21: consents.channels[1]"
printf 'database: t.db\nconsents:\n  chanels: [email]\n' >"$dir/crm.yaml"
assert_exit 1 crm consent show 1
assert_contains "$ERR" "did you mean 'channels'?"

finish

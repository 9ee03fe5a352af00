#!/usr/bin/env bash
# End to end: companies, orders, interactions and the timeline, consents and
# users through the real `crm` binary. Needs CRM (the binary) and
# CRM_TEST_LIB (tests/cli/lib.sh); ctest sets both.
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
assert_exit 0 crm contact add --first-name jean --last-name DUPONT --email jean@example.com
contact=$OUT
assert_eq 1 "$contact" "contact id"
assert_exit 0 crm contact add --first-name Ana --email ana@example.com

# ---- help and usage --------------------------------------------------------------
for cmd in "company add" "company list" "order add" "order set-status" "interaction log" \
    "timeline" "consent grant" "consent show" "user add" "user list"; do
    # shellcheck disable=SC2086
    assert_exit 0 crm $cmd --help
    assert_contains "$OUT" "usage: crm $cmd" "$cmd --help"
done
assert_exit 2 crm order add --total 10            # no --contact
assert_contains "$ERR" "missing --contact"
assert_exit 2 crm order add --contact 1           # neither --total nor --line
assert_exit 2 crm order add --contact 1 --line BAD
assert_exit 2 crm order list --bogus
assert_exit 2 crm timeline                        # CONTACT missing
assert_exit 2 crm consent grant --contact 1 --channel email
assert_exit 2 crm order set-status 1

# ---- companies -----------------------------------------------------------------------
assert_exit 0 crm company add --name "  Élan  Vital SARL" --domain "https://www.Elan.FR/" \
    --phone "01 23 45 67 89" --city Lyon
company=$OUT
assert_exit 1 crm company add --name "ELAN VITAL sarl"
assert_contains "$ERR" "already exists as id $company"
assert_exit 0 crm company show "elan vital sarl" --json
assert_eq "Élan Vital SARL" "$(json_get "$OUT" name)" "company name"
assert_eq "elan.fr" "$(json_get "$OUT" domain)" "company domain"
assert_eq "+33123456789" "$(json_get "$OUT" phone)" "company phone"
assert_exit 0 crm company update "$company" --city "" --domain elan-vital.fr
assert_exit 0 crm company show "$company" --json
assert_eq "null" "$(json_get "$OUT" city)" "cleared city"
assert_eq "elan-vital.fr" "$(json_get "$OUT" domain)" "updated domain"
assert_exit 0 crm company add --name "Other Co"
assert_exit 0 crm company list --json
assert_eq 2 "$(line_count "$OUT")" "companies listed"
json_lines_valid "$OUT" && pass || fail "company list --json is not one object per line"
assert_exit 0 crm company list --name vital
assert_contains "$OUT" "Élan Vital SARL"
assert_not_contains "$OUT" "Other Co"
assert_exit 1 crm company show "No Such Co"
assert_contains "$ERR" "crm company list"
assert_exit 1 crm company add --name "Bad Domain" --domain "not a domain"
assert_exit 0 crm company delete "Other Co"
assert_exit 1 crm company show "Other Co"

# ---- orders ------------------------------------------------------------------------
assert_exit 0 crm order add --contact jean@example.com --total 12,50 \
    --placed-at 2025-01-10T09:00:00Z
o1=$OUT
assert_exit 0 crm order show "$o1" --json
assert_eq "12.50" "$(json_get "$OUT" total)" "order total"
assert_eq 1250 "$(json_get "$OUT" total_minor)" "order total in cents"
assert_eq EUR "$(json_get "$OUT" currency)" "default currency"
assert_eq placed "$(json_get "$OUT" status)" "default status"
assert_eq "2025-01-10T09:00:00Z" "$(json_get "$OUT" placed_at)" "placed_at"

assert_exit 0 crm order add --contact "$contact" --line TSHIRT-M:2:19.90 --line MUG:1:8,50 \
    --external-id SHOP-42 --placed-at 2025-01-12 --status paid
o2=$OUT
assert_exit 0 crm order show ext:SHOP-42 --json
assert_eq "48.30" "$(json_get "$OUT" total)" "total from lines"
assert_eq "TSHIRT-M" "$(json_get "$OUT" lines.0.sku)" "line sku"
assert_eq 2 "$(json_get "$OUT" lines.0.quantity)" "line quantity"
assert_eq "8.50" "$(json_get "$OUT" lines.1.unit_price)" "line price"
assert_exit 0 crm order show "$o2"
assert_contains "$OUT" "TSHIRT-M x 2 @ 19.90"
assert_exit 1 crm order add --contact "$contact" --line MUG:1:8.50 --external-id SHOP-42
assert_contains "$ERR" "already order $o2"
assert_exit 1 crm order add --contact "$contact" --total 10 --line MUG:1:8.50
assert_contains "$ERR" "does not match the sum of the lines"
assert_exit 1 crm order add --contact "$contact" --total 12.345
assert_exit 1 crm order add --contact "$contact" --total 5 --currency EURO
assert_exit 1 crm order add --contact "$contact" --total 5 --status shipped
assert_exit 1 crm order add --contact "$contact" --line MUG:0:8.50
# an out-of-range quantity was stored as INT64_MAX (strtoll's ERANGE unchecked)
assert_exit 1 crm order add --contact "$contact" --line MUG:99999999999999999999:0
assert_contains "$ERR" "quantity '99999999999999999999'"
assert_exit 1 crm order add --contact nobody@example.com --total 5
assert_contains "$ERR" "no contact matches"
assert_exit 0 crm order add --contact ana@example.com --total 1500 --currency jpy
o3=$OUT
assert_exit 0 crm order show "$o3" --json
assert_eq "1500" "$(json_get "$OUT" total)" "JPY has no decimals"
assert_eq JPY "$(json_get "$OUT" currency)" "currency upper-cased"

# Status transitions: placed -> paid -> refunded; nothing after.
assert_exit 1 crm order set-status "$o1" refunded
assert_contains "$ERR" "cannot become refunded"
assert_exit 0 crm order set-status "$o1" paid
assert_contains "$OUT" "now paid"
assert_exit 1 crm order set-status "$o1" paid
assert_exit 0 crm order set-status "$o1" refunded --json
assert_eq refunded "$(json_get "$OUT" status)" "set-status --json"
assert_exit 1 crm order set-status "$o1" cancelled
assert_exit 1 crm order set-status 999 paid
assert_contains "$ERR" "crm order list"

assert_exit 0 crm order list --json
assert_eq 3 "$(line_count "$OUT")" "all orders"
assert_eq "$o3" "$(json_get "$(head -n1 <<<"$OUT")" id)" "newest first"
assert_exit 0 crm order list --contact jean@example.com --json
assert_eq 2 "$(line_count "$OUT")" "orders of one contact"
assert_exit 0 crm order list --status paid --json
assert_eq 1 "$(line_count "$OUT")" "paid orders"
assert_eq "$o2" "$(json_get "$OUT" id)" "the paid order"
assert_exit 0 crm order list --limit 1 --page 2 --json
assert_eq 1 "$(line_count "$OUT")" "paged orders"
assert_eq "$o2" "$(json_get "$OUT" id)" "page 2"
# (page - 1) * limit overflowed int64
assert_exit 2 crm order list --limit 5 --page 4611686018427387904
assert_contains "$ERR" "--page 4611686018427387904 is too large"
assert_exit 2 crm contact list --limit 100 --page 9223372036854775807
assert_exit 0 crm order list
assert_contains "$OUT" "48.30"

# ---- users, interactions, timeline ---------------------------------------------------
assert_exit 0 crm user add --name "Agent Smith" --email smith@example.com --role agent
assert_exit 1 crm user add --name "Boss" --email boss@example.com --role king
assert_exit 1 crm user add --name "Dup" --email SMITH@example.com
assert_exit 2 crm user add --email x@example.com
assert_exit 0 crm user list --json
assert_eq 1 "$(line_count "$OUT")" "users"
assert_eq "smith@example.com" "$(json_get "$OUT" email)" "user email"
assert_exit 0 crm user list
assert_contains "$OUT" "Agent Smith"

assert_exit 0 crm interaction log --contact "$contact" --channel email --direction in \
    --subject "Where is my order?" --at 2025-01-11T08:00:00Z --author smith@example.com
i1=$OUT
assert_exit 0 crm interaction log --contact "$contact" --channel PHONE --subject "Called back" \
    --at 2025-01-12T00:00:00Z
i2=$OUT
assert_exit 0 crm interaction log --contact "$contact" --channel note --body "VIP" \
    --at 2025-01-09
i0=$OUT
assert_exit 1 crm interaction log --contact "$contact" --channel fax
assert_exit 1 crm interaction log --contact "$contact" --channel email --direction sideways
assert_exit 1 crm interaction log --contact "$contact" --channel email --author ghost@example.com
assert_exit 1 crm interaction log --contact "$contact" --channel email --at yesterday
assert_exit 2 crm interaction log --contact "$contact"
assert_exit 0 crm interaction list --contact jean@example.com --json
assert_eq 3 "$(line_count "$OUT")" "interactions"
assert_eq "$i0" "$(json_get "$(head -n1 <<<"$OUT")" id)" "oldest interaction first"
assert_eq none "$(json_get "$(head -n1 <<<"$OUT")" direction)" "note direction"

# Timeline: note 01-09, order 01-10, email 01-11, then the tie on 01-12 00:00:
# the interaction sorts before the order. Paying SHOP-42 made the lead a
# customer, now: that stage change comes last.
assert_exit 0 crm timeline jean@example.com --json
assert_eq 7 "$(line_count "$OUT")" "timeline header + items"
json_lines_valid "$OUT" && pass || fail "timeline --json is not one object per line"
kinds=$(python3 -c '
import json, sys
print(" ".join("%s:%s" % (json.loads(l)["kind"], json.loads(l)["record"]["id"])
               for l in sys.stdin if l.strip()))' <<<"$OUT")
assert_eq "contact:$contact interaction:$i0 order:$o1 interaction:$i1 interaction:$i2 order:$o2 stage:1" \
    "$kinds" "timeline order"
assert_exit 0 crm timeline "$contact"
assert_eq 7 "$(line_count "$OUT")" "timeline header + lines"
assert_contains "$OUT" \
    "2025-01-11T09:00:00+01:00  interaction #$i1 email in: Where is my order? [smith@example.com]"
assert_contains "$OUT" "order       #$o2 paid 48.30 EUR (2 lines)"
assert_exit 1 crm timeline nobody@example.com

# ---- consents ----------------------------------------------------------------------------
assert_exit 0 crm consent grant --contact "$contact" --channel email --purpose marketing \
    --source "web form" --at 2025-01-01
assert_exit 0 crm consent grant --contact "$contact" --channel sms --purpose marketing \
    --at 2025-01-02
assert_exit 0 crm consent withdraw --contact "$contact" --channel Email --purpose Marketing \
    --at 2025-02-01 --json
assert_eq withdrawn "$(json_get "$OUT" status)" "withdraw --json"
assert_exit 0 crm consent show "$contact" --json
assert_eq 2 "$(line_count "$OUT")" "current consents"
assert_eq withdrawn "$(json_get "$(head -n1 <<<"$OUT")" status)" "email/marketing now"
assert_exit 0 crm consent show "$contact" --history --json
assert_eq 3 "$(line_count "$OUT")" "consent history"
assert_eq "web form" "$(json_get "$(head -n1 <<<"$OUT")" source)" "first record's source"
assert_exit 0 crm consent show "$contact"
assert_contains "$OUT" "withdrawn"
assert_exit 1 crm consent grant --contact "$contact" --channel "e mail" --purpose marketing
assert_exit 1 crm consent grant --contact nobody@example.com --channel email --purpose x

# ---- deleting a contact with history -------------------------------------------------------
assert_exit 1 crm contact delete "$contact"
assert_contains "$ERR" "--force"
assert_exit 0 crm contact delete "$contact" --force
assert_exit 0 crm order list --json
assert_eq 1 "$(line_count "$OUT")" "orders left after erasure"

finish

#!/usr/bin/env bash
# End to end: kernel carts fed by `crm import events` (the objects POST
# /v1/track takes): carts stored with their lines and value (checked against
# a sum computed here), a contact created from an unknown email, page views
# and email clicks logged as inbound interactions, each line refused with its
# number and reason while the others are stored, re-import a no-op;
# abandonment exactly CRM_CART_ABANDON_AFTER (30 min) after the last update
# through `crm tick --as-of`, an update moving it; an order converting the
# contact's carts (or the cart it names), a converted cart refusing updates;
# erasure reaching carts. Needs CRM and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\n' \
    >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
sql() { python3 -c 'import sqlite3,sys
print("\n".join("|".join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' \
    "$dir/t.db" "$1"; }
count_events() { sql "SELECT count(*) FROM events WHERE type='$1'"; }

assert_exit 0 crm init
T=1774000000 # 2026-03-20T09:46:40Z
assert_exit 0 crm contact add --email ann@example.com --first-name Ann --as-of "$(iso $T)"
ann=$OUT

cat >"$dir/ev.jsonl" <<EOF
{"type":"cart.updated","cart_id":"c1","contact_id":$ann,"currency":"EUR","device":"mobile","at":"$(iso $T)","lines":[{"sku":"TEE","name":"T-shirt","quantity":2,"unit_price":"19.90"},{"sku":"CAP","quantity":1,"unit_price":1250}]}
{"type":"cart.updated","cart_id":"c2","email":"Bob@Example.com","value":"249.90","at":$((T + 60))}

{"type":"page.viewed","contact_id":$ann,"url":"https://shop.example/returns","at":"$(iso $((T + 120)))"}
{"type":"email.clicked","email":"bob@example.com","url":"https://shop.example/c2","subject":"cart_reminder","at":$((T + 180))}
{"type":"cart.updated","cart_id":"c3","contact_id":$ann,"value":1.5}
{"type":"cart.updated","cart_id":"c4","contact_id":999999}
{"type":"basket.updated","cart_id":"c5","contact_id":$ann}
{"type":"cart.updated","cart_id":"c6","contact_id":$ann,"devise":"EUR"}
not json
EOF
assert_exit 1 crm import events "$dir/ev.jsonl" --json --as-of "$(iso $((T + 200)))"
assert_eq 9 "$(json_get "$OUT" read)" "lines read (blank skipped)"
assert_eq 4 "$(json_get "$OUT" stored)" "stored"
assert_eq 5 "$(json_get "$OUT" rejected)" "rejected"
assert_contains "$ERR" "ev.jsonl:6: value: expected minor units" "a float value refused at its line"
assert_contains "$ERR" "ev.jsonl:7: contact_id: no contact with id 999999"
assert_contains "$ERR" "ev.jsonl:8: type: 'basket.updated'"
assert_contains "$ERR" "ev.jsonl:9: devise: unknown member"
assert_contains "$ERR" "ev.jsonl:10: not JSON"

# the value of c1 is the sum of its lines, computed here independently
want=$(python3 -c 'print(2 * 1990 + 1 * 1250)')
assert_exit 0 crm cart show c1 --json
assert_eq "$want" "$(json_get "$OUT" value_minor)" "c1 value = sum of lines"
assert_eq "52.30" "$(json_get "$OUT" value)" "c1 value as decimal text"
assert_eq mobile "$(json_get "$OUT" device)"
assert_eq 2 "$(json_get "$OUT" lines.0.quantity)"
assert_eq CAP "$(json_get "$OUT" lines.1.sku)"
assert_eq open "$(json_get "$OUT" status)"
c1=$(json_get "$OUT" id)
bob=$(sql "SELECT id FROM contacts WHERE email='bob@example.com'")
assert_eq shop "$(sql "SELECT source FROM contacts WHERE id=$bob")" "contact created from email"
assert_exit 0 crm cart show c2 --json
assert_eq 24990 "$(json_get "$OUT" value_minor)"
assert_eq "$bob" "$(json_get "$OUT" contact_id)"
c2=$(json_get "$OUT" id)
assert_eq "web|in|https://shop.example/returns" \
    "$(sql "SELECT channel, direction, body FROM interactions WHERE contact_id=$ann")"
assert_eq "email|email.clicked: cart_reminder" \
    "$(sql "SELECT channel, subject FROM interactions WHERE contact_id=$bob")"
assert_eq 2 "$(count_events cart.updated)" "cart.updated events"
assert_eq 1 "$(count_events page.viewed)"
assert_eq 1 "$(count_events email.clicked)"
# nothing of a refused line stays
assert_eq 0 "$(sql "SELECT count(*) FROM carts WHERE external_id IN ('c3','c4','c5','c6')")"

# re-import: the stored lines are known, nothing new
before=$(sql "SELECT count(*) FROM events")
assert_exit 1 crm import events "$dir/ev.jsonl" --json --as-of "$(iso $((T + 200)))"
assert_eq 0 "$(json_get "$OUT" stored)" "re-import stores nothing"
assert_eq 4 "$(json_get "$OUT" duplicates)" "re-import skips the known lines"
assert_eq "$before" "$(sql "SELECT count(*) FROM events")" "re-import emits nothing"

assert_exit 0 crm cart list --json
assert_eq 2 "$(grep -c . <<<"$OUT")" "two carts listed"
assert_eq c2 "$(json_get "$(head -1 <<<"$OUT")" cart)" "most recently updated first"
assert_exit 0 crm cart list --status open
assert_contains "$OUT" "c1"

# abandonment: 30 min after the last update; an update of c1 at T+1000 moves it
printf '{"type":"checkout.started","cart_id":"c1","contact_id":%s,"at":%s}\n' "$ann" \
    $((T + 1000)) >"$dir/ev2.jsonl"
assert_exit 0 crm import events "$dir/ev2.jsonl" --as-of "$(iso $((T + 1000)))"
assert_eq 1 "$(count_events checkout.started)"
assert_exit 0 crm cart show c1 --json
assert_eq 2 "$(json_get "$OUT" lines | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
    "checkout without lines keeps the cart's lines"
assert_eq "$want" "$(json_get "$OUT" value_minor)" "checkout without lines or value keeps the value"
assert_exit 0 crm tick --as-of "$(iso $((T + 60 + 1799)))"
assert_eq 0 "$(count_events cart.abandoned)" "not abandoned one second early"
assert_exit 0 crm tick --as-of "$(iso $((T + 60 + 1800)))"
assert_eq 1 "$(count_events cart.abandoned)" "c2 abandoned at its update + 30 min"
assert_eq "abandoned|$((T + 60 + 1800))" \
    "$(sql "SELECT status, abandoned_at FROM carts WHERE external_id='c2'")"
assert_eq open "$(sql "SELECT status FROM carts WHERE external_id='c1'")" "c1 moved by checkout"
assert_exit 0 crm tick --as-of "$(iso $((T + 1000 + 1800)))"
assert_eq 2 "$(count_events cart.abandoned)" "c1 abandoned 30 min after checkout.started"
assert_exit 0 crm tick --as-of "$(iso $((T + 90000)))"
assert_eq 2 "$(count_events cart.abandoned)" "each cart abandoned once"

# an order of Bob's (placed after c2's update) converts it, late as it is
assert_exit 0 crm order add --contact "$bob" --total 249.90 --placed-at "$(iso $((T + 3000)))" \
    --as-of "$(iso $((T + 4000)))"
order=$OUT
assert_eq "converted|$order|$((T + 3000))" \
    "$(sql "SELECT status, order_id, converted_at FROM carts WHERE external_id='c2'")"
assert_eq 1 "$(count_events cart.converted)"
assert_eq "$c2" "$(sql "SELECT json_extract(payload,'$.cart_id') FROM events WHERE type='cart.converted'")"
# a converted cart refuses updates (the shop must open a new cart)
printf '{"type":"cart.updated","cart_id":"c2","contact_id":%s,"value":100}\n' "$bob" >"$dir/ev3.jsonl"
assert_exit 1 crm import events "$dir/ev3.jsonl"
assert_contains "$ERR" "ev3.jsonl:1: cart_id: cart 'c2' was converted"
# an order placed before a cart's last update does not close it; --cart names it
assert_exit 0 crm order add --contact "$ann" --total 5 --placed-at "$(iso $((T + 500)))"
assert_eq abandoned "$(sql "SELECT status FROM carts WHERE external_id='c1'")" "older order"
assert_exit 0 crm order add --contact "$ann" --total 52.30 --cart c1 --placed-at "$(iso $((T + 500)))"
assert_eq converted "$(sql "SELECT status FROM carts WHERE id=$c1")" "order naming the cart"
assert_eq 0 "$(sql "SELECT count(*) FROM timers WHERE key LIKE 'cart:%' AND state='pending'")"

# export-data carries the carts with their lines
assert_exit 0 crm contact export-data "$ann"
assert_eq c1 "$(json_get "$OUT" carts.0.external_id)" "export-data has the cart"
assert_contains "$(json_get "$OUT" carts.0.lines)" 'T-shirt' "export-data has its lines"

# erasure reaches carts, lines and tracked events
assert_exit 0 crm contact erase "$ann" --reason "test"
assert_eq 0 "$(sql "SELECT count(*) FROM carts WHERE contact_id=$ann")" "carts erased"
assert_eq 0 "$(sql "SELECT count(*) FROM cart_lines WHERE cart_id=$c1")" "lines erased"
assert_eq 0 "$(sql "SELECT count(*) FROM tracked_events WHERE contact_id=$ann")"

finish

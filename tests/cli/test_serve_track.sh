#!/usr/bin/env bash
# POST /v1/track end to end (tests/cli/serve_track.py drives the HTTP side):
# single objects and batches, 400/422 naming the member (and the item's index
# in a batch), duplicates, roles. What the server stored must be exactly what
# `crm import events` (the same kernel path, crm_track_apply_json) stores from
# the objects it accepted: both databases run at the same --as-of, so carts,
# lines, interactions, contacts, tracked events and the event bus rows are
# compared row for row. A refused batch item leaves nothing (its contact
# created from an email is gone too). Then an order converts the cart, which
# refuses further updates. Needs CRM and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"
. "$(dirname "$0")/serve_lib.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'kill "${SERVE_PID:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
for db in t ref; do
    printf 'database: %s.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\nplugins: []\n' \
        "$db" >"$dir/$db.yaml"
done
unset CRM_DB CRM_CONFIG
T=1774000000 # 2026-03-20T09:46:40Z
AS_OF=$(date -u -d "@$T" +%Y-%m-%dT%H:%M:%SZ)
crm() { "$CRM" --config "$dir/t.yaml" "$@"; }
ref() { "$CRM" --config "$dir/ref.yaml" "$@"; }
# dump DB SQL: the rows, one per line
dump() { python3 -c 'import sqlite3,sys
print("\n".join("|".join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' \
    "$dir/$1.db" "$2"; }

assert_exit 0 crm init
assert_exit 0 ref init
for role in admin integration manager viewer; do
    assert_exit 0 crm token create --name "$role" --role "$role"
    printf '%s\n' "$OUT" >"$dir/token.$role"
done

SERVE_CONFIG=$dir/t.yaml serve_start "$dir" --threads 2 --no-worker --as-of "$AS_OF"
status=0
python3 "$(dirname "$0")/serve_track.py" "$SERVE_URL" "$dir" "$T" track || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "serve_track.py track failed ($status)"; fi

# the same objects through `crm import events` into a fresh database
assert_exit 0 ref import events "$dir/accepted.jsonl" --json --as-of "$AS_OF"
assert_eq "$(line_count "$(cat "$dir/accepted.jsonl")")" "$(json_get "$OUT" stored)" \
    "every accepted object imports as new"
tables=(
    "SELECT * FROM contacts ORDER BY id"
    "SELECT * FROM carts ORDER BY id"
    "SELECT * FROM cart_lines ORDER BY rowid"
    "SELECT * FROM interactions ORDER BY id"
    "SELECT * FROM tracked_events ORDER BY id"
    "SELECT * FROM timers WHERE key LIKE 'cart:%' ORDER BY key"
    "SELECT id, type, payload FROM events WHERE type NOT LIKE 'token.%' ORDER BY id"
)
for q in "${tables[@]}"; do
    want=$(dump ref "$q")
    got=$(dump t "$q")
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
        pass
    else
        fail "$q: served store differs from crm import events
--- served
$got
--- imported
$want"
    fi
done
# independent figures: bob's cart 77 is 249.90 EUR, c-1 is 2 x 19.90 + 12.50
assert_eq "24990|EUR|desktop|1" "$(dump t "SELECT value, currency, device, checkout_at IS NULL FROM carts WHERE external_id='77'")" "cart 77"
assert_eq "$((2 * 1990 + 1250))|1" "$(dump t "SELECT value, checkout_at IS NOT NULL FROM carts WHERE external_id='c-1'")" "cart c-1 value and checkout"
assert_eq "" "$(dump t "SELECT id FROM contacts WHERE email='ghost@example.com'")" \
    "a refused batch item leaves no contact"
assert_eq "cart.updated
page.viewed
checkout.started
cart.updated
email.clicked
email.opened" "$(dump t "SELECT type FROM events WHERE type IN ('cart.updated','checkout.started','page.viewed','email.opened','email.clicked') ORDER BY id")" \
    "the bus got each stored event once, in order (none for duplicates or refusals)"

python3 "$(dirname "$0")/serve_track.py" "$SERVE_URL" "$dir" "$T" order || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "serve_track.py order failed ($status)"; fi
order_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$dir/order.json")
assert_eq "converted|$order_id" "$(dump t "SELECT status, order_id FROM carts WHERE external_id='c-1'")" \
    "the order converts its cart"
assert_eq "1" "$(dump t "SELECT count(*) FROM events WHERE type='cart.converted'")" "cart.converted once"

serve_stop
assert_eq 0 "$SERVE_RC" "crm serve exit status after SIGTERM"
finish

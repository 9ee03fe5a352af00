#!/usr/bin/env bash
# SDK 1.3 kernel writes through a test plugin (tests/plugins/fixtures/writer.c):
# order_add_json goes through crm_order_add (lines, currency, events,
# lifecycle) and a refused order leaves the database as it was; users read
# as a list and found by id, email or name; a durable subscriber enabled on a
# base with history starts at the last event by default and at the first
# with subscribe_from_start.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/tests/plugins/so"
if [ ! -f "$BUILD/tests/plugins/so/writer.so" ]; then
  echo "the writer test plugin is not built: skipped"
  echo "0 passed, 0 failed"
  exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-writes-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$@"; }
dump() { python3 -c 'import sqlite3,sys; print("\n".join(sqlite3.connect(sys.argv[1]).iterdump()))' "$1"; }

# ---- 1. orders through the kernel's path -------------------------------------
printf 'database: crm.db\nplugins: [writer]\n' >crm.yaml
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" contact add --email buyer@example.com --last-name Buyer
cid=$(q crm.db "SELECT id FROM contacts WHERE email='buyer@example.com'")
stage0=$(q crm.db "SELECT lifecycle_stage FROM contacts WHERE id=$cid")
run "$CRM" writer order "{\"contact_id\":$cid,\"currency\":\"eur\",\"status\":\"paid\",\"external_id\":\"W-1\",\"lines\":[{\"sku\":\"A\",\"quantity\":2,\"unit_price_minor\":1250},{\"sku\":\"B\",\"quantity\":1,\"unit_price_minor\":99}]}"
assert_eq 0 "$RC" "order_add_json: exit 0 ($ERR)"
oid=$(q crm.db "SELECT id FROM orders WHERE external_id='W-1'")
assert_eq "rc 0 id $oid" "$OUT" "the new order's id comes back"
assert_eq 2599 "$(q crm.db "SELECT total FROM orders WHERE id=$oid")" "total = 2*1250 + 99, the sum of the lines"
assert_eq 2599 "$(q crm.db "SELECT sum(quantity*unit_price) FROM order_lines WHERE order_id=$oid")" "two lines stored"
assert_eq EUR "$(q crm.db "SELECT currency FROM orders WHERE id=$oid")" "currency normalised by the kernel"
assert_eq 1 "$(q crm.db "SELECT count(*) FROM events WHERE type='order.placed'")" "order.placed emitted"
assert_eq 1 "$(q crm.db "SELECT count(*) FROM events WHERE type='order.paid'")" "order.paid emitted"
stage1=$(q crm.db "SELECT lifecycle_stage FROM contacts WHERE id=$cid")
[ "$stage0" != "$stage1" ] && pass || fail "a paid order moves the lifecycle ($stage0 -> $stage1)"
run "$CRM" --json order show "$oid"
assert_eq "25.99" "$(json_get "$OUT" total)" "crm order show reads it like any order"

before=$(dump crm.db)
run "$CRM" writer order "{\"contact_id\":$cid,\"currency\":\"EURO\",\"lines\":[{\"sku\":\"A\",\"quantity\":1,\"unit_price_minor\":100}]}"
assert_eq 1 "$RC" "a bad currency is refused (exit 1)"
assert_eq "rc -1 id 0" "$OUT" "as CRM_EINVAL, id 0"
assert_contains "$ERR" "currency" "naming the field"
assert_contains "$ERR" "EURO" "and the value"
assert_eq "$before" "$(dump crm.db)" "a refused order leaves the database as it was"
run "$CRM" writer order "{\"contact_id\":$cid,\"lines\":[{\"sku\":\"A\",\"quantity\":0,\"unit_price_minor\":100}]}"
assert_eq 1 "$RC" "quantity 0 is refused"
run "$CRM" writer order "{\"contact_id\":$cid,\"total_minor\":5,\"lines\":[{\"sku\":\"A\",\"quantity\":1,\"unit_price_minor\":100}]}"
assert_eq 1 "$RC" "a total that disagrees with the lines is refused"
run "$CRM" writer order "{\"contact_id\":$cid,\"colour\":\"red\"}"
assert_eq 1 "$RC" "an unknown member is refused"
assert_contains "$ERR" "colour" "naming it"
run "$CRM" writer order "{\"contact_id\":$cid,\"lines\":[{\"sku\":\"A\",\"qty\":1}]}"
assert_contains "$ERR" "lines[0].qty" "a line's unknown member named with its index"
run "$CRM" writer order "{\"contact_id\":$cid,\"external_id\":\"W-1\"}"
assert_eq 1 "$RC" "an external_id already used is refused"
assert_eq "rc -3 id 0" "$OUT" "as CRM_EEXISTS, id 0"
run "$CRM" writer order "{\"contact_id\":999}"
assert_eq 1 "$RC" "an unknown contact is refused"
assert_eq "rc -2 id 0" "$OUT" "as CRM_ENOTFOUND"
assert_contains "$ERR" "no contact with id 999" "naming the id"
run "$CRM" writer order "not json"
assert_eq 1 "$RC" "text that is not a JSON object is refused"
assert_eq "$before" "$(dump crm.db)" "no refused order wrote anything"

# ---- 2. users -----------------------------------------------------------------
run "$CRM" writer users
assert_eq "[]" "$OUT" "no users: an empty array"
assert_exit 0 "$CRM" user add --name "Ada Agent" --email Ada@Example.com --role manager
assert_exit 0 "$CRM" user add --name "Bob NoMail"
run "$CRM" writer users
assert_eq 2 "$(json_get "$OUT" '' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "two users listed"
assert_eq "ada@example.com" "$(json_get "$OUT" 0.email)" "email as the kernel stored it"
assert_eq manager "$(json_get "$OUT" 0.role)" "role"
assert_eq null "$(json_get "$OUT" 1.email)" "no email: null"
assert_eq "$(q crm.db "SELECT id FROM users WHERE name='Bob NoMail'")" "$(json_get "$OUT" 1.id)" "ids from the table"
run "$CRM" writer user ada@example.com
assert_eq "Ada Agent" "$(json_get "$OUT" name)" "found by email"
run "$CRM" writer user "Bob NoMail"
assert_eq agent "$(json_get "$OUT" role)" "found by name"
bid=$(q crm.db "SELECT id FROM users WHERE name='Bob NoMail'")
run "$CRM" writer user "$bid"
assert_eq "Bob NoMail" "$(json_get "$OUT" name)" "found by id"
run "$CRM" writer user nobody@example.com
assert_eq 1 "$RC" "an unknown user: exit 1 (and *json stays NULL)"

# ---- 3. durable subscribers on a base with history ---------------------------
printf 'database: old.db\n' >old.yaml
assert_exit 0 "$CRM" --config old.yaml init --quiet
for i in 1 2 3; do "$CRM" --config old.yaml contact add --email "h$i@example.com" >/dev/null; done
history=$(q old.db "SELECT count(*) FROM events")
last=$(q old.db "SELECT max(id) FROM events")
[ "$history" -ge 3 ] && pass || fail "the base has history ($history events)"
printf 'database: old.db\nplugins: [writer]\n' >old.yaml
assert_exit 0 "$CRM" --config old.yaml tick
run "$CRM" --config old.yaml writer seen
all=$(q old.db "SELECT count(*) FROM events")
new=$(q old.db "SELECT count(*) FROM events WHERE id > $last")
assert_contains "$OUT" "start $all" "from_start: every event of the log, history included ($all)"
assert_contains "$OUT" "default $new" "default: only events after enabling ($new)"
assert_contains "$OUT" "late -11" "subscribe_from_start after init: CRM_EDENIED"
"$CRM" --config old.yaml contact add --email h4@example.com >/dev/null
run "$CRM" --config old.yaml writer seen
all2=$(q old.db "SELECT count(*) FROM events")
new2=$(q old.db "SELECT count(*) FROM events WHERE id > $last")
[ "$all2" -gt "$all" ] && pass || fail "contact add emitted events"
assert_contains "$OUT" "start $all2" "then from_start sees each new event once"
assert_contains "$OUT" "default $new2" "and so does the default subscriber"
finish

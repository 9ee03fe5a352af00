#!/usr/bin/env bash
# Lifecycle stages that follow kernel events: a contact moves up to crm.yaml
# lifecycle.on_first_paid_order (customer by default) when an order becomes
# paid, from `order add`, `order set-status` or an import; never down; the
# change is in the contact's history (contact show, timeline) and its events.
# Needs CRM and CRM_TEST_LIB; ctest sets both.
set -uo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-lifecycle-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
rows() { sqlite3 "$dir/t.db" "$1"; }
stage() { rows "SELECT lifecycle_stage FROM contacts WHERE id=$1"; }

assert_exit 0 crm init --quiet
for who in ana:lead bob:evangelist cyd:prospect dan:inactive eve:subscriber fay:lead; do
  assert_exit 0 crm contact add --first-name "${who%%:*}" --email "${who%%:*}@example.com" \
    --stage "${who#*:}"
done

# A placed order changes nothing; paying it makes the lead a customer.
assert_exit 0 crm order add --contact 1 --total 20 --status placed --placed-at 2025-01-10
assert_eq lead "$(stage 1)" "placed is not paid"
assert_exit 0 crm order set-status 1 paid --as-of 2025-01-12
assert_eq customer "$(stage 1)" "lead -> customer on the first paid order"
assert_exit 0 crm contact show 1
assert_contains "$OUT" "stage history    2025-01-12T01:00:00+01:00 lead -> customer (order #1 paid)"
assert_exit 0 crm contact show 1 --json
assert_eq '[{"id":1,"contact_id":1,"field":"lifecycle_stage","from":"lead","to":"customer","reason":"order #1 paid","order_id":1,"changed_at":"2025-01-12T00:00:00Z"}]' \
  "$(json_get "$OUT" lifecycle_history)"
assert_exit 0 crm timeline 1
assert_contains "$OUT" "2025-01-12T01:00:00+01:00  stage       lead -> customer (order #1 paid)"
assert_exit 0 crm timeline 1 --json
assert_eq "contact order stage" "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["kind"] for l in sys.argv[1].splitlines()))' "$OUT")"
assert_eq 1 "$(rows "SELECT count(*) FROM events WHERE type='contact.stage_changed'")"
assert_eq '{"contact_id":1,"dataver":1,"from":"lead","order_id":1,"reason":"order #1 paid","to":"customer"}' \
  "$(rows "SELECT payload FROM events WHERE type='contact.stage_changed'")"

# A second paid order is not a first: nothing more.
assert_exit 0 crm order add --contact 1 --total 30 --status paid --placed-at 2025-02-01
assert_eq 1 "$(rows 'SELECT count(*) FROM contact_history')" "one change"

# Added as paid, from every stage: forward only; inactive is off the ladder.
for id in 2 3 4 5; do
  assert_exit 0 crm order add --contact $id --total 10 --status paid --placed-at 2025-03-01
done
assert_eq "evangelist customer customer customer" "$(echo $(stage 2) $(stage 3) $(stage 4) $(stage 5))" \
  "evangelist stays; prospect, inactive, subscriber become customers"
assert_eq "prospect inactive subscriber" \
  "$(echo $(rows "SELECT old_value FROM contact_history WHERE contact_id IN (3,4,5) ORDER BY contact_id"))"

# By hand, the stage may go anywhere, and that is history too.
assert_exit 0 crm contact update 1 --stage lead
assert_exit 0 crm contact show 1
assert_contains "$OUT" "customer -> lead (contact update)"

# From an import: paid rows, and a placed row paid by a re-import.
printf 'external_id,contact_email,placed_at,total,currency,status\nI1,fay@example.com,2025-04-01,15.00,EUR,placed\n' >"$dir/o.csv"
assert_exit 0 crm import orders "$dir/o.csv"
assert_eq lead "$(stage 6)" "imported as placed"
printf 'external_id,contact_email,placed_at,total,currency,status\nI1,fay@example.com,2025-04-01,15.00,EUR,paid\n' >"$dir/o2.csv"
assert_exit 0 crm import orders "$dir/o2.csv"
assert_eq customer "$(stage 6)" "paid by the re-import"
assert_exit 0 crm contact add --first-name Gus --email gus@example.com
printf 'external_id,contact_email,placed_at,total,currency,status\nI2,gus@example.com,2025-04-02,15.00,EUR,paid\n' >"$dir/o3.csv"
assert_exit 0 crm import orders "$dir/o3.csv"
assert_eq customer "$(stage 7)" "imported as paid"
assert_eq "order #$(rows "SELECT id FROM orders WHERE external_id='I2'") paid" \
  "$(rows 'SELECT reason FROM contact_history WHERE contact_id=7')"

# Undoing an orders import puts back the stages its orders moved (unless
# changed since); a stage an order moved does not block undoing the contacts.
printf 'external_id,first_name,email\nU1,Una,una@example.com\nU2,Uli,uli@example.com\n' >"$dir/uc.csv"
assert_exit 0 crm import contacts "$dir/uc.csv" --json
contacts_import=$(json_get "$OUT" id)
una=$(rows "SELECT id FROM contacts WHERE external_id='U1'")
uli=$(rows "SELECT id FROM contacts WHERE external_id='U2'")
printf 'external_id,contact_external_id,placed_at,total,currency,status\nUO1,U1,2025-05-01,9.00,EUR,paid\nUO2,U2,2025-05-01,9.00,EUR,paid\n' >"$dir/uo.csv"
assert_exit 0 crm import orders "$dir/uo.csv" --json
orders_import=$(json_get "$OUT" id)
assert_eq "customer customer" "$(echo $(stage $una) $(stage $uli))"
assert_exit 1 crm import undo "$contacts_import"
assert_contains "$ERR" "has an order recorded since"
assert_exit 0 crm contact update $uli --stage evangelist   # changed since: stays
assert_exit 0 crm import undo "$orders_import"
assert_eq "lead evangelist" "$(echo $(stage $una) $(stage $uli))" "una back to lead; uli kept"
assert_eq 0 "$(rows "SELECT count(*) FROM contact_history WHERE contact_id=$una")" "una's change undone"
assert_eq "order contact update" \
  "$(rows "SELECT group_concat(CASE WHEN reason LIKE 'order%' THEN 'order' ELSE reason END, ' ') FROM contact_history WHERE contact_id=$uli")" \
  "uli's history kept"
assert_exit 1 crm import undo "$contacts_import"  # uli was updated by hand since
assert_contains "$ERR" "record $uli was changed since the import: contact.updated"
printf 'external_id,first_name,email\nV1,Vic,vic@example.com\n' >"$dir/vc.csv"
assert_exit 0 crm import contacts "$dir/vc.csv" --json
contacts_import=$(json_get "$OUT" id)
printf 'external_id,contact_external_id,placed_at,total,currency,status\nVO1,V1,2025-05-01,9.00,EUR,paid\n' >"$dir/vo.csv"
assert_exit 0 crm import orders "$dir/vo.csv" --json
orders_import=$(json_get "$OUT" id)
assert_eq customer "$(rows "SELECT lifecycle_stage FROM contacts WHERE external_id='V1'")"
assert_exit 0 crm import undo "$orders_import"
assert_exit 0 crm import undo "$contacts_import"
assert_eq 0 "$(rows "SELECT count(*) FROM contacts WHERE external_id='V1'")" "contacts undone"

# A merge moves the stage history with the orders; unmerge moves it back.
assert_exit 0 crm contact add --first-name Mia --email mia@example.com
mia=$OUT
assert_exit 0 crm contact add --first-name Max --email max@example.com
max=$OUT
assert_exit 0 crm order add --contact $mia --total 10 --status paid
assert_exit 0 crm contact merge $max $mia --json
merge=$(json_get "$OUT" merge_id)
# Kept lead + merged customer: the person is a customer (the most advanced
# of the two), and the history says why.
assert_eq customer "$(stage $max)" "the merged contact takes the further stage"
assert_eq "order|lead|customer
merge of contact #$mia|lead|customer" \
  "$(rows "SELECT CASE WHEN reason LIKE 'order%' THEN 'order' ELSE reason END, old_value, new_value FROM contact_history WHERE contact_id=$max ORDER BY id")" \
  "mia's change moved to the kept contact, and the merge's own"
assert_exit 0 crm contact unmerge "$merge"
assert_eq 1 "$(rows "SELECT count(*) FROM contact_history WHERE contact_id=$mia")" "moved back"
assert_eq "lead 0" "$(echo $(stage $max) $(rows "SELECT count(*) FROM contact_history WHERE contact_id=$max"))" \
  "unmerge takes the merge's stage change back"
# Never backward: a kept customer merged with a lead stays a customer; an
# explicit --prefer other:lifecycle_stage still wins.
assert_exit 0 crm contact merge $mia $max
assert_eq "customer 1" "$(echo $(stage $mia) $(rows "SELECT count(*) FROM contact_history WHERE contact_id=$mia"))"
assert_exit 0 crm contact add --first-name Moe --email moe@example.com --stage evangelist
moe=$OUT
assert_exit 0 crm contact merge $mia $moe --prefer other:phone
assert_eq evangelist "$(stage $mia)" "customer + evangelist = evangelist"
assert_eq "merge of contact #$moe|customer|evangelist" \
  "$(rows "SELECT reason, old_value, new_value FROM contact_history WHERE contact_id=$mia ORDER BY id DESC LIMIT 1")"
assert_exit 0 crm contact add --first-name Ned --email ned@example.com --stage inactive
ned=$OUT
assert_exit 0 crm contact merge $mia $ned
assert_eq evangelist "$(stage $mia)" "inactive is behind every stage"
assert_exit 0 crm contact add --first-name Ola --email ola@example.com --stage subscriber
ola=$OUT
assert_exit 0 crm contact merge $mia $ola --prefer other:lifecycle_stage
assert_eq subscriber "$(stage $mia)" "--prefer other:lifecycle_stage takes the other's stage"

# Configurable: another stage, or none.
printf 'database: t.db\nlifecycle:\n  on_first_paid_order: prospect\n' >"$dir/crm.yaml"
assert_exit 0 crm contact add --first-name Hal --email hal@example.com --stage subscriber
hal=$(rows "SELECT id FROM contacts WHERE email='hal@example.com'")
assert_exit 0 crm order add --contact $hal --total 10 --status paid
assert_eq prospect "$(stage $hal)"
printf 'database: t.db\nlifecycle:\n  on_first_paid_order: none\n' >"$dir/crm.yaml"
assert_exit 0 crm contact add --first-name Ida --email ida@example.com
ida=$(rows "SELECT id FROM contacts WHERE email='ida@example.com'")
assert_exit 0 crm order add --contact $ida --total 10 --status paid
assert_eq lead "$(stage $ida)" "none: stages stay"
printf 'database: t.db\nlifecycle:\n  on_first_paid_order: custmer\n' >"$dir/crm.yaml"
assert_exit 1 crm contact show 1
assert_contains "$ERR" "crm.yaml:3:3: lifecycle.on_first_paid_order: expected a lifecycle stage or none"
assert_contains "$ERR" "did you mean 'customer'?"

finish

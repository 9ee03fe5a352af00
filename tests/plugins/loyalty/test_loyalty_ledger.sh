#!/usr/bin/env bash
# The ledger (issue 16): pending -> approved by the timer, FIFO draws across
# lots, idempotent replay of order events and re-import, refunds before and
# after spending (full and partial) under negative_balance, expiry with its
# warning fired by `crm tick --as-of`; `crm loyalty check` after each step.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
contact a

# --- pending, then approved by the timer at the end of the return window
o1=$(order 0 a 100.00 paid --external-id o1)
tick 0
assert_eq 100 "$(bal 0 ext:a pending)" "order points pending"
assert_eq 0 "$(bal 0 ext:a approved)" "nothing approved yet"
assert_exit 1 "$CRM" --as-of "$(day 1)" loyalty redeem ext:a foret
assert_contains "$ERR" "approved balance is 0" "pending points cannot be spent"
assert_eq 0 "$(sql "select count(*) from loyalty_redemptions")" "refused redemption wrote nothing"
tick 13.9
assert_eq 100 "$(bal 13.9 ext:a pending)" "still pending before 14 days"
tick 14
assert_eq 100 "$(bal 14 ext:a approved)" "approved by the timer at 14 days"
assert_eq 0 "$(bal 14 ext:a pending)"
check pending

# --- idempotency: the same key, a re-import, the same events delivered again
assert_exit 0 "$CRM" --as-of "$(day 20)" loyalty earn ext:a --points 30 --reason gift --key m1
assert_exit 0 "$CRM" --as-of "$(day 21)" loyalty earn ext:a --points 30 --reason gift --key m1
assert_contains "$OUT" "already recorded" "the same key earns once"
assert_exit 1 "$CRM" order add --contact ext:a --total 100.00 --status paid --external-id o1
first=$(sql "select min(id) from events")
assert_exit 0 "$CRM" --as-of "$(day 21)" events replay --subscriber 'loyalty.order.*' --from "$first"
tick 21
assert_eq 130 "$(bal 21 ext:a approved)" "replayed events and re-import earn nothing twice"
assert_eq 2 "$(sql "select count(*) from loyalty_lots")" "two lots"
check idempotency

# --- FIFO: a draw of 120 empties the older lot (100) then takes 20 of the next
assert_exit 0 "$CRM" --as-of "$(day 22)" loyalty adjust ext:a --points -120 --reason fix --key adj1
run "$CRM" --json loyalty history ext:a
draws=$(python3 -c '
import json,sys
e=json.loads(sys.argv[1]); print(" ".join("%s:%s"%(x["lot_id"],x["points"]) for x in e if x["kind"]=="adjust"))' "$OUT")
assert_eq "1:-100 2:-20" "$draws" "oldest lot first"
assert_eq 10 "$(bal 22 ext:a approved)"
check fifo

# --- full refund before spending: the pending points go back, no clawback
o2=$(order 30 a 50.00 paid)
tick 30
assert_eq 50 "$(bal 30 ext:a pending)"
assert_exit 0 "$CRM" --as-of "$(day 31)" order set-status "$o2" refunded
tick 31
assert_eq 0 "$(bal 31 ext:a pending)" "refund reverses pending points"
assert_eq 10 "$(bal 31 ext:a approved)"
assert_eq 50 "$(bal 31 ext:a reversed)"
check refund-pending

# --- partial, then full refund after the points were spent: negative balance
o3=$(order 40 a 200.00 paid)
tick 55
assert_eq 210 "$(bal 55 ext:a approved)"
assert_exit 0 "$CRM" --as-of "$(day 56)" loyalty adjust ext:a --points -200 --reason spend --key adj2
# lot 2 gave its last 10, lot of o3 gave 190: 10 remain in it
assert_exit 0 "$CRM" --as-of "$(day 57)" loyalty refund "$o3" --amount "50.00 EUR" --key r1
# a quarter refunded: 200 * 50/200 = 50 to reverse, 10 in the lot, 40 clawed back
assert_eq -40 "$(bal 57 ext:a approved)" "partial refund: proportional, shortfall to a negative balance"
assert_eq "negative_balance" "$(sql "select policy from loyalty_ops where kind='reverse' and order_id=$o3")"
assert_exit 0 "$CRM" --as-of "$(day 57)" loyalty refund "$o3" --amount "50.00 EUR" --key r1
assert_contains "$OUT" "already recorded"
assert_eq -40 "$(bal 57 ext:a approved)" "the same refund again reverses nothing more"
assert_exit 0 "$CRM" --as-of "$(day 58)" loyalty refund "$o3" --amount "25.00 EUR" --key r2
# 75 of 200 refunded: 200*75/200 = 75 in all, 25 more
assert_eq -65 "$(bal 58 ext:a approved)"
assert_exit 0 "$CRM" --as-of "$(day 60)" order set-status "$o3" refunded
tick 60
# all 200 reversed: 75 before, 125 now, none left in the lot: -65 - 125
assert_eq -190 "$(bal 60 ext:a approved)" "full refund: everything the order earned"
assert_eq 3 "$(sql "select count(*) from loyalty_ops where kind='reverse' and order_id=$o3")"
check refund-spent

# --- rounding half away from zero: 0.50 EUR earns 1 point, 0.49 earns 0
contact r
order 61 r 0.50 paid >/dev/null
order 61 r 0.49 paid >/dev/null
order 61 r 2.50 paid >/dev/null
tick 61
assert_eq 4 "$(bal 61 ext:r pending)" "1 + 0 + 3 (2.5 rounds to 3)"

# --- expiry per lot, with its warning 30 days before, by crm tick --as-of
contact b
assert_exit 0 "$CRM" --as-of "$(day 100)" loyalty earn ext:b --points 40 --reason welcome --key w1
assert_exit 0 "$CRM" --as-of "$(day 200)" loyalty earn ext:b --points 25 --reason later --key w2
b=$(sql "select id from contacts where external_id='b'")
tick 434
assert_eq 0 "$(sql "select count(*) from loyalty_warnings where contact_id=$b")" "no warning before warn_before"
tick 435
assert_eq 1 "$(sql "select count(*) from loyalty_warnings w join loyalty_lots l on l.id=w.lot_id where l.points=40 and w.contact_id=$b")" "warned 30 days before"
assert_eq 1 "$(sql "select count(*) from events where type='loyalty.points_expiring' and json_extract(payload,'\$.contact_id')=$b")"
assert_eq 65 "$(bal 435 ext:b approved)" "the warning takes nothing"
tick 465
assert_eq 25 "$(bal 465 ext:b approved)" "only the older lot expired"
assert_eq 40 "$(bal 465 ext:b expired)"
assert_eq 1 "$(sql "select count(*) from events where type='loyalty.points_expired' and json_extract(payload,'\$.contact_id')=$b")"
check expiry

finish

#!/usr/bin/env bash
# Tiers and the VIP club (issue 16) on spend over a rolling 12 months: the
# tier follows each paid order, its multiplier applies to orders paid while
# it is held, a downgrade waits the 30-day grace and goes one tier at a time
# (a second grace before the next step), each change is a
# loyalty.tier_changed event; the VIP club is the top 20 % by spend and its
# reward is refused to others. Expected figures are computed here.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
for x in a b c d e; do contact "$x"; done

# a: 600 EUR (bronze then: x1), 100 EUR as silver (x1.25), 900 EUR as silver
order 0 a 600.00 paid >/dev/null
tick 0
assert_eq silver "$(bal 0 ext:a tier)" "600 EUR reaches silver (min 500)"
order 1 a 100.00 paid >/dev/null
tick 1
order 2 a 900.00 paid >/dev/null
tick 2
assert_eq gold "$(bal 2 ext:a tier)" "1600 EUR reaches gold (min 1500)"
# round half away from zero of EUR x multiplier, per order
want=$(python3 -c 'import math; r=lambda x: int(math.floor(x + 0.5)); print(r(600*1) + r(100*1.25) + r(900*1.25))')
assert_eq "$want" "$(bal 2 ext:a pending)" "each order at the multiplier of the tier held when paid"

# the VIP club: top 20 % of five spenders is one member
for x in b:100.00 c:200.00 d:300.00 e:400.00; do order 3 "${x%%:*}" "${x#*:}" paid >/dev/null; done
order 4 b 1450.00 paid >/dev/null # gold too, but second by spend
tick 20
assert_eq gold "$(bal 20 ext:b tier)" "1550 EUR: gold"
a=$(sql "select id from contacts where external_id='a'")
run "$CRM" --as-of "$(day 20)" --json loyalty vip
assert_eq 0 "$RC" "loyalty vip: $ERR"
assert_eq "[$a]" "$OUT" "top 20 % of 5 spenders: the top one alone"
assert_exit 0 "$CRM" --as-of "$(day 20)" loyalty earn ext:e --points 600 --reason gift --key ge
assert_exit 1 "$CRM" --as-of "$(day 21)" loyalty redeem ext:e atelier
assert_contains "$ERR" "gold" "a bronze non-VIP member is refused the VIP reward"
assert_exit 1 "$CRM" --as-of "$(day 21)" loyalty redeem ext:b atelier
assert_contains "$ERR" "VIP club members only" "a gold member outside the top 20 % is refused"
assert_eq "$(bal 21 ext:b approved)" "$((100 + 1450))" "the refusal spent nothing"
assert_exit 0 "$CRM" --as-of "$(day 21)" loyalty redeem ext:a atelier
assert_eq "$((want - 500))" "$(bal 21 ext:a approved)" "the VIP redeemed 500 of its approved points"

# the orders leave the window from day 365 on: gold held through the grace,
# then one tier down, a second grace, then bronze
for d in 366 380; do tick $d; done
assert_eq gold "$(bal 380 ext:a tier)" "within the grace: still gold"
tick 400
assert_eq silver "$(bal 400 ext:a tier)" "after the grace: one tier down"
tick 420
assert_eq silver "$(bal 420 ext:a tier)" "a second grace before bronze"
tick 440
assert_eq bronze "$(bal 440 ext:a tier)" "then the tier the window supports"
assert_eq "silver gold silver bronze" "$(python3 -c '
import json, sqlite3, sys
db = sqlite3.connect("crm.db")
print(" ".join(json.loads(p)["to"] for (p,) in db.execute(
    "select payload from events where type = ? and json_extract(payload, ?) = ? order by id",
    ("loyalty.tier_changed", "$.contact_id", int(sys.argv[1])))))' "$a")" \
    "one loyalty.tier_changed per change, in order"
# a partial refund comes off the spend the tier counts
contact f
of=$(order 500 f 600.00 paid)
assert_eq 60000 "$(bal 500 ext:f tier_value)" "600 EUR spent"
assert_exit 0 "$CRM" --as-of "$(day 501)" loyalty refund "$of" --amount "150.00 EUR" --key rf
assert_eq $((60000 - 15000)) "$(bal 501 ext:f tier_value)" "net of the 150 EUR refunded"
check tiers
finish

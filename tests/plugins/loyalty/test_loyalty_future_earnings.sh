#!/usr/bin/env bash
# The future_earnings clawback (issue 16): a refund after the points were
# spent never makes the balance negative; the shortfall becomes a debt that
# the next earnings settle first. Figures computed by awk below.
CLAWBACK=future_earnings
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
contact a
o=$(order 0 a 100.00 paid)
tick 0
tick 15
assert_eq 100 "$(bal 15 ext:a approved)" "approved after 14 days"
assert_exit 0 "$CRM" --as-of "$(day 16)" loyalty adjust ext:a --points -80 --reason spend --key s1
assert_exit 0 "$CRM" --as-of "$(day 17)" loyalty refund "$o" --amount "100.00 EUR" --key r1
# earned 100, 80 gone: 20 left in the lot to reverse, 80 owed
read -r left debt <<<"$(awk 'BEGIN{e=100; s=80; r=e; left=e-s; take=(r<left?r:left); print left-take, r-take}')"
assert_eq "$left" "$(bal 17 ext:a approved)" "balance floors at zero"
assert_eq "$debt" "$(bal 17 ext:a debt)" "the shortfall is a debt"
assert_eq "future_earnings" "$(sql "select policy from loyalty_ops where kind='reverse' and order_id=$o")"
check refund
assert_exit 0 "$CRM" --as-of "$(day 18)" loyalty earn ext:a --points 50 --reason gift --key g1
read -r appr debt2 <<<"$(awk -v d="$debt" 'BEGIN{g=50; pay=(g<d?g:d); print g-pay, d-pay}')"
assert_eq "$appr" "$(bal 18 ext:a approved)" "new points settle the debt first"
assert_eq "$debt2" "$(bal 18 ext:a debt)" "debt left after 50 points"
assert_exit 0 "$CRM" --as-of "$(day 19)" loyalty earn ext:a --points 50 --reason gift --key g2
assert_eq 20 "$(bal 19 ext:a approved)" "debt paid off: 50 - 30 remain as 20"
assert_eq 0 "$(bal 19 ext:a debt)"
check settle
finish

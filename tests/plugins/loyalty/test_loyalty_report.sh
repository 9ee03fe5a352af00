#!/usr/bin/env bash
# The report (issue 16): liability = (approved + pending points) x the
# point's value (0.01 EUR) in minor units, breakage = expired / earned;
# both recomputed here by awk from the points the scenario gave.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
contact a
contact b
assert_exit 0 "$CRM" --as-of "$(day 0)" loyalty earn ext:a --points 400 --reason w --key a1
assert_exit 0 "$CRM" --as-of "$(day 100)" loyalty earn ext:b --points 250 --reason w --key b1
order 300 b 120.00 paid >/dev/null
tick 300
tick 370
# a's 400 expired at day 365; b holds 250 approved + 120 pending
run "$CRM" --as-of "$(day 370)" --json loyalty report
rep=$OUT
read -r liab brk earned <<<"$(awk 'BEGIN{e=400+250+120; x=400; out=250+120; printf "%d %.1f %d\n", out*1, 100*x/e, e}')"
assert_eq "$earned" "$(json_get "$rep" earned)" "points earned"
assert_eq 400 "$(json_get "$rep" expired)" "points expired"
assert_eq "$liab" "$(json_get "$rep" liability)" "liability in cents: 370 points x 1 cent"
assert_eq "$brk %" "$(json_get "$rep" breakage_text)" "breakage = expired / earned"
check report
finish

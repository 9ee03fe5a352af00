#!/usr/bin/env bash
# Reward restrictions (issue 16): "atelier" is for gold members only and
# has a stock of 2; a bronze member is refused with the tier named, the
# third gold redemption finds it out of stock, and refusals spend nothing.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
for x in a b c; do contact "$x"; done
order 0 a 2000.00 paid >/dev/null
order 0 b 2000.00 paid >/dev/null
tick 20
for x in a b c; do
    assert_exit 0 "$CRM" --as-of "$(day 20)" loyalty earn "ext:$x" --points 600 --reason gift --key "g$x"
done
assert_eq gold "$(bal 20 ext:a tier)" "2000 EUR spent reaches gold (min 1500)"
assert_exit 1 "$CRM" --as-of "$(day 21)" loyalty redeem ext:c atelier
assert_contains "$ERR" "for the tiers gold" "a bronze member is refused"
assert_eq 600 "$(bal 21 ext:c approved)" "the refusal spent nothing"
assert_exit 0 "$CRM" --as-of "$(day 21)" loyalty redeem ext:a atelier
assert_exit 0 "$CRM" --as-of "$(day 21)" loyalty redeem ext:a atelier
assert_exit 1 "$CRM" --as-of "$(day 21)" loyalty redeem ext:b atelier
assert_contains "$ERR" "out of stock" "stock of 2 is used up"
assert_eq $((2000 + 600 - 2 * 500)) "$(bal 21 ext:a approved)" "two redemptions of 500"
assert_eq 2600 "$(bal 21 ext:b approved)" "out of stock spent nothing"
assert_eq 2 "$(sql "select count(*) from loyalty_redemptions")"
check stock
finish

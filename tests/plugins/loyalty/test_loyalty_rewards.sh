#!/usr/bin/env bash
# Each reward kind of the catalogue (issue 16) redeemed at its cost: a
# voucher (a code worth 10.00 EUR for 90 days), a free product, free
# shipping, educational content limited to one per member; refusals spend
# nothing. The voucher is used by an imported order carrying its code as a
# line's sku, once; an expired code is not used; re-importing the same
# orders earns nothing twice and uses no voucher again.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
contact a
contact b
order 0 a 20.00 >/dev/null
assert_exit 0 "$CRM" --as-of "$(day 0)" loyalty earn ext:a --points 3000 --reason welcome --key w-a
redeem() { run "$CRM" --as-of "$(day "$1")" --json loyalty redeem "ext:$2" "$3"; }

redeem 1 a bon10
pl_code=$(json_get "$OUT" code)
assert_eq "voucher|1000|1000" "$(json_get "$OUT" kind)|$(json_get "$OUT" cost)|$(json_get "$OUT" value)" \
    "a voucher worth 10.00 EUR for 1000 points"
case "$pl_code" in LOY-*) pass ;; *) fail "a voucher code, got '$pl_code'" ;; esac
assert_eq "$(( $(date -u -d "$(day 1)" +%s) + 90 * 86400 ))" \
    "$(sql "select expires_at from loyalty_vouchers where code = '$pl_code'")" "valid for 90 days"
redeem 1 a mug
assert_eq "free_product|150" "$(json_get "$OUT" kind)|$(json_get "$OUT" cost)"
redeem 1 a port
assert_eq "free_shipping|80" "$(json_get "$OUT" kind)|$(json_get "$OUT" cost)"
redeem 1 a guide
assert_eq "education|50" "$(json_get "$OUT" kind)|$(json_get "$OUT" cost)"
assert_exit 1 "$CRM" --as-of "$(day 2)" loyalty redeem ext:a guide
assert_contains "$ERR" "the most times allowed (1)" "education is limited to one"
assert_exit 1 "$CRM" --as-of "$(day 2)" loyalty redeem ext:a nothing
assert_contains "$ERR" "nothing"
assert_exit 1 "$CRM" --as-of "$(day 2)" loyalty redeem ext:b bon10
assert_contains "$ERR" "points" "b has not enough points"
spent=$((1000 + 150 + 80 + 50))
assert_eq "$spent" "$(bal 2 ext:a spent)" "spent: the four costs"
# the order's 20 points are still pending (14 days): the gift alone is approved
assert_eq $((3000 - spent)) "$(bal 2 ext:a approved)" "approved after the redemptions"
assert_eq 0 "$(bal 2 ext:b spent)" "a refusal spends nothing"
run "$CRM" --json loyalty rewards
assert_eq 1 "$(python3 -c 'import json,sys; print({r["name"]: r["redeemed"] for r in json.loads(sys.argv[1])}["guide"])' "$OUT")" \
    "the catalogue counts the redemptions"
run "$CRM" loyalty rewards
assert_contains "$OUT" "0 redeemed, 2 left" "stock left shown"

# a second voucher, left to expire
redeem 3 a bon10
old_code=$(json_get "$OUT" code)

# ---- the voucher used by an imported order ----------------------------------------------
# The shop sends the code as a line of its own (price 0: the discount is in
# the other lines' prices).
cat >orders.csv <<CSV
external_id,contact_external_id,placed_at,total,status
web-1,a,$(day 10),55.00,paid
web-2,b,$(day 11),12.00,paid
CSV
cat >lines.csv <<CSV
order_external_id,sku,quantity,unit_price
web-1,SHOE-9,1,55.00
web-1,$pl_code,1,0.00
web-2,MUG-1,1,12.00
web-2,${pl_code,,},1,0.00
CSV
assert_exit 0 "$CRM" --as-of "$(day 10)" import orders orders.csv --lines lines.csv
o1=$(sql "select id from orders where external_id = 'web-1'")
assert_eq "$o1" "$(sql "select used_order_id from loyalty_vouchers where code = '$pl_code'")" \
    "the order carrying the code uses the voucher"
assert_eq 1 "$(sql "select count(*) from events where type = 'loyalty.voucher_used'")" \
    "one loyalty.voucher_used, not one for b's order naming a used code"
earned=$(sql "select coalesce(sum(points), 0) from loyalty_ops where kind = 'earn'")
assert_exit 0 "$CRM" --as-of "$(day 12)" import orders orders.csv --lines lines.csv --force
assert_eq "$earned" "$(sql "select coalesce(sum(points), 0) from loyalty_ops where kind = 'earn'")" \
    "re-importing the same orders earns nothing twice"
assert_eq 1 "$(sql "select count(*) from events where type = 'loyalty.voucher_used'")" "used once"

# an expired code does not apply
cat >late.csv <<CSV
external_id,contact_external_id,placed_at,total,status
web-3,a,$(day 100),30.00,paid
CSV
printf 'order_external_id,sku,quantity,unit_price\nweb-3,SHOE-9,1,30.00\nweb-3,%s,1,0.00\n' \
    "$old_code" >late_lines.csv
assert_exit 0 "$CRM" --as-of "$(day 100)" import orders late.csv --lines late_lines.csv
assert_eq "" "$(sql "select used_order_id from loyalty_vouchers where code = '$old_code'")" \
    "the voucher expired at day 93: the order at day 100 does not use it"
check rewards
finish

#!/usr/bin/env bash
# Quote arithmetic end to end: line nets with a discount, VAT per rate on
# the sum of that rate's nets, two rates, exact halves rounded away from
# zero, each checked against python's own computation from the same lines
# (pl_quote_expect) and against figures worked by hand; refused lines,
# options and deals writing nothing.
. "$(dirname "$0")/pl_common.sh"
pl_quote_config
# ---- arithmetic: two rates and a discount ----------------------------------------
L1="A:3:33.33 B:7:0.15:5.5 C:2:19.99:5.5"
assert_exit 0 "$CRM" --as-of $T0 quote add --deal 1 --line $L1 --discount 7.5
assert_eq 1 "$OUT" "quote add prints the id"
run "$CRM" --json quote show 1
assert_eq "$(pl_quote_expect 7.5 $L1)" "$(pl_quote_got "$OUT")" "two VAT rates and a discount"
pl_fields "$OUT" status currency number valid_until contact_id
assert_eq "draft EUR Q-000001 2026-04-01T10:00:00+02:00 1" "${F[*]}" "draft, valid 30 days"
# the figures themselves, worked by hand: A 9999 x 0.925 = 9249.075 -> 9249;
# 5.5 % of (97 + 3698) = 208.725 -> 209 (on the rate's sum, rounded once)
assert_eq "13044 2059 15103" "$(python3 -c '
import json,sys; q=json.loads(sys.argv[1]); print(q["net"], q["vat"], q["gross"])' "$OUT")"

# ---- rounding edges: exact halves, and VAT on the sum, not per line --------------
# Z: 50 x 0.99 = 49.5 -> 50; X: 10 x 0.99 = 9.9 -> 10, 5 % of 10 = 0.5 -> 1;
# W1+W2: 5.5 % of 20 = 1.1 -> 1 (per line it would be 1 + 1)
L2="Z:1:0.50:20 X:1:0.10:5 W1:1:0.10:5.5 W2:1:0.10:5.5"
assert_exit 0 "$CRM" --as-of $T0 quote add --deal 1 --line $L2 --discount 1 --valid-for 10d
run "$CRM" --json quote show 2
assert_eq "$(pl_quote_expect 1 $L2)" "$(pl_quote_got "$OUT")" "halves away from zero, VAT per rate"
assert_eq '{"lines": [50, 10, 10, 10], "net": 80, "vat": 12, "gross": 92, "rates": [["5", 10, 1], ["5.5", 20, 1], ["20", 50, 10]]}' \
    "$(pl_quote_got "$OUT")" "the edge figures by hand"

# ---- refusals write nothing --------------------------------------------------------
assert_exit 1 "$CRM" --as-of $T0 quote add --deal 1 --line A:1:10.005
assert_contains "$ERR" 'unit price "10.005"' "a third decimal in EUR is refused"
assert_exit 1 "$CRM" --as-of $T0 quote add --deal 1 --line A:1:10 B:0:1
assert_contains "$ERR" 'quantity "0"'
assert_exit 1 "$CRM" --as-of $T0 quote add --deal 1 --line A:1:10 --discount 120
assert_exit 2 "$CRM" --as-of $T0 quote add --deal 1 --line A:1:10 --line B:1:1
assert_contains "$ERR" "given twice" "a repeated --line is refused, not dropped"
assert_exit 1 "$CRM" --as-of $T0 quote add --deal 9 --line A:1:10
assert_eq "2 7" "$(pl_sql 'SELECT (SELECT count(*) FROM pipeline_quotes),
    (SELECT count(*) FROM pipeline_quote_lines)' | tr '|' ' ')" "no partial quote"

finish

#!/usr/bin/env bash
# Donation rewards (issue 16): each redemption spends the reward's cost and
# `crm loyalty report` sums the money given per cause; totals recomputed by
# python from the redemptions the scenario made.
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
contact a
assert_exit 0 "$CRM" --as-of "$(day 0)" loyalty earn ext:a --points 900 --reason gift --key g
plan="foret foret ocean foret"
for r in $plan; do
    assert_exit 0 "$CRM" --as-of "$(day 1)" loyalty redeem ext:a "$r"
done
assert_contains "$OUT" "donated to Reforestation"
want=$(python3 -c '
import sys
cost={"foret":(100,100,"Reforestation"),"ocean":(200,200,"Oceans")}
tot={}
for r in sys.argv[1].split(): c=cost[r]; t=tot.setdefault(c[2],[0,0]); t[0]+=1; t[1]+=c[1]
print(" ".join("%s:%d:%d"%(k,v[0],v[1]) for k,v in sorted(tot.items())), 900-sum(cost[r][0] for r in sys.argv[1].split()))' "$plan")
run "$CRM" --as-of "$(day 1)" --json loyalty report
got=$(python3 -c '
import json,sys
d=json.loads(sys.argv[1]); print(" ".join("%s:%d:%d"%(x["cause"],x["count"],x["amount"]) for x in sorted(d["donations"],key=lambda x:x["cause"])))' "$OUT")
assert_eq "${want% *}" "$got" "donations per cause: count and amount in cents"
assert_eq "${want##* }" "$(bal 1 ext:a approved)" "each donation spent its cost"
check donations
finish

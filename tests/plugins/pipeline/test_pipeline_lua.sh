#!/usr/bin/env bash
# Lua sees the pipeline: crm.pipeline.open_deals(contact_id) and
# crm.pipeline.deal(id) in a rule, the issue's segment "contacts with an
# open deal above 10k EUR in negotiation", checked per contact against the
# deals the test made; a bad argument is the rule's error.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
mkdir -p scripts
cat >scripts/deals.lua <<'LUA'
function big_negotiation(c)
  for _, d in ipairs(crm.pipeline.open_deals(c.id)) do
    if d.stage == "negotiation" and d.amount > 1000000 then return true end
  end
  return false
end
function first_deal(c)
  local d = crm.pipeline.deal(1)
  return d and (d.title .. " " .. d.stage .. " " .. d.expected) or "none"
end
function no_deal(c) return crm.pipeline.deal(999) == nil end
function bad_call(c) return crm.pipeline.deal("x") end
LUA
cat >>crm.yaml <<'YAML'
scripts: scripts
rules:
  big_negotiation: {kind: predicate, script: deals.lua, function: big_negotiation}
YAML
for x in a b c; do "$CRM" contact add --email "$x@example.com" >/dev/null; done
"$CRM" deal add --title Big --contact 1 --amount 12000.00 --stage negotiation >/dev/null
"$CRM" deal add --title Small --contact 2 --amount 9000.00 --stage negotiation >/dev/null
"$CRM" deal add --title Early --contact 3 --amount 50000.00 --stage proposal >/dev/null
"$CRM" deal add --title Won --contact 3 --amount 20000.00 --stage negotiation >/dev/null
"$CRM" deal win 4 >/dev/null
for c in 1:true 2:false 3:false; do
    run "$CRM" rules eval big_negotiation --contact "${c%%:*}" --json
    assert_eq 0 "$RC" "eval contact ${c%%:*}: $ERR"
    assert_eq "${c#*:}" "$(json_get "$OUT" result)" "contact ${c%%:*}: open deal > 10k in negotiation"
done
run "$CRM" rules run big_negotiation --json
assert_contains "$OUT" '"matched":1' "one contact in the segment"
run "$CRM" rules eval deals.lua:first_deal --contact 1 --json
assert_eq "Big negotiation $((1200000 * 70 / 100))" "$(json_get "$OUT" result)" "crm.pipeline.deal: the deal as deal show"
run "$CRM" rules eval deals.lua:no_deal --contact 1 --json
assert_eq true "$(json_get "$OUT" result)" "no such deal: nil"
run "$CRM" rules eval deals.lua:bad_call --contact 1
assert_eq 1 "$RC" "a bad argument fails the rule"
assert_contains "$ERR" "crm.pipeline.deal(id): expected one deal id" "and says why"
finish

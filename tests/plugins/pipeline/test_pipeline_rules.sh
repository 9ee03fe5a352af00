#!/usr/bin/env bash
# The pipeline's Lua rules: pipeline.lead_score_rule scores a lead (the rule
# gets the lead itself: it is not a contact yet) with its reasons, again
# when the lead is updated, qualified or disqualified; `lead list --sort
# score`; a failing rule leaves the lead stored, unscored, and says why in
# the log. pipeline.assign_rule gives new leads and deals their owner (the
# rule sees kind and the record), nil falling back on users' round-robin.
# The shipped scripts/lead_score.lua against points this test adds up from
# the script's documented table.
. "$(dirname "$0")/pl_common.sh"
SRC=${CRM_SOURCE_DIR:?}
pl_good_config
cp "$SRC/scripts/lead_score.lua" .
cat >rules.lua <<'LUA'
-- 10 per character of the company name, +7 when qualified, reasons named.
function score(l)
  local n, why = 0, {}
  if l.company then n = n + 10 * #l.company; why[#why + 1] = "company " .. l.company end
  if l.status == "qualified" then n = n + 7; why[#why + 1] = "qualified" end
  if l.source == "boom" then error("the scorer broke") end
  return n, why
end
-- Leads from a referral go to alice; deals above 10,000.00 to boss; else nil.
function assign(r)
  if r.kind == "lead" and r.source == "referral" then return "alice" end
  if r.kind == "deal" and r.amount > 1000000 then return "boss" end
  if r.kind == "deal" and r.title == "odd" then return 42 end
  return nil
end
LUA
cat >>crm.yaml <<'YAML'
  users: [u1, u2]
  lead_score_rule: rules.lua:score
  assign_rule: rules.lua:assign
YAML
# a config change: the plugin's section is read on every open
score_of() { pl_sql "SELECT coalesce(score, 'null') FROM pipeline_leads WHERE id = $1"; }
owner_of() { pl_sql "SELECT coalesce(owner, '') FROM pipeline_$1s WHERE id = $2"; }

# ---- the score, its reasons, recomputed on change ---------------------------------
assert_exit 0 "$CRM" lead add --name "Ann" --company Acme --source referral
assert_eq 40 "$(score_of 1)" "4 characters x 10"
run "$CRM" --json lead show 1
pl_fields "$OUT" score score_reasons owner
assert_eq '40|["company Acme"]|alice' "$(IFS='|'; echo "${F[*]}")" "score, reasons, the rule's owner"
run "$CRM" lead show 1
assert_contains "$OUT" "score    40: company Acme" "lead show prints the score and why"
assert_exit 0 "$CRM" lead update 1 --company "Acme Europe"
assert_eq 110 "$(score_of 1)" "recomputed on update (11 characters)"
assert_exit 0 "$CRM" lead qualify 1
assert_eq 117 "$(score_of 1)" "recomputed on qualify (+7)"
assert_exit 0 "$CRM" lead add --name "Bo" --company Bo
assert_eq "u1" "$(owner_of lead 2)" "nil from the rule: round-robin"
assert_exit 0 "$CRM" lead add --name "Cy" --company Cyberdyne
assert_eq "u2" "$(owner_of lead 3)" "round-robin goes on"
run "$CRM" lead list --sort score
assert_eq "1 3 2" "$(awk '{print $1}' <<<"$OUT" | paste -sd' ')" "highest score first"
assert_exit 2 "$CRM" lead list --sort name
assert_exit 2 "$CRM" lead update 1
assert_contains "$ERR" "nothing to change"

# a failing rule: the lead is stored all the same, unscored, and the log says why
assert_exit 0 "$CRM" lead add --name "Dee" --company Dee --source boom
assert_eq null "$(score_of 4)" "no score from a failing rule"
assert_contains "$ERR" "pipeline.lead_score_rule rules.lua:score failed for a lead"
assert_contains "$ERR" "the scorer broke"
assert_eq 4 "$(pl_sql 'SELECT count(*) FROM pipeline_leads')" "the lead is kept"

# ---- deals: the rule sees the deal ------------------------------------------------
"$CRM" contact add --email zed@example.com >/dev/null
assert_exit 0 "$CRM" deal add --title big --contact 1 --amount 20000.00
assert_eq boss "$(owner_of deal 1)" "amount above 10,000.00: boss"
assert_exit 0 "$CRM" deal add --title small --contact 1 --amount 200.00
assert_eq u1 "$(owner_of deal 2)" "nil: the deals' own round-robin"
assert_exit 0 "$CRM" deal add --title odd --contact 1 --amount 1.00
assert_eq u2 "$(owner_of deal 3)" "not a name: round-robin"
assert_contains "$ERR" "expected a user name or nil for a deal"
assert_exit 0 "$CRM" deal add --title mine --contact 1 --amount 20000.00 --owner carol
assert_eq carol "$(owner_of deal 4)" "--owner wins over the rule"

# ---- the shipped rule -------------------------------------------------------------
sed -i 's|lead_score_rule: rules.lua:score|lead_score_rule: lead_score.lua:lead_score|' crm.yaml
assert_exit 0 "$CRM" lead add --name "Zoé" --email zoe@acme.fr --company Acme --source Referral \
    --phone "+33612345678" --notes "Budget validated, urgent"
# company email 20, phone 10, company 15, referral 30, budget 10, urgent 10
assert_eq $((20 + 10 + 15 + 30 + 10 + 10)) "$(score_of 5)" "the shipped rule's points"
assert_exit 0 "$CRM" lead add --name "Bob" --email bob@gmail.com --source "trade show"
assert_eq $((5 + 15)) "$(score_of 6)" "personal email, trade show"
assert_exit 0 "$CRM" lead qualify 6
assert_eq $((5 + 15 + 20)) "$(score_of 6)" "qualified adds 20"
assert_exit 0 "$CRM" lead disqualify 6 --reason "no project"
assert_eq 0 "$(score_of 6)" "a disqualified lead scores 0"
run "$CRM" --json lead show 5
pl_fields "$OUT" score_reasons.3
assert_eq "source: referral" "${F[0]}" "reasons in the rule's order"
finish

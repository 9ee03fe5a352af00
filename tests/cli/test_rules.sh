#!/usr/bin/env bash
# crm rules check|eval|run end to end: the shipped example scripts, the JSON
# shapes of eval, --as-of reproducibility, failures with their cause, the
# validator on contact writes and the welcome handler.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-rules-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
mkdir scripts
cp "$SRC"/scripts/validators.lua "$SRC"/scripts/segments.lua "$SRC"/scripts/churn.lua \
   "$SRC"/scripts/welcome.lua scripts/
cat >scripts/bad.lua <<'LUA'
function spin(c) while true do end end
function peek(c) return io.open("/etc/passwd") end
function fails_on_3(c) if c.id == 3 then error("no three") end return true end
function stage(c) return c.lifecycle_stage == "customer" end
function fails_on_2(c) if c.id == 2 then error("no two") end return true end
LUA
cat >crm.yaml <<'YAML'
database: crm.db
lua:
  max_instructions: 1000000
  max_failures: 2
rules:
  b2b_company_email:    {kind: validator, script: validators.lua, function: b2b_company_email}
  cooling_repeat_buyer: {kind: predicate, script: segments.lua,   function: cooling_repeat_buyer}
  idf_big_spender:      {kind: predicate, script: segments.lua,   function: idf_big_spender}
  churn_risk:           {kind: score,     script: churn.lua,      function: churn_risk}
  welcome:              {kind: handler,   script: welcome.lua,    function: setup}
YAML

# Checking scripts needs no database, and creates none.
assert_exit 0 "$CRM" rules check
assert_contains "$OUT" "scripts/segments.lua: ok"
assert_eq "$(ls crm.db 2>/dev/null)" "" "rules check created no database"

assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" rules check
assert_contains "$OUT" "scripts/segments.lua: ok"

# Validator: B2B contacts need a company email.
assert_exit 1 "$CRM" contact add --first-name Bea --email bea@gmail.com --tag b2b
assert_contains "$ERR" "'bea@gmail.com' is a webmail address"
assert_contains "$ERR" "(rule b2b_company_email)"
assert_exit 0 "$CRM" contact add --first-name Bea --email bea@bigco.fr --tag b2b \
  --postal-code 75011 --country FR
assert_exit 0 "$CRM" contact add --first-name Cyd --email cyd@example.com --postal-code 69001
assert_exit 0 "$CRM" contact add --first-name Dom --email dom@example.com --stage customer

# Handler: the welcome note was logged for each new contact.
run "$CRM" interaction list --contact 1 --json
assert_contains "$OUT" "Welcome Bea"

for d in 2024-03-01 2024-04-10 2024-05-01; do
  assert_exit 0 "$CRM" order add --contact 1 --total 300 --status paid --placed-at $d
done
assert_exit 0 "$CRM" order add --contact 2 --total 900 --status paid --placed-at 2024-05-01

# eval: predicates, --as-of, the JSON shape.
assert_exit 0 "$CRM" rules eval cooling_repeat_buyer --contact 1 --as-of 2024-06-15 --json
assert_eq "true" "$(json_get "$OUT" result)" "cooling as of June"
assert_eq '["orders"]' "$(json_get "$OUT" fields_read)"
assert_eq "rule,contact,result,reasons,fields_read" \
  "$(python3 -c 'import json,sys; print(",".join(json.loads(sys.argv[1])))' "$OUT")"
first=$OUT
assert_exit 0 "$CRM" rules eval cooling_repeat_buyer --contact 1 --as-of 2024-06-15 --json
assert_eq "$first" "$OUT" "--as-of reproducible"
assert_exit 0 "$CRM" rules eval cooling_repeat_buyer --contact 1 --as-of 2024-05-10 --json
assert_eq "false" "$(json_get "$OUT" result)" "bought in the last 30 days"
assert_exit 0 "$CRM" rules eval idf_big_spender --contact bea@bigco.fr --as-of 2024-06-15 --json
assert_eq "true" "$(json_get "$OUT" result)" "900 EUR in Paris"
assert_eq '["postal_code","country","total_spent"]' "$(json_get "$OUT" fields_read)"
assert_exit 0 "$CRM" rules eval idf_big_spender --contact 1 --as-of 2024-03-15 --json
assert_eq "false" "$(json_get "$OUT" result)" "300 EUR is not more than 500"
assert_exit 0 "$CRM" rules eval churn_risk --contact 1 --as-of 2025-06-01 --json
assert_eq "65" "$(json_get "$OUT" result)" "churn points"
assert_contains "$(json_get "$OUT" reasons)" "no order for 396 days"
assert_exit 0 "$CRM" rules eval churn_risk --contact 1 --as-of 2025-06-01
assert_contains "$OUT" "churn_risk (score)"
assert_contains "$OUT" "fields_read"

# Failures: exit 1, the JSON error shape, the cause.
assert_exit 1 "$CRM" rules eval bad.lua:spin --contact 1 --json
assert_eq "instructions" "$(json_get "$OUT" cause)"
assert_eq "rule,contact,error,cause" \
  "$(python3 -c 'import json,sys; print(",".join(json.loads(sys.argv[1])))' "$OUT")"
assert_contains "$(json_get "$OUT" error)" "scripts/bad.lua:1: instruction budget"
assert_contains "$ERR" "(cause: instructions, contact 1)"
assert_exit 1 "$CRM" rules eval bad.lua:peek --contact 1 --json
assert_eq "blocked" "$(json_get "$OUT" cause)"
assert_exit 1 "$CRM" rules eval bad.lua:peek --contact 1
assert_contains "$ERR" "rule bad.lua:peek: ./scripts/bad.lua:2: io.open is not available to rules (blocked) (cause: blocked, contact 1)"
assert_exit 2 "$CRM" rules eval bad.lua:spin
assert_exit 1 "$CRM" rules eval nosuch --contact 1
assert_contains "$ERR" "no rule 'nosuch'"
assert_exit 1 "$CRM" rules check scripts/bad.lua
assert_contains "$OUT" "scripts/bad.lua:2: io.open is not available to rules (blocked)"

# run: counts, first matches, --where, failures summarised and the stop.
assert_exit 0 "$CRM" rules run bad.lua:stage --json
assert_eq "3" "$(json_get "$OUT" evaluated)"
# 3 was added as a customer; 1 and 2 became customers with their paid orders
assert_eq "[1,2,3]" "$(json_get "$OUT" first_matches)"
assert_exit 0 "$CRM" rules run bad.lua:stage --where postal_code=75
assert_contains "$OUT" "1 evaluated, 1 matched, 0 failed"
assert_exit 0 "$CRM" rules run bad.lua:stage --where postal_code=75 --where stage=lead
assert_contains "$OUT" "0 evaluated, 0 matched, 0 failed"
# One record failing: the others, before and after it, are still evaluated,
# the counts printed, and the run exits 1.
assert_exit 1 "$CRM" rules run bad.lua:fails_on_2 --json
assert_eq "1" "$(json_get "$OUT" failed)"
assert_eq "3" "$(json_get "$OUT" evaluated)"
assert_eq "2" "$(json_get "$OUT" matched)"
assert_eq "[1,3]" "$(json_get "$OUT" first_matches)" "contacts before and after the failure"
assert_eq '{"runtime":1}' "$(json_get "$OUT" failed_by_cause)"
assert_eq "false" "$(json_get "$OUT" stopped)"
assert_contains "$ERR" "the rule failed for 1 of 3 contacts"
assert_exit 1 "$CRM" rules run bad.lua:fails_on_2
assert_contains "$OUT" "3 evaluated, 2 matched, 1 failed"
assert_contains "$ERR" "crm rules eval bad.lua:fails_on_2 --contact 2"
assert_exit 0 "$CRM" rules run bad.lua:fails_on_2 --where postal_code=75
assert_contains "$OUT" "1 evaluated, 1 matched, 0 failed"
assert_exit 1 "$CRM" rules run bad.lua:spin --json
assert_eq "true" "$(json_get "$OUT" stopped)" "stops after lua.max_failures"
assert_eq "2" "$(json_get "$OUT" evaluated)"
assert_exit 2 "$CRM" rules run churn_risk

# A script that does not compile: cause syntax in check, eval and run, text and JSON.
printf 'function ok(c)\n  return c.id +\nend\n' >scripts/syn.lua
assert_exit 1 "$CRM" rules check scripts/syn.lua
assert_contains "$OUT" "scripts/syn.lua:3: unexpected symbol near 'end' (cause: syntax)"
assert_exit 1 "$CRM" rules check scripts/syn.lua --json
assert_contains "$(json_get "$OUT" errors)" "(cause: syntax)"
assert_exit 1 "$CRM" rules eval syn.lua:ok --contact 1
assert_contains "$ERR" "(cause: syntax, contact 1)"
assert_exit 1 "$CRM" rules eval syn.lua:ok --contact 1 --json
assert_eq "syntax" "$(json_get "$OUT" cause)"
run "$CRM" rules run syn.lua:ok --json
assert_eq '{"syntax":2}' "$(json_get "$OUT" failed_by_cause)" "stopped at max_failures 2"
assert_eq "syntax" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["failures"][0]["cause"])' "$OUT")"
run "$CRM" rules run syn.lua:ok
assert_contains "$OUT" "(cause: syntax, contact 1)"

# Documentation: `crm rules --help` prints the contact object, the --where
# fields and the causes from the engine's tables; README's copy is identical,
# and every documented --where field is accepted.
assert_exit 0 "$CRM" rules --help
help=$OUT
assert_contains "$help" "c:orders_since(days)"
assert_contains "$help" "c.lifecycle_stage"
python3 - "$SRC/README.md" "$help" <<'PY' && pass || fail "README's rules block differs from crm rules --help"
import sys
readme, help_ = open(sys.argv[1]).read(), sys.argv[2] + "\n"
block = help_[help_.index("the contact a rule gets"):]
sys.exit(0 if "```text\n" + block + "```" in readme else 1)
PY
assert_exit 0 "$CRM" rules eval --help
assert_contains "$OUT" "c:has_tag(tag)"
where=$(sed -n '/--where FIELD=VALUE (repeatable/,/^$/p' <<<"$help" | awk 'NR > 1 && NF {print $1}')
assert_eq "email city postal_code country lifecycle_stage stage source company tag" \
  "$(echo $where)" "documented --where fields"
for w in $where; do
  assert_exit 0 "$CRM" rules run bad.lua:stage --where "$w=nothing"
done
assert_exit 2 "$CRM" rules run bad.lua:stage --where nickname=x
assert_contains "$ERR" "FIELD one of email, city, postal_code, country, lifecycle_stage, stage, source, company, tag"

# Plugin functions: crm.<plugin>.<name>, JSON in and out (the SDK template).
if command -v cc >/dev/null; then
  mkdir -p plug/scripts
  assert_exit 0 cc -shared -fPIC -fvisibility=hidden -I"$SRC/sdk/include" \
    -o plug/hello.so "$SRC/sdk/template/hello.c"
  printf 'database: %s/plug/crm.db\nplugins: [hello]\nhello:\n  greeting: Hello\n' \
    "$dir" >plug/crm.yaml
  printf 'function g(c) return crm.hello.greet(c.first_name) end\n' >plug/scripts/p.lua
  (
    cd plug && export CRM_PLUGIN_PATH=$dir/plug
    "$CRM" init --quiet >/dev/null 2>&1
    "$CRM" contact add --first-name Ada --email ada@example.org >/dev/null 2>&1
    "$CRM" rules eval p.lua:g --contact 1 --json
  ) >plug/out.json 2>plug/err
  assert_eq "Hello Ada" "$(json_get "$(cat plug/out.json)" result)" "crm.hello.greet"
fi

finish

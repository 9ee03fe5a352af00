#!/usr/bin/env bash
# Plugin routes through the SDK (1.4 register_route) under a real crm serve:
# the shipped plugins' routes with each role (403 where they must be), the
# pipeline board's sums against the deals table, a third party's plugin
# (tests/plugins/fixtures/greeter.c) with parameters, errors and rollback,
# the OpenAPI entries with x-owner, routes and entries gone when the plugin is
# not in `plugins:`, and a duplicate route refused at load. The HTTP side is
# tests/cli/plugin_routes_api.py.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"
. "$(dirname "$0")/serve_lib.sh"
export CRM_PLUGIN_PATH="$BUILD/tests/plugins/so:$BUILD/plugins"
here=$(cd "$(dirname "$0")" && pwd)

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'kill "${SERVE_PID:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
unset CRM_DB CRM_CONFIG CRM_USER

# write_config PLUGINS AGENTS_OWN [SCOPE]: crm.yaml with those plugins
# enabled, agent_scope SCOPE (default all) for both deals and tickets
write_config() {
    cat >crm.yaml <<YAML
database: t.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [$1]
pipeline:
  pipelines:
    - name: b2b
      currency: EUR
      stages:
        - {name: qualification, probability: 10, category: pipeline}
        - {name: proposal,      probability: 40, category: best_case}
        - {name: negotiation,   probability: 70, category: commit}
        - {name: won,  probability: 100, won: true}
        - {name: lost, probability: 0,   lost: true}
  lost_reasons: [price, competitor]
  agents_edit_own_deals: $2
  agent_scope: ${3:-all}
  teams:
    - {name: east, members: [agent, dave]}
calendars:
  always: {timezone: UTC, hours: {mon-sun: ["00:00-24:00"]}}
ticketing:
  agent_scope: ${3:-all}
  teams:
    - {name: support, calendar: always, members: [agent]}
    - {name: escalations, calendar: always, members: [chloe], routing: none}
  sla:
    - name: standard
      calendar: always
      targets:
        normal: {first_reply: 4h, next_reply: 2h, resolution: 16h}
        urgent: {first_reply: 1h, next_reply: 1h, resolution: 4h}
segmentation:
  rfm: {window_days: 365, currency: EUR}
  segments:
    - {name: Big Spenders, where: "monetary >= 50000"}
    - {name: Test List, static: true}
loyalty:
  programs:
    - name: club
      point: {name: points, value: "0.01 EUR"}
      earn:
        - {on: order.paid, per: "1.00 EUR", points: 1}
      pending: 14d
      expire_after: 365d
      tiers:
        qualify_on: spent
        window: rolling_12_months
        grace: 30d
        downgrade: one_down
        levels:
          - {name: bronze, min: "0 EUR"}
          - {name: silver, min: "500 EUR", multiplier: 1.25}
      rewards:
        - {name: guide, kind: education, cost: 50, limit: 1}
YAML
}
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

write_config "pipeline, ticketing, segmentation, loyalty, greeter" true
assert_exit 0 crm init --quiet
for role in admin manager agent viewer integration; do
    assert_exit 0 crm token create --name "$role" --role "$role"
    printf '%s\n' "$OUT" >"$dir/token.$role"
done
crm user add --name agent --email agent@example.com >/dev/null
crm contact add --email ann@example.com --first-name Ann >/dev/null
crm contact add --email bob@example.com --first-name Bob >/dev/null
T=2026-01-20T09:00:00Z
crm --as-of $T deal add --title A --contact 1 --amount 1000.00 --close-date 2026-02-15 --owner agent >/dev/null
crm --as-of $T deal add --title B --contact 2 --amount 333.33 --close-date 2026-03-15 --owner alice --stage negotiation >/dev/null
crm --as-of $T deal add --title C --contact 2 --amount 250.05 --close-date 2026-03-20 --owner alice --stage proposal --probability 15 >/dev/null
crm --as-of $T deal add --title USD --contact 2 --amount 500.00 --currency USD --close-date 2026-02-20 --owner alice >/dev/null
crm --as-of $T deal add --title W --contact 2 --amount 700.00 --close-date 2026-02-01 >/dev/null
crm --as-of 2026-02-02T09:00:00Z deal win 5 >/dev/null
crm --as-of $T deal add --title P2 --contact 1 --amount 99.99 --stage proposal >/dev/null
# tickets before the server's clock (NOW): one breached, one due later, one solved
NOW=2026-03-10T12:00:00Z
crm --as-of 2026-03-10T09:00:00Z ticket open --contact 1 --subject "Colis perdu" --priority urgent >/dev/null
crm --as-of 2026-03-10T11:30:00Z ticket open --contact 2 --subject "Facture" --description "Bonjour" >/dev/null
crm --as-of 2026-03-09T10:00:00Z ticket open --contact 2 --subject "Ancien" >/dev/null
crm --as-of 2026-03-09T11:00:00Z ticket solve 3 >/dev/null
crm --as-of 2026-03-10T11:45:00Z ticket open --contact 1 --subject "Urgent, due later" --priority urgent >/dev/null
# orders for RFM and segments: six more contacts, scored and segmented as of
# 2026-03-01; the static list gets three members, then loses one
for i in 3 4 5 6 7 8; do
    crm contact add --email "c$i@example.com" --first-name "C$i" --last-name "N$i" >/dev/null
done
i=0
for spec in 1:120.00:2026-02-20 1:30.00:2025-12-01 2:15.00:2025-06-01 3:900.00:2026-02-27 \
            3:50.00:2026-01-15 3:75.00:2025-11-11 4:20.00:2025-04-01 5:600.00:2026-02-01 \
            6:10.00:2025-09-09 7:45.00:2026-02-25 7:45.00:2026-01-25 8:5.00:2026-02-28; do
    IFS=: read -r c total day <<<"$spec"
    crm order add --contact "$c" --total "$total" --currency EUR --status paid \
        --placed-at "${day}T10:00:00Z" >/dev/null
done
crm --as-of 2026-03-01T00:00:00Z rfm refresh >/dev/null
crm --as-of 2026-03-01T00:00:00Z segment refresh >/dev/null
crm --as-of 2026-03-02T08:00:00Z segment add test_list 2 4 6 >/dev/null
crm --as-of 2026-03-05T08:00:00Z segment remove test_list 4 >/dev/null
# loyalty: 500 approved points for contact 3 (the orders' own points are
# still pending: 14 days and no timer ran); contact 9 has no points at all
crm --as-of 2026-03-01T09:00:00Z loyalty earn 3 --points 500 --reason welcome --key t:welcome >/dev/null
crm contact add --email c9@example.com --first-name C9 >/dev/null

SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 2 --no-worker --as-of $NOW
status=0
python3 "$here/plugin_routes_api.py" "$SERVE_URL" "$dir" "$CRM" "$dir/crm.yaml" full || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "plugin_routes_api.py full failed ($status)"; fi
serve_stop
assert_eq 0 "$SERVE_RC" "crm serve exit status after SIGTERM"

# the plugins gone from plugins: their routes answer 404 and leave the
# OpenAPI document; an agent without agents_edit_own_deals may not PATCH
write_config "" false
SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 1 --no-worker
status=0
python3 "$here/plugin_routes_api.py" "$SERVE_URL" "$dir" "$CRM" "$dir/crm.yaml" absent || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "plugin_routes_api.py absent failed ($status)"; fi
serve_stop
assert_eq 0 "$SERVE_RC" "crm serve (no plugins) exit status after SIGTERM"
write_config "pipeline" false
SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 1 --no-worker
status=0
python3 "$here/plugin_routes_api.py" "$SERVE_URL" "$dir" "$CRM" "$dir/crm.yaml" agents_off || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "plugin_routes_api.py agents_off failed ($status)"; fi
serve_stop
assert_eq 0 "$SERVE_RC" "crm serve (pipeline) exit status after SIGTERM"

# agent_scope own, then team: an agent token (and the agent's board login)
# lists, reads and writes only its deals and tickets (404 for the others),
# plus its teams' under team; manager, viewer and integration still see all.
# Records of dave (agent, east team member and a support assignee), of chloe
# (escalations) and of the agent under its email.
write_config "pipeline, ticketing" true own
crm user add --name dave --email dave@example.com --role agent >/dev/null
assert_exit 0 crm token create --name dave --role agent
printf '%s\n' "$OUT" >"$dir/token.dave"
printf 'agent-password\n' | crm user passwd agent@example.com >/dev/null 2>&1
crm --as-of $T deal add --title Dave --contact 1 --amount 400.00 --close-date 2026-03-05 --owner dave --stage proposal >/dev/null
crm --as-of $T deal add --title Mail --contact 2 --amount 600.00 --close-date 2026-03-06 --owner agent@example.com --stage negotiation >/dev/null
crm --as-of $T deal add --title Carol --contact 2 --amount 800.00 --close-date 2026-03-07 --owner carol >/dev/null
crm --as-of 2026-03-10T10:00:00Z ticket open --contact 1 --subject "Dave's" --team support --assignee dave >/dev/null
crm --as-of 2026-03-10T10:00:00Z ticket open --contact 2 --subject "Escalated" --team escalations --assignee chloe >/dev/null
crm --as-of 2026-03-10T10:00:00Z ticket open --contact 2 --subject "Escalated to agent" --team escalations --assignee agent@example.com >/dev/null
for scope in own team; do
    write_config "pipeline, ticketing" true $scope
    SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 2 --no-worker --as-of $NOW
    status=0
    python3 "$here/plugin_routes_api.py" "$SERVE_URL" "$dir" "$CRM" "$dir/crm.yaml" "scope_$scope" || status=$?
    if [ "$status" -eq 0 ]; then pass; else fail "plugin_routes_api.py scope_$scope failed ($status)"; fi
    serve_stop
    assert_eq 0 "$SERVE_RC" "crm serve (agent_scope $scope) exit status after SIGTERM"
done
write_config "pipeline, ticketing" true mine
assert_exit 1 crm plugins
assert_contains "$ERR" "unknown agent_scope \"mine\" (own, team, all)"

# a duplicate method + path shape is refused at load, naming both sides
write_config "pipeline, routeclash" false
assert_exit 1 crm plugins
assert_contains "$ERR" "route GET /v1/deals/{deal} is already registered by plugin pipeline (as /v1/deals/{id})"
write_config "routeclash" false
export ROUTECLASH_PATH='/v1/contacts/{contact}'
assert_exit 1 crm plugins
assert_contains "$ERR" "route GET /v1/contacts/{contact} is already registered by the kernel (as /v1/contacts/{id})"
export ROUTECLASH_PATH='/v1/bad path'
assert_exit 1 crm plugins
assert_contains "$ERR" "register_route GET /v1/bad path: segment 'bad path'"
export ROUTECLASH_PATH='/v1/elsewhere/{x}'
assert_exit 0 crm plugins
unset ROUTECLASH_PATH
finish

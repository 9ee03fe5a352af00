#!/usr/bin/env bash
# The OpenAPI document of a running `crm serve` checked by standard tools
# (tests/package.json, installed from tests/package-lock.json): `redocly lint`
# with the recommended-strict rules (tests/redocly.yaml: every warning fails),
# and real responses (contacts list, one contact, errors, orders, track single
# and batch, timeline, events, tokens) validated against the document's own
# response schemas by Ajv (tests/tools/openapi_check.js), with broken copies
# refused. Needs CRM, CRM_TEST_LIB and node/npm.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"
. "$(dirname "$0")/serve_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'kill "${SERVE_PID:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\nplugins: []\n' \
    >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

# the validators: installed from the committed lock file when missing
if [ ! -x "$SRC/tests/node_modules/.bin/redocly" ] || [ ! -d "$SRC/tests/node_modules/ajv" ]; then
    (cd "$SRC/tests" && npm ci --no-audit --no-fund --silent) || { fail "npm ci in tests/"; finish; }
fi

assert_exit 0 crm init
assert_exit 0 crm token create --name admin --role admin
token=$OUT

SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 2 --no-worker
status=0
node "$SRC/tests/tools/openapi_check.js" "$SERVE_URL" "$token" "$dir" || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "openapi_check.js: $status failures"; fi
serve_stop

# no telemetry and no update check: the test runs offline
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
lint() { # lint FILE: the JSON report in $report, redocly's status in LINT_RC
    LINT_RC=0
    "$SRC/tests/node_modules/.bin/redocly" lint --config "$SRC/tests/redocly.yaml" --format json \
        "$1" >"$dir/lint.json" 2>"$dir/lint.err" || LINT_RC=$?
    report=$(cat "$dir/lint.json")
}
totals() { python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; print(t["errors"], t["warnings"])'; }
lint "$dir/openapi.json"
assert_eq 0 "$LINT_RC" "redocly lint exit status"
assert_eq "0 0" "$(printf '%s' "$report" | totals)" "redocly lint: errors and warnings"
# the linter really checks: a dangling $ref and an operation without responses fail it
python3 - "$dir/openapi.json" "$dir/broken.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["paths"]["/v1/track"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] = \
    {"$ref": "#/components/schemas/NoSuchSchema"}
del doc["paths"]["/v1/contacts"]["get"]["responses"]
json.dump(doc, open(sys.argv[2], "w"))
PY
lint "$dir/broken.json"
assert_eq 1 "$LINT_RC" "redocly lint refuses a broken document"
assert_contains "$report" "no-unresolved-refs" "the dangling reference is reported"
finish

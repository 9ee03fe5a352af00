#!/usr/bin/env bash
# crm serve end to end: tokens (hash only in the database, revocation), the
# route x role matrix, Idempotency-Key, cursor paging under concurrent
# inserts, 409/422 bodies, request limits and slow clients, the change feed,
# SIGTERM exits 0. The HTTP side is tests/cli/serve_api.py.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"
. "$(dirname "$0")/serve_lib.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'kill "${SERVE_PID:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat >"$dir/crm.yaml" <<'YAML'
database: t.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: []
YAML
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

assert_exit 0 crm init
for role in admin manager agent viewer integration; do
    assert_exit 0 crm token create --name "$role" --role "$role"
    printf '%s\n' "$OUT" >"$dir/token.$role"
done
assert_exit 0 crm token create --name spare --role agent
printf '%s\n' "$OUT" >"$dir/token.spare"
assert_exit 0 crm token create --name old --role admin --expires 1d --as-of 2020-01-01
printf '%s\n' "$OUT" >"$dir/token.expired"
assert_exit 1 crm token create --name x --role root
assert_contains "$ERR" "unknown role 'root'"
assert_exit 1 crm token create --name admin --role admin
assert_contains "$ERR" "a token named 'admin' exists"

# the database holds each token's BLAKE2b-256 hash, never the token
for role in admin viewer spare; do
    token=$(cat "$dir/token.$role")
    expected=$(python3 -c 'import hashlib, sys; print(hashlib.blake2b(sys.argv[1].encode(), digest_size=32).hexdigest())' "$token")
    stored=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select hash from api_tokens where name = ?", (sys.argv[2],)).fetchone()[0])' "$dir/t.db" "$role")
    assert_eq "$expected" "$stored" "hash of token $role"
    if grep -qaF "${token#crm_}" "$dir/t.db" "$dir"/t.db-wal 2>/dev/null; then
        fail "token $role is stored in plain text"
    else
        pass
    fi
done
assert_exit 0 crm token list --json
assert_not_contains "$OUT" "$(cat "$dir/token.admin")"
assert_eq 7 "$(line_count "$OUT")" "tokens listed"

SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 2 --timeout 2 --max-body 4096 --no-worker
status=0
python3 "$(dirname "$0")/serve_api.py" "$SERVE_URL" "$dir" "$CRM" "$dir/crm.yaml" || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "serve_api.py failed ($status)"; fi

serve_stop
assert_eq 0 "$SERVE_RC" "crm serve exit status after SIGTERM"
assert_contains "$(cat "$dir/serve.err")" "crm serve: stopped"
finish

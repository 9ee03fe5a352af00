#!/usr/bin/env bash
# crm events tail|failed|retry|replay, end to end on the real binary.
set -u
CRM=${CRM:?CRM must point to the crm binary}
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-events-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
export CRM_DB="$dir/crm.db"
unset CRM_CONFIG
pass=0 fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }

# json_field FILE EXPR: evaluates EXPR on each JSON line (list `rows`).
json_eval() {
  python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(eval(sys.argv[2]))' "$@"
}

"$CRM" init --quiet >/dev/null 2>&1; check "init" test $? -eq 0
"$CRM" contact add --email ada@example.com --last-name Lovelace >/dev/null 2>&1
check "contact add" test $? -eq 0

"$CRM" events tail --json >"$dir/tail.json" 2>"$dir/err"
check "tail --json exits 0" test $? -eq 0
check "tail shows contact.created" \
  test "$(json_eval "$dir/tail.json" '[r["type"] for r in rows]')" = "['contact.created']"
check "payload carries the contact id and dataver" \
  test "$(json_eval "$dir/tail.json" 'sorted(rows[0]["payload"].keys())')" = "['contact_id', 'dataver']"
check "source and depth" \
  test "$(json_eval "$dir/tail.json" '(rows[0]["source"], rows[0]["depth"])')" = "('kernel', 0)"

"$CRM" contact add --email grace@example.com >/dev/null 2>&1
check "tail --type contact.* --limit 1 shows the last one" \
  test "$("$CRM" events tail --json --type 'contact.*' --limit 1 | wc -l)" -eq 1
check "tail --type order.* shows nothing" \
  test -z "$("$CRM" events tail --json --type 'order.*')"
out=$("$CRM" events tail 2>&1)
check "human tail has a header and rows" test "$(printf '%s\n' "$out" | grep -c contact.created)" -eq 2

"$CRM" events tail --type 'Bad*' >/dev/null 2>"$dir/err"
check "bad pattern is a usage error (exit 2)" test $? -eq 2
check "bad pattern message" grep -q "expected an event name" "$dir/err"

check "failed --json is empty" test -z "$("$CRM" events failed --json)"
"$CRM" events retry --json >"$dir/retry.json" 2>/dev/null
check "retry with nothing parked" \
  test "$(json_eval "$dir/retry.json" '(rows[0]["retried"], rows[0]["still_failing"])')" = "(0, 0)"

# A parked delivery of a subscriber whose plugin is not loaded: listed, and
# retry reports it still failing (exit 1).
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("INSERT INTO bus_parked VALUES(?,1,3,?,0)", ("seg.orders", "boom")); c.commit()' "$CRM_DB"
"$CRM" events failed --json >"$dir/failed.json"
check "failed --json lists the parked event" \
  test "$(json_eval "$dir/failed.json" '[(r["subscriber"], r["event_id"], r["type"], r["attempts"], r["error"]) for r in rows]')" = "[('seg.orders', 1, 'contact.created', 3, 'boom')]"
"$CRM" events retry >/dev/null 2>"$dir/err"
check "retry with a subscriber not loaded exits 1" test $? -eq 1
check "retry says it is still failing" grep -q "1 parked event still failing" "$dir/err"

"$CRM" events replay --subscriber nobody --from 1 >/dev/null 2>"$dir/err"
check "replay of an unknown subscriber exits 1" test $? -eq 1
check "replay names the subscriber" grep -q "no subscriber nobody" "$dir/err"
"$CRM" events replay --subscriber nobody >/dev/null 2>&1
check "replay without --from is a usage error" test $? -eq 2

# --follow prints events committed by another process, until interrupted.
"$CRM" events tail --json --follow --limit 0 >"$dir/follow.json" 2>"$dir/follow.err" &
pid=$!
sleep 0.5
"$CRM" contact add --email linus@example.com >/dev/null 2>&1
sleep 0.7
kill -INT "$pid"
wait "$pid"
check "follow stops cleanly on SIGINT" test $? -eq 0
check "follow printed the backlog and the new event" test "$(wc -l <"$dir/follow.json")" -eq 3

echo "$pass passed, $fail failed"
test "$fail" -eq 0

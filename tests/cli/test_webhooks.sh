#!/usr/bin/env bash
# Outbound webhooks end to end against a local HTTP sink (tests/tools/
# webhook_sink.py on 127.0.0.1): crm.yaml errors with positions, signatures
# checked by the Standard Webhooks reference verifier (npm standardwebhooks),
# retries with backoff driven by `crm tick --as-of` up to 24 h, 4xx dead
# letters and replay with the same webhook-id, 410 disabling the endpoint and
# `crm webhook enable`, and kill -9 of `crm run` mid-delivery.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-webhooks-XXXXXX")
sink_pid= run_pid=
cleanup() {
  [ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB

# The reference verifier: installed from the committed lock file when missing.
if [ ! -d "$SRC/tests/node_modules/standardwebhooks" ]; then
  (cd "$SRC/tests" && npm ci --no-audit --no-fund --silent) || { fail "npm ci in tests/"; finish; }
fi

mkdir sink
python3 "$SRC/tests/tools/webhook_sink.py" "$dir/sink" &
sink_pid=$!
for _ in $(seq 100); do [ -s sink/port ] && break; sleep 0.1; done
port=$(cat sink/port)
requests() { [ -f sink/requests.jsonl ] && wc -l <sink/requests.jsonl || echo 0; }
answer() { printf '%s\n' "$@" >>sink/codes; }
# field N of the deliveries' JSON lines, one per line, in delivery order
deliveries() { "$CRM" webhook deliveries --json | python3 -c "
import json, sys
for l in sys.stdin: print(json.loads(l)['$1'])"; }

export WH_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

# ---- configuration errors, with file:line:col ---------------------------------
cat >crm.yaml <<YAML
database: crm.db
webhooks:
  - url: "ftp://127.0.0.1/hook"
    events: ["order.*"]
    secret_env: WH_SECRET
YAML
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:3:5: webhooks[0].url: expected an http:// or https:// URL"
assert_eq "" "$(ls crm.db 2>/dev/null)" "refused config creates no database"
cat >crm.yaml <<YAML
database: crm.db
webhooks:
  - {url: "http://127.0.0.1:$port/hook", event: ["order.*"], secret_env: WH_SECRET}
YAML
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:3:42: webhooks[0].event: unknown key 'event', did you mean 'events'?"
cat >crm.yaml <<YAML
database: crm.db
webhooks:
  - {url: "http://127.0.0.1:$port/hook", events: ["order"], secret_env: WH_SECRET}
YAML
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "webhooks[0].events: expected an event pattern"

cat >crm.yaml <<YAML
database: crm.db
webhooks:
  - name: shop
    url: "http://127.0.0.1:$port/hook"
    events: ["order.*", "contact.created"]
    secret_env: WH_SECRET
    timeout: 2s
YAML
T0=2026-01-05T10:00:00Z
at() { date -u -d "@$(( $(date -u -d "$T0" +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
assert_exit 0 "$CRM" init --quiet
# a command queueing deliveries needs no secret; a process sending them does
WH_SECRET= assert_exit 0 "$CRM" contact add --first-name Ann --email ann@example.fr --as-of "$T0"
WH_SECRET= assert_exit 1 "$CRM" tick --as-of "$T0"
assert_contains "$ERR" "crm.yaml:6:5: webhooks[0].secret_env: environment variable WH_SECRET is not set"
assert_eq 0 "$(requests)" "nothing sent without the secret"

# ---- delivery, verified by the reference implementation ----------------------
assert_exit 0 "$CRM" order add --contact 1 --total 4990 --status placed --as-of "$T0"
assert_exit 0 "$CRM" webhook list --json
assert_eq "shop|active|2" "$(json_get "$OUT" name)|$(json_get "$OUT" state)|$(json_get "$OUT" pending)"
assert_exit 0 "$CRM" tick --as-of "$T0"
assert_eq 2 "$(requests)" "contact.created and order.placed sent"
assert_exit 0 node "$SRC/tests/tools/webhook_verify.js" sink/requests.jsonl "$WH_SECRET"
assert_eq "ok evt_1_1 contact.created
ok evt_2_1 order.placed" "$OUT" "reference verifier accepts both"
# a wrong secret is refused by the same verifier: the check is real
assert_exit 1 node "$SRC/tests/tools/webhook_verify.js" sink/requests.jsonl \
  whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
body=$(python3 -c 'import json,sys; print(json.loads(open("sink/requests.jsonl").readlines()[1])["body"])')
assert_eq "order.placed|2" "$(json_get "$body" type)|$(json_get "$body" event_id)" "body: type, event id"
assert_eq "$(sqlite3 crm.db 'select payload from events where id=2')" "$(json_get "$body" data)" \
  "body.data is the event's payload"
assert_eq "delivered delivered" "$(deliveries status | xargs)"

# ---- retries: 5xx then success, same webhook-id, backoff by --as-of -----------
answer 500 503
assert_exit 0 "$CRM" order add --contact 1 --total 100 --status placed --as-of "$T0"   # event 3
assert_exit 0 "$CRM" tick --as-of "$T0"
assert_exit 0 "$CRM" tick --as-of "$(at 29)"
assert_eq 3 "$(requests)" "first attempt only before the 30 s backoff"
assert_exit 0 "$CRM" tick --as-of "$(at 30)"
assert_eq 4 "$(requests)" "second attempt after 30 s"
assert_exit 0 "$CRM" tick --as-of "$(at 89)"
assert_eq 4 "$(requests)" "third waits 60 s more"
assert_exit 0 "$CRM" tick --as-of "$(at 90)"
assert_eq 5 "$(requests)" "third attempt at 90 s"
ids=$(python3 -c 'import json; print(" ".join(json.loads(l)["headers"]["webhook-id"] for l in open("sink/requests.jsonl").readlines()[2:]))')
assert_eq "evt_3_1 evt_3_1 evt_3_1" "$ids" "one webhook-id across retries"
assert_exit 0 "$CRM" webhook deliveries --json
assert_eq "delivered|3|200" "$(deliveries status | tail -1)|$(deliveries attempts | tail -1)|$(deliveries last_status | tail -1)"

# ---- 24 h of retries, then failed ---------------------------------------------
for _ in $(seq 40); do answer 502; done
assert_exit 0 "$CRM" order add --contact 1 --total 200 --status placed --as-of "$T0"   # event 4
before=$(requests)
t=$T0
# the loop follows the stored schedule (one sqlite3 read per pass, cheaper than
# the CLI under sanitizers); the CLI's view is checked once it is over
for _ in $(seq 40); do
  assert_exit 0 "$CRM" tick --as-of "$t"
  IFS='|' read -r st next < <(sqlite3 crm.db \
    'select status, next_attempt_at from webhook_deliveries order by id desc limit 1')
  [ "$st" = pending ] || break
  t=$(date -u -d "@$next" +%Y-%m-%dT%H:%M:%SZ)
done
# independent schedule: 30 s doubling, at most 4 h, no attempt after 24 h
want=$(python3 -c '
t, n, d = 0, 1, 30
while t + d <= 86400:
    t += d; n += 1; d = min(d * 2, 4 * 3600)
print(n)')
assert_eq "$want" "$(( $(requests) - before ))" "attempts within 24 h"
assert_eq failed "$(deliveries status | tail -1)" "gave up after 24 h"
: >sink/codes

# ---- other 4xx: dead letter, then replay with the same webhook-id ------------
answer 400
assert_exit 0 "$CRM" order add --contact 1 --total 300 --status placed --as-of "$T0"   # event 5
assert_exit 0 "$CRM" tick --as-of "$T0"
before=$(requests)
assert_exit 0 "$CRM" tick --as-of "$(at 86400)"
assert_eq "$before" "$(requests)" "a 400 is not retried"
assert_exit 0 "$CRM" webhook deliveries --failed --json
assert_eq "evt_4_1 evt_5_1" "$(deliveries webhook_id | tail -2 | xargs)" "both dead letters listed"
assert_eq 2 "$(grep -c . <<<"$OUT")" "--failed lists only failed"
assert_exit 0 "$CRM" webhook replay --from 5 --as-of "$(at 100)"
assert_contains "$OUT" "1 delivery queued again"
assert_exit 0 "$CRM" tick --as-of "$(at 100)"
last=$(tail -1 sink/requests.jsonl)
assert_eq "evt_5_1" "$(json_get "$last" headers.webhook-id)" "replay keeps the webhook-id"
assert_eq delivered "$(deliveries status | tail -1)"

# ---- 410: the endpoint is disabled, its queue stops; enable resumes -----------
answer 410
assert_exit 0 "$CRM" order add --contact 1 --total 400 --status placed --as-of "$T0"   # event 6
assert_exit 0 "$CRM" tick --as-of "$T0"
assert_exit 0 "$CRM" webhook list --json
assert_eq "disabled" "$(json_get "$OUT" state)" "410 disables"
assert_contains "$(json_get "$OUT" disabled_reason)" "410"
assert_exit 0 "$CRM" order add --contact 1 --total 500 --status placed --as-of "$T0"   # event 7
before=$(requests)
assert_exit 0 "$CRM" tick --as-of "$(at 3600)"
assert_eq "$before" "$(requests)" "nothing sent to a disabled endpoint"
assert_eq "disabled disabled" "$(deliveries status | tail -2 | xargs)"
assert_exit 0 "$CRM" webhook enable 1 --as-of "$(at 3600)"
assert_contains "$OUT" "2 deliveries resumed"
assert_exit 0 "$CRM" tick --as-of "$(at 3600)"
assert_eq "$((before + 2))" "$(requests)" "both sent after enable"
assert_eq "delivered delivered" "$(deliveries status | tail -2 | xargs)"
assert_exit 1 "$CRM" webhook enable 9
assert_contains "$ERR" "webhook endpoint 9 is not in crm.yaml"

# ---- kill -9 of crm run mid-delivery, then a restart --------------------------
: >sink/requests.jsonl
answer 200 200 200 200 "sleep 30"
first=$(( $(sqlite3 crm.db 'select max(id) from events') + 1 ))
for i in $(seq 10); do
  "$CRM" order add --contact 1 --total $((1000 + i)) --status placed --as-of "$T0" >/dev/null
done
last_ev=$(sqlite3 crm.db 'select max(id) from events')
export CRM_WORKER_LEASE=1
"$CRM" run >run1.log 2>&1 &
run_pid=$!
for _ in $(seq 200); do [ "$(requests)" -ge 5 ] && break; sleep 0.1; done
assert_eq 5 "$(requests)" "the fifth POST stalls the worker"
kill -9 "$run_pid"; wait "$run_pid" 2>/dev/null; run_pid=
: >sink/codes
sleep 1.5   # the dead worker's 1 s lease expires
"$CRM" run >run2.log 2>&1 &
run_pid=$!
for _ in $(seq 300); do
  [ "$(sqlite3 crm.db "select count(*) from webhook_deliveries where status='pending'")" = 0 ] && break
  sleep 0.1
done
kill -TERM "$run_pid"; wait "$run_pid"; assert_eq 0 "$?" "crm run stops on SIGTERM"; run_pid=
python3 - "$first" "$last_ev" <<'PY' && pass || fail "kill -9: delivered set or duplicates wrong"
import collections, json, sys
first, last = int(sys.argv[1]), int(sys.argv[2])
reqs = [json.loads(l) for l in open("sink/requests.jsonl")]
by_id = collections.defaultdict(set)
for r in reqs:
    by_id[r["headers"]["webhook-id"]].add(r["body"])
want = {f"evt_{e}_1" for e in range(first, last + 1)}
assert set(by_id) == want, (sorted(by_id), sorted(want))     # every event, nothing else
assert all(len(b) == 1 for b in by_id.values())               # a copy is the same body
# each delivery commits alone: only the POST in flight at the kill (the 5th) went twice
assert len(reqs) == len(want) + 1, len(reqs)
stalled = reqs[4]["headers"]["webhook-id"]
assert [r["headers"]["webhook-id"] for r in reqs].count(stalled) == 2, stalled
print(len(reqs), "requests for", len(want), "events", file=sys.stderr)
PY
assert_eq 0 "$(sqlite3 crm.db "select count(*) from webhook_deliveries where status<>'delivered' and event_id>=$first")" \
  "every event delivered after the restart"
assert_exit 0 node "$SRC/tests/tools/webhook_verify.js" sink/requests.jsonl "$WH_SECRET"
finish

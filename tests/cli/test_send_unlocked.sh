#!/usr/bin/env bash
# A send does not hold the write lock: while a webhook receiver (tests/tools/
# webhook_sink.py, "hold") keeps a POST waiting, other commands write; the
# timer is claimed by the sending process meanwhile. A sender killed during
# the POST leaves its claim, and the next tick fires it again at once with
# the same webhook-id instead of waiting out the claim's lease.
# Opening the kernel takes no write lock: a listing runs beside a writer.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-send-unlocked-XXXXXX")
sink_pid= tick_pid=
cleanup() {
  [ -n "$tick_pid" ] && kill -9 "$tick_pid" 2>/dev/null
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
py=/usr/bin/python3; [ -x "$py" ] || py=python3

mkdir sink
"$py" "$SRC/tests/tools/webhook_sink.py" "$dir/sink" &
sink_pid=$!
for _ in $(seq 100); do [ -s sink/port ] && break; sleep 0.1; done
port=$(cat sink/port)
requests() { [ -f sink/requests.jsonl ] && wc -l <sink/requests.jsonl || echo 0; }
wait_requests() { for _ in $(seq 300); do [ "$(requests)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
q() { sqlite3 crm.db "$1"; }
export WH_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
cat >crm.yaml <<YAML
database: crm.db
webhooks:
  - {name: shop, url: "http://127.0.0.1:$port/hook", events: ["order.*"], secret_env: WH_SECRET, timeout: 30s}
YAML
T0=2026-01-05T10:00:00Z
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" contact add --first-name Ada --last-name Lovelace --email ada@example.org --as-of "$T0"
"$CRM" order add --contact 1 --total 1000 --status placed --as-of "$T0" >/dev/null

# ---- a held POST: the database stays writable --------------------------------
echo hold >sink/codes
"$CRM" tick --as-of "$T0" >tick1.log 2>&1 &
tick_pid=$!
wait_requests 1 && pass || fail "the POST reached the receiver"
assert_eq "$tick_pid" "$(q "SELECT claim_pid FROM timers WHERE key LIKE 'webhook:%' AND state='pending'")" \
  "the pending timer is claimed by the sending process"
t0=$(date +%s%N)
assert_exit 0 timeout 20 "$CRM" contact add --first-name Grace --last-name Hopper \
  --email grace@example.org --as-of "$T0"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# the store's busy timeout is 5 s: a writer waiting on the lock would take it
[ "$ms" -lt 4000 ] && pass || fail "a write during the held POST took $ms ms"
assert_eq 2 "$(q "SELECT count(*) FROM contacts")" "the write landed while the POST was held"
assert_eq pending "$(q "SELECT status FROM webhook_deliveries")" "not delivered before the answer"
touch sink/release
wait "$tick_pid"; assert_eq 0 "$?" "the tick ends once the receiver answers"; tick_pid=
assert_eq delivered "$(q "SELECT status FROM webhook_deliveries")" "the outcome recorded after the send"
assert_eq "done|" "$(q "SELECT state, coalesce(claim_pid, '') FROM timers WHERE key LIKE 'webhook:%'")" \
  "the claimed timer completed and its claim cleared"

# ---- the sender killed during the POST: its claim fires again at once --------
rm -f sink/release
"$CRM" order add --contact 1 --total 2000 --status placed --as-of "$T0" >/dev/null
echo hold >sink/codes
"$CRM" tick --as-of "$T0" >tick2.log 2>&1 &
tick_pid=$!
wait_requests 2 && pass || fail "the second POST reached the receiver"
kill -9 "$tick_pid"; wait "$tick_pid" 2>/dev/null
dead=$tick_pid; tick_pid=
t0s=$(date -u -d "$T0" +%s)
assert_eq "$dead|$((t0s + 600))" \
  "$(q "SELECT claim_pid, next_at FROM timers WHERE key LIKE 'webhook:%' AND state='pending'")" \
  "the dead sender's claim stays, a lease ahead"
touch sink/release
assert_exit 0 "$CRM" tick --as-of "$T0"
assert_eq 3 "$(requests)" "the next tick sends the claimed delivery again, before the lease ends"
assert_eq 0 "$(q "SELECT count(*) FROM webhook_deliveries WHERE status<>'delivered'")" "every delivery delivered"
assert_eq 0 "$(q "SELECT count(*) FROM timers WHERE claim_pid IS NOT NULL")" "no claim left"
"$py" - <<'PY' && pass || fail "the re-sent POST is the same delivery"
import json
reqs = [json.loads(l) for l in open("sink/requests.jsonl")]
ids = [r["headers"]["webhook-id"] for r in reqs]
assert ids[1] == ids[2] and ids[0] != ids[1], ids
assert reqs[1]["body"] == reqs[2]["body"]
PY
# ---- a command that only reads does not wait on another writer ---------------
# Opening the kernel with a durable subscriber (the webhooks') used to take the
# write lock for its cursor, so a listing waited out a running import.
rm -f locked release_lock
"$py" - <<'PY' &
import os, sqlite3, time
db = sqlite3.connect("crm.db", isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open("locked", "w").close()
for _ in range(300):
    if os.path.exists("release_lock"): break
    time.sleep(0.1)
db.execute("ROLLBACK")
PY
lock_pid=$!
for _ in $(seq 100); do [ -f locked ] && break; sleep 0.1; done
start=$(date +%s%N)
assert_exit 0 "$CRM" contact list
elapsed=$((($(date +%s%N) - start) / 1000000))
touch release_lock; wait "$lock_pid"
[ "$elapsed" -lt 3000 ] && pass || fail "contact list waited ${elapsed} ms on another writer"
finish

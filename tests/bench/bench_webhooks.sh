#!/usr/bin/env bash
# Webhook delivery benchmark (never run by ctest):
#   tests/bench/bench_webhooks.sh [N]      (default 10000)
# Against the local HTTP sink of the tests (tests/tools/webhook_sink.py on
# 127.0.0.1, loopback only):
# 1. `crm import orders` stores N paid orders on a fresh database with one
#    endpoint subscribed to order.paid: N deliveries queued (a burst: the
#    whole backlog is there when the worker starts), then `crm run` starts.
# 2. Measured: crm's delivery rate (deliveries/s from the first to the last
#    arrival at the sink) and queue→delivery latency per delivery (p50, p99,
#    max: from the end of the import that queued it to its arrival), so the
#    latency includes the wait in line and the worker's start.
# 3. Baseline in the same run: Python's http.client POSTing the very
#    requests the sink received from crm (headers and body), to the same
#    sink, over one kept-alive connection (as crm's libcurl handle per
#    endpoint does), then a connection per request.
# CRM=path/to/crm (default build-rel/core/crm, else build/core/crm).
set -euo pipefail
n=${1:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
CRM=${CRM:-$( (ls "$root"/build-rel/core/crm "$root"/build/core/crm 2>/dev/null || true) | head -1)}
CRM=$(cd "$(dirname "$CRM")" && pwd)/$(basename "$CRM")
py=/usr/bin/python3; [ -x "$py" ] || py=python3
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-webhooks-XXXXXX")
sink_pid= run_pid=
cleanup() {
    [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
unset CRM_CONFIG CRM_DB CRM_LOG

mkdir sink
"$py" "$root/tests/tools/webhook_sink.py" "$dir/sink" &
sink_pid=$!
for _ in $(seq 100); do [ -s sink/port ] && break; sleep 0.1; done
port=$(cat sink/port)
export WH_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
cat >crm.yaml <<YAML
database: crm.db
webhooks:
  - {name: shop, url: "http://127.0.0.1:$port/hook", events: ["order.paid"], secret_env: WH_SECRET}
YAML
"$CRM" init --quiet
"$CRM" contact add --email zoe@example.fr --first-name "Zoé" >/dev/null
"$py" -c "
print('external_id,contact_email,total,status,placed_at')
for i in range($n): print(f'o{i},zoe@example.fr,{10 + i % 90}.90,paid,2026-02-01')" >orders.csv

echo "$n webhooks, sink on 127.0.0.1:$port, $(nproc) cores, crm: $CRM"
"$CRM" import orders orders.csv >import.log 2>&1
queued_at=$("$py" -c 'import time; print(time.time())')
queued=$(sqlite3 crm.db "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
[ "$queued" -eq "$n" ] || { echo "$queued deliveries queued, expected $n" >&2; exit 1; }
"$CRM" run >run.log 2>&1 &
run_pid=$!
requests() { [ -f sink/requests.jsonl ] && wc -l <sink/requests.jsonl || echo 0; }
deadline=$((SECONDS + 900))
while [ "$(requests)" -lt "$n" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
kill -TERM "$run_pid"; wait "$run_pid" || true; run_pid=
got=$(requests)
[ "$got" -eq "$n" ] || { echo "the sink received $got of $n (see $dir/run.log)" >&2; exit 1; }

"$py" - sink "$n" "$port" "$queued_at" <<'PY'
import http.client, json, sys, time
root, n, port, queued_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
reqs = [json.loads(l) for l in open(f"{root}/requests.jsonl")]
ids = {r["headers"]["webhook-id"] for r in reqs}
assert len(ids) == n == len(reqs), "a delivery missing or sent twice"
lat = sorted(r["t"] - queued_at for r in reqs)
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))]
first, last = min(r["t"] for r in reqs), max(r["t"] for r in reqs)
crm_rate = n / (last - first)
print(f"crm run -> sink:                     {crm_rate:7.0f} deliveries/s   queue->delivery"
      f" p50 {pct(.5)*1e3:.0f} ms, p99 {pct(.99)*1e3:.0f} ms, max {lat[-1]*1e3:.0f} ms")
skip = {"host", "content-length", "connection"}
def post(conn, r):
    headers = {k: v for k, v in r["headers"].items() if k not in skip}
    conn.request("POST", r["path"], body=r["body"].encode(), headers=headers)
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200, resp.status
t0 = time.time()
conn = http.client.HTTPConnection("127.0.0.1", port)
for r in reqs:
    post(conn, r)
conn.close()
kept = n / (time.time() - t0)
t0 = time.time()
for r in reqs:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    post(conn, r)
    conn.close()
per_conn = n / (time.time() - t0)
print(f"http.client, one connection:         {kept:7.0f} requests/s     (crm = {crm_rate / kept:.2f}x)")
print(f"http.client, a connection each:      {per_conn:7.0f} requests/s     (crm = {crm_rate / per_conn:.2f}x)")
PY

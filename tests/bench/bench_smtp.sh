#!/usr/bin/env bash
# SMTP delivery benchmark (never run by ctest):
#   tests/bench/bench_smtp.sh [N]          (default 10000)
#   QUEUE_ONLY=1 tests/bench/bench_smtp.sh 100000   (step 1 alone)
# Against the local SMTP sink of the tests (tests/tools/smtp_sink.py,
# aiosmtpd on 127.0.0.1, loopback only):
# 1. bench_smtp_queue queues N emails through the outbox (100 per
#    transaction) on a fresh database, against rendering the same N alone
#    in the same run; then `crm run` starts (a burst: the whole backlog is
#    there when the worker starts).
# 2. Measured: crm's delivery rate (messages/s from the first to the last
#    arrival at the sink) and queue→delivery latency per message (p50, p99,
#    max: from the commit that queued it to its arrival at the sink, matched
#    by Message-ID), a burst of N, so the latency includes the wait in line
#    and the worker's start.
# 3. Baseline in the same run: Python's smtplib sending the very bytes the
#    sink received from crm, to the same sink, one connection per message
#    (as crm's libcurl driver does), then all over one connection (EHLO
#    names a fixed host: smtplib would otherwise look up its own FQDN).
# CRM=path/to/crm (default build-rel/core/crm, else build/core/crm), BENCH=
# path/to/bench_smtp_queue (default: the same build tree, -DCRM_BUILD_BENCH=ON).
set -euo pipefail
n=${1:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
CRM=${CRM:-$( (ls "$root"/build-rel/core/crm "$root"/build/core/crm 2>/dev/null || true) | head -1)}
CRM=$(cd "$(dirname "$CRM")" && pwd)/$(basename "$CRM")
BENCH=${BENCH:-$(dirname "$(dirname "$CRM")")/tests/bench/bench_smtp_queue}
[ -x "$BENCH" ] || { echo "no $BENCH: build with -DCRM_BUILD_BENCH=ON" >&2; exit 2; }
export CRM_SOURCE_DIR=$root
. "$root/tests/cli/smtp_lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-smtp-XXXXXX")
SINK_PID= run_pid=
cleanup() {
    [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null
    smtp_sink_stop
    rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
unset CRM_CONFIG CRM_DB CRM_LOG

smtp_sink_start "$dir/sink"
mkdir -p templates/note
printf 'Votre note n°{{n}}, {{contact.first_name}}\n' >templates/note/email.subject.mustache
printf 'Bonjour {{contact.first_name}},\n{{#last_order}}votre commande du {{placed_at}} : {{total}}.{{/last_order}}\nNote {{n}}.\n' \
    >templates/note/email.text.mustache
printf '<p>Bonjour <b>{{contact.first_name}}</b></p>{{#last_order}}<p>{{total}}</p>{{/last_order}}<p>Note {{n}}</p>\n' \
    >templates/note/email.html.mustache
printf 'n\n' >templates/note/data
cat >crm.yaml <<YAML
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
messages:
  channels:
    email: {driver: smtp, host: 127.0.0.1, port: $SINK_PORT, from: "Boutique <bonjour@example.fr>"}
YAML
"$CRM" init --quiet
"$CRM" contact add --email zoe@example.fr --first-name "Zoé" >/dev/null
"$CRM" order add --contact 1 --total 49.90 --status paid --placed-at 2026-02-01 >/dev/null

echo "$n emails, sink on 127.0.0.1:$SINK_PORT, $(nproc) cores, crm: $CRM"
"$BENCH" crm.yaml "$n" queued.tsv
[ -z "${QUEUE_ONLY:-}" ] || exit 0
"$CRM" run >run.log 2>&1 &
run_pid=$!
deadline=$((SECONDS + 900))
while [ "$(smtp_mail_count sink)" -lt "$n" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
kill -TERM "$run_pid"; wait "$run_pid" || true; run_pid=
got=$(smtp_mail_count sink)
[ "$got" -eq "$n" ] || { echo "the sink received $got of $n (see $dir/run.log)" >&2; exit 1; }

"$SMTP_PY" - sink "$n" "$SINK_PORT" <<'PY'
import email, json, os, smtplib, sys, time
root, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
queued = {}
for line in open("queued.tsv"):
    i, t = line.split()
    queued[f"<msg-{i}@example.fr>"] = float(t)
arrivals = {}
for line in open(os.path.join(root, "envelopes.jsonl")):
    e = json.loads(line)
    arrivals[e["n"]] = e["t"]
raws, lat = [], []
for f in sorted(os.listdir(os.path.join(root, "mail"))):
    raw = open(os.path.join(root, "mail", f), "rb").read()
    mid = email.message_from_bytes(raw)["Message-ID"]
    lat.append(arrivals[int(f[:6])] - queued.pop(mid))
    raws.append(raw)
assert not queued and len(raws) == n, "a message missing or delivered twice"
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))]
first, last = min(arrivals.values()), max(arrivals.values())
crm_rate = n / (last - first)
print(f"crm run -> sink:                   {crm_rate:7.0f} messages/s   queue->delivery"
      f" p50 {pct(.5)*1e3:.0f} ms, p99 {pct(.99)*1e3:.0f} ms, max {lat[-1]*1e3:.0f} ms")
env = ("bonjour@example.fr", ["zoe@example.fr"])
t0 = time.time()
for raw in raws:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.test") as s:
        s.sendmail(*env, raw)
per_conn = n / (time.time() - t0)
t0 = time.time()
with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.test") as s:
    for raw in raws:
        s.sendmail(*env, raw)
one_conn = n / (time.time() - t0)
print(f"smtplib, a connection per message: {per_conn:7.0f} messages/s   (crm = {crm_rate / per_conn:.2f}x)")
print(f"smtplib, one connection:           {one_conn:7.0f} messages/s   (crm = {crm_rate / one_conn:.2f}x)")
PY

#!/usr/bin/env bash
# kill -9 of `crm run` mid-delivery, then restarts, against the local SMTP
# sink (tests/tools/smtp_sink.py): 120 messages queued; the sink stalls its
# reply to the 31st and then the 81st message it receives, and the worker
# is killed while it waits for each. After a last run empties the outbox:
# every message arrived, only the two in flight at a kill arrived twice
# (each exactly twice), every copy under the same Message-ID with the same
# content, and the database shows each message sent once, in the timeline
# once. With the sends committed in batches a kill would resend all the
# batch's delivered messages, and this test fails.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
. "$SRC/tests/cli/smtp_lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-crash-XXXXXX")
SINK_PID= run_pid=
cleanup() {
    [ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null
    smtp_sink_stop
    rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
q() { sqlite3 crm.db "$1"; }
N=120

smtp_sink_start "$dir/sink" || { fail "SMTP sink"; finish; exit 1; }
mkdir -p templates/note
printf 'Note {{key}}\n' >templates/note/email.subject.mustache
printf 'Bonjour {{contact.first_name}}, note {{key}}.\n' >templates/note/email.text.mustache
printf '<p>Note {{key}}</p>\n' >templates/note/email.html.mustache
printf 'key\n' >templates/note/data
cat >crm.yaml <<YAML
database: crm.db
messages:
  channels:
    email: {driver: smtp, host: 127.0.0.1, port: $SINK_PORT, from: "Shop <shop@example.fr>", timeout: 20s}
YAML
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" contact add --email zoe@example.fr --first-name "Zoé"
for i in $(seq $N); do
    "$CRM" message send --contact 1 --template note --key "k$i" --data "{\"key\": \"$i\"}" >/dev/null ||
        fail "queueing message $i"
done
assert_eq "$N" "$(q "SELECT count(*) FROM messages WHERE status='queued'")" "$N queued"

# run_until_stall COUNT: starts `crm run`, waits until the sink holds COUNT
# messages (the last one stalled, unanswered), then kills the worker with SIGKILL.
run_until_stall() {
    "$CRM" run >>run.log 2>&1 &
    run_pid=$!
    for _ in $(seq 300); do [ "$(smtp_mail_count sink)" -ge "$1" ] && break; sleep 0.1; done
    assert_eq "$1" "$(smtp_mail_count sink)" "the sink stalls on message $1"
    kill -9 "$run_pid"; wait "$run_pid" 2>/dev/null; run_pid=
}
{ for _ in $(seq 30); do echo 250; done; echo "sleep 25"; } >sink/codes
run_until_stall 31
first_kill=$(q "SELECT count(*) FROM messages WHERE status='sent'")
assert_eq 30 "$first_kill" "the 30 answered messages are recorded sent, the stalled one is not"
{ for _ in $(seq 49); do echo 250; done; echo "sleep 25"; } >sink/codes
run_until_stall 81
: >sink/codes
"$CRM" run >>run.log 2>&1 &
run_pid=$!
for _ in $(seq 300); do
    [ "$(q "SELECT count(*) FROM messages WHERE status<>'sent'")" = 0 ] && break
    sleep 0.1
done
kill -TERM "$run_pid"; wait "$run_pid"; assert_eq 0 "$?" "crm run stops on SIGTERM"; run_pid=

assert_eq "$N" "$(q "SELECT count(*) FROM messages WHERE status='sent'")" "every message sent"
assert_eq "$N" "$(q "SELECT count(*) FROM interactions WHERE external_id LIKE 'message:%'")" \
    "each in the timeline once"
assert_eq "$((N + 2))" "$(smtp_mail_count sink)" "received: $N + the 2 in flight"
"$SMTP_PY" - sink/mail "$N" <<'PY' && pass || fail "kill -9: delivered set or duplicates wrong"
import collections, email, email.policy, os, sqlite3, sys
root, n = sys.argv[1], int(sys.argv[2])
want = {f"<msg-{i}@example.fr>" for (i,) in sqlite3.connect("crm.db").execute("SELECT id FROM messages")}
assert len(want) == n
copies = collections.defaultdict(list)
order = []
for f in sorted(os.listdir(root)):
    m = email.message_from_bytes(open(os.path.join(root, f), "rb").read(), policy=email.policy.default)
    mid = m["Message-ID"]
    order.append(mid)
    body = [p.get_content() for p in m.iter_parts()]
    copies[mid].append((str(m["Subject"]), str(m["To"]), body))
assert set(copies) == want, sorted(set(copies) ^ want)          # every message, nothing else
dups = {mid for mid, c in copies.items() if len(c) > 1}
assert dups == {order[30], order[80]}, (sorted(dups), order[30], order[80])   # only the in-flight
assert all(len(copies[mid]) == 2 for mid in dups)
assert all(c[0] == c[1] for mid, c in copies.items() if mid in dups)           # same content
PY
finish

#!/usr/bin/env bash
# kill -9 of `crm serve` under write load loses no acknowledged write:
# tests/cli/serve_kill.py posts contacts and /v1/track events from 4 client
# threads, records each acknowledged id and SIGKILLs the server mid-load. The
# database must then pass integrity_check, hold every acknowledged contact
# (its id with its email) and tracked event (its key, its contact, its
# interaction and its page.viewed event), and a restarted server must serve
# and accept writes. Needs CRM and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"
. "$(dirname "$0")/serve_lib.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'kill "${SERVE_PID:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\nplugins: []\n' \
    >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

assert_exit 0 crm init
assert_exit 0 crm token create --name shop --role integration
token=$OUT

# the worker runs too: its writes (event deliveries) compete with the API's
SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 4
status=0
python3 "$(dirname "$0")/serve_kill.py" "$SERVE_URL" "$token" "$SERVE_PID" "$dir/acked.jsonl" \
    >"$dir/load.out" || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "serve_kill.py ($status): $(cat "$dir/load.out")"; fi
SERVE_RC=0
wait "$SERVE_PID" || SERVE_RC=$?
assert_eq 137 "$SERVE_RC" "crm serve died of SIGKILL"
cat "$dir/load.out"

# every acknowledged write is in the database, checked row by row
missing=$(python3 - "$dir/t.db" "$dir/acked.jsonl" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
acked = [json.loads(l) for l in open(sys.argv[2])]
bad = []
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check"
for a in acked:
    if a["kind"] == "contact":
        row = db.execute("SELECT email FROM contacts WHERE id=?", (a["id"],)).fetchone()
        if not row or row[0] != a["email"]:
            bad.append(f"contact {a['id']} {a['email']}: {row}")
    else:
        row = db.execute("SELECT contact_id FROM tracked_events WHERE key=?", (a["key"],)).fetchone()
        n = db.execute("SELECT count(*) FROM interactions WHERE contact_id=? AND channel='web'",
                       (a["id"],)).fetchone()[0]
        ev = db.execute("SELECT count(*) FROM events WHERE type='page.viewed'"
                        " AND json_extract(payload, '$.contact_id')=?", (a["id"],)).fetchone()[0]
        if not row or row[0] != a["id"] or n != 1 or ev != 1:
            bad.append(f"track {a['key']} contact {a['id']}: {row} interactions={n} events={ev}")
print(len(acked) if not bad else "\n".join(bad))
PY
)
acked=$(line_count "$(cat "$dir/acked.jsonl")")
assert_eq "$acked" "$missing" "every acknowledged write survived kill -9 (else: the missing ones)"
if [ "$acked" -ge 300 ]; then pass; else fail "only $acked writes acknowledged before the kill"; fi

SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 2 --no-worker
after=$(python3 - "$SERVE_URL" "$token" <<'PY'
import json, sys, urllib.request
def req(method, path, body=None):
    r = urllib.request.Request(sys.argv[1] + path, method=method,
                               data=json.dumps(body).encode() if body else None,
                               headers={"Authorization": "Bearer " + sys.argv[2]})
    with urllib.request.urlopen(r) as f:
        return f.status, json.load(f)
st, c = req("POST", "/v1/contacts", {"email": "after@example.com"})
st2, got = req("GET", f"/v1/contacts/{c['id']}")
print(st, st2, got["email"])
PY
)
assert_eq "201 200 after@example.com" "$after" "the restarted server writes and reads"
serve_stop
assert_eq 0 "$SERVE_RC" "restarted crm serve exits 0 on SIGTERM"
finish

#!/usr/bin/env bash
# Delivery failures and the operator's levers: a transient failure (an HTTP
# gateway that refuses connections) is retried with exponential backoff
# (60 s, then doubling) and dead-lettered (failed) after 5 attempts; `crm
# message retry` brings it back under the same id; a channel missing from
# crm.yaml fails at once (permanent); `crm message pause` holds messages
# (everyone's or one contact's) and `resume` releases them.
set -u
CRM=${CRM:?CRM must point to the crm binary}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-delivery-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
q() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' crm.db "$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
mkdir -p templates/note
printf 'Note\n' >templates/note/email.subject.mustache
printf 'Hello\n' >templates/note/email.text.mustache
printf 'Hello\n' >templates/note/sms.mustache
cat >crm.yaml <<'YAML'
database: crm.db
messages:
  channels:
    sms: {driver: http, url: "http://127.0.0.1:9/send", timeout: 2s}
YAML
"$CRM" init --quiet
"$CRM" contact add --email a@example.fr --phone "+33612345678" >/dev/null
"$CRM" contact add --email b@example.fr >/dev/null
T=1774000000
assert_exit 0 "$CRM" message send --contact 1 --template note --channel sms --as-of "$(iso $T)" --json
sms=$(json_get "$OUT" id)
assert_exit 0 "$CRM" message send --contact 2 --template note --as-of "$(iso $T)" --json
mail=$(json_get "$OUT" id)

# backoff: attempt n fails at T + 60*(2^(n-1) - 1); the expected instants computed here
expected=$(python3 -c "print(' '.join(str($T + 60 * (2**(n - 1) - 1)) for n in range(1, 6)))")
n=0
for at in $expected; do
    n=$((n + 1))
    "$CRM" tick --as-of "$(iso $((at - 1)))" >/dev/null
    assert_eq "$((n - 1))" "$(q "SELECT attempts FROM messages WHERE id=$sms")" "not retried before $at"
    "$CRM" tick --as-of "$(iso "$at")" >/dev/null
    assert_eq "$n" "$(q "SELECT attempts FROM messages WHERE id=$sms")" "attempt $n at $at"
done
assert_eq "failed" "$(q "SELECT status FROM messages WHERE id=$sms")" "dead letter after 5 attempts"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$sms")" "http"
assert_eq "failed" "$(q "SELECT status FROM messages WHERE id=$mail")" "no email channel: permanent"
assert_eq "1" "$(q "SELECT attempts FROM messages WHERE id=$mail")"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$mail")" "no channel 'email'"
assert_exit 0 "$CRM" events tail --type message.failed --limit 0 --json
assert_eq "2" "$(line_count "$OUT")"
assert_exit 1 "$CRM" message retry 999
assert_exit 0 "$CRM" message retry "$sms" --as-of "$(iso $((T + 5000)))"
assert_eq "queued|0" "$(q "SELECT status||'|'||attempts FROM messages WHERE id=$sms")" "retried"
assert_exit 1 "$CRM" message retry "$sms"
assert_contains "$ERR" "only a failed message"
"$CRM" tick --as-of "$(iso $((T + 5000)))" >/dev/null
assert_eq "1" "$(q "SELECT attempts FROM messages WHERE id=$sms")" "the retry ran"

# the kill switch
cat >crm.yaml <<'YAML'
database: crm.db
messages:
  channels:
    email: {driver: file, dir: spool, from: "Shop <shop@example.fr>"}
YAML
assert_exit 0 "$CRM" message pause
assert_exit 0 "$CRM" message send --contact 1 --template note --key p1 --json
assert_eq "held" "$(json_get "$OUT" status)" "paused for everyone"
p1=$(json_get "$OUT" id)
assert_exit 0 "$CRM" message resume --json
assert_eq "1" "$(json_get "$OUT" released)"
assert_exit 0 "$CRM" message pause --contact 2
assert_exit 0 "$CRM" message send --contact 2 --template note --key p2 --json
assert_eq "held" "$(json_get "$OUT" status)" "paused for contact 2"
p2=$(json_get "$OUT" id)
"$CRM" tick >/dev/null
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$p1")" "released message sent"
assert_eq "held" "$(q "SELECT status FROM messages WHERE id=$p2")" "still held"
[ ! -e "spool/msg-$p2.eml" ] && pass || fail "a held message was sent"
assert_exit 0 "$CRM" message resume --contact 2
"$CRM" tick >/dev/null
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$p2")" "sent after resume"
[ -f "spool/msg-$p2.eml" ] && pass || fail "no spool/msg-$p2.eml"
finish

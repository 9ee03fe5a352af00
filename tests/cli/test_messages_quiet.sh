#!/usr/bin/env bash
# End to end: quiet hours and frequency caps of the outbox (issue 13).
# Quiet hours (default: marketing SMS Monday-Saturday 08:00-20:00, not on
# public holidays, in the contact's own zone) postpone a message across a
# weekend, a public holiday and a DST change, for a French and an American
# contact; the expected instants come from Python's zoneinfo, not from crm.
# A message quiet hours catch at send time (the worker ran late) waits too.
# Transactional messages pass. Caps (default marketing email one per 16h)
# suppress the second marketing email within 16 h, allow one after; bad
# settings are refused with their position. Time is driven with --as-of.
set -u
CRM=${CRM:?CRM must point to the crm binary}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-messages-quiet-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
q() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' crm.db "$1"; }
epoch() { python3 -c 'import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()))' "$1"; }
# next_allowed ISO ZONE [HOLIDAY...]: the first instant at or after ISO inside
# Monday-Saturday 08:00-20:00 wall-clock time of ZONE, skipping the given dates.
next_allowed() {
    python3 - "$@" <<'PY'
import datetime as dt, sys
from zoneinfo import ZoneInfo
t = int(dt.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp())
z, holidays = ZoneInfo(sys.argv[2]), set(sys.argv[3:])
day = dt.datetime.fromtimestamp(t, dt.timezone.utc).astimezone(z).date()
for i in range(14):
    d = day + dt.timedelta(days=i)
    if d.weekday() == 6 or d.isoformat() in holidays:
        continue
    a = int(dt.datetime(d.year, d.month, d.day, 8, tzinfo=z).timestamp())
    b = int(dt.datetime(d.year, d.month, d.day, 20, tzinfo=z).timestamp())
    if t < b:
        print(max(t, a))
        break
PY
}

mkdir -p templates/promo templates/receipt
printf 'Offre\n' >templates/promo/sms.mustache
printf 'Offre du jour\n' >templates/promo/email.subject.mustache
printf 'Offre\n' >templates/promo/email.text.mustache
printf 'Merci\n' >templates/receipt/sms.mustache
cat >crm.yaml <<'YAML'
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
messages:
  channels:
    email: {driver: file, dir: spool/email, from: "Boutique <bonjour@example.fr>"}
    sms: {driver: file, dir: spool/sms}
YAML
crm() { "$CRM" "$@"; }
assert_exit 0 crm init --quiet
# one contact per case: the SMS cap (24h) must not mix the cases
person() { # person NAME COUNTRY PHONE: prints the id, with SMS and email marketing consent
    "$CRM" contact add --first-name "$1" --country "$2" --phone "$3" \
        --email "$(tr 'A-Z' 'a-z' <<<"$1")@example.fr" || return 1
}
for spec in "Weekend FR +33612345601" "Holiday FR +33612345602" "Dst FR +33612345603" \
            "Late FR +33612345604" "Newyork US +12127365000" "Mail FR +33612345605"; do
    set -- $spec
    assert_exit 0 person "$1" "$2" "$3"
    printf -v "id_$1" '%s' "$OUT"
    cid=$OUT
    for ch in sms email; do
        assert_exit 0 crm consent grant --contact "$cid" --channel $ch --purpose marketing \
            --at 2026-01-01
    done
done

# send_sms CONTACT ISO [args]: queues the promo SMS at ISO, prints the JSON
send_sms() {
    local who=$1 at=$2
    shift 2
    assert_exit 0 crm message send --contact "$who" --template promo --channel sms \
        --purpose marketing --as-of "$at" --json "$@"
}

# ---- a weekend: Saturday 20:30 in Paris waits for Monday 08:00 --------------------
T=2026-03-07T19:30:00Z
send_sms "$id_Weekend" $T
weekend=$(json_get "$OUT" id)
want=$(next_allowed $T Europe/Paris)
assert_eq "queued" "$(json_get "$OUT" status)" "postponed, not dropped"
assert_eq "$want" "$(json_get "$OUT" scheduled_at)" "weekend: Monday 08:00 Paris"
assert_contains "$(json_get "$OUT" reason)" "quiet hours (marketing sms in Europe/Paris): postponed to 2026-03-09T08:00:00+01:00"

# ---- a public holiday: Thursday 30 April 21:00, 1 May is closed -------------------
T=2026-04-30T19:00:00Z
send_sms "$id_Holiday" $T
want=$(next_allowed $T Europe/Paris 2026-05-01)
assert_eq "$want" "$(json_get "$OUT" scheduled_at)" "1 May skipped: Saturday 2 May 08:00"
assert_eq "$(epoch 2026-05-02T06:00:00Z)" "$want" "the independent computation agrees"

# ---- a DST change: Saturday 28 March 20:30 CET -> Monday 30 March 08:00 CEST -------
T=2026-03-28T19:30:00Z
send_sms "$id_Dst" $T
want=$(next_allowed $T Europe/Paris)
assert_eq "$want" "$(json_get "$OUT" scheduled_at)" "after the spring change: 06:00Z, not 07:00Z"
assert_eq "$(epoch 2026-03-30T06:00:00Z)" "$want"
assert_contains "$(json_get "$OUT" reason)" "+02:00"

# ---- the contact's own zone: New York, whose DST starts 8 March --------------------
T=2026-03-08T02:00:00Z # Saturday 21:00 EST, 03:00 in Paris on Sunday
send_sms "$id_Newyork" $T
want=$(next_allowed $T America/New_York)
assert_eq "$want" "$(json_get "$OUT" scheduled_at)" "Monday 08:00 EDT (12:00Z)"
assert_eq "$(epoch 2026-03-09T12:00:00Z)" "$want"
assert_contains "$(json_get "$OUT" reason)" "America/New_York"
newyork=$(json_get "$OUT" id)

# ---- transactional passes on a Sunday --------------------------------------------
assert_exit 0 crm message send --contact "$id_Weekend" --template receipt --channel sms \
    --as-of 2026-03-08T10:00:00Z --json
assert_eq "$(epoch 2026-03-08T10:00:00Z)" "$(json_get "$OUT" scheduled_at)" "transactional: now"
assert_eq "null" "$(json_get "$OUT" reason)"
receipt=$(json_get "$OUT" id)

# ---- delivery: nothing early, everything at its instant ----------------------------
assert_exit 0 crm tick --as-of 2026-03-08T10:00:00Z
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$receipt")" "transactional sent on Sunday"
assert_eq "queued" "$(q "SELECT status FROM messages WHERE id=$weekend")" "still waiting on Sunday"
[ ! -e "spool/sms/msg-$weekend.json" ] && pass || fail "sent during quiet hours"
assert_exit 0 crm timeline "$id_Weekend" --as-of 2026-03-08T10:00:00Z
assert_contains "$OUT" "queued — quiet hours (marketing sms in Europe/Paris): postponed to 2026-03-09T08:00:00+01:00" \
    "the postponement in the timeline"
assert_exit 0 crm tick --as-of 2026-03-09T07:00:00Z
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$weekend")" "sent Monday 08:00 Paris"
assert_eq "$(epoch 2026-03-09T07:00:00Z)" "$(q "SELECT sent_at FROM messages WHERE id=$weekend")"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$weekend")" "postponed to" \
    "a sent message still says it waited"
assert_eq "queued" "$(q "SELECT status FROM messages WHERE id=$newyork")" "New York not yet (07:00Z)"
assert_exit 0 crm tick --as-of 2026-03-09T12:00:00Z
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$newyork")" "New York at 08:00 EDT"

# ---- the worker ran late: due Saturday 19:00 Paris, fired at 21:00 -----------------
T=2026-03-14T18:00:00Z
send_sms "$id_Late" $T
late=$(json_get "$OUT" id)
assert_eq "$(epoch $T)" "$(json_get "$OUT" scheduled_at)" "allowed when queued"
assert_exit 0 crm tick --as-of 2026-03-14T20:00:00Z
want=$(next_allowed 2026-03-14T20:00:00Z Europe/Paris)
assert_eq "queued" "$(q "SELECT status FROM messages WHERE id=$late")" "not sent at 21:00"
assert_eq "$want" "$(q "SELECT scheduled_at FROM messages WHERE id=$late")" "moved to Monday"
assert_exit 0 crm events tail --type message.postponed --limit 0 --json
assert_eq "1" "$(line_count "$OUT")" "message.postponed at send time"
assert_exit 0 crm tick --as-of 2026-03-16T07:00:00Z
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$late")"

# ---- caps: one marketing email per 16 h ------------------------------------------
send_mail() { # send_mail ISO KEY [args]
    local at=$1 key=$2
    shift 2
    assert_exit 0 crm message send --contact "$id_Mail" --template promo --channel email \
        --key "$key" --as-of "$at" --json "$@"
}
T0=2026-03-10T09:00:00Z
send_mail $T0 e1 --purpose marketing
e1=$(json_get "$OUT" id)
assert_eq "queued" "$(json_get "$OUT" status)"
assert_exit 0 crm tick --as-of $T0
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$e1")"
send_mail 2026-03-11T00:59:00Z e2 --purpose marketing # 15h59m later
assert_eq "suppressed" "$(json_get "$OUT" status)" "second marketing email within 16 h"
assert_eq "frequency cap: one marketing email per 16h (message $e1 is within it)" \
    "$(json_get "$OUT" reason)"
e2=$(json_get "$OUT" id)
send_mail 2026-03-10T10:00:00Z t1
assert_eq "queued" "$(json_get "$OUT" status)" "transactional email is never capped"
send_mail 2026-03-11T01:01:00Z e3 --purpose marketing
assert_eq "queued" "$(json_get "$OUT" status)" "16 h and a minute later: allowed"
assert_exit 0 crm events tail --type message.suppressed --limit 0 --json
assert_eq "1" "$(line_count "$OUT")" "message.suppressed for the capped email"
assert_contains "$OUT" "\"message_id\":$e2"
assert_contains "$OUT" "frequency cap"

# ---- settings: replaced, and refused with their position ----------------------------
cat >>crm.yaml <<'YAML'
  quiet_hours:
    marketing:
      email: {allowed: {mon-fri: ["09:00-18:00"]}}
  caps: {marketing: {email: 1h}}
YAML
assert_exit 0 crm message send --contact "$id_Holiday" --template promo --channel email \
    --purpose marketing --key conf1 --as-of 2026-03-13T18:30:00Z --json
assert_eq "$(epoch 2026-03-16T08:00:00Z)" "$(json_get "$OUT" scheduled_at)" \
    "configured email hours: Friday 19:30 Paris waits for Monday 09:00"
assert_exit 0 crm message send --contact "$id_Holiday" --template promo --channel sms \
    --purpose marketing --key conf2 --as-of 2026-03-15T10:00:00Z --json
assert_eq "$(epoch 2026-03-15T10:00:00Z)" "$(json_get "$OUT" scheduled_at)" \
    "quiet_hours given replaces the default SMS rule"
bad() { # bad YAML_TAIL WANT: crm.yaml ending in YAML_TAIL is refused naming WANT
    head -n 6 crm.yaml >bad.yaml
    printf '%s\n' "$1" >>bad.yaml
    assert_exit 1 crm message list --config bad.yaml
    assert_contains "$ERR" "$2"
}
bad '  caps: {transactional: {email: 1h}}' 'bad.yaml:7:10: messages.caps: transactional messages are never capped'
bad '  caps: {marketing: {emial: 1h}}' "did you mean 'email'?"
bad '  caps: {marketing: {email: soon}}' 'messages.caps.marketing.email: expected a duration'
bad '  quiet_hours: {marketing: {sms: {allowed: {mon-sat: ["20:00-08:00"]}}}}' 'ends before it starts'
bad '  quiet_hours: {marketing: {sms: {hours: {mon: ["08:00-20:00"]}}}}' "unknown key 'hours'"
bad '  quiet_hours: {marketing: {sms: {allowed: {mon: []}, holidays: shut}}}' 'never open'

finish

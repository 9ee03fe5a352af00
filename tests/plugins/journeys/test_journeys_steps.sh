#!/usr/bin/env bash
# Every step kind (tag_add, task round-robin over a team, emit, a wait in
# business days across a weekend, send, tag_remove, an `if` branch), the
# three re-entry policies, pause/resume and a manual exit.
. "$(dirname "$0")/jr_common.sh"

{
    printf 'database: crm.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\n'
    printf 'plugins: [journeys]\n'
    jr_messages_config
    cat <<'YAML'
journeys:
  flows:
    thanks:
      trigger: {event: order.paid, if: "total >= 10000"}
      reentry: never
      steps:
        - {tag_add: big_spender}
        - {task: "Thank-you call", assignee: "team:ana@example.fr,ben@example.fr"}
        - {emit: journey.thanked}
        - {wait: 2bd}
        - {send: welcome, channel: email, purpose: transactional}
        - {tag_remove: newcomer}
        - {if: "orders >= 2", emit: journey.repeat}
    again:
      trigger: {event: order.paid}
      reentry: always
      steps:
        - {after: 1h, emit: journey.again}
    monthly:
      trigger: {event: order.paid}
      reentry: after 30d
      steps:
        - {emit: journey.monthly}
YAML
} >crm.yaml
assert_exit 0 "$CRM" init --quiet
ana=$("$CRM" user add --email ana@example.fr --name Ana)
ben=$("$CRM" user add --email ben@example.fr --name Ben)
a=$("$CRM" contact add --email a@example.fr --first-name Alice --tag newcomer --tag fr)
b=$("$CRM" contact add --email b@example.fr --first-name Bruno --tag newcomer)
d=$("$CRM" contact add --email d@example.fr --first-name Dora)
assert_exit 0 "$CRM" order add --contact "$d" --total 30 --status paid \
    --placed-at 2025-06-01T10:00:00Z --as-of 2025-06-01T10:00:00Z
assert_exit 0 "$CRM" tick --as-of 2025-06-01T12:00:00Z

# Friday 2026-03-06 17:00 in Paris: 2 business days later is Tuesday 17:00
# (the weekend skipped), computed here on the civil calendar.
fri=2026-03-06T16:00:00Z
for c in "$a" "$b" "$d"; do
    assert_exit 0 "$CRM" order add --contact "$c" --total 150 --status paid --placed-at "$fri" --as-of "$fri"
done
assert_exit 0 "$CRM" tick --as-of "$fri"
wait_due=$(python3 -c '
import datetime, zoneinfo, sys
paris = zoneinfo.ZoneInfo("Europe/Paris")
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).astimezone(paris)
n = 0
while n < 2:
    t += datetime.timedelta(days=1)
    n += t.weekday() < 5
print(int(t.timestamp()))' "$fri")
assert_eq "$(date -u -d 2026-03-10T16:00:00Z +%s)" "$wait_due" "independent 2bd (sanity)"

tags() { jr_sql "SELECT group_concat(tag, ',') FROM (SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag)"; }
assert_eq "big_spender,fr,newcomer" "$(tags "$a")" "tag_add ran at entry"
assert_eq "$a|Thank-you call|$ana
$b|Thank-you call|$ben
$d|Thank-you call|$ana" \
    "$(jr_sql "SELECT contact_id, subject, assignee_id FROM tasks ORDER BY id")" "task: team in turn"
assert_eq "3" "$(jr_sql "SELECT count(*) FROM events WHERE type = 'journey.thanked'")" "emit"
assert_eq "$wait_due|$wait_due|$wait_due" \
    "$(jr_sql "SELECT group_concat(next_at, '|') FROM journeys_entries WHERE journey = 'thanks'")" \
    "waiting until the 2bd instant"

# One second before: nothing sent; at the instant: the send, the tag removed
# and, only for the contact who had ordered before, the branch.
assert_exit 0 "$CRM" tick --as-of "$(date -u -d "@$((wait_due - 1))" +%FT%TZ)"
assert_eq "0" "$(jr_sql "SELECT count(*) FROM messages")" "nothing sent before the wait ends"
assert_exit 0 "$CRM" tick --as-of "$(date -u -d "@$wait_due" +%FT%TZ)"
assert_eq "$a|welcome|$wait_due
$b|welcome|$wait_due
$d|welcome|$wait_due" \
    "$(jr_sql "SELECT contact_id, template, created_at FROM messages ORDER BY contact_id")" "send after the wait"
assert_eq "big_spender,fr" "$(tags "$a")" "tag_remove"
assert_eq "$d" "$(jr_sql "SELECT contact_id FROM events WHERE type = 'journey.repeat'")" \
    "the branch runs only where its condition holds"
assert_eq "completed|completed|completed" \
    "$(jr_sql "SELECT group_concat(status, '|') FROM journeys_entries WHERE journey = 'thanks'")" "completed"

# Re-entry: never (thanks), always (again), after 30d (monthly).
mon=2026-03-16T10:00:00Z
assert_exit 0 "$CRM" order add --contact "$a" --total 150 --status paid --placed-at "$mon" --as-of "$mon"
assert_exit 0 "$CRM" tick --as-of 2026-03-16T12:00:00Z
entries() { jr_sql "SELECT count(*) FROM journeys_entries WHERE journey = '$1' AND contact_id = $2"; }
assert_eq "1" "$(entries thanks "$a")" "reentry never"
assert_eq "2" "$(entries again "$a")" "reentry always"
assert_eq "1" "$(entries monthly "$a")" "reentry after 30d: not within 30 days"
apr=2026-04-06T10:00:00Z
assert_exit 0 "$CRM" order add --contact "$a" --total 20 --status paid --placed-at "$apr" --as-of "$apr"
assert_exit 0 "$CRM" tick --as-of "$apr"
assert_eq "2" "$(entries monthly "$a")" "reentry after 30d: again after 30 days"

# Pause holds a due step; resume runs it at the next tick (once).
may=2026-05-04T10:00:00Z
assert_exit 0 "$CRM" order add --contact "$b" --total 20 --status paid --placed-at "$may" --as-of "$may"
assert_exit 0 "$CRM" journey pause again --as-of 2026-05-04T10:10:00Z
assert_exit 0 "$CRM" tick --as-of 2026-05-04T12:00:00Z
again_b() { jr_sql "SELECT count(*) FROM journeys_effects f JOIN journeys_entries e ON e.id = f.entry_id WHERE e.journey = 'again' AND e.contact_id = $b"; }
assert_eq "1" "$(again_b)" "paused: the due step waits (only the March entry's effect)"
before=$(entries again "$d")
assert_exit 0 "$CRM" order add --contact "$d" --total 20 --status paid --as-of 2026-05-04T12:05:00Z
assert_exit 0 "$CRM" tick --as-of 2026-05-04T12:06:00Z
assert_eq "$before" "$(entries again "$d")" "paused: nobody enters"
assert_exit 0 "$CRM" journey resume again --as-of 2026-05-04T12:30:00Z
assert_exit 0 "$CRM" tick --as-of 2026-05-04T12:31:00Z
assert_exit 0 "$CRM" tick --as-of 2026-05-04T12:32:00Z
assert_eq "2" "$(again_b)" "resumed: the held step ran, once"

# A manual exit ends the entry: its step never runs.
jun=2026-06-01T10:00:00Z
assert_exit 0 "$CRM" order add --contact "$b" --total 20 --status paid --placed-at "$jun" --as-of "$jun"
assert_exit 0 "$CRM" tick --as-of "$jun"
assert_exit 0 "$CRM" journey exit again --contact "$b" --as-of 2026-06-01T10:30:00Z
assert_contains "$OUT" "left journey again"
assert_exit 0 "$CRM" tick --as-of 2026-06-01T12:00:00Z
assert_eq "2" "$(again_b)" "exited: no step after the exit"
assert_eq "exited|manual" "$(jr_sql "SELECT status, exit_reason FROM journeys_entries WHERE journey = 'again' AND contact_id = $b ORDER BY id DESC LIMIT 1")" \
    "manual exit recorded"
run "$CRM" journey exit again --contact "$b"
assert_eq "1" "$([ "$RC" -ne 0 ] && echo 1)" "exit without an active entry is refused"
assert_contains "$ERR" "no active entry"
finish

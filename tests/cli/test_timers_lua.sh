#!/usr/bin/env bash
# Lua timers and calendars: a handler rule schedules a follow-up two open
# hours after a contact is created (crm.calendar.add), its on("timer.fired")
# handler logs an interaction when `crm tick --as-of` reaches it; crm.cancel;
# crm.calendar.is_open / next_open from a rule; crm.schedule outside a
# handler rule is blocked.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
: "${CRM_TEST_LIB:?}"
. "$CRM_TEST_LIB"
if ! command -v sqlite3 >/dev/null; then
    echo "sqlite3 not available: skipped"; echo "0 passed, 0 failed"; exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_LOG
mkdir scripts
cat >crm.yaml <<YAML
database: $dir/crm.db
scripts: scripts
locale:
  timezone: Europe/Paris
  country: FR
rules:
  followup: {kind: handler, script: followup.lua, function: setup}
  open_now: {kind: predicate, script: cal.lua, function: open_now}
  sneaky:   {kind: predicate, script: cal.lua, function: sneaky}
YAML
cat >scripts/followup.lua <<'LUA'
function setup()
  on("contact.created", function(ev)
    crm.interaction.log{contact_id = ev.contact_id, channel = "note", subject = "Welcome"}
    local due = crm.calendar.add(crm.now(), "2h")
    crm.schedule("follow:" .. ev.contact_id, due, {contact_id = ev.contact_id})
    crm.schedule("dropped:" .. ev.contact_id, due)
    assert(crm.cancel("dropped:" .. ev.contact_id) == true)
    assert(crm.cancel("dropped:" .. ev.contact_id) == false)
  end)
  on("timer.fired", function(t)
    crm.interaction.log{contact_id = t.payload.contact_id, channel = "note",
                        subject = "Follow-up " .. t.key .. " late " .. (t.fired_at - t.due_at)}
  end)
end
LUA
cat >scripts/cal.lua <<'LUA'
function open_now(c)
  return crm.calendar.is_open(crm.now()) and crm.calendar.next_open(crm.now()) == crm.now()
end
function sneaky(c)
  crm.schedule("x", crm.now())
  return true
end
LUA
assert_exit 0 "$CRM" init
epoch() { python3 -c 'import sys,datetime as d;print(int(d.datetime.fromisoformat(sys.argv[1]).timestamp()))' "$1"; }

# Friday 27 March 2026 17:00 Paris: one open hour left that day, the second
# on Monday 30 March from 09:00, after the spring-forward: 10:00+02:00.
assert_exit 0 "$CRM" contact add --first-name Ada --email ada@example.fr --as-of 2026-03-27T16:00:00Z
assert_exit 0 "$CRM" timers list --json
assert_eq "lua:followup" "$(json_get "$OUT" owner)" "owned by the handler rule"
assert_eq "$(epoch 2026-03-30T10:00:00+02:00)" "$(json_get "$OUT" due_at)" "due two open hours later"
assert_eq "2026-03-30T10:00:00+02:00" "$(json_get "$OUT" due_at_iso)" "shown in locale.timezone"
assert_eq 1 "$(grep -c . <<<"$OUT")" "the cancelled timer is gone"
assert_exit 0 "$CRM" tick --as-of 2026-03-30T07:59:59Z
assert_eq 0 "$(sqlite3 crm.db "SELECT count(*) FROM interactions WHERE subject <> 'Welcome'")" "not before it is due"
assert_exit 0 "$CRM" tick --as-of 2026-03-30T08:00:30Z
assert_contains "$OUT" "tick: 1 timer fired" "fired by the tick"
assert_eq "Follow-up follow:1 late 30" "$(sqlite3 crm.db "SELECT subject FROM interactions WHERE subject <> 'Welcome'")" \
    "the Lua handler ran with the timer's key, payload and times"
assert_exit 0 "$CRM" tick --as-of 2026-03-31T08:00:00Z
assert_eq 1 "$(sqlite3 crm.db "SELECT count(*) FROM interactions WHERE subject <> 'Welcome'")" "once"

assert_exit 0 "$CRM" rules eval open_now --contact 1 --as-of 2026-03-30T08:00:00Z --json
assert_eq true "$(json_get "$OUT" result)" "open on Monday 10:00 Paris"
assert_exit 0 "$CRM" rules eval open_now --contact 1 --as-of 2026-03-28T10:00:00Z --json
assert_eq false "$(json_get "$OUT" result)" "closed on Saturday"
run "$CRM" rules eval sneaky --contact 1 --json
assert_contains "$OUT$ERR" "crm.schedule outside a handler rule" "schedule blocked outside handlers"

# A running worker does not run Lua handlers again for another command's
# events: the command delivered them to its own handlers at its commit.
CRM_LOG=info "$CRM" run 2>"$dir/run.err" &
w=$!
for _ in $(seq 1 200); do sqlite3 crm.db "SELECT pid FROM worker_lease" | grep -qx "$w" && break; sleep 0.05; done
assert_exit 0 "$CRM" contact add --email bob@example.fr
last=$(sqlite3 crm.db "SELECT max(id) FROM events")
for _ in $(seq 1 200); do grep -q "events up to $last delivered" "$dir/run.err" && break; sleep 0.05; done
assert_contains "$(cat "$dir/run.err")" "events up to $last delivered" "the worker saw the event"
kill -TERM "$w"
wait "$w"
assert_eq 0 "$?" "worker exit 0"
assert_eq 1 "$(sqlite3 crm.db "SELECT count(*) FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'bob@example.fr' AND subject = 'Welcome'")" \
    "the welcome handler ran once with a worker running"
# The worker fires Lua timers as they fall due and reloads a changed script.
cat >scripts/ping.lua <<'LUA'
function setup()
  on("contact.created", function(ev) crm.schedule("ping:" .. ev.contact_id, crm.now()) end)
  on("timer.fired", function(t)
    crm.interaction.log{contact_id = tonumber(t.key:sub(6)), channel = "note", subject = "ping v1"}
  end)
end
LUA
printf '  ping:     {kind: handler, script: ping.lua, function: setup}\n' >>crm.yaml
"$CRM" run 2>"$dir/run2.err" &
w=$!
for _ in $(seq 1 200); do sqlite3 crm.db "SELECT pid FROM worker_lease" | grep -qx "$w" && break; sleep 0.05; done
assert_exit 0 "$CRM" contact add --email carol@example.fr
for _ in $(seq 1 200); do [ "$(sqlite3 crm.db "SELECT count(*) FROM interactions WHERE subject LIKE 'ping%'")" = 1 ] && break; sleep 0.05; done
assert_eq "ping v1" "$(sqlite3 crm.db "SELECT subject FROM interactions WHERE subject LIKE 'ping%'")" \
    "the worker fired the timer the handler scheduled"
sed -i 's/ping v1/ping v2/' scripts/ping.lua
n=0
for i in $(seq 1 100); do  # the engine looks at the file at most once a second
    "$CRM" contact add --email "p$i@example.fr" >/dev/null
    for _ in $(seq 1 40); do [ "$(sqlite3 crm.db "SELECT count(*) FROM interactions WHERE subject LIKE 'ping%'")" = $((i + 1)) ] && break; sleep 0.05; done
    n=$(sqlite3 crm.db "SELECT count(*) FROM interactions WHERE subject = 'ping v2'")
    [ "$n" -gt 0 ] && break
done
[ "$n" -gt 0 ] && pass || fail "the worker did not reload ping.lua"
kill -TERM "$w"
wait "$w"
assert_eq 0 "$?" "worker exit 0"
assert_eq "$(sqlite3 crm.db "SELECT count(*) FROM timers WHERE key LIKE 'ping:%'")" \
    "$(sqlite3 crm.db "SELECT count(*) FROM interactions WHERE subject LIKE 'ping%'")" "one firing per timer"
finish

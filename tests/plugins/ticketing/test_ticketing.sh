#!/usr/bin/env bash
# The ticketing plugin end to end: SLA clocks (start, pause, stop by status
# and author; lunch break, holiday and DST inside one clock) checked against
# an independent business-hours computation in Python (zoneinfo); first-match
# policies; recompute after a calendar change equal to a fresh computation;
# warning and breach events exactly once through `crm tick`; the manual due
# date; routing modes; reopen on a customer reply and auto-close; the CSAT
# survey once; complaints and their register; FTS search with accents;
# export-data and erase; a configuration without the plugin.
set -u
. "${CRM_TEST_LIB:?}"
CRM=${CRM:?}
BUILD=${CRM_BUILD_DIR:?}
export CRM_PLUGIN_PATH="$BUILD/plugins"
if [ ! -f "$CRM_PLUGIN_PATH/ticketing.so" ]; then
  echo "ticketing.so not built (CRM_PLUGIN_TICKETING=OFF): skipped"; echo "0 passed, 0 failed"; exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-tk-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
crm() { "$CRM" "$@"; }
HOURS='["09:00-12:30", "13:30-18:00"]'
write_config() { # $1 plugins, $2 support hours
  cat >crm.yaml <<YAML
database: crm.db
plugins: [$1]
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
calendars:
  support:
    timezone: Europe/Paris
    hours: {mon-fri: $2}
    holidays: {country: FR}
  nights:
    timezone: Europe/Paris
    hours: {mon-sun: ["00:00-06:00"]}
YAML
  [ -z "$1" ] && return
  cat >>crm.yaml <<'YAML'
ticketing:
  teams:
    - {name: support, calendar: support, members: [alice, bob], skills: {alice: billing, bob: technical}}
    - {name: loaded, members: [carol, dan], routing: least_loaded}
    - {name: skilled, members: [alice, bob], skills: {alice: billing, bob: technical}, routing: skills}
    - {name: scripted, routing: lua, rule: "route.lua:pick"}
  sla:
    - name: vip
      when: {tag: vip}
      calendar: support
      targets:
        normal: {first_reply: 30m, next_reply: 1h, resolution: 4h}
    - name: standard
      calendar: support
      targets:
        normal: {first_reply: 4h, next_reply: 2h, resolution: 16h}
  pause: {pending: [first_reply, next_reply, resolution], on_hold: [resolution]}
  warn_before: 15m
  close_after: 4d
  survey_after: 24h
  mediator: {name: "Médiateur du e-commerce", url: "https://mediateur.example", address: "60 rue La Boétie, Paris"}
YAML
}
printf 'function pick(c) return "bob" end\n' >route.lua
write_config ticketing "$HOURS"
assert_exit 0 crm init
assert_exit 0 crm contact add --first-name Ann --email ann@example.fr
C1=$OUT
assert_exit 0 crm contact add --first-name Ben --email ben@example.fr
C2=$OUT

# business time, independently: open seconds of [a, b) and a + n open seconds
cat >bt.py <<'PY'
import sys, datetime as dt
from zoneinfo import ZoneInfo
Z = ZoneInfo("Europe/Paris")
HOL = {dt.date(2026, 4, 6), dt.date(2026, 5, 1), dt.date(2026, 5, 8), dt.date(2026, 5, 14)}
def intervals(day, hours):
    if day.weekday() >= 5 or day in HOL: return []
    out = []
    for h in hours:
        a, b = h.split("-")
        mk = lambda s: dt.datetime.combine(day, dt.time(int(s[:2]), int(s[3:])), Z).timestamp()
        out.append((int(mk(a)), int(mk(b))))
    return out
def add(t, secs, hours):
    day = dt.datetime.fromtimestamp(t, Z).date()
    while True:
        for a, b in intervals(day, hours):
            s = max(a, t)
            if s < b:
                if secs <= b - s: return s + secs
                secs -= b - s
        day += dt.timedelta(days=1)
def between(a, b, hours):
    n, day = 0, dt.datetime.fromtimestamp(a, Z).date()
    while dt.datetime.combine(day, dt.time(0), Z).timestamp() < b:
        for x, y in intervals(day, hours):
            n += max(0, min(y, b) - max(x, a))
        day += dt.timedelta(days=1)
    return n
hours = sys.argv[1].split(",")
op, a, b = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(add(a, b, hours) if op == "add" else between(a, b, hours))
PY
H="09:00-12:30,13:30-18:00"
ep() { date -d "$1" +%s; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
clock() { # ticket metric field [as-of]
  crm ticket show "$1" --json ${4:+--as-of "$4"} >show.json
  python3 -c 'import json,sys; v=json.load(open("show.json"))["sla"][sys.argv[1]][sys.argv[2]]; print("null" if v is None else str(v).lower())' "$2" "$3"
}

# ---- lunch break + DST inside one clock: Fri 27 Mar 17:00, 4h first reply ----
T=$(ep 2026-03-27T17:00:00+01:00)
assert_exit 0 crm ticket open --contact "$C1" --subject "Colis perdu" --description "où est-il ?" --as-of "$(iso $T)"
A=$OUT
assert_eq "$(python3 bt.py "$H" add $T 14400)" "$(clock $A first_reply target_at "$(iso $T)")" "first_reply across DST"
assert_eq "$(python3 bt.py "$H" add $T 57600)" "$(clock $A resolution target_at "$(iso $T)")" "resolution across DST + lunch"
assert_eq standard "$(json_get "$(crm ticket show $A --json)" policy)" "the fallback policy"

# ---- a holiday inside one clock: Fri 3 Apr 17:00 (Mon 6 Apr is Easter Monday) ----
T2=$(ep 2026-04-03T17:00:00+02:00)
assert_exit 0 crm ticket open --contact "$C1" --subject "Facture" --as-of "$(iso $T2)"
B=$OUT
assert_eq "$(python3 bt.py "$H" add $T2 14400)" "$(clock $B first_reply target_at "$(iso $T2)")" "first_reply over Easter Monday"

# ---- first match: a vip tag takes the vip policy ----
assert_exit 0 crm ticket open --contact "$C2" --subject "VIP" --tag vip --as-of "$(iso $T2)"
V=$OUT
assert_eq vip "$(json_get "$(crm ticket show $V --json --as-of "$(iso $T2)")" policy)" "first match wins"
assert_eq "$(python3 bt.py "$H" add $T2 1800)" "$(clock $V first_reply target_at "$(iso $T2)")" "vip 30m target"

# ---- pauses by status, stops by author: Mon 4 May 10:00 ----
P0=$(ep 2026-05-04T10:00:00+02:00)
assert_exit 0 crm ticket open --contact "$C2" --subject "Pause" --as-of "$(iso $P0)"
P=$OUT
assert_exit 0 crm ticket note "$P" --body "internal only" --as-of "$(iso $((P0 + 600)))"
assert_eq true "$(clock $P first_reply running "$(iso $((P0 + 900)))")" "a note does not stop first_reply"
assert_exit 0 crm ticket status "$P" pending --as-of "$(iso $((P0 + 3600)))"
assert_eq true "$(clock $P first_reply paused "$(iso $((P0 + 7200)))")" "pending pauses first_reply"
assert_eq true "$(clock $P resolution paused "$(iso $((P0 + 7200)))")" "pending pauses resolution"
assert_exit 0 crm ticket status "$P" on_hold --as-of "$(iso $((P0 + 10800)))"
assert_eq true "$(clock $P first_reply running "$(iso $((P0 + 12600)))")" "on_hold lets first_reply run"
assert_eq true "$(clock $P resolution paused "$(iso $((P0 + 12600)))")" "on_hold pauses resolution"
assert_exit 0 crm ticket status "$P" open --as-of "$(iso $((P0 + 14400)))"
# first_reply ran [10:00,11:00) and [13:00,14:00) = 2h (lunch 12:30-13:30 inside the pause)
want=$(( $(python3 bt.py "$H" between $P0 $((P0 + 3600))) + $(python3 bt.py "$H" between $((P0 + 10800)) $((P0 + 14400))) ))
assert_eq "$want" "$(clock $P first_reply elapsed_seconds "$(iso $((P0 + 14400)))")" "elapsed = running intervals only"
assert_exit 0 crm ticket reply "$P" --body "hello" --as-of "$(iso $((P0 + 15000)))"
assert_eq "$((P0 + 15000))" "$(clock $P first_reply achieved_at "$(iso $((P0 + 16000)))")" "an agent reply achieves first_reply"
assert_eq false "$(clock $P next_reply running "$(iso $((P0 + 16000)))")" "no next_reply before the customer writes"
assert_exit 0 crm ticket reply "$P" --as customer --body "and?" --as-of "$(iso $((P0 + 16000)))"
assert_exit 0 crm ticket reply "$P" --as customer --body "hello??" --as-of "$(iso $((P0 + 16500)))"
assert_eq "$((P0 + 16000))" "$(clock $P next_reply started_at "$(iso $((P0 + 17000)))")" "next_reply from the oldest unanswered message"
assert_eq "$(python3 bt.py "$H" add $((P0 + 16000)) 7200)" "$(clock $P next_reply target_at "$(iso $((P0 + 17000)))")" "next_reply target"

# ---- warning and breach exactly once through crm tick (ticket B: Tue 7 Apr) ----
DL=$(clock $B first_reply target_at "$(iso $T2)")
count() { sqlite3 crm.db "select count(*) from events where type='$1' and json_extract(payload, '\$.ticket_id')=$B"; }
assert_exit 0 crm tick --as-of "$(iso $((DL - 1000)))"
assert_eq 0 "$(count ticket.sla_warning)" "no warning before warn_before"
assert_exit 0 crm tick --as-of "$(iso $((DL - 800)))"
assert_eq 1 "$(count ticket.sla_warning)" "warning warn_before ahead"
assert_exit 0 crm tick --as-of "$(iso $((DL - 700)))"
assert_eq 1 "$(count ticket.sla_warning)" "warning once"
assert_eq 0 "$(count ticket.sla_breached)" "no breach before the deadline"
assert_exit 0 crm tick --as-of "$(iso $((DL + 1)))"
assert_eq 1 "$(count ticket.sla_breached)" "breach at the deadline"
assert_exit 0 crm tick --as-of "$(iso $((DL + 600)))"
assert_exit 0 crm sla recompute --as-of "$(iso $((DL + 700)))"
assert_exit 0 crm ticket reply "$B" --body late --as-of "$(iso $((DL + 800)))"
assert_eq 1 "$(count ticket.sla_breached)" "breach once, whatever comes later"
assert_eq true "$(clock $B first_reply breached "$(iso $((DL + 900)))")" "a breached clock stays breached"
assert_exit 0 crm ticket list --breached --json
want=$(sqlite3 crm.db "select group_concat(id) from (select distinct ticket_id id from ticketing_clocks where breaches > 0 order by id)")
assert_eq "$want" "$(python3 -c 'import json,sys; print(",".join(str(json.loads(l)["id"]) for l in sys.stdin if l.strip()))' <<<"$OUT")" "--breached lists the breached tickets"
assert_contains ",$want," ",$B," "B among them"

# ---- manual due date ----
DUE=$(ep 2026-06-01T12:00:00+02:00)
assert_exit 0 crm ticket due "$A" --at 2026-06-01T12:00:00+02:00
assert_eq "$DUE" "$(clock $A resolution target_at "$(iso $T)")" "the override replaces the computed deadline"
assert_exit 0 crm sla recompute
assert_eq "$DUE" "$(clock $A resolution target_at "$(iso $T)")" "and survives a recompute"

# ---- recompute after a calendar change = a fresh computation ----
write_config ticketing '["08:00-17:00"]'
assert_exit 0 crm sla recompute --as-of "$(iso $T)"
assert_eq "$(python3 bt.py "08:00-17:00" add $T 14400)" "$(sqlite3 crm.db "select target_at from ticketing_clocks where ticket_id=$A and metric='first_reply'")" "stored after recompute"
assert_eq "$(python3 bt.py "08:00-17:00" add $T 14400)" "$(clock $A first_reply target_at "$(iso $T)")" "fresh computation"
write_config ticketing "$HOURS"

# ---- routing ----
assert_exit 0 crm ticket open --contact "$C1" --subject r1 --as-of 2026-05-05T10:00:00+02:00
r1=$(json_get "$(crm ticket show $OUT --json)" assignee)
assert_exit 0 crm ticket open --contact "$C1" --subject r2 --as-of 2026-05-05T10:00:00+02:00
r2=$(json_get "$(crm ticket show $OUT --json)" assignee)
assert_eq "alice bob" "$(printf '%s\n' "$r1" "$r2" | sort | xargs)" "round-robin alternates"
assert_exit 0 crm ticket open --contact "$C1" --subject l1 --team loaded --assignee carol
assert_exit 0 crm ticket open --contact "$C1" --subject l2 --team loaded
assert_eq dan "$(json_get "$(crm ticket show $OUT --json)" assignee)" "least-loaded"
assert_exit 0 crm ticket open --contact "$C1" --subject s1 --team skilled --tag technical
assert_eq bob "$(json_get "$(crm ticket show $OUT --json)" assignee)" "skills"
assert_exit 0 crm ticket open --contact "$C1" --subject s2 --team skilled --tag billing
assert_eq alice "$(json_get "$(crm ticket show $OUT --json)" assignee)" "skills"
assert_exit 0 crm agent set alice --team skilled --calendar nights
assert_exit 0 crm ticket open --contact "$C1" --subject s3 --team skilled --tag billing --as-of 2026-05-05T10:00:00+02:00
assert_eq bob "$(json_get "$(crm ticket show $OUT --json)" assignee)" "an agent whose calendar is closed is skipped"
assert_exit 0 crm ticket open --contact "$C1" --subject lua --team scripted
assert_eq bob "$(json_get "$(crm ticket show $OUT --json)" assignee)" "the Lua rule"
assert_exit 0 crm ticket queue --team support --json
assert_contains "$OUT" '"seconds_left"' "the queue"

# ---- reopen on a customer reply, auto-close, survey once ----
S0=$(ep 2026-05-11T10:00:00+02:00)
assert_exit 0 crm ticket open --contact "$C2" --subject solve --as-of "$(iso $S0)"
S=$OUT
assert_exit 0 crm ticket solve "$S" --as-of "$(iso $((S0 + 3600)))"
assert_exit 0 crm ticket reply "$S" --as customer --body "not fixed" --as-of "$(iso $((S0 + 7200)))"
assert_eq open "$(json_get "$(crm ticket show $S --json)" status)" "a customer reply reopens"
assert_exit 0 crm ticket solve "$S" --as-of "$(iso $((S0 + 9000)))"
assert_exit 0 crm tick --as-of "$(iso $((S0 + 9000 + 86400 + 10)))"
assert_exit 0 crm tick --as-of "$(iso $((S0 + 9000 + 86400 + 20)))"
assert_eq 1 "$(sqlite3 crm.db "select count(*) from events where type='ticket.survey_queued' and json_extract(payload, '\$.ticket_id')=$S")" "the survey goes once"
assert_exit 0 crm tick --as-of "$(iso $((S0 + 9000 + 4 * 86400 + 10)))"
assert_eq closed "$(json_get "$(crm ticket show $S --json)" status)" "closed after close_after"
assert_exit 1 crm ticket reply "$S" --as customer --body again
assert_exit 0 crm ticket rate "$S" --score 5 --comment "merci"
assert_exit 2 crm ticket rate "$S" --score 9
assert_exit 0 crm helpdesk report --json
assert_eq 100.0 "$(json_get "$OUT" csat_pct)" "CSAT"

# ---- complaints ----
K0=$(ep 2026-05-20T10:00:00+02:00)
assert_exit 0 crm ticket open --contact "$C1" --subject "Réclamation" --type complaint --as-of "$(iso $K0)"
K=$OUT
assert_exit 0 crm complaint register --json
assert_eq "$(python3 -c "import datetime as d; t=d.datetime.fromtimestamp($K0, d.timezone.utc); print(int(t.replace(month=t.month+2).timestamp()))")" "$(json_get "$OUT" level1_due)" "two months to answer"
assert_exit 0 crm complaint escalate "$K" --as-of "$(iso $((K0 + 86400)))"
assert_exit 0 crm complaint respond "$K" --body "Nous maintenons notre position." --outcome rejected --as-of "$(iso $((K0 + 2 * 86400)))"
assert_exit 0 crm complaint register --json
assert_eq "$((K0 + 86400 + 90 * 86400))" "$(json_get "$OUT" level2_due)" "90 days at level 2"
assert_eq kept "$(json_get "$OUT" level2_deadline)" "answered in time"
assert_contains "$(crm ticket show $K --json)" "Médiateur du e-commerce" "the final answer names the mediator"

# ---- knowledge base ----
assert_exit 0 crm kb add --title "Remboursement d'un élève" --body "Comment obtenir un remboursement"
assert_exit 0 crm kb add --title "Livraison" --body "Délais de livraison et remboursement des frais"
assert_exit 0 crm kb search eleve
assert_contains "$OUT" "élève" "accents folded"
assert_exit 0 crm kb search remboursement --json
assert_eq "Remboursement d'un élève" "$(json_get "$(head -1 <<<"$OUT")" title)" "ranked: the title first"
assert_exit 0 crm ticket open --contact "$C1" --subject "Remboursement refusé"
assert_exit 0 crm ticket suggest "$OUT"
assert_contains "$OUT" "Remboursement" "suggestions"

# ---- the timeline, export and erasure ----
assert_exit 0 crm contact export-data "$C2"
assert_contains "$OUT" '"ticketing_tickets"' "export reaches the tickets"
assert_contains "$OUT" '[#' "the conversation is on the contact's interactions"
assert_exit 0 crm contact erase "$C2" --reason test
assert_eq "0 0" "$(sqlite3 crm.db "select count(*) from ticketing_tickets where contact_id=$C2") $(sqlite3 crm.db "select count(*) from ticketing_history where contact_id=$C2")" "erased"

# ---- configuration errors point into crm.yaml ----
write_config ticketing "$HOURS"
sed -i 's/routing: least_loaded/routing: loadest/' crm.yaml
assert_exit 1 crm ticket list
assert_contains "$ERR" "crm.yaml:" "a position"
assert_contains "$ERR" "unknown routing 'loadest'" "the bad value"
write_config ticketing "$HOURS"
sed -i 's/      calendar: support/      calendar: nowhere/' crm.yaml
assert_exit 1 crm ticket list
assert_contains "$ERR" "no calendar 'nowhere'" "an unknown calendar"
write_config ticketing "$HOURS"
sed -i 's/first_reply: 30m/first_reply: 1d/' crm.yaml
assert_exit 1 crm ticket list
assert_contains "$ERR" "ticketing.sla[0].targets.normal.first_reply" "the key path"

# ---- without the plugin ----
rm -f crm.db*
write_config "" "$HOURS"
assert_exit 0 crm init
assert_exit 2 crm ticket list
assert_contains "$ERR" "unknown command 'ticket'" "no ticket command"
assert_eq 0 "$(sqlite3 crm.db "select count(*) from sqlite_master where name like 'ticketing%'")" "no tables"
finish

#!/usr/bin/env bash
# crm helpdesk report --by team|agent|priority: a fixed plan of tickets
# (python3, seeded) is played through `crm` on an always-open calendar (so a
# first reply's business seconds are its wall seconds), then every group's
# opened, solved, median first reply, first-reply breach rate, CSAT answers
# and share, backlog and NPS (each answer counted for the latest ticket solved
# before it) are compared with the same figures counted
# independently from the plan (a triage team routes nobody: tickets
# without an assignee form their own group); groups add up to the whole; text output and a
# bad --by.
set -u
. "${CRM_TEST_LIB:?}"
plugin_test_dir tk-report
if [ ! -f "$CRM_PLUGIN_PATH/ticketing.so" ]; then
  echo "ticketing.so not built: skipped"; echo "0 passed, 0 failed"; exit 0
fi
crm() { "$CRM" "$@"; }
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [ticketing]
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
calendars:
  always:
    timezone: UTC
    hours: {mon-sun: ["00:00-24:00"]}
ticketing:
  teams:
    - {name: support, calendar: always, members: [alice, bob]}
    - {name: sales, calendar: always, members: [carol]}
    - {name: triage, calendar: always, routing: none}
  sla:
    - name: all
      calendar: always
      targets:
        low:    {first_reply: 1h}
        normal: {first_reply: 1h}
        high:   {first_reply: 1h}
YAML
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
assert_exit 0 crm init
assert_exit 0 crm contact add --first-name Ann --email ann@example.fr
C=$OUT
T0=$(date -u -d 2026-03-02T08:00:00Z +%s)
END=$((T0 + 30 * 86400))
# the plan: i team agent priority reply_delay solved(0/1) csat(0 = none)
python3 - "$T0" >plan.tsv <<'PY'
import random, sys
r = random.Random(15)
who = [("support", "alice"), ("support", "bob"), ("sales", "carol")]
for i in range(15):
    team, agent = who[i % 3] if i < 13 else ("triage", "")
    prio = r.choice(["low", "normal", "high"])
    delay = r.choice([600, 1800, 3000, 5400, 7200, 9000])
    solved = r.random() < 0.6
    csat = r.randint(1, 5) if solved and r.random() < 0.7 else 0
    print(i, team, agent or "-", prio, delay, int(solved), csat, sep="\t")
PY
while IFS=$'\t' read -r i team agent prio delay solved csat; do
  t=$((T0 + i * 3600))
  if [ "$agent" = - ]; then as=(); else as=(--assignee "$agent"); fi
  id=$(crm ticket open --contact "$C" --subject "t$i" --team "$team" "${as[@]}" --priority "$prio" --as-of "$(iso $t)") || fail "open $i"
  crm ticket reply "$id" --body "on it" --as-of "$(iso $((t + delay)))" >/dev/null || fail "reply $i"
  if [ "$solved" = 1 ]; then
    crm ticket solve "$id" --as-of "$(iso $((t + delay + 1800)))" >/dev/null || fail "solve $i"
    [ "$csat" != 0 ] && { crm ticket rate "$id" --score "$csat" --as-of "$(iso $((t + delay + 3600)))" >/dev/null || fail "rate $i"; }
  fi
done <plan.tsv
# NPS answers (no survey: each counts for the latest ticket solved before it)
NPS="10 3 9 7 0 10 9 6 8 10"
k=0
for sc in $NPS; do
  at=$((T0 + k * 7200 + 5000))
  echo "$at $sc" >>nps.txt
  crm nps rate "$C" --score "$sc" --as-of "$(iso $at)" >/dev/null || fail "nps $k"
  k=$((k + 1))
done

check() { # by column-of-plan
  crm helpdesk report --by "$1" --json --as-of "$(iso $END)" >report.json || { fail "report --by $1"; return; }
  python3 - "$1" "$2" "$T0" <<'PY'
import json, sys
by, col = sys.argv[1], int(sys.argv[2])
rep = json.load(open("report.json"))
rows = [l.rstrip("\n").split("\t") for l in open("plan.tsv")]
def med(v):
    v = sorted(v)
    n = len(v)
    return None if not n else v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) // 2
def expect(rs):
    cs = [int(r[6]) for r in rs if r[6] != "0"]
    d = [int(r[4]) for r in rs]
    return {"opened": len(rs), "solved": sum(r[5] == "1" for r in rs),
            "median_first_reply_seconds": med(d),
            "first_reply_breach": round(100.0 * sum(x > 3600 for x in d) / len(d), 6),
            "csat_answers": len(cs),
            "csat_pct": round(100.0 * sum(x >= 4 for x in cs) / len(cs), 6) if cs else None,
            "backlog": sum(r[5] == "0" for r in rs)}
def got(g):
    return {"opened": g["opened"], "solved": g["solved"],
            "median_first_reply_seconds": g["median_first_reply_seconds"],
            "first_reply_breach": round(g["breach_rate_pct"]["first_reply"], 6),
            "csat_answers": g["csat_answers"],
            "csat_pct": None if g["csat_pct"] is None else round(g["csat_pct"], 6),
            "backlog": g["backlog"]}
bad = []
if rep.get("by") != by: bad.append("by=%r" % rep.get("by"))
if got(rep) != expect(rows): bad.append("whole: %s != %s" % (got(rep), expect(rows)))
keys = sorted({r[col] for r in rows})
names = [g[by] if g[by] is not None else "-" for g in rep["groups"]]
if sorted(names) != keys: bad.append("groups %s != %s" % (names, keys))
for g in rep["groups"]:
    k = g[by] if g[by] is not None else "-"
    e = expect([r for r in rows if r[col] == k])
    if got(g) != e: bad.append("%s %s: %s != %s" % (by, k, got(g), e))
if sum(g["opened"] for g in rep["groups"]) != rep["opened"]: bad.append("groups do not add up")
# each NPS answer belongs to the latest ticket solved at or before it
t0 = int(sys.argv[3])
solved = [(t0 + int(r[0]) * 3600 + int(r[4]) + 1800, int(r[0]), r) for r in rows if r[5] == "1"]
owner = {}
for l in open("nps.txt"):
    at, sc = map(int, l.split())
    prior = [x for x in solved if x[0] <= at]
    if prior:
        owner.setdefault(max(prior)[2][col], []).append(sc)
for g in rep["groups"]:
    k = g[by] if g[by] is not None else "-"
    sc = owner.get(k, [])
    want = None if not sc else round(100.0 * (sum(x >= 9 for x in sc) - sum(x <= 6 for x in sc)) / len(sc), 6)
    have = None if g["nps"] is None else round(g["nps"], 6)
    if (have, g["nps_answers"]) != (want, len(sc)): bad.append("%s %s NPS %s/%d != %s/%d" % (by, k, have, g["nps_answers"], want, len(sc)))
if sum(len(v) for v in owner.values()) < 5: bad.append("too few attributed answers: %s" % owner)
print("ok" if not bad else "; ".join(bad))
PY
}
assert_eq ok "$(check team 1)" "--by team"
assert_eq ok "$(check agent 2)" "--by agent"
assert_eq ok "$(check priority 3)" "--by priority"

# a period keeps to its tickets: the first five opened
assert_exit 0 crm helpdesk report --by team --json --from "$(iso $T0)" --to "$(iso $((T0 + 5 * 3600)))" --as-of "$(iso $END)"
assert_eq 5 "$(json_get "$OUT" opened)" "the period's tickets"
assert_eq "$(head -5 plan.tsv | cut -f2 | sort | uniq -c | awk '{print $2"="$1}' | paste -sd,)" \
  "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(",".join("%s=%d" % (g["team"], g["opened"]) for g in sorted(r["groups"], key=lambda g: g["team"]) if g["opened"]))' "$OUT")" "opened per team in the period"

# text
assert_exit 0 crm helpdesk report --by agent --as-of "$(iso $END)"
assert_contains "$OUT" "agent alice" "a group heading"
assert_contains "$OUT" "agent (none)" "tickets without an assignee"
assert_contains "$OUT" "  opened $(awk -F'\t' '$3=="carol"' plan.tsv | wc -l | tr -d ' '), solved $(awk -F'\t' '$3=="carol" && $6==1' plan.tsv | wc -l | tr -d ' ')" "carol's figures"
assert_exit 2 crm helpdesk report --by channel
assert_contains "$ERR" "'channel' is not team, agent or priority" "a bad --by"
finish

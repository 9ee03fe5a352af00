#!/usr/bin/env bash
# crm pipeline stats on scripted moves (forward, back, won, lost with
# reasons, reopened) driven by --as-of; the expected figures are computed in
# python from the same script, not from crm's output.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
# SCRIPT: time deal verb arg (add: arg = stage)
cat >script.txt <<'S'
2026-03-02T09:00:00Z 1 add qualification
2026-03-02T10:00:00Z 2 add qualification
2026-03-02T11:00:00Z 3 add proposal
2026-03-03T09:00:00Z 4 add qualification
2026-03-04T09:00:00Z 1 move proposal
2026-03-05T09:00:00Z 1 move negotiation
2026-03-06T09:00:00Z 1 win -
2026-03-04T12:00:00Z 2 move proposal
2026-03-07T12:00:00Z 2 move qualification
2026-03-09T12:00:00Z 2 lose price
2026-03-05T08:00:00Z 3 lose competitor
2026-03-08T08:00:00Z 3 reopen -
2026-03-10T08:00:00Z 3 win -
2026-03-06T10:00:00Z 4 lose price
S
sort script.txt | while read -r t id verb arg; do
    case $verb in
    add) "$CRM" --as-of "$t" deal add --title "D$id" --contact 1 --amount 100 --stage "$arg" >/dev/null ;;
    move) "$CRM" --as-of "$t" deal move "$id" "$arg" >/dev/null ;;
    win | reopen) "$CRM" --as-of "$t" deal "$verb" "$id" >/dev/null ;;
    lose) "$CRM" --as-of "$t" deal lose "$id" --reason "$arg" >/dev/null ;;
    esac
done
NOW=2026-03-20T00:00:00Z
want=$(python3 - "$NOW" <<'PY'
import datetime, json, sys
ts = lambda s: int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())
now = ts(sys.argv[1])
order = ["qualification", "proposal", "negotiation", "won", "lost"]
prob = {"qualification": 10, "proposal": 40, "negotiation": 70}
ev = sorted((ts(l.split()[0]), int(l.split()[1]), l.split()[2], l.split()[3]) for l in open("script.txt"))
visits, status, won, lost, reasons = {}, {}, 0, 0, {}
t0, t1 = ts("2026-03-01T00:00:00Z") - 3600, ts("2026-03-31T00:00:00Z") - 3600 + 86399  # Paris days
for t, d, verb, arg in ev:
    v = visits.setdefault(d, [])
    if verb == "add": v.append([arg, t]); status[d] = "open"; continue
    if verb == "move": v.append([arg, t]); continue
    if verb == "win": v.append(["won", t]); status[d] = "won"; won += t0 <= t <= t1; continue
    if verb == "lose":
        v.append(["lost", t]); status[d] = "lost"; lost += t0 <= t <= t1
        reasons[arg] = reasons.get(arg, 0) + 1; continue
    if verb == "reopen": v.append([v[-2][0], t]); status[d] = "open"
out = []
for s in ["qualification", "proposal", "negotiation"]:
    ent = adv = w = l = 0; times = []
    for d, v in visits.items():
        idx = [i for i, (st, t) in enumerate(v) if st == s and t0 <= v[i][1] <= t1]
        if not idx: continue
        ent += 1
        if any(order.index(st) > order.index(s) and st != "lost" and t <= t1 for st, t in v[idx[0] + 1:]): adv += 1
        w += status[d] == "won"; l += status[d] == "lost"
        times.append(sum((v[i + 1][1] if i + 1 < len(v) else now) - v[i][1] for i in range(len(v)) if v[i][0] == s))
    times.sort(); n = len(times)
    med = None if not n else times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) // 2
    rate = round(100 * w / (w + l), 1) if w + l else None
    out.append([s, ent, adv, round(100 * adv / ent, 1) if ent else None, w, l, rate,
                None if rate is None else round(rate - prob[s], 1), med])
print(json.dumps({"stages": out, "won": won, "lost": lost, "reasons": dict(sorted(reasons.items()))}))
PY
)
run "$CRM" --json --as-of $NOW pipeline stats --from 2026-03-01 --to 2026-03-31
got=$(python3 -c '
import json, sys
j = json.loads(sys.argv[1])
r = lambda x: None if x is None else round(x, 1)
print(json.dumps({"stages": [[s["stage"], s["entered"], s["advanced"], r(s["conversion"]), s["won"], s["lost"],
                  r(s["win_rate"]), r(s["calibration"]), s["median_time_in_stage"]] for s in j["stages"]],
                  "won": j["won"], "lost": j["lost"], "reasons": dict(sorted(j["lost_reasons"].items()))}))' "$OUT")
assert_eq "$want" "$got" "stats per stage, outcomes and lost reasons"
run "$CRM" --as-of $NOW pipeline stats
assert_contains "$OUT" "qualification" "the text table"
assert_exit 1 "$CRM" pipeline stats --pipeline nope
finish

#!/usr/bin/env bash
# The pipeline plugin's deals end to end: config errors with file:line:col,
# probability defaults and overrides, expected-value rounding (checked by
# python), history rows for every kind of change, time in stage with
# back-and-forth and reopen (the sums computed here from the --as-of times),
# lost reasons refused with the list, forecast by each grouping with a
# foreign-currency deal, the board, the stalled flag fired by crm tick and
# cleared by activity, the contact's timeline, export-data and erase.
set -u
. "$CRM_TEST_LIB"
CRM=${CRM:?}
export CRM_PLUGIN_PATH="$CRM_BUILD_DIR/plugins"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-pldeals-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_USER

# ---- config errors point at file:line:col -------------------------------------
bad_config() { # $1 = stages block
    cat >crm.yaml <<YAML
database: bad.db
plugins: [pipeline]
pipeline:
  pipelines:
    - name: b2b
      stages:
$1
YAML
}
bad_config '        - {name: a, probability: 10}
        - {name: w, probability: 100, won: true}
        - {name: w2, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:6:" "two won stages: position of stages"
assert_contains "$ERR" "exactly one won stage and one lost stage (it has 2 won, 1 lost)"
bad_config '        - {name: a, probability: 10, category: maybe}
        - {name: w, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:7:" "unknown category: its line"
assert_contains "$ERR" 'unknown category "maybe"'
bad_config '        - {name: a, probability: 10, rot_after: soon}
        - {name: w, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:7:" "bad duration: its line"
bad_config '        - {name: a, probability: 140}
        - {name: w, probability: 100, won: true}
        - {name: l, probability: 0, lost: true}'
assert_exit 1 "$CRM" init --quiet
assert_contains "$ERR" "crm.yaml:7:" "probability out of range: its line"
[ ! -s bad.db ] && pass || fail "a refused config wrote the database"

# ---- a good config ---------------------------------------------------------------
cat >crm.yaml <<'YAML'
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [pipeline]
pipeline:
  pipelines:
    - name: b2b
      currency: EUR
      stages:
        - {name: qualification, probability: 10, category: pipeline, rot_after: 14d}
        - {name: proposal,      probability: 40, category: best_case, rot_after: 10d}
        - {name: negotiation,   probability: 70, category: commit,   rot_after: 7d}
        - {name: won,  probability: 100, won: true}
        - {name: lost, probability: 0,   lost: true}
  lost_reasons: [price, competitor, no_budget]
YAML
assert_exit 0 "$CRM" init --quiet
"$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
"$CRM" contact add --email bob@example.com --first-name Bob >/dev/null
D0=2026-01-05T09:00:00Z
assert_exit 0 "$CRM" --as-of $D0 deal add --title "Big" --contact 1 --amount 1.25 \
    --close-date 2026-02-10 --owner alice
assert_eq 1 "$OUT" "deal add prints the id"
run "$CRM" --json --as-of $D0 deal show 1
j=$OUT
assert_eq 125 "$(json_get "$j" amount)" "amount in minor units"
assert_eq 10 "$(json_get "$j" probability)" "probability defaults to the stage's"
want=$(python3 -c 'import decimal as d; print(int((d.Decimal(125)*10/100).quantize(d.Decimal(1), rounding=d.ROUND_HALF_UP)))')
assert_eq "$want" "$(json_get "$j" expected)" "expected = 12.5 rounded half away from zero"
for k in id title pipeline stage status currency category close_date owner contact_id \
    company_id lost_reason stage_entered_at created_at updated_at stalled; do
    python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in json.loads(sys.argv[1]) else 1)' \
        "$j" "$k" && pass || fail "deal show --json lacks $k"
done
assert_eq 2026-02-10 "$(json_get "$j" close_date)"
assert_eq open "$(json_get "$j" status)"
assert_eq false "$(json_get "$j" stalled)"

# override kept until the stage changes
assert_exit 0 "$CRM" --as-of 2026-01-06T09:00:00Z deal update 1 --probability 55 --amount 2001.01
run "$CRM" --json --as-of 2026-01-06T09:00:00Z deal show 1
assert_eq 55 "$(json_get "$OUT" probability)" "override applies"
assert_eq true "$(json_get "$OUT" probability_overridden)"
want=$(python3 -c 'print((200101*55*2 + 100) // 200)')  # 110055.55 -> 110056 (positive)
assert_eq "$want" "$(json_get "$OUT" expected)" "expected with the override"
assert_exit 0 "$CRM" --as-of 2026-01-08T09:00:00Z deal move 1 proposal
run "$CRM" --json --as-of 2026-01-08T09:00:00Z deal show 1
assert_eq 40 "$(json_get "$OUT" probability)" "a stage change drops the override"
assert_eq false "$(json_get "$OUT" probability_overridden)"

# back and forth, lost, reopen, won
assert_exit 0 "$CRM" --as-of 2026-01-10T09:00:00Z deal move 1 negotiation
assert_exit 0 "$CRM" --as-of 2026-01-11T09:00:00Z deal move 1 proposal
assert_exit 1 "$CRM" --as-of 2026-01-12T09:00:00Z deal lose 1 --reason moon
assert_contains "$ERR" "known: price, competitor, no_budget" "lost reason refused with the list"
assert_exit 0 "$CRM" --as-of 2026-01-13T09:00:00Z deal lose 1 --reason price --note "too dear"
run "$CRM" --json --as-of 2026-01-13T09:00:00Z deal show 1
assert_eq lost "$(json_get "$OUT" status)"
assert_eq 0 "$(json_get "$OUT" probability)"
assert_eq price "$(json_get "$OUT" lost_reason)"
assert_exit 1 "$CRM" --as-of 2026-01-13T10:00:00Z deal move 1 negotiation
assert_contains "$ERR" "reopen"
assert_exit 0 "$CRM" --as-of 2026-01-15T09:00:00Z deal reopen 1
run "$CRM" --json --as-of 2026-01-15T09:00:00Z deal show 1
assert_eq proposal "$(json_get "$OUT" stage)" "reopen returns to the stage it left"
assert_eq open "$(json_get "$OUT" status)"
assert_exit 0 "$CRM" --as-of 2026-01-16T09:00:00Z deal update 1 --close-date 2026-03-01 \
    --owner bruno --category commit
run "$CRM" --json --as-of 2026-01-20T09:00:00Z deal show 1
tis=$(json_get "$OUT" time_by_stage)
want=$(python3 - <<'PY'
from datetime import datetime as D
t = lambda s: int(D.fromisoformat(s + "+00:00").timestamp())
visits = [("qualification", "2026-01-05T09:00:00", "2026-01-08T09:00:00"),
          ("proposal", "2026-01-08T09:00:00", "2026-01-10T09:00:00"),
          ("negotiation", "2026-01-10T09:00:00", "2026-01-11T09:00:00"),
          ("proposal", "2026-01-11T09:00:00", "2026-01-13T09:00:00"),
          ("lost", "2026-01-13T09:00:00", "2026-01-15T09:00:00"),
          ("proposal", "2026-01-15T09:00:00", "2026-01-20T09:00:00")]
s = {}
for k, a, b in visits:
    s[k] = s.get(k, 0) + t(b) - t(a)
print(" ".join(f"{k}={s[k]}" for k in sorted(s)))
PY
)
got=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(" ".join(f"{k}={d[k]}" for k in sorted(d)))' "$tis")
assert_eq "$want" "$got" "time in stage sums every visit, reopen continues"
assert_eq $((5 * 86400)) "$(json_get "$OUT" time_in_stage)" "current visit"
assert_eq commit "$(json_get "$OUT" category)" "category override"

# history rows for every kind of change, in the same order as made
run "$CRM" --json deal history 1
fields=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
print(" ".join(sorted({r["field"] for r in rows})))
print(sum(1 for r in rows if r["field"] == "stage"))
print(all(r["by"] == "cli" for r in rows))
' "$OUT")
assert_eq "amount category close_date lost_reason owner probability stage status" \
    "$(sed -n 1p <<<"$fields")" "history fields"
assert_eq 6 "$(sed -n 2p <<<"$fields")" "one stage row per visit (creation, 5 moves)"
assert_eq True "$(sed -n 3p <<<"$fields")"
run python3 -c '
import sqlite3
db = sqlite3.connect("crm.db")
print(db.execute("select from_value, to_value from pipeline_deal_history where field=\"amount\" order by id").fetchall())
print(db.execute("select from_value, to_value from pipeline_deal_history where field=\"owner\" order by id").fetchall())'
assert_contains "$OUT" "[(None, '125'), ('125', '200101')]" "amount history"
assert_contains "$OUT" "[(None, 'alice'), ('alice', 'bruno')]" "owner history"
# a failed command leaves nothing behind
before=$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("select count(*) from pipeline_deal_history").fetchone()[0])')
assert_exit 1 "$CRM" deal add --title X --contact 99 --amount 10
assert_contains "$ERR" "no contact 99"
assert_exit 1 "$CRM" deal update 1 --probability 101
after=$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("select count(*) from pipeline_deal_history").fetchone()[0])')
assert_eq "$before" "$after" "refused commands write no history"

# events
run python3 -c '
import sqlite3
db = sqlite3.connect("crm.db")
print(" ".join(r[0] for r in db.execute("select distinct type from events where type like \"deal.%\" order by type")))'
assert_eq "deal.created deal.lost deal.reopened deal.stage_changed deal.updated" "$OUT" "deal events"

# the contact's timeline shows the stage changes
run "$CRM" timeline 1
assert_contains "$OUT" "stage_changed" "timeline shows stage changes"

# ---- forecast ------------------------------------------------------------------------
T=2026-01-20T09:00:00Z
"$CRM" --as-of $T deal add --title A --contact 2 --amount 1000.00 --close-date 2026-02-15 --owner alice >/dev/null
"$CRM" --as-of $T deal add --title B --contact 2 --amount 333.33 --close-date 2026-03-15 --owner bruno --stage negotiation >/dev/null
"$CRM" --as-of $T deal add --title C --contact 2 --amount 250.05 --close-date 2026-03-20 --owner alice --stage proposal --probability 15 >/dev/null
"$CRM" --as-of $T deal add --title USD --contact 2 --amount 500.00 --currency USD --close-date 2026-02-20 --owner alice >/dev/null
"$CRM" --as-of $T deal add --title Later --contact 2 --amount 9999.00 --close-date 2026-06-20 >/dev/null
"$CRM" --as-of $T deal add --title Won --contact 2 --amount 700.00 --close-date 2026-02-01 >/dev/null
"$CRM" --as-of 2026-02-02T09:00:00Z deal win 7 >/dev/null
python3 - >expected.json <<'PY'
import json, sqlite3
db = sqlite3.connect("crm.db")
prob = {"qualification": 10, "proposal": 40, "negotiation": 70}
cat = {"qualification": "pipeline", "proposal": "best_case", "negotiation": "commit"}
rows = db.execute("select id, stage, amount, currency, probability, category, close_date, owner"
                  " from pipeline_deals where status='open' and close_date between '2026-01-01' and '2026-03-31'").fetchall()
def rnd(n):  # half away from zero, n/100
    q, r = divmod(abs(n), 100)
    return (q + (r >= 50)) * (1 if n >= 0 else -1)
out = {}
for by in ["owner", "stage", "category", "month"]:
    g = {}
    for i, st, amt, cur, p, c, cd, own in rows:
        if cur != "EUR":
            continue
        c = c or cat[st]
        key = {"owner": own or "(none)", "stage": st, "category": c, "month": cd[:7]}[by]
        b = g.setdefault(key, [0, 0, 0])
        b[0] += 1; b[1] += amt; b[2] += rnd(amt * (p if p is not None else prob[st]))
    out[by] = {k: v for k, v in sorted(g.items())}
out["total"] = [sum(v[i] for v in out["owner"].values()) for i in range(3)]
out["foreign"] = [[cur, amt] for i, st, amt, cur, *_ in rows if cur != "EUR"]
print(json.dumps(out, sort_keys=True))
PY
for by in owner stage category month; do
    run "$CRM" --json --as-of 2026-02-03T09:00:00Z pipeline forecast --from 2026-01-01 --to 2026-03-31 --by $by
    got=$(python3 -c '
import json, sys
f = json.loads(sys.argv[1])
print(json.dumps({g["group"]: [g["count"], g["amount"], g["weighted"]] for g in sorted(f["groups"], key=lambda g: g["group"])}, sort_keys=True))' "$OUT")
    want=$(python3 -c 'import json,sys; print(json.dumps(json.load(open("expected.json"))[sys.argv[1]], sort_keys=True))' $by)
    assert_eq "$want" "$got" "forecast by $by"
done
assert_eq "$(python3 -c 'import json; print(json.load(open("expected.json"))["total"])')" \
    "$(python3 -c 'import json,sys; t=json.loads(sys.argv[1])["total"]; print([t["count"], t["amount"], t["weighted"]])' "$OUT")" \
    "forecast total excludes the foreign deal"
assert_eq '[["USD", 50000]]' \
    "$(python3 -c 'import json,sys; print(json.dumps([[g["currency"], g["amount"]] for g in json.loads(sys.argv[1])["foreign"]]))' "$OUT")" \
    "the USD deal is reported apart"
assert_eq 70000 "$(json_get "$OUT" won_amount)" "won in the period"
run "$CRM" --json --as-of 2026-02-03T09:00:00Z pipeline forecast --from 2026-01-01 --to 2026-03-31
want=$(python3 -c '
import sqlite3
db = sqlite3.connect("crm.db")
print(db.execute("select sum(amount) from pipeline_deals where status=\"open\" and currency=\"EUR\""
                 " and close_date between \"2026-01-01\" and \"2026-03-31\""
                 " and coalesce(category, case stage when \"negotiation\" then \"commit\" end) = \"commit\"").fetchone()[0])')
assert_eq "$want" "$(json_get "$OUT" total.commit)" "commit column: negotiation and the override"
assert_exit 2 "$CRM" pipeline forecast --from 2026-01-01 --to 2026-03-31 --by colour

# ---- board --------------------------------------------------------------------------
want=$(python3 -c '
import json, sqlite3
db = sqlite3.connect("crm.db")
cols = []
for st in ["qualification", "proposal", "negotiation", "won", "lost"]:
    n, s = db.execute("select count(*), coalesce(sum(amount), 0) from pipeline_deals where stage=? and currency=\"EUR\"", (st,)).fetchone()
    cols.append([st, n, s])
print(json.dumps(cols, separators=(",", ":")))')
run "$CRM" --json pipeline board
assert_eq "$want" \
    "$(python3 -c 'import json,sys; print(json.dumps([[c["stage"],c["count"],c["amount"]] for c in json.loads(sys.argv[1])["columns"]], separators=(",",":")))' "$OUT")" \
    "board columns (EUR deals)"

# ---- stalled: fired by crm tick, cleared by activity -------------------------------
# deal 2 (A, qualification, rot_after 14d) was added 2026-01-20: due 2026-02-03
assert_exit 0 "$CRM" --as-of 2026-02-02T08:00:00Z tick
run "$CRM" --json deal show 2
assert_eq false "$(json_get "$OUT" stalled)" "not stalled before rot_after"
assert_exit 0 "$CRM" --as-of 2026-02-03T10:00:00Z tick
run "$CRM" --json deal show 2
assert_eq true "$(json_get "$OUT" stalled)" "stalled after rot_after"
run "$CRM" --json deal list --stalled
assert_contains "$OUT" '"title":"A"' "deal list --stalled"
run "$CRM" --json task list
assert_contains "$OUT" "Stalled deal: A" "a task for the stalled deal"
run "$CRM" --json pipeline board
assert_contains "$OUT" '"stalled":' "board marks stalled deals"
assert_exit 0 "$CRM" --as-of 2026-02-04T10:00:00Z interaction log --contact 2 --channel phone \
    --subject "called"
"$CRM" --as-of 2026-02-04T10:00:01Z tick >/dev/null 2>&1
run "$CRM" --json deal show 2
assert_eq false "$(json_get "$OUT" stalled)" "activity clears the flag"

# ---- privacy -----------------------------------------------------------------------
run "$CRM" contact export-data 1
assert_contains "$OUT" "pipeline_deal_history" "export-data reaches the history"
assert_contains "$OUT" '"title": "Big"' "export-data reaches the deal"
assert_exit 0 "$CRM" contact erase 1 --reason "asked by the person"
run python3 -c '
import sqlite3
db = sqlite3.connect("crm.db")
print(db.execute("select count(*) from pipeline_deals where contact_id=1").fetchone()[0],
      db.execute("select count(*) from pipeline_deal_history where contact_id=1").fetchone()[0])'
assert_eq "0 0" "$OUT" "erase deletes the deal and its history"

# ---- without the plugin: no commands, no tables -------------------------------------
mkdir bare && cd bare
printf 'database: bare.db\nplugins: []\n' >crm.yaml
assert_exit 0 "$CRM" init --quiet
assert_exit 2 "$CRM" deal list
assert_exit 2 "$CRM" pipeline forecast --from 2026-01-01 --to 2026-01-31
run python3 -c '
import sqlite3
print(sqlite3.connect("bare.db").execute("select count(*) from sqlite_master where name like \"pipeline_%\"").fetchone()[0])'
assert_eq 0 "$OUT" "no pipeline tables without the plugin"
finish

#!/usr/bin/env bash
# The segmentation plugin end to end: RFM against an independent SQL query,
# window/status filters, as-of reproducibility, incremental updates after
# order events (placed, paid, cancelled, refunded), segment history and
# events, the dry-run diff, churn reasons, a Lua predicate segment and the Lua
# churn override, the top-level nouns (crm rfm|segment|churn|metrics) with
# their help, and a configuration without the plugin in which none of its
# commands or tables exist.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
export CRM_PLUGIN_PATH="$BUILD/plugins"
if [ ! -f "$CRM_PLUGIN_PATH/segmentation.so" ]; then
  echo "segmentation.so not built (CRM_PLUGIN_SEGMENTATION=OFF): skipped"
  echo "0 passed, 0 failed"
  exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-seg-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }
T=2024-06-01T00:00:00Z
TS=1717200000

write_config() { # $1: plugins list
  cat >crm.yaml <<YAML
database: crm.db
plugins: [$1]
YAML
  if [ -n "$1" ]; then
    cat >>crm.yaml <<'YAML'
segmentation:
  rfm:
    window_days: 365
    currency: EUR
  segments:
    - {name: Big Spenders, where: "monetary >= 50000"}
    - {name: Regulars, where: "orders_90d >= 2 or tag = vip"}
    - {name: Test List, static: true}
    - {name: Lua Whales, lua: "seg.lua:whale"}
YAML
  fi
}

# Lua rules for the predicate segment, a dry-run alternative, a runaway one
# and a churn score override (FILE:FN, relative to the working directory).
cat >seg.lua <<'LUA'
function whale(c)
  local spent = c.total_spent or 0
  if spent >= 50000 then return true, {"spent " .. spent} end
  return false
end
function small_whale(c) return (c.total_spent or 0) >= 20000 end
function spin(c) while true do end end
function churn_score(c) return 42, {"lua says " .. (c.external_id or "?")} end
LUA

# ---- disabled: nothing of the plugin exists -------------------------------------
write_config ""
"$CRM" init --quiet >/dev/null 2>&1; check "init without plugin" test $? -eq 0
"$CRM" rfm list >/dev/null 2>"$dir/err"
check "disabled: crm rfm is an unknown command (exit 2)" test $? -eq 2
"$CRM" segmentation rfm list >/dev/null 2>"$dir/err"
check "disabled: crm segmentation is an unknown command (exit 2)" test $? -eq 2
check "disabled: --help lists no plugin command" test -z "$("$CRM" --help | grep 'rfm refresh')"
check "disabled: no segmentation_* table" test "$(python3 -c '
import sqlite3; c=sqlite3.connect("crm.db")
print(c.execute("select count(*) from sqlite_master where name like \"segmentation%\"").fetchone()[0])')" = 0
rm -f crm.db*

# ---- enabled ------------------------------------------------------------------------
write_config segmentation
"$CRM" init --quiet >/dev/null 2>"$dir/err"; check "init with plugin: $(cat "$dir/err")" test $? -eq 0
check "enabled: tables exist" test "$(python3 -c '
import sqlite3; c=sqlite3.connect("crm.db")
print(c.execute("select count(*) from sqlite_master where type=\"table\" and name like \"segmentation_%\"").fetchone()[0])')" = 7

# ---- top-level nouns and their help --------------------------------------------------
check "--help lists the plugin nouns" grep -q '^  rfm refresh' <<<"$("$CRM" --help)"
check "--help lists crm metrics" grep -q '^  metrics ' <<<"$("$CRM" --help)"
out=$("$CRM" rfm --help); check "crm rfm --help lists its verbs" test $? -eq 0
check "rfm verbs: $out" test "$(grep -c '^  rfm \(refresh\|list\|show\|grid\) ' <<<"$out")" -eq 4
out=$("$CRM" segment --help)
check "segment verbs" test "$(grep -c '^  segment \(list\|members\|refresh\|explain\|diff\|add\|remove\|history\) ' <<<"$out")" -eq 8
check "churn verbs" test "$("$CRM" churn --help | grep -c '^  churn \(list\|show\|refresh\) ')" -eq 3
check "crm rfm show --help" grep -q 'usage: crm rfm show CONTACT' <<<"$("$CRM" rfm show --help)"
"$CRM" rfm nope >/dev/null 2>&1; check "unknown verb of a plugin noun: exit 2" test $? -eq 2
"$CRM" nosuchnoun >/dev/null 2>&1; check "unknown noun: exit 2" test $? -eq 2
check "crm plugins --json lists the nouns" python3 -c '
import json,sys
p=json.loads(sys.stdin.readline()); c=[(x.get("noun"),x["verb"]) for x in p["commands"]]
assert ("rfm","refresh") in c and ("segment","members") in c and ("churn","list") in c and ("metrics",None) in c, c' <<<"$("$CRM" --json plugins)"

# A generated data set: 40 contacts, orders over two years, every status, ties.
python3 - "$TS" >"$dir/gen.sh" <<'PY'
import random, sys, datetime
T = int(sys.argv[1]); rnd = random.Random(7)
def iso(t): return datetime.datetime.utcfromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
for i in range(1, 41):
    print(f'"$CRM" contact add --external-id c{i} --email c{i}@example.com --last-name N{i} >/dev/null')
for i in range(1, 41):
    n = rnd.choice([0, 1, 1, 2, 3, 5])
    for k in range(n):
        age = rnd.choice([1, 3, 3, 10, 40, 100, 200, 364, 366, 500])
        t = T - age * 86400 - rnd.choice([0, 3600, 86399])
        total = rnd.choice(["10", "25", "25", "100", "480.50"])
        st = rnd.choice(["placed", "paid", "paid", "cancelled", "refunded"])
        cur = "USD" if rnd.random() < 0.05 else "EUR"
        print(f'"$CRM" order add --contact ext:c{i} --total {total} --currency {cur} --placed-at {iso(t)} --status {st} >/dev/null')
# a future order (after T) never counts as of T
print(f'"$CRM" order add --contact ext:c1 --total 999 --placed-at {iso(T + 86400)} --status paid >/dev/null')
PY
CRM="$CRM" bash "$dir/gen.sh" 2>"$dir/gen.err"
check "data generated: $(head -3 "$dir/gen.err")" test ! -s "$dir/gen.err"

"$CRM" --as-of $T rfm refresh >/dev/null 2>"$dir/err"
check "rfm refresh: $(cat "$dir/err")" test $? -eq 0
"$CRM" --as-of $T --json rfm list >"$dir/list1.json" 2>"$dir/err"
check "rfm list --json" test $? -eq 0

# The independent reference, from the definition, with window functions.
cat >"$dir/ref.py" <<'PY'
import json, sqlite3, sys
T, W = int(sys.argv[1]), 365
db = sqlite3.connect("crm.db")
rows = db.execute("""
WITH q AS (SELECT contact_id, placed_at, total FROM orders
           WHERE status IN ('placed','paid') AND placed_at < :T AND placed_at >= :T - :W * 86400
             AND currency = 'EUR'),
     a AS (SELECT contact_id, (:T - max(placed_at)) / 86400 AS rd, count(*) AS fr, sum(total) AS mo
           FROM q GROUP BY contact_id),
     n AS (SELECT count(*) AS n FROM a)
SELECT contact_id, rd, fr, mo,
       1 + (5 * (rank() OVER (ORDER BY rd DESC) - 1)) / n,
       1 + (5 * (rank() OVER (ORDER BY fr) - 1)) / n,
       1 + (5 * (rank() OVER (ORDER BY mo) - 1)) / n
FROM a, n ORDER BY contact_id""", {"T": T, "W": W}).fetchall()
grid = [("champions",5,5,4,5),("loyal",3,4,4,5),("potential_loyalists",4,5,2,3),("new",5,5,1,1),
        ("promising",4,4,1,1),("need_attention",3,3,3,3),("about_to_sleep",3,3,1,2),
        ("at_risk",1,2,3,4),("cant_lose_them",1,2,5,5),("hibernating",1,2,1,2)]
def seg(r, f):
    for s, a, b, c, d in grid:
        if a <= r <= b and c <= f <= d: return s
mine = {o["contact_id"]: o for o in map(json.loads, open(sys.argv[2]))}
bad = 0
for cid, rd, fr, mo, r, f, m in rows:
    o = mine.pop(cid, None)
    want = (rd, fr, mo, r, f, m, seg(r, f))
    got = o and (o["recency_days"], o["frequency"], o["monetary"], o["r"], o["f"], o["m"], o["segment"])
    if want != got: bad += 1; print("contact", cid, "want", want, "got", got)
for cid in mine: bad += 1; print("contact", cid, "scored but has no qualifying order")
print("ok" if bad == 0 and rows else f"{bad} mismatches of {len(rows)}")
PY
res=$(python3 "$dir/ref.py" $TS "$dir/list1.json")
check "RFM equals the independent SQL for every contact: $res" test "$res" = ok
check "ties exist in the data set" test "$(python3 -c '
import json,sys; r=[json.loads(l)["frequency"] for l in open(sys.argv[1])]; print(len(r) > len(set(r)))' "$dir/list1.json")" = True

# as-of reproducibility: the same refresh twice gives the same scores
"$CRM" --as-of $T rfm refresh >/dev/null 2>&1
"$CRM" --as-of $T --json rfm list >"$dir/list2.json"
check "as-of refresh is reproducible" cmp -s "$dir/list1.json" "$dir/list2.json"
# a repeated refresh writes only what changed: here nothing, so no segment event either
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect("crm.db").execute(sys.argv[1]).fetchone()[0])' "$1"; }
ev_before=$(sql "SELECT count(*) FROM events WHERE type LIKE 'segment.%'")
out=$("$CRM" --as-of $T --json rfm refresh 2>/dev/null)
check "repeat refresh changes no row: $out" python3 -c '
import json,sys; o=json.loads(sys.argv[1]); assert o["changed"]==0 and o["contacts"]>0, o' "$out"
check "repeat refresh emits no segment event" test "$(sql "SELECT count(*) FROM events WHERE type LIKE 'segment.%'")" = "$ev_before"
# an hour later few rows change; unchanged ones are shown as of the latest refresh
out=$("$CRM" --as-of 2024-06-01T01:00:00Z --json rfm refresh 2>/dev/null)
check "refresh an hour later: only changed rows ($out)" python3 -c '
import json,sys; o=json.loads(sys.argv[1]); assert o["changed"]<o["contacts"], o' "$out"
check "rfm show: as_of of the latest refresh for an unchanged row" python3 -c '
import json,sys; o=json.loads(sys.argv[1]); assert o["as_of"]==1717203600, o' "$("$CRM" --json rfm show ext:c1 2>&1)"
check "open RFM memberships = stored segments" test "$(sql "SELECT (SELECT count(*) FROM (SELECT contact_id, segment FROM segmentation_rfm WHERE segment IS NOT NULL EXCEPT SELECT contact_id, segment FROM segmentation_members WHERE kind = 'rfm' AND left_at IS NULL)) + (SELECT count(*) FROM (SELECT contact_id, segment FROM segmentation_members WHERE kind = 'rfm' AND left_at IS NULL EXCEPT SELECT contact_id, segment FROM segmentation_rfm))")" = 0
"$CRM" --as-of $T rfm refresh >/dev/null 2>&1
"$CRM" --as-of $T --json rfm list >"$dir/list2c.json"
check "back to T: the same scores" cmp -s "$dir/list1.json" "$dir/list2c.json"
# the old `crm segmentation <noun> <verb>` aliases are gone (exit 2)
"$CRM" --as-of $T --json segmentation rfm list >/dev/null 2>&1
check "crm segmentation rfm list: no alias any more (exit 2)" test $? -eq 2
# option tables: the host parses, refuses unknown options (exit 2), prints --help
"$CRM" rfm list --bogus >/dev/null 2>"$dir/err"
check "rfm list --bogus: exit 2" test $? -eq 2
check "rfm list --bogus: names the option" grep -q -- "--bogus" "$dir/err"
"$CRM" churn list --min-score many >/dev/null 2>"$dir/err"
check "churn list --min-score many: exit 2 (not an integer)" test $? -eq 2
"$CRM" segment explain big_spenders >/dev/null 2>"$dir/err"
check "segment explain without --contact: exit 2" test $? -eq 2
check "segment explain without --contact: names it" grep -q -- "--contact" "$dir/err"
"$CRM" rfm show >/dev/null 2>&1
check "rfm show without CONTACT: exit 2" test $? -eq 2
"$CRM" metrics --period-days 30 --bogus >/dev/null 2>&1
check "metrics --bogus: exit 2" test $? -eq 2
help=$("$CRM" rfm list --help 2>&1)
check "rfm list --help: exit 0" test $? -eq 0
check "rfm list --help lists --segment and --fresh from the table" python3 -c '
import sys; h=sys.argv[1]; assert "--segment SLUG" in h and "--fresh" in h, h' "$help"
"$CRM" --as-of $T --json rfm list --fresh >"$dir/list3.json"
check "fresh computation equals the stored one" cmp -s "$dir/list1.json" "$dir/list3.json"

# window/status: a contact with only an old order, one with only cancelled ones
"$CRM" contact add --external-id old --email old@example.com >/dev/null 2>&1
"$CRM" order add --contact ext:old --total 50 --placed-at 2022-01-01T00:00:00Z --status paid >/dev/null 2>&1
"$CRM" contact add --external-id canc --email canc@example.com >/dev/null 2>&1
"$CRM" order add --contact ext:canc --total 50 --placed-at 2024-05-01T00:00:00Z --status cancelled >/dev/null 2>&1
"$CRM" --as-of $T rfm refresh >/dev/null 2>&1
"$CRM" --as-of $T --json rfm list >"$dir/list4.json"
check "outside the window: not scored" test -z "$(grep '"external_id":"old"' "$dir/list4.json")"
check "cancelled only: not scored" test -z "$(grep '"external_id":"canc"' "$dir/list4.json")"
"$CRM" --as-of 2022-06-01T00:00:00Z --json rfm list --fresh >"$dir/list5.json"
check "as of 2022 the old order counts" grep -q '"external_id":"old"' "$dir/list5.json"

# ---- incremental updates after order events ---------------------------------------------
freq() { "$CRM" --as-of $T --json rfm list | python3 -c '
import json,sys
for l in sys.stdin:
    o=json.loads(l)
    if o["external_id"]==sys.argv[1]: print(o["frequency"], o["monetary"], o["segment"])' "$1"; }
"$CRM" contact add --external-id inc --email inc@example.com >/dev/null 2>&1
oid=$("$CRM" --as-of $T order add --contact ext:inc --total 100 --placed-at 2024-05-31T12:00:00Z 2>/dev/null | grep -o '[0-9]*' | head -1)
check "placed: scored at once ($(freq inc))" test "$(freq inc | cut -d' ' -f1,2)" = "1 10000"
"$CRM" --as-of $T order add --contact ext:inc --total 20 --placed-at 2024-05-30T12:00:00Z --status paid >/dev/null 2>&1
check "second order: frequency 2" test "$(freq inc | cut -d' ' -f1,2)" = "2 12000"
"$CRM" --as-of $T order set-status "$oid" paid >/dev/null 2>&1
check "paid: still counted" test "$(freq inc | cut -d' ' -f1,2)" = "2 12000"
"$CRM" --as-of $T order set-status "$oid" refunded >/dev/null 2>"$dir/err"
check "refunded: taken out ($(cat "$dir/err"))" test "$(freq inc | cut -d' ' -f1,2)" = "1 2000"
oid2=$("$CRM" --as-of $T order add --contact ext:inc --total 30 --placed-at 2024-05-29T12:00:00Z 2>/dev/null | grep -o '[0-9]*' | head -1)
"$CRM" --as-of $T order set-status "$oid2" cancelled >/dev/null 2>&1
check "cancelled: taken out" test "$(freq inc | cut -d' ' -f1,2)" = "1 2000"
"$CRM" --json events tail --type 'segment.*' --limit 0 >"$dir/ev.json" 2>/dev/null
check "segment.entered events carry contact and segment" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(r["type"]=="segment.entered" and "contact_id" in r["payload"] and "segment" in r["payload"] for r in rows)' "$dir/ev.json"

# ---- rule segments: history, events, explain, diff ------------------------------------------
"$CRM" --as-of $T segment refresh >"$dir/out" 2>"$dir/err"
check "segment refresh: $(cat "$dir/err")" test $? -eq 0
n_big=$("$CRM" --json segment members big_spenders | wc -l)
check "big spenders has members" test "$n_big" -gt 0
"$CRM" contact add --external-id whale --email whale@example.com >/dev/null 2>&1
wid=$("$CRM" --as-of $T order add --contact ext:whale --total 900 --placed-at 2024-05-20T00:00:00Z --status paid 2>/dev/null | grep -o '[0-9]*' | head -1)
check "whale entered Big Spenders on the order event" \
  test "$("$CRM" --json segment members big_spenders | grep -c '"whale"')" -eq 1
"$CRM" --as-of $T order set-status "$wid" refunded >/dev/null 2>&1
check "whale left on refund" \
  test "$("$CRM" --json segment members big_spenders | grep -c '"whale"')" -eq 0
"$CRM" --json segment history big_spenders >"$dir/hist.json"
check "history keeps entered_at and left_at" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert any(r["left_at"] is not None for r in rows) and any(r["left_at"] is None for r in rows)' "$dir/hist.json"
"$CRM" --json events tail --type 'segment.left' --limit 0 >"$dir/ev2.json" 2>/dev/null
check "segment.left emitted" grep -q big_spenders "$dir/ev2.json"

out=$("$CRM" --as-of $T segment explain big_spenders --contact ext:whale 2>&1)
check "explain says which condition held: $out" grep -q '\[ \] monetary >= 50000' <<<"$out"

snap() { python3 -c '
import sqlite3, hashlib
c=sqlite3.connect("crm.db"); h=hashlib.sha1()
for t in ("segmentation_members","segmentation_rfm","events"):
    for r in c.execute(f"select * from {t} order by 1"): h.update(repr(r).encode())
print(h.hexdigest())'; }
before=$(snap)
echo "monetary >= 1000" >"$dir/rule.txt"
"$CRM" --as-of $T segment diff big_spenders --rule "$dir/rule.txt" >"$dir/diff" 2>"$dir/err"
check "diff runs: $(cat "$dir/err")" test $? -eq 0
check "diff prints who would enter" grep -q '^enter ' "$dir/diff"
check "diff changes nothing" test "$before" = "$(snap)"

"$CRM" segment add test_list ext:c1 ext:c2 >/dev/null 2>&1
check "static add" test "$("$CRM" --json segment members test_list | wc -l)" -eq 2
"$CRM" segment remove test_list ext:c1 >/dev/null 2>&1
check "static remove" test "$("$CRM" --json segment members test_list | wc -l)" -eq 1
"$CRM" segment add big_spenders ext:c1 >/dev/null 2>&1
check "add to a rule segment is refused (exit 1)" test $? -eq 1

# ---- a Lua predicate segment ------------------------------------------------------------
"$CRM" --as-of $T segment refresh lua_whales >"$dir/out" 2>"$dir/err"
check "lua segment refresh: $(cat "$dir/err")" test $? -eq 0
lua_ref() { python3 -c '
import sqlite3,sys
c=sqlite3.connect("crm.db"); T=int(sys.argv[1])
print(" ".join(str(r[0]) for r in c.execute("""select contact_id from orders where status in
 (?, ?) and placed_at <= ? group by contact_id having sum(total) >= 50000
 order by contact_id""", ("placed", "paid", T))))' $TS; }
lua_members() { "$CRM" --json segment members lua_whales | python3 -c '
import json,sys; print(" ".join(str(json.loads(l)["contact_id"]) for l in sys.stdin))'; }
ref=$(lua_ref)
check "lua segment = contacts with total_spent >= 50000 ($ref)" test "$(lua_members)" = "$ref" -a -n "$ref"
check "segment list shows the lua kind" grep -q '^lua_whales *lua ' <<<"$("$CRM" segment list)"
"$CRM" contact add --external-id orca --email orca@example.com >/dev/null 2>&1
oid=$("$CRM" --as-of $T order add --contact ext:orca --total 800 --placed-at 2024-05-21T00:00:00Z --status paid 2>/dev/null | grep -o '[0-9]*' | head -1)
check "orca entered the Lua segment on the order event" grep -q '"orca"' <<<"$("$CRM" --json segment members lua_whales)"
out=$("$CRM" --as-of $T segment explain lua_whales --contact ext:orca 2>&1)
check "explain shows the Lua reasons: $out" grep -q 'spent 80000' <<<"$out"
"$CRM" --as-of $T order set-status "$oid" refunded >/dev/null 2>&1
check "orca left the Lua segment on refund" test -z "$("$CRM" --json segment members lua_whales | grep '"orca"')"
check "lua segment history has orca's left_at" python3 -c '
import json,sys
rows=[json.loads(l) for l in sys.stdin]
assert any(r["left_at"] is not None for r in rows), rows' <<<"$("$CRM" --json segment history lua_whales)"
before=$(snap)
"$CRM" --as-of $T segment diff lua_whales --rule seg.lua:small_whale >"$dir/diff" 2>"$dir/err"
check "lua diff runs: $(cat "$dir/err")" test $? -eq 0
check "lua diff prints who would enter" grep -q '^enter ' "$dir/diff"
check "lua diff changes nothing" test "$before" = "$(snap)"
"$CRM" --as-of $T segment diff lua_whales --rule seg.lua:spin >/dev/null 2>"$dir/err"
check "a runaway rule fails (exit 1)" test $? -eq 1
check "its cause is named: $(cat "$dir/err")" grep -q 'instructions' "$dir/err"

# ---- churn ---------------------------------------------------------------------------------
"$CRM" contact add --external-id ch --email ch@example.com >/dev/null 2>&1
for d in 2023-10-01 2023-11-01 2023-12-01; do
  "$CRM" order add --contact ext:ch --total 40 --placed-at ${d}T10:00:00Z --status paid >/dev/null 2>&1
done
"$CRM" interaction log --contact ext:ch --channel web --direction in --subject "visit /returns" --at 2024-05-20T10:00:00Z >/dev/null 2>&1
for d in 10 15 20 25; do
  "$CRM" interaction log --contact ext:ch --channel email --direction out --subject "news" --at 2024-05-${d}T10:00:00Z >/dev/null 2>&1
done
"$CRM" --as-of $T --json churn show ext:ch >"$dir/churn.json" 2>"$dir/err"
check "churn show: $(cat "$dir/err")" test $? -eq 0
check "churn reasons: inactivity past own cycle, low engagement, returns page" python3 -c '
import json,sys
o=json.load(open(sys.argv[1])); codes={r["code"] for r in o["reasons"]}
assert codes=={"inactivity","low_engagement","signal:returns_page"}, codes
assert o["score"]==sum(r["points"] for r in o["reasons"])
assert "30-day" in [r for r in o["reasons"] if r["code"]=="inactivity"][0]["text"]' "$dir/churn.json"
sed 's/^  segments:/  churn:\n    rule: seg.lua:churn_score\n  segments:/' crm.yaml >alt.yaml
"$CRM" --config alt.yaml --as-of $T --json churn show ext:ch >"$dir/churn2.json" 2>"$dir/err"
check "churn.rule overrides the score: $(cat "$dir/err")" python3 -c '
import json,sys
o=json.load(open(sys.argv[1]))
assert o["score"]==42 and o["reasons"][0]["text"]=="lua says ch" and o["level"]==1, o' "$dir/churn2.json"
"$CRM" --as-of $T churn refresh >/dev/null 2>&1
check "churn.risk_raised emitted with lifetime value" test "$("$CRM" --json events tail --type churn.risk_raised --limit 0 | grep -c lifetime_value)" -gt 0
check "churn list --min-score" test "$("$CRM" --json churn list --min-score 1 | grep -c '"contact_id"')" -gt 0

# ---- grid and metrics ------------------------------------------------------------------------
"$CRM" --json rfm grid >"$dir/grid.json" 2>&1
check "grid counts all scored contacts" python3 -c '
import json,sys
g=json.load(open(sys.argv[1])); assert sum(map(sum,g["matrix_r5_to_r1_by_f1_to_f5"]))==g["customers"]>0' "$dir/grid.json"
"$CRM" --as-of $T --json metrics >"$dir/metrics.json" 2>&1
check "metrics" python3 -c '
import json,sys
m=json.load(open(sys.argv[1])); assert m["customers"]>0 and 0<=m["top20_revenue_share"]<=1' "$dir/metrics.json"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

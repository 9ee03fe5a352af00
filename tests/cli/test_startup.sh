#!/usr/bin/env bash
# Starting crm: what happens before any command touches data. A refused start
# (missing plugin, bad plugin settings, unknown time zone) writes nothing; a
# plugin that failed says so for its own commands; plugins are found relative
# to the executable; a mistyped command gets a suggestion.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-startup-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_PLUGIN_PATH
HAVE_SEG=0
[ -f "$BUILD/plugins/segmentation.so" ] && HAVE_SEG=1

# ---- locale.timezone against the system tz database ----------------------
printf 'database: tz.db\nlocale:\n  timezone: Mars/Olympus\n' >crm.yaml
assert_exit 1 "$CRM" init
assert_contains "$ERR" "crm.yaml:3:" "unknown zone: position"
assert_contains "$ERR" "Mars/Olympus" "unknown zone: named"
assert_eq "no" "$([ -e tz.db ] && echo yes || echo no)" "unknown zone: no database"
# also when the default calendar names its own zone, so none follows locale's
printf 'database: tz.db\nlocale:\n  timezone: Mars/Olympus\ncalendars:\n  default:\n    timezone: Europe/Paris\n' >crm.yaml
assert_exit 1 "$CRM" contact list
assert_contains "$ERR" "crm.yaml:3:" "unknown zone beside an own default calendar: position"
assert_eq "no" "$([ -e tz.db ] && echo yes || echo no)" "unknown zone: still no database"
printf 'database: tz.db\nlocale:\n  timezone: America/Sao_Paulo\n' >crm.yaml
assert_exit 0 "$CRM" init

# ---- plugins found relative to the executable ----------------------------
if [ "$HAVE_SEG" = 1 ]; then
    # the build layout (core/crm beside plugins/) and the installed one
    # (bin/crm beside lib/crm/plugins), both copied away from the build tree
    mkdir -p copy/core copy/plugins inst/bin inst/lib/crm/plugins
    cp "$CRM" copy/core/crm && cp "$BUILD/plugins/segmentation.so" copy/plugins/
    cp "$CRM" inst/bin/crm && cp "$BUILD/plugins/segmentation.so" inst/lib/crm/plugins/
    printf 'database: copy.db\nplugins: [segmentation]\n' >crm.yaml
    assert_exit 0 copy/core/crm init
    assert_exit 0 copy/core/crm plugins --json
    assert_contains "$OUT" "\"file\":\"$dir/copy/plugins/segmentation.so\"" "copied build tree"
    assert_exit 0 inst/bin/crm plugins --json
    assert_contains "$OUT" "\"file\":\"$dir/inst/lib/crm/plugins/segmentation.so\"" "copied prefix"
    assert_exit 0 inst/bin/crm rfm refresh --as-of 2026-01-01
    rm copy/plugins/segmentation.so
    assert_exit 1 copy/core/crm plugins
    assert_contains "$ERR" "$dir/copy/plugins" "not found: says where it looked"
    assert_not_contains "$ERR" "$BUILD/plugins" "the build tree is not searched from a copy"
fi

# ---- a refused start writes nothing ----------------------------------------
tables() { python3 -c 'import sqlite3,sys; print(" ".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master where type=\"table\" order by 1")))' "$1"; }
printf 'database: r.db\nplugins: [no_such_plugin]\n' >crm.yaml
for cmd in "init" "demo --contacts 10 --orders 10" "contact list" "contact add --email a@b.fr"; do
    # shellcheck disable=SC2086
    assert_exit 1 "$CRM" $cmd
    assert_contains "$ERR" "no_such_plugin" "$cmd: names the plugin"
    assert_eq "" "$(ls r.db* 2>/dev/null)" "$cmd: no database file"
done
# demo --force does not delete the old data for a start that is refused
printf 'database: r.db\nplugins: []\n' >crm.yaml
assert_exit 0 "$CRM" init
assert_exit 0 "$CRM" contact add --email kept@example.fr
printf 'database: r.db\nplugins: [no_such_plugin]\n' >crm.yaml
assert_exit 1 "$CRM" demo --contacts 10 --orders 10 --force
printf 'database: r.db\nplugins: []\n' >crm.yaml
assert_exit 0 "$CRM" contact show kept@example.fr
rm -f r.db*
if [ "$HAVE_SEG" = 1 ]; then
    export CRM_PLUGIN_PATH="$BUILD/plugins"
    # settings the plugin refuses in start (after registration): still no file
    printf 'database: r.db\nplugins: [segmentation]\nsegmentation:\n  rfm:\n    grid: "no grid"\n' >crm.yaml
    assert_exit 1 "$CRM" init
    assert_contains "$ERR" "crm.yaml:5:5: segmentation.rfm.grid" "start refusal: position"
    assert_eq "" "$(ls r.db* 2>/dev/null)" "start refusal: no database file"
    # an existing kernel-only database is not upgraded by a refused start
    printf 'database: r.db\nplugins: []\n' >crm.yaml
    assert_exit 0 "$CRM" init
    before=$(tables r.db)
    printf 'database: r.db\nplugins: [segmentation]\nsegmentation:\n  rfm:\n    window_days: -1\n' >crm.yaml
    assert_exit 1 "$CRM" init
    assert_eq "$before" "$(tables r.db)" "refused start: no plugin tables"
    assert_not_contains "$(tables r.db)" "segmentation_" "refused start: no segmentation_*"
    rm -f r.db*

    # ---- a failed plugin answers for its own commands -----------------------
    printf 'database: r.db\nplugins: [segmentation]\n' >crm.yaml
    assert_exit 0 "$CRM" init
    printf 'database: r.db\nplugins: [segmentation]\nsegmentation:\n  rfm:\n    window_days: -1\n' >crm.yaml
    assert_exit 1 "$CRM" segment list
    assert_contains "$ERR" "crm.yaml:5:5: segmentation.rfm.window_days" "segment list: the plugin's error"
    assert_not_contains "$ERR" "unknown command" "segment list: not an unknown command"
    assert_not_contains "$ERR" "commands:" "segment list: no help dump"
    assert_exit 1 "$CRM" rfm --help
    assert_contains "$ERR" "segmentation.rfm.window_days" "rfm --help: the plugin's error"
    printf 'database: r.db\nplugins: [segmentation]\nsegmentation:\n  churn:\n    min_emails: lots\n' >crm.yaml
    assert_exit 1 "$CRM" churn list
    assert_contains "$ERR" "crm.yaml:5:5: segmentation.churn.min_emails" "type error: position"
    printf 'database: r.db\nplugins: [segmentation]\nsegmentation:\n  churn_days: 30\n' >crm.yaml
    assert_exit 1 "$CRM" segment list
    assert_contains "$ERR" "crm.yaml:4:3: unknown key 'churn_days' in 'segmentation' — valid keys: rfm, segments, churn" \
      "unknown key: each valid key once"
    # a plugin that cannot even load is named for any noun nobody claims
    printf 'database: r.db\nplugins: [segmentation, no_such_plugin]\n' >crm.yaml
    assert_exit 1 "$CRM" rfm list
    assert_contains "$ERR" "no_such_plugin.so not found" "rfm with a missing plugin"
    assert_exit 1 "$CRM" zebras list  # far from every kernel noun (tickets is near timers)
    assert_contains "$ERR" "plugin 'no_such_plugin' failed to start" "unclaimed noun: names the failed plugin"
    rm -f r.db*
    assert_exit 1 "$CRM" segment list
    assert_eq "" "$(ls r.db* 2>/dev/null)" "failed plugin commands: no database file"
    unset CRM_PLUGIN_PATH
fi

# ---- did you mean ------------------------------------------------------------
printf 'database: r.db\nplugins: []\n' >crm.yaml
assert_exit 2 "$CRM" contatc list
assert_contains "$ERR" "Did you mean \`crm contact\`?" "contatc"
assert_exit 2 "$CRM" contact lsit
assert_contains "$ERR" "Did you mean \`crm contact list\`?" "contact lsit"
assert_exit 2 "$CRM" calender show
assert_contains "$ERR" "Did you mean \`crm calendar\`?" "calender"
assert_exit 2 "$CRM" xyzzy
assert_not_contains "$ERR" "Did you mean" "nothing near xyzzy"
if [ "$HAVE_SEG" = 1 ]; then
    # a shipped plugin that crm.yaml does not enable provides the noun
    assert_exit 2 "$CRM" rfm list
    assert_contains "$ERR" "command of the segmentation plugin, which crm.yaml does not enable" "rfm: which plugin"
    assert_contains "$ERR" "plugins: [segmentation]" "rfm: how to enable"
    assert_exit 2 "$CRM" metrics
    assert_contains "$ERR" "segmentation plugin" "metrics: which plugin"
    # and a mistyped verb of an enabled plugin's noun
    printf 'database: r.db\nplugins: [segmentation]\n' >crm.yaml
    CRM_PLUGIN_PATH="$BUILD/plugins" assert_exit 0 "$CRM" init
    CRM_PLUGIN_PATH="$BUILD/plugins" assert_exit 2 "$CRM" rfm refesh
    assert_contains "$ERR" "Did you mean \`crm rfm refresh\`?" "rfm refesh"
    CRM_PLUGIN_PATH="$BUILD/plugins" assert_exit 2 "$CRM" segmnt list
    assert_contains "$ERR" "Did you mean \`crm segment\`?" "segmnt: a plugin noun"
    CRM_PLUGIN_PATH="$BUILD/plugins" assert_exit 2 "$CRM" contatc list
    assert_contains "$ERR" "Did you mean \`crm contact\`?" "contatc with plugins loaded"
    rm -f r.db*
fi

# ---- the shipped crm.yaml enables every shipped plugin; demo headlines ---------
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
if [ "$HAVE_SEG" = 1 ]; then
    mkdir -p shipped && cp "$SRC/crm.yaml" shipped/ && cp -r "$SRC/scripts" shipped/
    ( cd shipped && "$CRM" --as-of 2026-06-30 --json demo --contacts 400 --orders 4000 ) >demo.json 2>demo.err
    assert_eq 0 "$?" "demo with the shipped crm.yaml: $(cat demo.err)"
    assert_eq ok "$(python3 - demo.json shipped/crm.db <<'PY'
import json, sqlite3, sys
s = json.load(open(sys.argv[1])); db = sqlite3.connect(sys.argv[2])
seg = s["modules"]["segmentation"]
# the default grid, applied to the stored scores independently of the plugin
grid = [("Champions", (5, 5), (4, 5)), ("Loyal", (3, 4), (4, 5)), ("Potential Loyalists", (4, 5), (2, 3)),
        ("New", (5, 5), (1, 1)), ("Promising", (4, 4), (1, 1)), ("Need Attention", (3, 3), (3, 3)),
        ("About to Sleep", (3, 3), (1, 2)), ("At Risk", (1, 2), (3, 4)), ("Can't Lose Them", (1, 2), (5, 5)),
        ("Hibernating", (1, 2), (1, 2))]
want = {n: 0 for n, _, _ in grid}
rows = db.execute("select r, f from segmentation_rfm").fetchall()
for r, f in rows:
    for n, (rl, rh), (fl, fh) in grid:
        if rl <= r <= rh and fl <= f <= fh:
            want[n] += 1; break
got = {x["name"]: x["customers"] for x in seg["rfm"]["segments"]}
buyers = db.execute("select count(distinct contact_id) from orders where status in ('placed', 'paid') and currency = 'EUR' and placed_at >= strftime('%s','2025-06-30') and placed_at < strftime('%s','2026-06-30')").fetchone()[0]
alerts = {a["min_score"]: a["contacts"] for a in seg["churn"]["alerts"]}
checks = {
  "segments": got == want and sum(got.values()) == len(rows) > 0,
  "customers": seg["rfm"]["customers"] == len(rows) == buyers,
  "alerts40": alerts.get(40) == db.execute("select count(*) from segmentation_churn where score >= 40").fetchone()[0] > 0,
  "alerts70": alerts.get(70) == db.execute("select count(*) from segmentation_churn where score >= 70").fetchone()[0],
  "churn": seg["churn"]["customers"] == db.execute("select count(distinct contact_id) from orders where placed_at < strftime('%s','2026-06-30')").fetchone()[0],
}
# loyalty: members per tier from its table; every paid EUR order of 1.00 EUR
# or more earned through the order event path, exactly once
loy = s["modules"]["loyalty"]
levels = ["bronze", "silver", "gold"]
tiers = {levels[t]: n for t, n in db.execute("select tier, count(*) from loyalty_members group by tier")}
paid = db.execute("select count(*) from orders where status = 'paid' and currency = 'EUR' and total >= 100").fetchone()[0]
earned = db.execute("select count(*) from loyalty_ops p join orders o on o.id = p.order_id where p.kind = 'order' and o.status = 'paid' and o.total >= 100").fetchone()[0]
checks["loyalty_tiers"] = {k: v for k, v in loy["members_per_tier"].items() if v} == tiers and len(tiers) > 1
checks["loyalty_earned"] = earned == paid > 0
# pipeline: figures from its tables; the weighted open pipeline from the
# shipped b2b stage probabilities, rounded half away from zero per deal
pl = s["modules"]["pipeline"]
one = lambda q: db.execute(q).fetchone()[0]
prob = {"qualification": 10, "proposal": 40, "negotiation": 70}
opens = db.execute("select stage, amount from pipeline_deals where pipeline = 'b2b' and status = 'open'").fetchall()
weighted = sum((a * prob[st] + 50) // 100 for st, a in opens)
as_of = int(one("select strftime('%s', '2026-06-30')"))
checks["pipeline_counts"] = [pl[k] for k in ("deals", "won", "lost", "open")] == [
    one("select count(*) from pipeline_deals")] + [one("select count(*) from pipeline_deals where status = '%s'" % x)
    for x in ("won", "lost", "open")] and min(pl["won"], pl["lost"], pl["open"]) > 0
checks["pipeline_open"] = pl["open_pipeline"]["amount"] == sum(a for _, a in opens) and pl["open_pipeline"]["weighted"] == weighted > 0
# the next 90 days' forecast: open b2b deals closing then, by stage category
fc = pl["forecast"]
closing = db.execute("select stage, amount from pipeline_deals where pipeline = 'b2b' and status = 'open'"
                     " and close_date between ? and ?", (fc["from"], fc["to"])).fetchall()
cat = {"qualification": "pipeline", "proposal": "best_case", "negotiation": "commit"}
checks["pipeline_forecast"] = (fc["from"], fc["count"], fc["weighted"]) == (
    "2026-06-30", len(closing), sum((a * prob[st] + 50) // 100 for st, a in closing)) and all(
    fc[c] == sum(a for st, a in closing if cat[st] == c) for c in ("commit", "best_case", "pipeline")) and fc["count"] > 0
# a year of history, each deal's moves in order and in the past
checks["pipeline_history"] = one("select min(created_at) from pipeline_deals") < as_of - 300 * 86400 and one(
    "select count(*) from pipeline_deal_history h join pipeline_deals d on d.id = h.deal_id"
    " where h.at < d.created_at or h.at > %d" % as_of) == 0 and one(
    "select count(*) from pipeline_deals d where status <> 'open' and closed_at <> (select max(at)"
    " from pipeline_deal_history h where h.deal_id = d.id and field = 'status')") == 0
# each flag raised gave the owner a task; a deal still stalled has one (an
# interaction delivered later may have cleared the flag since)
checks["pipeline_stalled"] = pl["stalled"] == one("select count(*) from tasks t join pipeline_deals d on"
    " t.ref = 'deal:' || d.id where t.subject like 'Stalled deal:%' and t.assignee_id is not null") > 0 and one(
    "select count(*) from pipeline_deals d where stalled = 1 and not exists (select 1 from tasks t"
    " where t.ref = 'deal:' || d.id and t.status = 'open')") == 0
checks["pipeline_quotes"] = pl["quotes_accepted"] == one("select count(*) from pipeline_quotes q join orders o on"
    " o.id = q.order_id where q.status = 'accepted' and o.total = q.net and q.decided_at <= q.valid_until"
    " and o.external_id = 'pipeline-quote-' || q.id") == one("select count(*) from pipeline_deals d where status = 'won'"
    " and exists (select 1 from pipeline_quotes q where q.deal_id = d.id)") > 0
checks["pipeline_expired"] = pl["quotes_expired"] == one("select count(*) from pipeline_quotes where status = 'expired'") and one(
    "select count(*) from pipeline_quotes q join pipeline_deals d on d.id = q.deal_id where q.status = 'draft'"
    " and (q.valid_until <= %d or d.status <> 'open')" % as_of) == 0
bad = [k for k, v in checks.items() if not v]
print("ok" if not bad else "%s: %s %s %s %s %s" % (bad, got, want, alerts, loy, pl))
PY
)" "demo headline = independent counts"
    ( cd shipped && "$CRM" --as-of 2026-06-30 demo --contacts 400 --orders 4000 --force ) >demo.txt 2>&1
    assert_contains "$(cat demo.txt)" "customers per RFM segment" "text headline"
    assert_contains "$(cat demo.txt)" "Champions" "text headline: Champions"
    assert_contains "$(cat demo.txt)" "At Risk" "text headline: At Risk"
    assert_contains "$(cat demo.txt)" "churn alerts" "text headline: churn"
    assert_contains "$(cat demo.txt)" "loyalty: members per tier: bronze" "text headline: loyalty"
    assert_contains "$(cat demo.txt)" "pipeline: " "text headline: pipeline"
    assert_contains "$(cat demo.txt)" "weighted; " "text headline: weighted pipeline"
    assert_contains "$(cat demo.txt)" "forecast 2026-06-30..2026-09-27: " "text headline: forecast"
    # the quick start then has segmentation's commands
    ( cd shipped && "$CRM" rfm list --segment champions --json ) >rfm.json 2>&1
    assert_eq "$(python3 -c 'import json,sys; print([m["customers"] for m in json.load(open(sys.argv[1]))["modules"]["segmentation"]["rfm"]["segments"] if m["segment"]=="champions"][0])' demo.json)" \
        "$(grep -c . rfm.json)" "rfm list after the demo"
fi

finish

#!/usr/bin/env bash
# The weekly snapshot timer fired by crm tick --as-of (exactly one snapshot a
# week, on Monday 00:00 UTC, however often tick runs), crm pipeline diff with
# every category (deals and amounts against the scripted changes, computed
# in python), and crm contact erase reaching the snapshot rows.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
"$CRM" contact add --email bob@example.com --first-name Bob >/dev/null
T0=2026-03-03T09:00:00Z # a Tuesday: the first snapshot is due Monday 2026-03-09
# id title amount close stage
add() { "$CRM" --as-of $T0 deal add --title "$1" --contact "$2" --amount "$3" --close-date "$4" --stage "$5" >/dev/null; }
add A 1 100 2026-04-01 qualification   # 1: forward
add B 2 200 2026-04-01 proposal        # 2: back
add C 2 300 2026-04-10 qualification   # 3: slipped
add D 2 400 2026-04-10 qualification   # 4: pulled in
add E 2 500 2026-04-10 qualification   # 5: amount up
add F 2 600 2026-04-10 qualification   # 6: amount down
add G 2 700 2026-04-10 qualification   # 7: won
add H 2 800 2026-04-10 qualification   # 8: lost
assert_exit 0 "$CRM" --as-of 2026-03-08T23:00:00Z tick
assert_eq 0 "$(pl_sql 'SELECT count(*) FROM pipeline_snapshots')" "no snapshot before Monday"
assert_exit 0 "$CRM" --as-of 2026-03-09T01:00:00Z tick
assert_exit 0 "$CRM" --as-of 2026-03-09T02:00:00Z tick
assert_exit 0 "$CRM" --as-of 2026-03-12T08:00:00Z tick
assert_eq "1" "$(pl_sql 'SELECT count(*) FROM pipeline_snapshots')" "one snapshot in the first week"
T1=2026-03-12T09:00:00Z
"$CRM" --as-of $T1 deal move 1 proposal >/dev/null
"$CRM" --as-of $T1 deal move 2 qualification >/dev/null
"$CRM" --as-of $T1 deal update 3 --close-date 2026-05-01 >/dev/null
"$CRM" --as-of $T1 deal update 4 --close-date 2026-03-20 >/dev/null
"$CRM" --as-of $T1 deal update 5 --amount 550 >/dev/null
"$CRM" --as-of $T1 deal update 6 --amount 500 >/dev/null
"$CRM" --as-of $T1 deal win 7 >/dev/null
"$CRM" --as-of $T1 deal lose 8 --reason price >/dev/null
"$CRM" --as-of $T1 deal add --title I --contact 2 --amount 900 --close-date 2026-04-30 >/dev/null # 9: new
"$CRM" --as-of $T1 deal add --title J --contact 1 --amount 1000 --close-date 2026-04-30 >/dev/null # 10: new
assert_exit 0 "$CRM" --as-of 2026-03-16T00:30:00Z tick
assert_exit 0 "$CRM" --as-of 2026-03-16T05:00:00Z tick
assert_eq "2026-03-09T01:00:00Z 2026-03-16T00:30:00Z" "$(python3 -c '
import sqlite3, datetime
rows = sqlite3.connect("crm.db").execute("select taken_at from pipeline_snapshots order by id").fetchall()
print(" ".join(datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for (t,) in rows))')" \
    "exactly one snapshot per week, taken when tick ran on Monday (UTC)"
assert_eq 1 "$(pl_sql "SELECT count(*) FROM timers WHERE key='snapshot:weekly' AND state='pending' AND due_at=$(date -ud 2026-03-23T00:00:00Z +%s)")" \
    "the next one scheduled for the following Monday"
run "$CRM" --json pipeline diff --from 2026-03-09 --to 2026-03-16
got=$(python3 -c '
import json, sys
c = json.loads(sys.argv[1])["categories"]
print(json.dumps({k: [v["count"], v["amount"], v["deals"]] for k, v in sorted(c.items())}, sort_keys=True))' "$OUT")
want=$(python3 - <<'PY'
import json
# before (snapshot 1): id -> (amount minor, close, stage index); after: the scripted changes
before = {1: (10000, "2026-04-01", 0), 2: (20000, "2026-04-01", 1), 3: (30000, "2026-04-10", 0),
          4: (40000, "2026-04-10", 0), 5: (50000, "2026-04-10", 0), 6: (60000, "2026-04-10", 0),
          7: (70000, "2026-04-10", 0), 8: (80000, "2026-04-10", 0)}
after = dict(before)
after[1] = (10000, "2026-04-01", 1); after[2] = (20000, "2026-04-01", 0)
after[3] = (30000, "2026-05-01", 0); after[4] = (40000, "2026-03-20", 0)
after[5] = (55000, "2026-04-10", 0); after[6] = (50000, "2026-04-10", 0)
del after[7]; del after[8]
after[9] = (90000, "2026-04-30", 0); after[10] = (100000, "2026-04-30", 0)
outcome = {7: "won", 8: "lost"}
cats = {k: [0, 0, []] for k in ["new", "won", "lost", "slipped", "pulled_in", "amount_up",
                                "amount_down", "stage_forward", "stage_back"]}
def add(k, i, amt):
    cats[k][0] += 1; cats[k][1] += amt; cats[k][2].append(i)
for i in sorted(after):
    a = after[i]
    if i not in before:
        add("new", i, a[0]); continue
    b = before[i]
    if a[1] != b[1]: add("slipped" if a[1] > b[1] else "pulled_in", i, a[0])
    if a[0] != b[0]: add("amount_up" if a[0] > b[0] else "amount_down", i, a[0] - b[0])
    if a[2] != b[2]: add("stage_forward" if a[2] > b[2] else "stage_back", i, a[0])
for i in sorted(before):
    if i not in after: add(outcome[i], i, before[i][0])
print(json.dumps(cats, sort_keys=True))
PY
)
assert_eq "$want" "$got" "diff: every category, its count, amount and deals"
assert_exit 1 "$CRM" pipeline diff --from 2026-03-01 --to 2026-03-16
assert_contains "$ERR" "no snapshot" "a date before the first snapshot is refused"
# a manual snapshot takes one now and leaves the weekly timer where it is
run "$CRM" --as-of 2026-03-17T10:00:00Z pipeline snapshot
assert_eq 3 "$OUT" "crm pipeline snapshot prints its id"
assert_eq 8 "$(pl_sql 'SELECT count(*) FROM pipeline_snapshot_deals WHERE snapshot_id=3')" "its open deals"
# ---- privacy: the person's snapshot rows go with crm contact erase --------------------
assert_exit 0 "$CRM" contact erase 1 --reason "asked by the person"
assert_eq "0 $(pl_sql 'SELECT count(*) FROM pipeline_snapshot_deals WHERE contact_id=2')" \
    "$(pl_sql 'SELECT count(*) FROM pipeline_snapshot_deals WHERE contact_id=1') $(pl_sql 'SELECT count(*) FROM pipeline_snapshot_deals WHERE contact_id<>1')" \
    "erase deletes the person's snapshot rows, keeps the others"
finish

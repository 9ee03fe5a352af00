#!/usr/bin/env bash
# Rotting: the stalled flag fired by crm tick --as-of after the stage's
# rot_after, listed, tasked and shown on the board, cleared by activity;
# then crm contact export-data and crm contact erase reaching the plugin's
# deals and history.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
"$CRM" contact add --email bob@example.com --first-name Bob >/dev/null
"$CRM" --as-of 2026-01-05T09:00:00Z deal add --title Big --contact 1 --amount 1.25 \
    --close-date 2026-02-10 --owner alice >/dev/null
"$CRM" --as-of 2026-01-20T09:00:00Z deal add --title A --contact 2 --amount 1000.00 \
    --close-date 2026-02-15 --owner alice >/dev/null
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
# a call of 2026-01-10, logged only now, is older than the deal's last activity: no news
assert_exit 0 "$CRM" --as-of 2026-02-04T09:00:00Z interaction log --contact 2 --channel phone \
    --subject "old call" --at 2026-01-10T10:00:00Z
"$CRM" --as-of 2026-02-04T09:00:01Z tick >/dev/null 2>&1
run "$CRM" --json deal show 2
assert_eq true "$(json_get "$OUT" stalled)" "a back-dated interaction leaves the flag"
assert_exit 0 "$CRM" --as-of 2026-02-04T10:00:00Z interaction log --contact 2 --channel phone \
    --subject "called"
"$CRM" --as-of 2026-02-04T10:00:01Z tick >/dev/null 2>&1
run "$CRM" --json deal show 2
assert_eq false "$(json_get "$OUT" stalled)" "activity clears the flag"
assert_eq "$(date -ud 2026-02-04T10:00:00Z +%s)" "$(sqlite3 crm.db 'select last_activity_at from pipeline_deals where id=2')" \
    "the activity's time is when the call happened"

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

finish

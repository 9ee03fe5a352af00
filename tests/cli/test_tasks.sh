#!/usr/bin/env bash
# End to end: tasks (add, show, list filters, done, cancel, reassign), the
# once-per-task task.overdue pass, "today" in locale.timezone across the
# spring-forward day, and tasks in the timeline. Needs CRM and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\n' \
    >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
# epoch Y-M-DTH:M in Europe/Paris, computed independently of crm (zoneinfo)
paris() {
    python3 -c 'import sys, datetime, zoneinfo
print(int(datetime.datetime.fromisoformat(sys.argv[1]).replace(
    tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).timestamp()))' "$1"
}
count_events() { crm events tail --type "$1" --limit 0 --json | grep -c . || true; }

assert_exit 0 crm init
assert_exit 0 crm user add --name Ann --email ann@example.com --role agent
assert_exit 0 crm user add --name Bob --email bob@example.com --role agent
assert_exit 0 crm contact add --first-name Jean --email jean@example.com
contact=$OUT

# ---- add and its refusals --------------------------------------------------------
now=2026-03-27T08:00:00Z
assert_exit 0 crm task add --subject "Call back" --due 2026-03-27T14:00 --kind call \
    --contact jean@example.com --assignee ann@example.com --ref deal:12 --notes "re: quote" \
    --as-of $now
call=$OUT
assert_exit 0 crm task show "$call" --json
assert_eq "$(paris 2026-03-27T14:00)" "$(json_get "$OUT" due_at_epoch)" "due read in locale.timezone"
assert_eq "2026-03-27T13:00:00Z" "$(json_get "$OUT" due_at)" "due as UTC ISO"
assert_eq call "$(json_get "$OUT" kind)"
assert_eq ann@example.com "$(json_get "$OUT" assignee)"
assert_eq "$contact" "$(json_get "$OUT" contact_id)"
assert_eq deal:12 "$(json_get "$OUT" ref)"
assert_eq open "$(json_get "$OUT" status)"
assert_exit 0 crm task show "$call"
assert_contains "$OUT" "2026-03-27T14:00:00+01:00" "human due time in the zone"

assert_exit 2 crm task add --due 2026-03-27            # no --subject
assert_contains "$ERR" "missing --subject"
assert_exit 2 crm task add --subject x                 # no --due
assert_exit 1 crm task add --subject x --due 2026-03-27 --kind lunch
assert_contains "$ERR" "kind"
assert_exit 1 crm task add --subject x --due 2026-03-27 --ref deal
assert_contains "$ERR" "KIND:ID"
assert_exit 1 crm task add --subject x --due 2026-03-27 --assignee nobody@example.com
assert_contains "$ERR" "assignee"
assert_exit 1 crm task add --subject x --due someday
assert_contains "$ERR" "--due"
assert_exit 0 crm task list --status all --json
assert_eq 1 "$(line_count "$OUT")" "refused adds wrote nothing"
assert_eq 1 "$(count_events task.created)" "one task.created"
assert_exit 0 crm events tail --type task.created --json
assert_eq "$call" "$(json_get "$OUT" payload.task_id)" "task.created names the task"
assert_eq deal:12 "$(json_get "$OUT" payload.ref)" "task.created carries the ref"

# ---- today across the spring-forward day (Paris, 2026-03-29 has 23 hours) -----------
assert_exit 0 crm task add --subject "sat late" --due 2026-03-28T23:50 --as-of $now
assert_exit 0 crm task add --subject "sun early" --due 2026-03-29T00:10 --as-of $now
assert_exit 0 crm task add --subject "sun late" --due 2026-03-29T23:50 --as-of $now
assert_exit 0 crm task add --subject "mon early" --due 2026-03-30T00:05 --as-of $now
assert_exit 0 crm task list --due today --json --as-of 2026-03-29T12:00:00Z
assert_eq 2 "$(line_count "$OUT")" "tasks due on Sunday 29 March"
assert_contains "$OUT" '"sun early"'
assert_contains "$OUT" '"sun late"'
assert_not_contains "$OUT" '"sat late"'
assert_not_contains "$OUT" '"mon early"'
# 22:30Z on the 29th is already Monday in Paris (+02:00)
assert_exit 0 crm task list --due today --json --as-of 2026-03-29T22:30:00Z
assert_eq 1 "$(line_count "$OUT")" "Monday's tasks at 00:30 local"
assert_contains "$OUT" '"mon early"'
assert_exit 0 crm task list --due tomorrow --json --as-of 2026-03-28T12:00:00Z
assert_eq 2 "$(line_count "$OUT")" "tomorrow from Saturday"

# ---- assignee, overdue ------------------------------------------------------------
assert_exit 0 crm task list --assignee ann@example.com --json
assert_eq 1 "$(line_count "$OUT")" "Ann's tasks"
assert_exit 0 crm task list --overdue --json --as-of 2026-03-29T00:00:00Z
# independently: open tasks due before 2026-03-29T00:00Z = call (13:00Z 27th),
# sat late (22:50Z 28th), sun early (23:10Z 28th)
assert_eq 3 "$(line_count "$OUT")" "overdue at midnight UTC"
assert_contains "$OUT" '"Call back"'
assert_contains "$OUT" '"sat late"'
assert_exit 0 crm task list --overdue --as-of 2026-03-29T00:00:00Z
assert_eq 0 "$(count_events task.overdue)" "listing never writes"

assert_exit 0 crm task overdue --as-of 2026-03-29T00:00:00Z
assert_eq 3 "$OUT" "first pass notifies three"
assert_exit 0 crm task overdue --as-of 2026-03-29T00:00:00Z
assert_eq 0 "$OUT" "a second pass at the same time notifies none"
assert_exit 0 crm task overdue --as-of 2026-03-29T23:00:00Z
# sun late (21:50Z) and mon early (22:05Z) only
assert_eq 2 "$OUT" "later: only the newly overdue ones"
assert_eq 5 "$(count_events task.overdue)" "task.overdue once per task"
assert_exit 0 crm events tail --type task.overdue --limit 1 --json
assert_eq "$(( $(date -u -d 2026-03-29T23:00:00Z +%s) - $(paris 2026-03-30T00:05) ))" \
    "$(json_get "$OUT" payload.late)" "lateness in the payload"

# ---- done, cancel, reassign -------------------------------------------------------
assert_exit 0 crm task reassign "$call" --to bob@example.com --as-of 2026-03-28T09:00:00Z
assert_exit 0 crm task show "$call" --json
assert_eq bob@example.com "$(json_get "$OUT" assignee)"
assert_exit 0 crm task reassign "$call" --to bob@example.com
assert_eq 1 "$(count_events task.reassigned)" "same assignee again emits nothing"
assert_exit 0 crm events tail --type task.reassigned --limit 1 --json
assert_eq 1 "$(json_get "$OUT" payload.from)" "reassigned from Ann (user 1)"
assert_eq 2 "$(json_get "$OUT" payload.to)" "reassigned to Bob (user 2)"
assert_exit 2 crm task reassign "$call"
assert_exit 0 crm task done "$call" --as-of 2026-03-28T10:00:00Z --json
assert_eq done "$(json_get "$OUT" status)"
assert_eq 2026-03-28T10:00:00Z "$(json_get "$OUT" done_at)"
assert_exit 1 crm task done "$call"
assert_contains "$ERR" "already done"
assert_exit 1 crm task cancel "$call"
assert_exit 1 crm task reassign "$call" --to ann@example.com
assert_exit 0 crm task cancel 2
assert_exit 0 crm task show 2 --json
assert_eq cancelled "$(json_get "$OUT" status)"
assert_eq 1 "$(count_events task.completed)"
assert_eq 1 "$(count_events task.cancelled)"
assert_exit 0 crm task list --status done --json
assert_eq 1 "$(line_count "$OUT")" "done tasks"
assert_exit 0 crm task list --json
assert_eq 3 "$(line_count "$OUT")" "open tasks by default"
assert_exit 2 crm task list --status maybe
assert_exit 1 crm task show 99
assert_exit 2 crm task show abc

# ---- the timeline shows the contact's tasks -------------------------------------------
assert_exit 0 crm timeline "$contact" --json
assert_contains "$OUT" '"kind":"task"'
assert_contains "$OUT" '"Call back"'
assert_exit 0 crm timeline "$contact"
assert_contains "$OUT" "call done: Call back"

# ---- a merge takes the tasks along, unmerge brings them back -------------------------
assert_exit 0 crm contact add --first-name Jeanne --email jeanne@example.com
twin=$OUT
assert_exit 0 crm task add --subject "twin's call" --due 2026-04-01 --contact "$twin"
twin_task=$OUT
assert_exit 0 crm contact merge "$contact" "$twin"
merge_id=$(sqlite3 "$dir/t.db" "select max(id) from contact_merges")
assert_exit 0 crm task show "$twin_task" --json
assert_eq "$contact" "$(json_get "$OUT" contact_id)" "the task follows the merge"
assert_exit 0 crm contact unmerge "$merge_id"
assert_exit 0 crm task show "$twin_task" --json
assert_eq "$twin" "$(json_get "$OUT" contact_id)" "and comes back on unmerge"

# ---- SDK 1.3 tasks: a plugin adds, lists and completes tasks --------------------------
if [ -f "${CRM_BUILD_DIR:-}/tests/plugins/so/pdata.so" ]; then
    export CRM_PLUGIN_PATH=$CRM_BUILD_DIR/tests/plugins/so
    sed -i 's/^locale:/plugins: [pdata]\nlocale:/' "$dir/crm.yaml"
    assert_exit 0 crm pdata note "$contact" "asked for a quote" --as-of 2026-04-01T10:00:00Z
    ptask=$OUT
    assert_exit 0 crm task show "$ptask" --json
    assert_eq follow_up "$(json_get "$OUT" kind)" "plugin task kind"
    assert_eq pdata:1 "$(json_get "$OUT" ref)" "plugin task ref"
    assert_eq 2026-04-02T10:00:00Z "$(json_get "$OUT" due_at)" "plugin task due a day after --as-of"
    assert_exit 0 crm events tail --type task.created --limit 1 --json
    assert_eq "$ptask" "$(json_get "$OUT" payload.task_id)" "task.created from the plugin"
    assert_exit 0 crm pdata tasks '{"ref": "pdata:1"}'
    assert_eq 1 "$(json_get "$OUT" "" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
        "one task with that ref"
    assert_eq "$ptask" "$(json_get "$OUT" 0.id)"
    assert_exit 0 crm pdata tasks '{"overdue": true}' --as-of 2026-04-03T00:00:00Z
    assert_contains "$OUT" "\"id\":$ptask," "overdue through the SDK"
    assert_exit 0 crm pdata tasks '{"status": "done"}'
    assert_eq 1 "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$OUT")" "done via SDK"
    assert_exit 1 crm pdata tasks '{"status": "maybe"}'
    assert_contains "$ERR" "status"
    assert_exit 1 crm pdata tasks '{"colour": 1}'
    assert_contains "$ERR" "unknown field 'colour'"
    assert_exit 0 crm pdata finish "$ptask"
    assert_exit 0 crm task show "$ptask" --json
    assert_eq done "$(json_get "$OUT" status)" "completed by the plugin"
    assert_exit 1 crm pdata finish "$ptask"
    assert_contains "$ERR" "already done"
    assert_exit 0 crm pdata tasks
    assert_not_contains "$OUT" "\"id\":$ptask," "open list leaves the done task out"
fi

finish

#!/usr/bin/env bash
# End to end: task.overdue raised by each task's kernel timer ("task:ID") at
# its due time through `crm tick --as-of`: exactly the due tasks, once each,
# with their lateness; done or cancelled before due -> never; the
# `crm task overdue` pass still covers tasks that have no timer. Needs CRM
# and CRM_TEST_LIB.
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
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
overdue_ids() {
    crm events tail --type task.overdue --limit 0 --json |
        python3 -c 'import json,sys
print(" ".join(str(json.loads(l)["payload"]["task_id"]) for l in sys.stdin if l.strip()))'
}
sql() { python3 -c 'import sqlite3,sys
print("\n".join("|".join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' \
    "$dir/t.db" "$1"; }

assert_exit 0 crm init
T=1774000000 # 2026-03-20T09:46:40Z
assert_exit 0 crm task add --subject one --due "$(iso $((T + 3600)))" --as-of "$(iso $T)"
a=$OUT
assert_exit 0 crm task add --subject two --due "$(iso $((T + 7200)))" --as-of "$(iso $T)"
b=$OUT
assert_exit 0 crm task add --subject three --due "$(iso $((T + 10800)))" --as-of "$(iso $T)"
c=$OUT
assert_exit 0 crm task add --subject early-done --due "$(iso $((T + 1800)))" --as-of "$(iso $T)"
d=$OUT
assert_exit 0 crm task add --subject cancelled --due "$(iso $((T + 1800)))" --as-of "$(iso $T)"
e=$OUT
assert_eq "$((T + 3600))" "$(sql "SELECT due_at FROM timers WHERE owner='kernel' AND key='task:$a'")" \
    "task add scheduled its timer at due_at"
assert_exit 0 crm task done "$d" --as-of "$(iso $((T + 60)))"
assert_exit 0 crm task cancel "$e" --as-of "$(iso $((T + 60)))"
assert_eq "" "$(sql "SELECT key FROM timers WHERE key IN ('task:$d','task:$e') AND state='pending'")" \
    "closing a task cancels its timer"

assert_exit 0 crm tick --as-of "$(iso $((T + 3599)))"
assert_eq "" "$(overdue_ids)" "nothing due yet"
assert_exit 0 crm tick --as-of "$(iso $((T + 3700)))"
assert_eq "$a" "$(overdue_ids)" "only the first task at its due time"
assert_exit 0 crm events tail --type task.overdue --limit 1 --json
assert_eq 100 "$(json_get "$OUT" payload.late)" "lateness: tick time - due time"
assert_eq "$((T + 3600))" "$(json_get "$OUT" payload.due_at)"
assert_exit 0 crm tick --as-of "$(iso $((T + 3700)))"
assert_eq "$a" "$(overdue_ids)" "ticking again raises nothing new"
assert_exit 0 crm tick --as-of "$(iso $((T + 7200)))"
assert_eq "$a $b" "$(overdue_ids)" "the second at its due time"
assert_exit 0 crm task show "$b" --json
assert_eq "$(iso $((T + 7200)))" "$(json_get "$OUT" overdue_notified_at)" "stamped like the pass"
assert_exit 0 crm task overdue --as-of "$(iso $((T + 7300)))"
assert_eq 0 "$OUT" "the pass finds nothing the timers reported"
assert_exit 0 crm tick --as-of "$(iso $((T + 86400)))"
assert_eq "$a $b $c" "$(overdue_ids)" "the third; done/cancelled never"
assert_exit 0 crm tick --as-of "$(iso $((T + 2 * 86400)))"
assert_eq "$a $b $c" "$(overdue_ids)" "once each"

# a task from before task timers (no timer row): the pass still covers it,
# and a timer whose task the pass already notified raises nothing
assert_exit 0 crm task add --subject legacy --due "$(iso $((T + 90000)))" --as-of "$(iso $T)"
f=$OUT
assert_exit 0 crm task add --subject passed --due "$(iso $((T + 90000)))" --as-of "$(iso $T)"
g=$OUT
sql "DELETE FROM timers WHERE key='task:$f'" >/dev/null
assert_exit 0 crm task overdue --as-of "$(iso $((T + 90001)))"
assert_eq 2 "$OUT" "the pass reports the timerless task (and the other)"
assert_exit 0 crm tick --as-of "$(iso $((T + 90002)))"
assert_eq "$a $b $c $f $g" "$(overdue_ids)" "the timer after the pass adds nothing"
finish

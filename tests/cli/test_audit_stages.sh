#!/usr/bin/env bash
# A database older than the lifecycle rule: leads whose orders were paid
# before the rule existed (or while it was `none`). `crm audit` names them
# among the values today's rules refuse; `crm audit --fix stages` moves them
# up as their first paid order would have, recorded with that cause; a stage
# changed since the rule (by the rule or by hand), inactive, or already
# further is left alone; a refused run writes nothing.
set -uo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-stages-XXXXXX")
trap 'rm -rf "$dir"' EXIT
unset CRM_DB CRM_CONFIG
printf 'database: t.db\nhygiene:\n  duplicates: {refuse_on_add: false}\n' >"$dir/crm.yaml"
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
rows() { sqlite3 "$dir/t.db" "$1"; }
stage() { rows "SELECT lifecycle_stage FROM contacts WHERE id=$1"; }

assert_exit 0 crm init --quiet
for who in ana:lead bob:prospect cyd:inactive dan:evangelist eve:lead fay:subscriber gus:lead; do
  assert_exit 0 crm contact add --first-name "${who%%:*}" --email "${who%%:*}@example.com" \
    --stage "${who#*:}" --as-of 2024-01-01
done
for id in 1 2 3 4 5 6 7; do
  assert_exit 0 crm order add --contact $id --total 10 --status paid --placed-at 2024-02-0$id --as-of 2024-02-10
done
assert_exit 0 crm order add --contact 1 --total 5 --status paid --placed-at 2024-01-15 --as-of 2024-02-10
# Before the rule: the stages as they were entered, no history.
rows "UPDATE contacts SET lifecycle_stage = CASE id WHEN 1 THEN 'lead' WHEN 2 THEN 'prospect'
  WHEN 3 THEN 'inactive' WHEN 4 THEN 'evangelist' WHEN 5 THEN 'lead' WHEN 6 THEN 'subscriber'
  ELSE 'lead' END; DELETE FROM contact_history; DELETE FROM events WHERE type='contact.stage_changed'"
# Since the rule: 5 was set back to lead by hand (a decision, not a gap).
assert_exit 0 crm contact update 5 --stage prospect --as-of 2024-03-01
assert_exit 0 crm contact update 5 --stage lead --as-of 2024-03-02
# 7's only paid order is after the audit's clock.
rows "UPDATE orders SET placed_at = strftime('%s','2025-06-01') WHERE contact_id = 7"

# The independent list: behind customer (rank below 3 on the ladder), a paid
# order placed by the clock, no stage history.
expect=$(rows "SELECT group_concat(id, ' ') FROM (SELECT c.id FROM contacts c WHERE
  c.lifecycle_stage IN ('subscriber','lead','prospect') AND EXISTS(SELECT 1 FROM orders o WHERE
  o.contact_id=c.id AND o.status='paid' AND o.placed_at <= strftime('%s','2024-06-01'))
  AND NOT EXISTS(SELECT 1 FROM contact_history h WHERE h.contact_id=c.id) ORDER BY c.id)")
assert_eq "1 2 6" "$expect" "fixture"

# Upgrading (crm init) says so once, with the way out.
assert_exit 0 crm init --as-of 2024-06-01
assert_contains "$ERR" "crm init: 3 contacts with a paid order are still before lifecycle.on_first_paid_order (customer), from before the rule: crm audit lists them, crm audit --fix stages moves them"
assert_exit 0 crm init --json --as-of 2024-06-01
assert_eq 3 "$(json_get "$OUT" stages_behind)"
before=$(rows "SELECT count(*) FROM contacts WHERE lifecycle_stage='customer'")
assert_exit 0 crm audit --json --as-of 2024-06-01
assert_eq 3 "$(json_get "$OUT" invalid.count)" "the three contacts the rule never reached"
assert_contains "$OUT" "lifecycle_stage: 'lead' although order #8 is paid (lifecycle.on_first_paid_order: customer; crm audit --fix stages)"
assert_exit 0 crm audit --as-of 2024-06-01
assert_contains "$OUT" "lifecycle_stage: 'prospect' although order #2 is paid"
assert_eq "$before" "$(rows "SELECT count(*) FROM contacts WHERE lifecycle_stage='customer'")" "audit alone moves nothing"

# A bad --fix value is refused before anything is written.
audits=$(rows "SELECT count(*) FROM audits")
assert_exit 2 crm audit --fix stage --as-of 2024-06-01
assert_contains "$ERR" "--fix 'stage': expected merge-safe"
assert_eq "$audits" "$(rows "SELECT count(*) FROM audits")"

assert_exit 0 crm audit --fix stages --as-of 2024-06-01
assert_contains "$OUT" "stages: moved 3 contacts up by the lifecycle rule: 1 lead -> customer (order #8 paid), 2 prospect -> customer (order #2 paid), 6 subscriber -> customer (order #6 paid)"
assert_eq "customer customer inactive evangelist lead customer lead" \
  "$(echo $(for i in 1 2 3 4 5 6 7; do stage $i; done))"
assert_eq "1|lead|customer|order #8 paid (audit --fix stages)|8
2|prospect|customer|order #2 paid (audit --fix stages)|2
6|subscriber|customer|order #6 paid (audit --fix stages)|6" \
  "$(rows "SELECT contact_id, old_value, new_value, reason, order_id FROM contact_history WHERE reason LIKE '%audit%' ORDER BY contact_id")"
assert_eq 3 "$(rows "SELECT count(*) FROM events WHERE type='contact.stage_changed'")"
assert_exit 0 crm contact show 6
assert_contains "$OUT" "subscriber -> customer (order #6 paid (audit --fix stages))"

# Done once: the next audit finds nothing and the fix moves nobody.
assert_exit 0 crm audit --fix merge-safe,stages --json --as-of 2024-06-02
assert_eq 0 "$(json_get "$OUT" invalid.count)"
assert_eq 0 "$(json_get "$OUT" fix_stages.moved)"
assert_exit 0 crm init --as-of 2024-06-02
assert_eq "" "$ERR" "init: nothing behind any more"
# The clock reaches 7's order: now it is behind.
assert_exit 0 crm audit --json --as-of 2025-07-01
assert_eq 1 "$(json_get "$OUT" invalid.count)"

# With the rule off, nobody is behind it.
printf 'database: t.db\nlifecycle: {on_first_paid_order: none}\n' >"$dir/crm.yaml"
assert_exit 0 crm audit --fix stages --json --as-of 2025-07-01
assert_eq "0 0 lead" "$(json_get "$OUT" invalid.count) $(json_get "$OUT" fix_stages.moved) $(stage 7)"

finish

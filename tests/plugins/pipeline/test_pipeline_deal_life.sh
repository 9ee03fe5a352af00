#!/usr/bin/env bash
# One deal's life end to end: probability defaults and overrides,
# expected-value rounding (checked by python), lost reasons refused with the
# list, reopen, time in stage with back-and-forth and reopen (the sums
# computed here from the --as-of times), history rows for every kind of
# change, refused commands writing nothing, the deal events and the
# contact's timeline.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
"$CRM" contact add --email bob@example.com --first-name Bob >/dev/null
D0=2026-01-05T09:00:00Z
assert_exit 0 "$CRM" --as-of $D0 deal add --title "Big" --contact 1 --amount 1.25 \
    --close-date 2026-02-10 --owner alice
assert_eq 1 "$OUT" "deal add prints the id"
run "$CRM" --json --as-of $D0 deal show 1
j=$OUT
keys="id title pipeline stage status currency category close_date owner contact_id
    company_id lost_reason stage_entered_at created_at updated_at stalled"
pl_fields "$j" amount probability expected close_date status stalled $keys
assert_eq 125 "${F[0]}" "amount in minor units"
assert_eq 10 "${F[1]}" "probability defaults to the stage's"
want=$(python3 -c 'import decimal as d; print(int((d.Decimal(125)*10/100).quantize(d.Decimal(1), rounding=d.ROUND_HALF_UP)))')
assert_eq "$want" "${F[2]}" "expected = 12.5 rounded half away from zero"
i=6
for k in $keys; do
    [ "${F[$i]}" != "<missing>" ] && pass || fail "deal show --json lacks $k"
    i=$((i + 1))
done
assert_eq 2026-02-10 "${F[3]}"
assert_eq open "${F[4]}"
assert_eq false "${F[5]}"

# override kept until the stage changes
assert_exit 0 "$CRM" --as-of 2026-01-06T09:00:00Z deal update 1 --probability 55 --amount 2001.01
run "$CRM" --json --as-of 2026-01-06T09:00:00Z deal show 1
pl_fields "$OUT" probability probability_overridden expected
assert_eq 55 "${F[0]}" "override applies"
assert_eq true "${F[1]}"
want=$(python3 -c 'print((200101*55*2 + 100) // 200)')  # 110055.55 -> 110056 (positive)
assert_eq "$want" "${F[2]}" "expected with the override"
assert_exit 0 "$CRM" --as-of 2026-01-08T09:00:00Z deal move 1 proposal
run "$CRM" --json --as-of 2026-01-08T09:00:00Z deal show 1
pl_fields "$OUT" probability probability_overridden
assert_eq 40 "${F[0]}" "a stage change drops the override"
assert_eq false "${F[1]}"

# back and forth, lost, reopen, won
assert_exit 0 "$CRM" --as-of 2026-01-10T09:00:00Z deal move 1 negotiation
assert_exit 0 "$CRM" --as-of 2026-01-11T09:00:00Z deal move 1 proposal
assert_exit 1 "$CRM" --as-of 2026-01-12T09:00:00Z deal lose 1 --reason moon
assert_contains "$ERR" "known: price, competitor, no_budget" "lost reason refused with the list"
assert_exit 0 "$CRM" --as-of 2026-01-13T09:00:00Z deal lose 1 --reason price --note "too dear"
run "$CRM" --json --as-of 2026-01-13T09:00:00Z deal show 1
pl_fields "$OUT" status probability lost_reason
assert_eq lost "${F[0]}"
assert_eq 0 "${F[1]}"
assert_eq price "${F[2]}"
assert_exit 1 "$CRM" --as-of 2026-01-13T10:00:00Z deal move 1 negotiation
assert_contains "$ERR" "reopen"
assert_exit 0 "$CRM" --as-of 2026-01-15T09:00:00Z deal reopen 1
run "$CRM" --json --as-of 2026-01-15T09:00:00Z deal show 1
pl_fields "$OUT" stage status
assert_eq proposal "${F[0]}" "reopen returns to the stage it left"
assert_eq open "${F[1]}"
assert_exit 0 "$CRM" --as-of 2026-01-16T09:00:00Z deal update 1 --close-date 2026-03-01 \
    --owner bruno --category commit
run "$CRM" --json --as-of 2026-01-20T09:00:00Z deal show 1
pl_fields "$OUT" time_by_stage time_in_stage category
tis=${F[0]}
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
assert_eq $((5 * 86400)) "${F[1]}" "current visit"
assert_eq commit "${F[2]}" "category override"

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

finish

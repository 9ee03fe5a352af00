#!/usr/bin/env bash
# `crm demo` with ticketing: the headline's NPS and CSAT against the stored
# answers counted independently (python3 + sqlite3); demo NPS surveys keep
# once per 90 days per contact; no survey timer is left to fire for the past.
set -u
. "${CRM_TEST_LIB:?}"
plugin_test_dir tk-demo
if [ ! -f "$CRM_PLUGIN_PATH/ticketing.so" ]; then
  echo "ticketing.so not built: skipped"; echo "0 passed, 0 failed"; exit 0
fi
cat >crm.yaml <<'YAML'
database: demo.db
plugins: [ticketing]
ticketing:
  teams:
    - {name: support, members: [alice, bob]}
  nps: {every: 90d}
YAML
assert_exit 0 "$CRM" --as-of 2026-01-01 demo --contacts 300 --orders 200 --seed 7
line=$(grep '^ticketing:' <<<"$OUT")
want=$(python3 - <<'PY'
import sqlite3
db = sqlite3.connect("demo.db")
n, pro, det = db.execute("select count(*), sum(score >= 9), sum(score <= 6) from ticketing_nps").fetchone()
r, h = db.execute("select count(*), sum(csat_score >= 4) from ticketing_tickets where csat_score is not null").fetchone()
print("CSAT %.0f%% of %d answers, NPS %+.0f of %d answers" % (100.0 * h / r, r, 100.0 * (pro - det) / n, n))
PY
)
assert_contains "$line" "$want" "the headline's CSAT and NPS"
assert_eq ok "$(python3 -c '
import sqlite3
db = sqlite3.connect("demo.db")
n = db.execute("select count(*) from ticketing_nps").fetchone()[0]
close = db.execute("select count(*) from ticketing_nps_surveys a join ticketing_nps_surveys b on a.contact_id = b.contact_id and a.id < b.id and abs(a.sent_at - b.sent_at) < 90 * 86400").fetchone()[0]
bad = db.execute("select count(*) from ticketing_nps where score < 0 or score > 10").fetchone()[0]
print("ok" if n > 50 and close == 0 and bad == 0 else (n, close, bad))')" "answers, once per period, in range"
assert_eq 0 "$(sqlite3 demo.db "select count(*) from timers where key like 'nps:%' and state = 'pending'")" "no NPS timer for the past"
finish

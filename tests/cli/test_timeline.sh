#!/usr/bin/env bash
# A fuller timeline: `crm timeline ID` names the contact first, then merges
# interactions, orders, stage changes, consents (granted, withdrawn) and the events plugins
# emitted about the contact (segment entries and exits, churn alerts) in time
# order; --since, --limit and --as-of cut it; --json carries the same. The
# items are compared with an independent query over the tables and the event
# payloads, and the kernel migration linking events to contacts backfills
# the events written before it.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/plugins"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-timeline-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
plugins=segmentation
[ -f "$CRM_PLUGIN_PATH/segmentation.so" ] || plugins=""
cat >crm.yaml <<YAML
database: crm.db
plugins: [$plugins]
YAML
"$CRM" init --quiet

id=$("$CRM" contact add --first-name Jeanne --last-name Martin --email jeanne@example.com \
     --city Lyon --external-id jm)
other=$("$CRM" contact add --first-name Paul --last-name Autre --email paul@example.com)
"$CRM" interaction log --contact "$id" --channel email --direction in --subject "Question" \
  --at 2023-10-02T09:00:00Z >/dev/null
"$CRM" --as-of 2023-10-01 order add --contact "$id" --total 80 --placed-at 2023-10-01T10:00:00Z \
  --status paid >/dev/null
"$CRM" --as-of 2023-10-01 order add --contact "$id" --total 40 --placed-at 2023-11-15 --status paid >/dev/null
"$CRM" --as-of 2023-09-01 consent grant --contact "$id" --channel email --purpose newsletter \
  --source "web form" >/dev/null
"$CRM" --as-of 2024-02-01 consent withdraw --contact "$id" --channel email --purpose newsletter >/dev/null
"$CRM" interaction log --contact "$other" --channel phone --at 2023-10-05 >/dev/null
"$CRM" --as-of 2023-10-05 order add --contact "$other" --total 10 --placed-at 2023-10-05 --status paid >/dev/null
if [ -n "$plugins" ]; then
  printf 'segmentation:\n  segments:\n    - {name: VIP, static: true}\n' >>crm.yaml
  "$CRM" --as-of 2024-03-01 segment add vip "$id" "$other" >/dev/null
  "$CRM" --as-of 2024-04-01 segment remove vip "$id" >/dev/null
  "$CRM" --as-of 2024-06-01 rfm refresh >/dev/null
  # 200 days past the last order: far beyond the default cycle, so the
  # inactivity points cross the first level and churn.risk_raised fires
  "$CRM" --as-of 2024-06-02 churn refresh >/dev/null
fi

# independently: every row of the contact, and the events whose payload names it
expected() { # SINCE UNTIL LIMIT (0 = none) -> "kind:id" in time order
  python3 - "$id" "$@" <<'PY'
import sqlite3, sys
cid, since, until, limit = (int(x) for x in sys.argv[1:5])
db = sqlite3.connect("crm.db")
rows = []
rows += [("interaction", i, t) for i, t in db.execute("select id, occurred_at from interactions where contact_id=?", (cid,))]
rows += [("order", i, t) for i, t in db.execute("select id, placed_at from orders where contact_id=?", (cid,))]
rows += [("consent", i, t) for i, t in db.execute("select id, recorded_at from consents where contact_id=?", (cid,))]
rows += [("stage", i, t) for i, t in db.execute("select id, changed_at from contact_history where contact_id=?", (cid,))]
rows += [("event", i, t) for i, t in db.execute(
    "select id, created_at from events where source <> 'kernel' and json_extract(payload, '$.contact_id') = ?", (cid,))]
rows = [r for r in rows if since <= r[2] <= until]
rows.sort(key=lambda r: (r[2], r[0], r[1]))
if limit:
    rows = rows[-limit:]
print(" ".join(f"{k}:{i}" for k, i, _ in rows))
PY
}
items_of() { # timeline --json output -> "kind:id" of the items (the header skipped)
  python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
print(" ".join("%s:%s" % (r["kind"], r["record"]["id"]) for r in rows if r["kind"] != "contact"))'
}
BIG=9999999999

run "$CRM" --json timeline "$id"
assert_eq 0 "$RC" "timeline --json: $ERR"
assert_eq contact "$(json_get "$(head -n1 <<<"$OUT")" kind)" "the JSON header comes first"
assert_eq jeanne@example.com "$(json_get "$(head -n1 <<<"$OUT")" record.email)" "the header is the contact"
full=$(items_of <<<"$OUT")
assert_eq "$(expected 0 $BIG 0)" "$full" "timeline items and order (independent query)"
assert_contains "$full" "consent:" "consents are on the timeline"
if [ -n "$plugins" ]; then
  assert_eq 4 "$(grep -o 'event:' <<<"$full" | wc -l)" "static entered and left, RFM entered, the churn alert"
  types=$(python3 -c '
import json, sys
print(" ".join(json.loads(l)["record"]["type"] for l in sys.stdin if "\"event\"" in l))' <<<"$OUT")
  assert_eq "segment.entered segment.left segment.entered churn.risk_raised" "$types" \
    "the plugin events, in time order"
fi

run "$CRM" timeline ext:jm
assert_eq 0 "$RC" "timeline text"
header=$(head -n1 <<<"$OUT")
assert_contains "$header" "Jeanne Martin (contact $id)" "the text header names the contact"
assert_contains "$header" "jeanne@example.com" "the header has the email"
assert_contains "$header" "Lyon" "the header has the city"
assert_eq $(( $(wc -w <<<"$full") + 1 )) "$(line_count "$OUT")" "header + one line per item"
assert_contains "$OUT" "2023-09-01T02:00:00+02:00  consent     " "a consent line"
assert_contains "$OUT" "email/newsletter granted (web form)" "the grant, with its source"
assert_contains "$OUT" "email/newsletter withdrawn" "the withdrawal"
assert_contains "$OUT" "order       " "orders still there"
assert_contains "$OUT" "interaction " "interactions still there"
assert_not_contains "$OUT" "phone" "another contact's interaction is not there"
if [ -n "$plugins" ]; then
  assert_contains "$OUT" "2024-03-01T01:00:00+01:00  segment     entered VIP (static) [segmentation]" "segment entry"
  assert_contains "$OUT" "2024-04-01T02:00:00+02:00  segment     left VIP (static)" "segment exit"
  assert_contains "$OUT" "2024-06-01T02:00:00+02:00  segment     entered " "the RFM segment entry"
  assert_contains "$OUT" "(rfm) [segmentation]" "an RFM entry says so"
  score=$(python3 -c 'import sqlite3,sys; print("score %d, level %d" % sqlite3.connect("crm.db").execute("select score, level from segmentation_churn where contact_id=?", (int(sys.argv[1]),)).fetchone())' "$id")
  assert_contains "$OUT" "2024-06-02T02:00:00+02:00  churn       risk raised: $score — " "churn alert with its score and level"
  assert_contains "$OUT" "week" "the churn alert's reasons"
fi

# --since, --limit, --as-of
run "$CRM" --json timeline "$id" --since 2023-11-01
assert_eq "$(expected 1698796800 $BIG 0)" "$(items_of <<<"$OUT")" "--since"
run "$CRM" --json timeline "$id" --limit 3
assert_eq "$(expected 0 $BIG 3)" "$(items_of <<<"$OUT")" "--limit: the latest 3, oldest first"
assert_eq 3 "$(wc -w <<<"$(items_of <<<"$OUT")")" "--limit 3 gives 3"
run "$CRM" timeline "$id" --limit 2
assert_contains "$ERR" "the latest" "a cut timeline says so"
run "$CRM" --json timeline "$id" --since 2023-10-01 --limit 2
assert_eq "$(expected 1696118400 $BIG 2)" "$(items_of <<<"$OUT")" "--since with --limit"
run "$CRM" --as-of 2024-01-01 --json timeline "$id"
assert_eq "$(expected 0 1704067200 0)" "$(items_of <<<"$OUT")" "--as-of: nothing after it"
assert_not_contains "$OUT" withdrawn "--as-of 2024-01-01 predates the withdrawal"
assert_exit 0 "$CRM" timeline "$id" --limit 0
assert_exit 2 "$CRM" timeline "$id" --limit many
assert_exit 1 "$CRM" timeline "$id" --since yesterday
assert_exit 1 "$CRM" timeline nobody@example.com
run "$CRM" timeline --help
assert_contains "$OUT" "--since" "timeline --help documents --since"
assert_contains "$OUT" "--limit" "timeline --help documents --limit"

# interaction list is unchanged: interactions only, no header
run "$CRM" --json interaction list --contact "$id"
assert_eq 1 "$(line_count "$OUT")" "interaction list: one interaction"
assert_eq email "$(json_get "$OUT" channel)" "interaction list: the record itself"

# every event written (kernel text payloads and plugin JSON alike) is linked
# to the contact its payload names, and only to it
unlinked=$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("select count(*) from events where coalesce(contact_id, 0) <> coalesce(json_extract(payload, '"'"'$.contact_id'"'"'), 0)").fetchone()[0])')
assert_eq 0 "$unlinked" "events.contact_id matches every payload's contact_id"
assert_eq 0 "$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("select count(*) from events where contact_id is null and type like '"'"'order.%'"'"'").fetchone()[0])')" \
  "order events (text payloads) are linked"

# the events migration links the events written before it: undone and
# re-run (only possible while it is the kernel's latest migration)
latest=$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("select name from schema_migrations where owner = '"'kernel'"' order by version desc limit 1").fetchone()[0])')
if [ -n "$plugins" ] && [ "$latest" = "events linked to their contact" ]; then
  python3 - <<'PY'
import sqlite3
db = sqlite3.connect("crm.db")
db.executescript("""DROP INDEX events_contact; ALTER TABLE events DROP COLUMN contact_id;
DELETE FROM schema_migrations WHERE owner = 'kernel' AND name = 'events linked to their contact';""")
db.commit()
PY
  run "$CRM" --json timeline "$id"
  assert_eq "$full" "$(items_of <<<"$OUT")" "after re-running the events migration on old events"
else
  echo "the events migration is not the latest: its re-run is not checked" >&2
fi

finish

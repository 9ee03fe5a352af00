#!/usr/bin/env bash
# The segmentation plugin keeps its data right and says what it shows:
# a deleted contact leaves every one of its (more than 64) segments; money in
# zero- and three-decimal currencies is printed with the kernel's exponent
# (SDK 1.3 format_money); an unknown segment is refused with the known ones;
# empty answers say whether and when the data was refreshed and how to
# refresh it; every command given --json prints JSON.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/plugins"
if [ ! -f "$CRM_PLUGIN_PATH/segmentation.so" ]; then
  echo "segmentation.so not built (CRM_PLUGIN_SEGMENTATION=OFF): skipped"
  echo "0 passed, 0 failed"
  exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-segdata-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
T=2024-06-01T00:00:00Z
TS=1717200000
sql() { python3 -c 'import sqlite3,sys; print("\n".join("|".join(map(str, r)) for r in sqlite3.connect("crm.db").execute(sys.argv[1])))' "$1"; }

# ---- more than 64 memberships: a deleted contact leaves all of them ------------------
statics=$(python3 -c 'print("\n".join(f"    - {{name: S{i}, static: true}}" for i in range(1, 65)))')
cat >crm.yaml <<YAML
database: crm.db
plugins: [segmentation]
segmentation:
  segments:
$statics
YAML
assert_exit 0 "$CRM" init --quiet
run "$CRM" contact add --email many@example.com --last-name Many; many=$OUT
run "$CRM" contact add --email other@example.com --last-name Other; other=$OUT
"$CRM" order add --contact "$many" --total 10 --placed-at 2024-05-01 --status paid >/dev/null
"$CRM" order add --contact "$other" --total 10 --placed-at 2024-05-01 --status paid >/dev/null
assert_exit 0 "$CRM" --as-of $T rfm refresh
for i in $(seq 1 64); do "$CRM" --as-of $T segment add "s$i" "$many" "$other" >/dev/null; done
assert_eq 65 "$(sql "select count(*) from segmentation_members where contact_id=$many and left_at is null")" \
  "open memberships before the delete (64 static + 1 RFM)"
assert_exit 0 "$CRM" --as-of $T contact delete "$many" --force
assert_eq 0 "$(sql "select count(*) from segmentation_members where contact_id=$many and left_at is null")" \
  "open memberships after the delete"
assert_eq 65 "$(sql "select count(*) from events where type='segment.left' and json_extract(payload,'\$.contact_id')=$many")" \
  "segment.left events of the deleted contact"
assert_eq 65 "$(sql "select count(*) from segmentation_members where contact_id=$other and left_at is null")" \
  "the other contact keeps its memberships"
rm -f crm.db*

# ---- money with the kernel's exponent: KWD (3 decimals), XOF (0) -------------------------
for cur in KWD XOF; do
  cat >crm.yaml <<YAML
database: crm.db
locale: {currency: $cur}
plugins: [segmentation]
YAML
  rm -f crm.db*
  "$CRM" init --quiet
  id=$("$CRM" contact add --email "m-$cur@example.com" --last-name M)
  if [ $cur = KWD ]; then a=1234.567 b=7.5; else a=1500 b=250; fi
  "$CRM" order add --contact "$id" --total $a --currency $cur --placed-at 2024-05-01 --status paid >/dev/null
  "$CRM" order add --contact "$id" --total $b --currency $cur --placed-at 2024-05-20 --status paid >/dev/null
  # independently: the stored minor units and ISO 4217's exponent
  minor=$(sql "select sum(total) from orders where contact_id=$id")
  exp=$(python3 -c 'print({"KWD":3,"XOF":0}[__import__("sys").argv[1]])' $cur)
  fmt='import sys; v,e=int(sys.argv[1]),int(sys.argv[2]); i=f"{v//10**e:,}".replace(",", " "); print(f"{i}.{v%10**e:0{e}d}" if e else i)'
  want=$(python3 -c "$fmt" "$minor" "$exp")
  aov=$(python3 -c "$fmt" "$(( (minor + 1) / 2 ))" "$exp")
  "$CRM" --as-of $T rfm refresh >/dev/null
  assert_contains "$("$CRM" rfm list 2>/dev/null)" "$want $cur" "rfm list monetary in $cur"
  assert_contains "$("$CRM" rfm show "$id")" "monetary  $want $cur" "rfm show in $cur"
  assert_contains "$("$CRM" --as-of $T churn show "$id")" "lifetime value $want $cur" "churn show in $cur"
  run "$CRM" --as-of $T metrics
  assert_contains "$OUT" "historic LTV         $want $cur" "metrics LTV in $cur"
  assert_contains "$OUT" "average order value  $aov $cur" "metrics AOV in $cur"
  run "$CRM" --json rfm list
  assert_eq "$minor" "$(json_get "$OUT" monetary)" "JSON keeps minor units ($cur)"
done
rm -f crm.db*

# ---- unknown segments, refresh notes, --json everywhere ------------------------------
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [segmentation]
segmentation:
  segments:
    - {name: Big Spenders, where: "monetary >= 50000"}
    - {name: Press, static: true}
    - {name: Whales, lua: "seg.lua:whale"}
    - {name: Tagged, where: "tag = vip"}
YAML
cat >seg.lua <<'LUA'
function whale(c) return (c.total_spent or 0) >= 50000, {"spent " .. (c.total_spent or 0)} end
LUA
"$CRM" init --quiet
for i in 1 2 3; do "$CRM" contact add --external-id c$i --email c$i@example.com --last-name N$i >/dev/null; done
"$CRM" order add --contact ext:c1 --total 600 --placed-at 2024-05-01 --status paid >/dev/null
"$CRM" order add --contact ext:c2 --total 20 --placed-at 2023-09-01 --status paid >/dev/null
"$CRM" order add --contact ext:c2 --total 30 --placed-at 2024-01-10 --status paid >/dev/null

# before any refresh: empty answers say so and name the command that fills them
run "$CRM" churn list
assert_eq 0 "$RC" "churn list before a refresh"
assert_eq "" "$OUT" "churn list before a refresh prints no rows"
assert_contains "$ERR" "crm churn refresh" "churn list says how to refresh"
run "$CRM" --json churn list
assert_contains "$ERR" "no churn scores yet" "churn list --json explains the empty answer"
run "$CRM" segment members big_spenders
assert_contains "$ERR" "never been refreshed" "a new rule segment says it was never refreshed"
assert_contains "$ERR" "crm segment refresh big_spenders" "and how to refresh it"
run "$CRM" rfm list
assert_contains "$ERR" "crm rfm refresh" "rfm list before a refresh"
run "$CRM" --json rfm grid
assert_contains "$ERR" "no RFM scores yet" "an empty grid says why"
run "$CRM" segment list
assert_contains "$OUT" "never" "segment list shows never-refreshed segments"
# a contact event fills a rule segment before any full refresh: said so
"$CRM" contact update ext:c3 --tag vip >/dev/null
run "$CRM" segment members tagged
assert_eq 1 "$(line_count "$OUT")" "the tagged contact entered on its event"
assert_contains "$ERR" "no full refresh is recorded" "members filled by events only say so"
assert_contains "$ERR" "crm segment refresh tagged" "and how to re-evaluate every contact"
run "$CRM" segment list
assert_contains "$(grep '^tagged' <<<"$OUT")" "not recorded" "segment list: members but no refresh recorded"

# unknown names: exit 1, the known segments named
run "$CRM" rfm list --segment champs
assert_eq 1 "$RC" "rfm list --segment unknown: exit 1"
for s in champions loyal at_risk hibernating cant_lose_them; do
  assert_contains "$ERR" "$s" "rfm list --segment names the grid segment $s"
done
run "$CRM" segment members big_spender
assert_eq 1 "$RC" "segment members unknown: exit 1"
for s in big_spenders press whales champions; do
  assert_contains "$ERR" "$s" "segment members names $s"
done
run "$CRM" --json segment members nope
assert_eq 1 "$RC" "segment members unknown with --json: exit 1"
assert_exit 0 "$CRM" rfm list --segment "Can't Lose Them"   # a display name is a slug too
assert_exit 1 "$CRM" segment refresh press                  # a static list is not refreshable
assert_contains "$ERR" "big_spenders" "segment refresh of a static list names the refreshable ones"

# after the refreshes: "as of DATE", printed by the host (crm_format_time) in
# locale.timezone (default Europe/Paris); computed here with Python's zoneinfo
TL=$(python3 -c 'import datetime,zoneinfo,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1]), zoneinfo.ZoneInfo("Europe/Paris")).isoformat())' $TS)
assert_eq "2024-06-01T02:00:00+02:00" "$TL" "the expected local time"
assert_exit 0 "$CRM" --as-of $T rfm refresh
assert_exit 0 "$CRM" --as-of $T segment refresh
run "$CRM" segment members big_spenders
assert_contains "$ERR" "as of $TL" "segment members says as of when"
assert_eq "$(sql "select count(*) from contacts where id in (select contact_id from orders where status in ('placed','paid') and placed_at >= $TS-365*86400 and placed_at < $TS group by contact_id having sum(total) >= 50000)")" \
  "$(line_count "$OUT")" "big_spenders members match an independent count"
run "$CRM" rfm list
assert_contains "$ERR" "as of $TL" "rfm list says as of when"
run "$CRM" rfm grid
assert_contains "$ERR" "as of $TL" "rfm grid says as of when"

# --json: each command prints JSON lines, and only JSON
check_json() { # WHAT CMD...: exit 0, at least one line, every line a JSON object
  local what=$1; shift
  run "$@"
  if [ "$RC" != 0 ]; then fail "$what: exit $RC: $ERR"; return; fi
  if [ -z "$OUT" ] || ! json_lines_valid "$OUT"; then fail "$what: not JSON: '$OUT'"; else pass; fi
}
check_json "churn refresh --json" "$CRM" --as-of $T --json churn refresh
contacts=$(sql "select count(distinct contact_id) from orders where placed_at < $TS")
assert_eq "$contacts" "$(json_get "$OUT" contacts)" "churn refresh --json counts the contacts with orders"
assert_eq "$TS" "$(json_get "$OUT" as_of)" "churn refresh --json as_of"
assert_eq "$TL" "$(json_get "$OUT" as_of_iso)" "churn refresh --json: as_of_iso, the same instant in locale.timezone"
assert_eq "$contacts" "$(python3 -c 'import json,sys; print(sum(json.loads(sys.argv[1])["contacts_by_level"]))' "$OUT")" \
  "churn refresh --json: contacts by level add up"
run "$CRM" churn list --min-score 0
assert_contains "$ERR" "as of $TL" "churn list says as of when"
check_json "rfm refresh" "$CRM" --as-of $T --json rfm refresh
run "$CRM" --json segment history big_spenders
assert_eq ok "$(python3 -c '
import datetime, json, sys, zoneinfo
z = zoneinfo.ZoneInfo("Europe/Paris")
iso = lambda t: None if t is None else datetime.datetime.fromtimestamp(t, z).isoformat()
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
bad = [r for r in rows if r["entered_at_iso"] != iso(r["entered_at"]) or r["left_at_iso"] != iso(r["left_at"])]
print("ok" if rows and not bad else ("none" if not rows else bad))' "$OUT")" "segment history --json: epoch kept, _iso twins in locale.timezone"
check_json "rfm list" "$CRM" --json rfm list
check_json "rfm show" "$CRM" --json rfm show ext:c1
check_json "rfm grid" "$CRM" --json rfm grid
check_json "segment list" "$CRM" --json segment list
check_json "segment members" "$CRM" --json segment members big_spenders
check_json "segment history" "$CRM" --json segment history big_spenders
check_json "segment refresh" "$CRM" --as-of $T --json segment refresh
check_json "segment explain (rule)" "$CRM" --as-of $T --json segment explain big_spenders --contact ext:c1
check_json "segment explain (Lua)" "$CRM" --json segment explain whales --contact ext:c1
check_json "segment explain (static)" "$CRM" --json segment explain press --contact ext:c1
assert_eq false "$(json_get "$OUT" member)" "explain of a static list: not a member"
check_json "segment add" "$CRM" --json segment add press ext:c1 ext:c2
assert_eq 2 "$(json_get "$OUT" added)" "segment add --json counts"
check_json "segment remove" "$CRM" --json segment remove press ext:c2
assert_eq 1 "$(json_get "$OUT" removed)" "segment remove --json counts"
check_json "segment diff (no change)" "$CRM" --as-of $T --json segment diff big_spenders --where "monetary >= 50000"
assert_eq "[]" "$(json_get "$OUT" enter)" "an unchanged rule: nobody enters"
check_json "segment diff" "$CRM" --as-of $T --json segment diff big_spenders --where "monetary >= 1000"
assert_eq "$(sql "select id from contacts where external_id='c2'")" "$(json_get "$OUT" enter.0)" "diff --json: who would enter"
check_json "churn list" "$CRM" --json churn list --min-score 0
check_json "churn show" "$CRM" --as-of $T --json churn show ext:c1
check_json "metrics" "$CRM" --as-of $T --json metrics
check_json "churn refresh" "$CRM" --as-of $T --json churn refresh

# the kernel's export of one contact
check_json "export contact --json" "$CRM" --json export contact ext:c1
assert_eq c1@example.com "$(json_get "$OUT" email)" "export contact --json: the contact"
assert_not_contains "$OUT" "BEGIN:VCARD" "export contact --json is not a vCard"
assert_contains "$("$CRM" export contact ext:c1)" "BEGIN:VCARD" "without --json: a vCard"
assert_exit 2 "$CRM" --json export contact ext:c1 --format vcard
check_json "export contacts --json" "$CRM" --json export contacts
assert_eq 3 "$(line_count "$OUT")" "export contacts --json: one line per contact"

finish

#!/usr/bin/env bash
# A mailing list for a campaign: `crm export contacts --segment NAME --consent
# CHANNEL:PURPOSE` and `crm contact list --segment NAME --consent ...` keep the
# segment's current members (resolved through the segmentation plugin's SDK 1.3
# contact set provider) whose consent stands granted as of --as-of; compared
# with an independent reading of the consent records.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/plugins"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-mailing-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB

# ---- without a plugin providing segments ----------------------------------------------
printf 'database: crm.db\nplugins: []\n' >crm.yaml
"$CRM" init --quiet
"$CRM" contact add --email solo@example.com --last-name Solo >/dev/null
run "$CRM" contact list --segment campaign
assert_eq 1 "$RC" "--segment without a provider: exit 1"
assert_contains "$ERR" "no loaded plugin provides segments" "--segment without a provider says why"
assert_contains "$ERR" "plugins: [segmentation]" "and how to enable one"
# --consent is the kernel's own: it works without plugins
"$CRM" consent grant --contact 1 --channel email --purpose newsletter >/dev/null
run "$CRM" --json contact list --consent email:newsletter
assert_eq 1 "$(line_count "$OUT")" "--consent without plugins"
rm -f crm.db*

if [ ! -f "$CRM_PLUGIN_PATH/segmentation.so" ]; then
  echo "segmentation.so not built (CRM_PLUGIN_SEGMENTATION=OFF): the rest is skipped"
  finish
  exit $?
fi

cat >crm.yaml <<'YAML'
database: crm.db
plugins: [segmentation]
segmentation:
  segments:
    - {name: Campaign, static: true}
    - {name: Big Spenders, where: "monetary >= 50000"}
YAML
"$CRM" init --quiet
for i in $(seq 1 9); do "$CRM" contact add --external-id c$i --email c$i@example.com --last-name N$i >/dev/null; done
"$CRM" segment add campaign ext:c1 ext:c2 ext:c3 ext:c4 ext:c5 ext:c7 ext:c8 ext:c9 >/dev/null
"$CRM" segment remove campaign ext:c8 >/dev/null   # left the segment: not a member now
g() { "$CRM" --as-of "$1" consent "$2" --contact "ext:$3" --channel "$4" --purpose "$5" >/dev/null; }
g 2024-01-01 grant c1 email newsletter                                        # granted
g 2024-01-01 grant c2 email newsletter; g 2024-03-01 withdraw c2 email newsletter   # withdrawn since
g 2024-01-01 withdraw c3 email newsletter; g 2024-02-01 grant c3 email newsletter   # granted again
g 2024-01-01 grant c4 sms newsletter; g 2024-01-01 grant c4 email offers      # other pairs only
g 2024-09-01 grant c5 email newsletter                                        # granted after T
g 2024-01-01 grant c6 email newsletter                                        # not in the segment
g 2024-01-01 grant c7 email newsletter; g 2024-01-01 withdraw c7 email newsletter   # same second: the later record wins
g 2024-01-01 grant c8 email newsletter                                        # left the segment
T=2024-06-01T00:00:00Z
g $T grant c9 email newsletter                                                # granted at T itself

# independently: the latest record per pair at or before T, members from the table
expected() { # AS_OF_EPOCH -> emails, sorted
  python3 - "$1" <<'PY'
import sqlite3, sys
t = int(sys.argv[1]); db = sqlite3.connect("crm.db")
members = {r[0] for r in db.execute("select contact_id from segmentation_members where segment='campaign' and left_at is null")}
latest = {}
for cid, status, at, rid in db.execute("select contact_id, status, recorded_at, id from consents where channel='email' and purpose='newsletter'"):
    if at <= t and (cid not in latest or (at, rid) > latest[cid][0]):
        latest[cid] = ((at, rid), status)
ok = sorted(cid for cid in members if cid in latest and latest[cid][1] == "granted")
print(" ".join(db.execute("select email from contacts where id=?", (c,)).fetchone()[0] for c in ok))
PY
}
emails_of_csv() { python3 -c 'import csv,sys; print(" ".join(sorted(r["email"] for r in csv.DictReader(sys.stdin))))'; }
emails_of_json() { python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["email"] for l in sys.stdin if l.strip())))'; }

want=$(expected 1717200000)
assert_eq "c1@example.com c3@example.com c9@example.com" "$want" "the fixture's expected list (independent)"
run "$CRM" --as-of $T export contacts --segment campaign --consent email:newsletter
assert_eq 0 "$RC" "export --segment --consent: $ERR"
assert_eq "$want" "$(emails_of_csv <<<"$OUT")" "export contacts --segment campaign --consent email:newsletter"
run "$CRM" --as-of $T --json contact list --segment campaign --consent email:newsletter
assert_eq "$want" "$(emails_of_json <<<"$OUT")" "contact list --segment --consent"
# as of a later date c5's grant counts; before every record, nobody
assert_eq "$(expected 1735689600)" "$("$CRM" --as-of 2025-01-01 --json contact list --segment campaign --consent email:newsletter | emails_of_json)" \
  "as of 2025: the later grant counts"
assert_contains "$(expected 1735689600)" "c5@example.com" "the 2025 list has c5"
assert_eq "" "$("$CRM" --as-of 2023-06-01 --json contact list --segment campaign --consent email:newsletter | emails_of_json)" \
  "as of 2023: nobody had consented"
run "$CRM" --as-of $T export contacts --segment campaign --consent email:newsletter -o list.csv
assert_eq "$want" "$(emails_of_csv <list.csv)" "export -o FILE"
run "$CRM" --as-of $T --json export contacts --segment campaign --consent EMAIL:Newsletter
assert_eq "$want" "$(emails_of_json <<<"$OUT")" "channel and purpose are case-insensitive"

# the segment alone, the consent alone, paging
run "$CRM" --json contact list --segment campaign
assert_eq "c1@example.com c2@example.com c3@example.com c4@example.com c5@example.com c7@example.com c9@example.com" \
  "$(emails_of_json <<<"$OUT")" "contact list --segment: current members only"
run "$CRM" --json contact list --segment Campaign --limit 2 --page 2
assert_eq "c3@example.com c4@example.com" "$(emails_of_json <<<"$OUT")" "--segment pages like any filter"
run "$CRM" --as-of $T --json contact list --consent email:newsletter
assert_eq "c1@example.com c3@example.com c6@example.com c8@example.com c9@example.com" "$(emails_of_json <<<"$OUT")" \
  "--consent alone"
run "$CRM" --json contact list --segment campaign --city Nowhere
assert_eq "" "$OUT" "--segment combines with the other filters"

# refusals and notes
run "$CRM" contact list --segment nope
assert_eq 1 "$RC" "unknown segment: exit 1"
assert_contains "$ERR" "campaign" "unknown segment: the known ones named"
assert_contains "$ERR" "big_spenders" "unknown segment: rule segments named"
run "$CRM" export contacts --segment nope
assert_eq 1 "$RC" "export with an unknown segment: exit 1"
assert_eq "" "$OUT" "export with an unknown segment writes nothing"
run "$CRM" contact list --segment big_spenders
assert_eq 0 "$RC" "a never-refreshed segment lists"
assert_contains "$ERR" "never been refreshed" "and says it was never refreshed"
assert_contains "$ERR" "crm segment refresh big_spenders" "and how to refresh it"
for bad in email newsletter: :x "e mail:news"; do
  assert_exit 2 "$CRM" contact list --consent "$bad"
done
# a channel or purpose crm.yaml does not list would select nobody: refused
run "$CRM" export contacts --segment campaign --consent emial:newsletter
assert_eq 1 "$RC" "an unlisted consent channel: exit 1"
assert_contains "$ERR" "did you mean 'email'" "with the nearest channel"
assert_eq "" "$OUT" "and nothing exported"
run "$CRM" contact list --consent email:newsleter
assert_contains "$ERR" "did you mean 'newsletter'" "an unlisted purpose: the nearest one"
assert_exit 2 "$CRM" export orders --segment campaign   # orders have no segment option
run "$CRM" --json plugins
assert_contains "$OUT" '"contact_sets"' "crm plugins shows the contact set provider"
run "$CRM" contact list --help
assert_contains "$OUT" "--segment" "contact list --help documents --segment"
assert_contains "$OUT" "--consent" "contact list --help documents --consent"

finish

#!/usr/bin/env bash
# The README's tour, taken from README.md itself and run on the database the
# quick start leaves (the shipped crm.yaml, the demo's 10,000 contacts; fewer
# orders to stay quick): it works, uses only ids it printed, and leaves the
# demo's customers as they were.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-tour-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
cp "$SRC/crm.yaml" . && cp -r "$SRC/scripts" .
# a build without the segmentation plugin (CRM_PLUGIN_SEGMENTATION=OFF) runs
# the tour with no plugin, as an integrator would after removing it
if [ ! -f "${CRM_BUILD_DIR:-}/plugins/segmentation.so" ]; then
    sed -i 's/^plugins: .*/plugins: []/' crm.yaml
fi

# the tour: the first sh block after "## A tour", with crm= pointing here
python3 - "$SRC/README.md" "$CRM" >tour.sh <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text[text.index("\n## A tour\n"):]
block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
lines = block.splitlines()
assert lines[0].startswith("crm="), lines[0]
print("set -euo pipefail")
print("crm=%s" % sys.argv[2])
print("\n".join(lines[1:]))
PY
assert_contains "$(cat tour.sh)" 'contact add' "the tour was extracted"

assert_exit 0 "$CRM" --quiet demo --contacts 10000 --orders 2000
snapshot() { # every demo contact, its orders, interactions and consents
    python3 - crm.db "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); top = int(sys.argv[2])
for t in ("contacts", "orders", "interactions", "consents"):
    col = "id" if t == "contacts" else "contact_id"
    for row in db.execute("select * from %s where %s <= ? order by rowid" % (t, col), (top,)):
        print(t, row)
PY
}
demo_max=$(python3 -c 'import sqlite3; print(sqlite3.connect("crm.db").execute("select max(id) from contacts").fetchone()[0])')
before=$(snapshot "$demo_max")

assert_exit 0 bash tour.sh
tour_out=$OUT
id=$(grep -m1 -xE '[0-9]+' <<<"$tour_out")
assert_eq "$((demo_max + 1))" "$id" "the tour's contact is a new one"
assert_eq "$before" "$(snapshot "$demo_max")" "the demo's customers are unchanged"

assert_exit 0 "$CRM" contact show "$id" --json
assert_eq "Jean|Dupont|jean.dupont@example.fr|+33612345678|Lyon|69003|Boulangerie Martin" \
    "$(json_get "$OUT" first_name)|$(json_get "$OUT" last_name)|$(json_get "$OUT" email)|$(json_get "$OUT" phone)|$(json_get "$OUT" city)|$(json_get "$OUT" postal_code)|$(json_get "$OUT" company)" \
    "the tour's contact, normalised and updated"
assert_eq "1|4990|paid|1|1" "$(python3 - crm.db "$id" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); c = int(sys.argv[2])
one = lambda q: db.execute(q, (c,)).fetchone()[0]
print("|".join(str(x) for x in (
    one("select count(*) from orders where contact_id = ?"),
    one("select total from orders where contact_id = ?"),
    one("select status from orders where contact_id = ?"),
    one("select count(*) from interactions where contact_id = ?"),
    one("select count(*) from consents where contact_id = ? and channel = 'email' and purpose = 'newsletter'"))))
PY
)" "the tour's order, interaction and consent are the new contact's"
assert_contains "$tour_out" "Delivery question" "timeline shows the interaction"
assert_contains "$tour_out" "49.90 EUR" "timeline shows the order"
finish

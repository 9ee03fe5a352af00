#!/usr/bin/env bash
# End to end: crm import / export through the real binary — counts, reject
# file, re-import, dry run, undo (also of a schema 2 journal), a kill -9
# mid-import then a re-run (no loss, no duplicate), export round trip with
# formula payloads.
# Needs CRM (the binary); ctest sets it and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$dir/t.db" "$1"; }

assert_exit 0 crm init
for cmd in "import contacts" "import orders" "import undo" "import list" "export contacts"; do
    # shellcheck disable=SC2086
    assert_exit 0 crm $cmd --help
    assert_contains "$OUT" "usage: crm $cmd"
done

# ---- counts, rejects, idempotence ------------------------------------------------
cat >"$dir/c.csv" <<'EOF'
external_id;first_name;last_name;email;phone;city;favourite colour
C1;jean;DUPONT;Jean@Example.com;06 12 34 56 78;Paris;blue
C2;Ana;"Lopez; Garcia";ana@example.com;;Lyon;red
C3;Bad;Mail;bad@@example.com;;;green
C4;Zoe;Dup;;0612345678;;
EOF
# a partial failure exits 1 after storing the valid rows, with the counts
assert_exit 1 crm import contacts "$dir/c.csv" --json
assert_contains "$ERR" "2 of 4 rows were rejected (see $dir/c.rejects.csv)"
assert_eq 4 "$(json_get "$OUT" read)" "read"
assert_eq 2 "$(json_get "$OUT" stored)" "stored"
assert_eq 2 "$(json_get "$OUT" rejected)" "rejected"
assert_eq "favourite colour" "$(json_get "$OUT" unknown_columns)" "unknown columns"
assert_eq "$dir/c.rejects.csv" "$(json_get "$OUT" rejects)" "reject path"
rejects=$(cat "$dir/c.rejects.csv")
assert_contains "$rejects" "favourite colour;line;reason"
assert_contains "$rejects" "C3;Bad;Mail;bad@@example.com;;;green;4;email: 'bad@@example.com'"
assert_contains "$rejects" "phone: '+33612345678' already belongs to contact 1"
first=$(json_get "$OUT" id)

# the identical file short-circuits on the journal's hash: nothing read or written
journal_rows=$(sql 'SELECT count(*) FROM import_journal')
assert_exit 0 crm import contacts "$dir/c.csv"
assert_contains "$OUT" "$dir/c.csv already imported as #$first on "
assert_contains "$OUT" "; --force to read it again"
assert_eq "$journal_rows" "$(sql 'SELECT count(*) FROM import_journal')" "no journal row"
assert_contains "$(cat "$dir/c.rejects.csv")" "C3;Bad;Mail" "the first run's reject file stays"
assert_exit 0 crm import contacts "$dir/c.csv" --json
assert_eq "$first" "$(json_get "$OUT" already_imported)" "--json names the import"
# a changed byte is another file
sed 's/blue/blue /' "$dir/c.csv" >"$dir/c2.csv"
assert_exit 1 crm import contacts "$dir/c2.csv"
assert_not_contains "$OUT" "already imported"
# --force reads it again
assert_exit 1 crm import contacts "$dir/c.csv" --force
assert_contains "$OUT" "read 4, stored 0, updated 0, unchanged 2, merged 0, rejected 2"
assert_contains "$ERR" "nothing changed"
assert_eq 2 "$(sql 'SELECT count(*) FROM contacts')" "no duplicate after re-import"

# ---- dry run ---------------------------------------------------------------------
printf 'external_id,first_name,email\nD1,Dry,dry@example.com\n' >"$dir/d.csv"
assert_exit 0 crm import contacts "$dir/d.csv" --dry-run
assert_contains "$OUT" "dry run of contacts: read 1, stored 1"
assert_eq 0 "$(sql "SELECT count(*) FROM contacts WHERE external_id='D1'")" "dry run wrote nothing"
# a dry run where every row is rejected exits 1 (it used to exit 0)
printf 'external_id,first_name,email\nD2,Dry,bad@@example.com\nD3,Dry,worse@@example.com\n' >"$dir/d2.csv"
assert_exit 1 crm import contacts "$dir/d2.csv" --dry-run
assert_contains "$OUT" "dry run of contacts: read 2, stored 0, updated 0, unchanged 0, merged 0, rejected 2"
assert_contains "$ERR" "dry run: 2 of 2 rows would be rejected"
assert_eq 0 "$(sql "SELECT count(*) FROM contacts WHERE external_id LIKE 'D%'")" "dry run wrote nothing"

# ---- orders and undo -------------------------------------------------------------
cat >"$dir/o.csv" <<'EOF'
external_id,contact_external_id,placed_at,total,currency,status
O1,C1,2025-01-02,"19,99",EUR,paid
O2,C2,2025-01-03T10:00:00+02:00,5.00,EUR,placed
O3,C9,2025-01-03,5.00,EUR,placed
EOF
assert_exit 1 crm import orders "$dir/o.csv" --rejects "$dir/o-bad.csv" --json
assert_eq 2 "$(json_get "$OUT" stored)" "orders stored"
orders_import=$(json_get "$OUT" id)
assert_contains "$(cat "$dir/o-bad.csv")" "contact_external_id: 'C9' matches no contact"
assert_exit 1 crm import undo "$first"
assert_contains "$ERR" "has an order"
assert_exit 0 crm import undo "$orders_import"
assert_eq 0 "$(sql 'SELECT count(*) FROM orders')" "orders undone"
assert_exit 0 crm import undo "$first"
assert_eq 0 "$(sql 'SELECT count(*) FROM contacts')" "contacts undone"
assert_exit 1 crm import undo "$first"
# an id past int64 was clamped by strtoll and reported as another id
assert_exit 2 crm import undo 99999999999999999999
assert_contains "$ERR" "'99999999999999999999' is not an import id"
assert_exit 0 crm import list
assert_contains "$OUT" "undone"

# ---- a database from before import_ranges (kernel schema 2) -------------------------
# Schema 2 journaled one import_records row per record. Take a database back
# to it (valid while migration 3 is the newest kernel migration), then
# `crm init` moves the rows to ranges and undo works on them.
printf 'external_id,first_name\nV1,A\nV2,B\nV3,C\n' >"$dir/v.csv"
assert_exit 0 crm import contacts "$dir/v.csv" --json
v2_import=$(json_get "$OUT" id)
if [ "$(sql "SELECT max(version) FROM schema_migrations WHERE owner='kernel'")" = 3 ]; then
    python3 - "$dir/t.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
BEGIN;
CREATE TABLE import_records(
 import_id INTEGER NOT NULL REFERENCES import_journal(id) ON DELETE CASCADE,
 entity TEXT NOT NULL, record_id INTEGER NOT NULL,
 action TEXT NOT NULL CHECK(action='stored' OR action='updated' OR action='merged'),
 PRIMARY KEY(import_id, entity, record_id)) WITHOUT ROWID;
CREATE INDEX import_records_record ON import_records(entity, record_id);
INSERT INTO import_records SELECT r.import_id, r.entity, c.id, r.action
 FROM import_ranges r JOIN contacts c ON c.id BETWEEN r.first_id AND r.last_id;
DROP TABLE import_ranges;
DELETE FROM schema_migrations WHERE owner='kernel' AND version=3;
COMMIT;
""")
EOF
    assert_eq 3 "$(sql "SELECT count(*) FROM import_records WHERE import_id=$v2_import")" \
        "schema 2 journal"
    assert_exit 0 crm init
    assert_eq 0 "$(sql "SELECT count(*) FROM sqlite_master WHERE name='import_records'")" \
        "import_records dropped"
    assert_eq "1 3" "$(sql "SELECT count(*) || ' ' || sum(last_id - first_id + 1)
                            FROM import_ranges WHERE import_id=$v2_import")" \
        "one range for the import's 3 records"
fi
assert_exit 0 crm import undo "$v2_import"
assert_eq 0 "$(sql "SELECT count(*) FROM contacts WHERE external_id LIKE 'V%'")" \
    "upgraded import undone"

# ---- kill -9 mid-import, then re-run ----------------------------------------------
n=30000
python3 - "$dir/big.csv" "$n" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("external_id,first_name,last_name,email\n")
    for i in range(int(sys.argv[2])):
        f.write(f"K{i},First{i},Last{i},k{i}@example.com\n")
EOF
"$CRM" --config "$dir/crm.yaml" import contacts "$dir/big.csv" --batch 250 --quiet \
    >/dev/null 2>&1 &
pid=$!
# held until the watcher is connected (on a loaded machine a slow python
# start let the import finish first); the watcher kills it the moment the
# journal shows 1000 rows read
kill -STOP "$pid"
python3 - "$dir/t.db" "$pid" <<'EOF'
import os, signal, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=1)
pid = int(sys.argv[2])
os.kill(pid, signal.SIGCONT)
deadline = time.time() + 120
while time.time() < deadline:
    try:
        r = db.execute("SELECT n_read FROM import_journal WHERE status='running'").fetchone()
        if r and r[0] >= 1000:
            os.kill(pid, signal.SIGKILL)
            break
    except sqlite3.Error:
        pass
    time.sleep(0.005)
EOF
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
committed=$(sql "SELECT count(*) FROM contacts WHERE external_id LIKE 'K%'")
journal=$(sql "SELECT n_stored FROM import_journal WHERE status='running'")
assert_eq "$journal" "$committed" "journal counts match committed rows"
assert_eq 0 "$((committed % 250))" "only whole batches committed ($committed)"
if [ "$committed" -lt "$n" ]; then pass; else fail "the kill came too late to test anything"; fi
killed=$(sql "SELECT id FROM import_journal WHERE status='running'")
# list_row ID: the `import list --json` row of import ID as "status read stored completes"
list_row() {
    python3 -c '
import json, sys
for line in sys.argv[1].splitlines():
    o = json.loads(line)
    if o["id"] == int(sys.argv[2]):
        print(o["status"], o["read"], o["stored"], o["completes"])
' "$OUT" "$1"
}
# any command opening the journal sees the process is gone: interrupted, with its counts
assert_exit 0 crm import list
assert_contains "$OUT" "interrupted"
assert_not_contains "$OUT" "running"
assert_exit 0 crm import list --json
assert_eq "interrupted $committed $committed None" "$(list_row "$killed")" "the killed run"
assert_exit 0 crm import contacts "$dir/big.csv" --json
assert_contains "$ERR" "completes interrupted import #$killed"
assert_eq "$killed" "$(json_get "$OUT" completes)" "re-run: the import it completes"
rerun=$(json_get "$OUT" id)
assert_eq "$committed" "$(json_get "$OUT" unchanged)" "re-run: committed rows unchanged"
assert_eq "$((n - committed))" "$(json_get "$OUT" stored)" "re-run: the rest stored"
assert_exit 0 crm import list
assert_not_contains "$OUT" "running"
grep -qE "^ *$rerun +contacts +done +$n +$((n - committed)) +0 +0 +#$killed +" <<<"$OUT" && pass ||
    fail "list: the re-run names the import it completes: $OUT"
assert_exit 0 crm import list --json
assert_eq "done $n $((n - committed)) $killed" "$(list_row "$rerun")" "the completing run"
assert_eq "interrupted $committed $committed None" "$(list_row "$killed")" "the killed run stays"
assert_eq "$n" "$(sql "SELECT count(DISTINCT external_id) FROM contacts WHERE external_id LIKE 'K%'")" \
    "every row once"
assert_eq "$n" "$(sql "SELECT count(*) FROM contacts WHERE external_id LIKE 'K%'")" "no duplicate"

# ---- export: formula payloads round-trip ---------------------------------------------
cat >"$dir/f.csv" <<'EOF'
external_id,first_name,last_name,email,street,city,source
F1,Eve,"=HYPERLINK(""http://evil"",""x"")",eve@example.com," =1+1",@SUM(A1),-2+3
F2,Tab,"	=cmd|' /C calc'!A0",tab@example.com,"+33 cmd",x,plain
EOF
assert_exit 0 crm import contacts "$dir/f.csv" --json
assert_eq 2 "$(json_get "$OUT" stored)" "formula rows stored"
assert_exit 0 crm export contacts --city @SUM\(A1\) -o "$dir/out.csv"
exported=$(cat "$dir/out.csv")
assert_contains "$exported" "'=HYPERLINK"
assert_contains "$exported" "'@sum(a1)" # the city is cased like a name
assert_contains "$exported" "'-2+3"
assert_exit 0 crm export contacts --output "$dir/all.csv"
python3 - "$dir/all.csv" <<'EOF' || fail "a cell starts with a formula character after export"
import csv, sys
for row in csv.reader(open(sys.argv[1], newline="")):
    for cell in row:
        s = cell.lstrip(" \t\r\n\x00\x01\x02\x03")
        if s[:1] in ("=", "+", "-", "@") and not s.lstrip("+-").replace(".", "").isdigit():
            sys.exit(1)
EOF
assert_exit 0 crm import contacts "$dir/all.csv" --json
assert_eq 0 "$(json_get "$OUT" stored)" "re-import of the export stores nothing"
assert_eq 0 "$(json_get "$OUT" updated)" "re-import of the export updates nothing"
assert_eq 0 "$(json_get "$OUT" rejected)" "re-import of the export rejects nothing"
assert_exit 0 crm export contacts --format jsonl -o "$dir/all.jsonl"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$dir/all.jsonl" \
    && pass || fail "export jsonl is not JSON Lines"
assert_exit 0 crm import contacts "$dir/all.jsonl" --json
assert_eq "$(json_get "$OUT" read)" "$(json_get "$OUT" unchanged)" "jsonl round trip"
assert_exit 2 crm export contacts --format xml

# ---- vCard -------------------------------------------------------------------------------
assert_exit 0 crm export contact ext:F1 --format vcard -o "$dir/f1.vcf"
assert_contains "$(cat "$dir/f1.vcf")" "BEGIN:VCARD"
assert_contains "$(cat "$dir/f1.vcf")" "UID:F1"
assert_exit 0 crm import contacts "$dir/f1.vcf" --json
assert_eq 1 "$(json_get "$OUT" unchanged)" "vCard round trip"

finish

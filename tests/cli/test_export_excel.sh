#!/usr/bin/env bash
# End to end: crm export ... --excel (';', UTF-8 BOM, CRLF, decimal comma,
# dates Excel reads) holds the same records as the plain CSV export, read
# with Python's csv module, and `crm import` reads it back unchanged.
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

assert_exit 0 crm init
cat >"$dir/c.csv" <<'EOF'
external_id,first_name,last_name,email,city,tags
C1,Éloïse,"Dupont; Martin",eloise@example.com,Besançon,vip|news
C2,Ana,=SUM(A1),ana@example.com,"Lyon, 3e",
EOF
assert_exit 0 crm import contacts "$dir/c.csv"
cat >"$dir/o.csv" <<'EOF'
external_id,contact_external_id,placed_at,total,currency,status
O1,C1,2025-01-02T10:30:00Z,"19,99",EUR,paid
O2,C2,2025-01-03,1234.5,EUR,placed
O3,C1,2025-01-04,5.00,EUR,refunded
O4,C2,2025-01-05,7,JPY,placed
O5,C2,2025-01-05,1.234,KWD,placed
EOF
assert_exit 0 crm import orders "$dir/o.csv"

for what in contacts orders companies interactions; do
    assert_exit 0 crm export "$what" --excel -o "$dir/$what.xl.csv"
    assert_exit 0 crm export "$what" -o "$dir/$what.csv"
    python3 - "$dir/$what.xl.csv" "$dir/$what.csv" "$what" <<'EOF' && pass || fail "$what: --excel"
import csv, io, sys
xl = open(sys.argv[1], "rb").read()
plain = open(sys.argv[2], "rb").read()
assert xl.startswith(b"\xef\xbb\xbf"), "BOM"
body = xl[3:]
assert body.endswith(b"\r\n") and body.count(b"\n") == body.count(b"\r\n"), "CRLF only"
rx = list(csv.reader(io.StringIO(body.decode("utf-8"), newline=""), delimiter=";"))
rp = list(csv.reader(io.StringIO(plain.decode("utf-8"), newline=""), delimiter=","))
assert rx[0] == rp[0], (rx[0], rp[0])
assert len(rx) == len(rp), (len(rx), len(rp))
for a, b in zip(rx[1:], rp[1:]):
    for name, x, p in zip(rp[0], a, b):
        if name == "total":      # the same amount with a decimal comma
            assert x == p.replace(".", ","), (x, p)
        elif name.endswith("_at"):  # the same UTC time, as Excel reads dates
            assert x == p.replace("T", " ").rstrip("Z"), (x, p)
        else:
            assert x == p, (name, x, p)
EOF
done
# amounts against the database, computed here: minor units over the currency's exponent
python3 - "$dir/orders.xl.csv" "$dir/t.db" <<'EOF' && pass || fail "amounts"
import csv, io, sqlite3, sys
rows = list(csv.DictReader(io.StringIO(open(sys.argv[1], encoding="utf-8-sig").read(), newline=""), delimiter=";"))
db = sqlite3.connect(sys.argv[2])
exp = {"EUR": 2, "JPY": 0, "KWD": 3}
for r in rows:
    minor, cur = db.execute("SELECT total, currency FROM orders WHERE external_id=?", (r["external_id"],)).fetchone()
    d = exp[cur]
    sign = "-" if minor < 0 else ""
    q, m = divmod(abs(minor), 10 ** d)
    want = sign + str(q) + ("," + str(m).zfill(d) if d else "")
    assert r["total"] == want, (r["external_id"], r["total"], want)
EOF
xl=$(cat "$dir/orders.xl.csv")
assert_contains "$xl" "O1;C1;eloise@example.com;2025-01-02 10:30:00;19,99;EUR;paid"
assert_contains "$(cat "$dir/contacts.xl.csv")" '"Dupont; Martin"'
assert_contains "$(cat "$dir/contacts.xl.csv")" ";'=sum(a1);" "formulas neutralised"
# re-importable as it is
assert_exit 0 crm import contacts "$dir/contacts.xl.csv" --json
assert_eq 2 "$(json_get "$OUT" unchanged)" "contacts read back unchanged"
assert_eq 0 "$(json_get "$OUT" rejected)" "contacts: nothing rejected"
assert_exit 0 crm import orders "$dir/orders.xl.csv" --json
assert_eq 5 "$(json_get "$OUT" unchanged)" "orders read back unchanged"
assert_eq 0 "$(json_get "$OUT" rejected)" "orders: nothing rejected"
# an empty export is a header Excel opens
assert_exit 0 crm export orders --excel --status cancelled
assert_eq "$(printf '\xef\xbb\xbfexternal_id;contact_external_id;contact_email;placed_at;total;currency;status\r')" "$OUT" "empty export"
assert_exit 2 crm export contacts --excel --format jsonl
assert_contains "$ERR" "--excel writes CSV"

finish

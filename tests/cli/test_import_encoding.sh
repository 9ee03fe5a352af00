#!/usr/bin/env bash
# End to end: crm import --encoding (windows-1252, latin1, iso-8859-15), a
# file that is not UTF-8 refused once with the suggestion, and the reject
# file keeping each rejected row byte for byte (delimiter, quoting, CRLF,
# the source's encoding). Bytes are compared with Python's own codecs.
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

# A French spreadsheet saved by Excel: windows-1252, ';', CRLF, quoted cells
# (one with ';', one with a line break), rejected rows with accents.
python3 - "$dir/w.csv" <<'EOF'
import sys
rows = [
    "external_id;first_name;last_name;email;city",
    "W1;Éloïse;Cœur;w1@example.com;Besançon",
    'W2;Zoé;"Mail; €uro";é@@example.com;Paris',
    "W3;André;Ok;w3@example.com;Orléans",
    'W4;"Multi\r\nLigne";Ça;w4@@example.com;"Saint-Étienne"',
    "W5;Short;Row;bad",
]
open(sys.argv[1], "wb").write(("\r\n".join(rows) + "\r\n").encode("cp1252"))
EOF

# ---- not UTF-8: refused once, before anything is stored ------------------------
assert_exit 1 crm import contacts "$dir/w.csv"
assert_contains "$ERR" "$dir/w.csv:2:4: byte 0xC9 is not UTF-8 (in windows-1252: 'É')"
assert_contains "$ERR" "nothing was imported"
assert_contains "$ERR" "--encoding windows-1252"
assert_eq 1 "$(line_count "$ERR")" "refused once, not row by row"
assert_eq 0 "$(sql 'SELECT count(*) FROM contacts')" "nothing stored"
assert_eq 0 "$(sql 'SELECT count(*) FROM import_journal')" "no journal row"
[ ! -e "$dir/w.rejects.csv" ] && pass || fail "no reject file for a refused file"
# a dry run says the same
assert_exit 1 crm import contacts "$dir/w.csv" --dry-run
assert_contains "$ERR" "is not UTF-8"
# a pipe is checked as it is read: the same refusal
run bash -c "cat '$dir/w.csv' | '$CRM' --config '$dir/crm.yaml' import contacts /dev/stdin"
assert_eq 1 "$RC" "pipe: exit"
assert_contains "$ERR" "/dev/stdin:2:4: byte 0xC9 is not UTF-8"
assert_eq 0 "$(sql 'SELECT count(*) FROM contacts')" "pipe: nothing stored"

# ---- --encoding windows-1252 ------------------------------------------------------
assert_exit 1 crm import contacts "$dir/w.csv" --encoding windows-1252 --json
assert_eq 5 "$(json_get "$OUT" read)" "read"
assert_eq 2 "$(json_get "$OUT" stored)" "stored W1 W3"
assert_eq 3 "$(json_get "$OUT" rejected)" "rejected W2 W4 W5"
python3 - "$dir/t.db" <<'EOF' && pass || fail "stored text is not the file's text in UTF-8"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
got = db.execute("SELECT first_name, last_name, city FROM contacts WHERE external_id='W1'").fetchone()
want = tuple(b.decode("cp1252") for b in (b"\xc9lo\xefse", b"C\x9cur", b"Besan\xe7on"))
assert got == want, (got, want)
assert db.execute("SELECT city FROM contacts WHERE external_id='W3'").fetchone()[0] == "Orléans"
EOF

# ---- the reject file: the original rows byte for byte ----------------------------
python3 - "$dir/w.csv" "$dir/w.rejects.csv" <<'EOF' && pass || fail "reject file is not the source's bytes"
import sys
src = open(sys.argv[1], "rb").read()
rej = open(sys.argv[2], "rb").read()
header, w1, w2, w3, w4a, w4b, w5, _ = src.split(b"\r\n")
w4 = w4a + b"\r\n" + w4b  # a quoted line break belongs to the row
lines = rej.split(b"\r\n")
assert rej.endswith(b"\r\n"), "CRLF kept"
assert lines[0] == header + b";line;reason", lines[0]
reasons = {}
for raw, line in ((w2, 3), (w4, 5), (w5, 7)):
    start = raw + b";" if raw != w5 else raw + b";;"  # a short row padded to the header
    i = rej.index(start + str(line).encode() + b";")
    reasons[line] = rej[i + len(start) + len(str(line)) + 1:].split(b"\r\n")[0]
# reasons are in the source's encoding too: the value quoted as it was
assert reasons[3].decode("cp1252").startswith("email: 'é@@example.com'"), reasons[3]
assert b"\xe9@@example.com" in reasons[3]
assert reasons[5].startswith(b"email:"), reasons[5]
assert b"W1;" not in rej and b"W3;" not in rej
EOF
# the reject file, fixed, imports back with the same encoding
python3 - "$dir/w.rejects.csv" "$dir/fixed.csv" <<'EOF'
import sys
text = open(sys.argv[1], "rb").read().decode("cp1252")
text = text.replace("é@@", "e2@").replace("w4@@", "w4@").replace("W5;Short;Row;bad;", "W5;Short;Row;w5@example.com;")
open(sys.argv[2], "wb").write(text.encode("cp1252"))
EOF
assert_exit 0 crm import contacts "$dir/fixed.csv" --encoding cp1252 --map line=- --map reason=- --json
assert_eq 3 "$(json_get "$OUT" stored)" "the fixed rejects import"
assert_eq "Mail; €uro" "$(sql "SELECT last_name FROM contacts WHERE external_id='W2'")" "W2"

# ---- latin1 and iso-8859-15 read 0xA4 as their own character --------------------------
printf 'external_id,first_name,last_name\nL1,Prix,Co\xfbt \xa4\n' >"$dir/l.csv"
assert_exit 0 crm import contacts "$dir/l.csv" --encoding latin1
assert_eq "Coût ¤" "$(sql "SELECT last_name FROM contacts WHERE external_id='L1'")" "latin1"
# another encoding is another input: not short-circuited
assert_exit 0 crm import contacts "$dir/l.csv" --encoding iso-8859-15
assert_contains "$OUT" "updated 1"
assert_eq "Coût €" "$(sql "SELECT last_name FROM contacts WHERE external_id='L1'")" "iso-8859-15"

# ---- refusals ----------------------------------------------------------------------------
assert_exit 2 crm import contacts "$dir/l.csv" --encoding ebcdic
assert_contains "$ERR" "expected utf-8, windows-1252, latin1 or iso-8859-15"
printf '{"external_id":"J1"}\n' >"$dir/j.jsonl"
assert_exit 2 crm import contacts "$dir/j.jsonl" --encoding latin1
assert_contains "$ERR" "JSON Lines and vCard files are UTF-8"
printf '\xef\xbb\xbfexternal_id,first_name\nB1,Bom\n' >"$dir/bom.csv"
assert_exit 1 crm import contacts "$dir/bom.csv" --encoding windows-1252
assert_contains "$ERR" "starts with a UTF-8 byte order mark"
assert_exit 0 crm import contacts "$dir/bom.csv"
# a byte windows-1252 leaves undefined rejects its row, naming the column
printf 'external_id;first_name\nU1;A\x81b\nU2;Ok\n' >"$dir/u.csv"
assert_exit 1 crm import contacts "$dir/u.csv" --encoding windows-1252
assert_contains "$OUT" "stored 1"
assert_contains "$(cat "$dir/u.rejects.csv")" "first_name: column 2: byte 0x81 at character 2 is not a windows-1252 character"

finish

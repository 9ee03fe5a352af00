#!/usr/bin/env bash
# Text output: list tables aligned by display width (accents, CJK), long
# cells cut with …, money in major units with its currency (JSON keeps minor
# units). Widths are recomputed here with Python's unicodedata, independently
# of utf8proc.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: t.db\nlocale: {country: FR, currency: EUR}\n' >"$dir/crm.yaml"
unset CRM_DB CRM_CONFIG
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

# columns TEXT WORD...: for each line of TEXT, the display column where each
# field after the first starts (fields are separated by two or more spaces;
# the first, right-aligned ids, is left out), one line per row: "12 40 58".
columns() {
    python3 -c '
import re, sys, unicodedata
def width(s):
    w = 0
    for ch in s:
        if unicodedata.combining(ch): continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w
for line in sys.argv[1].splitlines():
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", line)]
    print(" ".join(str(width(line[:s])) for s in starts))
' "$1"
}

assert_exit 0 crm init
assert_exit 0 crm contact add --first-name "élodie" --last-name "hervé" --email elodie@example.fr \
    --phone "06 12 34 56 78" --city "Saint-Étienne"
c1=$OUT
assert_exit 0 crm contact add --first-name "日本" --last-name "太郎" --email taro@example.jp --city 東京
c2=$OUT
assert_exit 0 crm contact add --first-name Jean --last-name "De La Fontaine-Dupont-Saint-Exupéry" \
    --email jean@example.com --city Paris
c3=$OUT

assert_exit 0 crm contact list
list=$OUT
assert_eq 4 "$(line_count "$list")" "header and three contacts"
cols=$(columns "$list")
# Every row starts each of its 5 fields at the header's columns.
header_cols=$(head -1 <<<"$cols")
assert_eq 4 "$(wc -w <<<"$header_cols")" "four header fields after ID"
while read -r row; do
    assert_eq "$header_cols" "$row" "field columns of a contact row"
done < <(tail -n +2 <<<"$cols")
assert_contains "$list" "Élodie Hervé"
assert_contains "$list" "日本 太郎"
assert_contains "$list" "東京"
# The long name is cut to the column's 32 columns, ending with …
cut=$(grep -o 'Jean [^…]*…' <<<"$list" || true)
assert_eq 32 "$(python3 -c 'import sys; print(len(sys.argv[1]))' "$cut")" "cut name width"
assert_contains "$list" "…"

assert_exit 0 crm company add --name "Élan Vital" --city Lyon
assert_exit 0 crm company add --name "株式会社 日本" --city 大阪
assert_exit 0 crm company add --name "Acme" --city Paris
assert_exit 0 crm company list
cols=$(columns "$OUT")
header_cols=$(head -1 <<<"$cols")
while read -r row; do
    assert_eq "$header_cols" "$row" "field columns of a company row"
done < <(tail -n +2 <<<"$cols")

# ---- money in major units with its currency -----------------------------------------
assert_exit 0 crm order add --contact "$c1" --total 49,90 --status paid --placed-at 2025-01-01
o1=$OUT
assert_exit 0 crm order add --contact "$c2" --total 1500 --currency JPY --placed-at 2025-01-02
o2=$OUT
assert_exit 0 crm order add --contact "$c3" --total 1.5 --currency KWD --placed-at 2025-01-03
o3=$OUT
assert_exit 0 crm order add --contact "$c3" --total 1234567,8 --placed-at 2025-01-04 \
    --line SKU-A:2:617283.90
assert_exit 0 crm order list
list=$OUT
assert_contains "$list" "49.90 EUR"
assert_contains "$list" "1 500 JPY"
assert_contains "$list" "1.500 KWD"
assert_contains "$list" "1 234 567.80 EUR"
# Amounts are right-aligned: every row's amount ends at the same column.
ends=$(python3 -c '
import sys
print(len(set(len(l.rstrip()) for l in sys.argv[1].splitlines())))' "$list")
assert_eq 1 "$ends" "order rows end at one column (amount right-aligned, last)"
assert_exit 0 crm order show "$o2"
assert_contains "$OUT" "1 500 JPY"
assert_exit 0 crm order show 4
assert_contains "$OUT" "SKU-A x 2 @ 617 283.90 EUR"
assert_exit 0 crm timeline "$c3"
assert_contains "$OUT" "#$o3 placed 1.500 KWD"
# JSON keeps minor units.
assert_exit 0 crm order show "$o2" --json
assert_eq 1500 "$(json_get "$OUT" total_minor)" "JPY minor units"
assert_exit 0 crm order show "$o3" --json
assert_eq 1500 "$(json_get "$OUT" total_minor)" "KWD minor units (fils)"
assert_exit 0 crm order list --json
json_lines_valid "$OUT" && pass || fail "order list --json"
assert_exit 0 crm order show "$o1" --json
assert_eq 4990 "$(json_get "$OUT" total_minor)" "EUR cents"

finish

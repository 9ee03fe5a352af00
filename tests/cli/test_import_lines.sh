#!/usr/bin/env bash
# End to end: crm import orders --lines. Sorted files are merged, unsorted
# ones staged: both store the same orders and lines; orders without lines;
# a bad line rejects its order (naming the lines file line) and nothing
# else; lines matching no order go to the lines reject file; a batch run
# again in safe mode, then a re-run, store every line exactly once.
# Needs CRM (the binary); ctest sets it and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
unset CRM_DB CRM_CONFIG
# one database per case: crm_in NAME ARGS...
crm_in() {
    local name=$1
    shift
    [ -f "$dir/$name.yaml" ] || printf 'database: %s.db\n' "$name" >"$dir/$name.yaml"
    "$CRM" --config "$dir/$name.yaml" "$@"
}
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$dir/$1.db" "$2"; }
dump() {
    sql "$1" "SELECT group_concat(x, ' | ') FROM (SELECT o.external_id || ',' || o.total || ','
              || o.status || ',' || coalesce(l.sku, '-') || ',' || coalesce(l.quantity, '-') || ','
              || coalesce(l.unit_price, '-') AS x FROM orders o LEFT JOIN order_lines l
              ON l.order_id = o.id ORDER BY o.external_id, l.id)"
}
setup_db() {
    assert_exit 0 crm_in "$1" init
    printf 'external_id,first_name\nC1,Al\nC2,Bo\n' >"$dir/c.csv"
    assert_exit 0 crm_in "$1" import contacts "$dir/c.csv"
}

cat >"$dir/o.csv" <<'EOF'
external_id,contact_external_id,placed_at,total
B01,C1,2025-02-01,
B02,C1,2025-02-01,7.00
B03,C1,2025-02-01,
B04,C404,2025-02-01,
B05,C2,2025-02-01,
B06,C2,2025-02-01,
B07,C2,2025-02-01,
EOF
# a spreadsheet's export: BOM, CRLF, ';'; sorted by order key
printf '\xEF\xBB\xBForder_external_id;sku;quantity;unit_price\n%s' \
    'A00;ORPHAN-A;1;1
B01;S1;2;1.50
B01;"S;2";1;2
B04;X1;1;1
B045;ORPHAN-M;1;1
B05;S5;1;4
B06;S6;zero;1
B06;S6b;1;1
B07;S7;3;1
Z99;ORPHAN-Z;1;1
' | sed 's/$/\r/' >"$dir/l.csv"

# ---- sorted: the merge -------------------------------------------------------------
setup_db m
assert_exit 1 crm_in m import orders "$dir/o.csv" --lines "$dir/l.csv" --json
assert_eq 7 "$(json_get "$OUT" read)" "read"
assert_eq 4 "$(json_get "$OUT" stored)" "stored: B01 B02 B05 B07"
assert_eq 3 "$(json_get "$OUT" rejected)" "rejected: B03 B04 B06"
assert_eq 3 "$(json_get "$OUT" orphan_lines)" "orphan lines counted in the report"
assert_contains "$ERR" "3 of 7 rows were rejected (see $dir/o.rejects.csv); 3 order lines match no order (see $dir/l.rejects.csv)"
assert_eq "$dir/l.rejects.csv" "$(json_get "$OUT" lines_rejects)" "orphan lines' reject file"
rejects=$(cat "$dir/o.rejects.csv")
assert_contains "$rejects" "B06,C2,2025-02-01,,7,lines file line 8: quantity: 'zero'"
assert_contains "$rejects" "B03,C1,2025-02-01,,4,total: is required (no lines for this order)"
assert_eq "B01,500,placed,S1,2,150 | B01,500,placed,S;2,1,200 | B02,700,placed,-,-,- | B05,400,placed,S5,1,400 | B07,300,placed,S7,3,100" \
    "$(dump m)" "merged orders and lines"
orphans=$(cat "$dir/l.rejects.csv")
# the lines as the file has them: BOM, ';', CRLF
assert_eq "$(printf '\xEF\xBB\xBForder_external_id;sku;quantity;unit_price;line;reason\r')" \
    "$(head -1 "$dir/l.rejects.csv")" "orphans' header, byte for byte"
assert_contains "$orphans" "$(printf "A00;ORPHAN-A;1;1;2;order_external_id: 'A00' matches no order in the orders file\r")"
assert_contains "$orphans" "B045;ORPHAN-M;1;1;6;"
assert_contains "$orphans" "Z99;ORPHAN-Z;1;1;11;"
assert_not_contains "$orphans" "X1" "orphans (B04's line belongs to a refused order)"
assert_eq 4 "$(line_count "$orphans")" "orphan file lines"

# ---- unsorted: staging, the same result ---------------------------------------------
{ head -1 "$dir/l.csv"; tail -1 "$dir/l.csv"; sed '1d;$d' "$dir/l.csv"; } >"$dir/u.csv"
setup_db s
assert_exit 1 crm_in s import orders "$dir/o.csv" --lines "$dir/u.csv" --json
assert_eq 4 "$(json_get "$OUT" stored)" "staged: stored"
assert_eq 3 "$(json_get "$OUT" orphan_lines)" "staged: orphan lines counted"
assert_eq "$(dump m)" "$(dump s)" "staged orders and lines"
assert_contains "$(cat "$dir/o.rejects.csv")" "lines file line 9: quantity: 'zero'"
orphans=$(cat "$dir/u.rejects.csv")
assert_contains "$orphans" "Z99;ORPHAN-Z;1;1;2;order_external_id: 'Z99' matches no order"
assert_contains "$orphans" "B045;ORPHAN-M;1;1;7;"
assert_eq 4 "$(line_count "$orphans")" "staged orphan file lines"

# ---- a dry run reports the same, writes nothing ---------------------------------------
setup_db d
assert_exit 1 crm_in d import orders "$dir/o.csv" --lines "$dir/l.csv" --dry-run
assert_contains "$OUT" "stored 4"
assert_eq 0 "$(sql d 'SELECT count(*) FROM order_lines')" "dry run lines"
assert_eq 4 "$(line_count "$(cat "$dir/l.rejects.csv")")" "dry run orphans"

# ---- a batch run again in safe mode, then a re-run --------------------------------------
python3 - "$dir" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/ro.csv", "w") as o, open(d + "/rl.csv", "w") as l:
    o.write("external_id,contact_external_id,placed_at,note\n")
    l.write("order_external_id,sku,quantity,unit_price\n")
    for i in range(250):
        o.write("R%03d,C1,2025-03-01,n\n" % i)
        for j in range(i % 3 + 1):
            l.write("R%03d,%s%d-%d,%d,1.25\n" % (i, "BOOM" if (i, j) == (197, 1) else "K", i, j, j + 1))
EOF
total=$(($(wc -l <"$dir/rl.csv") - 1))
setup_db b
# a line insert that fails after its order was written spoils the fast batch
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TRIGGER boom AFTER INSERT ON order_lines WHEN NEW.sku LIKE '"'BOOM%'"' BEGIN SELECT RAISE(ABORT, '"'boom'"'); END"); c.commit()' "$dir/b.db"
assert_exit 1 crm_in b import orders "$dir/ro.csv" --lines "$dir/rl.csv" --batch 100 --json
assert_eq 249 "$(json_get "$OUT" stored)" "stored with the fallback"
assert_eq 1 "$(json_get "$OUT" rejected)" "R197 rejected"
assert_eq note "$(json_get "$OUT" unknown_columns)" "unknown columns survive the batch's re-run"
assert_eq $((total - 3)) "$(sql b 'SELECT count(*) FROM order_lines')" "lines after the fallback"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DROP TRIGGER boom"); c.commit()' "$dir/b.db"
assert_exit 0 crm_in b import orders "$dir/ro.csv" --lines "$dir/rl.csv" --batch 100
assert_contains "$OUT" "already imported as #" "the same files short-circuit"
assert_exit 0 crm_in b import orders "$dir/ro.csv" --lines "$dir/rl.csv" --batch 100 --json --force
assert_eq 1 "$(json_get "$OUT" stored)" "re-run stores R197"
assert_eq 249 "$(json_get "$OUT" unchanged)" "re-run: the rest unchanged"
assert_eq "$total" "$(sql b 'SELECT count(*) FROM order_lines')" "every line"
assert_eq 0 "$(sql b 'SELECT count(*) FROM (SELECT order_id, sku FROM order_lines GROUP BY 1, 2 HAVING count(*) > 1)')" "no line twice"
assert_eq 0 "$(sql b 'SELECT count(*) FROM orders o WHERE total <> (SELECT sum(quantity * unit_price) FROM order_lines l WHERE l.order_id = o.id)')" "totals match lines"
[ ! -e "$dir/rl.rejects.csv" ] && pass || fail "no orphans, no lines reject file"

# ---- a short line first: the header's mapping and the reject file's columns hold -----
printf 'external_id,contact_external_id,placed_at,extra_col\nB1,C1,2025-01-01,x\n' >"$dir/so.csv"
printf 'order_external_id,sku,quantity,unit_price\nA0,X\nB1,S,1,2\nZ9,Y,1,3\n' >"$dir/sl.csv"
setup_db short
assert_exit 1 crm_in short import orders "$dir/so.csv" --lines "$dir/sl.csv" --json
assert_eq 1 "$(json_get "$OUT" stored)" "the order after a short line keeps its line"
assert_eq "B1,200,placed,S,1,200" "$(dump short)" "its line"
assert_eq "extra_col" "$(json_get "$OUT" unknown_columns)" "unknown column reported"
assert_eq "order_external_id,sku,quantity,unit_price,line,reason" "$(head -1 "$dir/sl.rejects.csv")" \
    "lines reject header: every column of the lines file"
assert_contains "$(cat "$dir/sl.rejects.csv")" "A0,X,,,2,order_external_id: 'A0' matches no order"
assert_contains "$(cat "$dir/sl.rejects.csv")" "Z9,Y,1,3,4,order_external_id: 'Z9' matches no order"

finish

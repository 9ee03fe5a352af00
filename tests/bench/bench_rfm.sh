#!/usr/bin/env bash
# RFM / segmentation benchmark (never run by ctest):
#   tests/bench/bench_rfm.sh [CONTACTS] [ORDERS] [LUA_CONTACTS]
#                                     (default 200000 2000000 1000000)
# Every figure of a run is taken on the same machine in the same minutes;
# the ratios it prints are against baselines of that run.
# 1. Generates the data with `crm demo --csv`, imports contacts with
#    `crm import contacts`; orders with `crm import orders` up to 2M orders
#    (LOAD=crm forces it, LOAD=sqlite forces the fast path: orders.csv loaded
#    with the sqlite3 shell straight into the kernel's orders table after
#    `crm init`, contact resolved by external_id, money in minor units, time
#    in epoch seconds; no events, which RFM does not read).
# 2. RFM, same database:
#    - `crm rfm refresh`: first (scores and memberships created), steady
#      (same day: nothing changes), next day (as of 24 h later);
#    - the sqlite3 shell running the equivalent SQL (window functions: rank()
#      with ties taking the lowest rank, the same filters and grid) on a bare
#      table of the orders' five columns (no index: the shell's best case),
#      and on crm's orders table; results compared with crm's for every
#      contact;
#    - DuckDB (@duckdb/node-api, tests/bench/node: `npm ci` there) loading
#      the same five columns from CSV and computing the same SQL; load and
#      compute reported apart, results compared;
#    goals (issue 19): first <= 1.0x the bare-table SQL, next day <= 0.15x
#    it and <= 2x DuckDB's compute.
# 3. Incremental: bench_seg_incremental (build with -DCRM_BUILD_BENCH=ON):
#    median time from committing one order to the contact's updated scores
#    and memberships, over 200 orders, minus the same order add without the
#    plugin.
# 4. A Lua predicate segment and a declarative one over every contact
#    (`crm segment refresh NAME`: first run with memberships created, then
#    steady), then the Lua segment over LUA_CONTACTS contacts (a second
#    database: contacts through `crm import`, 2 orders per contact through
#    the sqlite3 fast path) against the same predicate as SQL in the sqlite3
#    shell; goal: under 1 s at 1M contacts.
# CRM=path/to/crm (default: build-rel/core/crm, else build/core/crm);
# BENCH=path/to/bench_seg_incremental (default: next to crm's build tree).
set -euo pipefail
contacts=${1:-200000}
orders=${2:-2000000}
lua_contacts=${3:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
CRM=${CRM:-$(ls "$root"/build-rel/core/crm "$root"/build/core/crm 2>/dev/null | head -1)}
CRM=$(cd "$(dirname "$CRM")" && pwd)/$(basename "$CRM")
BENCH=${BENCH:-$(dirname "$(dirname "$CRM")")/tests/bench/bench_seg_incremental}
export CRM_PLUGIN_PATH=${CRM_PLUGIN_PATH:-$(dirname "$(dirname "$CRM")")/plugins}
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell" >&2; exit 2; }
[ -f "$CRM_PLUGIN_PATH/segmentation.so" ] || { echo "no segmentation.so in $CRM_PLUGIN_PATH" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-rfm-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

# bash's own clock: a python3 call around each command added its start-up
# (0.03 s, 0.3 s through a version manager's shim) to every figure
secs() { echo "${EPOCHREALTIME/,/.}"; }
# timed LABEL CMD...: runs CMD (output discarded), prints seconds, sets $T_LAST;
# exit status 1 is "some rows were rejected" (the demo data is dirty on purpose)
timed() {
    local label=$1 t0 t1 rc=0
    shift
    t0=$(secs)
    "$@" >/dev/null || rc=$?
    t1=$(secs)
    [ "$rc" -le 1 ] || { echo "$label: exit status $rc" >&2; exit "$rc"; }
    T_LAST=$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")
    printf '%-52s %8.3f s\n' "$label" "$T_LAST"
}

# csv/orders.csv straight into crm's orders table (the fast path: no events)
load_orders_sqlite() {
    sqlite3 crm.db <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
.import --csv --schema temp csv/orders.csv raw_orders
INSERT INTO orders(external_id, contact_id, placed_at, total, currency, status, created_at, updated_at)
SELECT r.external_id, c.id, CAST(strftime('%s', r.placed_at) AS INTEGER),
       CAST(round(CAST(r.total AS REAL) * 100) AS INTEGER), r.currency, r.status,
       CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER)
FROM temp.raw_orders r JOIN contacts c ON c.external_id = r.contact_external_id;
SQL
}

write_segment_config() {
cat >seg.lua <<'LUA'
-- a Lua predicate: spent at least 500.00 over its lifetime, or tagged vip
function big_or_vip(c)
  if (c.total_spent or 0) >= 50000 then return true end
  return c:has_tag("vip")
end
LUA
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [segmentation]
segmentation:
  rfm:
    window_days: 365
    currency: EUR
  segments:
    - {name: Decl Big, where: "monetary >= 50000 or tag = vip"}
    - {name: Lua Big, lua: "seg.lua:big_or_vip"}
YAML
}

# 4b. (ONLY=lua runs this part alone)
lua_section() {
echo "-- a Lua segment over $lua_contacts contacts"
mkdir -p lua && cd lua
printf 'database: crm.db\nplugins: []\n' >crm.yaml # loaded without the plugin's subscribers
"$CRM" demo --csv csv --contacts "$lua_contacts" --orders $((2 * lua_contacts)) --quiet >/dev/null
"$CRM" init --quiet >/dev/null
timed "crm import contacts ($lua_contacts)" "$CRM" --quiet import contacts csv/contacts.csv
timed "sqlite3 load of orders.csv into orders (no events)" load_orders_sqlite
write_segment_config
"$CRM" plugins >/dev/null
echo "database: $(sqlite3 crm.db 'SELECT count(*) FROM contacts') contacts, $(sqlite3 crm.db 'SELECT count(*) FROM orders') orders"
T=$(sqlite3 crm.db "SELECT max(placed_at) + 86400 FROM orders")
asof=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($T, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
timed "crm segment refresh lua_big (first)" "$CRM" --as-of "$asof" segment refresh lua_big
t_lua_first=$T_LAST
timed "crm segment refresh lua_big (steady)" "$CRM" --as-of "$asof" segment refresh lua_big
t_lua=$T_LAST
# the predicate as SQL: what the rule computes, with SQLite's own aggregation
cat >lua_ref.sql <<SQL
CREATE TEMP TABLE want AS
SELECT c.id FROM contacts c LEFT JOIN
  (SELECT contact_id, sum(total) AS spent FROM orders
   WHERE status IN ('placed','paid') AND placed_at <= $T GROUP BY contact_id) o ON o.contact_id = c.id
WHERE coalesce(o.spent, 0) >= 50000
   OR EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = 'vip');
SQL
timed "sqlite3 shell, the same predicate as SQL" sqlite3 crm.db ".read lua_ref.sql"
t_lua_sql=$T_LAST
members="SELECT contact_id FROM segmentation_members WHERE segment = 'lua_big' AND left_at IS NULL"
echo "crm vs SQL: $(sqlite3 crm.db ".read lua_ref.sql" "SELECT
  (SELECT count(*) FROM (SELECT id FROM temp.want EXCEPT $members))
  + (SELECT count(*) FROM ($members EXCEPT SELECT id FROM temp.want))" | tail -1) contacts differ"
python3 - "$t_lua_first" "$t_lua" "$t_lua_sql" <<'PY'
import sys
first, steady, sql = map(float, sys.argv[1:])
print(f"Lua segment: {steady:.3f} s steady, {first:.3f} s first (goal < 1 s at 1M contacts);"
      f" {steady / sql:.2f}x the same predicate as SQL")
PY
}

if [ "${ONLY:-}" = lua ]; then
    lua_section
    exit 0
fi
echo "== $contacts contacts, $orders orders (crm: $CRM)"
printf 'database: crm.db\nplugins: []\n' >crm.yaml
timed "crm demo --csv" "$CRM" demo --csv csv --contacts "$contacts" --orders "$orders" --quiet
"$CRM" init --quiet >/dev/null
timed "crm import contacts" "$CRM" --quiet import contacts csv/contacts.csv
load=${LOAD:-$([ "$orders" -le 2000000 ] && echo crm || echo sqlite)}
if [ "$load" = crm ]; then
    timed "crm import orders" "$CRM" --quiet import orders csv/orders.csv
else
    timed "sqlite3 load of orders.csv into orders (no events)" load_orders_sqlite
fi
n_orders=$(sqlite3 crm.db "SELECT count(*) FROM orders")
n_contacts=$(sqlite3 crm.db "SELECT count(*) FROM contacts")
T=$(sqlite3 crm.db "SELECT max(placed_at) + 86400 FROM orders")
asof=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp($T, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
echo "database: $n_contacts contacts, $n_orders orders; as of $asof"

write_segment_config
"$CRM" plugins >/dev/null # applies the plugin's migrations outside the timings
crm() { "$CRM" --as-of "$asof" "$@"; }

# The reference RFM as SQL over table $2 as of $1, into temp table ref.
ref_sql() {
    cat <<SQL
CREATE TEMP TABLE ref AS
WITH q AS (SELECT contact_id, placed_at, total FROM $2
           WHERE status IN ('placed','paid') AND placed_at < $1 AND placed_at >= $1 - 365 * 86400
             AND currency = 'EUR'),
     a AS (SELECT contact_id, ($1 - max(placed_at)) / 86400 AS rd, count(*) AS fr,
                  sum(total) AS mo FROM q GROUP BY contact_id),
     n AS (SELECT count(*) AS n FROM a),
     s AS (SELECT contact_id, rd, fr, mo,
                  1 + (5 * (rank() OVER (ORDER BY rd DESC) - 1)) / n AS r,
                  1 + (5 * (rank() OVER (ORDER BY fr) - 1)) / n AS f,
                  1 + (5 * (rank() OVER (ORDER BY mo) - 1)) / n AS m
           FROM a, n)
SELECT contact_id, rd, fr, mo, r, f, m,
       CASE WHEN r = 5 AND f >= 4 THEN 'champions'
            WHEN r BETWEEN 3 AND 4 AND f >= 4 THEN 'loyal'
            WHEN r >= 4 AND f BETWEEN 2 AND 3 THEN 'potential_loyalists'
            WHEN r = 5 AND f = 1 THEN 'new'
            WHEN r = 4 AND f = 1 THEN 'promising'
            WHEN r = 3 AND f = 3 THEN 'need_attention'
            WHEN r = 3 AND f <= 2 THEN 'about_to_sleep'
            WHEN r <= 2 AND f BETWEEN 3 AND 4 THEN 'at_risk'
            WHEN r <= 2 AND f = 5 THEN 'cant_lose_them'
            WHEN r <= 2 AND f <= 2 THEN 'hibernating' END AS segment
FROM s;
SQL
}
# Contacts whose stored scores differ from the reference $1: a .sql file
# creating temp.ref, or a CSV of ref's columns (DuckDB's output).
diff_vs() {
    local load=".read $1"
    case $1 in *.csv) load=".import --csv --schema temp $1 ref" ;; esac
    sqlite3 crm.db "$load" "SELECT count(*) FROM temp.ref r FULL JOIN segmentation_rfm x USING (contact_id)
      WHERE r.contact_id IS NULL OR x.contact_id IS NULL OR x.recency_days != r.rd
         OR x.frequency != r.fr OR x.monetary != r.mo OR x.r != r.r OR x.f != r.f OR x.m != r.m
         OR coalesce(x.segment, '') != coalesce(r.segment, '');" | tail -1
}

# the shell's best case: the five columns in a bare table, no index
sqlite3 crm.db "CREATE TABLE bench_bare AS SELECT contact_id, placed_at, total, currency, status FROM orders"
T2=$((T + 86400))
asof2=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($T2, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")

echo "-- full RFM"
timed "crm rfm refresh (first: memberships created)" crm rfm refresh
t_first=$T_LAST
timed "crm rfm refresh (steady: same day)" crm rfm refresh
t_crm=$T_LAST
ref_sql "$T" orders >ref.sql
ref_sql "$T" bench_bare >ref_bare.sql
timed "sqlite3 shell, window functions, bare table" sqlite3 crm.db ".read ref_bare.sql"
t_sql=$T_LAST
timed "sqlite3 shell, window functions, crm's orders table" sqlite3 crm.db ".read ref.sql"
t_sql_crm=$T_LAST
# the floor of any refresh that reads its orders from SQLite: one pass over
# the window's orders, nothing computed
timed "sqlite3 shell, one read of the window's orders" sqlite3 crm.db \
    "SELECT count(*), sum(total) FROM orders WHERE status IN ('placed','paid')
       AND +placed_at < $T AND +placed_at >= $T - 365 * 86400"
t_scan=$T_LAST
echo "crm vs sqlite3 reference: $(diff_vs ref.sql) contacts differ" \
     "(of $(sqlite3 crm.db 'SELECT count(*) FROM segmentation_rfm') scored)"

t_dload=nan t_duck=nan t_duck2=nan
node_dir=$root/tests/bench/node
if command -v node >/dev/null && [ -d "$node_dir/node_modules/@duckdb/node-api" ]; then
    sqlite3 -header -csv crm.db "SELECT contact_id, placed_at, total, currency, status FROM orders" >orders5.csv
    read -r t_dload t_duck < <(node "$node_dir/rfm_duckdb.mjs" orders5.csv "$T" duck.csv)
    printf '%-52s %8.3f s\n' "DuckDB load (five columns from CSV)" "$t_dload"
    printf '%-52s %8.3f s\n' "DuckDB compute (same SQL)" "$t_duck"
    echo "crm vs DuckDB: $(diff_vs duck.csv) contacts differ"
else
    echo "(DuckDB baseline skipped: run npm ci in $node_dir)"
fi

echo "-- next day (as of $asof2)"
timed "crm rfm refresh (next day)" "$CRM" --as-of "$asof2" rfm refresh
t_next=$T_LAST
ref_sql "$T2" orders >ref2.sql
if [ "$t_duck" != nan ]; then
    read -r _ t_duck2 < <(node "$node_dir/rfm_duckdb.mjs" orders5.csv "$T2" duck2.csv)
    printf '%-52s %8.3f s\n' "DuckDB compute (next day)" "$t_duck2"
fi
echo "crm vs sqlite3 reference (next day): $(diff_vs ref2.sql) contacts differ"
[ "$t_duck2" = nan ] || echo "crm vs DuckDB (next day): $(diff_vs duck2.csv) contacts differ"

python3 - "$t_first" "$t_crm" "$t_next" "$t_sql" "$t_sql_crm" "$t_duck" "$t_duck2" "$t_scan" <<'PY'
import math, sys
first, steady, nxt, sql, sql_crm, duck, duck2, scan = map(float, sys.argv[1:])
print(f"ratio first refresh / bare-table SQL:     {first / sql:.3f}x  (goal <= 1.0x)")
print(f"ratio next-day refresh / bare-table SQL:  {nxt / sql:.3f}x  (goal <= 0.15x)")
print(f"ratio steady refresh / bare-table SQL:    {steady / sql:.3f}x")
print(f"ratio one read of the orders / bare SQL:  {scan / sql:.3f}x  (the floor of a refresh reading them)")
print(f"ratio first refresh / SQL on crm's table: {first / sql_crm:.3f}x")
if not math.isnan(duck):
    print(f"ratio next-day refresh / DuckDB compute:  {nxt / duck2:.3f}x  (goal <= 2x)")
    print(f"ratio first refresh / DuckDB compute:     {first / duck:.3f}x")
PY

echo "-- incremental (one order commit -> scores and memberships)"
if [ -x "$BENCH" ]; then
    "$BENCH" "$dir/crm.yaml" "$dir/crm.db" 200
else
    echo "($BENCH not built: configure with -DCRM_BUILD_BENCH=ON)"
fi

echo "-- segments over $n_contacts contacts"
timed "crm segment refresh decl_big (first)" crm segment refresh decl_big
timed "crm segment refresh decl_big (steady)" crm segment refresh decl_big
timed "crm segment refresh lua_big (first)" crm segment refresh lua_big
timed "crm segment refresh lua_big (steady)" crm segment refresh lua_big
echo "members: decl_big $(crm --json segment members decl_big | wc -l), lua_big $(crm --json segment members lua_big | wc -l)"

lua_section

#!/usr/bin/env bash
# RFM / segmentation benchmark (never run by ctest):
#   tests/bench/bench_rfm.sh [CONTACTS] [ORDERS]     (default 1000000 10000000)
# 1. Generates the data with `crm demo --csv`, imports contacts with
#    `crm import contacts`; orders with `crm import orders` up to 2M orders
#    (LOAD=crm forces it, LOAD=sqlite forces the fast path). Above that the
#    import (~20k orders/s, validated, one event per order) would take most
#    of the budget, so orders.csv is loaded with the sqlite3 shell straight
#    into the kernel's orders table after `crm init` (same columns, contact
#    resolved by external_id, money in minor units, time in epoch seconds;
#    no events, which RFM does not read).
# 2. Times, in the same run and on the same database:
#    - `crm rfm refresh` (first run: creates the memberships; second: steady)
#    - the sqlite3 shell running the equivalent SQL (window functions: rank()
#      with ties taking the lowest rank, the same filters and grid) into a
#      temp table; the results are compared with crm's for every contact
#    - python3 + pandas (python3-pandas) computing the same scores from the
#      orders loaded in memory (load reported separately)
#    and prints the ratios (goals: crm <= 0.15x sqlite3, <= 1.0x pandas).
# 3. Incremental: bench_seg_incremental (build with -DCRM_BUILD_BENCH=ON):
#    median time from committing one order to the contact's updated scores
#    and memberships, over 200 orders, minus the same order add without the
#    plugin.
# 4. A Lua predicate segment and a declarative one over every contact
#    (`crm segment refresh NAME`: first run with memberships created, then
#    steady).
# CRM=path/to/crm (default: build-rel/core/crm, else build/core/crm);
# BENCH=path/to/bench_seg_incremental (default: next to crm's build tree);
# PYTHON=the interpreter with pandas (default /usr/bin/python3: Debian's
# python3-pandas, `apt-get install -y python3-pandas`).
set -euo pipefail
contacts=${1:-1000000}
orders=${2:-10000000}
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

secs() { python3 -c 'import time; print(f"{time.monotonic():.6f}")'; }
# timed LABEL CMD...: runs CMD (output discarded), prints seconds, sets $T_LAST;
# exit status 1 is "some rows were rejected" (the demo data is dirty on purpose)
timed() {
    local label=$1 t0 t1 rc=0
    shift
    t0=$(secs)
    "$@" >/dev/null || rc=$?
    t1=$(secs)
    [ "$rc" -le 1 ] || { echo "$label: exit status $rc" >&2; exit "$rc"; }
    T_LAST=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
    printf '%-52s %8.3f s\n' "$label" "$T_LAST"
}

echo "== $contacts contacts, $orders orders (crm: $CRM)"
printf 'database: crm.db\nplugins: []\n' >crm.yaml
timed "crm demo --csv" "$CRM" demo --csv csv --contacts "$contacts" --orders "$orders" --quiet
"$CRM" init --quiet >/dev/null
timed "crm import contacts" "$CRM" --quiet import contacts csv/contacts.csv
load=${LOAD:-$([ "$orders" -le 2000000 ] && echo crm || echo sqlite)}
if [ "$load" = crm ]; then
    timed "crm import orders" "$CRM" --quiet import orders csv/orders.csv
else
    timed "sqlite3 load of orders.csv into orders (no events)" sqlite3 crm.db <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
.import --csv --schema temp csv/orders.csv raw_orders
INSERT INTO orders(external_id, contact_id, placed_at, total, currency, status, created_at, updated_at)
SELECT r.external_id, c.id, CAST(strftime('%s', r.placed_at) AS INTEGER),
       CAST(round(CAST(r.total AS REAL) * 100) AS INTEGER), r.currency, r.status,
       CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER)
FROM temp.raw_orders r JOIN contacts c ON c.external_id = r.contact_external_id;
SQL
fi
n_orders=$(sqlite3 crm.db "SELECT count(*) FROM orders")
n_contacts=$(sqlite3 crm.db "SELECT count(*) FROM contacts")
T=$(sqlite3 crm.db "SELECT max(placed_at) + 86400 FROM orders")
asof=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp($T, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
echo "database: $n_contacts contacts, $n_orders orders; as of $asof"

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
"$CRM" plugins >/dev/null # applies the plugin's migrations outside the timings
crm() { "$CRM" --as-of "$asof" "$@"; }

echo "-- full RFM"
timed "crm rfm refresh (first: memberships created)" crm rfm refresh
t_first=$T_LAST
timed "crm rfm refresh (steady)" crm rfm refresh
t_crm=$T_LAST
cat >ref.sql <<SQL
CREATE TEMP TABLE ref AS
WITH q AS (SELECT contact_id, placed_at, total FROM orders
           WHERE status IN ('placed','paid') AND placed_at < $T AND placed_at >= $T - 365 * 86400
             AND currency = 'EUR'),
     a AS (SELECT contact_id, ($T - max(placed_at)) / 86400 AS rd, count(*) AS fr,
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
timed "sqlite3 shell, window functions (same SQL semantics)" sqlite3 crm.db ".read ref.sql"
t_sql=$T_LAST
bad=$(sqlite3 crm.db ".read ref.sql" "SELECT count(*) FROM ref LEFT JOIN segmentation_rfm x USING (contact_id)
  WHERE x.contact_id IS NULL OR x.recency_days != ref.rd OR x.frequency != ref.fr
     OR x.monetary != ref.mo OR x.r != ref.r OR x.f != ref.f OR x.m != ref.m
     OR coalesce(x.segment, '') != coalesce(ref.segment, '');" | tail -1)
echo "crm vs sqlite3 reference: $bad contacts differ (of $(sqlite3 crm.db 'SELECT count(*) FROM segmentation_rfm') scored)"

pandas_out=$(${PYTHON:-/usr/bin/python3} - "$T" <<'PY'
import sqlite3, sys, time
t0 = time.monotonic()
import numpy as np, pandas as pd
T = int(sys.argv[1]); W = 365
con = sqlite3.connect("crm.db")
orders = pd.read_sql_query("SELECT contact_id, placed_at, total, currency, status FROM orders", con)
load = time.monotonic() - t0
t1 = time.monotonic()
q = orders[orders.status.isin(["placed", "paid"]) & (orders.placed_at < T)
           & (orders.placed_at >= T - W * 86400) & (orders.currency == "EUR")]
a = q.groupby("contact_id").agg(last=("placed_at", "max"), fr=("placed_at", "size"),
                                mo=("total", "sum"))
a["rd"] = (T - a["last"]) // 86400
n = len(a)
score = lambda rank: 1 + (5 * (rank.astype(np.int64) - 1)) // n
a["r"] = score(a["rd"].rank(method="min", ascending=False))
a["f"] = score(a["fr"].rank(method="min"))
a["m"] = score(a["mo"].rank(method="min"))
r, f = a["r"], a["f"]
conds = [(r == 5) & (f >= 4), r.between(3, 4) & (f >= 4), (r >= 4) & f.between(2, 3),
         (r == 5) & (f == 1), (r == 4) & (f == 1), (r == 3) & (f == 3), (r == 3) & (f <= 2),
         (r <= 2) & f.between(3, 4), (r <= 2) & (f == 5), (r <= 2) & (f <= 2)]
names = ["champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
         "about_to_sleep", "at_risk", "cant_lose_them", "hibernating"]
a["segment"] = np.select(conds, names, default=None)
compute = time.monotonic() - t1
mine = pd.read_sql_query("SELECT contact_id, r, f, m, segment FROM segmentation_rfm", con).set_index("contact_id")
j = a.join(mine, rsuffix="_crm", how="outer")
diff = int(((j.r != j.r_crm) | (j.f != j.f_crm) | (j.m != j.m_crm) | (j.segment != j.segment_crm)).sum())
print(f"{load:.3f} {compute:.3f} {diff}")
PY
)
read -r t_pload t_pandas pdiff <<<"$pandas_out"
printf '%-52s %8.3f s\n' "python3+pandas load (orders table into a DataFrame)" "$t_pload"
printf '%-52s %8.3f s\n' "python3+pandas compute (filter, group, rank, grid)" "$t_pandas"
echo "crm vs pandas: $pdiff contacts differ"
python3 - "$t_crm" "$t_first" "$t_sql" "$t_pandas" <<'PY'
import sys
crm, first, sql, pd_ = map(float, sys.argv[1:])
print(f"ratio crm rfm refresh / sqlite3:  {crm / sql:.3f}x steady, {first / sql:.3f}x first  (goal <= 0.15x)")
print(f"ratio crm rfm refresh / pandas:   {crm / pd_:.3f}x steady, {first / pd_:.3f}x first  (goal <= 1.0x)")
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

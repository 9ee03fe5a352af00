#!/usr/bin/env bash
# Import benchmark (never run by ctest):
#   tests/bench/import.sh [CONTACTS] [ORDERS]      (default 1000000 10000000)
# Generates the files with `crm demo --csv` and splits each in three parts
# (orders with their lines): 47.5 % as a first load into the empty table
# (crm drops the secondary indexes its import does not read and builds them
# after the rows), 47.5 % into the table holding the first (as many rows
# again: a bulk load too), then 5 % (a top-up: crm keeps its indexes).
# Each is timed against the floor of the same run: SQLite's own INSERT ...
# SELECT of the same rows, already clean, into crm's tables and indexes
# (orders: with their lines), in a database at the same stage. Prints the
# ratios with the goals beside them, then the duplicate scan.
# CRM=path/to/crm (default: build-rel/core/crm, else build/core/crm).
set -euo pipefail
contacts=${1:-1000000}
orders=${2:-10000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
CRM=${CRM:-$(ls "$root"/build-rel/core/crm "$root"/build/core/crm 2>/dev/null | head -1)}
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf 'database: crm.db\nhygiene:\n  duplicates:\n    refuse_on_add: true\n' >"$dir/crm.yaml"
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }

# measure LABEL CMD...: runs CMD, prints "LABEL seconds maxrss_kib cpu_seconds"
measure() {
    local label=$1
    shift
    python3 - "$label" "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL)
dt = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{sys.argv[1]} {dt:.3f} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime:.3f}")
# 1 is "some rows were rejected": the demo data is dirty on purpose
sys.exit(r.returncode if r.returncode > 1 else 0)
PY
}

echo "generating $contacts contacts and $orders orders with crm demo --csv ..." >&2
crm demo --csv "$dir/csv" --contacts "$contacts" --orders "$orders" --quiet >/dev/null
crm init --quiet >/dev/null 2>&1 || crm init >/dev/null
cp "$dir/crm.db" "$dir/floor.db"

# contacts_N.csv, orders_N.csv and lines_N.csv, N = 1 2 3: 47.5 %, 47.5 %
# and 5 % of the rows (a line goes with its order)
python3 - "$dir/csv" <<'PY'
import csv, sys
d = sys.argv[1]
def split(name, out, key=None, keep=None):
    with open(f"{d}/{name}.csv", newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    if keep is None:
        a, b = int(len(body) * 0.475), int(len(body) * 0.95)
        parts = (body[:a], body[a:b], body[b:])
    else:
        parts = [[r for r in body if r[key] in k] for k in keep]
    for i, part in enumerate(parts, 1):
        with open(f"{d}/{out}_{i}.csv", "w", newline="") as g:
            w = csv.writer(g, lineterminator="\n")
            w.writerow(head)
            w.writerows(part)
    return parts
split("contacts", "contacts")
parts = split("orders", "orders")
split("order_lines", "lines", key=0, keep=[{r[0] for r in p} for p in parts])
PY
for f in contacts_{1,2,3} orders_{1,2,3} lines_{1,2,3}; do
    sqlite3 "$dir/bare.db" ".import --csv $dir/csv/$f.csv bare_$f"
done

# The floor: SQLite itself moving the bare rows, already clean, into crm's
# tables and indexes (no parsing, checks, events, tags or journal). No
# import through these tables can beat it with the indexes in place.
floor_sql() { # entity half
    case $1 in
    contacts) echo "INSERT OR IGNORE INTO contacts(external_id, first_name, last_name, email,
      phone, street, postal_code, city, country, birth_date, source, name_key, created_at,
      updated_at) SELECT external_id, first_name, last_name, lower(email), phone, street,
      postal_code, city, country, birth_date, source, lower(first_name || ' ' || last_name),
      0, 0 FROM b.bare_contacts_$2;" ;;
    orders) echo "INSERT INTO orders(external_id, contact_id, placed_at, total, currency,
      status, created_at, updated_at) SELECT o.external_id, c.id, unixepoch(o.placed_at),
      CAST(round(o.total * 100) AS INTEGER), o.currency, o.status, 0, 0
      FROM b.bare_orders_$2 o JOIN contacts c ON c.external_id = o.contact_external_id;
      INSERT INTO order_lines(order_id, product_id, sku, quantity, unit_price)
      SELECT o.id, p.id, l.sku, CAST(l.quantity AS INTEGER), CAST(round(l.unit_price * 100) AS INTEGER)
      FROM b.bare_lines_$2 l JOIN orders o ON o.external_id = l.order_external_id
      LEFT JOIN products p ON p.sku = l.sku;" ;;
    esac
}

# one ENTITY HALF LABEL GOAL: crm's import of the half, then the floor's
one() {
    local entity=$1 half=$2 label=$3 goal=$4
    local f="$dir/csv/${entity}_$half.csv" extra=()
    [ "$entity" = orders ] && extra=(--lines "$dir/csv/lines_$half.csv")
    sqlite3 "$dir/crm.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    local a b
    a=$(measure crm "$CRM" --config "$dir/crm.yaml" --quiet import "$entity" "$f" "${extra[@]}")
    b=$(measure floor sqlite3 "$dir/floor.db" "PRAGMA journal_mode=WAL" "PRAGMA cache_size=-65536" \
        "ATTACH '$dir/bare.db' AS b" "BEGIN" "$(floor_sql "$entity" "$half")" "COMMIT")
    local rows=$(($(wc -l <"$f") - 1))
    python3 - "$entity" "$label" "$goal" "$rows" "$a" "$b" <<'PY'
import sys
e, label, goal, rows = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
_, t1, m1, c1 = sys.argv[5].split()
_, t2, m2, c2 = sys.argv[6].split()
t1, t2, c1, c2 = float(t1), float(t2), float(c1), float(c2)
ok = "ok" if t1 / t2 <= goal else "MISSED"
print(f"{e:8s} {label:10s} rows {rows:>9d}  crm {t1:6.1f} s ({rows / t1:>8.0f} rows/s, peak {float(m1) / 1024:.0f} MiB)"
      f"  floor {t2:6.1f} s  ratio {t1 / t2:.2f} (goal <= {goal:.2f}: {ok})"
      f"  by CPU {c1 / c2:.2f}")
PY
}

echo "(floor: SQLite's INSERT ... SELECT of the same rows into crm's tables and indexes, same stage;"
echo " orders: crm and the floor both store the order lines. first load: into the empty table;"
echo " second: as many rows again (crm: a bulk load too); top-up: 5 % more (crm keeps its indexes))"
for entity in contacts orders; do
    one $entity 1 "first load" 1.0
    one $entity 2 "second" 1.5
    one $entity 3 "top-up" 1.5
done

s=$(measure scan bash -c "'$CRM' --config '$dir/crm.yaml' --json --quiet contact duplicates > '$dir/pairs.jsonl'")
read -r _ t m _ <<<"$s"
echo "duplicate scan: $(wc -l <"$dir/pairs.jsonl") pairs over $contacts contacts in $t s (peak $((m / 1024)) MiB)"

#!/usr/bin/env bash
# Import benchmark (never run by ctest):
#   tests/bench/import.sh [CONTACTS] [ORDERS]      (default 1000000 10000000)
# Generates the files with `crm demo --csv`, then times `crm import` of each
# against the sqlite3 shell's `.import` of the same file into a bare table,
# prints rows/s of both, the ratio and peak RSS; then times the duplicate scan.
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

report() { # entity file crm_line bare_line
    local rows=$(($(wc -l <"$2") - 1))
    read -r _ t1 m1 c1 <<<"$3"
    read -r _ t2 m2 c2 <<<"$4"
    python3 - "$1" "$rows" "$t1" "$m1" "$c1" "$t2" "$m2" "$c2" <<'PY'
import sys
e, rows, t1, m1, c1, t2, m2, c2 = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
r1, r2 = rows / t1, rows / t2
print(f"{e:9s} rows {rows:>10d}  crm {r1:>10.0f} rows/s ({t1:.1f} s, peak {m1/1024:.0f} MiB)"
      f"  sqlite3 .import {r2:>10.0f} rows/s ({t2:.1f} s)  ratio {r1/r2:.2f}")
# CPU time too: on a shared machine wall time also measures the neighbours
print(f"{'':9s} by CPU time: crm {rows / c1:>10.0f} rows/s ({c1:.1f} s)  sqlite3 .import"
      f" {rows / c2:>10.0f} rows/s ({c2:.1f} s)  ratio {c2 / c1:.2f}")
PY
}

# The storage floor: SQLite itself moving the bare rows, already clean, into
# crm's tables and indexes (INSERT ... SELECT, no parsing, checks, events,
# tags or journal). No import through these tables can beat it; it shows how
# much of the distance to a bare `.import` the schema's indexes account for.
floor_sql() {
    case $1 in
    contacts) echo "INSERT OR IGNORE INTO contacts(external_id, first_name, last_name, email,
      phone, street, postal_code, city, country, birth_date, source, name_key, created_at,
      updated_at) SELECT external_id, first_name, last_name, lower(email), phone, street,
      postal_code, city, country, birth_date, source, lower(first_name || ' ' || last_name),
      0, 0 FROM b.bare_contacts;" ;;
    orders) echo "INSERT INTO orders(external_id, contact_id, placed_at, total, currency,
      status, created_at, updated_at) SELECT o.external_id, c.id, unixepoch(o.placed_at),
      CAST(round(o.total * 100) AS INTEGER), o.currency, o.status, 0, 0
      FROM b.bare_orders o JOIN contacts c ON c.external_id = o.contact_external_id;" ;;
    esac
}

for entity in contacts orders; do
    f="$dir/csv/$entity.csv"
    extra=()
    [ "$entity" = orders ] && [ -f "$dir/csv/order_lines.csv" ] && extra=(--lines "$dir/csv/order_lines.csv")
    sqlite3 "$dir/crm.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$dir/crm.db" "$dir/floor.db"
    a=$(measure crm "$CRM" --config "$dir/crm.yaml" --quiet import "$entity" "$f" "${extra[@]}")
    b=$(measure sqlite3 sqlite3 "$dir/bare.db" ".import --csv $f bare_$entity")
    report "$entity" "$f" "$a" "$b"
    fl=$(measure floor sqlite3 "$dir/floor.db" "PRAGMA journal_mode=WAL" "PRAGMA cache_size=-65536" \
        "ATTACH '$dir/bare.db' AS b" "$(floor_sql "$entity")")
    read -r _ t3 _ _ <<<"$fl"
    read -r _ t2 _ _ <<<"$b"
    python3 -c "import sys; t3, t2 = map(float, sys.argv[1:]); print(f\"{'':9s} floor: SQLite's own INSERT ... SELECT into crm's $entity table and indexes {t3:.1f} s, ratio to .import {t2 / t3:.2f}\")" "$t3" "$t2"
    rm -f "$dir/floor.db"*
done
echo "(orders: crm time includes the order lines file, sqlite3 only orders.csv)"

s=$(measure scan bash -c "'$CRM' --config '$dir/crm.yaml' --json --quiet contact duplicates > '$dir/pairs.jsonl'")
read -r _ t m _ <<<"$s"
echo "duplicate scan: $(wc -l <"$dir/pairs.jsonl") pairs over $contacts contacts in $t s (peak $((m / 1024)) MiB)"

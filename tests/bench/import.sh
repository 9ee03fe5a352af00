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
sys.exit(r.returncode)
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

for entity in contacts orders; do
    f="$dir/csv/$entity.csv"
    extra=()
    [ "$entity" = orders ] && [ -f "$dir/csv/order_lines.csv" ] && extra=(--lines "$dir/csv/order_lines.csv")
    a=$(measure crm "$CRM" --config "$dir/crm.yaml" --quiet import "$entity" "$f" --batch 5000 "${extra[@]}")
    b=$(measure sqlite3 sqlite3 "$dir/bare.db" ".import --csv $f bare_$entity")
    report "$entity" "$f" "$a" "$b"
done
echo "(orders: crm time includes the order lines file, sqlite3 only orders.csv)"

s=$(measure scan bash -c "'$CRM' --config '$dir/crm.yaml' --json --quiet contact duplicates > '$dir/pairs.jsonl'")
read -r _ t m _ <<<"$s"
echo "duplicate scan: $(wc -l <"$dir/pairs.jsonl") pairs over $contacts contacts in $t s (peak $((m / 1024)) MiB)"

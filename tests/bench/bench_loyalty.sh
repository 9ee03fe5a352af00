#!/usr/bin/env bash
# Loyalty benchmark (never run by ctest):
#   tests/bench/bench_loyalty.sh [ORDERS]     (default 1000000; the issue's figure is 10000000)
# A database without the loyalty plugin gets ORDERS paid orders from
# `crm import orders` (ORDERS / 10 contacts; contact 1, the "whale", holds
# 5,000 of them), all placed on one day D. Then the plugin is enabled: its
# durable subscriber starts from the first event, so the next `crm tick`
# replays every order.placed and order.paid through it. Measured, each
# against a baseline in the same run:
#   1. the replay: orders/s earned (an op, a lot and an entry each) against
#      the sqlite3 shell inserting the same three rows per order with
#      INSERT ... SELECT (goal: crm >= 0.3x the bare rate);
#   2. `crm loyalty balance 1` (5,000 lots) median of 21, against the process
#      floor (`crm --help`) and the sqlite3 shell summing the same entries
#      (goal: < 1 ms over the floor);
#   3. the approval pass at D + 14 days (a timer per lot) and the expiry pass
#      at D + 365 days (every lot expires; the members' rolling-window tier
#      boundaries fall on the same day and are in the figure), against the
#      shell's UPDATE of the same rows.
# CRM=path/to/crm (default build-rel/core/crm, else build/core/crm).
set -euo pipefail
n=${1:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
CRM=${CRM:-$( (ls "$root"/build-rel/core/crm "$root"/build/core/crm 2>/dev/null || true) | head -1)}
CRM=$(cd "$(dirname "$CRM")" && pwd)/$(basename "$CRM")
export CRM_PLUGIN_PATH=${CRM_PLUGIN_PATH:-$(dirname "$(dirname "$CRM")")/plugins}
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell" >&2; exit 2; }
py=/usr/bin/python3; [ -x "$py" ] || py=python3
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-loyalty-XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
cd "$dir"
unset CRM_CONFIG CRM_DB CRM_LOG
contacts=$((n / 10 > 1 ? n / 10 : 2))
whale=$((n > 10000 ? 5000 : n / 2))
D=2026-03-02 D0=$(date -u -d "${D}T08:00:00Z" +%s)

config() {
    cat <<YAML
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [$1]
loyalty:
  programs:
    - name: club
      point: {name: points, value: "0.01 EUR"}
      earn:
        - {on: order.paid, per: "1.00 EUR", points: 1}
      pending: 14d
      expire_after: 365d
      tiers:
        qualify_on: spent
        window: rolling_12_months
        grace: 30d
        downgrade: one_down
        levels:
          - {name: bronze, min: "0 EUR"}
          - {name: silver, min: "500 EUR", multiplier: 1.25}
YAML
}
config "" >crm.yaml
"$CRM" init --quiet
"$py" - "$n" "$contacts" "$whale" "$D0" <<'PY'
import datetime, sys
n, contacts, whale, d0 = map(int, sys.argv[1:])
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
with open("contacts.csv", "w") as f:
    f.write("external_id,email\n")
    for i in range(1, contacts + 1):
        f.write(f"c{i},c{i}@example.com\n")
with open("orders.csv", "w") as f:
    f.write("external_id,contact_external_id,placed_at,total,status\n")
    for i in range(n):
        c = 1 if i < whale else 2 + i % (contacts - 1)
        f.write(f"o{i},c{c},{iso(d0 + i % 36000)},{10 + i % 90}.{i % 100:02d},paid\n")
PY
t=$(date +%s.%N)
"$CRM" import contacts contacts.csv >import.log 2>&1 || { cat import.log >&2; exit 1; }
"$CRM" import orders orders.csv >>import.log 2>&1 || { cat import.log >&2; exit 1; }
echo "$n orders, $contacts contacts loaded by crm import in $("$py" -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$t") s, $(nproc) cores, crm: $CRM"

secs() { "$py" -c 'import subprocess, sys, time
t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(f"{time.perf_counter() - t:.3f}")' "$@"; }
median_ms() { local k=$1; shift; "$py" -c 'import subprocess, sys, time
k, cmd = int(sys.argv[1]), sys.argv[2:]
ts = []
for _ in range(k):
    t = time.perf_counter(); subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t) * 1000)
print(f"{sorted(ts)[k // 2]:.2f}")' "$k" "$@"; }
ratio() { "$py" -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}x")' "$1" "$2"; }
rate() { "$py" -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.0f}")' "$1" "$2"; }

# ---- 1. the replay against bare inserts -----------------------------------------------
cp crm.db bare.db
bare=$(secs sqlite3 bare.db "
CREATE TABLE ops(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  contact_id INTEGER NOT NULL, points INTEGER NOT NULL, order_id INTEGER, at INTEGER NOT NULL);
CREATE TABLE lots(id INTEGER PRIMARY KEY, op_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
  points INTEGER NOT NULL, remaining INTEGER NOT NULL, order_id INTEGER, earned_at INTEGER NOT NULL,
  pending_until INTEGER NOT NULL, approved_at INTEGER, expires_at INTEGER, expired_at INTEGER);
CREATE TABLE entries(id INTEGER PRIMARY KEY, op_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
  lot_id INTEGER, kind TEXT NOT NULL, points INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE INDEX lots_contact ON lots(contact_id, expires_at);
CREATE INDEX entries_contact ON entries(contact_id);
BEGIN;
INSERT INTO ops(id, key, kind, contact_id, points, order_id, at)
  SELECT id, 'order:' || id, 'order', contact_id, (total + 50) / 100, id, placed_at FROM orders;
INSERT INTO lots(id, op_id, contact_id, points, remaining, order_id, earned_at, pending_until, expires_at)
  SELECT id, id, contact_id, points, points, id, at, at + 14 * 86400, at + 365 * 86400 FROM ops;
INSERT INTO entries(op_id, contact_id, lot_id, kind, points, at)
  SELECT id, contact_id, id, 'earn', points, earned_at FROM lots;
COMMIT;")
config loyalty >crm.yaml
replay=$(secs "$CRM" --as-of "${D}T23:00:00Z" tick)
lots=$(sqlite3 crm.db "SELECT count(*) FROM loyalty_lots")
[ "$lots" -eq "$n" ] || { echo "the replay made $lots lots, expected $n" >&2; exit 1; }
printf '%-44s %10s %12s %8s\n' "" "crm" "bare sqlite3" "crm/bare"
printf '%-44s %10s %12s %8s   (goal >= 0.30x)\n' "replay of the orders (orders/s)" \
    "$(rate "$n" "$replay")" "$(rate "$n" "$bare")" "$(ratio "$bare" "$replay")"

# ---- 2. a balance over 5,000 lots -----------------------------------------------------
floor=$(median_ms 21 "$CRM" --help)
balance=$(median_ms 21 "$CRM" --as-of "${D}T23:00:00Z" loyalty balance 1)
sum_sql=$(median_ms 21 sqlite3 bare.db "SELECT sum(points) FROM entries WHERE contact_id = 1")
printf '%-44s %10s %12s %8s   (%.2f ms over the floor of %s ms; goal < 1)\n' \
    "loyalty balance, $whale lots (ms, median)" "$balance" "$sum_sql" "$(ratio "$balance" "$sum_sql")" \
    "$("$py" -c "print(max(0.0, $balance - $floor))")" "$floor"

# ---- 3. approval and expiry passes ----------------------------------------------------
approve=$(secs "$CRM" --as-of "$(date -u -d "@$((D0 + 15 * 86400))" +%FT%TZ)" tick)
approve_sql=$(secs sqlite3 bare.db "UPDATE lots SET approved_at = pending_until WHERE pending_until <= $((D0 + 15 * 86400))")
printf '%-44s %10s %12s %8s\n' "approval pass (lots/s)" "$(rate "$n" "$approve")" \
    "$(rate "$n" "$approve_sql")" "$(ratio "$approve_sql" "$approve")"
expire=$(secs "$CRM" --as-of "$(date -u -d "@$((D0 + 367 * 86400))" +%FT%TZ)" tick)
expire_sql=$(secs sqlite3 bare.db "BEGIN;
INSERT INTO entries(op_id, contact_id, lot_id, kind, points, at)
  SELECT op_id, contact_id, id, 'expire', -remaining, expires_at FROM lots WHERE expires_at <= $((D0 + 367 * 86400));
UPDATE lots SET remaining = 0, expired_at = expires_at WHERE expires_at <= $((D0 + 367 * 86400)); COMMIT;")
left=$(sqlite3 crm.db "SELECT count(*) FROM loyalty_lots WHERE expired_at IS NULL")
[ "$left" -eq 0 ] || { echo "$left lots did not expire" >&2; exit 1; }
printf '%-44s %10s %12s %8s\n' "expiry pass + tier boundaries (lots/s)" "$(rate "$n" "$expire")" \
    "$(rate "$n" "$expire_sql")" "$(ratio "$expire_sql" "$expire")"
"$CRM" loyalty check >/dev/null && echo "crm loyalty check: ledger ok after the passes"

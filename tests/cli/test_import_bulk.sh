#!/usr/bin/env bash
# End to end: a first load into an empty table drops the secondary indexes
# its import does not read and rebuilds them after the rows. A load killed
# with its indexes dropped is completed by the next command: indexes back
# (the same definitions as a fresh `crm init`), nothing listed in
# bulk_load_indexes; a live load is left alone. Re-running the import gives
# the rows of an uninterrupted one. Contacts, then orders with lines.
# Needs CRM (the binary); ctest sets it and CRM_TEST_LIB.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
unset CRM_DB CRM_CONFIG
for db in t ref fresh; do
    printf 'database: %s.db\nlocale: {country: FR, currency: EUR}\n' "$db" >"$dir/$db.yaml"
done
# a durable subscriber (a webhook endpoint queues a delivery per event; a
# command queueing sends nothing) to see when subscribers catch up
cat >>"$dir/t.yaml" <<'YAML'
webhooks:
  - {name: sink, url: "http://127.0.0.1:9/hook", events: ["contact.created", "order.placed"],
     secret_env: CRM_TEST_WH_SECRET}
YAML
crm() { "$CRM" --config "$dir/t.yaml" "$@"; }
ref() { "$CRM" --config "$dir/ref.yaml" "$@"; }
# the sqlite3 shell, not python: a python start costs 0.5 s on a loaded machine
sql() { sqlite3 -batch -noheader "$dir/${2:-t}.db" "$1"; }
# the index definitions of a database, one per line, sorted
indexes() {
    sql "SELECT name || ' ' || sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL
         ORDER BY name" "$1"
}
# the stored rows, without ids and times (an independent reading of each table)
digest() {
    local q
    case $2 in
    contacts) q="SELECT external_id, first_name, last_name, email, phone, city, name_key,
                 lifecycle_stage, (SELECT name FROM companies WHERE id = company_id),
                 (SELECT group_concat(tag) FROM (SELECT tag FROM contact_tags t
                  WHERE t.contact_id = c.id ORDER BY tag)) FROM contacts c" ;;
    orders) q="SELECT o.external_id, c.external_id, o.placed_at, o.total, o.status,
               (SELECT group_concat(x) FROM (SELECT l.sku || 'x' || l.quantity || '@' ||
                l.unit_price AS x FROM order_lines l WHERE l.order_id = o.id ORDER BY x))
               FROM orders o JOIN contacts c ON c.id = o.contact_id" ;;
    esac
    local rows
    rows=$(sql "$q" "$1" | LC_ALL=C sort)
    echo "$(wc -l <<<"$rows") $(sha1sum <<<"$rows")"
}

assert_exit 0 "$CRM" --config "$dir/fresh.yaml" init --quiet
indexes fresh >"$dir/fresh.idx"
assert_exit 0 crm init --quiet
assert_exit 0 ref init --quiet

n=1200 orders=1600
python3 - "$dir" "$n" "$orders" <<'EOF'
import sys
d, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{d}/c.csv", "w") as f:
    f.write("external_id,first_name,last_name,email,company,tags\n")
    for i in range(n):
        f.write(f"K{i},First{i},Last{i},k{i}@example.com,Co{i % 50},t{i % 7}|all\n")
with open(f"{d}/o.csv", "w") as f, open(f"{d}/l.csv", "w") as g:
    f.write("external_id,contact_external_id,placed_at,currency,status\n")
    g.write("order_external_id,sku,quantity,unit_price\n")
    for i in range(m):
        f.write(f"O{i:06d},K{(i * 7) % n},2024-01-{1 + i % 28:02d},EUR,{('placed', 'paid')[i % 2]}\n")
        g.write(f"O{i:06d},SKU{i % 5},{1 + i % 3},{100 + i % 9}.50\n")
EOF

# start_load ENTITY ARGS...: a load held at ROWS read by the journal (SIGSTOP:
# its process lives, its indexes are dropped); $pid is the import
start_load() {
    local rows=$1
    shift
    "$CRM" --config "$dir/t.yaml" import "$@" --quiet >/dev/null 2>&1 &
    pid=$!
    kill -STOP "$pid" # held until the watcher is connected (see test_import.sh)
    python3 - "$dir/t.db" "$pid" "$rows" <<'EOF'
import os, signal, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=1)
pid, rows = int(sys.argv[2]), int(sys.argv[3])
os.kill(pid, signal.SIGCONT)
deadline = time.time() + 120
while time.time() < deadline:
    try:
        r = db.execute("SELECT n_read FROM import_journal WHERE status='running'").fetchone()
        if r and r[0] >= rows:
            os.kill(pid, signal.SIGSTOP)
            break
    except sqlite3.Error:
        pass
    time.sleep(0.002)
EOF
}

cursor() { sql "SELECT coalesce(max(last_event_id), 0) FROM bus_cursors WHERE subscriber='kernel.webhooks'"; }
# the events the endpoint takes, and the deliveries queued for them
wanted="SELECT count(*) FROM events WHERE type IN ('contact.created', 'order.placed')"
queued="SELECT count(*) FROM webhook_deliveries"

# interrupted LABEL: the load was held mid-way ($before: the last event
# before it); subscribers have not seen its committed batches, a command
# meanwhile leaves it alone, a kill -9 then the next command rebuilds its
# indexes and subscribers catch up
interrupted() {
    local label=$1
    assert_eq "$before" "$(cursor)" "$label: subscribers wait for the end of the load"
    [ "$(sql "SELECT max(id) FROM events")" -gt "$before" ] && pass ||
        fail "$label: no event committed while loading"
    local listed
    listed=$(sql "SELECT count(*) FROM bulk_load_indexes")
    [ "$listed" -gt 0 ] && pass || fail "$label: no index dropped while loading"
    local gone="SELECT count(*) FROM bulk_load_indexes b WHERE NOT EXISTS (
                SELECT 1 FROM sqlite_master m WHERE m.name = b.name)"
    assert_eq "$listed" "$(sql "$gone")" "$label: the listed indexes are dropped"
    # (t.yaml's webhook endpoint makes every open write its cursor: that
    # waits for the held load's write lock, so this look runs without it)
    assert_exit 0 "$CRM" --config "$dir/ref.yaml" --db "$dir/t.db" import list
    assert_eq "$listed" "$(sql "$gone")" "$label: a live load keeps its indexes dropped"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    assert_exit 0 crm import list
    assert_contains "$OUT" "interrupted"
    assert_eq 0 "$(sql "SELECT count(*) FROM bulk_load_indexes")" "$label: nothing left listed"
    indexes t >"$dir/t.idx"
    diff "$dir/fresh.idx" "$dir/t.idx" >/dev/null && pass ||
        fail "$label: indexes after the kill differ from a fresh init: $(diff "$dir/fresh.idx" "$dir/t.idx")"
    assert_eq ok "$(sql "PRAGMA integrity_check")" "$label: integrity"
    assert_eq "$(sql "SELECT max(id) FROM events")" "$(cursor)" "$label: subscribers caught up"
    assert_eq "$(sql "$wanted")" "$(sql "$queued")" "$label: one delivery per event"
}

# ---- contacts ---------------------------------------------------------------------
assert_exit 0 ref import contacts "$dir/c.csv" --json
assert_eq "$n" "$(json_get "$OUT" stored)" "uninterrupted contacts: all stored"
assert_eq 0 "$(sql "SELECT count(*) FROM bulk_load_indexes" ref)" "a finished load lists nothing"
indexes ref >"$dir/ref.idx"
diff "$dir/fresh.idx" "$dir/ref.idx" >/dev/null && pass ||
    fail "indexes after a first load differ from a fresh init: $(diff "$dir/fresh.idx" "$dir/ref.idx")"

before=$(cursor)
start_load 300 contacts "$dir/c.csv" --batch 100
committed=$(sql "SELECT count(*) FROM contacts")
[ "$committed" -gt 0 ] && [ "$committed" -lt "$n" ] && pass ||
    fail "contacts: the load was held at $committed of $n rows"
interrupted contacts
assert_exit 0 crm import contacts "$dir/c.csv" --json
assert_eq "$((n - committed))" "$(json_get "$OUT" stored)" "contacts re-run: the rest stored"
assert_eq "$(digest ref contacts)" "$(digest t contacts)" "contacts: same rows as uninterrupted"

# ---- orders (a first load into an empty orders table) -------------------------------
assert_exit 0 ref import orders "$dir/o.csv" --lines "$dir/l.csv" --json
assert_eq "$orders" "$(json_get "$OUT" stored)" "uninterrupted orders: all stored"
indexes ref >"$dir/ref.idx"
diff "$dir/fresh.idx" "$dir/ref.idx" >/dev/null && pass ||
    fail "indexes after a first orders load differ: $(diff "$dir/fresh.idx" "$dir/ref.idx")"

before=$(cursor)
start_load 400 orders "$dir/o.csv" --lines "$dir/l.csv" --batch 100
committed=$(sql "SELECT count(*) FROM orders")
[ "$committed" -gt 0 ] && [ "$committed" -lt "$orders" ] && pass ||
    fail "orders: the load was held at $committed of $orders rows"
interrupted orders
assert_exit 0 crm import orders "$dir/o.csv" --lines "$dir/l.csv" --json
assert_eq "$((orders - committed))" "$(json_get "$OUT" stored)" "orders re-run: the rest stored"
assert_eq "$(sql "SELECT max(id) FROM events")" "$(cursor)" "subscribers caught up after the load"
assert_eq "$(sql "$wanted")" "$(sql "$queued")" "one delivery per event after the load"
assert_eq "$(digest ref orders)" "$(digest t orders)" "orders: same rows as uninterrupted"
assert_eq "$(digest ref contacts)" "$(digest t contacts)" "contacts stages after the orders"

# ---- a second load into a non-empty table keeps its indexes ---------------------------
printf 'external_id,first_name,last_name,email\nZ1,Zoe,Zed,z1@example.com\n' >"$dir/z.csv"
assert_exit 0 crm import contacts "$dir/z.csv" --json
assert_eq 1 "$(json_get "$OUT" stored)" "second load stored"
indexes t >"$dir/t.idx"
diff "$dir/fresh.idx" "$dir/t.idx" >/dev/null && pass || fail "indexes after a second load"

finish

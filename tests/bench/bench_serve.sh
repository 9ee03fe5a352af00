#!/usr/bin/env bash
# crm serve under wrk on loopback (never run by ctest):
#   tests/bench/bench_serve.sh [SECONDS] [THREADS] [CONNECTIONS]   (default 10 2 16)
# Each phase runs SECONDS with wrk (-t2 -c CONNECTIONS --latency) against a
# fresh `crm demo` database (10000 contacts) served by `crm serve --threads
# THREADS --no-worker`:
#   1. baseline: libmicrohttpd's minimal hello server (bench_mhd_hello, built
#      by CMake with -DCRM_BUILD_BENCH=ON, crm serve's daemon flags and THREADS)
#   2. a contact point read, GET /v1/contacts/{random id}
#   3. a list page, GET /v1/contacts?limit=50&cursor={random}
#   4. mixed: 90% point reads, 10% POST /v1/contacts (unique emails)
#   5. inbound cart.updated, one per POST /v1/track (unique ids, 1000 carts)
#   6. the same in batches of 100 ({"events": [...]})
# Printed per phase: requests/s, p50/p99 latency, non-2xx and socket errors
# (any error fails the script), and the ratio to the hello floor; for the
# track phases, acknowledged events/s, checked against the rows tracked_events
# gained.
# CRM=path/to/crm (default build-rel/core/crm, else build/core/crm); HELLO=
# path/to/bench_mhd_hello (default: the same build tree). Needs wrk.
set -euo pipefail
secs=${1:-10}
threads=${2:-2}
conns=${3:-16}
root=$(cd "$(dirname "$0")/../.." && pwd)
CRM=${CRM:-$( (ls "$root"/build-rel/core/crm "$root"/build/core/crm 2>/dev/null || true) | head -1)}
CRM=$(cd "$(dirname "$CRM")" && pwd)/$(basename "$CRM")
HELLO=${HELLO:-$(dirname "$(dirname "$CRM")")/tests/bench/bench_mhd_hello}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 2; }
[ -x "$HELLO" ] || { echo "no $HELLO: build with -DCRM_BUILD_BENCH=ON" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-serve-XXXXXX")
serve_pid= hello_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null
    [ -n "$hello_pid" ] && kill -TERM "$hello_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
unset CRM_CONFIG CRM_DB CRM_LOG
printf 'database: crm.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\nplugins: []\n' \
    >"$dir/crm.yaml"
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
    "$dir/crm.db" "$1"; }

echo "seeding: crm demo --contacts 10000 --orders 10000 ..." >&2
crm demo --contacts 10000 --orders 10000 --quiet >/dev/null
token=$(crm token create --name bench --role admin 2>/dev/null)
max_id=$(sql "SELECT max(id) FROM contacts")

# wait_listen FILE: the port from a "listening on ...:PORT" line
wait_listen() {
    for _ in $(seq 1 100); do
        if grep -q 'listening on' "$1" 2>/dev/null; then
            sed -n 's/.*listening on \(http:\/\/127.0.0.1:\)\{0,1\}\([0-9][0-9]*\).*/\2/p' "$1"
            return 0
        fi
        sleep 0.1
    done
    echo "server did not start: $(cat "$1")" >&2
    return 1
}

crm serve --listen 127.0.0.1:0 --threads "$threads" --no-worker >"$dir/serve.out" 2>"$dir/serve.err" &
serve_pid=$!
port=$(wait_listen "$dir/serve.out")
# the hello server takes a port, not 0: a free one from the kernel
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$HELLO" "$hport" "$threads" >"$dir/hello.out" 2>&1 &
hello_pid=$!
wait_listen "$dir/hello.out" >/dev/null

# ---- wrk scripts ---------------------------------------------------------------
cat >"$dir/common.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
-- setup() runs in the main state and numbers the threads; each thread's
-- own state gets its number as the global tid, so uniq() never repeats
local threads_started, n = 0, 0
function setup(thread) threads_started = threads_started + 1; thread:set("tid", threads_started) end
function init(args) math.randomseed(os.time() * 100 + tid) end
function uniq() n = n + 1; return (os.getenv("PHASE") or "") .. tid .. "-" .. n end
max_id = $max_id
EOF
cat >"$dir/point.lua" <<'EOF'
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
request = function() return wrk.format("GET", "/v1/contacts/" .. math.random(1, max_id)) end
EOF
cat >"$dir/list.lua" <<'EOF'
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
request = function()
    return wrk.format("GET", "/v1/contacts?limit=50&cursor=" .. math.random(0, max_id - 50))
end
EOF
cat >"$dir/mixed.lua" <<'EOF'
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
request = function()
    if math.random(1, 10) == 1 then
        return wrk.format("POST", "/v1/contacts", nil,
                          '{"email":"w' .. uniq() .. '@bench.example"}')
    end
    return wrk.format("GET", "/v1/contacts/" .. math.random(1, max_id))
end
EOF
cat >"$dir/track.lua" <<'EOF'
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
batch = tonumber(os.getenv("BATCH") or "1")
local function event()
    return '{"type":"cart.updated","id":"b' .. uniq() .. '","cart_id":"bc-' ..
           math.random(1, 1000) .. '","contact_id":' .. math.random(1, max_id) ..
           ',"device":"mobile","lines":[{"sku":"TEE","quantity":' .. math.random(1, 3) ..
           ',"unit_price":1990},{"sku":"CAP","quantity":1,"unit_price":"12.50"}]}'
end
request = function()
    if batch == 1 then return wrk.format("POST", "/v1/track", nil, event()) end
    local t = {}
    for i = 1, batch do t[i] = event() end
    return wrk.format("POST", "/v1/track", nil, '{"events":[' .. table.concat(t, ",") .. ']}')
end
EOF

# run NAME URL [SCRIPT]: one phase; prints its line, sets RPS, TOTAL, DURATION (s)
hello_rps=
run() {
    local name=$1 url=$2 script=${3:-}
    local out="$dir/wrk.${name//[^A-Za-z0-9]/_}"
    BENCH_DIR=$dir wrk -t2 -c"$conns" -d"${secs}s" --latency ${script:+-s "$dir/$script"} "$url" >"$out" 2>&1
    RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    TOTAL=$(awk '/requests in/ {print $1}' "$out")
    DURATION=$(awk '/requests in/ {sub(",", "", $4); sub("s$", "", $4); print $4}' "$out")
    local p50 p99 non2xx sockerr
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    non2xx=$(awk -F': ' '/Non-2xx or 3xx responses/ {print $2}' "$out")
    sockerr=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
    local ratio=""
    [ -n "$hello_rps" ] && ratio=$(python3 -c "print(f'{$RPS / $hello_rps:.2f}x hello')")
    printf '%-26s %10s req/s  p50 %-9s p99 %-9s errors %s  %s\n' "$name" "$RPS" "$p50" "$p99" \
        "$((${non2xx:-0} + ${sockerr:-0}))" "$ratio"
    if [ "${non2xx:-0}" != 0 ] || [ "${sockerr:-0}" != 0 ]; then
        echo "$name: ${non2xx:-0} non-2xx responses, ${sockerr:-0} socket errors" >&2
        cat "$out" >&2
        exit 1
    fi
}

echo "crm serve --threads $threads, wrk -t2 -c$conns, ${secs}s per phase, $(nproc) cores (shared)"
run "hello (libmicrohttpd)" "http://127.0.0.1:$hport/"
hello_rps=$RPS
run "GET /v1/contacts/{id}" "http://127.0.0.1:$port" point.lua
run "GET /v1/contacts?limit=50" "http://127.0.0.1:$port" list.lua
before=$(sql "SELECT count(*) FROM contacts")
run "mixed 90% GET / 10% POST" "http://127.0.0.1:$port" mixed.lua
echo "  contacts added: $(($(sql "SELECT count(*) FROM contacts") - before))"
for batch in 1 100; do
    before=$(sql "SELECT count(*) FROM tracked_events")
    PHASE=t$batch- BATCH=$batch run "POST /v1/track x$batch" "http://127.0.0.1:$port" track.lua
    stored=$(($(sql "SELECT count(*) FROM tracked_events") - before))
    # wrk counts the answers it read; the ones in flight when it stopped may be stored too
    [ "$stored" -ge $((TOTAL * batch)) ] && [ "$stored" -le $(((TOTAL + conns) * batch)) ] ||
        { echo "tracked_events gained $stored, wrk completed $TOTAL x $batch" >&2; exit 1; }
    python3 -c "print(f'  cart.updated: {$TOTAL * $batch / $DURATION:.0f} events/s acknowledged ($stored stored)')"
done

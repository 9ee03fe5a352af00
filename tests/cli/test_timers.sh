#!/usr/bin/env bash
# Durable timers and the worker through the real crm and the `timed` test
# plugin (tests/plugins/fixtures/timed.c: its handler writes one row of
# timed_fired per firing). Time is driven with `crm tick --as-of`; the only
# waits are for a background `crm run` to be up or gone (bounded polls).
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
: "${CRM_BUILD_DIR:?}" "${CRM_TEST_LIB:?}"
. "$CRM_TEST_LIB"

export CRM_PLUGIN_PATH=$CRM_BUILD_DIR/tests/plugins/so
if [ ! -f "$CRM_PLUGIN_PATH/timed.so" ] || ! command -v sqlite3 >/dev/null; then
    echo "test plugins or sqlite3 not available: skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_LOG TIMED_FAIL TIMED_CRASH_AFTER TIMED_NOOP
cat >crm.yaml <<YAML
database: $dir/crm.db
locale:
  timezone: Europe/Paris
  country: FR
plugins: [timed]
YAML
assert_exit 0 "$CRM" init
q() { sqlite3 "$dir/crm.db" "$1"; }
iso() { python3 -c 'import sys,datetime;print(datetime.datetime.fromtimestamp(int(sys.argv[1]),datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"; }
T=1790000000  # 2026-09-21T14:13:20Z

# ---- exactly once under kill -9 in the middle of a batch ------------------------
assert_exit 0 "$CRM" timed bulk 2000 $T
assert_eq 2000 "$(q "SELECT count(*) FROM timers WHERE state='pending'")" "scheduled"
TIMED_CRASH_AFTER=700 run "$CRM" tick --as-of "$(iso $T)"
assert_eq 137 "$RC" "tick killed by SIGKILL in firing 700"
fired=$(q "SELECT count(*) FROM timed_fired")
done_=$(q "SELECT count(*) FROM timers WHERE state='done'")
assert_eq "$done_" "$fired" "rows written == timers completed after the crash"
[ "$fired" -lt 700 ] && pass || fail "the batch holding firing 700 was committed ($fired rows)"
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq 2000 "$(q "SELECT count(*) FROM timed_fired")" "every timer fired after the re-run"
assert_eq 2000 "$(q "SELECT count(DISTINCT key) FROM timed_fired")" "each exactly once"
assert_eq 2000 "$(q "SELECT count(*) FROM timers WHERE state='done'")" "all done"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 86400)))"
assert_eq 2000 "$(q "SELECT count(*) FROM timed_fired")" "a later pass fires nothing again"
assert_contains "$OUT" "tick: 0 timers fired" "nothing due"
q "DELETE FROM timed_fired; DELETE FROM timers"

# ---- reschedule and cancel by key -------------------------------------------------
assert_exit 0 "$CRM" timed schedule moved $((T + 100)) '{"v":1}'
assert_exit 0 "$CRM" timed schedule moved $((T + 5000)) '{"v":2}'
assert_exit 0 "$CRM" timed schedule gone $((T + 100))
assert_eq 2 "$(q "SELECT count(*) FROM timers")" "one row per key"
assert_exit 0 "$CRM" timed cancel gone
assert_eq 1 "$OUT" "cancel found it"
assert_exit 0 "$CRM" timed cancel gone
assert_eq 0 "$OUT" "cancelling twice finds nothing"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 1000)))"
assert_eq 0 "$(q "SELECT count(*) FROM timed_fired")" "the moved timer is not due at its old time"
assert_exit 0 "$CRM" timers list --json
assert_eq "$((T + 5000))" "$(json_get "$OUT" due_at)" "list shows the new due time"
assert_eq 2 "$(json_get "$OUT" payload.v)" "and the new payload"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 5000)))"
assert_eq "moved" "$(q "SELECT key FROM timed_fired")" "fires at its new time"
assert_exit 1 "$CRM" timed schedule bad $T '[1]'
assert_contains "$ERR" "payload must be a JSON object" "bad payload refused"
q "DELETE FROM timed_fired; DELETE FROM timers"

# ---- catch-up: due order and lateness ------------------------------------------
assert_exit 0 "$CRM" timed schedule c $((T + 30))
assert_exit 0 "$CRM" timed schedule a $((T + 10))
assert_exit 0 "$CRM" timed schedule b $((T + 20))
assert_exit 0 "$CRM" timed schedule later $((T + 500))
assert_exit 0 "$CRM" timers list --due-before "$(iso $((T + 25)))" --json
assert_eq 2 "$(grep -c . <<<"$OUT")" "--due-before filters"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 100)))"
assert_eq "a b c" "$(q "SELECT group_concat(key, ' ') FROM (SELECT key FROM timed_fired ORDER BY id)")" \
    "fired in due order"
assert_eq "90 80 70" "$(q "SELECT group_concat(lateness, ' ') FROM (SELECT lateness FROM timers WHERE state='done' ORDER BY due_at)")" \
    "lateness = pass time - due time"
assert_contains "$OUT" "most late 90s" "tick reports the lateness"
assert_exit 0 "$CRM" timers list
assert_contains "$OUT" "later" "a timer not yet due stays listed"
assert_not_contains "$OUT" " a " "fired timers leave the default list"
q "DELETE FROM timed_fired; DELETE FROM timers"

# ---- a recurring timer: the handler reschedules its own key ------------------------
assert_exit 0 "$CRM" timed schedule every $T '{"again": 3600}'
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "pending|$((T + 3600))" "$(q "SELECT state, due_at FROM timers WHERE key='every'")" \
    "the completion kept the new schedule"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 3600)))"
assert_eq 2 "$(q "SELECT count(*) FROM timed_fired")" "fired again an hour later"
q "DELETE FROM timed_fired; DELETE FROM timers"

# ---- backoff, parking, retry -------------------------------------------------------
assert_exit 0 "$CRM" timed schedule flaky $T
at=$T
for attempt in 1 2 3 4; do
    TIMED_FAIL=1 run "$CRM" tick --as-of "$(iso $at)"
    assert_eq 0 "$RC" "a failing handler does not fail the pass"
    delay=$((60 * (1 << (attempt - 1))))
    assert_eq "pending|$attempt|$((at + delay))" \
        "$(q "SELECT state, attempts, next_at FROM timers WHERE key='flaky'")" "backoff $attempt"
    TIMED_FAIL=1 run "$CRM" tick --as-of "$(iso $((at + delay - 1)))"
    assert_eq "$attempt" "$(q "SELECT attempts FROM timers WHERE key='flaky'")" "not before its time"
    at=$((at + delay))
done
TIMED_FAIL=1 run "$CRM" tick --as-of "$(iso $at)"
assert_eq "parked|5" "$(q "SELECT state, attempts FROM timers WHERE key='flaky'")" "parked after 5"
assert_contains "$ERR" "parked after 5 attempts" "parking is reported"
assert_exit 0 "$CRM" tick --as-of "$(iso $((at + 999999)))"
assert_eq 0 "$(q "SELECT count(*) FROM timed_fired")" "a parked timer does not fire"
assert_exit 0 "$CRM" timers failed
assert_contains "$OUT" "told to fail (TIMED_FAIL)" "failed lists the error"
assert_contains "$OUT" "flaky" "failed lists the key"
id=$(q "SELECT id FROM timers WHERE key='flaky'")
assert_exit 1 "$CRM" timers retry 999999
assert_contains "$ERR" "no parked timer 999999" "retry of an unknown id"
assert_exit 0 "$CRM" timers retry "$id" --as-of "$(iso $((at + 10)))"
assert_contains "$OUT" "1 timer retried" "retry says how many"
assert_eq "done|0" "$(q "SELECT state, attempts FROM timers WHERE key='flaky'")" "retried and fired"
assert_eq 1 "$(q "SELECT count(*) FROM timed_fired")" "its row written once"
q "DELETE FROM timed_fired; DELETE FROM timers"

# ---- calendars through the SDK -----------------------------------------------------
# Friday 2026-03-27 17:00 Paris (UTC+1) + 2h of open time (Mon-Fri 09-18):
# one hour Friday, one hour Monday 30 March, after the spring-forward: 10:00+02:00.
fri=$(python3 -c 'import datetime as d;print(int(d.datetime(2026,3,27,16,0,tzinfo=d.timezone.utc).timestamp()))')
mon=$(python3 -c 'import datetime as d;print(int(d.datetime(2026,3,30,8,0,tzinfo=d.timezone.utc).timestamp()))')
sat=$(python3 -c 'import datetime as d;print(int(d.datetime(2026,3,28,10,0,tzinfo=d.timezone.utc).timestamp()))')
mon9=$(python3 -c 'import datetime as d;print(int(d.datetime(2026,3,30,7,0,tzinfo=d.timezone.utc).timestamp()))')
assert_exit 0 "$CRM" timed calendar "$fri" 2h
assert_eq "$mon $fri" "$(cut -d' ' -f1,3 <<<"$OUT")" "calendar_add and next_open"
assert_eq 1 "$(cut -d' ' -f2 <<<"$OUT")" "is_open on Friday 17:00"
assert_exit 0 "$CRM" timed calendar "$sat" 0s
assert_eq "$sat 0 $mon9" "$OUT" "closed on Saturday; next opening Monday 09:00+02:00"
assert_exit 1 "$CRM" timed late
assert_contains "$ERR" "register_timer_handler: the registry is frozen after init" "handler only in init"
assert_exit 0 "$CRM" timed schedule mine $((T + 1))
assert_exit 0 "$CRM" timers list --owner timed --json
assert_eq mine "$(json_get "$OUT" key)" "--owner timed"
assert_exit 0 "$CRM" timers list --owner kernel --json
assert_eq "" "$OUT" "--owner kernel: none"
q "DELETE FROM timers"
assert_exit 1 "$CRM" timed calendar "$sat" 2h nosuch
assert_contains "$ERR" "no calendar 'nosuch'" "unknown calendar named"

# ---- the worker: one per database, lease takeover, SIGTERM ---------------------------
wait_for() {  # wait_for SQL EXPECTED: polls the database for up to 10 s
    for _ in $(seq 1 200); do
        [ "$(q "$1")" == "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
"$CRM" run 2>"$dir/run1.err" &
w1=$!
pids+=("$w1")
wait_for "SELECT pid FROM worker_lease" "$w1" && pass || fail "the worker took the lease"
assert_exit 1 "$CRM" run
assert_contains "$ERR" "another worker holds this database: pid $w1" "second worker refused naming the pid"
# the running worker fires what becomes due, without a tick
now=$(date +%s)
assert_exit 0 "$CRM" timed schedule live $((now - 5))
wait_for "SELECT count(*) FROM timed_fired WHERE key='live'" 1 && pass ||
    fail "the worker fired a timer scheduled by another process"
kill -TERM "$w1"
wait "$w1"
assert_eq 0 "$?" "SIGTERM: exit 0"
assert_eq 0 "$(q "SELECT count(*) FROM worker_lease")" "the lease is given back"

CRM_LOG=info "$CRM" run 2>"$dir/run2.err" &
w2=$!
pids+=("$w2")
wait_for "SELECT pid FROM worker_lease" "$w2" && pass || fail "second run took the lease"
kill -9 "$w2"
wait "$w2" 2>/dev/null
assert_eq "$w2" "$(q "SELECT pid FROM worker_lease")" "a crashed worker leaves its lease"
CRM_LOG=info "$CRM" run 2>"$dir/run3.err" &
w3=$!
pids+=("$w3")
wait_for "SELECT pid FROM worker_lease" "$w3" && pass || fail "lease taken over after kill -9"
kill -INT "$w3"
wait "$w3"
assert_eq 0 "$?" "SIGINT: exit 0"
assert_contains "$(cat "$dir/run3.err")" "took over the lease of pid $w2" "takeover logged"
# a live lease of another host is respected until it expires
q "INSERT INTO worker_lease VALUES(1, 4242, 'elsewhere', 0, strftime('%s','now') + 300)"
assert_exit 1 "$CRM" run
assert_contains "$ERR" "pid 4242 on elsewhere" "refused while another host's lease is live"
q "UPDATE worker_lease SET expires_at = strftime('%s','now') - 1"
CRM_WORKER_LEASE=2 CRM_LOG=info "$CRM" run 2>"$dir/run4.err" &
w4=$!
pids+=("$w4")
wait_for "SELECT pid FROM worker_lease" "$w4" && pass || fail "expired lease taken over"
kill -TERM "$w4"
wait "$w4"
assert_eq 0 "$?" "exit 0"
assert_contains "$(cat "$dir/run4.err")" "took over the lease of pid 4242 on elsewhere" "expiry takeover logged"

finish

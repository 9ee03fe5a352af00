#!/usr/bin/env bash
# crm.yaml `timers:`: configured backoff delays (the last repeats), parking
# after max_attempts, and done rows purged after keep_done by `crm tick`.
# The `timed` test plugin's handler fails while TIMED_FAIL is set. Time is
# driven with `crm tick --as-of`; the expected due times come from the delay
# table below, not from crm.
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
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_LOG TIMED_FAIL TIMED_CRASH_AFTER TIMED_NOOP
cat >crm.yaml <<YAML
database: $dir/crm.db
locale:
  timezone: Europe/Paris
plugins: [timed]
timers:
  backoff: [1m, 5m, 30m]
  max_attempts: 5
  keep_done: 2d
YAML
assert_exit 0 "$CRM" init
q() { sqlite3 "$dir/crm.db" "$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
T=1790000000

# ---- backoff from the list, the last delay repeating, parked at max_attempts ------
delays=(60 300 1800 1800) # after failures 1..4
assert_exit 0 "$CRM" timed schedule flaky $T
at=$T
for attempt in 1 2 3 4; do
    TIMED_FAIL=1 run "$CRM" tick --as-of "$(iso $at)"
    assert_eq 0 "$RC" "failure $attempt does not fail the pass"
    next=$((at + delays[attempt - 1]))
    assert_eq "pending|$attempt|$next" \
        "$(q "SELECT state, attempts, next_at FROM timers WHERE key='flaky'")" \
        "after failure $attempt: due ${delays[attempt - 1]}s later"
    TIMED_FAIL=1 run "$CRM" tick --as-of "$(iso $((next - 1)))"
    assert_eq "$attempt" "$(q "SELECT attempts FROM timers WHERE key='flaky'")" \
        "not retried a second early (failure $attempt)"
    at=$next
done
TIMED_FAIL=1 run "$CRM" tick --as-of "$(iso $at)"
assert_eq "parked|5" "$(q "SELECT state, attempts FROM timers WHERE key='flaky'")" \
    "parked after max_attempts 5"
assert_contains "$ERR" "parked after 5 attempts" "parking is reported"

# ---- keep_done: 2d -----------------------------------------------------------------
assert_exit 0 "$CRM" timed schedule old $((T + 10))
assert_exit 0 "$CRM" timed schedule later $((T + 5 * 86400))
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 100)))"
assert_eq "done|$((T + 100))" "$(q "SELECT state, fired_at FROM timers WHERE key='old'")" "fired"
assert_exit 0 "$CRM" --json tick --as-of "$(iso $((T + 100 + 2 * 86400)))"
assert_eq 0 "$(json_get "$OUT" purged)" "kept exactly keep_done"
assert_eq 1 "$(q "SELECT count(*) FROM timers WHERE key='old'")" "still there at 2d"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 101 + 2 * 86400)))"
assert_contains "$OUT" "1 done purged" "tick reports the purge"
assert_eq 0 "$(q "SELECT count(*) FROM timers WHERE key='old'")" "purged a second after 2d"
assert_eq "pending" "$(q "SELECT state FROM timers WHERE key='later'")" "pending timer kept"
assert_eq "parked" "$(q "SELECT state FROM timers WHERE key='flaky'")" "parked timer kept"
assert_eq 1 "$(q "SELECT count(*) FROM timed_fired WHERE key='old'")" "the handler's row stays"

# ---- bad configuration: where and what -----------------------------------------------
bad() { # $1: the timers: body; $2: expected text
    printf 'database: %s/bad.db\ntimers:\n%s\n' "$dir" "$1" >bad.yaml
    CRM_CONFIG=bad.yaml run "$CRM" timers list
    assert_eq 1 "$RC" "refused: $1"
    assert_contains "$ERR" "$2" "message for: $1"
}
bad "  backoff: [1m, 2bd]" "bad.yaml:3:"
bad "  backoff: [1m, 2bd]" "use d, h, m or s, not bd"
bad "  backoff: []" "timers.backoff: expected a list of 1 to 16 delays"
bad "  backoff: [0s]" "must be longer than 0s"
bad "  max_attempts: 0" "expected 1 to 1000 attempts"
bad "  keep_don: 7d" "did you mean 'keep_done'?"
bad "  keep_done: soon" "timers.keep_done: 'soon' is not a duration"
finish

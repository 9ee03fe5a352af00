# Assertion helpers for the end-to-end CLI tests. Source it:
#     . "$CRM_TEST_LIB"
# then call the helpers and finish with `finish` (prints "N passed, M failed"
# and exits non-zero when anything failed). A failed assertion is counted and
# reported on stderr; the script goes on, so one run shows every failure.
#
# After `run CMD...`, $OUT, $ERR and $RC hold the command's stdout, stderr and
# exit status (the command may fail without stopping a `set -e` script).

CRM_TEST_PASSED=0
CRM_TEST_FAILED=0

pass() { CRM_TEST_PASSED=$((CRM_TEST_PASSED + 1)); }

# plugin_test_dir NAME: a plugin test's scratch instance -- the built plugins
# on CRM_PLUGIN_PATH, a fresh directory ($dir, removed on exit) as the working
# directory, and no inherited config, database or user.
plugin_test_dir() {
    CRM=${CRM:?}
    export CRM_PLUGIN_PATH="$CRM_BUILD_DIR/plugins"
    dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-$1-XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    cd "$dir" || exit 1
    unset CRM_CONFIG CRM_DB CRM_USER
}

# fail MESSAGE: counts a failure and says where it happened.
fail() {
    CRM_TEST_FAILED=$((CRM_TEST_FAILED + 1))
    echo "FAIL (line ${BASH_LINENO[1]:-?}): $*" >&2
}

# run CMD...: runs CMD capturing stdout in OUT, stderr in ERR, status in RC.
run() {
    local out_file err_file
    out_file=$(mktemp) err_file=$(mktemp)
    RC=0
    "$@" >"$out_file" 2>"$err_file" || RC=$?
    OUT=$(cat "$out_file") ERR=$(cat "$err_file")
    rm -f "$out_file" "$err_file"
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    if [ "$1" == "$2" ]; then pass; else fail "${3:-value}: expected '$1', got '$2'"; fi
}

# assert_contains HAYSTACK NEEDLE [WHAT]: fixed-string search.
assert_contains() {
    if grep -qF -- "$2" <<<"$1"; then pass; else fail "${3:-output} lacks '$2' in: $1"; fi
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
    if grep -qF -- "$2" <<<"$1"; then fail "${3:-output} has '$2' in: $1"; else pass; fi
}

# assert_exit CODE CMD...: runs CMD (via run, so OUT/ERR/RC are set after)
# and checks its exit status.
assert_exit() {
    local want=$1
    shift
    run "$@"
    if [ "$RC" == "$want" ]; then
        pass
    else
        fail "exit $RC (want $want): $* ; stderr: $ERR"
    fi
}

# json_get JSON PATH: prints the value at a dotted path ("lines.0.sku") of one
# JSON document (python3; no jq needed). Strings print raw, null as "null",
# other values as compact JSON.
json_get() {
    python3 -c '
import json, sys
v = json.loads(sys.argv[1])
for part in sys.argv[2].split(".") if sys.argv[2] else []:
    v = v[int(part)] if isinstance(v, list) else v[part]
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
' "$1" "$2"
}

# json_lines_valid TEXT: succeeds when every non-empty line is one JSON object.
json_lines_valid() {
    python3 -c '
import json, sys
for line in sys.argv[1].splitlines():
    if line.strip() and not isinstance(json.loads(line), dict):
        sys.exit(1)
' "$1"
}

# line_count TEXT: number of non-empty lines.
line_count() {
    grep -c . <<<"$1" || true
}

# finish: prints the tally; exits 1 when anything failed.
finish() {
    echo "$CRM_TEST_PASSED passed, $CRM_TEST_FAILED failed"
    [ "$CRM_TEST_FAILED" -eq 0 ]
}

#!/usr/bin/env bash
# Starting crm: what happens before any command touches data. A refused start
# (missing plugin, bad plugin settings, unknown time zone) writes nothing; a
# plugin that failed says so for its own commands; plugins are found relative
# to the executable; a mistyped command gets a suggestion.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-startup-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_PLUGIN_PATH
HAVE_SEG=0
[ -f "$BUILD/plugins/segmentation.so" ] && HAVE_SEG=1

# ---- locale.timezone against the system tz database ----------------------
printf 'database: tz.db\nlocale:\n  timezone: Mars/Olympus\n' >crm.yaml
assert_exit 1 "$CRM" init
assert_contains "$ERR" "crm.yaml:3:" "unknown zone: position"
assert_contains "$ERR" "Mars/Olympus" "unknown zone: named"
assert_eq "no" "$([ -e tz.db ] && echo yes || echo no)" "unknown zone: no database"
printf 'database: tz.db\nlocale:\n  timezone: America/Sao_Paulo\n' >crm.yaml
assert_exit 0 "$CRM" init

# ---- plugins found relative to the executable ----------------------------
if [ "$HAVE_SEG" = 1 ]; then
    # the build layout (core/crm beside plugins/) and the installed one
    # (bin/crm beside lib/crm/plugins), both copied away from the build tree
    mkdir -p copy/core copy/plugins inst/bin inst/lib/crm/plugins
    cp "$CRM" copy/core/crm && cp "$BUILD/plugins/segmentation.so" copy/plugins/
    cp "$CRM" inst/bin/crm && cp "$BUILD/plugins/segmentation.so" inst/lib/crm/plugins/
    printf 'database: copy.db\nplugins: [segmentation]\n' >crm.yaml
    assert_exit 0 copy/core/crm init
    assert_exit 0 copy/core/crm plugins --json
    assert_contains "$OUT" "\"file\":\"$dir/copy/plugins/segmentation.so\"" "copied build tree"
    assert_exit 0 inst/bin/crm plugins --json
    assert_contains "$OUT" "\"file\":\"$dir/inst/lib/crm/plugins/segmentation.so\"" "copied prefix"
    assert_exit 0 inst/bin/crm rfm refresh --as-of 2026-01-01
    rm copy/plugins/segmentation.so
    assert_exit 1 copy/core/crm plugins
    assert_contains "$ERR" "$dir/copy/plugins" "not found: says where it looked"
    assert_not_contains "$ERR" "$BUILD/plugins" "the build tree is not searched from a copy"
fi

finish

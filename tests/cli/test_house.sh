#!/usr/bin/env bash
# The house: the plugin host is one folder (core/plugin/), and its files grow
# arrays and check names through core/util.h, not hand-written copies.
set -u
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"

stray=$(cd "$SRC/core" && ls plugin_*.c plugin_*.h authorizer.c 2>/dev/null)
assert_eq "" "$stray" "plugin host files outside core/plugin/"
for f in host.c host.h internal.h authorizer.c api.h api_table.c; do
    [ -f "$SRC/core/plugin/$f" ] || fail "core/plugin/$f is missing"
done

# realloc belongs to crm_array_reserve / crm_array_append (core/util.c)
copies=$(grep -ln 'realloc(' "$SRC"/core/plugin/*.c "$SRC"/core/export/export.c \
    "$SRC"/core/model/timeline.c)
assert_eq "" "$copies" "hand-written array growth (use CRM_ARRAY_RESERVE / CRM_ARRAY_APPEND)"

finish

#!/usr/bin/env bash
# The segmentation plugin as the reference layout (ARCHITECTURE.md "A plugin's
# folder"): no mutable file-scope state (the data slot holds it), pure files
# without the SDK, no string search on JSON.
set -u
. "$CRM_TEST_LIB"

SRC=$CRM_SOURCE_DIR/plugins/segmentation
OBJ=$CRM_BUILD_DIR/plugins/segmentation/CMakeFiles/crm_plugin_segmentation.dir

# 1. State in the context's data slot: no object of the plugin lives in a
# writable section (.data/.bss); const tables go to .rodata/.data.rel.ro.
objs=$(ls "$OBJ"/*.o 2>/dev/null | wc -l)
[ "$objs" -gt 5 ] && pass || fail "no plugin objects under $OBJ"
mutable=$(for f in "$OBJ"/*.o; do
    objdump -t "$f" | awk -v f="$(basename "$f")" '$0 ~ /O[ \t]+(\.data|\.bss)[ \t]/ && $NF !~ /^__odr_asan/ {print f": "$NF}'
done)
assert_eq "" "$mutable" "mutable file-scope objects"

# 2. Host helpers: no string search on JSON, no clock formatting of its own
# (crm_format_time), no money formatting of its own (crm_format_money).
assert_eq "" "$(grep -ln 'strstr' "$SRC"/*.c "$CRM_SOURCE_DIR"/sdk/template/*.c)" "strstr in the plugin or the template"
assert_eq "" "$(grep -ln 'gmtime\|localtime\|strftime' "$SRC"/*.c)" "own time formatting"
assert_contains "$(cat "$SRC"/*.c)" "crm_format_time(" "times through the host"
assert_contains "$(cat "$SRC"/*.c)" "crm_format_money(" "money through the host"
assert_contains "$(cat "$SRC"/*.c)" "crm_json_get_int(" "event payloads through the host's JSON reader"

# 3. Regrouped by feature: the files of ARCHITECTURE.md's plugin folder, the
# pure ones (rfm, churn, condition) without the SDK, unit-tested.
for f in segmentation.c schema.c config.c rfm.c rfm_cmd.c segments.c segment_cmd.c \
         condition.c churn.c churn_cmd.c metrics.c events.c README.md; do
    [ -f "$SRC/$f" ] && pass || fail "missing $f"
done
n=$(ls "$SRC"/*.c | wc -l)
[ "$n" -le 14 ] && pass || fail "$n .c files: about ten expected"
for f in rfm churn condition; do
    assert_eq "" "$(grep -l 'crm/plugin.h\|seg_int.h' "$SRC/$f.c" "$SRC/$f.h")" "$f.c is pure (no SDK)"
    [ -f "$CRM_SOURCE_DIR/tests/plugins/segmentation/test_seg_$f.c" ] && pass || fail "no unit test of $f.c"
done
# every registration in segmentation.c
for call in crm_register_command_table crm_declare_config_schema crm_subscribe crm_set_data; do
    assert_eq "" "$(grep -l "$call(" "$SRC"/*.c | grep -v -e /segmentation.c )" "$call outside segmentation.c"
done

finish

#!/usr/bin/env bash
# The house, import and duplicate scan: import.c is only the driver (what the
# parts call back into lives in helpers.c), and the importer and the scan
# grow arrays and search lists through core/util.h, not hand-written copies.
set -u
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"

# External definitions: a line opening a function at column 0 that is not static.
defined() {
    grep -hE '^[A-Za-z_][A-Za-z0-9_ *]*[ *]([a-z_][a-z0-9_]*)\(' "$@" | grep -vE '^(static|typedef|extern) ' |
        sed -E 's/^[^(]*[ *]([a-z_][a-z0-9_]*)\(.*/\1/' | sort
}
assert_eq "crm_import_run" "$(defined "$SRC/core/import/import.c")" \
    "import.c defines only the driver's entry point"
for f in imp_find_entity imp_pick_format imp_reader_for imp_get imp_lookup imp_rejects_path \
    imp_reject_csv_header imp_reject_csv_row imp_reject_raw_header imp_reject_raw_row; do
    assert_eq "$f" "$(defined "$SRC/core/import/helpers.c" | grep -x "$f")" "helpers.c defines $f"
done

# realloc belongs to crm_array_reserve / crm_array_append (core/util.c)
copies=$(grep -ln -e 'realloc(' -e 'imp_grow' "$SRC"/core/import/*.c "$SRC"/core/import/*.h)
assert_eq "" "$copies" "hand-written array growth in core/import (use CRM_ARRAY_RESERVE / APPEND)"

copies=$(grep -ln 'realloc(' "$SRC"/core/dedupe/scan.c)
assert_eq "" "$copies" "hand-written array growth in core/dedupe/scan.c"
loops=$(grep -nE 'crit_names\[[a-z_]' "$SRC"/core/dedupe/scan.c)
assert_eq "" "$loops" "hand-written loop over crit_names (use crm_strlist_find)"

finish

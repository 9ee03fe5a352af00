#!/usr/bin/env bash
# Kernel layering: the model, hygiene and the importer know nothing of the
# Lua engine (its validators reach them through the kernel's hook table,
# k->validators).
set -u
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"

for dir in core/model core/hygiene core/import; do
    uses=$(grep -ln -e '#include "lua/' -e 'crm_lua_' "$SRC/$dir"/*.c "$SRC/$dir"/*.h 2>/dev/null)
    assert_eq "" "$uses" "$dir files reaching into core/lua"
done
uses=$(grep -ln -e '#include "lua/' -e 'crm_lua_' "$SRC"/core/model.h "$SRC"/core/hygiene.h)
assert_eq "" "$uses" "model.h/hygiene.h reaching into core/lua"

finish

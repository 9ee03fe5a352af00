#!/usr/bin/env bash
# sdk/README.md's schema reference is the kernel's schema: the block between
# <!-- schema:begin --> and <!-- schema:end --> is generated from PRAGMA
# table_info / foreign_key_list of every table of a fresh kernel database (no
# plugins), so a kernel table or column missing from (or stale in) the
# reference fails here. Regenerate: CRM_WRITE_SCHEMA_REF=1 with this test.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-schemaref-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_PLUGIN_PATH
printf 'database: crm.db\n' >crm.yaml
assert_exit 0 "$CRM" init --quiet
python3 - crm.db "$SRC/sdk/README.md" "${CRM_WRITE_SCHEMA_REF:-0}" <<'PY' && pass || fail "sdk/README.md's schema reference differs from the kernel schema (diff above; CRM_WRITE_SCHEMA_REF=1 regenerates)"
import difflib, sqlite3, sys
db, readme, write = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
c = sqlite3.connect(db)
rows = ["| table | columns (type; `!` NOT NULL; `pk`; `-> table` a reference) |", "|---|---|"]
for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"):
    fks = {r[3]: r[2] for r in c.execute(f"PRAGMA foreign_key_list({t})")}
    cols = []
    for _, name, typ, notnull, _, pk in c.execute(f"PRAGMA table_info({t})"):
        bits = [typ.lower() or "any"]
        if pk: bits.append("pk")
        elif notnull: bits.append("!")
        if name in fks: bits.append("-> " + fks[name])
        cols.append(f"`{name}` {' '.join(bits)}")
    rows.append(f"| `{t}` | {', '.join(cols)} |")
block = "<!-- schema:begin -->\n" + "\n".join(rows) + "\n<!-- schema:end -->"
text = open(readme).read()
b, e = text.find("<!-- schema:begin -->"), text.find("<!-- schema:end -->")
if b < 0 or e < 0:
    sys.exit("sdk/README.md has no <!-- schema:begin/end --> block")
old = text[b:e + len("<!-- schema:end -->")]
if write and old != block:
    open(readme, "w").write(text[:b] + block + text[e + len("<!-- schema:end -->"):])
    sys.exit(0)
if old != block:
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), block.splitlines(True), "sdk/README.md", "schema"))
    sys.exit(1)
PY
finish

#!/usr/bin/env bash
# segmentation's crm.yaml section as real YAML lists and maps (SDK 1.3
# declare_config_schema): a custom grid is applied (checked against the
# stored R and F scores independently), errors from the host's schema and
# from the plugin's own checks point at file:line:column, the old string
# forms are refused, and the shipped crm.yaml section, uncommented, loads.
set -u
. "$CRM_TEST_LIB"
CRM=${CRM:?}
export CRM_PLUGIN_PATH="$CRM_BUILD_DIR/plugins"
if [ ! -f "$CRM_PLUGIN_PATH/segmentation.so" ]; then
    echo "segmentation.so not built: skipped"; echo "0 passed, 0 failed"; exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-segcfg-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
T=2024-06-01T00:00:00Z

cat >crm.yaml <<'YAML'
database: crm.db
plugins: [segmentation]
segmentation:
  rfm:
    window_days: 0
    currency: EUR
    grid:
      - {name: Best, r_min: 4, r_max: 5, f_min: 3, f_max: 5}
      - name: Recent
        r_min: 4
        r_max: 5
        f_min: 1
        f_max: 5
  segments:
    - {name: Big, where: "monetary >= 30000"}
    - {name: Press, static: true}
  churn:
    levels: [30]
YAML
assert_exit 0 "$CRM" init --quiet
for i in $(seq 1 12); do
    "$CRM" contact add --external-id c$i --email c$i@example.com >/dev/null 2>&1
    for k in $(seq 1 $(( (i % 4) + 1 ))); do
        "$CRM" order add --contact ext:c$i --total $((i * 37 + k)) --status paid \
            --placed-at 2024-0$(( (i % 5) + 1 ))-1${k}T10:00:00Z >/dev/null 2>&1
    done
done
assert_exit 0 "$CRM" --as-of $T rfm refresh
# the custom grid, applied to the stored scores independently of the plugin
run python3 - <<'PY'
import sqlite3
db = sqlite3.connect("crm.db")
grid = [("best", 4, 5, 3, 5), ("recent", 4, 5, 1, 5)]
bad = 0
rows = db.execute("select r, f, segment from segmentation_rfm").fetchall()
for r, f, seg in rows:
    want = next((n for n, rl, rh, fl, fh in grid if rl <= r <= rh and fl <= f <= fh), None)
    bad += want != seg
print(len(rows), bad, sum(1 for r in rows if r[2] is None))
PY
read -r nrows nbad nnone <<<"$OUT"
assert_eq 12 "$nrows" "custom grid: every contact scored"
assert_eq 0 "$nbad" "custom grid: every stored segment is the first matching cell"
[ "$nnone" -gt 0 ] && pass || fail "custom grid: R1-3 has no cell, so some contacts have none"
run "$CRM" --json segment list
assert_contains "$OUT" '"segment":"best"' "segment list: the custom grid's cells"
assert_not_contains "$OUT" '"segment":"champions"' "segment list: not the default grid"
assert_contains "$OUT" '"segment":"press"' "segment list: the static segment"
assert_exit 0 "$CRM" --as-of $T segment refresh big
want=$(python3 -c '
import sqlite3; db = sqlite3.connect("crm.db")
print(db.execute("select count(*) from segmentation_rfm where monetary >= 30000").fetchone()[0])')
run "$CRM" --json segment members big
assert_eq "$want" "$(grep -c contact_id <<<"$OUT")" "where: condition members = monetary >= 30000"

# ---- errors, with positions ------------------------------------------------------
err_case() { # $1 what, $2 expected text; crm.yaml already written
    run "$CRM" segment list
    assert_eq 1 "$RC" "$1: exit 1"
    assert_contains "$ERR" "$2" "$1"
}
section() { printf 'database: crm.db\nplugins: [segmentation]\nsegmentation:\n%s\n' "$1" >crm.yaml; }

section '  segments: "Big: monetary >= 1; Press: static"'
err_case "old string form of segments refused" "crm.yaml:4:3: segmentation.segments: expected a list"
section '  churn:
    levels: "40,70"'
err_case "old string form of levels refused" "crm.yaml:5:5: segmentation.churn.levels: expected a list"
section '  rfm:
    grid: "Champions: R5 F4-5"'
err_case "old string form of the grid refused" "crm.yaml:5:5: segmentation.rfm.grid: expected a list"
section '  churn:
    levels: [40, 30]'
err_case "levels must ascend (the plugin's check at the item)" "crm.yaml:5:18: segmentation.churn.levels[1]: levels must ascend"
section '  segments:
    - {name: A, where: "frequency >= 2"}
    - name: B
      where: "frequency >> 2"'
err_case "a bad condition points at its where:" "crm.yaml:7:7: segmentation.segments[1].where: condition"
section '  segments:
    - {name: A, static: true, lua: x}'
err_case "exactly one of where, lua, static" "crm.yaml:5:7: segmentation.segments[0]: segment \"A\": give exactly one of"
section '  segments:
    - {name: Champions, static: true}'
err_case "a name taken by the grid" "segmentation.segments[0].name: \"Champions\" is already an RFM grid segment"
section '  rfm:
    grid:
      - {name: X, r_min: 0, r_max: 5, f_min: 1, f_max: 5}'
err_case "scores are 1-5 (the host's bounds)" "crm.yaml:6:19: segmentation.rfm.grid[0].r_min: 0 is out of range"
section '  rfm:
    grid:
      - {name: X, r_min: 5, r_max: 4, f_min: 1, f_max: 5}'
err_case "r_min <= r_max" "crm.yaml:6:9: segmentation.rfm.grid[0]: r_min must not exceed r_max"
section '  churn:
    signals:
      - {name: s, match: /x, points: 5, weight: 2}'
err_case "unknown key in a signal, with the valid ones" "unknown key 'weight'"

# ---- the shipped crm.yaml section, uncommented, is valid --------------------------
sed -n '/^#   segmentation:/,$p' "$CRM_SOURCE_DIR/crm.yaml" | sed 's/^#   //' >section.yaml
printf 'database: crm.db\nplugins: [segmentation]\nrules:\n  idf_big_spender: {kind: predicate, script: r.lua, function: f}\n' >crm.yaml
cat section.yaml >>crm.yaml
mkdir -p scripts && printf 'function f(c) return false end\n' >scripts/r.lua
run "$CRM" --json segment list
assert_eq 0 "$RC" "the shipped section loads: $ERR"
assert_contains "$OUT" '"segment":"regulars"' "the shipped section: its segments"
finish

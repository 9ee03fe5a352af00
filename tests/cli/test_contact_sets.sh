#!/usr/bin/env bash
# SDK 1.3 through a test plugin (tests/plugins/fixtures/sets.c): a contact set
# provider answers --segment (ids deduplicated, any order), providers are asked
# in load order and an unknown name quotes each one; a provider's failure stops
# the command; one provider per plugin; no registration after init; and
# format_money's answers, codes included.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/tests/plugins/so:$BUILD/plugins"
if [ ! -f "$BUILD/tests/plugins/so/sets.so" ]; then
  echo "the sets test plugin is not built: skipped"
  echo "0 passed, 0 failed"
  exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-sets-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
with_seg=""
[ -f "$BUILD/plugins/segmentation.so" ] && with_seg=", segmentation"
cat >crm.yaml <<YAML
database: crm.db
plugins: [sets$with_seg]
YAML
[ -n "$with_seg" ] && printf 'segmentation:\n  segments:\n    - {name: VIP, static: true}\n' >>crm.yaml
assert_exit 0 "$CRM" init --quiet
for i in 1 2 3 4 5; do "$CRM" contact add --email "p$i@example.com" --last-name "P$i" >/dev/null; done
ids() { python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin if l.strip()))'; }

run "$CRM" --json contact list --segment even
assert_eq "2 4" "$(ids <<<"$OUT")" "--segment even: ids given twice and in reverse come once, in order"
run "$CRM" --json contact list --segment odd --limit 2 --page 2
assert_eq "5" "$(ids <<<"$OUT")" "--segment pages"
run "$CRM" --json export contacts --segment odd
assert_eq 3 "$(line_count "$OUT")" "export contacts --segment odd"
run "$CRM" contact list --segment broken
assert_eq 1 "$RC" "a provider's failure stops the command (exit 1)"
assert_contains "$ERR" "the broken set always fails" "with the provider's message"
assert_contains "$ERR" "plugin sets" "naming the plugin"
run "$CRM" contact list --segment nothing
assert_eq 1 "$RC" "unknown everywhere: exit 1"
assert_contains "$ERR" "sets: no set \"nothing\"; sets: even, odd, broken" "the first provider's message"
if [ -n "$with_seg" ]; then
  assert_contains "$ERR" "segmentation: no segment \"nothing\"" "and the second's"
  "$CRM" segment add vip 1 3 >/dev/null
  run "$CRM" --json contact list --segment vip
  assert_eq "1 3" "$(ids <<<"$OUT")" "the next provider answers what the first does not know"
fi
run "$CRM" --json plugins
assert_contains "$OUT" '"contact_sets":"even and odd contacts"' "crm plugins --json shows the provider"
run "$CRM" plugins
assert_contains "$OUT" "contact sets   even and odd contacts (--segment NAME)" "crm plugins shows it too"

run "$CRM" sets money
assert_eq 0 "$RC" "sets money: $ERR"
want="0 [1 234.56 EUR]
0 [-0.05 EUR]
0 [1 500 JPY]
0 [1.500 KWD]
0 [0.0001 CLF]
0 [0 XOF]
-1 [1500 (minor units) eur]
-1 [1500 (minor units) ]
tiny -7
none -4
late -11"
assert_eq "$want" "$OUT" "format_money answers and a registration after init"

# one provider per plugin: the plugin is refused at load, naming the reason
printf 'database: crm2.db\nplugins: [sets_twice]\n' >twice.yaml
run "$CRM" --config twice.yaml init --quiet
assert_eq 1 "$RC" "a second provider refuses the plugin"
assert_contains "$ERR" "one provider per plugin" "and says why"
finish

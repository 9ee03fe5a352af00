#!/usr/bin/env bash
# A rule over every contact (crm rules run; a Lua segment's rule_each) reads
# order aggregates and tags in one pass once enough contacts asked
# (core/lua/prefetch.c). Over 700 contacts, the first ones read one by one and
# the rest from the pass, every answer must equal SQL written here: lifetime
# aggregates (orders after --as-of and cancelled ones left out, no dates
# without a qualifying order), windows, tags.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-luascan-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
export CRM_PLUGIN_PATH=$BUILD/plugins

T=1780000000 # the --as-of of every evaluation
asof=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($T, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
python3 - "$T" <<'PY'
import random, sys, datetime
T = int(sys.argv[1]); rnd = random.Random(7)
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
tagset = ["vip", "b2b", "newsletter", "sms"]
with open("contacts.csv", "w") as f:
    f.write("external_id,first_name,last_name,email,tags,company,owner\n")
    for i in range(1, 701):
        tags = "|".join(t for t in tagset if rnd.random() < 0.2)
        company = rnd.choice(["", "", "Acme", "Globex", "Initech"])
        owner = rnd.choice(["", "", "dora@example.org", "eli@example.org"])
        f.write(f"C{i:04d},Ann{i},Lee{i},ann{i}@example.org,{tags},{company},{owner}\n")
with open("orders.csv", "w") as f:
    f.write("external_id,contact_external_id,placed_at,total,currency,status\n")
    n = 0
    for i in range(1, 701):
        for _ in range(rnd.choice([0, 0, 1, 2, 3, 5, 8])):
            n += 1
            # a tenth after T (not yet placed as of T), some cancelled
            at = T - rnd.randint(0, 400 * 86400) if rnd.random() > 0.1 else T + rnd.randint(1, 90 * 86400)
            status = rnd.choice(["paid", "paid", "placed", "cancelled", "refunded"])
            f.write(f"O{n:05d},C{i:04d},{iso(at)},{rnd.randint(500, 40000) / 100:.2f},EUR,{status}\n")
PY
mkdir scripts
cat >scripts/scan.lua <<'LUA'
function big(c) return c.order_count >= 3 and c.total_spent >= 20000 end
function dated(c)
  return c.first_order_at ~= nil and c.first_order_at < crm.now() - 200 * 86400
     and c.last_order_at > crm.now() - 60 * 86400
end
function never(c) return c.first_order_at == nil and c.last_order_at == nil and c.order_count == 0 end
function recent(c) return c:orders_since(30) >= 1 and c:spent_since(90) > 5000 end
function tagged(c) return c:has_tag("vip") or #c.tags >= 2 end
-- names a scan reads on demand (the select of every contact joins neither)
function named(c)
  return (c.company == "Acme" and c.owner == nil) or c.owner == "eli@example.org"
end
-- exact values: a total one unit off changes the answer
function exact(c)
  return (c.total_spent + 13 * c.order_count + (c.first_order_at or 0) % 977
          + (c.last_order_at or 0) % 1000 + c:spent_since(90) + 7 * c:orders_since(45)) % 5 == 0
end
LUA
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [segmentation]
rules:
  big:    {kind: predicate, script: scan.lua, function: big}
  dated:  {kind: predicate, script: scan.lua, function: dated}
  never:  {kind: predicate, script: scan.lua, function: never}
  recent: {kind: predicate, script: scan.lua, function: recent}
  tagged: {kind: predicate, script: scan.lua, function: tagged}
  exact:  {kind: predicate, script: scan.lua, function: exact}
  named:  {kind: predicate, script: scan.lua, function: named}
segmentation:
  segments:
    - {name: Big, lua: big}
YAML
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" user add --name Dora --email dora@example.org
assert_exit 0 "$CRM" user add --name Eli --email eli@example.org
assert_exit 0 "$CRM" --quiet import contacts contacts.csv
assert_exit 0 "$CRM" --quiet import orders orders.csv
assert_eq 700 "$(sqlite3 crm.db 'select count(*) from contacts')" "contacts imported"

# the same qualifying orders as the rules: placed or paid, placed at or before T
q="status IN ('placed','paid') AND placed_at <= $T"
agg="(SELECT count(*) FROM orders o WHERE o.contact_id = c.id AND $q)"
sum_since() { echo "(SELECT coalesce(sum(total), 0) FROM orders o WHERE o.contact_id = c.id AND $q AND placed_at > $T - $1 * 86400)"; }
cnt_since() { echo "(SELECT count(*) FROM orders o WHERE o.contact_id = c.id AND $q AND placed_at > $T - $1 * 86400)"; }
first="(SELECT min(placed_at) FROM orders o WHERE o.contact_id = c.id AND $q)"
last="(SELECT max(placed_at) FROM orders o WHERE o.contact_id = c.id AND $q)"
ntags="(SELECT count(*) FROM contact_tags t WHERE t.contact_id = c.id)"
vip="EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = 'vip')"
declare -A want=(
  [big]="$agg >= 3 AND $(sum_since 100000) >= 20000"
  [dated]="$first < $T - 200 * 86400 AND $last > $T - 60 * 86400"
  [never]="$first IS NULL AND $agg = 0"
  [recent]="$(cnt_since 30) >= 1 AND $(sum_since 90) > 5000"
  [tagged]="$vip OR $ntags >= 2"
  [named]="(c.company_id = (SELECT id FROM companies WHERE name = 'Acme') AND c.owner_id IS NULL)
            OR c.owner_id = (SELECT id FROM users WHERE email = 'eli@example.org')"
  [exact]="($(sum_since 100000) + 13 * $agg + coalesce($first, 0) % 977 + coalesce($last, 0) % 1000
            + $(sum_since 90) + 7 * $(cnt_since 45)) % 5 = 0"
)
for rule in big dated never recent tagged exact named; do
  expect=$(sqlite3 crm.db "SELECT id FROM contacts c WHERE ${want[$rule]} ORDER BY id" | paste -sd, -)
  assert_exit 0 "$CRM" --as-of "$asof" rules run "$rule" --show 1000 --json
  assert_eq 700 "$(json_get "$OUT" evaluated)" "$rule: every contact evaluated"
  assert_eq "[$expect]" "$(json_get "$OUT" first_matches | tr -d ' \n')" "$rule: matches as SQL"
  # not a vacuous comparison: each rule holds for some contacts and not others
  n=$(json_get "$OUT" matched)
  [ "$n" -gt 0 ] && [ "$n" -lt 700 ] || fail "$rule: matched $n of 700, expected some"
done

# with a --where the select joins the names: the same answers among Acme's
expect=$(sqlite3 crm.db "SELECT c.id FROM contacts c JOIN companies co ON co.id = c.company_id
  WHERE co.name = 'Acme' AND (${want[named]}) ORDER BY c.id" | paste -sd, -)
assert_exit 0 "$CRM" --as-of "$asof" rules run named --where company=Acme --show 1000 --json
assert_eq "[$expect]" "$(json_get "$OUT" first_matches | tr -d ' \n')" "named, --where company: as SQL"

# a Lua segment (the plugin's rule_each scan) agrees too
assert_exit 0 "$CRM" --as-of "$asof" segment refresh big
expect=$(sqlite3 crm.db "SELECT id FROM contacts c WHERE ${want[big]} ORDER BY id" | paste -sd, -)
got=$(sqlite3 crm.db "SELECT contact_id FROM segmentation_members WHERE segment = 'big' AND left_at IS NULL ORDER BY contact_id" | paste -sd, -)
assert_eq "$expect" "$got" "segment big: members as SQL"
finish

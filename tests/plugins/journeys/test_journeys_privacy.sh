#!/usr/bin/env bash
# A person's journey records go with the person: exported by `contact
# export-data`, removed (with the pending timer) by `contact erase`; and a
# configuration without the plugin has none of its commands or tables.
. "$(dirname "$0")/jr_common.sh"

{
    printf 'database: crm.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\n'
    printf 'plugins: [journeys]\n'
    jr_messages_config
    cat <<'YAML'
journeys:
  flows:
    follow_up:
      trigger: {event: order.paid}
      steps:
        - {emit: journey.first}
        - {after: 2d, emit: journey.second}
YAML
} >crm.yaml
assert_exit 0 "$CRM" init --quiet
keep=$("$CRM" contact add --email keep@example.fr --first-name Kept)
gone=$("$CRM" contact add --email gone@example.fr --first-name Gone)
for c in "$keep" "$gone"; do
    assert_exit 0 "$CRM" order add --contact "$c" --total 50 --status paid --as-of 2026-03-02T10:00:00Z
done
assert_exit 0 "$CRM" tick --as-of 2026-03-02T10:00:00Z

run "$CRM" contact export-data "$gone" --as-of 2026-03-02T11:00:00Z
assert_eq 0 "$RC" "export-data"
got=$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
def find(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("journeys_entries", "journeys_effects"):
                yield k, v
            yield from find(v)
    elif isinstance(o, list):
        for v in o:
            yield from find(v)
for k, v in sorted(find(d)):
    print(k, len(v), sorted({r.get("contact_id") for r in v}))' "$OUT")
assert_eq "journeys_effects 1 [$gone]
journeys_entries 1 [$gone]" "$got" "the person's entries and steps, and only theirs"

run "$CRM" contact erase "$gone" --reason "asked by the person" --as-of 2026-03-02T12:00:00Z
assert_eq 0 "$RC" "erase"
assert_eq "0|0" "$(jr_sql "SELECT (SELECT count(*) FROM journeys_entries WHERE contact_id = $gone),
    (SELECT count(*) FROM journeys_effects WHERE contact_id = $gone)")" "erased from the plugin's tables"
assert_eq "1" "$(jr_sql "SELECT count(*) FROM timers WHERE owner = 'journeys' AND state = 'pending'")" \
    "the erased person's timer is gone, the other's kept"
assert_exit 0 "$CRM" tick --as-of 2026-03-05T12:00:00Z
assert_eq "$keep" "$(jr_sql "SELECT contact_id FROM events WHERE type = 'journey.second'")" \
    "only the kept contact's second step ran"
assert_eq "0" "$(jr_sql "SELECT count(*) FROM events WHERE payload LIKE '%gone@example.fr%'")" \
    "no event names the erased address"

# Without the plugin: no journey command, no journeys_* table.
mkdir bare && cd bare || exit 1
printf 'database: crm.db\nplugins: []\n' >crm.yaml
assert_exit 0 "$CRM" init --quiet
run "$CRM" journey list
assert_eq 1 "$([ "$RC" -ne 0 ] && echo 1)" "journey list without the plugin fails"
assert_contains "$ERR" "journey"
assert_eq "0" "$(jr_sql "SELECT count(*) FROM sqlite_master WHERE name LIKE 'journeys%'")" \
    "no journeys tables"
finish

#!/usr/bin/env bash
# crm audit: a fixture where every finding is known, counts checked against
# an independent count (Python's sqlite3 over the same database), the trend
# between two audits, and --fix merge-safe merging only the pair that shares
# a phone without a conflicting field, through the kernel's merge (unmerge
# works).
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
unset CRM_DB CRM_CONFIG
# The rules when the data was entered: looser than today's.
cat >"$dir/then.yaml" <<'YAML'
database: t.db
locale: {country: FR, currency: EUR}
hygiene:
  validate: {email: false, postal_code: false}
  duplicates: {refuse_on_add: false}
custom_fields:
  contact:
    - {name: card, type: text}
YAML
# Today's rules: last_name became required, phone and city recommended, the
# card became a number and B2B contacts need a company email (a Lua validator).
scripts=${CRM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts
cat >"$dir/crm.yaml" <<YAML
database: t.db
locale: {country: FR, currency: EUR}
scripts: $scripts
rules:
  b2b_company_email: {kind: validator, script: validators.lua, function: b2b_company_email}
custom_fields:
  contact:
    - {name: card, type: integer}
hygiene:
  duplicates: {refuse_on_add: false}
  required: [last_name]
  recommended: [phone, city]
  inactive_months: 18
YAML
old() { "$CRM" --config "$dir/then.yaml" "$@"; }
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
sql() { python3 -c 'import sqlite3,sys; print("\n".join("|".join(map(str,r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' "$dir/t.db" "$1"; }

assert_exit 0 old init
add() { # AS_OF ARGS...: adds a contact created at AS_OF, prints nothing
    local at=$1
    shift
    assert_exit 0 old contact add --as-of "$at" "$@"
}
add 2024-01-01 --first-name Jean --last-name Dupont --email jean.dupont@example.fr \
    --phone 0612345678 --city Paris                                          # 1
add 2024-02-01 --first-name jean --last-name DUPONT --phone "06 12 34 56 78" --city PARIS \
    --stage evangelist                                                       # 2: dup of 1, safe
add 2024-01-01 --first-name Marie --last-name Curie --email marie@example.fr \
    --phone 0698765432 --city Lyon                                           # 3
add 2026-01-01 --first-name Marie --last-name Curie --phone 0698765432 --city Marseille  # 4: dup of 3, city conflicts
add 2026-06-01 --first-name Paul --email "paul@@example.fr"                 # 5: no last name, phone, city; bad email
add 2026-11-01 --first-name Lea --last-name Martin --phone 0611111111 --city Paris \
    --postal-code 7500                                                       # 6: bad postal code
add 2023-01-01 --first-name Old --last-name Timer --phone 0622222222 --city Nice  # 7: last order 2024-06
add 2025-01-01 --first-name Sophie --last-name Germain --phone 0633333333 --city Paris \
    --tag b2b --email sophie@gmail.com                                       # 8: interaction 2025-07; webmail B2B
add 2026-10-01 --first-name Nina --last-name Simone --email nina@example.fr --city Paris \
    --field card=A12                                                         # 9: no phone; card not a number

assert_exit 0 old order add --contact 1 --total 10 --status paid --placed-at 2026-03-01
assert_exit 0 old order add --contact 7 --total 10 --status paid --placed-at 2024-06-01
assert_exit 0 old interaction log --contact 3 --channel phone --at 2025-12-01 --subject call
assert_exit 0 old interaction log --contact 8 --channel email --at 2025-07-01 --subject hello
# Activity after the audit's --as-of does not make a contact active.
assert_exit 0 old interaction log --contact 7 --channel note --at 2027-01-15 --subject later
assert_exit 0 old consent grant --contact 1 --channel email --purpose newsletter --as-of 2024-01-02
assert_exit 0 old consent grant --contact 3 --channel email --purpose newsletter --as-of 2024-01-02
assert_exit 0 old consent withdraw --contact 7 --channel email --purpose newsletter --as-of 2024-01-02

AS_OF=2026-12-01
CUTOFF=$(python3 -c 'import calendar,datetime; print(int(calendar.timegm(datetime.date(2025,6,1).timetuple())))')
NOW=$(python3 -c 'import calendar,datetime; print(int(calendar.timegm(datetime.date(2026,12,1).timetuple())))')

# Independent counts, from the definitions in README "Data audit".
want_missing_required=$(sql "SELECT count(*) FROM contacts WHERE coalesce(last_name,'')=''")
want_missing_recommended=$(sql "SELECT count(*) FROM contacts WHERE coalesce(phone,'')='' OR coalesce(city,'')=''")
want_no_consent=$(sql "SELECT count(*) FROM contacts c WHERE c.id NOT IN (SELECT contact_id FROM consents)")
want_inactive=$(sql "SELECT count(*) FROM contacts c WHERE coalesce(
    max((SELECT max(placed_at) FROM orders o WHERE o.contact_id=c.id AND placed_at<=$NOW),
        (SELECT max(occurred_at) FROM interactions i WHERE i.contact_id=c.id AND occurred_at<=$NOW)),
    (SELECT max(placed_at) FROM orders o WHERE o.contact_id=c.id AND placed_at<=$NOW),
    (SELECT max(occurred_at) FROM interactions i WHERE i.contact_id=c.id AND occurred_at<=$NOW),
    c.created_at) < $CUTOFF")
# Invalid values: re-check the stored values with Python's own rules.
want_invalid=$(python3 - "$dir/t.db" <<'PY'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
bad = 0
rows = db.execute("""SELECT email, postal_code,
    EXISTS(SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = 'b2b'),
    (SELECT value FROM custom_values v WHERE v.entity = 'contact' AND v.entity_id = c.id
      AND v.name = 'card') FROM contacts c""")
for email, postal, b2b, card in rows:
    if ((email and email.count("@") != 1) or (postal and not re.fullmatch(r"\d{5}", postal))
            or (b2b and (not email or email.endswith("@gmail.com")))
            or (card is not None and not re.fullmatch(r"-?\d+", card))):
        bad += 1
print(bad)
PY
)
assert_eq "1 2 6 2 4" "$want_missing_required $want_missing_recommended $want_no_consent $want_inactive $want_invalid" \
    "the fixture's independent counts"

assert_exit 0 crm contact duplicates --json
want_dups=$(line_count "$OUT")
assert_eq 2 "$want_dups" "duplicate pairs in the fixture"

# ---- the first audit -----------------------------------------------------------------------
assert_exit 0 crm audit --as-of $AS_OF --json
a1=$OUT
assert_eq 9 "$(json_get "$a1" contacts)" "contacts audited"
assert_eq "$want_dups" "$(json_get "$a1" duplicates.count)" "duplicates"
assert_eq 80 "$(json_get "$a1" duplicates.min_score)" "threshold"
assert_eq "$want_missing_required" "$(json_get "$a1" missing_required.count)" "missing required"
assert_eq 5 "$(json_get "$a1" missing_required.examples.0.id)" "missing required example"
assert_eq "$want_missing_recommended" "$(json_get "$a1" missing_recommended.count)" "missing recommended"
assert_eq "phone, city" "$(json_get "$a1" missing_recommended.examples.0.fields)" "contact 5 lacks both"
assert_eq "$want_invalid" "$(json_get "$a1" invalid.count)" "invalid values"
assert_contains "$(json_get "$a1" invalid.examples.0.reason)" "email: 'paul@@example.fr'"
assert_contains "$(json_get "$a1" invalid.examples.1.reason)" "postal_code: '7500'"
assert_contains "$(json_get "$a1" invalid.examples.2.reason)" "webmail"
assert_contains "$(json_get "$a1" invalid.examples.3.reason)" "card"
assert_eq "$want_no_consent" "$(json_get "$a1" no_consent.count)" "without consent"
assert_eq "$want_inactive" "$(json_get "$a1" inactive.count)" "inactive"
assert_eq "2 7" "$(json_get "$a1" inactive.examples.0.id) $(json_get "$a1" inactive.examples.1.id)" \
    "inactive contacts"
assert_eq "2025-06-01T00:00:00Z" "$(json_get "$a1" inactive.before)" "18 months before"
assert_eq "null" "$(json_get "$a1" previous)" "no previous audit"
assert_eq '[{"field":"last_name","level":"required","missing":1,"examples":[5]},{"field":"phone","level":"recommended","missing":2,"examples":[5,9]},{"field":"city","level":"recommended","missing":1,"examples":[5]}]' \
    "$(json_get "$a1" fields)" "per-field counts"
assert_eq 1 "$(sql "SELECT count(*) FROM audits")" "the audit is recorded"
assert_eq 1 "$(sql "SELECT count(*) FROM events WHERE type='audit.recorded'")" "audit.recorded event"

# ---- the trend: the second audit prints deltas ------------------------------------------------
assert_exit 0 crm consent grant --contact 2 --channel sms --purpose offers --as-of 2026-12-10
assert_exit 0 crm audit --as-of 2026-12-15
text=$OUT
assert_contains "$text" "since audit #1 of 2026-12-01"
assert_contains "$text" "CHANGE"
assert_exit 0 crm audit --as-of 2026-12-16 --json
a2=$OUT
assert_eq 2 "$(json_get "$a2" previous.id)" "previous is the last audit"
assert_eq 0 "$(json_get "$a2" no_consent.change)" "no change since audit 2"
python3 - "$a1" "$text" <<'PY' && pass || fail "text audit #2 shows no_consent -1 against audit #1"
import json, re, sys
a1 = json.loads(sys.argv[1])
line = next(l for l in sys.argv[2].splitlines() if l.startswith("no consent recorded"))
count, change = re.split(r"\s{2,}", line.strip())[1:3]
assert int(count) == a1["no_consent"]["count"] - 1 and change == "-1", line
PY

# ---- refused options write nothing ---------------------------------------------------------------
n_audits=$(sql "SELECT count(*) FROM audits")
assert_exit 2 crm audit --fix everything
assert_contains "$ERR" "merge-safe"
assert_eq "$n_audits" "$(sql "SELECT count(*) FROM audits")" "a refused audit records nothing"

# ---- --fix merge-safe ---------------------------------------------------------------------------
assert_exit 0 crm audit --fix merge-safe --as-of 2026-12-20 --json
fx=$OUT
assert_eq 1 "$(json_get "$fx" fix.merged)" "one safe pair merged"
assert_eq "1 2" "$(json_get "$fx" fix.merges.0.keep_id) $(json_get "$fx" fix.merges.0.other_id)" \
    "2 merged into 1"
merge_id=$(json_get "$fx" fix.merges.0.merge_id)
assert_eq 1 "$(json_get "$fx" fix.unmerged)" "the conflicting pair is left"
assert_eq "3 4" "$(json_get "$fx" fix.unmerged_examples.0.a) $(json_get "$fx" fix.unmerged_examples.0.b)"
assert_contains "$(json_get "$fx" fix.unmerged_examples.0.reason)" "city: 'Lyon' / 'Marseille'"
assert_eq 8 "$(json_get "$fx" contacts)" "the audit after the fix counts 8 contacts"
assert_eq 1 "$(json_get "$fx" duplicates.count)" "one pair left"
assert_eq 8 "$(sql "SELECT count(*) FROM contacts")" "contact 2 is gone"
assert_eq 1 "$(sql "SELECT merged FROM audits ORDER BY id DESC LIMIT 1")" "merges recorded"
# Through the kernel's merge: history moved, merge listed, unmerge restores.
assert_eq 2 "$(sql "SELECT count(*) FROM consents WHERE contact_id=1")" "2's consent moved to 1"
assert_exit 0 crm contact merges 1 --json
assert_eq 2 "$(json_get "$OUT" other_id)" "merge history"
assert_eq "evangelist|customer|evangelist|merge of contact #2" \
    "$(sql "SELECT c.lifecycle_stage, h.old_value, h.new_value, h.reason FROM contacts c JOIN contact_history h ON h.contact_id = c.id WHERE c.id = 1 ORDER BY h.id DESC LIMIT 1")" \
    "the kept customer takes the merged evangelist's stage"
assert_exit 0 crm audit --fix merge-safe --as-of 2026-12-21
assert_contains "$OUT" "merge-safe: merged 0 pairs"
assert_contains "$OUT" "3 & 4"
assert_exit 0 crm contact unmerge "$merge_id"
assert_exit 0 crm contact show 2 --json
assert_eq "+33612345678" "$(json_get "$OUT" phone)" "contact 2 restored"
assert_eq customer "$(sql "SELECT lifecycle_stage FROM contacts WHERE id=1")" "unmerge: 1's stage back"

assert_exit 0 crm audit --help
assert_contains "$OUT" "--fix"

# A misspelt recommended field is refused with its place in crm.yaml.
printf 'database: t.db\nhygiene:\n  recommended: [phone, citty]\n' >"$dir/bad.yaml"
assert_exit 1 "$CRM" --config "$dir/bad.yaml" audit
assert_contains "$ERR" "bad.yaml:3"
assert_contains "$ERR" "citty"

finish

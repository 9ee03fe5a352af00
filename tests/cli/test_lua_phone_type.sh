#!/usr/bin/env bash
# Rules see contacts.phone_type as c.phone_type: through `rules eval` (a
# stored contact), `rules run` (rows of a scan) and a validator (the contact
# being written, typed by the model before the rule runs).
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-phonetype-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
mkdir scripts
cat >scripts/phone.lua <<'LUA'
function kind(c) return c.phone_type == "mobile" end
function type_len(c) return c.phone_type and #c.phone_type or -1 end
function sms_tag_needs_mobile(c)
  if c:has_tag("sms") and c.phone_type ~= "mobile" then
    return "phone: tag sms needs a mobile number, got " .. tostring(c.phone_type)
  end
end
LUA
cat >crm.yaml <<'YAML'
database: crm.db
locale: {country: FR}
rules:
  mobile:   {kind: predicate, script: phone.lua, function: kind}
  type_len: {kind: score,     script: phone.lua, function: type_len}
  sms_ok:   {kind: validator, script: phone.lua, function: sms_tag_needs_mobile}
YAML
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" contact add --first-name Mo --phone "06 12 34 56 78"
assert_exit 0 "$CRM" contact add --first-name Fix --phone "01 42 68 53 00"
assert_exit 0 "$CRM" contact add --first-name None

assert_exit 0 "$CRM" rules eval mobile --contact 1 --json
assert_eq "true" "$(json_get "$OUT" result)" "06 number is mobile"
assert_eq '["phone_type"]' "$(json_get "$OUT" fields_read)" "phone_type recorded as read"
assert_exit 0 "$CRM" rules eval mobile --contact 2 --json
assert_eq "false" "$(json_get "$OUT" result)" "01 number is not mobile"
# "fixed_line" has 10 characters, computed here independently of crm
assert_exit 0 "$CRM" rules eval type_len --contact 2 --json
assert_eq "$(printf %s fixed_line | wc -c)" "$(json_get "$OUT" result)" "fixed_line read"
assert_exit 0 "$CRM" rules eval type_len --contact 3 --json
assert_eq "-1" "$(json_get "$OUT" result)" "no phone: nil"

# a scan (rows of the select) agrees with the stored column
assert_exit 0 "$CRM" rules run mobile --json
want=$(sqlite3 crm.db "select id from contacts where phone_type='mobile' order by id")
assert_eq "[$want]" "$(json_get "$OUT" first_matches)" "scan finds the mobile contact"

# a validator sees the type of the number being written
assert_exit 1 "$CRM" contact add --first-name Landline --tag sms --phone "01 42 68 53 01"
assert_contains "$ERR" "tag sms needs a mobile number, got fixed_line"
assert_exit 0 "$CRM" contact add --first-name Cell --tag sms --phone "06 12 34 56 79"
assert_eq 0 "$(sqlite3 crm.db "select count(*) from contacts where first_name='Landline'")" \
  "refused contact not written"
finish

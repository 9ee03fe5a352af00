#!/usr/bin/env bash
# Templates: the shipped templates/ all pass `crm template check`; an unknown
# variable is refused with file:line:column (check and send); a partial
# name climbing out with `..` is refused; render shows HTML escaped and
# text not, with the payload values a template declares in its data file.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-templates-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB

# the shipped ones, from the repository's crm.yaml directory layout
printf 'database: crm.db\nmessages: {templates: %s/templates}\n' "$SRC" >shipped.yaml
assert_exit 0 "$CRM" --config shipped.yaml template check
for t in welcome quote csat_survey points_expiring cart_reminder; do
    assert_contains "$OUT" "$t: ok"
    assert_contains "$OUT" "${t}_en: ok"
done

mkdir -p tpl/bad tpl/good tpl/climb
printf 'Hi\n' >tpl/bad/email.subject.mustache
printf 'Line one\nHello {{contact.frist_name}}\n' >tpl/bad/email.text.mustache
printf '{{> ../secret}}\n' >tpl/climb/sms.mustache
printf 'Re: {{contact.first_name}}\n' >tpl/good/email.subject.mustache
printf 'T {{contact.first_name}} {{quote.total}}\n' >tpl/good/email.text.mustache
printf '<b>{{contact.first_name}}</b>\n' >tpl/good/email.html.mustache
printf 'quote.total\n' >tpl/good/data
printf 'database: crm.db\nmessages: {templates: tpl}\n' >crm.yaml
assert_exit 1 "$CRM" template check bad
assert_contains "$ERR" "tpl/bad/email.text.mustache:2:" "unknown variable at file:line"
assert_contains "$ERR" "contact.frist_name"
assert_exit 1 "$CRM" template check climb
assert_contains "$ERR" "may not start with '/' nor hold '..'"
assert_exit 1 "$CRM" template check
assert_contains "$ERR" "2 template(s) refused"
assert_exit 0 "$CRM" template check good
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" contact add --email a@example.fr --first-name 'Ann & <Co>'
assert_exit 1 "$CRM" message send --contact 1 --template bad
assert_contains "$ERR" "email.text.mustache:2:"
assert_exit 0 "$CRM" template render good --contact 1 --data '{"quote":{"total":"12,00 €"}}' --json
assert_eq 'T Ann & <Co> 12,00 €' "$(json_get "$OUT" text | head -1)" "text is not escaped"
assert_eq '<b>Ann &amp; &lt;Co&gt;</b>' "$(json_get "$OUT" html | head -1)" "HTML is escaped"
assert_eq 'Re: Ann & <Co>' "$(json_get "$OUT" subject)"
assert_exit 0 "$CRM" template list --json
assert_eq "3" "$(line_count "$OUT")"
finish

#!/usr/bin/env bash
# Leads end to end: add, list, show, qualify, disqualify (with its reason,
# which blocks conversion), convert creating the contact (kernel-validated:
# proper-cased, email lower-cased) and its company and a deal in the first
# stage; convert linking the contact that has the lead's email (other case)
# or phone (national format) instead of a duplicate, and saying so; a
# conversion the kernel refuses writing nothing; lead.* events on the
# contact's timeline.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann --phone "+33612345678" >/dev/null
T0=2026-03-02T09:00:00Z
assert_exit 0 "$CRM" --as-of $T0 lead add --name "marie curie" --email Marie@Radium.FR \
    --company "Radium SARL" --source salon --notes "met at the fair"
assert_eq 1 "$OUT" "lead add prints the id"
"$CRM" --as-of $T0 lead add --name "Ann Other" --email ANN@Example.com >/dev/null
"$CRM" --as-of $T0 lead add --name "Pierre Paul" --phone "06 12 34 56 78" >/dev/null
"$CRM" --as-of $T0 lead add --name "Bad Mail" --email "not-an-email" >/dev/null
assert_exit 1 "$CRM" lead add --name "  "
assert_exit 2 "$CRM" lead add --email x@y.fr

run "$CRM" --json lead show 1
pl_fields "$OUT" name email company source notes status contact_id
assert_eq "marie curie|Marie@Radium.FR|Radium SARL|salon|met at the fair|new|null" \
    "$(IFS='|'; echo "${F[*]}")" "lead show --json"
run "$CRM" lead list
assert_eq 4 "$(line_count "$OUT")" "four leads listed"

# ---- qualify, disqualify ---------------------------------------------------------------
assert_exit 0 "$CRM" lead qualify 1
assert_exit 1 "$CRM" lead qualify 1
assert_contains "$ERR" "already qualified"
assert_exit 2 "$CRM" lead disqualify 2
assert_exit 0 "$CRM" lead disqualify 2 --reason "student project"
run "$CRM" --json lead list --status disqualified
assert_contains "$OUT" '"reason":"student project"' "list --status with the reason"
assert_exit 1 "$CRM" lead convert 2
assert_contains "$ERR" "disqualified (student project): crm lead qualify 2 first"
assert_exit 2 "$CRM" lead list --status maybe

# ---- convert: a new contact, its company, a deal ---------------------------------------
assert_exit 0 "$CRM" --as-of 2026-03-03T09:00:00Z --json lead convert 1 --amount 5000.00 \
    --deal-title "Radium licences"
pl_fields "$OUT" status contact_id deal_id linked
assert_eq "converted 2 1 false" "${F[*]}" "a new contact and deal 1"
run "$CRM" --json contact show 2
pl_fields "$OUT" first_name last_name email company source
assert_eq "Marie|Curie|marie@radium.fr|Radium SARL|salon" "$(IFS='|'; echo "${F[*]}")" \
    "the contact through the kernel's validation"
run "$CRM" --json deal show 1
pl_fields "$OUT" title amount stage contact_id company_id
assert_eq "Radium licences 500000 qualification 2" "${F[*]:0:4}" "the deal"
assert_eq "$(pl_sql "SELECT id FROM companies WHERE name='Radium SARL'")" "${F[4]}" \
    "the deal is with the company the kernel created"
assert_exit 1 "$CRM" lead convert 1
assert_contains "$ERR" "lead 1 is converted (contact 2): work on deal 1"

# ---- convert: linked to the contact with the same email, or phone --------------------
assert_exit 0 "$CRM" lead qualify 2
assert_exit 0 "$CRM" lead convert 2
assert_eq "lead 2 converted: linked to existing contact 1 (same email ann@example.com), deal 2" \
    "$OUT" "email in another case links, and says so"
assert_exit 0 "$CRM" --json lead convert 3
pl_fields "$OUT" contact_id linked link_reason
assert_eq "1 true same phone +33612345678" "${F[*]}" "a national phone number links"
assert_eq 2 "$(pl_sql 'SELECT count(*) FROM contacts')" "no duplicate contact"
run "$CRM" --json deal show 3
assert_eq "Pierre Paul" "$(json_get "$OUT" title)" "the deal's title defaults to the name"

# ---- a refused conversion writes nothing ------------------------------------------------
before=$(pl_sql 'SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM pipeline_deals),
    (SELECT count(*) FROM events)')
assert_exit 1 "$CRM" lead convert 4
assert_contains "$ERR" "lead 4: the contact was refused"
assert_eq "$before" "$(pl_sql 'SELECT (SELECT count(*) FROM contacts),
    (SELECT count(*) FROM pipeline_deals), (SELECT count(*) FROM events)')" "nothing written"
assert_eq new "$(pl_sql 'SELECT status FROM pipeline_leads WHERE id=4')"

# ---- events and the timeline ----------------------------------------------------------
assert_eq "4 2 1 3" "$(pl_sql "SELECT
    (SELECT count(*) FROM events WHERE type='lead.created'),
    (SELECT count(*) FROM events WHERE type='lead.qualified'),
    (SELECT count(*) FROM events WHERE type='lead.disqualified'),
    (SELECT count(*) FROM events WHERE type='lead.converted')" | tr '|' ' ')" "lead.* events"
run "$CRM" timeline 2
assert_contains "$OUT" "lead        converted" "the contact's timeline shows the conversion"
finish

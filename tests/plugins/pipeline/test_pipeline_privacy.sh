#!/usr/bin/env bash
# The person's pipeline data: `crm contact export-data` includes their
# converted lead, quotes and quote lines (declared tables) and the leads never
# converted that carry their email (any case) or phone (national format);
# `crm contact erase` deletes all of it and the quote timers, and leaves
# another person's lead alone; `crm lead erase` forgets a lead that never
# became a contact, and refuses a converted one.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann --phone "+33612345678" >/dev/null
"$CRM" contact add --email bob@example.com --first-name Bob >/dev/null
T0=2026-03-02T09:00:00Z
"$CRM" --as-of $T0 lead add --name "Ann Again" --email ann@example.com >/dev/null  # 1: converted
"$CRM" --as-of $T0 lead add --name "Ann Upper" --email ANN@Example.COM >/dev/null  # 2
"$CRM" --as-of $T0 lead add --name "Ann Phone" --phone "06 12 34 56 78" >/dev/null # 3
"$CRM" --as-of $T0 lead add --name "Zoe Other" --email zoe@example.com >/dev/null  # 4
assert_exit 0 "$CRM" --as-of $T0 lead convert 1 --amount 100.00
"$CRM" --as-of $T0 deal add --title B --contact 2 --amount 5 >/dev/null
"$CRM" --as-of $T0 quote add --deal 1 --line A:2:10 B:1:5:5.5 >/dev/null
"$CRM" --as-of $T0 quote add --deal 2 --line C:1:1 >/dev/null

# ---- export ------------------------------------------------------------------------
run "$CRM" contact export-data 1
summary=$(python3 -c '
import json, sys
p = json.loads(sys.argv[1])["plugins"]["pipeline"]
t = p["tables"]
print(len(t["pipeline_leads"]), len(t["pipeline_quotes"]), len(t["pipeline_quote_lines"]),
      ",".join(l["name"] for l in p["data"]["unconverted_leads"]))' "$OUT")
assert_eq "1 1 2 Ann Upper,Ann Phone" "$summary" \
    "export: the converted lead, the quote, its lines, the matching unconverted leads"

# ---- erase -------------------------------------------------------------------------
assert_eq 1 "$(pl_sql "SELECT count(*) FROM timers WHERE key='quote-expire:1'")"
assert_exit 0 "$CRM" contact erase 1 --reason "asked by the person"
assert_eq "0 0 0 0" "$(pl_sql "SELECT
    (SELECT count(*) FROM pipeline_quotes WHERE contact_id=1),
    (SELECT count(*) FROM pipeline_quote_lines WHERE contact_id=1),
    (SELECT count(*) FROM pipeline_deals WHERE contact_id=1),
    (SELECT count(*) FROM timers WHERE key='quote-expire:1')" | tr '|' ' ')" \
    "erase deletes the quotes, lines, deals and quote timers"
assert_eq "4" "$(pl_sql 'SELECT group_concat(id) FROM pipeline_leads')" \
    "erase deletes the person's leads, converted or not, and keeps Zoe's"
assert_eq "1 1" "$(pl_sql 'SELECT (SELECT count(*) FROM pipeline_quotes),
    (SELECT count(*) FROM pipeline_quote_lines)' | tr '|' ' ')" "Bob's quote is kept"

# ---- crm lead erase ------------------------------------------------------------------
"$CRM" --as-of $T0 lead add --name "Bob Lead" --email bob@example.com >/dev/null
assert_exit 0 "$CRM" lead convert 5
assert_exit 1 "$CRM" lead erase 5 --reason x
assert_contains "$ERR" "crm contact erase 2"
assert_exit 2 "$CRM" lead erase 4
assert_exit 0 "$CRM" lead erase 4 --reason "asked by email"
assert_eq 0 "$(pl_sql 'SELECT count(*) FROM pipeline_leads WHERE id=4')" "lead erase"
assert_not_contains "$(pl_sql "SELECT payload FROM events WHERE type='lead.erased'")" "zoe" \
    "lead.erased keeps no personal data"
finish

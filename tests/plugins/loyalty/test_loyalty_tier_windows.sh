#!/usr/bin/env bash
# The tier windows other than rolling 12 months (issue 16), driven by
# `crm tick --as-of` at their boundaries:
# - calendar_year with downgrade to_qualified: on 1 January the new year's
#   spend is what counts; after the 30-day grace a member falls straight to
#   the tier the window supports, and an order inside the grace keeps it;
# - anniversary with one_down: each member's year starts on the day it
#   joined, so two members' windows turn on different days; after the grace
#   the member goes one tier down, then waits a second grace.
# Levels: bronze 0, silver 500 EUR, gold 1500 EUR (common.sh).
. "$(dirname "$0")/common.sh"
buy() { "$CRM" --as-of "$1" order add --contact "ext:$2" --total "$3" --status paid \
          --placed-at "$1" >/dev/null; }
tick_at() { "$CRM" --as-of "$1" tick >/dev/null; }
tier() { json_get "$("$CRM" --as-of "$1" --json loyalty balance "ext:$2")" tier; }

# ---- calendar year, to_qualified --------------------------------------------------------
mkdir cal && cd cal || exit 1
WINDOW=calendar_year DOWNGRADE=to_qualified write_config
assert_exit 0 "$CRM" init --quiet
for x in a b c; do contact "$x"; done
buy 2026-03-01T10:00:00Z a 1600.00
buy 2026-06-01T10:00:00Z b 600.00
buy 2026-04-01T10:00:00Z c 1600.00
tick_at 2026-12-31T12:00:00Z
assert_eq "gold silver gold" "$(tier 2026-12-31T12:00:00Z a) $(tier 2026-12-31T12:00:00Z b) $(tier 2026-12-31T12:00:00Z c)" \
    "2026's spend"
tick_at 2027-01-01T00:30:00Z
assert_eq gold "$(tier 2027-01-01T00:30:00Z a)" "a new year: the grace starts, the tier stays"
grace=$(json_get "$("$CRM" --as-of 2027-01-01T00:30:00Z --json loyalty balance ext:a)" grace_until)
assert_contains "$grace" "2027-01-31" "grace until 30 days after the boundary"
buy 2027-01-10T10:00:00Z b 600.00
buy 2027-01-15T10:00:00Z c 600.00
tick_at 2027-02-01T12:00:00Z
assert_eq bronze "$(tier 2027-02-01T12:00:00Z a)" "to_qualified: gold straight to bronze"
assert_eq silver "$(tier 2027-02-01T12:00:00Z b)" "an order in the grace keeps silver"
assert_eq silver "$(tier 2027-02-01T12:00:00Z c)" "gold to the silver 2027 supports"
changes=$(sql "select group_concat(json_extract(payload, '$.from') || '>' || json_extract(payload, '$.to'), ' ')
               from (select payload from events where type = 'loyalty.tier_changed'
                     and json_extract(payload, '$.contact_id') = (select id from contacts where external_id = 'a')
                     order by id)")
assert_eq "bronze>gold gold>bronze" "$changes" "a's loyalty.tier_changed events"
check "calendar year"
cd .. || exit 1

# ---- anniversary, one_down --------------------------------------------------------------
mkdir anniv && cd anniv || exit 1
WINDOW=anniversary DOWNGRADE=one_down write_config
assert_exit 0 "$CRM" init --quiet
contact d
contact e
buy 2026-02-10T10:00:00Z d 1600.00          # d joins on 10 February
buy 2026-08-20T10:00:00Z e 1600.00          # e on 20 August
tick_at 2027-02-11T12:00:00Z
assert_eq gold "$(tier 2027-02-11T12:00:00Z d)" "d's year turned: in grace, still gold"
assert_eq "" "$(json_get "$("$CRM" --as-of 2027-02-11T12:00:00Z --json loyalty balance ext:e)" grace_until | sed 's/null//')" \
    "e's year has not turned: no grace"
tick_at 2027-03-13T12:00:00Z
assert_eq silver "$(tier 2027-03-13T12:00:00Z d)" "one_down: gold to silver after the grace"
assert_eq gold "$(tier 2027-03-13T12:00:00Z e)" "e keeps gold until its own anniversary"
tick_at 2027-04-13T12:00:00Z
assert_eq bronze "$(tier 2027-04-13T12:00:00Z d)" "a second grace, then bronze"
tick_at 2027-08-21T12:00:00Z
assert_eq gold "$(tier 2027-08-21T12:00:00Z e)" "e's year turned on 20 August: grace"
tick_at 2027-09-20T12:00:00Z
assert_eq silver "$(tier 2027-09-20T12:00:00Z e)" "then one down"
check anniversary
finish

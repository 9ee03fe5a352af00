#!/usr/bin/env bash
# Ticketing NPS surveys: one nps:CONTACT timer per contact queues the survey
# `after_solve` after a solved ticket, never twice inside `every` (one more
# after it), through the outbox with the marketing purpose, so a contact who
# withdrew that consent gets none; `crm nps rate` answers, the report's NPS
# against an independent computation (python3) of the scores entered, with
# --from/--to; bad input refused with nothing written; export and erasure.
set -u
. "${CRM_TEST_LIB:?}"
plugin_test_dir tk-nps
if [ ! -f "$CRM_PLUGIN_PATH/ticketing.so" ]; then
  echo "ticketing.so not built: skipped"; echo "0 passed, 0 failed"; exit 0
fi
crm() { "$CRM" "$@"; }
cp -r "${CRM_SOURCE_DIR:?}/templates" templates
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [ticketing]
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
messages:
  channels:
    email: {driver: file, dir: spool/email, from: "Boutique <bonjour@example.fr>"}
ticketing:
  teams:
    - {name: support, members: [alice]}
  nps: {every: 90d, after_solve: 7d, template: nps_survey}
YAML
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
q() { sqlite3 crm.db "$1"; }
surveys() { q "select count(*) from ticketing_nps_surveys where contact_id=$1"; }
assert_exit 0 crm init
assert_exit 0 crm contact add --first-name Ann --email ann@example.fr
ANN=$OUT
assert_exit 0 crm contact add --first-name Ben --email ben@example.fr
BEN=$OUT
T0=$(date -u -d 2026-01-05T10:00:00Z +%s)
assert_exit 0 crm consent grant --contact "$ANN" --channel email --purpose marketing --at "$(iso $((T0 - 86400)))"
assert_exit 0 crm consent grant --contact "$BEN" --channel email --purpose marketing --at "$(iso $((T0 - 86400)))"
assert_exit 0 crm consent withdraw --contact "$BEN" --channel email --purpose marketing --at "$(iso $T0)"

# ---- the schedule: after_solve after a solve, once per period ----
solve_one() { # contact, time
  crm ticket open --contact "$1" --subject "Colis" --as-of "$(iso $2)" >id.txt || fail "open"
  crm ticket solve "$(cat id.txt)" --as-of "$(iso $(($2 + 3600)))" >/dev/null || fail "solve"
}
solve_one "$ANN" "$T0"
solve_one "$BEN" "$T0"
DUE=$((T0 + 3600 + 7 * 86400))
assert_exit 0 crm tick --as-of "$(iso $((DUE - 60)))"
assert_eq 0 "$(surveys $ANN)" "no survey before after_solve"
assert_exit 0 crm tick --as-of "$(iso $((DUE + 10)))"
S1=$((DUE + 10))
assert_eq 1 "$(surveys $ANN)" "the survey goes after_solve later"
assert_eq "$S1" "$(q "select sent_at from ticketing_nps_surveys where contact_id=$ANN")" "sent at the tick"
st=$(q "select status from messages where contact_id=$ANN and template='nps_survey'")
assert_eq 1 "$(q "select count(*) from messages where contact_id=$ANN and template='nps_survey' and purpose='marketing' and status in ('queued','sent')")" "queued through the outbox, marketing ($st)"
assert_eq 1 "$(q "select count(*) from events where type='nps.survey_queued' and json_extract(payload,'\$.contact_id')=$ANN")" "nps.survey_queued once"
# a second solve inside the period: no second survey until the period ends
solve_one "$ANN" $((T0 + 20 * 86400))
assert_exit 0 crm tick --as-of "$(iso $((T0 + 40 * 86400)))"
assert_exit 0 crm tick --as-of "$(iso $((S1 + 90 * 86400 - 10)))"
assert_eq 1 "$(surveys $ANN)" "no second survey inside the period"
assert_exit 0 crm tick --as-of "$(iso $((S1 + 90 * 86400 + 5)))"
assert_eq 2 "$(surveys $ANN)" "one more once the period is over"
assert_eq 2 "$(q "select count(*) from messages where contact_id=$ANN and template='nps_survey'")" "two messages in all"
assert_eq "ticketing:nps:$ANN:1 ticketing:nps:$ANN:2" "$(q "select idem_key from messages where contact_id=$ANN and template='nps_survey' order by id" | paste -sd' ')" "one idempotency key per survey"
# no ticket solved since the last survey: nobody asks again
assert_exit 0 crm tick --as-of "$(iso $((S1 + 200 * 86400)))"
assert_eq 2 "$(surveys $ANN)" "not asked again without a new solved ticket"

# ---- withdrawn consent: the outbox suppresses it, nothing is sent ----
assert_eq 0 "$(q "select count(*) from messages where contact_id=$BEN and template='nps_survey' and status in ('queued','sent')")" "no survey for a withdrawn consent"
assert_contains "$(q "select reason from messages where contact_id=$BEN and template='nps_survey'")" "consent withdrawn" "the reason"
assert_eq 0 "$(grep -rl ben@example.fr spool/email 2>/dev/null | xargs -r grep -l 'recommand' | wc -l)" "no mail file for Ben"

# ---- answers and the report's NPS, computed independently ----
SCORES="10 9 9 8 7 6 3 0 10 5 9"
i=0
for s in $SCORES; do
  assert_exit 0 crm nps rate "$ANN" --score "$s" --comment "réponse $i" --as-of "$(iso $((T0 + i * 86400)))"
  i=$((i + 1))
done
assert_contains "$OUT" "NPS 9/10 (promoter)" "the answer echoed"
nps_of() { python3 -c 'import sys; s=[int(x) for x in sys.argv[1:]]; print("%.6f" % (100.0*(sum(x>=9 for x in s)-sum(x<=6 for x in s))/len(s)))' "$@"; }
fmt() { python3 -c 'import sys; print("%.6f" % float(sys.argv[1]))' "$1"; }
assert_exit 0 crm helpdesk report --json --as-of "$(iso $((T0 + 300 * 86400)))"
assert_eq "$(nps_of $SCORES)" "$(fmt "$(json_get "$OUT" nps)")" "NPS = promoters - detractors"
assert_eq "$(wc -w <<<"$SCORES" | tr -d ' ')" "$(json_get "$OUT" nps_answers)" "answers counted"
# a period: answers 3..6 (days 3 to 6 included)
assert_exit 0 crm helpdesk report --json --from "$(iso $((T0 + 3 * 86400)))" --to "$(iso $((T0 + 7 * 86400)))" --as-of "$(iso $((T0 + 300 * 86400)))"
assert_eq "$(nps_of $(cut -d' ' -f4-7 <<<"$SCORES"))" "$(fmt "$(json_get "$OUT" nps)")" "NPS of the period"
assert_exit 0 crm helpdesk report --as-of "$(iso $((T0 + 300 * 86400)))"
assert_contains "$OUT" "NPS $(python3 -c 'import sys; print("%+.1f" % float(sys.argv[1]))' "$(nps_of $SCORES)")" "the text report"

# ---- refusals write nothing ----
before=$(q "select count(*) from ticketing_nps")
assert_exit 2 crm nps rate "$ANN" --score 11
assert_contains "$ERR" "between 0 and 10" "the range"
assert_exit 2 crm nps rate "$ANN" --score -1
assert_exit 1 crm nps rate 999 --score 5
assert_contains "$ERR" "no contact 999" "an unknown contact"
assert_exit 2 crm nps rate abc --score 5
assert_eq "$before" "$(q "select count(*) from ticketing_nps")" "nothing written"

# ---- personal data ----
assert_exit 0 crm contact export-data "$ANN"
assert_contains "$OUT" '"ticketing_nps"' "export has the answers"
assert_contains "$OUT" '"ticketing_nps_surveys"' "export has the surveys"
assert_exit 0 crm contact erase "$ANN" --reason test
assert_eq "0 0" "$(q "select count(*) from ticketing_nps where contact_id=$ANN") $(q "select count(*) from ticketing_nps_surveys where contact_id=$ANN")" "erased"

# ---- config errors point into crm.yaml ----
sed -i 's/purpose_x//; s/nps: {every: 90d/nps: {purpose: spam, every: 90d/' crm.yaml
assert_exit 1 crm helpdesk report
assert_contains "$ERR" "crm.yaml:" "a position"
assert_contains "$ERR" "unknown purpose 'spam'" "the bad purpose"
finish

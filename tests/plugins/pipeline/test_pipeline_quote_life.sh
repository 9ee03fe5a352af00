#!/usr/bin/env bash
# A quote's life end to end: send through the outbox (template quote,
# delivered by crm tick, shown in the contact's timeline); a send the outbox
# suppresses (no address) refused and writing nothing; the follow_up task
# after follow_up_after (7 business days, counted by python) and the expiry
# at the validity date, both fired by crm tick --as-of; decline (never
# chased afterwards); accept winning the deal and creating the kernel order
# with the quote's lines and net; the quote.* events.
. "$(dirname "$0")/pl_common.sh"
pl_quote_config
"$CRM" --as-of $T0 quote add --deal 1 --line A:3:33.33 B:7:0.15:5.5 C:2:19.99:5.5 \
    --discount 7.5 >/dev/null
"$CRM" --as-of $T0 quote add --deal 1 --line A:1:1 --valid-for 10d >/dev/null
# ---- send: outbox, delivery, timeline; a refused send changes nothing --------------
assert_exit 0 "$CRM" --as-of $T0 quote send 1
run "$CRM" --json quote show 1
pl_fields "$OUT" status sent_at message_id
assert_eq "sent 2026-03-02T10:00:00+01:00 1" "${F[*]}"
assert_exit 1 "$CRM" --as-of $T0 quote send 1
assert_contains "$ERR" "only a draft is sent"
assert_exit 0 "$CRM" --as-of 2026-03-02T09:05:00Z tick
mail=$(cat spool/email/msg-1.eml)
assert_contains "$mail" "Subject: Votre devis Q-000001" "the quote template's subject"
assert_contains "$mail" "151.03 EUR TTC" "the gross in the mail"
run "$CRM" timeline 1
assert_contains "$OUT" "quote       sent" "the contact's timeline shows the quote"
assert_contains "$OUT" "email out: Votre devis Q-000001"
"$CRM" --as-of $T0 quote add --deal 2 --line A:1:10 >/dev/null
assert_exit 1 "$CRM" --as-of $T0 quote send 3
assert_contains "$ERR" "quote not sent"
assert_eq "draft 1" "$(pl_sql "SELECT (SELECT status FROM pipeline_quotes WHERE id=3),
    (SELECT count(*) FROM messages)" | tr '|' ' ')" "a refused send writes nothing"

# ---- follow-up after 7 business days (python counts the weekdays) ------------------
due=$(python3 -c '
import datetime as dt
d = dt.date(2026, 3, 2); n = 0
while n < 7:
    d += dt.timedelta(days=1); n += d.weekday() < 5
print(d.isoformat())')
assert_eq 2026-03-11 "$due" "7 business days after Monday 2 March"
assert_exit 0 "$CRM" --as-of ${due}T08:59:00Z tick
run "$CRM" --json task list
assert_not_contains "$OUT" "Follow up quote" "no follow-up before follow_up_after"
assert_exit 0 "$CRM" --as-of ${due}T09:00:00Z tick
run "$CRM" --json task list
assert_contains "$OUT" '"subject":"Follow up quote Q-000001 (Big)","kind":"follow_up"' \
    "a follow_up task once unanswered for 7bd"
assert_contains "$OUT" '"ref":"deal:1"'
assert_eq 1 "$(pl_sql "SELECT count(*) FROM events WHERE type='quote.follow_up_due'")"

# ---- expiry of quote 2 (--valid-for 10d): a timer at its validity ------------------
assert_exit 0 "$CRM" --as-of 2026-03-12T08:59:00Z tick
assert_eq draft "$(pl_sql 'SELECT status FROM pipeline_quotes WHERE id=2')" "valid until then"
assert_exit 0 "$CRM" --as-of 2026-03-12T09:00:00Z tick
assert_eq expired "$(pl_sql 'SELECT status FROM pipeline_quotes WHERE id=2')" "expired"
assert_exit 1 "$CRM" quote accept 2
assert_contains "$ERR" "quote 2 is expired"

# ---- decline: no follow-up afterwards ------------------------------------------------
T1=2026-03-16T09:00:00Z
"$CRM" --as-of $T1 quote add --deal 1 --line A:1:10 >/dev/null
assert_exit 0 "$CRM" --as-of $T1 quote send 4
assert_exit 2 "$CRM" quote decline 4
assert_exit 0 "$CRM" --as-of 2026-03-17T09:00:00Z quote decline 4 --reason "trop cher"
assert_eq "declined|trop cher" "$(pl_sql 'SELECT status, reason FROM pipeline_quotes WHERE id=4')"
"$CRM" --as-of 2026-03-30T09:00:00Z tick >/dev/null
assert_eq 1 "$(pl_sql "SELECT count(*) FROM tasks WHERE kind='follow_up'")" \
    "a declined quote is not chased"

# ---- accept: the deal is won, the order has the quote's lines --------------------
L5="A:3:33.33 B:7:0.15:5.5"
"$CRM" --as-of $T1 quote add --deal 1 --line $L5 --discount 7.5 >/dev/null
assert_exit 0 "$CRM" --as-of $T1 quote accept 5
run "$CRM" --json quote show 5
pl_fields "$OUT" status order_id net
assert_eq accepted "${F[0]}"
order=${F[1]} net=${F[2]}
run "$CRM" --json order show "$order"
pl_fields "$OUT" total_minor contact_id external_id lines.0.sku lines.1.quantity
assert_eq "$net 1 pipeline-quote-5 A 1" "${F[*]}" "the order: the quote's net and lines"
assert_eq "$(pl_quote_expect 7.5 $L5 | python3 -c 'import json,sys; print(json.load(sys.stdin)["net"])')" \
    "$net" "the net again from python"
run "$CRM" --json deal show 1
assert_eq won "$(json_get "$OUT" status)" "accepting the quote wins the deal"
assert_exit 1 "$CRM" --as-of $T1 quote add --deal 1 --line A:1:1
assert_contains "$ERR" "deal 1 is won"
for e in created sent accepted declined expired; do
    [ "$(pl_sql "SELECT count(*) FROM events WHERE type='quote.$e'")" -ge 1 ] && pass ||
        fail "no quote.$e event"
done
finish

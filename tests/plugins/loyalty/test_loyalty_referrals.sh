#!/usr/bin/env bash
# Referrals (issue 16): a referee's first paid order, once its return window
# is over, rewards both sides; every fraud check refuses with its reason
# recorded and no points: self-referral, not a first order, the same person
# (an email that folds to the referrer's, the same phone, the same street and
# postal code) and more than max_per_week rewarded referrals per referrer in
# seven days. Balances are the test's own sums of the configured points.
MAX_PER_WEEK=2
. "$(dirname "$0")/common.sh"
write_config
assert_exit 0 "$CRM" init --quiet
addr=(--street "12 rue de la Paix" --postal-code 75002 --city Paris)
"$CRM" contact add --external-id a --email ann@example.com --phone "+33612345678" "${addr[@]}" >/dev/null
for x in b c g h i j r; do contact "$x"; done
# a's phone in its national form: the kernel refuses it unless told
"$CRM" contact add --external-id d --email dee@example.com --phone "06 12 34 56 78" \
    --allow-duplicate >/dev/null
contact e "a.n.n+promo@example.com"                      # a's mailbox, folded
"$CRM" contact add --external-id f --email fay@example.com "${addr[@]}" >/dev/null
assert_eq 11 "$(sql "select count(*) from contacts")" "eleven contacts"

order 0 a 100.00 >/dev/null
order 0 r 100.00 >/dev/null
order 0 c 10.00 >/dev/null                                # c ordered before being referred
code() { json_get "$("$CRM" --json loyalty balance "$1")" referral_code; }
ca=$(code ext:a) cr=$(code ext:r)
[ -n "$ca" ] && [ "$ca" != "$cr" ] && pass || fail "each member has its own referral code ($ca, $cr)"
tick 15

refer() { assert_exit 0 "$CRM" --as-of "$(day "$1")" loyalty refer "ext:$2" --code "$3"; }
refer 15 a "$ca"                                          # self
for x in b d e f; do refer 15 "$x" "$ca"; done
refer 15 c "${ca,,}"                                      # a code is case-insensitive
for x in g h i; do refer 15 "$x" "$cr"; done
assert_exit 1 "$CRM" --as-of "$(day 15)" loyalty refer ext:b --code "$cr"
assert_contains "$ERR" "already referred" "one referrer per referee"
assert_exit 1 "$CRM" --as-of "$(day 15)" loyalty refer ext:j --code NOPE42
assert_contains "$ERR" "no member has referral code 'NOPE42'"
assert_eq "refused|self_referral" "$(sql "select status || '|' || reason from loyalty_referrals
    where contact_id = (select id from contacts where external_id = 'a')")" "self-referral refused at once"

order 16 b 50.00 >/dev/null
for x in c d e f g h i; do order 16 "$x" 30.00 >/dev/null; done
assert_eq 8 "$(sql "select count(*) from loyalty_referrals where status = 'pending'")" \
    "pending until the referee's order is approved"
tick 29
assert_eq 8 "$(sql "select count(*) from loyalty_referrals where status = 'pending'")" \
    "the return window (14 days) is not over"
tick 31
outcome() { sql "select r.status || '|' || coalesce(r.reason, '') from loyalty_referrals r
    join contacts c on c.id = r.contact_id where c.external_id = '$1'"; }
assert_eq "rewarded|" "$(outcome b)" "b: a genuine referral"
assert_eq "refused|not_first_order" "$(outcome c)" "c had ordered before"
assert_eq "refused|same_phone" "$(outcome d)" "d has a's phone"
assert_eq "refused|same_email" "$(outcome e)" "e's address folds to a's"
assert_eq "refused|same_address" "$(outcome f)" "f lives at a's address"
assert_eq "rewarded| rewarded| refused|max_per_week" \
    "$(outcome g) $(outcome h) $(outcome i)" "the third in a week is over max_per_week (2)"

# points: order points (1 per euro) plus 200 to the referrer and 100 to the referee
assert_eq $((100 + 200)) "$(bal 31 ext:a approved)" "a: its order and one referral"
assert_eq $((100 + 2 * 200)) "$(bal 31 ext:r approved)" "r: two rewarded referrals"
assert_eq $((50 + 100)) "$(bal 31 ext:b approved)" "b: its order and the referee's points"
for x in g h; do assert_eq $((30 + 100)) "$(bal 31 "ext:$x" approved)" "$x rewarded"; done
for x in d e f i; do assert_eq 30 "$(bal 31 "ext:$x" approved)" "$x: refused, order points only"; done
assert_eq $((10 + 30)) "$(bal 31 ext:c approved)" "c: refused, order points only"

run "$CRM" loyalty referrals --suspicious
assert_eq 6 "$(line_count "$OUT")" "the six refused, listed as suspicious"
for why in self_referral not_first_order same_phone same_email same_address max_per_week; do
    assert_contains "$OUT" "$why" "--suspicious shows $why"
done
assert_eq 6 "$(sql "select count(*) from events where type = 'loyalty.referral_refused'")" \
    "every refusal emits loyalty.referral_refused, the self-referral's included"
assert_eq 3 "$(sql "select count(*) from events where type = 'loyalty.referral_rewarded'")"

# a week later r may be rewarded again
refer 32 j "$cr"
order 33 j 40.00 >/dev/null
tick 48
assert_eq "rewarded|" "$(outcome j)" "outside the seven days of the first two"
assert_eq $((100 + 3 * 200)) "$(bal 48 ext:r approved)" "r's third reward"
check referrals
finish

#!/usr/bin/env bash
# The shipped abandoned_cart journey, read from the shipped crm.yaml: each
# profile's touches at the instants its configuration gives (computed here
# from the YAML, independently of the plugin), a cart converting between two
# steps, a late order arriving before the first send, the message showing the
# cart's lines.
. "$(dirname "$0")/jr_common.sh"

python3 - "$CRM_SOURCE_DIR/crm.yaml" >journeys.yaml <<'PY'
import sys, yaml
print(yaml.safe_dump({"journeys": yaml.safe_load(open(sys.argv[1]))["journeys"]}))
PY
{
    printf 'database: crm.db\nlocale: {country: FR, currency: EUR, timezone: Europe/Paris}\n'
    printf 'plugins: [journeys]\n'
    jr_messages_config
    cat journeys.yaml
} >crm.yaml
assert_exit 0 "$CRM" init --quiet

new=$(jr_customer new@example.fr +33611111111)
loyal=$(jr_customer loyal@example.fr +33622222222)
high=$(jr_customer high@example.fr +33633333333)
mobile=$(jr_customer mobile@example.fr +33644444444)
conv=$(jr_customer conv@example.fr +33655555555)
late=$(jr_customer late@example.fr +33666666666)
owner=$("$CRM" user add --email advisor@example.fr --name Advisor)
assert_exit 0 "$CRM" contact update "$high" --owner advisor@example.fr
for d in 2025-05-01 2025-09-01; do
    assert_exit 0 "$CRM" order add --contact "$loyal" --total 40 --status paid \
        --placed-at "${d}T10:00:00Z" --as-of "${d}T10:00:00Z"
done

T0=2026-03-05T09:00:00Z  # a Thursday; abandoned 30 min later
cart() {  # EMAIL CART VALUE(cents, even) DEVICE: two of one mug
    printf '{"type":"cart.updated","email":"%s","cart_id":"%s","value":%s,"device":"%s",' "$@"
    printf '"lines":[{"sku":"MUG","name":"Mug","quantity":2,"unit_price":%s}],"at":"%s"}\n' \
        "$(($3 / 2))" "$T0"
}
{
    cart new@example.fr c-new 4990 desktop
    cart loyal@example.fr c-loyal 8000 desktop
    cart high@example.fr c-high 25000 desktop
    cart mobile@example.fr c-mobile 6000 mobile
    cart conv@example.fr c-conv 3000 desktop
    cart late@example.fr c-late 3000 desktop
} >carts.jsonl
assert_exit 0 "$CRM" import events carts.jsonl --as-of "$T0"

# The expected touches: the profile each contact takes (first match of the
# shipped profiles) and each of its steps at abandonment + after.
python3 - crm.yaml "$T0" "$new:0:4990:desktop" "$loyal:2:8000:desktop" \
    "$high:0:25000:desktop" "$mobile:0:6000:mobile" "$conv:0:3000:desktop" \
    "$late:0:3000:desktop" >expected.txt <<'PY'
import sys, yaml, datetime, re
flow = yaml.safe_load(open(sys.argv[1]))["journeys"]["flows"]["abandoned_cart"]
t0 = int(datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp())
abandoned = t0 + 30 * 60
unit = {"m": 60, "h": 3600, "d": 86400}
def holds(cond, facts):
    name, op, value = re.match(r"(\w+)\s*(>=|<=|!=|=|>|<)\s*(\w+)", cond).groups()
    a, b = facts[name], value
    if op == "=": return str(a) == b
    a, b = float(a), float(b)
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "!=": a != b}[op]
for arg in sys.argv[3:]:
    cid, orders, value, device = arg.split(":")
    facts = {"orders": orders, "value": value, "device": device}
    profile = next(p["name"] for p in flow["profiles"] if holds(p["if"], facts))
    for i, s in enumerate(flow["steps"]):
        if s.get("profile") != profile:
            continue
        n, u = re.fullmatch(r"(\d+)([mhd])", s["after"]).groups()
        kind = next(k for k in ("send", "task", "emit", "tag_add", "tag_remove") if k in s)
        what = s[kind] + ("/" + s["channel"] if kind == "send" else "")
        print(cid, profile, i, kind, abandoned + int(n) * unit[u], what, sep="|")
PY
assert_eq 18 "$(line_count "$(cat expected.txt)")" "touches expected for the six carts"

# Tick at each due instant, in order; the converting contact orders 2 h after
# the first reminder, the late one's order (placed before any send) is
# recorded a minute before the first reminder was due.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
abandoned=$(($(date -u -d "$T0" +%s) + 1800))
assert_exit 0 "$CRM" tick --as-of "$(iso $abandoned)"
first_new=$(awk -F'|' -v c="$late" '$1 == c {print $5; exit}' expected.txt)
assert_exit 0 "$CRM" order add --contact "$late" --total 30 --placed-at "$(iso $((abandoned + 600)))" \
    --as-of "$(iso $((first_new - 60)))"
converted=0
for t in $(cut -d'|' -f5 expected.txt | sort -un); do
    if [ "$converted" = 0 ] && [ "$t" -gt "$((first_new + 7200))" ]; then
        assert_exit 0 "$CRM" order add --contact "$conv" --total 30 --as-of "$(iso $((first_new + 7200)))"
        converted=1
    fi
    assert_exit 0 "$CRM" tick --as-of "$(iso "$t")"
done
assert_exit 0 "$CRM" tick --as-of "$(iso $((abandoned + 10 * 86400)))"

# Every touch ran once, at its instant (done_at = due_at: never early, never
# late), except the converted contact's after its order and none of the late one's.
want=$(awk -F'|' -v c="$conv" -v l="$late" -v o="$((first_new + 7200))" \
    '$1 == l { next } $1 == c && $5 > o { next } { print $1 "|" $3 "|" $4 "|" $5 "|" $5 }' \
    expected.txt | sort)
got=$(jr_sql "SELECT e.contact_id, f.step, f.kind, f.due_at, f.done_at FROM journeys_effects f
              JOIN journeys_entries e ON e.id = f.entry_id" | sort)
assert_eq "$want" "$got" "each profile's touches at the configured instants"
assert_eq "$new|new_visitor|completed|
$loyal|loyal|completed|
$high|high_value|completed|
$mobile|mobile|completed|
$conv|new_visitor|exited|goal
$late|new_visitor|exited|goal" \
    "$(jr_sql "SELECT contact_id, profile, status, exit_reason FROM journeys_entries ORDER BY contact_id")" \
    "profiles chosen, completions and goal exits"

# The messages: the configured template on the configured channel, in order.
want=$(awk -F'|' -v c="$conv" -v l="$late" -v o="$((first_new + 7200))" \
    '$4 != "send" || $1 == l || ($1 == c && $5 > o) { next } { print $1 "|" $6 }' expected.txt | sort)
got=$(jr_sql "SELECT contact_id, template || '/' || channel FROM messages ORDER BY contact_id, id" | sort)
assert_eq "$want" "$got" "messages: template and channel of each send step"
assert_eq "" "$(jr_sql "SELECT id FROM messages WHERE contact_id IN ($late) OR (contact_id = $conv AND id > (SELECT min(id) FROM messages WHERE contact_id = $conv))")" \
    "nothing sent after the goal (late order, converted cart)"

# The advisor's call and the retargeting event.
assert_eq "Call about the abandoned cart|$owner" \
    "$(jr_sql "SELECT subject, assignee_id FROM tasks WHERE contact_id = $high")" "high-value call task for the owner"
assert_eq "1" "$(jr_sql "SELECT count(*) FROM events WHERE type = 'journey.retarget' AND contact_id = $new")" \
    "retargeting event for the new visitor"

# The reminder names what is in the cart, money in the locale's style.
run "$CRM" message list --contact "$new" --json
first=$(jr_sql "SELECT body_text FROM messages WHERE contact_id = $new ORDER BY id LIMIT 1")
assert_contains "$first" "Mug x 2" "the cart's line in the reminder"
assert_contains "$first" "49,90" "the cart's total in French style"
mobile_sms=$(jr_sql "SELECT body_text FROM messages WHERE contact_id = $mobile AND channel = 'sms'")
assert_contains "$mobile_sms" "https://boutique.example.fr/panier/c-mobile" "checkout link in the mobile SMS"

run "$CRM" journey list --json
assert_eq "6" "$(json_get "$OUT" entered)" "journey list: entered"
assert_eq "2" "$(json_get "$OUT" exited_goal)" "journey list: exited by goal"
finish

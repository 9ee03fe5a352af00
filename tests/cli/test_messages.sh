#!/usr/bin/env bash
# End to end: the outbox. Queue through `crm message send` and a plugin's
# message_queue_json (tests/plugins/fixtures/mailer.c); idempotency keys;
# unknown contact/template refused; consent absent / granted / withdrawn
# between queue and send; delivery by `crm tick` through the file driver
# under the stable id msg-ID; the sent message in the contact's timeline.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/tests/plugins/so"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-messages-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
q() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' crm.db "$1"; }

mkdir -p templates/welcome templates/promo templates/partials
printf 'Bienvenue {{contact.first_name}}\n' >templates/welcome/email.subject.mustache
printf 'Bonjour {{contact.first_name}}, {{orders_count}} commande(s), {{total_spent}}.\n{{> footer}}\n' \
    >templates/welcome/email.text.mustache
printf '<p>Bonjour {{contact.first_name}}</p>\n' >templates/welcome/email.html.mustache
printf 'Bonjour {{contact.first_name}}\n' >templates/welcome/sms.mustache
printf -- '-- La Boutique\n' >templates/partials/footer.mustache
printf 'Offre {{code}}\n' >templates/promo/sms.mustache
printf 'code\n' >templates/promo/data
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [mailer]
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
messages:
  channels:
    email: {driver: file, dir: spool/email, from: "Boutique <bonjour@example.fr>"}
    sms: {driver: file, dir: spool/sms}
YAML
T0=2026-03-02T09:00:00Z
crm() { "$CRM" "$@"; }
assert_exit 0 crm init --quiet
assert_exit 0 crm contact add --email zoe@example.fr --first-name "Zoé" --last-name Martin \
    --phone "+33612345678"
zoe=$OUT
assert_exit 0 crm contact add --last-name Sansadresse
none=$OUT
assert_exit 0 crm order add --contact "$zoe" --total 1249.90 --status paid --placed-at 2026-02-01

# ---- queueing, idempotency --------------------------------------------------------
assert_exit 0 crm message send --contact "$zoe" --template welcome --as-of $T0 --json
m1=$(json_get "$OUT" id)
assert_eq "queued" "$(json_get "$OUT" status)" "a transactional message is queued"
assert_eq "email" "$(json_get "$OUT" channel)" "email is the template's first channel"
assert_eq "true" "$(json_get "$OUT" created)"
assert_exit 0 crm message send --contact "$zoe" --template welcome --as-of $T0 --json
assert_eq "$m1" "$(json_get "$OUT" id)" "same derived key: the first message"
assert_eq "false" "$(json_get "$OUT" created)"
assert_exit 0 crm message send --contact "$zoe" --template welcome --key k1 --as-of $T0 --json
k1=$(json_get "$OUT" id)
assert_exit 0 crm message send --contact "$zoe" --template welcome --key k1 --channel sms --as-of $T0 --json
assert_eq "$k1" "$(json_get "$OUT" id)" "an explicit key already used returns its message"
assert_eq "2" "$(q 'SELECT count(*) FROM messages')" "two distinct messages stored, no third"
# fixed: k1's first message was email
assert_eq "email" "$(q "SELECT channel FROM messages WHERE id=$k1")"
# the rendered content: the contact, the aggregates in the FR style, the partial
body=$(q "SELECT body_text FROM messages WHERE id=$m1")
want=$(python3 -c 'print("Bonjour Zoé, 1 commande(s), 1\u202f249,90\u00a0€.\n-- La Boutique\n")')
assert_eq "$want" "$body" "rendered text body"
assert_eq "Bienvenue Zoé" "$(q "SELECT subject FROM messages WHERE id=$m1")"

# ---- refusals ---------------------------------------------------------------------
assert_exit 1 crm message send --contact "$zoe" --template nosuch
assert_contains "$ERR" "no template 'nosuch'"
assert_exit 1 crm message send --contact "$zoe" --template welcome --purpose spam
assert_contains "$ERR" "field 'purpose'"
assert_exit 1 crm message send --contact "$zoe" --template promo --channel email
assert_contains "$ERR" "has no email version"
assert_eq "2" "$(q 'SELECT count(*) FROM messages')" "refusals store nothing"

# ---- rules at queue time ----------------------------------------------------------
assert_exit 0 crm message send --contact "$none" --template welcome --as-of $T0 --json
assert_eq "suppressed" "$(json_get "$OUT" status)" "no address"
assert_eq "no email address" "$(json_get "$OUT" reason)"
assert_exit 0 crm message send --contact "$zoe" --template promo --purpose marketing \
    --data '{"code":"A1"}' --as-of $T0 --json
assert_eq "suppressed" "$(json_get "$OUT" status)" "marketing without consent"
assert_eq "no consent (sms marketing)" "$(json_get "$OUT" reason)"
assert_exit 0 crm consent grant --contact "$zoe" --channel sms --purpose marketing --at 2026-03-01
assert_exit 0 crm message send --contact "$zoe" --template promo --purpose marketing \
    --data '{"code":"B2"}' --as-of $T0 --json
granted=$(json_get "$OUT" id)
assert_eq "queued" "$(json_get "$OUT" status)" "marketing with consent"
assert_eq "Offre B2" "$(q "SELECT trim(body_text, char(10)) FROM messages WHERE id=$granted")"
assert_exit 0 crm message send --contact "$zoe" --template promo --purpose marketing \
    --data '{"code":"C3"}' --at 2026-03-10T09:00:00Z --as-of $T0 --json
later=$(json_get "$OUT" id)
assert_exit 0 crm consent withdraw --contact "$zoe" --channel sms --purpose marketing --at 2026-03-05

# ---- delivery ----------------------------------------------------------------------
assert_exit 0 crm tick --as-of 2026-03-02T09:01:00Z
for id in "$m1" "$k1" "$granted"; do
    assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$id")" "message $id sent"
done
assert_eq "queued" "$(q "SELECT status FROM messages WHERE id=$later")" "not due yet"
[ -f "spool/email/msg-$m1.eml" ] && pass || fail "no spool/email/msg-$m1.eml"
assert_contains "$(cat "spool/email/msg-$m1.eml")" "Message-ID: <msg-$m1@example.fr>"
[ -f "spool/sms/msg-$granted.json" ] && pass || fail "no spool/sms/msg-$granted.json"
assert_exit 0 crm tick --as-of 2026-03-10T09:01:00Z
assert_eq "suppressed" "$(q "SELECT status FROM messages WHERE id=$later")" \
    "consent withdrawn between queue and send"
assert_eq "consent withdrawn (sms marketing)" "$(q "SELECT reason FROM messages WHERE id=$later")"
[ ! -e "spool/sms/msg-$later.json" ] && pass || fail "a suppressed message was sent"
assert_exit 0 crm timeline "$zoe" --json
assert_contains "$OUT" "Bienvenue Zoé" "the sent email in the timeline"
assert_eq "3" "$(q "SELECT count(*) FROM interactions WHERE direction='out' AND external_id LIKE 'message:%'")"
assert_exit 0 crm events tail --type message.suppressed --limit 0 --json
assert_eq "3" "$(line_count "$OUT")" "message.suppressed for each suppression"
assert_exit 0 crm events tail --type message.sent --limit 0 --json
assert_eq "3" "$(line_count "$OUT")" "message.sent for each send"

# ---- list / show -------------------------------------------------------------------
assert_exit 0 crm message list --status sent --json
assert_eq "3" "$(line_count "$OUT")"
assert_exit 0 crm message show "$m1" --json
assert_eq "zoe@example.fr" "$(json_get "$OUT" to)"
assert_exit 1 crm message show 999

# ---- the SDK entry -----------------------------------------------------------------
assert_exit 0 crm mailer queue "{\"contact_id\":$zoe,\"template\":\"welcome\",\"key\":\"p1\"}"
pid=$(sed -n 's/^rc 0 id \([0-9]*\).*/\1/p' <<<"$OUT")
assert_eq "mailer" "$(q "SELECT source FROM messages WHERE id=$pid")" "the plugin is the source"
assert_exit 0 crm mailer queue "{\"contact_id\":$zoe,\"template\":\"welcome\",\"key\":\"p1\"}"
assert_eq "rc 0 id $pid" "$OUT" "key used: the first message's id"
n=$(q 'SELECT count(*) FROM messages')
run crm mailer queue_rollback "{\"contact_id\":$zoe,\"template\":\"welcome\",\"key\":\"p2\"}"
assert_eq "$n" "$(q 'SELECT count(*) FROM messages')" "queued in the plugin's rolled back transaction"
assert_exit 1 crm mailer queue "{\"contact_id\":999,\"template\":\"welcome\"}"
assert_contains "$OUT" "rc -" "unknown contact"
assert_exit 1 crm mailer queue "{\"contact_id\":$zoe,\"template\":\"welcome\",\"colour\":1}"
assert_contains "$OUT" "unknown field 'colour'"

# ---- personal data: export shows the outbox, erasure removes it --------------------
assert_exit 0 crm contact export-data "$zoe"
assert_eq "$(q "SELECT count(*) FROM messages WHERE contact_id=$zoe")" \
    "$(python3 -c 'import json,sys; print(len(json.loads(sys.stdin.read())["messages"]))' <<<"$OUT")" \
    "every message in export-data"
assert_contains "$OUT" "Bienvenue Zoé"
assert_exit 0 crm contact erase "$zoe" --reason test
assert_eq "0" "$(q "SELECT count(*) FROM messages WHERE contact_id=$zoe")" "erased with the person"
finish

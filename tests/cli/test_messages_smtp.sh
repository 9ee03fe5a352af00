#!/usr/bin/env bash
# The smtp driver end to end against a local SMTP server (tests/tools/
# smtp_sink.py, aiosmtpd on 127.0.0.1): what the server received is parsed
# with Python's email package, independently of mime.c: envelope, From/To,
# the UTF-8 subject as RFC 2047 encoded-words decoding back to the rendered
# text, multipart/alternative with the text and HTML bodies, Message-ID
# <msg-ID@domain>, Date; a text-only template; a 451 retried and a 550
# dead-lettered; AUTH with the password from the environment (and a wrong
# one refused); STARTTLS with a private CA.
set -u
CRM=${CRM:?CRM must point to the crm binary}
SRC=${CRM_SOURCE_DIR:?CRM_SOURCE_DIR must point to the source tree}
. "${CRM_TEST_LIB:-$SRC/tests/cli/lib.sh}"
. "$SRC/tests/cli/smtp_lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-smtp-XXXXXX")
SINK_PID=
trap 'smtp_sink_stop; rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB
q() { sqlite3 crm.db "$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

smtp_sink_start "$dir/sink" || { fail "SMTP sink"; finish; exit 1; }
mkdir -p templates/order templates/plain
printf 'Votre commande est prête, {{contact.first_name}} ✓ — merci pour votre fidélité\n' \
    >templates/order/email.subject.mustache
printf 'Bonjour {{contact.first_name}},\nvotre commande est prête.\n' >templates/order/email.text.mustache
printf '<p>Bonjour <b>{{contact.first_name}}</b>, votre commande est prête.</p>\n' \
    >templates/order/email.html.mustache
printf 'Reminder\n' >templates/plain/email.subject.mustache
printf 'Plain text only.\n' >templates/plain/email.text.mustache
channel() { # channel EXTRA_KEYS: crm.yaml with the email channel on the sink
    cat >crm.yaml <<YAML
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
messages:
  channels:
    email: {driver: smtp, host: 127.0.0.1, port: $SINK_PORT, from: "Boutique Été <bonjour@example.fr>", timeout: 5s$1}
YAML
}
channel ""
T=1774000000
assert_exit 0 "$CRM" init --quiet
assert_exit 0 "$CRM" contact add --email zoe@example.fr --first-name "Zoé" --last-name Martin
zoe=$OUT

# ---- one message with both bodies ---------------------------------------------
assert_exit 0 "$CRM" message send --contact "$zoe" --template order --as-of "$(iso $T)" --json
m1=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$m1")" "delivered to the sink"
assert_contains "$(q "SELECT response FROM messages WHERE id=$m1")" "250"
assert_eq 1 "$(smtp_mail_count sink)" "the sink received one message"
"$SMTP_PY" - sink/mail/000001.eml sink/envelopes.jsonl "$m1" "$T" <<'PY' && pass || fail "message as received"
import email, email.policy, email.utils, json, sys
raw = open(sys.argv[1], "rb").read()
env = json.loads(open(sys.argv[2]).readline())
mid, t = sys.argv[3], int(sys.argv[4])
assert env["mail_from"] == "bonjour@example.fr", env
assert env["rcpt_tos"] == ["zoe@example.fr"], env
assert b"\r\n" in raw and max(len(l) for l in raw.split(b"\r\n")) <= 78, "CRLF lines of <= 78"
assert all(b < 0x80 for b in raw), "8-bit bytes on the wire"
m = email.message_from_bytes(raw, policy=email.policy.default)
subject = "Votre commande est prête, Zoé ✓ — merci pour votre fidélité"
hdr = raw.split(b"\r\n\r\n", 1)[0].decode()
assert "Subject: =?UTF-8?B?" in hdr, hdr          # RFC 2047 encoded-words, folded
assert str(m["Subject"]) == subject, str(m["Subject"])
frm = m["From"].addresses[0]
assert (frm.display_name, frm.addr_spec) == ("Boutique Été", "bonjour@example.fr"), frm
to = m["To"].addresses[0]
assert to.addr_spec == "zoe@example.fr", to
assert m["Message-ID"] == f"<msg-{mid}@example.fr>", m["Message-ID"]
assert email.utils.parsedate_to_datetime(m["Date"]).timestamp() == t, m["Date"]
assert m["MIME-Version"] == "1.0"
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
parts = list(m.iter_parts())
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], parts
text = parts[0].get_content().replace("\r\n", "\n")
assert text == "Bonjour Zoé,\nvotre commande est prête.\n", repr(text)
html = parts[1].get_content().replace("\r\n", "\n")
assert html == "<p>Bonjour <b>Zoé</b>, votre commande est prête.</p>\n", repr(html)
PY

# ---- a text-only template: a single text/plain part -------------------------------
assert_exit 0 "$CRM" message send --contact "$zoe" --template plain --as-of "$(iso $T)" --json
m2=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
"$SMTP_PY" - sink/mail/000002.eml "$m2" <<'PY' && pass || fail "text-only message"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
assert m["Subject"] == "Reminder", m["Subject"]
assert m["Message-ID"] == f"<msg-{sys.argv[2]}@example.fr>"
assert m.get_content_type() == "text/plain" and not m.is_multipart()
assert m.get_content().replace("\r\n", "\n") == "Plain text only.\n"
PY

# ---- the server's reply decides: 451 later, 550 never -------------------------------
printf '451\n' >sink/codes
assert_exit 0 "$CRM" message send --contact "$zoe" --template plain --key r451 --as-of "$(iso $T)" --json
m3=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "queued|1" "$(q "SELECT status||'|'||attempts FROM messages WHERE id=$m3")" "451: retried later"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$m3")" "451"
assert_exit 0 "$CRM" tick --as-of "$(iso $((T + 60)))"
assert_eq "sent|2" "$(q "SELECT status||'|'||attempts FROM messages WHERE id=$m3")" "sent on the retry"
"$SMTP_PY" - sink/mail <<'PY' && pass || fail "the retry carries the same Message-ID"
import email, os, sys
ids = [email.message_from_bytes(open(os.path.join(sys.argv[1], f), "rb").read())["Message-ID"]
       for f in sorted(os.listdir(sys.argv[1]))[-2:]]
assert ids[0] == ids[1], ids
PY
printf '550\n' >sink/codes
assert_exit 0 "$CRM" message send --contact "$zoe" --template plain --key r550 --as-of "$(iso $T)" --json
m4=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "failed|1" "$(q "SELECT status||'|'||attempts FROM messages WHERE id=$m4")" "550: dead letter"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$m4")" "550"
smtp_sink_stop

# ---- AUTH: the password from the environment ------------------------------------------
smtp_sink_start "$dir/auth" --user shop --password 's3cret pass' || { fail "AUTH sink"; finish; exit 1; }
channel ", user: shop, password_env: SMTP_PW"
export SMTP_PW='s3cret pass'
assert_exit 0 "$CRM" message send --contact "$zoe" --template plain --key a1 --as-of "$(iso $T)" --json
a1=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$a1")" "sent with AUTH"
assert_eq shop "$(json_get "$(tail -1 auth/envelopes.jsonl)" auth)" "authenticated as shop"
export SMTP_PW=wrong
assert_exit 0 "$CRM" message send --contact "$zoe" --template plain --key a2 --as-of "$(iso $T)" --json
a2=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "failed" "$(q "SELECT status FROM messages WHERE id=$a2")" "a refused login is permanent"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$a2")" "535"
assert_eq 1 "$(smtp_mail_count auth)" "nothing accepted without the right password"
unset SMTP_PW
smtp_sink_stop

# ---- STARTTLS with a private CA -------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
smtp_sink_start "$dir/tls" --tls cert.pem key.pem || { fail "TLS sink"; finish; exit 1; }
channel ", starttls: true, cafile: cert.pem"
assert_exit 0 "$CRM" message send --contact "$zoe" --template order --key t1 --as-of "$(iso $T)" --json
t1=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "sent" "$(q "SELECT status FROM messages WHERE id=$t1")" "sent over STARTTLS"
assert_eq "true" "$(json_get "$(tail -1 tls/envelopes.jsonl)" tls)" "the session was encrypted"
channel ""
assert_exit 0 "$CRM" message send --contact "$zoe" --template order --key t2 --as-of "$(iso $T)" --json
t2=$(json_get "$OUT" id)
assert_exit 0 "$CRM" tick --as-of "$(iso $T)"
assert_eq "failed" "$(q "SELECT status FROM messages WHERE id=$t2")" "a server requiring TLS refuses plain text"
assert_contains "$(q "SELECT reason FROM messages WHERE id=$t2")" "530"
assert_eq 1 "$(smtp_mail_count tls)" "nothing accepted in plain text"
finish

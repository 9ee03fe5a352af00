#!/usr/bin/env bash
# crm channel test end to end: each driver from crm.yaml messages.channels
# against real receivers on 127.0.0.1 (the spool, aiosmtpd, an http.server
# sink checking Standard Webhooks signatures with Python's hmac), failures
# told transient or permanent, and channel settings checked at load.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
. "$CRM_TEST_LIB"
SINKS="$CRM_SOURCE_DIR/tests/data/messages"
# Debian's python3-aiosmtpd belongs to the system interpreter.
PY=${CRM_TEST_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}

dir=$(mktemp -d)
pids=()
cleanup() {
    exec 3>&- 4>&- 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

# start_sink SCRIPT OUTDIR FD: runs the sink with its stdin on fd FD (closing
# FD stops it) and sets PORT from the line it prints once listening.
start_sink() {
    mkdir -p "$2"
    mkfifo "$2.ctl" "$2.port"
    "$PY" "$SINKS/$1" "$2" <"$2.ctl" >"$2.port" &
    pids+=($!)
    eval "exec $3>\"\$2.ctl\""
    read -r PORT <"$2.port"
}

export SINK_SECRET="whsec_$(printf 'a-test-secret-for-the-channel-test' | base64)"
export CRM_HOOK_SECRET="$SINK_SECRET"
start_sink smtp_sink.py smtp 3
smtp_port=$PORT
start_sink http_sink.py http 4
http_port=$PORT

cat >crm.yaml <<YAML
database: ch.db
messages:
  channels:
    email: {driver: file, dir: spool/email, from: "Boutique <bonjour@example.fr>"}
    sms:   {driver: file, dir: spool/sms}
    relay: {driver: smtp, host: 127.0.0.1, port: $smtp_port, from: "Boutique <bonjour@example.fr>", timeout: 10s}
    hook:  {driver: http, url: "http://127.0.0.1:$http_port/ok", timeout: 5s, secret_env: CRM_HOOK_SECRET}
    gone:  {driver: http, url: "http://127.0.0.1:$http_port/status/410"}
    busy:  {driver: http, url: "http://127.0.0.1:$http_port/status/503"}
YAML

subject="Votre commande est expédiée — merci Hélène"
# file: one .eml in the spool, decoded by Python's email package.
assert_exit 0 "$CRM" channel test email --to helene@example.fr --to-name "Hélène Dupré" \
    --subject "$subject" --text "Bonjour Hélène" --html "<p>Bonjour <b>Hélène</b></p>" --id t1
assert_contains "$OUT" "spool/email/t1.eml"
decoded=$(python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
print(m["Subject"]); print(m["To"].addresses[0].display_name); print(m["Message-ID"])
print(m.get_body(("plain",)).get_content().strip()); print(m.get_body(("html",)).get_content().strip())
' spool/email/t1.eml)
assert_eq "$subject
Hélène Dupré
<t1@example.fr>
Bonjour Hélène
<p>Bonjour <b>Hélène</b></p>" "$decoded" "the spooled email, decoded"
assert_eq "" "$(ls -A spool/email | grep -v '^t1.eml$')" "nothing but the message in the spool"

assert_exit 0 "$CRM" channel test sms --to +33612345678 --text "Colis en route" --id t2 --json
assert_eq "file" "$(json_get "$OUT" driver)"
assert_eq "Colis en route" "$(json_get "$(cat spool/sms/t2.json)" text)"
assert_eq "+33612345678" "$(json_get "$(cat spool/sms/t2.json)" to)"

# smtp: what the server received, decoded there.
assert_exit 0 "$CRM" channel test relay --to ana@example.fr --subject "$subject" --text "Bonjour" \
    --id t3 --json --as-of 2026-05-07T10:00:00Z
assert_eq "250" "$(json_get "$OUT" status)"
got=$(cat smtp/1.json)
assert_eq "$subject" "$(json_get "$got" Subject)" "subject the SMTP server decoded"
assert_eq "<t3@example.fr>" "$(json_get "$got" Message-ID)"
assert_eq "Thu, 07 May 2026 10:00:00 +0000" "$(json_get "$got" Date)" "Date follows --as-of"
assert_eq "Bonjour" "$(json_get "$got" plain)"
# 550 from the server: permanent, exit 1, the driver and the reply named.
assert_exit 1 "$CRM" channel test relay --to nobody@example.fr --subject s --text t
assert_contains "$ERR" "not sent (permanent)"
assert_contains "$ERR" "smtp driver"
assert_contains "$ERR" "550"
assert_exit 1 "$CRM" channel test relay --to busy@example.fr --subject s --text t
assert_contains "$ERR" "not sent (transient)"
assert_contains "$ERR" "451"

# http: signed, and the sink's own HMAC agrees.
assert_exit 0 "$CRM" channel test hook --to +33612345678 --text "hello" --id evt-1
rec=$(cat http/1.json)
assert_eq "true" "$(json_get "$rec" sig_ok)" "signature verified by Python's hmac"
assert_eq "evt-1" "$(json_get "$rec" headers.webhook-id)"
assert_eq "hello" "$(json_get "$(json_get "$rec" body)" text)"
assert_exit 1 "$CRM" channel test gone --to x --text t
assert_contains "$ERR" "not sent (permanent)"
assert_contains "$ERR" "HTTP status 410"
assert_exit 1 "$CRM" channel test busy --to x --text t
assert_contains "$ERR" "not sent (transient)"
assert_contains "$ERR" "HTTP status 503"

assert_exit 1 "$CRM" channel test fax --to x
assert_contains "$ERR" "no channel 'fax'"

# A secret env var missing in this shell fails only the channel that needs it.
unset CRM_HOOK_SECRET
assert_exit 0 "$CRM" calendar show --from 2026-05-04 --to 2026-05-04
assert_exit 1 "$CRM" channel test hook --to x --text t
assert_contains "$ERR" "CRM_HOOK_SECRET is not set"

# A typo in a channel refuses every command, with its position.
cat >bad.yaml <<'YAML'
database: ch.db
messages:
  channels:
    email: {driver: file, dir: spool, form: "a@b.fr"}
YAML
assert_exit 1 "$CRM" --config bad.yaml calendar show
assert_contains "$ERR" "bad.yaml:4:"
assert_contains "$ERR" "messages.channels.email.form"
assert_contains "$ERR" "did you mean 'from'"
printf 'database: ch.db\nmessages:\n  channels:\n    sms: {driver: smpt}\n' >bad.yaml
assert_exit 1 "$CRM" --config bad.yaml calendar show
assert_contains "$ERR" "did you mean 'smtp'"
printf 'database: ch.db\nmessages:\n  chanels: {}\n' >bad.yaml
assert_exit 1 "$CRM" --config bad.yaml calendar show
assert_contains "$ERR" "did you mean 'channels'"

finish

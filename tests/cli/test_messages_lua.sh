#!/usr/bin/env bash
# Lua's crm.message.queue{...}: a handler rule queues messages through the
# same path as the SDK's message_queue_json (tests/plugins/fixtures/mailer.c):
# the same request gives the same status, reason and scheduled instant by
# both routes (quiet hours postpone a Sunday marketing SMS, no consent
# suppresses); source "lua"; a key used twice queues once; a bad member is
# an error naming it; outside a handler rule the function is blocked.
set -u
CRM=${CRM:?CRM must point to the crm binary}
BUILD=${CRM_BUILD_DIR:?CRM_BUILD_DIR must point to the build tree}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
export CRM_PLUGIN_PATH="$BUILD/tests/plugins/so"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-messages-lua-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_LOG
q() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' crm.db "$1"; }
epoch() { python3 -c 'import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()))' "$1"; }

mkdir -p templates/promo scripts
printf 'Offre {{contact.first_name}}\n' >templates/promo/sms.mustache
cat >crm.yaml <<'YAML'
database: crm.db
plugins: [mailer]
scripts: scripts
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
rules:
  greet: {kind: handler, script: greet.lua, function: setup}
  sneaky: {kind: predicate, script: greet.lua, function: sneaky}
messages:
  channels:
    sms: {driver: file, dir: spool/sms}
YAML
cat >scripts/greet.lua <<'LUA'
function setup()
  on("consent.granted", function(ev)
    if crm.contact(ev.contact_id).first_name ~= "Lua" then return end
    local req = {contact_id = ev.contact_id, template = "promo", channel = "sms",
                 purpose = "marketing", key = "lua:" .. ev.contact_id}
    local id = crm.message.queue(req)
    assert(crm.message.queue(req) == id, "the same key queues once")
  end)
  on("contact.created", function(ev)
    -- no consent yet: suppressed by the outbox, as for a plugin
    if crm.contact(ev.contact_id).first_name ~= "Lua" then return end
    crm.message.queue{contact_id = ev.contact_id, template = "promo", channel = "sms",
                      purpose = "marketing", key = "early:" .. ev.contact_id,
                      at = "2026-03-07T10:00:00Z"}
  end)
end
function sneaky(c)
  crm.message.queue{contact_id = c.id, template = "promo"}
  return true
end
LUA
crm() { "$CRM" "$@"; }
assert_exit 0 crm init --quiet
SUNDAY=2026-03-08T10:00:00Z # 11:00 in Paris: marketing SMS wait for Monday 08:00
assert_exit 0 crm contact add --first-name Lua --phone "+33612345671" --as-of $SUNDAY
viaLua=$OUT
assert_exit 0 crm contact add --first-name Sdk --phone "+33612345672" --as-of $SUNDAY
viaSdk=$OUT
early=$(q "SELECT id FROM messages WHERE idem_key='early:$viaLua'")
assert_eq "suppressed" "$(q "SELECT status FROM messages WHERE id=$early")" "no consent: suppressed"
assert_eq "no consent (sms marketing)" "$(q "SELECT reason FROM messages WHERE id=$early")"
assert_eq "$(epoch 2026-03-08T10:00:00Z)" "$(q "SELECT scheduled_at FROM messages WHERE id=$early")" \
    "an 'at' in the past is now"

assert_exit 0 crm consent grant --contact "$viaLua" --channel sms --purpose marketing --as-of $SUNDAY
assert_exit 0 crm consent grant --contact "$viaSdk" --channel sms --purpose marketing --as-of $SUNDAY
lua=$(q "SELECT id FROM messages WHERE idem_key='lua:$viaLua'")
[ -n "$lua" ] && pass || fail "crm.message.queue stored nothing"
assert_eq "lua" "$(q "SELECT source FROM messages WHERE id=$lua")" "source lua"
assert_eq "1" "$(q "SELECT count(*) FROM messages WHERE idem_key='lua:$viaLua'")"
# the SDK route, with the same request
assert_exit 0 crm mailer queue "{\"contact_id\":$viaSdk,\"template\":\"promo\",\"channel\":\"sms\",\"purpose\":\"marketing\",\"key\":\"sdk:$viaSdk\"}" --as-of $SUNDAY
sdk=$(q "SELECT id FROM messages WHERE idem_key='sdk:$viaSdk'")
for col in status scheduled_at reason channel purpose; do
    assert_eq "$(q "SELECT $col FROM messages WHERE id=$sdk")" \
        "$(q "SELECT $col FROM messages WHERE id=$lua")" "$col: Lua as the SDK"
done
assert_eq "$(epoch 2026-03-09T07:00:00Z)" "$(q "SELECT scheduled_at FROM messages WHERE id=$lua")" \
    "postponed to Monday 08:00 Paris"
assert_eq "Offre Lua" "$(q "SELECT trim(body_text, char(10)) FROM messages WHERE id=$lua")"

# refusals
cat >scripts/bad.lua <<'LUA'
function setup()
  on("contact.created", function(ev)
    crm.message.queue{contact_id = ev.contact_id, template = "promo", colour = "red"}
  end)
end
LUA
sed -i 's/^  greet: .*/  greet: {kind: handler, script: bad.lua, function: setup}/' crm.yaml
assert_exit 0 crm contact add --first-name Bad --phone "+33612345673" --as-of $SUNDAY
assert_exit 0 crm events failed --json
assert_contains "$OUT" "crm.message.queue: unknown field 'colour'" "a bad member names itself"
run crm rules eval sneaky --contact "$viaLua" --json
assert_contains "$OUT$ERR" "crm.message.queue outside a handler rule" "blocked outside handlers"

finish

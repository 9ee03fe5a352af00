#!/usr/bin/env bash
# The web board: `crm user passwd` (Argon2id, only the hash stored), the
# login endpoints and the session cookie the API accepts (CSRF token on
# writes, logout), the embedded files (types, CSP, ETag), then the pages in
# headless Chromium (tests/cli/board_browser.mjs). Screenshots go to
# $CRM_BUILD_DIR/board-screenshots.
set -euo pipefail

: "${CRM:?set CRM to the crm binary}"
CRM_TEST_LIB=${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}
. "$CRM_TEST_LIB"
. "$(dirname "$0")/serve_lib.sh"
SRC=${CRM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
# (no "kill 0" when the server never started: that would kill the whole group)
trap 'for p in ${SERVE_PID:-} ${PIPELINE_PID:-}; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT
cat >"$dir/crm.yaml" <<'YAML'
database: t.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [pipeline, segmentation, ticketing, loyalty]
calendars:
  always: {timezone: UTC, hours: {mon-sun: ["00:00-24:00"]}}
ticketing:
  teams:
    - {name: support, calendar: always, members: [agent]}
  sla:
    - name: standard
      calendar: always
      targets:
        normal: {first_reply: 4h, next_reply: 2h, resolution: 16h}
        urgent: {first_reply: 1h, next_reply: 1h, resolution: 4h}
segmentation:
  rfm: {window_days: 365, currency: EUR}
  segments:
    - {name: Big Spenders, where: "monetary >= 50000"}
    - {name: Test List, static: true}
loyalty:
  programs:
    - name: club
      point: {name: points, value: "0.01 EUR"}
      earn:
        - {on: order.paid, per: "1.00 EUR", points: 1}
      pending: 14d
      expire_after: 365d
      tiers:
        qualify_on: spent
        window: rolling_12_months
        grace: 30d
        downgrade: one_down
        levels:
          - {name: bronze, min: "0 EUR"}
          - {name: silver, min: "500 EUR", multiplier: 1.25}
YAML
unset CRM_DB CRM_CONFIG
export CRM_PLUGIN_PATH=${CRM_BUILD_DIR:?}/plugins
crm() { "$CRM" --config "$dir/crm.yaml" "$@"; }
q() { sqlite3 "$dir/t.db" "$1"; }

assert_exit 0 crm init
assert_exit 0 crm user add --name "Marie Curie" --email manager@example.fr --role manager
assert_exit 0 crm user add --name "Paul Viewer" --email viewer@example.fr --role viewer

# passwords: Argon2id strings, never the text; a short one changes nothing
assert_exit 0 sh -c "printf 'correct horse\n' | \"$CRM\" --config '$dir/crm.yaml' user passwd manager@example.fr"
assert_exit 0 sh -c "printf 'viewer pass 1\n' | \"$CRM\" --config '$dir/crm.yaml' user passwd viewer@example.fr"
hash=$(q "SELECT password_hash FROM users WHERE email='manager@example.fr'")
assert_contains "$hash" '$argon2id$'
# libsodium's interactive Argon2id parameters, a 16-byte salt, a 32-byte hash
assert_exit 0 python3 -c 'import re, sys; sys.exit(0 if re.fullmatch(r"\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", sys.argv[1]) else 1)' "$hash"
if grep -qaF "correct horse" "$dir/t.db" "$dir"/t.db-wal 2>/dev/null; then
    fail "the password is stored in plain text"
else
    pass
fi
assert_exit 1 sh -c "printf 'short\n' | \"$CRM\" --config '$dir/crm.yaml' user passwd manager@example.fr"
assert_contains "$ERR" "password: must be 8 to 1024 characters"
assert_eq "$hash" "$(q "SELECT password_hash FROM users WHERE email='manager@example.fr'")" \
    "a refused password leaves the hash as it was"
assert_exit 1 sh -c "printf 'long enough\n' | \"$CRM\" --config '$dir/crm.yaml' user passwd nobody@example.fr"

# contacts and a timeline for the pages
assert_exit 0 crm contact add --first-name Ana --last-name Dupont --email ana@example.fr --city Lyon
ana=$OUT
assert_exit 0 crm contact add --first-name Anatole --last-name Martin --email anatole@example.fr
anatole=$OUT
assert_exit 0 crm contact add --first-name Bob --last-name Durand --email bob@example.fr
bob=$OUT
assert_exit 0 crm interaction log --contact ana@example.fr --channel phone --direction in \
    --subject "Asked for a quote" --at 2026-11-02T10:00:00Z
assert_exit 0 crm interaction log --contact ana@example.fr --channel email --subject "Quote sent" \
    --at 2026-11-03T09:00:00Z

# orders for the RFM grid and the segments, scored as of 2026-12-01; the
# static list gets three members, then loses one
for spec in "$ana:900.00:2026-11-20" "$ana:120.00:2026-11-25" "$anatole:30.00:2026-11-10" \
            "$bob:600.00:2026-11-28"; do
    IFS=: read -r c total day <<<"$spec"
    assert_exit 0 crm order add --contact "$c" --total "$total" --currency EUR --status paid \
        --placed-at "${day}T10:00:00Z"
done
assert_exit 0 crm --as-of 2026-12-01T00:00:00Z rfm refresh
assert_exit 0 crm --as-of 2026-12-01T00:00:00Z segment refresh
assert_exit 0 crm --as-of 2026-12-01T08:00:00Z segment add test_list "$ana" "$anatole" "$bob"
assert_exit 0 crm --as-of 2026-12-01T09:00:00Z segment remove test_list "$anatole"

# loyalty: 500 approved points for Ana (her orders' own points are still
# pending: 14 days, and no timer ran); the board redeems 120 of them
assert_exit 0 crm --as-of 2026-12-01T09:30:00Z loyalty earn "$ana" --points 500 --reason welcome --key t:welcome

# deals for the kanban (the built-in pipeline "default": qualification 10 %,
# proposal 40 %, negotiation 70 %); the first one is dragged to proposal
assert_exit 0 crm deal add --title "Lyon fit-out" --contact "$ana" --amount 1234.56 --owner manager@example.fr
deal=$OUT
assert_exit 0 crm deal add --title "Annecy audit" --contact "$ana" --amount 800.00 --owner manager@example.fr
assert_exit 0 crm deal add --title "Grenoble renewal" --contact "$ana" --amount 2500.00 --stage proposal
assert_exit 0 crm deal add --title "Valence pilot" --contact "$ana" --amount 99.99 --stage negotiation

# tickets before the server's clock NOW, first replies due 1 h (urgent) or
# 4 h (normal) after opening, round the clock: one breached, one due within
# the hour (at risk), one due later; a solved one is not in the queue
NOW=2026-12-01T12:00:00Z
assert_exit 0 crm --as-of 2026-12-01T09:00:00Z ticket open --contact "$ana" --subject "Colis perdu" --priority urgent
assert_exit 0 crm --as-of 2026-12-01T11:30:00Z ticket open --contact "$ana" --subject "Facture"
assert_exit 0 crm --as-of 2026-12-01T11:45:00Z ticket open --contact "$ana" --subject "Relance" --priority urgent
assert_exit 0 crm --as-of 2026-12-01T08:00:00Z ticket open --contact "$ana" --subject "Ancien"
assert_exit 0 crm --as-of 2026-12-01T08:30:00Z ticket solve "$OUT"
tickets=$(python3 - <<'PY'
import datetime, json, zoneinfo
utc, paris = datetime.timezone.utc, zoneinfo.ZoneInfo("Europe/Paris")
now = datetime.datetime(2026, 12, 1, 12, tzinfo=utc)
opened = [("Colis perdu", 9, 0, 1), ("Facture", 11, 30, 4), ("Relance", 11, 45, 1)]
rows = []
for subject, h, m, hours in opened:
    due = datetime.datetime(2026, 12, 1, h, m, tzinfo=utc) + datetime.timedelta(hours=hours)
    left = (due - now).total_seconds()
    badge = "breached" if left < 0 else "at_risk" if left < 3600 else "on_time"
    rows.append((due, {"subject": subject, "badge": badge, "due": due.astimezone(paris).strftime("%H:%M")}))
# breached first, then by the deadline
rows.sort(key=lambda r: (r[1]["badge"] != "breached", r[0]))
print(json.dumps([r[1] for r in rows]))
PY
)

SERVE_CONFIG=$dir/crm.yaml serve_start "$dir" --threads 2 --no-worker --as-of $NOW
status=0
python3 "$(dirname "$0")/board_api.py" "$SERVE_URL" "$dir/t.db" || status=$?
if [ "$status" -eq 0 ]; then pass; else fail "board_api.py failed ($status)"; fi
# a new password ends the user's sessions (board_api.py left the viewer logged in)
viewer_sessions="SELECT count(*) FROM board_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'viewer@example.fr'"
assert_eq 1 "$(q "$viewer_sessions")" "the viewer's session before the new password"
assert_exit 0 sh -c "printf 'viewer pass 1\n' | \"$CRM\" --config '$dir/crm.yaml' user passwd viewer@example.fr"
assert_eq 0 "$(q "$viewer_sessions")" "crm user passwd ends the user's sessions"

# a second server on the same database with only the pipeline plugin: the
# board there has no RFM, segments, tickets or loyalty card
mkdir "$dir/p"
sed 's/^plugins: .*/plugins: [pipeline]/' "$dir/crm.yaml" >"$dir/crm-pipeline.yaml"
main_pid=$SERVE_PID main_url=$SERVE_URL
SERVE_CONFIG=$dir/crm-pipeline.yaml serve_start "$dir/p" --threads 1 --no-worker --as-of $NOW
PIPELINE_PID=$SERVE_PID pipeline_url=$SERVE_URL
SERVE_PID=$main_pid SERVE_URL=$main_url

# the browser: what the pages must show, from the CLI (`crm timeline` prints the
# contact first, then the entries oldest first) and the database
if [ ! -d "$SRC/tests/node_modules/playwright-core" ]; then
    (cd "$SRC/tests" && npm ci --no-audit --no-fund --silent) || { fail "npm ci in tests/"; finish; }
fi
assert_exit 0 crm timeline "$ana" --json
kinds=$(printf '%s\n' "$OUT" | python3 -c 'import json, sys; print(json.dumps([k for k in (json.loads(l)["kind"] for l in sys.stdin if l.strip()) if k != "contact"][::-1]))')
matches=$(q "SELECT count(*) FROM contacts WHERE name_key LIKE '%ana%'")
# the first paid order made Ana a customer: the timeline's stage entry
stage=$(q "SELECT old_value || ' → ' || new_value FROM contact_history WHERE contact_id = $ana AND field = 'lifecycle_stage'")
# 2026-11-02T10:00Z in locale.timezone, as the page must show it
local_time=$(python3 -c 'import datetime, zoneinfo; print(datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.timezone.utc).astimezone(zoneinfo.ZoneInfo("Europe/Paris")).strftime("%H:%M"))')
cat >"$dir/checks.json" <<JSON
{"db": "$dir/t.db",
 "manager": {"user": "manager@example.fr", "password": "correct horse"},
 "viewer": {"user": "viewer@example.fr", "password": "viewer pass 1"},
 "pipeline": {"name": "default", "deal": $deal, "from": "qualification", "to": "proposal",
              "probabilities": {"qualification": 10, "proposal": 40, "negotiation": 70,
                                "won": 100, "lost": 0}},
 "tickets": $tickets, "pipeline_only_url": "$pipeline_url",
 "contact": {"search": "ana", "matches": $matches, "name": "Ana Dupont",
             "subject": "Quote sent", "stage": "$stage", "id": $ana, "local_time": "$local_time", "timeline_kinds": $kinds}}
JSON
shots=${CRM_BUILD_DIR:-$dir}/board-screenshots
mkdir -p "$shots"
rm -f "$shots"/*.png
status=0
(cd "$SRC/tests" && timeout 60 node "$SRC/tests/cli/board_browser.mjs" "$SERVE_URL" "$shots" "$dir/checks.json") \
    >"$dir/browser.out" 2>&1 || status=$?
cat "$dir/browser.out"
if [ "$status" -eq 0 ]; then pass; else fail "the browser scenario failed ($status; screenshots in $shots)"; fi
for page in login contacts timeline timeline-phone pipeline pipeline-phone pipeline-viewer tickets; do
    if [ -s "$shots/$page.png" ]; then pass; else fail "no screenshot $page.png"; fi
done

kill -TERM "$PIPELINE_PID"
pipeline_rc=0
wait "$PIPELINE_PID" || pipeline_rc=$?
assert_eq 0 "$pipeline_rc" "the pipeline-only crm serve's exit status after SIGTERM"
serve_stop
assert_eq 0 "$SERVE_RC" "crm serve exit status after SIGTERM"
finish

#!/usr/bin/env bash
# Times in text output follow locale.timezone: one database read through two
# crm.yaml files, Europe/Paris and America/New_York, shows the same instants
# as local ISO 8601 with the offset of that date (winter and summer: DST),
# in every command that prints one; --json keeps the UTC machine form. The
# expected strings come from Python's zoneinfo, not from crm.
set -u
CRM=${CRM:?CRM must point to the crm binary}
. "${CRM_TEST_LIB:?CRM_TEST_LIB must point to tests/cli/lib.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-test-timedisplay-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB CRM_PLUGIN_PATH
for z in Europe/Paris America/New_York; do
    printf 'database: shared.db\nlocale: {country: FR, currency: EUR, timezone: %s}\nplugins: []\n' "$z" \
        >"${z#*/}.yaml"
done
paris() { "$CRM" --config Paris.yaml "$@"; }
ny() { "$CRM" --config New_York.yaml "$@"; }
WINTER=2026-01-15T12:00:00Z
SUMMER=2026-07-01T12:00:00Z
READ=2026-12-01T08:30:00Z # after both: the timeline cuts at --as-of
# local ZONE ISO: the instant in ZONE as crm must print it
local_of() {
    python3 -c 'import sys, datetime, zoneinfo
t = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
print(t.astimezone(zoneinfo.ZoneInfo(sys.argv[1])).isoformat())' "$1" "$2"
}

assert_exit 0 paris --as-of "$WINTER" init
assert_exit 0 paris --as-of "$WINTER" contact add --first-name Ann --last-name Lee --email ann@example.com
assert_exit 0 paris --as-of "$WINTER" interaction log --contact 1 --channel phone --subject call \
    --at "$SUMMER"
assert_exit 0 paris --as-of "$WINTER" order add --contact 1 --total 10.00 --status paid \
    --placed-at "$SUMMER"
assert_exit 0 paris --as-of "$WINTER" consent grant --contact 1 --channel email --purpose marketing \
    --at "$WINTER"
assert_exit 0 paris --as-of "$WINTER" task add --subject "call back" --contact 1 --due "$SUMMER"
assert_exit 0 paris --as-of "$WINTER" audit

# command, then the instants its text output must show
checks=(
    "contact show 1|$WINTER"
    "interaction list --contact 1|$SUMMER"
    "order list|$SUMMER"
    "order show 1|$SUMMER"
    "consent show 1 --history|$WINTER"
    "task list|$SUMMER"
    "task show 1|$SUMMER"
    "timers list|$SUMMER"
    "timeline 1|$SUMMER $WINTER"
    "events tail|$WINTER"
    "audit|$READ"
)
for zone in Europe/Paris America/New_York; do
    for c in "${checks[@]}"; do
        cmd=${c%%|*}
        # shellcheck disable=SC2086
        run "$CRM" --config "${zone#*/}.yaml" --as-of "$READ" $cmd
        assert_eq 0 "$RC" "$zone: crm $cmd: $ERR"
        for t in ${c#*|}; do
            assert_contains "$OUT" "$(local_of "$zone" "$t")" "$zone: crm $cmd shows $t locally"
        done
        if grep -Eq 'T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' <<<"$OUT"; then
            fail "$zone: crm $cmd prints a UTC time: $OUT"
        else pass; fi
    done
done
# the offsets differ between the zones and between the seasons
assert_eq "2026-07-01T14:00:00+02:00 2026-01-15T07:00:00-05:00" \
    "$(local_of Europe/Paris "$SUMMER") $(local_of America/New_York "$WINTER")" "zoneinfo itself"

# --json keeps the machine form, whatever the zone
run ny --json order show 1
assert_eq "$SUMMER" "$(json_get "$OUT" placed_at)" "--json: UTC"
run ny --json task show 1
assert_contains "$OUT" "$(date -ud "$SUMMER" +%s)" "--json task: epoch seconds"

finish

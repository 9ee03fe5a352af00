#!/usr/bin/env bash
# crm calendar show|add end to end: business-time arithmetic across DST and
# holidays, the day listing with offsets, JSON shapes, refusals and exit
# codes, config errors with positions, and the example of the shipped crm.yaml.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
. "$CRM_TEST_LIB"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
cat >crm.yaml <<'YAML'
database: cal.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
calendars:
  support:
    timezone: Europe/Paris
    hours:
      mon-fri: ["08:00-12:30", "13:30-19:00"]
      sat: ["09:00-12:00"]
    holidays: {country: FR, extra: [2026-12-24], closed: [2026-08-14]}
  night:
    hours: {sun: ["01:00-04:00"]}
    holidays: {country: none}
  us:
    timezone: America/New_York
    hours: {mon-fri: ["09:00-17:00"]}
    holidays: {country: US}
YAML

# Friday 27 March 18:30 CET + 5 open hours: 30 min, Saturday 3 h, then
# Monday 08:00 CEST + 1h30 (the clocks went forward on Sunday).
assert_exit 0 "$CRM" calendar add 2026-03-27T18:30 5h --calendar support
assert_eq "2026-03-30T09:30:00+02:00" "$OUT" "5h over the weekend and the spring change"
assert_exit 0 "$CRM" calendar add 2026-10-23T18:30 5h --calendar support
assert_eq "2026-10-26T09:30:00+01:00" "$OUT" "5h over the autumn change"
# The lunch break is not open time.
assert_exit 0 "$CRM" calendar add 2026-03-02T12:00 90m --calendar support
assert_eq "2026-03-02T14:30:00+01:00" "$OUT" "90m over lunch"
# A business day landing on a closed instant moves to the next opening:
# Friday 8 May is a holiday, Saturday 18:00 is closed, so Monday 08:00.
assert_exit 0 "$CRM" calendar add 2026-05-07T18:00 1bd --calendar support
assert_eq "2026-05-11T08:00:00+02:00" "$OUT" "1bd onto a closed instant"
# Year end: 31 December 18:00 + 3h -> 1 h, 1 January closed, Saturday 2 + 2 h.
assert_exit 0 "$CRM" calendar add 2026-12-31T18:00 3h --calendar support
assert_eq "2027-01-02T11:00:00+01:00" "$OUT" "3h over the new year"
# An instant with an offset is taken as given; `now` follows --as-of.
assert_exit 0 "$CRM" calendar add 2026-03-27T17:30:00Z 2h --calendar support
assert_eq "2026-03-28T10:30:00+01:00" "$OUT" "an instant given in UTC"
assert_exit 0 "$CRM" --as-of 2026-03-27T17:30:00Z calendar add now 2h --calendar support
assert_eq "2026-03-28T10:30:00+01:00" "$OUT" "now from --as-of"
# New York keeps its own zone and observes 4 July 2026 on Friday 3 July.
assert_exit 0 "$CRM" calendar add 2026-07-02T16:30 1h --calendar us
assert_eq "2026-07-06T09:30:00-04:00" "$OUT" "the US observed holiday"
# The default calendar follows locale: 09:00-18:00 Monday to Friday.
assert_exit 0 "$CRM" calendar add 2026-03-06T17:00 2h
assert_eq "2026-03-09T10:00:00+01:00" "$OUT" "the default calendar"

assert_exit 0 "$CRM" calendar add 2026-03-27T18:30 5h --calendar support --json
python3 - "$OUT" <<'PY' && pass || fail "calendar add --json shape and values"
import json, sys, datetime
d = json.loads(sys.argv[1])
assert d["calendar"] == "support" and d["timezone"] == "Europe/Paris", d
start = datetime.datetime(2026, 3, 27, 17, 30, tzinfo=datetime.timezone.utc)
end = datetime.datetime(2026, 3, 30, 7, 30, tzinfo=datetime.timezone.utc)
assert d["from"] == int(start.timestamp()) and d["at"] == int(end.timestamp()), d
assert d["from_iso"] == "2026-03-27T18:30:00+01:00" and d["at_iso"] == "2026-03-30T09:30:00+02:00", d
assert d["duration"] == "5h", d
PY

# show: the holidays of the range with their names, open intervals per day
# with the zone's offset.
assert_exit 0 "$CRM" calendar show support --from 2026-12-23 --to 2026-12-27
assert_contains "$OUT" "calendar support (Europe/Paris), holidays: FR"
assert_contains "$OUT" "mon  08:00-12:30 13:30-19:00"
assert_contains "$OUT" "sun  closed"
assert_contains "$OUT" "2026-12-24  extra holiday"
assert_contains "$OUT" "2026-12-25  Christmas Day"
assert_contains "$OUT" "2026-12-23 wed  +01:00  08:00-12:30 13:30-19:00  (10h)"
assert_contains "$OUT" "2026-12-26 sat  +01:00  09:00-12:00  (3h)"
assert_contains "$OUT" "2026-12-27 sun  +01:00  closed"
assert_exit 0 "$CRM" calendar show night --from 2026-03-29 --to 2026-03-29
assert_contains "$OUT" "2026-03-29 sun  +01:00  01:00-04:00+02:00  (2h)" "the spring day loses an hour"
assert_exit 0 "$CRM" calendar show night --from 2026-10-25 --to 2026-10-25
assert_contains "$OUT" "2026-10-25 sun  +02:00  01:00-04:00+01:00  (4h)" "the autumn day gains one"

assert_exit 0 "$CRM" calendar show support --from 2026-05-01 --to 2026-05-31 --json
python3 - "$OUT" <<'PY' && pass || fail "calendar show --json: holidays and intervals"
import json, sys, datetime
d = json.loads(sys.argv[1])
names = {h["date"]: h["name"] for h in d["holidays"]}
assert names == {"2026-05-01": "Labour Day", "2026-05-08": "Victory in Europe Day",
                 "2026-05-14": "Ascension Day", "2026-05-25": "Whit Monday"}, names
assert len(d["days"]) == 31, len(d["days"])
day = {x["date"]: x for x in d["days"]}
mon = day["2026-05-04"]
assert mon["weekday"] == "mon" and mon["utc_offset"] == "+02:00" and mon["closed"] is None, mon
utc = datetime.timezone.utc
want = [(datetime.datetime(2026, 5, 4, 6, 0, tzinfo=utc), datetime.datetime(2026, 5, 4, 10, 30, tzinfo=utc)),
        (datetime.datetime(2026, 5, 4, 11, 30, tzinfo=utc), datetime.datetime(2026, 5, 4, 17, 0, tzinfo=utc))]
got = [(i["start"], i["end"]) for i in mon["open"]]
assert got == [(int(a.timestamp()), int(b.timestamp())) for a, b in want], got
assert mon["open"][0]["start_iso"] == "2026-05-04T08:00:00+02:00", mon
assert mon["open_seconds"] == 10 * 3600, mon
assert day["2026-05-01"]["closed"] == "Labour Day" and day["2026-05-01"]["open"] == []
assert d["hours"]["sat"] == ["09:00-12:00"] and d["hours"]["sun"] == [], d["hours"]
PY

# Refusals and exit codes.
assert_exit 1 "$CRM" calendar add 2026-03-02T10:00 2h --calendar suport
assert_contains "$ERR" "no calendar 'suport'"
assert_contains "$ERR" "did you mean 'support'?"
assert_exit 1 "$CRM" calendar add 2026-03-02T10:00 3days
assert_contains "$ERR" "'3days' is not a duration"
assert_exit 1 "$CRM" calendar add 2026-02-30T10:00 2h
assert_contains "$ERR" "DATETIME"
assert_exit 2 "$CRM" calendar add 2026-03-02T10:00
assert_exit 2 "$CRM" calendar show --from 2026-3-1
assert_exit 2 "$CRM" calendar show --from 2026-03-10 --to 2026-03-01
assert_exit 0 "$CRM" calendar show --help
assert_contains "$OUT" "--from DATE"

# A configuration error names the file, line and column.
cat >bad.yaml <<'YAML'
calendars:
  support:
    hours:
      mon-fri: ["08:00-12:30", "12:00-14:00"]
YAML
assert_exit 1 "$CRM" --config bad.yaml calendar show support
assert_contains "$ERR" "bad.yaml:4:32: calendars.support.hours.mon-fri: '08:00-12:30' and '12:00-14:00' overlap"
printf 'calendars:\n  support:\n    timezone: Europe/Pariss\n' >bad.yaml
assert_exit 1 "$CRM" --config bad.yaml calendar show support
assert_contains "$ERR" "bad.yaml:3:5: calendars.support.timezone: unknown time zone 'Europe/Pariss'"
assert_contains "$ERR" "did you mean 'Europe/Paris'?"

# The shipped crm.yaml loads, and its commented example is a valid calendar.
assert_exit 0 "$CRM" --config "$CRM_SOURCE_DIR/crm.yaml" calendar show --from 2026-01-01 --to 2026-01-01
sed -n '/^# calendars:/,/^$/p' "$CRM_SOURCE_DIR/crm.yaml" | sed 's/^# \{0,1\}//; s/ \{2,\}#.*$//' >example.yaml
assert_exit 0 "$CRM" --config example.yaml calendar add 2026-03-27T18:30 5h --calendar support
assert_eq "2026-03-30T09:30:00+02:00" "$OUT" "the crm.yaml example"

finish

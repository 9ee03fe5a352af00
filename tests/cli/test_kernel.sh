#!/usr/bin/env bash
# End to end: init, config errors, contact validation, duplicates, exit codes,
# JSON shape, and that a refused command leaves the database unchanged.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"

pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect_exit() { # CODE DESCRIPTION -- command...
    local want=$1 what=$2; shift 3
    "$@" >"$dir/out" 2>"$dir/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else ko "$what: exit $got, want $want ($(cat "$dir/err"))"; fi
}
expect_in() { # FILE TEXT DESCRIPTION
    if grep -qF -- "$2" "$1"; then ok; else ko "$3: '$2' not in $(cat "$1")"; fi
}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
cat >crm.yaml <<'YAML'
database: k.db
locale:
  country: FR
  currency: EUR
  timezone: Europe/Paris
custom_fields:
  contact:
    - name: loyalty_card
      type: text
    - name: visits
      type: integer
    - name: preferred_store
      type: enum
      values: [paris, lyon]
YAML

expect_exit 1 "commands before init are refused" -- "$CRM" contact list
expect_in err "crm init" "the refusal says what to do"
expect_exit 0 "init creates" -- "$CRM" init
expect_exit 0 "init is idempotent" -- "$CRM" init
expect_in out "kernel schema" "init reports the schema"

expect_exit 0 "add normalises" -- "$CRM" contact add --first-name "JEAN" --last-name "DUPONT" \
    --email " Jean.Dupont@Example.FR " --phone "06 12 34 56 78" --postal-code 75011 \
    --city Paris --tag vip --field visits=3 --field preferred_store=paris
id=$(cat out)
"$CRM" contact show "$id" --json >show.json
python3 - show.json <<'PY' && ok || ko "contact show --json shape and values"
import json, sys
c = json.load(open(sys.argv[1]))
keys = ["id", "external_id", "first_name", "last_name", "email", "phone", "company", "street",
        "postal_code", "city", "country", "birth_date", "source", "tags", "custom",
        "created_at", "updated_at"]
missing = [k for k in keys if k not in c]
assert not missing, missing
assert c["first_name"] == "Jean" and c["last_name"] == "Dupont", c
assert c["email"] == "jean.dupont@example.fr", c["email"]
assert c["phone"] == "+33612345678", c["phone"]
assert c["tags"] == ["vip"] and c["custom"] == {"visits": "3", "preferred_store": "paris"}, c
PY
expect_exit 0 "show by email" -- "$CRM" contact show jean.dupont@example.fr --json
expect_in out "\"id\":$id" "show by email finds the contact"

expect_exit 1 "duplicate email refused" -- "$CRM" contact add --first-name X --email JEAN.DUPONT@example.fr
expect_in err "already belongs to contact $id" "duplicate names the existing id"
expect_exit 1 "duplicate phone refused" -- "$CRM" contact add --first-name X --phone "+33 6 12 34 56 78"
expect_in err "contact $id" "phone duplicate names the existing id"
expect_exit 1 "bad email" -- "$CRM" contact add --first-name X --email "x@@y.fr"
expect_in err "email: 'x@@y.fr'" "message names field and value"
expect_exit 1 "bad postal code" -- "$CRM" contact add --first-name X --postal-code 7500
expect_in err "postal_code: '7500'" "postal message"
expect_exit 1 "future birth date" -- "$CRM" contact add --first-name X --birth-date 2999-01-01
expect_in err "birth_date" "birth date message"
expect_exit 1 "custom integer typed" -- "$CRM" contact add --first-name X --field visits=many
expect_in err "custom.visits: 'many' is not an integer" "custom field message"
expect_exit 1 "custom enum typed" -- "$CRM" contact add --first-name X --field preferred_store=nice
expect_in err "paris, lyon" "enum message lists the values"
expect_exit 1 "unknown custom field" -- "$CRM" contact add --first-name X --field nope=1
expect_in err "custom_fields.contact" "unknown field says where to declare it"
expect_exit 2 "unknown option is usage" -- "$CRM" contact add --frist-name X
expect_exit 2 "unknown command is usage" -- "$CRM" contact frobnicate
expect_exit 0 "help everywhere" -- "$CRM" contact list --help
expect_in out "--postal-code" "help lists options"

# A refused command leaves the database exactly as it was.
before=$(sqlite3 k.db "select count(*) from contacts; select count(*) from events;" | tr '\n' ' ')
expect_exit 1 "refused update" -- "$CRM" contact update "$id" --city Lyon --postal-code 123
after=$(sqlite3 k.db "select count(*) from contacts; select count(*) from events;" | tr '\n' ' ')
[ "$before" = "$after" ] && ok || ko "refused update changed counts: $before -> $after"
[ "$(sqlite3 k.db "select city from contacts where id=$id")" = "Paris" ] && ok || ko "city changed"

expect_exit 0 "update" -- "$CRM" contact update "$id" --city Lyon --postal-code 69003 --tag a --tag b
[ "$(sqlite3 k.db "select group_concat(tag) from (select tag from contact_tags where contact_id=$id order by tag)")" = "a,b" ] \
    && ok || ko "tags replaced on update"
[ "$(sqlite3 k.db "select count(*) from events where type='contact.updated'")" = "1" ] \
    && ok || ko "contact.updated event written with the change"
expect_exit 0 "clear a field" -- "$CRM" contact update "$id" --city ""
[ -z "$(sqlite3 k.db "select city from contacts where id=$id")" ] && ok || ko "empty value clears"

expect_exit 0 "list filters" -- "$CRM" contact list --name dupont --json
[ "$(wc -l <out)" -eq 1 ] && ok || ko "list --name found $(wc -l <out) rows"
expect_exit 0 "list by accent-insensitive name" -- "$CRM" contact list --name "DÙPONT" --json
[ "$(wc -l <out)" -eq 1 ] && ok || ko "accent-insensitive name filter"

expect_exit 2 "a malformed --as-of is bad usage" -- "$CRM" contact list --as-of 2026-13-45
expect_in err "--as-of" "the message names the option"

# Configuration errors carry file:line:column and a suggestion.
printf 'database: k.db\npluggins: []\n' >bad.yaml
expect_exit 1 "config error" -- "$CRM" --config bad.yaml contact list
expect_in err "bad.yaml:2:1" "config error position"
expect_in err "did you mean 'plugins'" "config suggestion"

# A database written by a newer crm is refused.
sqlite3 k.db "insert into schema_migrations values('kernel', 999, 'future', 0)"
expect_exit 1 "newer database refused" -- "$CRM" contact list
expect_in err "newer crm" "newer database message"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Personal data end to end, with every shipped plugin (segmentation) and a
# test plugin keeping its own contact rows (pdata: a declared table and
# export/erase callbacks): the refusal of an undeclared contact table,
# export-data reaching kernel and plugins, and an erasure after which no
# trace of the person's name, email or phone is left in the database file.
set -uo pipefail
: "${CRM:?CRM must point at the crm binary}"
: "${CRM_BUILD_DIR:?}" "${CRM_TEST_LIB:?}"
. "$CRM_TEST_LIB"

so=$CRM_BUILD_DIR/tests/plugins/so
plugins=pdata
[ -f "$CRM_BUILD_DIR/plugins/segmentation.so" ] && plugins="segmentation, pdata"
if [ ! -f "$so/pdata.so" ]; then
    echo "test plugins not built: skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
export CRM_PLUGIN_PATH=$so:$CRM_BUILD_DIR/plugins
dir=$(mktemp -d "${TMPDIR:-/tmp}/crm-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
unset CRM_CONFIG CRM_DB PDATA_UNDECLARED PDATA_FAIL_ERASE PDATA_BAD_DECL
cat >crm.yaml <<YAML
database: $dir/crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [$plugins]
YAML
crm() { "$CRM" "$@"; }
# occurrences of each of the person's identifiers in a file (0 0 0 0 0 when clean)
traces() { for s in Hortense Vandermeer hortense.v@example.org 612345678 Hortie; do
    printf '%s ' "$(grep -c -a -i -- "$s" "$1")"; done; }

assert_exit 0 crm init

# ---- an undeclared contact table refuses the plugin ------------------------------------
PDATA_UNDECLARED=1 assert_exit 1 crm contact list
assert_contains "$ERR" "plugin 'pdata'" "names the plugin"
assert_contains "$ERR" "pdata_notes has a contact_id column" "names the table"
assert_contains "$ERR" "declare_personal_data" "says what to do"
PDATA_BAD_DECL=contacts assert_exit 1 crm contact list
assert_contains "$ERR" "'contacts' is not one of the plugin's tables" "only its own tables"
PDATA_BAD_DECL=pdata_missing assert_exit 1 crm contact list
assert_contains "$ERR" "pdata_missing.contact_id, which its migrations do not create"

# ---- a person with something everywhere ---------------------------------------------
assert_exit 0 crm contact add --first-name Hortense --last-name Vandermeer \
    --email hortense.v@example.org --phone "06 12 34 56 78" --city Lyon --tag vip
id=$OUT
assert_exit 0 crm contact add --first-name Bob --last-name Other --email bob@example.org
other=$OUT
assert_exit 0 crm consent grant --contact "$id" --channel email --purpose newsletter \
    --at 2026-01-05T10:00:00Z
assert_exit 0 crm consent withdraw --contact "$id" --channel email --purpose newsletter \
    --at 2026-02-05T10:00:00Z
assert_exit 0 crm interaction log --contact "$id" --channel note --body "Hortense Vandermeer called"
assert_exit 0 crm order add --contact "$id" --total 12.50 --status paid --placed-at 2026-11-01
order=$OUT
assert_exit 0 crm order add --contact "$other" --total 30 --status paid --placed-at 2026-11-02
assert_exit 0 crm task add --subject "call Hortense back" --due 2026-12-10 --contact "$id"
assert_exit 0 crm pdata note "$id" "Hortense likes tea" hortense.v@example.org
assert_exit 0 crm pdata note "$other" "Bob likes coffee" bob@example.org
assert_exit 0 crm pdata nick "$id" Hortie
if [[ $plugins == segmentation* ]]; then
    assert_exit 0 crm rfm refresh
    assert_exit 0 crm churn refresh
    assert_eq 1 "$(sqlite3 crm.db "select count(*) from segmentation_rfm where contact_id=$id")" \
        "the person has an RFM score"
fi

# an import whose rejected rows name the person (and someone else)
printf 'first_name,last_name,email,birth_date\nHortense,Vandermeer,hortense.v@example.org,1990-13-45\nCarla,Third,carla@example.org,1990-13-45\n' \
    >people.csv
assert_exit 1 crm import contacts people.csv
assert_contains "$(cat people.rejects.csv)" "Hortense" "the reject file has the person's row"

# a plugin's pending timer about the person, and one about someone else
sqlite3 crm.db "insert into timers(owner, key, due_at, next_at, payload, created_at) values
    ('pdata', 'call:$id', 1, 1, '{\"contact_id\":$id}', 1),
    ('pdata', 'call:$other', 1, 1, '{\"contact_id\":$other}', 1)"

# ---- export-data ------------------------------------------------------------------------
assert_exit 0 crm contact export-data "$id" -o export.json
assert_eq 600 "$(stat -c %a export.json)" "the export is owner-only"
doc=$(cat export.json)
assert_eq hortense.v@example.org "$(json_get "$doc" contact.email)"
assert_eq 2 "$(json_get "$doc" consents | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
    "consent history (granted, withdrawn)"
assert_eq "Hortense Vandermeer called" "$(json_get "$doc" interactions.0.body)"
assert_eq "$order" "$(json_get "$doc" orders.0.id)"
assert_contains "$doc" '"subject": "call Hortense back"' "kernel task"
assert_contains "$doc" '"ref": "pdata:1"' "the plugin's task"
assert_eq customer "$(json_get "$doc" contact_history.0.to)" "contact_history"
assert_eq "Hortense likes tea" "$(json_get "$doc" plugins.pdata.tables.pdata_notes.0.note)" \
    "the plugin's declared table"
assert_eq '["Hortie"]' "$(json_get "$doc" plugins.pdata.data.nicknames)" "the plugin's export callback"
assert_not_contains "$doc" "Bob likes coffee" "another person's rows"
assert_contains "$doc" '"type": "pdata.noted"' "events naming the person"
if [[ $plugins == segmentation* ]]; then
    assert_eq "$id" "$(json_get "$doc" plugins.segmentation.tables.segmentation_rfm.0.contact_id)" \
        "segmentation's part"
fi
assert_exit 0 crm contact export-data hortense.v@example.org
assert_eq "$id" "$(json_get "$OUT" contact.id)" "export to stdout, by email"
assert_exit 1 crm contact export-data 999
assert_exit 2 crm contact export-data "$id" -x out

# ---- a failing plugin erasure undoes everything -------------------------------------
cp crm.db before.db
before=$(sqlite3 crm.db .dump | md5sum)
PDATA_FAIL_ERASE=1 assert_exit 1 crm contact erase "$id" --reason "asked by email"
assert_contains "$ERR" "profile store unavailable"
assert_eq "$before" "$(sqlite3 crm.db .dump | md5sum)" "nothing erased when a plugin fails"
assert_exit 2 crm contact erase "$id"
assert_contains "$ERR" "--reason"

# ---- the erasure ---------------------------------------------------------------------
assert_exit 0 crm contact erase "$id" --reason "asked by email" --as-of 2026-12-01T09:00:00Z --json
rec=$OUT
assert_eq "asked by email" "$(json_get "$rec" reason)"
assert_eq 1 "$(json_get "$rec" kept.orders)" "orders kept for accounting"
assert_eq anonymised "$(json_get "$rec" erased.contact)"
assert_eq 1 "$(json_get "$rec" erased.pdata_notes)"
assert_eq 1 "$(sqlite3 crm.db "select count(*) from erasures where contact_id=$id and reason='asked by email' and erased_at=$(date -u -d 2026-12-01T09:00:00Z +%s)")" \
    "the erasure record"
assert_exit 0 crm events tail --type contact.erased --json
assert_eq "$id" "$(json_get "$OUT" payload.contact_id)" "contact.erased"
assert_eq 1 "$(sqlite3 crm.db "select count(*) from orders where id=$order and contact_id=$id and total=1250")" \
    "the order stays, with its amount"
assert_eq "|||" "$(sqlite3 crm.db "select first_name, last_name, email, phone from contacts where id=$id")" \
    "the contact row is an empty shell"
assert_eq 0 "$(sqlite3 crm.db "select (select count(*) from pdata_notes where contact_id=$id) +
    (select count(*) from pdata_profile where contact_id=$id) +
    (select count(*) from tasks where contact_id=$id) + (select count(*) from consents where contact_id=$id) +
    (select count(*) from interactions where contact_id=$id) + (select count(*) from contact_tags where contact_id=$id)")" \
    "kernel and plugin rows gone"
if [[ $plugins == segmentation* ]]; then
    assert_eq 0 "$(sqlite3 crm.db "select (select count(*) from segmentation_rfm where contact_id=$id) +
        (select count(*) from segmentation_members where contact_id=$id) +
        (select count(*) from segmentation_churn where contact_id=$id)")" "derived data gone"
fi
assert_eq "pdata|call:$other" "$(sqlite3 crm.db "select owner, key from timers where owner='pdata'")" \
    "the person's timers are cancelled, others kept"
# the person's two tasks (kernel and pdata's) had overdue timers naming them
assert_eq 0 "$(sqlite3 crm.db "select count(*) from timers where key like 'task:%'
    and cast(substr(key, 6) as integer) not in (select id from tasks)")" "their task timers too"
assert_eq 3 "$(json_get "$rec" erased.timers)" "timers counted in the record"
assert_eq 1 "$(sqlite3 crm.db "select count(*) from pdata_notes where contact_id=$other")" \
    "other people untouched"
assert_exit 0 crm events tail --type pdata.noted --limit 0 --json
assert_not_contains "$OUT" "hortense" "event payloads scrubbed"
assert_contains "$OUT" "bob@example.org" "other people's events untouched"

assert_eq 1 "$(json_get "$rec" erased.reject_rows)" "one reject row removed"
assert_eq 0 "$(grep -c -i hortense people.rejects.csv)" "the person's reject row is gone"
assert_contains "$(cat people.rejects.csv)" "carla@example.org" "other rejected rows stay"
assert_eq "first_name,last_name,email,birth_date,line,reason" "$(head -1 people.rejects.csv)" "header kept"

# no trace in the file: right after the erasure (secure_delete, WAL checkpointed)...
assert_eq "0 0 0 0 0 " "$(traces crm.db)" "no trace in the database file"
assert_eq 0 "$(stat -c %s crm.db-wal 2>/dev/null || echo 0)" "the WAL holds nothing"
# ...and after VACUUM; the copy taken before the erasure had them (the check can fail)
sqlite3 crm.db VACUUM
assert_eq "0 0 0 0 0 " "$(traces crm.db)" "no trace after VACUUM"
sqlite3 before.db VACUUM
assert_not_contains "$(traces before.db)" "0 0 0 0 0" "the search finds them before"

assert_exit 1 crm contact erase "$id" --reason again
assert_contains "$ERR" "already erased (erasure 1)" "a second erasure is refused"
assert_exit 1 crm contact erase 999 --reason x
finish

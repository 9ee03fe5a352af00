# Shared setup of the journeys plugin's end-to-end tests (sourced, not a
# test itself: the CMake glob registers test_*.sh only).
set -u
. "$CRM_TEST_LIB"
plugin_test_dir journeys

# jr_sql SQL: prints the rows of one query on crm.db (python, no sqlite3 CLI).
jr_sql() {
    python3 -c '
import sqlite3, sys
for r in sqlite3.connect("crm.db").execute(sys.argv[1]).fetchall():
    print("|".join("" if v is None else str(v) for v in r))' "$1"
}

# jr_messages_config: the file channels every journeys test sends through.
jr_messages_config() {
    cat <<YAML
messages:
  templates: $CRM_SOURCE_DIR/templates
  channels:
    email: {driver: file, dir: spool/email, from: "Boutique <bonjour@example.fr>"}
    sms: {driver: file, dir: spool/sms}
YAML
}

# jr_customer EMAIL PHONE: a contact with marketing consent on email and SMS;
# prints its id.
jr_customer() {
    local id
    id=$("$CRM" contact add --email "$1" --phone "$2" --first-name Client --as-of 2026-01-01T00:00:00Z)
    "$CRM" consent grant --contact "$id" --channel email --purpose marketing --at 2026-01-01T00:00:00Z >/dev/null
    "$CRM" consent grant --contact "$id" --channel sms --purpose marketing --at 2026-01-01T00:00:00Z >/dev/null
    echo "$id"
}

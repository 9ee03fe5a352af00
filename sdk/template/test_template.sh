#!/bin/sh
# The template's own test: load it into crm with a fresh database and check
# the handler, the command and the table. Usage: test_template.sh CRM PLUGIN_DIR
set -eu
CRM=$1
export CRM_PLUGIN_PATH=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/crm.yaml" <<YAML
database: $dir/crm.db
plugins: [hello]
hello:
  greeting: Hello
YAML
export CRM_CONFIG=$dir/crm.yaml
"$CRM" init >/dev/null
"$CRM" contact add --first-name Ada --last-name Lovelace --email ada@example.org >/dev/null
"$CRM" hello greetings | grep -q "Hello" || { echo "no greeting row" >&2; exit 1; }
echo "hello: ok"

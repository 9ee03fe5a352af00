# Shared setup of the pipeline plugin's end-to-end tests (sourced, not a
# test itself: the CMake glob registers test_*.sh only). Gives each test its
# own scratch directory and the configuration most of them use.
set -u
. "$CRM_TEST_LIB"
plugin_test_dir pipeline

# pl_good_config: writes the b2b pipeline config (crm.db) and runs crm init.
pl_good_config() {
    cat >crm.yaml <<'YAML'
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [pipeline]
pipeline:
  pipelines:
    - name: b2b
      currency: EUR
      stages:
        - {name: qualification, probability: 10, category: pipeline, rot_after: 14d}
        - {name: proposal,      probability: 40, category: best_case, rot_after: 10d}
        - {name: negotiation,   probability: 70, category: commit,   rot_after: 7d}
        - {name: won,  probability: 100, won: true}
        - {name: lost, probability: 0,   lost: true}
  lost_reasons: [price, competitor, no_budget]
YAML
    assert_exit 0 "$CRM" init --quiet
}

# pl_sql SQL: prints the rows of one query on crm.db (python, no sqlite3 CLI).
pl_sql() {
    python3 -c '
import sqlite3, sys
for r in sqlite3.connect("crm.db").execute(sys.argv[1]).fetchall():
    print("|".join("" if v is None else str(v) for v in r))' "$1"
}

# pl_fields JSON PATH...: sets the array F to the values at each dotted PATH
# (as json_get prints them), in one python run: the sanitizer build makes
# every process start count.
pl_fields() {
    local j=$1
    shift
    mapfile -t F < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
for path in sys.argv[2:]:
    v = d
    try:
        for part in path.split("."):
            v = v[int(part)] if isinstance(v, list) else v[part]
    except (KeyError, IndexError, ValueError):
        print("<missing>"); continue
    print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
' "$j" "$@")
}

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

# pl_quote_config: the quote tests' instance -- the shipped templates, a file
# email channel, one pipeline; Ann (with an email) and a contact without
# one; deal 1 with Ann (owner alice), deal 2 with the other. T0 is a Monday.
pl_quote_config() {
    cp -r "$CRM_SOURCE_DIR/templates" templates
    cat >crm.yaml <<'YAML'
database: crm.db
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
plugins: [pipeline]
messages:
  channels:
    email: {driver: file, dir: spool/email, from: "Ventes <ventes@example.fr>"}
pipeline:
  pipelines:
    - name: b2b
      currency: EUR
      stages:
        - {name: qualification, probability: 10, category: pipeline}
        - {name: proposal,      probability: 40, category: best_case}
        - {name: won,  probability: 100, won: true}
        - {name: lost, probability: 0,   lost: true}
  lost_reasons: [price]
  quotes: {valid_for: 30d, follow_up_after: 7bd, default_vat: 20}
YAML
    assert_exit 0 "$CRM" init --quiet
    "$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
    "$CRM" contact add --last-name Sansadresse >/dev/null
    T0=2026-03-02T09:00:00Z # a Monday
    "$CRM" --as-of $T0 deal add --title Big --contact 1 --amount 1000 --owner alice >/dev/null
    "$CRM" --as-of $T0 deal add --title Small --contact 2 --amount 10 >/dev/null
}

# pl_quote_expect DISCOUNT LINE...: the quote's figures as python computes them
# (Fraction arithmetic, half away from zero), as one JSON line.
pl_quote_expect() {
    python3 - "$@" <<'PY'
import json, sys
from fractions import Fraction as Fr
def rnd(x):  # half away from zero, to an integer
    n = abs(x); q = int(n); q += 1 if n - q >= Fr(1, 2) else 0
    return q if x >= 0 else -q
def dec(t): return Fr(t)
disc = dec(sys.argv[1]); lines = []; rates = {}
for spec in sys.argv[2:]:
    p = spec.split(":"); vat = dec(p[3]) if len(p) > 3 else Fr(20)
    net = rnd(int(p[1]) * dec(p[2]) * 100 * (100 - disc) / 100)
    lines.append(net); rates[vat] = rates.get(vat, 0) + net
vat = {r: rnd(n * r / 100) for r, n in rates.items()}
def rt(r): return str(r.numerator) if r.denominator == 1 else str(float(r))
net = sum(lines); v = sum(vat.values())
print(json.dumps({"lines": lines, "net": net, "vat": v, "gross": net + v,
                  "rates": [[rt(r), rates[r], vat[r]] for r in sorted(rates)]}))
PY
}
# pl_quote_got JSON: the same shape from `crm quote show --json`
pl_quote_got() {
    python3 -c '
import json, sys
q = json.loads(sys.argv[1])
print(json.dumps({"lines": [l["net"] for l in q["lines"]], "net": q["net"], "vat": q["vat"],
                  "gross": q["gross"],
                  "rates": [[r["rate"], r["net"], r["vat"]] for r in q["vat_by_rate"]]}))' "$1"
}


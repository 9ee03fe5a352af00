#!/usr/bin/env bash
# End to end: `crm demo` into a fresh database (summary, refusals counted,
# determinism, refusal to overwrite) and `crm demo --csv` (headers, row
# counts, consistency, no database needed).
set -euo pipefail
: "${CRM:?CRM must point at the crm binary}"
# shellcheck source=lib.sh
. "${CRM_TEST_LIB:-$(dirname "$0")/lib.sh}"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
printf 'database: demo.db\n' >crm.yaml

SMALL=(--contacts 300 --orders 2000 --seed 7)
crm_asof() { "$CRM" --as-of 2026-01-01 "$@"; }

# py CODE ARGS...: a python3 check; prints what it prints.
py() { python3 -c "$@"; }

# ---- into a database -------------------------------------------------------------
assert_exit 0 crm_asof --json demo "${SMALL[@]}"
summary=$OUT
assert_eq 300 "$(py 'import json,sys; s=json.loads(sys.argv[1]); print(s["contacts"]+s["refused"])' "$summary")" \
    "stored + refused contacts"
assert_eq 2000 "$(json_get "$summary" orders)" "orders stored"
assert_eq 0 "$(json_get "$summary" orders_skipped)" "orders skipped"
assert_eq 45 "$(json_get "$summary" companies)" "companies"
assert_eq 7 "$(json_get "$summary" users)" "agents"
assert_eq ok "$(py '
import json,sys
s=json.loads(sys.argv[1]); r=s["refused_by_reason"]
ok = s["refused"] > 0 and sum(r.values()) == s["refused"] and s["normalised"] > 0 \
     and s["interactions"] > 0 and s["consents"] > 0 and any(k.startswith("duplicate") for k in r) \
     and any(k.startswith("invalid") for k in r)
print("ok" if ok else s)' "$summary")" "dirty rows normalised and refused rows counted by reason"
assert_eq 2026-01-01T00:00:00Z "$(json_get "$summary" as_of)" "as_of"

run crm_asof demo "${SMALL[@]}" --force
assert_eq 0 "$RC" "human summary exit"
assert_contains "$OUT" "refused" "human summary"
assert_contains "$OUT" "elapsed" "human summary"

assert_exit 0 "$CRM" contact list --json --limit 5
assert_eq 5 "$(line_count "$OUT")" "contact list --limit 5"
if json_lines_valid "$OUT"; then pass; else fail "contact list is not JSON lines: $OUT"; fi

# What was stored matches the summary, normalised (lower-case emails, E.164).
assert_eq ok "$(py '
import json, sqlite3, sys
s = json.loads(sys.argv[1]); db = sqlite3.connect("demo.db")
one = lambda q: db.execute(q).fetchone()[0]
checks = {
  "contacts": one("select count(*) from contacts") == s["contacts"],
  # the generated orders, plus one per recovered cart, each naming its cart
  "orders": one("select count(*) from orders") == s["orders"] + s["carts_recovered"],
  "carts": one("select count(*) from carts") == s["carts"] and s["carts"] > 0,
  "abandoned": one("select count(*) from carts where abandoned_at is not null") == s["carts_abandoned"],
  "recovered": one("select count(*) from carts c join orders o on o.id=c.order_id"
                   " where c.status=\"converted\" and o.contact_id=c.contact_id"
                   " and o.total=c.value") == s["carts_recovered"] and s["carts_recovered"] > 0,
  "revenue": "%d.%02d" % divmod(one("select coalesce(sum(total),0) from orders where status=\"paid\""
                             " and id not in (select order_id from carts where order_id is not null)"), 100) == s["revenue"],
  "emails": one("select count(*) from contacts where email <> lower(trim(email))") == 0,
  "phones": one("select count(*) from contacts where phone is not null and phone not like \"+%\"") == 0,
  "accents": one("select count(*) from contacts where first_name like \"%é%\"") > 0,
  "lines": one("select count(*) from orders o where total <> (select sum(quantity*unit_price) from order_lines l where l.order_id=o.id)") == 0,
  "buyers": one("select count(distinct contact_id) from orders") > 50,
}
bad = [k for k, v in checks.items() if not v]
print("ok" if not bad else bad)' "$summary")" "database content"

# Same seed and --as-of: identical data.
"$CRM" contact list --json --limit 0 >"$dir/list1"
assert_exit 0 crm_asof demo "${SMALL[@]}" --force
"$CRM" contact list --json --limit 0 >"$dir/list2"
if cmp -s "$dir/list1" "$dir/list2"; then pass; else fail "two runs with seed 7 differ"; fi
assert_eq "$(json_get "$summary" contacts)" "$(line_count "$(cat "$dir/list1")")" "listed contacts"
assert_exit 0 crm_asof demo --contacts 300 --orders 2000 --seed 8 --force
"$CRM" contact list --json --limit 0 >"$dir/list3"
if cmp -s "$dir/list1" "$dir/list3"; then fail "seeds 7 and 8 gave the same data"; else pass; fi

# An existing database is never overwritten without --force.
assert_exit 1 crm_asof demo "${SMALL[@]}"
assert_contains "$ERR" "--force" "refusal says what to do"
assert_exit 0 "$CRM" contact list --json --limit 0
assert_eq "$(line_count "$(cat "$dir/list3")")" "$(line_count "$OUT")" "database left as it was"

assert_exit 2 crm_asof demo --contacts -1 --force
assert_exit 0 "$CRM" demo --help

# ---- CSV: no database involved ---------------------------------------------------
mkdir nodb && cd nodb
assert_exit 0 env CRM_DB="$dir/nodb/never.db" "$CRM" --as-of 2026-01-01 --json demo "${SMALL[@]}" \
    --csv out
csv_summary=$OUT
if [ -e never.db ]; then fail "--csv created a database"; else pass; fi
assert_eq ok "$(py '
import csv, json, sys
s = json.loads(sys.argv[1])
headers = {
  "contacts": "external_id,first_name,last_name,email,phone,company,street,postal_code,city,country,birth_date,source,tags",
  "orders": "external_id,contact_external_id,placed_at,total,currency,status",
  "order_lines": "order_external_id,sku,quantity,unit_price",
  "companies": "external_id,name,domain,phone,street,postal_code,city,country",
  "interactions": "external_id,contact_external_id,channel,direction,subject,body,occurred_at",
}
rows, bad = {}, []
for name, header in headers.items():
    with open("out/%s.csv" % name, newline="", encoding="utf-8") as f:
        r = list(csv.reader(f))
    if ",".join(r[0]) != header: bad.append(name + " header")
    if any(len(x) != len(r[0]) for x in r): bad.append(name + " width")
    rows[name] = [dict(zip(r[0], x)) for x in r[1:]]
want = {"contacts": 300, "orders": 2000, "companies": 45,
        "order_lines": s["order_lines"], "interactions": s["interactions"]}
bad += ["%s count %d" % (k, len(rows[k])) for k, n in want.items() if len(rows[k]) != n]
ids = {c["external_id"] for c in rows["contacts"]}
if rows["contacts"][0]["external_id"] != "C0000001": bad.append("contact id")
if rows["orders"][0]["external_id"] != "O00000001": bad.append("order id")
if any(o["contact_external_id"] not in ids for o in rows["orders"]): bad.append("order contact")
if any(not o["placed_at"].endswith("Z") or "." not in o["total"] for o in rows["orders"]): bad.append("order format")
cents = lambda v: int(v.replace(".", ""))
sums = {}
for l in rows["order_lines"]:
    sums[l["order_external_id"]] = sums.get(l["order_external_id"], 0) + int(l["quantity"]) * cents(l["unit_price"])
if any(sums[o["external_id"]] != cents(o["total"]) for o in rows["orders"]): bad.append("totals")
if not any("|" in c["tags"] for c in rows["contacts"]): bad.append("tags")
if not any("\n" in i["body"] or "," in i["body"] for i in rows["interactions"]): bad.append("quoting")
print("ok" if not bad else bad)' "$csv_summary")" "CSV files"

# The CSV holds the same data set as the database (seed 7 stored again).
cd "$dir"
assert_exit 0 crm_asof demo "${SMALL[@]}" --force
assert_eq ok "$(py '
import csv, sqlite3
db = sqlite3.connect("demo.db")
stored = dict(db.execute("select external_id, email from contacts"))
rows = {r["external_id"]: r for r in csv.DictReader(open("nodb/out/contacts.csv", encoding="utf-8"))}
bad = [k for k, e in stored.items() if (e or "") != rows[k]["email"].strip().lower()]
print("ok" if not bad else bad[:5])')" "CSV and database hold the same contacts"

cd nodb
assert_exit 0 "$CRM" --as-of 2026-01-01 demo "${SMALL[@]}" --csv out2
for f in contacts orders order_lines companies interactions; do
    if cmp -s "out/$f.csv" "out2/$f.csv"; then pass; else fail "$f.csv differs between runs"; fi
done

finish

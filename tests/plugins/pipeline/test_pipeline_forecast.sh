#!/usr/bin/env bash
# The forecast by each grouping (owner, stage, category, month) against a
# python computation over the database, the foreign-currency deal reported
# apart, won amount in the period, the commit column with a category
# override, and the board's columns.
. "$(dirname "$0")/pl_common.sh"
pl_good_config
"$CRM" contact add --email ann@example.com --first-name Ann >/dev/null
"$CRM" contact add --email bob@example.com --first-name Bob >/dev/null
# deal 1: an open proposal whose category is overridden to commit
"$CRM" --as-of 2026-01-05T09:00:00Z deal add --title Big --contact 1 --amount 2001.01 \
    --close-date 2026-03-01 --owner bruno --stage proposal >/dev/null
assert_exit 0 "$CRM" --as-of 2026-01-16T09:00:00Z deal update 1 --category commit
# ---- forecast ------------------------------------------------------------------------
T=2026-01-20T09:00:00Z
"$CRM" --as-of $T deal add --title A --contact 2 --amount 1000.00 --close-date 2026-02-15 --owner alice >/dev/null
"$CRM" --as-of $T deal add --title B --contact 2 --amount 333.33 --close-date 2026-03-15 --owner bruno --stage negotiation >/dev/null
"$CRM" --as-of $T deal add --title C --contact 2 --amount 250.05 --close-date 2026-03-20 --owner alice --stage proposal --probability 15 >/dev/null
"$CRM" --as-of $T deal add --title USD --contact 2 --amount 500.00 --currency USD --close-date 2026-02-20 --owner alice >/dev/null
"$CRM" --as-of $T deal add --title Later --contact 2 --amount 9999.00 --close-date 2026-06-20 >/dev/null
"$CRM" --as-of $T deal add --title Won --contact 2 --amount 700.00 --close-date 2026-02-01 >/dev/null
"$CRM" --as-of 2026-02-02T09:00:00Z deal win 7 >/dev/null
python3 - >expected.json <<'PY'
import json, sqlite3
db = sqlite3.connect("crm.db")
prob = {"qualification": 10, "proposal": 40, "negotiation": 70}
cat = {"qualification": "pipeline", "proposal": "best_case", "negotiation": "commit"}
rows = db.execute("select id, stage, amount, currency, probability, category, close_date, owner"
                  " from pipeline_deals where status='open' and close_date between '2026-01-01' and '2026-03-31'").fetchall()
def rnd(n):  # half away from zero, n/100
    q, r = divmod(abs(n), 100)
    return (q + (r >= 50)) * (1 if n >= 0 else -1)
out = {}
for by in ["owner", "stage", "category", "month"]:
    g = {}
    for i, st, amt, cur, p, c, cd, own in rows:
        if cur != "EUR":
            continue
        c = c or cat[st]
        key = {"owner": own or "(none)", "stage": st, "category": c, "month": cd[:7]}[by]
        b = g.setdefault(key, [0, 0, 0])
        b[0] += 1; b[1] += amt; b[2] += rnd(amt * (p if p is not None else prob[st]))
    out[by] = {k: v for k, v in sorted(g.items())}
out["total"] = [sum(v[i] for v in out["owner"].values()) for i in range(3)]
out["foreign"] = [[cur, amt] for i, st, amt, cur, *_ in rows if cur != "EUR"]
print(json.dumps(out, sort_keys=True))
PY
for by in owner stage category month; do
    run "$CRM" --json --as-of 2026-02-03T09:00:00Z pipeline forecast --from 2026-01-01 --to 2026-03-31 --by $by
    got=$(python3 -c '
import json, sys
f = json.loads(sys.argv[1])
print(json.dumps({g["group"]: [g["count"], g["amount"], g["weighted"]] for g in sorted(f["groups"], key=lambda g: g["group"])}, sort_keys=True))' "$OUT")
    want=$(python3 -c 'import json,sys; print(json.dumps(json.load(open("expected.json"))[sys.argv[1]], sort_keys=True))' $by)
    assert_eq "$want" "$got" "forecast by $by"
done
assert_eq "$(python3 -c 'import json; print(json.load(open("expected.json"))["total"])')" \
    "$(python3 -c 'import json,sys; t=json.loads(sys.argv[1])["total"]; print([t["count"], t["amount"], t["weighted"]])' "$OUT")" \
    "forecast total excludes the foreign deal"
assert_eq '[["USD", 50000]]' \
    "$(python3 -c 'import json,sys; print(json.dumps([[g["currency"], g["amount"]] for g in json.loads(sys.argv[1])["foreign"]]))' "$OUT")" \
    "the USD deal is reported apart"
assert_eq 70000 "$(json_get "$OUT" won_amount)" "won in the period"
run "$CRM" --json --as-of 2026-02-03T09:00:00Z pipeline forecast --from 2026-01-01 --to 2026-03-31
want=$(python3 -c '
import sqlite3
db = sqlite3.connect("crm.db")
print(db.execute("select sum(amount) from pipeline_deals where status=\"open\" and currency=\"EUR\""
                 " and close_date between \"2026-01-01\" and \"2026-03-31\""
                 " and coalesce(category, case stage when \"negotiation\" then \"commit\" end) = \"commit\"").fetchone()[0])')
assert_eq "$want" "$(json_get "$OUT" total.commit)" "commit column: negotiation and the override"
assert_exit 2 "$CRM" pipeline forecast --from 2026-01-01 --to 2026-03-31 --by colour

# ---- board --------------------------------------------------------------------------
want=$(python3 -c '
import json, sqlite3
db = sqlite3.connect("crm.db")
cols = []
for st in ["qualification", "proposal", "negotiation", "won", "lost"]:
    n, s = db.execute("select count(*), coalesce(sum(amount), 0) from pipeline_deals where stage=? and currency=\"EUR\"", (st,)).fetchone()
    cols.append([st, n, s])
print(json.dumps(cols, separators=(",", ":")))')
run "$CRM" --json pipeline board
assert_eq "$want" \
    "$(python3 -c 'import json,sys; print(json.dumps([[c["stage"],c["count"],c["amount"]] for c in json.loads(sys.argv[1])["columns"]], separators=(",",":")))' "$OUT")" \
    "board columns (EUR deals)"

# The board reads running totals kept by triggers: after every kind of write
# they equal the deals summed afresh.
totals_match() {
    local fresh kept
    fresh=$(pl_sql "SELECT pipeline, stage, currency, status, count(*), sum(amount), sum(stalled)
                    FROM pipeline_deals GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")
    kept=$(pl_sql "SELECT pipeline, stage, currency, status, deals, amount, stalled
                   FROM pipeline_board_totals WHERE deals > 0 ORDER BY 1, 2, 3, 4")
    assert_eq "$fresh" "$kept" "board totals after $1"
}
totals_match "the deals above"
assert_exit 0 "$CRM" deal update 2 --amount 1234.56
totals_match "an amount change"
assert_exit 0 "$CRM" deal move 2 negotiation
totals_match "a move"
assert_exit 0 "$CRM" deal lose 2 --reason price
totals_match "a loss"
assert_exit 0 "$CRM" deal reopen 2
totals_match "a reopening"
assert_exit 0 "$CRM" contact erase 1 --reason "asked by the person"
totals_match "an erasure (deal 1 deleted)"
assert_eq 0 "$(pl_sql 'SELECT count(*) FROM pipeline_deals WHERE contact_id = 1')" "erased deals gone"

finish

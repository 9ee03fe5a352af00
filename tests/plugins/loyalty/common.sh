# Shared by the loyalty CLI tests: a fresh instance in a temporary directory
# with the loyalty plugin and the issue's example program (overridable
# pieces as variables), helpers reading a balance field and counting rows.
set -u
. "$CRM_TEST_LIB"
plugin_test_dir loyalty

CLAWBACK=${CLAWBACK:-negative_balance}
WINDOW=${WINDOW:-rolling_12_months}
DOWNGRADE=${DOWNGRADE:-one_down}
QUALIFY=${QUALIFY:-spent}

# write_config: crm.yaml with the example program of issue 16
write_config() {
    cat >crm.yaml <<YAML
database: crm.db
plugins: [loyalty]
locale: {country: FR, currency: EUR, timezone: Europe/Paris}
loyalty:
  programs:
    - name: club
      point: {name: points, value: "0.01 EUR"}
      earn:
        - {on: order.paid, per: "1.00 EUR", points: 1}
      pending: 14d
      expire_after: 365d
      warn_before: 30d
      clawback: $CLAWBACK
      tiers:
        qualify_on: $QUALIFY
        window: $WINDOW
        grace: 30d
        downgrade: $DOWNGRADE
        levels:
          - {name: bronze, min: "0 EUR"}
          - {name: silver, min: "500 EUR", multiplier: 1.25}
          - {name: gold, min: "1500 EUR", multiplier: 1.5}
      vip_club: {top_percent: 20, window: rolling_12_months}
      rewards:
        - {name: bon10, kind: voucher, cost: 1000, value: "10.00 EUR", valid_for: 90d}
        - {name: atelier, kind: experience, cost: 500, stock: 2, tiers: [gold], vip: true}
        - {name: foret, kind: donation, cost: 100, value: "1.00 EUR", cause: Reforestation}
        - {name: ocean, kind: donation, cost: 200, value: "2.00 EUR", cause: Oceans}
        - {name: guide, kind: education, cost: 50, limit: 1}
        - {name: port, kind: free_shipping, cost: 80}
        - {name: mug, kind: free_product, cost: 150, sku: MUG-1}
      referral: {referrer_points: 200, referee_points: 100, max_per_week: ${MAX_PER_WEEK:-5}}
YAML
}

# day N: ISO time N days after 2026-01-05T10:00:00Z (the scenarios' day 0)
day() {
    python3 -c 'import sys,datetime; t=datetime.datetime(2026,1,5,10)+datetime.timedelta(days=float(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"
}

# bal DAY CONTACT FIELD: one field of `crm loyalty balance --json`
bal() {
    json_get "$("$CRM" --as-of "$(day "$1")" --json loyalty balance "$2")" "$3"
}

# sql QUERY: one value from the database (read-only, independent of the plugin)
sql() {
    python3 -c 'import sqlite3,sys; r=sqlite3.connect("crm.db").execute(sys.argv[1]).fetchone(); print("" if r is None or r[0] is None else r[0])' "$1"
}

# check: `crm loyalty check` holds (run after every scenario)
check() {
    assert_exit 0 "$CRM" loyalty check
    assert_contains "$OUT" "ledger ok" "loyalty check ${1:-}"
}

# contact EXT [EMAIL] [PHONE]: adds a contact, prints nothing
contact() {
    "$CRM" contact add --external-id "$1" --email "${2:-$1@example.com}" ${3:+--phone "$3"} >/dev/null
}

# order DAY EXT TOTAL [STATUS] [more order add options]: prints the order id
order() {
    local d=$1 ext=$2 total=$3 status=${4:-paid}
    shift 4 2>/dev/null || shift $#
    "$CRM" --as-of "$(day "$d")" order add --contact "ext:$ext" --total "$total" \
        --status "$status" --placed-at "$(day "$d")" "$@"
}

tick() {
    "$CRM" --as-of "$(day "$1")" tick >/dev/null
}

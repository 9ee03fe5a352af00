// The analyst's engine as bench_rfm.sh's baseline: DuckDB loads the orders
// (a CSV the sqlite3 shell exported) and computes the same RFM as ref.sql,
// then writes the scores for the bench to compare with crm's.
//   node rfm_duckdb.mjs ORDERS_CSV AS_OF_EPOCH OUT_CSV
// prints "LOAD_SECONDS COMPUTE_SECONDS"
import { DuckDBInstance } from '@duckdb/node-api';

const [ordersCsv, asOf, outCsv] = process.argv.slice(2);
const T = Number(asOf);
if (!ordersCsv || !Number.isInteger(T) || !outCsv) {
  console.error('usage: node rfm_duckdb.mjs ORDERS_CSV AS_OF_EPOCH OUT_CSV');
  process.exit(2);
}
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const secs = () => Number(process.hrtime.bigint()) / 1e9;

let t0 = secs();
await con.run(`CREATE TABLE orders AS SELECT * FROM read_csv(${quote(ordersCsv)}, header = true,
  columns = {'contact_id': 'BIGINT', 'placed_at': 'BIGINT', 'total': 'BIGINT',
             'currency': 'VARCHAR', 'status': 'VARCHAR'})`);
const load = secs() - t0;

t0 = secs();
await con.run(`CREATE TABLE ref AS
WITH q AS (SELECT contact_id, placed_at, total FROM orders
           WHERE status IN ('placed','paid') AND placed_at < ${T} AND placed_at >= ${T} - 365 * 86400
             AND currency = 'EUR'),
     a AS (SELECT contact_id, (${T} - max(placed_at)) // 86400 AS rd, count(*) AS fr,
                  sum(total) AS mo FROM q GROUP BY contact_id),
     n AS (SELECT count(*) AS n FROM a),
     s AS (SELECT contact_id, rd, fr, mo,
                  1 + (5 * (rank() OVER (ORDER BY rd DESC) - 1)) // n AS r,
                  1 + (5 * (rank() OVER (ORDER BY fr) - 1)) // n AS f,
                  1 + (5 * (rank() OVER (ORDER BY mo) - 1)) // n AS m
           FROM a, n)
SELECT contact_id, rd, fr, mo, r, f, m,
       CASE WHEN r = 5 AND f >= 4 THEN 'champions'
            WHEN r BETWEEN 3 AND 4 AND f >= 4 THEN 'loyal'
            WHEN r >= 4 AND f BETWEEN 2 AND 3 THEN 'potential_loyalists'
            WHEN r = 5 AND f = 1 THEN 'new'
            WHEN r = 4 AND f = 1 THEN 'promising'
            WHEN r = 3 AND f = 3 THEN 'need_attention'
            WHEN r = 3 AND f <= 2 THEN 'about_to_sleep'
            WHEN r <= 2 AND f BETWEEN 3 AND 4 THEN 'at_risk'
            WHEN r <= 2 AND f = 5 THEN 'cant_lose_them'
            WHEN r <= 2 AND f <= 2 THEN 'hibernating' END AS segment
FROM s`);
const compute = secs() - t0;

await con.run(`COPY (SELECT * FROM ref ORDER BY contact_id) TO ${quote(outCsv)} (HEADER)`);
console.log(`${load.toFixed(3)} ${compute.toFixed(3)}`);

#!/usr/bin/env python3
"""events_contact_id (kernel migration 18): what it costs per event written and
what it saves the journeys goal check. Run: python3 tests/bench/bench_events_index.py"""
# Insert cost: N event rows as the kernel writes them, with and without the index, alternating.
import sqlite3, time, sys, random
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
def run(with_index):
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE events(id INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, source TEXT NOT NULL, depth INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, contact_id INTEGER)")
    c.execute("CREATE INDEX events_contact ON events(contact_id, created_at) WHERE contact_id IS NOT NULL AND source <> 'kernel'")
    if with_index:
        c.execute("CREATE INDEX events_contact_id ON events(contact_id, id) WHERE contact_id IS NOT NULL")
    rnd = random.Random(1)
    rows = [("order.placed", '{"contact_id":%d,"order_id":%d,"total":4990}' % (k, i), "kernel", 0, 1700000000 + i, k)
            for i in range(N) for k in [rnd.randrange(1, 100000)]]
    t = time.perf_counter()
    c.execute("BEGIN")
    c.executemany("INSERT INTO events(type,payload,source,depth,created_at,contact_id) VALUES(?,?,?,?,?,?)", rows)
    c.execute("COMMIT")
    return time.perf_counter() - t
res = {False: [], True: []}
for _ in range(3):
    for w in (False, True):
        res[w].append(run(w))
a, b = min(res[False]), min(res[True])
print(f"{N} events: without index {N/a:,.0f}/s, with events_contact_id {N/b:,.0f}/s, ratio {b/a:.2f}x time")


c = sqlite3.connect(":memory:")
c.execute("CREATE TABLE events(id INTEGER PRIMARY KEY, type TEXT, payload TEXT, source TEXT, created_at INTEGER, contact_id INTEGER)")
rnd = random.Random(1)
c.execute("BEGIN")
c.executemany("INSERT INTO events(type,payload,source,created_at,contact_id) VALUES(?,?,?,?,?)",
    (("order.placed", '{"contact_id":%d,"order_id":%d}' % (k, i), "kernel", i, k) for i in range(1000000) for k in [rnd.randrange(1, 100000)]))
c.execute("COMMIT")
c.execute("CREATE INDEX events_contact_id ON events(contact_id, id) WHERE contact_id IS NOT NULL")
def t(sql, reps):
    s = time.perf_counter()
    for i in range(reps):
        c.execute(sql, (500000, 1 + i % 99999)).fetchall()
    return (time.perf_counter() - s) / reps
old = t("SELECT type FROM events WHERE id > ?1 AND json_extract(payload, '$.contact_id') = ?2 ORDER BY id", 5)
new = t("SELECT type FROM events WHERE contact_id = ?2 AND id > ?1 ORDER BY id", 2000)
print(f"goal check, trigger at event 500k of 1M: old {old*1e3:.1f} ms, indexed {new*1e6:.1f} us, {old/new:,.0f}x faster")

#!/usr/bin/env python3
"""Write load on a running `crm serve`, then kill -9 it mid-load (test_serve_kill.sh).

Usage: serve_kill.py URL TOKEN PID OUT. THREADS client threads POST contacts
and /v1/track page views (each with a unique shop id) as fast as the server
answers; once AFTER acknowledgements are in, SIGKILL goes to PID while the
threads keep writing. Every acknowledged write (201 contact with its id, 200
"stored" track result with its contact) is written to OUT as JSON lines
{"kind", "id", "email"|"key"}. Exits 1 when the load never reached the kill
or when a write was refused (anything but a 2xx or a dropped connection).
"""
import http.client
import json
import os
import signal
import sys
import threading
import urllib.parse

URL, TOKEN, PID, OUT = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
HOST, PORT = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
THREADS, AFTER = 4, 300
acked, lock, killed = [], threading.Lock(), threading.Event()
after_kill = [0]  # acknowledgements that arrived after the kill was sent
errors = []


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body),
                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def client(n):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=10)  # keep-alive
    i = 0
    while True:
        i += 1
        email = f"k{n}-{i}@example.com"
        try:
            if i % 2:
                st, body = post(conn, "/v1/contacts", {"email": email})
                ok = st == 201
                rec = {"kind": "contact", "id": body["id"], "email": email} if ok else None
            else:
                key = f"pv-{n}-{i}"
                st, body = post(conn, "/v1/track", {"type": "page.viewed", "email": email,
                                                    "url": "/p", "id": key})
                ok = st == 200 and body["status"] == "stored"
                rec = {"kind": "track", "id": body["contact_id"], "key": "id:" + key} if ok else None
        except (OSError, http.client.HTTPException, ValueError):
            if killed.is_set():
                return  # the server is gone: this request may or may not have committed
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
            continue
        if not ok:
            errors.append(f"{email}: {st} {body}")
            return
        with lock:
            acked.append(rec)
            if killed.is_set():
                after_kill[0] += 1
            elif len(acked) >= AFTER:
                os.kill(PID, signal.SIGKILL)
                killed.set()


threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(OUT, "w") as f:
    for rec in acked:
        f.write(json.dumps(rec) + "\n")
print(f"{len(acked)} writes acknowledged, {after_kill[0]} of them racing the kill")
for e in errors:
    print(f"FAIL: refused write {e}", file=sys.stderr)
sys.exit(1 if errors or not killed.is_set() else 0)

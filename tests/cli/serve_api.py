#!/usr/bin/env python3
"""The HTTP half of test_serve.sh: drives a running `crm serve`.

Usage: serve_api.py URL DIR CRM CONFIG (DIR holds token.<name> files).
Each check prints FAIL with the reason; the exit status is the failure count.
"""
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

URL, DIR, CRM, CONFIG = sys.argv[1:5]
HOST, PORT = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
ROLES = ["admin", "manager", "agent", "viewer", "integration"]
TOKENS = {name: open(f"{DIR}/token.{name}").read().strip()
          for name in ROLES + ["spare", "expired"]}
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def call(method, path, body=None, token="admin", headers=None, raw=None):
    """(status, parsed JSON or None, response headers)."""
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + TOKENS.get(token, token)
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    text = r.read()
    conn.close()
    is_json = r.getheader("Content-Type", "").startswith("application/json")
    return r.status, (json.loads(text) if text and is_json else None), dict(r.getheaders())


def crm(*args):
    return subprocess.run([CRM, "--config", CONFIG, *args], capture_output=True, text=True)


# ---- fixtures through the API itself --------------------------------------
st, c1, _ = call("POST", "/v1/contacts", {"email": "Ann@Example.com", "first_name": "Ann",
                                           "tags": ["vip"]})
check(st == 201, f"create contact: {st} {c1}")
check(c1["email"] == "ann@example.com", f"email normalised like the CLI: {c1}")
cid = c1["id"]
st, co, _ = call("POST", "/v1/companies", {"name": "Acme"})
check(st == 201, f"create company: {st} {co}")
st, order, _ = call("POST", "/v1/orders", {"contact_id": cid, "currency": "EUR",
                                           "lines": [{"sku": "A1", "quantity": 2, "unit_price": 1250}]})
check(st == 201 and order["total_minor"] == 2500, f"order with lines, total from lines: {st} {order}")
st, task, _ = call("POST", "/v1/tasks", {"subject": "call back", "due_at": 1900000000,
                                         "contact_id": cid})
check(st == 201, f"create task: {st} {task}")

# ---- authentication ---------------------------------------------------------
st, body, hdr = call("GET", "/v1/contacts", token=None)
check(st == 401 and body["error"]["code"] == "unauthorized", f"no token: {st} {body}")
check(hdr.get("WWW-Authenticate") == "Bearer", f"401 names the scheme: {hdr}")
check(call("GET", "/v1/contacts", token="crm_" + "0" * 64)[0] == 401, "unknown token")
check(call("GET", "/v1/contacts", token="expired")[0] == 401, "expired token")
check(call("GET", "/v1/contacts", token="spare")[0] == 200, "spare token works before revoke")
r = crm("token", "revoke", "spare")
check(r.returncode == 0, f"crm token revoke: {r.stderr}")
st, body, _ = call("GET", "/v1/contacts", token="spare")
check(st == 401 and "revoked" in body["error"]["message"], f"revoked token: {st} {body}")

# ---- the route x role matrix -------------------------------------------------
# Written here independently of the server's tables: a route added without a
# row here fails the coverage check below.
READ_ALL = {"admin", "manager", "agent", "viewer", "integration"}
STAFF = {"admin", "manager", "agent", "viewer"}
AGENTS = {"admin", "manager", "agent"}
MATRIX = {
    ("GET", "/v1/contacts"): READ_ALL,
    ("POST", "/v1/contacts"): AGENTS | {"integration"},
    ("GET", "/v1/contacts/{id}"): READ_ALL,
    ("PATCH", "/v1/contacts/{id}"): AGENTS,
    ("DELETE", "/v1/contacts/{id}"): {"admin", "manager"},
    ("GET", "/v1/contacts/{id}/timeline"): STAFF,
    ("GET", "/v1/contacts/{id}/consents"): STAFF,
    ("GET", "/v1/companies"): STAFF,
    ("POST", "/v1/companies"): AGENTS | {"integration"},
    ("GET", "/v1/companies/{id}"): STAFF,
    ("GET", "/v1/orders"): READ_ALL,
    ("POST", "/v1/orders"): {"admin", "manager", "integration"},
    ("GET", "/v1/orders/{id}"): READ_ALL,
    ("POST", "/v1/interactions"): AGENTS,
    ("POST", "/v1/consents"): AGENTS | {"integration"},
    ("GET", "/v1/tasks"): STAFF,
    ("POST", "/v1/tasks"): AGENTS,
    ("GET", "/v1/tasks/{id}"): STAFF,
    ("POST", "/v1/tasks/{id}/done"): AGENTS,
    ("GET", "/v1/events"): {"admin", "manager", "integration"},
    ("POST", "/v1/track"): {"admin", "integration"},
    ("GET", "/v1/tokens"): {"admin"},
    ("GET", "/openapi.json"): READ_ALL,
}
# extra rows from the plugins enabled in this run (serve_api_plugins.py adds them)
MATRIX.update(json.loads(sys.argv[5]) if len(sys.argv) > 5 else {})

st, doc, _ = call("GET", "/openapi.json")
check(st == 200 and doc["openapi"] == "3.1.0", f"openapi.json: {st}")
served = {(m.upper(), p): set(op["x-roles"])
          for p, item in doc["paths"].items() for m, op in item.items() if m != "parameters"}
check(set(served) == set(MATRIX),
      f"routes served vs tested: extra {set(served) - set(MATRIX)}, missing {set(MATRIX) - set(served)}")
for key, roles in MATRIX.items():
    check(served.get(key) == roles, f"x-roles of {key}: {served.get(key)} != {roles}")


def fresh_contact(n=[0]):
    n[0] += 1
    st, c, _ = call("POST", "/v1/contacts", {"email": f"victim{n[0]}@example.com"})
    return c["id"]


def concrete(path):
    return (path.replace("{id}", str(task["id"]) if path.startswith("/v1/tasks") else
                         str(order["id"]) if path.startswith("/v1/orders") else
                         str(co["id"]) if path.startswith("/v1/companies") else str(cid)))


for (method, path), allowed in sorted(MATRIX.items()):
    for role in ROLES:
        p = concrete(path)
        if method == "DELETE":
            p = path.replace("{id}", str(fresh_contact()))
        # writes get a body the route refuses as bad input when allowed, so
        # the matrix changes nothing; 400/422 prove the role got through
        body = {} if method in ("POST", "PATCH") else None
        st, resp, _ = call(method, p, body, token=role)
        if role in allowed:
            check(st not in (401, 403), f"{role} {method} {path}: {st} {resp}")
        else:
            check(st == 403 and resp["error"]["code"] == "denied",
                  f"{role} {method} {path}: expected 403, got {st} {resp}")

# ---- 409 / 422 / 400 bodies ----------------------------------------------------
st, body, _ = call("POST", "/v1/contacts", {"email": "ann@EXAMPLE.com"})
check(st == 409 and body["error"]["existing_id"] == cid and body["error"]["field"] == "email",
      f"duplicate email: {st} {body}")
st, body, _ = call("POST", "/v1/contacts", {"email": "not-an-address"})
check(st == 422 and body["error"]["field"] == "email" and body["error"]["code"] == "invalid",
      f"invalid email: {st} {body}")
st, body, _ = call("POST", "/v1/contacts", {"first_name": 12})
check(st == 400 and body["error"]["field"] == "first_name", f"wrong type: {st} {body}")
st, body, _ = call("POST", "/v1/contacts", {"nickname": "x"})
check(st == 400 and "nickname" in body["error"]["message"], f"unknown member: {st} {body}")
st, body, _ = call("POST", "/v1/contacts", raw="{\"email\": ")
check(st == 400 and "not JSON" in body["error"]["message"], f"broken JSON: {st} {body}")
st, body, _ = call("GET", "/v1/contacts/999999")
check(st == 404 and body["error"]["code"] == "not_found", f"missing contact: {st} {body}")
st, body, _ = call("GET", "/v1/contacts?limit=0")
check(st == 400 and body["error"]["field"] == "limit", f"bad limit: {st} {body}")
check(call("GET", "/v1/nothing")[0] == 404, "unknown path is 404")
check(call("PUT", "/v1/contacts", {})[0] == 405, "unknown method on a known path is 405")
st, body, _ = call("PATCH", f"/v1/contacts/{cid}", {"city": "Lyon", "tags": ["vip", "fr"]})
check(st == 200 and body["city"] == "Lyon" and sorted(body["tags"]) == ["fr", "vip"],
      f"patch: {st} {body}")

# ---- Idempotency-Key ------------------------------------------------------------
def count_events(type_):
    st, body, _ = call("GET", f"/v1/events?type={type_}&limit=1000")
    return len(body["data"])


before = count_events("contact.created")
k = {"Idempotency-Key": "order-form-42"}
st1, b1, _ = call("POST", "/v1/contacts", {"email": "idem@example.com"}, headers=k)
st2, b2, _ = call("POST", "/v1/contacts", {"email": "idem@example.com"}, headers=k)
check(st1 == 201 and st2 == 201 and b1 == b2, f"retry returns the first response: {st1} {st2}")
check(count_events("contact.created") == before + 1, "a retried POST creates nothing")
st, body, _ = call("POST", "/v1/companies", {"name": "Other"}, headers=k)
check(st == 422 and "Idempotency-Key" in body["error"]["message"], f"key reused elsewhere: {st} {body}")
# another token's key space is its own
st, body, _ = call("POST", "/v1/contacts", {"email": "idem2@example.com"}, token="manager",
                   headers=k)
check(st == 201 and body["id"] != b1["id"], f"keys are per token: {st} {body}")
# a refused request stores nothing: the retry with a fixed body goes through
k2 = {"Idempotency-Key": "fix-and-retry"}
check(call("POST", "/v1/contacts", {"email": "bad"}, headers=k2)[0] == 422, "refused first try")
check(call("POST", "/v1/contacts", {"email": "good@example.com"}, headers=k2)[0] == 201,
      "a refused try does not burn the key")

# ---- cursor paging, stable under concurrent inserts ------------------------------
for i in range(25):
    call("POST", "/v1/contacts", {"email": f"page{i}@example.com"})
st, all_before, _ = call("GET", "/v1/contacts?limit=500")
known = [c["id"] for c in all_before["data"]]
stop = threading.Event()


def inserter():
    i = 0
    while not stop.is_set():
        call("POST", "/v1/contacts", {"email": f"late{i}@example.com"}, token="agent")
        i += 1


t = threading.Thread(target=inserter)
t.start()
seen, cursor, pages = [], None, 0
while True:
    q = "/v1/contacts?limit=7" + (f"&cursor={cursor}" if cursor else "")
    st, page, _ = call("GET", q, token="viewer")
    check(st == 200, f"page {q}: {st}")
    seen += [c["id"] for c in page["data"]]
    pages += 1
    cursor = page["next_cursor"]
    if cursor is None or pages > 200:
        break
stop.set()
t.join()
check(seen == sorted(set(seen)), "pages come in id order with no repeats")
check(set(known) <= set(seen), "no contact that existed before paging is skipped")
st, body, _ = call("GET", f"/v1/contacts?limit=500&updated_since={int(time.time()) + 3600}")
check(st == 200 and body["data"] == [], f"updated_since in the future: {body}")
st, body, _ = call("GET", "/v1/contacts?limit=500&updated_since=1")
check(len(body["data"]) >= len(known), "updated_since in the past lists everyone")
st, body, _ = call("GET", "/v1/contacts?tag=vip")
check([c["id"] for c in body["data"]] == [cid], f"filter by tag: {body}")

# ---- the change feed ------------------------------------------------------------
st, feed, _ = call("GET", "/v1/events?limit=1000")
last = feed["next_cursor"]
ids = [e["id"] for e in feed["data"]]
check(ids == sorted(ids) and last == ids[-1], "feed in id order, cursor = last id")
call("PATCH", f"/v1/contacts/{cid}", {"city": "Paris"})
st, feed, _ = call("GET", f"/v1/events?cursor={last}", token="integration")
types = [e["type"] for e in feed["data"]]
check(types == ["contact.updated"] and feed["data"][0]["payload"]["contact_id"] == cid,
      f"feed after cursor: {feed}")
st, feed2, _ = call("GET", f"/v1/events?cursor={feed['next_cursor']}")
check(feed2["data"] == [] and feed2["next_cursor"] == feed["next_cursor"], "nothing new")
st, feed3, _ = call("GET", "/v1/events?type=order.*")
check(feed3["data"] and all(e["type"].startswith("order.") for e in feed3["data"]),
      f"type prefix filter: {feed3}")

# ---- timeline, consents, tasks ------------------------------------------------------
st, tl, _ = call("GET", f"/v1/contacts/{cid}/timeline")
kinds = {i["kind"] for i in tl["data"]}
check(st == 200 and {"order", "task"} <= kinds, f"timeline has the order and task: {kinds}")
# (the matrix already closed `task`: a fresh one)
st, t2, _ = call("POST", "/v1/tasks", {"subject": "again", "due_at": 1900000000})
st, done, _ = call("POST", f"/v1/tasks/{t2['id']}/done", token="agent")
check(st == 200 and done["status"] == "done", f"task done: {st} {done}")
st, body, _ = call("POST", f"/v1/tasks/{t2['id']}/done", token="agent")
check(st == 422, f"done twice refused: {st} {body}")

# ---- limits and slow clients --------------------------------------------------------
st, body, _ = call("POST", "/v1/contacts", raw=json.dumps({"notes": "x" * 5000}))
check(st == 413 and body["error"]["code"] == "too_large", f"body over --max-body: {st}")
try:
    st, _, _ = call("GET", "/v1/contacts", headers={"X-Big": "y" * 100000})
    check(st in (413, 431), f"oversized headers refused: {st}")
except (ConnectionError, http.client.HTTPException):
    pass  # closing the connection is a refusal too

# more stalled connections than threads: the server still answers, then drops them
slow = []
for _ in range(4):
    s = socket.create_connection((HOST, PORT))
    s.sendall(b"POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    slow.append(s)
st, _, _ = call("GET", "/v1/contacts?limit=1")
check(st == 200, "served while slow clients stall")
deadline = time.time() + 10
for s in slow:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        data = s.recv(4096)
        check(data == b"" or b"408" in data.split(b"\r\n")[0], f"stalled client dropped: {data[:60]}")
    except socket.timeout:
        check(False, "a stalled client was kept past --timeout")
    s.close()

sys.exit(min(failures, 100))

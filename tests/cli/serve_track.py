#!/usr/bin/env python3
"""The HTTP half of test_serve_track.sh: POST /v1/track on a running `crm serve`.

Usage: serve_track.py URL DIR T PHASE. DIR holds token.<role> files; T is the
server's --as-of (epoch). PHASE "track": single objects and batches; every
object the server accepted is written, in order, to DIR/accepted.jsonl so the
shell can import them into a second database with `crm import events` and
compare the two stores. PHASE "order": an order closes its cart, which then
refuses updates.
Each check prints FAIL with the reason; the exit status is the failure count.
"""
import http.client
import json
import sys
import urllib.parse

URL, DIR, T, PHASE = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
HOST, PORT = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
TOKENS = {r: open(f"{DIR}/token.{r}").read().strip()
          for r in ["admin", "integration", "manager", "viewer"]}
failures = 0
accepted = []


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def call(body, token="integration", raw=None, path="/v1/track", method="POST"):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    conn.request(method, path, body=raw if raw is not None else json.dumps(body),
                 headers={"Authorization": "Bearer " + TOKENS[token]})
    r = conn.getresponse()
    text = r.read()
    conn.close()
    return r.status, (json.loads(text) if text else None)


def error_of(st, body, status, code, field):
    return st == status and body["error"]["code"] == code and body["error"]["field"] == field


cart1 = {"type": "cart.updated", "cart_id": "c-1", "email": "Ann@Example.com",
         "device": "mobile", "at": T - 600,
         "lines": [{"sku": "TEE", "name": "T-shirt", "quantity": 2, "unit_price": "19.90"},
                   {"sku": "CAP", "quantity": 1, "unit_price": 1250}]}
if PHASE == "order":
    st, order = call({"contact_id": 1, "cart_id": "c-1", "placed_at": T - 50,
                      "currency": "EUR",
                      "lines": [{"sku": "TEE", "quantity": 2, "unit_price": 1990}]},
                     path="/v1/orders")
    check(st == 201, f"order for cart c-1: {st} {order}")
    late = dict(cart1, at=T - 10, id="late-1")
    st, body = call(late)
    check(error_of(st, body, 422, "invalid", "cart_id") and "converted" in body["error"]["message"],
          f"update of a converted cart refused: {st} {body}")
    st, body = call({"events": [late]})
    check(st == 200 and body["results"][0]["status"] == "refused"
          and body["results"][0]["error"]["field"] == "cart_id", f"the same in a batch: {body}")
    with open(f"{DIR}/order.json", "w") as f:
        json.dump(order or {}, f)
    sys.exit(min(failures, 100))

# ---- one object --------------------------------------------------------------
st, r1 = call(cart1)
check(st == 200 and r1["status"] == "stored" and r1["type"] == "cart.updated"
      and isinstance(r1["cart_id"], int) and isinstance(r1["contact_id"], int),
      f"cart.updated stored: {st} {r1}")
accepted.append(cart1)
st, again = call(cart1, token="admin")
check(st == 200 and again == dict(r1, status="duplicate"),
      f"the same object again is a duplicate naming the same cart and contact: {st} {again}")

view = {"type": "page.viewed", "contact_id": r1["contact_id"], "url": "https://shop.example/c",
        "at": T - 500, "id": "pv-1"}
st, rv = call(view)
check(st == 200 and rv["status"] == "stored" and rv["cart_id"] is None
      and rv["contact_id"] == r1["contact_id"], f"page.viewed stored: {st} {rv}")
accepted.append(view)

# refusals: the status, the error code and the member at fault
for body, status, code, field in [
    ({"type": "cart.updated", "cart_id": "c-9", "contact_id": 999999}, 422, "invalid",
     "contact_id"),
    ({"type": "basket.updated", "email": "x@example.com"}, 422, "invalid", "type"),
    ({"cart_id": "c-9", "email": "x@example.com"}, 422, "invalid", "type"),
    ({"type": "cart.updated", "email": "x@example.com"}, 422, "invalid", "cart_id"),
    ({"type": "page.viewed"}, 422, "invalid", "contact_id"),
    ({"type": "cart.updated", "cart_id": "c-9", "email": "x@example.com",
      "lines": [{"sku": "A", "quantity": 1, "unit_price": 100},
                {"sku": "B", "quantity": 0, "unit_price": 100}]},
     422, "invalid", "lines[1].quantity"),
    ({"type": "cart.updated", "cart_id": "c-9", "email": "x@example.com", "value": 1.5},
     422, "invalid", "value"),
    ({"type": "cart.updated", "cart_id": "c-9", "email": "x@example.com", "device": "tv"},
     422, "invalid", "device"),
    ({"type": "cart.updated", "cart_id": "c-9", "email": "x@example.com", "currency": "EURO"},
     422, "invalid", "currency"),
    ({"type": "page.viewed", "email": "x@example.com", "at": "yesterday"}, 422, "invalid", "at"),
    ({"type": "page.viewed", "email": "not-an-address"}, 422, "invalid", "email"),
    ({"type": "page.viewed", "email": "x@example.com", "devise": "EUR"}, 400, "usage",
     "devise"),
    ({"events": [view], "extra": 1}, 400, "usage", "events"),
    ({"events": []}, 400, "usage", "events"),
    ({"events": {"type": "page.viewed"}}, 400, "usage", "events"),
    ({"events": [view] * 1001}, 400, "usage", "events"),
]:
    st, body = call(body)
    check(error_of(st, body, status, code, field),
          f"{json.dumps(body)[:80]}: expected {status} {code} naming {field}, got {st} {body}")
st, body = call(None, raw="[1, 2]")
check(st == 400, f"a body that is not an object: {st} {body}")
st, body = call(None, raw='{"type": ')
check(st == 400 and "not JSON" in body["error"]["message"], f"broken JSON: {st} {body}")
for role in ["manager", "viewer"]:
    st, body = call(view, token=role)
    check(st == 403, f"{role} may not track: {st} {body}")

# ---- a batch: each item stored, duplicate or refused with its index ---------
batch = [
    {"type": "checkout.started", "cart_id": "c-1", "email": "ann@example.com", "at": T - 400},
    view,  # already stored above
    {"type": "cart.updated", "cart_id": 77, "email": "bob@example.com", "value": "249.90",
     "currency": "eur", "device": "desktop", "at": T - 300},
    # refused after it would have created the contact: nothing of it may stay
    {"type": "cart.updated", "cart_id": "c-bad", "email": "ghost@example.com",
     "lines": [{"sku": "A", "quantity": 1, "unit_price": "oops"}]},
    {"type": "email.clicked", "email": "bob@example.com", "url": "https://shop.example/77",
     "subject": "cart_reminder", "at": T - 200},
    "not an object",
    {"type": "email.opened", "email": "bob@example.com", "subject": "cart_reminder",
     "at": T - 100, "colour": "red"},
    {"type": "email.opened", "email": "bob@example.com", "subject": "cart_reminder",
     "at": T - 100},
]
st, b = call({"events": batch})
res = b["results"] if b else []
check(st == 200 and [r["index"] for r in res] == list(range(len(batch))),
      f"one result per item, in order, with its index: {st} {b}")
want = ["stored", "duplicate", "stored", "refused", "stored", "refused", "refused", "stored"]
check([r["status"] for r in res] == want, f"item statuses: {[r['status'] for r in res]}")
check((b["stored"], b["duplicates"], b["refused"]) == (4, 1, 3), f"batch counts: {b}")
if len(res) == len(batch):
    check(res[0]["cart_id"] == r1["cart_id"], f"checkout.started on the same cart: {res[0]}")
    check(res[3]["error"]["field"] == "lines[0].unit_price" and res[3]["error"]["code"] == "invalid",
          f"refused item names its field: {res[3]}")
    check(res[5]["error"]["code"] == "usage" and res[5]["error"]["field"] is None,
          f"a non-object item: {res[5]}")
    check(res[6]["error"]["field"] == "colour", f"unknown member in an item: {res[6]}")
    check(res[4]["contact_id"] == res[2]["contact_id"], "bob found again by email")
accepted += [o for o, r in zip(batch, res) if r["status"] == "stored"]

with open(f"{DIR}/accepted.jsonl", "w") as f:
    for o in accepted:
        f.write(json.dumps(o) + "\n")
sys.exit(min(failures, 100))

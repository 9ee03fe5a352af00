#!/usr/bin/env python3
"""The HTTP half of test_board.sh: the board's login endpoints, the session
cookie on the API (CSRF on writes), logout, and the embedded files.

Usage: board_api.py URL DB. Each failed check prints FAIL; the exit status is
the failure count.
"""
import hashlib
import http.client
import json
import sqlite3
import sys
import urllib.parse

URL, DB = sys.argv[1:3]
HOST, PORT = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    data = json.dumps(body) if body is not None else None
    hdrs = dict(headers or {})
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    ctype = r.getheader("Content-Type") or ""
    parsed = json.loads(raw) if raw and ctype.startswith("application/json") else raw
    return r.status, parsed, r


def login(user, password):
    return call("POST", "/board/login", {"user": user, "password": password})


def cookie_of(r):
    """The crm_session value and the Set-Cookie attributes."""
    sc = r.getheader("Set-Cookie") or ""
    first, *attrs = [p.strip() for p in sc.split(";")]
    name, _, value = first.partition("=")
    return (value if name == "crm_session" else None), attrs


def db(sql, *args):
    with sqlite3.connect(DB) as c:
        return c.execute(sql, args).fetchall()


# refused logins: one message for an unknown user and a wrong password
s1, b1, _ = login("manager@example.fr", "wrong password")
s2, b2, _ = login("nobody@example.fr", "correct horse")
check(s1 == 401 and s2 == 401, f"bad logins answer 401 ({s1}, {s2})")
check(b1["error"]["message"] == b2["error"]["message"], "the refusal does not tell which part")
s, b, _ = call("POST", "/board/login", {"user": "manager@example.fr"})
check(s == 400 and b["error"]["field"] == "password", f"missing password names the field: {b}")
# a cross-site form can post text/plain, never application/json: refused
s, b, _ = call("POST", "/board/login", {"user": "manager@example.fr", "password": "correct horse"},
               headers={"Content-Type": "text/plain"})
check(s == 415 and "application/json" in b["error"]["message"], f"a text/plain login is 415 ({s} {b})")
check(db("SELECT count(*) FROM board_sessions") == [(0,)], "refused logins store no session")

# a good login: the cookie, its attributes, only its hash in the database
s, b, r = login("manager@example.fr", "correct horse")
check(s == 200, f"login answers 200 ({s} {b})")
cookie, attrs = cookie_of(r)
check(cookie is not None and cookie.startswith("s_") and len(cookie) == 66, f"cookie value {cookie!r}")
for a in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
    check(a in attrs, f"Set-Cookie has {a}: {attrs}")
check("Secure" not in attrs, "no Secure over plain http")
check(r.getheader("Cache-Control") == "no-store", "the session answer is not cached")
check(b["user"]["role"] == "manager" and b["user"]["name"] == "manager@example.fr", f"user {b['user']}")
check(b["locale"] == {"country": "FR", "currency": "EUR", "timezone": "Europe/Paris"}, f"locale {b['locale']}")
csrf = b["csrf"]
plugins = b["plugins"]
want_hash = hashlib.blake2b(cookie.encode(), digest_size=32).hexdigest()
rows = db("SELECT hash, expires_at - created_at FROM board_sessions")
check(rows == [(want_hash, 43200)], f"the database keeps the cookie's BLAKE2b hash and a 12 h expiry: {rows}")
want_csrf = hashlib.blake2b(cookie.encode(), digest_size=32, key=b"crm board csrf token v1").hexdigest()
check(csrf == want_csrf, "the CSRF token is the keyed hash of the cookie")
with open(DB, "rb") as f:
    check(cookie.encode() not in f.read(), "the cookie itself is not in the database")

jar = {"Cookie": f"crm_session={cookie}"}
s, b, _ = call("GET", "/board/session", headers=jar)
check(s == 200 and b["csrf"] == csrf, f"GET /board/session with the cookie ({s})")
s, b, _ = call("GET", "/v1/contacts?name=ana", headers=jar)
check(s == 200 and {c["email"] for c in b["data"]} == {"ana@example.fr", "anatole@example.fr"},
      f"the API reads with the cookie ({s} {b})")
# the session names the plugins that have routes: the owners in /openapi.json
s, b, _ = call("GET", "/openapi.json", headers=jar)
owners = {op["x-owner"] for item in b["paths"].values() for op in item.values()
          if isinstance(op, dict) and "x-owner" in op}
check(s == 200 and sorted(plugins) == sorted(owners) and "pipeline" in owners,
      f"the session's plugins {plugins} are the route owners {sorted(owners)}")
check(b["components"]["securitySchemes"]["session"] == {
          "type": "apiKey", "in": "cookie", "name": "crm_session",
          "description": "the web board's session (crm user passwd, POST /board/login)"}
      and b["security"] == [{"bearer": []}, {"session": []}],
      f"the OpenAPI document names the session cookie as a way in: {b.get('security')}")
s, b, _ = call("GET", "/v1/contacts", headers={"Cookie": "crm_session=s_" + "0" * 64})
check(s == 401, f"an unknown cookie is 401 ({s})")

# writes with the cookie need the CSRF token; nothing is written without it
new = {"first_name": "Carla", "last_name": "Petit", "email": "carla@example.fr"}
before = db("SELECT count(*) FROM contacts")
s, b, _ = call("POST", "/v1/contacts", new, headers=jar)
check(s == 403 and b["error"]["code"] == "csrf", f"a write without X-CSRF-Token is 403 ({s} {b})")
s, b, _ = call("POST", "/v1/contacts", new, headers={**jar, "X-CSRF-Token": "0" * 64})
check(s == 403, f"a wrong CSRF token is 403 ({s})")
check(db("SELECT count(*) FROM contacts") == before, "refused writes leave the contacts as they were")
s, b, _ = call("POST", "/v1/contacts", new, headers={**jar, "X-CSRF-Token": csrf})
check(s == 201 and b["email"] == "carla@example.fr", f"a write with the token is 201 ({s} {b})")

# the viewer's session has the viewer's role: the server refuses its writes
s, b, r = login("viewer@example.fr", "viewer pass 1")
vcookie, _ = cookie_of(r)
vjar = {"Cookie": f"crm_session={vcookie}", "X-CSRF-Token": b["csrf"]}
s, b, _ = call("PATCH", "/v1/contacts/1", {"city": "Paris"}, headers=vjar)
check(s == 403 and b["error"]["code"] == "denied", f"a viewer's write is 403 denied ({s} {b})")
before = db("SELECT stage, updated_at FROM pipeline_deals WHERE id = 1")
s, b, _ = call("PATCH", "/v1/deals/1", {"stage": "negotiation"}, headers=vjar)
check(s == 403 and db("SELECT stage, updated_at FROM pipeline_deals WHERE id = 1") == before,
      f"a viewer cannot move a deal (plugin route, cookie): {s} {b}")

# logout: the session row goes, the cookie is cleared, the API refuses it
s, b, _ = call("POST", "/board/logout", headers=jar)
check(s == 403, f"logout without the CSRF token is refused ({s})")
s, _, r = call("POST", "/board/logout", headers={**jar, "X-CSRF-Token": csrf})
check(s == 204 and "Max-Age=0" in (r.getheader("Set-Cookie") or ""), f"logout 204 clears the cookie ({s})")
check(db("SELECT count(*) FROM board_sessions WHERE hash = ?", want_hash) == [(0,)], "logout deletes the session")
s, _, _ = call("GET", "/v1/contacts", headers=jar)
check(s == 401, f"the old cookie is 401 after logout ({s})")

# an expired session is refused: age the viewer's row past its expiry
with sqlite3.connect(DB) as c:
    c.execute("UPDATE board_sessions SET expires_at = 1000")
s, b, _ = call("GET", "/board/session", headers=vjar)
check(s == 401 and "expired" in b["error"]["message"], f"an expired session is 401 ({s} {b})")
# the next login forgets the user's expired sessions: only the new one is left
s, b, r = login("viewer@example.fr", "viewer pass 1")
vcookie, _ = cookie_of(r)
rows = db("SELECT s.hash FROM board_sessions s JOIN users u ON u.id = s.user_id "
          "WHERE u.email = 'viewer@example.fr'")
check(s == 200 and rows == [(hashlib.blake2b(vcookie.encode(), digest_size=32).hexdigest(),)],
      f"a login deletes the user's expired sessions: {rows}")

# the embedded files: types, CSP, revalidation by ETag
for path, ctype in (("/", "text/html; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
                    ("/board.css", "text/css; charset=utf-8")):
    s, body, r = call("GET", path)
    check(s == 200 and r.getheader("Content-Type") == ctype, f"GET {path}: {s} {r.getheader('Content-Type')}")
    csp = r.getheader("Content-Security-Policy") or ""
    check("script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp,
          f"{path} CSP {csp}")
    check(r.getheader("X-Content-Type-Options") == "nosniff", f"{path} nosniff")
    check(r.getheader("Cache-Control") == "no-cache", f"{path} revalidated")
    etag = r.getheader("ETag")
    name = "index.html" if path == "/" else path[1:]
    with open(f"{sys.path[0]}/../../core/http/board/{name}", "rb") as f:
        src = f.read()
    check(body == src, f"{path} is the file of core/http/board/")
    check(etag == '"' + hashlib.sha256(src).hexdigest()[:16] + '"', f"{path} ETag {etag}")
    s, body, _ = call("GET", path, headers={"If-None-Match": etag})
    check(s == 304 and not body, f"{path} with its ETag is 304 ({s})")
s, b, _ = call("GET", "/nothing.js")
check(s == 404, f"an unknown file is 404 ({s})")
s, b, _ = call("POST", "/board/session")
check(s == 405, f"POST /board/session is 405 ({s})")

# password guessing: 5 refusals in 15 minutes, then 429 even for the right
# password, with Retry-After; an unknown name is throttled alike, another
# user is not; once the failures are older than the window it logs in, and
# the success clears them
for i in range(5):
    s, _, _ = login("Manager@example.fr", f"guess {i}")
    check(s == 401, f"guess {i} is 401 ({s})")
s, b, r = login("manager@example.fr", "correct horse")
retry = int(r.getheader("Retry-After") or 0)
check(s == 429 and b["error"]["field"] == "user" and 0 < retry <= 15 * 60,
      f"the sixth try is 429 with Retry-After ({s} {b} {retry})")
check(db("SELECT count(*) FROM login_failures WHERE key = 'manager@example.fr'") == [(5,)],
      "a throttled try is not counted, the name is case folded")
for i in range(5):
    login("nobody@example.fr", f"guess {i}")
s, _, _ = login("nobody@example.fr", "guess 6")
check(s == 429, f"an unknown name is throttled like a known one ({s})")
s, b, r = login("viewer@example.fr", "viewer pass 1")
check(s == 200, f"another user logs in meanwhile ({s})")
s, _, _ = call("POST", "/board/logout",
               headers={"Cookie": f"crm_session={cookie_of(r)[0]}", "X-CSRF-Token": b["csrf"]})
check(s == 204, f"and logs out ({s})")
db("UPDATE login_failures SET at = at - 15 * 60")
s, _, _ = login("manager@example.fr", "correct horse")
check(s == 200, f"after the window the right password logs in ({s})")
check(db("SELECT count(*) FROM login_failures WHERE key = 'manager@example.fr'") == [(0,)],
      "the success clears the name's failures")

sys.exit(failures)

"""A local HTTP sink for the driver tests (http.server, 127.0.0.1 only).

Prints its port. POST /ok answers 200, POST /status/N answers N. Each
request is stored as OUTDIR/N.json: path, headers, body, and whether the
Standard Webhooks signature verifies, checked here with Python's hmac
against the secret in $SINK_SECRET (independently of the C signer).
Exits when stdin closes."""
import base64, hashlib, hmac, http.server, json, os, sys, threading

outdir = sys.argv[1]
secret = os.environ.get("SINK_SECRET", "")
count = 0
lock = threading.Lock()

def sig_ok(h, body):
    if not secret:
        return None
    key = base64.b64decode(secret[6:] if secret.startswith("whsec_") else secret)
    signed = ("%s.%s." % (h.get("webhook-id"), h.get("webhook-timestamp"))).encode() + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    got = [s.split(",", 1)[1] for s in (h.get("webhook-signature") or "").split() if s.startswith("v1,")]
    return any(hmac.compare_digest(want, g) for g in got)

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        code = 200 if self.path == "/ok" else int(self.path.rsplit("/", 1)[1])
        rec = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode(), "sig_ok": sig_ok(self.headers, body)}
        with lock:
            count += 1
            n = count
        tmp = os.path.join(outdir, ".%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(outdir, "%d.json" % n))
        reply = b"received"
        self.send_response(code)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
print(srv.server_address[1], flush=True)
sys.stdin.read()
srv.shutdown()
